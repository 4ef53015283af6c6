/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpio logging: one line per event on stderr (or a user callback).
 * Every error path in vpio logs one line saying what failed and why, and
 * returns a negative errno-style code.
 */
#ifndef VPIO_LOG_H
#define VPIO_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vpio_log_level {
	VPIO_LOG_ERROR = 0,
	VPIO_LOG_WARN = 1,
	VPIO_LOG_NOTICE = 2,
	VPIO_LOG_INFO = 3,
	VPIO_LOG_DEBUG = 4,
};

/* Messages above this level are dropped (default VPIO_LOG_NOTICE, or the
 * VPIO_LOG_LEVEL environment variable: error|warn|notice|info|debug).
 * Thread: any (a plain store: other threads see the new level soon, not at
 * once). */
void vpio_log_set_level(enum vpio_log_level level);
enum vpio_log_level vpio_log_get_level(void);
/* Parse "error", "warn", ... or a digit; -EINVAL for anything else.
 * Thread: any. */
int vpio_log_parse_level(const char *s);

/* Replace the stderr printer (NULL restores it).  Used by tests to assert
 * that an error path logged the expected line.  The callback runs on the
 * thread that logs, from any vpio call (also from the library's own
 * threads, e.g. the emulator's), so it must be thread-safe itself.
 * Thread: not while another thread may log (the function and its ctx are
 * two plain stores): set it at start-up, before other threads use vpio. */
typedef void (*vpio_log_fn)(enum vpio_log_level level, const char *module, const char *msg, void *ctx);
void vpio_log_set_callback(vpio_log_fn fn, void *ctx);

/* Log one line (at most 511 bytes) through the printer.  Thread: any. */
void vpio_log(enum vpio_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vpio_vlog(enum vpio_log_level level, const char *module, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif
#endif
