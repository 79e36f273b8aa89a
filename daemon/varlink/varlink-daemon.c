/* The varlink front-end: its server and sockets, the checks of callers,
 * and the methods that are not about jobs (varlink-jobs.c has those). */
#include "varlink/varlink-daemon.h"

#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "appliance/appliance.h"
#include "appliance/kvm-probe.h"
#include "common/log.h"
#include "job/job-input.h"
#include "org-virtdiff-VirtDiff1.h"
#include "varlink/varlink-daemon-internal.h"
#include "varlink/varlink-json.h"

void vd_notify_busy(VarlinkDaemon *d) {
        if (d->o.busy_changed)
                d->o.busy_changed(d->o.userdata);
}

int vd_reply_error(VarlinkCall *call, const Error *e) {
        char name[128];
        json_object *p = varlink_error_parameters(e);
        if (!p)
                return -ENOMEM;
        int r = varlink_call_error(call, varlink_error_name(e->code, name), p);
        return r == -ENOTCONN ? 0 : r;
}

int vd_reply_errorf(VarlinkCall *call, ErrorCode code, const char *fmt, ...) {
        Error e = {.code = code};
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(e.message, sizeof e.message, fmt, ap);
        va_end(ap);
        return vd_reply_error(call, &e);
}

static const struct ucred *caller_peer(VarlinkCall *call) {
        VarlinkConnection *c = varlink_call_connection(call);
        return c ? varlink_connection_peer(c) : NULL;
}

bool vd_caller_is_root(VarlinkDaemon *d, VarlinkCall *call) {
        const struct ucred *peer = caller_peer(call);
        return !d->o.system || (peer && peer->uid == 0);
}

int vd_caller_creds(VarlinkDaemon *d, VarlinkCall *call, CallerCreds **ret) {
        VarlinkConnection *c = varlink_call_connection(call);
        *ret = NULL;
        if (!d->o.system)
                return 0;
        if (!c)
                return -ENOTCONN;
        size_t n;
        const gid_t *groups = varlink_connection_peer_groups(c, &n);
        const struct ucred *peer = varlink_connection_peer(c);
        return caller_creds_from_peer(peer->uid, peer->gid, groups, n, ret);
}

int vd_parse_disks(Job *j, int side, json_object *disks, Error *e) {
        for (size_t i = 0; i < json_object_array_length(disks); i++) {
                json_object *o = json_object_array_get_idx(disks, i);
                const char *const keys[] = {"path", "format", "snapshot", "domain", "uri"};
                const char *v[ELEMENTSOF(keys)] = {0};
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        v[k] = varlink_json_string(json_object_object_get(o, keys[k]));
                json_object *bs = json_object_object_get(o, "blocksize");
                int64_t blocksize = bs ? json_object_get_int64(bs) : 0;
                if (blocksize < 0 || blocksize > UINT32_MAX)
                        return error_set(e, ERR_INVALID_ARGS, "disk option 'blocksize' is not 512 or 4096");
                JobDiskSpec spec = {.path = v[0], .format = v[1], .snapshot = v[2], .domain = v[3], .uri = v[4],
                                    .blocksize = (uint32_t) blocksize};
                int r = job_input_add_disk(j, side, &spec, e);
                if (r < 0)
                        return e->code ? -1 : error_set(e, ERR_INTERNAL, "%s", strerror(-r));
        }
        return 0;
}

/* What the caller may read, with its own rights: an image by path; its
 * backing files are checked the same way when the job validates it. */
static int check_path(const CallerCreds *creds, const char *path, Error *e) {
        int r = caller_may_read(creds, path);
        /* "IMAGE@SNAP": the file is IMAGE. */
        const char *at = strrchr(path, '@');
        if (r == -ENOENT && at && at > path) {
                _cleanup_free_ char *image = strndup(path, (size_t) (at - path));
                if (!image)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                r = caller_may_read(creds, image);
        }
        if (r == -EACCES || r == -EPERM)
                return error_set(e, ERR_ACCESS_DENIED, "%s: the caller may not read it", path);
        /* Missing and the like: the job's validation names it. */
        return 0;
}

int vd_check_access(VarlinkDaemon *d, const Job *j, const CallerCreds *creds, Error *e) {
        if (!d->o.system || !creds || creds->uid == 0)
                return 0;
        for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < j->sides[s].n_disks; i++) {
                        const Disk *disk = &j->sides[s].disks[i];
                        if (disk->domain)
                                return error_set(e, ERR_ACCESS_DENIED,
                                                 "%s: only root may read libvirt domains through the system socket",
                                                 disk->domain);
                        if (check_path(creds, disk->path, e) < 0)
                                return -1;
                }
        return 0;
}

/* ---- methods ---- */

static int method_describe(VarlinkCall *call, json_object *parameters _unused_, void *userdata _unused_) {
        json_object *o = json_object_new_object();
        if (!o || json_object_object_add(o, "version", json_object_new_string(VIRT_DIFFD_VERSION)) < 0 ||
            json_object_object_add(o, "accelerator",
                                   json_object_new_string(accelerator_to_string(kvm_probe_peek()))) < 0 ||
            json_object_object_add(o, "appliances_launched", json_object_new_uint64(appliance_launch_count())) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(call, o);
}

/* {key: [each(items[i])...]} */
static int reply_list(VarlinkCall *call, const char *key, json_object *list) {
        json_object *o = list ? json_object_new_object() : NULL;
        if (!o || json_object_object_add(o, key, list) < 0) {
                json_object_put(list);
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(call, o);
}

static int method_list_pool(VarlinkCall *call, json_object *parameters _unused_, void *userdata) {
        VarlinkDaemon *d = userdata;
        PoolInfo *l = NULL;
        size_t n = 0;
        /* Drop what has changed on disk first: the listing is then exact. */
        (void) pool_expire(d->o.pool);
        int r = pool_list(d->o.pool, &l, &n);
        if (r < 0)
                return r;
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_object_array_add(a, varlink_appliance_json(&l[i])) < 0 ||
                    !json_object_array_get_idx(a, i)) {
                        json_object_put(a);
                        a = NULL;
                }
        pool_info_free(l, n);
        return reply_list(call, "appliances", a);
}

static int require_store(VarlinkDaemon *d, VarlinkCall *call, bool manage) {
        if (manage && !vd_caller_is_root(d, call))
                return vd_reply_errorf(call, ERR_ACCESS_DENIED, "only root may manage the cache through the system socket") ?: 1;
        if (!d->o.store)
                return vd_reply_errorf(call, ERR_NO_CACHE, "this daemon runs without a manifest cache") ?: 1;
        return 0;
}

static int method_cache_stats(VarlinkCall *call, json_object *parameters _unused_, void *userdata) {
        VarlinkDaemon *d = userdata;
        StoreStats st = {0};
        int r = require_store(d, call, false);
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_stats(d->o.store, &st);
        if (r < 0)
                return r;
        json_object *o = varlink_cache_stats_json(&st);
        store_stats_done(&st);
        return o ? varlink_call_reply(call, o) : -ENOMEM;
}

static int method_cache_list(VarlinkCall *call, json_object *parameters _unused_, void *userdata) {
        VarlinkDaemon *d = userdata;
        StoreItem *items = NULL;
        size_t n = 0;
        int r = require_store(d, call, true);
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_list(d->o.store, &items, &n);
        if (r < 0)
                return r;
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_object_array_add(a, varlink_cached_manifest_json(&items[i])) < 0 ||
                    !json_object_array_get_idx(a, i)) {
                        json_object_put(a);
                        a = NULL;
                }
        store_items_free(items, n);
        return reply_list(call, "manifests", a);
}

static int method_cache_purge(VarlinkCall *call, json_object *parameters, void *userdata) {
        VarlinkDaemon *d = userdata;
        const char *image = varlink_json_string(json_object_object_get(parameters, "image"));
        uint64_t removed = 0;
        Error e = {0};
        int r = require_store(d, call, true);
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_purge_image(d->o.store, image && image[0] ? image : NULL, &removed, &e);
        if (r < 0)
                return e.code ? vd_reply_error(call, &e) : r;
        log_info("Cache purge%s%s: %" PRIu64 " manifests removed.", image ? " of " : "", strempty(image), removed);
        json_object *o = json_object_new_object();
        if (!o || json_object_object_add(o, "removed", json_object_new_uint64(removed)) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(call, o);
}

static int method_cache_verify(VarlinkCall *call, json_object *parameters _unused_, void *userdata) {
        VarlinkDaemon *d = userdata;
        bool ok = false;
        _cleanup_free_ char *message = NULL;
        int r = require_store(d, call, true);
        if (r != 0)
                return r < 0 ? r : 0;
        r = store_verify(d->o.store, &ok, &message);
        if (r < 0)
                return r;
        json_object *o = json_object_new_object();
        if (!o || json_object_object_add(o, "ok", json_object_new_boolean(ok)) < 0 ||
            json_object_object_add(o, "message", json_object_new_string(strempty(message))) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return varlink_call_reply(call, o);
}

/* ---- the front-end ---- */

static void on_close(VarlinkConnection *c _unused_, int reason, void *userdata) {
        VarlinkDaemon *d = userdata;
        if (reason == -EBADMSG)
                log_debug("A varlink client sent a message that is not a call: disconnected.");
        else if (reason == -EMSGSIZE)
                log_info("A varlink client sent a message past %u bytes: disconnected.", VARLINK_MESSAGE_MAX);
        vd_notify_busy(d);
}

static void on_refuse(uid_t uid, void *userdata _unused_) {
        log_info("Refused a varlink connection of uid %u: too many connections.", (unsigned) uid);
}

int varlink_daemon_new(const VarlinkDaemonOptions *options, VarlinkDaemon **ret) {
        static const VarlinkServerInfo info = {
                .vendor = "virt-diffd",
                .product = "virt-diffd",
                .version = VIRT_DIFFD_VERSION,
                .url = "",
        };
        static const VarlinkMethod methods[] = {
                {"Describe", method_describe, 0},
                {"Compare", vd_method_compare, 0},
                {"Wait", vd_method_wait, 0},
                {"Cancel", vd_method_cancel, 0},
                {"ListJobs", vd_method_list_jobs, 0},
                {"Warm", vd_method_warm, 0},
                {"ListPool", method_list_pool, 0},
                {"ListSnapshots", vd_method_list_snapshots, 0},
                {"CacheStats", method_cache_stats, 0},
                {"CacheList", method_cache_list, 0},
                {"CachePurge", method_cache_purge, 0},
                {"CacheVerify", method_cache_verify, 0},
        };
        _cleanup_(varlink_daemon_freep) VarlinkDaemon *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->o = *options;
        int r = varlink_server_new(options->event, &info, &d->server);
        if (r < 0)
                return r;
        varlink_server_set_hooks(d->server, &(VarlinkServerHooks){on_close, on_refuse, d});
        Error e = {0};
        r = varlink_server_add_interface(d->server, org_virtdiff_VirtDiff1_idl, methods, ELEMENTSOF(methods), d, &e);
        if (r < 0) {
                log_error("The varlink interface: %s", e.message);
                return -EINVAL;
        }
        r = vd_jobs_register(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

VarlinkDaemon *varlink_daemon_free(VarlinkDaemon *d) {
        if (!d)
                return NULL;
        /* Nobody to tell any more: the daemon is going. */
        d->o.busy_changed = NULL;
        varlink_server_free(d->server);
        free(d);
        return NULL;
}

int varlink_daemon_listen_path(VarlinkDaemon *d, const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                /* Each missing directory on the way, as mkdir -p. */
                for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
                        if (p)
                                *p = 0;
                        if (mkdir(dir, d->o.system ? 0755 : 0700) < 0 && errno != EEXIST)
                                return -errno;
                        if (!p)
                                break;
                        *p = '/';
                }
        }
        return varlink_server_listen_path(d->server, path, d->o.system ? 0666 : 0600);
}

int varlink_daemon_listen_inherited(VarlinkDaemon *d) {
        return varlink_server_listen_inherited(d->server);
}

bool varlink_daemon_busy(const VarlinkDaemon *d) {
        return varlink_server_n_connections(d->server) > 0 || d->n_tasks > 0;
}
