/* edge_gate — the gate's end of the gate channel (gates/frame.h): a
 * WebSocket to the central's gate listener, kept open (reconnecting, in
 * the centrals' failover order), over which the central sends open/close
 * commands and this gate acknowledges them.
 *
 * Threads: libwebsockets runs on the channel's own thread; the agent's
 * poll loop (main.c) sees edge_gate_fd readable when commands wait, takes
 * them with edge_gate_next, drives the barrier and answers edge_gate_ack.
 * The barrier is only ever touched by the agent's thread.
 *
 * The gate's own requests: while the agent waits for its HTTP barrier/open
 * (the central answers only after this gate's ack), it cannot take the
 * command; edge_gate_expect names the command it is asking for, and the
 * channel acks that one at once — the agent drives the barrier when the
 * HTTP answer comes, as it would without the channel.
 */
#ifndef PARKLOG_EDGE_GATE_H
#define PARKLOG_EDGE_GATE_H

#include "tools/parklog-edge/edge_conf.h"
#include "tools/parklog-edge/edge_dedup.h"

typedef struct edge_gate edge_gate;

typedef struct edge_gate_cmd {
	char cmd[8];			/* "open" | "close" */
	char event_id[96];
	char plate[EDGE_PLATE_MAX + 1];
} edge_gate_cmd;

/* Start connecting to the central's gate channel (cf->gate_port on the
 * central's host). *out is NULL (and 0 returned) when gate_port is 0.
 * 0, or -1 with a message logged. cf must outlive the channel. */
int edge_gate_start(const edge_conf *cf, edge_gate **out);
/* Readable (POLLIN) when commands wait; -1 for a NULL channel. */
int edge_gate_fd(const edge_gate *g);
/* The next command: 1, or 0 if none waits. */
int edge_gate_next(edge_gate *g, edge_gate_cmd *out);
/* Answer a command taken with edge_gate_next. error may be NULL. */
void edge_gate_ack(edge_gate *g, const char *event_id, int ok, const char *error);
/* The agent is about to ask the central for `cmd` at `plate` itself: ack
 * that command when it comes (within a few seconds). */
void edge_gate_expect(edge_gate *g, const char *cmd, const char *plate);
/* 1 once the central welcomed this gate on the current connection. */
int edge_gate_connected(edge_gate *g);
/* Close the connection and join the thread; NULL is fine. */
void edge_gate_stop(edge_gate *g);

#endif
