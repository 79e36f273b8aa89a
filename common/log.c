#include "common/log.h"

#include <stdarg.h>

static bool verbose, quiet, trace;

void log_set_trace(bool t) {
        trace = t;
}

bool log_get_trace(void) {
        return trace;
}

void log_set_quiet(bool q) {
        quiet = q;
}

void log_set_verbose(bool v) {
        verbose = v;
}

bool log_get_verbose(void) {
        return verbose;
}

static void log_v(const char *prefix, const char *fmt, va_list ap) {
        /* One write per line so concurrent threads do not interleave. */
        char buf[2048];
        int n = snprintf(buf, sizeof buf, "virt-diffd: %s", prefix);
        if (n < 0)
                return;
        int m = vsnprintf(buf + n, sizeof buf - (size_t) n - 1, fmt, ap);
        if (m < 0)
                return;
        size_t len = strlen(buf);
        buf[len++] = '\n';
        (void) !write(STDERR_FILENO, buf, len);
}

void log_info(const char *fmt, ...) {
        if (quiet && !verbose)
                return;
        va_list ap;
        va_start(ap, fmt);
        log_v("", fmt, ap);
        va_end(ap);
}

void log_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_v("error: ", fmt, ap);
        va_end(ap);
}

void log_debug(const char *fmt, ...) {
        if (!verbose)
                return;
        va_list ap;
        va_start(ap, fmt);
        log_v("debug: ", fmt, ap);
        va_end(ap);
}
