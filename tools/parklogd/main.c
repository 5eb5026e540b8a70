/* parklogd — the central: the composition root.
 *
 *	parklogd [-dnqv] [-f file] [--id ID] [--data DIR] [--http ADDR:PORT]
 *	    [--p2p ADDR:PORT] [--gates ADDR:PORT] [--durability full|meta|none]
 *
 * It always runs in the foreground with messages on stderr (a service
 * manager supervises it); -d is accepted for OpenBSD habit and means
 * "debug messages", like -v. -q keeps warnings only. -n checks the
 * configuration and exits.
 *
 * Startup order: configuration (default < file < flags, then checks;
 * nothing starts on an error), log store, projections (hooked into the
 * store's transactions), the gate channel, the api's table, the writer,
 * then the peers, the gate channel's thread and HTTP. Signals
 * are blocked in every thread and taken synchronously with sigwait() here,
 * so no handler runs: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads
 * edges, tokens and tariff.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "export/export.h"
#include "gates/gate.h"
#include "log/store.h"
#include "log/writer.h"
#include "msg/msg.h"
#include "peers/peer.h"
#include "projections/proj.h"
#include "projections/ops.h"
#include "tools/parklogd/conf.h"

/* Flags, kept to re-apply over the file on SIGHUP. */
typedef struct flags {
	const char *file;
	const char *id, *data, *http, *p2p, *gates, *durability;
	int check;
	int level;		/* -1: from the configuration */
} flags;

/* The running node. */
typedef struct node {
	conf *cf;
	log_store *store;
	proj *proj;
	log_writer *writer;
	peer_service *peers;
	gate_service *gates;
	api_server *api;
	api_edge *edges;	/* the policy's edges, kept for the api's copy */
	exporter *exp;		/* NULL without "export" */
} node;

/* --help: the usage on stdout, exit 0; a wrong flag: on stderr, exit 1. */
static void usage(int code)
{
	fprintf(code ? stderr : stdout, "usage: parklogd [-dnqv] [-f file] [--id ID]"
	    " [--data DIR] [--http ADDR:PORT]\n                [--p2p ADDR:PORT]"
	    " [--gates ADDR:PORT] [--durability full|meta|none]\n"
	    "       parklogd --help | --version\n");
	if (code == 0)
		printf("\n  -f file     configuration file (JSON; docs/config.md)\n"
		    "  -n          check the configuration and exit\n"
		    "  -q          warnings only;  -v, -d  debug messages\n"
		    "  --id, --data, --http, --p2p, --gates, --durability\n"
		    "              override the configuration file\n");
	exit(code);
}

static void parse_flags(int argc, char **argv, flags *fl)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'I' },
		{ "data", required_argument, NULL, 'D' },
		{ "http", required_argument, NULL, 'H' },
		{ "p2p", required_argument, NULL, 'P' },
		{ "gates", required_argument, NULL, 'G' },
		{ "durability", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(fl, 0, sizeof *fl);
	fl->level = -1;
	while ((ch = getopt_long(argc, argv, "df:hnqv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': case 'v': fl->level = MSG_DEBUG; break;
		case 'q': fl->level = MSG_QUIET; break;
		case 'f': fl->file = optarg; break;
		case 'n': fl->check = 1; break;
		case 'I': fl->id = optarg; break;
		case 'D': fl->data = optarg; break;
		case 'H': fl->http = optarg; break;
		case 'P': fl->p2p = optarg; break;
		case 'G': fl->gates = optarg; break;
		case 'S': fl->durability = optarg; break;
		case 'h': usage(0); break;
		case 'V': printf("parklogd %s\n", PARKLOG_VERSION); exit(0);
		default: usage(1);
		}
	}
	if (optind != argc)
		usage(1);
}

static int durability_parse(const char *s, enum log_durability *d)
{
	if (strcmp(s, "full") == 0)
		*d = LOG_DURABLE_FULL;
	else if (strcmp(s, "meta") == 0)
		*d = LOG_DURABLE_META;
	else if (strcmp(s, "none") == 0)
		*d = LOG_DURABLE_NONE;
	else
		return -1;
	return 0;
}

/* Flags over the configuration; errors "--flag: message". */
static int apply_flags(conf *c, const flags *fl, char *err, size_t errlen)
{
	if (fl->id != NULL) {
		if (strlen(fl->id) == 0 || strlen(fl->id) > LOG_ORIGIN_MAX ||
		    strspn(fl->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789.-") != strlen(fl->id))
			return snprintf(err, errlen, "--id: need 1..%d characters of "
			    "A-Z a-z 0-9 . -", LOG_ORIGIN_MAX), -1;
		snprintf(c->id, sizeof c->id, "%s", fl->id);
	}
	if (fl->data != NULL) {
		if (strlen(fl->data) == 0 || strlen(fl->data) >= sizeof c->data_dir)
			return snprintf(err, errlen, "--data: empty or too long"), -1;
		snprintf(c->data_dir, sizeof c->data_dir, "%s", fl->data);
	}
	if (fl->http != NULL && conf_parse_addr(fl->http, &c->http) != 0)
		return snprintf(err, errlen, "--http: expected ADDR:PORT"), -1;
	if (fl->p2p != NULL && conf_parse_addr(fl->p2p, &c->p2p) != 0)
		return snprintf(err, errlen, "--p2p: expected ADDR:PORT"), -1;
	if (fl->gates != NULL && conf_parse_addr(fl->gates, &c->gates) != 0)
		return snprintf(err, errlen, "--gates: expected ADDR:PORT"), -1;
	c->gates_set |= fl->gates != NULL;
	if (fl->durability != NULL && durability_parse(fl->durability, &c->durability) != 0)
		return snprintf(err, errlen, "--durability: expected full, meta "
		    "or none"), -1;
	return 0;
}

/* Beyond loopback every edge needs a token (and there must be edges). */
static int check_exposure(const conf *c, const char *where, char *err, size_t errlen)
{
	if (conf_is_loopback(c->http.host))
		return 0;
	if (c->nedges == 0)
		return snprintf(err, errlen, "%s: http: listening on %s beyond "
		    "loopback with no edges (and so no tokens) configured; "
		    "configure edges with tokens or listen on 127.0.0.1",
		    where, c->http.host), -1;
	for (size_t i = 0; i < c->nedges; i++)
		if (c->edges[i].token[0] == '\0')
			return snprintf(err, errlen, "%s: edges.%s.token: required "
			    "when listening on %s beyond loopback", where,
			    c->edges[i].id, c->http.host), -1;
	return 0;
}

/* default < file < flags, then validation. 0 or -1 with the message. */
static int load_conf(conf *c, const flags *fl, char *err, size_t errlen)
{
	const char *where = fl->file ? fl->file : "(default)";
	char why[400];

	conf_default(c);
	if (fl->file != NULL && conf_load_file(c, fl->file, err, errlen) != 0)
		return -1;
	if (apply_flags(c, fl, err, errlen) != 0)
		return -1;
	conf_gates_derive(c);
	if (conf_validate(c, why, sizeof why) != 0)
		return snprintf(err, errlen, "%s: %s", where, why), -1;
	return check_exposure(c, where, err, errlen);
}

/* "operators" as the api's accounts (api/accounts.c). */
static int make_accounts(const conf *c, api_policy *pol)
{
	api_account *a = calloc(c->noperators + 1, sizeof *a);

	if (a == NULL)
		return ENOMEM;
	for (size_t i = 0; i < c->noperators; i++) {
		snprintf(a[i].name, sizeof a[i].name, "%s", c->operators[i].name);
		snprintf(a[i].token, sizeof a[i].token, "%s", c->operators[i].token);
		a[i].role = api_role_parse(c->operators[i].role);
	}
	pol->accounts = a;
	pol->naccounts = c->noperators;
	return 0;
}

/* The api's policy from a configuration; release with policy_free once
 * the api has copied it. */
static int make_policy(const conf *c, api_policy *pol)
{
	api_edge *e = calloc(c->nedges + 1, sizeof *e);
	api_capacity *cap = calloc(c->ncapacity + 1, sizeof *cap);

	memset(pol, 0, sizeof *pol);
	if (e == NULL || cap == NULL) {
		free(e);
		free(cap);
		return ENOMEM;
	}
	for (size_t i = 0; i < c->nedges; i++) {
		snprintf(e[i].id, sizeof e[i].id, "%s", c->edges[i].id);
		e[i].direction = c->edges[i].direction == CONF_DIR_ENTRY ? API_DIR_ENTRY :
		    c->edges[i].direction == CONF_DIR_EXIT ? API_DIR_EXIT : API_DIR_NONE;
		snprintf(e[i].vehicle, sizeof e[i].vehicle, "%s", c->edges[i].vehicle);
		snprintf(e[i].token, sizeof e[i].token, "%s", c->edges[i].token);
		e[i].auto_entry = c->edges[i].auto_open_entry;
		e[i].auto_entry_min_conf_milli = c->edges[i].auto_open_min_conf_milli;
		e[i].auto_exit_free = c->edges[i].auto_open_exit_free;
	}
	for (size_t i = 0; i < c->ncapacity; i++) {
		snprintf(cap[i].vehicle, sizeof cap[i].vehicle, "%s", c->capacity[i].vehicle);
		cap[i].capacity = c->capacity[i].capacity;
	}
	pol->edges = e;
	pol->nedges = c->nedges;
	pol->operator_token = c->operator_token;
	pol->tariff = &c->tariff;
	pol->capacity = cap;
	pol->ncapacity = c->ncapacity;
	pol->idem_window_ms = c->idem_window_ms;
	pol->idem_key_ttl_s = c->idem_key_ttl_s;
	pol->camera_offline_s = c->camera_offline_s;
	pol->time.skew_ms = c->time_skew_ms;
	pol->time.offline_horizon_s = c->time_offline_horizon_s;
	pol->time.max_drift_ms = c->time_max_drift_ms;
	pol->metrics_allow = c->metrics_allow;
	pol->cors = c->seed_cors;
	pol->tokenless = c->seed_tokenless;
	return make_accounts(c, pol);
}

static void policy_free(api_policy *pol)
{
	free((void *)pol->edges);
	free((void *)pol->capacity);
	free((void *)pol->accounts);
}

static int make_dir(const char *dir)
{
	char path[sizeof ((conf *)0)->data_dir];

	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return mkdir(path, 0750) != 0 && errno != EEXIST ? errno : 0;
}

/* Store, projections, api table, writer, HTTP. Messages say what failed. */
/* The configured peers in the peer service's terms; *out is malloc'd. */
static int peer_addrs(const conf *c, peer_addr **out)
{
	peer_addr *a = calloc(c->npeers ? c->npeers : 1, sizeof *a);

	if ((*out = a) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < c->npeers; i++) {
		snprintf(a[i].id, sizeof a[i].id, "%s", c->peers[i].id);
		snprintf(a[i].host, sizeof a[i].host, "%s", c->peers[i].addr.host);
		a[i].port = c->peers[i].addr.port;
	}
	return 0;
}

/* /metrics: the peers' series, then the exporter's (as snprintf). */
static int node_metrics(void *ctx, char *buf, size_t len)
{
	node *n = ctx;
	int a = peer_service_metrics(n->peers, buf, len), b;
	size_t used;

	if (a < 0 || n->exp == NULL)
		return a;
	used = (size_t)a < len ? (size_t)a : len;
	b = export_metrics(n->exp, buf + used, len - used);
	return b < 0 ? b : a + b;
}

/* /api/p2p/status: the peers', and "export" when it runs. */
static void node_p2p_status(void *ctx, cJSON *obj)
{
	node *n = ctx;

	peer_service_api_status(n->peers, obj);
	if (n->exp != NULL)
		export_status_json(n->exp, obj);
}

static void node_p2p_sync_state(void *ctx, cJSON *obj)
{
	peer_service_api_sync_state(((node *)ctx)->peers, obj);
}

/* The replication service: listener bound, peers loaded, not running yet
 * (it needs the writer, which needs it for the commit hook). */
static int peers_create(node *n)
{
	const conf *c = n->cf;
	peer_opts po = { .node = c->id, .listen_host = c->p2p.host,
	    .listen_port = c->p2p.port, .secret = c->peer_secret,
	    .npeers = c->npeers, .tls_cert = c->p2p_tls_cert,
	    .tls_key = c->p2p_tls_key, .tls_ca = c->p2p_tls_ca };
	peer_addr *addrs;
	int rc;

	if ((rc = peer_addrs(c, &addrs)) != 0)
		return rc;
	po.peers = addrs;
	rc = peer_service_create(n->store, n->proj, &po, &n->peers);
	free(addrs);
	if (rc != 0)
		msg_warnx("p2p: %s:%d: %s", c->p2p.host, c->p2p.port,
		    rc == PEER_ECONF ? "invalid peer configuration" : log_strerror(rc));
	return rc;
}

/* ---- the gate channel, wired to the api ---------------------------------- */

/* A gate's hello is checked against the api's current edges and tokens. */
static int gates_auth(void *ctx, const char *edge_id, const char *token)
{
	node *n = ctx;

	return n->api != NULL ? api_server_gate_auth(n->api, edge_id, token) : 403;
}

/* api_hooks.barrier → gate_command, and the result back as api_gate_result. */
typedef struct gate_call {
	api_gate_done done;
	void *arg;
} gate_call;

static void gates_done(void *arg, const gate_result *res)
{
	gate_call *gc = arg;
	api_gate_result b = { .sent = res->sent, .acked = res->acked, .ok = res->ok,
	    .ms = res->ms };

	snprintf(b.reason, sizeof b.reason, "%s", res->reason);
	gc->done(gc->arg, &b);
	free(gc);
}

static int gates_barrier(void *g, const char *edge_id, const char *cmd,
    const char *event_id, const char *plate, api_gate_done done, void *arg)
{
	gate_call *gc = malloc(sizeof *gc);
	int rc;

	if (gc == NULL)
		return ENOMEM;
	gc->done = done;
	gc->arg = arg;
	if ((rc = gate_command(g, edge_id, cmd, event_id, plate, gates_done, gc)) != 0)
		free(gc);
	return rc;
}

/* /api/cameras: "gate": the channel's view of the edge. */
static void gates_status(void *g, const char *edge_id, cJSON *obj)
{
	cJSON *o = cJSON_AddObjectToObject(obj, "gate"), *l;
	gate_status st;

	if (o == NULL)
		return;
	if (gate_status_get(g, edge_id, &st) != 0) {
		cJSON_AddBoolToObject(o, "connected", 0);
		cJSON_AddNullToObject(o, "last_command");
		return;
	}
	cJSON_AddBoolToObject(o, "connected", st.connected);
	cJSON_AddNumberToObject(o, "since_ms", (double)st.since_ms);
	if (st.last_cmd[0] == '\0' || (l = cJSON_AddObjectToObject(o, "last_command")) == NULL) {
		cJSON_AddNullToObject(o, "last_command");
		return;
	}
	cJSON_AddStringToObject(l, "command", st.last_cmd);
	cJSON_AddStringToObject(l, "event_id", st.last_event);
	cJSON_AddNumberToObject(l, "at_ms", (double)st.last_at_ms);
	cJSON_AddBoolToObject(l, "waiting", st.last_waiting);
	cJSON_AddBoolToObject(l, "sent", st.last.sent);
	cJSON_AddBoolToObject(l, "acked", st.last.acked);
	cJSON_AddBoolToObject(l, "ok", st.last.ok);
	if (st.last.sent && !st.last_waiting)
		cJSON_AddNumberToObject(l, "ms", st.last.ms);
	if (!st.last_waiting && !st.last.ok)
		cJSON_AddStringToObject(l, "reason", st.last.reason);
}

/* The console sees a gate's channel come and go as it happens. */
static void gates_changed(void *ctx, const char *edge_id, int connected)
{
	node *n = ctx;

	api_server_gate_event(n->api, edge_id, connected);
}

static int gates_create(node *n)
{
	const conf *c = n->cf;
	gate_opts go = { .listen_host = c->gates.host, .listen_port = c->gates.port,
	    .ack_timeout_ms = c->gate_ack_ms, .auth = gates_auth, .auth_ctx = n,
	    .on_change = gates_changed, .change_ctx = n };
	int rc = gate_service_create(&go, &n->gates);

	if (rc != 0)
		msg_warnx("gates: %s:%d: %s", c->gates.host, c->gates.port, gate_strerror(rc));
	return rc;
}

/* The writer's one commit hook, fanned out: the peers push what they
 * lack, the api streams the events to the console. */
static void node_committed(void *ctx, const log_commit_info *ci)
{
	node *n = ctx;

	peer_service_on_commit(n->peers, ci);
	api_server_committed(n->api, ci);
	export_on_commit(n->exp, ci);
}

/* Why the data directory cannot be opened, in the operator's terms. */
static void store_open_failed(const char *dir, int rc, const char *why)
{
	long pid;

	switch (rc) {
	case LOG_ELOCKED:
		pid = log_store_lock_holder(dir);
		if (pid > 0)
			msg_warnx("%s: data directory in use by another parklogd "
			    "(pid %ld); one process per data directory", dir, pid);
		else
			msg_warnx("%s: data directory in use by another parklogd; "
			    "one process per data directory", dir);
		break;
	case LOG_ENOSPACE:
		msg_warnx("%s: disk full: no space to open the log; free space "
		    "on its file system and start again", dir);
		break;
	case LOG_ECORRUPT: case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND:
		msg_warnx("%s: the data file is corrupt: %s; refusing to start. "
		    "Run `parklog verify %s` for the full report, then restore "
		    "from a backup or a peer", dir, why[0] ? why : log_strerror(rc),
		    dir);
		break;
	default:
		msg_warnx("%s: %s%s%s", dir, log_strerror(rc), why[0] ? ": " : "", why);
	}
}

static int node_start(node *n)
{
	const conf *c = n->cf;
	log_store_opts so = { .origin = c->id, .durability = c->durability,
	    .extra_dbs = PROJ_DBS + API_DBS + PEER_DBS,
	    .peer_skew_ms = c->time_skew_ms };
	log_writer_opts wo = { .on_commit = node_committed };
	api_opts ao = { .port = c->http.port, .max_body = c->max_body,
	    .max_header = c->max_header, .max_conns = c->max_conns,
	    .conn_timeout_s = c->conn_timeout_s,
	    .request_deadline_s = c->request_deadline_s,
	    .max_conns_per_ip = c->max_conns_per_ip,
	    .reserved_conns = c->reserved_conns };
	char why[256] = "";
	int rc;

	if ((rc = make_dir(c->data_dir)) != 0)
		return msg_warnx("%s: %s", c->data_dir, strerror(rc)), rc;
	if ((rc = log_store_open_err(c->data_dir, &so, &n->store, why,
	    sizeof why)) != 0)
		return store_open_failed(c->data_dir, rc, why), rc;
	if ((rc = proj_open(n->store, &c->tariff, &n->proj)) != 0)
		return msg_warnx("%s: projections: %s", c->data_dir,
		    proj_strerror(rc)), rc;
	proj_attach(n->proj);
	/* the config's tariff seeds the log's first TARIFF_SET (ops.h) */
	if ((rc = proj_ops_seed_tariff(n->store, proj_get_ops(n->proj),
	    c->tariff.name, c->tariff_json, 0)) != 0)
		msg_warnx("tariff seed: %s", log_strerror(rc));
	if ((rc = peers_create(n)) != 0 || (rc = gates_create(n)) != 0)
		return rc;
	snprintf(ao.host, sizeof ao.host, "%s", c->http.host);
	ao.store = n->store;
	ao.proj = n->proj;
	ao.hooks.p2p_status = node_p2p_status;
	ao.hooks.p2p_sync_state = node_p2p_sync_state;
	ao.hooks.metrics = node_metrics;
	ao.hooks.ctx = n;
	ao.hooks.barrier = gates_barrier;
	ao.hooks.gate_status = gates_status;
	ao.hooks.gate_ctx = n->gates;
	if ((rc = make_policy(c, &ao.policy)) != 0)
		return rc;
	rc = api_server_create(&ao, &n->api);
	policy_free(&ao.policy);
	if (rc != 0)
		return msg_warnx("http: %s", api_strerror(rc)), rc;
	if (c->export_on && (rc = export_start(n->store, c->data_dir,
	    &c->export_nats, &n->exp)) != 0)
		return msg_warnx("export: %s", log_strerror(rc)), rc;
	wo.ctx = n;		/* every commit: peers, the console, the export */
	if ((rc = log_writer_start(n->store, &wo, &n->writer)) != 0)
		return msg_warnx("log writer: %s", log_strerror(rc)), rc;
	if ((rc = peer_service_start(n->peers, n->writer)) != 0)
		return msg_warnx("p2p: %s", log_strerror(rc)), rc;
	if ((rc = gate_service_start(n->gates)) != 0)
		return msg_warnx("gates: %s", strerror(rc)), rc;
	if ((rc = api_server_start(n->api, n->writer)) != 0)
		return msg_warnx("http: %s:%d: %s", c->http.host, c->http.port,
		    api_strerror(rc)), rc;
	return 0;
}

/* Reverse order; the api answers what is in flight before the writer
 * drains and stops. */
static void node_stop(node *n)
{
	if (n->api != NULL)	/* answers requests that wait for a gate's ack */
		api_server_stop(n->api, 30000);
	gate_service_stop(n->gates);
	if (n->peers != NULL)	/* it may submit jobs: before the writer */
		peer_service_stop(n->peers);
	if (n->writer != NULL)
		log_writer_stop(n->writer);
	export_stop(n->exp);	/* after the writer: its commit hook */
	if (n->peers != NULL)
		peer_service_destroy(n->peers);
	api_server_free(n->api);
	gate_service_destroy(n->gates);
	proj_close(n->proj);
	if (n->store != NULL)
		log_store_close(n->store);
}

static void announce(const node *n, const flags *fl)
{
	const conf *c = n->cf;
	static const char *dur[] = { "full", "meta", "none" };

	msg_info("%s: listening on http://%s%s%s:%d (data %s, durability %s%s%s)",
	    c->id, strchr(c->http.host, ':') ? "[" : "", c->http.host,
	    strchr(c->http.host, ':') ? "]" : "", api_server_port(n->api),
	    c->data_dir, dur[c->durability], fl->file ? ", config " : "",
	    fl->file ? fl->file : "");
	msg_info("own stream %s; p2p on %s:%d, %s", log_store_own_stream(n->store),
	    c->p2p.host, peer_service_port(n->peers),
	    c->npeers ? "peers:" : "no peers (standalone mode)");
	for (size_t i = 0; i < c->npeers; i++)
		msg_info("  peer %s at %s:%d", c->peers[i].id, c->peers[i].addr.host,
		    c->peers[i].addr.port);
	msg_info("gate channel on ws://%s%s%s:%d (subprotocol %s)",
	    strchr(c->gates.host, ':') ? "[" : "", c->gates.host,
	    strchr(c->gates.host, ':') ? "]" : "", gate_service_port(n->gates),
	    GATE_SUBPROTOCOL);
	if (c->nedges == 0)
		msg_info("no edges configured: any edge id is accepted without a "
		    "token (loopback only)");
	if (c->operator_token[0] == '\0' && c->noperators == 0)
		msg_info("no operator token: the operator API is open to whoever "
		    "reaches %s", c->http.host);
}

/* SIGHUP with another tariff: exits are charged by it at once (the api's
 * policy); the projections fold everything again with it in a writer job. */
typedef struct tariff_job {
	log_job j;
	proj *proj;
	proj_tariff tariff;
} tariff_job;

static int tariff_run(log_job *j, log_txn *t)
{
	tariff_job *tj = (tariff_job *)j;
	int rc = proj_set_tariff(tj->proj, t, &tj->tariff);

	if (rc != 0)	/* tables half re-folded: this txn must not commit */
		log_txn_set_failed(t, rc);
	return rc;
}

static void tariff_done(log_job *j, int rc)
{
	tariff_job *tj = (tariff_job *)j;

	if (rc != 0)
		msg_warnx("reload: projections keep the old tariff: %s",
		    proj_strerror(rc));
	else
		msg_info("reload: projections folded again with tariff \"%s\"",
		    tj->tariff.name);
	if (rc == 0 && proj_ops_tariff_hash(proj_get_ops(tj->proj)) != 0)
		msg_warnx("reload: the log's tariff (TARIFF_SET) stays in force on "
		    "every central; change it with POST /api/ops/tariff "
		    "(docs/operator-changes.md)");
	free(tj);
}

static void reload_tariff(node *n, const proj_tariff *t)
{
	tariff_job *tj = calloc(1, sizeof *tj);

	if (tj == NULL) {
		msg_warnx("reload: out of memory; projections keep the old tariff");
		return;
	}
	tj->j.run = tariff_run;
	tj->j.done = tariff_done;
	tj->proj = n->proj;
	tj->tariff = *t;
	msg_info("reload: tariff \"%s\" charges exits from now on", t->name);
	if (log_writer_submit(n->writer, &tj->j) != 0)
		free(tj);
}

/* SIGHUP: the peers list (their secret and our listener need a restart). */
static void reload_peers(node *n, const conf *nc)
{
	peer_addr *addrs;

	if (peer_addrs(nc, &addrs) != 0 ||
	    peer_service_set_peers(n->peers, addrs, nc->npeers) != 0) {
		msg_warnx("reload: peers unchanged (invalid list or out of memory)");
	} else {
		memcpy(n->cf->peers, nc->peers, sizeof nc->peers);
		n->cf->npeers = nc->npeers;
		msg_info("reload: %zu peers", nc->npeers);
	}
	free(addrs);
}

/* SIGHUP: edges, tokens, tariff and limits of the api from the file; the
 * rest needs a restart. An invalid file changes nothing. */
static void reload(node *n, const flags *fl)
{
	conf *nc = calloc(1, sizeof *nc);
	api_policy pol;
	char err[512];

	if (nc == NULL) {
		msg_warnx("reload: out of memory; keeping the old configuration");
		return;
	}
	if (load_conf(nc, fl, err, sizeof err) != 0) {
		msg_warnx("reload: %s; keeping the old configuration", err);
		goto out;
	}
	if (strcmp(nc->id, n->cf->id) != 0 || strcmp(nc->data_dir, n->cf->data_dir) != 0 ||
	    strcmp(nc->http.host, n->cf->http.host) != 0 || nc->http.port != n->cf->http.port)
		msg_warnx("reload: id, data and http changes take effect at restart");
	if (nc->max_body != n->cf->max_body || nc->max_header != n->cf->max_header ||
	    nc->max_conns != n->cf->max_conns || nc->conn_timeout_s != n->cf->conn_timeout_s ||
	    nc->request_deadline_s != n->cf->request_deadline_s ||
	    nc->max_conns_per_ip != n->cf->max_conns_per_ip ||
	    nc->reserved_conns != n->cf->reserved_conns)
		msg_warnx("reload: limits max_body, max_header, max_conns, "
		    "conn_timeout_s, request_deadline_s, max_conns_per_ip and "
		    "reserved_conns take effect at restart");
	if (proj_tariff_hash(&nc->tariff) != proj_tariff_hash(&n->cf->tariff))
		reload_tariff(n, &nc->tariff);
	if (make_policy(nc, &pol) != 0 || api_server_set_policy(n->api, &pol) != 0) {
		msg_warnx("reload: out of memory; keeping the old configuration");
		policy_free(&pol);
		goto out;
	}
	policy_free(&pol);
	msg_info("reload: %zu edges, operator token %s, tariff \"%s\"",
	    nc->nedges, nc->operator_token[0] ? "set" : "none", nc->tariff.name);
	reload_peers(n, nc);
	memcpy(n->cf->edges, nc->edges, sizeof nc->edges);
	n->cf->nedges = nc->nedges;
	memcpy(n->cf->operator_token, nc->operator_token, sizeof nc->operator_token);
	memcpy(n->cf->operators, nc->operators, sizeof nc->operators);
	n->cf->noperators = nc->noperators;
	n->cf->tariff = nc->tariff;
out:
	free(nc);
}

/*
 * The systemd watchdog's kick interval: half of WATCHDOG_USEC, or 0 when no
 * watchdog is asked for (or when not run by systemd at all).
 */
static struct timespec watchdog_interval(void)
{
	struct timespec ts = { 0, 0 };
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		usec /= 2;
		ts.tv_sec = (time_t)(usec / 1000000);
		ts.tv_nsec = (long)(usec % 1000000) * 1000;
	}
	return ts;
}

/*
 * Wait for signals; returns when asked to stop. Under systemd it tells the
 * manager about reloads and stops, and kicks the watchdog from this loop:
 * a main thread stuck anywhere stops the kicks and systemd restarts it.
 */
static void serve(node *n, const flags *fl, const sigset_t *set)
{
	struct timespec wd = watchdog_interval();
	int sig;

	for (;;) {
		if (wd.tv_sec != 0 || wd.tv_nsec != 0)
			sig = sigtimedwait(set, NULL, &wd);
		else if (sigwait(set, &sig) != 0)
			sig = -1;
		if (sig < 0) {
			sd_notify(0, "WATCHDOG=1");
			continue;
		}
		if (sig == SIGHUP) {
			sd_notify(0, "RELOADING=1");
			if (fl->file == NULL)
				msg_info("reload: no configuration file (embedded "
				    "default); nothing to reload");
			else
				reload(n, fl);
			sd_notify(0, "READY=1");
			continue;
		}
		sd_notify(0, "STOPPING=1");
		msg_info("%s: stopping: answering requests in flight, draining "
		    "the log writer", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
}

int main(int argc, char **argv)
{
	node n = { 0 };
	flags fl;
	sigset_t set;
	char err[512];
	int rc;

	parse_flags(argc, argv, &fl);
	msg_init("parklogd", fl.level >= 0 ? fl.level : MSG_INFO);
	if ((n.cf = calloc(1, sizeof *n.cf)) == NULL)
		msg_fatalx("out of memory");
	if (load_conf(n.cf, &fl, err, sizeof err) != 0) {
		fprintf(stderr, "parklogd: %s\n", err);
		free(n.cf);
		return 1;
	}
	if (fl.check) {
		printf("%s: configuration OK\n", fl.file ? fl.file : "(default)");
		free(n.cf);
		return 0;
	}
	if (fl.level < 0)
		msg_init("parklogd", n.cf->verbose);
	peer_lws_messages(msg_level() >= MSG_DEBUG);
	/* Before any thread exists, so that every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = node_start(&n)) != 0) {
		node_stop(&n);
		free(n.cf);
		return 1;
	}
	announce(&n, &fl);
	/* Every listener is up and the log is open: the service is ready. */
	sd_notifyf(0, "READY=1\nSTATUS=%s: HTTP on %s:%d\nMAINPID=%lu", n.cf->id,
	    n.cf->http.host, n.cf->http.port, (unsigned long)getpid());
	serve(&n, &fl, &set);
	node_stop(&n);
	msg_info("stopped");
	free(n.cf);
	return 0;
}
