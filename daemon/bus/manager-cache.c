#include "bus/manager-cache.h"

#include "bus/manager.h"
#include "bus/polkit.h"
#include "common/log.h"

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

        Error e = {0};
        r = store_purge_image(m->store, path[0] ? path : NULL, &removed, &e);
        if (r < 0 && e.code != ERR_OK)
                return manager_reply_error(msg, &e);
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
