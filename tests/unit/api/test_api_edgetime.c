/* api/edgetime: the bounds of a gate's time (edge_ts) and the per-gate
 * clock estimate from heartbeats (docs/time.md, issue 12 item 4). */
#include "tests/harness/t.h"

#include "api/edgetime.h"
#include "api/parse.h"

#define NOW 1764547200000LL
#define MIN 60000LL
#define HOUR 3600000LL
#define GAP 60000LL		/* camera_offline_s 60: a silence */

static const api_time_policy defaults = { 0, 0, 0 };

/* A gate that heartbeats every 30 s from `from` to `to`, its clock off by
 * `off` ms; every heartbeat is a contact. */
static void beats(api_edge_clock *c, int64_t from, int64_t to, int64_t off)
{
	for (int64_t t = from; t <= to; t += 30000) {
		api_clock_contact(c, t, GAP);
		api_clock_sample(c, t + off, t + 20);
	}
}

static void heartbeats(api_edge_clock *c, int64_t from, int64_t off)
{
	beats(c, from, NOW, off);
}

TEST(bounds_ahead_and_horizon)
{
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, NULL, NOW, NOW));
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, NULL, NOW + 2000, NOW));
	T_EQ_INT(API_TS_AHEAD, api_edge_ts_judge(&defaults, NULL, NOW + 2001, NOW));
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, NULL, NOW - 24 * HOUR, NOW));
	T_EQ_INT(API_TS_OLD, api_edge_ts_judge(&defaults, NULL, NOW - 24 * HOUR - 1, NOW));
	/* configured */
	api_time_policy p = { 500, 3600, 1000 };
	T_EQ_INT(API_TS_AHEAD, api_edge_ts_judge(&p, NULL, NOW + 501, NOW));
	T_EQ_INT(API_TS_OLD, api_edge_ts_judge(&p, NULL, NOW - HOUR - 1, NOW));
	T_EQ_STR("too_old", api_ts_reason(API_TS_OLD));
	T_EQ_STR("late", api_ts_reason(API_TS_LATE));
}

/* The first case: an exit stamped 1 min after the entry, sent 5 h
 * later. A gate that was in contact all along did not queue it: refused
 * (the exit is recorded at the central's time, the fee runs 5 h). A gate
 * that was silent for those 5 h (the central unreachable) did: taken. */
TEST(exit_sent_five_hours_late)
{
	int64_t stamped = NOW - 5 * HOUR + MIN;
	api_edge_clock live, away;

	api_clock_init(&live);
	heartbeats(&live, NOW - 6 * HOUR, 0);
	api_clock_contact(&live, NOW, GAP);	/* the exit's own request */
	T_EQ_INT(API_TS_LATE, api_edge_ts_judge(&defaults, &live, stamped, NOW));
	/* a live action of that gate is fine */
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, &live, NOW - 300, NOW));

	api_clock_init(&away);
	/* in contact until 2 min before the action, then silent 5 h */
	beats(&away, NOW - 7 * HOUR, NOW - 5 * HOUR - MIN, 0);
	api_clock_contact(&away, NOW, GAP);	/* back: its queue drains */
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, &away, stamped, NOW));
	api_clock_contact(&away, NOW + 50, GAP);	/* the next queued one */
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, &away, stamped + MIN, NOW + 50));
}

/* The second case: an entry stamped 29 days ago is beyond the
 * offline horizon (24 h by default): refused, the central's time taken. */
TEST(entry_stamped_29_days_ago)
{
	T_EQ_INT(API_TS_OLD, api_edge_ts_judge(&defaults, NULL, NOW - 29 * 24 * HOUR, NOW));
	api_time_policy p = { 0, 30 * 86400, 0 };	/* a month's horizon: taken */
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&p, NULL, NOW - 29 * 24 * HOUR, NOW));
}

TEST(drifting_clock_is_distrusted)
{
	api_edge_clock ahead, behind, fine;
	int64_t off;

	api_clock_init(&ahead);
	heartbeats(&ahead, NOW - 5 * MIN, 60000);	/* a minute ahead */
	T_EQ_INT(1, api_clock_offset(&ahead, &off));
	T_EQ_INT(60000 - 20, off);
	T_EQ_INT(API_TS_DRIFT, api_edge_ts_judge(&defaults, &ahead, NOW - 1000, NOW));

	api_clock_init(&behind);
	heartbeats(&behind, NOW - 5 * MIN, -30000);
	T_EQ_INT(API_TS_DRIFT, api_edge_ts_judge(&defaults, &behind, NOW - 31000, NOW));

	api_clock_init(&fine);
	heartbeats(&fine, NOW - 5 * MIN, 800);	/* within max_drift_ms */
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, &fine, NOW - 500, NOW));
	/* a configured bound below it: distrusted */
	api_time_policy p = { 0, 0, 500 };
	T_EQ_INT(API_TS_DRIFT, api_edge_ts_judge(&p, &fine, NOW - 500, NOW));
}

/* Old heartbeats drained from a gate's queue all at once say nothing of
 * its clock; one delayed sample among live ones does not count either
 * (the largest offset is the least delayed). */
TEST(queued_heartbeats_are_no_measure)
{
	api_edge_clock c;
	int64_t off;

	api_clock_init(&c);
	for (int i = 0; i < 5; i++)
		api_clock_sample(&c, NOW - 3 * HOUR + i * HOUR / 2, NOW + i * 10);
	T_EQ_INT(0, api_clock_offset(&c, &off));
	T_EQ_INT(API_TS_OK, api_edge_ts_judge(&defaults, &c, NOW - 2 * HOUR, NOW));

	api_clock_init(&c);
	heartbeats(&c, NOW - 3 * MIN, 0);
	api_clock_sample(&c, NOW - HOUR, NOW + 100);	/* a queued one */
	T_EQ_INT(1, api_clock_offset(&c, &off));
	T_ASSERT(off >= -20 && off <= 0);
	/* more than the ring holds of them: the oldest live samples leave,
	 * and the estimate waits until the span is long enough again */
	for (int i = 0; i < 9; i++)
		api_clock_sample(&c, NOW - HOUR, NOW + 200 + i);
	T_EQ_INT(0, api_clock_offset(&c, &off));
}

/* The timestamp's text and number forms still read (no bounds here). */
TEST(timestamp_read_without_bounds)
{
	api_timestamp t = { .ms = 0, .text = "" };

	T_EQ_INT(0, api_timestamp_ms(&t, 420));
	t.ms = NOW - 29 * 24 * HOUR;
	T_EQ_INT(NOW - 29 * 24 * HOUR, api_timestamp_ms(&t, 420));
	t.ms = 0;
	snprintf(t.text, sizeof t.text, "2026-11-23T10:00:00");
	T_ASSERT(api_timestamp_ms(&t, 420) > 0);
	snprintf(t.text, sizeof t.text, "yesterday");
	T_EQ_INT(0, api_timestamp_ms(&t, 420));
}

T_MAIN()
