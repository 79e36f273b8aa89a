#include "varlink/varlink-json.h"

#include "common/json-util.h"
#include "common/names.h"

const char *varlink_error_name(ErrorCode code, char buf[static 128]) {
        snprintf(buf, 128, VD_VARLINK_INTERFACE ".%s", error_code_to_string(code));
        return buf;
}

/* Adds key: v (taken); false when v is NULL or adding fails. */
static bool put(json_object *o, const char *key, json_object *v) {
        if (!v)
                return false;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return false;
        }
        return true;
}

/* The object, or NULL (and freed) when any put failed. */
static json_object *done(json_object *o, bool ok) {
        if (ok)
                return o;
        json_object_put(o);
        return NULL;
}

json_object *varlink_error_parameters(const Error *e) {
        json_object *o = json_object_new_object();
        return o ? done(o, put(o, "message", json_object_new_string(e->message))) : NULL;
}

json_object *varlink_progress_json(const JobStatus *s) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        const struct {
                const char *key;
                uint64_t value;
        } counts[] = {
                {"queue_position", s->queue_position},
                {"files_done", s->files_done},
                {"files_total", s->files_total},
                {"bytes_done", s->bytes_done},
                {"bytes_total", s->bytes_total},
                {"rate", s->rate},
        };
        bool ok = put(o, "state", json_object_new_string(job_state_to_string((JobState) s->state))) &&
                  put(o, "phase", json_object_new_string(phase_to_string((Phase) s->phase)));
        for (size_t i = 0; ok && i < ELEMENTSOF(counts); i++)
                ok = put(o, counts[i].key, json_object_new_uint64(counts[i].value));
        /* Unknown is null, as varlink says "not there". */
        if (ok && s->progress_valid)
                ok = put(o, "progress", json_object_new_double(s->progress));
        if (ok && s->expected_end_usec)
                ok = put(o, "expected_end", json_object_new_uint64(s->expected_end_usec));
        return done(o, ok);
}

static json_object *strv_json(char *const *l) {
        json_object *a = json_object_new_array();
        bool ok = a;
        STRV_FOREACH(s, (char **) l)
                if (ok && json_object_array_add(a, json_object_new_string(*s)) < 0)
                        ok = false;
        return done(a, ok);
}

/* A content key as hex, as on the bus. */
static json_object *key_json(const uint8_t key[FINGERPRINT_SIZE]) {
        _cleanup_free_ char *hex = hexmem(key, FINGERPRINT_SIZE);
        return hex ? json_object_new_string(hex) : NULL;
}

json_object *varlink_appliance_json(const PoolInfo *p) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        /* Launching counts as in use, as on the bus. */
        bool ok = put(o, "paths", strv_json(p->paths)) && put(o, "key", key_json(p->key)) &&
                  put(o, "in_use", json_object_new_boolean(!p->launched || p->in_use)) &&
                  put(o, "memory", json_object_new_uint64(p->memory)) &&
                  put(o, "launched", json_object_new_uint64(p->created_usec)) &&
                  put(o, "last_used", json_object_new_uint64(p->last_used_usec)) &&
                  put(o, "uses", json_object_new_uint64(p->uses));
        return done(o, ok);
}

json_object *varlink_snapshot_json(const LibvirtSnapshot *s) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        bool ok = put(o, "name", json_object_new_string(s->name)) &&
                  put(o, "creation_time", json_object_new_int64(s->creation_time)) &&
                  put(o, "state", json_object_new_string(strempty(s->state))) &&
                  put(o, "location", json_object_new_string(s->external ? "external" : "internal")) &&
                  (!s->parent || put(o, "parent", json_object_new_string(s->parent))) &&
                  put(o, "current", json_object_new_boolean(s->current));
        return done(o, ok);
}

json_object *varlink_cached_manifest_json(const StoreItem *item) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        bool ok = put(o, "key", key_json(item->key)) && put(o, "label", json_object_new_string(strempty(item->label))) &&
                  put(o, "entries", json_object_new_uint64(item->entries)) &&
                  put(o, "bytes", json_object_new_uint64(item->bytes)) &&
                  put(o, "created", json_object_new_int64(item->created_usec)) &&
                  put(o, "last_used", json_object_new_int64(item->used_usec));
        return done(o, ok);
}

json_object *varlink_cache_stats_json(const StoreStats *st) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        const struct {
                const char *key;
                uint64_t value;
        } counts[] = {
                {"manifests", st->manifests}, {"entries", st->entries}, {"bytes", st->bytes},
                {"budget_bytes", st->budget_bytes}, {"hits", st->hits}, {"misses", st->misses},
        };
        bool ok = put(o, "path", json_object_new_string(strempty(st->path)));
        for (size_t i = 0; ok && i < ELEMENTSOF(counts); i++)
                ok = put(o, counts[i].key, json_object_new_uint64(counts[i].value));
        return done(o, ok);
}
