/* peers/proto.c — frames of the peer protocol: strict parse, encode, MAC.
 *
 * The header line is parsed with cJSON (frames come from the network: a
 * library parser that bounds its own depth is worth its cost there); event
 * lines are only split and checked for their position here — the store
 * decodes them strictly when they are appended.
 */
#include "peers/proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

const char *peer_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case PEER_EPROTO: return "malformed peer frame";
	case PEER_ETOOBIG: return "peer frame too large";
	case PEER_ESPACE: return "output buffer too small";
	case PEER_EAUTH: return "peer authentication failed";
	case PEER_ECONF: return "invalid peer options";
	default: return "unknown peer error";
	}
}

static int peer__err(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int peer__err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- hex ---------------------------------------------------------------- */

void peer_hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void peer_hex_u64(uint64_t v, char out[17])
{
	static const char d[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = d[v & 15];
	out[16] = '\0';
}

static int peer__hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* upper case is not canonical: refused */
}

int peer_parse_hex_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || len != 16)
		return PEER_EPROTO;
	for (size_t i = 0; i < len; i++) {
		int d = peer__hexval(s[i]);

		if (d < 0)
			return PEER_EPROTO;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int peer__is_hex(const char *s, size_t want)
{
	size_t n = strlen(s);

	if (n != want)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (peer__hexval(s[i]) < 0)
			return 0;
	return 1;
}

static int peer__valid_node(const char *s);

/* ---- crypto ------------------------------------------------------------- */

int peer_nonce(char out[PEER_NONCE_HEX + 1])
{
	unsigned char b[PEER_NONCE_HEX / 2];
	size_t got = 0;

	while (got < sizeof b) {
		ssize_t r = getrandom(b + got, sizeof b - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		got += (size_t)r;
	}
	peer_hex(b, sizeof b, out);
	return 0;
}

int peer_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char out[32])
{
	unsigned int olen = 0;

	if (keylen > (size_t)INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &olen) == NULL ||
	    olen != 32)
		return PEER_ECONF;
	return 0;
}

int peer_auth_mac(const char *secret, enum peer_role role, const char *dialer,
    const char *listener, const char *dialer_nonce, const char *listener_nonce,
    char out[PEER_MAC_HEX + 1])
{
	char msg[sizeof(PEER_AUTH_LABEL) + 2 * LOG_ORIGIN_MAX + 2 * PEER_NONCE_HEX + 24];
	unsigned char mac[32];
	int n, rc;

	if (secret == NULL || dialer == NULL || listener == NULL ||
	    !peer__valid_node(dialer) || !peer__valid_node(listener) ||
	    !peer__is_hex(dialer_nonce, PEER_NONCE_HEX) ||
	    !peer__is_hex(listener_nonce, PEER_NONCE_HEX))
		return PEER_ECONF;
	/* '|' never occurs in ids or hex: the fields cannot be re-cut */
	n = snprintf(msg, sizeof msg, "%s|%s|%s|%s|%s|%s", PEER_AUTH_LABEL,
	    role == PEER_ROLE_DIALER ? "dialer" : "listener", dialer, listener,
	    dialer_nonce, listener_nonce);
	if (n < 0 || (size_t)n >= sizeof msg)
		return PEER_ECONF;
	if ((rc = peer_hmac_sha256(secret, strlen(secret), msg, (size_t)n, mac)) != 0)
		return rc;
	peer_hex(mac, sizeof mac, out);
	return 0;
}

int peer_mac_equal(const char *a, const char *b)
{
	if (strlen(a) != PEER_MAC_HEX || strlen(b) != PEER_MAC_HEX)
		return 0;
	return CRYPTO_memcmp(a, b, PEER_MAC_HEX) == 0;
}

/* ---- parse helpers ------------------------------------------------------ */

static int peer__valid_node(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > LOG_ORIGIN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int peer__valid_stream(const char *s)
{
	char origin[LOG_ORIGIN_MAX + 1];
	uint64_t epoch;

	return strlen(s) <= LOG_STREAM_MAX && log_stream_parse(s, origin, &epoch) == 0;
}

/* An integral JSON number in [min, LOG_SEQ_MAX]. */
static int peer__u53(const cJSON *j, uint64_t min, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(j))
		return 0;
	d = j->valuedouble;
	if (!(d >= (double)min && d <= (double)LOG_SEQ_MAX) || d != (double)(uint64_t)d)
		return 0;
	*out = (uint64_t)d;
	return 1;
}

/* Copy a string member of at most max bytes into out. */
static int peer__str(const cJSON *o, const char *key, char *out, size_t max)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t n;

	if (!cJSON_IsString(j) || j->valuestring == NULL)
		return 0;
	n = strlen(j->valuestring);
	if (n > max)
		return 0;
	memcpy(out, j->valuestring, n + 1);
	return 1;
}

/* The object has exactly the keys in `keys` (NULL-terminated), once each. */
static int peer__keys(const cJSON *o, const char *const *keys)
{
	unsigned seen = 0;
	const cJSON *c;

	cJSON_ArrayForEach(c, o) {
		unsigned i;

		for (i = 0; keys[i] != NULL; i++)
			if (c->string != NULL && strcmp(c->string, keys[i]) == 0)
				break;
		if (keys[i] == NULL || (seen & 1u << i))
			return 0;
		seen |= 1u << i;
	}
	for (unsigned i = 0; keys[i] != NULL; i++)
		if (!(seen & 1u << i))
			return 0;
	return 1;
}

/* [seq, "P hex"] */
static int peer__pair(const cJSON *a, uint64_t *seq, uint64_t *P)
{
	const cJSON *s, *h;

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2)
		return 0;
	s = a->child;
	h = s->next;
	if (!peer__u53(s, 0, seq) || !cJSON_IsString(h) || h->valuestring == NULL ||
	    peer_parse_hex_u64(h->valuestring, strlen(h->valuestring), P) != 0)
		return 0;
	return *seq != 0 || *P == 0;	/* the empty prefix has P = 0 */
}

static int peer__cmp_head(const void *a, const void *b)
{
	return strcmp(((const peer_head *)a)->stream, ((const peer_head *)b)->stream);
}

static int peer__parse_vector(const cJSON *v, peer_frame *f, char *err, size_t errlen)
{
	const cJSON *c;
	size_t n = 0, cnt = (size_t)cJSON_GetArraySize(v);

	if (!cJSON_IsObject(v))
		return peer__err(err, errlen, PEER_EPROTO, "hello: vector is not an object");
	if (cnt > PEER_VECTOR_MAX)
		return peer__err(err, errlen, PEER_EPROTO, "hello: vector has over %d streams",
		    PEER_VECTOR_MAX);
	if (cnt > 0 && (f->vector = calloc(cnt, sizeof *f->vector)) == NULL)
		return peer__err(err, errlen, ENOMEM, "hello: out of memory");
	cJSON_ArrayForEach(c, v) {
		peer_head *h = &f->vector[n];

		if (c->string == NULL || !peer__valid_stream(c->string))
			return peer__err(err, errlen, PEER_EPROTO, "hello: bad stream name");
		memcpy(h->stream, c->string, strlen(c->string) + 1);
		if (!peer__pair(c, &h->seq, &h->P) || h->seq == 0)	/* empty: omitted */
			return peer__err(err, errlen, PEER_EPROTO, "hello: %s: bad head", h->stream);
		n++;
	}
	f->nvector = n;
	if (n > 1)
		qsort(f->vector, n, sizeof *f->vector, peer__cmp_head);
	for (size_t i = 1; i < n; i++)
		if (strcmp(f->vector[i - 1].stream, f->vector[i].stream) == 0)
			return peer__err(err, errlen, PEER_EPROTO, "hello: stream %s twice",
			    f->vector[i].stream);
	return 0;
}

static int peer__parse_hello(const cJSON *o, peer_frame *f, char *err, size_t errlen)
{
	static const char *const keys[] = { "type", "v", "node", "nonce", "vector", NULL };
	uint64_t v;

	if (!peer__keys(o, keys))
		return peer__err(err, errlen, PEER_EPROTO, "hello: wrong keys");
	if (!peer__u53(cJSON_GetObjectItemCaseSensitive(o, "v"), 1, &v) || v > 1000)
		return peer__err(err, errlen, PEER_EPROTO, "hello: bad v");
	f->version = (int)v;
	if (!peer__str(o, "node", f->node, LOG_ORIGIN_MAX) || !peer__valid_node(f->node))
		return peer__err(err, errlen, PEER_EPROTO, "hello: bad node");
	if (!peer__str(o, "nonce", f->nonce, PEER_NONCE_HEX) ||
	    !peer__is_hex(f->nonce, PEER_NONCE_HEX))
		return peer__err(err, errlen, PEER_EPROTO, "hello: bad nonce");
	return peer__parse_vector(cJSON_GetObjectItemCaseSensitive(o, "vector"), f,
	    err, errlen);
}

static int peer__parse_auth(const cJSON *o, peer_frame *f, char *err, size_t errlen)
{
	static const char *const keys[] = { "type", "mac", NULL };

	if (!peer__keys(o, keys) || !peer__str(o, "mac", f->mac, PEER_MAC_HEX) ||
	    !peer__is_hex(f->mac, PEER_MAC_HEX))
		return peer__err(err, errlen, PEER_EPROTO, "auth: bad frame");
	return 0;
}

static int peer__stream_member(const cJSON *o, peer_frame *f)
{
	return peer__str(o, "stream", f->stream, LOG_STREAM_MAX) &&
	    peer__valid_stream(f->stream);
}

static int peer__printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

/* want, ack, fork: small frames of one stream. */
static int peer__parse_small(const cJSON *o, peer_frame *f, char *err, size_t errlen)
{
	static const char *const kwant[] = { "type", "stream", "from", NULL };
	static const char *const kack[] = { "type", "stream", "seq", "P", NULL };
	static const char *const kfork[] = { "type", "stream", "seq", "reason", NULL };
	const char *const *keys = f->type == PEER_MSG_WANT ? kwant :
	    f->type == PEER_MSG_ACK ? kack : kfork;
	const char *name = f->type == PEER_MSG_WANT ? "want" :
	    f->type == PEER_MSG_ACK ? "ack" : "fork";
	char hex[17];

	if (!peer__keys(o, keys) || !peer__stream_member(o, f))
		return peer__err(err, errlen, PEER_EPROTO, "%s: bad keys or stream", name);
	if (!peer__u53(cJSON_GetObjectItemCaseSensitive(o, keys[2]),
	    f->type == PEER_MSG_WANT ? 1 : 0, &f->seq))
		return peer__err(err, errlen, PEER_EPROTO, "%s: bad %s", name, keys[2]);
	if (f->type == PEER_MSG_ACK && (!peer__str(o, "P", hex, 16) ||
	    peer_parse_hex_u64(hex, strlen(hex), &f->P) != 0))
		return peer__err(err, errlen, PEER_EPROTO, "ack: bad P");
	if (f->type == PEER_MSG_FORK && (!peer__str(o, "reason", f->reason,
	    PEER_REASON_MAX) || !peer__printable(f->reason)))
		return peer__err(err, errlen, PEER_EPROTO, "fork: bad reason");
	return 0;
}

static int peer__parse_batch_head(const cJSON *o, peer_frame *f, char *err,
    size_t errlen)
{
	static const char *const keys[] = { "type", "stream", "prev", "n", NULL };
	uint64_t n;

	if (!peer__keys(o, keys) || !peer__stream_member(o, f))
		return peer__err(err, errlen, PEER_EPROTO, "batch: bad keys or stream");
	if (!peer__pair(cJSON_GetObjectItemCaseSensitive(o, "prev"), &f->prev_seq,
	    &f->prev_P))
		return peer__err(err, errlen, PEER_EPROTO, "batch: bad prev");
	if (!peer__u53(cJSON_GetObjectItemCaseSensitive(o, "n"), 1, &n) ||
	    n > PEER_BATCH_EVENTS || f->prev_seq + n > LOG_SEQ_MAX)
		return peer__err(err, errlen, PEER_EPROTO, "batch: bad n");
	f->nevents = (size_t)n;
	return 0;
}

/* Split the event lines after a batch header; each must be the stream's
 * event at the next seq. In canonical bytes `"stream":"S","seq":K,` occurs
 * exactly at that field (no other value may hold a '"'), so a substring
 * test is exact. */
static int peer__parse_events(const char *p, size_t len, peer_frame *f,
    char *err, size_t errlen)
{
	char needle[LOG_STREAM_MAX + 48];
	size_t i = 0, off = 0;

	while (off <= len && i < f->nevents) {
		const char *nl = memchr(p + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (p + off)) : len - off;
		int k;

		if (l == 0 || l > LOG_EVENT_MAX)
			return peer__err(err, errlen, PEER_EPROTO,
			    "batch: event %zu has %zu bytes", i + 1, l);
		k = snprintf(needle, sizeof needle, "\"stream\":\"%s\",\"seq\":%" PRIu64 ",",
		    f->stream, f->prev_seq + i + 1);
		if (memmem(p + off, l, needle, (size_t)k) == NULL)
			return peer__err(err, errlen, PEER_EPROTO,
			    "batch: event %zu is not %s at seq %" PRIu64, i + 1,
			    f->stream, f->prev_seq + i + 1);
		f->events[i].p = p + off;
		f->events[i].len = l;
		i++;
		off += l + 1;
		if (nl == NULL)
			break;
	}
	if (i != f->nevents || off != len + 1)
		return peer__err(err, errlen, PEER_EPROTO,
		    "batch: %zu events announced, the body differs", f->nevents);
	return 0;
}

static enum peer_msg_type peer__type(const cJSON *o)
{
	static const char *const names[] = {
		NULL, "hello", "auth", "want", "batch", "ack", "fork"
	};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");

	if (!cJSON_IsString(t) || t->valuestring == NULL)
		return PEER_MSG_NONE;
	for (int i = 1; i < 7; i++)
		if (strcmp(t->valuestring, names[i]) == 0)
			return (enum peer_msg_type)i;
	return PEER_MSG_NONE;
}

static int peer__parse_obj(const cJSON *o, peer_frame *f, char *err, size_t errlen)
{
	switch (f->type) {
	case PEER_MSG_HELLO: return peer__parse_hello(o, f, err, errlen);
	case PEER_MSG_AUTH: return peer__parse_auth(o, f, err, errlen);
	case PEER_MSG_BATCH: return peer__parse_batch_head(o, f, err, errlen);
	default: return peer__parse_small(o, f, err, errlen);
	}
}

int peer_frame_parse(const char *buf, size_t len, peer_frame *f,
    char *err, size_t errlen)
{
	const char *nl, *end = NULL;
	size_t hlen;
	cJSON *o = NULL;
	int rc;

	memset(f, 0, offsetof(peer_frame, events));
	f->reason[0] = '\0';
	if (len > PEER_FRAME_MAX)
		return peer__err(err, errlen, PEER_ETOOBIG, "frame of %zu bytes", len);
	nl = len ? memchr(buf, '\n', len) : NULL;
	hlen = nl ? (size_t)(nl - buf) : len;
	if (hlen == 0 || buf[0] != '{') {
		rc = peer__err(err, errlen, PEER_EPROTO, "frame is not a JSON object");
		goto err;
	}
	o = cJSON_ParseWithLengthOpts(buf, hlen, &end, 0);
	if (o == NULL || end != buf + hlen || !cJSON_IsObject(o)) {
		rc = peer__err(err, errlen, PEER_EPROTO, "header is not one JSON object");
		goto err;
	}
	if ((f->type = peer__type(o)) == PEER_MSG_NONE) {
		rc = peer__err(err, errlen, PEER_EPROTO, "unknown or missing type");
		goto err;
	}
	if ((nl != NULL) != (f->type == PEER_MSG_BATCH)) {
		rc = peer__err(err, errlen, PEER_EPROTO, "%s",
		    nl ? "only a batch has lines after its header" : "batch without events");
		goto err;
	}
	if ((rc = peer__parse_obj(o, f, err, errlen)) != 0)
		goto err;
	if (f->type == PEER_MSG_BATCH &&
	    (rc = peer__parse_events(nl + 1, len - hlen - 1, f, err, errlen)) != 0)
		goto err;
	cJSON_Delete(o);
	return 0;
err:
	cJSON_Delete(o);
	peer_frame_clear(f);
	return rc;
}

void peer_frame_clear(peer_frame *f)
{
	free(f->vector);
	f->vector = NULL;
	f->nvector = 0;
	f->nevents = 0;
}

/* ---- encoders ----------------------------------------------------------- */

static int peer__fin(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? PEER_ESPACE : n;
}

int peer_enc_hello(char *buf, size_t cap, const char *node, const char *nonce,
    const peer_head *v, size_t n)
{
	size_t off;
	int k;
	char hex[17];
	const char *sep = "";

	k = snprintf(buf, cap, "{\"type\":\"hello\",\"v\":%d,\"node\":\"%s\","
	    "\"nonce\":\"%s\",\"vector\":{", PEER_PROTO_VERSION, node, nonce);
	if (peer__fin(k, cap) < 0)
		return PEER_ESPACE;
	off = (size_t)k;
	for (size_t i = 0; i < n; i++) {
		if (v[i].seq == 0)
			continue;
		peer_hex_u64(v[i].P, hex);
		k = snprintf(buf + off, cap - off, "%s\"%s\":[%" PRIu64 ",\"%s\"]",
		    sep, v[i].stream, v[i].seq, hex);
		if (peer__fin(k, cap - off) < 0)
			return PEER_ESPACE;
		off += (size_t)k;
		sep = ",";
	}
	k = snprintf(buf + off, cap - off, "}}");
	if (peer__fin(k, cap - off) < 0)
		return PEER_ESPACE;
	return (int)(off + (size_t)k);
}

int peer_enc_auth(char *buf, size_t cap, const char *mac)
{
	return peer__fin(snprintf(buf, cap, "{\"type\":\"auth\",\"mac\":\"%s\"}", mac), cap);
}

int peer_enc_want(char *buf, size_t cap, const char *stream, uint64_t from)
{
	return peer__fin(snprintf(buf, cap, "{\"type\":\"want\",\"stream\":\"%s\","
	    "\"from\":%" PRIu64 "}", stream, from), cap);
}

int peer_enc_batch_head(char *buf, size_t cap, const char *stream,
    uint64_t prev_seq, uint64_t prev_P, size_t n)
{
	char hex[17];

	peer_hex_u64(prev_P, hex);
	return peer__fin(snprintf(buf, cap, "{\"type\":\"batch\",\"stream\":\"%s\","
	    "\"prev\":[%" PRIu64 ",\"%s\"],\"n\":%zu}\n", stream, prev_seq, hex, n), cap);
}

int peer_enc_ack(char *buf, size_t cap, const char *stream, uint64_t seq,
    uint64_t P)
{
	char hex[17];

	peer_hex_u64(P, hex);
	return peer__fin(snprintf(buf, cap, "{\"type\":\"ack\",\"stream\":\"%s\","
	    "\"seq\":%" PRIu64 ",\"P\":\"%s\"}", stream, seq, hex), cap);
}

int peer_enc_fork(char *buf, size_t cap, const char *stream, uint64_t seq,
    const char *reason)
{
	char r[PEER_REASON_MAX + 1];
	size_t i;

	for (i = 0; reason[i] != '\0' && i < PEER_REASON_MAX; i++)
		r[i] = reason[i] < 0x20 || reason[i] > 0x7e || reason[i] == '"' ||
		    reason[i] == '\\' ? '?' : reason[i];
	r[i] = '\0';
	return peer__fin(snprintf(buf, cap, "{\"type\":\"fork\",\"stream\":\"%s\","
	    "\"seq\":%" PRIu64 ",\"reason\":\"%s\"}", stream, seq, r), cap);
}
