/* The framing between the daemon and its worker processes: a frame is a
 * 32-bit little-endian length, a type byte and a payload built from
 * fixed-size integers and length-prefixed byte strings. The reader is
 * bounded: every read checks what is left, so a short or hostile payload
 * fails cleanly instead of reading past its end. */
#pragma once

#include "common/util.h"

/* A file read whole (64 MiB at most) or a package list; manifests travel in
 * bounded parts (daemon/manifest/manifest-wire.h). */
#define WIRE_FRAME_MAX (128U << 20)

typedef struct WireBuf {
        uint8_t *data;
        size_t len, cap;
        bool failed; /* out of memory: every later put is a no-op */
} WireBuf;

void wire_buf_done(WireBuf *b);
static inline void wire_buf_donep(WireBuf *b) {
        wire_buf_done(b);
}
#define _cleanup_wire_buf_ _cleanup_(wire_buf_donep)

void wire_put_u8(WireBuf *b, uint8_t v);
void wire_put_u32(WireBuf *b, uint32_t v);
void wire_put_u64(WireBuf *b, uint64_t v);
void wire_put_i64(WireBuf *b, int64_t v);
void wire_put_bytes(WireBuf *b, const void *p, size_t len);
void wire_put_str(WireBuf *b, const char *s);
/* A string that may be NULL. */
void wire_put_optstr(WireBuf *b, const char *s);

typedef struct WireReader {
        const uint8_t *p;
        size_t left;
        bool failed; /* a read ran past the end or met a bad value */
} WireReader;

uint8_t wire_get_u8(WireReader *r);
uint32_t wire_get_u32(WireReader *r);
uint64_t wire_get_u64(WireReader *r);
int64_t wire_get_i64(WireReader *r);
/* A byte string, NUL-terminated for convenience (the NUL is not counted). */
uint8_t *wire_get_bytes(WireReader *r, size_t *ret_len);
/* A string: a byte string without NUL bytes. */
char *wire_get_str(WireReader *r);
/* *ret is NULL when the string was absent; -1 on a bad payload. */
int wire_get_optstr(WireReader *r, char **ret);
/* An element count, refused when the payload could not hold that many
 * elements of at least min_size bytes each: no allocation beyond the data. */
uint32_t wire_get_count(WireReader *r, size_t min_size);

/* Sends one frame; -EPIPE when the other end has gone. Never raises
 * SIGPIPE. */
int wire_send(int fd, uint8_t type, const WireBuf *payload);
/* Receives one frame of at most max bytes. -ECONNRESET when the other end
 * closed the socket (before or within a frame), -EMSGSIZE for a frame
 * over max, another negative errno on a read error. */
int wire_recv(int fd, size_t max, uint8_t *ret_type, uint8_t **ret_payload, size_t *ret_len);

#define WIRE_FDS_MAX 64

/* Hands file descriptors over (SCM_RIGHTS) as one message of one byte,
 * sent between frames; the receiver takes them with wire_recv_fds() where
 * the protocol says they come. */
int wire_send_fds(int sock, const int *fds, size_t n);
/* Exactly n fds, close-on-exec; -EBADMSG when another number came (those
 * are closed). */
int wire_recv_fds(int sock, int *fds, size_t n);
