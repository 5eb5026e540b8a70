/* api/operator.c — operator changes as events (DESIGN.md "Operator changes
 * are events too"; projections/ops.h says what they do):
 *
 *   POST /api/ops/correct      {event_id, plate, plate_view?, reason}
 *                              or {exit_id, session, reason}: link an
 *                              orphan exit to the session it belongs to
 *   POST /api/ops/void         {session, reason}
 *   POST /api/ops/pass         {plate, kind?, vehicle?, pass?, valid_from_ms,
 *                               valid_to_ms, reason}
 *   POST /api/ops/pass/revoke  {plate, pass, reason}
 *   GET  /api/ops/passes[?plate=P]
 *   POST /api/ops/tariff       {tariff: {...}, effective_from_ms, reason} (admin)
 *   GET  /api/ops/tariff
 *   POST /api/ops/settings     {section, value, reason} (admin)
 *   GET  /api/ops/changes[?plate=P], and the seed's
 *   GET  /api/parking/history/changes
 *   PUT  /api/parking/history/{id} {plate_id, plate_view?, reason?}
 *   DELETE /api/parking/history/{id}
 *
 * A handler validates and builds the event (400 on bad input, nothing
 * appended); the writer checks what only the log knows (the target
 * exists, the session is not voided yet), dates it and appends it on its
 * reserved plate. Every event names the account that asked.
 */
#include "api/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "projections/ops.h"

/* What the writer needs besides the event. */
typedef struct api__opw {
	log_event ev;
	char session[LOG_ID_MAX + 1];	/* correct-by-link: the session */
} api__opw;

static enum MHD_Result api__op_bad(api__req *r, const char *fmt, const char *s)
{
	return api__reply_error(r, MHD_HTTP_BAD_REQUEST, fmt, s);
}

static const char *api__jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int64_t api__jint(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

/* The common fields of an operator event of `type` by r's account. */
static void api__op_head(api__req *r, log_event *ev, enum log_ev_type type,
    const char *view, const char *reason)
{
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	snprintf(ev->origin, sizeof ev->origin, "%s", r->srv->origin);
	ev->seq = 1;
	ev->ts = api__now_ms();
	snprintf(ev->plate, sizeof ev->plate, "%s", log_op_plate(type));
	snprintf(ev->plate_view, sizeof ev->plate_view, "%s", view);
	snprintf(ev->vehicle, sizeof ev->vehicle, "any");
	snprintf(ev->edge_id, sizeof ev->edge_id, LOG_OP_EDGE);
	ev->confidence_milli = 1000;
	ev->entry_ts = ev->duration_s = -1;
	snprintf(ev->op.op, sizeof ev->op.op, "%s", r->account);
	snprintf(ev->op.reason, sizeof ev->op.reason, "%s", reason ? reason : "");
}

static int api__op_run_job(log_job *job, log_txn *txn);
static void api__op_done_job(log_job *job, int rc);

/* Check the event as it will be (id from a provisional ts; a correction's
 * from_plate is the writer's to find), then hand it to the writer. */
static enum MHD_Result api__op_submit(api__req *r, api__opw *w)
{
	char err[200];
	log_event chk = w->ev;

	log_event_id(chk.id, chk.origin, chk.ts, chk.plate);
	if (chk.type == LOG_EV_PLATE_CORRECTED)
		snprintf(chk.op.from_plate, sizeof chk.op.from_plate, "%s",
		    strcmp(chk.op.plate, "000000") == 0 ? "000001" : "000000");
	if (chk.type == LOG_EV_PLATE_CORRECTED && w->session[0] != '\0')
		snprintf(chk.op.plate, sizeof chk.op.plate, "000002");
	if (log_event_check(&chk, err, sizeof err) != 0) {
		free(w);
		return api__op_bad(r, "%s", err);
	}
	r->op = w;
	r->w.kind = API__W_OP;
	r->job.run = api__op_run_job;
	r->job.done = api__op_done_job;
	return api__submit(r);
}

/* ---- the writer ---------------------------------------------------------- */

static int api__op_fail(api__req *r, unsigned status, const char *fmt,
    const char *s)
{
	r->w.status = (int)status;
	snprintf(r->w.error, sizeof r->w.error, fmt, s);
	return 0;
}

/* A correction: the target must be an entry or exit in the log; it leaves
 * the plate it counts for now. Linking an exit: the plate of the session. */
static int api__op_correct_run(api__req *r, log_txn *txn, api__opw *w)
{
	const proj_ops *ops = proj_get_ops(r->srv->proj);
	log_event *ev = &w->ev, t;
	proj_session s;
	log_rec rec;
	int rc;

	if ((rc = log_txn_get_id(txn, ev->op.target, &rec)) == LOG_NOTFOUND)
		return api__op_fail(r, 404, "%s: no such event", ev->op.target);
	if (rc != 0 || (rc = log_event_decode_stored(rec.bytes, rec.len, &t)) != 0)
		return rc;
	if (t.type != LOG_EV_ENTRY_PENDING && t.type != LOG_EV_EXIT)
		return api__op_fail(r, 422, "%s: only an entry or an exit has a "
		    "plate to correct", ev->op.target);
	if (w->session[0] != '\0') {
		if ((rc = proj_session_get(r->srv->proj, txn, w->session, &s)) != 0)
			return rc == LOG_NOTFOUND ? api__op_fail(r, 404,
			    "%s: no such session", w->session) : rc;
		snprintf(ev->op.plate, sizeof ev->op.plate, "%s", s.plate);
		snprintf(ev->plate_view, sizeof ev->plate_view, "%s", s.plate_view);
	}
	proj_ops_plate_of(ops, t.id, t.plate, ev->op.from_plate);
	if (strcmp(ev->op.from_plate, ev->op.plate) == 0)
		return api__op_fail(r, 409, "%s: counts for that plate already",
		    ev->op.target);
	return 0;
}

static int api__op_check_run(api__req *r, log_txn *txn, api__opw *w)
{
	const proj_ops *ops = proj_get_ops(r->srv->proj);
	log_event *ev = &w->ev;
	proj_session s;
	proj_pass *ps = NULL;
	size_t n = 0, i;
	int rc;

	switch (ev->type) {
	case LOG_EV_PLATE_CORRECTED:
		return api__op_correct_run(r, txn, w);
	case LOG_EV_SESSION_VOIDED:
		if ((rc = proj_session_get(r->srv->proj, txn, ev->session, &s)) != 0)
			return rc == LOG_NOTFOUND ? api__op_fail(r, 404,
			    "%s: no such session", ev->session) : rc;
		if (s.flags & PROJ_S_VOIDED)
			return api__op_fail(r, 409, "%s: voided already", ev->session);
		snprintf(ev->op.plate, sizeof ev->op.plate, "%s", s.plate);
		return 0;
	case LOG_EV_PASS_REVOKED:
		if ((rc = proj_ops_passes(ops, ev->op.plate, &ps, &n)) != 0)
			return rc;
		for (i = 0; i < n && strcmp(ps[i].id, ev->op.pass) != 0; i++)
			;
		free(ps);
		return i == n ? api__op_fail(r, 404, "%s: no such pass of that "
		    "plate", ev->op.pass) : 0;
	default:
		return 0;
	}
}

static int api__op_run_job(log_job *job, log_txn *txn)
{
	api__req *r = job->arg;
	api__opw *w = r->op;
	log_event *ev = &w->ev;
	int rc;

	r->w.status = 200;
	r->w.error[0] = '\0';
	r->w.appended = 0;
	if ((rc = api__op_check_run(r, txn, w)) != 0 || r->w.status != 200)
		return rc;
	if ((rc = log_txn_next_ts(txn, ev->plate, r->w.now_ms, &ev->ts)) != 0)
		return rc;
	log_event_id(ev->id, ev->origin, ev->ts, ev->plate);
	if ((rc = log_txn_append_own(txn, ev)) != 0)
		return rc;
	snprintf(r->w.event_id, sizeof r->w.event_id, "%s", ev->id);
	r->w.appended = 1;
	return 0;
}

static void api__op_done_job(log_job *job, int rc)
{
	api__req *r = job->arg;

	if (rc != 0) {
		r->w.status = rc == LOG_ESTOPPED ? 503 : rc == LOG_ENOSPACE ? 507 : 500;
		r->w.appended = 0;
		snprintf(r->w.error, sizeof r->w.error, "log: %s", log_strerror(rc));
	} else if (r->w.appended) {
		msg_info("Operator %s: %s %s (%s)", r->account,
		    log_ev_type_name(((api__opw *)r->op)->ev.type), r->w.event_id,
		    ((api__opw *)r->op)->ev.op.reason);
	}
	r->state = API__RS_DONE;
	MHD_resume_connection(r->conn);	/* last: r may be freed after it */
}

enum MHD_Result api__op_reply(api__req *r)
{
	const api__opw *w = r->op;
	cJSON *o;

	if (r->w.status != 200)
		return api__reply_error(r, (unsigned)r->w.status, "%s", r->w.error);
	if ((o = api__ok()) == NULL)
		return api__reply_error(r, 500, "out of memory");
	cJSON_AddStringToObject(o, "event_id", r->w.event_id);
	cJSON_AddStringToObject(o, "type", log_ev_type_name(w->ev.type));
	cJSON_AddStringToObject(o, "operator", w->ev.op.op);
	if (w->ev.type == LOG_EV_PLATE_CORRECTED) {
		cJSON_AddStringToObject(o, "from_plate", w->ev.op.from_plate);
		cJSON_AddStringToObject(o, "to_plate", w->ev.op.plate);
	}
	return api__reply(r, MHD_HTTP_OK, o);
}

/* ---- writes --------------------------------------------------------------- */

/* The body as JSON (NULL: the answer is queued into *res), after the role
 * check. The caller deletes it. */
static cJSON *api__op_body(api__req *r, enum api_role role, enum MHD_Result *res)
{
	cJSON *b;

	if (api__role_need(r, role, res) != 0)
		return NULL;
	if ((b = cJSON_ParseWithLength(r->body ? r->body : "", r->len)) == NULL ||
	    !cJSON_IsObject(b)) {
		cJSON_Delete(b);
		*res = api__op_bad(r, "%s", "body: expected a JSON object");
		return NULL;
	}
	return b;
}

static api__opw *api__opw_new(void)
{
	return calloc(1, sizeof(api__opw));
}

/* A plate from the body into out: 0, or the answer is queued. */
static int api__op_plate(api__req *r, const char *in, char out[LOG_PLATE_MAX + 1],
    enum MHD_Result *res)
{
	char err[160];

	if (in == NULL || log_plate_normalise(in, out, err, sizeof err) != 0) {
		*res = api__op_bad(r, "plate: %s", in == NULL ? "missing" : err);
		return -1;
	}
	return 0;
}

/* correct {event_id, plate, plate_view?} or link {exit_id, session}. */
static enum MHD_Result api__op_correct(api__req *r, const cJSON *b,
    const char *target, const char *plate_in, const char *view)
{
	api__opw *w = api__opw_new();
	const char *session = api__jstr(b, "session");
	enum MHD_Result res;

	if (w == NULL)
		return api__reply_error(r, 500, "out of memory");
	if (target == NULL || strlen(target) > LOG_ID_MAX) {
		free(w);
		return api__op_bad(r, "%s", "event_id: missing or too long");
	}
	api__op_head(r, &w->ev, LOG_EV_PLATE_CORRECTED, "-", api__jstr(b, "reason"));
	snprintf(w->ev.op.target, sizeof w->ev.op.target, "%s", target);
	if (session != NULL && plate_in == NULL) {
		snprintf(w->session, sizeof w->session, "%s", session);
	} else if (api__op_plate(r, plate_in, w->ev.op.plate, &res) != 0) {
		free(w);
		return res;
	}
	snprintf(w->ev.plate_view, sizeof w->ev.plate_view, "%s",
	    view != NULL ? view : w->ev.op.plate[0] ? w->ev.op.plate : "-");
	return api__op_submit(r, w);
}

enum MHD_Result api__h_op_correct(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_OPERATOR, &res);
	const char *target;

	if (b == NULL)
		return res;
	target = api__jstr(b, "event_id");
	if (target == NULL)
		target = api__jstr(b, "exit_id");
	res = api__op_correct(r, b, target, api__jstr(b, "plate"),
	    api__jstr(b, "plate_view"));
	cJSON_Delete(b);
	return res;
}

static enum MHD_Result api__op_void(api__req *r, const char *session,
    const char *reason)
{
	api__opw *w;

	if (session == NULL || strlen(session) > LOG_ID_MAX)
		return api__op_bad(r, "%s", "session: missing or too long");
	if ((w = api__opw_new()) == NULL)
		return api__reply_error(r, 500, "out of memory");
	api__op_head(r, &w->ev, LOG_EV_SESSION_VOIDED, "-", reason);
	snprintf(w->ev.session, sizeof w->ev.session, "%s", session);
	snprintf(w->ev.op.plate, sizeof w->ev.op.plate, "000000");	/* the writer's */
	return api__op_submit(r, w);
}

enum MHD_Result api__h_op_void(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_OPERATOR, &res);

	if (b == NULL)
		return res;
	res = api__op_void(r, api__jstr(b, "session"), api__jstr(b, "reason"));
	cJSON_Delete(b);
	return res;
}

static enum MHD_Result api__op_pass(api__req *r, const cJSON *b, int revoke)
{
	api__opw *w = api__opw_new();
	const char *pass = api__jstr(b, "pass"), *veh = api__jstr(b, "vehicle"),
	    *kind = api__jstr(b, "kind");
	enum MHD_Result res;

	if (w == NULL)
		return api__reply_error(r, 500, "out of memory");
	api__op_head(r, &w->ev, revoke ? LOG_EV_PASS_REVOKED : LOG_EV_PASS_ISSUED,
	    "-", api__jstr(b, "reason"));
	if (api__op_plate(r, api__jstr(b, "plate"), w->ev.op.plate, &res) != 0) {
		free(w);
		return res;
	}
	snprintf(w->ev.plate_view, sizeof w->ev.plate_view, "%s", w->ev.op.plate);
	if (pass != NULL)
		snprintf(w->ev.op.pass, sizeof w->ev.op.pass, "%s", pass);
	else if (!revoke)	/* a new pass's id: its plate and the time */
		snprintf(w->ev.op.pass, sizeof w->ev.op.pass, "%s-%lld",
		    w->ev.op.plate, (long long)w->ev.ts);
	if (!revoke) {
		snprintf(w->ev.vehicle, sizeof w->ev.vehicle, "%s", veh ? veh : "any");
		snprintf(w->ev.op.kind, sizeof w->ev.op.kind, "%s", kind ? kind : "monthly");
		w->ev.op.valid_from = api__jint(b, "valid_from_ms", w->ev.ts);
		w->ev.op.valid_to = api__jint(b, "valid_to_ms",
		    w->ev.op.valid_from + 30LL * 86400000);
	}
	return api__op_submit(r, w);
}

enum MHD_Result api__h_op_pass(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_OPERATOR, &res);

	if (b == NULL)
		return res;
	res = api__op_pass(r, b, 0);
	cJSON_Delete(b);
	return res;
}

enum MHD_Result api__h_op_revoke(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_OPERATOR, &res);

	if (b == NULL)
		return res;
	res = api__op_pass(r, b, 1);
	cJSON_Delete(b);
	return res;
}

/* A JSON value as compact text into out (LOG_OP_JSON_MAX + 1): 0, or -1
 * if it is longer. */
static int api__op_json(const cJSON *v, char out[LOG_OP_JSON_MAX + 1])
{
	char *t = cJSON_PrintUnformatted(v);
	int rc = t != NULL && strlen(t) <= LOG_OP_JSON_MAX ? 0 : -1;

	if (rc == 0)
		memcpy(out, t, strlen(t) + 1);
	cJSON_free(t);
	return rc;
}

enum MHD_Result api__h_op_tariff(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_ADMIN, &res);
	const cJSON *tj;
	api__opw *w;
	proj_tariff t;
	char err[200];

	if (b == NULL)
		return res;
	tj = cJSON_GetObjectItemCaseSensitive(b, "tariff");
	if (!cJSON_IsObject(tj) || proj_tariff_parse(tj, &t, err, sizeof err) != 0) {
		res = api__op_bad(r, "tariff: %s", cJSON_IsObject(tj) ? err :
		    "expected an object (docs/tariff.md)");
	} else if ((w = api__opw_new()) == NULL) {
		res = api__reply_error(r, 500, "out of memory");
	} else {
		api__op_head(r, &w->ev, LOG_EV_TARIFF_SET, LOG_OP_PLATE_TARIFF,
		    api__jstr(b, "reason"));
		snprintf(w->ev.tariff, sizeof w->ev.tariff, "%s", t.name);
		w->ev.op.effective_from = api__jint(b, "effective_from_ms", w->ev.ts);
		if (api__op_json(tj, w->ev.op.value) != 0) {
			free(w);
			res = api__op_bad(r, "%s", "tariff: too long");
		} else {
			res = api__op_submit(r, w);
		}
	}
	cJSON_Delete(b);
	return res;
}

static enum MHD_Result api__op_setting(api__req *r, const char *section,
    const cJSON *value, const char *reason)
{
	api__opw *w = api__opw_new();

	if (w == NULL)
		return api__reply_error(r, 500, "out of memory");
	api__op_head(r, &w->ev, LOG_EV_SETTINGS_SET, LOG_OP_PLATE_SETTINGS, reason);
	snprintf(w->ev.op.section, sizeof w->ev.op.section, "%s",
	    section ? section : "");
	if (value == NULL || api__op_json(value, w->ev.op.value) != 0) {
		free(w);
		return api__op_bad(r, "%s", "value: missing or too long");
	}
	return api__op_submit(r, w);
}

enum MHD_Result api__h_op_settings(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_ADMIN, &res);

	if (b == NULL)
		return res;
	res = api__op_setting(r, api__jstr(b, "section"),
	    cJSON_GetObjectItemCaseSensitive(b, "value"), api__jstr(b, "reason"));
	cJSON_Delete(b);
	return res;
}

/* The seed's PUT (correct the row's plate; the row's first event, its
 * entry or its lone exit) and DELETE (void the row). */
enum MHD_Result api__h_seed_history_put(api__req *r)
{
	const char *id = r->url + strlen("/api/parking/history/");
	enum MHD_Result res;
	cJSON *b;

	if ((b = api__op_body(r, API_ROLE_OPERATOR, &res)) == NULL)
		return res;
	if (api__jstr(b, "reason") == NULL)
		cJSON_AddStringToObject(b, "reason", "corrected in the console");
	if (api__jstr(b, "plate_id") == NULL)
		res = api__op_bad(r, "%s", "plate_id: missing");
	else
		res = api__op_correct(r, b, id, api__jstr(b, "plate_id"),
		    api__jstr(b, "plate_view"));
	cJSON_Delete(b);
	return res;
}

enum MHD_Result api__h_seed_history_delete(api__req *r)
{
	const char *id = r->url + strlen("/api/parking/history/");
	enum MHD_Result res;

	if (api__role_need(r, API_ROLE_OPERATOR, &res) != 0)
		return res;
	return api__op_void(r, id, "deleted in the console");
}

/* ---- reads ---------------------------------------------------------------- */

static const char *api__op_arg(api__req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* ?plate= normalised into out ("" if absent): 0, or the answer is queued. */
static int api__op_plate_arg(api__req *r, char out[LOG_PLATE_MAX + 1],
    enum MHD_Result *res)
{
	const char *p = api__op_arg(r, "plate");

	out[0] = '\0';
	return p == NULL ? 0 : api__op_plate(r, p, out, res);
}

enum MHD_Result api__h_op_passes(api__req *r)
{
	const proj_ops *ops = proj_get_ops(r->srv->proj);
	char plate[LOG_PLATE_MAX + 1];
	int64_t now = api__now_ms();
	enum MHD_Result res;
	proj_pass *ps = NULL;
	size_t n = 0;
	cJSON *o, *a;

	if (api__op_plate_arg(r, plate, &res) != 0)
		return res;
	if (proj_ops_passes(ops, plate[0] ? plate : NULL, &ps, &n) != 0 ||
	    (o = api__ok()) == NULL) {
		free(ps);
		return api__reply_error(r, 500, "out of memory");
	}
	a = cJSON_AddArrayToObject(o, "passes");
	for (size_t i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();

		cJSON_AddStringToObject(p, "pass", ps[i].id);
		cJSON_AddStringToObject(p, "plate_id", ps[i].plate);
		cJSON_AddStringToObject(p, "vehicle", ps[i].vehicle);
		cJSON_AddStringToObject(p, "kind", ps[i].kind);
		cJSON_AddNumberToObject(p, "valid_from_ms", (double)ps[i].valid_from);
		cJSON_AddNumberToObject(p, "valid_to_ms", (double)ps[i].valid_to);
		cJSON_AddNumberToObject(p, "revoked_ms", (double)ps[i].revoked_at);
		cJSON_AddStringToObject(p, "issued_by", ps[i].op);
		cJSON_AddStringToObject(p, "event_id", ps[i].event_id);
		cJSON_AddBoolToObject(p, "in_force", ps[i].valid_from <= now &&
		    now < ps[i].valid_to && (ps[i].revoked_at < 0 || ps[i].revoked_at > now));
		cJSON_AddItemToArray(a, p);
	}
	free(ps);
	return api__reply(r, MHD_HTTP_OK, o);
}

enum MHD_Result api__h_op_tariff_get(api__req *r)
{
	const proj_ops *ops = proj_get_ops(r->srv->proj);
	char id[LOG_ID_MAX + 1], *v = malloc(LOG_OP_JSON_MAX + 1);
	proj_tariff now;
	int64_t from;
	cJSON *o, *a;

	if (v == NULL || (o = api__ok()) == NULL) {
		free(v);
		return api__reply_error(r, 500, "out of memory");
	}
	proj_ops_tariff_at(ops, &r->pol->tariff, api__now_ms(), &now);
	cJSON_AddStringToObject(o, "in_force", now.name);
	cJSON_AddStringToObject(o, "config_tariff", r->pol->tariff.name);
	a = cJSON_AddArrayToObject(o, "schedule");
	for (size_t i = 0; proj_ops_tariff_get(ops, i, &from, id, v) == 0; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddNumberToObject(e, "effective_from_ms", (double)from);
		cJSON_AddStringToObject(e, "event_id", id);
		cJSON_AddItemToObject(e, "tariff", cJSON_Parse(v));
		cJSON_AddItemToArray(a, e);
	}
	free(v);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* Our change trail and the seed's shape in one: newest first. */
enum MHD_Result api__h_op_changes(api__req *r)
{
	const proj_ops *ops = proj_get_ops(r->srv->proj);
	const int tz = r->pol->tariff.tz_offset_min;
	char plate[LOG_PLATE_MAX + 1];
	enum MHD_Result res;
	proj_change *c = NULL;
	size_t n = 0;
	cJSON *o, *a;

	if (api__op_plate_arg(r, plate, &res) != 0)
		return res;
	if (proj_ops_changes(ops, plate[0] ? plate : NULL, &c, &n) != 0 ||
	    (o = api__ok()) == NULL) {
		free(c);
		return api__reply_error(r, 500, "out of memory");
	}
	cJSON_AddNumberToObject(o, "count", (double)n);
	a = cJSON_AddArrayToObject(o, "changes");
	for (size_t i = n; i-- > 0;) {
		cJSON *e = cJSON_CreateObject();
		int corr = c[i].type == LOG_EV_PLATE_CORRECTED;

		cJSON_AddStringToObject(e, "id", c[i].event_id);
		cJSON_AddStringToObject(e, "history_id", c[i].target);
		cJSON_AddStringToObject(e, "change_type", corr ? "UPDATE" : "DELETE");
		cJSON_AddStringToObject(e, "old_plate_id", corr ? c[i].from_plate : c[i].to_plate);
		cJSON_AddStringToObject(e, "new_plate_id", corr ? c[i].to_plate : "");
		cJSON_AddStringToObject(e, "operator", c[i].op);
		cJSON_AddStringToObject(e, "reason", c[i].reason);
		api__add_time(e, "changed_at", c[i].ts, tz);
		cJSON_AddItemToArray(a, e);
	}
	free(c);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* Edit distance of two short plates, capped at 3 (enough for "1 or 2"). */
static int api__op_dist(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int d[LOG_PLATE_MAX + 1][LOG_PLATE_MAX + 1];

	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			int s = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			int x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;

			d[i][j] = s < x ? (s < y ? s : y) : (x < y ? x : y);
		}
	return d[la][lb] > 3 ? 3 : d[la][lb];
}

typedef struct api__cand_ctx {
	const char *plate;
	cJSON *a;
	int tz;
} api__cand_ctx;

static int api__op_cand(void *ctx, const proj_session *s)
{
	api__cand_ctx *c = ctx;
	int d = api__op_dist(c->plate, s->plate);
	cJSON *e;

	if (d == 0 || d > 2)
		return 0;
	if ((e = cJSON_CreateObject()) == NULL)
		return ENOMEM;
	cJSON_AddStringToObject(e, "session", s->id);
	cJSON_AddStringToObject(e, "plate_id", s->plate);
	cJSON_AddStringToObject(e, "plate_view", s->plate_view);
	cJSON_AddNumberToObject(e, "distance", d);
	api__add_time(e, "entry_time", s->entry_ts, c->tz);
	cJSON_AddItemToArray(c->a, e);
	return 0;
}

/* "Did you mean": plates inside within one or two characters of ?plate. */
enum MHD_Result api__h_op_candidates(api__req *r)
{
	char plate[LOG_PLATE_MAX + 1];
	api__cand_ctx c;
	enum MHD_Result res;
	log_txn *t;
	cJSON *o;
	int rc;

	if (api__op_plate_arg(r, plate, &res) != 0)
		return res;
	if (plate[0] == '\0')
		return api__op_bad(r, "%s", "plate: missing");
	if ((o = api__ok()) == NULL)
		return api__reply_error(r, 500, "out of memory");
	c = (api__cand_ctx){ plate, cJSON_AddArrayToObject(o, "candidates"),
	    r->pol->tariff.tz_offset_min };
	if ((rc = log_txn_begin(r->srv->store, 0, &t)) != 0) {
		cJSON_Delete(o);
		return api__reply_store_error(r, rc);
	}
	rc = proj_each_inside(r->srv->proj, t, api__op_cand, &c);
	log_txn_abort(t);
	if (rc != 0) {
		cJSON_Delete(o);
		return api__reply_store_error(r, rc);
	}
	return api__reply(r, MHD_HTTP_OK, o);
}

/* ---- the seed's staff and subscriptions ---------------------------------- */

/* GET /api/staff: the "staff" setting ([] if never set). */
enum MHD_Result api__h_seed_staff_get(api__req *r)
{
	char *v = malloc(LOG_OP_JSON_MAX + 1);
	cJSON *o = api__ok(), *s;

	if (v == NULL || o == NULL) {
		free(v);
		cJSON_Delete(o);
		return api__reply_error(r, 500, "out of memory");
	}
	s = proj_ops_setting(proj_get_ops(r->srv->proj), "staff", v) ? cJSON_Parse(v) : NULL;
	cJSON_AddItemToObject(o, "staff", s != NULL ? s : cJSON_CreateArray());
	cJSON_AddStringToObject(o, "source", "log");
	free(v);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* PUT /api/staff {staff: [...]}: a SETTINGS_SET "staff" (admin). */
enum MHD_Result api__h_seed_staff_put(api__req *r)
{
	enum MHD_Result res;
	cJSON *b = api__op_body(r, API_ROLE_ADMIN, &res);
	const cJSON *s;

	if (b == NULL)
		return res;
	s = cJSON_GetObjectItemCaseSensitive(b, "staff");
	res = cJSON_IsArray(s) ? api__op_setting(r, "staff", s, "staff list "
	    "saved in the console") : api__op_bad(r, "%s", "staff: expected a list");
	cJSON_Delete(b);
	return res;
}

static void api__op_date(int64_t ms, int tz, char out[16])
{
	char iso[32];

	api__iso(ms, tz, iso);
	snprintf(out, 16, "%.10s", iso);
}

/* GET /api/subscriptions: the passes in the seed's record shape. */
enum MHD_Result api__h_seed_subs_get(api__req *r)
{
	const int tz = r->pol->tariff.tz_offset_min;
	int64_t now = api__now_ms();
	proj_pass *ps = NULL;
	size_t n = 0;
	cJSON *o, *a;

	if (proj_ops_passes(proj_get_ops(r->srv->proj), NULL, &ps, &n) != 0 ||
	    (o = api__ok()) == NULL) {
		free(ps);
		return api__reply_error(r, 500, "out of memory");
	}
	a = cJSON_AddArrayToObject(o, "subscriptions");
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		char d[16];
		int active = ps[i].valid_from <= now && now < ps[i].valid_to &&
		    (ps[i].revoked_at < 0 || ps[i].revoked_at > now);

		cJSON_AddStringToObject(e, "id", ps[i].id);
		cJSON_AddStringToObject(e, "plate_number", ps[i].plate);
		cJSON_AddStringToObject(e, "type", ps[i].kind);
		cJSON_AddStringToObject(e, "status", active ? "active" : "inactive");
		api__op_date(ps[i].valid_from, tz, d);
		cJSON_AddStringToObject(e, "start_date", d);
		api__op_date(ps[i].valid_to - 1, tz, d);
		cJSON_AddStringToObject(e, "end_date", d);
		cJSON_AddStringToObject(e, "note", ps[i].op);
		cJSON_AddItemToArray(a, e);
	}
	free(ps);
	cJSON_AddStringToObject(o, "source", "log");
	return api__reply(r, MHD_HTTP_OK, o);
}
