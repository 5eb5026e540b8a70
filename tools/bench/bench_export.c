/* bench_export — the export to NATS JetStream (docs/export.md):
 *
 *	bench_export URLS [EVENTS [RUNS [SECONDS [WINDOW]]]]
 *
 * A. throughput: a log of EVENTS own events (written first, durability
 *    none), exported from position 0 into a fresh stream (R3 with three
 *    URLs) by the real exporter; events/s from its start to the last ack.
 * B. lag: a writer appends single-event jobs as fast as it can with full
 *    durability (group commit, 1024 jobs in flight) for SECONDS while the
 *    exporter follows via on_commit; the lag is sampled every 50 ms.
 * Medians of RUNS. Not a test: the figures depend on the machine's load. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export/export.h"
#include "log/store.h"
#include "log/writer.h"
#include "tools/bench/bench_util.h"

#define T0 1764000000000LL

static void make_event(long k, log_event *e)
{
	memset(e, 0, sizeof *e);
	e->type = LOG_EV_ENTRY_PENDING;
	snprintf(e->plate, sizeof e->plate, "B%08ld", k);
	snprintf(e->plate_view, sizeof e->plate_view, "B%08ld", k);
	snprintf(e->vehicle, sizeof e->vehicle, "car");
	snprintf(e->edge_id, sizeof e->edge_id, "edge-1");
	e->confidence_milli = 950;
	e->entry_ts = e->duration_s = -1;
}

static int fill(log_store *s, long n)
{
	log_event ev;
	log_txn *t;
	int rc = 0;

	for (long k = 0; k < n && rc == 0; k += 1000) {
		if ((rc = log_txn_begin(s, 1, &t)) != 0)
			return rc;
		for (long i = k; i < k + 1000 && i < n && rc == 0; i++) {
			make_event(i, &ev);
			if ((rc = log_txn_next_ts(t, ev.plate, T0 + i, &ev.ts)) == 0)
				rc = log_txn_append_own(t, &ev);
		}
		rc = rc ? (log_txn_abort(t), rc) : log_txn_commit(t);
	}
	return rc;
}

static unsigned window;

static void opts_for(export_opts *o, const char *urls, const char *fac)
{
	char buf[2048], *save = NULL;

	memset(o, 0, sizeof *o);
	snprintf(buf, sizeof buf, "%s", urls);
	for (char *u = strtok_r(buf, ",", &save); u && o->nservers < EXPORT_MAX_SERVERS;
	    u = strtok_r(NULL, ",", &save))
		snprintf(o->servers[o->nservers++], EXPORT_URL_MAX + 1, "%s", u);
	snprintf(o->facility, sizeof o->facility, "%s", fac);
	o->dedup_window_s = 120;
	o->window = window;
}

/* A: events/s, or -1. */
static double run_throughput(const char *urls, long n, int run)
{
	char dir[] = "/tmp/bench_export.XXXXXX", fac[32];
	log_store_opts so = { .origin = "bench-1", .durability = LOG_DURABLE_NONE };
	log_store *s = NULL;
	exporter *e = NULL;
	export_opts o;
	export_stat st;
	double t0, r = -1;

	if (mkdtemp(dir) == NULL || log_store_open(dir, &so, &s) != 0 || fill(s, n) != 0)
		goto out;
	snprintf(fac, sizeof fac, "tp%d-%ld", run, (long)time(NULL) % 100000);
	opts_for(&o, urls, fac);
	t0 = bench_now_s();
	if (export_start(s, dir, &o, &e) != 0)
		goto out;
	do {
		usleep(2000);
		export_get_stat(e, &st);
	} while (st.exported < (uint64_t)n && bench_now_s() - t0 < 120);
	if (st.exported >= (uint64_t)n)
		r = (double)n / (bench_now_s() - t0);
out:
	export_stop(e);
	if (s != NULL)
		log_store_close(s);
	bench_rmtree(dir);
	return r;
}

typedef struct bjob {
	log_job j;
	long k;
} bjob;
static atomic_long done_jobs;

static int bjob_run(log_job *j, log_txn *t)
{
	log_event ev;
	int rc;

	make_event(((bjob *)j)->k, &ev);
	if ((rc = log_txn_next_ts(t, ev.plate, T0 + ((bjob *)j)->k, &ev.ts)) != 0)
		return rc;
	return log_txn_append_own(t, &ev);
}

static void bjob_done(log_job *j, int rc)
{
	(void)rc;
	free(j);
	atomic_fetch_add(&done_jobs, 1);
}

static void on_commit(void *ctx, const log_commit_info *ci)
{
	export_on_commit(ctx, ci);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* B: appends/s; *lag_med, *lag_max (events), *catchup (s after the end). */
static double run_lag(const char *urls, double secs, int run, double *lag_med,
    double *lag_max, double *catchup)
{
	char dir[] = "/tmp/bench_export.XXXXXX", fac[32];
	log_store_opts so = { .origin = "bench-1", .durability = LOG_DURABLE_FULL };
	log_store *s = NULL;
	log_writer *w = NULL;
	exporter *e = NULL;
	export_opts o;
	export_stat st;
	uint64_t samples[4096];
	size_t ns = 0;
	long k = 0;
	double t0, ts = 0, r = -1;

	atomic_store(&done_jobs, 0);
	if (mkdtemp(dir) == NULL || log_store_open(dir, &so, &s) != 0)
		goto out;
	snprintf(fac, sizeof fac, "lag%d-%ld", run, (long)time(NULL) % 100000);
	opts_for(&o, urls, fac);
	if (export_start(s, dir, &o, &e) != 0)
		goto out;
	log_writer_opts wo = { .on_commit = on_commit, .ctx = e };
	if (log_writer_start(s, &wo, &w) != 0)
		goto out;
	t0 = bench_now_s();
	while (bench_now_s() - t0 < secs) {
		bjob *j;

		if (k - atomic_load(&done_jobs) >= 1024 || (j = calloc(1, sizeof *j)) == NULL) {
			usleep(100);
		} else {
			j->j.run = bjob_run;
			j->j.done = bjob_done;
			j->k = k++;
			if (log_writer_submit(w, &j->j) != 0)
				free(j);
		}
		if (bench_now_s() - t0 >= ts && ns < 4096) {
			export_get_stat(e, &st);
			samples[ns++] = st.lag;
			ts += 0.05;
		}
	}
	while (atomic_load(&done_jobs) < k)
		usleep(100);
	r = (double)k / (bench_now_s() - t0);
	t0 = bench_now_s();
	do {
		usleep(1000);
		export_get_stat(e, &st);
	} while (st.exported < (uint64_t)k && bench_now_s() - t0 < 60);
	*catchup = bench_now_s() - t0;
	qsort(samples, ns, sizeof *samples, cmp_u64);
	*lag_med = ns ? (double)samples[ns / 2] : 0;
	*lag_max = ns ? (double)samples[ns - 1] : 0;
out:
	if (w != NULL)
		log_writer_stop(w);
	export_stop(e);
	if (s != NULL)
		log_store_close(s);
	bench_rmtree(dir);
	return r;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 200000;
	int runs = argc > 3 ? atoi(argv[3]) : 3;
	double secs = argc > 4 ? atof(argv[4]) : 5, tp[16], ap[16], lm[16], lx[16], cu[16];

	window = argc > 5 ? (unsigned)atoi(argv[5]) : 0;
	if (argc < 2 || n <= 0 || runs <= 0 || runs > 16) {
		fprintf(stderr, "usage: bench_export URLS [EVENTS [RUNS [SECONDS [WINDOW]]]]\n");
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		tp[i] = run_throughput(argv[1], n, i);
		ap[i] = run_lag(argv[1], secs, i, &lm[i], &lx[i], &cu[i]);
		printf("run %d: export %.0f events/s; appends %.0f/s (durable), lag "
		    "median %.0f max %.0f events, caught up %.3f s after\n", i + 1,
		    tp[i], ap[i], lm[i], lx[i], cu[i]);
		fflush(stdout);
	}
	printf("median: export %.0f events/s; durable appends %.0f/s, lag median %.0f, "
	    "max %.0f, catch-up %.3f s\n", bench_median(tp, runs), bench_median(ap, runs),
	    bench_median(lm, runs), bench_median(lx, runs), bench_median(cu, runs));
	return 0;
}
