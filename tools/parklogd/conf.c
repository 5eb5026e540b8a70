/* tools/parklogd/conf.c — parklogd's configuration: default, JSON file,
 * checks across keys. The format is described in docs/config.md.
 *
 * Every mistake is an error naming its key: a typo that passed silently
 * would leave a gate open or a tariff wrong. Seed keys ("this_central",
 * "peer_centrals") are applied before our own, so our own keys win.
 */
#include "tools/parklogd/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cJSON.h>

#include "msg/msg.h"

#define CONF__FILE_MAX	(1024 * 1024)	/* a config is a few KiB; refuse junk */
#define CONF__PATH	96		/* "edges[255].auto_open.entry_min_confidence" */
#define CONF__INT_MAX	1000000000LL	/* capacity */
#define CONF__TOKEN_MIN	16

typedef struct conf__ctx {
	const char *file;
	char *err;
	size_t errlen;
} conf__ctx;

/* ------------------------------------------------------------- defaults */

void conf_default(conf *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->id, "central-1");
	strcpy(c->data_dir, "./data");
	strcpy(c->http.host, "127.0.0.1");
	c->http.port = 8000;
	strcpy(c->p2p.host, "127.0.0.1");
	c->p2p.port = 9000;
	strcpy(c->gates.host, "127.0.0.1");
	c->gates.port = 9100;
	c->gate_ack_ms = 2000;
	c->durability = LOG_DURABLE_FULL;
	c->verbose = MSG_INFO;
	proj_tariff_default(&c->tariff);
	c->max_body = 16384;
	c->max_header = 8192;
	c->max_conns = 1024;
	c->conn_timeout_s = 30;
	c->request_deadline_s = 10;
	c->max_conns_per_ip = 128;
	c->reserved_conns = 0;		/* max_conns / 16 */
	c->idem_window_ms = 10000;
	c->idem_key_ttl_s = 86400;
	c->camera_offline_s = 60;
	c->time_skew_ms = 2000;
	c->time_offline_horizon_s = 86400;
	c->time_max_drift_ms = 10000;
	strcpy(c->metrics_allow, "127.0.0.0/8,::1");	/* a local Prometheus */
	/* the seed's web UI runs on another origin (docs/seed-compat.md) */
	strcpy(c->seed_cors, "*");
}

/* ---------------------------------------------------- value rules (pure) */

/* event rules for origins and edge ids: 1..32 of [A-Za-z0-9.-] */
static bool conf__id_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= LOG_ORIGIN_MAX || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
		    s[n] == '.' || s[n] == '-'))
			return false;
	return n > 0;
}

/* vehicle classes as in events: 1..16 of [a-z0-9_-] */
static bool conf__vehicle_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= LOG_VEHICLE_MAX || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
			return false;
	return n > 0;
}

/* No space: a token travels as "Authorization: Bearer <token>". */
static bool conf__token_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= CONF_TOKEN_MAX || s[n] < 0x21 || s[n] > 0x7e)
			return false;
	return n >= CONF__TOKEN_MIN;
}

/* RFC 1123 host name; all-numeric names must be valid IPv4 instead. */
static bool conf__hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0, i;
	bool numeric = true;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)))
			return false;
		if (ch < '0' || ch > '9')
			numeric = false;
		label++;
	}
	return !numeric;
}

/* A numeric IPv4, an IPv6 (bare, only if v6 is set) or a host name. */
static bool conf__host_ok(const char *s, bool v6)
{
	unsigned char a[16];

	if (strlen(s) > CONF_HOST_MAX)
		return false;
	if (strchr(s, ':') != NULL)
		return v6 && inet_pton(AF_INET6, s, a) == 1;
	if (strspn(s, "0123456789.") == strlen(s))
		return inet_pton(AF_INET, s, a) == 1;
	return conf__hostname_ok(s);
}

/* Decimal 1..65535, digits only: "+80", " 80", "80x" are garbage. */
static int conf__port(const char *s)
{
	size_t n = strspn(s, "0123456789");
	long v;

	if (n == 0 || n > 5 || s[n] != '\0')
		return -1;
	v = strtol(s, NULL, 10);
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

int conf_parse_addr(const char *s, conf_addr *out)
{
	char host[CONF_HOST_MAX + 1];
	const char *colon;
	size_t n;
	int port;
	bool v6 = s != NULL && s[0] == '[';

	if (s == NULL)
		return -1;
	/* "[v6]:port"; a bare v6 is ambiguous ("::1:8000"), a missing host
	 * would bind every interface by accident: both are refused. */
	colon = v6 ? strstr(s, "]:") : strrchr(s, ':');
	if (colon == NULL)
		return -1;
	n = (size_t)(colon - s) - (v6 ? 1 : 0);
	if (n == 0 || n > CONF_HOST_MAX)
		return -1;
	memcpy(host, s + (v6 ? 1 : 0), n);
	host[n] = '\0';
	if ((v6 && strchr(host, ':') == NULL) || !conf__host_ok(host, v6))
		return -1;
	if ((port = conf__port(colon + (v6 ? 2 : 1))) < 0)
		return -1;
	strcpy(out->host, host);
	out->port = port;
	return 0;
}

int conf_addr_format(const conf_addr *a, char *buf, size_t len)
{
	const char *fmt = strchr(a->host, ':') != NULL ? "[%s]:%d" : "%s:%d";

	return snprintf(buf, len, fmt, a->host, a->port);
}

int conf_is_loopback(const char *host)
{
	unsigned char a[16];
	struct in6_addr v6;

	if (host == NULL)
		return 0;
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, &v6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&v6))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

/* 0.0.0.0 / :: — used to see two listeners that would collide. */
static bool conf__is_any(const char *host)
{
	unsigned char a[16];
	static const unsigned char zero[16];

	if (inet_pton(AF_INET, host, a) == 1)
		return memcmp(a, zero, 4) == 0;
	if (inet_pton(AF_INET6, host, a) == 1)
		return memcmp(a, zero, 16) == 0;
	return false;
}

const conf_edge *conf_edge_find(const conf *c, const char *id)
{
	size_t i;

	if (c == NULL || id == NULL)
		return NULL;
	for (i = 0; i < c->nedges; i++)
		if (strcmp(c->edges[i].id, id) == 0)
			return &c->edges[i];
	return NULL;
}

/* ------------------------------------------------------- error helpers */

/* "file: key: message" (key may be NULL); always returns -1. */
__attribute__((format(printf, 3, 4)))
static int conf__fail(const conf__ctx *x, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (x->err == NULL || x->errlen == 0)
		return -1;
	if (key != NULL && key[0] != '\0')
		snprintf(x->err, x->errlen, "%s: %s: %s", x->file, key, msg);
	else
		snprintf(x->err, x->errlen, "%s: %s", x->file, msg);
	return -1;
}

/* Child path: "parent.key", or "key" at the top. */
static const char *conf__path(char out[CONF__PATH], const char *parent, const char *key)
{
	/* an unknown key may be long: cut it, visibly */
	if (snprintf(out, CONF__PATH, "%s%s%s", parent, parent[0] ? "." : "", key)
	    >= CONF__PATH)
		memcpy(out + CONF__PATH - 4, "...", 4);
	return out;
}

static const char *conf__index(char out[CONF__PATH], const char *parent, size_t i)
{
	snprintf(out, CONF__PATH, "%s[%zu]", parent, i);
	return out;
}

/* obj must be an object whose keys are all in names[], each at most once
 * (cJSON keeps duplicates; a second value must not silently win). */
static int conf__keys(const conf__ctx *x, const cJSON *obj, const char *path,
    const char *const *names, size_t n)
{
	const cJSON *it, *prev;
	char p[CONF__PATH];
	size_t i;

	if (!cJSON_IsObject(obj))
		return conf__fail(x, path, "expected an object");
	cJSON_ArrayForEach(it, obj) {
		for (i = 0; i < n && strcmp(names[i], it->string) != 0; i++)
			;
		if (i == n)
			return conf__fail(x, conf__path(p, path, it->string), "unknown key");
		for (prev = obj->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return conf__fail(x, conf__path(p, path, it->string),
				    "duplicate key");
	}
	return 0;
}

#define CONF__NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static const cJSON *conf__get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* ------------------------------------------------------- typed values */

static int conf__int(const conf__ctx *x, const cJSON *v, const char *path,
    long long lo, long long hi, long long *out)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1e300;

	/* range first: the cast below is defined only inside it */
	if (d < (double)lo || d > (double)hi || (double)(long long)d != d)
		return conf__fail(x, path, "expected an integer %lld..%lld", lo, hi);
	*out = (long long)d;
	return 0;
}

static int conf__str(const conf__ctx *x, const cJSON *v, const char *path,
    bool (*ok)(const char *), const char *what, char *out, size_t cap)
{
	const char *s = cJSON_GetStringValue(v);

	if (s == NULL || strlen(s) >= cap || (ok != NULL && !ok(s)))
		return conf__fail(x, path, "expected %s", what);
	strcpy(out, s);
	return 0;
}

#define CONF__ID_WHAT "an id: 1..32 characters of A-Z a-z 0-9 . -"
#define CONF__TOKEN_WHAT "16..128 printable ASCII characters, no spaces"
#define CONF__VEH_WHAT "a vehicle class: 1..16 characters of a-z 0-9 _ -"

static int conf__id(const conf__ctx *x, const cJSON *v, const char *path,
    char out[LOG_ORIGIN_MAX + 1])
{
	return conf__str(x, v, path, conf__id_ok, CONF__ID_WHAT, out, LOG_ORIGIN_MAX + 1);
}

static int conf__token(const conf__ctx *x, const cJSON *v, const char *path,
    char out[CONF_TOKEN_MAX + 1])
{
	return conf__str(x, v, path, conf__token_ok, CONF__TOKEN_WHAT, out,
	    CONF_TOKEN_MAX + 1);
}

static int conf__addr(const conf__ctx *x, const cJSON *v, const char *path, conf_addr *a)
{
	const char *s = cJSON_GetStringValue(v);

	if (s == NULL || conf_parse_addr(s, a) != 0)
		return conf__fail(x, path,
		    "expected \"host:port\" or \"[IPv6]:port\" with port 1..65535");
	return 0;
}

/* The seed's "ip": a host alone, IPv6 without brackets. */
static int conf__host(const conf__ctx *x, const cJSON *v, const char *path,
    char out[CONF_HOST_MAX + 1])
{
	const char *s = cJSON_GetStringValue(v);

	if (s == NULL || !conf__host_ok(s, true))
		return conf__fail(x, path, "expected an IPv4 or IPv6 address or a host name");
	strcpy(out, s);
	return 0;
}

static int conf__port_key(const conf__ctx *x, const cJSON *v, const char *path, int *port)
{
	long long p = 0;

	if (conf__int(x, v, path, 1, 65535, &p) != 0)
		return -1;
	*port = (int)p;
	return 0;
}

/* -------------------------------------------------------------- edges */

static int conf__direction(const conf__ctx *x, const cJSON *v, const char *path,
    enum conf_direction *d)
{
	const char *s = cJSON_GetStringValue(v);

	if (v == NULL || cJSON_IsNull(v))
		*d = CONF_DIR_NONE;
	else if (s != NULL && strcmp(s, "ENTRY") == 0)
		*d = CONF_DIR_ENTRY;
	else if (s != NULL && strcmp(s, "EXIT") == 0)
		*d = CONF_DIR_EXIT;
	else
		return conf__fail(x, path, "expected \"ENTRY\", \"EXIT\" or null");
	return 0;
}

static int conf__auto_open(const conf__ctx *x, const cJSON *v, const char *path,
    conf_edge *e)
{
	static const char *const keys[] = { "entry_min_confidence", "exit_free" };
	const cJSON *conf_v, *free_v;
	char p[CONF__PATH];

	if (conf__keys(x, v, path, keys, CONF__NKEYS(keys)) != 0)
		return -1;
	conf_v = conf__get(v, "entry_min_confidence");
	free_v = conf__get(v, "exit_free");
	if (conf_v != NULL && !cJSON_IsNull(conf_v)) {
		if (!cJSON_IsNumber(conf_v) || !(conf_v->valuedouble >= 0 &&
		    conf_v->valuedouble <= 1))
			return conf__fail(x, conf__path(p, path, "entry_min_confidence"),
			    "expected a number 0..1 or null");
		e->auto_open_entry = 1;
		e->auto_open_min_conf_milli = (int)(conf_v->valuedouble * 1000 + 0.5);
	}
	if (free_v != NULL) {
		if (!cJSON_IsBool(free_v))
			return conf__fail(x, conf__path(p, path, "exit_free"),
			    "expected true or false");
		e->auto_open_exit_free = cJSON_IsTrue(free_v);
	}
	return 0;
}

static int conf__edge(const conf__ctx *x, const cJSON *v, const char *path, conf_edge *e)
{
	static const char *const keys[] = { "id", "direction", "vehicle", "token",
	    "auto_open" };
	const cJSON *it;
	char p[CONF__PATH];

	memset(e, 0, sizeof *e);
	if (conf__keys(x, v, path, keys, CONF__NKEYS(keys)) != 0)
		return -1;
	if ((it = conf__get(v, "id")) == NULL)
		return conf__fail(x, conf__path(p, path, "id"), "missing");
	if (conf__id(x, it, conf__path(p, path, "id"), e->id) != 0 ||
	    conf__direction(x, conf__get(v, "direction"),
		conf__path(p, path, "direction"), &e->direction) != 0)
		return -1;
	if ((it = conf__get(v, "vehicle")) != NULL && !cJSON_IsNull(it) &&
	    conf__str(x, it, conf__path(p, path, "vehicle"), conf__vehicle_ok,
		CONF__VEH_WHAT " or null", e->vehicle, sizeof e->vehicle) != 0)
		return -1;
	if ((it = conf__get(v, "token")) != NULL &&
	    conf__token(x, it, conf__path(p, path, "token"), e->token) != 0)
		return -1;
	if ((it = conf__get(v, "auto_open")) != NULL &&
	    conf__auto_open(x, it, conf__path(p, path, "auto_open"), e) != 0)
		return -1;
	return 0;
}

static int conf__edges(const conf__ctx *x, const cJSON *v, conf *c)
{
	const cJSON *it;
	char p[CONF__PATH];

	if (!cJSON_IsArray(v))
		return conf__fail(x, "edges", "expected an array");
	if (cJSON_GetArraySize(v) > CONF_MAX_EDGES)
		return conf__fail(x, "edges", "more than %d edges", CONF_MAX_EDGES);
	c->nedges = 0;
	cJSON_ArrayForEach(it, v) {
		if (conf__edge(x, it, conf__index(p, "edges", c->nedges),
		    &c->edges[c->nedges]) != 0)
			return -1;
		c->nedges++;
	}
	return 0;
}

/* ---------------------------------------------------------- operators */

static bool conf__role_ok(const char *s)
{
	return strcmp(s, "viewer") == 0 || strcmp(s, "operator") == 0 ||
	    strcmp(s, "admin") == 0;
}

/* {"name", "token", "role"}: an operator account (api/accounts.c). */
static int conf__operator(const conf__ctx *x, const cJSON *v, const char *path,
    struct conf_operator *o)
{
	static const char *const keys[] = { "name", "token", "role" };
	const cJSON *it;
	char p[CONF__PATH];

	memset(o, 0, sizeof *o);
	if (conf__keys(x, v, path, keys, CONF__NKEYS(keys)) != 0)
		return -1;
	if ((it = conf__get(v, "name")) == NULL)
		return conf__fail(x, conf__path(p, path, "name"), "missing");
	if (conf__id(x, it, conf__path(p, path, "name"), o->name) != 0)
		return -1;
	if ((it = conf__get(v, "token")) == NULL)
		return conf__fail(x, conf__path(p, path, "token"), "missing");
	if (conf__token(x, it, conf__path(p, path, "token"), o->token) != 0)
		return -1;
	if ((it = conf__get(v, "role")) == NULL)
		return conf__fail(x, conf__path(p, path, "role"), "missing");
	return conf__str(x, it, conf__path(p, path, "role"), conf__role_ok,
	    "\"viewer\", \"operator\" or \"admin\"", o->role, sizeof o->role);
}

static int conf__operators(const conf__ctx *x, const cJSON *v, conf *c)
{
	const cJSON *it;
	char p[CONF__PATH];

	if (!cJSON_IsArray(v))
		return conf__fail(x, "operators", "expected an array");
	if (cJSON_GetArraySize(v) > 32)
		return conf__fail(x, "operators", "more than 32 accounts");
	c->noperators = 0;
	cJSON_ArrayForEach(it, v) {
		struct conf_operator *o = &c->operators[c->noperators];

		if (conf__operator(x, it, conf__index(p, "operators", c->noperators), o) != 0)
			return -1;
		for (size_t i = 0; i < c->noperators; i++)
			if (strcmp(c->operators[i].name, o->name) == 0 ||
			    strcmp(c->operators[i].token, o->token) == 0)
				return conf__fail(x, conf__index(p, "operators", c->noperators),
				    "same name or token as operators[%zu]", i);
		c->noperators++;
	}
	return 0;
}

/* -------------------------------------------------------------- peers */

/* Own shape {"id","address"} or the seed's {"id","ip","p2p_port"}. */
static int conf__peer(const conf__ctx *x, const cJSON *v, const char *path,
    bool seed, conf_peer *pe)
{
	static const char *const own[] = { "id", "address" };
	static const char *const sd[] = { "id", "ip", "p2p_port" };
	const char *const *keys = seed ? sd : own;
	size_t nkeys = seed ? CONF__NKEYS(sd) : CONF__NKEYS(own), i;
	char p[CONF__PATH];

	memset(pe, 0, sizeof *pe);
	if (conf__keys(x, v, path, keys, nkeys) != 0)
		return -1;
	for (i = 0; i < nkeys; i++)
		if (conf__get(v, keys[i]) == NULL)
			return conf__fail(x, conf__path(p, path, keys[i]), "missing");
	if (conf__id(x, conf__get(v, "id"), conf__path(p, path, "id"), pe->id) != 0)
		return -1;
	if (!seed)
		return conf__addr(x, conf__get(v, "address"),
		    conf__path(p, path, "address"), &pe->addr);
	if (conf__host(x, conf__get(v, "ip"), conf__path(p, path, "ip"),
	    pe->addr.host) != 0)
		return -1;
	return conf__port_key(x, conf__get(v, "p2p_port"),
	    conf__path(p, path, "p2p_port"), &pe->addr.port);
}

static int conf__peers(const conf__ctx *x, const cJSON *v, const char *key,
    bool seed, conf *c)
{
	const cJSON *it;
	char p[CONF__PATH];

	if (!cJSON_IsArray(v))
		return conf__fail(x, key, "expected an array");
	if (cJSON_GetArraySize(v) > CONF_MAX_PEERS)
		return conf__fail(x, key, "more than %d peers", CONF_MAX_PEERS);
	c->npeers = 0;
	cJSON_ArrayForEach(it, v) {
		if (conf__peer(x, it, conf__index(p, key, c->npeers), seed,
		    &c->peers[c->npeers]) != 0)
			return -1;
		c->npeers++;
	}
	return 0;
}

/* ------------------------------------------------------ the seed's keys */

/* "ip" is where this central listens, for both its API and p2p ports. */
static int conf__this_central(const conf__ctx *x, const cJSON *v, conf *c)
{
	static const char *const keys[] = { "id", "ip", "p2p_port", "api_port" };
	const cJSON *it;
	char host[CONF_HOST_MAX + 1];

	if (conf__keys(x, v, "this_central", keys, CONF__NKEYS(keys)) != 0)
		return -1;
	if ((it = conf__get(v, "id")) != NULL &&
	    conf__id(x, it, "this_central.id", c->id) != 0)
		return -1;
	if ((it = conf__get(v, "ip")) != NULL) {
		if (conf__host(x, it, "this_central.ip", host) != 0)
			return -1;
		strcpy(c->http.host, host);
		strcpy(c->p2p.host, host);
	}
	if ((it = conf__get(v, "p2p_port")) != NULL &&
	    conf__port_key(x, it, "this_central.p2p_port", &c->p2p.port) != 0)
		return -1;
	if ((it = conf__get(v, "api_port")) != NULL &&
	    conf__port_key(x, it, "this_central.api_port", &c->http.port) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------- our own keys */

static int conf__capacity(const conf__ctx *x, const cJSON *v, conf *c)
{
	const cJSON *it, *prev;
	char p[CONF__PATH];
	long long n = 0;

	if (!cJSON_IsObject(v))
		return conf__fail(x, "capacity", "expected an object");
	c->ncapacity = 0;
	cJSON_ArrayForEach(it, v) {
		conf__path(p, "capacity", it->string);
		if (!conf__vehicle_ok(it->string))
			return conf__fail(x, p, "expected " CONF__VEH_WHAT " as the key");
		for (prev = v->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return conf__fail(x, p, "duplicate key");
		if (c->ncapacity == PROJ_TARIFF_CLASSES)
			return conf__fail(x, "capacity", "more than %d classes",
			    PROJ_TARIFF_CLASSES);
		if (conf__int(x, it, p, 0, CONF__INT_MAX, &n) != 0)
			return -1;
		strcpy(c->capacity[c->ncapacity].vehicle, it->string);
		c->capacity[c->ncapacity++].capacity = (uint64_t)n;
	}
	return 0;
}

static const struct conf__limit {
	const char *name;
	long long lo, hi;
} conf__limits_tab[] = {
	{ "max_body", 1024, 16 * 1024 * 1024 },
	{ "max_conns", 1, 65536 },
	{ "conn_timeout_s", 1, 3600 },
	{ "idempotency_window_ms", 0, 3600000 },
	{ "camera_offline_s", 1, 86400 },
	{ "gate_ack_ms", 100, 60000 },
	{ "idempotency_key_ttl_s", 1, 30 * 86400 },
	{ "max_header", 4096, 1024 * 1024 },
	{ "request_deadline_s", 1, 3600 },
	{ "max_conns_per_ip", 1, 65536 },
	{ "reserved_conns", 0, 65535 },
};
#define CONF__NLIMITS CONF__NKEYS(conf__limits_tab)

static void conf__limit_set(conf *c, size_t i, long long v)
{
	switch (i) {
	case 0: c->max_body = (size_t)v; break;
	case 1: c->max_conns = (unsigned)v; break;
	case 2: c->conn_timeout_s = (unsigned)v; break;
	case 3: c->idem_window_ms = (unsigned)v; break;
	case 4: c->camera_offline_s = (unsigned)v; break;
	case 5: c->gate_ack_ms = (unsigned)v; break;
	case 6: c->idem_key_ttl_s = (unsigned)v; break;
	case 7: c->max_header = (size_t)v; break;
	case 8: c->request_deadline_s = (unsigned)v; break;
	case 9: c->max_conns_per_ip = (unsigned)v; break;
	default: c->reserved_conns = (unsigned)v; break;
	}
}

static int conf__limits(const conf__ctx *x, const cJSON *v, conf *c)
{
	const char *names[CONF__NLIMITS];
	const cJSON *it;
	char p[CONF__PATH];
	long long n = 0;
	size_t i;

	for (i = 0; i < CONF__NLIMITS; i++)
		names[i] = conf__limits_tab[i].name;
	if (conf__keys(x, v, "limits", names, CONF__NLIMITS) != 0)
		return -1;
	for (i = 0; i < CONF__NLIMITS; i++) {
		if ((it = conf__get(v, names[i])) == NULL)
			continue;
		if (conf__int(x, it, conf__path(p, "limits", names[i]),
		    conf__limits_tab[i].lo, conf__limits_tab[i].hi, &n) != 0)
			return -1;
		conf__limit_set(c, i, n);
	}
	return 0;
}

/* "time": the bounds of a gate's time (docs/time.md). */
static int conf__time(const conf__ctx *x, const cJSON *v, conf *c)
{
	static const struct conf__limit tab[] = {
		{ "skew_ms", 1, 600000 },
		{ "offline_horizon_s", 60, 30 * 86400 },
		{ "max_drift_ms", 100, 3600000 },
	};
	unsigned *dst[] = { &c->time_skew_ms, &c->time_offline_horizon_s,
	    &c->time_max_drift_ms };
	const char *names[CONF__NKEYS(tab)];
	const cJSON *it;
	char p[CONF__PATH];
	long long n = 0;

	for (size_t i = 0; i < CONF__NKEYS(tab); i++)
		names[i] = tab[i].name;
	if (conf__keys(x, v, "time", names, CONF__NKEYS(tab)) != 0)
		return -1;
	for (size_t i = 0; i < CONF__NKEYS(tab); i++) {
		if ((it = conf__get(v, names[i])) == NULL)
			continue;
		if (conf__int(x, it, conf__path(p, "time", names[i]), tab[i].lo,
		    tab[i].hi, &n) != 0)
			return -1;
		*dst[i] = (unsigned)n;
	}
	return 0;
}

/* Index of s in names (count n), or -1. */
static int conf__choice(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static int conf__enums(const conf__ctx *x, const cJSON *root, conf *c)
{
	static const char *const dur[] = { "full", "meta", "none" };
	static const char *const lvl[] = { "quiet", "info", "debug" };
	const cJSON *it;
	int i;

	/* indexes follow enum log_durability and enum msg_level */
	if ((it = conf__get(root, "durability")) != NULL) {
		if ((i = conf__choice(cJSON_GetStringValue(it), dur, 3)) < 0)
			return conf__fail(x, "durability",
			    "expected \"full\", \"meta\" or \"none\"");
		c->durability = (enum log_durability)i;
	}
	if ((it = conf__get(root, "messages")) != NULL) {
		if ((i = conf__choice(cJSON_GetStringValue(it), lvl, 3)) < 0)
			return conf__fail(x, "messages",
			    "expected \"quiet\", \"info\" or \"debug\"");
		c->verbose = i;
	}
	return 0;
}

static bool conf__path_ok(const char *s)
{
	return s[0] != '\0';
}

/* id, data_dir, listeners, secrets. */
static int conf__scalars(const conf__ctx *x, const cJSON *root, conf *c)
{
	const cJSON *it;

	if ((it = conf__get(root, "id")) != NULL && conf__id(x, it, "id", c->id) != 0)
		return -1;
	if ((it = conf__get(root, "data_dir")) != NULL &&
	    conf__str(x, it, "data_dir", conf__path_ok, "a path of 1..1023 bytes",
		c->data_dir, sizeof c->data_dir) != 0)
		return -1;
	if ((it = conf__get(root, "http")) != NULL &&
	    conf__addr(x, it, "http", &c->http) != 0)
		return -1;
	if ((it = conf__get(root, "p2p")) != NULL &&
	    conf__addr(x, it, "p2p", &c->p2p) != 0)
		return -1;
	if ((it = conf__get(root, "gates")) != NULL) {
		if (conf__addr(x, it, "gates", &c->gates) != 0)
			return -1;
		c->gates_set = 1;
	}
	if ((it = conf__get(root, "operator_token")) != NULL &&
	    conf__token(x, it, "operator_token", c->operator_token) != 0)
		return -1;
	if ((it = conf__get(root, "peer_secret")) != NULL &&
	    conf__token(x, it, "peer_secret", c->peer_secret) != 0)
		return -1;
	return conf__enums(x, root, c);
}

/* "p2p_tls": {"cert","key","ca"}, all three PEM paths (docs/peers.md). */
static int conf__p2p_tls(const conf__ctx *x, const cJSON *v, conf *c)
{
	static const char *const keys[] = { "cert", "key", "ca" };
	char *dst[3] = { c->p2p_tls_cert, c->p2p_tls_key, c->p2p_tls_ca };
	char p[CONF__PATH];

	if (!cJSON_IsObject(v))
		return conf__fail(x, "p2p_tls", "expected {\"cert\", \"key\", \"ca\"}");
	if (conf__keys(x, v, "p2p_tls", keys, 3) != 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (conf__str(x, conf__get(v, keys[i]), conf__path(p, "p2p_tls", keys[i]),
		    conf__path_ok, "a path of 1..1023 bytes", dst[i], 1024) != 0)
			return -1;
	return 0;
}

/* An array of strings of printable ASCII without ',' or ' ' into out,
 * comma-separated; valid(s) checks each. */
static int conf__strlist(const conf__ctx *x, const cJSON *v, const char *key,
    bool (*valid)(const char *), const char *what, char *out, size_t cap)
{
	const cJSON *e;
	size_t n = 0;

	if (!cJSON_IsArray(v))
		return conf__fail(x, key, "expected an array of strings");
	out[0] = '\0';
	cJSON_ArrayForEach(e, v) {
		const char *s = cJSON_GetStringValue(e);
		size_t k = s ? strlen(s) : 0;

		if (s == NULL || k == 0 || k > 255 || strpbrk(s, ", \t") != NULL ||
		    !valid(s))
			return conf__fail(x, key, "expected %s", what);
		if (n + k + 2 > cap)
			return conf__fail(x, key, "too long (at most %zu bytes)", cap - 1);
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", s);
	}
	return 0;
}

static bool conf__origin_ok(const char *s)
{
	return strcmp(s, "*") == 0 || strncmp(s, "http://", 7) == 0 ||
	    strncmp(s, "https://", 8) == 0;
}

/* "10.0.0.7", "10.0.0.0/24", "fd00::/8" */
static bool conf__net_ok(const char *s)
{
	char host[64];
	const char *slash = strchr(s, '/');
	unsigned char buf[16];
	int v6 = strchr(s, ':') != NULL;
	char *end;
	long bits = slash ? strtol(slash + 1, &end, 10) : 0;

	if (slash && (end == slash + 1 || *end != '\0' || bits < 0 ||
	    bits > (v6 ? 128 : 32)))
		return false;
	snprintf(host, sizeof host, "%.*s", slash ? (int)(slash - s) : 63, s);
	return inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) == 1;
}

/* "seed": {"cors_origins": [...], "tokenless": [...]} (docs/seed-compat.md) */
static int conf__seed(const conf__ctx *x, const cJSON *v, conf *c)
{
	static const char *const keys[] = { "cors_origins", "tokenless" };
	const cJSON *it;

	if (!cJSON_IsObject(v))
		return conf__fail(x, "seed", "expected an object");
	if (conf__keys(x, v, "seed", keys, 2) != 0)
		return -1;
	if ((it = conf__get(v, "cors_origins")) != NULL &&
	    conf__strlist(x, it, "seed.cors_origins", conf__origin_ok,
	    "\"*\" or origins such as \"http://10.0.0.5:3000\"", c->seed_cors,
	    sizeof c->seed_cors) != 0)
		return -1;
	if ((it = conf__get(v, "tokenless")) != NULL &&
	    conf__strlist(x, it, "seed.tokenless", conf__net_ok,
	    "IP addresses or prefixes such as \"10.0.0.0/24\"", c->seed_tokenless,
	    sizeof c->seed_tokenless) != 0)
		return -1;
	return 0;
}

/* The tariff parser resets the offset; the facility's "utc_offset" (or the
 * offset c had) is applied after it, whatever the order in the file. */
/* The tariff's compact text, kept to seed the log's first TARIFF_SET
 * (projections/ops.h); too long for an event: none (the base stays). */
static void conf__tariff_json(const cJSON *t, conf *c)
{
	char *s = cJSON_PrintUnformatted(t);

	c->tariff_json[0] = '\0';
	if (s != NULL && strlen(s) < sizeof c->tariff_json)
		strcpy(c->tariff_json, s);
	cJSON_free(s);
}

static int conf__tariff(const conf__ctx *x, const cJSON *root, conf *c)
{
	const cJSON *t = conf__get(root, "tariff"), *off = conf__get(root, "utc_offset");
	int tz = c->tariff.tz_offset_min;
	char msg[256];

	if (t != NULL) {
		if (!cJSON_IsObject(t))
			return conf__fail(x, "tariff", "expected an object");
		if (proj_tariff_parse(t, &c->tariff, msg, sizeof msg) != 0)
			return conf__fail(x, NULL, "tariff.%s", msg);
		conf__tariff_json(t, c);
	}
	if (off != NULL && proj_utc_offset_parse(cJSON_GetStringValue(off), &tz) != 0)
		return conf__fail(x, "utc_offset",
		    "expected \"+HH:MM\", \"-HH:MM\" or \"Z\", from -12:00 to +14:00");
	c->tariff.tz_offset_min = tz;
	return 0;
}

/* "export": {"nats": {"servers": [URL...], "facility", "stream",
 * "subject_prefix", "user", "password", "token", "creds", "replicas",
 * "window", "dedup_window_s", "ack_wait_ms"}} (docs/export.md). */
static int conf__export_strs(const conf__ctx *x, const cJSON *v, export_opts *o)
{
	static const char *const names[] = { "facility", "stream",
	    "subject_prefix", "user", "password", "token", "creds" };
	char *dst[] = { o->facility, o->stream, o->subject_prefix, o->user,
	    o->password, o->token, o->creds };
	size_t cap[] = { sizeof o->facility, sizeof o->stream,
	    sizeof o->subject_prefix, sizeof o->user, sizeof o->password,
	    sizeof o->token, sizeof o->creds };
	const cJSON *it;
	char p[CONF__PATH];

	for (size_t i = 0; i < CONF__NKEYS(names); i++)
		if ((it = conf__get(v, names[i])) != NULL &&
		    conf__str(x, it, conf__path(p, "export.nats", names[i]), NULL,
		    "a string", dst[i], cap[i]) != 0)
			return -1;
	return 0;
}

static int conf__export_nums(const conf__ctx *x, const cJSON *v, export_opts *o)
{
	static const struct conf__limit tab[] = {
		{ "replicas", 1, 5 }, { "window", 1, 65536 },
		{ "dedup_window_s", 1, 7 * 86400 }, { "ack_wait_ms", 100, 600000 },
	};
	unsigned *dst[] = { &o->replicas, &o->window, &o->dedup_window_s,
	    &o->ack_wait_ms };
	const cJSON *it;
	char p[CONF__PATH];
	long long n;

	for (size_t i = 0; i < CONF__NKEYS(tab); i++) {
		if ((it = conf__get(v, tab[i].name)) == NULL)
			continue;
		if (conf__int(x, it, conf__path(p, "export.nats", tab[i].name),
		    tab[i].lo, tab[i].hi, &n) != 0)
			return -1;
		*dst[i] = (unsigned)n;
	}
	return 0;
}

static int conf__export(const conf__ctx *x, const cJSON *v, conf *c)
{
	static const char *const keys[] = { "servers", "facility", "stream",
	    "subject_prefix", "user", "password", "token", "creds", "replicas",
	    "window", "dedup_window_s", "ack_wait_ms" };
	static const char *const top[] = { "nats" };
	export_opts *o = &c->export_nats;
	const cJSON *n, *it, *srv;
	char p[CONF__PATH], msg[256];

	if (conf__keys(x, v, "export", top, 1) != 0)
		return -1;
	memset(o, 0, sizeof *o);
	if ((n = conf__get(v, "nats")) == NULL || conf__keys(x, n, "export.nats",
	    keys, CONF__NKEYS(keys)) != 0)
		return n == NULL ? conf__fail(x, "export.nats", "required") : -1;
	srv = conf__get(n, "servers");
	if (!cJSON_IsArray(srv) || cJSON_GetArraySize(srv) < 1 ||
	    cJSON_GetArraySize(srv) > EXPORT_MAX_SERVERS)
		return conf__fail(x, "export.nats.servers", "expected 1..%d URLs",
		    EXPORT_MAX_SERVERS);
	cJSON_ArrayForEach(it, srv) {
		conf__index(p, "export.nats.servers", o->nservers);
		if (conf__str(x, it, p, NULL, "a URL", o->servers[o->nservers],
		    EXPORT_URL_MAX + 1) != 0)
			return -1;
		o->nservers++;
	}
	if (conf__export_strs(x, n, o) != 0 || conf__export_nums(x, n, o) != 0)
		return -1;
	if (export_opts_check(o, msg, sizeof msg) != 0)
		return conf__fail(x, NULL, "%s", msg);
	c->export_on = 1;
	return 0;
}

static int conf__root(const conf__ctx *x, const cJSON *root, conf *c)
{
	static const char *const keys[] = { "this_central", "peer_centrals",
	    "id", "data_dir", "http", "p2p", "gates", "durability", "messages",
	    "utc_offset", "operator_token", "peer_secret", "edges", "peers",
	    "tariff", "capacity", "limits", "time", "p2p_tls", "metrics_allow", "seed",
	    "export", "operators" };
	const cJSON *it;

	if (!cJSON_IsObject(root))
		return conf__fail(x, NULL, "expected a JSON object");
	if (conf__keys(x, root, "", keys, CONF__NKEYS(keys)) != 0)
		return -1;
	/* the seed's keys first, so that our own override them */
	if ((it = conf__get(root, "this_central")) != NULL &&
	    conf__this_central(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "peer_centrals")) != NULL &&
	    conf__peers(x, it, "peer_centrals", true, c) != 0)
		return -1;
	if (conf__scalars(x, root, c) != 0 || conf__tariff(x, root, c) != 0)
		return -1;
	if ((it = conf__get(root, "edges")) != NULL && conf__edges(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "operators")) != NULL && conf__operators(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "peers")) != NULL &&
	    conf__peers(x, it, "peers", false, c) != 0)
		return -1;
	if ((it = conf__get(root, "capacity")) != NULL && conf__capacity(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "limits")) != NULL && conf__limits(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "time")) != NULL && conf__time(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "p2p_tls")) != NULL && conf__p2p_tls(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "metrics_allow")) != NULL &&
	    conf__strlist(x, it, "metrics_allow", conf__net_ok,
	    "IP addresses or prefixes such as \"10.0.0.7\" or \"10.0.0.0/24\"",
	    c->metrics_allow, sizeof c->metrics_allow) != 0)
		return -1;
	if ((it = conf__get(root, "seed")) != NULL && conf__seed(x, it, c) != 0)
		return -1;
	if ((it = conf__get(root, "export")) != NULL && conf__export(x, it, c) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------- the file */

static int conf__read(const conf__ctx *x, char **buf, size_t *len)
{
	FILE *f = fopen(x->file, "rb");
	size_t n;
	int e;

	if (f == NULL)
		return conf__fail(x, NULL, "%s", strerror(errno));
	/* one byte more than allowed tells "too large" from "exactly 1 MiB" */
	if ((*buf = malloc(CONF__FILE_MAX + 1)) == NULL) {
		fclose(f);
		return conf__fail(x, NULL, "out of memory");
	}
	n = fread(*buf, 1, CONF__FILE_MAX + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e != 0 || n > CONF__FILE_MAX) {
		free(*buf);
		*buf = NULL;
		return e != 0 ? conf__fail(x, NULL, "%s", strerror(e)) :
		    conf__fail(x, NULL, "larger than 1 MiB");
	}
	(*buf)[n] = '\0';
	*len = n;
	return 0;
}

/* "line L, column C (byte offset N): why", L and C from 1. cJSON stops at
 * or one past the mistake, hence "near" for its positions. */
static int conf__syntax(const conf__ctx *x, const char *buf, size_t off,
    bool near, const char *why)
{
	size_t line = 1, col = 1, i;

	for (i = 0; i < off; i++) {
		col++;
		if (buf[i] == '\n') {
			line++;
			col = 1;
		}
	}
	return conf__fail(x, NULL, "line %zu, %scolumn %zu (byte offset %zu): %s",
	    line, near ? "near " : "", col, off, why);
}

static int conf__parse(const conf__ctx *x, const char *buf, size_t len, cJSON **root)
{
	const char *end = NULL, *nul = memchr(buf, '\0', len);
	size_t off;

	/* cJSON would end a string at a NUL and quietly drop the rest */
	if (nul != NULL)
		return conf__syntax(x, buf, (size_t)(nul - buf), false, "NUL byte");
	*root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	off = end != NULL && end >= buf ? (size_t)(end - buf) : 0;
	if (*root == NULL)
		return conf__syntax(x, buf, off, true, "invalid JSON");
	off += strspn(buf + off, " \t\r\n");	/* buf is NUL-terminated */
	if (off < len) {
		cJSON_Delete(*root);
		*root = NULL;
		return conf__syntax(x, buf, off, false,
		    "unexpected data after the JSON value");
	}
	return 0;
}

int conf_load_file(conf *c, const char *path, char *err, size_t errlen)
{
	conf__ctx x = { path, err, errlen };
	cJSON *root = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (conf__read(&x, &buf, &len) != 0)
		return -1;
	rc = conf__parse(&x, buf, len, &root);
	if (rc == 0)
		rc = conf__root(&x, root, c);
	cJSON_Delete(root);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ validate */

/* Messages without a file name: the keys may come from flags too. */
__attribute__((format(printf, 3, 4)))
static int conf__vfail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int conf__check_edges(const conf *c, char *err, size_t errlen)
{
	long with = -1, without = -1;
	size_t i, j;

	for (i = 0; i < c->nedges; i++) {
		const conf_edge *e = &c->edges[i];

		for (j = 0; j < i; j++) {
			if (strcmp(e->id, c->edges[j].id) == 0)
				return conf__vfail(err, errlen,
				    "edges[%zu].id: \"%s\" is also edges[%zu]'s id",
				    i, e->id, j);
			/* a shared token lets one gate pass for another */
			if (e->token[0] != '\0' && strcmp(e->token, c->edges[j].token) == 0)
				return conf__vfail(err, errlen,
				    "edges[%zu].token: same as edges[%zu]'s", i, j);
		}
		if (e->token[0] != '\0' && with < 0)
			with = (long)i;
		if (e->token[0] == '\0' && without < 0)
			without = (long)i;
		if (c->operator_token[0] != '\0' && strcmp(e->token, c->operator_token) == 0)
			return conf__vfail(err, errlen,
			    "operator_token: same as edges[%zu]'s token", i);
	}
	/* half the gates open to anyone is worse than a clear choice */
	if (with >= 0 && without >= 0)
		return conf__vfail(err, errlen, "edges[%ld].token: missing (edges[%ld] "
		    "has one: give every edge a token, or none)", without, with);
	return 0;
}

static int conf__check_peers(const conf *c, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < c->npeers; i++) {
		if (strcmp(c->peers[i].id, c->id) == 0)
			return conf__vfail(err, errlen,
			    "peers[%zu].id: \"%s\" is this central's own id",
			    i, c->id);
		for (j = 0; j < i; j++)
			if (strcmp(c->peers[i].id, c->peers[j].id) == 0)
				return conf__vfail(err, errlen,
				    "peers[%zu].id: \"%s\" is also peers[%zu]'s id",
				    i, c->peers[i].id, j);
	}
	return 0;
}

/* TLS keeps the secret (it proves which central; the CA only that it is
 * one), and the files must be readable now, as the daemon reads them. */
static int conf__p2p_tls_files(const conf *c, char *err, size_t errlen)
{
	const char *f[3] = { c->p2p_tls_cert, c->p2p_tls_key, c->p2p_tls_ca };
	static const char *const k[3] = { "cert", "key", "ca" };

	if (c->peer_secret[0] == '\0')
		return conf__vfail(err, errlen, "p2p_tls: needs a peer_secret too");
	for (size_t i = 0; i < 3; i++)
		if (access(f[i], R_OK) != 0)
			return conf__vfail(err, errlen, "p2p_tls.%s: %s: %s", k[i], f[i],
			    strerror(errno));
	return 0;
}

static bool conf__is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static bool conf__same_port(const conf_addr *a, const conf_addr *b)
{
	return a->port == b->port && a->port != 0 && (strcmp(a->host, b->host) == 0 ||
	    conf__is_any(a->host) || conf__is_any(b->host));
}

void conf_gates_derive(conf *c)
{
	if (c->gates_set)
		return;
	c->gates.port = c->p2p.port <= 65435 ? c->p2p.port + 100 : c->p2p.port - 100;
}

/* Nothing unauthenticated beyond loopback: the seed let anyone on the
 * network open a barrier or, as a "peer", write to the log. */
static int conf__check_listeners(const conf *c, char *err, size_t errlen)
{
	if (!conf_is_loopback(c->http.host) &&
	    (c->nedges == 0 || c->edges[0].token[0] == '\0'))
		return conf__vfail(err, errlen,
		    "http: listening on %s needs edge tokens", c->http.host);
	if (c->http.port == c->p2p.port && (strcmp(c->http.host, c->p2p.host) == 0 ||
	    conf__is_any(c->http.host) || conf__is_any(c->p2p.host)))
		return conf__vfail(err, errlen, "p2p: port %d is also http's", c->p2p.port);
	/* as the peer service refuses it: with no peers configured yet, a
	 * secret-less listener beyond loopback would still take peers later */
	if (!conf_is_loopback(c->p2p.host) && c->peer_secret[0] == '\0')
		return conf__vfail(err, errlen,
		    "p2p: listening on %s needs a peer_secret", c->p2p.host);
	/* the listener binds an address, never a name (but localhost) */
	if (!conf__is_ip(c->p2p.host) && strcasecmp(c->p2p.host, "localhost") != 0)
		return conf__vfail(err, errlen,
		    "p2p: listen address %s is not an IP address or localhost", c->p2p.host);
	if (c->p2p_tls_cert[0] != '\0' && conf__p2p_tls_files(c, err, errlen) != 0)
		return -1;
	/* the gate channel binds an address, never a name that resolves
	 * to more than was meant (gates/gate.c) */
	if (!conf__is_ip(c->gates.host) && strcasecmp(c->gates.host, "localhost") != 0)
		return conf__vfail(err, errlen, "gates: %s: expected a numeric "
		    "address or \"localhost\"", c->gates.host);
	/* the gate channel follows the HTTP rule: it opens barriers too */
	if (!conf_is_loopback(c->gates.host) &&
	    (c->nedges == 0 || c->edges[0].token[0] == '\0'))
		return conf__vfail(err, errlen,
		    "gates: listening on %s needs edge tokens", c->gates.host);
	if (conf__same_port(&c->gates, &c->http) || conf__same_port(&c->gates, &c->p2p))
		return conf__vfail(err, errlen, "gates: port %d is also http's or p2p's%s",
		    c->gates.port, c->gates_set ? "" : " (p2p's port + 100 when "
		    "\"gates\" is not set: set it)");
	return 0;
}

int conf_validate(const conf *c, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	/* at least one place for a client that has not shown a token yet */
	if (c->reserved_conns != 0 && c->reserved_conns >= c->max_conns)
		return conf__vfail(err, errlen, "limits.reserved_conns: %u must be "
		    "less than limits.max_conns (%u)", c->reserved_conns, c->max_conns);
	if (conf__check_edges(c, err, errlen) != 0 ||
	    conf__check_peers(c, err, errlen) != 0 ||
	    conf__check_listeners(c, err, errlen) != 0)
		return -1;
	return 0;
}
