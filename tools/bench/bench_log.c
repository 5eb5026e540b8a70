/* bench_log — durable appends through log/store against bare LMDB puts.
 *
 * For batch sizes 1, 100 and 1000, in the same run and with full durability
 * (fsync per commit): N own events (~300 B canonical JSON, ENTRY_PENDING /
 * ENTRY_CONFIRMED / EXIT over many plates) through log_txn_append_own, and
 * N raw mdb_put's of records of the same average size under 12-byte keys
 * like ours (stream ‖ seq, four interleaved streams) into a bare LMDB
 * environment. Batch 1 uses fewer events (-s, default 20,000): one fsync
 * each. Prints each run, the medians over R runs in events/s, and the
 * median of the runs' store/raw ratios.
 * -p sets the number of plates (default 100,000); -k gives the raw puts
 * fully random 12-byte keys (a random-insert baseline).
 *
 *   bench_log [-n EVENTS] [-s EVENTS_AT_BATCH_1] [-r RUNS] [-d DIR]
 *             [-p PLATES] [-k]
 */
#include <ftw.h>
#include <getopt.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/store.h"
#include "tools/bench/bench_util.h"

#define T0 1764547200000LL
#define MAXRUNS 31

/* -p: distinct plates; -k: raw keys fully random instead of stream ‖ seq. */
static long plates = 100000;
static int random_keys;


/* Event k: a plate out of PLATES, the type cycling, an EXIT with a fee. */
static void make_event(long k, log_event *e)
{
	long p = (k * 7919) % plates;

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
		snprintf(e->session, sizeof e->session, "central-1_%lld_%s",
		    T0 + k / 3, e->plate);
	if (e->type == LOG_EV_EXIT) {
		e->entry_ts = T0 + k / 3;
		e->duration_s = 3600 + k % 7200;
		e->fee = 25000 * (1 + k % 3);
		snprintf(e->tariff, sizeof e->tariff, "default");
	}
}

/* Store: events/s; *avg gets the average record size (header + bytes).
 * Each batch's event bodies are made before its clock starts, as the raw
 * side's records are: what is timed is the store's work. */
static double run_store(const char *dir, long n, int batch, double *avg)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_FULL };
	log_event *ev = calloc((size_t)batch, sizeof *ev);
	log_store *s;
	log_txn *t;
	log_rec r;
	double t0, spent = 0, bytes = 0;
	int rc = 0;

	if (ev == NULL || log_store_open(dir, &o, &s) != 0) {
		free(ev);
		return -1;
	}
	for (long k = 0; k < n && rc == 0; k += batch) {
		long m = k + batch <= n ? batch : n - k;

		for (long i = 0; i < m; i++)
			make_event(k + i, &ev[i]);
		t0 = bench_now_s();
		if ((rc = log_txn_begin(s, 1, &t)) != 0)
			break;
		for (long i = 0; i < m && rc == 0; i++)
			if ((rc = log_txn_next_ts(t, ev[i].plate, T0 + k + i, &ev[i].ts)) == 0)
				rc = log_txn_append_own(t, &ev[i]);
		if (rc == 0 && k == 0 && log_txn_get_id(t, ev[0].id, &r) == 0)
			bytes = (double)r.len;
		rc = rc ? (log_txn_abort(t), rc) : log_txn_commit(t);
		spent += bench_now_s() - t0;
	}
	t0 = spent;
	free(ev);
	log_store_close(s);
	if (rc != 0) {
		fprintf(stderr, "bench_log: store: %s\n", log_strerror(rc));
		return -1;
	}
	*avg = bytes + 28;
	return (double)n / t0;
}

static int raw_open(const char *dir, MDB_env **env, MDB_dbi *dbi)
{
	MDB_txn *txn;
	int rc;

	mkdir(dir, 0755);
	if ((rc = mdb_env_create(env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(*env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(*env, (size_t)64 << 30)) != 0 ||
	    (rc = mdb_env_open(*env, dir, MDB_NOTLS, 0644)) != 0 ||
	    (rc = mdb_txn_begin(*env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "raw", MDB_CREATE, dbi)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/* Raw LMDB: n puts of `size` bytes under stream(4) ‖ seq(8) keys. */
static double run_raw(const char *dir, long n, int batch, size_t size)
{
	static char val[LOG_EVENT_MAX + 64];
	uint64_t seq[4] = { 0 };
	unsigned char kb[12] = { 0 };
	MDB_val k = { 12, kb }, v = { size, val };
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	double t0;
	int rc;

	memset(val, 'x', sizeof val);
	if ((rc = raw_open(dir, &env, &dbi)) != 0)
		goto err;
	t0 = bench_now_s();
	for (long i = 0; i < n && rc == 0; i += batch) {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
			break;
		for (long j = i; j < i + batch && j < n && rc == 0; j++) {
			unsigned st = (unsigned)((j * 2654435761u) >> 7) % 4;
			uint64_t q = ++seq[st];

			if (random_keys)
				q = (uint64_t)j * 0x9e3779b97f4a7c15ULL;
			kb[3] = (unsigned char)(st + 1);
			for (int b = 0; b < 8; b++)
				kb[4 + b] = (unsigned char)(q >> (56 - 8 * b));
			val[j % size] = (char)j;	/* not all-equal pages */
			rc = mdb_put(txn, dbi, &k, &v, 0);
		}
		rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
	}
	t0 = bench_now_s() - t0;
err:
	mdb_env_close(env);
	if (rc != 0) {
		fprintf(stderr, "bench_log: raw: %s\n", mdb_strerror(rc));
		return -1;
	}
	return (double)n / t0;
}

static int bench(const char *dir, int batch, long n, int runs)
{
	double st[MAXRUNS], raw[MAXRUNS], ratio[MAXRUNS], avg = 0, ms, mr;
	char sd[4200], rd[4200];

	for (int r = 0; r < runs; r++) {
		snprintf(sd, sizeof sd, "%s/store-%d-%d", dir, batch, r);
		snprintf(rd, sizeof rd, "%s/raw-%d-%d", dir, batch, r);
		st[r] = run_store(sd, n, batch, &avg);
		raw[r] = run_raw(rd, n, batch, (size_t)avg);
		bench_rmtree(sd);
		bench_rmtree(rd);
		if (st[r] < 0 || raw[r] < 0)
			return 1;
		ratio[r] = st[r] / raw[r];
		if (runs > 1)
			printf("  run %d batch %4d: store %10.0f ev/s  raw %10.0f puts/s"
			    "  ratio %.2f\n", r + 1, batch, st[r], raw[r], ratio[r]);
	}
	/* The ratio is the median of each run's ratio: a run's two sides are
	 * measured back to back, so the machine's drift cancels in it. */
	ms = bench_median(st, runs);
	mr = bench_median(raw, runs);
	printf("batch %4d  events %8ld  store %10.0f ev/s  raw lmdb %10.0f puts/s"
	    "  ratio %.2f  (record %.0f B, median of %d)\n", batch, n, ms, mr,
	    bench_median(ratio, runs), avg, runs);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	long n = 1000000, n1 = 20000;
	int runs = 3, c, rc = 0, own = 0;
	char tmpl[] = "/tmp/bench_log.XXXXXX";
	const char *dir = NULL;

	while ((c = getopt(argc, argv, "n:s:r:d:p:k")) != -1) {
		switch (c) {
		case 'p': plates = atol(optarg); break;
		case 'k': random_keys = 1; break;
		case 'n': n = atol(optarg); break;
		case 's': n1 = atol(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_log [-n EVENTS] [-s EVENTS_AT_BATCH_1]"
			    " [-r RUNS] [-d DIR] [-p PLATES] [-k]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAXRUNS || n < 1 || n1 < 1 || plates < 1 || plates > 999999)
		return 2;
	if (dir == NULL) {
		if ((dir = mkdtemp(tmpl)) == NULL)
			return perror("mkdtemp"), 1;
		own = 1;
	}
	printf("bench_log: full durability, dir %s; %ld plates; raw keys %s;"
	    " batch 1 with %ld events\n", dir, plates,
	    random_keys ? "random" : "stream||seq (4 streams)", n1);
	rc = bench(dir, 1, n1, runs) || bench(dir, 100, n, runs) ||
	    bench(dir, 1000, n, runs);
	if (own)
		bench_rmtree(dir);
	return rc;
}
