#include "compare/result.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>

#include "common/json-util.h"
#include "compare/result-json.h"
#include "manifest/manifest-json.h"

static json_object *string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

/* Where a side's disks came from: the libvirt domain, and whether a
 * running domain's disks were read while it wrote. */
static void side_source_to_json(json_object *side, const Disk *disks, size_t n) {
        bool crash_consistent = false;
        /* A running domain's current disks were read while it wrote. */
        for (size_t i = 0; i < n; i++)
                if (disks[i].live && !disks[i].snapshot)
                        crash_consistent = true;
        json_object_object_add(side, "crash_consistent", json_object_new_boolean(crash_consistent));
        if (n == 0 || !disks[0].domain)
                return;
        json_object *d = json_object_new_object();
        if (!d)
                return;
        json_object_object_add(d, "name", json_object_new_string(disks[0].domain));
        json_object_object_add(d, "uri", string_or_null(disks[0].uri));
        json_object_object_add(d, "snapshot", string_or_null(disks[0].domain_snapshot));
        json_object_object_add(d, "running", json_object_new_boolean(disks[0].domain_running));
        json_object_object_add(side, "domain", d);
}

/* A manifest side: the images its manifest names, and when it was made. */
static json_object *manifest_side_to_json(const ResultSide *s) {
        json_object *o = json_object_new_object(), *m = json_object_new_object();
        if (!o || !m) {
                json_object_put(o);
                json_object_put(m);
                return NULL;
        }
        json_object_object_add(o, "images",
                               s->manifest_images ? json_object_get(s->manifest_images) : json_object_new_array());
        json_object_object_add(o, "crash_consistent", json_object_new_boolean(false));
        json_object_object_add(m, "exported_at", string_or_null(s->manifest_exported_at));
        json_object_object_add(o, "manifest", m);
        return o;
}

static json_object *images_to_json(const ResultSide *s) {
        json_object *imgs = json_object_new_array();
        for (size_t i = 0; imgs && i < s->n_disks; i++) {
                json_object *d = json_object_new_object();
                if (!d)
                        continue;
                json_add_bytes(d, "path", s->disks[i].path, strlen(s->disks[i].path));
                json_object_object_add(d, "format", json_object_new_string(s->disks[i].format));
                json_object_object_add(d, "virtual_size", json_object_new_int64((int64_t) s->disks[i].virtual_size));
                if (s->disks[i].snapshot)
                        json_object_object_add(d, "snapshot", json_object_new_string(s->disks[i].snapshot));
                if (s->disks[i].blocksize)
                        json_object_object_add(d, "blocksize", json_object_new_int64(s->disks[i].blocksize));
                json_object_array_add(imgs, d);
        }
        return imgs;
}

json_object *result_side_to_json(const ResultSide *s) {
        json_object *o;
        if (s->from_manifest)
                o = manifest_side_to_json(s);
        else {
                o = json_object_new_object();
                if (o) {
                        json_object_object_add(o, "images", images_to_json(s));
                        side_source_to_json(o, s->disks, s->n_disks);
                }
        }
        if (!o)
                return NULL;
        _cleanup_free_ char *key = hexmem(s->key, FINGERPRINT_SIZE);
        json_object_object_add(o, "key", key ? json_object_new_string(key) : NULL);
        json_object_object_add(o, "cached", json_object_new_boolean(s->cached));
        json_object_object_add(o, "engine",
                               s->engine == ENGINE_AUTO ? NULL : json_object_new_string(engine_to_string(s->engine)));
        json_object_object_add(o, "direct_refused", string_or_null(s->direct_refused));
        json_object_object_add(o, "inspected", json_object_new_boolean(s->manifest->inspected));
        json_object_object_add(o, "os", s->manifest->os_product ? json_object_new_string(s->manifest->os_product) : NULL);
        if (s->packages)
                json_object_object_add(o, "packages", package_set_summary_to_json(s->packages));
        return o;
}

int result_seal(const char *s, size_t len, int *ret_fd, Error *e) {
        _cleanup_close_ int fd = memfd_create("virt-diffd-result", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return error_set(e, ERR_INTERNAL, "memfd_create: %m");
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, s + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return error_set(e, ERR_INTERNAL, "cannot write the result: %m");
                done += (size_t) n;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return error_set(e, ERR_INTERNAL, "cannot seal the result: %m");
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* root as compact JSON, sealed; takes root. */
static int seal_json(json_object *root, int *ret_fd, Error *e) {
        size_t len;
        const char *s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                          &len);
        int ret = s ? result_seal(s, len, ret_fd, e) : error_set(e, ERR_INTERNAL, "out of memory");
        json_object_put(root);
        return ret;
}

/* What json-c writes of a value, flags as seal_json()'s. */
int result_put_json(FILE *f, json_object *o) {
        size_t len = 4;
        const char *s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                              &len)
                          : "null";
        return s && fwrite(s, 1, len, f) == len ? 0 : -ENOMEM;
}

/* Changes serialised a chunk at a time, their notes with them. */
#define CHANGES_CHUNK 1024

static int put_held(FILE *f, const DiffResult *r, const ContentNote *notes, const PackageNotes *package_notes) {
        if (fputc('[', f) == EOF)
                return -EIO;
        for (size_t off = 0; off < r->n_changes; off += CHANGES_CHUNK) {
                DiffResult view = *r;
                view.changes = r->changes + off;
                view.n_changes = r->n_changes - off < CHANGES_CHUNK ? r->n_changes - off : CHANGES_CHUNK;
                view.n_filesystems = 0;
                _cleanup_json_ json_object *part = diff_result_to_json(&view);
                json_object *changes = NULL;
                if (!part || !json_object_object_get_ex(part, "changes", &changes) ||
                    (notes && content_notes_to_json(part, notes + off, view.n_changes, NULL) < 0) ||
                    (package_notes && package_notes_explain_to_json(changes, package_notes, off) < 0))
                        return -ENOMEM;
                for (size_t i = 0; i < view.n_changes; i++)
                        if (((off + i) > 0 && fputc(',', f) == EOF) ||
                            result_put_json(f, json_object_array_get_idx(changes, i)) < 0)
                                return -ENOMEM;
        }
        return fputc(']', f) == EOF ? -EIO : 0;
}

/* root's members in order, its changes put by put_changes: the document
 * is never whole in memory. */
static int put_document(FILE *f, json_object *root, ResultChangesFn put_changes, void *userdata) {
        bool first = true;
        if (fputc('{', f) == EOF)
                return -EIO;
        json_object_object_foreach(root, key, value) {
                /* Our keys are plain ASCII names: nothing to escape. */
                if (fprintf(f, "%s\"%s\":", first ? "" : ",", key) < 0)
                        return -EIO;
                first = false;
                int k = strcmp(key, "changes") == 0 ? put_changes(f, userdata) : result_put_json(f, value);
                if (k < 0)
                        return k;
        }
        return fputc('}', f) == EOF ? -EIO : 0;
}

json_object *result_root(const DiffResult *r, const ContentNote *notes, const char *checksum,
                         const PackageNotes *package_notes, const ResultSide sides[2]) {
        /* Everything but the changes, whose place stays empty. */
        DiffResult head = *r;
        head.n_changes = 0;
        _cleanup_json_ json_object *root = diff_result_to_json(&head);
        json_object *summary = NULL;
        if (!root || !json_object_object_get_ex(root, "summary", &summary) ||
            json_add(summary, "differences", json_object_new_boolean(diff_result_differs(r))) < 0 ||
            (notes && content_notes_to_json(root, notes, 0, checksum) < 0) ||
            (package_notes && package_notes_rest_to_json(root, package_notes) < 0))
                return NULL;
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(root, "a", result_side_to_json(&sides[0]));
        json_object_object_add(root, "b", result_side_to_json(&sides[1]));
        return TAKE_PTR(root);
}

int result_write_document(json_object *root, ResultChangesFn put_changes, void *userdata, int *ret_fd, Error *e) {
        _cleanup_close_ int fd = memfd_create("virt-diffd-result", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return error_set(e, ERR_INTERNAL, "memfd_create: %m");
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        FILE *f = copy >= 0 ? fdopen(copy, "w") : NULL;
        if (!f) {
                if (copy >= 0)
                        (void) close(copy);
                return error_set(e, ERR_INTERNAL, "cannot write the result: %m");
        }
        int k = put_document(f, root, put_changes, userdata);
        if (fclose(f) != 0 && k == 0)
                k = -errno;
        if (k == -ENOMEM)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (k < 0)
                return error_set(e, ERR_INTERNAL, "cannot write the result: %s", strerror(-k));
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return error_set(e, ERR_INTERNAL, "cannot seal the result: %m");
        *ret_fd = TAKE_FD(fd);
        return 0;
}

typedef struct HeldChanges {
        const DiffResult *r;
        const ContentNote *notes;
        const PackageNotes *package_notes;
} HeldChanges;

static int put_held_changes(FILE *f, void *userdata) {
        const HeldChanges *h = userdata;
        return put_held(f, h->r, h->notes, h->package_notes);
}

int result_write(const DiffResult *r, const ContentNote *notes, const char *checksum,
                 const PackageNotes *package_notes, const ResultSide sides[2], int *ret_fd, Error *e) {
        _cleanup_json_ json_object *root = result_root(r, notes, checksum, package_notes, sides);
        if (!root)
                return error_set(e, ERR_INTERNAL, "out of memory");
        HeldChanges h = {r, notes, package_notes};
        return result_write_document(root, put_held_changes, &h, ret_fd, e);
}

int result_write_manifest(const ResultSide *side, int *ret_fd, Error *e) {
        _cleanup_free_ char *key = hexmem(side->key, FINGERPRINT_SIZE);
        json_object *root = key ? manifest_to_json(side->manifest, key) : NULL;
        char when[32];
        time_t now = time(NULL);
        struct tm tm;

        if (!root)
                return error_set(e, ERR_INTERNAL, "out of memory");
        json_object_object_add(root, "images", images_to_json(side));
        if (gmtime_r(&now, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
                json_object_object_add(root, "exported_at", json_object_new_string(when));
        json_object_object_add(root, "cached", json_object_new_boolean(side->cached));
        return seal_json(root, ret_fd, e);
}
