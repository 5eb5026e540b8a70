/* api/edge.c — the edge endpoints: validate, authorise, then either answer
 * from a read transaction (detection, heartbeat) or hand the write to the
 * writer (barrier open/close, Phase 1 events) and answer after the commit. */
#include "api/internal.h"
#include "msg/msg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"

static enum MHD_Result api__bad(api__req *r, const char *err)
{
	return api__reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
}

static const char *api__dir_name(enum api_direction d)
{
	return d == API_DIR_EXIT ? "EXIT" : "ENTRY";
}

/* What the gate's reader knows beyond the body: the last detection of
 * this plate at this edge, then the edge's configured class. */
static void api__fill_write(api__req *r, const char *edge_id, const char *plate,
    const char *view, const char *vehicle, int conf_milli)
{
	api__write *w = &r->w;
	api_detection d;
	int have = api__cameras_last_detection(r->srv->cams, edge_id, plate,
	    api__now_ms(), &d) == 0;

	snprintf(w->edge_id, sizeof w->edge_id, "%s", edge_id);
	snprintf(w->plate, sizeof w->plate, "%s", plate);
	snprintf(w->plate_view, sizeof w->plate_view, "%s",
	    view[0] ? view : have ? d.plate_view : "");
	snprintf(w->vehicle, sizeof w->vehicle, "%s", vehicle[0] ? vehicle :
	    have && d.vehicle[0] ? d.vehicle : r->edge ? r->edge->vehicle : "");
	w->conf_milli = conf_milli >= 0 ? conf_milli : have ? d.conf_milli : -1;
	w->dir = r->edge != NULL ? r->edge->direction : API_DIR_NONE;
}

/* ---- detection ----------------------------------------------------------- */

static void api__exit_info(api__req *r, cJSON *vi, const proj_session *in,
    int64_t now)
{
	const proj_tariff *t = &r->pol->tariff;
	int64_t fee, stay;
	char dur[32];

	cJSON_AddBoolToObject(vi, "has_entry", in != NULL);
	if (in == NULL) {
		cJSON_AddStringToObject(vi, "message", "no entry record");
		cJSON_AddNumberToObject(vi, "fee", (double)t->unknown_entry_fee);
		return;
	}
	stay = (now > in->entry_ts ? now - in->entry_ts : 0) / 1000;
	api__duration(stay, dur);
	cJSON_AddStringToObject(vi, "duration", dur);
	cJSON_AddNumberToObject(vi, "duration_s", (double)stay);
	if (proj_tariff_fee(t, in->vehicle, in->entry_ts,
	    now > in->entry_ts ? now : in->entry_ts + 1, &fee) == 0)
		cJSON_AddNumberToObject(vi, "fee", (double)fee);
}

static cJSON *api__vehicle_info(api__req *r, const api_detection *d,
    enum api_direction dir, const proj_session *in, int64_t now)
{
	int tz = r->pol->tariff.tz_offset_min;
	cJSON *vi = cJSON_CreateObject();

	if (vi == NULL)
		return NULL;
	cJSON_AddStringToObject(vi, "plate_id", d->plate);
	cJSON_AddStringToObject(vi, "plate_view", d->plate_view);
	cJSON_AddStringToObject(vi, "direction", api__dir_name(dir));
	cJSON_AddStringToObject(vi, "camera_type", d->vehicle[0] ? d->vehicle :
	    in != NULL ? in->vehicle : "car");
	cJSON_AddBoolToObject(vi, "already_inside", in != NULL);
	if (in != NULL) {
		api__add_time(vi, "entry_time", in->entry_ts, tz);
		cJSON_AddStringToObject(vi, "entry_from", in->entry_edge);
		cJSON_AddStringToObject(vi, "session_id", in->id);
	}
	if (dir == API_DIR_EXIT)
		api__exit_info(r, vi, in, now);
	return vi;
}

/* The fee the detection's answer computed (-1 if none). */
static int64_t api__fee_of(const cJSON *vi, int inside)
{
	const cJSON *fee = cJSON_GetObjectItemCaseSensitive(vi, "fee");

	return inside && cJSON_IsNumber(fee) ? (int64_t)fee->valuedouble : -1;
}

/* An auto-open rule holds: the central opens the barrier as an operator
 * would (the same write, so the same decisions and idempotency), and the
 * detection's answer gains "auto_open" with the open's answer. */
static enum MHD_Result api__auto_open(api__req *r, const api_detection *d, cJSON *det)
{
	r->detection = det;
	r->w.kind = API__W_OPEN;
	api__fill_write(r, d->edge_id, d->plate, d->plate_view, d->vehicle, d->conf_milli);
	msg_info("auto-open at %s for %s", d->edge_id, d->plate);
	return api__submit(r);
}

enum MHD_Result api__h_detection(api__req *r)
{
	api_detection d;
	proj_session in;
	enum api_direction dir;
	enum MHD_Result res;
	log_txn *t;
	cJSON *o, *vi;
	char err[200];
	int64_t now = api__now_ms();
	int rc;

	if (api_parse_detection(r->body, r->len, &d, err, sizeof err) != 0)
		return api__bad(r, err);
	if (api__auth_edge(r, d.edge_id, &res) != 0)
		return res;
	if ((rc = log_txn_begin(r->srv->store, 0, &t)) != 0)
		return api__reply_store_error(r, rc);
	rc = proj_inside_get(r->srv->proj, t, d.plate, &in);
	log_txn_abort(t);
	if (rc != 0 && rc != LOG_NOTFOUND)
		return api__reply_store_error(r, rc);
	dir = d.direction == API_REQ_DIR_ENTRY ? API_DIR_ENTRY :
	    d.direction == API_REQ_DIR_EXIT ? API_DIR_EXIT :
	    r->edge != NULL && r->edge->direction != API_DIR_NONE ?
	    r->edge->direction : rc == 0 ? API_DIR_EXIT : API_DIR_ENTRY;
	api__cameras_detect(r->srv->cams, &d, now);
	vi = api__vehicle_info(r, &d, dir, rc == 0 ? &in : NULL, now);
	if ((o = api__ok()) == NULL || vi == NULL) {
		cJSON_Delete(vi);
		cJSON_Delete(o);
		return api__reply(r, 500, NULL);
	}
	cJSON_AddBoolToObject(o, "allowed", dir == API_DIR_EXIT || rc != 0);
	cJSON_AddItemToObject(o, "vehicle_info", vi);
	api__events_detection(r->srv, &d, o, now, r->pol->tariff.tz_offset_min);
	if (api_auto_open(r->edge, dir, d.conf_milli, rc == 0,
	    api__fee_of(vi, rc == 0)))
		return api__auto_open(r, &d, o);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* ---- writes -------------------------------------------------------------- */

/* The gate's time of the action, if the central can defend it (bounds:
 * api/edgetime.h, docs/time.md); else the event gets the central's time
 * alone, and the refusal is counted (/metrics), said (a message) and
 * answered ("edge_ts_refused"). */
static void api__edge_ts_take(api__req *r, int64_t edge_ts)
{
	int64_t now = api__now_ms();
	enum api_ts_verdict v;

	r->w.edge_ts = r->w.edge_ts_refused = 0;
	if (edge_ts <= 0)
		return;
	v = api__cameras_judge(r->srv->cams, r->w.edge_id, &r->pol->time, edge_ts, now);
	atomic_fetch_add(&r->srv->m.edge_ts[v], 1);
	if (v == API_TS_OK) {
		r->w.edge_ts = edge_ts;
		return;
	}
	r->w.edge_ts_refused = edge_ts;
	r->w.edge_ts_why = v;
	msg_warnx("edge %s: %s: its time %" PRId64 " (%+" PRId64 " ms from ours) "
	    "refused (%s); recorded at the central's time", r->w.edge_id,
	    r->w.plate, edge_ts, edge_ts - now, api_ts_reason(v));
}

static enum MHD_Result api__barrier(api__req *r, enum api__wkind kind)
{
	const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "Idempotency-Key");
	enum MHD_Result res;
	api_barrier b;
	char err[200];

	if (api_parse_barrier(r->body, r->len, kind == API__W_OPEN ? "open" : "close",
	    &b, err, sizeof err) != 0)
		return api__bad(r, err);
	if (api__auth_edge(r, b.edge_id, &res) != 0)
		return res;
	if (kind == API__W_OPEN && key != NULL) {
		if (api_parse_idem_key(key, err, sizeof err) != 0)
			return api__bad(r, err);
		snprintf(r->w.idem, sizeof r->w.idem, "k|%s|%s", b.edge_id, key);
	}
	r->w.kind = kind;
	api__fill_write(r, b.edge_id, b.plate, b.plate_view, b.vehicle, b.conf_milli);
	/* an action the gate queued while we were unreachable: when it was */
	api__edge_ts_take(r, api_timestamp_ms(&b.when, r->pol->tariff.tz_offset_min));
	return api__submit(r);
}

enum MHD_Result api__h_open(api__req *r)
{
	return api__barrier(r, API__W_OPEN);
}

enum MHD_Result api__h_close(api__req *r)
{
	return api__barrier(r, API__W_CLOSE);
}

/* Phase 1 DETECTION: what the gate should know, nothing appended. */
static enum MHD_Result api__event1_detection(api__req *r, const api_event1 *e)
{
	proj_session in;
	log_txn *t;
	cJSON *o;
	int rc;

	if ((rc = log_txn_begin(r->srv->store, 0, &t)) != 0)
		return api__reply_store_error(r, rc);
	rc = proj_inside_get(r->srv->proj, t, e->plate, &in);
	log_txn_abort(t);
	if (rc != 0 && rc != LOG_NOTFOUND)
		return api__reply_store_error(r, rc);
	if ((o = api__ok()) == NULL)
		return api__reply(r, 500, NULL);
	cJSON_AddStringToObject(o, "action", "DETECTION");
	cJSON_AddStringToObject(o, "plate_id", e->plate);
	cJSON_AddStringToObject(o, "plate_view", e->plate_view);
	cJSON_AddBoolToObject(o, "already_inside", rc == 0);
	return api__reply(r, MHD_HTTP_OK, o);
}

void api__event1_prepare(api__req *r, const api_event1 *e)
{
	/* the seed's camera_type is the gate's role, not a vehicle class */
	int role = strcmp(e->vehicle, "entry") == 0 || strcmp(e->vehicle, "exit") == 0 ||
	    strcmp(e->vehicle, "parking_lot") == 0;

	r->w.kind = API__W_EVENT1;
	api__fill_write(r, e->edge_id, e->plate, e->plate_view, role ? "" : e->vehicle,
	    e->conf_milli);
	r->w.dir = e->type == API_EV1_ENTRY ? API_DIR_ENTRY : API_DIR_EXIT;
	if (e->event_id[0] != '\0')
		snprintf(r->w.idem, sizeof r->w.idem, "e|%s|%s", e->edge_id, e->event_id);
	/* queued at the gate while we were away: when it happened */
	api__edge_ts_take(r, api_timestamp_ms(&e->when, r->pol->tariff.tz_offset_min));
}

/* The seed's edge resends anything but a 200, for ever: a refusal that
 * will not change answers 200 with success false (docs/seed-compat.md). */
static enum MHD_Result api__event1_refuse(api__req *r, unsigned status,
    const char *err)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return api__reply(r, 500, NULL);
	cJSON_AddFalseToObject(o, "success");
	cJSON_AddStringToObject(o, "error", err);
	cJSON_AddBoolToObject(o, "refused", 1);
	cJSON_AddNumberToObject(o, "refusal_status", status);
	return api__reply(r, MHD_HTTP_OK, o);
}

enum MHD_Result api__h_event1(api__req *r)
{
	enum MHD_Result res;
	api_event1 e;
	char err[200];

	if (api_parse_event1(r->body, r->len, &e, err, sizeof err) != 0)
		return api__event1_refuse(r, MHD_HTTP_BAD_REQUEST, err);
	if (api__auth_edge(r, e.edge_id, &res) != 0)
		return res;
	if (e.type == API_EV1_DETECTION)
		return api__event1_detection(r, &e);
	if (e.type >= API_EV1_UPDATE)
		return api__event1_refuse(r, MHD_HTTP_NOT_IMPLEMENTED,
		    "UPDATE, DELETE and LOCATION_UPDATE are not supported by "
		    "parklog yet (issue 14): not recorded");
	api__event1_prepare(r, &e);
	return api__submit(r);
}

enum MHD_Result api__h_heartbeat(api__req *r)
{
	enum MHD_Result res;
	api_heartbeat hb;
	char err[200];
	cJSON *o;

	if (api_parse_heartbeat(r->body, r->len, &hb, err, sizeof err) != 0)
		return api__bad(r, err);
	if (api__auth_edge(r, hb.edge_id, &res) != 0)
		return res;
	api__cameras_heartbeat(r->srv->cams, &hb,
	    api_timestamp_ms(&hb.when, r->pol->tariff.tz_offset_min), api__now_ms());
	api__events_camera(r->srv, hb.edge_id, hb.status, api__now_ms(),
	    r->pol->tariff.tz_offset_min);
	if ((o = api__ok()) == NULL)
		return api__reply(r, 500, NULL);
	cJSON_AddStringToObject(o, "camera_id", hb.edge_id);
	cJSON_AddStringToObject(o, "status", "online");
	return api__reply(r, MHD_HTTP_OK, o);
}

/* ---- answers to writes (after the commit) ---------------------------------- */

static enum MHD_Result api__write_error(api__req *r)
{
	api__write *w = &r->w;
	int tz = r->pol->tariff.tz_offset_min;
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return api__reply(r, 500, NULL);
	cJSON_AddFalseToObject(o, "success");
	cJSON_AddStringToObject(o, "error", w->error);
	if (w->kind == API__W_EVENT1 && (w->status == 400 || w->status == 409 ||
	    w->status == 422)) {
		/* final: the edge must not resend it (api__event1_refuse) */
		cJSON_AddBoolToObject(o, "refused", 1);
		cJSON_AddNumberToObject(o, "refusal_status", w->status);
	}
	if (w->status == 409 && w->session[0] != '\0') {
		cJSON_AddBoolToObject(o, "already_inside", 1);
		cJSON_AddStringToObject(o, "event_id", w->session);
		cJSON_AddStringToObject(o, "plate_id", w->plate);
		cJSON_AddStringToObject(o, "plate_view", w->out_view);
		cJSON_AddStringToObject(o, "entry_from", w->entry_edge);
		api__add_time(o, "entry_time", w->entry_ts, tz);
	}
	return api__reply(r, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "refused")) ? MHD_HTTP_OK : (unsigned)w->status, o);
}

/* The hot path formats by hand: every string here passed the log's rules
 * (ids, plates, plate_view: no '"', '\\' or control characters), so no
 * escaping is needed, and no cJSON tree is built per request. */
typedef struct api__jb {
	char *p;
	size_t n, cap;
} api__jb;

static void api__jb_add(api__jb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void api__jb_add(api__jb *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->n >= b->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n = k < 0 ? b->cap : b->n + (size_t)k;
}

static void api__jb_time(api__jb *b, const char *key, int64_t ms, int tz)
{
	char iso[32];

	if (ms < 0) {
		api__jb_add(b, ",\"%s\":null,\"%s_ms\":null", key, key);
		return;
	}
	api__iso(ms, tz, iso);
	api__jb_add(b, ",\"%s\":\"%s\",\"%s_ms\":%" PRId64, key, iso, key, ms);
}

static void api__jb_exit(api__jb *b, const api__write *w, int tz)
{
	char dur[32];

	api__jb_add(b, ",\"has_entry\":%s,\"fee\":%" PRId64,
	    w->has_entry ? "true" : "false", w->fee);
	if (w->duration_s >= 0) {
		api__duration(w->duration_s, dur);
		api__jb_add(b, ",\"duration\":\"%s\",\"duration_s\":%" PRId64,
		    dur, w->duration_s);
	} else {
		api__jb_add(b, ",\"duration\":null,\"duration_s\":null");
	}
	api__jb_time(b, "entry_time", w->entry_ts, tz);
	api__jb_time(b, "exit_time", w->ts, tz);
	api__jb_add(b, ",\"exit_event_id\":\"%s\"", w->event_id);
}

/* "barrier": what the gate channel made of the command. */
static void api__jb_barrier(api__jb *b, const api__write *w)
{
	const api_gate_result *g = &w->barrier;

	api__jb_add(b, ",\"barrier\":{\"command\":\"%s\",\"sent\":%s,\"acked\":%s,"
	    "\"ok\":%s", w->kind == API__W_OPEN ? "open" : "close",
	    g->sent ? "true" : "false", g->acked ? "true" : "false",
	    g->ok ? "true" : "false");
	if (g->sent)
		api__jb_add(b, ",\"ms\":%u", g->ms);
	if (!g->ok)
		api__jb_add(b, ",\"reason\":\"%s\"", g->reason);
	api__jb_add(b, "}");
}

/* The seed's shapes: open {action, event_id (the session), fee, duration};
 * Phase 1 {action, plate_id, plate_view, entry_time, ...}; plus ours. */
static char *api__write_ok_text(api__req *r, size_t *len)
{
	static const char *act[] = { "NONE", "ENTRY", "EXIT", "CONFIRM" };
	api__write *w = &r->w;
	int tz = r->pol->tariff.tz_offset_min;
	api__jb b = { .p = malloc(2048), .cap = 2048 };

	if (b.p == NULL)
		return NULL;
	api__jb_add(&b, "{\"success\":true,\"action\":\"%s\"", act[w->action]);
	if (w->session[0] != '\0')
		api__jb_add(&b, ",\"event_id\":\"%s\"", w->session);
	else
		api__jb_add(&b, ",\"event_id\":null");
	api__jb_add(&b, ",\"plate_id\":\"%s\"", w->plate);
	if (w->out_view[0] != '\0')
		api__jb_add(&b, ",\"plate_view\":\"%s\"", w->out_view);
	if (w->action == API__ACT_ENTRY)
		api__jb_time(&b, "entry_time", w->ts, tz);
	else if (w->action == API__ACT_EXIT)
		api__jb_exit(&b, w, tz);
	if (w->kind == API__W_CLOSE)
		api__jb_add(&b, ",\"confirmed\":%s",
		    w->action == API__ACT_CONFIRM ? "true" : "false");
	if (w->barrier_asked)
		api__jb_barrier(&b, w);
	if (w->edge_ts_refused > 0 && !w->replayed)
		api__jb_add(&b, ",\"edge_ts_refused\":{\"edge_ts\":%" PRId64
		    ",\"reason\":\"%s\"}", w->edge_ts_refused,
		    api_ts_reason(w->edge_ts_why));
	api__jb_add(&b, ",\"idempotent_replay\":%s%s}", w->replayed ? "true" : "false",
	    w->kind == API__W_EVENT1 && w->replayed ? ",\"deduped\":true" : "");
	if (b.n >= b.cap) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

static enum MHD_Result api__write_ok(api__req *r)
{
	size_t n;
	char *t = api__write_ok_text(r, &n);

	if (t == NULL)
		return api__reply_error(r, 500, "reply too long or out of memory");
	return api__reply_text(r, MHD_HTTP_OK, t, n, "application/json");
}

/* The same answer as a cJSON tree (NULL on failure). */
static cJSON *api__write_ok_json(api__req *r)
{
	size_t n;
	char *t = api__write_ok_text(r, &n);
	cJSON *o = t != NULL ? cJSON_ParseWithLength(t, n) : NULL;

	free(t);
	return o;
}

/* A detection that auto-opened: its answer with "auto_open" (the open's
 * answer, success or not). */
static enum MHD_Result api__auto_open_reply(api__req *r)
{
	cJSON *det = r->detection, *open;
	char *txt;

	r->detection = NULL;	/* the reply owns it now */
	open = r->w.status == 200 ? api__write_ok_json(r) : NULL;
	if (open == NULL) {
		open = cJSON_CreateObject();
		cJSON_AddFalseToObject(open, "success");
		cJSON_AddStringToObject(open, "error", r->w.error);
	}
	cJSON_AddItemToObject(det, "auto_open", open);
	txt = cJSON_PrintUnformatted(det);
	cJSON_Delete(det);
	if (txt == NULL)
		return api__reply(r, 500, NULL);
	return api__reply_text(r, MHD_HTTP_OK, txt, strlen(txt), "application/json");
}

enum MHD_Result api__write_reply(api__req *r)
{
	if (r->detection != NULL)
		return api__auto_open_reply(r);
	return r->w.status == 200 ? api__write_ok(r) : api__write_error(r);
}
