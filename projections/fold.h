/* projections/fold.h — the pure per-plate fold: events → sessions.
 *
 * A plate's sessions are a function of the SET of its events: the events are
 * sorted in fold order (action time, origin, epoch, seq) — action time =
 * log_event_at: the gate's edge_ts when the event has one earlier than its
 * ts, else ts (docs/time.md) — and folded by these rules:
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
 * Precisely (what the rules above leave open):
 *  - "Known" means opened by an ENTRY_PENDING earlier in fold order; ids are
 *    unique in the log, the fold assumes so.
 *  - Open sessions are always one group: the open primary and its conflicts.
 *    An EXIT naming any open member (primary or conflict) closes the whole
 *    group. An EXIT naming no session, or one not known, closes the group
 *    too and flags the primary LINKED_EXIT; an EXIT naming a conflict is
 *    not LINKED_EXIT.
 *  - The primary carries the fee: fee_charged = the EXIT's fee, fee_tariff =
 *    proj_tariff_fee(t, primary's vehicle, primary's entry_ts, EXIT's
 *    action time), -1 if t is NULL or the tariff gives an error. FEE_DIFF iff both are >= 0
 *    and differ. Conflicts closed with it get the exit fields (exit_ts,
 *    exit_id, exit_edge, exit_origin) and CLOSED, but fee_charged =
 *    fee_tariff = -1, so revenue and differences count once.
 *  - ORPHAN_EXIT and DUP_EXIT rows: id = exit_id = the EXIT's id, plate,
 *    plate_view and vehicle from the EXIT, entry_ts = confirm_ts = -1, entry
 *    fields "", primary "", fee_charged = the EXIT's fee (a fact: it was
 *    charged), fee_tariff = -1 (no entry to run from), so never FEE_DIFF.
 *  - ENTRY_CONFIRMED of an open session (conflicts included) sets CONFIRMED
 *    and confirm_ts once; a repeat is a no-op, not an anomaly. Confirming an
 *    unknown or closed session, and events of any other type, are ignored
 *    and counted in *anomalies of proj_fold_plate_ex.
 *  - Rows come out in the fold order of the event that created them.
 *
 * Ties never depend on which central folds: fold order is total over
 * (action time, origin, epoch, seq), and the rules use nothing else.
 */
#ifndef PARKLOG_PROJ_FOLD_H
#define PARKLOG_PROJ_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "log/event.h"
#include "projections/tariff.h"

struct proj_ops;	/* projections/ops.h */

enum proj_session_flag {
	PROJ_S_CONFIRMED = 1 << 0,
	PROJ_S_CLOSED = 1 << 1,
	PROJ_S_DOUBLE_ENTRY = 1 << 2,	/* younger of two open at once */
	PROJ_S_LINKED_EXIT = 1 << 3,	/* exit named no (known) session */
	PROJ_S_ORPHAN_EXIT = 1 << 4,	/* exit with no session open at all */
	PROJ_S_DUP_EXIT = 1 << 5,	/* exit naming a session already closed */
	PROJ_S_FEE_DIFF = 1 << 6,	/* fee charged != fee the tariff gives */
	PROJ_S_VOIDED = 1 << 7,		/* voided by an operator (ops.h) */
	PROJ_S_CORRECTED = 1 << 8	/* holds an event whose plate an
					   operator corrected (ops.h) */
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
	char pass[LOG_PASS_MAX + 1];	/* the pass that made the exit free */
} proj_session;

/* Total fold order of two events: <0, 0 (same position), >0. Order by
 * action time (log_event_at), origin (strcmp), epoch, seq; two events at the same (stream, seq) — a
 * fork the log refuses — are further ordered by id, then type, so even such
 * a set sorts alike everywhere. */
int proj_fold_cmp(const log_event *a, const log_event *b);

/* Sort evs in fold order, in place (a linear pass if already sorted). */
void proj_fold_sort(log_event *evs, size_t n);

/* proj_fold_plate_ex with operator changes (ops may be NULL). */
int proj_fold_plate_ops(const log_event *evs, size_t n, const proj_tariff *t,
    const struct proj_ops *ops, proj_session **out, size_t *nout,
    size_t *anomalies);

/* Fold one plate's events, already in fold order, into sessions in the order
 * they were opened. *out is malloc'd (the caller frees), *nout its count.
 * Events of another plate than evs[0]'s are an error (EINVAL). 0 or ENOMEM. */
int proj_fold_plate(const log_event *evs, size_t n, const proj_tariff *t,
    proj_session **out, size_t *nout);

/* The same, and *anomalies (if not NULL) = how many events were ignored
 * (see above). With n == 0, *out = NULL and *nout = 0. EINVAL also for NULL
 * out, nout, or evs with n > 0. */
int proj_fold_plate_ex(const log_event *evs, size_t n, const proj_tariff *t,
    proj_session **out, size_t *nout, size_t *anomalies);

/* ---- resumable fold ------------------------------------------------------
 *
 * The same rules, one event at a time, from a saved state: what the fold of
 * a plate's first k events leaves for the rest is its OPEN rows (the open
 * primary and its open DOUBLE_ENTRY conflicts) and which session ids were
 * opened by an ENTRY_PENDING (closed rows matter only as DUP_EXIT targets).
 * So, for events in fold order, resuming from fold(first k)'s open rows and
 * stepping the rest gives exactly fold(all) (a property test holds it to
 * that). proj_fold_plate is begin + step over every event.
 *
 * The struct is public so it can live on the stack; its fields are private. */
#define PROJ_FOLD_NEW ((size_t)-1)	/* a row that replaces none */

/* 1 if session_id was opened by an ENTRY_PENDING of this plate before the
 * events to come (closed or not), 0 if not, anything else is an error that
 * proj_fold_step returns. Asked only about ids the fold holds no row of. */
typedef int (*proj_fold_known_fn)(void *ctx, const char *session_id);

typedef struct proj_fold {
	const proj_tariff *t;
	/* Operator changes (projections/ops.h); NULL: none. Set it after
	 * proj_fold_begin: voids, passes and the tariff schedule then apply
	 * as ops.h says. */
	const struct proj_ops *ops;
	proj_fold_known_fn known;	/* NULL: none beyond the rows held */
	void *ctx;
	const proj_session *base;	/* the caller's open rows */
	size_t nbase, prim;		/* their count; the primary's index there */
	proj_session *rows;		/* base rows (primary first), then new ones */
	size_t n, cap;
	size_t open;			/* index of the open primary in rows */
	size_t anomalies;
	char plate[LOG_PLATE_MAX + 1];	/* "" until the first row or event */
	/* the last event stepped, in fold order (asserted non-decreasing) */
	int stepped;
	int64_t last_at;
	uint64_t last_epoch, last_seq;
	char last_origin[LOG_ORIGIN_MAX + 1];
} proj_fold;

/* Resume from the plate's open rows open_rows[0..n) (order free; they must
 * be one group: one open primary and open DOUBLE_ENTRY conflicts naming it,
 * all of one plate, else EINVAL). They are copied, and must stay valid
 * until proj_fold_end (proj_fold_next compares with them). n == 0 starts a
 * plate afresh. t may be NULL (fee_tariff -1). 0, EINVAL or ENOMEM; on
 * error nothing needs freeing. */
int proj_fold_begin(proj_fold *f, const proj_tariff *t, const proj_session *open_rows,
    size_t n, proj_fold_known_fn known, void *ctx);

/* Fold the next event (it must sort after every event folded so far:
 * asserted, by action time, origin, epoch, seq). 0, EINVAL (another
 * plate's event), ENOMEM, or an error of known(). */
int proj_fold_step(proj_fold *f, const log_event *ev);

/* The rows the steps created or changed: resumed rows first (the primary,
 * then the others in open_rows order), then new rows as opened. Start with *i = 0; each call returns the next one and sets *replaces to
 * the index in open_rows of the row it replaces, or PROJ_FOLD_NEW; NULL
 * after the last. Rows stay valid until the next step or proj_fold_end. */
const proj_session *proj_fold_next(const proj_fold *f, size_t *i, size_t *replaces);

/* Events ignored by the steps so far (see the rules above). */
size_t proj_fold_anomalies(const proj_fold *f);

void proj_fold_end(proj_fold *f);

/* Bytes proj_session_json needs for any session, NUL included, even one
 * whose string fields are full, unterminated and \u-escaped byte by byte
 * (a session the fold makes from checked events needs under 1,000). */
#define PROJ_SESSION_JSON_MAX 3072

/* Stable canonical text of one session (for digests, dumps and tests):
 * compact JSON, no spaces, keys in this order:
 *   {"id","plate_id","plate_view","vehicle","status":"OPEN"|"CLOSED",
 *    "entry_ts","entry_edge","entry_origin","confirm_ts","exit_ts","exit_id",
 *    "exit_edge","exit_origin","fee_charged","fee_tariff","primary","flags"}
 *   and a last key "pass" only when the row names one (so rows without
 *   operator changes keep their text and digest)
 * Integers in decimal, null when negative; strings null when "", else
 * quoted, '"' and '\' escaped as \" and \\, bytes < 0x20 and 0x7f as \u00xx
 * (lower-case hex), other bytes as they are; flags an array of the names
 * of the set bits in bit order (e.g. ["CONFIRMED","CLOSED","DOUBLE_ENTRY"]),
 * unknown bits left out. A string field is read up to its NUL or its size.
 * Writes a NUL after the text. Returns the length (without the NUL), or -1
 * if cap is too small (cap must exceed the length). */
int proj_session_json(const proj_session *s, char *buf, size_t cap);

#endif
