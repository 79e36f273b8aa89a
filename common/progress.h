/* How the working stages report back to a job: phases, counters and a
 * cancellation flag, all safe to call from a worker thread. */
#pragma once

#include "common/names.h"
#include "common/util.h"

typedef struct ProgressSink {
        void (*phase)(void *userdata, int side, Phase p);
        void (*files)(void *userdata, uint64_t done, uint64_t total); /* deltas */
        void (*bytes)(void *userdata, uint64_t done, uint64_t total); /* deltas */
        bool (*cancelled)(void *userdata);
        void *userdata;
        int side; /* 0 = A, 1 = B */
} ProgressSink;

static inline void progress_phase(const ProgressSink *s, Phase p) {
        if (s && s->phase)
                s->phase(s->userdata, s->side, p);
}

static inline void progress_files(const ProgressSink *s, uint64_t done, uint64_t total) {
        if (s && s->files)
                s->files(s->userdata, done, total);
}

static inline void progress_bytes(const ProgressSink *s, uint64_t done, uint64_t total) {
        if (s && s->bytes)
                s->bytes(s->userdata, done, total);
}

static inline bool progress_cancelled(const ProgressSink *s) {
        return s && s->cancelled && s->cancelled(s->userdata);
}
