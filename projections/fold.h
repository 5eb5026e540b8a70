/* projections/fold.h — the pure per-plate fold: events → sessions.
 *
 * A plate's sessions are a function of the SET of its events: the events are
 * sorted in fold order (ts, origin, epoch, seq) and folded by these rules:
 *
 *  ENTRY_PENDING   opens a session (id = the event's id). If the plate already
 *                  has an open primary session, the new one is a DOUBLE_ENTRY
 *                  conflict of it (the older is primary); the plate counts as
 *                  inside once.
 *  ENTRY_CONFIRMED marks the session it names confirmed (ignored, counted as
 *                  an anomaly, if that session is unknown or closed).
 *  EXIT            closes the session it names; when that session is unknown
 *                  here or the EXIT names none, the primary session open at
 *                  that time (LINKED_EXIT); if none is open, the EXIT stands
 *                  alone as an ORPHAN_EXIT session (id = the exit's id). An
 *                  EXIT naming an already closed session is a DUP_EXIT
 *                  session of its own. Closing a primary closes its open
 *                  DOUBLE_ENTRY conflicts (and closing a conflict closes its
 *                  primary): fee_tariff runs from the primary's (older) entry.
 *                  fee_charged is the EXIT's recorded fee; FEE_DIFF when it
 *                  differs from fee_tariff.
 *
 * Ties never depend on which central folds: fold order is total over
 * (ts, origin, epoch, seq), and the rules use nothing else.
 */
#ifndef PARKLOG_PROJ_FOLD_H
#define PARKLOG_PROJ_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "log/event.h"
#include "projections/tariff.h"

enum proj_session_flag {
	PROJ_S_CONFIRMED = 1 << 0,
	PROJ_S_CLOSED = 1 << 1,
	PROJ_S_DOUBLE_ENTRY = 1 << 2,	/* younger of two open at once */
	PROJ_S_LINKED_EXIT = 1 << 3,	/* exit named no (known) session */
	PROJ_S_ORPHAN_EXIT = 1 << 4,	/* exit with no session open at all */
	PROJ_S_DUP_EXIT = 1 << 5,	/* exit naming a session already closed */
	PROJ_S_FEE_DIFF = 1 << 6	/* fee charged != fee the tariff gives */
};

typedef struct proj_session {
	char id[LOG_ID_MAX + 1];	/* opening ENTRY_PENDING, or the EXIT for
					   ORPHAN_EXIT / DUP_EXIT rows */
	char plate[LOG_PLATE_MAX + 1];
	char plate_view[LOG_VIEW_MAX + 1];
	char vehicle[LOG_VEHICLE_MAX + 1];
	char primary[LOG_ID_MAX + 1];	/* DOUBLE_ENTRY: the primary's id, else "" */
	int64_t entry_ts;		/* -1 for exit-only rows */
	char entry_edge[LOG_ORIGIN_MAX + 1];
	char entry_origin[LOG_ORIGIN_MAX + 1];
	int64_t confirm_ts;		/* -1 if not confirmed */
	int64_t exit_ts;		/* -1 while open */
	char exit_id[LOG_ID_MAX + 1];
	char exit_edge[LOG_ORIGIN_MAX + 1];
	char exit_origin[LOG_ORIGIN_MAX + 1];
	int64_t fee_charged;		/* -1: no exit, or closed as a conflict */
	int64_t fee_tariff;		/* -1: not computable */
	unsigned flags;			/* enum proj_session_flag */
} proj_session;

/* Total fold order of two events: <0, 0 (same position), >0. */
int proj_fold_cmp(const log_event *a, const log_event *b);

/* Sort evs in fold order, in place. */
void proj_fold_sort(log_event *evs, size_t n);

/* Fold one plate's events, already in fold order, into sessions in the order
 * they were opened. *out is malloc'd (the caller frees), *nout its count.
 * Events of another plate than evs[0]'s are an error (EINVAL). 0 or ENOMEM. */
int proj_fold_plate(const log_event *evs, size_t n, const proj_tariff *t,
    proj_session **out, size_t *nout);

/* Stable canonical text of one session (for digests, dumps and tests):
 * compact JSON with fixed key order. Returns the length, or -1 if cap is
 * too small. */
int proj_session_json(const proj_session *s, char *buf, size_t cap);

#endif
