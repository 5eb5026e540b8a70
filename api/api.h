/* api/api.h — the HTTP API of a central (libmicrohttpd).
 *
 * One opaque api_server serves the edge endpoints (writes, through the log
 * writer's group commit) and the operator endpoints (reads, in short read
 * transactions). Endpoints and JSON shapes: README.md, "HTTP API".
 *
 * Threads: MHD runs one internal polling thread (MHD_USE_POLL_INTERNAL_THREAD
 * | MHD_ALLOW_SUSPEND_RESUME). A write request is validated there, its
 * connection suspended, then handed to the writer as a log_job; the job
 * decides and appends inside the batch's transaction, and after the commit
 * resumes the connection, which then answers. "success" means durable.
 *
 * Ownership (lmdb.h style):
 *   - The server borrows the store and the projections (api_server_create)
 *     and the writer (api_server_start): they must outlive it; stop the
 *     server before log_writer_stop.
 *   - Everything pointed to by api_opts and api_policy is copied; the caller
 *     may free it as soon as the call returns.
 *   - The api opens API_DBS named databases of its own in the store; count
 *     them in log_store_opts.extra_dbs. Create the server after proj_open
 *     and before log_writer_start (no other transaction may be running).
 *
 * Lifecycle: log_store_open, proj_open, api_server_create,
 * log_writer_start, api_server_start(srv, writer), ... (api_server_set_policy
 * on SIGHUP) ..., api_server_stop, log_writer_stop, api_server_free.
 */
#ifndef PARKLOG_API_H
#define PARKLOG_API_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "api/edgetime.h"
#include "log/store.h"
#include "log/writer.h"
#include "projections/proj.h"

#define API_DBS		1	/* named databases the api opens (extra_dbs) */
#define API_TOKEN_MAX	128
#define API_HOST_MAX	255
#define API_ORIGIN_MAX	255	/* one CORS origin or address */
#define API_LIST_MAX	2047	/* a list of them, comma-separated */

typedef struct api_server api_server;

enum api_direction { API_DIR_NONE = 0, API_DIR_ENTRY, API_DIR_EXIT };

/* A configured gate. */
typedef struct api_edge {
	char id[LOG_ORIGIN_MAX + 1];
	enum api_direction direction;	/* NONE: EXIT if the plate is inside */
	char vehicle[LOG_VEHICLE_MAX + 1]; /* default class; "" = per request */
	char token[API_TOKEN_MAX + 1];	/* bearer token; "" = none needed */
	/* auto-open rules (0: off, as zeroed; an operator confirms) */
	int auto_entry;			/* open an entry of a plate not inside */
	int auto_entry_min_conf_milli;	/* ... read at least this sure */
	int auto_exit_free;		/* open an exit whose fee is 0 */
} api_edge;

typedef struct api_capacity {
	char vehicle[LOG_VEHICLE_MAX + 1];
	uint64_t capacity;
} api_capacity;

/* Operator accounts (api/accounts.c): each its own bearer token and role.
 * viewer reads; operator also corrects, voids and issues passes; admin
 * also sets the tariff and settings. */
enum api_role { API_ROLE_NONE = 0, API_ROLE_VIEWER, API_ROLE_OPERATOR,
	API_ROLE_ADMIN };
#define API_ACCOUNTS_MAX 32
typedef struct api_account {
	char name[LOG_ORIGIN_MAX + 1];	/* named in every event it makes */
	char token[API_TOKEN_MAX + 1];
	enum api_role role;
} api_account;
/* "viewer"/"operator"/"admin" → role; API_ROLE_NONE if none of them. */
enum api_role api_role_parse(const char *s);
const char *api_role_name(enum api_role r);

/* What a reload (SIGHUP) may replace. With nedges == 0 any edge id is
 * accepted without a token (parklogd allows that on loopback only). */
typedef struct api_policy {
	const api_edge *edges;
	size_t nedges;
	const char *operator_token;	/* NULL or "": operator API open */
	const api_account *accounts;	/* operator accounts (with or instead
					   of operator_token, which is then
					   the account "admin", role admin) */
	size_t naccounts;
	const proj_tariff *tariff;	/* fees charged at exits */
	const api_capacity *capacity;
	size_t ncapacity;
	unsigned idem_window_ms;	/* retried open window; 0: off */
	unsigned idem_key_ttl_s;	/* Idempotency-Keys remembered; 0: 86400 */
	unsigned camera_offline_s;	/* no heartbeat for this long: offline */
	api_time_policy time;		/* edge_ts bounds (api/edgetime.h) */
	/* /metrics without the operator token from these addresses or
	 * prefixes (a Prometheus server), as `tokenless` below; NULL: none */
	const char *metrics_allow;
	/* The seed's clients (docs/seed-compat.md): comma-separated lists,
	 * NULL or "": none. cors: origins allowed ("*": any); tokenless:
	 * addresses or CIDR prefixes whose requests need no token. */
	const char *cors;
	const char *tokenless;
} api_policy;

/* A barrier command's outcome, as the gate channel reports it. */
typedef struct api_gate_result {
	int sent;			/* it reached the gate */
	int acked;			/* the gate answered */
	int ok;				/* ... that the barrier did it */
	unsigned ms;			/* from sending to the answer */
	char reason[64];		/* if not ok: why ("gate offline", ...) */
} api_gate_result;
typedef void (*api_gate_done)(void *arg, const api_gate_result *b);

/* Hooks for the peers module (the api never includes it). `obj` is the
 * JSON object being answered, already holding the standalone values
 * (standalone_mode true, no peers, the vector and state digest); a hook
 * replaces or adds fields (cJSON_ReplaceItemInObjectCaseSensitive). Called
 * on the HTTP thread: must not block. NULL: standalone. */
typedef struct api_hooks {
	void (*p2p_status)(void *ctx, cJSON *obj);	/* /api/p2p/status */
	void (*p2p_sync_state)(void *ctx, cJSON *obj);	/* /api/p2p/sync-state */
	/* /metrics: more Prometheus text into buf; returns the length written,
	 * or the length needed if len is too small (as snprintf). */
	int (*metrics)(void *ctx, char *buf, size_t len);
	void *ctx;
	/* The gate channel (NULL: none). After a barrier/open or close
	 * succeeded at edge_id, command its gate ("open"/"close") for
	 * event_id; done(arg, ...) exactly once, later, from any thread.
	 * Non-zero: the gate is offline, or the channel cannot take it (done
	 * is not called). Writer thread; no blocking. */
	int (*barrier)(void *gate_ctx, const char *edge_id, const char *cmd,
	    const char *event_id, const char *plate, api_gate_done done, void *arg);
	/* /api/cameras: add the channel's view of edge_id to its object. */
	void (*gate_status)(void *gate_ctx, const char *edge_id, cJSON *obj);
	void *gate_ctx;
} api_hooks;

typedef struct api_opts {
	char host[API_HOST_MAX + 1];	/* numeric address or name to bind */
	int port;
	size_t max_body;		/* bytes; larger bodies get 413 */
	/* MHD's memory per connection: the request line and headers must fit
	 * (larger: 431, closed). 0: 8 KiB. libmicrohttpd zeroes all of it for
	 * every request, so it is a cost per request, not just a cap. */
	size_t max_header;
	unsigned max_conns;
	unsigned conn_timeout_s;	/* idle: no byte moved for this long */
	/* Slow clients (docs/http-limits.md). A connection must deliver each
	 * complete request within request_deadline_s of its start or of its
	 * previous request's end, or it is shut down; at most
	 * max_conns_per_ip of one address, and max_conns - reserved_conns in
	 * all, may be sending a request without having shown a valid token
	 * (past that the oldest of them is closed). 0: 10 s, 128 and
	 * max_conns / 16 (at least 1, less than max_conns). */
	unsigned request_deadline_s;
	unsigned max_conns_per_ip;
	unsigned reserved_conns;
	log_store *store;		/* borrowed, writable, with an origin */
	proj *proj;			/* borrowed */
	api_policy policy;		/* copied */
	api_hooks hooks;
} api_opts;

/* Errors (0 is success); others are errno, LMDB or log_ codes. */
enum {
	API_EBIND = -30600,	/* could not listen on host:port */
	API_ECONF		/* invalid options */
};
const char *api_strerror(int err);

int api_server_create(const api_opts *o, api_server **out);
/* Listen and serve, submitting writes to `w` (borrowed). API_EBIND if the
 * address is taken or not ours. */
int api_server_start(api_server *srv, log_writer *w);
/* Replace the policy (thread-safe). Requests in flight keep the one they
 * started with. 0 or ENOMEM. */
int api_server_set_policy(api_server *srv, const api_policy *pol);
/* Stop accepting, answer every request in flight (waiting for the writer
 * up to `wait_ms`), then stop MHD. The writer must still be running. */
void api_server_stop(api_server *srv, unsigned wait_ms);
void api_server_free(api_server *srv);

/* After each commit of the writer (log_writer_opts.on_commit, through
 * the composition root's fan-out): the committed events go to the
 * console's live stream (GET /api/events). Writer thread; never blocks;
 * cheap when nobody listens. srv may be NULL. */
void api_server_committed(api_server *srv, const log_commit_info *ci);

/* The gate channel's view of edge_id changed (connected or not): pushed
 * to the console's live stream as "gate". Any thread; srv may be NULL. */
void api_server_gate_event(api_server *srv, const char *edge_id, int connected);

/* The allowed value of Access-Control-Allow-Origin for origin under the
 * list (api_policy.cors): "*", origin itself, or NULL (none). */
const char *api_cors_allow(const char *list, const char *origin);
struct sockaddr;
/* Is sa one of list's addresses or prefixes ("10.0.0.0/24", "::1")? */
int api_addr_listed(const char *list, const struct sockaddr *sa);

/* The bound port (useful with port 0). */
int api_server_port(const api_server *srv);

/* May edge_id connect to the gate channel with `token`? The current
 * policy's edges decide (api_auth_gate): 0 or 403. Any thread. */
int api_server_gate_auth(api_server *srv, const char *edge_id, const char *token);

#endif
