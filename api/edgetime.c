/* api/edgetime.c — the edge_ts bounds and the per-gate clock estimate
 * (see edgetime.h, docs/time.md). */
#include "api/edgetime.h"

#include <string.h>

#include "msg/msg.h"

const char *api_ts_reason(enum api_ts_verdict v)
{
	static const char *const names[API_TS_NVERDICT] = { "ok", "ahead",
	    "too_old", "drift", "late" };

	return (unsigned)v < API_TS_NVERDICT ? names[v] : "?";
}

void api_clock_init(api_edge_clock *c)
{
	memset(c, 0, sizeof *c);
	c->run_start = c->last_contact = -1;
}

void api_clock_sample(api_edge_clock *c, int64_t edge_ms, int64_t now)
{
	if (edge_ms <= 0)
		return;
	c->off[c->next] = edge_ms - now;
	c->at[c->next] = now;
	c->next = (c->next + 1) % API_CLOCK_SAMPLES;
	if (c->n < API_CLOCK_SAMPLES)
		c->n++;
	msg_assert(c->n <= API_CLOCK_SAMPLES && c->next < API_CLOCK_SAMPLES);
}

void api_clock_contact(api_edge_clock *c, int64_t now, int64_t gap_ms)
{
	if (c->last_contact < 0 || now - c->last_contact > gap_ms)
		c->run_start = now;
	if (now > c->last_contact)
		c->last_contact = now;
}

int api_clock_offset(const api_edge_clock *c, int64_t *off_ms)
{
	int64_t best = 0, first = 0, last = 0;

	if (c->n < API_CLOCK_MIN)
		return 0;
	for (unsigned i = 0; i < c->n; i++) {
		if (i == 0 || c->off[i] > best)
			best = c->off[i];
		if (i == 0 || c->at[i] < first)
			first = c->at[i];
		if (i == 0 || c->at[i] > last)
			last = c->at[i];
	}
	if (last - first < API_CLOCK_SPAN_MS)
		return 0;
	*off_ms = best;
	return 1;
}

enum api_ts_verdict api_edge_ts_judge(const api_time_policy *p,
    const api_edge_clock *c, int64_t edge_ts, int64_t now)
{
	int64_t skew = p->skew_ms ? p->skew_ms : API_TIME_SKEW_MS;
	int64_t horizon = (int64_t)(p->offline_horizon_s ? p->offline_horizon_s :
	    API_TIME_HORIZON_S) * 1000;
	int64_t drift = p->max_drift_ms ? p->max_drift_ms : API_TIME_DRIFT_MS;
	int64_t off, live = skew + drift;	/* how late a live request may come */

	if (edge_ts > now + skew)
		return API_TS_AHEAD;
	if (edge_ts < now - horizon)
		return API_TS_OLD;
	if (c == NULL)
		return API_TS_OK;
	if (api_clock_offset(c, &off) && (off > drift || off < -drift))
		return API_TS_DRIFT;
	/* In contact since before the action, yet it comes late: it was not
	 * queued for an outage (a queued one predates the current run). */
	if (c->run_start >= 0 && edge_ts > c->run_start + live && now - edge_ts > live)
		return API_TS_LATE;
	return API_TS_OK;
}
