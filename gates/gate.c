/* gates/gate.c — the gate channel's service (see gate.h): lws context and
 * thread, connections, the command queue handed over from other threads,
 * acknowledgements and their deadlines, and the per-edge status. */
#include "gates/gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>

#include <libwebsockets.h>

#include "msg/msg.h"

#define GATE__TICK_US	(100 * 1000)	/* deadline checks */
#define GATE__OUT_MAX	64		/* messages queued per connection */
#define GATE__WAIT_MAX	64		/* commands awaiting an ack, per gate */
#define GATE__KNOWN_MAX	1024		/* edges with a status (open mode takes
					   any edge id: keep it bounded) */

/* A command handed over to the service thread. */
typedef struct gate__cmd {
	char edge_id[LOG_ORIGIN_MAX + 1];
	char cmd[8];
	char event_id[LOG_ID_MAX + 1];
	char plate[LOG_PLATE_MAX + 1];
	gate_done_fn done;
	void *arg;
	int64_t sent_ms, deadline_ms;
	struct gate__cmd *next;
} gate__cmd;

typedef struct gate__conn {
	struct lws *wsi;
	char edge_id[LOG_ORIGIN_MAX + 1];
	int authed;
	int closing;			/* replaced or refused: close when writable */
	int64_t opened_ms;
	char rx[GATE_FRAME_MAX];
	size_t nrx;
	int rx_over;
	char *out[GATE__OUT_MAX];	/* messages, each with LWS_PRE before */
	size_t outlen[GATE__OUT_MAX];
	size_t nout;
	gate__cmd *wait;		/* sent, awaiting their ack */
	size_t nwait;
	struct gate__conn *next;
} gate__conn;

/* One edge's status entry. */
typedef struct gate__known {
	char edge_id[LOG_ORIGIN_MAX + 1];
	gate_status st;
} gate__known;

struct gate_service {
	gate_opts o;
	char host[64];
	struct lws_context *ctx;
	struct lws_protocols protocols[2];
	lws_sorted_usec_list_t tick;
	pthread_t thread;
	int started;
	atomic_int stop;
	int port;
	pthread_mutex_t mu;		/* the queue, the status table, closed */
	gate__cmd *qhead, **qtail;
	int closed;			/* no more commands */
	gate__known *known;
	size_t nknown, capknown;
	gate__conn *conns;		/* service thread only */
};

const char *gate_strerror(int err)
{
	if (err == GATE_ECONF)
		return "gate channel: invalid options or cannot listen";
	if (err == GATE_ESTOPPED)
		return "gate channel: stopping";
	if (err == GATE_EOFFLINE)
		return "gate offline";
	return strerror(err);
}

static int64_t gate__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- status (under mu) ---------------------------------------------------- */

static gate_status *gate__known_get(gate_service *g, const char *edge_id)
{
	for (size_t i = 0; i < g->nknown; i++)
		if (strcmp(g->known[i].edge_id, edge_id) == 0)
			return &g->known[i].st;
	msg_assert(g->nknown <= GATE__KNOWN_MAX && g->nknown <= g->capknown);
	if (g->nknown == GATE__KNOWN_MAX)
		return NULL;
	if (g->nknown == g->capknown) {
		size_t cap = g->capknown ? g->capknown * 2 : 16;
		gate__known *k = realloc(g->known, cap * sizeof *k);

		if (k == NULL)
			return NULL;
		g->known = k;
		g->capknown = cap;
	}
	memset(&g->known[g->nknown], 0, sizeof g->known[g->nknown]);
	snprintf(g->known[g->nknown].edge_id, sizeof g->known[0].edge_id, "%s", edge_id);
	return &g->known[g->nknown++].st;
}

static void gate__status_conn(gate_service *g, const char *edge_id, int connected)
{
	gate_status *st;

	pthread_mutex_lock(&g->mu);
	if ((st = gate__known_get(g, edge_id)) != NULL) {
		st->connected = connected;
		st->since_ms = gate__now_ms();
	}
	pthread_mutex_unlock(&g->mu);
	if (g->o.on_change != NULL)
		g->o.on_change(g->o.change_ctx, edge_id, connected);
}

static void gate__status_cmd(gate_service *g, const gate__cmd *c, int waiting,
    const gate_result *res)
{
	gate_status *st;

	pthread_mutex_lock(&g->mu);
	/* a finished command does not hide a newer one still waiting */
	if ((st = gate__known_get(g, c->edge_id)) != NULL &&
	    (waiting || !st->last_waiting || strcmp(st->last_event, c->event_id) == 0)) {
		snprintf(st->last_cmd, sizeof st->last_cmd, "%s", c->cmd);
		snprintf(st->last_event, sizeof st->last_event, "%s", c->event_id);
		st->last_at_ms = c->sent_ms;
		st->last_waiting = waiting;
		if (res != NULL)
			st->last = *res;
		else
			memset(&st->last, 0, sizeof st->last);
	}
	pthread_mutex_unlock(&g->mu);
}

int gate_status_get(gate_service *g, const char *edge_id, gate_status *out)
{
	int rc = ENOENT;

	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < g->nknown; i++)
		if (strcmp(g->known[i].edge_id, edge_id) == 0) {
			*out = g->known[i].st;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

/* ---- answering commands ---------------------------------------------------- */

/* Answer c (and free it): acked with ok, or not acked for `reason`. */
static void gate__finish(gate_service *g, gate__cmd *c, int sent, int acked, int ok,
    const char *reason)
{
	gate_result res = { .sent = sent, .acked = acked, .ok = ok };

	msg_assert(c->done != NULL);	/* answered exactly once, then freed */
	if (sent)
		res.ms = (unsigned)(gate__now_ms() - c->sent_ms);
	snprintf(res.reason, sizeof res.reason, "%.*s", GATE_REASON_MAX - 1, ok ? "" : reason);
	gate__status_cmd(g, c, 0, &res);
	c->done(c->arg, &res);
	free(c);
}

static void gate__fail_waiting(gate_service *g, gate__conn *cn, const char *reason)
{
	size_t n = 0;

	while (cn->wait != NULL) {
		gate__cmd *c = cn->wait;

		cn->wait = c->next;
		gate__finish(g, c, 1, 0, 0, reason);
		n++;
	}
	msg_assert(n == cn->nwait);	/* the list and its count agree */
	cn->nwait = 0;
}

/* ---- connections (service thread) ----------------------------------------- */

static gate__conn *gate__conn_of(gate_service *g, const char *edge_id)
{
	for (gate__conn *cn = g->conns; cn != NULL; cn = cn->next)
		if (cn->authed && !cn->closing && strcmp(cn->edge_id, edge_id) == 0)
			return cn;
	return NULL;
}

static int gate__queue_out(gate__conn *cn, const char *msg, int len)
{
	char *b;

	if (len < 0 || cn->nout == GATE__OUT_MAX || (b = malloc(LWS_PRE + (size_t)len)) == NULL)
		return -1;
	memcpy(b + LWS_PRE, msg, (size_t)len);
	cn->out[cn->nout] = b;
	cn->outlen[cn->nout++] = (size_t)len;
	msg_assert(cn->nout <= GATE__OUT_MAX);
	lws_callback_on_writable(cn->wsi);
	return 0;
}

static void gate__conn_free(gate_service *g, gate__conn *cn)
{
	gate__conn **pp = &g->conns;

	while (*pp != NULL && *pp != cn)
		pp = &(*pp)->next;
	if (*pp == cn)
		*pp = cn->next;
	gate__fail_waiting(g, cn, "gate disconnected");
	if (cn->authed && !cn->closing && gate__conn_of(g, cn->edge_id) == NULL)
		gate__status_conn(g, cn->edge_id, 0);
	if (cn->authed)
		msg_info("gate %s disconnected", cn->edge_id);
	for (size_t i = 0; i < cn->nout; i++)
		free(cn->out[i]);
	free(cn);
}

/* A command taken from the queue: send it to its gate, or answer it. */
static void gate__dispatch(gate_service *g, gate__cmd *c)
{
	gate__conn *cn = gate__conn_of(g, c->edge_id);
	char msg[GATE_FRAME_MAX];
	int n;

	c->next = NULL;
	c->sent_ms = gate__now_ms();
	if (cn == NULL) {
		gate__finish(g, c, 0, 0, 0, "gate offline");
		return;
	}
	n = gate_frame_command(msg, sizeof msg, c->cmd, c->event_id, c->plate);
	if (cn->nwait == GATE__WAIT_MAX || gate__queue_out(cn, msg, n) != 0) {
		gate__finish(g, c, 0, 0, 0, "gate busy");
		return;
	}
	c->deadline_ms = c->sent_ms + g->o.ack_timeout_ms;
	c->next = cn->wait;
	cn->wait = c;
	cn->nwait++;
	msg_assert(cn->nwait <= GATE__WAIT_MAX);
	gate__status_cmd(g, c, 1, NULL);
}

/* Detach the commands handed over so far. */
static gate__cmd *gate__take_queue(gate_service *g)
{
	gate__cmd *c;

	pthread_mutex_lock(&g->mu);
	c = g->qhead;
	g->qhead = NULL;
	g->qtail = &g->qhead;
	pthread_mutex_unlock(&g->mu);
	return c;
}

static void gate__drain_queue(gate_service *g)
{
	gate__cmd *c = gate__take_queue(g);

	while (c != NULL) {
		gate__cmd *next = c->next;

		gate__dispatch(g, c);
		c = next;
	}
}

/* The hello: who it is. A refused gate is closed. */
static int gate__on_hello(gate_service *g, gate__conn *cn, const gate_frame *f)
{
	char msg[256];
	gate__conn *old;

	if (g->o.auth(g->o.auth_ctx, f->edge_id, f->token) != 0) {
		msg_warnx("gate %s: refused (unknown edge or wrong token)", f->edge_id);
		return -1;
	}
	if ((old = gate__conn_of(g, f->edge_id)) != NULL) {
		old->closing = 1;	/* the newer connection wins */
		gate__fail_waiting(g, old, "gate reconnected");
		lws_callback_on_writable(old->wsi);
	}
	snprintf(cn->edge_id, sizeof cn->edge_id, "%s", f->edge_id);
	cn->authed = 1;
	gate__status_conn(g, cn->edge_id, 1);
	msg_info("gate %s connected", cn->edge_id);
	return gate__queue_out(cn, msg, gate_frame_welcome(msg, sizeof msg, cn->edge_id));
}

static void gate__on_ack(gate_service *g, gate__conn *cn, const gate_frame *f)
{
	gate__cmd **pp = &cn->wait;

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->event_id, f->event_id) == 0) {
			gate__cmd *c = *pp;

			*pp = c->next;
			msg_assert(cn->nwait > 0);
			cn->nwait--;
			gate__finish(g, c, 1, 1, f->ok, f->error[0] ? f->error : "refused by the gate");
			return;
		}
	msg_debug("gate %s: ack for %s, which waits no more", cn->edge_id, f->event_id);
}

/* A whole message: -1 closes the connection. */
static int gate__on_message(gate_service *g, gate__conn *cn)
{
	char err[160];
	gate_frame f;

	if (cn->rx_over || gate_frame_parse(cn->rx, cn->nrx, &f, err, sizeof err) != 0) {
		msg_warnx("gate %s: bad message: %s", cn->authed ? cn->edge_id : "(no hello)",
		    cn->rx_over ? "too long" : err);
		return -1;
	}
	cn->nrx = 0;
	if (!cn->authed)
		return f.type == GATE_F_HELLO ? gate__on_hello(g, cn, &f) : -1;
	if (f.type != GATE_F_ACK)
		return -1;		/* a second hello */
	gate__on_ack(g, cn, &f);
	return 0;
}

static int gate__on_writeable(gate__conn *cn)
{
	msg_assert(cn->nout <= GATE__OUT_MAX);
	if (cn->nout == 0)
		return cn->closing ? -1 : 0;
	if (lws_write(cn->wsi, (unsigned char *)cn->out[0] + LWS_PRE, cn->outlen[0],
	    LWS_WRITE_TEXT) < (int)cn->outlen[0])
		return -1;
	free(cn->out[0]);
	memmove(cn->out, cn->out + 1, (cn->nout - 1) * sizeof cn->out[0]);
	memmove(cn->outlen, cn->outlen + 1, (cn->nout - 1) * sizeof cn->outlen[0]);
	if (--cn->nout > 0 || cn->closing)
		lws_callback_on_writable(cn->wsi);
	return 0;
}

/* Deadlines: acks that did not come, hellos that did not come. */
static void gate__tick(lws_sorted_usec_list_t *sul)
{
	gate_service *g = lws_container_of(sul, gate_service, tick);
	int64_t now = gate__now_ms();

	for (gate__conn *cn = g->conns; cn != NULL; cn = cn->next) {
		gate__cmd **pp = &cn->wait;

		while (*pp != NULL) {
			gate__cmd *c = *pp;

			if (c->deadline_ms > now) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			msg_assert(cn->nwait > 0);
			cn->nwait--;
			gate__finish(g, c, 1, 0, 0, "timeout");
		}
		if (!cn->authed && !cn->closing && now - cn->opened_ms > g->o.hello_timeout_ms) {
			cn->closing = 1;
			lws_callback_on_writable(cn->wsi);
		}
	}
	gate__drain_queue(g);	/* a safety net: no wake-up is lost for long */
	lws_sul_schedule(g->ctx, 0, &g->tick, gate__tick, GATE__TICK_US);
}

static int gate__callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	gate_service *g = lws_context_user(lws_get_context(wsi));
	gate__conn *cn = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		gate__drain_queue(g);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		if ((cn = calloc(1, sizeof *cn)) == NULL)
			return -1;
		cn->wsi = wsi;
		cn->opened_ms = gate__now_ms();
		cn->next = g->conns;
		g->conns = cn;
		lws_set_opaque_user_data(wsi, cn);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (cn == NULL || cn->closing)
			return -1;
		msg_assert(cn->nrx <= sizeof cn->rx);
		if (cn->nrx + len > sizeof cn->rx)
			cn->rx_over = 1;
		else
			memcpy(cn->rx + cn->nrx, in, len), cn->nrx += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			return 0;
		return gate__on_message(g, cn);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return cn == NULL ? -1 : gate__on_writeable(cn);
	case LWS_CALLBACK_CLOSED:
		if (cn != NULL) {
			lws_set_opaque_user_data(wsi, NULL);
			gate__conn_free(g, cn);
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- lifecycle ------------------------------------------------------------- */

/* Where lws listens. Debian's lws has IPv6: with an IPv4 iface and without
 * LWS_SERVER_OPTION_DISABLE_IPV6 it binds "::", every interface (see
 * LIBRARY-NOTES.md). So an IPv4 address (and "localhost", taken as
 * 127.0.0.1) listens on IPv4 only; an IPv6 address keeps IPv6; "0.0.0.0"
 * is every IPv4 address, "::" every address. Anything else (a host name)
 * is refused: resolving it could bind beyond what was configured. */
static int gate__listen_addr(char *host, size_t cap,
    struct lws_context_creation_info *info)
{
	unsigned char a[16];
	static const unsigned char any[16];

	if (strcasecmp(host, "localhost") == 0)
		snprintf(host, cap, "127.0.0.1");
	if (inet_pton(AF_INET, host, a) == 1) {
		info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
		info->iface = memcmp(a, any, 4) == 0 ? NULL : host;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a) == 1) {
		info->iface = memcmp(a, any, 16) == 0 ? NULL : host;
		return 0;
	}
	return -1;
}

int gate_service_create(const gate_opts *o, gate_service **out)
{
	struct lws_context_creation_info info;
	gate_service *g;

	*out = NULL;
	if (o->auth == NULL || o->listen_port < 0 || o->listen_port > 65535 ||
	    (o->listen_host != NULL && strlen(o->listen_host) >= 64))
		return GATE_ECONF;
	if ((g = calloc(1, sizeof *g)) == NULL)
		return ENOMEM;
	g->o = *o;
	snprintf(g->host, sizeof g->host, "%s",
	    o->listen_host && o->listen_host[0] ? o->listen_host : "127.0.0.1");
	g->o.listen_host = g->host;
	if (g->o.ack_timeout_ms == 0)
		g->o.ack_timeout_ms = 2000;
	if (g->o.hello_timeout_ms == 0)
		g->o.hello_timeout_ms = 5000;
	pthread_mutex_init(&g->mu, NULL);
	g->qtail = &g->qhead;
	g->protocols[0].name = GATE_SUBPROTOCOL;
	g->protocols[0].callback = gate__callback;
	g->protocols[0].rx_buffer_size = GATE_FRAME_MAX;
	memset(&info, 0, sizeof info);
	info.port = o->listen_port;
	info.protocols = g->protocols;
	info.user = g;
	info.timeout_secs = 10;
	info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	if (gate__listen_addr(g->host, sizeof g->host, &info) != 0) {
		msg_warnx("gates: %s: not a numeric address nor \"localhost\"", g->host);
		gate_service_destroy(g);
		return GATE_ECONF;
	}
	if ((g->ctx = lws_create_context(&info)) == NULL) {
		msg_warnx("gates: cannot listen on %s%s%s:%d (address in use, or not "
		    "one of this machine's)", strchr(g->host, ':') ? "[" : "", g->host,
		    strchr(g->host, ':') ? "]" : "", o->listen_port);
		gate_service_destroy(g);
		return GATE_ECONF;
	}
	g->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(g->ctx, "default"));
	*out = g;
	return 0;
}

static void *gate__thread(void *arg)
{
	gate_service *g = arg;

	lws_sul_schedule(g->ctx, 0, &g->tick, gate__tick, GATE__TICK_US);
	gate__drain_queue(g);
	while (!atomic_load(&g->stop))
		if (lws_service(g->ctx, 0) < 0)
			break;
	return NULL;
}

int gate_service_start(gate_service *g)
{
	int rc = pthread_create(&g->thread, NULL, gate__thread, g);

	if (rc == 0)
		g->started = 1;
	return rc;
}

int gate_service_port(const gate_service *g)
{
	return g->port;
}

int gate_command(gate_service *g, const char *edge_id, const char *cmd,
    const char *event_id, const char *plate, gate_done_fn done, void *arg)
{
	gate_status *st;
	gate__cmd *c;

	if (done == NULL || strlen(edge_id) == 0 || strlen(edge_id) > LOG_ORIGIN_MAX ||
	    (strcmp(cmd, "open") != 0 && strcmp(cmd, "close") != 0) ||
	    strlen(event_id) == 0 || strlen(event_id) > LOG_ID_MAX ||
	    strlen(plate) == 0 || strlen(plate) > LOG_PLATE_MAX)
		return EINVAL;
	pthread_mutex_lock(&g->mu);
	if (g->closed) {
		pthread_mutex_unlock(&g->mu);
		return GATE_ESTOPPED;
	}
	/* Offline is the common answer where no gate is linked: decided
	 * under the lock, before anything is allocated. */
	if ((st = gate__known_get(g, edge_id)) == NULL || !st->connected) {
		if (st != NULL) {	/* what /api/cameras shows */
			snprintf(st->last_cmd, sizeof st->last_cmd, "%s", cmd);
			snprintf(st->last_event, sizeof st->last_event, "%s", event_id);
			st->last_at_ms = gate__now_ms();
			st->last_waiting = 0;
			memset(&st->last, 0, sizeof st->last);
			snprintf(st->last.reason, sizeof st->last.reason, "gate offline");
		}
		pthread_mutex_unlock(&g->mu);
		return GATE_EOFFLINE;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		pthread_mutex_unlock(&g->mu);
		return ENOMEM;
	}
	snprintf(c->edge_id, sizeof c->edge_id, "%s", edge_id);
	snprintf(c->cmd, sizeof c->cmd, "%s", cmd);
	snprintf(c->event_id, sizeof c->event_id, "%s", event_id);
	snprintf(c->plate, sizeof c->plate, "%s", plate);
	c->done = done;
	c->arg = arg;
	*g->qtail = c;
	g->qtail = &c->next;
	pthread_mutex_unlock(&g->mu);
	lws_cancel_service(g->ctx);
	return 0;
}

void gate_service_stop(gate_service *g)
{
	gate__cmd *c;

	if (g == NULL || g->ctx == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->closed = 1;
	pthread_mutex_unlock(&g->mu);
	atomic_store(&g->stop, 1);
	lws_cancel_service(g->ctx);
	if (g->started)
		pthread_join(g->thread, NULL);
	g->started = 0;
	/* closing the connections answers what they wait for (their CLOSED
	 * callbacks run here, now that the service thread is gone) */
	lws_context_destroy(g->ctx);
	g->ctx = NULL;
	for (c = gate__take_queue(g); c != NULL;) {
		gate__cmd *next = c->next;

		c->sent_ms = gate__now_ms();
		gate__finish(g, c, 0, 0, 0, "shutting down");
		c = next;
	}
}

void gate_service_destroy(gate_service *g)
{
	if (g == NULL)
		return;
	gate_service_stop(g);
	if (g->ctx != NULL)
		lws_context_destroy(g->ctx);
	pthread_mutex_destroy(&g->mu);
	free(g->known);
	free(g);
}
