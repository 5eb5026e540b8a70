/* edge_queue — actions waiting for the central, on disk, in order.
 *
 * Files in the queue directory:
 *   queue.log  append-only records: magic, length, XXH64 of the payload,
 *              payload; each append is fsync'd before it counts.
 *              A record that fails its checks (a flipped byte, a bad
 *              header) is skipped, never a truncation point: the reader
 *              resynchronises on the next offset holding a whole valid
 *              record (magic, length, checksum), so every readable record
 *              after it is kept and delivered. Only bad bytes after the
 *              last valid record — a torn tail, a crash mid-write — are
 *              cut off at open. The format is the one of earlier versions
 *              (nothing to migrate).
 *   queue.pos  the offset of the first record not yet delivered, with its
 *              own checksum, replaced by write-temp + fsync + rename. An
 *              unreadable queue.pos, or one that is not at a record, is
 *              rebuilt from queue.log at open (see edge_queue_report).
 *   dead.ndjson  records the central refused for their content (400, 409,
 *              ...): set aside by edge_queue_dead, one JSON line each,
 *              never deleted by the agent.
 * A record is delivered at least once (a crash between the send and the new
 * queue.pos resends it); the central makes that exactly once with the
 * record's id as Idempotency-Key. When everything is delivered, queue.log
 * is cut to zero (before queue.pos, so a crash in between only leaves a
 * queue.pos beyond the end, read as "all delivered").
 *
 * Invariants (checked with msg_assert): pos <= end, next is 0 or in
 * (pos, end], end is the file's size as far as this process wrote it.
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

/* What the open found wrong and mended (for the agent to say). */
typedef struct edge_queue_report {
	size_t cut;			/* bytes of torn tail dropped */
	size_t skipped;			/* unreadable records skipped ... */
	uint64_t skipped_bytes;		/* ... and their bytes (left in queue.log) */
	int pos_rebuilt;		/* queue.pos was unreadable or off a record */
	uint64_t pos;			/* the position used (rebuilt or not) */
} edge_queue_report;

/* Open (creating the directory's files), skip unreadable records, cut a
 * torn tail, rebuild a bad queue.pos: to the last record boundary at or
 * before a checksummed position, else to the first record (those resent
 * are made harmless by their Idempotency-Key). 0 or errno; *rep (may be
 * NULL) says what was mended. */
int edge_queue_open(const char *dir, edge_queue **out, edge_queue_report *rep);
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
/* Set the record from the last peek aside: append it to dead.ndjson with
 * the central's status and answer (fsync'd), then pop it. 0 or errno (the
 * record stays queued on an error). */
int edge_queue_dead(edge_queue *q, const edge_qrec *rec, int status,
    const char *answer);
/* Records set aside by edge_queue_dead since open. */
size_t edge_queue_dead_count(const edge_queue *q);
void edge_qrec_free(edge_qrec *rec);

#endif
