/* peers/conn.c — one peer connection: handshake, frames in, frames out.
 * Runs on the service thread only. Control frames (hello, auth, ack, want,
 * fork) are queued; batches are read from the log when the socket is
 * writeable, one frame per WRITEABLE callback. */
#include "peers/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"

#define PEER__QUEUE_MAX	4096		/* control frames queued per connection */
#define PEER__JOBS_PAUSE (2 * PEER_CREDIT)	/* stop reading above this: at most
					   32 batches of PEER_FRAME_MAX held */
#define PEER__HDR_SLACK	256		/* room for a batch header before events */
#define PEER__AUTH_S	10		/* hello + auth must complete within */

static const char *peer__name(const peer__conn *c)
{
	return c->peer != NULL ? c->peer->addr.id : "(unidentified)";
}

peer__conn *peer__conn_new(peer_service *svc, int client, peer__peer *p)
{
	peer__conn *c = calloc(1, sizeof *c);

	if (c == NULL || (c->frame = calloc(1, sizeof *c->frame)) == NULL ||
	    peer_nonce(c->my_nonce) != 0) {
		if (c != NULL)
			free(c->frame);
		free(c);
		return NULL;
	}
	c->svc = svc;
	c->id = ++svc->next_conn_id;
	c->client = client;
	c->peer = p;
	c->qtail = &c->q;
	peer_sync_init(&c->sync);
	c->next = svc->conns;
	svc->conns = c;
	atomic_fetch_add(&svc->nconns, 1);
	return c;
}

static void peer__set_status(peer__peer *p, int connected, int dialed)
{
	peer_service *svc = p->svc;

	pthread_mutex_lock(&svc->mu);
	p->st.connected = connected;
	p->st.dialed = dialed;
	p->st.connected_since_ms = connected ? peer__now_ms() : 0;
	if (connected)
		p->st.connects++;
	pthread_mutex_unlock(&svc->mu);
	p->dirty = 1;
}

void peer__conn_free(peer__conn *c)
{
	peer_service *svc = c->svc;
	peer__peer *p = c->peer;

	for (peer__conn **pp = &svc->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			atomic_fetch_sub(&svc->nconns, 1);
			break;
		}
	if (c->wsi != NULL)
		lws_set_opaque_user_data(c->wsi, NULL);
	if (p != NULL && p->active == c) {
		peer__status_update(svc);	/* keep its last lag and vector */
		p->active = NULL;
		peer__set_status(p, 0, 0);
		msg_info("peer %s: disconnected%s%s", p->addr.id, c->why[0] ? ": " : "", c->why);
	}
	if (p != NULL && p->dialing == c)
		p->dialing = NULL;
	if (p != NULL && p->active == NULL)
		peer__schedule_dial(p, 0);
	while (c->q != NULL) {
		peer__out *o = c->q;

		c->q = o->next;
		free(o);
	}
	peer_sync_free(&c->sync);
	free(c->their_vector);
	free(c->rx);
	free(c->tx);
	if (c->frame != NULL)
		peer_frame_clear(c->frame);
	free(c->frame);
	free(c);
}

/* Close from anywhere on the service thread: the next WRITEABLE closes it
 * with the reason (a close frame), or the current callback returns -1. */
void peer__conn_close(peer__conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == PEER__C_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	c->state = PEER__C_CLOSING;
	/* a failing stranger never overwrites the error of a link that is up */
	if (c->peer != NULL && (c->peer->active == NULL || c->peer->active == c))
		peer__status_set_error(c->peer, c->why);
	if (c->quiet)
		msg_debug("peer %s: closing connection: %s", peer__name(c), c->why);
	else if (c->peer == NULL || c->peer->active != c)
		msg_warnx("peer %s: closing connection: %s", peer__name(c), c->why);
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

int peer__queue(peer__conn *c, const char *frame, size_t len)
{
	peer__out *o;

	if (c->qlen >= PEER__QUEUE_MAX) {
		peer__conn_close(c, "control queue overflow");
		return ENOBUFS;
	}
	if ((o = malloc(sizeof *o + LWS_PRE + len)) == NULL) {
		peer__conn_close(c, "out of memory");
		return ENOMEM;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, frame, len);
	*c->qtail = o;
	c->qtail = &o->next;
	c->qlen++;
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

void peer__conn_kick(peer__conn *c)
{
	if (c->wsi != NULL && (c->q != NULL || c->state == PEER__C_UP ||
	    c->state == PEER__C_CLOSING))
		lws_callback_on_writable(c->wsi);
}

/* ---- handshake -------------------------------------------------------------- */

int peer__conn_start(peer__conn *c)
{
	peer_service *svc = c->svc;
	size_t cap = 256 + svc->nmine * (LOG_STREAM_MAX + 48);
	char *buf;
	int n;

	if (atomic_exchange(&svc->notified, 0))
		peer__refresh_vector(svc);
	if ((buf = malloc(cap)) == NULL)
		return -1;
	n = peer_enc_hello(buf, cap, svc->node, c->my_nonce, svc->mine,
	    svc->nmine < PEER_VECTOR_MAX ? svc->nmine : PEER_VECTOR_MAX);
	if (n > 0)
		peer__queue(c, buf, (size_t)n);
	free(buf);
	c->state = PEER__C_HELLO;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, PEER__AUTH_S);
	return n > 0 ? 0 : -1;
}

static peer__peer *peer__find_peer(peer_service *svc, const char *id)
{
	for (size_t i = 0; i < svc->npeers; i++)
		if (svc->peers[i] != NULL && !svc->peers[i]->removed &&
		    strcmp(svc->peers[i]->addr.id, id) == 0)
			return svc->peers[i];
	return NULL;
}

/* A hello carrying the nonce of another of our connections came from us. */
static int peer__own_nonce(peer_service *svc, const peer__conn *self, const char *nonce)
{
	for (const peer__conn *o = svc->conns; o != NULL; o = o->next)
		if (o != self && strcmp(o->my_nonce, nonce) == 0)
			return 1;
	return 0;
}

/* Another central says it has our id: refuse, and keep it in the status
 * (also on the listener side, where no configured peer stands for it). */
static void peer__same_id(peer__conn *c)
{
	peer_service *svc = c->svc;
	char where[PEER_HOST_MAX + 16] = "?", why[sizeof svc->id_conflict];

	if (c->client)
		snprintf(where, sizeof where, "%s:%d", c->peer->addr.host, c->peer->addr.port);
	else if (c->wsi != NULL)
		lws_get_peer_simple(c->wsi, where, sizeof where);
	snprintf(why, sizeof why, "the central %s %s also has our id %s: two centrals "
	    "with one id cannot replicate (give each its own \"id\")",
	    c->client ? "at" : "connecting from", where, svc->node);
	pthread_mutex_lock(&svc->mu);
	snprintf(svc->id_conflict, sizeof svc->id_conflict, "%s", why);
	svc->id_conflicts++;
	pthread_mutex_unlock(&svc->mu);
	msg_warnx("peers: %s", why);
	c->quiet = 1;		/* said once above */
	peer__conn_close(c, "%s", why);
}

/* Our MAC for this connection in our role (the nonces are both fixed). */
static int peer__mac(peer__conn *c, int ours, char mac[PEER_MAC_HEX + 1])
{
	peer_service *svc = c->svc;
	const char *dialer = c->client ? svc->node : c->peer->addr.id;
	const char *listener = c->client ? c->peer->addr.id : svc->node;
	const char *dn = c->client ? c->my_nonce : c->their_nonce;
	const char *ln = c->client ? c->their_nonce : c->my_nonce;
	int dialer_role = ours ? c->client : !c->client;

	return peer_auth_mac(svc->secret, dialer_role ? PEER_ROLE_DIALER : PEER_ROLE_LISTENER,
	    dialer, listener, dn, ln, mac);
}

static void peer__send_auth(peer__conn *c)
{
	char mac[PEER_MAC_HEX + 1], buf[128];
	int n;

	if (peer__mac(c, 1, mac) != 0 || (n = peer_enc_auth(buf, sizeof buf, mac)) < 0)
		return peer__conn_close(c, "cannot compute our MAC");
	peer__queue(c, buf, (size_t)n);
}

/* Their hello fixes their nonce. Only the dialer answers it (with its
 * MAC): a listener signs nothing before the dialer proved the secret. */
static void peer__on_hello(peer__conn *c, peer_frame *f)
{
	peer_service *svc = c->svc;

	if (f->version != PEER_PROTO_VERSION)
		return peer__conn_close(c, "protocol version %d (we speak %d): upgrade "
		    "both centrals", f->version, PEER_PROTO_VERSION);
	if (strcmp(f->nonce, c->my_nonce) == 0 || peer__own_nonce(svc, c, f->nonce))
		return peer__conn_close(c, "connected to ourselves (a peer address is "
		    "our own listener, or our nonce was reflected)");
	if (strcmp(f->node, svc->node) == 0)
		return peer__same_id(c);
	if (c->client && strcmp(f->node, c->peer->addr.id) != 0)
		return peer__conn_close(c, "dialed %s, %s answered", c->peer->addr.id, f->node);
	if (!c->client && (c->peer = peer__find_peer(svc, f->node)) == NULL)
		return peer__conn_close(c, "unknown central %s (not in our peers)", f->node);
	c->their_vector = f->vector;
	c->ntheir = f->nvector;
	f->vector = NULL;
	f->nvector = 0;
	memcpy(c->their_nonce, f->nonce, sizeof c->their_nonce);
	c->state = PEER__C_AUTH;
	if (c->client)
		peer__send_auth(c);
}

static void peer__report_fork(peer__conn *c, const char *stream, uint64_t seq,
    const char *why)
{
	peer__peer *p = c->peer;
	peer_service *svc = c->svc;
	size_t i;

	msg_warnx("peer %s: FORK in stream %s at seq %" PRIu64 ": %s; stream refused "
	    "from this peer, nothing overwritten", p->addr.id, stream, seq, why);
	pthread_mutex_lock(&svc->mu);
	for (i = 0; i < p->st.nforks && i < 4; i++)
		if (strcmp(p->st.forks[i], stream) == 0)
			break;
	if (i == p->st.nforks) {
		if (i < 4)
			snprintf(p->st.forks[i], sizeof p->st.forks[i], "%s", stream);
		p->st.nforks++;
	}
	pthread_mutex_unlock(&svc->mu);
	p->dirty = 1;
}

/* Streams found forked with this peer before (this run or, through the
 * progress record, an earlier one) stay refused on a new connection. */
static void peer__refuse_forks(peer__conn *c)
{
	peer_service *svc = c->svc;
	char forks[4][LOG_STREAM_MAX + 1];
	size_t n;

	pthread_mutex_lock(&svc->mu);
	n = c->peer->st.nforks < 4 ? c->peer->st.nforks : 4;
	memcpy(forks, c->peer->st.forks, sizeof forks);
	pthread_mutex_unlock(&svc->mu);
	for (size_t i = 0; i < n; i++)
		peer_sync_fork(&c->sync, forks[i], 0);
}

/* Both directions authenticated: keep one connection per pair (the one
 * dialed by the smaller node id), start replicating. */
static void peer__conn_up(peer__conn *c)
{
	peer_service *svc = c->svc;
	peer__peer *p = c->peer;

	if (p->active != NULL && p->active != c) {
		const char *dn = c->client ? svc->node : p->addr.id;
		const char *da = p->active->client ? svc->node : p->addr.id;

		if (strcmp(dn, da) >= 0) {
			c->quiet = 1;
			return peer__conn_close(c, "duplicate connection (keeping the one "
			    "dialed by %s)", da);
		}
		p->active->quiet = 1;
		peer__conn_close(p->active, "duplicate connection (keeping the one "
		    "dialed by %s)", dn);
	}
	p->active = c;
	p->retry = 0;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	if (atomic_exchange(&svc->notified, 0))
		peer__refresh_vector(svc);
	peer__refuse_forks(c);
	if (peer_sync_hello(&c->sync, c->their_vector, c->ntheir, svc->mine, svc->nmine) > 0)
		for (size_t i = 0; i < c->sync.n; i++)
			if (c->sync.s[i].fork_tell)
				peer__report_fork(c, c->sync.s[i].name, c->sync.s[i].fork_seq,
				    "same head seq, different digest");
	free(c->their_vector);
	c->their_vector = NULL;
	c->ntheir = 0;
	c->state = PEER__C_UP;
	peer__set_status(p, 1, c->client);
	peer__status_set_error(p, "");
	peer__status_update(svc);
	msg_info("peer %s: connected (%s)", p->addr.id, c->client ? "dialed" : "accepted");
	lws_callback_on_writable(c->wsi);
}

/* Their MAC must be the one of their role on this very connection. The
 * listener answers a verified dialer with its own MAC, then both are up. */
static void peer__on_auth(peer__conn *c, peer_frame *f)
{
	peer_service *svc = c->svc;
	char want[PEER_MAC_HEX + 1];

	if (peer__mac(c, 0, want) != 0 || !peer_mac_equal(want, f->mac)) {
		pthread_mutex_lock(&svc->mu);
		c->peer->st.auth_failures++;
		pthread_mutex_unlock(&svc->mu);
		return peer__conn_close(c, "authentication failed (wrong peer_secret, or "
		    "not %s)", c->peer->addr.id);
	}
	if (!c->client) {
		peer__send_auth(c);
		if (c->state == PEER__C_CLOSING)
			return;
	}
	peer__conn_up(c);
}

/* ---- replication frames ------------------------------------------------------ */

static void peer__on_batch(peer__conn *c, peer_frame *f, size_t len)
{
	peer_service *svc = c->svc;
	const peer_head *h = peer__mine(svc, f->stream, NULL);
	uint64_t w = 0;
	char buf[160];
	int n;

	if (peer_sync_get(&c->sync, f->stream, 0) == NULL && c->sync.n >= 2 * PEER_VECTOR_MAX)
		return peer__conn_close(c, "too many streams");
	switch (peer_sync_batch(&c->sync, f->stream, f->prev_seq, f->nevents,
	    h ? h->seq : 0, &w)) {
	case PEER_RX_SUBMIT:
		if (peer__submit_batch(c, c->rx, f) != 0)
			return peer__conn_close(c, "the writer does not accept jobs");
		c->rx = NULL;		/* the job owns the bytes and the frame */
		c->rxcap = 0;
		c->frame = calloc(1, sizeof *c->frame);
		if (c->frame == NULL)
			return peer__conn_close(c, "out of memory");
		if (++c->jobs >= PEER__JOBS_PAUSE && !c->rx_paused) {
			lws_rx_flow_control(c->wsi, 0);
			c->rx_paused = 1;
		}
		break;
	case PEER_RX_WANT:
		if ((n = peer_enc_want(buf, sizeof buf, f->stream, w)) > 0)
			peer__queue(c, buf, (size_t)n);
		break;
	case PEER_RX_FLOOD:
		return peer__conn_close(c, "batch over credit for %s", f->stream);
	default:
		break;
	}
	(void)len;
}

static void peer__on_up_frame(peer__conn *c, peer_frame *f, size_t len)
{
	peer_service *svc = c->svc;

	switch (f->type) {
	case PEER_MSG_BATCH:
		return peer__on_batch(c, f, len);
	case PEER_MSG_WANT:
		if (peer__mine(svc, f->stream, NULL) != NULL)
			peer_sync_want(&c->sync, f->stream, f->seq);
		lws_callback_on_writable(c->wsi);	/* the cursor moved */
		return;
	case PEER_MSG_ACK:
		if (peer__mine(svc, f->stream, NULL) != NULL ||
		    peer_sync_get(&c->sync, f->stream, 0) != NULL)
			peer_sync_ack(&c->sync, f->stream, f->seq);
		c->peer->dirty = 1;
		lws_callback_on_writable(c->wsi);	/* credit came back */
		return;
	case PEER_MSG_FORK: {
		peer_sync_stream *st = peer_sync_get(&c->sync, f->stream, 0);

		if (st != NULL && !st->forked) {
			peer_sync_fork(&c->sync, f->stream, f->seq);
			peer__report_fork(c, f->stream, f->seq, f->reason);
		}
		return;
	}
	default:
		return peer__conn_close(c, "unexpected %s after the handshake",
		    f->type == PEER_MSG_HELLO ? "hello" : "auth");
	}
}

static void peer__on_frame(peer__conn *c, size_t len)
{
	peer_service *svc = c->svc;
	peer_frame *f = c->frame;
	char err[200];
	int rc;

	if ((rc = peer_frame_parse(c->rx, len, f, err, sizeof err)) != 0)
		return peer__conn_close(c, "%s: %s", peer_strerror(rc), err);
	if (c->peer != NULL && c->state == PEER__C_UP) {
		pthread_mutex_lock(&svc->mu);
		c->peer->st.frames_received++;
		c->peer->st.bytes_received += len;
		c->peer->st.last_seen_ms = peer__now_ms();
		pthread_mutex_unlock(&svc->mu);
	}
	if (c->state == PEER__C_HELLO && f->type == PEER_MSG_HELLO)
		peer__on_hello(c, f);
	else if (c->state == PEER__C_AUTH && f->type == PEER_MSG_AUTH)
		peer__on_auth(c, f);
	else if (c->state == PEER__C_UP)
		peer__on_up_frame(c, f, len);
	else
		peer__conn_close(c, "frame out of order before authentication");
	if (c->frame != NULL)
		peer_frame_clear(c->frame);
}

/* Collect a message's fragments (in != NULL), or handle it (in == NULL).
 * Returns -1 when the connection must close now. */
int peer__conn_rx(peer__conn *c, const void *in, size_t len)
{
	if (c->state == PEER__C_CLOSING)
		return -1;
	if (in != NULL) {
		if (len > PEER_FRAME_MAX - c->rxlen) {
			peer__conn_close(c, "frame over %d bytes", PEER_FRAME_MAX);
			return -1;
		}
		if (c->rxlen + len > c->rxcap) {
			size_t cap = c->rxcap ? c->rxcap : 16384;
			char *p;

			while (cap < c->rxlen + len)
				cap *= 2;
			if (cap > PEER_FRAME_MAX)
				cap = PEER_FRAME_MAX;
			if ((p = realloc(c->rx, cap)) == NULL)
				return -1;
			c->rx = p;
			c->rxcap = cap;
		}
		if (len > 0)	/* an empty frame: c->rx may still be NULL */
			memcpy(c->rx + c->rxlen, in, len);
		c->rxlen += len;
		return 0;
	}
	if (c->rx_binary)
		peer__conn_close(c, "binary frame");
	else
		peer__on_frame(c, c->rxlen);
	c->rxlen = 0;
	c->rx_binary = 0;
	return c->state == PEER__C_CLOSING ? -1 : 0;
}

/* ---- writer verdicts --------------------------------------------------------- */

void peer__conn_job_done(peer__conn *c, peer__job *j)
{
	peer_service *svc = c->svc;
	const peer_head *h = peer__mine(svc, j->f->stream, NULL);
	uint64_t w = 0, head = j->head;
	char buf[PEER_REASON_MAX + LOG_STREAM_MAX + 96];
	int n = 0;

	msg_assert(c->jobs > 0);	/* one done per batch submitted */
	c->jobs--;
	if (c->peer == NULL || c->state == PEER__C_CLOSING)
		return;		/* going away: nothing to answer */
	if (c->rx_paused && c->jobs < PEER__JOBS_PAUSE / 2 && c->wsi != NULL) {
		lws_rx_flow_control(c->wsi, 1);
		c->rx_paused = 0;
	}
	if (j->verdict == PEER_V_FAILED)
		head = h ? h->seq : 0;
	if (j->own_tail && j->appended > 0)
		msg_warnx("peer %s: %" PRIu64 " events of our own old stream %s came back "
		    "(up to seq %" PRIu64 "): was this central restored from a backup?",
		    c->peer->addr.id, j->appended, j->f->stream, j->head);
	if (j->appended > 0) {
		pthread_mutex_lock(&svc->mu);
		c->peer->st.events_received += j->appended;
		pthread_mutex_unlock(&svc->mu);
		c->peer->dirty = 1;
	}
	switch (peer_sync_rx_done(&c->sync, j->f->stream, j->verdict, head, &w)) {
	case PEER_REPLY_ACK:
		n = peer_enc_ack(buf, sizeof buf, j->f->stream, j->head, j->head_P);
		break;
	case PEER_REPLY_WANT:
		n = peer_enc_want(buf, sizeof buf, j->f->stream, w);
		break;
	case PEER_REPLY_FORK:
		peer__report_fork(c, j->f->stream, j->fork_seq, j->why);
		n = peer_enc_fork(buf, sizeof buf, j->f->stream, j->fork_seq, j->why);
		break;
	case PEER_REPLY_CLOSE:
		return peer__conn_close(c, "bad event in %s: %s", j->f->stream, j->why);
	default:
		return;
	}
	if (n > 0 && c->state != PEER__C_CLOSING)
		peer__queue(c, buf, (size_t)n);
}

/* ---- frames out ------------------------------------------------------------- */

static void peer__count_out(peer__conn *c, size_t bytes, uint64_t events)
{
	peer_service *svc = c->svc;

	if (c->peer == NULL || c->state != PEER__C_UP)
		return;
	pthread_mutex_lock(&svc->mu);
	c->peer->st.frames_sent++;
	c->peer->st.bytes_sent += bytes;
	c->peer->st.events_sent += events;
	pthread_mutex_unlock(&svc->mu);
	if (events > 0)
		c->peer->dirty = 1;
}

/* Read [from, to] of mine[idx] into c->tx (short read transaction) and
 * write it as one batch frame. */
static int peer__send_batch(peer__conn *c, size_t idx, uint64_t from, uint64_t to)
{
	peer_service *svc = c->svc;
	char hdr[PEER__HDR_SLACK], *body;
	uint64_t seq = from - 1, prev_P = 0, n = 0;
	size_t off = 0;
	log_txn *t = NULL;
	log_iter *it = NULL;
	log_rec r;
	int rc, hl;

	if (c->tx == NULL && (c->tx = malloc(LWS_PRE + PEER__HDR_SLACK + PEER_FRAME_MAX)) == NULL)
		return ENOMEM;
	body = (char *)c->tx + LWS_PRE + PEER__HDR_SLACK;
	if ((rc = log_txn_begin(svc->store, 0, &t)) != 0 ||
	    (rc = log_iter_range(t, svc->mine_no[idx], from, to, &it)) != 0)
		goto err;
	while ((rc = log_iter_next(it, &r)) == 0) {
		if (r.seq != seq + 1) {
			rc = LOG_ECORRUPT;
			break;
		}
		if (n > 0 && off + 1 + r.len > PEER_BATCH_BYTES)
			break;
		if (n == 0)
			prev_P = r.P - r.h;	/* P(from - 1), no extra read */
		else
			body[off++] = '\n';
		memcpy(body + off, r.bytes, r.len);
		off += r.len;
		seq = r.seq;
		n++;
	}
	if (rc == LOG_END || rc == 0)
		rc = n > 0 ? 0 : LOG_NOTFOUND;
	if (rc != 0)
		goto err;
	log_iter_free(it);
	log_txn_abort(t);
	hl = peer_enc_batch_head(hdr, sizeof hdr, svc->mine[idx].stream, from - 1, prev_P, n);
	if (hl < 0)
		return PEER_ESPACE;
	memcpy(body - hl, hdr, (size_t)hl);
	if (lws_write(c->wsi, (unsigned char *)body - hl, (size_t)hl + off, LWS_WRITE_TEXT) <
	    (int)((size_t)hl + off))
		return EIO;
	peer_sync_sent(&c->sync, svc->mine[idx].stream, seq);
	peer__count_out(c, (size_t)hl + off, n);
	return 0;
err:
	if (it != NULL)
		log_iter_free(it);
	if (t != NULL)
		log_txn_abort(t);
	return rc;
}

/* A fork frame still to be sent (found at hello). */
static int peer__send_fork_tell(peer__conn *c)
{
	char buf[LOG_STREAM_MAX + PEER_REASON_MAX + 96];

	for (size_t i = 0; i < c->sync.n; i++) {
		peer_sync_stream *st = &c->sync.s[i];
		int n;

		if (!st->fork_tell)
			continue;
		st->fork_tell = 0;
		n = peer_enc_fork(buf, sizeof buf, st->name, st->fork_seq,
		    "same head seq, different digest");
		if (n > 0)
			peer__queue(c, buf, (size_t)n);
		return 1;
	}
	return 0;
}

int peer__conn_writeable(peer__conn *c)
{
	peer_service *svc = c->svc;
	size_t idx;
	uint64_t from, to;
	int rc;

	if (c->state == PEER__C_CLOSING) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    (unsigned char *)c->why, strlen(c->why) > 120 ? 120 : strlen(c->why));
		return -1;
	}
	if (c->q != NULL) {
		peer__out *o = c->q;

		if ((c->q = o->next) == NULL)
			c->qtail = &c->q;
		c->qlen--;
		rc = lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
		peer__count_out(c, o->len, 0);
		free(o);
		if (rc < 0)
			return -1;
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->state != PEER__C_UP || peer__send_fork_tell(c))
		return 0;
	if (!peer_sync_next(&c->sync, svc->mine, svc->nmine, &idx, &from, &to))
		return 0;
	if ((rc = peer__send_batch(c, idx, from, to)) != 0) {
		peer__conn_close(c, "cannot send %s from %" PRIu64 ": %s",
		    svc->mine[idx].stream, from, log_strerror(rc));
		return 0;
	}
	lws_callback_on_writable(c->wsi);
	return 0;
}
