/* projections/proj: the projection tables kept in the log's transactions.
 *
 * The central property: the same SET of events gives the same projections
 * and state digest, whatever order (and batching, and re-delivery) they
 * arrived in — and equals a replay of the log from scratch. */
#include "tests/harness/t.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "log/store.h"
#include "projections/proj.h"

#define NORIGINS 3
static const char *origins[NORIGINS] = { "central-1", "central-2", "central-3" };
static const uint64_t epochs[NORIGINS] = { 0x1111, 0x2222, 0x3333 };

typedef struct gen_event {
	char bytes[LOG_EVENT_MAX];
	int len;
	int origin;
	uint64_t seq;
} gen_event;

typedef struct gen_set {
	gen_event *ev;
	size_t n;
} gen_set;

/* xorshift64*: a fixed seed per test makes any failure reproducible. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int cmp_ts(const void *a, const void *b)
{
	const log_event *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* One plate's random history: entries at several origins (double entries
 * included), confirms, exits naming a session, none, or an unknown one. */
static size_t gen_plate(uint64_t *s, int plate_no, log_event *out, size_t max)
{
	char opened[32][LOG_ID_MAX + 1];
	size_t n = 0, nopen = 0;
	int64_t ts = 1764547200000LL + (int64_t)(rnd(s) % 3600000);

	while (n < max) {
		log_event *e = &out[n];
		unsigned r = (unsigned)(rnd(s) % 10);

		memset(e, 0, sizeof *e);
		ts += (int64_t)(rnd(s) % 4) == 0 ? 0 : (int64_t)(rnd(s) % 7200000);
		e->ts = ts;
		T_ASSERT(snprintf(e->plate, sizeof e->plate, "29A%05d", plate_no) <
		    (int)sizeof e->plate);
		snprintf(e->plate_view, sizeof e->plate_view, "29A-%05d", plate_no);
		snprintf(e->vehicle, sizeof e->vehicle, "%s", plate_no % 3 ? "car" : "moto");
		snprintf(e->edge_id, sizeof e->edge_id, "edge-%u", (unsigned)(rnd(s) % 4));
		e->confidence_milli = (int)(rnd(s) % 1001);
		e->entry_ts = e->duration_s = -1;
		snprintf(e->origin, sizeof e->origin, "%s", origins[rnd(s) % NORIGINS]);
		if (r < 4 || nopen == 0) {
			e->type = LOG_EV_ENTRY_PENDING;
		} else if (r < 6) {
			e->type = LOG_EV_ENTRY_CONFIRMED;
			snprintf(e->session, sizeof e->session, "%s", opened[rnd(s) % nopen]);
		} else {
			e->type = LOG_EV_EXIT;
			e->fee = (int64_t)(rnd(s) % 4) * 25000;
			snprintf(e->tariff, sizeof e->tariff, "default");
			if (r < 8)
				snprintf(e->session, sizeof e->session, "%s", opened[rnd(s) % nopen]);
			else if (r == 8)
				snprintf(e->session, sizeof e->session, "central-9_1_%s", e->plate);
		}
		/* now and then the gate's own, earlier time (a queued action):
		 * fold order is by action time, whatever arrives when */
		if (rnd(s) % 4 == 0)
			e->edge_ts = ts - 1 - (int64_t)(rnd(s) % 10800000);
		log_event_id(e->id, e->origin, e->ts, e->plate);
		/* ids are unique per origin: skip a clash rather than bump */
		int clash = 0;
		for (size_t i = 0; i < n; i++)
			clash |= strcmp(out[i].id, e->id) == 0;
		if (clash)
			continue;
		if (e->type == LOG_EV_ENTRY_PENDING) {
			snprintf(e->session, sizeof e->session, "%s", e->id);
			if (nopen < 32)
				memcpy(opened[nopen++], e->id, sizeof opened[0]);
		}
		n++;
	}
	return n;
}

/* The common fields of an operator event on its reserved plate. */
static void gen_op_head(uint64_t *s, log_event *e, enum log_ev_type type,
    int64_t ts, const char *view)
{
	memset(e, 0, sizeof *e);
	e->type = type;
	e->ts = ts;
	snprintf(e->plate, sizeof e->plate, "%s", log_op_plate(type));
	snprintf(e->plate_view, sizeof e->plate_view, "%s", view);
	snprintf(e->vehicle, sizeof e->vehicle, "any");
	snprintf(e->edge_id, sizeof e->edge_id, LOG_OP_EDGE);
	e->confidence_milli = 1000;
	e->entry_ts = e->duration_s = -1;
	snprintf(e->origin, sizeof e->origin, "%s", origins[rnd(s) % NORIGINS]);
	snprintf(e->op.op, sizeof e->op.op, "op-%u", (unsigned)(rnd(s) % 3));
	snprintf(e->op.reason, sizeof e->op.reason, "because %u",
	    (unsigned)(rnd(s) % 100));
	log_event_id(e->id, e->origin, e->ts, e->plate);
}

/* One random operator event about the gate events gates[0..n): a
 * correction of an entry or exit to another plate, a void, a pass issued
 * or revoked, or a tariff. */
static void gen_op(uint64_t *s, const log_event *gates, size_t n, int plates,
    log_event *e)
{
	const log_event *g = &gates[rnd(s) % n];
	int64_t ts = g->ts + (int64_t)(rnd(s) % 7200000) - 3600000;
	char plate[LOG_PLATE_MAX + 1];
	unsigned r = (unsigned)(rnd(s) % 10);

	snprintf(plate, sizeof plate, "29A%05d", (int)(rnd(s) % (uint64_t)plates));
	if (r < 3 && g->type != LOG_EV_ENTRY_CONFIRMED && strcmp(plate, g->plate) != 0) {
		gen_op_head(s, e, LOG_EV_PLATE_CORRECTED, ts, plate);
		snprintf(e->op.target, sizeof e->op.target, "%s", g->id);
		snprintf(e->op.from_plate, sizeof e->op.from_plate, "%s", g->plate);
		snprintf(e->op.plate, sizeof e->op.plate, "%s", plate);
	} else if (r < 5) {
		gen_op_head(s, e, LOG_EV_SESSION_VOIDED, ts, g->plate);
		snprintf(e->session, sizeof e->session, "%s",
		    g->type == LOG_EV_ENTRY_PENDING || g->type == LOG_EV_EXIT ? g->id :
		    g->session);
		snprintf(e->op.plate, sizeof e->op.plate, "%s", g->plate);
	} else if (r < 8) {
		gen_op_head(s, e, r < 7 ? LOG_EV_PASS_ISSUED : LOG_EV_PASS_REVOKED,
		    ts, g->plate);
		snprintf(e->op.plate, sizeof e->op.plate, "%s", g->plate);
		snprintf(e->op.pass, sizeof e->op.pass, "p%u", (unsigned)(rnd(s) % 3));
		if (r < 7) {
			snprintf(e->vehicle, sizeof e->vehicle, "%s", rnd(s) % 2 ? "any" : "car");
			snprintf(e->op.kind, sizeof e->op.kind, "monthly");
			e->op.valid_from = ts - (int64_t)(rnd(s) % 36000000);
			e->op.valid_to = e->op.valid_from + 1 + (int64_t)(rnd(s) % 36000000);
		}
	} else {
		gen_op_head(s, e, LOG_EV_TARIFF_SET, ts, LOG_OP_PLATE_TARIFF);
		snprintf(e->tariff, sizeof e->tariff, "t%u", (unsigned)(rnd(s) % 100));
		e->op.effective_from = ts - (int64_t)(rnd(s) % 7200000);
		snprintf(e->op.value, sizeof e->op.value, "{\"name\":\"%s\","
		    "\"classes\":{\"default\":{\"mode\":\"hourly\",\"free_min\":%u,"
		    "\"per_hour\":%u}}}", e->tariff, (unsigned)(rnd(s) % 60),
		    (unsigned)(rnd(s) % 5) * 10000);
	}
}

/* A random event set over `plates` plates, with seqs per origin stream in
 * ts order (as each origin's hybrid clock would have written them), and
 * nops operator events about them. */
static gen_set gen_ops(uint64_t seed, int plates, int per_plate, int nops)
{
	size_t max = (size_t)(plates * per_plate + nops);
	log_event *all = calloc(max, sizeof *all);
	gen_set g = { calloc(max, sizeof(gen_event)), 0 };
	uint64_t s = seed, seq[NORIGINS] = { 0 };
	char err[200];
	size_t n = 0;

	T_ASSERT(all && g.ev);
	for (int p = 0; p < plates; p++)
		n += gen_plate(&s, p, all + n, (size_t)per_plate);
	for (size_t ngates = n, k = 0; k < (size_t)nops; k++) {
		int clash = 0;

		gen_op(&s, all, ngates, plates, &all[n]);
		if (all[n].type == LOG_EV_NONE)
			continue;
		for (size_t i = ngates; i < n; i++)
			clash |= strcmp(all[i].id, all[n].id) == 0;
		if (!clash)
			n++;
	}
	qsort(all, n, sizeof *all, cmp_ts);
	for (size_t i = 0; i < n; i++) {
		int o = 0;

		while (strcmp(origins[o], all[i].origin) != 0)
			o++;
		all[i].epoch = epochs[o];
		all[i].seq = ++seq[o];
		g.ev[i].len = log_event_encode(&all[i], g.ev[i].bytes, sizeof g.ev[i].bytes);
		if (g.ev[i].len <= 0) {
			log_event_check(&all[i], err, sizeof err);
			T_FAIL("generated event %s invalid: %s", all[i].id, err);
		}
		g.ev[i].origin = o;
		g.ev[i].seq = all[i].seq;
	}
	g.n = n;
	free(all);
	return g;
}

static gen_set gen(uint64_t seed, int plates, int per_plate)
{
	return gen_ops(seed, plates, per_plate, 0);
}

typedef struct node {
	log_store *s;
	proj *p;
} node;

static node node_open(const char *name, const char *origin)
{
	char dir[700];
	log_store_opts o = { .origin = origin, .durability = LOG_DURABLE_NONE,
	    .extra_dbs = PROJ_DBS };
	proj_tariff t;
	node n;
	int rc;

	snprintf(dir, sizeof dir, "%s/%s", t_tmpdir, name);
	if ((rc = log_store_open(dir, &o, &n.s)) != 0)
		T_FAIL("open %s: %s", dir, log_strerror(rc));
	proj_tariff_default(&t);
	if ((rc = proj_open(n.s, &t, &n.p)) != 0)
		T_FAIL("proj_open: %s", proj_strerror(rc));
	proj_attach(n.p);
	return n;
}

static void node_close(node *n)
{
	proj_close(n->p);
	log_store_close(n->s);
}

/* Deliver every event: streams interleaved at random, each in seq order,
 * random batch sizes, and now and then an event delivered again. */
static void deliver(node *n, const gen_set *g, uint64_t seed)
{
	size_t next[NORIGINS] = { 0 }, left = g->n, inbatch = 0, batch = 1;
	size_t *idx[NORIGINS], cnt[NORIGINS] = { 0 };
	uint64_t s = seed;
	log_txn *t = NULL;
	char err[200];
	int rc;

	for (int o = 0; o < NORIGINS; o++)
		idx[o] = calloc(g->n, sizeof(size_t));
	for (size_t i = 0; i < g->n; i++)
		idx[g->ev[i].origin][cnt[g->ev[i].origin]++] = i;
	while (left > 0) {
		int o = (int)(rnd(&s) % NORIGINS);
		size_t take = 1 + rnd(&s) % 4;

		for (; take > 0 && next[o] < cnt[o]; take--, left--) {
			const gen_event *e = &g->ev[idx[o][next[o]++]];

			if (t == NULL) {
				T_EQ_INT(0, log_txn_begin(n->s, 1, &t));
				batch = 1 + rnd(&s) % 16;
			}
			rc = log_txn_append_peer(t, e->bytes, (size_t)e->len, err, sizeof err);
			if (rc != 0)
				T_FAIL("append %.*s: %s %s", e->len, e->bytes, log_strerror(rc), err);
			if (rnd(&s) % 8 == 0)	/* re-delivery is a no-op */
				T_EQ_INT(LOG_DUP, log_txn_append_peer(t, e->bytes,
				    (size_t)e->len, err, sizeof err));
			if (++inbatch >= batch) {
				T_EQ_INT(0, log_txn_commit(t));
				t = NULL;
				inbatch = 0;
			}
		}
	}
	if (t != NULL)
		T_EQ_INT(0, log_txn_commit(t));
	for (int o = 0; o < NORIGINS; o++)
		free(idx[o]);
}

typedef struct fp_ctx {
	uint64_t h;
	size_t n;
} fp_ctx;

static int fp_row(void *ctx, const proj_session *s)
{
	fp_ctx *c = ctx;
	char buf[PROJ_SESSION_JSON_MAX];
	int len = proj_session_json(s, buf, sizeof buf);

	T_ASSERT(len > 0);
	/* order-sensitive: recent() order is part of what must agree */
	c->h = c->h * 1099511628211ULL ^ XXH3_64bits(buf, (size_t)len);
	c->n++;
	return 0;
}

/* Fingerprint of everything a client can see. */
static void fingerprint(node *n, proj_summary *sum, fp_ctx *rows, proj_day *day0)
{
	char err[256];
	log_txn *t;
	int rc;

	memset(rows, 0, sizeof *rows);
	T_EQ_INT(0, log_txn_begin(n->s, 0, &t));
	T_EQ_INT(0, proj_summary_get(n->p, t, sum));
	T_EQ_INT(0, proj_each_recent(n->p, t, 0, 0, fp_row, rows));
	T_EQ_INT(0, proj_each_inside(n->p, t, fp_row, rows));
	T_EQ_INT(0, proj_day_get(n->p, t, proj_local_day(n->p, 1764547200000LL), day0));
	if ((rc = proj_check(n->p, t, err, sizeof err)) != 0)
		T_FAIL("stored projections differ from a replay: %s", err);
	log_txn_abort(t);
}

/* Every projection table's contents, hashed in key order (counters that
 * are 0 left out: a rebuild does not write them). */
static uint64_t tables_hash(node *n)
{
	static const char *names[] = { "p_sessions", "p_plate", "p_time",
	    "p_conflict", "p_meta" };
	uint64_t h = 0;
	log_txn *t;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		MDB_dbi dbi;
		MDB_cursor *c;
		MDB_val k, v;
		int rc;

		T_EQ_INT(0, log_store_dbi(n->s, names[i], 0, &dbi));
		T_EQ_INT(0, log_txn_begin(n->s, 0, &t));
		T_EQ_INT(0, mdb_cursor_open(log_txn_mdb(t), dbi, &c));
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			int64_t z = 0;

			if (strcmp(names[i], "p_meta") == 0 && v.mv_size == sizeof z && memcmp(v.mv_data, &z, sizeof z) == 0)
				continue;
			h = h * 1099511628211ULL ^ XXH3_64bits(k.mv_data, k.mv_size);
			h = h * 1099511628211ULL ^ XXH3_64bits(v.mv_data, v.mv_size);
		}
		T_EQ_INT(MDB_NOTFOUND, rc);
		mdb_cursor_close(c);
		log_txn_abort(t);
	}
	return h;
}

/* The tables as appends left them equal those of a fold from scratch. */
static void check_rebuild_alike(node *n)
{
	uint64_t before = tables_hash(n);
	log_txn *t;

	T_EQ_INT(0, log_txn_begin(n->s, 1, &t));
	T_EQ_INT(0, proj_rebuild(n->p, t));
	T_EQ_INT(0, log_txn_commit(t));
	if (tables_hash(n) != before)
		T_FAIL("projection tables differ from a rebuild");
}

static void converge_ops(uint64_t seed, int plates, int per_plate, int orders,
    int nops)
{
	proj_stats st, all = { 0, 0, 0 };
	gen_set g = gen_ops(seed, plates, per_plate, nops);
	proj_summary s0, s;
	fp_ctx r0, r;
	proj_day d0, d;

	for (int k = 0; k < orders; k++) {
		char name[32];
		node n;

		snprintf(name, sizeof name, "s%llu-n%d", (unsigned long long)seed, k);
		n = node_open(name, NULL);
		deliver(&n, &g, seed * 7919 + (uint64_t)k + 1);
		proj_get_stats(n.p, &st);
		all.extended += st.extended;
		all.refolded += st.refolded;
		fingerprint(&n, k ? &s : &s0, k ? &r : &r0, k ? &d : &d0);
		check_rebuild_alike(&n);
		node_close(&n);
		if (k == 0)
			continue;
		if (s.digest != s0.digest || r.h != r0.h || r.n != r0.n ||
		    memcmp(&d, &d0, sizeof d) != 0 || s.inside != s0.inside ||
		    s.revenue != s0.revenue || s.conflicts != s0.conflicts)
			T_FAIL("seed %llu: arrival order %d gives other projections "
			    "(digest %016llx vs %016llx, rows %zu vs %zu)",
			    (unsigned long long)seed, k, (unsigned long long)s.digest,
			    (unsigned long long)s0.digest, r.n, r0.n);
	}
	T_ASSERT(s0.sessions > 0);
	/* both ways of applying an event ran: in order and late */
	if (all.extended == 0 || all.refolded == 0)
		T_FAIL("seed %llu: %llu extended, %llu refolded", (unsigned long long)seed,
		    (unsigned long long)all.extended, (unsigned long long)all.refolded);
	free(g.ev);
}

static void converge(uint64_t seed, int plates, int per_plate, int orders)
{
	converge_ops(seed, plates, per_plate, orders, 0);
}

TEST(same_events_any_order_same_projections)
{
	converge(1, 25, 10, 12);
}

TEST(same_events_any_order_many_seeds)
{
	for (uint64_t seed = 2; seed < 12; seed++)
		converge(seed, 8, 14, 5);
}

/* Issue 14: random corrections, voids, passes and tariffs among the gate
 * events, delivered to three centrals in random interleavings and batches
 * (and again): equal digests, rows, figures, equal to a replay and to a
 * rebuild (converge checks all of that). */
TEST(operator_changes_any_order_same_projections)
{
	for (uint64_t seed = 100; seed < 116; seed++)
		converge_ops(seed, 8, 12, 3, 30);
}

/* Append an own event at a gate; returns its id. */
static void gate(node *n, enum log_ev_type type, const char *plate, int64_t wall,
    const char *session, int64_t fee, char id[LOG_ID_MAX + 1])
{
	log_event e;
	log_txn *t;

	memset(&e, 0, sizeof e);
	e.type = type;
	snprintf(e.plate, sizeof e.plate, "%s", plate);
	snprintf(e.plate_view, sizeof e.plate_view, "%s", plate);
	snprintf(e.vehicle, sizeof e.vehicle, "car");
	snprintf(e.edge_id, sizeof e.edge_id, "edge-1");
	e.confidence_milli = 950;
	e.entry_ts = e.duration_s = -1;
	if (session)
		snprintf(e.session, sizeof e.session, "%s", session);
	if (type == LOG_EV_EXIT) {
		e.fee = fee;
		snprintf(e.tariff, sizeof e.tariff, "default");
	}
	T_EQ_INT(0, log_txn_begin(n->s, 1, &t));
	T_EQ_INT(0, log_txn_next_ts(t, plate, wall, &e.ts));
	T_EQ_INT(0, log_txn_append_own(t, &e));
	T_EQ_INT(0, log_txn_commit(t));
	if (id)
		snprintf(id, LOG_ID_MAX + 1, "%s", e.id);
}

TEST(entry_confirm_exit_updates_occupancy_stats_and_revenue)
{
	const int64_t t0 = 1764547200000LL;	/* 2025-12-01 07:00 +07:00 */
	node n = node_open("c1", "central-1");
	char entry[LOG_ID_MAX + 1];
	proj_session s;
	proj_summary sum;
	proj_day day;
	log_txn *t;

	gate(&n, LOG_EV_ENTRY_PENDING, "29A12345", t0, NULL, 0, entry);
	gate(&n, LOG_EV_ENTRY_CONFIRMED, "29A12345", t0 + 5000, entry, 0, NULL);
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(0, proj_inside_get(n.p, t, "29A12345", &s));
	T_EQ_STR(entry, s.id);
	T_ASSERT(s.flags & PROJ_S_CONFIRMED);
	T_EQ_INT(0, proj_summary_get(n.p, t, &sum));
	T_EQ_INT(1, sum.inside);
	T_EQ_INT(1, sum.nclasses);
	T_EQ_STR("car", sum.classes[0].vehicle);
	log_txn_abort(t);

	gate(&n, LOG_EV_EXIT, "29A12345", t0 + 91 * 60000, entry, 50000, NULL);
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(LOG_NOTFOUND, proj_inside_get(n.p, t, "29A12345", &s));
	T_EQ_INT(0, proj_session_get(n.p, t, entry, &s));
	T_ASSERT(s.flags & PROJ_S_CLOSED);
	T_EQ_INT(50000, s.fee_charged);
	T_EQ_INT(50000, s.fee_tariff);	/* 91 min: two started hours after 30 free */
	T_EQ_INT(0, proj_summary_get(n.p, t, &sum));
	T_EQ_INT(0, sum.inside);
	T_EQ_INT(0, sum.nclasses);
	T_EQ_INT(50000, sum.revenue);
	T_EQ_INT(0, proj_day_get(n.p, t, proj_local_day(n.p, t0), &day));
	T_EQ_INT(1, day.entries);
	T_EQ_INT(1, day.exits);
	T_EQ_INT(50000, day.revenue);
	log_txn_abort(t);
	node_close(&n);
}

typedef struct ids_ctx {
	char id[8][LOG_ID_MAX + 1];
	size_t n, stop_at;
} ids_ctx;

static int ids_row(void *ctx, const proj_session *s)
{
	ids_ctx *c = ctx;

	T_ASSERT(c->n < 8);
	T_ASSERT(!(s->flags & PROJ_S_CLOSED));
	snprintf(c->id[c->n++], LOG_ID_MAX + 1, "%s", s->id);
	return c->n == c->stop_at;
}

/* Who is inside: the open primary sessions, in session id order (not by
 * plate), gone once they exit; a callback's 1 stops the listing. */
TEST(inside_listing_in_session_order)
{
	const int64_t t0 = 1764547200000LL;
	static const char *plates[] = { "99Z00001", "11A00002", "55K00003", "22B00004" };
	node n = node_open("c1", "central-1");
	char id[4][LOG_ID_MAX + 1];
	ids_ctx c = { .stop_at = 0 };
	log_txn *t;

	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));	/* nobody inside yet */
	T_EQ_INT(0, proj_each_inside(n.p, t, ids_row, &c));
	T_EQ_INT(0, c.n);
	log_txn_abort(t);
	for (int i = 0; i < 4; i++)	/* ids carry the entry time: in this order */
		gate(&n, LOG_EV_ENTRY_PENDING, plates[i], t0 + i * 1000, NULL, 0, id[i]);
	gate(&n, LOG_EV_EXIT, plates[1], t0 + 60000, id[1], 0, NULL);
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(0, proj_each_inside(n.p, t, ids_row, &c));
	T_EQ_INT(3, c.n);
	T_EQ_STR(id[0], c.id[0]);
	T_EQ_STR(id[2], c.id[1]);
	T_EQ_STR(id[3], c.id[2]);
	c = (ids_ctx){ .stop_at = 2 };
	T_EQ_INT(0, proj_each_inside(n.p, t, ids_row, &c));
	T_EQ_INT(2, c.n);
	log_txn_abort(t);
	node_close(&n);
}

/* A commuter's long history: every in-order append reads nothing back from
 * the log (its cost does not grow with the history); a late one re-folds. */
TEST(long_history_appends_at_flat_cost)
{
	const int64_t t0 = 1764547200000LL;
	const int visits = 2000;
	node n = node_open("c1", "central-1");
	char entry[LOG_ID_MAX + 1], err[200], bytes[LOG_EVENT_MAX];
	proj_stats st;
	proj_summary sum;
	log_event late;
	log_txn *t;
	int len;

	for (int v = 0; v < visits; v++) {
		int64_t w = t0 + (int64_t)v * 3600000;

		gate(&n, LOG_EV_ENTRY_PENDING, "29A12345", w, NULL, 0, entry);
		gate(&n, LOG_EV_ENTRY_CONFIRMED, "29A12345", w + 5000, entry, 0, NULL);
		gate(&n, LOG_EV_EXIT, "29A12345", w + 40 * 60000, entry, 25000, NULL);
		proj_get_stats(n.p, &st);
		T_EQ_U64(0, st.events_read);
		T_EQ_U64(0, st.refolded);
	}
	T_EQ_U64(3 * visits, st.extended);
	/* a peer's exit from the first hour, heard only now */
	memset(&late, 0, sizeof late);
	late.type = LOG_EV_EXIT;
	late.ts = t0 + 1800000;
	snprintf(late.origin, sizeof late.origin, "central-2");
	late.epoch = 7;
	late.seq = 1;
	snprintf(late.plate, sizeof late.plate, "29A12345");
	snprintf(late.plate_view, sizeof late.plate_view, "29A12345");
	snprintf(late.vehicle, sizeof late.vehicle, "car");
	snprintf(late.edge_id, sizeof late.edge_id, "edge-9");
	late.entry_ts = late.duration_s = -1;
	late.fee = 25000;
	snprintf(late.tariff, sizeof late.tariff, "default");
	log_event_id(late.id, late.origin, late.ts, late.plate);
	T_ASSERT((len = log_event_encode(&late, bytes, sizeof bytes)) > 0);
	T_EQ_INT(0, log_txn_begin(n.s, 1, &t));
	T_EQ_INT(0, log_txn_append_peer(t, bytes, (size_t)len, err, sizeof err));
	T_EQ_INT(0, log_txn_commit(t));
	proj_get_stats(n.p, &st);
	T_EQ_U64(1, st.refolded);
	T_EQ_U64(3 * visits + 1, st.events_read);
	/* and the next in-order event is back on the flat path */
	gate(&n, LOG_EV_ENTRY_PENDING, "29A12345", t0, NULL, 0, entry);
	proj_get_stats(n.p, &st);
	T_EQ_U64(3 * visits + 1, st.events_read);
	T_EQ_U64(3 * visits + 1, st.extended);
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(0, proj_summary_get(n.p, t, &sum));
	/* it closed the first visit (LINKED), whose own exit is now a DUP */
	T_EQ_INT(visits + 2, sum.sessions);
	T_EQ_INT(1, sum.inside);
	T_EQ_INT(0, proj_check(n.p, t, err, sizeof err));
	log_txn_abort(t);
	check_rebuild_alike(&n);
	node_close(&n);
}

/* In-order exits whose session the fold no longer holds: one closed earlier
 * (DUP_EXIT) and one of another plate (not ours: ORPHAN_EXIT). */
TEST(in_order_exit_naming_closed_or_foreign_session)
{
	const int64_t t0 = 1764547200000LL;
	node n = node_open("c1", "central-1");
	char a[LOG_ID_MAX + 1], b[LOG_ID_MAX + 1], x[LOG_ID_MAX + 1], y[LOG_ID_MAX + 1];
	char err[200];
	proj_session s;
	proj_stats st;
	log_txn *t;

	gate(&n, LOG_EV_ENTRY_PENDING, "29A11111", t0, NULL, 0, a);
	gate(&n, LOG_EV_EXIT, "29A11111", t0 + 3600000, a, 25000, NULL);
	gate(&n, LOG_EV_EXIT, "29A11111", t0 + 3700000, a, 25000, x);
	gate(&n, LOG_EV_ENTRY_PENDING, "30B22222", t0, NULL, 0, b);
	gate(&n, LOG_EV_EXIT, "29A11111", t0 + 3800000, b, 0, y);
	gate(&n, LOG_EV_EXIT, "30B22222", t0 + 3900000, a, 25000, NULL);
	proj_get_stats(n.p, &st);
	T_EQ_U64(0, st.refolded);
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(0, proj_session_get(n.p, t, x, &s));
	T_EQ_INT(PROJ_S_CLOSED | PROJ_S_DUP_EXIT, s.flags);
	T_EQ_INT(0, proj_session_get(n.p, t, y, &s));
	T_EQ_INT(PROJ_S_CLOSED | PROJ_S_ORPHAN_EXIT, s.flags);
	T_EQ_INT(0, proj_session_get(n.p, t, b, &s));
	T_EQ_INT(PROJ_S_CLOSED | PROJ_S_LINKED_EXIT, s.flags & ~(unsigned)PROJ_S_FEE_DIFF);
	T_EQ_INT(0, proj_check(n.p, t, err, sizeof err));
	log_txn_abort(t);
	check_rebuild_alike(&n);
	node_close(&n);
}

TEST(local_day_uses_facility_offset)
{
	node n = node_open("c1", "central-1");

	/* 2025-11-30 17:00 UTC is 2025-12-01 00:00 at +07:00 */
	T_EQ_INT(proj_local_day(n.p, 1764547200000LL),
	    proj_local_day(n.p, 1764522000000LL));
	T_ASSERT(proj_local_day(n.p, 1764521999999LL) ==
	    proj_local_day(n.p, 1764522000000LL) - 1);
	node_close(&n);
}

TEST(tariff_change_rebuilds_and_replay_agrees)
{
	gen_set g = gen(99, 10, 10);
	proj_summary a, b;
	proj_tariff t;
	fp_ctx r;
	proj_day d;
	node n = node_open("c1", NULL);
	char dir[700];
	log_store_opts o = { .durability = LOG_DURABLE_NONE, .extra_dbs = PROJ_DBS };

	deliver(&n, &g, 5);
	fingerprint(&n, &a, &r, &d);
	proj_close(n.p);
	proj_tariff_default(&t);
	t.rules[0].per_hour = 30000;	/* another price: fee_tariff changes */
	T_EQ_INT(0, proj_open(n.s, &t, &n.p));
	fingerprint(&n, &b, &r, &d);
	T_ASSERT(a.digest != b.digest);
	T_EQ_INT(a.sessions, b.sessions);
	node_close(&n);

	/* an auditor's read-only open replays with the stored tariff */
	snprintf(dir, sizeof dir, "%s/c1", t_tmpdir);
	o.readonly = 1;
	T_EQ_INT(0, log_store_open(dir, &o, &n.s));
	T_EQ_INT(0, proj_open(n.s, NULL, &n.p));
	T_EQ_INT(30000, proj_get_tariff(n.p)->rules[0].per_hour);
	fingerprint(&n, &a, &r, &d);
	T_EQ_U64(b.digest, a.digest);
	node_close(&n);
	free(g.ev);
}

/* Issue 12: the counters in p_meta count rows and are never negative
 * (proj.h); one that would go below 0 — here "inside" zeroed behind the
 * projections' back, then an exit — aborts with file:line. */
TEST(counters_never_negative_is_asserted)
{
	const int64_t t0 = 1764547200000LL;
	node n = node_open("c1", "central-1");
	char entry[LOG_ID_MAX + 1], dir[700], path[800], out[4096] = "";
	struct rlimit nocore = { 0, 0 };
	int64_t zero = 0;
	MDB_val k = { 6, "inside" }, v = { sizeof zero, &zero };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	pid_t pid;
	int st = 0, fd;
	ssize_t got;

	gate(&n, LOG_EV_ENTRY_PENDING, "29A12345", t0, NULL, 0, entry);
	node_close(&n);
	snprintf(dir, sizeof dir, "%s/c1", t_tmpdir);
	T_EQ_INT(0, mdb_env_create(&env));
	T_EQ_INT(0, mdb_env_set_maxdbs(env, 32));
	T_EQ_INT(0, mdb_env_open(env, dir, 0, 0644));
	T_EQ_INT(0, mdb_txn_begin(env, NULL, 0, &txn));
	T_EQ_INT(0, mdb_dbi_open(txn, "p_meta", 0, &meta));
	T_EQ_INT(0, mdb_put(txn, meta, &k, &v, 0));
	T_EQ_INT(0, mdb_txn_commit(txn));
	mdb_env_close(env);
	snprintf(path, sizeof path, "%s/stderr", t_tmpdir);
	if ((pid = fork()) == 0) {
		setrlimit(RLIMIT_CORE, &nocore);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(2);
		n = node_open("c1", "central-1");
		gate(&n, LOG_EV_EXIT, "29A12345", t0 + 3600000, entry, 25000, NULL);
		_exit(0);
	}
	T_EQ_INT(pid, waitpid(pid, &st, 0));
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	T_ASSERT((fd = open(path, O_RDONLY)) >= 0);
	got = read(fd, out, sizeof out - 1);
	close(fd);
	out[got > 0 ? got : 0] = '\0';
	T_ASSERT(strstr(out, "proj.c:") != NULL);
	T_ASSERT(strstr(out, "assertion failed: n >= 0") != NULL);
}

/* Projections of an older schema: a read-only open refuses to read them
 * (PROJ_ESTALE), a write open rebuilds them and drops the old p_open. */
TEST(older_schema_is_rebuilt_and_refused_read_only)
{
	gen_set g = gen(7, 6, 8);
	proj_summary a, b;
	proj_session s;
	fp_ctx r;
	proj_day d;
	node n = node_open("c1", NULL);
	char dir[700];
	log_store_opts o = { .durability = LOG_DURABLE_NONE, .extra_dbs = PROJ_DBS };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, old;
	int64_t two = 2;
	MDB_val k = { 6, "schema" }, v = { sizeof two, &two };
	log_txn *t;

	deliver(&n, &g, 3);
	fingerprint(&n, &a, &r, &d);
	node_close(&n);
	snprintf(dir, sizeof dir, "%s/c1", t_tmpdir);
	T_EQ_INT(0, mdb_env_create(&env));
	T_EQ_INT(0, mdb_env_set_maxdbs(env, 32));
	T_EQ_INT(0, mdb_env_open(env, dir, 0, 0644));
	T_EQ_INT(0, mdb_txn_begin(env, NULL, 0, &txn));
	T_EQ_INT(0, mdb_dbi_open(txn, "p_meta", 0, &meta));
	T_EQ_INT(0, mdb_put(txn, meta, &k, &v, 0));
	T_EQ_INT(0, mdb_dbi_open(txn, "p_open", MDB_CREATE | MDB_DUPSORT, &old));
	T_EQ_INT(0, mdb_txn_commit(txn));
	mdb_env_close(env);

	o.readonly = 1;
	T_EQ_INT(0, log_store_open(dir, &o, &n.s));
	T_EQ_INT(0, proj_open(n.s, NULL, &n.p));
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(PROJ_ESTALE, proj_inside_get(n.p, t, "29A12345", &s));
	T_EQ_INT(PROJ_ESTALE, proj_summary_get(n.p, t, &b));
	log_txn_abort(t);
	node_close(&n);

	o.readonly = 0;
	T_EQ_INT(0, log_store_open(dir, &o, &n.s));
	T_EQ_INT(0, proj_open(n.s, NULL, &n.p));
	fingerprint(&n, &b, &r, &d);
	T_EQ_U64(a.digest, b.digest);
	T_EQ_INT(a.sessions, b.sessions);
	T_EQ_INT(0, mdb_txn_begin(log_store_env(n.s), NULL, MDB_RDONLY, &txn));
	T_EQ_INT(MDB_NOTFOUND, mdb_dbi_open(txn, "p_open", 0, &old));
	mdb_txn_abort(txn);
	node_close(&n);
	free(g.ev);
}

T_MAIN()

/* ---- time (issue 12 items 3 and 4, docs/time.md) ----------------------- */

#define PAIRS 8
#define T_H 3600000LL

typedef struct rows_ctx {
	proj_session s[4];
	size_t n;
} rows_ctx;

static int rows_row(void *ctx, const proj_session *s)
{
	rows_ctx *c = ctx;

	if (c->n < 4)
		c->s[c->n] = *s;
	c->n++;
	return 0;
}

/* Plate i's ENTRY (central-1, its gate queued it: done at t0 + i min,
 * recorded 5 h later) and EXIT (central-2, live, 2 h after t0, naming no
 * session: it had not heard of the entry), as canonical bytes. */
static void pair_events(int i, gen_event *entry, gen_event *exit_)
{
	const int64_t t0 = 1764547200000LL;
	log_event e;

	memset(&e, 0, sizeof e);
	snprintf(e.plate, sizeof e.plate, "29A%05d", i);
	snprintf(e.plate_view, sizeof e.plate_view, "29A-%05d", i);
	snprintf(e.vehicle, sizeof e.vehicle, "car");
	snprintf(e.edge_id, sizeof e.edge_id, "edge-1");
	e.confidence_milli = 900;
	e.entry_ts = e.duration_s = -1;
	e.type = LOG_EV_ENTRY_PENDING;
	snprintf(e.origin, sizeof e.origin, "central-1");
	e.epoch = epochs[0];
	e.seq = (uint64_t)i + 1;
	e.ts = t0 + 5 * T_H + i * 1000;
	e.edge_ts = t0 + i * 60000;
	log_event_id(e.id, e.origin, e.ts, e.plate);
	memcpy(e.session, e.id, sizeof e.session);
	entry->len = log_event_encode(&e, entry->bytes, sizeof entry->bytes);
	T_ASSERT(entry->len > 0);
	entry->origin = 0;
	entry->seq = e.seq;

	e.type = LOG_EV_EXIT;
	snprintf(e.origin, sizeof e.origin, "central-2");
	e.epoch = epochs[1];
	e.ts = t0 + 2 * T_H + i * 1000;
	e.edge_ts = e.ts - 1000;
	e.session[0] = '\0';
	e.fee = 25000;			/* the tariff's unknown_entry_fee */
	snprintf(e.tariff, sizeof e.tariff, "default");
	log_event_id(e.id, e.origin, e.ts, e.plate);
	exit_->len = log_event_encode(&e, exit_->bytes, sizeof exit_->bytes);
	T_ASSERT(exit_->len > 0);
	exit_->origin = 1;
	exit_->seq = e.seq;
}

/* An EXIT delivered before its ENTRY (a gate's queue drained late) ends as
 * one closed session with the tariff's fee on every central, whatever the
 * order of delivery: exits first, entries first, or shuffled. */
TEST(exit_before_entry_any_order_one_closed_session)
{
	gen_event ent[PAIRS], ex[PAIRS];
	uint64_t digest0 = 0;

	for (int i = 0; i < PAIRS; i++)
		pair_events(i, &ent[i], &ex[i]);
	for (int k = 0; k < 6; k++) {
		size_t ne = 0, nx = 0;
		uint64_t s = (uint64_t)k + 77;
		char name[16], err[200];
		proj_summary sum;
		node n;
		log_txn *t;

		snprintf(name, sizeof name, "n%d", k);
		n = node_open(name, "central-3");
		while (ne < PAIRS || nx < PAIRS) {
			/* k 0: every exit first; k 1: every entry first; then
			 * random interleavings (each stream in its seq order) */
			int take_exit = k == 0 ? nx < PAIRS : k == 1 ? ne == PAIRS :
			    ne == PAIRS || (nx < PAIRS && rnd(&s) % 2);
			const gen_event *g = take_exit ? &ex[nx++] : &ent[ne++];

			T_EQ_INT(0, log_txn_begin(n.s, 1, &t));
			if (log_txn_append_peer(t, g->bytes, (size_t)g->len, err, sizeof err) != 0)
				T_FAIL("append: %s", err);
			T_EQ_INT(0, log_txn_commit(t));
		}
		T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
		for (int i = 0; i < PAIRS; i++) {
			char plate[LOG_PLATE_MAX + 1];
			rows_ctx rc = { .n = 0 };

			snprintf(plate, sizeof plate, "29A%05d", i);
			T_EQ_INT(0, proj_each_plate(n.p, t, plate, rows_row, &rc));
			if (rc.n != 1)
				T_FAIL("order %d, %s: %zu sessions, want 1", k, plate, rc.n);
			T_ASSERT(rc.s[0].flags & PROJ_S_CLOSED);
			T_ASSERT(rc.s[0].flags & PROJ_S_LINKED_EXIT);
			T_EQ_INT(1764547200000LL + i * 60000, rc.s[0].entry_ts);
			T_EQ_INT(1764547200000LL + 2 * T_H + i * 1000 - 1000, rc.s[0].exit_ts);
			/* 2 h less i min, 30 min free: two started hours */
			T_EQ_INT(50000, rc.s[0].fee_tariff);
			T_EQ_INT(25000, rc.s[0].fee_charged);
		}
		T_EQ_INT(0, proj_summary_get(n.p, t, &sum));
		T_EQ_INT(0, sum.inside);
		T_EQ_INT(0, proj_check(n.p, t, err, sizeof err));
		log_txn_abort(t);
		if (k == 0)
			digest0 = sum.digest;
		T_EQ_U64(digest0, sum.digest);
		check_rebuild_alike(&n);
		node_close(&n);
	}
}

/* Issue 12 item 3 at the projections: one event dated 10 years ahead (a
 * peer's clock) dates nobody else's events, also across restarts: another
 * plate's duration and fee are right. */
TEST(far_future_event_leaves_other_plates_fees_right)
{
	const int64_t t0 = 1764547200000LL;
	node n = node_open("c1", "central-1");
	gen_event far;
	char entry[LOG_ID_MAX + 1], err[200];
	proj_session s;
	log_event e;
	log_txn *t;

	memset(&e, 0, sizeof e);
	snprintf(e.plate, sizeof e.plate, "99Z99999");
	snprintf(e.plate_view, sizeof e.plate_view, "99Z-999.99");
	snprintf(e.vehicle, sizeof e.vehicle, "car");
	snprintf(e.edge_id, sizeof e.edge_id, "edge-9");
	e.entry_ts = e.duration_s = -1;
	e.type = LOG_EV_ENTRY_PENDING;
	snprintf(e.origin, sizeof e.origin, "central-2");
	e.epoch = epochs[1];
	e.seq = 1;
	e.ts = t0 + 10 * 366 * 24 * T_H;
	log_event_id(e.id, e.origin, e.ts, e.plate);
	memcpy(e.session, e.id, sizeof e.session);
	far.len = log_event_encode(&e, far.bytes, sizeof far.bytes);
	T_ASSERT(far.len > 0);
	T_EQ_INT(0, log_txn_begin(n.s, 1, &t));
	T_EQ_INT(0, log_txn_append_peer(t, far.bytes, (size_t)far.len, err, sizeof err));
	T_EQ_INT(0, log_txn_commit(t));
	node_close(&n);

	n = node_open("c1", "central-1");	/* a restart */
	gate(&n, LOG_EV_ENTRY_PENDING, "29A12345", t0, NULL, 0, entry);
	node_close(&n);
	n = node_open("c1", "central-1");	/* and another */
	gate(&n, LOG_EV_EXIT, "29A12345", t0 + 91 * 60000, entry, 50000, NULL);
	T_EQ_INT(0, log_txn_begin(n.s, 0, &t));
	T_EQ_INT(0, proj_session_get(n.p, t, entry, &s));
	T_EQ_INT(t0, s.entry_ts);
	T_EQ_INT(t0 + 91 * 60000, s.exit_ts);
	T_EQ_INT(50000, s.fee_tariff);	/* 91 min: two started hours */
	T_EQ_INT(0, proj_check(n.p, t, err, sizeof err));
	log_txn_abort(t);
	node_close(&n);
}
