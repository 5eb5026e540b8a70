/* api/edgetime.h — whether a central believes a gate's time of an action
 * (edge_ts), and what it knows of each gate's clock. Pure: no I/O, no
 * locks, no allocation (api/cameras.c keeps one api_edge_clock per edge
 * under its lock). The policy and its defaults: docs/time.md.
 *
 * A gate sends the time it saw the action (`timestamp`); an action it
 * queued while the central was unreachable happened before it is recorded.
 * The central takes that time only inside bounds it can defend, else it
 * records its own time and says why:
 *   ahead    more than skew_ms ahead of the central's clock;
 *   too_old  older than offline_horizon_s;
 *   drift    the gate's clock is known to be off by more than max_drift_ms
 *            (estimated from its heartbeats' timestamps);
 *   late     the gate was in contact all along (no silence since before
 *            the action), yet the action comes more than skew_ms +
 *            max_drift_ms after it: not a queued action but a late one.
 */
#ifndef PARKLOG_API_EDGETIME_H
#define PARKLOG_API_EDGETIME_H

#include <stdint.h>

#define API_TIME_SKEW_MS	2000u		/* defaults (0 in a policy) */
#define API_TIME_HORIZON_S	86400u
#define API_TIME_DRIFT_MS	10000u

typedef struct api_time_policy {
	unsigned skew_ms;		/* 0: API_TIME_SKEW_MS */
	unsigned offline_horizon_s;	/* 0: API_TIME_HORIZON_S */
	unsigned max_drift_ms;		/* 0: API_TIME_DRIFT_MS */
} api_time_policy;

enum api_ts_verdict {
	API_TS_OK = 0,
	API_TS_AHEAD,
	API_TS_OLD,
	API_TS_DRIFT,
	API_TS_LATE,
	API_TS_NVERDICT
};

/* "ok", "ahead", "too_old", "drift", "late" (also the metric's label). */
const char *api_ts_reason(enum api_ts_verdict v);

/* What the central knows of one gate's clock and contact. The offset
 * estimate is the largest (edge time − our time at receipt) among the last
 * samples: a delay in transit or in the gate's queue only makes a sample
 * smaller, so the largest is the least delayed. It counts once it has
 * API_CLOCK_MIN samples received over at least API_CLOCK_SPAN_MS (a queue
 * drained at once, with its old heartbeats, is no measure of the clock). */
#define API_CLOCK_SAMPLES	8
#define API_CLOCK_MIN		3
#define API_CLOCK_SPAN_MS	45000
typedef struct api_edge_clock {
	int64_t off[API_CLOCK_SAMPLES];	/* edge time − our time, ms */
	int64_t at[API_CLOCK_SAMPLES];	/* our time of receipt */
	unsigned n, next;		/* samples held; next slot */
	int64_t run_start;		/* first contact after a silence; -1 */
	int64_t last_contact;		/* -1: never */
} api_edge_clock;

void api_clock_init(api_edge_clock *c);
/* A heartbeat stamped edge_ms by the gate, received at now. */
void api_clock_sample(api_edge_clock *c, int64_t edge_ms, int64_t now);
/* Any authenticated request of the gate at now; a silence longer than
 * gap_ms before it starts a new run of contact. */
void api_clock_contact(api_edge_clock *c, int64_t now, int64_t gap_ms);
/* The offset estimate: 1 and *off_ms if it counts yet, else 0. */
int api_clock_offset(const api_edge_clock *c, int64_t *off_ms);

/* The verdict on edge_ts (> 0) received at now from a gate whose clock is
 * c (NULL: nothing known). Checked in the order of the enum. */
enum api_ts_verdict api_edge_ts_judge(const api_time_policy *p,
    const api_edge_clock *c, int64_t edge_ts, int64_t now);

#endif
