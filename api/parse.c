/* api/parse.c — request bodies into plain structs; see parse.h. */
#include "api/parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

enum { API__ABSENT = 1 };	/* an optional field not given (or null) */

static int api__err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int api__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The body as a JSON object. The caller deletes *root. */
static int api__object(const char *body, size_t len, cJSON **root,
    char *err, size_t errlen)
{
	*root = NULL;
	if (len == 0)
		return api__err(err, errlen, "body: empty (expected a JSON object)");
	*root = cJSON_ParseWithLength(body, len);
	if (*root == NULL)
		return api__err(err, errlen, "body: invalid JSON");
	if (!cJSON_IsObject(*root))
		return api__err(err, errlen, "body: expected a JSON object");
	return 0;
}

/* A string field: 0, API__ABSENT (missing or null), or -1 (wrong type,
 * too long). Copied into out[cap] on success. */
static int api__str(const cJSON *o, const char *key, char *out, size_t cap,
    char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t n;

	out[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return API__ABSENT;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return api__err(err, errlen, "%s: expected a string", key);
	n = strlen(v->valuestring);
	if (n >= cap)
		return api__err(err, errlen, "%s: too long (at most %zu bytes)",
		    key, cap - 1);
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

static int api__required(int rc, const char *key, char *err, size_t errlen)
{
	if (rc == API__ABSENT)
		return api__err(err, errlen, "%s: missing", key);
	return rc;
}

/* An edge id: 1..LOG_ORIGIN_MAX of [A-Za-z0-9.-] (the log's rule). */
static int api__edge_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LOG_ORIGIN_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

static int api__edge(const cJSON *o, const char *key, char out[LOG_ORIGIN_MAX + 1],
    char *err, size_t errlen)
{
	int rc = api__str(o, key, out, LOG_ORIGIN_MAX + 1, err, errlen);

	if ((rc = api__required(rc, key, err, errlen)) != 0)
		return rc;
	if (!api__edge_ok(out))
		return api__err(err, errlen, "%s: need 1..%d characters of "
		    "A-Z a-z 0-9 . -", key, LOG_ORIGIN_MAX);
	return 0;
}

/* Phase 1 camera_id: a non-negative integer or an edge id string. */
static int api__camera_id(const cJSON *o, char out[LOG_ORIGIN_MAX + 1],
    char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "camera_id");
	double d;

	if (v == NULL || cJSON_IsNull(v))
		return api__err(err, errlen, "camera_id: missing");
	if (cJSON_IsString(v))
		return api__edge(o, "camera_id", out, err, errlen);
	if (!cJSON_IsNumber(v))
		return api__err(err, errlen, "camera_id: expected an integer or a string");
	d = v->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
		return api__err(err, errlen, "camera_id: expected an integer >= 0");
	snprintf(out, LOG_ORIGIN_MAX + 1, "%lld", (long long)d);
	return 0;
}

/* plate_id → normalised plate (6..12 of A-Z 0-9 after normalising). */
static int api__plate(const cJSON *o, const char *key, char plate[LOG_PLATE_MAX + 1],
    char raw[LOG_VIEW_MAX + 1], char *err, size_t errlen)
{
	char buf[256], why[128];
	int rc = api__str(o, key, buf, sizeof buf, err, errlen);

	if ((rc = api__required(rc, key, err, errlen)) != 0)
		return rc;
	if (log_plate_normalise(buf, plate, why, sizeof why) != 0)
		return api__err(err, errlen, "%s: %s", key,
		    strncmp(why, "plate: ", 7) == 0 ? why + 7 : why);
	/* The raw text doubles as plate_view when none is sent. */
	if (raw != NULL) {
		if (strlen(buf) <= LOG_VIEW_MAX && api_view_ok(buf))
			memcpy(raw, buf, strlen(buf) + 1);
		else
			memcpy(raw, plate, strlen(plate) + 1);
	}
	return 0;
}

/* plate_view: kept as sent; `out` is left alone when absent. */
static int api__view(const cJSON *o, char out[LOG_VIEW_MAX + 1], char *err,
    size_t errlen)
{
	char buf[LOG_VIEW_MAX + 1];
	int rc = api__str(o, "plate_view", buf, sizeof buf, err, errlen);

	if (rc != 0)
		return rc;
	if (!api_view_ok(buf))
		return api__err(err, errlen, "plate_view: need 1..%d bytes of "
		    "printable UTF-8 without '\"' or '\\'", LOG_VIEW_MAX);
	memcpy(out, buf, sizeof buf);
	return 0;
}

/* Free text (camera_name, status): no control characters. */
static int api__text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* camera_type / vehicle: case-folded to 1..16 of [a-z0-9_-]. */
static int api__vehicle(const cJSON *o, const char *key,
    char out[LOG_VEHICLE_MAX + 1], char *err, size_t errlen)
{
	int rc = api__str(o, key, out, LOG_VEHICLE_MAX + 1, err, errlen);

	if (rc != 0)
		return rc;
	if (out[0] == '\0')
		goto bad;
	for (char *p = out; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			goto bad;
	}
	return 0;
bad:
	out[0] = '\0';
	return api__err(err, errlen, "%s: need 1..%d characters of a-z 0-9 _ -",
	    key, LOG_VEHICLE_MAX);
}

/* confidence: a number in [0, 1] → thousandths; -1 if absent. */
static int api__conf(const cJSON *o, const char *key, int *milli, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*milli = -1;
	if (v == NULL || cJSON_IsNull(v))
		return API__ABSENT;
	if (!cJSON_IsNumber(v))
		return api__err(err, errlen, "%s: expected a number", key);
	if (!(v->valuedouble >= 0 && v->valuedouble <= 1))
		return api__err(err, errlen, "%s: expected 0..1", key);
	*milli = (int)lround(v->valuedouble * 1000);
	return 0;
}

/* An optional non-negative integer counter; -1 if absent. */
static int api__count(const cJSON *o, const char *key, int64_t *out, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	*out = -1;
	if (v == NULL || cJSON_IsNull(v))
		return API__ABSENT;
	d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
		return api__err(err, errlen, "%s: expected an integer >= 0", key);
	*out = (int64_t)d;
	return 0;
}

/* timestamp: any string or number (the edge's clock), but not another
 * type; kept in *t if given (api_timestamp_ms decides whether to believe
 * it). t may be NULL. */
static int api__timestamp(const cJSON *o, api_timestamp *t, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "timestamp");

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		if (t != NULL && v->valuedouble > 0 && v->valuedouble < 9e15)
			t->ms = (int64_t)(v->valuedouble < 1e11 ? v->valuedouble * 1000 :
			    v->valuedouble);
		return 0;
	}
	if (cJSON_IsString(v)) {
		if (t != NULL && strlen(v->valuestring) < sizeof t->text)
			memcpy(t->text, v->valuestring, strlen(v->valuestring) + 1);
		return 0;
	}
	return api__err(err, errlen, "timestamp: expected a string or a number");
}

int64_t api_timestamp_ms(const api_timestamp *t, int tz_min)
{
	int64_t ms = t->ms;

	if (ms <= 0 && (t->text[0] == '\0' || api_parse_time(t->text, tz_min, &ms) != 0))
		return 0;
	return ms > 0 && ms <= 9007199254740992LL ? ms : 0;
}

/* A field that may only have one string value (e.g. action: "open"). */
static int api__literal(const cJSON *o, const char *key, const char *want,
    char *err, size_t errlen)
{
	char buf[32];
	int rc = api__str(o, key, buf, sizeof buf, err, errlen);

	if (rc < 0)
		return rc;
	if (rc == API__ABSENT || want == NULL)
		return 0;
	if (strcmp(buf, want) != 0)
		return api__err(err, errlen, "%s: expected \"%s\"", key, want);
	return 0;
}

static int api__direction(const cJSON *o, enum api_dir_req *out, char *err,
    size_t errlen)
{
	char buf[16];
	int rc = api__str(o, "direction", buf, sizeof buf, err, errlen);

	*out = API_REQ_DIR_NONE;
	if (rc == API__ABSENT)
		return 0;
	if (rc == 0 && strcasecmp(buf, "ENTRY") == 0)
		*out = API_REQ_DIR_ENTRY;
	else if (rc == 0 && strcasecmp(buf, "EXIT") == 0)
		*out = API_REQ_DIR_EXIT;
	else
		return api__err(err, errlen, "direction: expected \"ENTRY\" or \"EXIT\"");
	return 0;
}

int api_view_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (n == 0 || n > LOG_VIEW_MAX)
		return 0;
	while (*p != '\0') {
		size_t k, i;

		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
				return 0;
			p++;
			continue;
		}
		k = *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3 :
		    *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
		if (k == 0)
			return 0;
		for (i = 1; i < k; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
		    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f) ||
		    (p[0] == 0xc2 && p[1] < 0xa0))
			return 0;	/* overlong, surrogate, > U+10FFFF, C1 */
		p += k;
	}
	return 1;
}

int api_parse_detection(const char *body, size_t len, api_detection *out,
    char *err, size_t errlen)
{
	cJSON *o;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = api__object(body, len, &o, err, errlen)) != 0 ||
	    (rc = api__edge(o, "edge_id", out->edge_id, err, errlen)) != 0 ||
	    (rc = api__plate(o, "plate_id", out->plate, out->plate_view, err, errlen)) != 0 ||
	    (rc = api__view(o, out->plate_view, err, errlen)) < 0 ||
	    (rc = api__vehicle(o, "camera_type", out->vehicle, err, errlen)) < 0 ||
	    (rc = api__direction(o, &out->direction, err, errlen)) != 0 ||
	    (rc = api__conf(o, "confidence", &out->conf_milli, err, errlen)) < 0 ||
	    (rc = api__timestamp(o, NULL, err, errlen)) != 0)
		goto err;
	rc = 0;
err:
	cJSON_Delete(o);
	return rc < 0 ? -1 : 0;
}

int api_parse_barrier(const char *body, size_t len, const char *action,
    api_barrier *out, char *err, size_t errlen)
{
	cJSON *o;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = api__object(body, len, &o, err, errlen)) != 0 ||
	    (rc = api__edge(o, "edge_id", out->edge_id, err, errlen)) != 0 ||
	    (rc = api__plate(o, "plate_id", out->plate, NULL, err, errlen)) != 0 ||
	    (rc = api__literal(o, "action", action, err, errlen)) != 0 ||
	    (rc = api__view(o, out->plate_view, err, errlen)) < 0 ||
	    (rc = api__vehicle(o, "camera_type", out->vehicle, err, errlen)) < 0 ||
	    (rc = api__conf(o, "confidence", &out->conf_milli, err, errlen)) < 0 ||
	    (rc = api__timestamp(o, &out->when, err, errlen)) != 0)
		goto err;
	/* "vehicle" is our name for the seed's camera_type. */
	if (out->vehicle[0] == '\0' &&
	    (rc = api__vehicle(o, "vehicle", out->vehicle, err, errlen)) < 0)
		goto err;
	rc = 0;
err:
	cJSON_Delete(o);
	return rc < 0 ? -1 : 0;
}

static int api__ev1_type(const cJSON *o, enum api_ev1_type *t, char *err,
    size_t errlen)
{
	char buf[16];
	int rc = api__str(o, "type", buf, sizeof buf, err, errlen);

	if ((rc = api__required(rc, "type", err, errlen)) != 0)
		return rc;
	if (strcmp(buf, "ENTRY") == 0)
		*t = API_EV1_ENTRY;
	else if (strcmp(buf, "EXIT") == 0)
		*t = API_EV1_EXIT;
	else if (strcmp(buf, "DETECTION") == 0)
		*t = API_EV1_DETECTION;
	else if (strcmp(buf, "UPDATE") == 0)
		*t = API_EV1_UPDATE;
	else if (strcmp(buf, "DELETE") == 0)
		*t = API_EV1_DELETE;
	else if (strcmp(buf, "LOCATION_UPDATE") == 0)
		*t = API_EV1_LOCATION;
	else
		return api__err(err, errlen, "type: expected \"ENTRY\", \"EXIT\", "
		    "\"DETECTION\", \"UPDATE\", \"DELETE\" or \"LOCATION_UPDATE\"");
	return 0;
}

/* Phase 1 "data": {plate_text, confidence?, source?}. */
static int api__ev1_data(const cJSON *o, api_event1 *out, char *err, size_t errlen)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "data");
	char src[API_NAME_MAX + 1];
	int rc;

	if (d == NULL || cJSON_IsNull(d))
		return api__err(err, errlen, "data: missing");
	if (!cJSON_IsObject(d))
		return api__err(err, errlen, "data: expected an object");
	if ((rc = api__plate(d, "plate_text", out->plate, out->plate_view,
	    err, errlen)) != 0 ||
	    (rc = api__conf(d, "confidence", &out->conf_milli, err, errlen)) < 0 ||
	    (rc = api__str(d, "source", src, sizeof src, err, errlen)) < 0)
		return -1;
	return 0;
}

static int api__idem_str(const cJSON *o, const char *key, char *out, char *err,
    size_t errlen)
{
	int rc = api__str(o, key, out, API_IDEM_MAX + 1, err, errlen);

	if (rc != 0)
		return rc;
	if (api_parse_idem_key(out, NULL, 0) != 0)
		return api__err(err, errlen, "%s: need 1..%d printable ASCII "
		    "characters", key, API_IDEM_MAX);
	return 0;
}

int api_parse_event1(const char *body, size_t len, api_event1 *out,
    char *err, size_t errlen)
{
	cJSON *o;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = api__object(body, len, &o, err, errlen)) != 0 ||
	    (rc = api__ev1_type(o, &out->type, err, errlen)) != 0 ||
	    (rc = api__camera_id(o, out->edge_id, err, errlen)) != 0 ||
	    (rc = api__str(o, "camera_name", out->camera_name,
	    sizeof out->camera_name, err, errlen)) < 0 ||
	    (rc = api__vehicle(o, "camera_type", out->vehicle, err, errlen)) < 0 ||
	    (rc = api__idem_str(o, "event_id", out->event_id, err, errlen)) < 0 ||
	    (rc = api__timestamp(o, &out->when, err, errlen)) != 0)
		goto err;
	if (out->type < API_EV1_UPDATE &&
	    (rc = api__ev1_data(o, out, err, errlen)) != 0)
		goto err;
	rc = api__text_ok(out->camera_name) ? 0 :
	    api__err(err, errlen, "camera_name: control character");
err:
	cJSON_Delete(o);
	return rc < 0 ? -1 : 0;
}

int api_parse_heartbeat(const char *body, size_t len, api_heartbeat *out,
    char *err, size_t errlen)
{
	cJSON *o;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = api__object(body, len, &o, err, errlen)) != 0 ||
	    (rc = api__camera_id(o, out->edge_id, err, errlen)) != 0 ||
	    (rc = api__str(o, "camera_name", out->camera_name,
	    sizeof out->camera_name, err, errlen)) < 0 ||
	    (rc = api__vehicle(o, "camera_type", out->vehicle, err, errlen)) < 0 ||
	    (rc = api__str(o, "status", out->status, sizeof out->status,
	    err, errlen)) < 0 ||
	    (rc = api__count(o, "events_sent", &out->events_sent, err, errlen)) < 0 ||
	    (rc = api__count(o, "events_failed", &out->events_failed, err, errlen)) < 0 ||
	    (rc = api__timestamp(o, &out->when, err, errlen)) != 0)
		goto err;
	if (!api__text_ok(out->status))
		rc = api__err(err, errlen, "status: control character");
	else if (!api__text_ok(out->camera_name))
		rc = api__err(err, errlen, "camera_name: control character");
	else
		rc = 0;
err:
	cJSON_Delete(o);
	return rc < 0 ? -1 : 0;
}

int api_parse_idem_key(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n > API_IDEM_MAX)
		return api__err(err, errlen, "Idempotency-Key: need 1..%d characters",
		    API_IDEM_MAX);
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return api__err(err, errlen, "Idempotency-Key: printable "
			    "ASCII without spaces only");
	return 0;
}

int api_parse_plate(const char *s, char out[LOG_PLATE_MAX + 1], char *err,
    size_t errlen)
{
	char why[128];

	if (strlen(s) > 255)
		return api__err(err, errlen, "plate: too long");
	if (log_plate_normalise(s, out, why, sizeof why) != 0)
		return api__err(err, errlen, "%s", why);
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t api__days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s into *v; 0 or -1. */
static int api__digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* The offset at s ("", "Z", "+HH:MM", "-HH:MM") in minutes. */
static int api__offset(const char *s, int tz_min, int *off)
{
	int hh, mm;

	if (*s == '\0') {
		*off = tz_min;
		return 0;
	}
	if (strcmp(s, "Z") == 0) {
		*off = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':' ||
	    api__digits(s + 1, 2, &hh) || api__digits(s + 4, 2, &mm) ||
	    hh > 14 || mm > 59)
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * (hh * 60 + mm);
	return 0;
}

static int api__ms_number(const char *s, int64_t *ms)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > (1LL << 53))
		return -1;
	*ms = v;
	return 0;
}

int api_parse_time(const char *s, int tz_min, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off;
	const char *p = s + 10;

	if (strchr(s, '-') == NULL)
		return api__ms_number(s, ms);
	if (strlen(s) < 10 || api__digits(s, 4, &y) || s[4] != '-' ||
	    api__digits(s + 5, 2, &mo) || s[7] != '-' || api__digits(s + 8, 2, &d) ||
	    mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	if (*p == 'T' || *p == ' ') {
		if (api__digits(p + 1, 2, &h) || p[3] != ':' ||
		    api__digits(p + 4, 2, &mi) || h > 23 || mi > 59)
			return -1;
		p += 6;
		if (*p == ':' && (api__digits(p + 1, 2, &sec) || sec > 59))
			return -1;
		p += *p == ':' ? 3 : 0;
		if (*p == '.' && api__digits(p + 1, 3, &frac))
			return -1;
		p += *p == '.' ? 4 : 0;
	}
	if (api__offset(p, tz_min, &off) != 0)
		return -1;
	*ms = ((api__days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + sec - (int64_t)off * 60) * 1000) + frac;
	return 0;
}

static int api__flag(api_arg_fn arg, void *ctx, const char *key, int *out,
    char *err, size_t errlen)
{
	const char *v = arg(ctx, key);

	*out = 0;
	if (v == NULL || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	if (*v == '\0' || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = 1;
		return 0;
	}
	return api__err(err, errlen, "%s: expected true or false", key);
}

static int api__size(api_arg_fn arg, void *ctx, const char *key, size_t max,
    size_t *out, char *err, size_t errlen)
{
	const char *v = arg(ctx, key);
	int64_t n;

	if (v == NULL)
		return 0;
	if (api__ms_number(v, &n) != 0 || (uint64_t)n > max)
		return api__err(err, errlen, "%s: expected an integer 0..%zu", key, max);
	*out = (size_t)n;
	return 0;
}

static int api__hist_time(api_arg_fn arg, void *ctx, const char *key, int tz_min,
    int64_t *out, char *err, size_t errlen)
{
	const char *v = arg(ctx, key);

	*out = 0;
	if (v == NULL || api_parse_time(v, tz_min, out) == 0)
		return 0;
	return api__err(err, errlen, "%s: expected ms since the epoch or "
	    "YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]", key);
}

static int api__hist_text(api_arg_fn arg, void *ctx, api_history_q *q,
    char *err, size_t errlen)
{
	const char *st = arg(ctx, "status"), *se = arg(ctx, "search");
	const char *pl = arg(ctx, "plate");

	if (st != NULL && *st != '\0') {
		if (strcasecmp(st, "IN") == 0)
			q->status = API_HIST_IN;
		else if (strcasecmp(st, "OUT") == 0)
			q->status = API_HIST_OUT;
		else
			return api__err(err, errlen, "status: expected IN or OUT");
	}
	if (se != NULL) {
		if (strlen(se) > LOG_VIEW_MAX)
			return api__err(err, errlen, "search: too long");
		for (size_t i = 0; se[i] != '\0'; i++)
			q->search[i] = (char)(se[i] >= 'a' && se[i] <= 'z' ?
			    se[i] - 'a' + 'A' : se[i]);
	}
	if (pl != NULL && api_parse_plate(pl, q->plate, err, errlen) != 0)
		return -1;
	return 0;
}

int api_parse_history(api_arg_fn arg, void *ctx, int tz_min,
    api_history_q *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->limit = 100;
	if (api__size(arg, ctx, "limit", API_HIST_LIMIT_MAX, &out->limit, err, errlen) ||
	    api__size(arg, ctx, "offset", (size_t)1 << 40, &out->offset, err, errlen) ||
	    api__flag(arg, ctx, "today_only", &out->today_only, err, errlen) ||
	    api__flag(arg, ctx, "in_parking_only", &out->in_parking_only, err, errlen) ||
	    api__flag(arg, ctx, "entries_only", &out->entries_only, err, errlen) ||
	    api__hist_text(arg, ctx, out, err, errlen) ||
	    api__hist_time(arg, ctx, "from", tz_min, &out->from_ms, err, errlen) ||
	    api__hist_time(arg, ctx, "to", tz_min, &out->to_ms, err, errlen))
		return -1;
	if (out->to_ms != 0 && out->to_ms <= out->from_ms)
		return api__err(err, errlen, "to: must be after from");
	return 0;
}
