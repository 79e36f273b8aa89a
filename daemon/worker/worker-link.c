#include "worker/worker-link.h"

#include <poll.h>

#include "common/log.h"
#include "manifest/manifest-wire.h"
#include "worker/protocol.h"

void worker_send(WorkerLink *l, uint8_t type, const WireBuf *b) {
        if (l->send_error == 0)
                l->send_error = wire_send(l->fd, type, b);
}

void worker_reply_ok(WorkerLink *l, uint32_t value) {
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_u32(&b, value);
        worker_send(l, WK_OK, &b);
}

void worker_reply_error(WorkerLink *l, const Error *e) {
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_u32(&b, (uint32_t) (e->code == ERR_OK ? ERR_INTERNAL : e->code));
        wire_put_str(&b, e->message);
        worker_send(l, WK_ERROR, &b);
}

void worker_reply_bad_request(WorkerLink *l, const char *what) {
        Error e = {};
        error_set(&e, ERR_INTERNAL, "bad %s request", what);
        worker_reply_error(l, &e);
}

void worker_reply_data(WorkerLink *l, const void *data, size_t len) {
        _cleanup_wire_buf_ WireBuf b = {};
        wire_put_bytes(&b, data, len);
        worker_send(l, WK_DATA, &b);
}

static int send_part(void *userdata, const WireBuf *part) {
        WorkerLink *l = userdata;
        worker_send(l, WK_MANIFEST, part);
        return l->send_error;
}

ManifestSink worker_manifest_sink(WorkerLink *l, ManifestEncoder *enc) {
        *enc = (ManifestEncoder){.emit = send_part, .userdata = l};
        return manifest_encoder_sink(enc);
}

void worker_reply_manifest(WorkerLink *l, const Manifest *m) {
        ManifestEncoder enc;
        ManifestSink sink = worker_manifest_sink(l, &enc);
        Error e = {};
        /* A failure after some parts went: the error ends the answer. */
        if (manifest_play(m, &sink, &e) < 0 && l->send_error == 0)
                worker_reply_error(l, &e);
        manifest_encoder_done(&enc);
}

static void send_progress(WorkerLink *l, uint8_t kind, uint64_t a, uint64_t b) {
        _cleanup_wire_buf_ WireBuf buf = {};
        wire_put_u8(&buf, kind);
        wire_put_u64(&buf, a);
        wire_put_u64(&buf, b);
        worker_send(l, WK_PROGRESS, &buf);
}

static void on_phase(void *userdata, int side, Phase p) {
        send_progress(userdata, 0, (uint64_t) p, 0);
}

static void on_files(void *userdata, uint64_t done, uint64_t total) {
        send_progress(userdata, 1, done, total);
}

static void on_bytes(void *userdata, uint64_t done, uint64_t total) {
        send_progress(userdata, 2, done, total);
}

/* A daemon that hung up (killed, or done with us) wants no more of the
 * call: it stops at its next check instead of running to its end. Looked
 * at every CANCEL_CHECK_EVERY checks (one per file or so). */
#define CANCEL_CHECK_EVERY 32
static bool on_cancelled(void *userdata) {
        WorkerLink *l = userdata;
        if (l->send_error)
                return true;
        if (l->checks++ % CANCEL_CHECK_EVERY)
                return false;
        struct pollfd p = {.fd = l->fd, .events = POLLRDHUP};
        return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

ProgressSink worker_progress_sink(WorkerLink *l) {
        return (ProgressSink) {.phase = on_phase, .files = on_files, .bytes = on_bytes, .cancelled = on_cancelled,
                               .userdata = l};
}

void worker_send_hello(WorkerLink *l, uint64_t memsize_mb) {
        _cleanup_wire_buf_ WireBuf hello = {};
        wire_put_u32(&hello, WORKER_PROTOCOL);
        wire_put_u64(&hello, memsize_mb);
        worker_send(l, WK_HELLO, &hello);
}

void worker_serve(WorkerLink *l, void (*handle)(void *userdata, uint8_t type, WireReader *r), void *userdata) {
        while (l->send_error == 0) {
                uint8_t type;
                _cleanup_free_ uint8_t *payload = NULL;
                size_t len;
                int r = wire_recv(l->fd, WORKER_REQUEST_MAX, &type, &payload, &len);
                if (r == -ECONNRESET)
                        break; /* the daemon is done with us */
                if (r < 0) {
                        log_error("worker: cannot read a request: %s", strerror(-r));
                        break;
                }
                WireReader reader = {.p = payload, .left = len};
                handle(userdata, type, &reader);
                /* A request lives no longer than its handling: a key for
                 * an encrypted volume (WK_UNLOCK) is not left in freed
                 * memory. */
                explicit_bzero(payload, len);
        }
}
