#pragma once

#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648, with padding). */
char *base64_encode(const uint8_t *p, size_t len);
/* Returns the decoded length, or -EINVAL; *ret is NUL-terminated. */
long base64_decode(const char *s, uint8_t **ret);
