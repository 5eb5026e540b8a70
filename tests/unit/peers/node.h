/* tests/unit/peers/node.h — an in-process central for the peer tests: its
 * own store (temp dir), projections, writer and peer service on a loopback
 * port chosen by the kernel. Test-only helpers, all static. */
#ifndef PARKLOG_TEST_PEER_NODE_H
#define PARKLOG_TEST_PEER_NODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "log/store.h"
#include "log/writer.h"
#include "peers/peer.h"
#include "projections/proj.h"

typedef struct tnode {
	char origin[LOG_ORIGIN_MAX + 1];
	char dir[600];
	char secret[64];
	const char *tls_cert, *tls_key, *tls_ca;	/* NULL: plain ws */
	log_store *s;
	proj *p;
	log_writer *w;
	peer_service *svc;
	_Atomic(peer_service *) hook;	/* what on_commit notifies */
	int port;
} tnode;

static inline void tnode_on_commit(void *ctx, const log_commit_info *ci)
{
	tnode *n = ctx;
	peer_service *svc = atomic_load(&n->hook);

	if (svc != NULL)
		peer_service_on_commit(svc, ci);
}

static inline int64_t tnode_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Open the node's data (store, proj, writer); no peer service yet. */
static inline void tnode_open(tnode *n, const char *origin, const char *dir,
    enum log_durability dur)
{
	log_store_opts o = { .origin = origin, .durability = dur,
	    .extra_dbs = PROJ_DBS + PEER_DBS };
	proj_tariff t;
	int rc;

	memset(n, 0, sizeof *n);
	snprintf(n->origin, sizeof n->origin, "%s", origin);
	snprintf(n->dir, sizeof n->dir, "%s", dir);
	snprintf(n->secret, sizeof n->secret, "facility-secret");
	if ((rc = log_store_open(dir, &o, &n->s)) != 0) {
		fprintf(stderr, "open %s: %s\n", dir, log_strerror(rc));
		abort();
	}
	/* log_store_dbi should create when writable (store.h) but does not yet:
	 * create the projection tables first (harmless once it does). */
	static const char *const pt[] = { "p_sessions", "p_plate", "p_time",
	    "p_conflict", "p_meta" };
	for (size_t i = 0; i < sizeof pt / sizeof pt[0]; i++) {
		MDB_dbi d;

		log_store_dbi(n->s, pt[i], MDB_CREATE | (i == 1 ? MDB_DUPSORT : 0), &d);
	}
	proj_tariff_default(&t);
	if ((rc = proj_open(n->s, &t, &n->p)) != 0) {
		fprintf(stderr, "proj_open: %s\n", proj_strerror(rc));
		abort();
	}
	proj_attach(n->p);
	n->svc = NULL;
	/* the service must open its table before the writer starts */
}

/* Create the service (listener bound) with no peers; port 0 the first
 * time, the same port on a restart. */
static inline int tnode_svc_create(tnode *n, int port)
{
	peer_opts po = { .listen_host = "127.0.0.1", .listen_port = port,
	    .secret = n->secret, .ping_s = 1, .hangup_s = 3,
	    .tls_cert = n->tls_cert, .tls_key = n->tls_key, .tls_ca = n->tls_ca };
	int rc;

	if ((rc = peer_service_create(n->s, n->p, &po, &n->svc)) != 0)
		return rc;
	n->port = peer_service_port(n->svc);
	return 0;
}

static inline void tnode_writer_start(tnode *n)
{
	log_writer_opts wo = { .on_commit = tnode_on_commit, .ctx = n };

	if (log_writer_start(n->s, &wo, &n->w) != 0)
		abort();
}

static inline void tnode_svc_start(tnode *n)
{
	atomic_store(&n->hook, n->svc);
	if (peer_service_start(n->svc, n->w) != 0)
		abort();
}

static inline void tnode_svc_stop(tnode *n)
{
	atomic_store(&n->hook, NULL);
	peer_service_stop(n->svc);
	peer_service_destroy(n->svc);
	n->svc = NULL;
}

static inline void tnode_close(tnode *n)
{
	if (n->svc != NULL)
		tnode_svc_stop(n);
	if (n->w != NULL)
		log_writer_stop(n->w);
	n->w = NULL;
	proj_close(n->p);
	log_store_close(n->s);
}

static inline void tnode_peers(tnode *n, tnode **peers, size_t np)
{
	peer_addr a[8];

	memset(a, 0, sizeof a);
	for (size_t i = 0; i < np; i++) {
		snprintf(a[i].id, sizeof a[i].id, "%s", peers[i]->origin);
		snprintf(a[i].host, sizeof a[i].host, "127.0.0.1");
		a[i].port = peers[i]->port;
	}
	if (peer_service_set_peers(n->svc, a, np) != 0)
		abort();
}

/* ---- own events through the writer (as the HTTP API does) ---------------- */

typedef struct tgate {
	log_job job;
	log_event ev;
	int64_t wall;
	int rc, done;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} tgate;

static int tgate_run(log_job *j, log_txn *t)
{
	tgate *g = j->arg;
	int rc;

	if ((rc = log_txn_next_ts(t, g->ev.plate, g->wall, &g->ev.ts)) != 0)
		return rc;
	return log_txn_append_own(t, &g->ev);
}

static void tgate_done(log_job *j, int rc)
{
	tgate *g = j->arg;

	pthread_mutex_lock(&g->mu);
	g->rc = rc;
	g->done = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Append an own event at a gate, durably; returns 0 and the event. */
static inline int tnode_gate(tnode *n, enum log_ev_type type, const char *plate,
    const char *session, int64_t fee, log_event *out)
{
	tgate g;

	memset(&g, 0, sizeof g);
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	g.job.run = tgate_run;
	g.job.done = tgate_done;
	g.job.arg = &g;
	g.wall = tnode_now_ms();
	g.ev.type = type;
	snprintf(g.ev.plate, sizeof g.ev.plate, "%.12s", plate);
	snprintf(g.ev.plate_view, sizeof g.ev.plate_view, "%.12s", plate);
	snprintf(g.ev.vehicle, sizeof g.ev.vehicle, "car");
	snprintf(g.ev.edge_id, sizeof g.ev.edge_id, "edge-1");
	g.ev.confidence_milli = 950;
	g.ev.entry_ts = g.ev.duration_s = -1;
	if (session != NULL)
		snprintf(g.ev.session, sizeof g.ev.session, "%s", session);
	if (type == LOG_EV_EXIT) {
		g.ev.fee = fee;
		snprintf(g.ev.tariff, sizeof g.ev.tariff, "default");
	}
	if (log_writer_submit(n->w, &g.job) != 0)
		return -1;
	pthread_mutex_lock(&g.mu);
	while (!g.done)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);
	if (out != NULL)
		*out = g.ev;
	return g.rc;
}

/* ---- comparisons ------------------------------------------------------------ */

typedef struct tview {
	log_stream_info *st;
	size_t n;
	proj_summary sum;
} tview;

static inline int tview_cmp(const void *a, const void *b)
{
	return strcmp(((const log_stream_info *)a)->name, ((const log_stream_info *)b)->name);
}

static inline tview tnode_view(tnode *n)
{
	tview v;
	log_txn *t;

	memset(&v, 0, sizeof v);
	if (log_txn_begin(n->s, 0, &t) != 0 || log_txn_streams(t, &v.st, &v.n) != 0 ||
	    proj_summary_get(n->p, t, &v.sum) != 0)
		abort();
	log_txn_abort(t);
	qsort(v.st, v.n, sizeof *v.st, tview_cmp);
	return v;
}

/* Equal vectors (non-empty streams, by name, seq and P). */
static inline int tview_same_vector(const tview *a, const tview *b)
{
	size_t i = 0, k = 0;

	for (;;) {
		while (i < a->n && a->st[i].head_seq == 0)
			i++;
		while (k < b->n && b->st[k].head_seq == 0)
			k++;
		if (i == a->n || k == b->n)
			return i == a->n && k == b->n;
		if (strcmp(a->st[i].name, b->st[k].name) != 0 ||
		    a->st[i].head_seq != b->st[k].head_seq || a->st[i].head_P != b->st[k].head_P)
			return 0;
		i++, k++;
	}
}

static inline uint64_t tview_events(const tview *v)
{
	uint64_t e = 0;

	for (size_t i = 0; i < v->n; i++)
		e += v->st[i].head_seq;
	return e;
}

/* All nodes hold the same vector and the same projections. */
static inline int tnodes_converged(tnode **ns, size_t n)
{
	tview v0 = tnode_view(ns[0]);
	int ok = 1;

	for (size_t i = 1; i < n && ok; i++) {
		tview v = tnode_view(ns[i]);

		ok = tview_same_vector(&v0, &v) && v0.sum.digest == v.sum.digest;
		free(v.st);
	}
	free(v0.st);
	return ok;
}

static inline int tnodes_wait(tnode **ns, size_t n, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (tnodes_converged(ns, n))
			return 1;
		usleep(10000);
	}
	return tnodes_converged(ns, n);
}

static inline peer_status tnode_status(tnode *n, const char *peer)
{
	peer_status *st, r;
	size_t k;

	memset(&r, 0, sizeof r);
	if (peer_service_status(n->svc, &st, &k) != 0)
		abort();
	for (size_t i = 0; i < k; i++)
		if (strcmp(st[i].id, peer) == 0) {
			r = st[i];
			r.vector = NULL;
			r.nvector = 0;
		}
	peer_status_free(st, k);
	return r;
}

#endif
