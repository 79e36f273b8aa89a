/* Byte strings (file names, link targets) made safe for a line of text. */
#pragma once

#include <stddef.h>

/* Quotes a byte string for a text line: returned as is when it is valid
 * UTF-8 without control characters, '"' or '\\'; otherwise in double quotes
 * with C escapes (\n, \t, \\, \", \xHH for other bytes). */
char *quote_bytes(const char *bytes, size_t len);

/* The same escapes without the quotes (and '"' left alone), always applied:
 * for a name shown where the surrounding markup delimits it (an HTML or
 * Markdown report). The result is valid UTF-8 with no control character
 * and no bidirectional override, and '/' is never escaped, so a path
 * still splits into its components. */
char *escape_bytes(const char *bytes, size_t len);
