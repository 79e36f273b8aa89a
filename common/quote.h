/* Byte strings (file names, link targets) made safe for a line of text. */
#pragma once

#include <stddef.h>

/* Quotes a byte string for a text line: returned as is when it is valid
 * UTF-8 without control characters, '"' or '\\'; otherwise in double quotes
 * with C escapes (\n, \t, \\, \", \xHH for other bytes). */
char *quote_bytes(const char *bytes, size_t len);
