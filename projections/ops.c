/* projections/ops.c — operator changes held in memory for the fold
 * (rules in ops.h). They are few (a lot's corrections, voids and passes),
 * so plain arrays kept in fold order, scanned linearly. */
#include "projections/ops.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <xxhash.h>

#include "msg/msg.h"
#include "projections/fold.h"

typedef struct proj_ops__tariff {
	log_event ev;		/* the TARIFF_SET */
	proj_tariff t;		/* its value, parsed */
} proj_ops__tariff;

struct proj_ops {
	pthread_mutex_t mu;
	log_event *ev;		/* every other operator event, fold order */
	size_t n, cap;
	proj_ops__tariff *tar;	/* valid TARIFF_SETs, (effective_from, fold) order */
	size_t ntar, tarcap;
};

#define PROJ_OPS__CPY(dst, src) do { \
	size_t n_ = strnlen((src), sizeof(dst) - 1); \
	memcpy((dst), (src), n_); (dst)[n_] = '\0'; } while (0)

int proj_ops_new(proj_ops **out)
{
	proj_ops *o = calloc(1, sizeof *o);

	if (o == NULL)
		return ENOMEM;
	pthread_mutex_init(&o->mu, NULL);
	*out = o;
	return 0;
}

void proj_ops_free(proj_ops *o)
{
	if (o == NULL)
		return;
	pthread_mutex_destroy(&o->mu);
	free(o->ev);
	free(o->tar);
	free(o);
}

void proj_ops_clear(proj_ops *o)
{
	pthread_mutex_lock(&o->mu);
	o->n = o->ntar = 0;
	pthread_mutex_unlock(&o->mu);
}

static int proj_ops__tar_cmp(const proj_ops__tariff *a, const log_event *ev)
{
	if (a->ev.op.effective_from != ev->op.effective_from)
		return a->ev.op.effective_from < ev->op.effective_from ? -1 : 1;
	return proj_fold_cmp(&a->ev, ev);
}

/* A TARIFF_SET whose value is a tariff: insert it in order. */
static int proj_ops__add_tariff(proj_ops *o, const log_event *ev)
{
	proj_ops__tariff nt;
	cJSON *j = cJSON_Parse(ev->op.value);
	size_t i;
	int ok;

	memset(&nt, 0, sizeof nt);
	ok = j != NULL && proj_tariff_parse(j, &nt.t, NULL, 0) == 0;
	cJSON_Delete(j);
	if (!ok) {
		msg_warn("TARIFF_SET %s: its value is no tariff; ignored", ev->id);
		return 0;
	}
	PROJ_OPS__CPY(nt.t.name, ev->tariff);
	nt.ev = *ev;
	for (i = 0; i < o->ntar; i++)
		if (strcmp(o->tar[i].ev.id, ev->id) == 0)
			return 0;
	if (o->ntar == o->tarcap) {
		size_t cap = o->tarcap ? o->tarcap * 2 : 4;
		proj_ops__tariff *nr = realloc(o->tar, cap * sizeof *nr);

		if (nr == NULL)
			return ENOMEM;
		o->tar = nr;
		o->tarcap = cap;
	}
	for (i = o->ntar; i > 0 && proj_ops__tar_cmp(&o->tar[i - 1], ev) > 0; i--)
		;
	memmove(&o->tar[i + 1], &o->tar[i], (o->ntar - i) * sizeof *o->tar);
	o->tar[i] = nt;
	o->ntar++;
	return 0;
}

static int proj_ops__add_ev(proj_ops *o, const log_event *ev)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->ev[i].id, ev->id) == 0)
			return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		log_event *ne = realloc(o->ev, cap * sizeof *ne);

		if (ne == NULL)
			return ENOMEM;
		o->ev = ne;
		o->cap = cap;
	}
	for (i = o->n; i > 0 && proj_fold_cmp(&o->ev[i - 1], ev) > 0; i--)
		;
	memmove(&o->ev[i + 1], &o->ev[i], (o->n - i) * sizeof *o->ev);
	o->ev[i] = *ev;
	o->n++;
	return 0;
}

/* Effective plate of id, lock held: the latest correction's to_plate. */
static const char *proj_ops__plate_of(const proj_ops *o, const char *id,
    const char *own)
{
	const char *p = own;

	for (size_t i = 0; i < o->n; i++)
		if (o->ev[i].type == LOG_EV_PLATE_CORRECTED &&
		    strcmp(o->ev[i].op.target, id) == 0)
			p = o->ev[i].op.plate;
	return p;
}

/* Note plate (if any) as touched, once. */
static void proj_ops__touch(char touched[2][LOG_PLATE_MAX + 1], size_t *n,
    const char *plate)
{
	if (plate[0] == '\0' || (*n > 0 && strcmp(touched[0], plate) == 0))
		return;
	PROJ_OPS__CPY(touched[*n], plate);
	(*n)++;
}

int proj_ops_add(proj_ops *o, const log_event *ev, const char *own,
    char touched[2][LOG_PLATE_MAX + 1], size_t *ntouched, int *retariff)
{
	int rc = 0;

	*ntouched = 0;
	*retariff = 0;
	if (!log_ev_is_op(ev->type))
		return 0;
	pthread_mutex_lock(&o->mu);
	switch (ev->type) {
	case LOG_EV_TARIFF_SET:
		*retariff = 1;
		rc = proj_ops__add_tariff(o, ev);
		break;
	case LOG_EV_PLATE_CORRECTED:
		/* where the target counts before and after this one */
		proj_ops__touch(touched, ntouched,
		    proj_ops__plate_of(o, ev->op.target, own));
		rc = proj_ops__add_ev(o, ev);
		proj_ops__touch(touched, ntouched,
		    proj_ops__plate_of(o, ev->op.target, own));
		break;
	case LOG_EV_SESSION_VOIDED:
		/* where the voided row counts now */
		proj_ops__touch(touched, ntouched,
		    proj_ops__plate_of(o, ev->session, own[0] ? own : ev->op.plate));
		rc = proj_ops__add_ev(o, ev);
		break;
	default:
		proj_ops__touch(touched, ntouched, ev->op.plate);
		rc = proj_ops__add_ev(o, ev);
		break;
	}
	/* ops.h: at most 2 plates touched */
	msg_assert(*ntouched <= 2);
	pthread_mutex_unlock(&o->mu);
	return rc;
}

int proj_ops_load(proj_ops *o, log_txn *t)
{
	static const char *const plates[] = {
		LOG_OP_PLATE_CORRECT, LOG_OP_PLATE_VOID, LOG_OP_PLATE_PASS,
		LOG_OP_PLATE_TARIFF, LOG_OP_PLATE_SETTINGS
	};
	char touched[2][LOG_PLATE_MAX + 1];
	size_t nt;
	int rt, rc = 0;
	log_event ev;
	log_rec rec;

	proj_ops_clear(o);
	for (size_t i = 0; i < sizeof plates / sizeof *plates && rc == 0; i++) {
		log_iter *it = NULL;

		if ((rc = log_iter_plate(t, plates[i], &it)) != 0)
			break;
		while ((rc = log_iter_next(it, &rec)) == 0) {
			if (log_event_decode_stored(rec.bytes, rec.len, &ev) != 0) {
				rc = LOG_ECORRUPT;
				break;
			}
			if ((rc = proj_ops_add(o, &ev, "", touched, &nt, &rt)) != 0)
				break;
		}
		log_iter_free(it);
		if (rc == LOG_END || rc == LOG_NOTFOUND)
			rc = 0;
	}
	return rc;
}

int proj_ops_empty(const proj_ops *o)
{
	proj_ops *m = (proj_ops *)o;
	int e;

	pthread_mutex_lock(&m->mu);
	e = o->n == 0 && o->ntar == 0;
	pthread_mutex_unlock(&m->mu);
	return e;
}

uint64_t proj_ops_tariff_hash(const proj_ops *o)
{
	proj_ops *m = (proj_ops *)o;
	uint64_t h = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < o->ntar; i++)
		h = h * 31 + XXH3_64bits(o->tar[i].ev.id, strlen(o->tar[i].ev.id));
	pthread_mutex_unlock(&m->mu);
	return h;
}

void proj_ops_plate_of(const proj_ops *o, const char *id, const char *own,
    char out[LOG_PLATE_MAX + 1])
{
	proj_ops *m = (proj_ops *)o;
	const char *p;
	size_t n;

	pthread_mutex_lock(&m->mu);
	p = proj_ops__plate_of(o, id, own);
	n = strnlen(p, LOG_PLATE_MAX);
	memcpy(out, p, n);
	out[n] = '\0';
	pthread_mutex_unlock(&m->mu);
}

int proj_ops_is_target(const proj_ops *o, const char *id)
{
	proj_ops *m = (proj_ops *)o;
	int r = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < o->n && !r; i++)
		r = o->ev[i].type == LOG_EV_PLATE_CORRECTED &&
		    strcmp(o->ev[i].op.target, id) == 0;
	pthread_mutex_unlock(&m->mu);
	return r;
}

int proj_ops_targets(const proj_ops *o, const char *plate, int effective,
    char (**ids)[LOG_ID_MAX + 1], size_t *n)
{
	proj_ops *m = (proj_ops *)o;
	char (*v)[LOG_ID_MAX + 1] = NULL;
	size_t k = 0, j;
	int rc = 0;

	*ids = NULL;
	*n = 0;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < o->n; i++) {
		const log_event *e = &o->ev[i];

		if (e->type != LOG_EV_PLATE_CORRECTED ||
		    strcmp(e->op.plate, plate) != 0 || (effective &&
		    strcmp(proj_ops__plate_of(o, e->op.target, ""), plate) != 0))
			continue;
		for (j = 0; j < k && strcmp(v[j], e->op.target) != 0; j++)
			;
		if (j < k)
			continue;	/* corrected into plate twice: once */
		if (v == NULL && (v = malloc(o->n * sizeof *v)) == NULL) {
			rc = ENOMEM;
			break;
		}
		PROJ_OPS__CPY(v[k], e->op.target);
		k++;
	}
	pthread_mutex_unlock(&m->mu);
	*ids = v;
	*n = k;
	return rc;
}

int proj_ops_moved_into(const proj_ops *o, const char *plate)
{
	proj_ops *m = (proj_ops *)o;
	int r = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < o->n && !r; i++)
		r = o->ev[i].type == LOG_EV_PLATE_CORRECTED &&
		    strcmp(o->ev[i].op.plate, plate) == 0 && strcmp(
		    proj_ops__plate_of(o, o->ev[i].op.target, ""), plate) == 0;
	pthread_mutex_unlock(&m->mu);
	return r;
}

int proj_ops_voided(const proj_ops *o, const char *session_id)
{
	proj_ops *m = (proj_ops *)o;
	int r = 0;

	if (session_id[0] == '\0')
		return 0;
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < o->n && !r; i++)
		r = o->ev[i].type == LOG_EV_SESSION_VOIDED &&
		    strcmp(o->ev[i].session, session_id) == 0;
	pthread_mutex_unlock(&m->mu);
	return r;
}

/* The pass issued by o->ev[i], with its earliest revocation; lock held. */
static void proj_ops__pass(const proj_ops *o, size_t i, proj_pass *p)
{
	const log_event *e = &o->ev[i];

	memset(p, 0, sizeof *p);
	PROJ_OPS__CPY(p->id, e->op.pass);
	PROJ_OPS__CPY(p->plate, e->op.plate);
	PROJ_OPS__CPY(p->vehicle, e->vehicle);
	PROJ_OPS__CPY(p->kind, e->op.kind);
	PROJ_OPS__CPY(p->event_id, e->id);
	PROJ_OPS__CPY(p->op, e->op.op);
	p->valid_from = e->op.valid_from;
	p->valid_to = e->op.valid_to;
	p->issued_at = log_event_at(e);
	p->revoked_at = -1;
	for (size_t j = 0; j < o->n; j++)	/* fold order: the first is earliest */
		if (o->ev[j].type == LOG_EV_PASS_REVOKED &&
		    strcmp(o->ev[j].op.pass, p->id) == 0 &&
		    strcmp(o->ev[j].op.plate, p->plate) == 0) {
			p->revoked_at = log_event_at(&o->ev[j]);
			break;
		}
}

int proj_ops_pass_at(const proj_ops *o, const char *plate, const char *vehicle,
    int64_t t, proj_pass *out)
{
	proj_ops *m = (proj_ops *)o;
	proj_pass p;
	int r = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < o->n && !r; i++) {
		if (o->ev[i].type != LOG_EV_PASS_ISSUED ||
		    strcmp(o->ev[i].op.plate, plate) != 0)
			continue;
		proj_ops__pass(o, i, &p);
		r = (strcmp(p.vehicle, "any") == 0 || vehicle == NULL ||
		    strcmp(p.vehicle, vehicle) == 0) && p.valid_from <= t &&
		    t < p.valid_to && p.issued_at <= t &&
		    (p.revoked_at < 0 || p.revoked_at > t);
	}
	pthread_mutex_unlock(&m->mu);
	if (r)
		*out = p;
	return r;
}

int proj_ops_passes(const proj_ops *o, const char *plate, proj_pass **out,
    size_t *n)
{
	proj_ops *m = (proj_ops *)o;
	proj_pass *v;
	int rc = 0;

	*n = 0;
	pthread_mutex_lock(&m->mu);
	if ((v = malloc((o->n ? o->n : 1) * sizeof *v)) == NULL)
		rc = ENOMEM;
	for (size_t i = 0; rc == 0 && i < o->n; i++)
		if (o->ev[i].type == LOG_EV_PASS_ISSUED &&
		    (plate == NULL || strcmp(o->ev[i].op.plate, plate) == 0))
			proj_ops__pass(o, i, &v[(*n)++]);
	pthread_mutex_unlock(&m->mu);
	*out = v;
	return rc;
}

void proj_ops_tariff_at(const proj_ops *o, const proj_tariff *base, int64_t t,
    proj_tariff *out)
{
	proj_ops *m = (proj_ops *)o;
	size_t i;

	pthread_mutex_lock(&m->mu);
	for (i = o->ntar; i > 0 && o->tar[i - 1].ev.op.effective_from > t; i--)
		;
	*out = i > 0 ? o->tar[i - 1].t : *base;
	pthread_mutex_unlock(&m->mu);
	out->tz_offset_min = base->tz_offset_min;
}

int proj_ops_tariff_get(const proj_ops *o, size_t i, int64_t *effective_from,
    char id[LOG_ID_MAX + 1], char value[LOG_OP_JSON_MAX + 1])
{
	proj_ops *m = (proj_ops *)o;
	int r = 1;

	pthread_mutex_lock(&m->mu);
	if (i < o->ntar) {
		*effective_from = o->tar[i].ev.op.effective_from;
		memcpy(id, o->tar[i].ev.id, LOG_ID_MAX + 1);
		memcpy(value, o->tar[i].ev.op.value, LOG_OP_JSON_MAX + 1);
		r = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return r;
}

int proj_ops_setting(const proj_ops *o, const char *section,
    char value[LOG_OP_JSON_MAX + 1])
{
	proj_ops *m = (proj_ops *)o;
	int r = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = o->n; i-- > 0 && !r;)
		if (o->ev[i].type == LOG_EV_SETTINGS_SET &&
		    strcmp(o->ev[i].op.section, section) == 0) {
			memcpy(value, o->ev[i].op.value, LOG_OP_JSON_MAX + 1);
			r = 1;
		}
	pthread_mutex_unlock(&m->mu);
	return r;
}

int proj_ops_changes(const proj_ops *o, const char *plate, proj_change **out,
    size_t *n)
{
	proj_ops *m = (proj_ops *)o;
	proj_change *v;
	int rc = 0;

	*n = 0;
	pthread_mutex_lock(&m->mu);
	if ((v = calloc(o->n ? o->n : 1, sizeof *v)) == NULL)
		rc = ENOMEM;
	for (size_t i = 0; rc == 0 && i < o->n; i++) {
		const log_event *e = &o->ev[i];
		proj_change *c = &v[*n];

		if ((e->type != LOG_EV_PLATE_CORRECTED &&
		    e->type != LOG_EV_SESSION_VOIDED) || (plate != NULL &&
		    strcmp(e->op.plate, plate) != 0 &&
		    strcmp(e->op.from_plate, plate) != 0))
			continue;
		PROJ_OPS__CPY(c->event_id, e->id);
		c->type = e->type;
		c->ts = e->ts;
		PROJ_OPS__CPY(c->op, e->op.op);
		PROJ_OPS__CPY(c->reason, e->op.reason);
		PROJ_OPS__CPY(c->target, e->type == LOG_EV_PLATE_CORRECTED ?
		    e->op.target : e->session);
		PROJ_OPS__CPY(c->from_plate, e->op.from_plate);
		PROJ_OPS__CPY(c->to_plate, e->op.plate);
		(*n)++;
	}
	pthread_mutex_unlock(&m->mu);
	*out = v;
	return rc;
}

int proj_ops_exit_fee(const proj_ops *o, const proj_tariff *base,
    const char *plate, const char *vehicle, int64_t entry_ms, int64_t exit_ms,
    int64_t *fee, char tariff[LOG_TARIFF_MAX + 1], char pass[LOG_PASS_MAX + 1])
{
	proj_tariff t;
	proj_pass p;
	size_t n;

	proj_ops_tariff_at(o, base, exit_ms, &t);
	n = strnlen(t.name, LOG_TARIFF_MAX);
	memcpy(tariff, t.name, n);
	tariff[n] = '\0';
	pass[0] = '\0';
	if (proj_ops_pass_at(o, plate, vehicle, exit_ms, &p)) {
		memcpy(pass, p.id, sizeof p.id);
		*fee = 0;
		return 0;
	}
	return proj_tariff_fee(&t, vehicle, entry_ms, exit_ms, fee);
}

void proj_ops_orphan_fee(const proj_ops *o, const proj_tariff *base,
    const char *plate, const char *vehicle, int64_t exit_ms, int64_t *fee,
    char tariff[LOG_TARIFF_MAX + 1])
{
	proj_tariff t;
	proj_pass p;
	size_t n;

	proj_ops_tariff_at(o, base, exit_ms, &t);
	n = strnlen(t.name, LOG_TARIFF_MAX);
	memcpy(tariff, t.name, n);
	tariff[n] = '\0';
	*fee = proj_ops_pass_at(o, plate, vehicle, exit_ms, &p) ? 0 :
	    t.unknown_entry_fee;
}

int proj_ops_seed_tariff(log_store *s, const proj_ops *o, const char *name,
    const char *json, int64_t now_ms)
{
	proj_ops *m = (proj_ops *)o;
	log_event ev;
	log_txn *t;
	size_t held;
	int rc;

	pthread_mutex_lock(&m->mu);
	held = o->ntar;
	pthread_mutex_unlock(&m->mu);
	if (held > 0 || json == NULL || json[0] == '\0' ||
	    strlen(json) > LOG_OP_JSON_MAX)
		return 0;
	memset(&ev, 0, sizeof ev);
	ev.type = LOG_EV_TARIFF_SET;
	PROJ_OPS__CPY(ev.plate, LOG_OP_PLATE_TARIFF);
	PROJ_OPS__CPY(ev.plate_view, LOG_OP_PLATE_TARIFF);
	PROJ_OPS__CPY(ev.vehicle, "any");
	PROJ_OPS__CPY(ev.edge_id, LOG_OP_EDGE);
	ev.confidence_milli = 1000;
	ev.entry_ts = ev.duration_s = -1;
	PROJ_OPS__CPY(ev.tariff, name);
	PROJ_OPS__CPY(ev.op.value, json);
	PROJ_OPS__CPY(ev.op.op, "config");
	PROJ_OPS__CPY(ev.op.reason, "seeded from the config file");
	if (now_ms <= 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if ((rc = log_txn_begin(s, 1, &t)) != 0)
		return rc;
	if ((rc = log_txn_next_ts(t, ev.plate, now_ms, &ev.ts)) != 0 ||
	    (rc = log_txn_append_own(t, &ev)) != 0) {
		log_txn_abort(t);
		return rc;
	}
	return log_txn_commit(t);
}
