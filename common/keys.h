/* Keys for encrypted (LUKS) volumes, as --key and --keys-from-stdin give
 * them: each a selector (a device name such as /dev/sda2, a volume UUID,
 * or "all") and the passphrase's bytes, or with no selector one of the
 * keys handed out in order to the volumes no selector opened. The bytes
 * are wiped when the list is freed: a key lives only as long as the call
 * that needs it. Never logged, cached or published. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Key {
        char *selector; /* NULL: an ordered key */
        uint8_t *bytes;
        size_t len;
} Key;

typedef struct KeyList {
        Key *keys;
        size_t n;
} KeyList;

/* Copies selector (may be NULL) and bytes; -ENOMEM. */
int key_list_add(KeyList *l, const char *selector, const void *bytes, size_t len);
/* Wipes and frees every key; the list is empty again. */
void key_list_done(KeyList *l);

/* A key as the daemon takes one: 1 to MAX_KEY_LENGTH bytes, none of them
 * NUL (libguestfs passes a key as a C string). 0 or -EINVAL. */
int key_check(const void *p, size_t len);

/* The worker's answer to an unlock: device names, each NUL-terminated and
 * none empty, into a NULL-terminated list. -EBADMSG or -ENOMEM. */
int key_device_list_decode(const char *buf, size_t len, char ***ret);

/* Does SELECTOR name the volume DEVICE with UUID (may be NULL)? */
bool key_selector_matches(const char *selector, const char *device, const char *uuid);
