/* api/query.c — the operator's read-only endpoints: one short read
 * transaction per request, projections queried, JSON answered. */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API__LIST_DEFAULT 1000	/* rows of state/conflicts unless ?limit= */

static int api__tz(const api__req *r)
{
	return r->pol->tariff.tz_offset_min;
}

static const char *api__arg(void *ctx, const char *key)
{
	api__req *r = ctx;

	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* ?limit= for list endpoints: default API__LIST_DEFAULT. 0 or -1. */
static int api__list_limit(api__req *r, size_t *limit)
{
	const char *v = api__arg(r, "limit");
	char *end;
	unsigned long long n;

	*limit = API__LIST_DEFAULT;
	if (v == NULL)
		return 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n > API_HIST_LIMIT_MAX)
		return -1;
	*limit = (size_t)n;
	return 0;
}

/* Start (ms) of the facility-local day of `now`, and of the next. */
static void api__today(api__req *r, int64_t now, int64_t *from, int64_t *to)
{
	int32_t day = proj_local_day(r->srv->proj, now);

	*from = (int64_t)day * 86400000 - (int64_t)api__tz(r) * 60000;
	*to = *from + 86400000;
}

/* The seed's stats object. */
static cJSON *api__stats_json(api__req *r, log_txn *t, int64_t now, int *rc)
{
	proj_summary sum;
	proj_day day;
	cJSON *o;

	if ((*rc = proj_summary_get(r->srv->proj, t, &sum)) != 0 ||
	    (*rc = proj_day_get(r->srv->proj, t, proj_local_day(r->srv->proj, now),
	    &day)) != 0)
		return NULL;
	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "vehicles_in_parking", (double)sum.inside);
	cJSON_AddNumberToObject(o, "entries_today", (double)day.entries);
	cJSON_AddNumberToObject(o, "exits_today", (double)day.exits);
	cJSON_AddNumberToObject(o, "revenue_today", (double)day.revenue);
	cJSON_AddNumberToObject(o, "sessions", (double)sum.sessions);
	cJSON_AddNumberToObject(o, "conflicts", (double)sum.conflicts);
	cJSON_AddNumberToObject(o, "revenue_total", (double)sum.revenue);
	return o;
}

/* Run fn(r, t, o) in a read transaction over {"success":true}, answer. */
typedef int (*api__reader)(api__req *r, log_txn *t, cJSON *o);

static enum MHD_Result api__read(api__req *r, api__reader fn)
{
	cJSON *o = api__ok();
	log_txn *t = NULL;
	int rc;

	if (o == NULL)
		return api__reply(r, 500, NULL);
	if ((rc = log_txn_begin(r->srv->store, 0, &t)) == 0) {
		rc = fn(r, t, o);
		log_txn_abort(t);
	}
	if (rc == 0)
		return api__reply(r, MHD_HTTP_OK, o);
	cJSON_Delete(o);
	if (rc == -1)		/* fn already queued its own answer */
		return MHD_YES;
	return rc == ENOMEM ? api__reply(r, 500, NULL) : api__reply_store_error(r, rc);
}

/* ---- history --------------------------------------------------------------- */

typedef struct api__hist {
	api__req *r;
	const api_history_q *q;
	cJSON *arr;
	size_t skipped;
	int64_t now;
} api__hist;

static int api__hist_match(const api_history_q *q, const proj_session *s)
{
	int closed = (s->flags & PROJ_S_CLOSED) != 0;
	char view[LOG_VIEW_MAX + 1];

	if ((q->status == API_HIST_IN || q->in_parking_only) && closed)
		return 0;
	if (q->status == API_HIST_OUT && !closed)
		return 0;
	if (q->entries_only && s->entry_ts < 0)
		return 0;
	if (q->plate[0] != '\0' && strcmp(q->plate, s->plate) != 0)
		return 0;
	if (q->search[0] == '\0' || strstr(s->plate, q->search) != NULL)
		return 1;
	for (size_t i = 0; i <= LOG_VIEW_MAX; i++) {
		char c = s->plate_view[i];

		view[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		if (c == '\0')
			break;
	}
	view[LOG_VIEW_MAX] = '\0';
	return strstr(view, q->search) != NULL;
}

static int api__hist_cb(void *ctx, const proj_session *s)
{
	api__hist *h = ctx;
	cJSON *row;

	if (!api__hist_match(h->q, s))
		return 0;
	if (h->skipped < h->q->offset) {
		h->skipped++;
		return 0;
	}
	if ((size_t)cJSON_GetArraySize(h->arr) >= h->q->limit)
		return 1;
	row = api__session_json(s, api__tz(h->r), h->now, &h->r->pol->tariff);
	if (row == NULL || !cJSON_AddItemToArray(h->arr, row))
		return ENOMEM;
	return 0;
}

typedef struct api__rows {
	proj_session *v;
	size_t n, cap;
} api__rows;

static int api__rows_cb(void *ctx, const proj_session *s)
{
	api__rows *rows = ctx;

	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		proj_session *v = realloc(rows->v, cap * sizeof *v);

		if (v == NULL)
			return ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	rows->v[rows->n++] = *s;
	return 0;
}

/* One plate: its rows newest first, within [from, to). */
static int api__hist_plate(api__req *r, log_txn *t, api__hist *h,
    int64_t from, int64_t to)
{
	api__rows rows = { 0 };
	int rc = proj_each_plate(r->srv->proj, t, h->q->plate, api__rows_cb, &rows);

	for (size_t i = rows.n; rc == 0 && i-- > 0;) {
		const proj_session *s = &rows.v[i];
		int64_t ts = s->entry_ts >= 0 ? s->entry_ts : s->exit_ts;

		if ((from > 0 && ts < from) || (to > 0 && ts >= to))
			continue;
		rc = api__hist_cb(h, s);
	}
	free(rows.v);
	return rc == 1 ? 0 : rc;
}

static int api__history_read(api__req *r, log_txn *t, cJSON *o)
{
	const api_history_q *q = r->rctx;
	api__hist h = { .r = r, .q = q, .now = api__now_ms() };
	int64_t from = q->from_ms, to = q->to_ms, d0, d1;
	cJSON *stats;
	int rc;

	if (q->today_only) {
		api__today(r, h.now, &d0, &d1);
		from = from > d0 ? from : d0;
		to = to > 0 && to < d1 ? to : d1;
	}
	if ((h.arr = cJSON_AddArrayToObject(o, "history")) == NULL)
		return ENOMEM;
	rc = q->plate[0] != '\0' ? api__hist_plate(r, t, &h, from, to) :
	    from > 0 && to > 0 && to <= from ? 0 :
	    proj_each_recent(r->srv->proj, t, from, to, api__hist_cb, &h);
	if (rc != 0 || (stats = api__stats_json(r, t, h.now, &rc)) == NULL)
		return rc ? rc : ENOMEM;
	cJSON_AddItemToObject(o, "stats", stats);
	cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(h.arr));
	cJSON_AddNumberToObject(o, "offset", (double)q->offset);
	cJSON_AddNumberToObject(o, "limit", (double)q->limit);
	return 0;
}

enum MHD_Result api__h_history(api__req *r)
{
	api_history_q q;
	char err[200];

	if (api_parse_history(api__arg, r, api__tz(r), &q, err, sizeof err) != 0)
		return api__reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
	r->rctx = &q;
	return api__read(r, api__history_read);
}

/* ---- state, stats, vehicle, conflicts ----------------------------------- */

typedef struct api__list {
	api__req *r;
	cJSON *arr;
	size_t limit;
	int64_t now;
	int truncated;
} api__list;

static int api__list_cb(void *ctx, const proj_session *s)
{
	api__list *l = ctx;
	cJSON *row;

	if ((size_t)cJSON_GetArraySize(l->arr) >= l->limit) {
		l->truncated = 1;
		return 1;
	}
	row = api__session_json(s, api__tz(l->r), l->now, &l->r->pol->tariff);
	if (row == NULL || !cJSON_AddItemToArray(l->arr, row))
		return ENOMEM;
	return 0;
}

static uint64_t api__capacity_of(const api__policy *pol, const char *vehicle)
{
	for (size_t i = 0; i < pol->ncapacity; i++)
		if (strcmp(pol->capacity[i].vehicle, vehicle) == 0)
			return pol->capacity[i].capacity;
	return 0;
}

static int api__class_row(cJSON *arr, const api__policy *pol, const char *v,
    uint64_t in)
{
	uint64_t cap = api__capacity_of(pol, v);
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || !cJSON_AddItemToArray(arr, c)) {
		cJSON_Delete(c);
		return ENOMEM;
	}
	cJSON_AddStringToObject(c, "vehicle", v);
	cJSON_AddNumberToObject(c, "inside", (double)in);
	if (cap > 0) {
		cJSON_AddNumberToObject(c, "capacity", (double)cap);
		cJSON_AddNumberToObject(c, "free", (double)(cap > in ? cap - in : 0));
	}
	return 0;
}

/* Inside per class, with capacity and free places where configured; a
 * configured class nobody is in is listed too. */
static int api__by_class(api__req *r, log_txn *t, cJSON *o)
{
	const api__policy *pol = r->pol;
	proj_summary sum;
	cJSON *arr;
	int rc;

	if ((rc = proj_summary_get(r->srv->proj, t, &sum)) != 0)
		return rc;
	if ((arr = cJSON_AddArrayToObject(o, "by_class")) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < sum.nclasses && rc == 0; i++)
		rc = api__class_row(arr, pol, sum.classes[i].vehicle,
		    sum.classes[i].inside);
	for (size_t i = 0; i < pol->ncapacity && rc == 0; i++) {
		size_t j = 0;

		while (j < sum.nclasses &&
		    strcmp(sum.classes[j].vehicle, pol->capacity[i].vehicle) != 0)
			j++;
		if (j == sum.nclasses)
			rc = api__class_row(arr, pol, pol->capacity[i].vehicle, 0);
	}
	return rc;
}

static int api__state_read(api__req *r, log_txn *t, cJSON *o)
{
	api__list l = { .r = r, .limit = *(const size_t *)r->rctx, .now = api__now_ms() };
	cJSON *stats;
	int rc;

	if ((stats = api__stats_json(r, t, l.now, &rc)) == NULL)
		return rc ? rc : ENOMEM;
	cJSON_AddNumberToObject(o, "vehicles_in_parking",
	    cJSON_GetNumberValue(cJSON_GetObjectItem(stats, "vehicles_in_parking")));
	cJSON_AddItemToObject(o, "stats", stats);
	if ((rc = api__by_class(r, t, o)) != 0)
		return rc;
	if ((l.arr = cJSON_AddArrayToObject(o, "vehicles")) == NULL)
		return ENOMEM;
	if ((rc = proj_each_inside(r->srv->proj, t, api__list_cb, &l)) != 0)
		return rc;
	cJSON_AddBoolToObject(o, "truncated", l.truncated);
	return 0;
}

/* A list read with the query's ?limit= (its reader finds it in r->rctx). */
static enum MHD_Result api__read_limited(api__req *r, api__reader fn)
{
	size_t limit;

	if (api__list_limit(r, &limit) != 0)
		return api__reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "limit: expected an integer 0..%d", API_HIST_LIMIT_MAX);
	r->rctx = &limit;
	return api__read(r, fn);
}

enum MHD_Result api__h_state(api__req *r)
{
	return api__read_limited(r, api__state_read);
}

static int api__conflicts_read(api__req *r, log_txn *t, cJSON *o)
{
	api__list l = { .r = r, .limit = *(const size_t *)r->rctx, .now = api__now_ms() };
	int rc;

	if ((l.arr = cJSON_AddArrayToObject(o, "conflicts")) == NULL)
		return ENOMEM;
	if ((rc = proj_each_conflict(r->srv->proj, t, api__list_cb, &l)) != 0)
		return rc;
	cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(l.arr));
	cJSON_AddBoolToObject(o, "truncated", l.truncated);
	return 0;
}

enum MHD_Result api__h_conflicts(api__req *r)
{
	return api__read_limited(r, api__conflicts_read);
}

static int api__stats_read(api__req *r, log_txn *t, cJSON *o)
{
	cJSON *stats, *it;
	int rc;

	if ((stats = api__stats_json(r, t, api__now_ms(), &rc)) == NULL)
		return rc ? rc : ENOMEM;
	/* The seed's flat shape: the stats fields at the top level. */
	while ((it = stats->child) != NULL)
		cJSON_AddItemToObject(o, it->string,
		    cJSON_DetachItemViaPointer(stats, it));
	cJSON_Delete(stats);
	return 0;
}

enum MHD_Result api__h_stats(api__req *r)
{
	return api__read(r, api__stats_read);
}

static int api__vehicle_read(api__req *r, log_txn *t, cJSON *o)
{
	const char *plate = r->rctx;
	api__rows rows = { 0 };
	proj_session in;
	int64_t now = api__now_ms();
	cJSON *row;
	int rc = proj_inside_get(r->srv->proj, t, plate, &in);

	if (rc != 0 && rc != LOG_NOTFOUND)
		return rc;
	cJSON_AddStringToObject(o, "plate_id", plate);
	cJSON_AddBoolToObject(o, "inside", rc == 0);
	row = rc == 0 ? api__session_json(&in, api__tz(r), now, &r->pol->tariff) :
	    cJSON_CreateNull();
	if (row == NULL || !cJSON_AddItemToObject(o, "session", row))
		return ENOMEM;
	if ((rc = proj_each_plate(r->srv->proj, t, plate, api__rows_cb, &rows)) != 0)
		goto err;
	cJSON_AddNumberToObject(o, "sessions", (double)rows.n);
	row = rows.n > 0 ? api__session_json(&rows.v[rows.n - 1], api__tz(r), now,
	    &r->pol->tariff) : cJSON_CreateNull();
	rc = row != NULL && cJSON_AddItemToObject(o, "last_session", row) ? 0 : ENOMEM;
err:
	free(rows.v);
	return rc;
}

enum MHD_Result api__h_vehicle(api__req *r)
{
	const char *tail = r->url + strlen("/api/parking/vehicle/");
	char plate[LOG_PLATE_MAX + 1], err[160];

	if (api_parse_plate(tail, plate, err, sizeof err) != 0)
		return api__reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
	r->rctx = plate;
	return api__read(r, api__vehicle_read);
}

/* ---- one session with its events ------------------------------------------ */

/* Is event e part of session s (opened it, names it, or closed it)? */
static int api__of_session(const log_event *e, const proj_session *s)
{
	return strcmp(e->id, s->id) == 0 || strcmp(e->session, s->id) == 0 ||
	    (s->exit_id[0] != '\0' && strcmp(e->id, s->exit_id) == 0);
}

/* The session's events, in fold order, as the stored objects. */
static int api__session_events(log_txn *t, const proj_session *s, cJSON *arr)
{
	char err[160];
	log_iter *it;
	log_event e;
	log_rec rec;
	cJSON *ev;
	int rc;

	if ((rc = log_iter_plate(t, s->plate, &it)) != 0)
		return rc;
	while ((rc = log_iter_next(it, &rec)) == 0) {
		if (log_event_decode(rec.bytes, rec.len, &e, err, sizeof err) != 0) {
			rc = LOG_ECORRUPT;
			break;
		}
		if (!api__of_session(&e, s))
			continue;
		if ((ev = cJSON_ParseWithLength(rec.bytes, rec.len)) == NULL ||
		    !cJSON_AddItemToArray(arr, ev)) {
			cJSON_Delete(ev);
			rc = ENOMEM;
			break;
		}
	}
	log_iter_free(it);
	return rc == LOG_END ? 0 : rc;
}

static int api__session_read(api__req *r, log_txn *t, cJSON *o)
{
	proj_session s;
	cJSON *row, *arr;
	int rc = proj_session_get(r->srv->proj, t, r->rctx, &s);

	if (rc == LOG_NOTFOUND) {
		api__reply_error(r, MHD_HTTP_NOT_FOUND, "no session %s", (char *)r->rctx);
		return -1;
	}
	if (rc != 0)
		return rc;
	row = api__session_json(&s, api__tz(r), api__now_ms(), &r->pol->tariff);
	if (row == NULL || !cJSON_AddItemToObject(o, "session", row))
		return ENOMEM;
	if ((arr = cJSON_AddArrayToObject(o, "events")) == NULL)
		return ENOMEM;
	return api__session_events(t, &s, arr);
}

/* GET /api/parking/session/{id}: the session row and the events it is made of. */
enum MHD_Result api__h_session(api__req *r)
{
	const char *id = r->url + strlen("/api/parking/session/");
	size_t n = strlen(id);

	if (n == 0 || n > LOG_ID_MAX || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return api__reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "session id: expected an event id");
	r->rctx = (void *)id;
	return api__read(r, api__session_read);
}

/* ---- p2p status, health ------------------------------------------------------ */

/* {stream: [head_seq, "P as 16 hex"]}: P does not fit a JSON number. */
static int api__vector(log_txn *t, cJSON *o)
{
	log_stream_info *st = NULL;
	size_t n = 0;
	cJSON *v = cJSON_AddObjectToObject(o, "vector"), *pair;
	char hex[17];
	int rc;

	if (v == NULL)
		return ENOMEM;
	if ((rc = log_txn_streams(t, &st, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(hex, sizeof hex, "%016" PRIx64, st[i].head_P);
		if ((pair = cJSON_CreateArray()) == NULL ||
		    !cJSON_AddItemToObject(v, st[i].name, pair)) {
			cJSON_Delete(pair);
			rc = ENOMEM;
			break;
		}
		cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)st[i].head_seq));
		cJSON_AddItemToArray(pair, cJSON_CreateString(hex));
	}
	free(st);
	return rc;
}

/* The fields the seed's P2P tab reads: running, peers[].status. */
static void api__seed_p2p(cJSON *o)
{
	cJSON *p;

	cJSON_AddBoolToObject(o, "running", 1);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "peers"))
		if (cJSON_GetObjectItemCaseSensitive(p, "status") == NULL)
			cJSON_AddStringToObject(p, "status", cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(p, "connected")) ?
			    "connected" : "disconnected");
}

static int api__p2p_read(api__req *r, log_txn *t, cJSON *o)
{
	api_server *srv = r->srv;
	const char *own = log_store_own_stream(srv->store);
	proj_summary sum;
	char hex[17];
	int rc;

	cJSON_AddStringToObject(o, "this_central", srv->origin);
	cJSON_AddBoolToObject(o, "standalone_mode", 1);
	cJSON_AddNumberToObject(o, "total_peers", 0);
	cJSON_AddNumberToObject(o, "connected_peers", 0);
	cJSON_AddNumberToObject(o, "messages_sent", 0);
	cJSON_AddNumberToObject(o, "messages_received", 0);
	cJSON_AddArrayToObject(o, "peers");
	cJSON_AddStringToObject(o, "own_stream", own ? own : "");
	if ((rc = api__vector(t, o)) != 0 ||
	    (rc = proj_summary_get(srv->proj, t, &sum)) != 0)
		return rc;
	snprintf(hex, sizeof hex, "%016" PRIx64, sum.digest);
	cJSON_AddStringToObject(o, "state_digest", hex);
	if (srv->hooks.p2p_status != NULL)
		srv->hooks.p2p_status(srv->hooks.ctx, o);
	api__seed_p2p(o);
	return 0;
}

enum MHD_Result api__h_p2p_status(api__req *r)
{
	return api__read(r, api__p2p_read);
}

/* The seed's sync_state[] from our peers[] (its P2P tab). */
static void api__seed_sync_state(cJSON *o)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "sync_state"), *p, *q;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "peers")) {
		const cJSON *ms = cJSON_GetObjectItemCaseSensitive(p, "last_sync_time_ms");
		const cJSON *tm = cJSON_GetObjectItemCaseSensitive(p, "last_sync_time");

		if (arr == NULL || (q = cJSON_CreateObject()) == NULL)
			return;
		cJSON_AddItemToArray(arr, q);
		cJSON_AddStringToObject(q, "peer_central_id", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(p, "peer_id")));
		cJSON_AddItemToObject(q, "last_sync_timestamp", cJSON_IsNumber(ms) ?
		    cJSON_CreateNumber(ms->valuedouble) : cJSON_CreateNull());
		cJSON_AddItemToObject(q, "last_sync_time", cJSON_IsString(tm) ?
		    cJSON_CreateString(tm->valuestring) : cJSON_CreateNull());
		cJSON_AddItemToObject(q, "updated_at", cJSON_IsString(tm) ?
		    cJSON_CreateString(tm->valuestring) : cJSON_CreateNull());
	}
}

enum MHD_Result api__h_sync_state(api__req *r)
{
	api_server *srv = r->srv;
	cJSON *o = api__ok();

	if (o == NULL)
		return api__reply(r, 500, NULL);
	cJSON_AddStringToObject(o, "this_central", srv->origin);
	cJSON_AddBoolToObject(o, "standalone_mode", 1);
	cJSON_AddArrayToObject(o, "peers");
	if (srv->hooks.p2p_sync_state != NULL)
		srv->hooks.p2p_sync_state(srv->hooks.ctx, o);
	api__seed_sync_state(o);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* 200 while the log takes writes; 503 with the reason once a commit
 * failed (a full disk, an I/O error), until a commit succeeds again. */
enum MHD_Result api__h_healthz(api__req *r)
{
	int ws = log_store_write_status(r->srv->store);
	cJSON *o = ws ? cJSON_CreateObject() : api__ok();

	if (o == NULL)
		return api__reply(r, 500, NULL);
	if (ws != 0) {
		cJSON_AddBoolToObject(o, "success", 0);
		cJSON_AddStringToObject(o, "status", "cannot write");
		cJSON_AddStringToObject(o, "reason", log_strerror(ws));
	} else {
		cJSON_AddStringToObject(o, "status", "ok");
	}
	cJSON_AddStringToObject(o, "this_central", r->srv->origin);
	cJSON_AddNumberToObject(o, "uptime_s",
	    (double)((api__now_ms() - r->srv->started_ms) / 1000));
	return api__reply(r, ws ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, o);
}
