/* bench_replay — replaying the log into projections, against a plain scan.
 *
 * Writes N events (default 1,000,000) over P plates (default 100,000) into a
 * scratch log: each plate enters, is confirmed and exits, at three centrals,
 * in rounds. Then, R times each (default 5), measures
 *   scan:   a cursor over every stored event (hash verified, nothing decoded)
 *   replay: proj_replay — decode, group by plate, sort, fold, summarise
 * and prints the medians in events/s and replay/scan.
 *
 *   bench_replay [-n EVENTS] [-p PLATES] [-r RUNS] [-d DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/store.h"
#include "projections/proj.h"
#include "tools/bench/bench_util.h"

/* Event k of the synthetic day: plate k/3 % plates, type by k % 3. */
static void make_event(long k, long plates, log_event *e, char sess[][LOG_ID_MAX + 1])
{
	long p = (k / 3) % plates;

	memset(e, 0, sizeof *e);
	e->type = (enum log_ev_type)(k % 3 + 1);
	snprintf(e->plate, sizeof e->plate, "%02ldA%06ld", p % 100, p % 1000000);
	snprintf(e->plate_view, sizeof e->plate_view, "%02ldA-%03ld.%03ld", p % 100,
	    p / 1000, p % 1000);
	snprintf(e->vehicle, sizeof e->vehicle, "%s", p % 4 ? "car" : "moto");
	snprintf(e->edge_id, sizeof e->edge_id, "edge-%ld", k % 8 + 1);
	e->confidence_milli = 900 + (int)(k % 100);
	e->entry_ts = e->duration_s = -1;
	if (e->type != LOG_EV_ENTRY_PENDING)
		memcpy(e->session, sess[p], sizeof e->session);
	if (e->type == LOG_EV_EXIT) {
		e->fee = 25000;
		snprintf(e->tariff, sizeof e->tariff, "default");
	}
}

static int fill(const char *dir, long n, long plates)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_NONE,
	    .extra_dbs = PROJ_DBS };
	char (*sess)[LOG_ID_MAX + 1] = calloc((size_t)plates, sizeof *sess);
	int64_t wall = 1764547200000LL;
	log_store *s;
	log_txn *t = NULL;
	log_event e;
	int rc;

	if (sess == NULL || (rc = log_store_open(dir, &o, &s)) != 0)
		return -1;
	for (long k = 0; k < n && rc == 0; k++) {
		if (t == NULL && (rc = log_txn_begin(s, 1, &t)) != 0)
			break;
		make_event(k, plates, &e, sess);
		wall += 37;
		if ((rc = log_txn_next_ts(t, e.plate, wall, &e.ts)) != 0 ||
		    (rc = log_txn_append_own(t, &e)) != 0)
			break;
		if (e.type == LOG_EV_ENTRY_PENDING)
			memcpy(sess[(k / 3) % plates], e.id, sizeof e.id);
		if (k % 10000 == 9999 || k == n - 1) {
			rc = log_txn_commit(t);
			t = NULL;
		}
	}
	if (t)
		log_txn_abort(t);
	log_store_close(s);
	free(sess);
	if (rc)
		fprintf(stderr, "bench_replay: fill: %s\n", log_strerror(rc));
	return rc ? -1 : 0;
}

static int scan(log_store *s, long *count)
{
	log_iter *it;
	log_txn *t;
	log_rec r;
	uint64_t sink = 0;
	int rc;

	*count = 0;
	if ((rc = log_txn_begin(s, 0, &t)) != 0)
		return rc;
	if ((rc = log_iter_all(t, &it)) == 0) {
		while ((rc = log_iter_next(it, &r)) == 0) {
			sink += r.len;	/* touch the record like a reader would */
			(*count)++;
		}
		log_iter_free(it);
	}
	log_txn_abort(t);
	if (sink == 0 && *count > 0)
		return -1;
	return rc == LOG_END ? 0 : rc;
}

int main(int argc, char **argv)
{
	long n = 1000000, plates = 100000, count = 0;
	int runs = 5, ch, rc = 1, own_dir = 0;
	char tmpl[] = "/tmp/bench_replay-XXXXXX", *dir = NULL;
	log_store_opts o = { .readonly = 1, .extra_dbs = PROJ_DBS };
	double *ts, *tr, t0;
	proj_summary sum;
	proj_tariff tariff;
	log_store *s = NULL;
	log_txn *t;

	while ((ch = getopt(argc, argv, "n:p:r:d:")) != -1) {
		switch (ch) {
		case 'n': n = atol(optarg); break;
		case 'p': plates = atol(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_replay [-n EVENTS] [-p PLATES] [-r RUNS] [-d DIR]\n");
			return 2;
		}
	}
	if (n <= 0 || plates <= 0 || runs <= 0)
		return 2;
	if (dir == NULL) {
		if ((dir = mkdtemp(tmpl)) == NULL)
			return 2;
		own_dir = 1;
	}
	ts = calloc((size_t)runs, sizeof *ts);
	tr = calloc((size_t)runs, sizeof *tr);
	printf("bench_replay: %ld events over %ld plates in %s\n", n, plates, dir);
	t0 = bench_now_s();
	if (fill(dir, n, plates) != 0)
		goto out;
	printf("  written in %.1f s\n", bench_now_s() - t0);
	if (log_store_open(dir, &o, &s) != 0)
		goto out;
	proj_tariff_default(&tariff);
	for (int i = 0; i < runs; i++) {
		t0 = bench_now_s();
		if (scan(s, &count) != 0 || count != n)
			goto out;
		ts[i] = count / (bench_now_s() - t0);
		t0 = bench_now_s();
		if (log_txn_begin(s, 0, &t) != 0)
			goto out;
		rc = proj_replay(t, &tariff, &sum);
		log_txn_abort(t);
		if (rc != 0)
			goto out;
		rc = 1;	/* any later goto out is a failure too */
		tr[i] = n / (bench_now_s() - t0);
		printf("  run %d: scan %.0f events/s, replay %.0f events/s (%llu sessions)\n",
		    i + 1, ts[i], tr[i], (unsigned long long)sum.sessions);
	}
	double ms = bench_median(ts, runs), mr = bench_median(tr, runs);
	printf("median of %d: scan %.0f events/s, replay %.0f events/s, "
	    "replay/scan %.2f\n", runs, ms, mr, mr / ms);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_replay: failed\n");
	log_store_close(s);
	if (own_dir)
		bench_rmtree(dir);
	free(ts);
	free(tr);
	return rc;
}
