/* log/event.c — the event model: value rules, canonical encode, strict decode.
 *
 * Encode and decode run once per event on append and on replay (a million
 * events a second), so both are hand-written: no snprintf, no cJSON, no
 * allocation. snprintf is used only to word error messages.
 */
#include "log/event.h"
#include "log/internal.h"
#include "msg/msg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Keys in canonical order; the last four are written for EXIT only. */
enum {
	LOG__K_ID, LOG__K_TYPE, LOG__K_ORIGIN, LOG__K_STREAM, LOG__K_SEQ,
	LOG__K_TS, LOG__K_PLATE, LOG__K_VIEW, LOG__K_VEHICLE, LOG__K_EDGE,
	LOG__K_CONF, LOG__K_SESSION, LOG__K_ENTRY_TS, LOG__K_DURATION,
	LOG__K_FEE, LOG__K_TARIFF, LOG__K_EDGE_TS,
	/* operator events (log_ev_is_op), after "session" */
	LOG__K_TARGET, LOG__K_FROM_PLATE, LOG__K_PASS, LOG__K_KIND,
	LOG__K_VALID_FROM, LOG__K_VALID_TO, LOG__K_EFFECTIVE, LOG__K_SECTION,
	LOG__K_VALUE, LOG__K_OPERATOR, LOG__K_REASON, LOG__K_TO_PLATE,
	LOG__K_FOR_PLATE, LOG__K_COUNT
};

struct log__key {
	const char *lit;	/* "\"name\":" */
	size_t len;
	const char *name;
};

#define LOG__KEY(n) { "\"" n "\":", sizeof(n) + 2, n }
static const struct log__key log__keys[LOG__K_COUNT] = {
	LOG__KEY("id"), LOG__KEY("type"), LOG__KEY("origin"),
	LOG__KEY("stream"), LOG__KEY("seq"), LOG__KEY("ts"),
	LOG__KEY("plate_id"), LOG__KEY("plate_view"), LOG__KEY("vehicle"),
	LOG__KEY("edge_id"), LOG__KEY("confidence"), LOG__KEY("session"),
	LOG__KEY("entry_ts"), LOG__KEY("duration_s"), LOG__KEY("fee"),
	LOG__KEY("tariff"), LOG__KEY("edge_ts"),
	LOG__KEY("target"), LOG__KEY("from_plate"), LOG__KEY("pass"),
	LOG__KEY("kind"), LOG__KEY("valid_from"), LOG__KEY("valid_to"),
	LOG__KEY("effective_from"), LOG__KEY("section"), LOG__KEY("value"),
	LOG__KEY("operator"), LOG__KEY("reason"), LOG__KEY("to_plate"),
	LOG__KEY("for_plate")
};

static const char *const log__type_names[] = {
	NULL, "ENTRY_PENDING", "ENTRY_CONFIRMED", "EXIT", "PLATE_CORRECTED",
	"SESSION_VOIDED", "PASS_ISSUED", "PASS_REVOKED", "TARIFF_SET",
	"SETTINGS_SET"
};

/* Character classes of the word-like fields. */
enum log__cls { LOG__C_ORIGIN, LOG__C_PLATE, LOG__C_VEHICLE, LOG__C_TARIFF };

static const char *const log__cls_desc[] = {
	"A-Z a-z 0-9 . -", "A-Z 0-9", "a-z 0-9 _ -", "A-Z a-z 0-9 . _ -"
};

struct log__cur;
static int log_op__check(const log_event *ev, char *err, size_t errlen);
static char *log_op__put(char *p, const log_event *ev);
static int log_op__dec(struct log__cur *c, log_event *ev);

/* ---- small helpers ------------------------------------------------------ */

void log__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static inline bool log__digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool log__upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool log__lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool log__in_cls(enum log__cls cls, unsigned char c)
{
	if (log__digit(c))
		return true;
	switch (cls) {
	case LOG__C_ORIGIN:
		return log__upper(c) || log__lower(c) || c == '.' || c == '-';
	case LOG__C_PLATE:
		return log__upper(c);
	case LOG__C_VEHICLE:
		return log__lower(c) || c == '_' || c == '-';
	case LOG__C_TARIFF:
		return log__upper(c) || log__lower(c) || c == '.' || c == '_' ||
		    c == '-';
	}
	return false;
}

/* Decimal digits of v at p (no NUL); returns the end. */
static char *log__put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *log__put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return log__put_u64(p, (uint64_t)v);
	*p++ = '-';
	return log__put_u64(p, 0 - (uint64_t)v);
}

static char *log__put_hex16(char *p, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--) {
		p[i] = hex[v & 0xf];
		v >>= 4;
	}
	return p + 16;
}

/* Copy at most max bytes of s (stops at NUL); returns the end. */
static char *log__put_strn(char *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	memcpy(p, s, n);
	return p + n;
}

/* ---- names, plates, ids, streams ------------------------------------ */

const char *log_event_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case LOG_EEVENT_SYNTAX:
		return "event: not JSON of the canonical shape";
	case LOG_EEVENT_FIELD:
		return "event: a field missing, out of order or extra";
	case LOG_EEVENT_VALUE:
		return "event: a field with a bad value";
	case LOG_EEVENT_NONCANON:
		return "event: valid, but not the canonical bytes";
	case LOG_EEVENT_SPACE:
		return "event: output buffer too small";
	}
	return "event: unknown error";
}

int log_ev_is_op(enum log_ev_type t)
{
	return t >= LOG_EV_PLATE_CORRECTED && t <= LOG_EV_LAST;
}

const char *log_ev_type_name(enum log_ev_type t)
{
	if (t <= LOG_EV_NONE || t > LOG_EV_LAST)
		return NULL;
	return log__type_names[t];
}

enum log_ev_type log_ev_type_parse(const char *s)
{
	int t;

	if (s == NULL)
		return LOG_EV_NONE;
	for (t = LOG_EV_ENTRY_PENDING; t <= LOG_EV_LAST; t++)
		if (strcmp(s, log__type_names[t]) == 0)
			return (enum log_ev_type)t;
	return LOG_EV_NONE;
}

static size_t log__utf8_len(const unsigned char *p, const unsigned char *e);

/* Bytes that are not UTF-8 are refused, not dropped like the characters
 * outside A-Z 0-9: "29A\xff\xfe345" is no reading of 29A345. */
static int log__plate_utf8(const char *in, char *err, size_t errlen)
{
	const unsigned char *b = (const unsigned char *)in, *p = b,
	    *e = b + strlen(in);
	size_t k;

	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((k = log__utf8_len(p, e)) == 0) {
			log__err(err, errlen, "plate: invalid UTF-8 at byte %zu",
			    (size_t)(p - b));
			return LOG_EEVENT_VALUE;
		}
		p += k;
	}
	return 0;
}

int log_plate_normalise(const char *in, char out[LOG_PLATE_MAX + 1],
    char *err, size_t errlen)
{
	size_t n = 0;
	unsigned char c;

	if (in != NULL && log__plate_utf8(in, err, errlen) != 0) {
		out[0] = '\0';
		return LOG_EEVENT_VALUE;
	}
	for (; in != NULL && *in != '\0'; in++) {
		c = (unsigned char)*in;
		if (log__lower(c))
			c = (unsigned char)(c - 'a' + 'A');
		if (!log__upper(c) && !log__digit(c))
			continue;
		if (n < LOG_PLATE_MAX)
			out[n] = (char)c;
		n++;
	}
	out[n < LOG_PLATE_MAX ? n : LOG_PLATE_MAX] = '\0';
	if (n < LOG_PLATE_MIN || n > LOG_PLATE_MAX) {
		log__err(err, errlen, "plate: too %s (%zu characters of A-Z 0-9,"
		    " need %d..%d)", n < LOG_PLATE_MIN ? "short" : "long", n,
		    LOG_PLATE_MIN, LOG_PLATE_MAX);
		return LOG_EEVENT_VALUE;
	}
	return 0;
}

void log_event_id(char out[LOG_ID_MAX + 1], const char *origin, int64_t ts,
    const char *plate)
{
	char tmp[LOG_ORIGIN_MAX + 1 + 20 + 1 + LOG_PLATE_MAX];
	char *p = tmp;
	size_t n;

	/* Bounded: out-of-rule inputs are truncated, never overflow. */
	p = log__put_strn(p, origin, LOG_ORIGIN_MAX);
	*p++ = '_';
	p = log__put_i64(p, ts);
	*p++ = '_';
	p = log__put_strn(p, plate, LOG_PLATE_MAX);
	n = (size_t)(p - tmp);
	if (n > LOG_ID_MAX)
		n = LOG_ID_MAX;
	memcpy(out, tmp, n);
	out[n] = '\0';
}

void log_stream_name(char out[LOG_STREAM_MAX + 1], const char *origin,
    uint64_t epoch)
{
	char *p = log__put_strn(out, origin, LOG_ORIGIN_MAX);

	*p++ = ':';
	p = log__put_hex16(p, epoch);
	*p = '\0';
}

/* Split "<origin>:<16 hex>" of n bytes; NULL or why not. The decoder
 * passes !chars: it compares the part with the origin, checked later. */
static const char *log__stream_split(const char *s, size_t n, bool chars,
    char origin[LOG_ORIGIN_MAX + 1], uint64_t *epoch)
{
	const char *colon = memchr(s, ':', n);
	size_t olen, i;
	uint64_t v = 0;
	unsigned char c;

	if (colon == NULL)
		return "no ':' between origin and epoch";
	olen = (size_t)(colon - s);
	if (olen == 0 || olen > LOG_ORIGIN_MAX)
		return "origin part must be 1..32 characters";
	for (i = 0; chars && i < olen; i++)
		if (!log__in_cls(LOG__C_ORIGIN, (unsigned char)s[i]))
			return "origin part has a character outside A-Z a-z 0-9 . -";
	if (n - olen - 1 != 16)
		return "epoch must be 16 lower-case hex digits";
	for (i = olen + 1; i < n; i++) {
		c = (unsigned char)s[i];
		if (log__digit(c))
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return "epoch must be 16 lower-case hex digits";
	}
	memcpy(origin, s, olen);
	origin[olen] = '\0';
	*epoch = v;
	return NULL;
}

int log_stream_parse(const char *name, char origin[LOG_ORIGIN_MAX + 1],
    uint64_t *epoch)
{
	if (name == NULL)
		return LOG_EEVENT_VALUE;
	if (log__stream_split(name, strnlen(name, LOG_STREAM_MAX + 1), true,
	    origin, epoch) != NULL)
		return LOG_EEVENT_VALUE;
	return 0;
}

/* ---- value rules ---------------------------------------------------- */

static void log__err_char(char *err, size_t errlen, const char *name,
    unsigned char c, size_t at, const char *allowed)
{
	if (c >= 0x20 && c < 0x7f)
		log__err(err, errlen, "%s: character '%c' at byte %zu is not "
		    "allowed (allowed: %s)", name, c, at, allowed);
	else
		log__err(err, errlen, "%s: byte 0x%02x at byte %zu is not "
		    "allowed (allowed: %s)", name, c, at, allowed);
}

/* A word field: min..max characters of one class. */
static int log__check_word(const char *name, const char *s, size_t min,
    size_t max, enum log__cls cls, char *err, size_t errlen)
{
	size_t n = strnlen(s, max + 1), i;

	if (n < min || n > max) {
		log__err(err, errlen, "%s: %s (%s%zu characters, need %zu..%zu)",
		    name, n == 0 ? "empty" : n < min ? "too short" : "too long",
		    n > max ? "more than " : "", n > max ? max : n, min, max);
		return LOG_EEVENT_VALUE;
	}
	for (i = 0; i < n; i++)
		if (!log__in_cls(cls, (unsigned char)s[i])) {
			log__err_char(err, errlen, name, (unsigned char)s[i], i,
			    log__cls_desc[cls]);
			return LOG_EEVENT_VALUE;
		}
	return 0;
}

static int log__check_range(const char *name, int64_t v, int64_t lo,
    int64_t hi, const char *range, char *err, size_t errlen)
{
	if (v >= lo && v <= hi)
		return 0;
	log__err(err, errlen, "%s: %lld is out of range %s", name,
	    (long long)v, range);
	return LOG_EEVENT_VALUE;
}

/* Length of the valid UTF-8 sequence at p (< e), 0 if invalid: shortest
 * form only, no surrogates, nothing above U+10FFFF. */
static size_t log__utf8_len(const unsigned char *p, const unsigned char *e)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (c == 0xed)
		hi = 0x9f;	/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;	/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if ((size_t)(e - p) < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/* Free text: 1..max bytes of printable UTF-8 without '"' or '\\'
 * (plate_view, an operator's reason). */
static int log__check_text(const char *name, const char *s, size_t max,
    char *err, size_t errlen)
{
	size_t n = strnlen(s, max + 1), k;
	const unsigned char *b = (const unsigned char *)s, *p = b, *e = b + n;

	if (n == 0 || n > max) {
		log__err(err, errlen, "%s: %s (need 1..%zu bytes)", name,
		    n == 0 ? "empty" : "too long", max);
		return LOG_EEVENT_VALUE;
	}
	while (p < e) {
		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
				goto bad_char;
			p++;
			continue;
		}
		if ((k = log__utf8_len(p, e)) == 0) {
			log__err(err, errlen, "%s: invalid UTF-8 at byte %zu",
			    name, (size_t)(p - b));
			return LOG_EEVENT_VALUE;
		}
		if (p[0] == 0xc2 && p[1] < 0xa0)
			goto bad_char;	/* C1 control, U+0080..U+009F */
		p += k;
	}
	return 0;
bad_char:
	log__err(err, errlen, "%s: control character, '\"' or '\\' "
	    "at byte %zu", name, (size_t)(p - b));
	return LOG_EEVENT_VALUE;
}

static int log__check_view(const char *s, char *err, size_t errlen)
{
	return log__check_text("plate_view", s, LOG_VIEW_MAX, err, errlen);
}

/* Why s (n bytes) is not of the shape "<origin>_<ts>_<plate>", or NULL. */
static const char *log__id_shape(const char *s, size_t n)
{
	const char *us1 = memchr(s, '_', n), *us2, *d;
	uint64_t ts = 0;
	size_t i;

	if (us1 == NULL || us1 == s || us1 - s > LOG_ORIGIN_MAX)
		return "origin part must be 1..32 characters before '_'";
	for (d = s; d < us1; d++)
		if (!log__in_cls(LOG__C_ORIGIN, (unsigned char)*d))
			return "origin part has a bad character";
	us2 = memchr(us1 + 1, '_', n - (size_t)(us1 + 1 - s));
	if (us2 == NULL || us2 == us1 + 1 || us2 - us1 - 1 > 16 ||
	    (us1[1] == '0'))
		return "ts part must be 1..16 digits without a leading zero";
	for (d = us1 + 1; d < us2; d++) {
		if (!log__digit((unsigned char)*d))
			return "ts part must be digits";
		ts = ts * 10 + (uint64_t)(*d - '0');
	}
	if (ts > LOG_SEQ_MAX)
		return "ts part above 2^53";
	i = n - (size_t)(us2 + 1 - s);
	if (i < LOG_PLATE_MIN || i > LOG_PLATE_MAX)
		return "plate part must be 6..12 characters";
	for (d = us2 + 1; d < s + n; d++)
		if (!log__in_cls(LOG__C_PLATE, (unsigned char)*d))
			return "plate part must be A-Z 0-9";
	return NULL;
}

/* type, origin, ts, plate_id, then id (built from them), and seq. */
static int log__check_head(const log_event *ev, char *err, size_t errlen)
{
	char id[LOG_ID_MAX + 1];
	int rc;

	if (log_ev_type_name(ev->type) == NULL) {
		log__err(err, errlen, "type: unknown type %d", (int)ev->type);
		return LOG_EEVENT_VALUE;
	}
	if ((rc = log__check_word("origin", ev->origin, 1, LOG_ORIGIN_MAX,
	    LOG__C_ORIGIN, err, errlen)) != 0 ||
	    (rc = log__check_range("ts", ev->ts, 1, (int64_t)LOG_SEQ_MAX,
	    "1..2^53", err, errlen)) != 0 ||
	    (rc = log__check_word("plate_id", ev->plate, LOG_PLATE_MIN,
	    LOG_PLATE_MAX, LOG__C_PLATE, err, errlen)) != 0)
		return rc;
	if (ev->seq < 1 || ev->seq > LOG_SEQ_MAX) {
		log__err(err, errlen, "seq: %llu is out of range 1..2^53",
		    (unsigned long long)ev->seq);
		return LOG_EEVENT_VALUE;
	}
	log_event_id(id, ev->origin, ev->ts, ev->plate);
	if (strncmp(id, ev->id, sizeof ev->id) != 0) {
		log__err(err, errlen, "id: \"%.*s\" is not <origin>_<ts>_"
		    "<plate_id> (\"%s\")", LOG_ID_MAX, ev->id, id);
		return LOG_EEVENT_VALUE;
	}
	return 0;
}

static int log__check_session(const log_event *ev, char *err, size_t errlen)
{
	size_t n = strnlen(ev->session, LOG_ID_MAX + 1);
	const char *why;

	if (ev->type == LOG_EV_ENTRY_PENDING &&
	    strncmp(ev->session, ev->id, sizeof ev->id) != 0) {
		log__err(err, errlen, "session: an ENTRY_PENDING's session "
		    "must be its own id");
		return LOG_EEVENT_VALUE;
	}
	if (log_ev_is_op(ev->type) && (n == 0) !=
	    (ev->type != LOG_EV_SESSION_VOIDED)) {
		log__err(err, errlen, "session: %s", n == 0 ? "a SESSION_VOIDED "
		    "names the session" : "only a SESSION_VOIDED names one");
		return LOG_EEVENT_VALUE;
	}
	if (n == 0 && ev->type != LOG_EV_EXIT && !log_ev_is_op(ev->type)) {
		log__err(err, errlen, "session: null is allowed only for an EXIT");
		return LOG_EEVENT_VALUE;
	}
	if (n > LOG_ID_MAX) {
		log__err(err, errlen, "session: longer than %d bytes", LOG_ID_MAX);
		return LOG_EEVENT_VALUE;
	}
	if (n > 0 && (why = log__id_shape(ev->session, n)) != NULL) {
		log__err(err, errlen, "session: not an event id (%s)", why);
		return LOG_EEVENT_VALUE;
	}
	return 0;
}

static int log__check_body(const log_event *ev, char *err, size_t errlen)
{
	int rc;

	if ((rc = log__check_view(ev->plate_view, err, errlen)) != 0 ||
	    (rc = log__check_word("vehicle", ev->vehicle, 1, LOG_VEHICLE_MAX,
	    LOG__C_VEHICLE, err, errlen)) != 0 ||
	    (rc = log__check_word("edge_id", ev->edge_id, 1, LOG_ORIGIN_MAX,
	    LOG__C_ORIGIN, err, errlen)) != 0 ||
	    (rc = log__check_range("confidence", ev->confidence_milli, 0, 1000,
	    "0..1000 thousandths", err, errlen)) != 0)
		return rc;
	return log__check_session(ev, err, errlen);
}

static int log__check_exit(const log_event *ev, char *err, size_t errlen)
{
	int rc;

	if (ev->entry_ts != -1 && ((rc = log__check_range("entry_ts",
	    ev->entry_ts, 1, ev->ts, "1..ts (or null)", err, errlen)) != 0))
		return rc;
	if (ev->duration_s != -1 && (rc = log__check_range("duration_s",
	    ev->duration_s, 0, (int64_t)LOG_SEQ_MAX, "0..2^53 (or null)", err,
	    errlen)) != 0)
		return rc;
	if ((rc = log__check_range("fee", ev->fee, 0, LOG_FEE_MAX,
	    "0..10^12", err, errlen)) != 0)
		return rc;
	return log__check_word("tariff", ev->tariff, 1, LOG_TARIFF_MAX,
	    LOG__C_TARIFF, err, errlen);
}

/* Non-EXIT events carry the EXIT fields at their neutral values. */
static int log__check_neutral(const log_event *ev, char *err, size_t errlen)
{
	const char *name = NULL;

	if (ev->entry_ts != -1)
		name = "entry_ts";
	else if (ev->duration_s != -1)
		name = "duration_s";
	else if (ev->fee != 0)
		name = "fee";
	else if (ev->tariff[0] != '\0')
		name = "tariff";
	if (name == NULL)
		return 0;
	log__err(err, errlen, "%s: only an EXIT has it (entry_ts and "
	    "duration_s -1, fee 0, tariff \"\" otherwise)", name);
	return LOG_EEVENT_VALUE;
}

int64_t log_event_at(const log_event *ev)
{
	return ev->edge_ts > 0 && ev->edge_ts < ev->ts ? ev->edge_ts : ev->ts;
}

int log_event_check(const log_event *ev, char *err, size_t errlen)
{
	int rc;

	if ((rc = log__check_head(ev, err, errlen)) != 0 ||
	    (rc = log__check_body(ev, err, errlen)) != 0 ||
	    (rc = log__check_range("edge_ts", ev->edge_ts, 0, (int64_t)LOG_SEQ_MAX,
	    "0..2^53", err, errlen)) != 0)
		return rc;
	if (ev->type == LOG_EV_EXIT)
		return log__check_exit(ev, err, errlen);
	if (log_ev_is_op(ev->type))
		return log_op__check(ev, err, errlen);
	if (log_op_plate_reserved(ev->plate)) {
		log__err(err, errlen, "plate_id: a reserved plate (operator events)");
		return LOG_EEVENT_VALUE;
	}
	return log__check_neutral(ev, err, errlen);
}

/* ---- encode --------------------------------------------------------- */

#define LOG__PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), \
	(p) + sizeof(lit) - 1)

static char *log__put_conf(char *p, int milli)
{
	if (milli >= 1000) {
		*p++ = '1';
		return p;
	}
	*p++ = '0';
	if (milli <= 0)
		return p;
	*p++ = '.';
	*p++ = (char)('0' + milli / 100);
	if ((milli %= 100) != 0) {
		*p++ = (char)('0' + milli / 10);
		if ((milli %= 10) != 0)
			*p++ = (char)('0' + milli);
	}
	return p;
}

/* "<int>" or null for -1 */
static char *log__put_opt(char *p, int64_t v)
{
	return v == -1 ? LOG__PUT(p, "null") : log__put_i64(p, v);
}

static char *log__put_exit(char *p, const log_event *ev)
{
	p = LOG__PUT(p, ",\"entry_ts\":");
	p = log__put_opt(p, ev->entry_ts);
	p = LOG__PUT(p, ",\"duration_s\":");
	p = log__put_opt(p, ev->duration_s);
	p = LOG__PUT(p, ",\"fee\":");
	p = log__put_i64(p, ev->fee);
	p = LOG__PUT(p, ",\"tariff\":\"");
	p = log__put_strn(p, ev->tariff, LOG_TARIFF_MAX);
	return LOG__PUT(p, "\"");
}

/* Canonical bytes of a checked event; buf holds LOG_EVENT_MAX bytes. */
static int log__encode(const log_event *ev, char *buf)
{
	char *p = buf;

	p = LOG__PUT(p, "{\"id\":\"");
	p = log__put_strn(p, ev->id, LOG_ID_MAX);
	p = LOG__PUT(p, "\",\"type\":\"");
	p = log__put_strn(p, log__type_names[ev->type], 16);
	p = LOG__PUT(p, "\",\"origin\":\"");
	p = log__put_strn(p, ev->origin, LOG_ORIGIN_MAX);
	p = LOG__PUT(p, "\",\"stream\":\"");
	p = log__put_strn(p, ev->origin, LOG_ORIGIN_MAX);
	*p++ = ':';
	p = log__put_hex16(p, ev->epoch);
	p = LOG__PUT(p, "\",\"seq\":");
	p = log__put_u64(p, ev->seq);
	p = LOG__PUT(p, ",\"ts\":");
	p = log__put_i64(p, ev->ts);
	p = LOG__PUT(p, ",\"plate_id\":\"");
	p = log__put_strn(p, ev->plate, LOG_PLATE_MAX);
	p = LOG__PUT(p, "\",\"plate_view\":\"");
	p = log__put_strn(p, ev->plate_view, LOG_VIEW_MAX);
	p = LOG__PUT(p, "\",\"vehicle\":\"");
	p = log__put_strn(p, ev->vehicle, LOG_VEHICLE_MAX);
	p = LOG__PUT(p, "\",\"edge_id\":\"");
	p = log__put_strn(p, ev->edge_id, LOG_ORIGIN_MAX);
	p = LOG__PUT(p, "\",\"confidence\":");
	p = log__put_conf(p, ev->confidence_milli);
	if (ev->session[0] == '\0') {
		p = LOG__PUT(p, ",\"session\":null");
	} else {
		p = LOG__PUT(p, ",\"session\":\"");
		p = log__put_strn(p, ev->session, LOG_ID_MAX);
		*p++ = '"';
	}
	if (ev->type == LOG_EV_EXIT)
		p = log__put_exit(p, ev);
	if (log_ev_is_op(ev->type))
		p = log_op__put(p, ev);
	if (ev->edge_ts > 0) {
		p = LOG__PUT(p, ",\"edge_ts\":");
		p = log__put_i64(p, ev->edge_ts);
	}
	*p++ = '}';
	return (int)(p - buf);
}

int log_event_encode(const log_event *ev, char *buf, size_t cap)
{
	char tmp[LOG_EVENT_MAX];
	int n;

	if (log_event_check(ev, NULL, 0) != 0)
		return LOG_EEVENT_VALUE;
	if (cap >= LOG_EVENT_MAX)
		return log__encode(ev, buf);
	/* Small buffer: encode aside and copy only if it fits. */
	n = log__encode(ev, tmp);
	if ((size_t)n > cap)
		return LOG_EEVENT_SPACE;
	memcpy(buf, tmp, (size_t)n);
	return n;
}

/* ---- decode --------------------------------------------------------- */

/* Scanner state: a cursor over the input and where messages go. */
struct log__cur {
	const char *p, *end, *base;
	char *err;
	size_t errlen;
};

static int log__fail(struct log__cur *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int log__fail(struct log__cur *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* The key was not the expected literal: say how it differs. */
static int log__key_diag(struct log__cur *c, int i)
{
	const char *name = log__keys[i].name, *q;
	const char *p = c->p;
	size_t n;

	if (p == c->end || *p != '"')
		return log__fail(c, LOG_EEVENT_SYNTAX, "key %d: expected \"%s\""
		    " at byte %td", i, name, p - c->base);
	q = memchr(p + 1, '"', (size_t)(c->end - p - 1));
	n = q != NULL ? (size_t)(q - p - 1) : 0;
	if (q != NULL && n == strlen(name) && memcmp(p + 1, name, n) == 0)
		return log__fail(c, LOG_EEVENT_SYNTAX, "key %d: expected ':' "
		    "after \"%s\" at byte %td", i, name, q + 1 - c->base);
	if (q == NULL || n > 32)
		return log__fail(c, LOG_EEVENT_FIELD, "key %d: expected \"%s\"",
		    i, name);
	return log__fail(c, LOG_EEVENT_FIELD, "key %d: expected \"%s\", "
	    "found \"%.*s\"", i, name, (int)n, p + 1);
}

/* Separator and key i, up to and including its ':'. */
static int log__key(struct log__cur *c, int i)
{
	const struct log__key *k = &log__keys[i];

	if (i > 0) {
		if (c->p == c->end)
			return log__fail(c, LOG_EEVENT_SYNTAX, "key %d: input "
			    "ends before \"%s\"", i, k->name);
		if (*c->p == '}')
			return log__fail(c, LOG_EEVENT_FIELD, "key %d: expected "
			    "\"%s\", found the end of the object", i, k->name);
		if (*c->p != ',')
			return log__fail(c, LOG_EEVENT_SYNTAX, "key %d: expected "
			    "',' before \"%s\" at byte %td", i, k->name,
			    c->p - c->base);
		c->p++;
	}
	if ((size_t)(c->end - c->p) >= k->len &&
	    memcmp(c->p, k->lit, k->len) == 0) {
		c->p += k->len;
		return 0;
	}
	return log__key_diag(c, i);
}

/* A plain string (no escapes) into dst of cap bytes, NUL-terminated. */
static int log__str(struct log__cur *c, int i, char *dst, size_t cap)
{
	const char *name = log__keys[i].name, *p = c->p;
	size_t n = 0;
	unsigned char ch;

	if (p == c->end || *p != '"')
		return log__fail(c, LOG_EEVENT_SYNTAX, "%s: expected a string",
		    name);
	for (p++;; p++) {
		if (p == c->end)
			return log__fail(c, LOG_EEVENT_SYNTAX, "%s: unterminated "
			    "string", name);
		if ((ch = (unsigned char)*p) == '"')
			break;
		if (ch == '\\')
			return log__fail(c, LOG_EEVENT_SYNTAX, "%s: escapes are "
			    "not allowed", name);
		if (ch < 0x20)
			return log__fail(c, LOG_EEVENT_SYNTAX, "%s: raw control "
			    "character in a string", name);
		if (n + 1 >= cap)
			return log__fail(c, LOG_EEVENT_VALUE, "%s: longer than "
			    "%zu bytes", name, cap - 1);
		dst[n++] = (char)ch;
	}
	dst[n] = '\0';
	c->p = p + 1;
	return 0;
}

/* A string, or null for "" (session). An empty string is not canonical. */
static int log__str_or_null(struct log__cur *c, int i, char *dst, size_t cap)
{
	if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
		c->p += 4;
		dst[0] = '\0';
		return 0;
	}
	if (c->end - c->p >= 2 && memcmp(c->p, "\"\"", 2) == 0)
		return log__fail(c, LOG_EEVENT_NONCANON, "%s: empty string "
		    "(none is written null)", log__keys[i].name);
	return log__str(c, i, dst, cap);
}

/* A non-negative integer of at most 16 digits (2^53 has 16); the range is
 * left to log_event_check. With `nullable`, null reads as -1. */
static int log__int(struct log__cur *c, int i, bool nullable, int64_t *out)
{
	const char *name = log__keys[i].name, *p = c->p;
	int64_t v = 0;
	int n = 0;

	if (nullable && c->end - p >= 4 && memcmp(p, "null", 4) == 0) {
		c->p += 4;
		*out = -1;
		return 0;
	}
	if (p == c->end || !log__digit((unsigned char)*p))
		return log__fail(c, LOG_EEVENT_SYNTAX, "%s: expected an integer%s",
		    name, nullable ? " or null" : "");
	if (*p == '0' && p + 1 < c->end && log__digit((unsigned char)p[1]))
		return log__fail(c, LOG_EEVENT_SYNTAX, "%s: leading zero", name);
	for (; p < c->end && log__digit((unsigned char)*p); p++) {
		if (++n > 16)
			return log__fail(c, LOG_EEVENT_VALUE, "%s: out of range "
			    "(more than 16 digits)", name);
		v = v * 10 + (*p - '0');
	}
	if (p < c->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return log__fail(c, LOG_EEVENT_SYNTAX, "%s: expected an integer",
		    name);
	c->p = p;
	*out = v;
	return 0;
}

/* confidence: 0, 1, or 0.d / 0.dd / 0.ddd without trailing zeros. */
static int log__conf(struct log__cur *c, int *milli)
{
	const char *p = c->p;
	int v, nd = 0, scale = 1000;

	if (p == c->end || (*p != '0' && *p != '1') ||
	    (p + 1 < c->end && log__digit((unsigned char)p[1])))
		return log__fail(c, LOG_EEVENT_SYNTAX, "confidence: expected a "
		    "number from 0 to 1");
	v = (*p++ - '0') * 1000;
	if (p < c->end && *p == '.') {
		for (p++; p < c->end && log__digit((unsigned char)*p); p++) {
			if (++nd > 3)
				return log__fail(c, LOG_EEVENT_VALUE, "confidence:"
				    " more than 3 decimals");
			scale /= 10;
			v += (*p - '0') * scale;
		}
		if (nd == 0)
			return log__fail(c, LOG_EEVENT_SYNTAX, "confidence: "
			    "expected digits after '.'");
		if (p[-1] == '0')
			return log__fail(c, LOG_EEVENT_NONCANON, "confidence: "
			    "trailing zero is not canonical");
	}
	if (p < c->end && (*p == 'e' || *p == 'E'))
		return log__fail(c, LOG_EEVENT_SYNTAX, "confidence: exponent is "
		    "not allowed");
	if (v > 1000)
		return log__fail(c, LOG_EEVENT_VALUE, "confidence: above 1");
	c->p = p;
	*milli = v;
	return 0;
}

/* id, type, origin, stream, seq, ts */
static int log__dec_head(struct log__cur *c, log_event *ev)
{
	char type[16], stream[LOG_STREAM_MAX + 1], sorigin[LOG_ORIGIN_MAX + 1];
	const char *why;
	int64_t v;
	int rc;

	if ((rc = log__key(c, LOG__K_ID)) != 0 ||
	    (rc = log__str(c, LOG__K_ID, ev->id, sizeof ev->id)) != 0 ||
	    (rc = log__key(c, LOG__K_TYPE)) != 0 ||
	    (rc = log__str(c, LOG__K_TYPE, type, sizeof type)) != 0)
		return rc;
	if ((ev->type = log_ev_type_parse(type)) == LOG_EV_NONE)
		return log__fail(c, LOG_EEVENT_VALUE, "type: unknown \"%s\"", type);
	if ((rc = log__key(c, LOG__K_ORIGIN)) != 0 ||
	    (rc = log__str(c, LOG__K_ORIGIN, ev->origin,
	    sizeof ev->origin)) != 0 ||
	    (rc = log__key(c, LOG__K_STREAM)) != 0 ||
	    (rc = log__str(c, LOG__K_STREAM, stream, sizeof stream)) != 0)
		return rc;
	if ((why = log__stream_split(stream, strlen(stream), false, sorigin,
	    &ev->epoch)) != NULL)
		return log__fail(c, LOG_EEVENT_VALUE, "stream: %s", why);
	if (strcmp(sorigin, ev->origin) != 0)
		return log__fail(c, LOG_EEVENT_VALUE, "stream: origin part \"%s\""
		    " is not the origin \"%s\"", sorigin, ev->origin);
	if ((rc = log__key(c, LOG__K_SEQ)) != 0 ||
	    (rc = log__int(c, LOG__K_SEQ, false, &v)) != 0)
		return rc;
	ev->seq = (uint64_t)v;
	if ((rc = log__key(c, LOG__K_TS)) != 0 ||
	    (rc = log__int(c, LOG__K_TS, false, &ev->ts)) != 0)
		return rc;
	return 0;
}

/* plate_id, plate_view, vehicle, edge_id, confidence, session */
static int log__dec_body(struct log__cur *c, log_event *ev)
{
	int rc;

	if ((rc = log__key(c, LOG__K_PLATE)) != 0 ||
	    (rc = log__str(c, LOG__K_PLATE, ev->plate, sizeof ev->plate)) != 0 ||
	    (rc = log__key(c, LOG__K_VIEW)) != 0 ||
	    (rc = log__str(c, LOG__K_VIEW, ev->plate_view,
	    sizeof ev->plate_view)) != 0 ||
	    (rc = log__key(c, LOG__K_VEHICLE)) != 0 ||
	    (rc = log__str(c, LOG__K_VEHICLE, ev->vehicle,
	    sizeof ev->vehicle)) != 0 ||
	    (rc = log__key(c, LOG__K_EDGE)) != 0 ||
	    (rc = log__str(c, LOG__K_EDGE, ev->edge_id,
	    sizeof ev->edge_id)) != 0 ||
	    (rc = log__key(c, LOG__K_CONF)) != 0 ||
	    (rc = log__conf(c, &ev->confidence_milli)) != 0 ||
	    (rc = log__key(c, LOG__K_SESSION)) != 0 ||
	    (rc = log__str_or_null(c, LOG__K_SESSION, ev->session,
	    sizeof ev->session)) != 0)
		return rc;
	return 0;
}

/* entry_ts, duration_s, fee, tariff (EXIT only) */
static int log__dec_exit(struct log__cur *c, log_event *ev)
{
	int rc;

	if ((rc = log__key(c, LOG__K_ENTRY_TS)) != 0 ||
	    (rc = log__int(c, LOG__K_ENTRY_TS, true, &ev->entry_ts)) != 0 ||
	    (rc = log__key(c, LOG__K_DURATION)) != 0 ||
	    (rc = log__int(c, LOG__K_DURATION, true, &ev->duration_s)) != 0 ||
	    (rc = log__key(c, LOG__K_FEE)) != 0 ||
	    (rc = log__int(c, LOG__K_FEE, false, &ev->fee)) != 0 ||
	    (rc = log__key(c, LOG__K_TARIFF)) != 0 ||
	    (rc = log__str(c, LOG__K_TARIFF, ev->tariff,
	    sizeof ev->tariff)) != 0)
		return rc;
	return 0;
}

/* The optional last key, "edge_ts": a positive integer (0 is written by
 * leaving the key out, so it has one form). */
static int log__dec_edge_ts(struct log__cur *c, log_event *ev)
{
	static const char lit[] = ",\"edge_ts\":";
	int rc;

	if ((size_t)(c->end - c->p) < sizeof lit - 1 || memcmp(c->p, lit, sizeof lit - 1) != 0)
		return 0;
	if ((rc = log__key(c, LOG__K_EDGE_TS)) != 0 ||
	    (rc = log__int(c, LOG__K_EDGE_TS, false, &ev->edge_ts)) != 0)
		return rc;
	if (ev->edge_ts <= 0)
		return log__fail(c, LOG_EEVENT_VALUE, "edge_ts: must be > 0 (or absent)");
	return 0;
}

/* The closing brace after key `next - 1`, and nothing after it. */
static int log__dec_close(struct log__cur *c, int next)
{
	if (c->p < c->end && *c->p == ',')
		return log__fail(c, LOG_EEVENT_FIELD, "key %d: unexpected extra "
		    "key", next);
	if (c->p == c->end || *c->p != '}')
		return log__fail(c, LOG_EEVENT_SYNTAX, "expected '}' at byte %td",
		    c->p - c->base);
	if (++c->p != c->end)
		return log__fail(c, LOG_EEVENT_SYNTAX, "%td trailing bytes after "
		    "the object", c->end - c->p);
	return 0;
}

/* Operator events: value rules, encode and decode (log/event_op.inc). */
#include "log/event_op.inc"

static int log__scan(struct log__cur *c, log_event *ev)
{
	int rc;

	/* Neutral EXIT fields, so a non-EXIT event checks as it should. */
	ev->entry_ts = -1;
	ev->duration_s = -1;
	ev->fee = 0;
	ev->tariff[0] = '\0';
	ev->edge_ts = 0;
	memset(&ev->op, 0, sizeof ev->op);
	if (c->p == c->end || *c->p != '{')
		return log__fail(c, LOG_EEVENT_SYNTAX, "expected '{' at byte 0");
	c->p++;
	if ((rc = log__dec_head(c, ev)) != 0 ||
	    (rc = log__dec_body(c, ev)) != 0)
		return rc;
	if (ev->type == LOG_EV_EXIT && (rc = log__dec_exit(c, ev)) != 0)
		return rc;
	if (log_ev_is_op(ev->type)) {
		/* No edge_ts: an operator acts at the central's time. */
		if ((rc = log_op__dec(c, ev)) != 0)
			return rc;
		return log__dec_close(c, LOG__K_COUNT);
	}
	if ((rc = log__dec_edge_ts(c, ev)) != 0)
		return rc;
	return log__dec_close(c, ev->edge_ts > 0 ? LOG__K_COUNT :
	    ev->type == LOG_EV_EXIT ? LOG__K_EDGE_TS : LOG__K_ENTRY_TS);
}

int log_event_decode(const char *buf, size_t len, log_event *ev,
    char *err, size_t errlen)
{
	struct log__cur c = { "", "", "", err, errlen };
	char tmp[LOG_EVENT_MAX];
	size_t i;
	int rc, n;

	if (len > LOG_EVENT_MAX)
		return log__fail(&c, LOG_EEVENT_SYNTAX, "event: %zu bytes, more "
		    "than %d", len, LOG_EVENT_MAX);
	if (len > 0) {	/* buf may be NULL when len is 0 */
		c.p = c.base = buf;
		c.end = buf + len;
	}
	if ((rc = log__scan(&c, ev)) != 0 ||
	    (rc = log_event_check(ev, err, errlen)) != 0)
		return rc;
	/* The scanner is strict already; this is the guarantee. */
	n = log__encode(ev, tmp);
	if ((size_t)n != len || memcmp(tmp, buf, len) != 0) {
		for (i = 0; i < len && i < (size_t)n && tmp[i] == buf[i]; i++)
			;
		return log__fail(&c, LOG_EEVENT_NONCANON, "not the canonical "
		    "bytes (first difference at byte %zu)", i);
	}
	return 0;
}

int log_event_decode_stored(const char *buf, size_t len, log_event *ev)
{
	struct log__cur c = { "", "", "", NULL, 0 };

	if (len > LOG_EVENT_MAX || len == 0)
		return LOG_EEVENT_SYNTAX;
	c.p = c.base = buf;
	c.end = buf + len;
	return log__scan(&c, ev);
}
