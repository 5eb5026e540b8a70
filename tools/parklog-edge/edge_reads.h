/* edge_reads — plate reads over loopback HTTP, for a plate reader that
 * posts rather than writes to stdin.
 *
 *   POST /read   body: one plate read, as on stdin
 *                ({"plate_id":"29A-123.45","plate_view":"...","confidence":0.95})
 *   → 202 {"accepted":true}; 400 if the body is not a JSON object; 413 over
 *     4 KiB; 503 if reads pile up (the agent is stuck talking to a central).
 *
 * libmicrohttpd serves it on its own thread; accepted reads wait in a small
 * queue for the agent's poll loop (edge_reads_fd readable, edge_reads_next),
 * which handles them exactly like stdin lines. Listening is loopback only.
 */
#ifndef PARKLOG_EDGE_READS_H
#define PARKLOG_EDGE_READS_H

#include <stddef.h>

typedef struct edge_reads edge_reads;

#define EDGE_READ_MAX 4096

/* Listen on host:port (a loopback address). 0, or -1 with err set. */
int edge_reads_start(const char *host, int port, edge_reads **out, char *err,
    size_t errlen);
int edge_reads_fd(const edge_reads *r);		/* -1 for NULL */
/* The next read into line (EDGE_READ_MAX + 1 bytes): 1, or 0 if none. */
int edge_reads_next(edge_reads *r, char *line);
void edge_reads_stop(edge_reads *r);		/* NULL is fine */

#endif
