/* Which engine scans a side: the direct engine when the job and the daemon
 * allow it and it reads the side for certain (and no package database is
 * asked for), the appliance otherwise. In
 * "auto" a side the direct engine refuses or fails on goes to the
 * appliance, and the result says why; with "direct" asked for, that is the
 * side's error. */
#include "common/log.h"
#include "job/job-internal.h"
#include "source/nbd.h"

bool job_wants_direct(const Job *j) {
        return j->engine != ENGINE_APPLIANCE && !j->ctx->no_direct;
}

static void publish(JobSide *s, Appliance *a) {
        pthread_mutex_lock(&s->appliance_lock);
        s->appliance = a;
        pthread_mutex_unlock(&s->appliance_lock);
}

void job_drop_direct(JobSide *s) {
        if (!s->direct)
                return;
        publish(s, NULL);
        s->direct = appliance_free(s->direct);
}

/* The side's direct worker: started now when it has none. */
static Appliance *direct_handle(Job *j, JobSide *s, const ProgressSink *sink, Error *e) {
        if (s->direct)
                return s->direct;
        if (nbd_serve_disks_for_direct(s->disks, s->n_disks, sink, e) < 0)
                return NULL;
        Appliance *a = NULL;
        if (appliance_new_direct(s->disks, s->n_disks, &a, e) < 0)
                return NULL;
        s->direct = a;
        /* Where a cancel finds it. */
        publish(s, a);
        return a;
}

int job_scan_into_store(JobSide *s, Appliance *a, const ProgressSink *sink, PackageSet **ret_packages, Error *e) {
        if (!s->scan_store && store_open_temporary(&s->scan_store, e) < 0)
                return -1;
        _cleanup_free_ StoreDisk *disks = calloc(s->n_disks + 1, sizeof(StoreDisk));
        if (!disks)
                return error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; i < s->n_disks; i++)
                disks[i] = (StoreDisk){.path = s->disks[i].path, .key = s->disk_keys[i]};
        _cleanup_store_writer_ StoreWriter *w = NULL;
        if (store_writer_new(s->scan_store, s->key, disks, s->n_disks, &w, e) < 0)
                return -1;
        ManifestSink sink_store = store_writer_sink(w);
        if (appliance_scan_stream(a, sink, &sink_store, ret_packages, e) < 0)
                return -1;
        w = store_writer_free(w);
        /* Its head now, for what decides whether it may be cached. */
        s->source = store_source_free(s->source);
        int r = store_source_open(s->scan_store, s->key, &s->source, e);
        if (r == 0)
                return error_set(e, ERR_INTERNAL, "the scanned manifest cannot be read back");
        return r < 0 ? -1 : 0;
}

/* A failure of the direct engine in "auto": the appliance takes the side. */
static bool give_to_appliance(Job *j, JobSide *s, const Error *e) {
        if (j->cancel_requested) {
                s->error.code = ERR_OK;
                error_set(&s->error, ERR_CANCELLED, "cancelled");
                return false;
        }
        if (j->engine == ENGINE_DIRECT) {
                s->error = *e;
                return false;
        }
        s->direct_refused = *e;
        log_debug("Job %" PRIu64 ": side %c goes to the appliance: %s", j->id, s == &j->sides[0] ? 'A' : 'B',
                  e->message);
        return true;
}

/* The scan's thread ends after it: the servers it started for the direct
 * engine alone go now, and with them the worker reading through them (the
 * content stage starts both again from the job's own thread). Otherwise
 * an appliance taking the side would read its overlay's backing from a
 * server that dies with this thread. */
static void drop_scan_servers(JobSide *s) {
        publish(s, NULL);
        if (!s->direct)
                (void) nbd_stop_disks_for_direct(s->disks, s->n_disks);
        else if (nbd_stop_disks_for_direct(s->disks, s->n_disks))
                s->direct = appliance_free(s->direct);
}

bool job_scan_direct(Job *j, JobSide *s, const ProgressSink *sink) {
        Error e = {0};
        if (!job_wants_direct(j))
                return false;
        /* Package databases are copied out and read beside the appliance's
         * scan (worker/package-scan.c); the direct worker, which opens no
         * file, does not read them. */
        if (package_options_wanted(&j->packages)) {
                error_set(&e, ERR_DIRECT_UNSUPPORTED, "it does not read package databases (packages, causes)");
                return !give_to_appliance(j, s, &e);
        }
        /* libblkid reads partition tables in 512-byte sectors here. */
        for (size_t i = 0; i < s->n_disks; i++)
                if (s->disks[i].blocksize != 0 && s->disks[i].blocksize != 512) {
                        error_set(&e, ERR_DIRECT_UNSUPPORTED, "it reads disks of 512-byte sectors only (blocksize %u)",
                                  s->disks[i].blocksize);
                        return !give_to_appliance(j, s, &e);
                }
        Appliance *a = direct_handle(j, s, sink, &e);
        if (a && job_scan_into_store(s, a, sink, NULL, &e) >= 0) {
                s->engine = ENGINE_DIRECT;
                /* Content reads come later: keep the worker, out of the
                 * cancel's and the hang watch's way while it waits. */
                if (!content_options_wanted(&j->content))
                        job_drop_direct(s);
                drop_scan_servers(s);
                return true;
        }
        job_drop_direct(s);
        drop_scan_servers(s);
        return !give_to_appliance(j, s, &e);
}

Appliance *job_direct_content_handle(Job *j, JobSide *s, const ProgressSink *sink, Error *e) {
        Error de = {0};
        if (!job_wants_direct(j) || s->engine == ENGINE_APPLIANCE)
                return NULL;
        Appliance *a = direct_handle(j, s, sink, &de);
        if (a)
                publish(s, NULL);
        else if (j->engine == ENGINE_DIRECT || j->cancel_requested)
                *e = de;
        return a;
}
