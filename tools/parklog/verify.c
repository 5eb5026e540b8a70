/* parklog verify — every hash, seq contiguity and prefix sums per stream,
 * the id and plate indexes, and that replaying the log reproduces the stored
 * projections. Exit 0 only if everything holds. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CLI_VERIFY_SHOW 20	/* problems printed per run; all are counted */

typedef struct cli_verify_state {
	log_txn *t;
	unsigned long long events, plates_events, problems;
} cli_verify_state;

static void cli_problem(cli_verify_state *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cli_problem(cli_verify_state *v, const char *fmt, ...)
{
	va_list ap;

	if (++v->problems > CLI_VERIFY_SHOW)
		return;
	va_start(ap, fmt);
	fputs("problem: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/* One record of stream `si` at the expected seq: shape, id index. */
static void cli_verify_rec(cli_verify_state *v, const log_stream_info *si, const log_rec *r)
{
	char err[160], name[LOG_STREAM_MAX + 1];
	log_event e;
	log_rec byid;
	int rc;

	if (log_event_decode(r->bytes, r->len, &e, err, sizeof err) != 0) {
		cli_problem(v, "%s seq %llu: event does not decode: %s", si->name,
		    (unsigned long long)r->seq, err);
		return;
	}
	log_stream_name(name, e.origin, e.epoch);
	if (strcmp(name, si->name) != 0 || e.seq != r->seq || e.ts != r->ts ||
	    e.type != r->type)
		cli_problem(v, "%s seq %llu: record header disagrees with its event %s",
		    si->name, (unsigned long long)r->seq, e.id);
	if ((rc = log_txn_get_id(v->t, e.id, &byid)) != 0)
		cli_problem(v, "%s: not found by id: %s", e.id, log_strerror(rc));
	else if (byid.stream_no != r->stream_no || byid.seq != r->seq)
		cli_problem(v, "%s: id index points to stream %u seq %llu", e.id,
		    byid.stream_no, (unsigned long long)byid.seq);
}

/* Walk a stream seq by seq: hashes (checked by every read), contiguity,
 * prefix sums, head. A bad record is reported and skipped. */
static void cli_verify_stream(cli_verify_state *v, const log_stream_info *si)
{
	uint64_t seq, P = 0;
	int known = 1, rc;	/* P known: false after a record we could not read */
	log_rec r;

	for (seq = 1; seq <= si->head_seq; seq++) {
		if ((rc = log_txn_get_pos(v->t, si->no, seq, &r)) != 0) {
			cli_problem(v, "%s seq %llu: %s", si->name,
			    (unsigned long long)seq, log_strerror(rc));
			known = 0;
			continue;
		}
		v->events++;
		if (known && r.P != P + r.h)
			cli_problem(v, "%s seq %llu: prefix sum %016llx, expected %016llx",
			    si->name, (unsigned long long)seq, (unsigned long long)r.P,
			    (unsigned long long)(P + r.h));
		P = r.P;
		known = 1;
		cli_verify_rec(v, si, &r);
	}
	if (known && P != si->head_P)
		cli_problem(v, "%s: head digest %016llx, records sum to %016llx", si->name,
		    (unsigned long long)si->head_P, (unsigned long long)P);
	if (log_txn_get_pos(v->t, si->no, si->head_seq + 1, &r) != LOG_NOTFOUND)
		cli_problem(v, "%s: records beyond the head seq %llu", si->name,
		    (unsigned long long)si->head_seq);
}

/* Every plate's index entries: in fold order, of that plate, and all of
 * them together exactly the events of the log. */
static void cli_verify_plates(cli_verify_state *v)
{
	char plate[LOG_PLATE_MAX + 1] = "", err[160];
	log_event prev, e;
	log_iter *it;
	log_rec r;
	int rc, n;

	while ((rc = log_txn_next_plate(v->t, plate, plate)) == 0) {
		if ((rc = log_iter_plate(v->t, plate, &it)) != 0)
			break;
		for (n = 0; (rc = log_iter_next(it, &r)) == 0; n++) {
			v->plates_events++;
			if (log_event_decode(r.bytes, r.len, &e, err, sizeof err) != 0)
				continue;	/* reported by the stream walk */
			if (strcmp(e.plate, plate) != 0)
				cli_problem(v, "plate index %s lists %s of plate %s", plate,
				    e.id, e.plate);
			if (n > 0 && proj_fold_cmp(&prev, &e) >= 0)
				cli_problem(v, "plate index %s: %s not after %s", plate,
				    e.id, prev.id);
			prev = e;
		}
		log_iter_free(it);
		if (rc != LOG_END)
			break;
	}
	if (rc != LOG_END)
		cli_problem(v, "plate index: %s", log_strerror(rc));
	if (v->plates_events != v->events)
		cli_problem(v, "plate index holds %llu events, the streams %llu",
		    v->plates_events, v->events);
}

int cli_verify(int argc, char **argv)
{
	cli_verify_state v = { 0 };
	log_stream_info *st = NULL;
	char err[256];
	size_t n = 0;
	cli_data d;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: parklog verify DIR\n\nChecks every event's hash, that "
		    "each stream's seqs are contiguous\nand its prefix sums and head "
		    "agree, the id and plate indexes, and\nthat replaying the log "
		    "reproduces the stored projections.\nExit 0 only if all holds.\n");
		return CLI_OK;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: parklog verify DIR\n");
		return CLI_USAGE;
	}
	if ((rc = cli_open(argv[1], &d)) != CLI_OK)
		return rc;
	if ((rc = log_txn_begin(d.store, 0, &v.t)) != 0 ||
	    (rc = log_txn_streams(v.t, &st, &n)) != 0) {
		fprintf(stderr, "parklog verify: %s\n", log_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		cli_verify_stream(&v, &st[i]);
	cli_verify_plates(&v);
	if ((rc = proj_check(d.proj, v.t, err, sizeof err)) != 0)
		cli_problem(&v, "projections: %s", err);
	printf("%s: %zu streams, %llu events, %llu problems%s\n", argv[1], n, v.events,
	    v.problems, v.problems > CLI_VERIFY_SHOW ? " (first ones shown)" : "");
	rc = 0;
out:
	free(st);
	if (v.t)
		log_txn_abort(v.t);
	cli_close(&d);
	return rc != 0 ? CLI_USAGE : v.problems ? CLI_FINDING : CLI_OK;
}
