/* A worker's end of its socket to the daemon, for both engines' workers
 * (worker.c with libguestfs, direct-worker.c with the direct engine):
 * replies, progress frames, the hello and the request loop. */
#pragma once

#include "common/errors.h"
#include "common/progress.h"
#include "common/wire.h"
#include "manifest/manifest-wire.h"

typedef struct WorkerLink {
        int fd;
        int send_error; /* the socket broke: stop */
        unsigned checks; /* of the progress sink's cancelled() */
} WorkerLink;

void worker_send(WorkerLink *l, uint8_t type, const WireBuf *b);
void worker_reply_ok(WorkerLink *l, uint32_t value);
void worker_reply_error(WorkerLink *l, const Error *e);
/* An error about the request itself ("bad read request"). */
void worker_reply_bad_request(WorkerLink *l, const char *what);
void worker_reply_data(WorkerLink *l, const void *data, size_t len);
/* A manifest as WK_MANIFEST parts: the whole of one, or a sink that sends
 * each part as it is made (enc is its state; manifest_encoder_done() after).
 * A failure on the way is answered with WK_ERROR. */
void worker_reply_manifest(WorkerLink *l, const Manifest *m);
ManifestSink worker_manifest_sink(WorkerLink *l, ManifestEncoder *enc);
/* Progress as WK_PROGRESS frames; cancelled once the daemon hung up. */
ProgressSink worker_progress_sink(WorkerLink *l);

void worker_send_hello(WorkerLink *l, uint64_t memsize_mb);
/* Reads requests until the daemon closes the socket (or it breaks),
 * handing each to handle. */
void worker_serve(WorkerLink *l, void (*handle)(void *userdata, uint8_t type, WireReader *r), void *userdata);
