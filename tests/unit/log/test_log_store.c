/* log/store: streams, sequence numbers, digests, fold order, clock, aborts,
 * reopen, corruption, map growth. */
#include "tests/harness/t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <xxhash.h>

#include "log/store.h"

#define T0 1764547200000LL

static log_store *open_at(const char *dir, const char *origin, size_t mapsize)
{
	log_store_opts o = { .origin = origin, .durability = LOG_DURABLE_NONE,
	    .mapsize = mapsize };
	log_store *s = NULL;
	int rc = log_store_open(dir, &o, &s);

	if (rc != 0)
		T_FAIL("open %s: %s", dir, log_strerror(rc));
	return s;
}

static log_store *open_new(const char *origin)
{
	return open_at(t_tmpdir, origin, 0);
}

/* The body of an event; the store or peer() fills the stream fields. */
static void body(log_event *e, const char *plate, enum log_ev_type type, int k)
{
	memset(e, 0, sizeof *e);
	e->type = type;
	/* a test's plate always fits: say so (and keep -Wformat-truncation quiet) */
	T_ASSERT(snprintf(e->plate, sizeof e->plate, "%s", plate) < (int)sizeof e->plate);
	snprintf(e->plate_view, sizeof e->plate_view, "%s-v%d", plate, k % 10);
	snprintf(e->vehicle, sizeof e->vehicle, "car");
	snprintf(e->edge_id, sizeof e->edge_id, "edge-%d", k % 4 + 1);
	e->confidence_milli = 900 + k % 100;
	e->entry_ts = e->duration_s = -1;
	if (type == LOG_EV_EXIT) {
		e->fee = 25000;
		snprintf(e->tariff, sizeof e->tariff, "default");
	}
}

/* A peer's event, as canonical bytes. */
static int peer(char *buf, const char *origin, uint64_t epoch, uint64_t seq,
    int64_t ts, const char *plate, int k)
{
	log_event e;
	int n;

	body(&e, plate, LOG_EV_ENTRY_PENDING, k);
	snprintf(e.origin, sizeof e.origin, "%s", origin);
	e.epoch = epoch;
	e.seq = seq;
	e.ts = ts;
	log_event_id(e.id, origin, ts, plate);
	memcpy(e.session, e.id, sizeof e.session);
	n = log_event_encode(&e, buf, LOG_EVENT_MAX);
	T_ASSERT(n > 0);
	return n;
}

static int append_peer(log_txn *t, const char *origin, uint64_t epoch,
    uint64_t seq, int64_t ts, const char *plate, int k)
{
	char buf[LOG_EVENT_MAX], err[160] = "";
	int n = peer(buf, origin, epoch, seq, ts, plate, k);

	return log_txn_append_peer(t, buf, (size_t)n, err, sizeof err);
}

static void own(log_txn *t, const char *plate, int64_t wall, int k, log_event *out)
{
	log_event e;

	body(&e, plate, k % 3 == 2 ? LOG_EV_EXIT : LOG_EV_ENTRY_PENDING, k);
	T_EQ_INT(0, log_txn_next_ts(t, plate, wall, &e.ts));
	T_EQ_INT(0, log_txn_append_own(t, &e));
	if (out != NULL)
		*out = e;
}

static void own_batch(log_store *s, int n, int k0)
{
	log_txn *t;
	char plate[16];

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	for (int k = k0; k < k0 + n; k++) {
		snprintf(plate, sizeof plate, "29A%05d", k % 97);
		own(t, plate, T0 + k, k, NULL);
	}
	T_EQ_INT(0, log_txn_commit(t));
}

static log_stream_info find(log_txn *t, const char *name)
{
	log_stream_info si;

	T_EQ_INT(0, log_txn_stream_find(t, name, &si));
	return si;
}

static void stream_name(char *out, const char *origin, uint64_t epoch)
{
	log_stream_name(out, origin, epoch);
}

/* Every record of a stream: seq 1..head, each P = P(prev) + h. */
static void check_contiguous(log_txn *t, uint32_t no, uint64_t head)
{
	log_iter *it;
	log_rec r;
	uint64_t seq = 0, P = 0;
	int rc;

	T_EQ_INT(0, log_iter_range(t, no, 1, 0, &it));
	while ((rc = log_iter_next(it, &r)) == 0) {
		T_EQ_U64(seq + 1, r.seq);
		T_EQ_U64(XXH3_64bits(r.bytes, r.len), r.h);
		T_EQ_U64(P + r.h, r.P);
		seq = r.seq;
		P = r.P;
	}
	T_EQ_INT(LOG_END, rc);
	T_EQ_U64(head, seq);
	log_iter_free(it);
}

TEST(own_appends_are_contiguous)
{
	log_store *s = open_new("central-1");
	log_stream_info si;
	log_txn *t;
	log_rec r;
	log_event e;

	for (int b = 0; b < 5; b++)
		own_batch(s, 40, b * 40);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	si = find(t, log_store_own_stream(s));
	T_EQ_U64(200, si.head_seq);
	T_ASSERT(si.own && si.current);
	check_contiguous(t, si.no, 200);
	log_txn_abort(t);

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "30B12345", T0, 7, &e);
	T_EQ_U64(201, e.seq);
	T_EQ_STR("central-1", e.origin);
	T_EQ_STR(e.id, e.session);
	T_EQ_INT(0, log_txn_get_id(t, e.id, &r));
	T_EQ_U64(201, r.seq);
	T_EQ_INT(LOG_EV_ENTRY_PENDING, r.type);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(own_append_needs_origin)
{
	log_store *s = open_new(NULL);
	log_txn *t;
	log_event e;

	T_ASSERT(log_store_own_stream(s) == NULL);
	body(&e, "29A12345", LOG_EV_ENTRY_PENDING, 0);
	e.ts = T0;
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(LOG_ESTREAM, log_txn_append_own(t, &e));
	log_txn_abort(t);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(LOG_EREADONLY, log_txn_append_own(t, &e));
	log_txn_abort(t);
	log_store_close(s);
}

TEST(prev_mismatch)
{
	log_store *s = open_new("central-1");
	char name[LOG_STREAM_MAX + 1];
	log_stream_info si;
	log_txn *t;

	stream_name(name, "central-2", 0xabc);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, log_txn_check_prev(t, name, 0, 0));
	T_EQ_INT(LOG_EPREV, log_txn_check_prev(t, name, 1, 5));
	for (uint64_t q = 1; q <= 3; q++)
		T_EQ_INT(0, append_peer(t, "central-2", 0xabc, q, T0 + (int64_t)q, "29A12345", (int)q));
	si = find(t, name);
	T_EQ_INT(0, log_txn_check_prev(t, name, 3, si.head_P));
	T_EQ_INT(LOG_EPREV, log_txn_check_prev(t, name, 3, si.head_P + 1));
	T_EQ_INT(LOG_EPREV, log_txn_check_prev(t, name, 2, si.head_P));
	T_EQ_INT(LOG_EPREV, log_txn_check_prev(t, name, 0, 0));
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(gap)
{
	log_store *s = open_new("central-1");
	char name[LOG_STREAM_MAX + 1];
	log_stream_info si;
	log_txn *t;
	size_t n0, n1;
	log_stream_info *all;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, log_txn_streams(t, &all, &n0));
	free(all);
	/* A stream we never saw must start at 1, and is not created otherwise. */
	T_EQ_INT(LOG_EGAP, append_peer(t, "central-2", 7, 2, T0, "29A12345", 0));
	T_EQ_INT(0, log_txn_streams(t, &all, &n1));
	free(all);
	T_EQ_U64(n0, n1);
	T_EQ_INT(0, append_peer(t, "central-2", 7, 1, T0, "29A12345", 0));
	T_EQ_INT(LOG_EGAP, append_peer(t, "central-2", 7, 3, T0 + 2, "29A12345", 2));
	T_EQ_INT(0, append_peer(t, "central-2", 7, 2, T0 + 1, "29A12345", 1));
	stream_name(name, "central-2", 7);
	si = find(t, name);
	T_EQ_U64(2, si.head_seq);
	T_ASSERT(!si.own && !si.current);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(duplicate_is_a_noop)
{
	log_store *s = open_new("central-1");
	char name[LOG_STREAM_MAX + 1], buf[LOG_EVENT_MAX], err[160];
	log_stream_info a, b;
	log_store_stat st0, st1;
	log_txn *t;
	int n;

	stream_name(name, "central-2", 9);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	for (uint64_t q = 1; q <= 3; q++)
		T_EQ_INT(0, append_peer(t, "central-2", 9, q, T0 + (int64_t)q, "29A12345", (int)q));
	T_EQ_INT(0, log_txn_commit(t));

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	a = find(t, name);
	T_EQ_INT(0, log_txn_stat(t, &st0));
	n = peer(buf, "central-2", 9, 2, T0 + 2, "29A12345", 2);
	T_EQ_INT(LOG_DUP, log_txn_append_peer(t, buf, (size_t)n, err, sizeof err));
	b = find(t, name);
	T_EQ_INT(0, log_txn_stat(t, &st1));
	T_EQ_U64(a.head_seq, b.head_seq);
	T_EQ_U64(a.head_P, b.head_P);
	T_EQ_U64(st0.events, st1.events);
	{
		const log_range *r;
		size_t nr;

		T_EQ_INT(0, log_txn_appended(t, &r, &nr));
		T_EQ_U64(0, nr);
	}
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(fork_never_overwrites)
{
	log_store *s = open_new("central-1");
	char buf[LOG_EVENT_MAX], err[160] = "", name[LOG_STREAM_MAX + 1];
	log_txn *t;
	log_rec r;
	int n;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	for (uint64_t q = 1; q <= 3; q++)
		T_EQ_INT(0, append_peer(t, "central-2", 9, q, T0 + (int64_t)q, "29A12345", (int)q));
	/* Same position, other bytes (another plate_view). */
	n = peer(buf, "central-2", 9, 2, T0 + 2, "29A12345", 5);
	T_EQ_INT(LOG_EFORK, log_txn_append_peer(t, buf, (size_t)n, err, sizeof err));
	T_ASSERT(strstr(err, "fork") != NULL);
	stream_name(name, "central-2", 9);
	T_EQ_INT(0, log_txn_get_pos(t, find(t, name).no, 2, &r));
	T_ASSERT(memmem(r.bytes, r.len, "29A12345-v2", 11) != NULL);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(id_clash_is_a_fork)
{
	log_store *s = open_new("central-1");
	char name[LOG_STREAM_MAX + 1];
	log_event e, e2;
	log_txn *t;
	log_rec r;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	/* The same id from another epoch of the same origin. */
	T_EQ_INT(0, append_peer(t, "central-2", 1, 1, T0, "29A12345", 0));
	T_EQ_INT(LOG_EFORK, append_peer(t, "central-2", 2, 1, T0, "29A12345", 0));
	stream_name(name, "central-2", 2);
	{
		log_stream_info si;

		T_EQ_INT(LOG_NOTFOUND, log_txn_stream_find(t, name, &si));
	}
	/* Own: a ts not from next_ts that repeats an id. */
	own(t, "30B12345", T0, 1, &e);
	body(&e2, "30B12345", LOG_EV_ENTRY_PENDING, 2);
	e2.ts = e.ts;
	T_EQ_INT(LOG_EFORK, log_txn_append_own(t, &e2));
	T_EQ_INT(0, log_txn_get_id(t, e.id, &r));
	T_EQ_U64(e.seq, r.seq);
	T_ASSERT(memmem(r.bytes, r.len, "30B12345-v1", 11) != NULL);
	/* ... and the own stream did not advance. */
	own(t, "30B12345", T0, 3, &e2);
	T_EQ_U64(e.seq + 1, e2.seq);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

TEST(digests_of_random_ranges)
{
	log_store *s = open_new("central-1");
	uint64_t h[301] = { 0 }, seed = 42, d, sum;
	log_stream_info si;
	log_txn *t;
	log_rec r;

	for (int b = 0; b < 3; b++)
		own_batch(s, 100, b * 100);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	si = find(t, log_store_own_stream(s));
	for (uint64_t q = 1; q <= 300; q++) {
		T_EQ_INT(0, log_txn_get_pos(t, si.no, q, &r));
		h[q] = r.h;
	}
	for (int i = 0; i < 500; i++) {
		uint64_t a = rnd(&seed) % 301, b = rnd(&seed) % 301;

		if (a > b) {
			uint64_t x = a;

			a = b;
			b = x;
		}
		sum = 0;
		for (uint64_t q = a + 1; q <= b; q++)
			sum += h[q];
		T_EQ_INT(0, log_txn_digest(t, si.no, a, b, &d));
		T_EQ_U64(sum, d);
	}
	T_EQ_INT(0, log_txn_digest(t, si.no, 0, 300, &d));
	T_EQ_U64(si.head_P, d);
	T_EQ_INT(EINVAL, log_txn_digest(t, si.no, 0, 301, &d));
	log_txn_abort(t);
	log_store_close(s);
}

static int64_t reopen_next_ts(log_store **s, const char *plate);

/* Fold order is by action time (edge_ts when earlier than ts), also in the
 * index a reopen rebuilds; the clock's floor stays the plate's highest ts
 * (not the last event's in fold order). */
TEST(plate_index_orders_by_action_time)
{
	log_store *s = open_new("central-1");
	char buf[LOG_EVENT_MAX], err[160];
	uint32_t no;
	uint64_t seq;
	log_event e;
	log_iter *it;
	log_txn *t;
	log_rec r;
	int n;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, append_peer(t, "central-2", 1, 1, T0 + 100, "29A12345", 0));
	/* recorded later (ts T0 + 500), done earlier (edge_ts T0 + 50) */
	body(&e, "29A12345", LOG_EV_ENTRY_PENDING, 1);
	snprintf(e.origin, sizeof e.origin, "central-3");
	e.epoch = 1;
	e.seq = 1;
	e.ts = T0 + 500;
	e.edge_ts = T0 + 50;
	log_event_id(e.id, e.origin, e.ts, e.plate);
	memcpy(e.session, e.id, sizeof e.session);
	n = log_event_encode(&e, buf, sizeof buf);
	T_ASSERT(n > 0);
	T_EQ_INT(0, log_txn_append_peer(t, buf, (size_t)n, err, sizeof err));
	T_EQ_INT(0, log_txn_commit(t));
	for (int round = 0; round < 2; round++) {
		T_EQ_INT(0, log_txn_begin(s, 0, &t));
		T_EQ_INT(0, log_iter_plate(t, "29A12345", &it));
		T_EQ_INT(0, log_iter_next(it, &r));
		T_EQ_INT(T0 + 500, r.ts);		/* the early action first */
		T_EQ_INT(0, log_iter_next(it, &r));
		T_EQ_INT(T0 + 100, r.ts);
		T_EQ_INT(LOG_END, log_iter_next(it, &r));
		log_iter_free(it);
		T_EQ_INT(0, log_txn_plate_last(t, "29A12345", &no, &seq));
		T_EQ_U64(1, seq);
		log_txn_abort(t);
		T_EQ_INT(T0 + 501, reopen_next_ts(&s, "29A12345"));	/* rebuilt */
	}
	log_store_close(s);
}

/* Fold order (action time, origin, epoch, seq), whatever the arrival order. */
TEST(plate_iteration_in_fold_order)
{
	log_store *s = open_new("central-1");
	char plate[LOG_PLATE_MAX + 1] = "";
	log_event e;
	log_event prev = { 0 };
	log_iter *it;
	log_txn *t;
	log_rec r;
	int rc, n = 0, nplates = 0;
	char err[160];

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	/* Arrival order is not fold order: later ts first, ties across origins. */
	T_EQ_INT(0, append_peer(t, "central-3", 5, 1, T0 + 50, "29A12345", 0));
	T_EQ_INT(0, append_peer(t, "central-2", 5, 1, T0 + 50, "29A12345", 1));
	T_EQ_INT(0, append_peer(t, "central-2", 4, 1, T0 + 40, "29A12345", 2));
	T_EQ_INT(0, append_peer(t, "central-3", 5, 2, T0 + 10, "29A12345", 3));
	T_EQ_INT(0, append_peer(t, "central-2", 5, 2, T0 + 300, "29A12345", 4));
	T_EQ_INT(0, append_peer(t, "central-2", 5, 3, T0 + 1, "31C55555", 4));
	own(t, "29A12345", T0, 5, NULL);	/* after all: ts = 301 */
	T_EQ_INT(0, log_txn_commit(t));

	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_iter_plate(t, "29A12345", &it));
	while ((rc = log_iter_next(it, &r)) == 0) {
		T_EQ_INT(0, log_event_decode(r.bytes, r.len, &e, err, sizeof err));
		T_EQ_STR("29A12345", e.plate);
		if (n++ > 0) {
			int c = prev.ts != e.ts ? (prev.ts < e.ts ? -1 : 1) :
			    strcmp(prev.origin, e.origin) != 0 ? strcmp(prev.origin, e.origin) :
			    prev.epoch != e.epoch ? (prev.epoch < e.epoch ? -1 : 1) :
			    (prev.seq < e.seq ? -1 : 1);

			T_ASSERT(c < 0);
		}
		prev = e;
	}
	T_EQ_INT(LOG_END, rc);
	T_EQ_INT(6, n);
	T_EQ_STR("central-1", prev.origin);
	T_EQ_U64(T0 + 301, prev.ts);
	log_iter_free(it);
	while ((rc = log_txn_next_plate(t, plate, plate)) == 0)
		nplates++;
	T_EQ_INT(LOG_END, rc);
	T_EQ_INT(2, nplates);
	{
		log_store_stat st;

		T_EQ_INT(0, log_txn_stat(t, &st));
		T_EQ_U64(2, st.plates);
		T_EQ_U64(7, st.events);
	}
	log_txn_abort(t);
	log_store_close(s);
}

/* The plate's events as "origin/seq" words, in the iterator's order. */
static void plate_list(log_store *s, const char *plate, char *out, size_t len)
{
	char err[160];
	log_iter *it;
	log_txn *t;
	log_event e;
	log_rec r;
	size_t o = 0;
	int rc;

	out[0] = '\0';
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_iter_plate(t, plate, &it));
	while ((rc = log_iter_next(it, &r)) == 0) {
		T_EQ_INT(0, log_event_decode(r.bytes, r.len, &e, err, sizeof err));
		o += (size_t)snprintf(out + o, len - o, "%s/%llu ", e.origin,
		    (unsigned long long)e.seq);
		T_ASSERT(o < len);
	}
	T_EQ_INT(LOG_END, rc);
	log_iter_free(it);
	log_txn_abort(t);
}

/* The index is memory: a reopen rebuilds it, a read-only store catches up
 * with appends made after its first use, and an old "plates" table goes. */
TEST(plate_index_rebuilt_and_caught_up)
{
	log_store_opts ro = { .readonly = 1 };
	char before[512], after[512], seen[512];
	int ready[2], go[2], st;
	char c = 0;
	log_store *s = open_new("central-1");
	log_txn *t;
	pid_t pid;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, append_peer(t, "central-3", 5, 1, T0 + 50, "29A12345", 0));
	T_EQ_INT(0, append_peer(t, "central-2", 5, 1, T0 + 50, "29A12345", 1));
	T_EQ_INT(0, append_peer(t, "central-2", 4, 1, T0 + 40, "29A12345", 2));
	own(t, "29A12345", T0, 3, NULL);
	T_EQ_INT(0, log_txn_commit(t));
	plate_list(s, "29A12345", before, sizeof before);
	T_EQ_STR("central-2/1 central-2/1 central-3/1 central-1/1 ", before);
	log_store_close(s);
	{	/* a table left by an earlier version */
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;

		T_EQ_INT(0, mdb_env_create(&env));
		T_EQ_INT(0, mdb_env_set_maxdbs(env, 8));
		T_EQ_INT(0, mdb_env_open(env, t_tmpdir, 0, 0644));
		T_EQ_INT(0, mdb_txn_begin(env, NULL, 0, &txn));
		T_EQ_INT(0, mdb_dbi_open(txn, "plates", MDB_CREATE | MDB_DUPSORT, &dbi));
		T_EQ_INT(0, mdb_txn_commit(txn));
		mdb_env_close(env);
	}
	s = open_new("central-1");
	plate_list(s, "29A12345", after, sizeof after);
	T_EQ_STR(before, after);
	{
		MDB_txn *txn;
		MDB_dbi dbi;

		T_EQ_INT(0, mdb_txn_begin(log_store_env(s), NULL, MDB_RDONLY, &txn));
		T_EQ_INT(MDB_NOTFOUND, mdb_dbi_open(txn, "plates", 0, &dbi));
		mdb_txn_abort(txn);
	}
	log_store_close(s);

	/* A reader in another process uses the index, the writer appends, the
	 * reader sees the new event of the plate in fold order. */
	T_EQ_INT(0, pipe(ready));
	T_EQ_INT(0, pipe(go));
	if ((pid = fork()) == 0) {
		if (log_store_open(t_tmpdir, &ro, &s) != 0)
			_exit(2);
		plate_list(s, "29A12345", seen, sizeof seen);
		if (strcmp(seen, before) != 0)
			_exit(3);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(4);
		plate_list(s, "29A12345", seen, sizeof seen);
		_exit(strcmp(seen, "central-2/1 central-2/2 central-2/1 central-3/1"
		    " central-1/1 central-1/1 ") == 0 ? 0 : 5);
	}
	T_EQ_INT(1, read(ready[0], &c, 1));
	s = open_new("central-1");
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, append_peer(t, "central-2", 5, 2, T0 + 45, "29A12345", 4));
	own(t, "29A12345", T0, 5, NULL);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
	T_EQ_INT(1, write(go[1], &c, 1));
	T_EQ_INT(pid, waitpid(pid, &st, 0));
	T_ASSERT(WIFEXITED(st));
	T_EQ_INT(0, WEXITSTATUS(st));
}

/* Close *s, open it again, and ask the clock for plate's next ts at wall. */
static int64_t reopen_next_ts_at(log_store **s, const char *plate, int64_t wall)
{
	log_txn *t;
	int64_t ts;

	log_store_close(*s);
	*s = open_new("central-1");
	T_EQ_INT(0, log_txn_begin(*s, 1, &t));
	T_EQ_INT(0, log_txn_next_ts(t, plate, wall, &ts));
	log_txn_abort(t);
	return ts;
}

static int64_t reopen_next_ts(log_store **s, const char *plate)
{
	return reopen_next_ts_at(s, plate, T0);
}

TEST(hybrid_clock)
{
	log_store *s = open_new("central-1");
	log_txn *t;
	int64_t ts;
	log_event e;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, log_txn_next_ts(t, "29A12345", T0, &ts));
	T_EQ_INT(T0, ts);
	T_EQ_INT(0, append_peer(t, "central-2", 1, 1, T0 + 1000, "31C55555", 0));
	/* Another plate's later ts is no floor (no global clock)... */
	T_EQ_INT(0, log_txn_next_ts(t, "29A12345", T0, &ts));
	T_EQ_INT(T0, ts);
	/* ... the plate's last ts + 1 wins over a slow wall clock ... */
	T_EQ_INT(0, log_txn_next_ts(t, "31C55555", T0, &ts));
	T_EQ_INT(T0 + 1001, ts);
	own(t, "31C55555", T0, 0, &e);
	T_EQ_INT(T0 + 1001, e.ts);
	own(t, "31C55555", T0, 1, &e);
	T_EQ_INT(T0 + 1002, e.ts);
	/* ... and a fast wall clock over everything. */
	T_EQ_INT(0, log_txn_next_ts(t, "31C55555", T0 + 5000, &ts));
	T_EQ_INT(T0 + 5000, ts);
	T_EQ_INT(0, log_txn_commit(t));
	/* The plate's highest ts persists across transactions and reopen;
	 * another plate's does not reach it. */
	T_EQ_INT(T0 + 1003, reopen_next_ts(&s, "31C55555"));
	T_EQ_INT(T0, reopen_next_ts(&s, "29A12345"));
	log_store_close(s);
}

#define YEAR_MS (366LL * 86400000)

/* Issue 12 item 3: one event dated far ahead — our own clock a year ahead
 * for one open (then corrected), or a peer's event 10 years ahead — moves
 * its own plate's later events and nobody else's, also after a restart;
 * ids stay unique. */
TEST(far_future_event_moves_only_its_plate)
{
	log_store *s = open_new("central-1");
	log_event a, b;
	log_txn *t;
	log_rec r;

	/* The clock a year ahead for one open: one own event, then closed. */
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "29A12345", T0 + YEAR_MS, 0, &a);
	T_EQ_INT(T0 + YEAR_MS, a.ts);
	T_EQ_INT(0, append_peer(t, "central-2", 1, 1, T0 + 10 * YEAR_MS, "31C55555", 0));
	T_EQ_INT(0, log_txn_commit(t));
	/* The clock corrected, after a restart: other plates get their own
	 * time, the far plates theirs + 1 (and distinct ids). */
	for (int round = 0; round < 2; round++) {
		log_store_close(s);
		s = open_new("central-1");
		T_EQ_INT(0, log_txn_begin(s, 1, &t));
		own(t, "51F99999", T0 + round, round, &b);
		T_EQ_INT(T0 + round, b.ts);
		own(t, "29A12345", T0, 1, &b);
		T_EQ_INT(T0 + YEAR_MS + 1 + round, b.ts);
		T_ASSERT(strcmp(a.id, b.id) != 0);
		own(t, "31C55555", T0, 2, &b);
		T_EQ_INT(T0 + 10 * YEAR_MS + 1 + round, b.ts);
		T_EQ_INT(0, log_txn_get_id(t, b.id, &r));
		T_EQ_U64(b.seq, r.seq);
		T_EQ_INT(0, log_txn_commit(t));
	}
	/* Same plate, same wall ms, one transaction: still distinct ids. */
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "62H55555", T0, 0, &a);
	own(t, "62H55555", T0, 1, &b);
	T_EQ_INT(a.ts + 1, b.ts);
	T_ASSERT(strcmp(a.id, b.id) != 0);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

/* Issue 12 item 3/4: a peer's event dated beyond the skew ahead of our
 * clock is stored (the log is the log) but flagged: counted once its
 * transaction commits (not if it aborts); events dated now are not. */
TEST(peer_event_dated_ahead_is_stored_and_flagged)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_NONE,
	    .peer_skew_ms = 5000 };
	int64_t now = (int64_t)time(NULL) * 1000;
	log_store_stat st;
	log_store *s = NULL;
	log_txn *t;
	log_rec r;
	char id[LOG_ID_MAX + 1];

	T_EQ_INT(0, log_store_open(t_tmpdir, &o, &s));
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, append_peer(t, "central-2", 1, 1, now + 10 * YEAR_MS, "31C55555", 0));
	log_txn_abort(t);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, log_txn_stat(t, &st));
	T_EQ_U64(0, st.peer_ahead);
	T_EQ_INT(0, append_peer(t, "central-2", 1, 1, now + 10 * YEAR_MS, "31C55555", 0));
	T_EQ_INT(0, append_peer(t, "central-2", 1, 2, now, "29A12345", 1));
	T_EQ_INT(0, append_peer(t, "central-2", 1, 3, now + 1000, "29A12346", 2));
	T_EQ_INT(0, log_txn_commit(t));
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_txn_stat(t, &st));
	T_EQ_U64(1, st.peer_ahead);
	log_event_id(id, "central-2", now + 10 * YEAR_MS, "31C55555");
	T_EQ_INT(0, log_txn_get_id(t, id, &r));	/* stored */
	log_txn_abort(t);
	/* it moves its own plate only */
	T_EQ_INT(now + 10 * YEAR_MS + 1, reopen_next_ts_at(&s, "31C55555", now));
	T_EQ_INT(now, reopen_next_ts_at(&s, "51F99999", now));
	log_store_close(s);
}

/* Older versions wrote meta "max_ts" (a global floor) at every commit: a
 * write open removes it and ignores its value; no commit writes it. */
TEST(old_max_ts_key_read_once_then_gone)
{
	log_store *s = open_new("central-1");
	uint8_t b[8];
	MDB_val k = { 6, "max_ts" }, v = { 8, b };
	MDB_txn *mt;
	MDB_dbi meta;
	log_txn *t;
	int64_t ts;

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)(T0 + 777) >> (56 - 8 * i));
	T_EQ_INT(0, mdb_txn_begin(log_store_env(s), NULL, 0, &mt));
	T_EQ_INT(0, mdb_dbi_open(mt, "meta", 0, &meta));
	T_EQ_INT(0, mdb_put(mt, meta, &k, &v, 0));
	T_EQ_INT(0, mdb_txn_commit(mt));
	log_store_close(s);

	s = open_new("central-1");
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, log_txn_next_ts(t, "29A12345", T0, &ts));
	T_EQ_INT(T0, ts);
	own(t, "29A12345", T0, 0, NULL);
	T_EQ_INT(0, log_txn_commit(t));
	T_EQ_INT(0, mdb_txn_begin(log_store_env(s), NULL, MDB_RDONLY, &mt));
	T_EQ_INT(0, mdb_dbi_open(mt, "meta", 0, &meta));
	T_EQ_INT(MDB_NOTFOUND, mdb_get(mt, meta, &k, &v));
	mdb_txn_abort(mt);
	/* the clock is each plate's own */
	T_EQ_INT(T0, reopen_next_ts(&s, "31C55555"));
	T_EQ_INT(T0 + 1, reopen_next_ts(&s, "29A12345"));
	log_store_close(s);
}

TEST(abort_leaves_no_trace)
{
	log_store *s = open_new("central-1");
	char name[LOG_STREAM_MAX + 1];
	log_stream_info a, b;
	log_store_stat st0, st1;
	const log_range *r;
	size_t nr;
	log_txn *t;
	int64_t ts;
	log_event e;

	own_batch(s, 10, 0);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	a = find(t, log_store_own_stream(s));
	T_EQ_INT(0, log_txn_stat(t, &st0));
	T_EQ_INT(0, log_txn_next_ts(t, "77X12345", T0, &ts));
	T_EQ_INT(0, log_txn_commit(t));

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "77X12345", T0 + 99999, 0, NULL);
	own(t, "77X12345", T0, 1, NULL);
	T_EQ_INT(0, append_peer(t, "central-9", 3, 1, T0 + 500000, "77X12345", 2));
	T_EQ_INT(0, log_txn_appended(t, &r, &nr));
	T_EQ_U64(2, nr);
	log_txn_abort(t);

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	b = find(t, log_store_own_stream(s));
	T_EQ_U64(a.head_seq, b.head_seq);
	T_EQ_U64(a.head_P, b.head_P);
	T_EQ_INT(0, log_txn_stat(t, &st1));
	T_EQ_U64(st0.events, st1.events);
	T_EQ_U64(st0.streams, st1.streams);
	T_EQ_U64(st0.plates, st1.plates);
	stream_name(name, "central-9", 3);
	T_EQ_INT(LOG_NOTFOUND, log_txn_stream_find(t, name, &b));
	T_EQ_INT(0, log_txn_appended(t, &r, &nr));
	T_EQ_U64(0, nr);
	T_EQ_INT(0, log_txn_next_ts(t, "77X12345", T0, &ts));
	T_EQ_INT(T0, ts);	/* the clock did not keep the aborted ts */
	own(t, "77X12345", T0, 3, &e);
	T_EQ_U64(11, e.seq);
	T_EQ_INT(0, log_txn_appended(t, &r, &nr));
	T_EQ_U64(1, nr);
	T_EQ_U64(11, r[0].first_seq);
	T_EQ_U64(11, r[0].last_seq);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(appended_ranges)
{
	log_store *s = open_new("central-1");
	const log_range *r;
	size_t nr;
	log_txn *t;

	own_batch(s, 5, 0);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "29A12345", T0, 0, NULL);
	T_EQ_INT(0, append_peer(t, "central-2", 3, 1, T0, "31C55555", 0));
	own(t, "29A12346", T0, 1, NULL);
	T_EQ_INT(0, append_peer(t, "central-2", 3, 2, T0, "31C55556", 1));
	T_EQ_INT(0, log_txn_appended(t, &r, &nr));
	T_EQ_U64(2, nr);
	T_EQ_U64(1, r[0].stream_no);
	T_EQ_U64(6, r[0].first_seq);
	T_EQ_U64(7, r[0].last_seq);
	T_EQ_U64(2, r[1].stream_no);
	T_EQ_U64(1, r[1].first_seq);
	T_EQ_U64(2, r[1].last_seq);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(reopen_keeps_data_and_starts_a_new_stream)
{
	log_store *s = open_new("central-1");
	char first[LOG_STREAM_MAX + 1];
	log_stream_info *all, si;
	size_t n;
	log_txn *t;
	log_event e;

	own_batch(s, 25, 0);
	snprintf(first, sizeof first, "%s", log_store_own_stream(s));
	log_store_close(s);

	s = open_new("central-1");
	T_ASSERT(strcmp(first, log_store_own_stream(s)) != 0);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	si = find(t, first);
	T_EQ_U64(25, si.head_seq);
	T_ASSERT(si.own && !si.current);
	check_contiguous(t, si.no, 25);
	own(t, "29A12345", T0, 0, &e);
	T_EQ_U64(1, e.seq);
	/* Our own earlier epoch may come back from a peer (restore); the
	 * current one may not. */
	{
		char buf[LOG_EVENT_MAX], err[160];
		uint64_t ep;
		char org[LOG_ORIGIN_MAX + 1];
		int len;

		T_EQ_INT(0, log_stream_parse(first, org, &ep));
		len = peer(buf, "central-1", ep, 26, T0 + 100000, "29A99999", 0);
		T_EQ_INT(0, log_txn_append_peer(t, buf, (size_t)len, err, sizeof err));
		len = peer(buf, "central-1", e.epoch, 2, T0 + 100000, "29A99998", 0);
		T_EQ_INT(LOG_ESTREAM, log_txn_append_peer(t, buf, (size_t)len, err, sizeof err));
	}
	T_EQ_INT(0, log_txn_streams(t, &all, &n));
	T_EQ_U64(2, n);
	T_EQ_U64(26, all[0].head_seq);
	T_ASSERT(all[1].current && all[1].own);
	T_EQ_U64(1, all[1].head_seq);
	free(all);
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
}

TEST(readonly_open_of_a_foreign_dir)
{
	log_store_opts ro = { .readonly = 1 };
	log_store_opts rw = { .origin = "central-1", .durability = LOG_DURABLE_NONE };
	char dir[600], path[700];
	log_store *s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 3, "key" }, v = { 3, "val" };

	/* Empty and missing directories; nothing is left behind. */
	T_EQ_INT(LOG_ENOTPARKLOG, log_store_open(t_tmpdir, &ro, &s));
	snprintf(path, sizeof path, "%s/lock.mdb", t_tmpdir);
	T_ASSERT(access(path, F_OK) != 0);
	snprintf(dir, sizeof dir, "%s/missing", t_tmpdir);
	T_EQ_INT(LOG_ENOTPARKLOG, log_store_open(dir, &ro, &s));
	/* Another program's LMDB environment. */
	snprintf(dir, sizeof dir, "%s/other", t_tmpdir);
	T_EQ_INT(0, mkdir(dir, 0755));
	T_EQ_INT(0, mdb_env_create(&env));
	T_EQ_INT(0, mdb_env_open(env, dir, 0, 0644));
	T_EQ_INT(0, mdb_txn_begin(env, NULL, 0, &txn));
	T_EQ_INT(0, mdb_dbi_open(txn, NULL, 0, &dbi));
	T_EQ_INT(0, mdb_put(txn, dbi, &k, &v, 0));
	T_EQ_INT(0, mdb_txn_commit(txn));
	mdb_env_close(env);
	T_EQ_INT(LOG_ENOTPARKLOG, log_store_open(dir, &ro, &s));
	T_EQ_INT(LOG_ENOTPARKLOG, log_store_open(dir, &rw, &s));
	/* A real one opens read-only, and refuses writes. */
	snprintf(dir, sizeof dir, "%s/real", t_tmpdir);
	s = open_at(dir, "central-1", 0);
	own_batch(s, 3, 0);
	log_store_close(s);
	T_EQ_INT(0, log_store_open(dir, &ro, &s));
	{
		log_txn *t;
		log_store_stat st;

		T_EQ_INT(LOG_EREADONLY, log_txn_begin(s, 1, &t));
		T_EQ_INT(0, log_txn_begin(s, 0, &t));
		T_EQ_INT(0, log_txn_stat(t, &st));
		T_EQ_U64(3, st.events);
		log_txn_abort(t);
	}
	log_store_close(s);
}

/* Flip one byte of a stored record behind the store's back. */
static void corrupt(const char *dir, uint32_t no, uint64_t seq)
{
	uint8_t kb[12] = { 0 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 12, kb }, v;
	char *copy;

	for (int i = 0; i < 4; i++)
		kb[i] = (uint8_t)(no >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		kb[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
	T_EQ_INT(0, mdb_env_create(&env));
	T_EQ_INT(0, mdb_env_set_maxdbs(env, 8));
	T_EQ_INT(0, mdb_env_set_mapsize(env, (size_t)1 << 30));
	T_EQ_INT(0, mdb_env_open(env, dir, 0, 0644));
	T_EQ_INT(0, mdb_txn_begin(env, NULL, 0, &txn));
	T_EQ_INT(0, mdb_dbi_open(txn, "log", 0, &dbi));
	T_EQ_INT(0, mdb_get(txn, dbi, &k, &v));
	copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size - 3] ^= 0x01;
	v.mv_data = copy;
	T_EQ_INT(0, mdb_put(txn, dbi, &k, &v, 0));
	T_EQ_INT(0, mdb_txn_commit(txn));
	mdb_env_close(env);
	free(copy);
}

TEST(every_read_verifies_the_hash)
{
	log_store *s = open_new("central-1");
	log_stream_info si;
	log_event e;
	log_iter *it;
	log_txn *t;
	log_rec r;
	uint64_t d;
	int rc;

	own_batch(s, 10, 0);
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "29A77777", T0 + 1000, 0, &e);
	si = find(t, log_store_own_stream(s));
	T_EQ_INT(0, log_txn_commit(t));
	log_store_close(s);
	corrupt(t_tmpdir, si.no, 5);
	corrupt(t_tmpdir, si.no, 11);

	/* The reads of an auditor (read-only: a write open refuses, below). */
	T_EQ_INT(0, log_store_open(t_tmpdir, &(log_store_opts){ .readonly = 1 }, &s));
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_txn_get_pos(t, si.no, 4, &r));
	T_EQ_INT(LOG_ECORRUPT, log_txn_get_pos(t, si.no, 5, &r));
	T_EQ_INT(LOG_ECORRUPT, log_txn_get_id(t, e.id, &r));
	T_EQ_INT(LOG_ECORRUPT, log_txn_digest(t, si.no, 5, 7, &d));
	T_EQ_INT(0, log_iter_range(t, si.no, 1, 0, &it));
	while ((rc = log_iter_next(it, &r)) == 0)
		;
	T_EQ_INT(LOG_ECORRUPT, rc);
	log_iter_free(it);
	T_EQ_INT(0, log_iter_plate(t, "29A77777", &it));
	T_EQ_INT(LOG_ECORRUPT, log_iter_next(it, &r));
	log_iter_free(it);
	log_txn_abort(t);
	log_store_close(s);
}

/* Issue 12: a write open checks the log and refuses a corrupt one, saying
 * where; nothing is changed (a read-only open still reads it). */
TEST(write_open_refuses_a_corrupt_log)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_NONE };
	log_store *s = open_new("central-1");
	log_stream_info si;
	char err[256] = "", want[128];
	log_txn *t;

	own_batch(s, 10, 0);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	si = find(t, log_store_own_stream(s));
	log_txn_abort(t);
	log_store_close(s);
	corrupt(t_tmpdir, si.no, 7);
	s = NULL;
	T_EQ_INT(LOG_ECORRUPT, log_store_open_err(t_tmpdir, &o, &s, err, sizeof err));
	T_ASSERT(s == NULL);
	snprintf(want, sizeof want, "stream %s seq 7: the event's bytes fail their hash",
	    si.name);
	T_EQ_STR(want, err);
	/* Refused again: the failed open changed nothing. */
	T_EQ_INT(LOG_ECORRUPT, log_store_open(t_tmpdir, &o, &s));
}

/* Issue 12: a head that disagrees with the records is refused too. */
TEST(write_open_refuses_a_head_beyond_the_records)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_NONE };
	log_store *s = open_new("central-1");
	log_stream_info si;
	char err[256] = "";
	MDB_txn *mt;
	MDB_dbi dbi;
	MDB_val k;
	uint8_t kb[12];
	log_txn *t;

	own_batch(s, 5, 0);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	si = find(t, log_store_own_stream(s));
	log_txn_abort(t);
	/* Delete the last record of the stream behind the store's back. */
	T_EQ_INT(0, mdb_txn_begin(log_store_env(s), NULL, 0, &mt));
	T_EQ_INT(0, mdb_dbi_open(mt, "log", 0, &dbi));
	kb[0] = (uint8_t)(si.no >> 24); kb[1] = (uint8_t)(si.no >> 16);
	kb[2] = (uint8_t)(si.no >> 8); kb[3] = (uint8_t)si.no;
	memset(kb + 4, 0, 7);
	kb[11] = 5;
	k = (MDB_val){ 12, kb };
	T_EQ_INT(0, mdb_del(mt, dbi, &k, NULL));
	T_EQ_INT(0, mdb_txn_commit(mt));
	log_store_close(s);
	T_EQ_INT(LOG_ECORRUPT, log_store_open_err(t_tmpdir, &o, &s, err, sizeof err));
	T_ASSERT(strstr(err, "head (seq 5") != NULL);
}

/* Issue 12: one writer per data directory, also within one process; a
 * read-only open works beside it; the lock goes with the store. */
TEST(one_writer_per_directory)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_NONE };
	log_store *s = open_new("central-1"), *s2 = NULL;

	T_EQ_INT(LOG_ELOCKED, log_store_open(t_tmpdir, &o, &s2));
	T_ASSERT(s2 == NULL);
	T_EQ_INT((long)getpid(), log_store_lock_holder(t_tmpdir));
	T_EQ_INT(0, log_store_open(t_tmpdir, &(log_store_opts){ .readonly = 1 }, &s2));
	log_store_close(s2);
	log_store_close(s);
	T_EQ_INT(0, log_store_open(t_tmpdir, &o, &s));
	log_store_close(s);
}

/* Issue 12 / DESIGN.md "Streams": our stream is created by the first own
 * append after an open, not by the open; restarts that append nothing
 * leave no stream in the vector. */
TEST(stream_created_at_first_own_append)
{
	log_stream_info *st, si;
	log_store *s;
	log_txn *t;
	size_t n;

	for (int i = 0; i < 6; i++) {
		s = open_new("central-1");
		T_ASSERT(log_store_own_stream(s) != NULL);
		log_store_close(s);
	}
	s = open_new("central-1");
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_txn_streams(t, &st, &n));
	T_EQ_U64(0, n);
	free(st);
	T_EQ_INT(LOG_NOTFOUND, log_txn_stream_find(t, log_store_own_stream(s), &si));
	log_txn_abort(t);
	/* An aborted first append leaves none either; the next one creates it. */
	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	own(t, "29A12345", T0, 0, NULL);
	log_txn_abort(t);
	own_batch(s, 1, 0);
	own_batch(s, 1, 1);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_txn_streams(t, &st, &n));
	T_EQ_U64(1, n);
	T_EQ_STR(log_store_own_stream(s), st[0].name);
	T_EQ_U64(2, st[0].head_seq);
	T_ASSERT(st[0].current && st[0].own);
	free(st);
	log_txn_abort(t);
	log_store_close(s);
}

/* Issue 12: store.h's P(0) = 0 is checked before a put: a stream whose
 * stored head says (seq 0, P != 0) aborts the append with file:line rather
 * than writing a record whose prefix sum no one can check. */
TEST(head_continuity_is_asserted_before_a_put)
{
	char path[4200], out[4096] = "", name[LOG_STREAM_MAX + 1];
	struct rlimit nocore = { 0, 0 };
	log_store *s = open_new("central-1");
	log_stream_info si;
	uint8_t kb[4], vb[512];
	MDB_val k = { 4, kb }, v;
	MDB_txn *mt;
	MDB_dbi dbi;
	log_txn *t;
	pid_t pid;
	int st = 0, fd;
	ssize_t n;

	T_EQ_INT(0, log_txn_begin(s, 1, &t));
	T_EQ_INT(0, append_peer(t, "central-2", 7, 1, T0, "29A12345", 1));
	stream_name(name, "central-2", 7);
	si = find(t, name);
	T_EQ_INT(0, log_txn_commit(t));
	/* The head record, rewritten behind the store: seq 0 but P 123. */
	for (int i = 0; i < 4; i++)
		kb[i] = (uint8_t)(si.no >> (24 - 8 * i));
	T_EQ_INT(0, mdb_txn_begin(log_store_env(s), NULL, 0, &mt));
	T_EQ_INT(0, mdb_dbi_open(mt, "streams", 0, &dbi));
	T_EQ_INT(0, mdb_get(mt, dbi, &k, &v));
	T_ASSERT(v.mv_size <= sizeof vb);
	memcpy(vb, v.mv_data, v.mv_size);
	memset(vb, 0, 16);
	vb[15] = 123;
	v.mv_data = vb;
	T_EQ_INT(0, mdb_put(mt, dbi, &k, &v, 0));
	T_EQ_INT(0, mdb_txn_commit(mt));
	snprintf(path, sizeof path, "%s/stderr", t_tmpdir);
	/* The child uses the parent's open store (a fresh write open would
	 * refuse this head at its check); the parent only closes it after. */
	if ((pid = fork()) == 0) {
		setrlimit(RLIMIT_CORE, &nocore);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
		    dup2(fd, 2) < 0 || log_txn_begin(s, 1, &t) != 0)
			_exit(2);
		append_peer(t, "central-2", 7, 1, T0, "29A12345", 1);
		_exit(0);
	}
	T_EQ_INT(pid, waitpid(pid, &st, 0));
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	T_ASSERT((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, out, sizeof out - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	T_ASSERT(strstr(out, "store.c:") != NULL);
	T_ASSERT(strstr(out, "assertion failed: sc->head_seq != 0 || sc->head_P == 0") != NULL);
	log_store_close(s);
}

TEST(map_grows_from_one_mib)
{
	log_store *s = open_at(t_tmpdir, "central-1", (size_t)1 << 20);
	log_store_stat st;
	log_stream_info si;
	log_txn *t;

	for (int b = 0; b < 200; b++)
		own_batch(s, 100, b * 100);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	T_EQ_INT(0, log_txn_stat(t, &st));
	T_EQ_U64(20000, st.events);
	T_ASSERT(st.map_size > ((uint64_t)1 << 20));
	T_ASSERT(st.map_used <= st.map_size);
	si = find(t, log_store_own_stream(s));
	check_contiguous(t, si.no, 20000);
	log_txn_abort(t);
	log_store_close(s);
}

/* One transaction larger than the whole map: MAP_FULL, abort, the next
 * begin grows, the retry fits. */
TEST(map_full_then_grow)
{
	log_store *s = open_at(t_tmpdir, "central-1", (size_t)1 << 20);
	log_txn *t;
	char plate[16];
	log_event e;
	int rc = 0, k, tries = 0;

	do {
		T_EQ_INT(0, log_txn_begin(s, 1, &t));
		for (k = 0; k < 5000 && rc == 0; k++) {
			snprintf(plate, sizeof plate, "29A%05d", k);
			body(&e, plate, LOG_EV_ENTRY_PENDING, k);
			if ((rc = log_txn_next_ts(t, plate, T0, &e.ts)) == 0)
				rc = log_txn_append_own(t, &e);
		}
		if (rc == 0)
			rc = log_txn_commit(t);
		else
			log_txn_abort(t);
		T_ASSERT(rc == 0 || rc == MDB_MAP_FULL);
	} while (rc != 0 && (rc = 0, ++tries < 10));
	T_ASSERT(tries > 0 && tries < 10);
	log_store_close(s);
}

/* A read-only process whose map another process grew: MDB_MAP_RESIZED is
 * handled inside log_txn_begin. */
TEST(reader_survives_a_grow_by_another_process)
{
	log_store_opts ro = { .readonly = 1, .mapsize = (size_t)1 << 20 };
	int ready[2], go[2], st;
	char c = 0;
	pid_t pid;
	log_store *s = open_at(t_tmpdir, "central-1", (size_t)1 << 20);

	own_batch(s, 10, 0);
	log_store_close(s);
	T_EQ_INT(0, pipe(ready));
	T_EQ_INT(0, pipe(go));
	if ((pid = fork()) == 0) {
		log_store_stat sst;
		log_txn *t;

		if (log_store_open(t_tmpdir, &ro, &s) != 0)
			_exit(2);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		if (log_txn_begin(s, 0, &t) != 0 || log_txn_stat(t, &sst) != 0)
			_exit(4);
		_exit(sst.events == 5010 ? 0 : 5);
	}
	T_EQ_INT(1, read(ready[0], &c, 1));
	s = open_at(t_tmpdir, "central-1", (size_t)1 << 20);
	for (int b = 0; b < 50; b++)
		own_batch(s, 100, 10 + b * 100);
	log_store_close(s);
	T_EQ_INT(1, write(go[1], &c, 1));
	T_EQ_INT(pid, waitpid(pid, &st, 0));
	T_ASSERT(WIFEXITED(st));
	T_EQ_INT(0, WEXITSTATUS(st));
}

TEST(backup_is_a_compact_copy)
{
	log_store *s = open_new("central-1");
	log_store_opts ro = { .readonly = 1 };
	char dest[600];
	log_store *b;
	log_txn *t;
	log_store_stat st;

	own_batch(s, 50, 0);
	snprintf(dest, sizeof dest, "%s/bk", t_tmpdir);
	T_EQ_INT(0, log_store_backup(s, dest));
	T_EQ_INT(EEXIST, log_store_backup(s, dest));
	T_EQ_INT(0, log_store_open(dest, &ro, &b));
	T_EQ_INT(0, log_txn_begin(b, 0, &t));
	T_EQ_INT(0, log_txn_stat(t, &st));
	T_EQ_U64(50, st.events);
	log_txn_abort(t);
	log_store_close(b);
	log_store_close(s);
}

TEST(strerror_covers_everything)
{
	T_EQ_STR("fork: position or id held with other bytes", log_strerror(LOG_EFORK));
	T_EQ_STR(log_event_strerror(LOG_EEVENT_VALUE), log_strerror(LOG_EEVENT_VALUE));
	T_EQ_STR(mdb_strerror(MDB_MAP_FULL), log_strerror(MDB_MAP_FULL));
	T_EQ_STR(strerror(ENOENT), log_strerror(ENOENT));
	T_ASSERT(log_strerror(-12345) != NULL);
}

T_MAIN()
