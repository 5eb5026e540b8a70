/* peers/internal.h — the peer service's internals, shared by its files:
 * service.c (lifecycle, lws callback, dialing), conn.c (frames of one
 * connection), job.c (writer jobs: batches and progress records), status.c
 * (snapshots, JSON, metrics, the `peers` table).
 *
 * Threads: fields marked [svc] are touched on the service thread only;
 * [mu] under svc->mu (status, read by any thread); [q] under svc->qmu (the
 * hand-over from the writer thread and from set_peers/notify).
 */
#ifndef PARKLOG_PEER_INTERNAL_H
#define PARKLOG_PEER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <libwebsockets.h>

#include "peers/peer.h"
#include "peers/sync.h"

typedef struct peer__conn peer__conn;
typedef struct peer__job peer__job;

/* A frame waiting to be written, LWS_PRE bytes of headroom before data. */
typedef struct peer__out {
	struct peer__out *next;
	size_t len;
	unsigned char buf[];		/* LWS_PRE + len */
} peer__out;

typedef struct peer__peer {
	peer_service *svc;
	peer_addr addr;
	peer_status st;			/* [mu]; st.vector is its known vector */
	/* [svc] */
	peer__conn *active;		/* its authenticated connection */
	peer__conn *dialing;		/* our client connection, not yet closed */
	lws_sorted_usec_list_t sul;	/* reconnect timer */
	uint16_t retry;			/* backoff step */
	int removed;
	int dirty;			/* progress to persist */
} peer__peer;

enum peer__cstate { PEER__C_HELLO, PEER__C_AUTH, PEER__C_UP, PEER__C_CLOSING };

struct peer__conn {
	peer_service *svc;		/* [svc] all fields */
	peer__conn *next;
	struct lws *wsi;
	uint64_t id;
	int client;			/* dialed by us */
	peer__peer *peer;		/* known at dial, or after its hello */
	enum peer__cstate state;
	char my_nonce[PEER_NONCE_HEX + 1], their_nonce[PEER_NONCE_HEX + 1];
	peer_head *their_vector;	/* from its hello, until auth */
	size_t ntheir;
	char *rx;			/* reassembly of one message */
	size_t rxlen, rxcap;
	int rx_binary;
	peer_frame *frame;		/* parse target, handed to a batch job */
	peer__out *q, **qtail;		/* control frames */
	size_t qlen;
	unsigned char *tx;		/* batch frames: LWS_PRE + slack + max */
	peer_sync sync;
	unsigned jobs;			/* its batches in the writer */
	int rx_paused;
	char why[160];			/* the reason it is closing */
	int in_connect, failed;
	int quiet;			/* an expected close: no warning */
};

/* Writer job: a batch received, or the progress records to persist. */
struct peer__job {
	log_job job;
	peer_service *svc;
	peer__job *next;		/* [q] the done list */
	uint64_t conn_id;
	char *buf;			/* the frame's bytes (batch) */
	peer_frame *f;			/* parsed, spans into buf (batch) */
	char **recs;			/* persist: "id\0json" records */
	size_t nrecs;
	/* results, set in run() */
	int rc;
	enum peer_verdict verdict;
	uint64_t head, head_P;
	uint64_t fork_seq;
	uint64_t appended;
	int own_tail;			/* it extends an old stream of ours */
	char why[160];
};

struct peer_service {
	log_store *store;
	proj *proj;
	log_writer *writer;
	MDB_dbi dbi;			/* `peers` table */
	char node[LOG_ORIGIN_MAX + 1];
	char secret[PEER_SECRET_MAX + 1];
	char listen_host[PEER_HOST_MAX + 1];
	int port;
	char *tls_cert, *tls_key, *tls_ca;	/* NULL: plain ws */
	lws_retry_bo_t retry;
	uint32_t retry_ms[6];

	struct lws_context *ctx;	/* [q] NULL once destroyed */
	struct lws_vhost *vhost;
	struct lws_protocols protocols[2];
	pthread_t thread;
	int started;
	atomic_int stop;
	atomic_int notified;
	atomic_int nconns;		/* length of conns, for other threads */

	pthread_mutex_t mu;
	peer__peer **peers;		/* [mu] array; elements [svc] as noted */
	size_t npeers;
	char id_conflict[256];		/* [mu] the last "same id as ours" seen */
	uint64_t id_conflicts;		/* [mu] how many times */

	pthread_mutex_t qmu;
	pthread_cond_t qcond;
	peer__job *done;		/* [q] finished jobs */
	unsigned jobs;			/* [q] submitted, not yet finished */
	peer_addr *new_peers;		/* [q] set_peers hand-over */
	size_t nnew;
	int have_new;
	int persist_busy;		/* [q] a progress job is in flight */

	/* [svc] */
	peer__conn *conns;
	uint64_t next_conn_id;
	peer_head *mine;		/* our vector, sorted by stream name */
	uint32_t *mine_no;		/* stream numbers of mine */
	size_t nmine;
	lws_sorted_usec_list_t tick;
	unsigned ticks;
};

/* service.c */
int64_t peer__now_ms(void);
void peer__schedule_dial(peer__peer *p, int now);
void peer__conn_free(peer__conn *c);
int peer__refresh_vector(peer_service *svc);
const peer_head *peer__mine(peer_service *svc, const char *stream, uint32_t *no);

/* conn.c */
peer__conn *peer__conn_new(peer_service *svc, int client, peer__peer *p);
int peer__conn_start(peer__conn *c);
int peer__conn_rx(peer__conn *c, const void *in, size_t len);
int peer__conn_writeable(peer__conn *c);
void peer__conn_close(peer__conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void peer__conn_job_done(peer__conn *c, peer__job *j);
void peer__conn_kick(peer__conn *c);
int peer__queue(peer__conn *c, const char *frame, size_t len);

/* job.c */
int peer__submit_batch(peer__conn *c, char *buf, peer_frame *f);
int peer__submit_persist(peer_service *svc, int all);
void peer__job_free(peer__job *j);

/* status.c */
int peer__load_progress(peer_service *svc);
void peer__status_update(peer_service *svc);
void peer__status_set_error(peer__peer *p, const char *why);
char *peer__progress_json(const peer_status *st);

#endif
