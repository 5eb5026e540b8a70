/* projections/proj.h — projection tables kept in the log's transactions.
 *
 * The projections are a pure function of the set of events in the log. They
 * live in named databases of the log's LMDB environment and are updated by
 * proj_apply, which the store calls inside the same write transaction as the
 * append (log_store_set_apply): the log and its projections never disagree.
 *
 * An appended event that sorts last among its plate's events in fold order
 * (projections/fold.h) — the usual case — resumes the plate's fold from its
 * open rows (p_plate's 'o' entries) and steps that one event: the cost does not grow with
 * the plate's history. A late event re-folds its plate from all its events
 * and replaces the rows that differ. Either way every derived figure
 * (occupancy, per-day stats, conflicts, state digest) is adjusted by the
 * difference between old and new rows.
 *
 *   p_sessions  session id → the row, compact, with the XXH3_64 of its
 *               canonical text (projections/row.h; schema-versioned)
 *   p_plate     plate → tag ‖ session id (DUPSORT), for open rows only:
 *               'i' its open primary session (inside); 'o' its open rows
 *               (the open primary and its open conflicts), where a fold
 *               resumes. Small (as many plates as are inside) and one key
 *               per plate, so an event dirties few, hot pages. All rows of
 *               a plate are found through its events (log_iter_plate): a
 *               row's id is the id of the event that opened it. The 'i'
 *               entries are also the listing of who is inside (sorted by
 *               session id when listed, so a listing reads every vehicle
 *               inside whatever its limit): no table of its own, one tree
 *               fewer for every commit to write (docs/performance.md).
 *   p_time      sort ts (8, BE) ‖ session id → "" : history, newest last
 *   p_conflict  session id → "" : rows with DOUBLE_ENTRY/FEE_DIFF/ORPHAN/DUP
 *   p_meta      "digest", "tariff", counters, inside counts per class
 *               ("in:<class>"), and per local day "d:" ‖ day (4, BE) →
 *               proj_day (entries, exits, revenue): one small tree that
 *               every commit changes, not two.
 *
 * State digest: Σ XXH3_64(proj_session_json(row)) over all rows, mod 2^64 —
 * order-independent, maintained in O(1) per row change, equal on any two
 * centrals that hold the same events (and the same tariff).
 */
#ifndef PARKLOG_PROJ_PROJ_H
#define PARKLOG_PROJ_PROJ_H

#include <stddef.h>
#include <stdint.h>

#include "log/store.h"
#include "projections/fold.h"
#include "projections/tariff.h"

typedef struct proj proj;

/* Error codes (0 is success); others are log_/LMDB/errno codes. */
enum {
	PROJ_ESTALE = -30700	/* stored projections were made by another tariff
				   or schema: rebuild (proj_rebuild) */
};
const char *proj_strerror(int err);

#define PROJ_DBS 8		/* named databases proj_open needs (extra_dbs) */

/* Open the projection tables in the store's environment (created if the store
 * is writable). `tariff` is copied; NULL means the tariff stored with the
 * projections (what an auditor wants), or the default if none is stored. On a writable store whose projections are
 * missing or stale (other tariff hash or schema), they are rebuilt from the
 * log before this returns. A read-only store with stale projections opens
 * (queries still answer) and proj_check reports PROJ_ESTALE. */
int proj_open(log_store *s, const proj_tariff *tariff, proj **out);
/* Also unhooks p from the store if proj_attach hooked it (so not while a
 * write transaction is open). */
void proj_close(proj *p);
const proj_tariff *proj_get_tariff(const proj *p);
/* The operator changes the projections hold (projections/ops.h); owned by
 * p, valid until proj_close. */
struct proj_ops;
const struct proj_ops *proj_get_ops(const proj *p);

/* Hook the projections into the store's write transactions: proj_apply on
 * every append, proj_precommit before every commit. Not while a write
 * transaction is open. */
void proj_attach(proj *p);

/* The log_apply_fn: re-fold ev's plate inside txn. ctx is the proj.
 * Counters and per-day figures are collected and written by proj_precommit
 * (installed together by proj_attach), once per transaction. */
int proj_apply(void *ctx, log_txn *txn, const log_event *ev, const log_rec *rec);
int proj_precommit(void *ctx, log_txn *txn);

/* How proj_apply has worked since proj_open (tests, /metrics). */
typedef struct proj_stats {
	uint64_t extended;	/* events folded onto their plate's open rows */
	uint64_t refolded;	/* plates re-folded: late events, rebuilds */
	uint64_t events_read;	/* events read back from the log by re-folds */
} proj_stats;
void proj_get_stats(const proj *p, proj_stats *out);

/* Drop every projection row and fold the whole log again, in txn. */
int proj_rebuild(proj *p, log_txn *txn);

/* Another tariff (SIGHUP): fold everything again with it, in txn (a write
 * transaction of the writer thread — it takes as long as a rebuild). A no-op
 * for the same tariff. On failure the old tariff stays; the caller aborts. */
int proj_set_tariff(proj *p, log_txn *txn, const proj_tariff *tariff);

/* ---- queries (any transaction; results are copies) -------------------- */

typedef struct proj_day {
	uint64_t entries;	/* primary sessions that entered that local day */
	uint64_t exits;		/* exits that day (one per EXIT that closed a
				   session or stood alone) */
	int64_t revenue;	/* Σ fee charged by those exits, VND */
} proj_day;

typedef struct proj_class_count {
	char vehicle[LOG_VEHICLE_MAX + 1];
	uint64_t inside;
} proj_class_count;

typedef struct proj_summary {
	uint64_t sessions, open, closed, conflicts, inside;
	proj_class_count classes[PROJ_TARIFF_CLASSES];
	size_t nclasses;
	int64_t revenue;	/* all time */
	uint64_t digest;
} proj_summary;

/* Local day number (days since 1970-01-01 in facility time) of ts_ms. */
int32_t proj_local_day(const proj *p, int64_t ts_ms);

int proj_session_get(proj *p, log_txn *t, const char *id, proj_session *out);
/* The plate's open primary session: 0, or LOG_NOTFOUND if not inside. */
int proj_inside_get(proj *p, log_txn *t, const char *plate, proj_session *out);
int proj_day_get(proj *p, log_txn *t, int32_t day, proj_day *out);
int proj_summary_get(proj *p, log_txn *t, proj_summary *out);

/* Iterate. The callback returns 0 to go on, 1 to stop (not an error), or an
 * error that is returned. `s` is valid during the call only. */
typedef int (*proj_session_cb)(void *ctx, const proj_session *s);
int proj_each_inside(proj *p, log_txn *t, proj_session_cb cb, void *ctx);
int proj_each_conflict(proj *p, log_txn *t, proj_session_cb cb, void *ctx);
/* Every session of a plate, oldest first. */
int proj_each_plate(proj *p, log_txn *t, const char *plate, proj_session_cb cb, void *ctx);
/* Sessions newest first by their sort ts (entry, or exit for exit-only rows),
 * limited to [from_ms, to_ms) (0 = unbounded). */
int proj_each_recent(proj *p, log_txn *t, int64_t from_ms, int64_t to_ms,
    proj_session_cb cb, void *ctx);

/* ---- audit ------------------------------------------------------------ */

/* Fold the whole log in memory (ignoring the stored projections) into *out.
 * Needs only the log; used by `parklog replay` and `parklog verify`. */
int proj_replay(log_txn *t, const proj_tariff *tariff, proj_summary *out);

/* Compare the stored projections with a replay: 0 if they agree, PROJ_ESTALE
 * if made by another tariff, else LOG_ECORRUPT with what differs in err. */
int proj_check(proj *p, log_txn *t, char *err, size_t errlen);

#endif
