/* projections/ops.h — operator changes as the projections see them.
 *
 * Operator events (log/event.h: PLATE_CORRECTED, SESSION_VOIDED, PASS_*,
 * TARIFF_SET, SETTINGS_SET) live on reserved plates, so all of them are
 * few and found through the plate index. A proj_ops holds them all in
 * memory (loaded at open, added to as they are appended) and answers what
 * the per-plate fold asks. Every answer is a function of the SET of
 * operator events held, never of their arrival order: where two could
 * disagree, the later in fold order (projections/fold.h: action time,
 * origin, epoch, seq) wins, on every central alike.
 *
 * Rules:
 *  correction   the effective plate of an event is the to_plate of the
 *               latest PLATE_CORRECTED naming it as target, else its own.
 *               The fold of a plate takes its own events whose effective
 *               plate is still theirs, plus the targets corrected into it
 *               (rewritten to it); rows touched by a corrected event carry
 *               PROJ_S_CORRECTED.
 *  void         a session (or exit-only row) named by a SESSION_VOIDED
 *               counts for nothing: its row is closed as it opens and
 *               flagged PROJ_S_VOIDED; an EXIT naming a voided session is
 *               voided with it. Neither moves occupancy, revenue nor day
 *               figures; both stay visible.
 *  pass         an exit at action time t of a plate (and vehicle class, or
 *               a pass of vehicle "any") is free when a PASS_ISSUED of that
 *               plate has valid_from <= t < valid_to, was issued at or
 *               before t, and no PASS_REVOKED of that pass id is dated at
 *               or before t. Several: the earliest issued. Its fee_tariff
 *               is 0 and the row names the pass.
 *  tariff       the tariff in force at t is the value of the TARIFF_SET
 *               with the greatest (effective_from, fold order) among those
 *               with effective_from <= t; none: the base tariff (the
 *               config's). A value that is no valid tariff is ignored.
 *  settings     the value of a section is the latest SETTINGS_SET's.
 *
 * Thread safety: one mutex; queries may run on any thread, proj_ops_add on
 * the writer. Pointers returned are copies or stay valid until free.
 */
#ifndef PARKLOG_PROJ_OPS_H
#define PARKLOG_PROJ_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "log/event.h"
#include "log/store.h"
#include "projections/tariff.h"

typedef struct proj_ops proj_ops;

typedef struct proj_pass {
	char id[LOG_PASS_MAX + 1];
	char plate[LOG_PLATE_MAX + 1];
	char vehicle[LOG_VEHICLE_MAX + 1];
	char kind[LOG_VEHICLE_MAX + 1];
	int64_t valid_from, valid_to;	/* ms, [from, to) */
	int64_t issued_at;		/* action time of its PASS_ISSUED */
	int64_t revoked_at;		/* earliest PASS_REVOKED's, -1: none */
	char event_id[LOG_ID_MAX + 1];	/* the PASS_ISSUED */
	char op[LOG_ORIGIN_MAX + 1];	/* who issued it */
} proj_pass;

/* A change of one plate's history, for the change trail. */
typedef struct proj_change {
	char event_id[LOG_ID_MAX + 1];	/* the operator event */
	enum log_ev_type type;
	int64_t ts;
	char op[LOG_ORIGIN_MAX + 1];
	char reason[LOG_REASON_MAX + 1];
	char target[LOG_ID_MAX + 1];	/* corrected event or voided session */
	char from_plate[LOG_PLATE_MAX + 1], to_plate[LOG_PLATE_MAX + 1];
} proj_change;

int proj_ops_new(proj_ops **out);	/* 0 or ENOMEM */
void proj_ops_free(proj_ops *o);
/* Forget everything held. */
void proj_ops_clear(proj_ops *o);

/* Every operator event of the log read by t (the reserved plates). */
int proj_ops_load(proj_ops *o, log_txn *t);

/* Hold one operator event (others are ignored: 0). A second add of the
 * same event id is a no-op. own: for a PLATE_CORRECTED, the plate its
 * target was recorded with ("" if the target is not in the log yet); for
 * a SESSION_VOIDED, the voided row's stored plate ("" if unknown).
 * touched[0..*ntouched) (at most 2) are the plates whose folds it may
 * change; *retariff is set to 1 for a TARIFF_SET (every exit may be
 * priced again). 0 or ENOMEM. */
int proj_ops_add(proj_ops *o, const log_event *ev, const char *own,
    char touched[2][LOG_PLATE_MAX + 1], size_t *ntouched, int *retariff);

/* 1 if nothing is held (the fold can skip every question). */
int proj_ops_empty(const proj_ops *o);
/* Fingerprint of the tariff schedule held (0: none). */
uint64_t proj_ops_tariff_hash(const proj_ops *o);

/* The effective plate of event `id` whose own plate is `own` into out. */
void proj_ops_plate_of(const proj_ops *o, const char *id, const char *own,
    char out[LOG_PLATE_MAX + 1]);
/* 1 if some PLATE_CORRECTED names event `id` (moved or moved back). */
int proj_ops_is_target(const proj_ops *o, const char *id);
/* Targets of corrections into `plate`: effective ones only (effective = 1:
 * what its fold takes in) or every one ever (0: where its stale rows may
 * be). *ids is malloc'd (caller frees), *n its count. 0 or ENOMEM. */
int proj_ops_targets(const proj_ops *o, const char *plate, int effective,
    char (**ids)[LOG_ID_MAX + 1], size_t *n);

/* 1 if some event now counts for plate by a correction (the log's "last
 * event of the plate" then no longer tells where a new one sorts). */
int proj_ops_moved_into(const proj_ops *o, const char *plate);

int proj_ops_voided(const proj_ops *o, const char *session_id);

/* The pass in force (rules above) into *out: 1, or 0 if none. */
int proj_ops_pass_at(const proj_ops *o, const char *plate, const char *vehicle,
    int64_t t, proj_pass *out);
/* Every pass of plate (NULL: all), issue order; *out malloc'd. */
int proj_ops_passes(const proj_ops *o, const char *plate, proj_pass **out,
    size_t *n);

/* The tariff in force at t into *out (base when none is set; the
 * facility's tz_offset_min always from base). */
void proj_ops_tariff_at(const proj_ops *o, const proj_tariff *base, int64_t t,
    proj_tariff *out);
/* The TARIFF_SETs held, in (effective_from, fold) order: the i-th's
 * effective_from, event id and value JSON; 0, or 1 past the end. */
int proj_ops_tariff_get(const proj_ops *o, size_t i, int64_t *effective_from,
    char id[LOG_ID_MAX + 1], char value[LOG_OP_JSON_MAX + 1]);

/* The latest value of settings section `section` into value: 1, or 0. */
int proj_ops_setting(const proj_ops *o, const char *section,
    char value[LOG_OP_JSON_MAX + 1]);

/* Changes (corrections of its events, voids of its sessions) touching
 * `plate`, in fold order; *out malloc'd. A correction touches both its
 * from and to plate. */
int proj_ops_changes(const proj_ops *o, const char *plate, proj_change **out,
    size_t *n);

/* What an exit is charged: the fee of a stay of vehicle (plate) from
 * entry_ms to exit_ms by the tariff in force at exit_ms, 0 inside a pass
 * (*pass its id, else ""), and the tariff's name. 0, or a tariff error. */
int proj_ops_exit_fee(const proj_ops *o, const proj_tariff *base,
    const char *plate, const char *vehicle, int64_t entry_ms, int64_t exit_ms,
    int64_t *fee, char tariff[LOG_TARIFF_MAX + 1], char pass[LOG_PASS_MAX + 1]);

/* The config file's tariff seeds the schedule: if the log holds no
 * TARIFF_SET yet (none held by o, loaded from the log), append one with
 * effective_from 0, operator "config", value `json` (the config's "tariff"
 * object, compact) and the tariff's `name`, in a write transaction of its
 * own (before the writer thread starts). Two centrals that both seed
 * (partitioned at their first start) hold two seeds once they meet: the
 * later in fold order wins on both, so they price alike. A no-op for ""
 * json. now_ms <= 0: the wall clock. 0 or a log error. */
int proj_ops_seed_tariff(log_store *s, const proj_ops *o, const char *name,
    const char *json, int64_t now_ms);

/* What an exit with no entry is charged: 0 inside a pass, else the
 * unknown-entry fee of the tariff in force at exit_ms (and its name). */
void proj_ops_orphan_fee(const proj_ops *o, const proj_tariff *base,
    const char *plate, const char *vehicle, int64_t exit_ms, int64_t *fee,
    char tariff[LOG_TARIFF_MAX + 1]);

#endif
