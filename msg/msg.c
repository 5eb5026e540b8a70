#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *msg_prog = "parklog";
static int msg_lvl = MSG_INFO;
static int msg_journal;		/* stderr is journald's stream */

/*
 * systemd sets JOURNAL_STREAM to "dev:ino" of the stream it connected to
 * stderr; it counts only if stderr is still that stream (a child whose
 * stderr was redirected inherits the variable but not the stream).
 */
int msg_stderr_is_journal(const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (journal_stream == NULL ||
	    sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void msg_init(const char *progname, int level)
{
	if (progname != NULL)
		msg_prog = progname;
	msg_lvl = level;
	msg_journal = msg_stderr_is_journal(getenv("JOURNAL_STREAM"));
}

int msg_level(void)
{
	return msg_lvl;
}

/*
 * The line's head. Under journald: "<N>" (sd-daemon.h priorities: 2 crit,
 * 4 warning, 6 info, 7 debug) and no timestamp, since the journal stamps
 * every line itself; elsewhere a UTC timestamp, the program and the tag.
 */
static int msg__head(char *line, size_t cap, const char *tag)
{
	struct timespec now;
	struct tm tm;
	int prio;

	if (msg_journal) {
		prio = tag[0] == 'f' ? 2 : tag[0] == 'w' ? 4 : tag[0] == 'i' ? 6 : 7;
		/* The priority says info/debug; a warning keeps its word. */
		return prio <= 4 ? snprintf(line, cap, "<%d>%s: ", prio, tag) :
		    snprintf(line, cap, "<%d>", prio);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	return snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, now.tv_nsec / 1000000L, msg_prog, tag);
}

/* One line, one write(2): lines from several threads never interleave. */
static void msg__emit(const char *tag, const char *fmt, va_list ap, int errnum)
{
	char line[2048];
	size_t n;
	int r;

	r = msg__head(line, sizeof line, tag);
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
	n = snprintf(line_buf, sizeof line_buf, "%s%s: %s:%d: %s: assertion failed: %s\n",
	    msg_journal ? "<2>" : "", msg_prog, file, line, func, expr);
	if (n > 0 && write(STDERR_FILENO, line_buf,
	    (size_t)n < sizeof line_buf ? (size_t)n : sizeof line_buf - 1) < 0) {
		/* nowhere left to report it */
	}
	abort();
}
