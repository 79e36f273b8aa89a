#include "appliance/overlay.h"

#include <json-c/json.h>
#include <sys/stat.h>

#include "common/subprocess.h"
#include "source/nbd.h"

#define QEMU_IMG_CREATE_TIMEOUT_USEC (30ULL * 1000000ULL)

char *overlay_backing_json(const char *format, const char *path, bool block_device) {
        json_object *top = json_object_new_object(), *file = json_object_new_object();
        char *r = NULL;

        if (!top || !file) {
                json_object_put(top);
                json_object_put(file);
                return NULL;
        }
        json_object_object_add(file, "driver", json_object_new_string(block_device ? "host_device" : "file"));
        json_object_object_add(file, "filename", json_object_new_string(path));
        /* Read through our own overlay only; the lock belongs to whoever
         * runs the disk (image-source.c refuses one held for writing). */
        json_object_object_add(file, "locking", json_object_new_string("off"));
        json_object_object_add(top, "driver", json_object_new_string(format));
        json_object_object_add(top, "file", file);

        const char *s = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (s && asprintf(&r, "json:%s", s) < 0)
                r = NULL;
        json_object_put(top);
        return r;
}

int overlay_create(const Disk *d, const char *dir, size_t index, char **ret_path, Error *e) {
        struct stat st;
        char name[64];
        _cleanup_free_ char *path = NULL, *backing = NULL;
        SpawnResult r = {};

        if (d->n_layers > 0 ? fstat(d->layers[0].fd, &st) < 0 : stat(d->path, &st) < 0)
                return error_set(e, ERR_NO_SUCH_FILE, "%s: %m", d->path);
        snprintf(name, sizeof name, "overlay-%zu.qcow2", index);
        path = path_join(dir, name);
        /* The files the disk opened when it was checked, not their names. */
        backing = d->nbd            ? nbd_backing_json(d)
                  : d->n_layers > 0 ? disk_qemu_filename(d)
                                    : overlay_backing_json(d->format, d->path, S_ISBLK(st.st_mode));
        if (!path || !backing)
                return error_set(e, ERR_INTERNAL, "out of memory");

        char *argv[] = {(char *) "qemu-img", (char *) "create", (char *) "-q", (char *) "-f", (char *) "qcow2",
                        (char *) "-F", d->nbd ? (char *) "raw" : d->format, (char *) "-b", backing, path, NULL};
        if (spawn_capture(argv, QEMU_IMG_CREATE_TIMEOUT_USEC, 64 * 1024, &r) < 0)
                return error_set(e, ERR_INTERNAL, "cannot run qemu-img: %m");
        if (r.status != 0) {
                char *nl = r.err ? strchr(r.err, '\n') : NULL;
                if (nl)
                        *nl = 0;
                error_set(e, ERR_INVALID_IMAGE, "%s: cannot open as %s: %s", d->path, d->format,
                          r.timed_out ? "qemu-img timed out" : strempty(r.err));
                spawn_result_done(&r);
                return -1;
        }
        spawn_result_done(&r);
        *ret_path = TAKE_PTR(path);
        return 0;
}
