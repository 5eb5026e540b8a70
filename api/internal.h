/* api/internal.h — what the api's files share (api__ prefix). Not installed,
 * not included outside api/ (tests excepted). */
#ifndef PARKLOG_API_INTERNAL_H
#define PARKLOG_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>

#include "api/api.h"
#include "api/guard.h"
#include "api/parse.h"

/* ---- policy: an immutable, reference-counted snapshot ----------------- */

typedef struct api__policy {
	atomic_int refs;
	api_edge *edges;
	size_t nedges;
	char operator_token[API_TOKEN_MAX + 1];
	api_account accounts[API_ACCOUNTS_MAX];
	size_t naccounts;
	proj_tariff tariff;
	api_capacity *capacity;
	size_t ncapacity;
	unsigned idem_window_ms;
	unsigned idem_key_ttl_s;
	unsigned camera_offline_s;
	api_time_policy time;
	char metrics_allow[API_LIST_MAX + 1];
	char cors[API_LIST_MAX + 1];	/* allowed origins, "" = no CORS */
	char tokenless[API_LIST_MAX + 1]; /* compatibility addresses */
} api__policy;

api__policy *api__policy_get(api_server *srv);
void api__policy_put(api__policy *p);

/* ---- routes ------------------------------------------------------------ */

typedef struct api__req api__req;
typedef enum MHD_Result (*api__handler)(api__req *r);

enum { API__GET = 1, API__POST = 2, API__PUT = 4, API__DELETE = 8 };
/* "GET" (and HEAD) ... as an API__ bit; 0 for others. */
int api__method(const char *method);
/* METRICS: the operator's token, or a client address in metrics_allow. */
enum api__auth_kind { API__AUTH_NONE = 0, API__AUTH_EDGE, API__AUTH_OPERATOR,
	API__AUTH_METRICS };

typedef struct api__route {
	const char *path;	/* exact; a prefix if it ends with '/' */
	int method;			/* API__ bits */
	enum api__auth_kind auth;
	api__handler fn;
} api__route;

extern const api__route api__routes[];
extern const size_t api__nroutes;
#define API__ROUTES_MAX 48		/* >= api__nroutes + 1 ("other") */

/* ---- metrics ----------------------------------------------------------- */

#define API__NSTATUS 12
#define API__NLAT 11			/* latency buckets, +Inf included */
typedef struct api__metrics {
	/* [route or api__nroutes for unknown][status slot] */
	atomic_uint_fast64_t req[API__ROUTES_MAX][API__NSTATUS];
	/* from the request's first byte to its answer being queued */
	atomic_uint_fast64_t lat[API__ROUTES_MAX][API__NLAT];
	atomic_uint_fast64_t lat_us[API__ROUTES_MAX];	/* sum, µs */
	atomic_uint_fast64_t appends[4];	/* by log_ev_type */
	atomic_uint_fast64_t replays;		/* idempotent answers */
	/* gate timestamps (edge_ts) by verdict: [API_TS_OK] taken, the
	 * others refused (the central's time recorded instead) */
	atomic_uint_fast64_t edge_ts[API_TS_NVERDICT];
} api__metrics;

/* One answer: its status, and its latency since t0_us (api__now_us). */
void api__metrics_count(api_server *srv, int route, unsigned status);
void api__metrics_time(api_server *srv, int route, int64_t t0_us);
int64_t api__now_us(void);
enum MHD_Result api__h_metrics(api__req *r);

/* ---- cameras registry -------------------------------------------------- */

typedef struct api__cameras api__cameras;
int api__cameras_new(api__cameras **out);
void api__cameras_free(api__cameras *c);
/* A heartbeat; edge_ms (> 0) is the gate's clock in it: a sample of that
 * clock's offset (api/edgetime.h). */
void api__cameras_heartbeat(api__cameras *c, const api_heartbeat *hb,
    int64_t edge_ms, int64_t now);
/* Edges heard from before but not within offline_s: each is reported
 * once per silence, through cb (called with the registry unlocked). */
void api__cameras_sweep(api__cameras *c, unsigned offline_s, int64_t now,
    void (*cb)(void *ctx, const char *edge_id), void *ctx);
/* An edge was heard from (detection, open, ...); a silence of more than
 * gap_ms before it starts a new run of contact (api_clock_contact). */
void api__cameras_seen(api__cameras *c, const char *edge_id, int64_t now,
    int64_t gap_ms);
/* The verdict on an edge_ts of edge_id received at now (api_edge_ts_judge
 * with what the registry knows of that gate's clock); a refusal is counted
 * on the gate's card (/api/cameras "clock"). */
enum api_ts_verdict api__cameras_judge(api__cameras *c, const char *edge_id,
    const api_time_policy *p, int64_t edge_ts, int64_t now);
/* Remember an edge's last detection; a barrier/open of the same plate at
 * the same edge soon after takes its plate_view, class and confidence. */
void api__cameras_detect(api__cameras *c, const api_detection *d, int64_t now);
int api__cameras_last_detection(api__cameras *c, const char *edge_id,
    const char *plate, int64_t now, api_detection *out);
enum MHD_Result api__h_cameras(api__req *r);
/* Edges heard from at all (*known) and within offline_s of now (*online). */
void api__cameras_count(api__cameras *c, unsigned offline_s, int64_t now,
    size_t *known, size_t *online);

/* ---- live events (events.c) and the console's files (console.c) ------- */

typedef struct api__events api__events;
typedef struct api__ws api__ws;		/* the seed's WebSockets (ws.c) */
/* tick(ctx) runs every few seconds on the hub's thread (the cameras'
 * offline sweep); NULL: none. */
int api__events_new(api__events **out, void (*tick)(void *), void *ctx);
/* End every stream (at shutdown); publishing then does nothing. */
void api__events_close(api__events *h);
void api__events_free(api__events *h);
int api__events_count(api__events *h);		/* connected clients */
uint64_t api__events_drops(api__events *h);	/* queues dropped (resync) */
int api__events_listening(api_server *srv);
void api__events_publish(api_server *srv, const char *name, const char *json,
    size_t len);
void api__events_detection(api_server *srv, const api_detection *d,
    const cJSON *reply, int64_t now, int tz_min);
/* A heartbeat (reported: its status) or, with reported NULL, an edge the
 * sweep found offline. */
void api__events_camera(api_server *srv, const char *edge_id,
    const char *reported, int64_t now, int tz_min);
enum MHD_Result api__h_events(api__req *r);

typedef struct api__asset {
	const char *name;		/* file name in console/ */
	const unsigned char *data;
	size_t len;
	const char *etag;		/* quoted */
} api__asset;
extern const api__asset api__assets[];	/* generated: console_assets.c */
extern const size_t api__nassets;
const char *api__console_ctype(const char *name);
enum MHD_Result api__h_console(api__req *r);

/* ---- write path -------------------------------------------------------- */

enum api__wkind { API__W_OPEN = 1, API__W_CLOSE, API__W_EVENT1,
	API__W_OP /* an operator event (operator.c) */ };
enum api__action { API__ACT_NONE = 0, API__ACT_ENTRY, API__ACT_EXIT,
	API__ACT_CONFIRM };

#define API__IDEM_KEY_MAX (2 + LOG_ORIGIN_MAX + 1 + API_IDEM_MAX)

/* A write request: its input (filled by the handler) and result (filled
 * in the writer thread). */
typedef struct api__write {
	enum api__wkind kind;
	enum api_direction dir;		/* the gate's (or Phase 1's) direction */
	char edge_id[LOG_ORIGIN_MAX + 1];
	char plate[LOG_PLATE_MAX + 1];
	char plate_view[LOG_VIEW_MAX + 1];	/* "" = from the session */
	char vehicle[LOG_VEHICLE_MAX + 1];	/* "" = from the session/edge */
	int conf_milli;
	char idem[API__IDEM_KEY_MAX + 1];	/* api table key, "" = none */
	int64_t edge_ts;		/* the gate's time of the action, 0: none */
	int64_t edge_ts_refused;	/* a gate time not believed (0: none) */
	enum api_ts_verdict edge_ts_why;	/* ... and why */
	int64_t now_ms;
	/* result */
	int status;			/* HTTP status of the answer */
	char error[160];
	enum api__action action;
	int replayed;			/* the first answer again, nothing appended */
	int appended;
	char session[LOG_ID_MAX + 1];	/* the seed's event_id */
	char event_id[LOG_ID_MAX + 1];	/* the event appended (or replayed) */
	char out_view[LOG_VIEW_MAX + 1];
	char out_vehicle[LOG_VEHICLE_MAX + 1];
	char entry_edge[LOG_ORIGIN_MAX + 1];
	int has_entry;
	int64_t entry_ts, ts, duration_s, fee;
	int barrier_asked;		/* the gate channel was asked */
	api_gate_result barrier;	/* ... and answered this */
} api__write;

enum api__rstate { API__RS_NEW = 0, API__RS_WAIT, API__RS_DONE };

struct api__req {
	api_server *srv;
	struct MHD_Connection *conn;
	const char *url;		/* valid for the request's life (MHD's) */
	int route;			/* index into api__routes, or nroutes */
	int method;			/* API__ bit (api__method) */
	int64_t t0_us;			/* when it began (api__now_us) */
	enum api__rstate state;
	unsigned pre_status;		/* decided before the body was read */
	const char *pre_error;
	char *body;
	size_t len, cap;
	int too_big;
	int counted;			/* in srv->inflight */
	api__policy *pol;
	const api_edge *edge;		/* the configured edge (in pol), or NULL */
	const void *rctx;		/* a read handler's parsed query */
	cJSON *detection;		/* a detection that auto-opened: its
					   answer, completed by the open's */
	log_job job;
	api__write w;
	api__conn *gc;			/* its connection in srv->guard, or NULL */
	int upgraded;			/* answered 101: the socket is ws.c's */
	void *ws_pending;		/* ws.c's connection until MHD hands the
					   socket over (api__ws_abandon) */
	/* operator routes: who asked (api/accounts.c) */
	char account[LOG_ORIGIN_MAX + 1];
	enum api_role role;
	void *op;			/* an operator write (operator.c), freed
					   with the request */
};

struct api_server {
	char host[API_HOST_MAX + 1];
	int port;
	size_t max_body, max_header;
	unsigned max_conns, conn_timeout_s;
	api__guard_opts guard_o;
	api__guard *guard;		/* slow clients (guard.h) */
	log_store *store;
	log_writer *writer;
	proj *proj;
	api_hooks hooks;
	const char *origin;
	struct MHD_Daemon *mhd;
	MDB_dbi idem_dbi;
	int64_t idem_purged_ms;		/* writer thread: last purge of old keys */
	pthread_mutex_t pol_mu;
	api__policy *pol;
	atomic_int stopping;
	atomic_long inflight;
	api__cameras *cams;
	api__events *events;
	api__ws *ws;			/* the seed's WebSockets (ws.c) */
	api__metrics m;
	/* the per-minute summary of appends (events hub thread only) */
	int64_t sum_at_ms;
	uint64_t sum_seen[4];
	int64_t started_ms;
	int abandoned;			/* stop gave up: MHD still runs */
};

/* Hand a validated write to the writer: suspend first, then submit. */
enum MHD_Result api__submit(api__req *r);
/* The answer to a write, once the writer is done with it (edge.c). */
enum MHD_Result api__write_reply(api__req *r);
/* The writer job (append.c). */
int api__run(log_job *job, log_txn *txn);
void api__done(log_job *job, int rc);
/* Open the api's table in the store. */
int api__idem_open(api_server *srv);

/* ---- handlers ---------------------------------------------------------- */

enum MHD_Result api__h_detection(api__req *r);
enum MHD_Result api__h_open(api__req *r);
enum MHD_Result api__h_close(api__req *r);
enum MHD_Result api__h_event1(api__req *r);
enum MHD_Result api__h_heartbeat(api__req *r);
enum MHD_Result api__h_history(api__req *r);
enum MHD_Result api__h_state(api__req *r);
enum MHD_Result api__h_stats(api__req *r);
enum MHD_Result api__h_vehicle(api__req *r);
enum MHD_Result api__h_session(api__req *r);
enum MHD_Result api__h_conflicts(api__req *r);
enum MHD_Result api__h_p2p_status(api__req *r);
enum MHD_Result api__h_sync_state(api__req *r);
enum MHD_Result api__h_healthz(api__req *r);

/* ---- the seed's clients (compat.c, seed.c, ws.c) ----------------------- */

/* CORS headers for this request's Origin (policy cors) onto resp. */
void api__cors_headers(api__req *r, struct MHD_Response *resp);
/* 204 to an OPTIONS preflight, no auth. */
enum MHD_Result api__cors_preflight(api__req *r);
/* Is the client's address one of the policy's tokenless addresses? */
int api__tokenless(api__req *r);
enum MHD_Result api__h_status(api__req *r);
enum MHD_Result api__h_config(api__req *r);
enum MHD_Result api__h_occupancy(api__req *r);
enum MHD_Result api__h_staff(api__req *r);
enum MHD_Result api__h_subscriptions(api__req *r);
enum MHD_Result api__h_p2p_config(api__req *r);
enum MHD_Result api__h_sync_config(api__req *r);
enum MHD_Result api__h_ws(api__req *r);
/* The WebSocket hub (ws.c): its own thread from _new; _stop closes every
 * socket (before MHD_stop_daemon); _free after. */
int api__ws_new(api__ws **out);
void api__ws_stop(api__ws *h);
void api__ws_free(api__ws *h);
/* The 101 was never sent (MHD's thread, at the request's end): free the
 * connection r->ws_pending that will never be handed a socket. */
void api__ws_abandon(api_server *srv, void *wsc);
/* After a commit (writer thread): history_update, edge pushes. */
void api__ws_committed(api_server *srv, const log_commit_info *ci);
/* A camera changed (heartbeat, offline): cameras_update to /ws/cameras. */
void api__ws_cameras_changed(api_server *srv);
/* The cameras as the seed shows them: {cameras: [...], total, online,
 * offline} (caller owns; NULL on ENOMEM). */
cJSON *api__seed_cameras(api_server *srv, const api__policy *p);

/* Fill r->w for a Phase 1 ENTRY/EXIT (edge.c): gate, plate, direction,
 * event_id as idempotency key, timestamp as edge_ts within the bounds. */
void api__event1_prepare(api__req *r, const api_event1 *e);
/* ---- operator accounts (accounts.c) and operator writes (operator.c) --- */

/* Who the request's bearer token names: 0 (r->account, r->role set), or
 * an HTTP status with *why. */
unsigned api__accounts_auth(api__req *r, const char **why);
/* A request from a seed.tokenless address: account "tokenless", role
 * operator (tariff and settings stay an admin's, with a token). */
void api__accounts_tokenless(api__req *r);
/* 0 if r's account has at least `role`, else the answer (403) is queued
 * into *res and -1 returned. */
int api__role_need(api__req *r, enum api_role role, enum MHD_Result *res);
enum MHD_Result api__h_whoami(api__req *r);
enum MHD_Result api__h_op_correct(api__req *r);
enum MHD_Result api__h_op_void(api__req *r);
enum MHD_Result api__h_op_pass(api__req *r);
enum MHD_Result api__h_op_revoke(api__req *r);
enum MHD_Result api__h_op_passes(api__req *r);
enum MHD_Result api__h_op_tariff(api__req *r);
enum MHD_Result api__h_op_tariff_get(api__req *r);
enum MHD_Result api__h_op_settings(api__req *r);
enum MHD_Result api__h_op_changes(api__req *r);
enum MHD_Result api__h_seed_history_put(api__req *r);
enum MHD_Result api__h_seed_history_delete(api__req *r);
enum MHD_Result api__h_op_candidates(api__req *r);
enum MHD_Result api__h_seed_staff_get(api__req *r);
enum MHD_Result api__h_seed_staff_put(api__req *r);
enum MHD_Result api__h_seed_subs_get(api__req *r);
/* The answer to an operator write, once the writer is done. */
enum MHD_Result api__op_reply(api__req *r);

/* Edge auth after the body named the edge: 0, or the answer was queued. */
int api__auth_edge(api__req *r, const char *edge_id, enum MHD_Result *res);

/* ---- replies (reply.c) --------------------------------------------------- */

/* Queue `o` (consumed) as the JSON answer with `status`. */
enum MHD_Result api__reply(api__req *r, unsigned status, cJSON *o);
enum MHD_Result api__reply_error(api__req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue text (malloc'd, consumed) with a content type. */
enum MHD_Result api__reply_text(api__req *r, unsigned status, char *text,
    size_t len, const char *ctype);
/* {"success":true} to add to. NULL on ENOMEM. */
cJSON *api__ok(void);
/* "2026-11-23T10:00:00+07:00" into buf[32]. */
void api__iso(int64_t ms, int tz_min, char buf[32]);
/* obj.key = ISO time and obj.key_ms = ms; null for ms < 0. */
void api__add_time(cJSON *obj, const char *key, int64_t ms, int tz_min);
/* "1h 05m" style, for the seed's duration fields. */
void api__duration(int64_t s, char buf[32]);
/* A session as a JSON history row (NULL on ENOMEM). */
cJSON *api__session_json(const proj_session *s, int tz_min, int64_t now,
    const proj_tariff *t);
int64_t api__now_ms(void);
/* 503 for "read transaction failed" style errors. */
enum MHD_Result api__reply_store_error(api__req *r, int rc);

#endif
