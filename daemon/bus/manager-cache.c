#include "bus/manager-cache.h"

#include "bus/manager.h"
#include "bus/polkit.h"
#include "common/log.h"
#include "source/disk-key.h"

static int require_store(Manager *m, sd_bus_error *err) {
        if (m->store)
                return 0;
        return sd_bus_error_set(err, VD_ERROR_PREFIX "NoCache", "this daemon runs without a manifest cache");
}

int method_cache_stats(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        StoreStats st = {0};
        int r = require_store(m, err);
        if (r < 0)
                return r;
        r = store_stats(m->store, &st);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(msg, "a{sv}", 7, "Path", "s", strempty(st.path), "Manifests", "t",
                                       st.manifests, "Entries", "t", st.entries, "Bytes", "t", st.bytes,
                                       "BudgetBytes", "t", st.budget_bytes, "Hits", "t", st.hits, "Misses", "t",
                                       st.misses);
        store_stats_done(&st);
        return r;
}

int method_cache_list(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        StoreItem *items = NULL;
        size_t n = 0;
        int r = polkit_check(&m->polkit, msg, POLKIT_ACTION_MANAGE_CACHE, NULL, m, method_cache_list, err);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = require_store(m, err);
        if (r < 0)
                return r;
        r = store_list(m->store, &items, &n);
        if (r < 0)
                return r;

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssttxx)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *key = hexmem(items[i].key, FINGERPRINT_SIZE);
                if (!key) {
                        r = -ENOMEM;
                        break;
                }
                r = sd_bus_message_append(reply, "(ssttxx)", key, strempty(items[i].label), items[i].entries,
                                          items[i].bytes, items[i].created_usec, items[i].used_usec);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        store_items_free(items, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* An image's key from the stat records alone: purging must not cost a
 * full read of the image on the main loop. */
static int known_disk_key(Manager *m, const char *path, uint8_t ret[FINGERPRINT_SIZE], Error *e) {
        Disk d = {.path = strdup(path)};
        if (!d.path)
                return error_set(e, ERR_INTERNAL, "out of memory");
        int r = disk_validate(&d, e);
        if (r >= 0) {
                size_t n = 1 + strv_length(d.backing_chain);
                uint8_t(*keys)[FINGERPRINT_SIZE] = calloc(n, FINGERPRINT_SIZE);
                const char **labels = calloc(n, sizeof(char *));
                if (!keys || !labels)
                        r = error_set(e, ERR_INTERNAL, "out of memory");
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const char *p = i == 0 ? d.path : d.backing_chain[i - 1];
                        FileStat st;
                        labels[i] = i == 0 ? d.format : "backing";
                        if (fingerprint_stat(p, &st) < 0 || store_lookup_stat(m->store, p, &st, keys[i]) <= 0)
                                r = error_set(e, ERR_NOT_CACHED,
                                              "%s: not in the cache (its current content was never scanned)", p);
                }
                if (r >= 0)
                        fingerprint_combine("disk", (const uint8_t(*)[FINGERPRINT_SIZE]) keys, n, labels, ret);
                free(keys);
                free(labels);
        }
        disk_done(&d);
        return r;
}

int method_cache_purge(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        const char *path;
        uint64_t removed = 0;
        int r = polkit_check(&m->polkit, msg, POLKIT_ACTION_MANAGE_CACHE, NULL, m, method_cache_purge, err);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = require_store(m, err);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &path);
        if (r < 0)
                return r;

        if (path[0] == 0)
                r = store_purge(m->store, NULL, &removed);
        else {
                uint8_t key[FINGERPRINT_SIZE];
                Error e = {0};
                if (path[0] != '/')
                        return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", "%s: not an absolute path",
                                                 path);
                if (known_disk_key(m, path, key, &e) < 0)
                        return manager_reply_error(msg, &e);
                r = store_purge(m->store, key, &removed);
        }
        if (r < 0)
                return r;
        log_info("Cache purge%s%s: %" PRIu64 " manifests removed.", path[0] ? " of " : "", path, removed);
        return sd_bus_reply_method_return(msg, "t", removed);
}

int method_cache_verify(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        bool ok = false;
        _cleanup_free_ char *message = NULL;
        int r = polkit_check(&m->polkit, msg, POLKIT_ACTION_MANAGE_CACHE, NULL, m, method_cache_verify, err);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = require_store(m, err);
        if (r < 0)
                return r;
        r = store_verify(m->store, &ok, &message);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "bs", ok, strempty(message));
}
