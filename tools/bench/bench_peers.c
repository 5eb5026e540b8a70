/* bench_peers — replication between two centrals in one process, over
 * loopback WebSockets (each with its own store, projections, writer and
 * peer service).
 *
 *   catch-up: A holds N events (its own, entries and exits, written in jobs
 *             of 1000 through its writer: A's durable append rate), B starts
 *             empty; time until B's vector equals A's.
 *   live:     A appends one event per job at a fixed rate; latency from
 *             A's commit to B's commit of that event (B's projections are
 *             updated in the same transaction), p50/p99/max.
 *
 * Usage: bench_peers [-n events] [-r runs] [-l live_seconds] [-R rate/s]
 *                    [-d full|none] [-t tmpdir] [-x]
 * -x: without projections (the replication path and the log alone).
 * BENCH_VERBOSE=1 in the environment prints progress and peer messages.
 * Prints every run and the medians.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "tests/unit/peers/node.h"

#define BENCH_JOB_EVENTS 1000

static uint64_t bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- A's own appends, in jobs of up to 1000 events ------------------------ */

typedef struct bjob {
	log_job job;
	uint64_t first;		/* event number of the job's first event */
	unsigned n;		/* even, unless entries_only */
	int entries_only;
	atomic_int *inflight;
} bjob;

static int bjob_run(log_job *j, log_txn *t)
{
	bjob *b = j->arg;
	log_event e, entry;
	int rc = 0;

	memset(&entry, 0, sizeof entry);
	for (unsigned i = 0; i < b->n && rc == 0; i++) {
		uint64_t k = b->first + i, plate_no = k / 2;

		memset(&e, 0, sizeof e);
		e.type = k % 2 == 0 || b->entries_only ? LOG_EV_ENTRY_PENDING : LOG_EV_EXIT;
		snprintf(e.plate, sizeof e.plate, "P%08u", (unsigned)(plate_no % 100000000));
		memcpy(e.plate_view, e.plate, sizeof e.plate);
		snprintf(e.vehicle, sizeof e.vehicle, "car");
		snprintf(e.edge_id, sizeof e.edge_id, "edge-1");
		e.confidence_milli = 900;
		e.entry_ts = e.duration_s = -1;
		if (e.type == LOG_EV_EXIT) {
			memcpy(e.session, entry.id, sizeof e.session);
			e.fee = 25000;
			snprintf(e.tariff, sizeof e.tariff, "default");
		}
		if ((rc = log_txn_next_ts(t, e.plate, tnode_now_ms(), &e.ts)) == 0 &&
		    (rc = log_txn_append_own(t, &e)) == 0)
			entry = e;
	}
	return rc;
}

static void bjob_done(log_job *j, int rc)
{
	bjob *b = j->arg;

	if (rc != 0) {
		fprintf(stderr, "append failed: %s\n", log_strerror(rc));
		exit(1);
	}
	atomic_fetch_sub(b->inflight, 1);
	free(b);
}

/* Append n events with up to `depth` jobs in flight; returns events/s. */
static double bench_fill(tnode *a, uint64_t n, int depth)
{
	atomic_int inflight = 0;
	uint64_t t0 = bench_ns(), next = 0;

	while (next < n) {
		bjob *b;

		if (atomic_load(&inflight) >= depth) {
			usleep(100);
			continue;
		}
		if ((b = calloc(1, sizeof *b)) == NULL)
			abort();
		b->first = next;
		b->n = (unsigned)(n - next < BENCH_JOB_EVENTS ? n - next : BENCH_JOB_EVENTS);
		b->n += b->n % 2;	/* an entry and its exit in the same job */
		b->inflight = &inflight;
		b->job.run = bjob_run;
		b->job.done = bjob_done;
		b->job.arg = b;
		next += b->n;
		atomic_fetch_add(&inflight, 1);
		if (log_writer_submit(a->w, &b->job) != 0)
			abort();
	}
	while (atomic_load(&inflight) > 0)
		usleep(100);
	return (double)next / ((double)(bench_ns() - t0) / 1e9);
}

static uint64_t bench_head(tnode *n, const char *stream)
{
	log_txn *t;
	log_stream_info si;
	uint64_t h = 0;

	if (log_txn_begin(n->s, 0, &t) != 0)
		abort();
	if (log_txn_stream_find(t, stream, &si) == 0)
		h = si.head_seq;
	log_txn_abort(t);
	return h;
}

/* ---- live latency --------------------------------------------------------- */

typedef struct live {
	uint32_t a_no, b_no;		/* A's stream number at A and at B */
	uint64_t base, n;		/* seqs (base, base + n] */
	_Atomic uint64_t *ta, *tb;	/* commit times (ns) per seq */
} live;

static live *bench_live;		/* set only while the live phase runs */
static tnode *bench_a, *bench_b;
static int bench_noproj;		/* -x: log only, no projections */

static void bench_stamp(const log_commit_info *ci, uint32_t no, _Atomic uint64_t *t)
{
	live *l = bench_live;
	uint64_t now = bench_ns();

	for (size_t i = 0; i < ci->nranges; i++) {
		if (ci->ranges[i].stream_no != no)
			continue;
		for (uint64_t s = ci->ranges[i].first_seq; s <= ci->ranges[i].last_seq; s++)
			if (s > l->base && s <= l->base + l->n)
				atomic_store(&t[s - l->base - 1], now);
	}
}

static void bench_on_commit(void *ctx, const log_commit_info *ci)
{
	tnode *n = ctx;

	if (bench_live != NULL)
		bench_stamp(ci, n == bench_a ? bench_live->a_no : bench_live->b_no,
		    n == bench_a ? bench_live->ta : bench_live->tb);
	tnode_on_commit(ctx, ci);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_live_run(tnode *a, tnode *b, int seconds, int rate, double out[3])
{
	live l;
	log_txn *t;
	log_stream_info si;
	const char *own = log_store_own_stream(a->s);
	uint64_t *lat, n = (uint64_t)seconds * (uint64_t)rate, t0, got = 0;
	static atomic_int inflight;	/* outlives the jobs */

	memset(&l, 0, sizeof l);
	if (log_txn_begin(a->s, 0, &t) || log_txn_stream_find(t, own, &si))
		abort();
	l.a_no = si.no;
	l.base = si.head_seq;
	log_txn_abort(t);
	if (log_txn_begin(b->s, 0, &t) || log_txn_stream_find(t, own, &si))
		abort();
	l.b_no = si.no;
	log_txn_abort(t);
	l.n = n;
	l.ta = calloc(n, sizeof *l.ta);
	l.tb = calloc(n, sizeof *l.tb);
	lat = calloc(n, sizeof *lat);
	bench_live = &l;
	t0 = bench_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t due = t0 + i * 1000000000ULL / (uint64_t)rate, now = bench_ns();
		bjob *j = calloc(1, sizeof *j);

		if (due > now)
			usleep((useconds_t)((due - now) / 1000));
		j->first = 2 * (10000000 + i);	/* fresh plates: one ENTRY each */
		j->n = 1;
		j->entries_only = 1;
		atomic_fetch_add(&inflight, 1);
		j->inflight = &inflight;
		j->job.run = bjob_run;
		j->job.done = bjob_done;
		j->job.arg = j;
		if (log_writer_submit(a->w, &j->job) != 0)
			abort();
	}
	for (int w = 0; w < 5000; w++) {
		got = 0;
		for (uint64_t i = 0; i < n; i++)
			got += atomic_load(&l.tb[i]) != 0;
		if (got >= n)
			break;
		usleep(1000);
	}
	bench_live = NULL;
	usleep(10000);
	got = 0;
	for (uint64_t i = 0; i < n; i++)
		if (l.ta[i] && l.tb[i] && l.tb[i] >= l.ta[i])
			lat[got++] = l.tb[i] - l.ta[i];
	qsort(lat, got, sizeof *lat, cmp_u64);
	out[0] = got ? lat[got / 2] / 1e6 : -1;
	out[1] = got ? lat[got * 99 / 100] / 1e6 : -1;
	out[2] = got ? lat[got - 1] / 1e6 : -1;
	if (got < n)
		fprintf(stderr, "live: only %llu of %llu events measured\n",
		    (unsigned long long)got, (unsigned long long)n);
	free(l.ta);
	free(l.tb);
	free(lat);
}

/* ---- one run --------------------------------------------------------------- */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static void bench_open(tnode *n, const char *origin, const char *dir,
    enum log_durability dur)
{
	log_writer_opts wo = { .on_commit = bench_on_commit, .ctx = n };

	tnode_open(n, origin, dir, dur);
	if (bench_noproj) {
		proj_close(n->p);	/* unhooks it */
		n->p = NULL;
	}
	if (tnode_svc_create(n, 0) != 0 || log_writer_start(n->s, &wo, &n->w) != 0)
		abort();
}

typedef struct result {
	double fill, catchup, ratio, p50, p99, max;
} result;

static result bench_run(const char *tmp, uint64_t events, enum log_durability dur,
    int live_s, int rate)
{
	static tnode a, b;
	char root[512], da[600], db[600];
	const char *own;
	tnode *pa = &a, *pb = &b;
	uint64_t t0, target;
	result r;
	double lv[3] = { -1, -1, -1 };

	snprintf(root, sizeof root, "%s/bench_peers.XXXXXX", tmp);
	if (mkdtemp(root) == NULL)
		abort();
	snprintf(da, sizeof da, "%s/a", root);
	snprintf(db, sizeof db, "%s/b", root);
	bench_a = &a;
	bench_b = &b;
	bench_open(&a, "central-1", da, dur);
	r.fill = bench_fill(&a, events, 4);
	own = log_store_own_stream(a.s);
	target = bench_head(&a, own);
	bench_open(&b, "central-2", db, dur);
	tnode_peers(&a, &pb, 1);
	tnode_peers(&b, &pa, 1);
	tnode_svc_start(&a);
	t0 = bench_ns();
	if (getenv("BENCH_VERBOSE"))
		fprintf(stderr, "catch-up starts at %lld ms\n", (long long)tnode_now_ms());
	tnode_svc_start(&b);
	for (int k = 0; bench_head(&b, own) < target; k++) {
		if (getenv("BENCH_VERBOSE") && k % 50 == 0)
			fprintf(stderr, "%lld ms: B holds %llu of %llu\n", (long long)tnode_now_ms(),
			    (unsigned long long)bench_head(&b, own), (unsigned long long)target);
		usleep(1000);
	}
	r.catchup = (double)target / ((double)(bench_ns() - t0) / 1e9);
	r.ratio = r.catchup / r.fill;
	if (live_s > 0)
		bench_live_run(&a, &b, live_s, rate, lv);
	r.p50 = lv[0], r.p99 = lv[1], r.max = lv[2];
	tnode_close(&b);
	tnode_close(&a);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(result *rs, int n, size_t off)
{
	double v[64];

	for (int i = 0; i < n; i++)
		v[i] = *(double *)((char *)&rs[i] + off);
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	uint64_t events = 1000000;
	int runs = 3, live_s = 5, rate = 1000, ch;
	enum log_durability dur = LOG_DURABLE_FULL;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	result rs[64];

	while ((ch = getopt(argc, argv, "n:r:l:R:d:t:x")) != -1)
		switch (ch) {
		case 'n': events = strtoull(optarg, NULL, 10); break;
		case 'r': runs = atoi(optarg); break;
		case 'l': live_s = atoi(optarg); break;
		case 'R': rate = atoi(optarg); break;
		case 'd': dur = strcmp(optarg, "none") == 0 ? LOG_DURABLE_NONE : LOG_DURABLE_FULL; break;
		case 't': tmp = optarg; break;
		case 'x': bench_noproj = 1; break;
		default:
			fprintf(stderr, "usage: bench_peers [-n events] [-r runs] [-l live_s] "
			    "[-R rate] [-d full|none] [-t tmpdir] [-x]\n");
			return 2;
		}
	if (runs < 1 || runs > 64 || rate < 1 || events < 2)
		return 2;
	msg_init("bench_peers", getenv("BENCH_VERBOSE") ? MSG_DEBUG : MSG_QUIET);
	peer_lws_messages(0);
	printf("bench_peers: %llu events, durability %s, live %d s at %d/s, %d runs\n",
	    (unsigned long long)events, dur == LOG_DURABLE_FULL ? "full" : "none",
	    live_s, rate, runs);
	for (int i = 0; i < runs; i++) {
		rs[i] = bench_run(tmp, events, dur, live_s, rate);
		printf("run %d: A append %.0f ev/s  catch-up %.0f ev/s (x%.2f)  "
		    "live p50 %.3f ms p99 %.3f ms max %.3f ms\n", i + 1, rs[i].fill,
		    rs[i].catchup, rs[i].ratio, rs[i].p50, rs[i].p99, rs[i].max);
		fflush(stdout);
	}
	printf("median: A append %.0f ev/s  catch-up %.0f ev/s (x%.2f of A's append)  "
	    "live p50 %.3f ms p99 %.3f ms\n",
	    median(rs, runs, offsetof(result, fill)), median(rs, runs, offsetof(result, catchup)),
	    median(rs, runs, offsetof(result, ratio)), median(rs, runs, offsetof(result, p50)),
	    median(rs, runs, offsetof(result, p99)));
	return 0;
}
