/* api/events.c — GET /api/events: Server-Sent Events for the console.
 *
 * Each client is an endless MHD response whose content reader drains the
 * client's queue. With MHD's one polling thread a reader that returns 0
 * would be called again at once (a busy loop), so when the queue is empty
 * the reader suspends its connection and a publisher resumes it — the
 * same suspend/resume path as the writes, under the hub's mutex so that a
 * resume never precedes its suspend.
 *
 * Bounds: API__SSE_MAX clients (more get 503) and API__SSE_QMAX queued
 * bytes per client; a slow client's queue is dropped and replaced by one
 * "resync" message (it re-fetches state). A ticker sends a comment every
 * API__SSE_KEEPALIVE_S seconds: it keeps proxies and MHD's idle timeout
 * from closing the stream, and it resumes suspended connections so that a
 * client that went away is noticed (suspended connections are not).
 *
 * Messages: "hello" on connect, "log" (an event's stored bytes, after its
 * commit), "detection", "camera" (a heartbeat: online; or no heartbeat for
 * camera_offline_s: offline, noticed by the ticker's sweep), "gate" (its
 * gate channel connected or not), "resync". */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API__SSE_MAX		16
#define API__SSE_QMAX		(256 * 1024)
#define API__SSE_KEEPALIVE_S	15
#define API__SSE_TICK_S		5	/* state changes nobody reports */
#define API__SSE_BATCH_MAX	2000	/* events per commit sent one by one */

typedef struct api__sse {
	struct api__sse *next;
	api__events *hub;
	struct MHD_Connection *conn;
	char *buf;
	size_t len, off, cap;
	int suspended;			/* by the reader; resumed by a publisher */
	uint64_t dropped;
} api__sse;

struct api__events {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	api__sse *clients;
	atomic_int n;			/* clients, read without the lock */
	int closing;
	int ticker_on;
	pthread_t ticker;
	atomic_uint_fast64_t drops;
	void (*tick)(void *ctx);	/* every API__SSE_TICK_S, unlocked */
	void *tick_ctx;
};

static const char api__resync[] = "event: resync\ndata: {\"reason\":"
    "\"queue full\"}\n\n";

/* Append to one client's queue; on overflow, drop it for a resync. Under
 * hub->mu. Then wake the connection if its reader is waiting. */
static void api__sse_push(api__sse *c, const char *msg, size_t n)
{
	size_t need = c->len + n;

	if (need > API__SSE_QMAX) {
		c->off = c->len = 0;
		c->dropped++;
		atomic_fetch_add(&c->hub->drops, 1);
		msg = api__resync;
		n = sizeof api__resync - 1;
		need = n;
	}
	if (need > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *b;

		while (cap < need)
			cap *= 2;
		if ((b = realloc(c->buf, cap)) == NULL)
			return;		/* this message is lost; the next may fit */
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, msg, n);
	c->len += n;
	if (c->suspended) {
		c->suspended = 0;
		MHD_resume_connection(c->conn);
	}
}

static void api__events_broadcast(api__events *h, const char *msg, size_t n)
{
	pthread_mutex_lock(&h->mu);
	if (!h->closing)
		for (api__sse *c = h->clients; c != NULL; c = c->next)
			api__sse_push(c, msg, n);
	pthread_mutex_unlock(&h->mu);
}

/* One "event: name / data: json" message to every client. `json` holds
 * no newline (compact JSON), so one data line carries it. */
void api__events_publish(api_server *srv, const char *name, const char *json,
    size_t len)
{
	api__events *h = srv->events;
	size_t n = strlen(name) + len + sizeof "event: \ndata: \n\n";
	char *msg;
	int k;

	if (h == NULL || atomic_load(&h->n) == 0 || (msg = malloc(n)) == NULL)
		return;
	k = snprintf(msg, n, "event: %s\ndata: %.*s\n\n", name, (int)len, json);
	if (k > 0 && (size_t)k < n)
		api__events_broadcast(h, msg, (size_t)k);
	free(msg);
}

static void api__events_publish_json(api_server *srv, const char *name, cJSON *o)
{
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	if (text != NULL)
		api__events_publish(srv, name, text, strlen(text));
	free(text);
	cJSON_Delete(o);
}

/* ---- what is published ------------------------------------------------- */

int api__events_listening(api_server *srv)
{
	return srv->events != NULL && atomic_load(&srv->events->n) > 0;
}

void api__events_detection(api_server *srv, const api_detection *d,
    const cJSON *reply, int64_t now, int tz_min)
{
	cJSON *o;

	if (!api__events_listening(srv) || (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "edge_id", d->edge_id);
	cJSON_AddStringToObject(o, "plate_id", d->plate);
	cJSON_AddStringToObject(o, "plate_view", d->plate_view);
	cJSON_AddStringToObject(o, "camera_type", d->vehicle);
	if (d->conf_milli >= 0)
		cJSON_AddNumberToObject(o, "confidence", d->conf_milli / 1000.0);
	else
		cJSON_AddNullToObject(o, "confidence");
	api__add_time(o, "time", now, tz_min);
	cJSON_AddItemToObject(o, "allowed", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(reply, "allowed"), 1));
	cJSON_AddItemToObject(o, "vehicle_info", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(reply, "vehicle_info"), 1));
	api__events_publish_json(srv, "detection", o);
}

void api__events_camera(api_server *srv, const char *edge_id,
    const char *reported, int64_t now, int tz_min)
{
	cJSON *o;

	api__ws_cameras_changed(srv);	/* the seed's /ws/cameras */
	if (!api__events_listening(srv) || (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "camera_id", edge_id);
	cJSON_AddStringToObject(o, "status", reported != NULL ? "online" : "offline");
	if (reported == NULL) {		/* the sweep: no heartbeat for too long */
		api__events_publish_json(srv, "camera", o);
		return;
	}
	cJSON_AddStringToObject(o, "reported_status", reported);
	api__add_time(o, "last_heartbeat", now, tz_min);
	api__events_publish_json(srv, "camera", o);
}

void api_server_gate_event(api_server *srv, const char *edge_id, int connected)
{
	cJSON *o;

	if (srv == NULL || !api__events_listening(srv) || (o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "camera_id", edge_id);
	cJSON_AddBoolToObject(o, "connected", connected);
	api__events_publish_json(srv, "gate", o);
}

/* The events of one committed range, as stored. */
static int api__events_range(api_server *srv, log_txn *t, const log_range *rg)
{
	log_iter *it;
	log_rec rec;
	int rc;

	if ((rc = log_iter_range(t, rg->stream_no, rg->first_seq, rg->last_seq,
	    &it)) != 0)
		return rc;
	while ((rc = log_iter_next(it, &rec)) == 0)
		api__events_publish(srv, "log", rec.bytes, rec.len);
	log_iter_free(it);
	return rc == LOG_END ? 0 : rc;
}

void api_server_committed(api_server *srv, const log_commit_info *ci)
{
	static const char big[] = "{\"reason\":\"large batch\"}";
	log_txn *t;

	if (srv != NULL && ci->events > 0)
		api__ws_committed(srv, ci);	/* the seed's sockets */
	if (srv == NULL || ci->events == 0 || !api__events_listening(srv))
		return;
	/* A peer's catch-up can commit thousands at once: one resync is
	 * cheaper for everybody than thousands of messages. */
	if (ci->events > API__SSE_BATCH_MAX) {
		api__events_publish(srv, "resync", big, sizeof big - 1);
		return;
	}
	if (log_txn_begin(srv->store, 0, &t) != 0) {
		api__events_publish(srv, "resync", big, sizeof big - 1);
		return;
	}
	for (size_t i = 0; i < ci->nranges; i++)
		if (api__events_range(srv, t, &ci->ranges[i]) != 0)
			break;
	log_txn_abort(t);
}

/* ---- one client: an endless response ----------------------------------- */

static ssize_t api__sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	api__sse *c = cls;
	api__events *h = c->hub;
	size_t n;

	pthread_mutex_lock(&h->mu);
	if (h->closing) {
		pthread_mutex_unlock(&h->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (c->off == c->len) {
		/* Nothing to send: wait suspended, not in a busy loop. */
		c->off = c->len = 0;
		c->suspended = 1;
		MHD_suspend_connection(c->conn);
		pthread_mutex_unlock(&h->mu);
		return 0;
	}
	n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(out, c->buf + c->off, n);
	c->off += n;
	pthread_mutex_unlock(&h->mu);
	return (ssize_t)n;
}

static void api__sse_free(void *cls)
{
	api__sse *c = cls;
	api__events *h = c->hub;

	pthread_mutex_lock(&h->mu);
	for (api__sse **p = &h->clients; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			atomic_fetch_sub(&h->n, 1);
			break;
		}
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	free(c->buf);
	free(c);
}

/* Register a client with its first messages; NULL if full or closing. */
static api__sse *api__sse_add(api__events *h, struct MHD_Connection *conn,
    const char *hello)
{
	api__sse *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->hub = h;
	c->conn = conn;
	pthread_mutex_lock(&h->mu);
	if (h->closing || atomic_load(&h->n) >= API__SSE_MAX) {
		pthread_mutex_unlock(&h->mu);
		free(c);
		return NULL;
	}
	api__sse_push(c, hello, strlen(hello));
	c->next = h->clients;
	h->clients = c;
	atomic_fetch_add(&h->n, 1);
	pthread_mutex_unlock(&h->mu);
	return c;
}

static void api__sse_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* Reverse proxies must not buffer a stream. */
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
}

enum MHD_Result api__h_events(api__req *r)
{
	api_server *srv = r->srv;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char hello[256];
	api__sse *c;

	/* retry: EventSource clients reconnect after 2 s. */
	snprintf(hello, sizeof hello, "retry: 2000\nevent: hello\ndata: "
	    "{\"this_central\":\"%s\",\"keepalive_s\":%d}\n\n", srv->origin,
	    API__SSE_KEEPALIVE_S);
	if ((c = api__sse_add(srv->events, r->conn, hello)) == NULL)
		return api__reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "too many event streams (at most %d) or shutting down",
		    API__SSE_MAX);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
	    api__sse_read, c, api__sse_free);
	if (resp == NULL) {
		api__sse_free(c);
		return MHD_NO;
	}
	api__sse_headers(resp);
	ret = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	api__metrics_count(srv, r->route, MHD_HTTP_OK);
	return ret;
}

/* ---- the hub ------------------------------------------------------------- */

static void *api__events_ticker(void *arg)
{
	static const char ka[] = ": keepalive\n\n";
	api__events *h = arg;
	struct timespec at;

	unsigned n = 0;

	pthread_mutex_lock(&h->mu);
	while (!h->closing) {
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += API__SSE_TICK_S;
		while (!h->closing &&
		    pthread_cond_timedwait(&h->cv, &h->mu, &at) != ETIMEDOUT)
			;
		if (h->closing)
			break;
		if (h->tick != NULL) {		/* it publishes: not under mu */
			pthread_mutex_unlock(&h->mu);
			h->tick(h->tick_ctx);
			pthread_mutex_lock(&h->mu);
		}
		if (++n % (API__SSE_KEEPALIVE_S / API__SSE_TICK_S) == 0)
			for (api__sse *c = h->clients; c != NULL; c = c->next)
				api__sse_push(c, ka, sizeof ka - 1);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int api__events_new(api__events **out, void (*tick)(void *), void *ctx)
{
	api__events *h = calloc(1, sizeof *h);

	*out = h;
	if (h == NULL)
		return ENOMEM;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->tick = tick;
	h->tick_ctx = ctx;
	if (pthread_create(&h->ticker, NULL, api__events_ticker, h) != 0) {
		api__events_free(h);
		*out = NULL;
		return EAGAIN;
	}
	h->ticker_on = 1;
	return 0;
}

/* Every stream ends (its reader says end-of-stream once resumed): MHD may
 * then stop with no suspended connection. */
void api__events_close(api__events *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->closing = 1;
	for (api__sse *c = h->clients; c != NULL; c = c->next) {
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

int api__events_count(api__events *h)
{
	return h != NULL ? atomic_load(&h->n) : 0;
}

uint64_t api__events_drops(api__events *h)
{
	return h != NULL ? atomic_load(&h->drops) : 0;
}

void api__events_free(api__events *h)
{
	if (h == NULL)
		return;
	api__events_close(h);
	if (h->ticker_on)
		pthread_join(h->ticker, NULL);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
