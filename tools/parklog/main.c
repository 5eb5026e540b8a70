/* parklog — the auditor's tool: dump, verify, replay, stats, sessions, backup
 * over a parklog data directory, read-only, while a daemon writes it. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg/msg.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} cli_cmds[] = {
	{ "dump", cli_dump, "print events as NDJSON or CSV, with filters" },
	{ "verify", cli_verify, "check hashes, sequences, indexes and projections" },
	{ "replay", cli_replay, "rebuild the projections from the log alone and compare" },
	{ "stats", cli_stats, "streams, counts, sizes, projection summary" },
	{ "sessions", cli_sessions, "parking sessions: by plate, inside now, conflicts" },
	{ "backup", cli_backup, "hot, compacting copy of a data directory" },
	{ "hq", cli_hq, "head office: every facility's JetStream export, HTTP view" },
};
#define CLI_NCMDS (sizeof cli_cmds / sizeof cli_cmds[0])

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: parklog COMMAND DIR [options]   (parklog COMMAND --help)\n"
	    "       parklog --help | --version\n\n");
	for (size_t i = 0; i < CLI_NCMDS; i++)
		fprintf(f, "  %-9s %s\n", cli_cmds[i].name, cli_cmds[i].what);
}

int main(int argc, char **argv)
{
	msg_init("parklog", MSG_QUIET);
	if (argc < 2) {
		cli_usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("parklog %s\n", PARKLOG_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < CLI_NCMDS; i++)
		if (strcmp(argv[1], cli_cmds[i].name) == 0)
			return cli_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "parklog: unknown command \"%s\"\n", argv[1]);
	cli_usage(stderr);
	return CLI_USAGE;
}

int cli_open(const char *dir, cli_data *d)
{
	log_store_opts o = { .readonly = 1, .extra_dbs = PROJ_DBS + 4 };
	int rc;

	memset(d, 0, sizeof *d);
	if ((rc = log_store_open(dir, &o, &d->store)) != 0) {
		if (rc == LOG_ENOTPARKLOG || rc == ENOENT)
			fprintf(stderr, "parklog: %s: not a parklog data directory\n", dir);
		else
			fprintf(stderr, "parklog: %s: %s\n", dir, log_strerror(rc));
		return CLI_USAGE;
	}
	if ((rc = proj_open(d->store, NULL, &d->proj)) != 0) {
		fprintf(stderr, "parklog: %s: projections: %s\n", dir, proj_strerror(rc));
		log_store_close(d->store);
		d->store = NULL;
		return CLI_USAGE;
	}
	return CLI_OK;
}

void cli_close(cli_data *d)
{
	proj_close(d->proj);
	log_store_close(d->store);
	memset(d, 0, sizeof *d);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), no timezone needed. */
static int64_t cli_days(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int cli_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, n = 0;
	char sign = 0;
	const char *p;
	char *end;

	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		*ms = strtoll(s, &end, 10);
		return errno ? -1 : 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31)
		return -1;
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &n) != 3 || h > 23 ||
		    mi > 59 || se > 60)
			return -1;
		p += 1 + n;
	}
	if (*p == 'Z')
		p++;
	else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2) {
		sign = *p;
		p += 1 + n;
	}
	if (*p != '\0')
		return -1;
	*ms = ((cli_days(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL;
	if (sign)
		*ms -= (sign == '+' ? 1 : -1) * (oh * 60 + om) * 60000LL;
	return 0;
}

void cli_format_time(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	int frac = (int)(((ms % 1000) + 1000) % 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int cli_backup(int argc, char **argv)
{
	cli_data d;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: parklog backup DIR DEST\n\n"
		    "Hot, compacting copy of DIR into DEST (created; must not hold\n"
		    "a log). Safe while parklogd writes DIR. Restore by starting\n"
		    "parklogd on DEST: it writes a new stream and its peers send\n"
		    "back what the backup lacks.\n");
		return CLI_OK;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: parklog backup DIR DEST\n");
		return CLI_USAGE;
	}
	if ((rc = cli_open(argv[1], &d)) != CLI_OK)
		return rc;
	rc = log_store_backup(d.store, argv[2]);
	cli_close(&d);
	if (rc != 0) {
		fprintf(stderr, "parklog: backup to %s: %s\n", argv[2], log_strerror(rc));
		return CLI_USAGE;
	}
	printf("backup of %s written to %s\n", argv[1], argv[2]);
	return CLI_OK;
}
