/* projections/fold.c — the pure per-plate fold: events → sessions.
 *
 * The rules are in fold.h. Invariant the fold relies on: every open row
 * belongs to one group, the open primary plus its DOUBLE_ENTRY conflicts,
 * and they all sit at or after the primary's index (a conflict is opened only
 * while its primary is open, and they close together). That is also why a
 * resumed fold needs only the open rows: a closed row never changes again,
 * and all a later event asks of it is whether its id was opened (known()).
 * No I/O; the only allocation is the rows array.
 */
#include "projections/fold.h"
#include "projections/ops.h"
#include "msg/msg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJ__NONE PROJ_FOLD_NEW	/* no row: f->open when none is open */

/* ---- fold order ------------------------------------------------------- */

int proj_fold_cmp(const log_event *a, const log_event *b)
{
	int64_t ta = log_event_at(a), tb = log_event_at(b);
	int c;

	/* Action time first: an EXIT whose gate queued it (delivered after an
	 * ENTRY recorded later but done earlier) still folds after that ENTRY,
	 * on every central. */
	if (ta != tb)
		return ta < tb ? -1 : 1;
	if ((c = strcmp(a->origin, b->origin)) != 0)
		return c < 0 ? -1 : 1;
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	/* Same (stream, seq): a fork the log refuses. Still order it by
	 * content, so even such a set folds alike everywhere. */
	if ((c = strcmp(a->id, b->id)) != 0)
		return c < 0 ? -1 : 1;
	return a->type == b->type ? 0 : (a->type < b->type ? -1 : 1);
}

static int proj__cmp(const void *a, const void *b)
{
	return proj_fold_cmp(a, b);
}

void proj_fold_sort(log_event *evs, size_t n)
{
	size_t i;

	/* A plate's events usually come from the log already in fold order:
	 * a linear check spares qsort's copies of ~350-byte structs. */
	for (i = 1; i < n; i++)
		if (proj_fold_cmp(&evs[i - 1], &evs[i]) > 0)
			break;
	if (i < n)
		qsort(evs, n, sizeof *evs, proj__cmp);
}

/* ---- the fold ----------------------------------------------------------- */

/* Copy a NUL-terminated string; the row is zeroed first, so the bytes
 * after the NUL stay zero (rows are stored as binary, byte-stable). */
static void proj__cpy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

#define PROJ__CPY(dst, src) proj__cpy((dst), sizeof (dst), (src))

/* Room for k more rows (each step adds one at most). */
static int proj__reserve(proj_fold *f, size_t k)
{
	size_t cap = f->cap ? f->cap : 4;
	proj_session *nr;

	if (f->n + k <= f->cap)
		return 0;
	while (cap < f->n + k)
		cap *= 2;
	if ((nr = realloc(f->rows, cap * sizeof *nr)) == NULL)
		return ENOMEM;
	f->rows = nr;
	f->cap = cap;
	return 0;
}

/* ops.h flags of a row made or touched by ev: VOIDED if `id` was voided,
 * CORRECTED if ev is the target of a correction. */
static unsigned proj_fold__ops_flags(const proj_fold *f, const log_event *ev,
    const char *id)
{
	unsigned fl = 0;

	if (id[0] != '\0' && proj_ops_voided(f->ops, id))
		fl |= PROJ_S_VOIDED;
	if (proj_ops_is_target(f->ops, ev->id))
		fl |= PROJ_S_CORRECTED;
	return fl;
}

/* fee_tariff with operator changes: 0 inside a pass (the row names it),
 * else the tariff in force at the exit. */
static int64_t proj_fold__ops_fee(const proj_fold *f, proj_session *s,
    int64_t exit_ts)
{
	char tname[LOG_TARIFF_MAX + 1];
	int64_t fee;

	if (proj_ops_exit_fee(f->ops, f->t, s->plate, s->vehicle, s->entry_ts,
	    exit_ts, &fee, tname, s->pass) != 0)
		return -1;
	return fee;
}

static proj_session *proj__new_row(proj_fold *f, const log_event *ev)
{
	proj_session *s = &f->rows[f->n++];

	memset(s, 0, sizeof *s);
	PROJ__CPY(s->id, ev->id);
	PROJ__CPY(s->plate, ev->plate);
	PROJ__CPY(s->plate_view, ev->plate_view);
	PROJ__CPY(s->vehicle, ev->vehicle);
	s->entry_ts = s->confirm_ts = s->exit_ts = -1;
	s->fee_charged = s->fee_tariff = -1;
	if (f->ops != NULL)	/* ops.h: voided rows, corrected events */
		s->flags |= proj_fold__ops_flags(f, ev, ev->id);
	return s;
}

/* The row opened by the ENTRY_PENDING `id` among those held, or PROJ__NONE.
 * Searched from the newest: the session an event names is almost always a
 * recent one. */
static size_t proj__find(const proj_fold *f, const char *id)
{
	size_t i;

	if (id[0] == '\0')
		return PROJ__NONE;
	for (i = f->n; i-- > 0;)
		if (f->rows[i].entry_ts >= 0 && strcmp(f->rows[i].id, id) == 0)
			return i;
	return PROJ__NONE;
}

static void proj__entry(proj_fold *f, const log_event *ev)
{
	size_t idx = f->n;
	proj_session *s = proj__new_row(f, ev);

	s->entry_ts = log_event_at(ev);	/* the gate's time, if earlier */
	PROJ__CPY(s->entry_edge, ev->edge_id);
	PROJ__CPY(s->entry_origin, ev->origin);
	if (s->flags & PROJ_S_VOIDED) {	/* ops.h: closed as it opens */
		s->flags |= PROJ_S_CLOSED;
		return;
	}
	if (f->open == PROJ__NONE) {
		f->open = idx;
		return;
	}
	PROJ__CPY(s->primary, f->rows[f->open].id);
	s->flags |= PROJ_S_DOUBLE_ENTRY;
}

static void proj__confirm(proj_fold *f, const log_event *ev)
{
	size_t i = proj__find(f, ev->session);
	proj_session *s;

	/* Not held: unknown, or closed (every open row is held). */
	if (i == PROJ__NONE || (f->rows[i].flags & PROJ_S_CLOSED)) {
		f->anomalies++;
		return;
	}
	s = &f->rows[i];
	if (!(s->flags & PROJ_S_CONFIRMED)) {	/* the first confirm is the fact */
		s->flags |= PROJ_S_CONFIRMED;
		s->confirm_ts = log_event_at(ev);
	}
}

static void proj__set_exit(proj_fold *f, proj_session *s, const log_event *ev)
{
	if (f->ops != NULL)
		s->flags |= proj_fold__ops_flags(f, ev, "") & PROJ_S_CORRECTED;
	s->exit_ts = log_event_at(ev);
	PROJ__CPY(s->exit_id, ev->id);
	PROJ__CPY(s->exit_edge, ev->edge_id);
	PROJ__CPY(s->exit_origin, ev->origin);
	s->flags |= PROJ_S_CLOSED;
}

/* What the tariff asks for the primary's stay; -1 if it cannot say. */
static int64_t proj__tariff(const proj_fold *f, const proj_session *s, int64_t exit_ts)
{
	int64_t fee;

	if (f->t == NULL || s->entry_ts < 0)
		return -1;
	if (f->ops != NULL)	/* ops.h: passes, the tariff in force */
		return proj_fold__ops_fee(f, (proj_session *)s, exit_ts);
	if (proj_tariff_fee(f->t, s->vehicle, s->entry_ts, exit_ts, &fee) != 0)
		return -1;
	return fee;
}

/* Close the open group: the primary carries the fee, conflicts only the
 * exit (so revenue and fee differences are counted once). */
static void proj__close_group(proj_fold *f, const log_event *ev, unsigned flag)
{
	proj_session *p = &f->rows[f->open];
	size_t i;

	for (i = f->open + 1; i < f->n; i++)
		if (!(f->rows[i].flags & PROJ_S_CLOSED))
			proj__set_exit(f, &f->rows[i], ev);
	proj__set_exit(f, p, ev);
	p->flags |= flag;
	p->fee_charged = ev->fee;
	p->fee_tariff = proj__tariff(f, p, log_event_at(ev));
	if (p->fee_tariff >= 0 && p->fee_charged >= 0 && p->fee_tariff != p->fee_charged)
		p->flags |= PROJ_S_FEE_DIFF;
	f->open = PROJ__NONE;
}

/* A row of its own for an EXIT that closes nothing (ORPHAN_EXIT, DUP_EXIT):
 * the fee it records was charged, whatever the tariff says. */
static void proj__exit_row(proj_fold *f, const log_event *ev, unsigned flag)
{
	proj_session *s = proj__new_row(f, ev);

	proj__set_exit(f, s, ev);
	s->flags |= flag;
	s->fee_charged = ev->fee;
}

static int proj__exit(proj_fold *f, const log_event *ev)
{
	size_t i = proj__find(f, ev->session);
	int known = 0;

	/* Not held but known: opened earlier and closed before the resume. */
	if (i == PROJ__NONE && ev->session[0] != '\0' && f->known != NULL &&
	    (known = f->known(f->ctx, ev->session)) != 0 && known != 1)
		return known;
	/* ops.h: an EXIT naming a voided session of its plate is voided too */
	if (f->ops != NULL && (known || i != PROJ__NONE) &&
	    proj_ops_voided(f->ops, ev->session)) {
		proj__exit_row(f, ev, PROJ_S_VOIDED);
		return 0;
	}
	if (known || (i != PROJ__NONE && (f->rows[i].flags & PROJ_S_CLOSED)))
		proj__exit_row(f, ev, PROJ_S_DUP_EXIT);
	else if (i != PROJ__NONE)	/* open, so in the open group */
		proj__close_group(f, ev, 0);
	else if (f->open != PROJ__NONE)
		proj__close_group(f, ev, PROJ_S_LINKED_EXIT);
	else
		proj__exit_row(f, ev, PROJ_S_ORPHAN_EXIT);
	return 0;
}

/* ev's place in fold order against the last event stepped: >= 0 if not
 * before it (the order proj_fold_cmp gives, without the fork tie-break). */
static int proj__after_last(const proj_fold *f, const log_event *ev)
{
	int64_t at = log_event_at(ev);
	int c;

	if (!f->stepped || at != f->last_at)
		return !f->stepped || at > f->last_at ? 1 : -1;
	if ((c = strcmp(ev->origin, f->last_origin)) != 0)
		return c;
	if (ev->epoch != f->last_epoch)
		return ev->epoch > f->last_epoch ? 1 : -1;
	return ev->seq > f->last_seq ? 1 : ev->seq == f->last_seq ? 0 : -1;
}

int proj_fold_step(proj_fold *f, const log_event *ev)
{
	int rc;


	if (f->plate[0] == '\0')
		PROJ__CPY(f->plate, ev->plate);
	else if (strcmp(f->plate, ev->plate) != 0)
		return EINVAL;
	/* fold.h: steps come in fold order (a caller that extends a plate
	 * with an event that does not sort last would fold it wrongly) */
	msg_assert(proj__after_last(f, ev) >= 0);
	f->stepped = 1;
	f->last_at = log_event_at(ev);
	f->last_epoch = ev->epoch;
	f->last_seq = ev->seq;
	PROJ__CPY(f->last_origin, ev->origin);
	if ((rc = proj__reserve(f, 1)) != 0)
		return rc;
	switch (ev->type) {
	case LOG_EV_ENTRY_PENDING:
		proj__entry(f, ev);
		return 0;
	case LOG_EV_ENTRY_CONFIRMED:
		proj__confirm(f, ev);
		return 0;
	case LOG_EV_EXIT:
		return proj__exit(f, ev);
	default:
		if (log_ev_is_op(ev->type))	/* held by ops, see ops.h */
			return 0;
		/* a type this fold does not know */
		f->anomalies++;
		return 0;
	}
}

/* Open rows as the fold leaves them: one open primary, open conflicts
 * naming it, one plate. The primary's index in *prim. */
static int proj__one_group(const proj_session *r, size_t n, size_t *prim)
{
	size_t i, np = 0;

	for (i = 0; i < n; i++)
		if (!(r[i].flags & PROJ_S_DOUBLE_ENTRY)) {
			*prim = i;
			np++;
		}
	if (n > 0 && np != 1)
		return EINVAL;
	for (i = 0; i < n; i++)
		if ((r[i].flags & PROJ_S_CLOSED) || r[i].entry_ts < 0 ||
		    strcmp(r[i].plate, r[*prim].plate) != 0 ||
		    (i != *prim && strcmp(r[i].primary, r[*prim].id) != 0))
			return EINVAL;
	return 0;
}

int proj_fold_begin(proj_fold *f, const proj_tariff *t, const proj_session *open_rows,
    size_t n, proj_fold_known_fn known, void *ctx)
{
	size_t prim = 0, k = 1;
	int rc;

	memset(f, 0, sizeof *f);
	f->open = PROJ__NONE;
	if ((n > 0 && open_rows == NULL) || proj__one_group(open_rows, n, &prim) != 0)
		return EINVAL;
	if ((rc = proj__reserve(f, n + 1)) != 0)
		return rc;
	f->t = t;
	f->known = known;
	f->ctx = ctx;
	f->base = open_rows;
	f->nbase = f->n = n;
	f->prim = prim;
	if (n == 0)
		return 0;
	/* The primary first: close_group finds its conflicts after it. */
	f->rows[0] = open_rows[prim];
	for (size_t i = 0; i < n; i++)
		if (i != prim)
			f->rows[k++] = open_rows[i];
	f->open = 0;
	PROJ__CPY(f->plate, open_rows[prim].plate);
	return 0;
}

const proj_session *proj_fold_next(const proj_fold *f, size_t *i, size_t *replaces)
{
	for (; *i < f->nbase; (*i)++) {
		/* rows[0] is base[prim]; the others keep their order */
		size_t b = *i == 0 ? f->prim : *i - 1 < f->prim ? *i - 1 : *i;

		if (memcmp(&f->rows[*i], &f->base[b], sizeof f->rows[*i]) != 0) {
			*replaces = b;
			return &f->rows[(*i)++];
		}
	}
	if (*i >= f->n)
		return NULL;
	*replaces = PROJ_FOLD_NEW;
	return &f->rows[(*i)++];
}

size_t proj_fold_anomalies(const proj_fold *f)
{
	return f->anomalies;
}

void proj_fold_end(proj_fold *f)
{
	free(f->rows);
	f->rows = NULL;
	f->n = f->cap = 0;
}

int proj_fold_plate_ex(const log_event *evs, size_t n, const proj_tariff *t,
    proj_session **out, size_t *nout, size_t *anomalies)
{
	return proj_fold_plate_ops(evs, n, t, NULL, out, nout, anomalies);
}

int proj_fold_plate_ops(const log_event *evs, size_t n, const proj_tariff *t,
    const struct proj_ops *ops, proj_session **out, size_t *nout,
    size_t *anomalies)
{
	proj_fold f;
	proj_session *shrunk;
	size_t i;
	int rc;

	if (out == NULL || nout == NULL || (n > 0 && evs == NULL))
		return EINVAL;
	*out = NULL;
	*nout = 0;
	if (anomalies != NULL)
		*anomalies = 0;
	if (n == 0)
		return 0;
	/* No known(): from scratch, the rows held are every row there is. */
	if ((rc = proj_fold_begin(&f, t, NULL, 0, NULL, NULL)) != 0)
		return rc;
	f.ops = ops;
	if ((rc = proj__reserve(&f, n)) != 0)
		goto err;
	for (i = 0; i < n; i++)
		if ((rc = proj_fold_step(&f, &evs[i])) != 0)
			goto err;
	if (f.n == 0)
		proj_fold_end(&f);
	else if ((shrunk = realloc(f.rows, f.n * sizeof *f.rows)) != NULL)
		f.rows = shrunk;	/* on failure the larger block is fine */
	*out = f.rows;
	*nout = f.n;
	if (anomalies != NULL)
		*anomalies = f.anomalies;
	return 0;
err:
	proj_fold_end(&f);
	return rc;
}

int proj_fold_plate(const log_event *evs, size_t n, const proj_tariff *t,
    proj_session **out, size_t *nout)
{
	return proj_fold_plate_ex(evs, n, t, out, nout, NULL);
}

/* ---- canonical text ----------------------------------------------------- */

typedef struct proj__buf {
	char *p;
	size_t cap, len;	/* len counts on past cap, to detect overflow */
} proj__buf;

static void proj__put(proj__buf *b, const char *s, size_t n)
{
	if (b->len + n < b->cap)	/* keep room for the NUL */
		memcpy(b->p + b->len, s, n);
	else
		b->cap = 0;		/* overflowed: write nothing more */
	b->len += n;
}

#define PROJ__LIT(b, lit) proj__put((b), (lit), sizeof (lit) - 1)

/* A JSON string of at most `max` bytes (a row read back from storage may
 * lack its NUL); '"', '\' and control bytes escaped, other bytes as they
 * are (UTF-8 passes through). "" is null. */
static void proj__put_str(proj__buf *b, const char *key, const char *v, size_t max)
{
	const unsigned char *c = (const unsigned char *)v, *end = c + strnlen(v, max);
	char esc[8];

	proj__put(b, key, strlen(key));
	if (c == end) {
		PROJ__LIT(b, "null");
		return;
	}
	PROJ__LIT(b, "\"");
	for (; c < end; c++) {
		const unsigned char *run = c;

		/* bytes that need no escape go out as one run */
		while (c < end && *c >= 0x20 && *c != 0x7f && *c != '"' && *c != '\\')
			c++;
		if (c > run)
			proj__put(b, (const char *)run, (size_t)(c - run));
		if (c == end)
			break;
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			proj__put(b, esc, 2);
		} else {
			snprintf(esc, sizeof esc, "\\u%04x", *c);
			proj__put(b, esc, 6);
		}
	}
	PROJ__LIT(b, "\"");
}

#define PROJ__STR(b, key, field) proj__put_str((b), (key), (field), sizeof (field))

/* An integer; negative (-1) is null. */
static void proj__put_int(proj__buf *b, const char *key, int64_t v)
{
	char num[24];
	int n;

	proj__put(b, key, strlen(key));
	if (v < 0) {
		PROJ__LIT(b, "null");
		return;
	}
	/* by hand: this runs for every row of every digest */
	n = (int)sizeof num;
	do {
		num[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	proj__put(b, num + n, sizeof num - (size_t)n);
}

static void proj__put_flags(proj__buf *b, unsigned flags)
{
	static const char *const names[] = {
		"CONFIRMED", "CLOSED", "DOUBLE_ENTRY", "LINKED_EXIT",
		"ORPHAN_EXIT", "DUP_EXIT", "FEE_DIFF", "VOIDED", "CORRECTED"
	};
	int first = 1;

	PROJ__LIT(b, ",\"flags\":[");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (!first)
			PROJ__LIT(b, ",");
		PROJ__LIT(b, "\"");
		proj__put(b, names[i], strlen(names[i]));
		PROJ__LIT(b, "\"");
		first = 0;
	}
	PROJ__LIT(b, "]");
}

int proj_session_json(const proj_session *s, char *buf, size_t cap)
{
	proj__buf b = { buf, cap, 0 };

	PROJ__STR(&b, "{\"id\":", s->id);
	PROJ__STR(&b, ",\"plate_id\":", s->plate);
	PROJ__STR(&b, ",\"plate_view\":", s->plate_view);
	PROJ__STR(&b, ",\"vehicle\":", s->vehicle);
	proj__put_str(&b, ",\"status\":", (s->flags & PROJ_S_CLOSED) ? "CLOSED" : "OPEN", 8);
	proj__put_int(&b, ",\"entry_ts\":", s->entry_ts);
	PROJ__STR(&b, ",\"entry_edge\":", s->entry_edge);
	PROJ__STR(&b, ",\"entry_origin\":", s->entry_origin);
	proj__put_int(&b, ",\"confirm_ts\":", s->confirm_ts);
	proj__put_int(&b, ",\"exit_ts\":", s->exit_ts);
	PROJ__STR(&b, ",\"exit_id\":", s->exit_id);
	PROJ__STR(&b, ",\"exit_edge\":", s->exit_edge);
	PROJ__STR(&b, ",\"exit_origin\":", s->exit_origin);
	proj__put_int(&b, ",\"fee_charged\":", s->fee_charged);
	proj__put_int(&b, ",\"fee_tariff\":", s->fee_tariff);
	PROJ__STR(&b, ",\"primary\":", s->primary);
	proj__put_flags(&b, s->flags);
	if (s->pass[0] != '\0')
		PROJ__STR(&b, ",\"pass\":", s->pass);
	PROJ__LIT(&b, "}");
	if (b.cap == 0 || b.len > INT_MAX)
		return -1;
	buf[b.len] = '\0';
	return (int)b.len;
}
