/* parklog-edge — the gate agent.
 *
 *	parklog-edge [-nqv] -f config.json
 *	parklog-edge --help | --version
 *
 * Reads plate reads (NDJSON) and commands ("open [PLATE]", "close") on
 * stdin, talks to its central over HTTP, drives the barrier, and prints
 * one JSON line per outcome on stdout. Messages go to stderr. -n checks
 * the configuration and exits. SIGTERM/SIGINT: the barrier is closed and
 * its line released, then exit 0. Signals arrive through a signalfd, so
 * no handler and no global flag exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "msg/msg.h"
#include "tools/parklog-edge/edge_agent.h"
#include "tools/parklog-edge/edge_reads.h"

#define LINE_MAX_BYTES	4096

typedef struct input {
	char buf[LINE_MAX_BYTES];
	size_t len;
	int eof;
} input;

#ifndef PARKLOG_VERSION
#define PARKLOG_VERSION "unknown"	/* CMake passes the project's */
#endif

#define USAGE	"usage: parklog-edge [-nqv] -f config.json\n" \
		"       parklog-edge --help | --version\n"

static void usage(void)
{
	fprintf(stderr, USAGE);
	exit(1);
}

static void help(void)
{
	printf(USAGE "\n"
	    "The gate agent: plate reads (NDJSON) and \"open [PLATE]\" / \"close\"\n"
	    "on stdin, the central over HTTP, the barrier, one JSON line per outcome\n"
	    "on stdout (docs/edge.md).\n\n"
	    "  -f FILE    the configuration (JSON, docs/edge.md)\n"
	    "  -n         check the configuration and exit\n"
	    "  -q         warnings only\n"
	    "  -v         debug messages\n"
	    "  --help     this text\n"
	    "  --version  the version\n");
	exit(0);
}

static void parse_args(int argc, char **argv, const char **file, int *check,
    int *level)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "f:nqv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': help(); break;
		case 'V': printf("parklog-edge %s\n", PARKLOG_VERSION); exit(0);
		case 'f': *file = optarg; break;
		case 'n': *check = 1; break;
		case 'q': *level = MSG_QUIET; break;
		case 'v': *level = MSG_DEBUG; break;
		default: usage();
		}
	}
	if (optind != argc || *file == NULL)
		usage();
}

/* Feed every complete stdin line to the agent; an overlong line is dropped. */
static void read_stdin(input *in, edge_agent *a)
{
	ssize_t n = read(STDIN_FILENO, in->buf + in->len, sizeof in->buf - 1 - in->len);
	char *nl;

	if (n <= 0) {
		in->eof = n == 0 || (errno != EINTR && errno != EAGAIN);
		return;
	}
	in->len += (size_t)n;
	in->buf[in->len] = '\0';
	while ((nl = strchr(in->buf, '\n')) != NULL) {
		*nl = '\0';
		edge_agent_line(a, in->buf);
		in->len -= (size_t)(nl + 1 - in->buf);
		memmove(in->buf, nl + 1, in->len + 1);
	}
	if (in->len == sizeof in->buf - 1) {
		msg_warnx("stdin: line longer than %d bytes dropped", LINE_MAX_BYTES);
		in->len = 0;
	}
}

/* Under systemd's watchdog: half its interval in ms, else 0. */
static int watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	return usec / 2000 > INT_MAX ? INT_MAX : (int)(usec / 2000);
}

/* Kick the watchdog from the loop itself: a loop stuck anywhere stops it. */
static int watchdog_kick(int wd_ms, struct timespec *last, int wait_ms)
{
	struct timespec now;

	if (wd_ms == 0)
		return wait_ms;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - last->tv_sec) * 1000 + (now.tv_nsec - last->tv_nsec) / 1000000
	    >= wd_ms) {
		sd_notify(0, "WATCHDOG=1");
		*last = now;
	}
	return wait_ms < 0 || wait_ms > wd_ms ? wd_ms : wait_ms;
}

/* Until SIGTERM/SIGINT; stdin at EOF just stops being read. */
static void run(edge_agent *a, edge_barrier *bar, edge_gate *gate, edge_reads *reads,
    int sfd)
{
	input in = { .len = 0 };
	struct pollfd p[5];
	char line[EDGE_READ_MAX + 1];
	edge_gate_cmd cmd;
	struct timespec kicked = { 0, 0 };
	int wait_ms, wd_ms = watchdog_ms();

	for (;;) {
		wait_ms = watchdog_kick(wd_ms, &kicked, edge_agent_tick(a));
		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = in.eof ? -1 : STDIN_FILENO, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = edge_barrier_sensor_fd(bar), .events = POLLIN };
		p[3] = (struct pollfd){ .fd = edge_gate_fd(gate), .events = POLLIN };
		p[4] = (struct pollfd){ .fd = edge_reads_fd(reads), .events = POLLIN };
		if (poll(p, 5, wait_ms) < 0 && errno != EINTR) {
			msg_warn("poll");
			return;
		}
		if (p[0].revents & POLLIN)
			return;
		if (p[1].revents & (POLLIN | POLLHUP))
			read_stdin(&in, a);
		if ((p[2].revents & POLLIN) && edge_barrier_sensor_read(bar) > 0)
			edge_agent_passed(a);
		if (p[3].revents & POLLIN)
			while (edge_gate_next(gate, &cmd))
				edge_agent_command(a, &cmd);
		if (p[4].revents & POLLIN)
			while (edge_reads_next(reads, line))
				edge_agent_line(a, line);
	}
}

/* What the queue's open mended, said once at start. */
static void queue_report(const edge_conf *cf, const edge_queue_report *r)
{
	if (r->skipped > 0)
		msg_warnx("queue: %s/queue.log: skipped %zu unreadable record%s "
		    "(%" PRIu64 " bytes failing their checksum); every readable "
		    "record after %s is kept", cf->queue_dir, r->skipped,
		    r->skipped == 1 ? "" : "s", r->skipped_bytes,
		    r->skipped == 1 ? "it" : "them");
	if (r->cut > 0)
		msg_warnx("queue: dropped a torn record of %zu bytes at the end (a "
		    "crash while queueing it)", r->cut);
	if (r->pos_rebuilt)
		msg_warnx("queue: %s/queue.pos unreadable or not at a record: "
		    "rebuilt from queue.log at offset %" PRIu64 " (records from "
		    "there are resent; the central drops those it already has by "
		    "their Idempotency-Key)", cf->queue_dir, r->pos);
}

static int start(const edge_conf *cf, edge_barrier **bar, edge_queue **q)
{
	edge_queue_report rep;
	char err[512];
	int rc;

	if (edge_barrier_open(&cf->barrier, bar, err, sizeof err) != 0)
		return msg_warnx("%s", err), -1;
	if ((rc = edge_queue_open(cf->queue_dir, q, &rep)) != 0)
		return msg_warnx("queue_dir: %s: %s", cf->queue_dir, strerror(rc)), -1;
	queue_report(cf, &rep);
	if (edge_queue_pending(*q) > 0)
		msg_info("queue: %zu actions wait for the central",
		    edge_queue_pending(*q));
	return 0;
}

int main(int argc, char **argv)
{
	const char *file = NULL;
	int check = 0, level = MSG_INFO, sfd = -1, rc = 1;
	edge_barrier *bar = NULL;
	edge_queue *q = NULL;
	edge_gate *gate = NULL;
	edge_reads *reads = NULL;
	edge_conf cf;
	edge_agent a;
	sigset_t set;
	char err[600];

	parse_args(argc, argv, &file, &check, &level);
	msg_init("parklog-edge", level);
	if (edge_conf_load(&cf, file, err, sizeof err) != 0) {
		fprintf(stderr, "parklog-edge: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", file);
		return 0;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		msg_warn("signalfd");
		goto out;
	}
	if (start(&cf, &bar, &q) != 0)
		goto out;
	msg_info("%s: central %s:%s%s, barrier %s", cf.id, cf.central[0].host,
	    cf.central[0].port, cf.ncentral > 1 ? " (+ failover)" : "", cf.barrier.driver);
	edge_agent_init(&a, &cf, bar, q, stdout);
	if (edge_gate_start(&cf, &gate) != 0)
		goto out;
	a.gate = gate;
	if (cf.reads_port != 0 &&
	    edge_reads_start(cf.reads_host, cf.reads_port, &reads, err, sizeof err) != 0) {
		msg_warnx("%s", err);
		goto out;
	}
	/* Under systemd (Type=notify): started, barrier and queue open. */
	sd_notifyf(0, "READY=1\nSTATUS=%s: central %s:%s", cf.id, cf.central[0].host,
	    cf.central[0].port);
	run(&a, bar, gate, reads, sfd);
	sd_notify(0, "STOPPING=1");
	msg_info("stopping: barrier closed and released");
	rc = 0;
out:
	edge_reads_stop(reads);
	edge_gate_stop(gate);
	edge_barrier_release(bar);	/* safe state: closed */
	edge_queue_close(q);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
