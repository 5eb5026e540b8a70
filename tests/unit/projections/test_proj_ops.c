/* projections/ops: the pure rules of operator changes (ops.h), table
 * tested — the fee of an exit at action time t given the passes and
 * tariffs held, the effective plate of a corrected event, voids — and
 * that the answers do not depend on the order the events were added. */
#include "tests/harness/t.h"
#include "projections/ops.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define H 3600000LL
#define T0 1764547200000LL	/* 2025-12-01 07:00 +07:00 */

static void head(log_event *e, enum log_ev_type type, const char *origin,
    int64_t ts)
{
	memset(e, 0, sizeof *e);
	e->type = type;
	snprintf(e->origin, sizeof e->origin, "%s", origin);
	e->seq = 1;
	e->ts = ts;
	snprintf(e->plate, sizeof e->plate, "%s", log_op_plate(type));
	snprintf(e->plate_view, sizeof e->plate_view, "%s", e->plate);
	snprintf(e->vehicle, sizeof e->vehicle, "any");
	snprintf(e->edge_id, sizeof e->edge_id, LOG_OP_EDGE);
	e->confidence_milli = 1000;
	e->entry_ts = e->duration_s = -1;
	snprintf(e->op.op, sizeof e->op.op, "lan");
	snprintf(e->op.reason, sizeof e->op.reason, "r");
	log_event_id(e->id, e->origin, e->ts, e->plate);
}

static void pass(log_event *e, int64_t ts, const char *id, const char *veh,
    int64_t from, int64_t to)
{
	head(e, LOG_EV_PASS_ISSUED, "central-1", ts);
	snprintf(e->op.plate, sizeof e->op.plate, "29A12345");
	snprintf(e->op.pass, sizeof e->op.pass, "%s", id);
	snprintf(e->vehicle, sizeof e->vehicle, "%s", veh);
	snprintf(e->op.kind, sizeof e->op.kind, "monthly");
	e->op.valid_from = from;
	e->op.valid_to = to;
}

static void revoke(log_event *e, int64_t ts, const char *id)
{
	head(e, LOG_EV_PASS_REVOKED, "central-2", ts);
	snprintf(e->op.plate, sizeof e->op.plate, "29A12345");
	snprintf(e->op.pass, sizeof e->op.pass, "%s", id);
}

static void tariff(log_event *e, const char *origin, int64_t ts, int64_t eff,
    const char *name, int per_hour)
{
	head(e, LOG_EV_TARIFF_SET, origin, ts);
	snprintf(e->tariff, sizeof e->tariff, "%s", name);
	e->op.effective_from = eff;
	snprintf(e->op.value, sizeof e->op.value, "{\"name\":\"%s\",\"classes\":"
	    "{\"default\":{\"mode\":\"hourly\",\"free_min\":0,\"per_hour\":%d}}}",
	    name, per_hour);
}

static void correct(log_event *e, const char *origin, int64_t ts,
    const char *target, const char *from, const char *to)
{
	head(e, LOG_EV_PLATE_CORRECTED, origin, ts);
	snprintf(e->op.target, sizeof e->op.target, "%s", target);
	snprintf(e->op.from_plate, sizeof e->op.from_plate, "%s", from);
	snprintf(e->op.plate, sizeof e->op.plate, "%s", to);
}

/* The events, added in the order `perm` gives. */
static proj_ops *held(const log_event *evs, size_t n, const size_t *perm)
{
	char touched[2][LOG_PLATE_MAX + 1];
	size_t nt;
	int rt;
	proj_ops *o;

	T_EQ_INT(0, proj_ops_new(&o));
	for (size_t i = 0; i < n; i++) {
		char err[200];

		if (log_event_check(&evs[perm[i]], err, sizeof err) != 0)
			T_FAIL("event %zu: %s", perm[i], err);
		T_EQ_INT(0, proj_ops_add(o, &evs[perm[i]], "", touched, &nt, &rt));
	}
	return o;
}

/* Fee of a car's exit at t after entering at T0, given passes and
 * tariffs; the same in every order of adding them. */
TEST(exit_fee_with_passes_and_tariffs)
{
	log_event evs[6];
	static const struct { int64_t t; int64_t fee; const char *pass, *tariff; } rows[] = {
		{ T0 + H * 3 / 4, 25000, "", "default" },	/* before anything: base */
		{ T0 + 2 * H, 0, "p1", "t30" },		/* inside p1 (issued T0+H) */
		{ T0 + H / 2 + 1, 25000, "", "default" },/* p1 valid, but not yet issued */
		{ T0 + 5 * H, 150000, "", "t30" },	/* p1 revoked at T0+4H */
		{ T0 + 4 * H, 120000, "", "t30" },	/* revoked "at or before t" */
		{ T0 + 10 * H, 400000, "", "t40" },	/* t40 from T0+9H */
		{ T0 + 20 * H, 0, "p2", "t40" },	/* p2, vehicle "car" */
	};
	size_t perms[3][6] = { { 0, 1, 2, 3, 4, 5 }, { 5, 4, 3, 2, 1, 0 },
	    { 3, 0, 5, 1, 4, 2 } };
	proj_tariff base;

	proj_tariff_default(&base);
	tariff(&evs[0], "central-1", T0 + 10, T0 + H, "t30", 30000);
	pass(&evs[1], T0 + H, "p1", "any", T0, T0 + 100 * H);
	revoke(&evs[2], T0 + 4 * H, "p1");
	tariff(&evs[3], "central-2", T0 + 20, T0 + 9 * H, "t40", 40000);
	pass(&evs[4], T0 + 19 * H, "p2", "car", T0 + 19 * H, T0 + 21 * H);
	pass(&evs[5], T0 + 19 * H + 1, "p3", "moto", T0, T0 + 100 * H);
	for (size_t k = 0; k < ARRAY_LEN(perms); k++) {
		proj_ops *o = held(evs, 6, perms[k]);

		for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
			char tname[LOG_TARIFF_MAX + 1], p[LOG_PASS_MAX + 1];
			int64_t fee = -1;

			T_EQ_INT(0, proj_ops_exit_fee(o, &base, "29A12345", "car", T0,
			    rows[i].t, &fee, tname, p));
			if (fee != rows[i].fee || strcmp(p, rows[i].pass) != 0 ||
			    strcmp(tname, rows[i].tariff) != 0)
				T_FAIL("order %zu row %zu: fee %lld pass \"%s\" tariff %s",
				    k, i, (long long)fee, p, tname);
		}
		proj_ops_free(o);
	}
}

/* Two TARIFF_SETs effective at one time (two centrals seeding from their
 * configs): the later in fold order wins, whatever order they arrive in. */
TEST(same_effective_time_later_in_fold_order_wins)
{
	log_event evs[2];
	size_t a[] = { 0, 1 }, b[] = { 1, 0 };
	proj_tariff base, t;

	proj_tariff_default(&base);
	tariff(&evs[0], "central-1", T0, 0, "seed-1", 10000);
	tariff(&evs[1], "central-2", T0, 0, "seed-2", 20000);
	for (int k = 0; k < 2; k++) {
		proj_ops *o = held(evs, 2, k ? b : a);

		proj_ops_tariff_at(o, &base, T0 + H, &t);
		T_EQ_STR("seed-2", t.name);	/* same ts: origin breaks the tie */
		proj_ops_free(o);
	}
}

/* The effective plate of a corrected event: the latest correction in fold
 * order, whatever order they arrive in; plates a correction touches. */
TEST(correction_latest_in_fold_order_wins)
{
	const char *target = "central-2_1764550000000_29A12845";
	log_event evs[2];
	size_t a[] = { 0, 1 }, b[] = { 1, 0 };
	char eff[LOG_PLATE_MAX + 1], touched[2][LOG_PLATE_MAX + 1];
	size_t nt;
	int rt;

	correct(&evs[0], "central-1", T0 + H, target, "29A12845", "29A12345");
	correct(&evs[1], "central-2", T0 + 2 * H, target, "29A12345", "29A12335");
	for (int k = 0; k < 2; k++) {
		proj_ops *o = held(evs, 2, k ? b : a);

		proj_ops_plate_of(o, target, "29A12845", eff);
		T_EQ_STR("29A12335", eff);
		T_ASSERT(proj_ops_is_target(o, target));
		T_ASSERT(proj_ops_moved_into(o, "29A12335"));
		T_ASSERT(!proj_ops_moved_into(o, "29A12345"));
		proj_ops_plate_of(o, "other", "51F11111", eff);
		T_EQ_STR("51F11111", eff);
		proj_ops_free(o);
	}
	/* added to an empty registry, a correction touches where its target
	 * counted (its own plate) and where it counts now */
	{
		proj_ops *o;

		T_EQ_INT(0, proj_ops_new(&o));
		T_EQ_INT(0, proj_ops_add(o, &evs[0], "29A12845", touched, &nt, &rt));
		T_EQ_INT(2, nt);
		T_EQ_STR("29A12845", touched[0]);
		T_EQ_STR("29A12345", touched[1]);
		T_EQ_INT(0, rt);
		proj_ops_free(o);
	}
}

TEST(void_and_orphan_fee)
{
	log_event evs[2];
	size_t a[] = { 0, 1 };
	proj_tariff base;
	char tname[LOG_TARIFF_MAX + 1];
	int64_t fee;
	proj_ops *o;

	proj_tariff_default(&base);
	head(&evs[0], LOG_EV_SESSION_VOIDED, "central-1", T0);
	snprintf(evs[0].session, sizeof evs[0].session, "central-1_1764540000000_29A12345");
	snprintf(evs[0].op.plate, sizeof evs[0].op.plate, "29A12345");
	pass(&evs[1], T0, "p1", "any", T0, T0 + H);
	o = held(evs, 2, a);
	T_ASSERT(proj_ops_voided(o, "central-1_1764540000000_29A12345"));
	T_ASSERT(!proj_ops_voided(o, "central-1_1764540000001_29A12345"));
	T_ASSERT(!proj_ops_voided(o, ""));
	proj_ops_orphan_fee(o, &base, "29A12345", "car", T0 + 1, &fee, tname);
	T_EQ_INT(0, fee);		/* an unknown entry inside a pass: free */
	proj_ops_orphan_fee(o, &base, "29A12345", "car", T0 + H, &fee, tname);
	T_EQ_INT(25000, fee);		/* the pass ended: the unknown-entry fee */
	proj_ops_free(o);
}

T_MAIN()
