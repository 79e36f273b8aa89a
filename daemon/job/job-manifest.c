/* Manifests that travel: a side given as an exported manifest (read when
 * the job validates its inputs), and the export job's result. */
#include <sys/stat.h>

#include "common/input-limits.h"
#include "compare/result.h"
#include "job/job-internal.h"
#include "manifest/manifest-json.h"

/* All of a regular file, from its start, whatever the fd's offset. */
static int read_whole(int fd, char **ret, size_t *ret_len, Error *e) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return error_set(e, ERR_INTERNAL, "cannot read the manifest: %m");
        /* A pipe could keep this thread waiting for ever. */
        if (!S_ISREG(st.st_mode))
                return error_set(e, ERR_INVALID_MANIFEST, "invalid manifest: not a regular file");
        if ((uint64_t) st.st_size > MAX_MANIFEST_BYTES)
                return error_set(e, ERR_INVALID_MANIFEST, "invalid manifest: larger than %d bytes", MAX_MANIFEST_BYTES);
        _cleanup_free_ char *buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return error_set(e, ERR_INTERNAL, "out of memory");
        size_t got = 0;
        while (got < (size_t) st.st_size) {
                ssize_t n = pread(fd, buf + got, (size_t) st.st_size - got, (off_t) got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_set(e, ERR_INTERNAL, "cannot read the manifest: %m");
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        buf[got] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}

int job_side_read_manifest(JobSide *s, Error *e) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(manifest_origin_done) ManifestOrigin origin = {};
        size_t len = 0;

        if (read_whole(s->manifest_fd, &text, &len, e) < 0)
                return -1;
        (void) close(s->manifest_fd);
        s->manifest_fd = -1;
        if (manifest_from_json(text, len, &s->manifest, &origin, e) < 0)
                return -1;
        if (unhexmem(origin.key, s->key, sizeof s->key) < 0)
                return error_set(e, ERR_INVALID_MANIFEST, "invalid manifest: key: not hex");
        s->manifest_images = TAKE_PTR(origin.images);
        s->manifest_exported_at = TAKE_PTR(origin.exported_at);
        return 0;
}

ResultSide job_result_side(const JobSide *s) {
        return (ResultSide){.disks = s->disks, .n_disks = s->n_disks, .key = s->key, .cached = s->cached,
                            .manifest = s->manifest ?: store_source_head(s->source), .packages = s->packages, .from_manifest = s->from_manifest,
                            .manifest_images = s->manifest_images, .manifest_exported_at = s->manifest_exported_at,
                            .engine = s->engine,
                            .direct_refused = s->direct_refused.code != ERR_OK ? s->direct_refused.message : NULL};
}

int job_write_manifest(Job *j, Error *e) {
        JobSide *s = &j->sides[0];
        int fd = -1;

        job_set_phase(j, -1, PHASE_WRITE);
        /* The document holds every entry: built whole, from the store. */
        if (!s->manifest && s->source) {
                _cleanup_(manifest_builder_done) ManifestBuilder b = {};
                ManifestSink sink = manifest_builder_sink(&b);
                ManifestSource src = store_source(s->source);
                if (manifest_source_play(&src, &sink, e) < 0)
                        return -1;
                s->manifest = manifest_builder_take(&b);
                if (!s->manifest)
                        return error_set(e, ERR_INTERNAL, "out of memory");
        }
        ResultSide side = job_result_side(s);
        if (result_write_manifest(&side, &fd, e) < 0)
                return -1;
        pthread_mutex_lock(&j->lock);
        j->result_fd = fd;
        pthread_mutex_unlock(&j->lock);
        return 0;
}
