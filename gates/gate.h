/* gates/gate.h — the gate channel: the central's WebSocket listener for
 * its edge boxes, and the open/close commands it sends them.
 *
 * Messages: gates/frame.h. A gate connects, says hello with its edge id and
 * token (checked by the auth callback), and from then on receives the
 * barrier commands of its edge id and acknowledges each. A newer connection
 * of the same edge id replaces the older one.
 *
 * Threads: one lws context, served by the gate service's own thread; every
 * lws call happens there. gate_command and gate_status_get may be called
 * from any thread (they take the service's mutex and wake the thread with
 * lws_cancel_service).
 *
 * Ownership: the service copies its options. A command's done() is called
 * exactly once, on the service thread (or in gate_service_stop's thread
 * while stopping), never from within gate_command.
 *
 * Lifecycle: gate_service_create, gate_service_start, ... gate_command ...,
 * gate_service_stop (answers whatever waits), gate_service_destroy.
 */
#ifndef PARKLOG_GATES_GATE_H
#define PARKLOG_GATES_GATE_H

#include <stdint.h>

#include "gates/frame.h"

typedef struct gate_service gate_service;

#define GATE_REASON_MAX 64

/* What became of a command. */
typedef struct gate_result {
	int sent;			/* it reached a connected gate */
	int acked;			/* the gate answered */
	int ok;				/* ... that the barrier did it */
	unsigned ms;			/* from sending to the answer */
	char reason[GATE_REASON_MAX];	/* if not ok: "gate offline", "timeout",
					   "gate disconnected", "shutting down",
					   or the gate's own error */
} gate_result;

typedef void (*gate_done_fn)(void *arg, const gate_result *res);
/* 0 if edge_id with token may connect. Service thread; must not block. */
typedef int (*gate_auth_fn)(void *ctx, const char *edge_id, const char *token);

typedef struct gate_opts {
	const char *listen_host;	/* numeric address; NULL or "": 127.0.0.1 */
	int listen_port;		/* 0: any free port (see gate_service_port) */
	unsigned ack_timeout_ms;	/* 0: 2000 */
	unsigned hello_timeout_ms;	/* 0: 5000; no hello by then: closed */
	gate_auth_fn auth;		/* required */
	void *auth_ctx;
	/* A gate connected (1) or went away (0); service thread; optional. */
	void (*on_change)(void *ctx, const char *edge_id, int connected);
	void *change_ctx;
} gate_opts;

/* A gate as the channel knows it (for /api/cameras). */
typedef struct gate_status {
	int connected;
	int64_t since_ms;		/* connected (or disconnected) since */
	char last_cmd[8];		/* "open", "close", "" if none yet */
	char last_event[LOG_ID_MAX + 1];
	int64_t last_at_ms;		/* when it was sent */
	int last_waiting;		/* sent, not answered yet */
	gate_result last;		/* its result once known */
} gate_status;

enum {
	GATE_ECONF = -30500,		/* invalid options or cannot listen */
	GATE_ESTOPPED,			/* stopping: no more commands */
	GATE_EOFFLINE			/* no gate of that edge id is connected */
};
const char *gate_strerror(int err);

int gate_service_create(const gate_opts *o, gate_service **out);
int gate_service_start(gate_service *g);
/* Close every connection, answer every command still waiting, join the
 * thread. Idempotent. */
void gate_service_stop(gate_service *g);
void gate_service_destroy(gate_service *g);
int gate_service_port(const gate_service *g);

/* Send edge_id's gate the command `cmd` ("open"/"close") for event_id and
 * plate, and call done() with the result: acked, or not (timeout, ...).
 * 0; GATE_EOFFLINE at once if the gate is not connected (recorded in its
 * status, no thread hop); EINVAL for a bad argument; GATE_ESTOPPED;
 * ENOMEM. On an error done() is not called. */
int gate_command(gate_service *g, const char *edge_id, const char *cmd,
    const char *event_id, const char *plate, gate_done_fn done, void *arg);

/* What the channel knows of edge_id: 0, or ENOENT if it never connected
 * nor was commanded. */
int gate_status_get(gate_service *g, const char *edge_id, gate_status *out);

#endif
