/* Logging at the boundary (main loop, bus handlers, job end): to stderr,
 * which journald captures for the units. */
#pragma once

#include "common/util.h"

void log_set_verbose(bool v);
bool log_get_verbose(void);
/* Quiet: informational lines only with verbose (a private daemon shares
 * its client's terminal). */
void log_set_quiet(bool q);
/* Trace: libguestfs' own verbose and trace output. */
void log_set_trace(bool t);
bool log_get_trace(void);
void log_info(const char *fmt, ...) _printf_(1, 2);
void log_error(const char *fmt, ...) _printf_(1, 2);
void log_debug(const char *fmt, ...) _printf_(1, 2);
