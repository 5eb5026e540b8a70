/* parklog stats | replay | sessions — what the log and its projections say. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void cli_summary_json(const proj_summary *s)
{
	printf("\"sessions\":%llu,\"open\":%llu,\"closed\":%llu,\"conflicts\":%llu,"
	    "\"inside\":%llu,\"inside_by_class\":{", (unsigned long long)s->sessions,
	    (unsigned long long)s->open, (unsigned long long)s->closed,
	    (unsigned long long)s->conflicts, (unsigned long long)s->inside);
	for (size_t i = 0; i < s->nclasses; i++)
		printf("%s\"%s\":%llu", i ? "," : "", s->classes[i].vehicle,
		    (unsigned long long)s->classes[i].inside);
	printf("},\"revenue\":%lld,\"state_digest\":\"%016llx\"", (long long)s->revenue,
	    (unsigned long long)s->digest);
}

/* One-argument commands: "--help" prints help, else exactly DIR. */
static int cli_one_dir(int argc, char **argv, const char *help)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(help, stdout);
		return -1;
	}
	if (argc != 2) {
		fputs(help, stderr);
		return CLI_USAGE;
	}
	return 0;
}

int cli_replay(int argc, char **argv)
{
	static const char help[] = "usage: parklog replay DIR\n\n"
	    "Folds every event of the log again, in memory, with the tariff the\n"
	    "stored projections were made with; prints a JSON summary and exits\n"
	    "1 if the stored projections differ from the replay.\n";
	proj_summary s;
	struct timespec t0, t1;
	char err[256] = "";
	log_txn *t = NULL;
	cli_data d;
	int rc, diff;

	if ((rc = cli_one_dir(argc, argv, help)) != 0)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open(argv[1], &d)) != CLI_OK)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = log_txn_begin(d.store, 0, &t)) != 0 ||
	    (rc = proj_replay(t, proj_get_tariff(d.proj), &s)) != 0) {
		fprintf(stderr, "parklog replay: %s\n", proj_strerror(rc));
		if (t)
			log_txn_abort(t);
		cli_close(&d);
		return CLI_USAGE;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	diff = proj_check(d.proj, t, err, sizeof err);
	printf("{");
	cli_summary_json(&s);
	printf(",\"seconds\":%.3f,\"matches_stored\":%s", (t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9, diff ? "false" : "true");
	if (diff)
		printf(",\"difference\":\"%s\"", err);
	printf("}\n");
	log_txn_abort(t);
	cli_close(&d);
	return diff ? CLI_FINDING : CLI_OK;
}

int cli_stats(int argc, char **argv)
{
	static const char help[] = "usage: parklog stats DIR\n\n"
	    "Streams with their heads (the version vector), event and plate\n"
	    "counts, map use, and the projections' summary, as JSON.\n";
	log_stream_info *st = NULL;
	log_store_stat ls;
	proj_summary ps;
	log_txn *t = NULL;
	size_t n = 0;
	cli_data d;
	int rc, prc;

	if ((rc = cli_one_dir(argc, argv, help)) != 0)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open(argv[1], &d)) != CLI_OK)
		return rc;
	if ((rc = log_txn_begin(d.store, 0, &t)) != 0 ||
	    (rc = log_txn_stat(t, &ls)) != 0 ||
	    (rc = log_txn_streams(t, &st, &n)) != 0 ||
	    ((prc = proj_summary_get(d.proj, t, &ps)) != 0 && prc != PROJ_ESTALE &&
	    (rc = prc) != 0)) {
		fprintf(stderr, "parklog stats: %s\n", proj_strerror(rc));
		goto out;
	}
	printf("{\"events\":%llu,\"plates\":%llu,\"map_used\":%llu,\"map_size\":%llu,"
	    "\"streams\":[", (unsigned long long)ls.events, (unsigned long long)ls.plates,
	    (unsigned long long)ls.map_used, (unsigned long long)ls.map_size);
	for (size_t i = 0; i < n; i++)
		printf("%s{\"stream\":\"%s\",\"head_seq\":%llu,\"head_digest\":\"%016llx\","
		    "\"own\":%s}", i ? "," : "", st[i].name,
		    (unsigned long long)st[i].head_seq, (unsigned long long)st[i].head_P,
		    st[i].own ? "true" : "false");
	if (prc == PROJ_ESTALE) {	/* a log without (current) projections */
		printf("],\"projections\":null}\n");
	} else {
		printf("],\"projections\":{");
		cli_summary_json(&ps);
		printf("}}\n");
	}
out:
	free(st);
	if (t)
		log_txn_abort(t);
	cli_close(&d);
	return rc ? CLI_USAGE : CLI_OK;
}

typedef struct cli_sess_ctx {
	long limit;
	long shown;
} cli_sess_ctx;

static int cli_sess_print(void *ctx, const proj_session *s)
{
	cli_sess_ctx *c = ctx;
	char buf[PROJ_SESSION_JSON_MAX];
	int n = proj_session_json(s, buf, sizeof buf);

	if (n > 0)
		printf("%.*s\n", n, buf);
	return ++c->shown >= c->limit ? 1 : 0;
}

static const char cli_sess_help[] =
    "usage: parklog sessions DIR [--plate PLATE | --inside | --conflicts]\n"
    "                            [--limit N]\n\n"
    "Prints parking sessions as NDJSON, offline: a plate's history (oldest\n"
    "first), the vehicles inside now, the conflicts (double entries, fee\n"
    "differences, exits without entry), or by default the most recent\n"
    "sessions (newest first, --limit, default 100).\n";

int cli_sessions(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "plate", required_argument, 0, 'p' }, { "inside", no_argument, 0, 'i' },
		{ "conflicts", no_argument, 0, 'c' }, { "limit", required_argument, 0, 'l' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	char plate[LOG_PLATE_MAX + 1] = "", err[128];
	cli_sess_ctx c = { 100, 0 };
	int ch, mode = 0, rc;
	log_txn *t = NULL;
	cli_data d;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'h') {
			fputs(cli_sess_help, stdout);
			return CLI_OK;
		}
		if (ch == 'p' && log_plate_normalise(optarg, plate, err, sizeof err) != 0) {
			fprintf(stderr, "parklog sessions: --plate: %s\n", err);
			return CLI_USAGE;
		}
		if (ch == 'l' && (c.limit = atol(optarg)) <= 0)
			ch = '?';
		if (ch == '?') {
			fputs(cli_sess_help, stderr);
			return CLI_USAGE;
		}
		if (ch != 'l')
			mode = ch;
	}
	if (optind != argc - 1) {
		fputs(cli_sess_help, stderr);
		return CLI_USAGE;
	}
	if (mode != 0 && c.limit == 100)
		c.limit = 1L << 62;	/* whole lists unless asked otherwise */
	if ((rc = cli_open(argv[optind], &d)) != CLI_OK)
		return rc;
	if ((rc = log_txn_begin(d.store, 0, &t)) == 0) {
		if (mode == 'p')
			rc = proj_each_plate(d.proj, t, plate, cli_sess_print, &c);
		else if (mode == 'i')
			rc = proj_each_inside(d.proj, t, cli_sess_print, &c);
		else if (mode == 'c')
			rc = proj_each_conflict(d.proj, t, cli_sess_print, &c);
		else
			rc = proj_each_recent(d.proj, t, 0, 0, cli_sess_print, &c);
		log_txn_abort(t);
	}
	cli_close(&d);
	if (rc != 0) {
		fprintf(stderr, "parklog sessions: %s\n", proj_strerror(rc));
		return CLI_USAGE;
	}
	return CLI_OK;
}
