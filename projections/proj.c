/* projections/proj.c — projection tables, folded per plate in the log's
 * write transaction. See proj.h for the tables and the digest. */
#include "projections/proj.h"
#include "projections/ops.h"
#include "msg/msg.h"
#include "projections/row.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#define PROJ_SCHEMA 7	/* 7: operator changes (ops.h), rows name a pass; 2: rows carry their hash; 3: p_plate tagged, p_inside by id;
			   4: compact rows (row.h); 5: no p_inside (p_plate's 'i');
			   6: days in p_meta ("d:" keys), no p_day */

/* p_plate's values: a tag byte ‖ session id (see proj.h). */
#define PROJ__INSIDE	'i'
#define PROJ__OPEN	'o'

#define PROJ__MD_MAX 48	/* distinct counters changed in one transaction */

typedef struct proj__mdelta {
	char key[8 + LOG_VEHICLE_MAX + 1];
	int64_t d;
} proj__mdelta;

typedef struct proj__ddelta {
	int32_t day;
	int64_t entries, exits, revenue;
} proj__ddelta;

/* Stored rows with their hashes (a growable pair of arrays). */
typedef struct proj__rows {
	proj_session *s;
	uint64_t *h;
	size_t n, cap;
} proj__rows;

struct proj {
	log_store *store;
	proj_tariff tariff;
	uint64_t tariff_hash;
	MDB_dbi sessions, plate, time, conflict, meta;
	/* Scratch for re-folding, reused across calls. Only the thread that
	 * holds the write transaction (the writer) uses it. */
	log_event *evs;
	size_t evcap;
	proj__rows old;		/* a plate's stored rows (all, or the open ones) */
	_Atomic uint64_t nextended, nrefolded, nread;	/* proj_stats */
	/* Counter and per-day changes of the current write transaction, kept
	 * here and written once by proj_precommit: a row change would
	 * otherwise cost a dozen LMDB reads and writes of the same few keys.
	 * dserial names the transaction they belong to (0: none). */
	int attached;		/* proj_precommit installed by proj_attach */
	int missing;		/* read-only, and no projection tables exist, or
				   they were made by another schema */
	_Atomic uint64_t dserial;
	/* Events of the current write transaction (pserial) not yet
	 * projected: proj_apply only notes them; proj__settle projects them
	 * plate by plate before anything reads the projections in that
	 * transaction, and at the latest in proj_precommit. A plate's events
	 * of one batch thus cost one fold and one write of each row, not one
	 * per event (an entry and its exit in one batch: the row is written
	 * once, closed). `last` tells an event that sorted last among its
	 * plate's events when appended. */
	_Atomic uint64_t pserial;
	log_event *pend;
	unsigned char *plast;
	size_t npend, pendcap;
	size_t *porder;
	proj__mdelta md[PROJ__MD_MAX];
	size_t nmd;
	proj__ddelta *dd;
	size_t ndd, ddcap;
	/* Operator changes (ops.h), loaded at open; ops_rebuild: a TARIFF_SET
	 * was applied in this transaction, fold everything again. */
	proj_ops *ops;
	int ops_rebuild;
};

static int proj__settle(proj *p, log_txn *t);
static int proj__flush(proj *p, log_txn *t);

/* A writer reading its own transaction: project what is pending, write the
 * counters (nothing to do for another transaction). */
static int proj__own(proj *p, log_txn *t)
{
	int rc = proj__settle(p, t);

	return rc ? rc : proj__flush(p, t);
}

/* Rows with any of these flags are listed as conflicts. */
#define PROJ__CONFLICT_FLAGS (PROJ_S_DOUBLE_ENTRY | PROJ_S_FEE_DIFF | \
	PROJ_S_ORPHAN_EXIT | PROJ_S_DUP_EXIT)

const char *proj_strerror(int err)
{
	if (err == PROJ_ESTALE)
		return "projections missing, or made by another tariff or schema";
	if (err == PROJ_ETARIFF_CONFIG)
		return "invalid tariff configuration";
	if (err == PROJ_ETARIFF_DURATION)
		return "exit at or before entry";
	return log_strerror(err);
}

/* ---- small LMDB helpers -------------------------------------------------- */

static void proj__be64(unsigned char *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

static void proj__be32(unsigned char *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
}

static int proj__meta_get(proj *p, MDB_txn *txn, const char *key, int64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, d;
	int rc = mdb_get(txn, p->meta, &k, &d);

	if (rc == MDB_NOTFOUND) {
		*v = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (d.mv_size != sizeof *v)
		return LOG_ECORRUPT;
	memcpy(v, d.mv_data, sizeof *v);
	return 0;
}

static int proj__meta_put(proj *p, MDB_txn *txn, const char *key, int64_t v)
{
	MDB_val k = { strlen(key), (void *)key }, d = { sizeof v, &v };

	return mdb_put(txn, p->meta, &k, &d, 0);
}

/* v + delta for a p_meta key. Every counter (sessions, open, closed,
 * conflicts, inside, revenue) counts rows or fees and is never negative;
 * only the digest wraps mod 2^64 by design. */
static int64_t proj__counter(const char *key, int64_t v, int64_t delta)
{
	int64_t n = (int64_t)((uint64_t)v + (uint64_t)delta);

	msg_assert(n >= 0 || strcmp(key, "digest") == 0);
	return n;
}

static int proj__meta_add(proj *p, MDB_txn *txn, const char *key, int64_t delta)
{
	size_t i;

	if (delta == 0)
		return 0;
	for (i = 0; i < p->nmd && strcmp(p->md[i].key, key) != 0; i++)
		;
	if (i == p->nmd) {
		if (i == PROJ__MD_MAX || strlen(key) >= sizeof p->md[i].key) {
			int64_t v;	/* no room: write through */
			int rc = proj__meta_get(p, txn, key, &v);

			return rc ? rc : proj__meta_put(p, txn, key,
			    proj__counter(key, v, delta));
		}
		snprintf(p->md[i].key, sizeof p->md[i].key, "%s", key);
		p->md[i].d = 0;
		p->nmd++;
	}
	/* uint64 arithmetic: the digest wraps mod 2^64 by design */
	p->md[i].d = (int64_t)((uint64_t)p->md[i].d + (uint64_t)delta);
	return 0;
}

/* ---- accounting: add (sign 1) or remove (sign -1) one row --------------- */

static int proj__is_open_primary(const proj_session *s)
{
	return !(s->flags & (PROJ_S_CLOSED | PROJ_S_DOUBLE_ENTRY)) && s->entry_ts >= 0;
}

static int64_t proj__sort_ts(const proj_session *s)
{
	return s->entry_ts >= 0 ? s->entry_ts : s->exit_ts;
}

static uint64_t proj__row_hash(const proj_session *s)
{
	char buf[PROJ_SESSION_JSON_MAX];
	int n = proj_session_json(s, buf, sizeof buf);

	return n > 0 ? XXH3_64bits(buf, (size_t)n) : 0;
}

int32_t proj_local_day(const proj *p, int64_t ts_ms)
{
	int64_t local = ts_ms + (int64_t)p->tariff.tz_offset_min * 60000;
	int64_t day = local / 86400000;

	if (local < 0 && local % 86400000 != 0)
		day--;	/* floor, not truncation */
	return (int32_t)day;
}

/* A day's key in p_meta: "d:" ‖ local day (4, BE), so that days sort in
 * order and apart from the counters. */
#define PROJ__DAYKEY 6
static void proj__day_key(unsigned char kb[PROJ__DAYKEY], int32_t day)
{
	kb[0] = 'd';
	kb[1] = ':';
	proj__be32(kb + 2, (uint32_t)day);
}

static int proj__day_write(proj *p, MDB_txn *txn, const proj__ddelta *dd)
{
	unsigned char kb[PROJ__DAYKEY];
	MDB_val k = { sizeof kb, kb }, d;
	proj_day day = { 0, 0, 0 };
	int rc;

	proj__day_key(kb, dd->day);
	rc = mdb_get(txn, p->meta, &k, &d);
	if (rc == 0 && d.mv_size == sizeof day)
		memcpy(&day, d.mv_data, sizeof day);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	day.entries += (uint64_t)dd->entries;
	day.exits += (uint64_t)dd->exits;
	day.revenue += dd->revenue;
	/* a day's counts and revenue are sums of rows: never negative */
	msg_assert((int64_t)day.entries >= 0 && (int64_t)day.exits >= 0 &&
	    day.revenue >= 0);
	if (day.entries == 0 && day.exits == 0 && day.revenue == 0)
		return (rc = mdb_del(txn, p->meta, &k, NULL)) == MDB_NOTFOUND ? 0 : rc;
	d.mv_size = sizeof day;
	d.mv_data = &day;
	return mdb_put(txn, p->meta, &k, &d, 0);
}

static int proj__day_add(proj *p, MDB_txn *txn, int64_t ts, int sign,
    int entries, int exits, int64_t revenue)
{
	int32_t day = proj_local_day(p, ts);
	size_t i;

	(void)txn;
	for (i = 0; i < p->ndd && p->dd[i].day != day; i++)
		;
	if (i == p->ndd) {
		if (p->ndd == p->ddcap) {
			size_t cap = p->ddcap ? p->ddcap * 2 : 16;
			proj__ddelta *nd = realloc(p->dd, cap * sizeof *nd);

			if (nd == NULL)
				return ENOMEM;
			p->dd = nd;
			p->ddcap = cap;
		}
		p->dd[p->ndd++] = (proj__ddelta){ day, 0, 0, 0 };
	}
	p->dd[i].entries += sign * entries;
	p->dd[i].exits += sign * exits;
	p->dd[i].revenue += sign * revenue;
	return 0;
}

/* Start collecting changes for transaction t (dropping those of an earlier
 * transaction that was aborted, hence never reached proj_precommit). */
static void proj__deltas_for(proj *p, log_txn *t)
{
	uint64_t serial = log_txn_serial(t);

	if (atomic_load_explicit(&p->dserial, memory_order_relaxed) == serial)
		return;
	p->nmd = p->ndd = 0;
	atomic_store_explicit(&p->dserial, serial, memory_order_relaxed);
}

/* Write the collected changes into t. */
static int proj__flush(proj *p, log_txn *t)
{
	MDB_txn *txn = log_txn_mdb(t);
	int64_t v;
	int rc = 0;

	if (log_txn_serial(t) != atomic_load_explicit(&p->dserial, memory_order_relaxed))
		return 0;
	for (size_t i = 0; i < p->nmd && rc == 0; i++)
		if ((rc = proj__meta_get(p, txn, p->md[i].key, &v)) == 0)
			rc = proj__meta_put(p, txn, p->md[i].key,
			    proj__counter(p->md[i].key, v, p->md[i].d));
	for (size_t i = 0; i < p->ndd && rc == 0; i++)
		rc = proj__day_write(p, txn, &p->dd[i]);
	p->nmd = p->ndd = 0;
	atomic_store_explicit(&p->dserial, 0, memory_order_relaxed);
	return rc;
}

int proj_precommit(void *ctx, log_txn *txn)
{
	int rc = proj__settle(ctx, txn);

	return rc ? rc : proj__flush(ctx, txn);
}

void proj_attach(proj *p)
{
	p->attached = 1;
	log_store_set_apply(p->store, proj_apply, p);
	log_store_set_precommit(p->store, proj_precommit, p);
}

/* ---- row changes: old version → new version of one session -------------
 *
 * A row is stored with the XXH3_64 of its canonical text (its digest term,
 * projections/row.h), so removing or replacing it needs no re-serialising. A
 * change touches only the indexes whose entries differ; changes of one plate
 * run in two passes, every removal before any addition, so that one row's
 * new entry in an index (p_plate's 'i') never meets another's stale one. */

static int proj__is_conflict(const proj_session *s)
{
	return (s->flags & PROJ__CONFLICT_FLAGS) != 0;
}

static int proj__is_open(const proj_session *s)
{
	return !(s->flags & PROJ_S_CLOSED);
}

/* A stored row (projections/row.h). */
static int proj__row_read(const MDB_val *v, proj_session *s, uint64_t *h)
{
	return proj_row_decode(v->mv_data, v->mv_size, s, h) == 0 ? 0 : LOG_ECORRUPT;
}

static int proj__row_put(proj *p, MDB_txn *txn, const proj_session *s, uint64_t h)
{
	uint8_t buf[PROJ_ROW_MAX];
	MDB_val id = { strlen(s->id), (void *)s->id }, row = { 0, buf };

	row.mv_size = proj_row_encode(s, h, buf);
	return mdb_put(txn, p->sessions, &id, &row, 0);
}

/* p_time: sort ts (8, BE) ‖ id. */
static int proj__time(proj *p, MDB_txn *txn, const proj_session *s, int put)
{
	unsigned char tk[8 + LOG_ID_MAX + 1];
	size_t idlen = strlen(s->id);
	MDB_val t = { 8 + idlen, tk }, empty = { 0, "" };

	proj__be64(tk, (uint64_t)proj__sort_ts(s));
	memcpy(tk + 8, s->id, idlen);
	return put ? mdb_put(txn, p->time, &t, &empty, 0) : mdb_del(txn, p->time, &t, NULL);
}

/* Put or delete p_plate's entry `tag` ‖ s->id under s->plate. p_plate
 * holds open rows only, so it stays as small as the facility is full, and
 * a plate's entries are dups of one key: one page per changed plate. */
static int proj__pl(proj *p, MDB_txn *txn, const proj_session *s, char tag, int put)
{
	char vb[1 + LOG_ID_MAX];
	size_t n = strlen(s->id);
	MDB_val k = { strlen(s->plate), (void *)s->plate }, v = { 1 + n, vb };

	vb[0] = tag;
	memcpy(vb + 1, s->id, n);
	return put ? mdb_put(txn, p->plate, &k, &v, 0) : mdb_del(txn, p->plate, &k, &v);
}

/* Pass 0: drop o's entries that n (o changed, same id; NULL: o vanishes)
 * does not keep. */
static int proj__unindex(proj *p, MDB_txn *txn, const proj_session *o, const proj_session *n)
{
	MDB_val id = { strlen(o->id), (void *)o->id };
	int rc = 0;

	if (n == NULL && (rc = mdb_del(txn, p->sessions, &id, NULL)) != 0)
		return rc;
	if ((n == NULL || proj__sort_ts(n) != proj__sort_ts(o)) &&
	    (rc = proj__time(p, txn, o, 0)) != 0)
		return rc;
	if (proj__is_conflict(o) && !(n && proj__is_conflict(n)) &&
	    (rc = mdb_del(txn, p->conflict, &id, NULL)) != 0)
		return rc;
	if (proj__is_open_primary(o) && !(n && proj__is_open_primary(n)) &&
	    (rc = proj__pl(p, txn, o, PROJ__INSIDE, 0)) != 0)
		return rc;
	if (proj__is_open(o) && !(n && proj__is_open(n)))
		rc = proj__pl(p, txn, o, PROJ__OPEN, 0);
	return rc;
}

/* Pass 1: write n (hash h) and the entries o (the row it replaces, or
 * NULL) lacked. */
static int proj__index(proj *p, MDB_txn *txn, const proj_session *o, const proj_session *n,
    uint64_t h)
{
	MDB_val id = { strlen(n->id), (void *)n->id }, empty = { 0, "" };
	int rc;

	if ((rc = proj__row_put(p, txn, n, h)) != 0)
		return rc;
	if ((o == NULL || proj__sort_ts(o) != proj__sort_ts(n)) &&
	    (rc = proj__time(p, txn, n, 1)) != 0)
		return rc;
	if (proj__is_conflict(n) && !(o && proj__is_conflict(o)) &&
	    (rc = mdb_put(txn, p->conflict, &id, &empty, 0)) != 0)
		return rc;
	if (proj__is_open_primary(n) && !(o && proj__is_open_primary(o)) &&
	    (rc = proj__pl(p, txn, n, PROJ__INSIDE, 1)) != 0)
		return rc;
	if (proj__is_open(n) && !(o && proj__is_open(o)))
		rc = proj__pl(p, txn, n, PROJ__OPEN, 1);
	return rc;
}

/* Counters, per-day figures and digest: add (sign 1) or remove (-1) one
 * row whose hash is h. */
static int proj__count(proj *p, MDB_txn *txn, const proj_session *s, uint64_t h, int sign)
{
	char key[8 + LOG_VEHICLE_MAX + 1];
	int primary_entry = s->entry_ts >= 0 &&
	    !(s->flags & (PROJ_S_DOUBLE_ENTRY | PROJ_S_VOIDED));
	int exit = s->exit_ts >= 0 && s->fee_charged >= 0 && !(s->flags & PROJ_S_VOIDED);
	int rc;

	if (primary_entry && (rc = proj__day_add(p, txn, s->entry_ts, sign, 1, 0, 0)) != 0)
		return rc;
	if (exit && (rc = proj__day_add(p, txn, s->exit_ts, sign, 0, 1, s->fee_charged)) != 0)
		return rc;
	if (proj__is_open_primary(s)) {
		size_t vl = strnlen(s->vehicle, sizeof s->vehicle - 1);

		memcpy(key, "in:", 3);	/* "in:<class>", without snprintf's cost */
		memcpy(key + 3, s->vehicle, vl);
		key[3 + vl] = '\0';
		if ((rc = proj__meta_add(p, txn, key, sign)) != 0 ||
		    (rc = proj__meta_add(p, txn, "inside", sign)) != 0)
			return rc;
	}
	if ((rc = proj__meta_add(p, txn, "sessions", sign)) != 0 ||
	    (rc = proj__meta_add(p, txn, proj__is_open(s) ? "open" : "closed", sign)) != 0 ||
	    (rc = proj__meta_add(p, txn, "conflicts", proj__is_conflict(s) ? sign : 0)) != 0 ||
	    (rc = proj__meta_add(p, txn, "revenue", exit ? sign * s->fee_charged : 0)) != 0)
		return rc;
	return proj__meta_add(p, txn, "digest", (int64_t)(sign > 0 ? h : -h));
}

/* One row's change, old o (hash oh; NULL: none) → new n (NULL: none), in
 * pass 0 (removals) or 1 (additions). */
static int proj__change(proj *p, MDB_txn *txn, const proj_session *o, uint64_t oh,
    const proj_session *n, int pass)
{
	uint64_t nh;
	int rc;

	if (pass == 0) {
		if (o == NULL)
			return 0;
		return (rc = proj__unindex(p, txn, o, n)) != 0 ? rc : proj__count(p, txn, o, oh, -1);
	}
	if (n == NULL)
		return 0;
	nh = proj__row_hash(n);
	return (rc = proj__index(p, txn, o, n, nh)) != 0 ? rc : proj__count(p, txn, n, nh, 1);
}

/* ---- re-folding a plate --------------------------------------------------- */

/* Read every event of `plate` from the log, in fold order, into p->evs. */
/* Room for n events in p->evs. */
static int proj__evs_room(proj *p, size_t n)
{
	size_t cap = p->evcap ? p->evcap : 64;
	log_event *ne;

	if (n <= p->evcap)
		return 0;
	while (cap < n)
		cap *= 2;
	if ((ne = realloc(p->evs, cap * sizeof *ne)) == NULL)
		return ENOMEM;
	p->evs = ne;
	p->evcap = cap;
	return 0;
}

static int proj__load_plate(proj *p, log_txn *t, const char *plate, size_t *n)
{
	log_iter *it = NULL;
	log_rec rec;
	int rc;

	*n = 0;
	if ((rc = log_iter_plate(t, plate, &it)) != 0)
		return rc;
	while ((rc = log_iter_next(it, &rec)) == 0) {
		if ((rc = proj__evs_room(p, *n + 1)) != 0)
			goto err;
		if (log_event_decode_stored(rec.bytes, rec.len, &p->evs[*n]) != 0) {
			rc = LOG_ECORRUPT;
			goto err;
		}
		(*n)++;
	}
	if (rc == LOG_END)
		rc = 0;
err:
	atomic_fetch_add_explicit(&p->nread, *n, memory_order_relaxed);
	log_iter_free(it);
	return rc;
}

static int proj__rows_room(proj__rows *r)
{
	size_t cap = r->cap ? r->cap * 2 : 8;
	proj_session *ns;
	uint64_t *nh;

	if (r->n < r->cap)
		return 0;
	if ((ns = realloc(r->s, cap * sizeof *ns)) == NULL)
		return ENOMEM;
	r->s = ns;
	if ((nh = realloc(r->h, cap * sizeof *nh)) == NULL)
		return ENOMEM;
	r->h = nh;
	r->cap = cap;
	return 0;
}

static void proj__rows_free(proj__rows *r)
{
	free(r->s);
	free(r->h);
	memset(r, 0, sizeof *r);
}

/* The stored rows of a plate whose p_plate entries carry `tag` (PROJ__OPEN:
 * its open rows) into r, with their hashes. */
static int proj__load_rows(proj *p, MDB_txn *txn, char tag, const char *plate,
    proj__rows *r)
{
	MDB_val k = { strlen(plate), (void *)plate }, v = { 1, &tag }, id, row;
	MDB_cursor *c;
	int rc;

	r->n = 0;
	if ((rc = mdb_cursor_open(txn, p->plate, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size < 2 || *(const char *)v.mv_data != tag)
			break;
		id = (MDB_val){ v.mv_size - 1, (char *)v.mv_data + 1 };
		if ((rc = proj__rows_room(r)) != 0)
			break;
		if ((rc = mdb_get(txn, p->sessions, &id, &row)) != 0 ||
		    (rc = proj__row_read(&row, &r->s[r->n], &r->h[r->n])) != 0) {
			rc = rc == MDB_NOTFOUND ? LOG_ECORRUPT : rc;	/* a dangling index */
			break;
		}
		r->n++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int proj__id_cmp(const void *a, const void *b)
{
	return strcmp((*(const proj_session *const *)a)->id,
	    (*(const proj_session *const *)b)->id);
}

static const proj_session **proj__by_id(const proj_session *rows, size_t n)
{
	const proj_session **v = malloc((n ? n : 1) * sizeof *v);

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = &rows[i];
	qsort(v, n, sizeof *v, proj__id_cmp);
	return v;
}

/* Replace the stored rows o by rows[0..nn): matched by id, a row left
 * byte-identical is not touched (nor hashed). */
static int proj__diff(proj *p, MDB_txn *txn, const proj__rows *o,
    const proj_session *rows, size_t nn)
{
	const proj_session **os = proj__by_id(o->s, o->n), **ns = proj__by_id(rows, nn);
	size_t i, j, no = o->n;
	int rc = os && ns ? 0 : ENOMEM, c;

	for (int pass = 0; pass < 2; pass++) {
		for (i = j = 0; rc == 0 && (i < no || j < nn);) {
			c = i == no ? 1 : j == nn ? -1 : strcmp(os[i]->id, ns[j]->id);
			if (c == 0 && memcmp(os[i], ns[j], sizeof **os) == 0) {
				i++, j++;
				continue;
			}
			if (c == 0 && strcmp(os[i]->plate, ns[j]->plate) != 0) {
				/* ops.h: a corrected row moves plates: its
				 * indexes are keyed by plate, so drop and add */
				rc = proj__change(p, txn, os[i], o->h[os[i] - o->s], NULL, pass);
				if (rc == 0)
					rc = proj__change(p, txn, NULL, 0, ns[j], pass);
				i++, j++;
				continue;
			}
			rc = proj__change(p, txn, c <= 0 ? os[i] : NULL,
			    c <= 0 ? o->h[os[i] - o->s] : 0, c >= 0 ? ns[j] : NULL, pass);
			i += c <= 0;
			j += c >= 0;
		}
	}
	free(os);
	free(ns);
	return rc;
}

static int proj__ops_claims(proj *p, const proj_session *row, const char *plate);

/* Add the stored row named `id`, if there is one of `plate`, to r. */
static int proj__rows_add_id(proj *p, MDB_txn *txn, const char *plate,
    const char *id, proj__rows *r)
{
	MDB_val k = { strlen(id), (void *)id }, row;
	int rc = mdb_get(txn, p->sessions, &k, &row);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = proj__rows_room(r)) != 0 ||
	    (rc = proj__row_read(&row, &r->s[r->n], &r->h[r->n])) != 0)
		return rc;
	if (proj__ops_claims(p, &r->s[r->n], plate))
		r->n++;
	return 0;
}

/* A plate's rows are found through its events: a row is named by the
 * ENTRY_PENDING that opened it, or by the EXIT of an exit-only row. (A
 * plate → rows index would cost a random page per event.) */
static int proj__rows_add_ev(proj *p, MDB_txn *txn, const char *plate,
    const log_event *ev, proj__rows *r)
{
	if (ev->type != LOG_EV_ENTRY_PENDING && ev->type != LOG_EV_EXIT)
		return 0;
	return proj__rows_add_id(p, txn, plate, ev->id, r);
}

/* Every stored row of a plate whose events are evs[0..n). */
static int proj__load_rows_evs(proj *p, MDB_txn *txn, const char *plate,
    const log_event *evs, size_t n, proj__rows *r)
{
	int rc = 0;

	r->n = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = proj__rows_add_ev(p, txn, plate, &evs[i], r);
	return rc;
}

/* ---- operator changes (ops.h) ---------------------------------------------
 *
 * Hooks: proj_open loads every operator event (proj__ops_load); proj_apply
 * hands each event to proj__ops_apply, which holds operator events and
 * names the plates whose folds they change (re-folded like late events);
 * a re-fold takes its plate's events as corrected (proj__ops_events); a
 * TARIFF_SET folds everything again. */

static int proj__pend_add(proj *p, log_txn *t, const log_event *ev, int last);
static int proj__refold(proj *p, log_txn *t, const char *plate);

static int proj__ops_load(proj *p)
{
	log_txn *t;
	int rc;

	if ((rc = log_txn_begin(p->store, 0, &t)) != 0)
		return rc;
	rc = proj_ops_load(p->ops, t);
	log_txn_abort(t);
	return rc;
}

/* Is a stored row one of plate's: stored under it, or its first event now
 * counts for it (a correction moved it here from another plate). */
static int proj__ops_claims(proj *p, const proj_session *row, const char *plate)
{
	char eff[LOG_PLATE_MAX + 1];

	if (strcmp(row->plate, plate) == 0)
		return 1;
	if (p->ops == NULL || proj_ops_empty(p->ops))
		return 0;
	proj_ops_plate_of(p->ops, row->id, row->plate, eff);
	return strcmp(eff, plate) == 0;
}

/* One target corrected into plate: read it, count it as plate's. */
static int proj__ops_take(proj *p, log_txn *t, const char *id, const char *plate,
    size_t *n)
{
	log_rec rec;
	int rc = log_txn_get_id(t, id, &rec);

	if (rc == LOG_NOTFOUND)
		return 0;	/* not here yet: its arrival re-folds plate */
	if (rc != 0 || (rc = proj__evs_room(p, *n + 1)) != 0)
		return rc;
	if (log_event_decode_stored(rec.bytes, rec.len, &p->evs[*n]) != 0)
		return LOG_ECORRUPT;
	snprintf(p->evs[*n].plate, sizeof p->evs[*n].plate, "%s", plate);
	snprintf(p->evs[*n].plate_view, sizeof p->evs[*n].plate_view, "%s", plate);
	(*n)++;
	return 0;
}

/* p->evs[0..*n), plate's own events (and p->old their rows): drop those
 * corrected away, add those corrected in (and the rows they may have left
 * under other plates), in fold order. */
static int proj__ops_events(proj *p, log_txn *t, const char *plate, size_t *n)
{
	char eff[LOG_PLATE_MAX + 1], (*ids)[LOG_ID_MAX + 1] = NULL;
	size_t k = 0, nids = 0, i;
	int rc;

	if (proj_ops_empty(p->ops))
		return 0;
	for (i = 0; i < *n; i++) {
		proj_ops_plate_of(p->ops, p->evs[i].id, plate, eff);
		if (strcmp(eff, plate) == 0)
			p->evs[k++] = p->evs[i];
	}
	*n = k;
	if ((rc = proj_ops_targets(p->ops, plate, 0, &ids, &nids)) != 0)
		return rc;
	for (i = 0; i < nids && rc == 0; i++) {
		size_t j;

		for (j = 0; j < p->old.n && strcmp(p->old.s[j].id, ids[i]) != 0; j++)
			;
		if (j == p->old.n)
			rc = proj__rows_add_id(p, log_txn_mdb(t), plate, ids[i], &p->old);
		proj_ops_plate_of(p->ops, ids[i], "", eff);
		if (rc == 0 && strcmp(eff, plate) == 0)
			rc = proj__ops_take(p, t, ids[i], plate, n);
	}
	free(ids);
	if (rc == 0)
		proj_fold_sort(p->evs, *n);
	return rc;
}

/* plate must be folded again (attached: noted for proj__settle). */
static int proj__ops_refold(proj *p, log_txn *t, const log_event *ev,
    const char *plate)
{
	log_event copy;

	if (!p->attached)
		return proj__refold(p, t, plate);
	copy = *ev;
	snprintf(copy.plate, sizeof copy.plate, "%s", plate);
	return proj__pend_add(p, t, &copy, 0);
}

/* The plate the event a correction or void names was recorded with
 * ("" if not in the log yet: its arrival re-folds where it counts). */
static int proj__ops_own(proj *p, log_txn *t, const log_event *ev,
    char own[LOG_PLATE_MAX + 1])
{
	const char *id = ev->type == LOG_EV_PLATE_CORRECTED ? ev->op.target :
	    ev->type == LOG_EV_SESSION_VOIDED ? ev->session : "";
	log_event tev;
	log_rec rec;
	int rc;

	(void)p;
	own[0] = '\0';
	if (id[0] == '\0' || (rc = log_txn_get_id(t, id, &rec)) == LOG_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (log_event_decode_stored(rec.bytes, rec.len, &tev) != 0)
		return LOG_ECORRUPT;
	memcpy(own, tev.plate, LOG_PLATE_MAX + 1);
	return 0;
}

/* Before ev is projected: hold it if it is an operator event and re-fold
 * what it changes; an event an operator corrected counts for its new
 * plate (and is not a plain extension of its own: *last = 0). */
static int proj__ops_apply(proj *p, log_txn *t, const log_event *ev, int *last)
{
	char touched[2][LOG_PLATE_MAX + 1], eff[LOG_PLATE_MAX + 1];
	size_t nt;
	int retariff, rc = 0;

	if (log_ev_is_op(ev->type)) {
		if ((rc = proj__ops_own(p, t, ev, eff)) != 0 ||
		    (rc = proj_ops_add(p->ops, ev, eff, touched, &nt, &retariff)) != 0)
			return rc;
		if (retariff && !p->attached)
			return proj_rebuild(p, t);
		p->ops_rebuild |= retariff;
		for (size_t i = 0; i < nt && rc == 0; i++)
			rc = proj__ops_refold(p, t, ev, touched[i]);
		return rc;
	}
	if (proj_ops_empty(p->ops))
		return 0;
	/* events moved in are not in the plate's index: ev may sort before
	 * one of them though the index says it is last */
	if (*last && proj_ops_moved_into(p->ops, ev->plate))
		*last = 0;
	if (!proj_ops_is_target(p->ops, ev->id))
		return 0;
	*last = 0;
	proj_ops_plate_of(p->ops, ev->id, ev->plate, eff);
	return strcmp(eff, ev->plate) == 0 ? 0 : proj__ops_refold(p, t, ev, eff);
}

/* Replace the plate's rows by a fresh fold of all its events. */
static int proj__refold(proj *p, log_txn *t, const char *plate)
{
	MDB_txn *txn = log_txn_mdb(t);
	proj_session *rows = NULL;
	size_t nrows = 0, nev;
	int rc;

	atomic_fetch_add_explicit(&p->nrefolded, 1, memory_order_relaxed);
	if ((rc = proj__load_plate(p, t, plate, &nev)) != 0 ||
	    (rc = proj__load_rows_evs(p, txn, plate, p->evs, nev, &p->old)) != 0 ||
	    (rc = proj__ops_events(p, t, plate, &nev)) != 0 ||	/* ops.h */
	    (rc = proj_fold_plate_ops(p->evs, nev, &p->tariff, p->ops, &rows,
	    &nrows, NULL)) != 0)
		goto err;
	rc = proj__diff(p, txn, &p->old, rows, nrows);
err:
	free(rows);
	return rc;
}

/* known() of a resumed fold: was id opened by an ENTRY_PENDING of plate? */
typedef struct proj__known_ctx {
	proj *p;
	MDB_txn *txn;
	const char *plate;
} proj__known_ctx;

static int proj__known(void *ctx, const char *id)
{
	const proj__known_ctx *k = ctx;
	MDB_val key = { strlen(id), (void *)id }, v;
	proj_session s;
	int rc = mdb_get(k->txn, k->p->sessions, &key, &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = proj__row_read(&v, &s, NULL)) != 0)
		return rc;
	/* another plate's entry, or an exit-only row, is not one of ours */
	return s.entry_ts >= 0 && strcmp(s.plate, k->plate) == 0;
}

/* ev[0..n), one plate's, in fold order, sort after every other event of
 * their plate: resume the fold from the plate's open rows, step them,
 * write what changed. */
static int proj__extend(proj *p, log_txn *t, const log_event *ev, size_t n)
{
	MDB_txn *txn = log_txn_mdb(t);
	proj__known_ctx kc = { p, txn, ev->plate };
	const proj_session *s;
	size_t i, rep;
	proj_fold f;
	int rc;

	atomic_fetch_add_explicit(&p->nextended, n, memory_order_relaxed);
	if ((rc = proj__load_rows(p, txn, PROJ__OPEN, ev->plate, &p->old)) != 0)
		return rc;
	if ((rc = proj_fold_begin(&f, &p->tariff, p->old.s, p->old.n, proj__known, &kc)) != 0)
		return rc == EINVAL ? LOG_ECORRUPT : rc;	/* p_open is not one group */
	f.ops = p->ops;
	for (i = 0; i < n && rc == 0; i++)
		rc = proj_fold_step(&f, &ev[i]);
	if (rc != 0)
		goto err;
	for (int pass = 0; pass < 2 && rc == 0; pass++)
		for (i = 0; rc == 0 && (s = proj_fold_next(&f, &i, &rep)) != NULL;)
			rc = rep == PROJ_FOLD_NEW ? proj__change(p, txn, NULL, 0, s, pass) :
			    proj__change(p, txn, &p->old.s[rep], p->old.h[rep], s, pass);
err:
	proj_fold_end(&f);
	return rc;
}

static int proj__porder_cmp(const void *a, const void *b, void *ctx)
{
	const proj *p = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(p->pend[x].plate, p->pend[y].plate);

	return c != 0 ? c : x < y ? -1 : x > y;	/* append order within a plate */
}

/* Project the events noted in transaction t (proj_apply), plate by plate:
 * a plate whose events each sorted last when appended resumes from its
 * open rows and steps them all; any other is folded again from its events.
 * On failure the transaction must not commit (it is marked failed). */
static int proj__settle(proj *p, log_txn *t)
{
	size_t i, j;
	int rc = 0, all_last;

	/* pserial first: only the writer whose transaction it names touches
	 * npend; readers on other threads (HTTP) stop here (TSan race). */
	if (atomic_load_explicit(&p->pserial, memory_order_relaxed) != log_txn_serial(t) ||
	    p->npend == 0)
		return 0;
	if (p->ops_rebuild) {	/* a TARIFF_SET: every exit may cost another fee */
		p->ops_rebuild = 0;
		if ((rc = proj_rebuild(p, t)) != 0)
			log_txn_set_failed(t, rc);
		return rc;
	}
	for (i = 0; i < p->npend; i++)
		p->porder[i] = i;
	qsort_r(p->porder, p->npend, sizeof *p->porder, proj__porder_cmp, p);
	/* Each plate's events in append order, into p->evs (which a refold
	 * uses for itself: one group at a time). */
	for (i = 0; i < p->npend && rc == 0; i = j) {
		size_t n;

		all_last = 1;
		for (j = i; j < p->npend &&
		    strcmp(p->pend[p->porder[j]].plate, p->pend[p->porder[i]].plate) == 0; j++)
			all_last &= p->plast[p->porder[j]];
		n = j - i;
		if (!all_last) {
			rc = proj__refold(p, t, p->pend[p->porder[i]].plate);
			continue;
		}
		if ((rc = proj__evs_room(p, n)) != 0)
			break;
		for (size_t k = 0; k < n; k++)
			p->evs[k] = p->pend[p->porder[i + k]];
		rc = proj__extend(p, t, p->evs, n);
	}
	p->npend = 0;
	if (rc != 0)
		log_txn_set_failed(t, rc);
	return rc;
}

/* What one plate's projections need: pending events of other plates can
 * wait for the commit (an API write asks about its own plate only, so a
 * batch of writes is still projected in one pass). */
static int proj__settle_for(proj *p, log_txn *t, const char *plate)
{
	if (atomic_load_explicit(&p->pserial, memory_order_relaxed) != log_txn_serial(t))
		return 0;
	for (size_t i = 0; i < p->npend; i++)
		if (strcmp(p->pend[i].plate, plate) == 0)
			return proj__settle(p, t);
	return 0;
}

/* ev sorted last among its plate's events when appended, or not. */
static int proj__was_last(log_txn *txn, const log_event *ev, const log_rec *rec, int *last)
{
	uint32_t no;
	uint64_t seq;
	int rc = log_txn_plate_last(txn, ev->plate, &no, &seq);

	*last = rc == 0 && no == rec->stream_no && seq == rec->seq;
	return rc;
}

/* Note ev for proj__settle. */
static int proj__pend_add(proj *p, log_txn *t, const log_event *ev, int last)
{
	uint64_t serial = log_txn_serial(t);

	if (atomic_load_explicit(&p->pserial, memory_order_relaxed) != serial) {
		p->npend = 0;		/* an earlier, aborted transaction's */
		atomic_store_explicit(&p->pserial, serial, memory_order_relaxed);
	}
	if (p->npend == p->pendcap) {
		size_t cap = p->pendcap ? p->pendcap * 2 : 256;
		log_event *e = realloc(p->pend, cap * sizeof *e);
		unsigned char *l;
		size_t *o;

		if (e == NULL)
			return ENOMEM;
		p->pend = e;
		if ((l = realloc(p->plast, cap)) == NULL)
			return ENOMEM;
		p->plast = l;
		if ((o = realloc(p->porder, cap * sizeof *o)) == NULL)
			return ENOMEM;
		p->porder = o;
		p->pendcap = cap;
	}
	p->pend[p->npend] = *ev;
	p->plast[p->npend++] = (unsigned char)last;
	return 0;
}

int proj_apply(void *ctx, log_txn *txn, const log_event *ev, const log_rec *rec)
{
	proj *p = ctx;
	int rc, last;

	proj__deltas_for(p, txn);
	/* Usually ev sorts last among its plate's events (the hybrid clock sees
	 * to it for our own): nothing before it changes. A late event changes
	 * what follows it: re-fold its plate. */
	if ((rc = proj__was_last(txn, ev, rec, &last)) != 0)
		return rc;
	if ((rc = proj__ops_apply(p, txn, ev, &last)) != 0)	/* ops.h */
		return rc;
	if (p->attached)
		return proj__pend_add(p, txn, ev, last);
	/* Hooked without proj_attach: nobody will call proj_precommit. */
	rc = last ? proj__extend(p, txn, ev, 1) : proj__refold(p, txn, ev->plate);
	return rc == 0 ? proj__flush(p, txn) : rc;
}

void proj_get_stats(const proj *p, proj_stats *out)
{
	out->extended = atomic_load_explicit(&p->nextended, memory_order_relaxed);
	out->refolded = atomic_load_explicit(&p->nrefolded, memory_order_relaxed);
	out->events_read = atomic_load_explicit(&p->nread, memory_order_relaxed);
}

/* ---- lifecycle ------------------------------------------------------------ */

static int proj__open_dbis(proj *p, log_store *s)
{
	static const struct { const char *name; unsigned flags; size_t off; } t[] = {
		{ "p_sessions", 0, offsetof(proj, sessions) },
		{ "p_plate", MDB_DUPSORT, offsetof(proj, plate) },
		{ "p_time", 0, offsetof(proj, time) },
		{ "p_conflict", 0, offsetof(proj, conflict) },
		{ "p_meta", 0, offsetof(proj, meta) },
	};
	int rc;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rc = log_store_dbi(s, t[i].name, t[i].flags, (MDB_dbi *)((char *)p + t[i].off));
		/* A read-only open of a log that never had projections (written
		 * by a tool without them): the log is still readable; every
		 * projection query answers PROJ_ESTALE. */
		if (rc == MDB_NOTFOUND) {
			p->missing = 1;
			return 0;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Projections are current if made by this schema and this tariff. */
static int proj__current(proj *p, log_txn *t)
{
	int64_t schema, tariff, rowsize;
	MDB_txn *txn = log_txn_mdb(t);
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__meta_get(p, txn, "schema", &schema)) != 0 ||
	    (rc = proj__meta_get(p, txn, "tariff", &tariff)) != 0 ||
	    (rc = proj__meta_get(p, txn, "rowsize", &rowsize)) != 0)
		return rc;
	if (schema != PROJ_SCHEMA || (uint64_t)tariff != p->tariff_hash ||
	    rowsize != (int64_t)sizeof(proj_session))
		return PROJ_ESTALE;
	return 0;
}

/* Rows and indexes are of this build's layout (whatever the tariff). */
static int proj__schema_is_current(proj *p)
{
	int64_t schema = 0, rowsize = 0;
	log_txn *t;

	if (log_txn_begin(p->store, 0, &t) != 0)
		return 0;
	if (proj__meta_get(p, log_txn_mdb(t), "schema", &schema) != 0 ||
	    proj__meta_get(p, log_txn_mdb(t), "rowsize", &rowsize) != 0)
		schema = 0;
	log_txn_abort(t);
	return schema == PROJ_SCHEMA && rowsize == (int64_t)sizeof(proj_session);
}

static int proj__refresh(proj *p)
{
	log_txn *t = NULL;
	int rc;

	if ((rc = log_txn_begin(p->store, 0, &t)) != 0)
		return rc;
	rc = proj__current(p, t);
	log_txn_abort(t);
	if (rc != PROJ_ESTALE)
		return rc;
	if ((rc = log_txn_begin(p->store, 1, &t)) != 0)
		return rc;
	if ((rc = proj_rebuild(p, t)) != 0) {
		log_txn_abort(t);
		return rc;
	}
	return log_txn_commit(t);
}

/* The tariff the stored projections were made with, if any. */
static int proj__stored_tariff(proj *p, proj_tariff *out)
{
	MDB_val k = { 12, "tariff_rules" }, d;
	log_txn *t;
	int rc;

	if ((rc = log_txn_begin(p->store, 0, &t)) != 0)
		return rc;
	rc = mdb_get(log_txn_mdb(t), p->meta, &k, &d);
	if (rc == 0 && d.mv_size == sizeof *out)
		memcpy(out, d.mv_data, sizeof *out);
	else if (rc == 0 || rc == MDB_NOTFOUND)
		proj_tariff_default(out);
	log_txn_abort(t);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int proj_open(log_store *s, const proj_tariff *tariff, proj **out)
{
	proj *p = calloc(1, sizeof *p);
	int rc;

	*out = NULL;
	if (p == NULL)
		return ENOMEM;
	p->store = s;
	if ((rc = proj_ops_new(&p->ops)) != 0 || (rc = proj__ops_load(p)) != 0 ||
	    (rc = proj__open_dbis(p, s)) != 0)
		goto err;
	if (tariff != NULL)
		p->tariff = *tariff;
	else if (p->missing)
		proj_tariff_default(&p->tariff);
	else if ((rc = proj__stored_tariff(p, &p->tariff)) != 0)
		goto err;
	p->tariff_hash = proj_tariff_hash(&p->tariff);
	if (p->missing) {
		*out = p;
		return 0;
	}
	/* A read-only store cannot rebuild: it opens as is and proj_check
	 * says what differs; rows of another schema cannot even be read, so
	 * then every query answers PROJ_ESTALE. */
	rc = proj__refresh(p);
	if (rc == LOG_EREADONLY) {
		p->missing = !proj__schema_is_current(p);
		rc = 0;
	}
	if (rc != 0)
		goto err;
	*out = p;
	return 0;
err:
	proj_close(p);
	return rc;
}

void proj_close(proj *p)
{
	if (p == NULL)
		return;
	if (p->attached) {	/* the store must not call into freed memory */
		log_store_set_apply(p->store, NULL, NULL);
		log_store_set_precommit(p->store, NULL, NULL);
	}
	free(p->evs);
	free(p->pend);
	free(p->plast);
	free(p->porder);
	free(p->dd);
	proj__rows_free(&p->old);
	proj_ops_free(p->ops);
	free(p);
}

const proj_tariff *proj_get_tariff(const proj *p)
{
	return &p->tariff;
}

const proj_ops *proj_get_ops(const proj *p)
{
	return p->ops;
}

int proj_set_tariff(proj *p, log_txn *t, const proj_tariff *tariff)
{
	proj_tariff old = p->tariff;
	uint64_t old_hash = p->tariff_hash;
	int rc;

	if (proj_tariff_hash(tariff) == p->tariff_hash)
		return 0;
	p->tariff = *tariff;
	p->tariff_hash = proj_tariff_hash(tariff);
	if ((rc = proj_rebuild(p, t)) != 0) {
		p->tariff = old;
		p->tariff_hash = old_hash;
	}
	return rc;
}

/* Tables of older schemas: p_open (2; now p_plate's 'o' entries),
 * p_inside (up to 4; now p_plate's 'i' entries), p_day (up to 5; now
 * p_meta's "d:" keys). */
static int proj__drop_old(MDB_txn *txn)
{
	static const struct { const char *name; unsigned flags; } old[] = {
		{ "p_open", MDB_DUPSORT }, { "p_inside", 0 }, { "p_day", 0 },
	};
	MDB_dbi dbi;
	int rc = 0;

	for (size_t i = 0; i < sizeof old / sizeof old[0] && rc == 0; i++) {
		rc = mdb_dbi_open(txn, old[i].name, old[i].flags, &dbi);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		else if (rc == 0)
			rc = mdb_drop(txn, dbi, 1);
	}
	return rc;
}

int proj_rebuild(proj *p, log_txn *t)
{
	MDB_txn *txn = log_txn_mdb(t);
	MDB_dbi all[] = { p->sessions, p->plate, p->time, p->conflict, p->meta };
	char plate[LOG_PLATE_MAX + 1] = "";
	int rc = 0;

	for (size_t i = 0; i < sizeof all / sizeof all[0] && rc == 0; i++)
		rc = mdb_drop(txn, all[i], 0);
	if (rc == 0)
		rc = proj__drop_old(txn);
	if (rc == 0)	/* ops.h: exactly the log's (heals an aborted add) */
		rc = proj_ops_load(p->ops, t);
	p->npend = 0;		/* the fold from scratch covers them */
	proj__deltas_for(p, t);
	p->nmd = p->ndd = 0;	/* dropped with the tables */
	while (rc == 0 && (rc = log_txn_next_plate(t, plate, plate)) == 0)
		rc = proj__refold(p, t, plate);
	if (rc != LOG_END || (rc = proj__flush(p, t)) != 0)
		return rc;
	if ((rc = proj__meta_put(p, txn, "schema", PROJ_SCHEMA)) != 0 ||
	    (rc = proj__meta_put(p, txn, "rowsize", (int64_t)sizeof(proj_session))) != 0 ||
	    (rc = proj__meta_put(p, txn, "tariff", (int64_t)p->tariff_hash)) != 0)
		return rc;
	/* The rules themselves, so that an auditor replays with what made them
	 * (same build layout: "rowsize" and "schema" guard it). */
	MDB_val k = { 12, "tariff_rules" }, d = { sizeof p->tariff, &p->tariff };
	return mdb_put(txn, p->meta, &k, &d, 0);
}

/* ---- queries -------------------------------------------------------------- */

static int proj__row_get(proj *p, MDB_txn *txn, const MDB_val *id, proj_session *out)
{
	MDB_val row;
	int rc = mdb_get(txn, p->sessions, (MDB_val *)id, &row);

	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	if (rc != 0)
		return rc;
	return proj__row_read(&row, out, NULL);
}

int proj_session_get(proj *p, log_txn *t, const char *id, proj_session *out)
{
	MDB_val k = { strlen(id), (void *)id };
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__settle(p, t)) != 0)
		return rc;
	return proj__row_get(p, log_txn_mdb(t), &k, out);
}

int proj_inside_get(proj *p, log_txn *t, const char *plate, proj_session *out)
{
	char tag = PROJ__INSIDE;
	MDB_val k = { strlen(plate), (void *)plate }, v = { 1, &tag }, id;
	MDB_cursor *c;
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__settle_for(p, t, plate)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(log_txn_mdb(t), p->plate, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	if (rc == 0 && (v.mv_size < 2 || *(const char *)v.mv_data != tag))
		rc = MDB_NOTFOUND;
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	if (rc != 0)
		return rc;
	id = (MDB_val){ v.mv_size - 1, (char *)v.mv_data + 1 };
	return proj__row_get(p, log_txn_mdb(t), &id, out);
}

int proj_day_get(proj *p, log_txn *t, int32_t day, proj_day *out)
{
	unsigned char kb[PROJ__DAYKEY];
	MDB_val k = { sizeof kb, kb }, d;
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	memset(out, 0, sizeof *out);
	if ((rc = proj__own(p, t)) != 0)	/* a writer reading its own changes */
		return rc;
	proj__day_key(kb, day);
	rc = mdb_get(log_txn_mdb(t), p->meta, &k, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (d.mv_size != sizeof *out)
		return LOG_ECORRUPT;
	memcpy(out, d.mv_data, sizeof *out);
	return 0;
}

/* Inside counts per class from the "in:<class>" meta keys. */
static int proj__classes(proj *p, MDB_txn *txn, proj_summary *out)
{
	MDB_val k = { 3, "in:" }, d;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, p->meta, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		proj_class_count *cc = &out->classes[out->nclasses];
		int64_t v;

		if (k.mv_size < 4 || memcmp(k.mv_data, "in:", 3) != 0)
			break;
		if (d.mv_size != sizeof v || k.mv_size - 3 > LOG_VEHICLE_MAX) {
			rc = LOG_ECORRUPT;
			break;
		}
		memcpy(&v, d.mv_data, sizeof v);
		if (v == 0 || out->nclasses == PROJ_TARIFF_CLASSES)
			continue;
		memcpy(cc->vehicle, (char *)k.mv_data + 3, k.mv_size - 3);
		cc->vehicle[k.mv_size - 3] = '\0';
		cc->inside = (uint64_t)v;
		out->nclasses++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int proj_summary_get(proj *p, log_txn *t, proj_summary *out)
{
	static const char *keys[] = { "sessions", "open", "closed", "conflicts",
	    "inside", "revenue", "digest" };
	MDB_txn *txn = log_txn_mdb(t);
	int64_t v[7];
	int rc;

	memset(out, 0, sizeof *out);
	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__own(p, t)) != 0)	/* a writer reading its own changes */
		return rc;
	for (size_t i = 0; i < 7; i++)
		if ((rc = proj__meta_get(p, txn, keys[i], &v[i])) != 0)
			return rc;
	out->sessions = (uint64_t)v[0];
	out->open = (uint64_t)v[1];
	out->closed = (uint64_t)v[2];
	out->conflicts = (uint64_t)v[3];
	out->inside = (uint64_t)v[4];
	out->revenue = v[5];
	out->digest = (uint64_t)v[6];
	return proj__classes(p, txn, out);
}

/* Call cb for the session named by each value (or key) of a table walk. */
static int proj__each(proj *p, MDB_txn *txn, MDB_cursor *c, MDB_cursor_op first,
    MDB_cursor_op next, MDB_val *k, int id_in_key, proj_session_cb cb, void *ctx)
{
	proj_session s;
	MDB_val d;
	int rc;

	for (rc = mdb_cursor_get(c, k, &d, first); rc == 0;
	    rc = mdb_cursor_get(c, k, &d, next)) {
		if ((rc = proj__row_get(p, txn, id_in_key ? k : &d, &s)) != 0 ||
		    (rc = cb(ctx, &s)) != 0)
			break;
	}
	return rc == MDB_NOTFOUND || rc == 1 ? 0 : rc;
}

static int proj__walk(proj *p, log_txn *t, MDB_dbi dbi, const char *key,
    int id_in_key, proj_session_cb cb, void *ctx)
{
	MDB_txn *txn = log_txn_mdb(t);
	MDB_val k = { key ? strlen(key) : 0, (void *)key };
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	rc = proj__each(p, txn, c, key ? MDB_SET_KEY : MDB_FIRST,
	    key ? MDB_NEXT_DUP : MDB_NEXT, &k, id_in_key, cb, ctx);
	mdb_cursor_close(c);
	return rc;
}

/* The ids of every open primary session: p_plate's 'i' entries, as LMDB
 * holds them (valid while txn lasts and nothing writes). */
static int proj__inside_ids(proj *p, MDB_txn *txn, MDB_val **ids, size_t *n)
{
	MDB_val k, v, *a = NULL, *b;
	MDB_cursor *c;
	size_t cap = 0;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, p->plate, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size < 2 || *(const char *)v.mv_data != PROJ__INSIDE)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((b = realloc(a, cap * sizeof *a)) == NULL) {
				rc = ENOMEM;
				break;
			}
			a = b;
		}
		a[(*n)++] = (MDB_val){ v.mv_size - 1, (char *)v.mv_data + 1 };
	}
	mdb_cursor_close(c);
	*ids = a;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* LMDB's default key order: bytes, then length. */
static int proj__val_cmp(const void *a, const void *b)
{
	const MDB_val *x = a, *y = b;
	size_t n = x->mv_size < y->mv_size ? x->mv_size : y->mv_size;
	int c = memcmp(x->mv_data, y->mv_data, n);

	return c != 0 ? c : (x->mv_size > y->mv_size) - (x->mv_size < y->mv_size);
}

/* In session id order (as LMDB orders keys), as p_inside listed them: a
 * listing cut by a limit keeps the same vehicles. */
int proj_each_inside(proj *p, log_txn *t, proj_session_cb cb, void *ctx)
{
	proj_session s;
	MDB_val *ids = NULL;
	size_t n = 0;
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__settle(p, t)) != 0 ||
	    (rc = proj__inside_ids(p, log_txn_mdb(t), &ids, &n)) != 0)
		goto out;
	if (n > 1)	/* (ids is NULL when nobody is inside) */
		qsort(ids, n, sizeof *ids, proj__val_cmp);
	for (size_t i = 0; i < n; i++)
		if ((rc = proj__row_get(p, log_txn_mdb(t), &ids[i], &s)) != 0 ||
		    (rc = cb(ctx, &s)) != 0)
			break;
	rc = rc == 1 ? 0 : rc;
out:
	free(ids);
	return rc;
}

int proj_each_conflict(proj *p, log_txn *t, proj_session_cb cb, void *ctx)
{
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__settle(p, t)) != 0)
		return rc;
	return proj__walk(p, t, p->conflict, NULL, 1, cb, ctx);
}

static int proj__cmp_opening(const void *a, const void *b)
{
	const proj_session *x = a, *y = b;
	int64_t tx = proj__sort_ts(x), ty = proj__sort_ts(y);

	return tx < ty ? -1 : tx > ty ? 1 : strcmp(x->id, y->id);
}

int proj_each_plate(proj *p, log_txn *t, const char *plate, proj_session_cb cb, void *ctx)
{
	proj__rows r = { NULL, NULL, 0, 0 };
	log_event *ev = malloc(sizeof *ev);
	log_iter *it = NULL;
	log_rec rec;
	int rc;

	if (p->missing || ev == NULL) {
		free(ev);
		return p->missing ? PROJ_ESTALE : ENOMEM;
	}
	if ((rc = proj__settle_for(p, t, plate)) != 0) {
		free(ev);
		return rc;
	}
	/* The plate's rows through its events (see proj__load_rows_evs). */
	if ((rc = log_iter_plate(t, plate, &it)) == 0)
		while ((rc = log_iter_next(it, &rec)) == 0)
			if ((rc = log_event_decode_stored(rec.bytes, rec.len, ev)) != 0 ||
			    (rc = proj__rows_add_ev(p, log_txn_mdb(t), plate, ev, &r)) != 0)
				break;
	log_iter_free(it);
	free(ev);
	rc = rc == LOG_END ? 0 : rc;
	if (rc == 0 && r.n > 1)		/* callers want time order */
		qsort(r.s, r.n, sizeof *r.s, proj__cmp_opening);
	for (size_t i = 0; i < r.n && rc == 0; i++)
		rc = cb(ctx, &r.s[i]);
	proj__rows_free(&r);
	return rc == 1 ? 0 : rc;
}

int proj_each_recent(proj *p, log_txn *t, int64_t from_ms, int64_t to_ms,
    proj_session_cb cb, void *ctx)
{
	MDB_txn *txn = log_txn_mdb(t);
	unsigned char kb[8];
	MDB_val k = { sizeof kb, kb }, d, id;
	MDB_cursor *c;
	proj_session s;
	int rc;

	if (p->missing)
		return PROJ_ESTALE;
	if ((rc = proj__settle(p, t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, p->time, &c)) != 0)
		return rc;
	/* Start at the first key >= to_ms and step back; or at the end. */
	proj__be64(kb, (uint64_t)to_ms);
	rc = to_ms > 0 ? mdb_cursor_get(c, &k, &d, MDB_SET_RANGE) : MDB_NOTFOUND;
	rc = rc == 0 ? mdb_cursor_get(c, &k, &d, MDB_PREV)
	    : mdb_cursor_get(c, &k, &d, MDB_LAST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &d, MDB_PREV)) {
		uint64_t ts = 0;

		for (int i = 0; i < 8; i++)
			ts = ts << 8 | ((unsigned char *)k.mv_data)[i];
		if (from_ms > 0 && (int64_t)ts < from_ms)
			break;
		id.mv_size = k.mv_size - 8;
		id.mv_data = (char *)k.mv_data + 8;
		if ((rc = proj__row_get(p, txn, &id, &s)) != 0 || (rc = cb(ctx, &s)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 1 ? 0 : rc;
}

/* ---- audit: replay in memory --------------------------------------------- */

/* What one row adds to a summary (the in-memory twin of proj__account). */
static void proj__summary_add(proj_summary *sum, const proj_session *s)
{
	sum->sessions++;
	if (s->flags & PROJ_S_CLOSED)
		sum->closed++;
	else
		sum->open++;
	if (s->flags & PROJ__CONFLICT_FLAGS)
		sum->conflicts++;
	if (s->exit_ts >= 0 && s->fee_charged >= 0 && !(s->flags & PROJ_S_VOIDED))
		sum->revenue += s->fee_charged;
	sum->digest += proj__row_hash(s);
	if (!proj__is_open_primary(s))
		return;
	sum->inside++;
	for (size_t i = 0; i < sum->nclasses; i++) {
		if (strcmp(sum->classes[i].vehicle, s->vehicle) == 0) {
			sum->classes[i].inside++;
			return;
		}
	}
	if (sum->nclasses < PROJ_TARIFF_CLASSES) {
		proj_class_count *cc = &sum->classes[sum->nclasses++];

		snprintf(cc->vehicle, sizeof cc->vehicle, "%s", s->vehicle);
		cc->inside = 1;
	}
}

/* The replay reads the log once, in storage order, noting for each record
 * where its bytes are (they stay valid, mapped, while the transaction lives)
 * and a hash of its plate. Sorting those references by plate hash groups each
 * plate's events; workers (one per core, at most PROJ__WORKERS) then decode
 * and fold one plate at a time into a small reusable buffer, each into its
 * own summary, merged at the end. No event is held decoded beyond its plate:
 * memory is ~24 bytes per event, and the work is cache-friendly. */
#define PROJ__WORKERS 4

typedef struct proj__ref {
	uint64_t h;		/* XXH3 of the plate; groups a plate's events */
	uint32_t idx;		/* storage order, to keep sorting stable */
	uint32_t len;
	const char *bytes;
} proj__ref;

typedef struct proj__worker {
	pthread_t thread;
	proj__ref *refs;
	size_t n;
	const proj_tariff *tariff;
	const proj_ops *ops;	/* operator changes of the log replayed */
	proj_summary sum;
	int rc;
} proj__worker;

/* The plate of canonical event bytes: the value of "plate_id" (a quote can
 * only end it: plate_view, the only free text, holds no quote). */
static int proj__plate_of(const char *b, size_t len, const char **plate, size_t *plen)
{
	const char *p = memmem(b, len, "\"plate_id\":\"", 12), *e;

	if (p == NULL)
		return LOG_ECORRUPT;
	p += 12;
	if ((e = memchr(p, '"', len - (size_t)(p - b))) == NULL || e - p > LOG_PLATE_MAX)
		return LOG_ECORRUPT;
	*plate = p;
	*plen = (size_t)(e - p);
	return 0;
}

/* Replay with operator changes: an event an operator corrected is folded
 * with its new plate's (ops.h). The id is the first key of the bytes. */
static uint64_t proj__ops_replay_hash(const proj_ops *ops, const log_rec *rec,
    const char *plate, size_t plen)
{
	char id[LOG_ID_MAX + 1], own[LOG_PLATE_MAX + 1], eff[LOG_PLATE_MAX + 1];
	const char *e;
	size_t n;

	if (proj_ops_empty(ops) || rec->len < 8 ||
	    (e = memchr(rec->bytes + 7, '"', rec->len - 7)) == NULL ||
	    (n = (size_t)(e - (rec->bytes + 7))) > LOG_ID_MAX)
		return XXH3_64bits(plate, plen);
	memcpy(id, rec->bytes + 7, n);
	id[n] = '\0';
	memcpy(own, plate, plen);
	own[plen] = '\0';
	proj_ops_plate_of(ops, id, own, eff);
	return XXH3_64bits(eff, strlen(eff));
}

static void proj__ops_replay_plate(const proj_ops *ops, log_event *ev)
{
	char eff[LOG_PLATE_MAX + 1];

	if (proj_ops_empty(ops) || !proj_ops_is_target(ops, ev->id))
		return;
	proj_ops_plate_of(ops, ev->id, ev->plate, eff);
	if (strcmp(eff, ev->plate) == 0)
		return;
	memcpy(ev->plate, eff, sizeof eff);
	snprintf(ev->plate_view, sizeof ev->plate_view, "%s", eff);
}

static int proj__ref_cmp(const void *a, const void *b)
{
	const proj__ref *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int proj__plate_fold_cmp(const void *a, const void *b)
{
	int c = strcmp(((const log_event *)a)->plate, ((const log_event *)b)->plate);

	return c ? c : proj_fold_cmp(a, b);
}

/* Decode refs[0..n) (one plate hash), fold each plate among them. */
static int proj__fold_group(proj__worker *w, const proj__ref *refs, size_t n,
    log_event **buf, size_t *cap)
{
	proj_session *rows;
	size_t nrows, i, j, k;
	int rc;

	if (n > *cap) {
		log_event *nb = realloc(*buf, n * sizeof *nb);

		if (nb == NULL)
			return ENOMEM;
		*buf = nb;
		*cap = n;
	}
	for (i = 0; i < n; i++) {
		if (log_event_decode_stored(refs[i].bytes, refs[i].len, &(*buf)[i]) != 0)
			return LOG_ECORRUPT;
		proj__ops_replay_plate(w->ops, &(*buf)[i]);	/* ops.h */
	}
	proj_fold_sort(*buf, n);
	for (i = 1; i < n && strcmp((*buf)[i].plate, (*buf)[0].plate) == 0; i++)
		;
	if (i < n)	/* two plates with one hash (rare): group them apart */
		qsort(*buf, n, sizeof **buf, proj__plate_fold_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp((*buf)[j].plate, (*buf)[i].plate) == 0; j++)
			;
		if ((rc = proj_fold_plate_ops(*buf + i, j - i, w->tariff, w->ops, &rows,
		    &nrows, NULL)) != 0)
			return rc;
		for (k = 0; k < nrows; k++)
			proj__summary_add(&w->sum, &rows[k]);
		free(rows);
	}
	return 0;
}

static void *proj__worker_run(void *arg)
{
	proj__worker *w = arg;
	log_event *buf = NULL;
	size_t cap = 0, i, j;

	if (w->n > 0)	/* a worker may get no plate: refs is NULL */
		qsort(w->refs, w->n, sizeof *w->refs, proj__ref_cmp);
	for (i = 0; i < w->n && w->rc == 0; i = j) {
		for (j = i + 1; j < w->n && w->refs[j].h == w->refs[i].h; j++)
			;
		w->rc = proj__fold_group(w, w->refs + i, j - i, &buf, &cap);
	}
	free(buf);
	return NULL;
}

/* One pass over the log: each record's reference, dealt to the worker
 * that owns its plate's hash. */
static int proj__deal(log_txn *t, proj__worker *w, size_t nw, size_t *caps)
{
	const char *plate;
	size_t plen;
	log_iter *it;
	log_rec rec;
	uint32_t idx = 0;
	int rc;

	if ((rc = log_iter_all(t, &it)) != 0)
		return rc;
	while ((rc = log_iter_next(it, &rec)) == 0) {
		uint64_t h;
		proj__worker *x;

		if ((rc = proj__plate_of(rec.bytes, rec.len, &plate, &plen)) != 0)
			break;
		h = proj__ops_replay_hash(w[0].ops, &rec, plate, plen);	/* ops.h */
		x = &w[h % nw];
		if (x->n == caps[x - w]) {
			size_t cap = caps[x - w] ? caps[x - w] * 2 : 4096;
			proj__ref *nr = realloc(x->refs, cap * sizeof *nr);

			if (nr == NULL) {
				rc = ENOMEM;
				break;
			}
			x->refs = nr;
			caps[x - w] = cap;
		}
		x->refs[x->n++] = (proj__ref){ h, idx++, (uint32_t)rec.len, rec.bytes };
	}
	log_iter_free(it);
	return rc == LOG_END ? 0 : rc;
}

static void proj__summary_merge(proj_summary *into, const proj_summary *s)
{
	into->sessions += s->sessions;
	into->open += s->open;
	into->closed += s->closed;
	into->conflicts += s->conflicts;
	into->inside += s->inside;
	into->revenue += s->revenue;
	into->digest += s->digest;
	for (size_t i = 0; i < s->nclasses; i++) {
		size_t j;

		for (j = 0; j < into->nclasses; j++)
			if (strcmp(into->classes[j].vehicle, s->classes[i].vehicle) == 0)
				break;
		if (j == into->nclasses) {
			if (j == PROJ_TARIFF_CLASSES)
				continue;
			into->classes[into->nclasses++] = s->classes[i];
		} else {
			into->classes[j].inside += s->classes[i].inside;
		}
	}
}

int proj_replay(log_txn *t, const proj_tariff *tariff, proj_summary *out)
{
	proj__worker w[PROJ__WORKERS];
	size_t caps[PROJ__WORKERS] = { 0 }, nw, i, started = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	proj_ops *ops = NULL;
	int rc;

	nw = cores < 1 ? 1 : cores > PROJ__WORKERS ? PROJ__WORKERS : (size_t)cores;
	memset(out, 0, sizeof *out);
	memset(w, 0, sizeof w);
	if ((rc = proj_ops_new(&ops)) != 0 || (rc = proj_ops_load(ops, t)) != 0)
		goto out;
	for (i = 0; i < nw; i++) {
		w[i].tariff = tariff;
		w[i].ops = ops;
	}
	if ((rc = proj__deal(t, w, nw, caps)) != 0)
		goto out;
	/* Worker 0 runs on this thread; the others on their own. */
	for (i = 1; i < nw; i++, started++)
		if (pthread_create(&w[i].thread, NULL, proj__worker_run, &w[i]) != 0)
			break;
	proj__worker_run(&w[0]);
	for (i = 1; i <= started; i++)
		pthread_join(w[i].thread, NULL);
	for (i = started + 1; i < nw; i++)	/* threads we could not start */
		proj__worker_run(&w[i]);
	for (i = 0; i < nw; i++) {
		if (w[i].rc != 0 && rc == 0)
			rc = w[i].rc;
		proj__summary_merge(out, &w[i].sum);
	}
out:
	for (i = 0; i < nw; i++)
		free(w[i].refs);
	proj_ops_free(ops);
	return rc;
}

static uint64_t proj__class_inside(const proj_summary *s, const char *vehicle)
{
	for (size_t i = 0; i < s->nclasses; i++)
		if (strcmp(s->classes[i].vehicle, vehicle) == 0)
			return s->classes[i].inside;
	return 0;
}

/* First difference between two summaries, as text; 0 if none. */
static int proj__summary_diff(const proj_summary *a, const proj_summary *b,
    char *err, size_t errlen)
{
#define PROJ__CMP(f) if (a->f != b->f) { snprintf(err, errlen, \
	"stored %s %lld, replay gives %lld", #f, (long long)a->f, (long long)b->f); \
	return LOG_ECORRUPT; }
	PROJ__CMP(sessions) PROJ__CMP(open) PROJ__CMP(closed) PROJ__CMP(conflicts)
	PROJ__CMP(inside) PROJ__CMP(revenue)
#undef PROJ__CMP
	if (a->digest != b->digest) {
		snprintf(err, errlen, "stored state digest %016llx, replay gives %016llx",
		    (unsigned long long)a->digest, (unsigned long long)b->digest);
		return LOG_ECORRUPT;
	}
	for (size_t i = 0; i < b->nclasses; i++) {
		uint64_t s = proj__class_inside(a, b->classes[i].vehicle);

		if (s != b->classes[i].inside) {
			snprintf(err, errlen, "stored inside[%s] %llu, replay gives %llu",
			    b->classes[i].vehicle, (unsigned long long)s,
			    (unsigned long long)b->classes[i].inside);
			return LOG_ECORRUPT;
		}
	}
	return 0;
}

int proj_check(proj *p, log_txn *t, char *err, size_t errlen)
{
	proj_summary stored, replayed;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if ((rc = proj__current(p, t)) != 0) {
		snprintf(err, errlen, "%s", proj_strerror(rc));
		return rc;
	}
	if ((rc = proj_summary_get(p, t, &stored)) != 0 ||
	    (rc = proj_replay(t, &p->tariff, &replayed)) != 0) {
		snprintf(err, errlen, "%s", proj_strerror(rc));
		return rc;
	}
	return proj__summary_diff(&stored, &replayed, err, errlen);
}
