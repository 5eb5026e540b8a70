/* log/plates.h — the per-plate index of the log, kept in memory.
 *
 * Internal to log/ (store.c owns one per open store). For each plate, the
 * positions (stream_no, seq) of its events in fold order
 * (action time, origin, epoch, seq) — action time: edge_ts when the event
 * has an earlier one, else ts (log_event_at) — and the highest ts of the
 * plate (the hybrid clock's floor for that plate only). It is not stored: a write-open store builds it
 * by one scan of the log, a read-only store catches it up on use (see
 * store.c). Why in memory: a plate-keyed LMDB index costs one random 4 KiB
 * page per appended event, which bounded durable appends to a tenth of bare
 * LMDB's rate; here an append costs a hash lookup and a short insert.
 *
 * Thread safety: every function takes the index's own mutex, so the writer
 * may add while readers copy a plate's positions. Entries may name events a
 * reader's snapshot does not hold yet (or an aborted append not yet undone);
 * readers skip positions their transaction cannot find.
 */
#ifndef PARKLOG_LOG_PLATES_H
#define PARKLOG_LOG_PLATES_H

#include <stddef.h>
#include <stdint.h>

#include "log/event.h"

typedef struct log__plates log__plates;

/* One event of a plate. */
typedef struct log__ppos {
	int64_t at;		/* action time: the fold order's first key */
	uint64_t seq;
	uint32_t no;		/* stream_no */
	int64_t ts;		/* the event's ts (the clock's floor) */
} log__ppos;

/* Create an empty index: 0 or ENOMEM. */
int log__plates_new(log__plates **out);
void log__plates_free(log__plates *px);

/* Tell the index stream `no`'s origin and epoch (needed to order events of
 * equal ts). Idempotent; 0 or ENOMEM. */
int log__plates_stream(log__plates *px, uint32_t no, const char *origin,
    uint64_t epoch);

/* Insert an event of `plate` (whose stream was registered) in fold order,
 * and raise the stream's covered seq to `seq`. 0 or ENOMEM. */
int log__plates_add(log__plates *px, const char *plate, const log__ppos *pos);

/* Remove what log__plates_add inserted (an aborted transaction's appends,
 * undone newest first); lowers the covered seq to seq - 1. */
void log__plates_remove(log__plates *px, const char *plate, const log__ppos *pos);

/* A copy of the plate's positions in fold order into *buf (grown with
 * realloc; the caller owns it), their number in *n. 0 or ENOMEM; a plate
 * never seen has none. */
int log__plates_copy(log__plates *px, const char *plate, log__ppos **buf,
    size_t *cap, size_t *n);

/* The plate's last position in fold order: 0, or LOG_NOTFOUND. */
int log__plates_last(log__plates *px, const char *plate, log__ppos *out);

/* The highest ts among the plate's events (not the last in fold order: an
 * event with an early edge_ts sorts before later-recorded ones): 0, or
 * LOG_NOTFOUND if the plate has none. */
int log__plates_max_ts(log__plates *px, const char *plate, int64_t *ts);

/* The first plate with events greater than `after` ("" for the first) in
 * byte order: 0, or LOG_END. `after` and `out` may be the same buffer. */
int log__plates_next(log__plates *px, const char *after,
    char out[LOG_PLATE_MAX + 1]);

/* Plates with at least one event. */
uint64_t log__plates_count(log__plates *px);

/* The highest seq of stream `no` the index holds (0: none). */
uint64_t log__plates_covered(log__plates *px, uint32_t no);

#endif
