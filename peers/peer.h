/* peers/peer.h — the peer service: replication of the event log between the
 * centrals of one facility over WebSockets (protocol: peers/proto.h).
 *
 * One libwebsockets context on one service thread holds the listener and a
 * client connection to each configured peer (reconnected with backoff and
 * jitter; ping/pong keepalive drops a dead link within seconds). Batches
 * received go through the log writer (group commit, projections in the same
 * transaction) and are acknowledged after the commit. Whatever a peer lacks
 * — our own events and those relayed from others — is pushed to it, read
 * from the log with short read transactions.
 *
 * Ownership: peer_service_create borrows the store, the projections and
 * (from peer_service_start) the writer: all must outlive the service.
 * Strings in the options are copied.
 *
 * Threads: create, start, set_peers and destroy from one controlling thread
 * (main). peer_service_notify, peer_service_on_commit, peer_service_status
 * and the JSON/metrics helpers are thread-safe and never block on the
 * network or the disk. Everything else happens on the service thread.
 *
 * Order in a daemon:
 *   log_store_open(extra_dbs = PROJ_DBS + PEER_DBS + ...), proj_open,
 *   peer_service_create (opens the `peers` table: before the writer starts),
 *   log_writer_start(on_commit calls peer_service_on_commit(svc, ci)),
 *   peer_service_start(svc, writer), ... serve ...,
 *   peer_service_stop(svc) (before log_writer_stop: it may submit jobs),
 *   log_writer_stop, peer_service_destroy, proj_close, log_store_close.
 */
#ifndef PARKLOG_PEER_PEER_H
#define PARKLOG_PEER_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "log/store.h"
#include "log/writer.h"
#include "peers/proto.h"
#include "projections/proj.h"

#define PEER_DBS	1		/* named databases the service opens */
#define PEER_MAX	64		/* configured peers */
#define PEER_HOST_MAX	255

typedef struct peer_service peer_service;

typedef struct peer_addr {
	char id[LOG_ORIGIN_MAX + 1];	/* its central id (== its origin) */
	char host[PEER_HOST_MAX + 1];	/* numeric address or name */
	int port;
} peer_addr;

typedef struct peer_opts {
	const char *node;		/* our central id; NULL: the store's origin */
	const char *listen_host;	/* an IP address or "localhost" (binds only
					   that address); NULL, "", 0.0.0.0, ::: all */
	int listen_port;		/* 0: any free port (peer_service_port) */
	const char *secret;		/* shared HMAC secret; "" only on loopback */
	const peer_addr *peers;		/* copied */
	size_t npeers;
	/* keepalive: ping after this many idle seconds, hang up after
	 * hangup_s without a valid frame or pong; 0: 2 and 6 */
	unsigned ping_s, hangup_s;
	/* TLS (wss) on every link, both ways, mutual: all three PEM files or
	 * none (NULL or ""). The listener demands a client certificate signed
	 * by tls_ca and presents tls_cert; the dialer presents tls_cert and
	 * accepts only a server certificate signed by tls_ca (the facility's
	 * own CA: any certificate it signed is a central; which central is
	 * proven by the secret handshake, so host names are not checked).
	 * The secret stays required. Paths copied. */
	const char *tls_cert, *tls_key, *tls_ca;
} peer_opts;

/* Check the options, open the `peers` table, load the persisted peer
 * progress, and bind the listener. Nothing runs yet. 0, PEER_ECONF (msg
 * says why), or a log_/LMDB/errno code. */
int peer_service_create(log_store *s, proj *p, const peer_opts *o,
    peer_service **out);
/* Start the service thread: dial every peer, accept on the listener. The
 * writer is borrowed for batches received and progress records. */
int peer_service_start(peer_service *svc, log_writer *w);
/* Close every connection, persist the progress, join the thread. Jobs
 * already submitted complete before this returns. Idempotent. */
void peer_service_stop(peer_service *svc);
void peer_service_destroy(peer_service *svc);

/* The port the listener is bound to. */
int peer_service_port(const peer_service *svc);

/* Our log changed: push what peers lack. Thread-safe, cheap (a flag and
 * lws_cancel_service); any thread, any time after create. */
void peer_service_notify(peer_service *svc);
/* The same, in the shape of log_writer_opts.on_commit (ctx = svc). */
void peer_service_on_commit(void *svc, const log_commit_info *ci);

/* Replace the configured peers (SIGHUP): new ones are dialed, removed ones
 * disconnected and forgotten, kept ones (same id, host and port) untouched.
 * Copied. 0, PEER_ECONF or ENOMEM. Thread-safe. */
int peer_service_set_peers(peer_service *svc, const peer_addr *peers, size_t n);

/* ---- status (thread-safe snapshots) ------------------------------------ */

typedef struct peer_status {
	char id[LOG_ORIGIN_MAX + 1];
	char host[PEER_HOST_MAX + 1];
	int port;
	int connected;			/* an authenticated connection is up */
	int dialed;			/* it was dialed by us */
	int64_t connected_since_ms;	/* 0 if not connected */
	int64_t last_seen_ms;		/* last frame from it (0: never) */
	int64_t last_sync_ms;		/* last time neither side lacked anything */
	uint64_t events_sent, events_received;	/* persisted counters */
	uint64_t bytes_sent, bytes_received;
	uint64_t frames_sent, frames_received;
	uint64_t connects;		/* authenticated connections so far */
	uint64_t auth_failures;
	uint64_t lag;			/* our events it is not known to hold */
	size_t nforks;			/* streams refused for a fork */
	char forks[4][LOG_STREAM_MAX + 1];	/* the first of them */
	char last_error[160];
	peer_head *vector;		/* its last known vector (malloc'd) */
	size_t nvector;
} peer_status;

/* How many hellos came with our own id from another central (two centrals
 * with one id), and the last such message into buf (NUL-terminated, "" if
 * none). Thread-safe. Also in the API status as "id_conflict". */
uint64_t peer_service_id_conflict(peer_service *svc, char *buf, size_t len);

/* One entry per configured peer, in configuration order. *out is malloc'd;
 * free it with peer_status_free. 0 or ENOMEM. */
int peer_service_status(peer_service *svc, peer_status **out, size_t *n);
void peer_status_free(peer_status *st, size_t n);

/* Hooks shaped for the HTTP API's api_hooks (ctx = svc): complete `obj`,
 * the cJSON object already holding the standalone answer, for
 * /api/p2p/status and /api/p2p/sync-state. Never block. */
struct cJSON;
void peer_service_api_status(void *svc, struct cJSON *obj);
void peer_service_api_sync_state(void *svc, struct cJSON *obj);

/* Route libwebsockets' own messages to msg_* (process-wide: main calls it
 * once, before starting anything). verbose adds lws notices as debug. */
void peer_lws_messages(int verbose);

/* Prometheus text (parklog_peer_* series) into buf: the length written, or
 * the length needed (as snprintf). */
int peer_service_metrics(peer_service *svc, char *buf, size_t len);

#endif
