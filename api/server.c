/* api/server.c — the MHD daemon, routing, request bodies, suspend/resume,
 * policy snapshots and the server's lifecycle. See api.h. */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "msg/msg.h"

const api__route api__routes[] = {
	{ "/api/edge/detection", API__POST, API__AUTH_EDGE, api__h_detection },
	{ "/api/edge/barrier/open", API__POST, API__AUTH_EDGE, api__h_open },
	{ "/api/edge/barrier/close", API__POST, API__AUTH_EDGE, api__h_close },
	{ "/api/edge/event", API__POST, API__AUTH_EDGE, api__h_event1 },
	{ "/api/edge/heartbeat", API__POST, API__AUTH_EDGE, api__h_heartbeat },
	{ "/api/cameras", API__GET, API__AUTH_OPERATOR, api__h_cameras },
	{ "/api/parking/history", API__GET, API__AUTH_OPERATOR, api__h_history },
	{ "/api/parking/state", API__GET, API__AUTH_OPERATOR, api__h_state },
	{ "/api/parking/vehicle/", API__GET, API__AUTH_OPERATOR, api__h_vehicle },
	{ "/api/parking/session/", API__GET, API__AUTH_OPERATOR, api__h_session },
	{ "/api/parking/conflicts", API__GET, API__AUTH_OPERATOR, api__h_conflicts },
	{ "/api/stats", API__GET, API__AUTH_OPERATOR, api__h_stats },
	{ "/api/p2p/status", API__GET, API__AUTH_OPERATOR, api__h_p2p_status },
	{ "/api/p2p/sync-state", API__GET, API__AUTH_OPERATOR, api__h_sync_state },
	{ "/api/events", API__GET, API__AUTH_OPERATOR, api__h_events },
	{ "/healthz", API__GET, API__AUTH_NONE, api__h_healthz },
	/* The console's files: no data in them, so no auth (console.c). */
	{ "/", API__GET, API__AUTH_NONE, api__h_console },
	{ "/console/", API__GET, API__AUTH_NONE, api__h_console },
	{ "/metrics", API__GET, API__AUTH_METRICS, api__h_metrics },
	/* The seed's clients (seed.c, ws.c; docs/seed-compat.md). */
	{ "/api/status", API__GET, API__AUTH_OPERATOR, api__h_status },
	{ "/api/config", API__GET | API__POST | API__PUT, API__AUTH_OPERATOR,
	    api__h_config },
	{ "/api/parking/occupancy", API__GET, API__AUTH_OPERATOR, api__h_occupancy },
	/* the seed's writes not (yet) mapped onto operator events: 501 */
	{ "/api/staff", API__POST, API__AUTH_OPERATOR, api__h_staff },
	{ "/api/subscriptions", API__PUT, API__AUTH_OPERATOR, api__h_subscriptions },
	{ "/api/p2p/config", API__GET | API__PUT, API__AUTH_OPERATOR,
	    api__h_p2p_config },
	{ "/api/edge/sync-config", API__POST, API__AUTH_EDGE, api__h_sync_config },
	{ "/ws/cameras", API__GET, API__AUTH_OPERATOR, api__h_ws },
	{ "/ws/history", API__GET, API__AUTH_OPERATOR, api__h_ws },
	/* its edge names itself in its first frame: auth then (ws.c) */
	{ "/ws/edge", API__GET, API__AUTH_NONE, api__h_ws },
	/* operator changes (operator.c; roles: accounts.c) */
	{ "/api/auth/whoami", API__GET, API__AUTH_OPERATOR, api__h_whoami },
	{ "/api/ops/correct", API__POST, API__AUTH_OPERATOR, api__h_op_correct },
	{ "/api/ops/void", API__POST, API__AUTH_OPERATOR, api__h_op_void },
	{ "/api/ops/pass", API__POST, API__AUTH_OPERATOR, api__h_op_pass },
	{ "/api/ops/pass/revoke", API__POST, API__AUTH_OPERATOR, api__h_op_revoke },
	{ "/api/ops/passes", API__GET, API__AUTH_OPERATOR, api__h_op_passes },
	{ "/api/ops/tariff", API__POST, API__AUTH_OPERATOR, api__h_op_tariff },
	{ "/api/ops/tariff", API__GET, API__AUTH_OPERATOR, api__h_op_tariff_get },
	{ "/api/ops/settings", API__POST, API__AUTH_OPERATOR, api__h_op_settings },
	{ "/api/ops/changes", API__GET, API__AUTH_OPERATOR, api__h_op_changes },
	{ "/api/parking/history/changes", API__GET, API__AUTH_OPERATOR, api__h_op_changes },
	{ "/api/parking/history/", API__PUT, API__AUTH_OPERATOR, api__h_seed_history_put },
	{ "/api/parking/history/", API__DELETE, API__AUTH_OPERATOR,
	    api__h_seed_history_delete },
	{ "/api/ops/candidates", API__GET, API__AUTH_OPERATOR, api__h_op_candidates },
	{ "/api/staff", API__GET, API__AUTH_OPERATOR, api__h_seed_staff_get },
	{ "/api/staff", API__PUT, API__AUTH_OPERATOR, api__h_seed_staff_put },
	{ "/api/subscriptions", API__GET, API__AUTH_OPERATOR, api__h_seed_subs_get },
};
const size_t api__nroutes = sizeof api__routes / sizeof api__routes[0];

_Static_assert(sizeof api__routes / sizeof api__routes[0] < API__ROUTES_MAX,
    "API__ROUTES_MAX too small");

const char *api_strerror(int err)
{
	switch (err) {
	case API_EBIND:
		return "cannot listen on the HTTP address";
	case API_ECONF:
		return "invalid api options";
	default:
		return log_strerror(err);
	}
}

/* ---- policy snapshots ---------------------------------------------------- */

static void api__policy_free(api__policy *p)
{
	if (p == NULL)
		return;
	free(p->edges);
	free(p->capacity);
	free(p);
}

static api__policy *api__policy_new(const api_policy *in)
{
	api__policy *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	atomic_init(&p->refs, 1);
	p->nedges = in->nedges;
	p->ncapacity = in->ncapacity;
	p->edges = calloc(in->nedges + 1, sizeof *p->edges);
	p->capacity = calloc(in->ncapacity + 1, sizeof *p->capacity);
	if (p->edges == NULL || p->capacity == NULL) {
		api__policy_free(p);
		return NULL;
	}
	if (in->nedges > 0)
		memcpy(p->edges, in->edges, in->nedges * sizeof *p->edges);
	if (in->ncapacity > 0)
		memcpy(p->capacity, in->capacity, in->ncapacity * sizeof *p->capacity);
	if (in->operator_token != NULL)
		snprintf(p->operator_token, sizeof p->operator_token, "%s",
		    in->operator_token);
	p->naccounts = in->naccounts < API_ACCOUNTS_MAX ? in->naccounts : API_ACCOUNTS_MAX;
	if (p->naccounts > 0)	/* accounts.c */
		memcpy(p->accounts, in->accounts, p->naccounts * sizeof *p->accounts);
	if (in->tariff != NULL)
		p->tariff = *in->tariff;
	else
		proj_tariff_default(&p->tariff);
	p->idem_window_ms = in->idem_window_ms;
	p->idem_key_ttl_s = in->idem_key_ttl_s ? in->idem_key_ttl_s : 86400;
	p->camera_offline_s = in->camera_offline_s;
	p->time = in->time;
	snprintf(p->metrics_allow, sizeof p->metrics_allow, "%s",
	    in->metrics_allow ? in->metrics_allow : "");
	snprintf(p->cors, sizeof p->cors, "%s", in->cors ? in->cors : "");
	snprintf(p->tokenless, sizeof p->tokenless, "%s",
	    in->tokenless ? in->tokenless : "");
	return p;
}

api__policy *api__policy_get(api_server *srv)
{
	api__policy *p;

	pthread_mutex_lock(&srv->pol_mu);
	p = srv->pol;
	atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&srv->pol_mu);
	return p;
}

static void api__offline(void *srv, const char *edge_id)
{
	api__events_camera(srv, edge_id, NULL, 0, 0);
}

/* Each append is a debug line; at info, one line a minute says what the
 * minute held (a quiet minute says nothing). Hub thread only. */
static void api__summary(api_server *srv, int64_t now)
{
	uint64_t d[4];

	if (srv->sum_at_ms == 0)
		srv->sum_at_ms = now;
	if (now - srv->sum_at_ms < 60000)
		return;
	srv->sum_at_ms = now;
	for (int t = 1; t <= 3; t++) {
		uint64_t v = atomic_load(&srv->m.appends[t]);

		msg_assert(v >= srv->sum_seen[t]);
		d[t] = v - srv->sum_seen[t];
		srv->sum_seen[t] = v;
	}
	if (d[1] + d[2] + d[3] > 0)
		msg_info("last minute: %" PRIu64 " entries, %" PRIu64 " confirmed, %"
		    PRIu64 " exits", d[1], d[2], d[3]);
}

/* The events hub's tick: edges whose heartbeats stopped go offline on the
 * console now, not at its next poll; the appends' summary. */
static void api__sweep(void *ctx)
{
	api_server *srv = ctx;
	api__policy *p = api__policy_get(srv);
	int64_t now = api__now_ms();

	api__cameras_sweep(srv->cams, p->camera_offline_s, now, api__offline, srv);
	api__policy_put(p);
	api__summary(srv, now);
}

int api_server_gate_auth(api_server *srv, const char *edge_id, const char *token)
{
	api__policy *p = api__policy_get(srv);
	int rc = p != NULL ? api_auth_gate(p->edges, p->nedges, edge_id, token) : 403;

	api__policy_put(p);
	return rc;
}

void api__policy_put(api__policy *p)
{
	if (p != NULL && atomic_fetch_sub(&p->refs, 1) == 1)
		api__policy_free(p);
}

int api_server_set_policy(api_server *srv, const api_policy *pol)
{
	api__policy *p = api__policy_new(pol), *old;

	if (p == NULL)
		return ENOMEM;
	pthread_mutex_lock(&srv->pol_mu);
	old = srv->pol;
	srv->pol = p;
	pthread_mutex_unlock(&srv->pol_mu);
	api__policy_put(old);
	return 0;
}

/* ---- routing ------------------------------------------------------------- */

static int api__path_match(const char *pattern, const char *url)
{
	size_t n = strlen(pattern);

	if (n > 1 && pattern[n - 1] == '/')
		return strncmp(pattern, url, n) == 0 && url[n] != '\0' &&
		    strchr(url + n, '/') == NULL;
	return strcmp(pattern, url) == 0;
}

/* The route index; api__nroutes with *status 404 or 405 if none fits. */
int api__method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ?
	    API__GET : strcmp(method, "POST") == 0 ? API__POST :
	    strcmp(method, "PUT") == 0 ? API__PUT :
	    strcmp(method, "DELETE") == 0 ? API__DELETE : 0;
}

static int api__route_find(const char *url, const char *method, unsigned *status,
    const char **why)
{
	int m = api__method(method);
	int first = -1;

	/* one path may have a route per method (operator.c's) */
	for (size_t i = 0; i < api__nroutes; i++) {
		if (!api__path_match(api__routes[i].path, url))
			continue;
		if (api__routes[i].method & m)
			return (int)i;
		if (first < 0)
			first = (int)i;
	}
	if (first >= 0) {
		*status = MHD_HTTP_METHOD_NOT_ALLOWED;
		*why = api__routes[first].method == API__GET ?
		    "method not allowed (use GET)" :
		    api__routes[first].method == API__POST ?
		    "method not allowed (use POST)" :
		    "method not allowed (use PUT or DELETE)";
		return first;
	}
	*status = MHD_HTTP_NOT_FOUND;
	*why = "no such endpoint";
	return (int)api__nroutes;
}

/* ---- requests ------------------------------------------------------------ */

static const char *api__header(api__req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* /metrics: a listed scraper's address (or a tokenless one), else the
 * operator's token. */
static int api__metrics_allowed(api__req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return (ci != NULL && api_addr_listed(r->pol->metrics_allow, ci->client_addr)) ||
	    api__tokenless(r);
}

/* Checks that need no body: route, method, shutdown, operator auth,
 * declared size. Sets r->pre_status on a refusal. */
static void api__precheck(api__req *r, const char *url, const char *method)
{
	api_server *srv = r->srv;
	const char *cl, *why = "";
	unsigned st = 0;

	r->route = api__route_find(url, method, &st, &why);
	if (st == 0 && atomic_load(&srv->stopping)) {
		st = MHD_HTTP_SERVICE_UNAVAILABLE;
		why = "shutting down";
	}
	if (st == 0 && api__routes[r->route].auth == API__AUTH_METRICS &&
	    !api__metrics_allowed(r))
		st = api__accounts_auth(r, &why);	/* any operator account */
	if (st == 0 && api__routes[r->route].auth == API__AUTH_OPERATOR &&
	    api__tokenless(r))
		api__accounts_tokenless(r);	/* accounts.c */
	else if (st == 0 && api__routes[r->route].auth == API__AUTH_OPERATOR) {
		st = api__accounts_auth(r, &why);	/* accounts.c */
		if (st == 0 && (r->pol->operator_token[0] != '\0' || r->pol->naccounts > 0))
			api__guard_authed(srv->guard, r->gc);
	}
	cl = api__header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (st == 0 && cl != NULL && strtoull(cl, NULL, 10) > srv->max_body) {
		st = MHD_HTTP_CONTENT_TOO_LARGE;
		why = "body: too large";
	}
	r->pre_status = st;
	r->pre_error = why;
}

static enum MHD_Result api__begin(api_server *srv, struct MHD_Connection *c,
    const char *url, const char *method, void **con_cls)
{
	api__req *r = calloc(1, sizeof *r);

	if (r == NULL)
		return MHD_NO;
	r->srv = srv;
	r->t0_us = api__now_us();
	r->conn = c;
	r->url = url;
	r->job.run = api__run;
	r->job.done = api__done;
	r->job.arg = r;
	r->pol = api__policy_get(srv);
	r->gc = api__guard_conn(c);
	*con_cls = r;
	r->method = api__method(method);
	/* A browser's CORS preflight carries no token (compat.c). */
	if (strcmp(method, "OPTIONS") == 0) {
		r->route = (int)api__nroutes;
		api__guard_delivered(srv->guard, r->gc);
		return api__cors_preflight(r);
	}
	api__precheck(r, url, method);
	/* Refuse before reading a body (MHD then closes the connection);
	 * the answer is decided, so the deadline no longer applies. */
	if (r->pre_status != 0) {
		api__guard_delivered(srv->guard, r->gc);
		return api__reply_error(r, r->pre_status, "%s", r->pre_error);
	}
	return MHD_YES;
}

/* Collect the body up to max_body; beyond it, discard and answer 413. */
static void api__feed(api__req *r, const char *data, size_t n)
{
	size_t max = r->srv->max_body, cap;
	char *b;

	if (r->too_big || r->len + n > max) {
		r->too_big = 1;
		return;
	}
	if (r->len + n > r->cap) {
		cap = r->cap ? r->cap * 2 : 1024;
		while (cap < r->len + n)
			cap *= 2;
		cap = cap > max ? max : cap;
		if ((b = realloc(r->body, cap)) == NULL) {
			r->too_big = 1;
			return;
		}
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
}

static enum MHD_Result api__access(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	api__req *r = *con_cls;

	if (r == NULL)
		return api__begin(cls, c, url, method, con_cls);
	if (*upload_data_size != 0) {
		api__feed(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* The request is complete (headers and body): from here on it is
	 * being answered, suspended or streaming, never cut by the guard. */
	api__guard_delivered(r->srv->guard, r->gc);
	if (r->state == API__RS_DONE)	/* operator writes: operator.c */
		return r->w.kind == API__W_OP ? api__op_reply(r) : api__write_reply(r);
	if (r->state == API__RS_WAIT)
		return MHD_YES;
	if (r->too_big)
		return api__reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body: larger than %zu bytes", r->srv->max_body);
	return api__routes[r->route].fn(r);
}

static void api__completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	api__req *r = *con_cls;
	api_server *srv = cls;

	if (r == NULL)
		return;
	*con_cls = NULL;
	if (r->counted) {
		long was = atomic_fetch_sub(&srv->inflight, 1);

		msg_assert(was > 0);	/* inflight never goes below 0 */
	}
	/* Keep-alive: the next request's deadline starts now (an upgraded
	 * socket sends no more requests: no deadline). */
	if (!r->upgraded)
		api__guard_next(srv->guard, r->gc);
	if (r->ws_pending != NULL)
		api__ws_abandon(srv, r->ws_pending);
	api__policy_put(r->pol);
	cJSON_Delete(r->detection);
	free(r->op);
	free(r->body);
	free(r);
}

/* The console opens and closes a barrier for a configured gate with the
 * operator token (README, "The operator console"): only barrier/open and
 * /close, only when an operator token is set, never for an unknown edge. */
static int api__operator_acts(api__req *r)
{
	const char *why;
	api__handler fn = (size_t)r->route < api__nroutes ?
	    api__routes[r->route].fn : NULL;

	return r->edge != NULL && r->pol->operator_token[0] != '\0' &&
	    (fn == api__h_open || fn == api__h_close) &&
	    api_auth_operator(r->pol->operator_token,
	    api__header(r, MHD_HTTP_HEADER_AUTHORIZATION), &why) == 0;
}

int api__auth_edge(api__req *r, const char *edge_id, enum MHD_Result *res)
{
	const char *why;
	int st;

	st = api_auth_edge(r->pol->edges, r->pol->nedges, edge_id,
	    api__header(r, MHD_HTTP_HEADER_AUTHORIZATION), &r->edge, &why);
	/* a compatibility address: the edge must be known, not its token */
	if ((st == 401 || st == 403) && r->edge != NULL && api__tokenless(r))
		st = 0;
	if (st == 0) {
		if (r->edge != NULL && r->edge->token[0] != '\0')
			api__guard_authed(r->srv->guard, r->gc);
		api__cameras_seen(r->srv->cams, edge_id, api__now_ms(),
		    (int64_t)r->pol->camera_offline_s * 1000);
		return 0;
	}
	/* Not "seen": an operator's click says nothing about the gate. */
	if (api__operator_acts(r)) {
		api__guard_authed(r->srv->guard, r->gc);
		return 0;
	}
	*res = api__reply_error(r, (unsigned)st, "%s: %s", edge_id, why);
	return -1;
}

enum MHD_Result api__submit(api__req *r)
{
	api_server *srv = r->srv;
	int rc;

	atomic_fetch_add(&srv->inflight, 1);
	r->counted = 1;
	if (atomic_load(&srv->stopping))
		return api__reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "shutting down");
	r->w.now_ms = api__now_ms();
	r->state = API__RS_WAIT;
	/* Suspend first: a resume that comes before its suspend is lost. */
	MHD_suspend_connection(r->conn);
	if ((rc = log_writer_submit(srv->writer, &r->job)) != 0) {
		r->w.status = MHD_HTTP_SERVICE_UNAVAILABLE;
		snprintf(r->w.error, sizeof r->w.error, "log writer: %s",
		    log_strerror(rc));
		r->state = API__RS_DONE;
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}

/* ---- lifecycle ----------------------------------------------------------- */

/* The guard's limits from the options (api.h gives the defaults). */
static void api__guard_defaults(const api_opts *o, unsigned max_conns,
    api__guard_opts *g)
{
	unsigned reserved = o->reserved_conns ? o->reserved_conns : max_conns / 16;

	/* At least one place each side. */
	if (reserved == 0)
		reserved = 1;
	if (reserved >= max_conns)
		reserved = max_conns - 1;
	g->deadline_ms = (o->request_deadline_s ? o->request_deadline_s : 10) * 1000u;
	g->per_ip = o->max_conns_per_ip ? o->max_conns_per_ip : 128;
	g->anon_max = max_conns - reserved;
	g->tick_ms = 0;
}

static int api__opts_ok(const api_opts *o)
{
	return o->store != NULL && o->proj != NULL &&
	    o->port >= 0 && o->port <= 65535 && o->max_body > 0 &&
	    log_store_origin(o->store) != NULL;
}

int api_server_create(const api_opts *o, api_server **out)
{
	api_server *srv;
	int rc = API_ECONF;

	*out = NULL;
	if (!api__opts_ok(o))
		return API_ECONF;
	if ((srv = calloc(1, sizeof *srv)) == NULL)
		return ENOMEM;
	pthread_mutex_init(&srv->pol_mu, NULL);
	snprintf(srv->host, sizeof srv->host, "%s", o->host);
	srv->port = o->port;
	srv->max_body = o->max_body;
	srv->max_header = o->max_header ? o->max_header : 8 * 1024;
	srv->max_conns = o->max_conns ? o->max_conns : 1024;
	srv->conn_timeout_s = o->conn_timeout_s ? o->conn_timeout_s : 30;
	api__guard_defaults(o, srv->max_conns, &srv->guard_o);
	srv->store = o->store;
	srv->proj = o->proj;
	srv->hooks = o->hooks;
	srv->origin = log_store_origin(o->store);
	srv->started_ms = api__now_ms();
	if ((srv->pol = api__policy_new(&o->policy)) == NULL ||
	    (rc = api__cameras_new(&srv->cams)) != 0 ||
	    (rc = api__events_new(&srv->events, api__sweep, srv)) != 0 ||
	    (rc = api__ws_new(&srv->ws)) != 0 ||
	    (rc = api__idem_open(srv)) != 0)
		goto err;
	*out = srv;
	return 0;
err:
	api_server_free(srv);
	return rc ? rc : ENOMEM;
}

static void api__mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	msg_debug("http: %s", buf);
}

/* host:port → one socket address (numeric or a name such as localhost). */
static int api__resolve(const api_server *srv, struct sockaddr_storage *ss,
    int *v6)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];

	snprintf(port, sizeof port, "%d", srv->port);
	if (getaddrinfo(srv->host[0] ? srv->host : NULL, port, &hints, &ai) != 0)
		return API_EBIND;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

int api_server_start(api_server *srv, log_writer *w)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	int v6;

	if (w == NULL || srv->mhd != NULL)
		return API_ECONF;
	srv->writer = w;
	if (api__resolve(srv, &ss, &v6) != 0)
		return API_EBIND;
	if (srv->guard == NULL &&
	    api__guard_new(&srv->guard_o, &srv->guard) != 0)
		return ENOMEM;
	if (v6)
		flags |= MHD_USE_IPv6;
	srv->mhd = MHD_start_daemon(flags, (uint16_t)srv->port, NULL, NULL,
	    api__access, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, srv->max_conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, srv->conn_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->max_header,
	    MHD_OPTION_NOTIFY_COMPLETED, api__completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, api__guard_notify, srv->guard,
	    MHD_OPTION_EXTERNAL_LOGGER, api__mhd_log, srv,
	    MHD_OPTION_END);
	if (srv->mhd == NULL)
		return API_EBIND;
	di = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (di != NULL && di->port != 0)
		srv->port = di->port;
	return 0;
}

int api_server_port(const api_server *srv)
{
	return srv->port;
}

static void api__sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void api_server_stop(api_server *srv, unsigned wait_ms)
{
	MHD_socket fd;
	unsigned waited = 0;

	if (srv == NULL || srv->mhd == NULL || srv->abandoned)
		return;
	atomic_store(&srv->stopping, 1);
	if ((fd = MHD_quiesce_daemon(srv->mhd)) != MHD_INVALID_SOCKET)
		close(fd);
	/* Event streams end; in-flight writes finish through the (still
	 * running) writer. MHD must not stop while either is suspended. */
	api__events_close(srv->events);
	while ((atomic_load(&srv->inflight) > 0 ||
	    api__events_count(srv->events) > 0) && waited < wait_ms) {
		api__sleep_ms(5);
		waited += 5;
	}
	if (atomic_load(&srv->inflight) > 0 || api__events_count(srv->events) > 0) {
		/* MHD must never stop with suspended connections: leave it
		 * running; the process is about to exit anyway. */
		msg_warnx("http: %ld requests still in flight after %u ms; "
		    "not stopping the HTTP thread", (long)atomic_load(&srv->inflight),
		    wait_ms);
		srv->abandoned = 1;
		return;
	}
	api__ws_stop(srv->ws);		/* upgraded sockets are ours to close */
	api__guard_stop(srv->guard);
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
}

void api_server_free(api_server *srv)
{
	if (srv == NULL)
		return;
	api_server_stop(srv, 10000);
	if (srv->abandoned)
		return;		/* MHD's thread may still use it */
	api__guard_free(srv->guard);	/* MHD has closed every connection */
	api__events_free(srv->events);	/* its ticker sweeps the cameras */
	api__ws_free(srv->ws);
	api__cameras_free(srv->cams);
	api__policy_put(srv->pol);
	pthread_mutex_destroy(&srv->pol_mu);
	free(srv);
}
