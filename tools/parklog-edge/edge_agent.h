/* edge_agent — the gate's logic: plate reads, the central, the barrier,
 * heartbeats and the offline queue. Single-threaded: main's poll loop
 * calls in here; every answer is printed as one JSON line on `out`.
 */
#ifndef PARKLOG_EDGE_AGENT_H
#define PARKLOG_EDGE_AGENT_H

#include <stdint.h>
#include <stdio.h>

#include "tools/parklog-edge/edge_barrier.h"
#include "tools/parklog-edge/edge_conf.h"
#include "tools/parklog-edge/edge_dedup.h"
#include "tools/parklog-edge/edge_gate.h"
#include "tools/parklog-edge/edge_queue.h"

typedef struct edge_agent {
	const edge_conf *cf;
	edge_barrier *bar;		/* borrowed */
	edge_queue *q;			/* borrowed */
	edge_gate *gate;		/* borrowed; NULL: no gate channel */
	FILE *out;
	edge_dedup dd;
	size_t cur;			/* central in use (failover index) */
	char last_plate[EDGE_PLATE_MAX + 1];	/* last read: a bare "open" opens it */
	char open_plate[EDGE_PLATE_MAX + 1];	/* barrier open for this plate */
	int64_t close_at;		/* auto-close deadline, 0: closed */
	int64_t next_hb, next_retry;	/* ms */
	unsigned long sent, failed;
	int hb_queued;			/* a heartbeat waits in the queue, after
					   the last queued action */
	int held;			/* the central refuses the oldest queued
					   record for now (401/403...): kept,
					   retried with backoff */
	int64_t backoff_ms;		/* next delay while held: retry_ms doubling
					   up to retry_max_ms */
	unsigned long dead;		/* records set aside (dead.ndjson) */
} edge_agent;

int64_t edge_now_ms(void);
void edge_agent_init(edge_agent *a, const edge_conf *cf, edge_barrier *bar,
    edge_queue *q, FILE *out);
/* One input line: an NDJSON plate read, or "open [PLATE]" / "close". */
void edge_agent_line(edge_agent *a, const char *line);
/* A command from the central over the gate channel: drive the barrier,
 * answer it (edge_gate_ack). */
void edge_agent_command(edge_agent *a, const edge_gate_cmd *c);
/* The sensor says the vehicle passed. */
void edge_agent_passed(edge_agent *a);
/* Timers: heartbeat, auto-close, queue retry. Returns ms until the next. */
int edge_agent_tick(edge_agent *a);

#endif
