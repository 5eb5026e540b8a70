#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *msg_prog = "parklog";
static int msg_lvl = MSG_INFO;

void msg_init(const char *progname, int level)
{
	if (progname != NULL)
		msg_prog = progname;
	msg_lvl = level;
}

int msg_level(void)
{
	return msg_lvl;
}

/* One line, one write(2): lines from several threads never interleave. */
static void msg__emit(const char *tag, const char *fmt, va_list ap, int errnum)
{
	char line[2048];
	struct timespec now;
	struct tm tm;
	size_t n;
	int r;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	r = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, now.tv_nsec / 1000000L, msg_prog, tag);
	n = r > 0 ? (size_t)r : 0;
	if (n < sizeof line) {
		r = vsnprintf(line + n, sizeof line - n, fmt, ap);
		n += r > 0 ? (size_t)r : 0;
	}
	if (errnum != 0 && n < sizeof line) {
		r = snprintf(line + n, sizeof line - n, ": %s", strerror(errnum));
		n += r > 0 ? (size_t)r : 0;
	}
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

#define MSG__BODY(tag, err) do { va_list ap; va_start(ap, fmt); \
	msg__emit(tag, fmt, ap, err); va_end(ap); } while (0)

void msg_warn(const char *fmt, ...)
{
	int e = errno;
	MSG__BODY("warning", e);
}

void msg_warnx(const char *fmt, ...)
{
	MSG__BODY("warning", 0);
}

void msg_info(const char *fmt, ...)
{
	if (msg_lvl >= MSG_INFO)
		MSG__BODY("info", 0);
}

void msg_debug(const char *fmt, ...)
{
	if (msg_lvl >= MSG_DEBUG)
		MSG__BODY("debug", 0);
}

void msg_fatalx(const char *fmt, ...)
{
	MSG__BODY("fatal", 0);
	exit(1);
}

void msg_assert_fail(const char *file, int line, const char *func, const char *expr)
{
	char line_buf[512];
	int n;

	/* No malloc, no locks: the process may be in any state. */
	n = snprintf(line_buf, sizeof line_buf, "%s: %s:%d: %s: assertion failed: %s\n",
	    msg_prog, file, line, func, expr);
	if (n > 0 && write(STDERR_FILENO, line_buf,
	    (size_t)n < sizeof line_buf ? (size_t)n : sizeof line_buf - 1) < 0) {
		/* nowhere left to report it */
	}
	abort();
}
