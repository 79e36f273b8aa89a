/* A comparison's changes as they are found: a growing memfd of JSON lines
 * that clients read while the job runs (D-Bus Job.OpenChanges), and from
 * which the job's result document is written at the end, so that the
 * daemon never holds the list of changes.
 *
 *   {"head":{"version":1,"a":{...},"b":{...},"filesystems":[...],"trees":[...]}}
 *   {"change":{...}}            one a change, as the document's "changes" has it
 *   {"end":{"summary":{...}}}   once the comparison is complete
 *
 * A comparison that starts over (a cached manifest found damaged and its
 * side scanned again) writes {"reset":true} and a new head; what came
 * before it is void. Lines are whole once readable up to their '\n'. */
#pragma once

#include "compare/result.h"

typedef struct ResultStream ResultStream;

int result_stream_new(ResultStream **ret, Error *e);
ResultStream *result_stream_free(ResultStream *s);
static inline void result_stream_freep(ResultStream **s) {
        result_stream_free(*s);
}
#define _cleanup_result_stream_ _cleanup_(result_stream_freep)

/* A new read-only fd on the stream, from its first line: -errno. */
int result_stream_open(ResultStream *s);

/* A ChangeSink for compare_sources_to() writing into s; sides describe
 * "a" and "b" of the head and must outlive the comparison. */
ChangeSink result_stream_sink(ResultStream *s, const ResultSide sides[2]);

/* Writes the end line, then the whole result document (as result_write()
 * would with no notes) into a new sealed memfd: *ret_fd. */
int result_stream_finish(ResultStream *s, const DiffResult *r, int *ret_fd, Error *e);
