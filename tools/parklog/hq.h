/* tools/parklog/hq.h — `parklog hq`: the head office's view of every
 * facility, from the facilities' JetStream streams (docs/export.md).
 *
 * It only reads NATS (a durable pull consumer per stream) and writes its own
 * LMDB environment; it never talks to a facility. Tables (one env, DIR):
 *   ids   event id → "" : what was counted (dedup by id: a re-sent or
 *         doubly exported event counts once)
 *   agg   "f/<facility>" → hq_counts: since the start;
 *         "d/<facility>/<local day, 8 BE>" → hq_counts of that day
 * The counts, per event (the facilities' rule where no plate is inside at two
 * centrals at once, i.e. no conflicts): ENTRY_PENDING enters (entries,
 * inside + 1), EXIT leaves (exits, revenue + fee, inside − 1 if it closed a
 * session); days by the event's action time in the HQ's UTC offset.
 */
#ifndef PARKLOG_HQ_H
#define PARKLOG_HQ_H

#include <lmdb.h>
#include <stdint.h>

#include "log/event.h"

typedef struct hq_counts {
	int64_t inside, entries, exits, revenue;
} hq_counts;

typedef struct hq_db {
	MDB_env *env;
	MDB_dbi ids, agg;
	int tz_min;			/* UTC offset of "days", minutes */
} hq_db;

int hq_db_open(hq_db *d, const char *dir, int tz_min);
void hq_db_close(hq_db *d);
/* Count ev of `facility` inside t unless its id was counted: 0 (counted or
 * a duplicate: *dup says which) or an LMDB code. */
int hq_db_apply(hq_db *d, MDB_txn *t, const char *facility, const log_event *ev,
    int *dup);
/* Each facility's totals, and its counts of local day `day`, in key order:
 * fn(ctx, facility, &total, &today). 0 or an LMDB code. */
typedef void (*hq_fac_fn)(void *ctx, const char *facility, const hq_counts *all,
    const hq_counts *day);
int hq_db_each(hq_db *d, int32_t day, hq_fac_fn fn, void *ctx);
int32_t hq_local_day(const hq_db *d, int64_t ms);

typedef struct hq_http hq_http;
/* Listen on host:port (numeric IPv4) with GET /, /api/hq/summary. */
int hq_http_start(hq_db *d, const char *host, int port, hq_http **out);
int hq_http_port(const hq_http *h);
void hq_http_stop(hq_http *h);

#endif
