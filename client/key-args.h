/* --key, --keys-from-stdin and --echo-keys (key-args.c). */
#pragma once

#include <systemd/sd-bus.h>

typedef struct DiffArgs DiffArgs;

/* --key SELECTOR into a->keys; -EINVAL after one line on stderr that does
 * not show the key, -ENOMEM. */
int key_args_add(DiffArgs *a, const char *prog, const char *selector);
/* --keys-from-stdin: one key a line until the end of standard input, into
 * a->ordered_keys; on a terminal with a prompt and without echo (unless
 * a->echo_keys). */
int key_args_read_stdin(DiffArgs *a, const char *prog);
/* The Compare options "keys" and "ordered_keys", when there are any. */
int key_args_append(sd_bus_message *m, const DiffArgs *a);
