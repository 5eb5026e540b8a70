/* fold: table tests for every session rule, canonical text, and a property
 * test: any arrival order of one plate's events folds to the same sessions. */
#include "tests/harness/t.h"
#include "projections/fold.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define M	60000LL
#define H	3600000LL
#define T0	1767225600000LL		/* 2026-01-01T00:00:00Z */
#define PLATE	"29A12345"
#define NOFEE	(-1)

/* ---- building events ---------------------------------------------------- */

static log_event mk(enum log_ev_type type, const char *origin, uint64_t epoch,
    uint64_t seq, int64_t ts)
{
	log_event e;

	memset(&e, 0, sizeof e);
	e.type = type;
	snprintf(e.origin, sizeof e.origin, "%s", origin);
	e.epoch = epoch;
	e.seq = seq;
	e.ts = ts;
	snprintf(e.plate, sizeof e.plate, "%s", PLATE);
	snprintf(e.plate_view, sizeof e.plate_view, "29A-123.45");
	snprintf(e.vehicle, sizeof e.vehicle, "car");
	snprintf(e.edge_id, sizeof e.edge_id, "%s", type == LOG_EV_EXIT ? "gate-out" : "gate-in");
	e.confidence_milli = 950;
	log_event_id(e.id, origin, ts, PLATE);
	e.entry_ts = e.duration_s = -1;
	return e;
}

static log_event entry(const char *origin, uint64_t seq, int64_t ts)
{
	log_event e = mk(LOG_EV_ENTRY_PENDING, origin, 1, seq, ts);

	memcpy(e.session, e.id, sizeof e.session);
	return e;
}

static log_event confirm(const char *origin, uint64_t seq, int64_t ts, const char *session)
{
	log_event e = mk(LOG_EV_ENTRY_CONFIRMED, origin, 1, seq, ts);

	snprintf(e.session, sizeof e.session, "%s", session);
	return e;
}

/* session NULL: the exit central knew no entry. */
static log_event exit_(const char *origin, uint64_t seq, int64_t ts,
    const char *session, int64_t fee)
{
	log_event e = mk(LOG_EV_EXIT, origin, 1, seq, ts);

	snprintf(e.session, sizeof e.session, "%s", session ? session : "");
	e.fee = fee;
	snprintf(e.tariff, sizeof e.tariff, "default");
	return e;
}

/* ---- folding ------------------------------------------------------------ */

typedef struct result {
	proj_session *rows;
	size_t n, anomalies;
} result;

static result fold_with(const log_event *evs, size_t n, const proj_tariff *t)
{
	result r = { NULL, 0, 0 };
	int rc = proj_fold_plate_ex(evs, n, t, &r.rows, &r.n, &r.anomalies);

	if (rc != 0)
		T_FAIL("proj_fold_plate_ex: rc %d", rc);
	return r;
}

static result fold(const log_event *evs, size_t n)
{
	proj_tariff t;

	proj_tariff_default(&t);
	return fold_with(evs, n, &t);
}

#define NEV(a) (sizeof (a) / sizeof (a)[0])
#define FOLD(a) fold((a), NEV(a))

static void check_row(const proj_session *s, const char *id, unsigned flags,
    int64_t charged, int64_t tariff)
{
	T_EQ_STR(id, s->id);
	if (s->flags != flags)
		T_FAIL("%s: flags 0x%x, expected 0x%x", id, s->flags, flags);
	T_EQ_INT(charged, s->fee_charged);
	T_EQ_INT(tariff, s->fee_tariff);
}

static void check_exit(const proj_session *s, const log_event *x)
{
	T_EQ_INT(x->ts, s->exit_ts);
	T_EQ_STR(x->id, s->exit_id);
	T_EQ_STR(x->edge_id, s->exit_edge);
	T_EQ_STR(x->origin, s->exit_origin);
}

#define CLOSED	PROJ_S_CLOSED
#define CONF	PROJ_S_CONFIRMED
#define DOUBLE	PROJ_S_DOUBLE_ENTRY
#define LINKED	PROJ_S_LINKED_EXIT
#define ORPHAN	PROJ_S_ORPHAN_EXIT
#define DUP	PROJ_S_DUP_EXIT
#define DIFF	PROJ_S_FEE_DIFF

/* ---- table tests: one per rule ----------------------------------------- */

TEST(entry_confirm_exit_seed_fee)
{
	log_event e = entry("central-1", 1, T0);
	log_event evs[] = { e, confirm("central-1", 2, T0 + 5000, e.id),
		exit_("central-1", 3, T0 + 2 * H, e.id, 50000) };
	result r = FOLD(evs);
	char buf[PROJ_SESSION_JSON_MAX];

	T_EQ_INT(1, r.n);
	T_EQ_INT(0, r.anomalies);
	check_row(&r.rows[0], e.id, CONF | CLOSED, 50000, 50000);
	check_exit(&r.rows[0], &evs[2]);
	T_EQ_INT(T0, r.rows[0].entry_ts);
	T_EQ_INT(T0 + 5000, r.rows[0].confirm_ts);
	T_EQ_INT(proj_session_json(&r.rows[0], buf, sizeof buf), strlen(buf));
	T_EQ_STR("{\"id\":\"central-1_1767225600000_29A12345\",\"plate_id\":\"29A12345\","
	    "\"plate_view\":\"29A-123.45\",\"vehicle\":\"car\",\"status\":\"CLOSED\","
	    "\"entry_ts\":1767225600000,\"entry_edge\":\"gate-in\",\"entry_origin\":\"central-1\","
	    "\"confirm_ts\":1767225605000,\"exit_ts\":1767232800000,"
	    "\"exit_id\":\"central-1_1767232800000_29A12345\",\"exit_edge\":\"gate-out\","
	    "\"exit_origin\":\"central-1\",\"fee_charged\":50000,\"fee_tariff\":50000,"
	    "\"primary\":null,\"flags\":[\"CONFIRMED\",\"CLOSED\"]}", buf);
	free(r.rows);
}

TEST(open_session_json_nulls)
{
	log_event evs[] = { entry("central-1", 1, T0) };
	result r = FOLD(evs);
	char buf[PROJ_SESSION_JSON_MAX];

	T_EQ_INT(1, r.n);
	check_row(&r.rows[0], evs[0].id, 0, NOFEE, NOFEE);
	T_ASSERT(proj_session_json(&r.rows[0], buf, sizeof buf) > 0);
	T_EQ_STR("{\"id\":\"central-1_1767225600000_29A12345\",\"plate_id\":\"29A12345\","
	    "\"plate_view\":\"29A-123.45\",\"vehicle\":\"car\",\"status\":\"OPEN\","
	    "\"entry_ts\":1767225600000,\"entry_edge\":\"gate-in\",\"entry_origin\":\"central-1\","
	    "\"confirm_ts\":null,\"exit_ts\":null,\"exit_id\":null,\"exit_edge\":null,"
	    "\"exit_origin\":null,\"fee_charged\":null,\"fee_tariff\":null,"
	    "\"primary\":null,\"flags\":[]}", buf);
	free(r.rows);
}

TEST(null_session_exit_links_with_fee_diff)
{
	log_event e = entry("central-1", 1, T0);
	/* central-2 had not heard of the entry: unknown-entry fee */
	log_event evs[] = { e, exit_("central-2", 1, T0 + 2 * H, NULL, 25000) };
	result r = FOLD(evs);

	T_EQ_INT(1, r.n);
	check_row(&r.rows[0], e.id, CLOSED | LINKED | DIFF, 25000, 50000);
	check_exit(&r.rows[0], &evs[1]);
	free(r.rows);
}

TEST(unknown_session_exit_links_without_diff)
{
	log_event e = entry("central-1", 1, T0);
	log_event evs[] = { e, exit_("central-2", 1, T0 + 2 * H,
		"central-9_1767225000000_29A12345", 50000) };
	result r = FOLD(evs);

	T_EQ_INT(1, r.n);
	check_row(&r.rows[0], e.id, CLOSED | LINKED, 50000, 50000);
	free(r.rows);
}

TEST(orphan_exit)
{
	log_event evs[] = { exit_("central-2", 1, T0, NULL, 25000) };
	result r = FOLD(evs);

	T_EQ_INT(1, r.n);
	check_row(&r.rows[0], evs[0].id, CLOSED | ORPHAN, 25000, NOFEE);
	check_exit(&r.rows[0], &evs[0]);
	T_EQ_INT(-1, r.rows[0].entry_ts);
	T_EQ_INT(-1, r.rows[0].confirm_ts);
	T_EQ_STR("", r.rows[0].entry_edge);
	T_EQ_STR("29A-123.45", r.rows[0].plate_view);
	free(r.rows);
}

TEST(exit_after_closed_session_naming_none_is_orphan)
{
	log_event e = entry("central-1", 1, T0);
	log_event evs[] = { e, exit_("central-1", 2, T0 + H, e.id, 25000),
		exit_("central-2", 1, T0 + 2 * H, NULL, 25000) };
	result r = FOLD(evs);

	T_EQ_INT(2, r.n);
	check_row(&r.rows[0], e.id, CLOSED, 25000, 25000);
	check_row(&r.rows[1], evs[2].id, CLOSED | ORPHAN, 25000, NOFEE);
	free(r.rows);
}

TEST(duplicate_exit)
{
	log_event e = entry("central-1", 1, T0);
	log_event evs[] = { e, exit_("central-1", 2, T0 + 2 * H, e.id, 50000),
		exit_("central-2", 1, T0 + 2 * H + 10, e.id, 50000) };
	result r = FOLD(evs);

	T_EQ_INT(2, r.n);
	check_row(&r.rows[0], e.id, CLOSED, 50000, 50000);
	check_exit(&r.rows[0], &evs[1]);	/* the first exit is the fact */
	check_row(&r.rows[1], evs[2].id, CLOSED | DUP, 50000, NOFEE);
	check_exit(&r.rows[1], &evs[2]);
	T_EQ_INT(-1, r.rows[1].entry_ts);
	T_EQ_STR("", r.rows[1].primary);
	free(r.rows);
}

/* Partition: entered at central-1, then (not knowing) at central-2; the exit
 * at central-2 names its own (younger) entry and charges from it. */
TEST(double_entry_closed_by_exit_naming_younger)
{
	log_event a = entry("central-1", 1, T0), b = entry("central-2", 1, T0 + 10 * M);
	log_event evs[] = { a, confirm("central-1", 2, T0 + 5000, a.id), b,
		confirm("central-2", 2, T0 + 10 * M + 5000, b.id),
		exit_("central-2", 3, T0 + 95 * M, b.id, 25000) };
	result open = fold(evs, 4), r = FOLD(evs);

	/* while both are open: one primary (inside once), one conflict */
	T_EQ_INT(2, open.n);
	check_row(&open.rows[0], a.id, CONF, NOFEE, NOFEE);
	check_row(&open.rows[1], b.id, CONF | DOUBLE, NOFEE, NOFEE);
	T_EQ_STR(a.id, open.rows[1].primary);
	/* closed together; the fee runs from the older entry: 95 min → 50,000 */
	T_EQ_INT(2, r.n);
	check_row(&r.rows[0], a.id, CONF | CLOSED | DIFF, 25000, 50000);
	check_row(&r.rows[1], b.id, CONF | CLOSED | DOUBLE, NOFEE, NOFEE);
	check_exit(&r.rows[0], &evs[4]);
	check_exit(&r.rows[1], &evs[4]);
	T_EQ_STR(a.id, r.rows[1].primary);
	T_EQ_STR("", r.rows[0].primary);
	free(open.rows);
	free(r.rows);
}

TEST(exit_naming_primary_closes_every_conflict)
{
	log_event a = entry("central-1", 1, T0), b = entry("central-2", 1, T0 + M),
	    c = entry("central-3", 1, T0 + 2 * M);
	log_event evs[] = { a, b, c, exit_("central-1", 2, T0 + 2 * H, a.id, 50000),
		entry("central-1", 3, T0 + 3 * H) };
	result r = FOLD(evs);

	T_EQ_INT(4, r.n);
	check_row(&r.rows[0], a.id, CLOSED, 50000, 50000);
	check_row(&r.rows[1], b.id, CLOSED | DOUBLE, NOFEE, NOFEE);
	check_row(&r.rows[2], c.id, CLOSED | DOUBLE, NOFEE, NOFEE);
	T_EQ_STR(a.id, r.rows[2].primary);
	check_row(&r.rows[3], evs[4].id, 0, NOFEE, NOFEE);	/* a new primary */
	free(r.rows);
}

TEST(ties_broken_by_origin_epoch_seq)
{
	log_event a = entry("central-1", 1, T0), b = entry("central-2", 1, T0);
	log_event e1 = mk(LOG_EV_ENTRY_PENDING, "central-1", 1, 9, T0);
	log_event e2 = mk(LOG_EV_ENTRY_PENDING, "central-1", 2, 1, T0);
	log_event s1 = mk(LOG_EV_ENTRY_PENDING, "central-1", 1, 1, T0);
	log_event s2 = mk(LOG_EV_ENTRY_PENDING, "central-1", 1, 2, T0);
	log_event later = mk(LOG_EV_ENTRY_PENDING, "central-0", 1, 1, T0 + 1);
	log_event evs[] = { b, a };
	result r;

	T_ASSERT(proj_fold_cmp(&a, &b) < 0 && proj_fold_cmp(&b, &a) > 0);
	T_ASSERT(proj_fold_cmp(&e1, &e2) < 0 && proj_fold_cmp(&e2, &e1) > 0);
	T_ASSERT(proj_fold_cmp(&s1, &s2) < 0 && proj_fold_cmp(&s2, &s1) > 0);
	T_ASSERT(proj_fold_cmp(&b, &later) < 0);	/* ts first */
	T_EQ_INT(0, proj_fold_cmp(&a, &a));
	/* the same ms at two gates: central-1 is primary wherever it folds */
	proj_fold_sort(evs, NEV(evs));
	T_EQ_STR(a.id, evs[0].id);
	r = FOLD(evs);
	T_EQ_INT(2, r.n);
	check_row(&r.rows[0], a.id, 0, NOFEE, NOFEE);
	check_row(&r.rows[1], b.id, DOUBLE, NOFEE, NOFEE);
	free(r.rows);
}

TEST(sort_orders_a_permutation)
{
	log_event evs[] = {
		mk(LOG_EV_EXIT, "central-2", 1, 1, T0 + 2),
		mk(LOG_EV_ENTRY_PENDING, "central-1", 2, 1, T0),
		mk(LOG_EV_EXIT, "central-1", 1, 3, T0 + 2),
		mk(LOG_EV_ENTRY_PENDING, "central-1", 1, 2, T0),
		mk(LOG_EV_ENTRY_PENDING, "central-1", 1, 1, T0),
	};
	static const int want[][2] = { { 1, 1 }, { 1, 2 }, { 2, 1 }, { 1, 3 }, { 1, 1 } };

	proj_fold_sort(evs, NEV(evs));
	for (size_t i = 0; i < NEV(evs); i++) {
		T_EQ_U64(want[i][0], evs[i].epoch);
		T_EQ_U64(want[i][1], evs[i].seq);
	}
	T_EQ_STR("central-2", evs[4].origin);
	proj_fold_sort(evs, 0);
}

/* Fold order is by action time (edge_ts when earlier than ts): an ENTRY
 * its gate queued (recorded late) sorts before an EXIT recorded earlier
 * but done after it, and the two make one closed session. */
TEST(action_time_orders_and_closes)
{
	log_event x = exit_("central-2", 1, T0 + 2 * H, NULL, 25000);
	log_event e = entry("central-1", 1, T0 + 5 * H);
	log_event evs[2];
	result r;

	e.edge_ts = T0;
	x.edge_ts = T0 + 2 * H - 1000;
	evs[0] = x;
	evs[1] = e;
	T_ASSERT(proj_fold_cmp(&e, &x) < 0);
	proj_fold_sort(evs, 2);
	T_EQ_STR(e.id, evs[0].id);
	r = FOLD(evs);
	T_EQ_U64(1, r.n);
	check_row(&r.rows[0], e.id, PROJ_S_CLOSED | PROJ_S_LINKED_EXIT | PROJ_S_FEE_DIFF,
	    25000, 50000);
	T_EQ_INT(T0, r.rows[0].entry_ts);
	T_EQ_INT(T0 + 2 * H - 1000, r.rows[0].exit_ts);
	free(r.rows);
	/* an edge_ts later than ts does not move the event */
	e.edge_ts = T0 + 6 * H;
	T_EQ_INT(T0 + 5 * H, log_event_at(&e));
}

/* fold.h: steps come in fold order; a step before the last one aborts
 * (msg_assert), it does not fold wrongly. */
TEST(step_out_of_order_is_an_assertion)
{
	log_event a = entry("central-1", 1, T0 + H), b = entry("central-1", 2, T0);
	pid_t pid = fork();
	int st;

	T_ASSERT(pid >= 0);
	if (pid == 0) {
		proj_fold f;

		freopen("/dev/null", "w", stderr);
		if (proj_fold_begin(&f, NULL, NULL, 0, NULL, NULL) != 0)
			_exit(2);
		proj_fold_step(&f, &a);
		proj_fold_step(&f, &b);
		_exit(0);
	}
	T_EQ_INT(pid, waitpid(pid, &st, 0));
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

TEST(reentry_after_exit_opens_new_primary)
{
	log_event a = entry("central-1", 1, T0), b = entry("central-2", 1, T0 + 3 * H);
	log_event evs[] = { a, exit_("central-1", 2, T0 + 20 * M, a.id, 0), b,
		exit_("central-1", 3, T0 + 4 * H, NULL, 25000) };
	result r = FOLD(evs);

	T_EQ_INT(2, r.n);
	check_row(&r.rows[0], a.id, CLOSED, 0, 0);	/* inside the free period */
	check_row(&r.rows[1], b.id, CLOSED | LINKED, 25000, 25000);
	T_EQ_STR("", r.rows[1].primary);
	free(r.rows);
}

TEST(confirm_unknown_or_closed_ignored)
{
	log_event a = entry("central-1", 1, T0);
	log_event evs[] = { confirm("central-1", 1, T0 - 5, "central-1_1767225599000_29A12345"),
		a, confirm("central-1", 2, T0 + 10, a.id),
		confirm("central-2", 1, T0 + 20, a.id),	/* repeat: no-op */
		exit_("central-1", 3, T0 + H, a.id, 25000),
		confirm("central-1", 4, T0 + H + 1, a.id) };
	result r = FOLD(evs);

	T_EQ_INT(1, r.n);
	T_EQ_INT(2, r.anomalies);
	check_row(&r.rows[0], a.id, CONF | CLOSED, 25000, 25000);
	T_EQ_INT(T0 + 10, r.rows[0].confirm_ts);
	free(r.rows);
}

TEST(confirm_of_conflict)
{
	log_event a = entry("central-1", 1, T0), b = entry("central-2", 1, T0 + M);
	log_event evs[] = { a, b, confirm("central-2", 2, T0 + M + 1, b.id) };
	result r = FOLD(evs);

	T_EQ_INT(2, r.n);
	T_EQ_INT(0, r.anomalies);
	check_row(&r.rows[0], a.id, 0, NOFEE, NOFEE);
	check_row(&r.rows[1], b.id, DOUBLE | CONF, NOFEE, NOFEE);
	free(r.rows);
}

TEST(unknown_type_counted)
{
	log_event evs[] = { mk(LOG_EV_NONE, "central-1", 1, 1, T0), entry("central-1", 2, T0 + 1) };
	result r = FOLD(evs);

	T_EQ_INT(1, r.n);
	T_EQ_INT(1, r.anomalies);
	free(r.rows);
}

TEST(fee_tariff_not_computable)
{
	log_event a = entry("central-1", 1, T0);
	/* same ms, later origin: a zero stay is a tariff error, not a fee */
	log_event evs[] = { a, exit_("central-2", 1, T0, a.id, 25000) };
	result r = FOLD(evs), nt = fold_with(evs, NEV(evs), NULL);

	check_row(&r.rows[0], a.id, CLOSED, 25000, NOFEE);
	check_row(&nt.rows[0], a.id, CLOSED, 25000, NOFEE);
	free(r.rows);
	free(nt.rows);
}

TEST(fee_uses_primary_vehicle)
{
	proj_tariff t;
	log_event a = entry("central-1", 1, T0);
	log_event evs[] = { a, exit_("central-1", 2, T0 + 2 * H, a.id, 50000) };
	result r;
	int64_t fee;

	proj_tariff_default(&t);
	t.rules[1] = t.rules[0];
	snprintf(t.rules[1].vehicle, sizeof t.rules[1].vehicle, "moto");
	t.rules[1].per_hour = 5000;
	t.nrules = 2;
	T_EQ_INT(0, proj_tariff_fee(&t, "moto", T0, T0 + 2 * H, &fee));
	T_EQ_INT(10000, fee);
	snprintf(evs[0].vehicle, sizeof evs[0].vehicle, "moto");
	snprintf(evs[1].vehicle, sizeof evs[1].vehicle, "car");	/* misread at exit */
	r = fold_with(evs, NEV(evs), &t);
	check_row(&r.rows[0], a.id, CLOSED | DIFF, 50000, 10000);
	T_EQ_STR("moto", r.rows[0].vehicle);
	free(r.rows);
}

TEST(bad_arguments)
{
	log_event evs[] = { entry("central-1", 1, T0), entry("central-1", 2, T0 + 1) };
	proj_session *rows = (proj_session *)1;
	size_t n = 7;

	T_EQ_INT(0, proj_fold_plate(evs, 0, NULL, &rows, &n));
	T_ASSERT(rows == NULL);
	T_EQ_INT(0, n);
	snprintf(evs[1].plate, sizeof evs[1].plate, "30B99999");
	T_EQ_INT(EINVAL, proj_fold_plate(evs, 2, NULL, &rows, &n));
	T_ASSERT(rows == NULL);
	T_EQ_INT(EINVAL, proj_fold_plate(NULL, 1, NULL, &rows, &n));
	T_EQ_INT(EINVAL, proj_fold_plate(evs, 1, NULL, NULL, &n));
}

/* ---- canonical text ----------------------------------------------------- */

TEST(json_escapes_and_capacity)
{
	proj_session s;
	char buf[PROJ_SESSION_JSON_MAX];
	const char *want = "{\"id\":\"a\\\"b\\\\c\\u0001\\u007f\xc3\xa9\",\"plate_id\":null,"
	    "\"plate_view\":null,\"vehicle\":null,\"status\":\"CLOSED\",\"entry_ts\":0,"
	    "\"entry_edge\":null,\"entry_origin\":null,\"confirm_ts\":null,\"exit_ts\":null,"
	    "\"exit_id\":null,\"exit_edge\":null,\"exit_origin\":null,\"fee_charged\":0,"
	    "\"fee_tariff\":null,\"primary\":null,\"flags\":[\"CLOSED\",\"FEE_DIFF\"]}";
	int n;

	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "a\"b\\c\x01\x7f\xc3\xa9");
	s.confirm_ts = s.exit_ts = s.fee_tariff = -1;
	s.flags = PROJ_S_CLOSED | PROJ_S_FEE_DIFF | (1u << 20);	/* unknown bit: left out */
	n = proj_session_json(&s, buf, sizeof buf);
	T_EQ_STR(want, buf);
	T_EQ_INT(strlen(want), n);
	memset(buf, 'x', sizeof buf);
	T_EQ_INT(n, proj_session_json(&s, buf, (size_t)n + 1));
	T_EQ_STR(want, buf);
	T_EQ_INT(-1, proj_session_json(&s, buf, (size_t)n));
	T_EQ_INT(-1, proj_session_json(&s, buf, 0));
}

/* Every byte of a string field set to c; nul: keep the terminating NUL. */
static void fill(char *dst, size_t cap, char c, int nul)
{
	memset(dst, c, cap);
	if (nul)
		dst[cap - 1] = '\0';
}

static void fill_all(proj_session *s, int nul)
{
#define FILL(f, c) fill((f), sizeof (f), (c), nul)
	FILL(s->id, 'a'); FILL(s->plate, 'A'); FILL(s->plate_view, 'v');
	FILL(s->vehicle, 'c'); FILL(s->primary, 'a'); FILL(s->entry_edge, 'e');
	FILL(s->entry_origin, 'o'); FILL(s->exit_id, 'a'); FILL(s->exit_edge, 'e');
	FILL(s->exit_origin, 'o');
#undef FILL
}

TEST(json_worst_case_fits)
{
	proj_session s;
	char buf[PROJ_SESSION_JSON_MAX], *p;
	int n;

	/* what the fold can make from checked events: under 1,000 bytes */
	memset(&s, 0, sizeof s);
	fill_all(&s, 1);
	s.entry_ts = s.confirm_ts = s.exit_ts = INT64_MAX;
	s.fee_charged = s.fee_tariff = INT64_MAX;
	s.flags = ~0u;
	T_ASSERT(proj_session_json(&s, buf, 1000) > 0);
	/* strings without their NUL are cut at the field's size */
	fill_all(&s, 0);
	n = proj_session_json(&s, buf, sizeof buf);
	T_ASSERT(n > 0);
	p = strstr(buf, "\"plate_id\":\"");
	T_ASSERT(p != NULL);
	T_EQ_MEM("AAAAAAAAAAAAA\",", p + 12, 15);	/* 13 = sizeof plate */
	/* every byte \u-escaped, no NUL: still fits */
	memset(&s, 1, sizeof s);
	s.flags = ~0u;
	T_ASSERT(proj_session_json(&s, buf, sizeof buf) > 0);
}

/* ---- property: arrival order does not matter ---------------------------- */

static uint64_t rnd(uint64_t *st)	/* splitmix64 */
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define PMAX	48

typedef struct gen_stream {
	const char *origin;
	uint64_t epoch, seq;
	int64_t last;
} gen_stream;

static int id_taken(const log_event *evs, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(evs[i].id, id) == 0)
			return 1;
	return 0;
}

/* A session id an event may name: a known entry (open, closed, or later in
 * fold order), an id nobody wrote, or (exits only) none. */
static void pick_session(uint64_t *st, const log_event *evs, size_t n, char *out,
    int allow_none)
{
	uint64_t r = rnd(st) % 10;
	size_t k;

	out[0] = '\0';
	if (r < 2 || (r < 4 && !allow_none)) {
		snprintf(out, LOG_ID_MAX + 1, "central-9_%lld_%s", T0 - 1, PLATE);
		return;
	}
	if (r < 4)
		return;
	for (k = 0; n > 0 && k < 8; k++) {	/* a few tries at a random entry */
		const log_event *e = &evs[rnd(st) % n];

		if (e->type == LOG_EV_ENTRY_PENDING) {
			memcpy(out, e->id, LOG_ID_MAX + 1);
			return;
		}
	}
}

static log_event gen_event(uint64_t *st, gen_stream *g, const log_event *evs, size_t n,
    int64_t *clock)
{
	static const enum log_ev_type types[] = { LOG_EV_ENTRY_PENDING, LOG_EV_ENTRY_PENDING,
		LOG_EV_ENTRY_CONFIRMED, LOG_EV_EXIT, LOG_EV_EXIT };
	static const int64_t fees[] = { 0, 25000, 50000, 75000 };
	enum log_ev_type type = types[rnd(st) % 5];
	int64_t ts;
	log_event e;

	*clock += (int64_t)(rnd(st) % 3) * (int64_t)(rnd(st) % 2 ? 1 : 40 * M);
	ts = *clock > g->last ? *clock : g->last + 1;	/* hybrid clock */
	do {
		e = mk(type, g->origin, g->epoch, ++g->seq, ts++);
	} while (id_taken(evs, n, e.id));	/* a restored epoch may clash */
	g->last = e.ts;
	snprintf(e.vehicle, sizeof e.vehicle, "%s", rnd(st) % 4 ? "car" : "moto");
	if (type == LOG_EV_ENTRY_PENDING)
		memcpy(e.session, e.id, sizeof e.session);
	else
		pick_session(st, evs, n, e.session, type == LOG_EV_EXIT);
	if (type == LOG_EV_EXIT)
		e.fee = fees[rnd(st) % 4];
	return e;
}

static size_t gen_set(uint64_t *st, log_event *evs)
{
	gen_stream g[4] = {
		{ "central-1", 0xdeadbeef, 0, 0 }, { "central-2", 7, 0, 0 },
		{ "central-3", 1, 0, 0 }, { "central-1", 0x1234, 0, 0 },	/* restored */
	};
	size_t ns = 2 + (size_t)(rnd(st) % 3), n = 4 + (size_t)(rnd(st) % (PMAX - 3));
	int64_t clock = T0;

	for (size_t i = 0; i < n; i++)
		evs[i] = gen_event(st, &g[rnd(st) % ns], evs, i, &clock);
	return n;
}

/* Everything observable of a fold, as one string. */
static char *fold_text(log_event *evs, size_t n, const proj_tariff *t)
{
	size_t cap = PMAX * PROJ_SESSION_JSON_MAX + 32, len;
	char *s = malloc(cap);
	result r;

	T_ASSERT(s != NULL);
	proj_fold_sort(evs, n);
	r = fold_with(evs, n, t);
	len = (size_t)snprintf(s, cap, "anomalies %zu\n", r.anomalies);
	for (size_t i = 0; i < r.n; i++) {
		int k = proj_session_json(&r.rows[i], s + len, cap - len);

		T_ASSERT(k > 0);
		len += (size_t)k;
		s[len++] = '\n';
		s[len] = '\0';
	}
	free(r.rows);
	return s;
}

/* At most one open primary; every open conflict points at it. */
static void check_invariants(const log_event *evs, size_t n, const proj_tariff *t)
{
	result r = fold_with(evs, n, t);
	const char *open = NULL;

	T_ASSERT(r.n <= n);
	for (size_t i = 0; i < r.n; i++) {
		const proj_session *s = &r.rows[i];

		if (s->flags & PROJ_S_FEE_DIFF)
			T_ASSERT(s->fee_charged >= 0 && s->fee_tariff >= 0 &&
			    s->fee_charged != s->fee_tariff);
		if (s->flags & PROJ_S_CLOSED)
			continue;
		if (!(s->flags & PROJ_S_DOUBLE_ENTRY)) {
			T_ASSERT(open == NULL);
			open = s->id;
		} else {
			T_ASSERT(open != NULL);
			T_EQ_STR(open, s->primary);
		}
	}
	free(r.rows);
}

static int same_ids(const log_event *a, const log_event *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].id, b[i].id) != 0)
			return 0;
	return 1;
}

static void shuffle(uint64_t *st, log_event *evs, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd(st) % i);
		log_event tmp = evs[i - 1];

		evs[i - 1] = evs[j];
		evs[j] = tmp;
	}
}

TEST(any_arrival_order_folds_alike)
{
	const uint64_t seed = 0x70a6f01dULL;
	uint64_t st = seed;
	static log_event evs[PMAX], ref_evs[PMAX];
	proj_tariff t;

	proj_tariff_default(&t);
	for (int set = 0; set < 300; set++) {
		size_t n = gen_set(&st, evs);
		char *ref = fold_text(evs, n, &t);

		memcpy(ref_evs, evs, n * sizeof *evs);	/* sorted by fold_text */
		check_invariants(ref_evs, n, &t);
		for (int k = 0; k < 50; k++) {
			char *got;

			shuffle(&st, evs, n);
			got = fold_text(evs, n, &t);
			if (!same_ids(evs, ref_evs, n) || strcmp(ref, got) != 0)
				T_FAIL("seed 0x%llx, set %d (%zu events), order %d: differs\n"
				    "expected:\n%s\ngot:\n%s", (unsigned long long)seed, set, n,
				    k, ref, got);
			free(got);
		}
		free(ref);
	}
}

/* ---- property: resuming from the open rows is the full fold ------------- */

typedef struct rowset {
	proj_session *rows;
	size_t n;
} rowset;

/* known() backed by rows of a fold: opened by an ENTRY_PENDING. */
static int known_in(void *ctx, const char *id)
{
	const rowset *rs = ctx;

	for (size_t i = 0; i < rs->n; i++)
		if (rs->rows[i].entry_ts >= 0 && strcmp(rs->rows[i].id, id) == 0)
			return 1;
	return 0;
}

/* Resume from rs's open rows (in a random order), step evs[0..n), and
 * apply what changed to rs (rs->rows has room for n more rows). */
static void resume(uint64_t *st, rowset *rs, const log_event *evs, size_t n,
    const proj_tariff *t)
{
	proj_session open[PMAX];
	size_t nopen = 0, i = 0, rep, k;
	const proj_session *s;
	proj_fold f;

	for (k = 0; k < rs->n; k++)
		if (!(rs->rows[k].flags & PROJ_S_CLOSED))
			open[nopen++] = rs->rows[k];
	for (k = nopen; k > 1; k--) {
		size_t j = (size_t)(rnd(st) % k);
		proj_session tmp = open[k - 1];

		open[k - 1] = open[j];
		open[j] = tmp;
	}
	T_EQ_INT(0, proj_fold_begin(&f, t, open, nopen, known_in, rs));
	for (k = 0; k < n; k++)
		T_EQ_INT(0, proj_fold_step(&f, &evs[k]));
	while ((s = proj_fold_next(&f, &i, &rep)) != NULL) {
		if (rep == PROJ_FOLD_NEW) {
			rs->rows[rs->n++] = *s;
			continue;
		}
		T_ASSERT(rep < nopen);
		for (k = 0; k < rs->n && strcmp(rs->rows[k].id, open[rep].id) != 0; k++)
			;
		T_ASSERT(k < rs->n);
		rs->rows[k] = *s;
	}
	proj_fold_end(&f);
}

static void same_rows(const result *want, const rowset *got, const char *what,
    int set, size_t k)
{
	char a[PROJ_SESSION_JSON_MAX], b[PROJ_SESSION_JSON_MAX];

	if (want->n != got->n)
		T_FAIL("set %d, %s at %zu: %zu rows, full fold %zu", set, what, k,
		    got->n, want->n);
	for (size_t i = 0; i < want->n; i++) {
		T_ASSERT(proj_session_json(&want->rows[i], a, sizeof a) > 0);
		T_ASSERT(proj_session_json(&got->rows[i], b, sizeof b) > 0);
		if (strcmp(a, b) != 0 || memcmp(&want->rows[i], &got->rows[i],
		    sizeof want->rows[i]) != 0)
			T_FAIL("set %d, %s at %zu, row %zu:\nfull:    %s\nresumed: %s",
			    set, what, k, i, a, b);
	}
}

TEST(resume_from_open_rows_equals_full_fold)
{
	uint64_t st = 0x2e5a11edULL;
	static log_event evs[PMAX];
	static proj_session buf[2 * PMAX];
	proj_tariff t;

	proj_tariff_default(&t);
	for (int set = 0; set < 300; set++) {
		size_t n = gen_set(&st, evs);
		result full;
		rowset rs = { buf, 0 };

		proj_fold_sort(evs, n);
		full = fold_with(evs, n, &t);
		/* fold a prefix fully, resume, step the rest */
		for (size_t k = 0; k <= n; k++) {
			result pre = fold_with(evs, k, &t);

			if (pre.n > 0)
				memcpy(buf, pre.rows, pre.n * sizeof *buf);
			rs.n = pre.n;
			resume(&st, &rs, evs + k, n - k, &t);
			same_rows(&full, &rs, "resume", set, k);
			free(pre.rows);
		}
		/* what proj_apply does: one event at a time, always resumed */
		rs.n = 0;
		for (size_t k = 0; k < n; k++)
			resume(&st, &rs, evs + k, 1, &t);
		same_rows(&full, &rs, "chain", set, n);
		free(full.rows);
	}
}

TEST(resume_rejects_what_is_not_one_open_group)
{
	log_event a = entry("central-1", 1, T0), b = entry("central-2", 1, T0 + M);
	log_event evs[] = { a, b, exit_("central-1", 2, T0 + H, a.id, 25000),
		entry("central-1", 3, T0 + 2 * H), entry("central-2", 2, T0 + 3 * H) };
	log_event other = entry("central-1", 4, T0 + 4 * H);
	result r = FOLD(evs), open = fold(evs, 2);
	proj_session two[2];
	proj_fold f;

	/* closed rows; two primaries; a conflict without its primary */
	T_EQ_INT(EINVAL, proj_fold_begin(&f, NULL, r.rows, 1, NULL, NULL));
	two[0] = r.rows[0];
	two[1] = r.rows[2];
	two[0].flags &= ~(unsigned)PROJ_S_CLOSED;
	T_EQ_INT(EINVAL, proj_fold_begin(&f, NULL, two, 2, NULL, NULL));
	T_EQ_INT(EINVAL, proj_fold_begin(&f, NULL, &open.rows[1], 1, NULL, NULL));
	/* a good group, then another plate's event */
	T_EQ_INT(0, proj_fold_begin(&f, NULL, open.rows, 2, NULL, NULL));
	snprintf(other.plate, sizeof other.plate, "30B99999");
	T_EQ_INT(EINVAL, proj_fold_step(&f, &other));
	proj_fold_end(&f);
	free(r.rows);
	free(open.rows);
}

T_MAIN()
