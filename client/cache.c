#include "cache.h"

#include <getopt.h>
#include <time.h>

#include "common/names.h"
#include "connect.h"


static void cache_help(const char *prog) {
        printf("Usage: %s [--session|--system|--private] stats|list|purge [IMAGE]|verify\n\n"
               "  stats          Size, budget, hits and misses of the manifest cache\n"
               "  list           Cached manifests, most recently used first\n"
               "  purge [IMAGE]  Forget the manifests of IMAGE's current content, or all\n"
               "  verify         Check the cache database's integrity\n"
               "Exit status: 0 success, 1 verify found a problem, 2 trouble.\n",
               prog);
}

static void format_time(int64_t usec, char buf[static 32]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (usec <= 0 || !localtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, 32, "-");
}

static int do_stats(const char *prog, Connection *c, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(c->bus, c->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "CacheStats", err,
                                   &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *contents;
                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r < 0)
                        return r;
                if (strcmp(contents, "s") == 0) {
                        const char *v;
                        r = sd_bus_message_read(reply, "v", "s", &v);
                        if (r >= 0)
                                printf("%s: %s\n", name, v);
                } else if (strcmp(contents, "t") == 0) {
                        uint64_t v;
                        r = sd_bus_message_read(reply, "v", "t", &v);
                        if (r >= 0)
                                printf("%s: %" PRIu64 "\n", name, v);
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        (void) prog;
        return r < 0 ? r : 0;
}

static int do_list(Connection *c, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(c->bus, c->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "CacheList", err,
                                   &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssttxx)");
        if (r < 0)
                return r;
        printf("%-16s %9s %12s %-19s %s\n", "KEY", "ENTRIES", "BYTES", "LAST USED", "IMAGES");
        const char *key, *label;
        uint64_t entries, bytes;
        int64_t created, used;
        while ((r = sd_bus_message_read(reply, "(ssttxx)", &key, &label, &entries, &bytes, &created, &used)) > 0) {
                char when[32];
                format_time(used, when);
                printf("%-16.16s %9" PRIu64 " %12" PRIu64 " %-19s %s\n", key, entries, bytes, when, label);
        }
        return r;
}

static int do_purge(Connection *c, const char *image, sd_bus_error *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *abs = NULL;
        if (image && image[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                abs = cwd ? path_join(cwd, image) : NULL;
                if (!abs)
                        return -ENOMEM;
                image = abs;
        }
        int r = sd_bus_call_method(c->bus, c->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "CachePurge", err,
                                   &reply, "s", image ? image : "");
        if (r < 0)
                return r;
        uint64_t removed;
        r = sd_bus_message_read(reply, "t", &removed);
        if (r < 0)
                return r;
        printf("%" PRIu64 " manifest%s removed\n", removed, removed == 1 ? "" : "s");
        return 0;
}

static int do_verify(Connection *c, sd_bus_error *err, bool *ok) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(c->bus, c->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "CacheVerify", err,
                                   &reply, NULL);
        if (r < 0)
                return r;
        int b;
        const char *message;
        r = sd_bus_message_read(reply, "bs", &b, &message);
        if (r < 0)
                return r;
        *ok = b;
        printf("%s%s%s\n", b ? "ok" : "damaged", message[0] ? ": " : "", message);
        return 0;
}

int cache_command(const char *prog, int argc, char *argv[]) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                CONNECT_LONG_OPTIONS,
                {},
        };
        ConnectMode mode = CONNECT_AUTO;
        int c;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cache_help(prog);
                        return 0;
                default:
                        if (connection_mode_option(c, &mode))
                                break;
                        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, argv[optind - 1]);
                        return 2;
                }

        const char *verb = optind < argc ? argv[optind] : NULL;
        int extra = argc - optind - 1;
        if (!verb || (strcmp(verb, "purge") == 0 ? extra > 1 : extra > 0) ||
            !(strcmp(verb, "stats") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "purge") == 0 ||
              strcmp(verb, "verify") == 0)) {
                fprintf(stderr, "%s: expected stats, list, purge [IMAGE] or verify (try --help)\n", prog);
                return 2;
        }

        Connection conn;
        int r = connection_open_or_say(&conn, mode, false, prog);
        if (r < 0)
                return 2;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        bool ok = true;
        if (strcmp(verb, "stats") == 0)
                r = do_stats(prog, &conn, &err);
        else if (strcmp(verb, "list") == 0)
                r = do_list(&conn, &err);
        else if (strcmp(verb, "purge") == 0)
                r = do_purge(&conn, extra == 1 ? argv[optind + 1] : NULL, &err);
        else
                r = do_verify(&conn, &err, &ok);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", prog, sd_bus_error_is_set(&err) ? err.message : strerror(-r));
        sd_bus_error_free(&err);
        connection_close(&conn);
        return r < 0 ? 2 : ok ? 0 : 1;
}
