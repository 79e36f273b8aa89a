/* The worker wire as appliance.c and direct-handle.c share it: not for
 * other modules. */
#pragma once

#include "appliance/appliance.h"
#include "common/wire.h"

/* Starts `argv` (the daemon's own binary again) with the socket on
 * WORKER_FD in a process group of its own, and waits for its hello. */
int worker_spawn(Appliance *a, char *const argv[], Error *e);
int worker_request(Appliance *a, uint8_t type, const WireBuf *b, Error *e);
/* Reads frames (forwarding progress) until want, WK_ERROR or trouble. */
int worker_await(Appliance *a, uint8_t want, const ProgressSink *progress, uint8_t **ret_payload, size_t *ret_len,
                 Error *e);
/* A WK_OK answer (to a request already sent), its value in *ret_value. */
int worker_await_ok(Appliance *a, uint32_t *ret_value, Error *e);
int worker_call_ok(Appliance *a, uint8_t type, const WireBuf *b, uint32_t *ret_value, Error *e);
/* The socket failed or the worker broke the protocol: why, as an error. */
int worker_gone(Appliance *a, int r, Error *e);
