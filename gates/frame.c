/* gates/frame.c — the gate channel's messages (see frame.h). */
#include "gates/frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

static int gate__err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int gate__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

/* A string field of 0..max bytes (1..max if `need`), without controls. */
static int gate__str(const cJSON *o, const char *key, char *out, size_t max,
    int need, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t n;

	if (v == NULL)
		return need ? gate__err(err, errlen, "%s: missing", key) : 0;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return gate__err(err, errlen, "%s: not a string", key);
	n = strlen(v->valuestring);
	if ((need && n == 0) || n > max)
		return gate__err(err, errlen, "%s: need 1..%zu bytes", key, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v->valuestring[i] < 0x20)
			return gate__err(err, errlen, "%s: control character", key);
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

static int gate__hello(const cJSON *o, gate_frame *f, char *err, size_t errlen)
{
	int rc;

	f->type = GATE_F_HELLO;
	if ((rc = gate__str(o, "edge_id", f->edge_id, LOG_ORIGIN_MAX, 1, err, errlen)) != 0 ||
	    (rc = gate__str(o, "token", f->token, GATE_TOKEN_MAX, 0, err, errlen)) != 0)
		return rc;
	return 0;
}

static int gate__ack(const cJSON *o, gate_frame *f, char *err, size_t errlen)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
	int rc;

	f->type = GATE_F_ACK;
	if ((rc = gate__str(o, "event_id", f->event_id, LOG_ID_MAX, 1, err, errlen)) != 0 ||
	    (rc = gate__str(o, "error", f->error, GATE_ERROR_MAX, 0, err, errlen)) != 0)
		return rc;
	if (!cJSON_IsBool(ok))
		return gate__err(err, errlen, "ok: missing or not a boolean");
	f->ok = cJSON_IsTrue(ok);
	return 0;
}

int gate_frame_parse(const char *buf, size_t len, gate_frame *out, char *err,
    size_t errlen)
{
	const char *end = NULL;
	cJSON *o = NULL;
	const cJSON *type;
	int rc;

	memset(out, 0, sizeof *out);
	if (len == 0 || len > GATE_FRAME_MAX)
		return gate__err(err, errlen, "message of %zu bytes (1..%d)", len, GATE_FRAME_MAX);
	o = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (o == NULL || !cJSON_IsObject(o)) {
		rc = gate__err(err, errlen, "not a JSON object");
		goto out;
	}
	for (; end != NULL && end < buf + len; end++)
		if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
			rc = gate__err(err, errlen, "bytes after the object");
			goto out;
		}
	type = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (!cJSON_IsString(type))
		rc = gate__err(err, errlen, "type: missing or not a string");
	else if (strcmp(type->valuestring, "hello") == 0)
		rc = gate__hello(o, out, err, errlen);
	else if (strcmp(type->valuestring, "ack") == 0)
		rc = gate__ack(o, out, err, errlen);
	else
		rc = gate__err(err, errlen, "type: unknown");
out:
	cJSON_Delete(o);
	return rc;
}

/* The log's ids and plates have no '"', '\\' or control characters; check
 * anyway rather than emit broken JSON. */
static int gate__plain(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
			return 0;
	return 1;
}

int gate_frame_command(char *buf, size_t cap, const char *cmd,
    const char *event_id, const char *plate)
{
	int n;

	if ((strcmp(cmd, "open") != 0 && strcmp(cmd, "close") != 0) ||
	    !gate__plain(event_id, LOG_ID_MAX) || !gate__plain(plate, LOG_PLATE_MAX))
		return -1;
	n = snprintf(buf, cap, "{\"type\":\"%s\",\"event_id\":\"%s\",\"plate\":\"%s\"}",
	    cmd, event_id, plate);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int gate_frame_welcome(char *buf, size_t cap, const char *edge_id)
{
	int n;

	if (!gate__plain(edge_id, LOG_ORIGIN_MAX))
		return -1;
	n = snprintf(buf, cap, "{\"type\":\"welcome\",\"edge_id\":\"%s\"}", edge_id);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
