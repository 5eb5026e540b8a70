/* api/reply.c — JSON answers, times and sessions as JSON. */
#include "api/internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t api__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum MHD_Result api__reply_text(api__req *r, unsigned status, char *text,
    size_t len, const char *ctype)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	api__cors_headers(r, resp);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED && (size_t)r->route < api__nroutes) {
		int m = api__routes[r->route].method;

		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    m == API__GET ? "GET, HEAD" : m == API__POST ? "POST" :
		    m == (API__PUT | API__DELETE) ? "PUT, DELETE" :
		    m == (API__GET | API__PUT) ? "GET, HEAD, PUT" :
		    "GET, HEAD, POST, PUT");
	}
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer");
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	api__metrics_count(r->srv, r->route, status);
	api__metrics_time(r->srv, r->route, r->t0_us);
	return ret;
}

enum MHD_Result api__reply(api__req *r, unsigned status, cJSON *o)
{
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (text == NULL) {
		static const char oom[] =
		    "{\"success\":false,\"error\":\"out of memory\"}";
		char *t = strdup(oom);

		return t ? api__reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, t,
		    sizeof oom - 1, "application/json") : MHD_NO;
	}
	return api__reply_text(r, status, text, strlen(text), "application/json");
}

enum MHD_Result api__reply_error(api__req *r, unsigned status, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (o != NULL) {
		cJSON_AddFalseToObject(o, "success");
		cJSON_AddStringToObject(o, "error", msg);
	}
	return api__reply(r, status, o);
}

enum MHD_Result api__reply_store_error(api__req *r, int rc)
{
	return api__reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store: %s",
	    log_strerror(rc));
}

cJSON *api__ok(void)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL)
		cJSON_AddTrueToObject(o, "success");
	return o;
}

void api__iso(int64_t ms, int tz_min, char buf[32])
{
	int64_t s = (ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000)) + tz_min * 60;
	time_t t = (time_t)s;
	int off = tz_min < 0 ? -tz_min : tz_min;
	char tmp[96];
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, tz_min < 0 ? '-' : '+', off / 60, off % 60);
	memcpy(buf, tmp, 31);	/* 25 bytes for any year 0..9999 */
	buf[31] = '\0';
}

void api__add_time(cJSON *obj, const char *key, int64_t ms, int tz_min)
{
	char k[64], iso[32];

	snprintf(k, sizeof k, "%s_ms", key);
	if (ms < 0) {
		cJSON_AddNullToObject(obj, key);
		cJSON_AddNullToObject(obj, k);
		return;
	}
	api__iso(ms, tz_min, iso);
	cJSON_AddStringToObject(obj, key, iso);
	cJSON_AddNumberToObject(obj, k, (double)ms);
}

void api__duration(int64_t s, char buf[32])
{
	if (s < 0)
		s = 0;
	snprintf(buf, 32, "%" PRId64 "h %02" PRId64 "m", s / 3600, s / 60 % 60);
}

static void api__add_flags(cJSON *row, unsigned f)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ PROJ_S_DOUBLE_ENTRY, "DOUBLE_ENTRY" },
		{ PROJ_S_LINKED_EXIT, "LINKED_EXIT" },
		{ PROJ_S_ORPHAN_EXIT, "ORPHAN_EXIT" },
		{ PROJ_S_DUP_EXIT, "DUP_EXIT" },
		{ PROJ_S_FEE_DIFF, "FEE_DIFF" },
		{ PROJ_S_VOIDED, "VOIDED" },
		{ PROJ_S_CORRECTED, "CORRECTED" },
	};
	cJSON *a = cJSON_AddArrayToObject(row, "flags");

	for (size_t i = 0; a != NULL && i < sizeof names / sizeof names[0]; i++)
		if (f & names[i].bit)
			cJSON_AddItemToArray(a, cJSON_CreateString(names[i].name));
}

static void api__add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v[0] != '\0')
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void api__add_int_or_null(cJSON *o, const char *key, int64_t v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

/* Stay so far (open) or in full (closed), in seconds; -1 if unknown. */
static int64_t api__stay_s(const proj_session *s, int64_t now)
{
	if (s->entry_ts < 0)
		return -1;
	return ((s->exit_ts >= 0 ? s->exit_ts : now) - s->entry_ts) / 1000;
}

cJSON *api__session_json(const proj_session *s, int tz_min, int64_t now,
    const proj_tariff *t)
{
	cJSON *o = cJSON_CreateObject();
	int64_t stay = api__stay_s(s, now), fee_now;
	int closed = (s->flags & PROJ_S_CLOSED) != 0;
	char dur[32];

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddStringToObject(o, "event_id", s->id);
	cJSON_AddStringToObject(o, "plate_id", s->plate);
	cJSON_AddStringToObject(o, "plate_view", s->plate_view);
	cJSON_AddStringToObject(o, "vehicle", s->vehicle);
	cJSON_AddStringToObject(o, "status", closed ? "OUT" : "IN");
	api__add_time(o, "entry_time", s->entry_ts, tz_min);
	api__add_str_or_null(o, "entry_edge", s->entry_edge);
	api__add_str_or_null(o, "entry_central", s->entry_origin);
	cJSON_AddBoolToObject(o, "confirmed", (s->flags & PROJ_S_CONFIRMED) != 0);
	api__add_time(o, "exit_time", s->exit_ts, tz_min);
	api__add_str_or_null(o, "exit_event_id", s->exit_id);
	api__add_str_or_null(o, "exit_edge", s->exit_edge);
	api__add_str_or_null(o, "exit_central", s->exit_origin);
	api__add_int_or_null(o, "duration_s", stay);
	api__duration(stay, dur);
	if (stay >= 0)
		cJSON_AddStringToObject(o, "duration", dur);
	else
		cJSON_AddNullToObject(o, "duration");
	api__add_int_or_null(o, "fee", s->fee_charged);
	api__add_int_or_null(o, "fee_tariff", s->fee_tariff);
	/* What leaving now would cost an open session. */
	if (!closed && t != NULL && s->entry_ts >= 0 &&
	    proj_tariff_fee(t, s->vehicle, s->entry_ts,
	    now > s->entry_ts ? now : s->entry_ts + 1, &fee_now) == 0)
		cJSON_AddNumberToObject(o, "fee_now", (double)fee_now);
	if (s->primary[0] != '\0')
		cJSON_AddStringToObject(o, "primary", s->primary);
	if (s->pass[0] != '\0')	/* ops.h: the pass that made the exit free */
		cJSON_AddStringToObject(o, "pass", s->pass);
	api__add_flags(o, s->flags);
	/* the seed's row fields its UI reads (docs/seed-compat.md): camera
	 * names are the gates' ids; no locations or anomalies are recorded */
	api__add_str_or_null(o, "entry_camera_name", s->entry_edge);
	api__add_str_or_null(o, "exit_camera_name", s->exit_edge);
	cJSON_AddNullToObject(o, "last_location");
	cJSON_AddNullToObject(o, "last_location_time");
	cJSON_AddNumberToObject(o, "is_anomaly", 0);
	return o;
}
