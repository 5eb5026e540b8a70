/* parklog dump — events as NDJSON (the stored bytes, one per line) or CSV,
 * in stream order or in time (fold) order, with filters. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_dump_opts {
	int csv, time_order;
	const char *origin, *plate;
	enum log_ev_type type;
	int64_t since, until;		/* [since, until), 0 = open */
} cli_dump_opts;

typedef struct cli_dump_ctx {
	const cli_dump_opts *o;
	log_stream_info *streams;
	size_t nstreams;
	unsigned long long printed;
} cli_dump_ctx;

static const char cli_dump_help[] =
    "usage: parklog dump DIR [--format ndjson|csv] [--order stream|time]\n"
    "                        [--origin ID] [--type TYPE] [--plate PLATE]\n"
    "                        [--since TIME] [--until TIME]\n\n"
    "Prints every event of the log in DIR. NDJSON lines are the stored\n"
    "canonical bytes, exactly as hashed. --order stream (default) lists each\n"
    "stream in seq order; --order time merges them by record time (ts, origin,\n"
    "stream, seq). TIME: ms since the epoch or ISO 8601 (2026-11-23,\n"
    "2026-11-23T10:00:00+07:00); --since is inclusive, --until exclusive.\n";

static const log_stream_info *cli_dump_stream(const cli_dump_ctx *c, uint32_t no)
{
	for (size_t i = 0; i < c->nstreams; i++)
		if (c->streams[i].no == no)
			return &c->streams[i];
	return NULL;
}

static void cli_csv_field(const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* What an operator event changed, in words (CSV "change" column). */
static void cli_dump_change(const log_event *e)
{
	char buf[LOG_OP_JSON_MAX + 128];
	const log_op *o = &e->op;

	switch (e->type) {
	case LOG_EV_PLATE_CORRECTED:
		snprintf(buf, sizeof buf, "event %s: %s -> %s", o->target,
		    o->from_plate, o->plate);
		break;
	case LOG_EV_SESSION_VOIDED:
		snprintf(buf, sizeof buf, "voided session %s of %s", e->session,
		    o->plate);
		break;
	case LOG_EV_PASS_ISSUED:
		snprintf(buf, sizeof buf, "pass %s (%s) of %s [%lld, %lld)", o->pass,
		    o->kind, o->plate, (long long)o->valid_from, (long long)o->valid_to);
		break;
	case LOG_EV_PASS_REVOKED:
		snprintf(buf, sizeof buf, "revoked pass %s of %s", o->pass, o->plate);
		break;
	case LOG_EV_TARIFF_SET:
		snprintf(buf, sizeof buf, "tariff %s from %lld: %s", e->tariff,
		    (long long)o->effective_from, o->value);
		break;
	default:
		snprintf(buf, sizeof buf, "%s = %s", o->section, o->value);
		break;
	}
	cli_csv_field(buf);
}

static void cli_dump_csv(const log_event *e)
{
	char when[40];

	cli_format_time(e->ts, when, sizeof when);
	printf("%s,%s,%s,%s:%016llx,%llu,%lld,%s,%s,", e->id, log_ev_type_name(e->type),
	    e->origin, e->origin, (unsigned long long)e->epoch,
	    (unsigned long long)e->seq, (long long)e->ts, when, e->plate);
	cli_csv_field(e->plate_view);
	printf(",%s,%s,%d.%03d,%s,", e->vehicle, e->edge_id, e->confidence_milli / 1000,
	    e->confidence_milli % 1000, e->session);
	if (e->type == LOG_EV_EXIT) {
		if (e->entry_ts >= 0)
			printf("%lld", (long long)e->entry_ts);
		putchar(',');
		if (e->duration_s >= 0)
			printf("%lld", (long long)e->duration_s);
		printf(",%lld,%s,,,\n", (long long)e->fee, e->tariff);
	} else if (log_ev_is_op(e->type)) {
		printf(",,,%s,%s,", e->type == LOG_EV_TARIFF_SET ? e->tariff : "",
		    e->op.op);
		cli_csv_field(e->op.reason);
		putchar(',');
		cli_dump_change(e);
		putchar('\n');
	} else {
		printf(",,,,,,\n");
	}
}

/* Print one record if it passes the filters. 0, or LOG_ECORRUPT. */
static int cli_dump_rec(cli_dump_ctx *c, const log_rec *r)
{
	const cli_dump_opts *o = c->o;
	const log_stream_info *si;
	char err[160];
	log_event e;

	if ((o->type && r->type != o->type) || (o->since && r->ts < o->since) ||
	    (o->until && r->ts >= o->until))
		return 0;
	if (o->origin && ((si = cli_dump_stream(c, r->stream_no)) == NULL ||
	    strcmp(si->origin, o->origin) != 0))
		return 0;
	if (!o->csv && !o->plate) {
		fwrite(r->bytes, 1, r->len, stdout);
		putchar('\n');
		c->printed++;
		return 0;
	}
	if (log_event_decode(r->bytes, r->len, &e, err, sizeof err) != 0) {
		fprintf(stderr, "parklog: stream %u seq %llu: %s\n", r->stream_no,
		    (unsigned long long)r->seq, err);
		return LOG_ECORRUPT;
	}
	if (o->plate && strcmp(e.plate, o->plate) != 0)
		return 0;
	if (o->csv)
		cli_dump_csv(&e);
	else {
		fwrite(r->bytes, 1, r->len, stdout);
		putchar('\n');
	}
	c->printed++;
	return 0;
}

static int cli_dump_iter(cli_dump_ctx *c, log_iter *it)
{
	log_rec r;
	int rc;

	while ((rc = log_iter_next(it, &r)) == 0)
		if ((rc = cli_dump_rec(c, &r)) != 0)
			break;
	return rc == LOG_END ? 0 : rc;
}

/* Is a before b by record time (ts, origin, epoch, seq)? (A plate's fold
 * order is by action time; this dump is by when events were recorded.) */
static int cli_dump_before(const cli_dump_ctx *c, const log_rec *a, const log_rec *b)
{
	const log_stream_info *sa, *sb;
	int o;

	if (a->ts != b->ts)
		return a->ts < b->ts;
	sa = cli_dump_stream(c, a->stream_no);
	sb = cli_dump_stream(c, b->stream_no);
	if ((o = strcmp(sa->origin, sb->origin)) != 0)
		return o < 0;
	if (sa->epoch != sb->epoch)
		return sa->epoch < sb->epoch;
	return a->seq < b->seq;
}

/* Merge the streams (each already in ts order: the hybrid clock) by time. */
static int cli_dump_merged(cli_dump_ctx *c, log_txn *t)
{
	size_t n = c->nstreams, i, best;
	log_iter **its = calloc(n ? n : 1, sizeof *its);
	log_rec *cur = calloc(n ? n : 1, sizeof *cur);
	int *live = calloc(n ? n : 1, sizeof *live), rc = 0;

	if (its == NULL || cur == NULL || live == NULL) {
		rc = ENOMEM;
		goto err;
	}
	for (i = 0; i < n && rc == 0; i++)
		if ((rc = log_iter_range(t, c->streams[i].no, 1, 0, &its[i])) == 0)
			live[i] = (rc = log_iter_next(its[i], &cur[i])) == 0;
	for (rc = rc == LOG_END ? 0 : rc; rc == 0;) {
		for (best = n, i = 0; i < n; i++)
			if (live[i] && (best == n || cli_dump_before(c, &cur[i], &cur[best])))
				best = i;
		if (best == n)
			break;
		if ((rc = cli_dump_rec(c, &cur[best])) != 0)
			break;
		rc = log_iter_next(its[best], &cur[best]);
		live[best] = rc == 0;
		rc = rc == LOG_END ? 0 : rc;
	}
err:
	for (i = 0; its && i < n; i++)
		log_iter_free(its[i]);
	free(its);
	free(cur);
	free(live);
	return rc;
}

static int cli_dump_args(int argc, char **argv, cli_dump_opts *o)
{
	static const struct option lo[] = {
		{ "format", required_argument, 0, 'f' }, { "order", required_argument, 0, 'o' },
		{ "origin", required_argument, 0, 'O' }, { "type", required_argument, 0, 't' },
		{ "plate", required_argument, 0, 'p' }, { "since", required_argument, 0, 's' },
		{ "until", required_argument, 0, 'u' }, { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	static char plate[LOG_PLATE_MAX + 1];
	char err[128];
	int ch, li = 0;

	memset(o, 0, sizeof *o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, &li)) != -1) {
		switch (ch) {
		case 'f':
			o->csv = strcmp(optarg, "csv") == 0;
			if (!o->csv && strcmp(optarg, "ndjson") != 0)
				goto bad;
			break;
		case 'o':
			o->time_order = strcmp(optarg, "time") == 0;
			if (!o->time_order && strcmp(optarg, "stream") != 0)
				goto bad;
			break;
		case 'O': o->origin = optarg; break;
		case 't': if ((o->type = log_ev_type_parse(optarg)) == LOG_EV_NONE) goto bad;
			break;
		case 'p': if (log_plate_normalise(optarg, plate, err, sizeof err) != 0) goto bad;
			o->plate = plate; break;
		case 's': if (cli_parse_time(optarg, &o->since) != 0) goto bad; break;
		case 'u': if (cli_parse_time(optarg, &o->until) != 0) goto bad; break;
		case 'h': fputs(cli_dump_help, stdout); return -1;
		default: fputs(cli_dump_help, stderr); return CLI_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(cli_dump_help, stderr);
		return CLI_USAGE;
	}
	return 0;
bad:
	fprintf(stderr, "parklog dump: --%s: invalid value \"%s\"\n",
	    lo[li].name, optarg);
	return CLI_USAGE;
}

int cli_dump(int argc, char **argv)
{
	static char obuf[1 << 20];
	cli_dump_opts o;
	cli_dump_ctx c = { &o, NULL, 0, 0 };
	log_iter *it = NULL;
	log_txn *t = NULL;
	cli_data d;
	int rc;

	if ((rc = cli_dump_args(argc, argv, &o)) != 0)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open(argv[argc - 1], &d)) != CLI_OK)
		return rc;
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	if (o.csv)
		printf("id,type,origin,stream,seq,ts,time,plate_id,plate_view,vehicle,"
		    "edge_id,confidence,session,entry_ts,duration_s,fee,tariff,"
		    "operator,reason,change\n");
	if ((rc = log_txn_begin(d.store, 0, &t)) != 0 ||
	    (rc = log_txn_streams(t, &c.streams, &c.nstreams)) != 0)
		goto err;
	if (o.time_order && !o.plate)
		rc = cli_dump_merged(&c, t);
	else if ((rc = o.plate ? log_iter_plate(t, o.plate, &it)	/* fold order */
	    : log_iter_all(t, &it)) == 0)
		rc = cli_dump_iter(&c, it);
err:
	log_iter_free(it);
	free(c.streams);
	if (t)
		log_txn_abort(t);
	cli_close(&d);
	fflush(stdout);
	if (rc != 0) {
		fprintf(stderr, "parklog dump: %s\n", log_strerror(rc));
		return CLI_FINDING;
	}
	return CLI_OK;
}
