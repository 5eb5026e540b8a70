/* log/store under kill -9: every commit that returned is on disk, streams
 * stay contiguous and every record verifies, round after round in one dir. */
#include "tests/harness/t.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "log/store.h"

#define T0 1764547200000LL
#define ROUNDS 8

struct report {
	uint32_t stream_no;
	uint64_t seq;		/* last seq of a committed batch */
};

static int append_batch(log_txn *t, int n, long *k)
{
	log_event e;
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++, (*k)++) {
		memset(&e, 0, sizeof e);
		e.type = *k % 2 ? LOG_EV_EXIT : LOG_EV_ENTRY_PENDING;
		snprintf(e.plate, sizeof e.plate, "29A%05ld", *k % 5000);
		snprintf(e.plate_view, sizeof e.plate_view, "29A-%05ld", *k % 5000);
		snprintf(e.vehicle, sizeof e.vehicle, "car");
		snprintf(e.edge_id, sizeof e.edge_id, "edge-2");
		e.confidence_milli = 900;
		e.entry_ts = e.duration_s = -1;
		if (e.type == LOG_EV_EXIT) {
			e.fee = 25000;
			snprintf(e.tariff, sizeof e.tariff, "default");
		}
		if ((rc = log_txn_next_ts(t, e.plate, T0 + *k, &e.ts)) == 0)
			rc = log_txn_append_own(t, &e);
	}
	return rc;
}

/* The child: append batches forever, report each commit after it returned. */
static void child(const char *dir, int fd)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_FULL,
	    .mapsize = (size_t)4 << 20 };	/* small: growth happens too */
	log_stream_info si;
	log_store *s;
	log_txn *t;
	long k = 0;
	unsigned seed = (unsigned)getpid();

	if (log_store_open(dir, &o, &s) != 0)
		_exit(2);
	for (;;) {
		struct report r;

		if (log_txn_begin(s, 1, &t) != 0 ||
		    append_batch(t, 1 + (int)(rand_r(&seed) % 50), &k) != 0 ||
		    log_txn_stream_find(t, log_store_own_stream(s), &si) != 0)
			_exit(3);
		r = (struct report){ si.no, si.head_seq };
		if (log_txn_commit(t) != 0)
			_exit(4);
		if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
			_exit(5);
	}
}

/* Every stream 1..head, hashes and prefix sums; returns the head of `no`. */
static uint64_t verify(log_txn *t, uint32_t no)
{
	log_iter *it;
	log_rec r;
	uint32_t cur = 0;
	uint64_t seq = 0, P = 0, head = 0;
	int rc;

	T_EQ_INT(0, log_iter_all(t, &it));
	while ((rc = log_iter_next(it, &r)) == 0) {
		if (r.stream_no != cur) {
			cur = r.stream_no;
			seq = P = 0;
		}
		T_EQ_U64(seq + 1, r.seq);
		T_EQ_U64(XXH3_64bits(r.bytes, r.len), r.h);
		T_EQ_U64(P + r.h, r.P);
		seq = r.seq;
		P = r.P;
		if (cur == no)
			head = seq;
	}
	T_EQ_INT(LOG_END, rc);
	log_iter_free(it);
	return head;
}

static struct report run_round(const char *dir, unsigned *seed)
{
	struct report r, last = { 0, 0 };
	int p[2], st;
	pid_t pid;

	T_EQ_INT(0, pipe(p));
	if ((pid = fork()) == 0) {
		close(p[0]);
		child(dir, p[1]);
	}
	close(p[1]);
	usleep(20000 + rand_r(seed) % 300000);
	kill(pid, SIGKILL);
	while (read(p[0], &r, sizeof r) == (ssize_t)sizeof r)
		last = r;
	close(p[0]);
	waitpid(pid, &st, 0);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	return last;
}

TEST(kill9_loses_no_acknowledged_commit)
{
	log_store_opts ro = { .readonly = 1 };
	struct report rep[ROUNDS];
	char dir[600];
	unsigned seed = (unsigned)time(NULL);
	log_store *s;
	log_txn *t;

	snprintf(dir, sizeof dir, "%s/data", t_tmpdir);
	for (int i = 0; i < ROUNDS; i++) {
		rep[i] = run_round(dir, &seed);
		T_EQ_INT(0, log_store_open(dir, &ro, &s));
		T_EQ_INT(0, log_txn_begin(s, 0, &t));
		for (int j = 0; j <= i; j++) {
			uint64_t head = verify(t, rep[j].stream_no);

			if (rep[j].seq > 0)
				T_ASSERT(head >= rep[j].seq);
		}
		printf("  round %d: stream %u acknowledged seq %" PRIu64 "\n", i,
		    rep[i].stream_no, rep[i].seq);
		log_txn_abort(t);
		log_store_close(s);
	}
}

T_MAIN()
