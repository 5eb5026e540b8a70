/* msg — diagnostics (messages to stderr), after OpenBSD's log.c.
 *
 * The word "log" belongs to the event log; diagnostics are "messages".
 * One process-wide setting (the level and the program name) is set once by
 * main() through msg_init() before threads start; every function here is
 * thread-safe afterwards (each message is one write(2) of one line).
 */
#ifndef PARKLOG_MSG_H
#define PARKLOG_MSG_H

#include <stdarg.h>

enum msg_level {
	MSG_QUIET = 0,	/* errors and warnings only */
	MSG_INFO = 1,	/* + informational lines (default) */
	MSG_DEBUG = 2	/* + debug detail (-v) */
};

/*
 * Set the program name prefixed to every line and the level. Under journald
 * (stderr is the stream named by JOURNAL_STREAM) lines carry an sd-daemon
 * "<N>" priority prefix and no timestamp of their own; elsewhere
 * "TIMESTAMP prog tag: text".
 */
void msg_init(const char *progname, int level);
/* 1 if `journal_stream` ("dev:ino", JOURNAL_STREAM's form) names stderr. */
int msg_stderr_is_journal(const char *journal_stream);
int msg_level(void);

/* warn: message + ": " + strerror(errno); warnx: message only. */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fatal: print like msg_warnx and exit(1). Only for main() before serving. */
void msg_fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Always-on invariant check (TigerBeetle/LMDB style): never compiled out, not
 * even with NDEBUG. On failure prints "file:line: assertion failed: expr" and
 * aborts (a core dump, not an exit code), because a broken invariant means
 * the process can no longer promise that what it writes is right.
 */
#define msg_assert(expr) ((expr) ? (void)0 : \
	msg_assert_fail(__FILE__, __LINE__, __func__, #expr))
void msg_assert_fail(const char *file, int line, const char *func,
    const char *expr) __attribute__((noreturn, cold));

#endif
