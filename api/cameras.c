/* api/cameras.c — the cameras/edges registry: heartbeats, last activity and
 * each edge's last detection. In memory only: it is status, not history
 * (a restart shows edges offline until they speak again). */
#include "api/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API__CAMERAS_MAX	4096		/* unconfigured ids are bounded */
#define API__DETECTION_TTL_MS	(5 * 60 * 1000)	/* detection → open */

typedef struct api__camera {
	char id[LOG_ORIGIN_MAX + 1];
	char name[API_NAME_MAX + 1];
	char vehicle[LOG_VEHICLE_MAX + 1];
	char status[API_NAME_MAX + 1];
	int64_t last_heartbeat, last_seen;	/* ms, -1 never */
	int64_t events_sent, events_failed;
	api_detection det;
	int64_t det_ts;				/* -1: none */
	int offline_told;			/* the sweep reported its silence */
	api_edge_clock clock;			/* its clock and contact runs */
	uint64_t ts_refused;			/* its edge_ts not believed */
	enum api_ts_verdict ts_last_why;	/* the last refusal's reason */
} api__camera;

struct api__cameras {
	pthread_mutex_t mu;
	api__camera *v;
	size_t n, cap;
};

int api__cameras_new(api__cameras **out)
{
	api__cameras *c = calloc(1, sizeof *c);

	*out = c;
	if (c == NULL)
		return ENOMEM;
	pthread_mutex_init(&c->mu, NULL);
	return 0;
}

void api__cameras_free(api__cameras *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->v);
	free(c);
}

/* The entry of `id`, created if room; NULL otherwise. Under c->mu. */
static api__camera *api__camera_get(api__cameras *c, const char *id)
{
	api__camera *cam, *v;

	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].id, id) == 0)
			return &c->v[i];
	if (c->n == API__CAMERAS_MAX)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		if ((v = realloc(c->v, cap * sizeof *v)) == NULL)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	cam = &c->v[c->n++];
	memset(cam, 0, sizeof *cam);
	snprintf(cam->id, sizeof cam->id, "%s", id);
	cam->last_heartbeat = cam->last_seen = cam->det_ts = -1;
	cam->events_sent = cam->events_failed = -1;
	api_clock_init(&cam->clock);
	return cam;
}

void api__cameras_heartbeat(api__cameras *c, const api_heartbeat *hb,
    int64_t edge_ms, int64_t now)
{
	api__camera *cam;

	pthread_mutex_lock(&c->mu);
	if ((cam = api__camera_get(c, hb->edge_id)) != NULL) {
		if (hb->camera_name[0] != '\0')
			memcpy(cam->name, hb->camera_name, sizeof cam->name);
		if (hb->vehicle[0] != '\0')
			memcpy(cam->vehicle, hb->vehicle, sizeof cam->vehicle);
		memcpy(cam->status, hb->status, sizeof cam->status);
		cam->events_sent = hb->events_sent;
		cam->events_failed = hb->events_failed;
		cam->last_heartbeat = cam->last_seen = now;
		cam->offline_told = 0;
		api_clock_sample(&cam->clock, edge_ms, now);
	}
	pthread_mutex_unlock(&c->mu);
}

void api__cameras_seen(api__cameras *c, const char *edge_id, int64_t now,
    int64_t gap_ms)
{
	api__camera *cam;

	pthread_mutex_lock(&c->mu);
	if ((cam = api__camera_get(c, edge_id)) != NULL) {
		cam->last_seen = now;
		cam->offline_told = 0;
		api_clock_contact(&cam->clock, now, gap_ms);
	}
	pthread_mutex_unlock(&c->mu);
}

enum api_ts_verdict api__cameras_judge(api__cameras *c, const char *edge_id,
    const api_time_policy *p, int64_t edge_ts, int64_t now)
{
	enum api_ts_verdict v;
	api__camera *cam;

	pthread_mutex_lock(&c->mu);
	/* a gate the registry has no room for: only the fixed bounds */
	cam = api__camera_get(c, edge_id);
	v = api_edge_ts_judge(p, cam != NULL ? &cam->clock : NULL, edge_ts, now);
	if (cam != NULL && v != API_TS_OK) {
		cam->ts_refused++;
		cam->ts_last_why = v;
	}
	pthread_mutex_unlock(&c->mu);
	return v;
}

void api__cameras_detect(api__cameras *c, const api_detection *d, int64_t now)
{
	api__camera *cam;

	pthread_mutex_lock(&c->mu);
	if ((cam = api__camera_get(c, d->edge_id)) != NULL) {
		cam->det = *d;
		cam->det_ts = now;
		if (d->vehicle[0] != '\0')
			memcpy(cam->vehicle, d->vehicle, sizeof cam->vehicle);
	}
	pthread_mutex_unlock(&c->mu);
}

int api__cameras_last_detection(api__cameras *c, const char *edge_id,
    const char *plate, int64_t now, api_detection *out)
{
	int rc = -1;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n; i++) {
		api__camera *cam = &c->v[i];

		if (strcmp(cam->id, edge_id) != 0)
			continue;
		if (cam->det_ts >= 0 && now - cam->det_ts <= API__DETECTION_TTL_MS &&
		    strcmp(cam->det.plate, plate) == 0) {
			*out = cam->det;
			rc = 0;
		}
		break;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void api__cameras_sweep(api__cameras *c, unsigned offline_s, int64_t now,
    void (*cb)(void *ctx, const char *edge_id), void *ctx)
{
	char ids[16][LOG_ORIGIN_MAX + 1];
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n && n < 16; i++) {	/* the rest: next sweep */
		api__camera *cam = &c->v[i];

		if (cam->last_seen < 0 || cam->offline_told ||
		    now - cam->last_seen <= (int64_t)offline_s * 1000)
			continue;
		cam->offline_told = 1;
		memcpy(ids[n++], cam->id, sizeof ids[0]);
	}
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n; i++)
		cb(ctx, ids[i]);
}

static void api__add_count(cJSON *o, const char *key, int64_t v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

/* The edge's last detection, for the console's gate card; null if none. */
static void api__add_detection(cJSON *o, const api__camera *cam, int tz)
{
	cJSON *d;

	if (cam == NULL || cam->det_ts < 0 ||
	    (d = cJSON_AddObjectToObject(o, "last_detection")) == NULL) {
		cJSON_AddNullToObject(o, "last_detection");
		return;
	}
	cJSON_AddStringToObject(d, "plate_id", cam->det.plate);
	cJSON_AddStringToObject(d, "plate_view", cam->det.plate_view);
	cJSON_AddStringToObject(d, "camera_type", cam->det.vehicle);
	if (cam->det.conf_milli >= 0)
		cJSON_AddNumberToObject(d, "confidence", cam->det.conf_milli / 1000.0);
	else
		cJSON_AddNullToObject(d, "confidence");
	api__add_time(d, "time", cam->det_ts, tz);
}

/* "clock": what the central makes of the gate's clock (docs/time.md):
 * offset_ms (null until measured), trusted (its edge_ts may be taken),
 * edge_ts_refused (count) and last_refusal (reason, or null). */
static void api__add_clock(cJSON *o, const api__camera *cam, const api__policy *pol)
{
	int64_t drift = pol->time.max_drift_ms ? pol->time.max_drift_ms :
	    API_TIME_DRIFT_MS, off = 0;
	int known = cam != NULL && api_clock_offset(&cam->clock, &off);
	cJSON *k = cJSON_AddObjectToObject(o, "clock");

	if (k == NULL)
		return;
	if (known)
		cJSON_AddNumberToObject(k, "offset_ms", (double)off);
	else
		cJSON_AddNullToObject(k, "offset_ms");
	cJSON_AddBoolToObject(k, "trusted", !known || (off <= drift && off >= -drift));
	cJSON_AddNumberToObject(k, "edge_ts_refused", cam ? (double)cam->ts_refused : 0);
	if (cam != NULL && cam->ts_refused > 0)
		cJSON_AddStringToObject(k, "last_refusal", api_ts_reason(cam->ts_last_why));
	else
		cJSON_AddNullToObject(k, "last_refusal");
}

/* The seed's camera fields (SEED-API.md §2): id (a number when the id is
 * one), name, type (its gate role: a heartbeat's camera_type ENTRY, EXIT
 * or PARKING_LOT, else the configured direction), no location, no relays
 * (parklog relays no video and no control to edges). */
static void api__seed_fields(cJSON *o, const char *id, const api__camera *cam,
    const api_edge *e)
{
	const char *v = cam ? cam->vehicle : "", *type;
	char *end;
	long n = strtol(id, &end, 10);
	cJSON *p;

	if (*id != '\0' && *end == '\0' && n >= 0 && n < 1000000000)
		cJSON_AddNumberToObject(o, "id", (double)n);
	else
		cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "name", cam && cam->name[0] ? cam->name : id);
	type = strcmp(v, "entry") == 0 ? "ENTRY" : strcmp(v, "exit") == 0 ? "EXIT" :
	    strcmp(v, "parking_lot") == 0 ? "PARKING_LOT" :
	    e != NULL && e->direction == API_DIR_EXIT ? "EXIT" : "ENTRY";
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddNullToObject(o, "location");
	if ((p = cJSON_AddObjectToObject(o, "stream_proxy")) != NULL) {
		cJSON_AddFalseToObject(p, "available");
		cJSON_AddStringToObject(p, "reason", "parklog relays no video");
	}
	if ((p = cJSON_AddObjectToObject(o, "control_proxy")) != NULL) {
		cJSON_AddFalseToObject(p, "available");
		cJSON_AddStringToObject(p, "reason", "parklog relays no edge control");
	}
}

static cJSON *api__camera_json(const api__camera *cam, const api_edge *e,
    const api__policy *pol, int64_t now, int *online)
{
	int tz = pol->tariff.tz_offset_min;
	cJSON *o = cJSON_CreateObject();

	*online = cam != NULL && cam->last_seen >= 0 &&
	    now - cam->last_seen <= (int64_t)pol->camera_offline_s * 1000;
	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "camera_id", cam ? cam->id : e->id);
	cJSON_AddStringToObject(o, "camera_name", cam && cam->name[0] ? cam->name :
	    cam ? cam->id : e->id);
	cJSON_AddStringToObject(o, "camera_type", cam && cam->vehicle[0] ?
	    cam->vehicle : e && e->vehicle[0] ? e->vehicle : "car");
	cJSON_AddStringToObject(o, "direction", e == NULL ||
	    e->direction == API_DIR_NONE ? "ANY" :
	    e->direction == API_DIR_ENTRY ? "ENTRY" : "EXIT");
	cJSON_AddBoolToObject(o, "configured", e != NULL);
	cJSON_AddStringToObject(o, "status", *online ? "online" : "offline");
	cJSON_AddStringToObject(o, "reported_status", cam ? cam->status : "");
	api__add_time(o, "last_heartbeat", cam ? cam->last_heartbeat : -1, tz);
	api__add_time(o, "last_seen", cam ? cam->last_seen : -1, tz);
	api__add_count(o, "events_sent", cam ? cam->events_sent : -1);
	api__add_count(o, "events_failed", cam ? cam->events_failed : -1);
	api__add_detection(o, cam, tz);
	api__add_clock(o, cam, pol);
	api__seed_fields(o, cam ? cam->id : e->id, cam, e);
	return o;
}

static const api_edge *api__edge_of(const api__policy *pol, const char *id)
{
	for (size_t i = 0; i < pol->nedges; i++)
		if (strcmp(pol->edges[i].id, id) == 0)
			return &pol->edges[i];
	return NULL;
}

void api__cameras_count(api__cameras *c, unsigned offline_s, int64_t now,
    size_t *known, size_t *online)
{
	*known = *online = 0;
	pthread_mutex_lock(&c->mu);
	for (size_t j = 0; j < c->n; j++) {
		if (c->v[j].last_seen < 0)
			continue;
		(*known)++;
		if (now - c->v[j].last_seen <= (int64_t)offline_s * 1000)
			(*online)++;
	}
	pthread_mutex_unlock(&c->mu);
}

/* Configured edges first (heard from or not), then the others heard. */
static int api__cameras_list(api__cameras *c, const api__policy *pol, cJSON *arr,
    int64_t now, int *online)
{
	int on, rc = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < pol->nedges && rc == 0; i++) {
		const api__camera *cam = NULL;
		cJSON *o;

		for (size_t j = 0; j < c->n && cam == NULL; j++)
			if (strcmp(c->v[j].id, pol->edges[i].id) == 0)
				cam = &c->v[j];
		o = api__camera_json(cam, &pol->edges[i], pol, now, &on);
		rc = o != NULL && cJSON_AddItemToArray(arr, o) ? 0 : ENOMEM;
		*online += on;
	}
	for (size_t j = 0; j < c->n && rc == 0; j++) {
		cJSON *o;

		if (api__edge_of(pol, c->v[j].id) != NULL)
			continue;
		o = api__camera_json(&c->v[j], NULL, pol, now, &on);
		rc = o != NULL && cJSON_AddItemToArray(arr, o) ? 0 : ENOMEM;
		*online += on;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* By the seed's id: numbers first, in order, then the others by name. */
static int api__cam_cmp(const void *a, const void *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "id");
	const cJSON *y = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "id");

	if (cJSON_IsNumber(x) != cJSON_IsNumber(y))
		return cJSON_IsNumber(x) ? -1 : 1;
	if (cJSON_IsNumber(x))
		return (x->valuedouble > y->valuedouble) - (x->valuedouble < y->valuedouble);
	return strcmp(cJSON_GetStringValue(x), cJSON_GetStringValue(y));
}

static cJSON *api__cams_sorted(cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	cJSON **v = n > 0 ? calloc((size_t)n, sizeof *v) : NULL;
	cJSON *out = cJSON_CreateArray();

	if (n > 0 && (v == NULL || out == NULL)) {
		free(v);
		cJSON_Delete(out);
		return arr;	/* unsorted, rather than nothing */
	}
	for (int i = n - 1; i >= 0; i--)
		v[i] = cJSON_DetachItemFromArray(arr, i);
	if (n > 0)
		qsort(v, (size_t)n, sizeof *v, api__cam_cmp);
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(out, v[i]);
	free(v);
	cJSON_Delete(arr);
	return out;
}

cJSON *api__seed_cameras(api_server *srv, const api__policy *pol)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *cam;
	int online = 0;

	if (o == NULL || arr == NULL ||
	    api__cameras_list(srv->cams, pol, arr, api__now_ms(), &online) != 0) {
		cJSON_Delete(o);
		cJSON_Delete(arr);
		return NULL;
	}
	if (srv->hooks.gate_status != NULL) {
		cJSON_ArrayForEach(cam, arr) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(cam, "camera_id");

			if (cJSON_IsString(id))
				srv->hooks.gate_status(srv->hooks.gate_ctx,
				    id->valuestring, cam);
		}
	}
	arr = api__cams_sorted(arr);
	cJSON_AddNumberToObject(o, "total", cJSON_GetArraySize(arr));
	cJSON_AddNumberToObject(o, "online", online);
	cJSON_AddNumberToObject(o, "offline", cJSON_GetArraySize(arr) - online);
	cJSON_AddItemToObject(o, "cameras", arr);
	return o;
}

enum MHD_Result api__h_cameras(api__req *r)
{
	cJSON *o = api__seed_cameras(r->srv, r->pol), *ok = api__ok(), *it;

	if (o == NULL || ok == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(ok);
		return api__reply(r, 500, NULL);
	}
	while ((it = o->child) != NULL)
		cJSON_AddItemToObject(ok, it->string,
		    cJSON_DetachItemViaPointer(o, it));
	cJSON_Delete(o);
	return api__reply(r, MHD_HTTP_OK, ok);
}
