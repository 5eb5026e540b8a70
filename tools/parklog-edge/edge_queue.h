/* edge_queue — actions waiting for the central, on disk, in order.
 *
 * Two files in the queue directory:
 *   queue.log  append-only records: magic, length, XXH64 of the payload,
 *              payload; each append is fsync'd before it counts. A torn
 *              tail (a crash mid-write) fails its checksum or is short and
 *              is cut off at open, so no torn record is ever delivered.
 *   queue.pos  the offset of the first record not yet delivered, with its
 *              own checksum, replaced by write-temp + fsync + rename.
 * A record is delivered at least once (a crash between the send and the new
 * queue.pos resends it); the central makes that exactly once with the
 * record's id as Idempotency-Key. When everything is delivered, queue.log
 * is cut to zero (before queue.pos, so a crash in between only leaves a
 * queue.pos beyond the end, read as "all delivered").
 */
#ifndef PARKLOG_EDGE_QUEUE_H
#define PARKLOG_EDGE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define EDGE_QUEUE_REC_MAX	(64 * 1024)	/* payload bytes */
#define EDGE_QUEUE_PATH_MAX	64
#define EDGE_QUEUE_ID_MAX	80

typedef struct edge_queue edge_queue;

/* One queued action: the request to replay. */
typedef struct edge_qrec {
	char path[EDGE_QUEUE_PATH_MAX];	/* "/api/edge/barrier/open" */
	char id[EDGE_QUEUE_ID_MAX];	/* <edge_id>_<unix_ms>_<plate>: Idempotency-Key */
	char *body;			/* JSON, malloc'd */
} edge_qrec;

/* Open (creating the directory's files), cut a torn tail. 0 or errno;
 * *cut says how many bytes of torn tail were dropped (may be NULL). */
int edge_queue_open(const char *dir, edge_queue **out, size_t *cut);
void edge_queue_close(edge_queue *q);

/* Append durably. 0 or errno (EMSGSIZE if too big). */
int edge_queue_push(edge_queue *q, const char *path, const char *id,
    const char *body);
/* The oldest undelivered record: 0, ENOENT if none, or errno. Free its
 * body with edge_qrec_free. */
int edge_queue_peek(edge_queue *q, edge_qrec *rec);
/* Mark the record from the last peek delivered. 0 or errno. */
int edge_queue_pop(edge_queue *q);
size_t edge_queue_pending(const edge_queue *q);
void edge_qrec_free(edge_qrec *rec);

#endif
