/* peers/service.c — the peer service: lws context, service thread, dialing
 * with backoff, the callback that routes lws events to connections, and
 * the wake-ups from other threads (commits, finished jobs, SIGHUP). */
#include "peers/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "msg/msg.h"

#define PEER__TICK_US	(250 * 1000)	/* status refresh; persist every 4th */

int64_t peer__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- our vector ----------------------------------------------------------- */

static int peer__cmp_info(const void *a, const void *b)
{
	return strcmp(((const log_stream_info *)a)->name, ((const log_stream_info *)b)->name);
}

/* Re-read our version vector with one short read transaction. */
int peer__refresh_vector(peer_service *svc)
{
	log_stream_info *si = NULL;
	peer_head *v = NULL;
	uint32_t *no = NULL;
	log_txn *t = NULL;
	size_t n = 0;
	int rc;

	if ((rc = log_txn_begin(svc->store, 0, &t)) != 0 ||
	    (rc = log_txn_streams(t, &si, &n)) != 0)
		goto err;
	log_txn_abort(t);
	t = NULL;
	if (n > 1)
		qsort(si, n, sizeof *si, peer__cmp_info);
	if (n > 0 && ((v = calloc(n, sizeof *v)) == NULL || (no = calloc(n, sizeof *no)) == NULL)) {
		rc = ENOMEM;
		goto err;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(v[i].stream, si[i].name, sizeof v[i].stream);
		v[i].seq = si[i].head_seq;
		v[i].P = si[i].head_P;
		no[i] = si[i].no;
	}
	free(svc->mine);
	free(svc->mine_no);
	svc->mine = v;
	svc->mine_no = no;
	svc->nmine = n;
	free(si);
	return 0;
err:
	if (t != NULL)
		log_txn_abort(t);
	free(si);
	free(v);
	free(no);
	return rc;
}

const peer_head *peer__mine(peer_service *svc, const char *stream, uint32_t *no)
{
	size_t lo = 0, hi = svc->nmine;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(svc->mine[mid].stream, stream);

		if (c == 0) {
			if (no != NULL)
				*no = svc->mine_no[mid];
			return &svc->mine[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- dialing ------------------------------------------------------------- */

static void peer__dial(peer__peer *p)
{
	peer_service *svc = p->svc;
	struct lws_client_connect_info i;
	peer__conn *c;

	if (p->removed || p->active != NULL || p->dialing != NULL || atomic_load(&svc->stop))
		return;
	if ((c = peer__conn_new(svc, 1, p)) == NULL) {
		peer__schedule_dial(p, 0);
		return;
	}
	memset(&i, 0, sizeof i);
	i.context = svc->ctx;
	i.vhost = svc->vhost;
	i.address = p->addr.host;
	i.port = p->addr.port;
	i.path = "/";
	i.host = p->addr.host;
	i.origin = p->addr.host;
	i.protocol = PEER_SUBPROTOCOL;
	i.local_protocol_name = PEER_SUBPROTOCOL;
	i.retry_and_idle_policy = &svc->retry;
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	if (svc->tls_cert != NULL)	/* the CA is ours: see peer_opts */
		i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	p->dialing = c;
	c->in_connect = 1;
	if (lws_client_connect_via_info(&i) == NULL)
		c->failed = 1;
	c->in_connect = 0;
	if (c->failed) {
		peer__conn_free(c);	/* clears p->dialing */
		peer__schedule_dial(p, 0);
	}
}

static void peer__dial_cb(lws_sorted_usec_list_t *sul)
{
	peer__dial(lws_container_of(sul, peer__peer, sul));
}

/* Dial now (a new peer) or after the next backoff step (with jitter). */
void peer__schedule_dial(peer__peer *p, int now)
{
	peer_service *svc = p->svc;

	if (p->removed || p->active != NULL || p->dialing != NULL || atomic_load(&svc->stop))
		return;
	if (now) {
		lws_sul_schedule(svc->ctx, 0, &p->sul, peer__dial_cb, 1);
		return;
	}
	if (p->retry >= svc->retry.retry_ms_table_count)
		p->retry = svc->retry.retry_ms_table_count;	/* stay at the last step */
	lws_retry_sul_schedule(svc->ctx, 0, &p->sul, &svc->retry, peer__dial_cb, &p->retry);
}

/* ---- peers added and removed at run time -------------------------------- */

static peer__peer *peer__peer_new(peer_service *svc, const peer_addr *a)
{
	peer__peer *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->svc = svc;
	p->addr = *a;
	memcpy(p->st.id, a->id, sizeof p->st.id);
	memcpy(p->st.host, a->host, sizeof p->st.host);
	p->st.port = a->port;
	return p;
}

static void peer__peer_free(peer__peer *p)
{
	lws_sul_cancel(&p->sul);
	free(p->st.vector);
	free(p);
}

/* On the service thread: apply a list handed over by set_peers. Kept peers
 * keep their connection and counters; removed ones are disconnected. */
static void peer__apply_peers(peer_service *svc, peer_addr *na, size_t nn)
{
	peer__peer **np = calloc(nn ? nn : 1, sizeof *np), **old;
	size_t nold;

	if (np == NULL)
		return;
	for (size_t i = 0; i < nn; i++) {
		for (size_t k = 0; k < svc->npeers && np[i] == NULL; k++) {
			peer__peer *p = svc->peers[k];

			if (!p->removed && strcmp(p->addr.id, na[i].id) == 0 &&
			    strcmp(p->addr.host, na[i].host) == 0 && p->addr.port == na[i].port)
				np[i] = p, p->removed = -1;	/* mark: kept */
		}
		if (np[i] == NULL && (np[i] = peer__peer_new(svc, &na[i])) == NULL)
			np[i] = NULL;
	}
	pthread_mutex_lock(&svc->mu);
	old = svc->peers;
	nold = svc->npeers;
	svc->peers = np;
	svc->npeers = nn;
	pthread_mutex_unlock(&svc->mu);
	for (size_t k = 0; k < nold; k++) {
		peer__peer *p = old[k];

		if (p->removed == -1) {
			p->removed = 0;
			continue;
		}
		p->removed = 1;
		for (peer__conn *c = svc->conns; c != NULL; c = c->next)
			if (c->peer == p) {
				peer__conn_close(c, "peer removed from the configuration");
				c->peer = NULL;	/* p is freed below */
			}
		peer__peer_free(p);
	}
	free(old);
	for (size_t i = 0; i < nn; i++)
		if (np[i] != NULL)
			peer__schedule_dial(np[i], 1);
}

/* ---- wake-ups on the service thread ------------------------------------- */

static peer__job *peer__reverse(peer__job *j)
{
	peer__job *rev = NULL;

	while (j != NULL) {
		peer__job *next = j->next;

		j->next = rev;
		rev = j;
		j = next;
	}
	return rev;
}

static void peer__wakeup(peer_service *svc)
{
	peer__job *done;
	peer_addr *na = NULL;
	size_t nn = 0;
	int have_new;

	pthread_mutex_lock(&svc->qmu);
	done = svc->done;
	svc->done = NULL;
	have_new = svc->have_new;
	if (have_new) {
		na = svc->new_peers;
		nn = svc->nnew;
		svc->new_peers = NULL;
		svc->have_new = 0;
	}
	pthread_mutex_unlock(&svc->qmu);
	if (have_new) {
		peer__apply_peers(svc, na, nn);
		free(na);
	}
	if (atomic_exchange(&svc->notified, 0) && peer__refresh_vector(svc) != 0)
		atomic_store(&svc->notified, 1);	/* try again next time */
	done = peer__reverse(done);	/* in finishing order */
	while (done != NULL) {
		peer__job *j = done;

		done = j->next;
		for (peer__conn *c = svc->conns; c != NULL && j->f != NULL; c = c->next)
			if (c->id == j->conn_id) {
				peer__conn_job_done(c, j);
				break;
			}
		peer__job_free(j);
	}
	for (peer__conn *c = svc->conns; c != NULL; c = c->next)
		peer__conn_kick(c);
}

static void peer__tick(lws_sorted_usec_list_t *sul)
{
	peer_service *svc = lws_container_of(sul, peer_service, tick);

	peer__wakeup(svc);	/* a safety net: no wake-up is ever lost for long */
	peer__status_update(svc);
	if (++svc->ticks % 4 == 0)
		peer__submit_persist(svc, 0);
	lws_sul_schedule(svc->ctx, 0, &svc->tick, peer__tick, PEER__TICK_US);
}

/* ---- the lws callback ------------------------------------------------------ */

static int peer__callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	peer_service *svc = lws_context_user(lws_get_context(wsi));
	peer__conn *c = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		peer__wakeup(svc);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		if ((c = peer__conn_new(svc, 0, NULL)) == NULL)
			return -1;
		c->wsi = wsi;
		lws_set_opaque_user_data(wsi, c);
		return peer__conn_start(c);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		return c == NULL ? -1 : peer__conn_start(c);
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL)
			return -1;
		c->rx_binary |= lws_frame_is_binary(wsi);
		if (peer__conn_rx(c, in, len) != 0)
			return -1;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			return 0;
		return peer__conn_rx(c, NULL, 0);	/* the message is complete */
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return c == NULL ? -1 : peer__conn_writeable(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c != NULL && c->peer != NULL)
			peer__status_set_error(c->peer, in ? (const char *)in : "connection failed");
		/* fall through */
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c == NULL)
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		c->wsi = NULL;
		if (c->in_connect)
			c->failed = 1;	/* peer__dial frees it */
		else
			peer__conn_free(c);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- lifecycle ------------------------------------------------------------- */

/* As conf_is_loopback: 127/8, ::1, ::ffff:127/104, localhost. */
static int peer__loopback(const char *h)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (h == NULL)
		return 0;
	if (strcasecmp(h, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, h, &a6) != 1)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* The listener's address as lws wants it. lws binds `::` (every
 * interface, both families) unless IPv6 is off, and takes no host names:
 * an IPv4 address binds that address only (IPv6 off), "localhost" is
 * 127.0.0.1, an IPv6 address keeps IPv6; "" / 0.0.0.0 / :: are every
 * address. 0, or -1 for anything else (a name lws would not bind). */
static int peer__listen_iface(const char *host, const char **iface, int *v4only)
{
	struct in6_addr a6;
	struct in_addr a4;

	*iface = NULL;
	*v4only = 0;
	if (host == NULL || host[0] == '\0' || strcmp(host, "::") == 0)
		return 0;
	if (strcasecmp(host, "localhost") == 0) {
		*iface = "127.0.0.1";
		*v4only = 1;
		return 0;
	}
	if (inet_pton(AF_INET, host, &a4) == 1) {
		*iface = strcmp(host, "0.0.0.0") == 0 ? NULL : host;
		*v4only = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		*iface = host;
		return 0;
	}
	return -1;
}

static int peer__set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int peer__check_opts(const peer_opts *o, const char *node)
{
	const char *iface;
	int v4only, ntls;

	if (node == NULL || node[0] == '\0' || strlen(node) > LOG_ORIGIN_MAX) {
		msg_warnx("peers: no valid node id");
		return PEER_ECONF;
	}
	if (o->secret == NULL || strlen(o->secret) > PEER_SECRET_MAX) {
		msg_warnx("peers: peer_secret is over %d bytes", PEER_SECRET_MAX);
		return PEER_ECONF;
	}
	/* without a secret anyone who reaches the listener is a peer */
	if (o->secret[0] == '\0' && !peer__loopback(o->listen_host)) {
		msg_warnx("peers: listening on %s needs a peer_secret",
		    o->listen_host && o->listen_host[0] ? o->listen_host : "every address");
		return PEER_ECONF;
	}
	ntls = peer__set(o->tls_cert) + peer__set(o->tls_key) + peer__set(o->tls_ca);
	if (ntls != 0 && ntls != 3) {
		msg_warnx("peers: TLS needs a certificate, its key and the CA, or none");
		return PEER_ECONF;
	}
	if (peer__listen_iface(o->listen_host, &iface, &v4only) != 0) {
		msg_warnx("peers: listen address %s is not an IP address or localhost",
		    o->listen_host);
		return PEER_ECONF;
	}
	if (o->npeers > PEER_MAX || o->listen_port < 0 || o->listen_port > 65535 ||
	    (o->listen_host && strlen(o->listen_host) > PEER_HOST_MAX)) {
		msg_warnx("peers: invalid listener or too many peers");
		return PEER_ECONF;
	}
	for (size_t i = 0; i < o->npeers; i++)
		if (o->peers[i].id[0] == '\0' || strcmp(o->peers[i].id, node) == 0 ||
		    o->peers[i].port <= 0 || o->peers[i].port > 65535) {
			msg_warnx("peers: peer %zu (%s): invalid id or port", i, o->peers[i].id);
			return PEER_ECONF;
		}
	return 0;
}

static int peer__create_context(peer_service *svc, int port)
{
	struct lws_context_creation_info info;
	const char *iface;
	int v4only;

	svc->protocols[0].name = PEER_SUBPROTOCOL;
	svc->protocols[0].callback = peer__callback;
	svc->protocols[0].rx_buffer_size = 64 * 1024;
	memset(&info, 0, sizeof info);
	info.port = port;
	if (peer__listen_iface(svc->listen_host, &iface, &v4only) != 0)
		return PEER_ECONF;	/* checked in peer__check_opts */
	info.iface = iface;
	info.protocols = svc->protocols;
	info.user = svc;
	info.retry_and_idle_policy = &svc->retry;
	info.timeout_secs = 10;
	info.connect_timeout_secs = 5;
	info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS |
	    (v4only ? LWS_SERVER_OPTION_DISABLE_IPV6 : 0);
	if (svc->tls_cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		    LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
		info.ssl_cert_filepath = info.client_ssl_cert_filepath = svc->tls_cert;
		info.ssl_private_key_filepath = svc->tls_key;
		info.client_ssl_private_key_filepath = svc->tls_key;
		info.ssl_ca_filepath = info.client_ssl_ca_filepath = svc->tls_ca;
	}
	info.pt_serv_buf_size = 64 * 1024;
	if ((svc->ctx = lws_create_context(&info)) == NULL ||
	    (svc->vhost = lws_get_vhost_by_name(svc->ctx, "default")) == NULL) {
		msg_warnx("peers: cannot listen on %s:%d", svc->listen_host, port);
		return PEER_ECONF;
	}
	svc->port = lws_get_vhost_listen_port(svc->vhost);
	return 0;
}

int peer_service_create(log_store *s, proj *p, const peer_opts *o, peer_service **out)
{
	const char *node = o->node ? o->node : log_store_origin(s);
	peer_service *svc = NULL;
	int rc;

	*out = NULL;
	if ((rc = peer__check_opts(o, node)) != 0)
		return rc;
	if ((svc = calloc(1, sizeof *svc)) == NULL)
		return ENOMEM;
	svc->store = s;
	svc->proj = p;
	snprintf(svc->node, sizeof svc->node, "%s", node);
	snprintf(svc->secret, sizeof svc->secret, "%s", o->secret);
	snprintf(svc->listen_host, sizeof svc->listen_host, "%s", o->listen_host ? o->listen_host : "");
	pthread_mutex_init(&svc->mu, NULL);
	pthread_mutex_init(&svc->qmu, NULL);
	pthread_cond_init(&svc->qcond, NULL);
	if (peer__set(o->tls_cert) && ((svc->tls_cert = strdup(o->tls_cert)) == NULL ||
	    (svc->tls_key = strdup(o->tls_key)) == NULL ||
	    (svc->tls_ca = strdup(o->tls_ca)) == NULL)) {
		rc = ENOMEM;
		goto err;
	}
	/* backoff 0.5 s .. 30 s, +30 % jitter; ping after ping_s idle */
	static const uint32_t steps[6] = { 500, 1000, 2000, 5000, 10000, 30000 };
	memcpy(svc->retry_ms, steps, sizeof steps);
	svc->retry.retry_ms_table = svc->retry_ms;
	svc->retry.retry_ms_table_count = 6;
	svc->retry.conceal_count = UINT16_MAX;
	svc->retry.secs_since_valid_ping = (uint16_t)(o->ping_s ? o->ping_s : 2);
	svc->retry.secs_since_valid_hangup = (uint16_t)(o->hangup_s ? o->hangup_s : 6);
	svc->retry.jitter_percent = 30;
	if ((rc = log_store_dbi(s, "peers", MDB_CREATE, &svc->dbi)) != 0) {
		msg_warnx("peers: cannot open the peers table: %s", log_strerror(rc));
		goto err;
	}
	if ((svc->peers = calloc(o->npeers ? o->npeers : 1, sizeof *svc->peers)) == NULL) {
		rc = ENOMEM;
		goto err;
	}
	for (size_t i = 0; i < o->npeers; i++, svc->npeers++)
		if ((svc->peers[i] = peer__peer_new(svc, &o->peers[i])) == NULL) {
			rc = ENOMEM;
			goto err;
		}
	if ((rc = peer__load_progress(svc)) != 0 ||
	    (rc = peer__refresh_vector(svc)) != 0 ||
	    (rc = peer__create_context(svc, o->listen_port)) != 0)
		goto err;
	*out = svc;
	return 0;
err:
	peer_service_destroy(svc);
	return rc;
}

static void *peer__thread(void *arg)
{
	peer_service *svc = arg;

	for (size_t i = 0; i < svc->npeers; i++)
		peer__schedule_dial(svc->peers[i], 1);
	/* what was handed over before the thread ran (a cancel sent before the
	 * first lws_service may be drained unseen) */
	peer__wakeup(svc);
	lws_sul_schedule(svc->ctx, 0, &svc->tick, peer__tick, PEER__TICK_US);
	while (!atomic_load(&svc->stop))
		if (lws_service(svc->ctx, 0) < 0)
			break;
	/* last status and progress while the connections still exist */
	peer__status_update(svc);
	return NULL;
}

int peer_service_start(peer_service *svc, log_writer *w)
{
	int rc;

	svc->writer = w;
	atomic_store(&svc->notified, 1);	/* commits since create went unseen */
	if ((rc = pthread_create(&svc->thread, NULL, peer__thread, svc)) != 0)
		return rc;
	svc->started = 1;
	return 0;
}

void peer_service_stop(peer_service *svc)
{
	struct lws_context *ctx;

	if (svc == NULL || svc->ctx == NULL)
		return;
	atomic_store(&svc->stop, 1);
	lws_cancel_service(svc->ctx);
	if (svc->started)
		pthread_join(svc->thread, NULL);
	svc->started = 0;
	/* destroying the context closes every connection (their callbacks run
	 * here, on this thread, now that the service thread is gone) */
	pthread_mutex_lock(&svc->qmu);
	ctx = svc->ctx;
	svc->ctx = NULL;
	pthread_mutex_unlock(&svc->qmu);
	lws_context_destroy(ctx);
	if (svc->writer != NULL)
		peer__submit_persist(svc, 1);
	pthread_mutex_lock(&svc->qmu);
	while (svc->jobs > 0)
		pthread_cond_wait(&svc->qcond, &svc->qmu);
	pthread_mutex_unlock(&svc->qmu);
}

void peer_service_destroy(peer_service *svc)
{
	if (svc == NULL)
		return;
	peer_service_stop(svc);
	while (svc->done != NULL) {
		peer__job *j = svc->done;

		svc->done = j->next;
		peer__job_free(j);
	}
	while (svc->conns != NULL)	/* left by a context that never ran */
		peer__conn_free(svc->conns);
	for (size_t i = 0; i < svc->npeers; i++)
		if (svc->peers[i] != NULL) {
			free(svc->peers[i]->st.vector);
			free(svc->peers[i]);
		}
	free(svc->peers);
	free(svc->new_peers);
	free(svc->mine);
	free(svc->mine_no);
	pthread_mutex_destroy(&svc->mu);
	pthread_mutex_destroy(&svc->qmu);
	free(svc->tls_cert);
	free(svc->tls_key);
	free(svc->tls_ca);
	pthread_cond_destroy(&svc->qcond);
	free(svc);
}

int peer_service_port(const peer_service *svc)
{
	return svc->port;
}

void peer_service_notify(peer_service *svc)
{
	atomic_store(&svc->notified, 1);
	pthread_mutex_lock(&svc->qmu);
	if (svc->ctx != NULL)
		lws_cancel_service(svc->ctx);
	pthread_mutex_unlock(&svc->qmu);
}

void peer_service_on_commit(void *arg, const log_commit_info *ci)
{
	peer_service *svc = arg;

	(void)ci;
	/* Without a connection there is nobody to push to: leave the flag
	 * for the next connection's hello (peer__conn_start refreshes the
	 * vector then) rather than wake the service thread for every
	 * commit of a standalone central. */
	if (atomic_load(&svc->nconns) == 0) {
		atomic_store(&svc->notified, 1);
		return;
	}
	peer_service_notify(svc);
}

int peer_service_set_peers(peer_service *svc, const peer_addr *peers, size_t n)
{
	peer_addr *copy;

	if (n > PEER_MAX)
		return PEER_ECONF;
	for (size_t i = 0; i < n; i++)
		if (peers[i].id[0] == '\0' || strcmp(peers[i].id, svc->node) == 0 ||
		    peers[i].port <= 0 || peers[i].port > 65535)
			return PEER_ECONF;
	if ((copy = calloc(n ? n : 1, sizeof *copy)) == NULL)
		return ENOMEM;
	memcpy(copy, peers, n * sizeof *copy);
	pthread_mutex_lock(&svc->qmu);
	free(svc->new_peers);
	svc->new_peers = copy;
	svc->nnew = n;
	svc->have_new = 1;
	if (svc->ctx != NULL)
		lws_cancel_service(svc->ctx);
	pthread_mutex_unlock(&svc->qmu);
	return 0;
}

/* Route libwebsockets' own messages to ours (process-wide: main calls it). */
static void peer__lws_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & (LLL_ERR | LLL_WARN))
		msg_warnx("lws: %.*s", (int)n, line);
	else
		msg_debug("lws: %.*s", (int)n, line);
}

void peer_lws_messages(int verbose)
{
	lws_set_log_level(LLL_ERR | LLL_WARN | (verbose ? LLL_NOTICE : 0), peer__lws_emit);
}
