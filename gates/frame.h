/* gates/frame.h — the messages of the gate channel (pure, no I/O).
 *
 * Each gate (edge box) keeps one WebSocket open to its central, subprotocol
 * GATE_SUBPROTOCOL, one JSON object per text message:
 *
 *   edge → central  {"type":"hello","edge_id":"gate-1","token":"..."}
 *                       first message, once: who it is (token as the
 *                       edge's HTTP bearer token; "" when none is needed)
 *                   {"type":"ack","event_id":"...","ok":true}
 *                   {"type":"ack","event_id":"...","ok":false,"error":"..."}
 *                       the command for event_id was carried out (or not)
 *   central → edge  {"type":"welcome","edge_id":"gate-1"}
 *                   {"type":"open"|"close","event_id":"...","plate":"..."}
 *                       drive the barrier; answer with an ack
 *
 * Parsing is strict: one object, "type" known, fields of the right type and
 * length; anything else is refused (the connection is then closed).
 */
#ifndef PARKLOG_GATES_FRAME_H
#define PARKLOG_GATES_FRAME_H

#include <stddef.h>

#include "log/event.h"

#define GATE_SUBPROTOCOL	"parklog-gate"
#define GATE_FRAME_MAX		4096	/* bytes of one message */
#define GATE_TOKEN_MAX		128
#define GATE_ERROR_MAX		128

enum gate_ftype { GATE_F_HELLO = 1, GATE_F_ACK };

typedef struct gate_frame {
	enum gate_ftype type;
	char edge_id[LOG_ORIGIN_MAX + 1];	/* hello */
	char token[GATE_TOKEN_MAX + 1];		/* hello */
	char event_id[LOG_ID_MAX + 1];		/* ack */
	int ok;					/* ack */
	char error[GATE_ERROR_MAX + 1];		/* ack, "" if none */
} gate_frame;

/* Parse one message from an edge: 0, or EINVAL with the reason in err. */
int gate_frame_parse(const char *buf, size_t len, gate_frame *out, char *err,
    size_t errlen);

/* Format a command ("open" or "close") into buf: its length, or -1 if it
 * does not fit or an argument is not of the log's shape. */
int gate_frame_command(char *buf, size_t cap, const char *cmd,
    const char *event_id, const char *plate);

/* Format the welcome: its length, or -1. */
int gate_frame_welcome(char *buf, size_t cap, const char *edge_id);

#endif
