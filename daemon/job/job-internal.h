/* Shared by the job's own files (job.c, job-progress.c, job-pipeline.c,
 * job-watch.c); not for other modules. */
#pragma once

#include "compare/result.h"
#include "job/job.h"

/* The pipeline, on the job's thread (job-pipeline.c). */
void *job_pipeline_run(void *userdata);

/* Progress from the pipeline's threads into the shared status
 * (job-progress.c). side -1: both sides. */
ProgressSink job_progress_sink(Job *j, int side);
void job_set_phase(Job *j, int side, Phase p);
bool job_cancelled(Job *j);
/* Progress, rate and expected end within the current phase, for a copy of
 * the shared status; under the lock. */
void job_compute_rates(Job *j, JobStatus *st);

/* The engines (job-engine.c). job_scan_direct(): true when the direct
 * engine settled the side (scanned it, or failed it for good); false when
 * the appliance takes it. */
bool job_wants_direct(const Job *j);
bool job_scan_direct(Job *j, JobSide *s, const ProgressSink *sink);
/* A direct worker for the content stage, or NULL: the appliance then (e is
 * set only when there is no other way). */
Appliance *job_direct_content_handle(Job *j, JobSide *s, const ProgressSink *sink, Error *e);
void job_drop_direct(JobSide *s);
/* Scans the side on a (either engine's) into its scan store, streamed:
 * the store file is made on first use, and a failed attempt leaves
 * nothing in it. With ret_packages, the package set too. */
int job_scan_into_store(JobSide *s, Appliance *a, const ProgressSink *sink, PackageSet **ret_packages, Error *e);
/* A side given as an exported manifest: read, checked and taken as the
 * side's manifest and key; the export job's result (job-manifest.c). */
int job_side_read_manifest(JobSide *s, Error *e);
int job_write_manifest(Job *j, Error *e);
/* The side as the result document describes it; borrowed. */
ResultSide job_result_side(const JobSide *s);

/* The job's end, as the pipeline reaches it: state, error, finished. */
void job_finish(Job *j, const Error *e);
/* Main loop: look at this job. */
void job_wake(Job *j);

/* Encrypted volumes (job-keys.c). Opens a scanning side's volumes with the
 * job's keys: those whose selector names them, then the ordered keys, side
 * A's volumes taking the first. Side B waits for side A's count; side A
 * must reach job_keys_side_done() whatever happens to it. */
int job_keys_unlock(Job *j, int side, Appliance *a, Error *e);
void job_keys_side_done(Job *j, int side);
/* The keys are wiped: the scan no longer needs them. */
void job_keys_drop(Job *j);
/* A cached manifest with a locked volume is no answer when keys came; a
 * manifest with an opened volume is never cached. */
bool job_keys_cache_usable(const Job *j, const Manifest *m);
bool job_keys_cacheable(const Manifest *m);
