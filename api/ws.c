/* api/ws.c — the seed's WebSockets on the HTTP port (SEED-API.md §3):
 * /ws/cameras (cameras_update on connect and on every change; text
 * ping/pong), /ws/history (history_update after each commit), /ws/edge
 * (Phase 1 events in, ENTRY/EXIT pushed out to the edges).
 *
 * MHD answers the handshake (101, MHD_ALLOW_UPGRADE) and hands the socket
 * over; one hub thread then owns every upgraded socket: it polls them,
 * reads and parses frames (wsframe.c), answers pings and closes, and
 * flushes what publishers queued. Publishers (the writer's commit hook,
 * heartbeats, the offline sweep) only append to a connection's out buffer
 * under the hub's mutex and wake the thread. Bounds: API__WS_MAX
 * connections, API__WS_MSG_MAX bytes per message (fragments included),
 * API__WS_OUT_MAX queued bytes per client — a client that cannot keep up
 * is closed (1008) rather than queued for without end: the seed's clients
 * reconnect and refetch. Edge events over the socket have no answer (the
 * seed's protocol): they are written through the writer like HTTP ones,
 * and a refusal is only logged.
 *
 * Ownership: the hub (api__ws_new) belongs to the server; a connection
 * belongs to the hub from the upgrade until MHD_upgrade_action(CLOSE). */
#include "api/internal.h"
#include "api/auth.h"
#include "api/wsframe.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "msg/msg.h"

#define API__WS_MAX		64
#define API__WS_MSG_MAX		(64 * 1024)
#define API__WS_OUT_MAX		(256 * 1024)
#define API__WS_PING_S		30	/* silence before the server pings */
#define API__WS_DEAD_S		90	/* silence before it gives up */

enum api__ws_kind { API__WS_CAMERAS = 1, API__WS_HISTORY, API__WS_EDGE };

typedef struct api__wsc {
	struct api__wsc *next;
	api_server *srv;
	enum api__ws_kind kind;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	unsigned char *in;		/* API__WS_MSG_MAX + 14 */
	size_t inlen;
	unsigned char *msg;		/* a fragmented message being collected */
	size_t msglen;
	int msgop;			/* its opcode, 0: none */
	unsigned char *out;
	size_t outlen, outcap;
	int64_t last_rx;
	int pinged, closing, dead;
	char edge_id[LOG_ORIGIN_MAX + 1];	/* /ws/edge: once it said so */
	char auth[API_TOKEN_MAX + 16];	/* the handshake's Authorization */
	int tokenless;			/* from a compatibility address */
} api__wsc;

struct api__ws {
	pthread_mutex_t mu;
	api__wsc *conns;
	int n;
	int wake[2];
	pthread_t th;
	int running, stop;
};

/* ---- queueing (under hub->mu) ------------------------------------------ */

static void api__wsc_queue(api__wsc *c, int op, const void *p, size_t n)
{
	unsigned char h[10];
	size_t hn = api_ws_header(h, op, n), need = c->outlen + hn + n;

	if (c->dead || (c->closing && op != API_WS_CLOSE))
		return;
	if (need > API__WS_OUT_MAX) {
		msg_warnx("ws: a client of %s is too slow: closed",
		    c->kind == API__WS_EDGE ? "/ws/edge" : "a /ws stream");
		c->dead = 1;
		return;
	}
	if (need > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		unsigned char *b;

		while (cap < need)
			cap *= 2;
		if ((b = realloc(c->out, cap)) == NULL) {
			c->dead = 1;
			return;
		}
		c->out = b;
		c->outcap = cap;
	}
	msg_assert(need <= c->outcap);	/* the queue stays within its buffer */
	memcpy(c->out + c->outlen, h, hn);
	memcpy(c->out + c->outlen + hn, p, n);
	c->outlen = need;
}

static void api__wsc_close(api__wsc *c, int code, const char *why)
{
	unsigned char b[125];
	size_t n = strlen(why);

	if (c->closing)
		return;
	n = n > sizeof b - 2 ? sizeof b - 2 : n;
	b[0] = (unsigned char)(code >> 8);
	b[1] = (unsigned char)code;
	memcpy(b + 2, why, n);
	api__wsc_queue(c, API_WS_CLOSE, b, n + 2);
	c->closing = 1;
}

static void api__ws_wake(api__ws *h)
{
	char x = 1;

	if (write(h->wake[1], &x, 1) < 0 && errno != EAGAIN)
		msg_warn("ws: wake");
}

/* Send text to every connection of kind (not to edge `skip`). */
static void api__ws_send_all(api__ws *h, enum api__ws_kind kind,
    const char *skip, const char *text)
{
	size_t n = strlen(text);

	pthread_mutex_lock(&h->mu);
	for (api__wsc *c = h->conns; c != NULL; c = c->next)
		if (c->kind == kind && (kind != API__WS_EDGE ||
		    (c->edge_id[0] != '\0' && (skip == NULL ||
		    strcmp(skip, c->edge_id) != 0))))
			api__wsc_queue(c, API_WS_TEXT, text, n);
	pthread_mutex_unlock(&h->mu);
	api__ws_wake(h);
}

static int api__ws_has(api__ws *h, enum api__ws_kind kind)
{
	int any = 0;

	if (h == NULL)
		return 0;
	pthread_mutex_lock(&h->mu);
	for (api__wsc *c = h->conns; c != NULL && !any; c = c->next)
		any = c->kind == kind;
	pthread_mutex_unlock(&h->mu);
	return any;
}

/* ---- pushes -------------------------------------------------------------- */

static char *api__ws_cameras_text(api_server *srv)
{
	api__policy *p = api__policy_get(srv);
	cJSON *o = cJSON_CreateObject(), *data = api__seed_cameras(srv, p);
	char *t = NULL;

	api__policy_put(p);
	if (o != NULL && data != NULL) {
		cJSON_AddStringToObject(o, "type", "cameras_update");
		cJSON_AddItemToObject(o, "data", data);
		data = NULL;
		t = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	cJSON_Delete(data);
	return t;
}

void api__ws_cameras_changed(api_server *srv)
{
	char *t;

	if (!api__ws_has(srv->ws, API__WS_CAMERAS))
		return;
	if ((t = api__ws_cameras_text(srv)) != NULL)
		api__ws_send_all(srv->ws, API__WS_CAMERAS, NULL, t);
	free(t);
}

/* "2026-12-04 10:30:00" in the facility's time (the seed's format). */
static void api__seed_time(int64_t ms, int tz_min, char buf[32])
{
	time_t s = (time_t)(ms / 1000) + (time_t)tz_min * 60;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

static cJSON *api__id_json(const char *id)
{
	char *end;
	long n = strtol(id, &end, 10);

	return *id != '\0' && *end == '\0' && n >= 0 && n < 1000000000 ?
	    cJSON_CreateNumber((double)n) : cJSON_CreateString(id);
}

/* The fields both pushes share, for an ENTRY_PENDING or an EXIT. */
static void api__ws_common(cJSON *o, const log_event *ev, int tz)
{
	int exit = ev->type == LOG_EV_EXIT;
	char t[32], dur[32];

	cJSON_AddItemToObject(o, "camera_id", api__id_json(ev->edge_id));
	cJSON_AddStringToObject(o, "camera_name", ev->edge_id);
	cJSON_AddStringToObject(o, "camera_type", exit ? "EXIT" : "ENTRY");
	cJSON_AddStringToObject(o, "plate_id", ev->plate);
	cJSON_AddStringToObject(o, "plate_view", ev->plate_view);
	api__seed_time(exit && ev->entry_ts >= 0 ? ev->entry_ts :
	    log_event_at(ev), tz, t);
	if (!exit || ev->entry_ts >= 0)
		cJSON_AddStringToObject(o, "entry_time", t);
	if (exit) {
		api__seed_time(log_event_at(ev), tz, t);
		cJSON_AddStringToObject(o, "exit_time", t);
		cJSON_AddNumberToObject(o, "fee", (double)ev->fee);
		api__duration(ev->duration_s >= 0 ? ev->duration_s : 0, dur);
		cJSON_AddStringToObject(o, "duration", dur);
	}
}

static void api__ws_push_text(api_server *srv, enum api__ws_kind kind,
    const char *skip, cJSON *o)
{
	char *t = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (t != NULL)
		api__ws_send_all(srv->ws, kind, skip, t);
	free(t);
}

/* history_update: the seed's data for an edge ENTRY/EXIT. */
static void api__ws_history(api_server *srv, const log_event *ev, int tz)
{
	cJSON *o = cJSON_CreateObject(), *d = cJSON_CreateObject();
	const char *type = ev->type == LOG_EV_EXIT ? "EXIT" : "ENTRY";

	if (o == NULL || d == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(d);
		return;
	}
	cJSON_AddStringToObject(o, "type", "history_update");
	cJSON_AddItemToObject(o, "data", d);
	cJSON_AddStringToObject(d, "event_type", type);
	cJSON_AddStringToObject(d, "action", ev->type == LOG_EV_ENTRY_CONFIRMED ?
	    "CONFIRM" : type);
	cJSON_AddStringToObject(d, "event_id", ev->session[0] ? ev->session : ev->id);
	cJSON_AddStringToObject(d, "history_id", ev->session[0] ? ev->session : ev->id);
	api__ws_common(d, ev, tz);
	api__ws_push_text(srv, API__WS_HISTORY, NULL, o);
}

/* ENTRY to every edge but its own gate (which has the car already, under
 * its own event_id): a new id to them, the normalized plate in
 * data.plate_text, entry_time — what an exit gate needs to let the car
 * out. EXIT with the entry's id (SEED-API.md §3). */
static void api__ws_edge(api_server *srv, const log_event *ev, int tz)
{
	cJSON *o = cJSON_CreateObject(), *d;
	int exit = ev->type == LOG_EV_EXIT;

	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "type", exit ? "EXIT" : "ENTRY");
	cJSON_AddStringToObject(o, "event_id", exit && ev->session[0] ?
	    ev->session : ev->id);
	api__ws_common(o, ev, tz);
	if ((d = cJSON_AddObjectToObject(o, "data")) != NULL) {
		cJSON_AddStringToObject(d, "plate_text", ev->plate);
		cJSON_AddStringToObject(d, "plate_view", ev->plate_view);
	}
	api__ws_push_text(srv, API__WS_EDGE, ev->edge_id, o);
}

void api__ws_committed(api_server *srv, const log_commit_info *ci)
{
	int hist = api__ws_has(srv->ws, API__WS_HISTORY);
	int edge = api__ws_has(srv->ws, API__WS_EDGE);
	api__policy *p;
	log_txn *t;

	if ((!hist && !edge) || ci->events > 2000 ||
	    log_txn_begin(srv->store, 0, &t) != 0)
		return;
	p = api__policy_get(srv);
	for (size_t i = 0; i < ci->nranges; i++) {
		const log_range *rg = &ci->ranges[i];
		log_iter *it;
		log_rec rec;
		log_event ev;

		if (log_iter_range(t, rg->stream_no, rg->first_seq, rg->last_seq,
		    &it) != 0)
			break;
		while (log_iter_next(it, &rec) == 0) {
			if (log_event_decode_stored(rec.bytes, rec.len, &ev) != 0)
				continue;
			if (hist)
				api__ws_history(srv, &ev, p->tariff.tz_offset_min);
			if (edge && ev.type != LOG_EV_ENTRY_CONFIRMED)
				api__ws_edge(srv, &ev, p->tariff.tz_offset_min);
		}
		log_iter_free(it);
	}
	api__policy_put(p);
	log_txn_abort(t);
}

/* ---- edge events in ------------------------------------------------------ */

static void api__ws_job_done(log_job *job, int rc)
{
	api__req *r = job->arg;
	api__write *w = &r->w;

	if (rc != 0)
		msg_warnx("ws: /ws/edge %s %s: log: %s", w->edge_id, w->plate,
		    log_strerror(rc));
	else if (w->appended)
		atomic_fetch_add(&r->srv->m.appends[w->action == API__ACT_ENTRY ?
		    LOG_EV_ENTRY_PENDING : LOG_EV_EXIT], 1);
	else if (w->status != 200)
		msg_warnx("ws: /ws/edge %s %s refused: %s", w->edge_id, w->plate,
		    w->error);
	atomic_fetch_sub(&r->srv->inflight, 1);
	api__policy_put(r->pol);
	free(r);
}

/* May this socket speak for edge_id? 0 (*e: its configuration, or NULL
 * without edges) or the HTTP status an HTTP call would have had. */
static int api__ws_auth(const api__wsc *c, const api__policy *pol,
    const char *edge_id, const api_edge **e)
{
	const char *why;
	int st = api_auth_edge(pol->edges, pol->nedges, edge_id,
	    c->auth[0] ? c->auth : NULL, e, &why);

	return (st == 401 || st == 403) && *e != NULL && c->tokenless ? 0 : st;
}

/* One Phase 1 event from an edge's socket through the writer, as HTTP's
 * (api__event1_prepare); no answer: the seed's edge expects none. */
static void api__ws_event(api__wsc *c, const char *p, size_t n)
{
	api_server *srv = c->srv;
	api__req *r;
	api_event1 e;
	char err[200];

	if (api_parse_event1(p, n, &e, err, sizeof err) != 0) {
		msg_warnx("ws: /ws/edge %s: %s", c->edge_id, err);
		return;
	}
	/* the seed took a lot camera's ENTRY on this socket as a sighting */
	if (e.type == API_EV1_ENTRY && strcmp(e.vehicle, "parking_lot") == 0)
		e.type = API_EV1_LOCATION;
	if (e.type == API_EV1_DETECTION || e.type >= API_EV1_UPDATE) {
		msg_info("ws: /ws/edge %s: %s not recorded (not supported yet)",
		    c->edge_id, e.type == API_EV1_DETECTION ? "DETECTION" :
		    "UPDATE/DELETE/LOCATION_UPDATE");
		return;
	}
	if (atomic_load(&srv->stopping) || (r = calloc(1, sizeof *r)) == NULL)
		return;
	r->srv = srv;
	r->pol = api__policy_get(srv);
	r->route = (int)api__nroutes;
	/* another camera_id than the socket's edge_id: its own auth, with
	 * what the socket showed (its token or its address) */
	if (api__ws_auth(c, r->pol, e.edge_id, &r->edge) != 0) {
		msg_warnx("ws: /ws/edge %s sent an event of camera %s: not allowed, "
		    "ignored", c->edge_id, e.edge_id);
		api__policy_put(r->pol);
		free(r);
		return;
	}
	/* heard from, as an HTTP call (api__auth_edge) would say */
	api__cameras_seen(srv->cams, e.edge_id, api__now_ms(),
	    (int64_t)r->pol->camera_offline_s * 1000);
	r->job.run = api__run;
	r->job.done = api__ws_job_done;
	r->job.arg = r;
	api__event1_prepare(r, &e);
	r->w.now_ms = api__now_ms();
	atomic_fetch_add(&srv->inflight, 1);
	if (log_writer_submit(srv->writer, &r->job) != 0)
		api__ws_job_done(&r->job, LOG_ESTOPPED);
}

/* A string edge id: 1..LOG_ORIGIN_MAX of A-Z a-z 0-9 _ - . */
static int api__ws_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LOG_ORIGIN_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/* {"edge_id": 1}: who it is, checked like an HTTP edge. 0 or -1 (closed). */
static int api__ws_register(api__ws *h, api__wsc *c, const char *p, size_t n)
{
	cJSON *o = cJSON_ParseWithLength(p, n);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "edge_id");
	api__policy *pol = api__policy_get(c->srv);
	const api_edge *e;
	const char *why = "edge_id missing";
	char buf[160];
	int st = 400;

	if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 1e9)
		snprintf(c->edge_id, sizeof c->edge_id, "%d", id->valueint);
	else if (cJSON_IsString(id) && api__ws_id_ok(id->valuestring))
		snprintf(c->edge_id, sizeof c->edge_id, "%s", id->valuestring);
	cJSON_Delete(o);
	if (c->edge_id[0] != '\0' &&
	    (st = api__ws_auth(c, pol, c->edge_id, &e)) != 0)
		why = st == 403 && e == NULL ? "unknown edge" : "not allowed (token)";
	api__policy_put(pol);
	if (st != 0) {
		snprintf(buf, sizeof buf, "%s", why);
		c->edge_id[0] = '\0';
		api__wsc_close(c, 1008, buf);
		return -1;
	}
	/* one socket per edge: the newer replaces the older */
	for (api__wsc *o2 = h->conns; o2 != NULL; o2 = o2->next)
		if (o2 != c && o2->kind == API__WS_EDGE &&
		    strcmp(o2->edge_id, c->edge_id) == 0)
			api__wsc_close(o2, 1000, "replaced by a newer connection");
	snprintf(buf, sizeof buf, "{\"type\":\"connected\",\"message\":"
	    "\"Edge '%s' registered successfully\"}", c->edge_id);
	api__wsc_queue(c, API_WS_TEXT, buf, strlen(buf));
	return 0;
}

/* An edge's event, taken out of the lock to go to the writer (whose
 * commit hook takes the lock too). */
typedef struct api__wsev {
	struct api__wsev *next;
	api__wsc *c;			/* still owned by the hub: no free before */
	size_t n;
	char p[];
} api__wsev;

/* {"type": "ping"}? */
static int api__ws_is_ping(const char *p, size_t n)
{
	cJSON *o = n < 256 ? cJSON_ParseWithLength(p, n) : NULL;
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
	int yes = t != NULL && strcmp(t, "ping") == 0;

	cJSON_Delete(o);
	return yes;
}

/* A whole text message (under hub->mu); events go to *evs. */
static void api__ws_text(api__ws *h, api__wsc *c, const char *p, size_t n,
    api__wsev **evs)
{
	static const char pong[] = "{\"type\":\"pong\"}";
	api__wsev *ev;

	if (n == 4 && memcmp(p, "ping", 4) == 0) {
		api__wsc_queue(c, API_WS_TEXT, "pong", 4);
		return;
	}
	if (c->kind != API__WS_EDGE)
		return;		/* the streams take nothing else */
	if (c->edge_id[0] == '\0') {
		api__ws_register(h, c, p, n);
		return;
	}
	if (api__ws_is_ping(p, n)) {
		api__wsc_queue(c, API_WS_TEXT, pong, sizeof pong - 1);
		return;
	}
	if ((ev = malloc(sizeof *ev + n)) == NULL)
		return;
	ev->c = c;
	ev->n = n;
	ev->next = NULL;
	memcpy(ev->p, p, n);
	while (*evs != NULL)	/* in arrival order: an EXIT after its ENTRY */
		evs = &(*evs)->next;
	*evs = ev;
}

/* One complete frame (payload unmasked, under hub->mu). */
static void api__ws_frame(api__ws *h, api__wsc *c, const api_ws_frame *f,
    unsigned char *p, api__wsev **evs)
{
	if (f->opcode == API_WS_PING) {
		api__wsc_queue(c, API_WS_PONG, p, f->len);
		return;
	}
	if (f->opcode == API_WS_PONG)
		return;
	if (f->opcode == API_WS_CLOSE) {
		/* echo its code (RFC 6455 §5.5.1), then close */
		api__wsc_close(c, f->len >= 2 ? p[0] << 8 | p[1] : 1000, "");
		return;
	}
	if (f->opcode != API_WS_CONT && c->msgop != 0) {
		api__wsc_close(c, 1002, "a new message inside a fragmented one");
		return;
	}
	if (f->opcode == API_WS_CONT && c->msgop == 0) {
		api__wsc_close(c, 1002, "continuation without a message");
		return;
	}
	if (f->opcode != API_WS_CONT && f->fin) {
		if (f->opcode == API_WS_TEXT)
			api__ws_text(h, c, (const char *)p, f->len, evs);
		return;
	}
	if (c->msglen + f->len > API__WS_MSG_MAX) {
		api__wsc_close(c, 1009, "message too big");
		return;
	}
	if (c->msg == NULL && (c->msg = malloc(API__WS_MSG_MAX)) == NULL) {
		c->dead = 1;
		return;
	}
	if (f->opcode != API_WS_CONT)
		c->msgop = f->opcode;
	memcpy(c->msg + c->msglen, p, f->len);
	c->msglen += f->len;
	if (f->fin) {
		if (c->msgop == API_WS_TEXT)
			api__ws_text(h, c, (const char *)c->msg, c->msglen, evs);
		c->msgop = 0;
		c->msglen = 0;
	}
}

/* Read what is there and handle every complete frame (under hub->mu). */
static void api__ws_read(api__ws *h, api__wsc *c, api__wsev **evs)
{
	size_t cap = API__WS_MSG_MAX + 14, used = 0;
	api_ws_frame f;
	ssize_t k;
	int rc, code;

	k = read(c->fd, c->in + c->inlen, cap - c->inlen);
	if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
		c->dead = 1;
		return;
	}
	if (k < 0)
		return;
	c->inlen += (size_t)k;
	c->last_rx = api__now_ms();
	c->pinged = 0;
	while (!c->closing && (rc = api_ws_parse(c->in + used, c->inlen - used,
	    API__WS_MSG_MAX, &f, &code)) == 1) {
		unsigned char *p = c->in + used + f.hdr;

		api_ws_unmask(p, f.len, f.mask);
		api__ws_frame(h, c, &f, p, evs);
		used += f.hdr + f.len;
	}
	if (!c->closing && rc < 0)
		api__wsc_close(c, code, code == 1009 ? "message too big" :
		    "protocol error");
	msg_assert(used <= c->inlen);	/* parse never passes the bytes read */
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
}

static void api__ws_write(api__wsc *c)
{
	ssize_t k = write(c->fd, c->out, c->outlen);

	if (k < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = 1;
		return;
	}
	memmove(c->out, c->out + k, c->outlen - (size_t)k);
	c->outlen -= (size_t)k;
}

static void api__wsc_free(api__wsc *c)
{
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(c->in);
	free(c->msg);
	free(c->out);
	free(c);
}

/* Pings after silence, gives up after more; drops the finished (locked). */
static void api__ws_sweep(api__ws *h, int64_t now)
{
	api__wsc **pp = &h->conns, *c;

	while ((c = *pp) != NULL) {
		if (now - c->last_rx > API__WS_DEAD_S * 1000)
			c->dead = 1;
		else if (now - c->last_rx > API__WS_PING_S * 1000 && !c->pinged) {
			/* /ws/cameras: the seed's text ping; others a control */
			if (c->kind == API__WS_CAMERAS)
				api__wsc_queue(c, API_WS_TEXT, "ping", 4);
			else
				api__wsc_queue(c, API_WS_PING, "", 0);
			c->pinged = 1;
		}
		if (c->dead || (c->closing && c->outlen == 0)) {
			*pp = c->next;
			h->n--;
			msg_assert(h->n >= 0);	/* counted at the handshake */
			api__wsc_free(c);
			continue;
		}
		pp = &c->next;
	}
}

static void api__ws_events_run(api__ws *h, api__wsev *evs)
{
	while (evs != NULL) {
		api__wsev *next = evs->next;

		api__ws_event(evs->c, evs->p, evs->n);
		free(evs);
		evs = next;
	}
	(void)h;
}

/* One round: poll every socket (and the wake pipe) for up to a second. */
static void api__ws_round(api__ws *h)
{
	struct pollfd pf[API__WS_MAX + 1];
	api__wsc *cs[API__WS_MAX];
	api__wsev *evs = NULL;
	char drain[64];
	nfds_t n = 1;

	pf[0].fd = h->wake[0];
	pf[0].events = POLLIN;
	pthread_mutex_lock(&h->mu);
	for (api__wsc *c = h->conns; c != NULL && n <= API__WS_MAX; c = c->next) {
		cs[n - 1] = c;
		pf[n].fd = c->fd;
		pf[n].events = (short)(POLLIN | (c->outlen ? POLLOUT : 0));
		n++;
	}
	pthread_mutex_unlock(&h->mu);
	if (poll(pf, n, 1000) < 0 && errno != EINTR)
		msg_warn("ws: poll");
	if (pf[0].revents & POLLIN)
		while (read(h->wake[0], drain, sizeof drain) > 0)
			;
	pthread_mutex_lock(&h->mu);
	/* the list only shrinks on this thread: cs[] are all still there */
	for (nfds_t i = 1; i < n; i++) {
		api__wsc *c = cs[i - 1];

		if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
			api__ws_read(h, c, &evs);
		if (!c->dead && c->outlen > 0)
			api__ws_write(c);
	}
	pthread_mutex_unlock(&h->mu);
	/* before the sweep: an event's connection must still exist */
	api__ws_events_run(h, evs);
	pthread_mutex_lock(&h->mu);
	api__ws_sweep(h, api__now_ms());
	pthread_mutex_unlock(&h->mu);
}

static void *api__ws_main(void *arg)
{
	api__ws *h = arg;

	for (;;) {
		pthread_mutex_lock(&h->mu);
		int stop = h->stop;
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
		api__ws_round(h);
	}
	return NULL;
}

/* ---- the handshake ------------------------------------------------------- */

static void api__ws_upgraded(void *cls, struct MHD_Connection *conn,
    void *con_cls, const char *extra, size_t extra_n, MHD_socket sock,
    struct MHD_UpgradeResponseHandle *urh)
{
	api__wsc *c = cls;
	api__ws *h = c->srv->ws;
	api__req *r = con_cls;
	char *t = NULL;

	(void)conn;
	if (r != NULL)
		r->ws_pending = NULL;	/* handed over: the hub's from now on */
	c->fd = sock;
	c->urh = urh;
	c->last_rx = api__now_ms();
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	if (extra_n > API__WS_MSG_MAX)
		extra_n = 0;	/* cannot be a client's first frame anyway */
	memcpy(c->in, extra, extra_n);
	c->inlen = extra_n;
	if (c->kind == API__WS_CAMERAS)
		t = api__ws_cameras_text(c->srv);
	pthread_mutex_lock(&h->mu);
	if (t != NULL)
		api__wsc_queue(c, API_WS_TEXT, t, strlen(t));
	c->next = h->conns;
	h->conns = c;
	pthread_mutex_unlock(&h->mu);
	free(t);
	api__ws_wake(h);
}

static const char *api__hdr(api__req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Upgrade: websocket, Connection: upgrade, version 13 and a key. */
static const char *api__ws_check(api__req *r)
{
	const char *up = api__hdr(r, "Upgrade"), *co = api__hdr(r, "Connection");
	const char *ver = api__hdr(r, "Sec-WebSocket-Version");
	const char *key = api__hdr(r, "Sec-WebSocket-Key");

	if (up == NULL || strcasecmp(up, "websocket") != 0 || co == NULL ||
	    strcasestr(co, "upgrade") == NULL)
		return "a WebSocket endpoint: Upgrade: websocket expected";
	if (ver == NULL || strcmp(ver, "13") != 0)
		return "Sec-WebSocket-Version: 13 expected";
	if (key == NULL || strlen(key) != 24)
		return "Sec-WebSocket-Key: missing or malformed";
	return NULL;
}

/* A browser's page (it always sends Origin) may open a socket if its
 * origin may read our answers (CORS) or is our own; clients that are not
 * browsers send none. Else any page a tokenless machine opens could. */
static int api__ws_origin_ok(api__req *r)
{
	const char *o = api__hdr(r, "Origin"), *host = api__hdr(r, "Host");
	const char *p;

	if (o == NULL || api_cors_allow(r->pol->cors, o) != NULL)
		return 1;
	p = strstr(o, "://");
	return host != NULL && p != NULL && strcasecmp(p + 3, host) == 0;
}

static api__wsc *api__wsc_new(api__req *r)
{
	api__wsc *c = calloc(1, sizeof *c);
	const char *auth = api__hdr(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (c == NULL || (c->in = malloc(API__WS_MSG_MAX + 14)) == NULL) {
		free(c);
		return NULL;
	}
	c->srv = r->srv;
	c->fd = -1;
	c->kind = strcmp(r->url, "/ws/cameras") == 0 ? API__WS_CAMERAS :
	    strcmp(r->url, "/ws/history") == 0 ? API__WS_HISTORY : API__WS_EDGE;
	snprintf(c->auth, sizeof c->auth, "%s", auth ? auth : "");
	c->tokenless = api__tokenless(r);
	return c;
}

enum MHD_Result api__h_ws(api__req *r)
{
	struct MHD_Response *resp;
	const char *why = api__ws_check(r);
	char accept[29];
	enum MHD_Result ret;
	api__wsc *c;
	int n;

	if (why != NULL)
		return api__reply_error(r, MHD_HTTP_UPGRADE_REQUIRED, "%s", why);
	if (!api__ws_origin_ok(r))
		return api__reply_error(r, MHD_HTTP_FORBIDDEN,
		    "Origin: not one of seed.cors_origins");
	pthread_mutex_lock(&r->srv->ws->mu);
	n = r->srv->ws->n < API__WS_MAX ? ++r->srv->ws->n : -1;
	pthread_mutex_unlock(&r->srv->ws->mu);
	if (n < 0)
		return api__reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "too many WebSocket clients (%d)", API__WS_MAX);
	if ((c = api__wsc_new(r)) == NULL ||
	    (resp = MHD_create_response_for_upgrade(api__ws_upgraded, c)) == NULL) {
		free(c != NULL ? c->in : NULL);
		free(c);
		pthread_mutex_lock(&r->srv->ws->mu);
		r->srv->ws->n--;
		pthread_mutex_unlock(&r->srv->ws->mu);
		return api__reply(r, 500, NULL);
	}
	api_ws_accept(api__hdr(r, "Sec-WebSocket-Key"), accept);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	r->upgraded = 1;
	r->ws_pending = c;
	ret = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	api__metrics_count(r->srv, r->route, MHD_HTTP_SWITCHING_PROTOCOLS);
	return ret;
}

void api__ws_abandon(api_server *srv, void *wsc)
{
	api__wsc *c = wsc;

	pthread_mutex_lock(&srv->ws->mu);
	srv->ws->n--;
	pthread_mutex_unlock(&srv->ws->mu);
	free(c->in);
	free(c);
}

/* ---- lifecycle ----------------------------------------------------------- */

int api__ws_new(api__ws **out)
{
	api__ws *h = calloc(1, sizeof *h);

	*out = NULL;
	if (h == NULL)
		return ENOMEM;
	if (pipe2(h->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		free(h);
		return errno;
	}
	pthread_mutex_init(&h->mu, NULL);
	if (pthread_create(&h->th, NULL, api__ws_main, h) != 0) {
		close(h->wake[0]);
		close(h->wake[1]);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return EAGAIN;
	}
	h->running = 1;
	*out = h;
	return 0;
}

void api__ws_stop(api__ws *h)
{
	if (h == NULL || !h->running)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_mutex_unlock(&h->mu);
	api__ws_wake(h);
	pthread_join(h->th, NULL);
	h->running = 0;
	/* going away: a last close frame, best effort, then MHD closes */
	while (h->conns != NULL) {
		api__wsc *c = h->conns;

		h->conns = c->next;
		api__wsc_close(c, 1001, "server shutting down");
		if (c->outlen > 0)
			api__ws_write(c);
		api__wsc_free(c);
	}
	h->n = 0;
}

void api__ws_free(api__ws *h)
{
	if (h == NULL)
		return;
	api__ws_stop(h);
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
