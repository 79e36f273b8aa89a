#include "cache.h"

#include <getopt.h>
#include <time.h>

#include "command.h"
#include "common/names.h"


static void format_time(int64_t usec, char buf[static 32]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (usec <= 0 || !localtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, 32, "-");
}

static int do_stats(Connection *c, sd_bus_error *err) {
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
        _cleanup_free_ char *abs = image ? command_absolute_path(image) : NULL;
        if (image && !abs)
                return -ENOMEM;
        int r = sd_bus_call_method(c->bus, c->destination, VD_OBJECT_PATH, VD_MANAGER_INTERFACE, "CachePurge", err,
                                   &reply, "s", strempty(abs));
        if (r < 0)
                return r;
        uint64_t removed;
        r = sd_bus_message_read(reply, "t", &removed);
        if (r < 0)
                return r;
        printf("%" PRIu64 " manifest%s removed\n", removed, removed == 1 ? "" : "s");
        return 0;
}

static int do_verify(Connection *c, sd_bus_error *err) {
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
        printf("%s%s%s\n", b ? "ok" : "damaged", message[0] ? ": " : "", message);
        return b ? 0 : 1;
}

static const char *check_verb(char **operands, int n) {
        const char *verb = operands[0];
        bool known = streq_ptr(verb, "stats") || streq_ptr(verb, "list") || streq_ptr(verb, "purge") ||
                     streq_ptr(verb, "verify");
        if (!known || n > (streq_ptr(verb, "purge") ? 2 : 1))
                return "expected stats, list, purge [IMAGE] or verify";
        return NULL;
}

static int cache_run(Connection *c, char **operands, int n, void *userdata _unused_, sd_bus_error *err) {
        const char *verb = operands[0];
        if (streq_ptr(verb, "stats"))
                return do_stats(c, err);
        if (streq_ptr(verb, "list"))
                return do_list(c, err);
        if (streq_ptr(verb, "purge"))
                return do_purge(c, n > 1 ? operands[1] : NULL, err);
        return do_verify(c, err);
}

int cache_command(const char *prog, int argc, char *argv[]) {
        static const Command cmd = {
                .usage = "[--session|--system|--private] stats|list|purge [IMAGE]|verify",
                .help = "\n"
                        "  stats          Size, budget, hits and misses of the manifest cache\n"
                        "  list           Cached manifests, most recently used first\n"
                        "  purge [IMAGE]  Forget the manifests of IMAGE's current content, or all\n"
                        "  verify         Check the cache database's integrity\n"
                        "Exit status: 0 success, 1 verify found a problem, 2 trouble.\n",
                .min_operands = 1,
                .max_operands = -1,
                .operands_error = "expected stats, list, purge [IMAGE] or verify",
                .check_operands = check_verb,
                .run = cache_run,
        };
        return command_run(&cmd, prog, argc, argv, NULL);
}
