/* edge_gate.c — the gate's end of the gate channel (see edge_gate.h). */
#include "tools/parklog-edge/edge_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <libwebsockets.h>

#include "msg/msg.h"
#include "tools/parklog-edge/edge_dedup.h"

#define EDGE__SUBPROTOCOL	"parklog-gate"	/* gates/frame.h */
#define EDGE__MSG_MAX		4096
#define EDGE__QMAX		32		/* commands waiting; acks to send */
#define EDGE__RETRY_US		(1000 * 1000)
#define EDGE__EXPECT_MS		10000

struct edge_gate {
	const edge_conf *cf;
	struct lws_context *ctx;
	struct lws_protocols protocols[2];
	struct lws *wsi;			/* channel thread only */
	lws_sorted_usec_list_t sul;		/* (re)connect */
	pthread_t th;
	atomic_int stop;
	size_t cur;				/* central in use */
	int notify[2];				/* pipe: commands wait */
	char rx[EDGE__MSG_MAX];
	size_t nrx;
	int rx_over;
	pthread_mutex_t mu;			/* everything below */
	int welcomed;
	edge_gate_cmd in[EDGE__QMAX];
	size_t nin;
	char out[EDGE__QMAX][LWS_PRE + 512];
	size_t outlen[EDGE__QMAX], nout;
	char expect_cmd[8], expect_plate[EDGE_PLATE_MAX + 1];
	int64_t expect_until;
};

static int64_t edge__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queue a message for the central (under mu). */
static void edge__queue(edge_gate *g, const char *msg)
{
	size_t n = strlen(msg);

	if (g->nout == EDGE__QMAX || n > sizeof g->out[0] - LWS_PRE) {
		msg_warnx("gate channel: message dropped (queue full)");
		return;
	}
	memcpy(g->out[g->nout] + LWS_PRE, msg, n);
	g->outlen[g->nout++] = n;
	msg_assert(g->nout <= EDGE__QMAX);
}

static void edge__ack_json(edge_gate *g, const char *event_id, int ok, const char *error)
{
	cJSON *o = cJSON_CreateObject();
	char *t;

	cJSON_AddStringToObject(o, "type", "ack");
	cJSON_AddStringToObject(o, "event_id", event_id);
	cJSON_AddBoolToObject(o, "ok", ok);
	if (!ok && error != NULL)
		cJSON_AddStringToObject(o, "error", error);
	if ((t = cJSON_PrintUnformatted(o)) != NULL)
		edge__queue(g, t);
	free(t);
	cJSON_Delete(o);
}

/* Who this gate is: the first message (under mu). */
static void edge__hello(edge_gate *g)
{
	cJSON *o = cJSON_CreateObject();
	char *t;

	cJSON_AddStringToObject(o, "type", "hello");
	cJSON_AddStringToObject(o, "edge_id", g->cf->id);
	cJSON_AddStringToObject(o, "token", g->cf->token);
	if ((t = cJSON_PrintUnformatted(o)) != NULL)
		edge__queue(g, t);
	free(t);
	cJSON_Delete(o);
}

/* ---- the channel thread ------------------------------------------------- */

static void edge__connect(lws_sorted_usec_list_t *sul)
{
	edge_gate *g = lws_container_of(sul, edge_gate, sul);
	struct lws_client_connect_info i;
	const edge_url *u = &g->cf->central[g->cur];

	memset(&i, 0, sizeof i);
	i.context = g->ctx;
	i.address = u->host;
	i.port = g->cf->gate_port;
	i.path = "/";
	i.host = u->host;
	i.origin = u->host;
	i.protocol = EDGE__SUBPROTOCOL;
	i.local_protocol_name = EDGE__SUBPROTOCOL;
	i.pwsi = &g->wsi;
	if (lws_client_connect_via_info(&i) == NULL) {
		g->wsi = NULL;
		lws_sul_schedule(g->ctx, 0, &g->sul, edge__connect, EDGE__RETRY_US);
	}
}

/* After a failure: the next central in failover order, a second later. */
static void edge__retry(edge_gate *g)
{
	pthread_mutex_lock(&g->mu);
	if (g->welcomed)
		msg_info("gate channel: disconnected from %s", g->cf->central[g->cur].host);
	g->welcomed = 0;
	g->nout = 0;		/* acks of a dead connection mean nothing */
	pthread_mutex_unlock(&g->mu);
	g->wsi = NULL;
	g->cur = (g->cur + 1) % g->cf->ncentral;
	if (!atomic_load(&g->stop))
		lws_sul_schedule(g->ctx, 0, &g->sul, edge__connect, EDGE__RETRY_US);
}

/* A command from the central: the expected one is acked at once, the
 * others go to the agent. */
static void edge__on_command(edge_gate *g, const char *cmd, const char *id,
    const char *plate)
{
	char b = 1;

	pthread_mutex_lock(&g->mu);
	if (strcmp(g->expect_cmd, cmd) == 0 && strcmp(g->expect_plate, plate) == 0 &&
	    edge__now() < g->expect_until) {
		g->expect_cmd[0] = '\0';
		edge__ack_json(g, id, 1, NULL);
		pthread_mutex_unlock(&g->mu);
		return;
	}
	if (g->nin == EDGE__QMAX) {
		edge__ack_json(g, id, 0, "gate busy");
	} else {
		snprintf(g->in[g->nin].cmd, sizeof g->in[0].cmd, "%s", cmd);
		snprintf(g->in[g->nin].event_id, sizeof g->in[0].event_id, "%s", id);
		snprintf(g->in[g->nin].plate, sizeof g->in[0].plate, "%s", plate);
		g->nin++;
		msg_assert(g->nin <= EDGE__QMAX);
	}
	pthread_mutex_unlock(&g->mu);
	if (write(g->notify[1], &b, 1) < 0 && errno != EAGAIN)
		msg_warn("gate channel: notify");
}

/* One message from the central: -1 closes the connection. */
static int edge__on_message(edge_gate *g)
{
	cJSON *o = cJSON_ParseWithLength(g->rx, g->nrx);
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "event_id"));
	const char *plate = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "plate"));
	int rc = 0;

	g->nrx = 0;
	if (type != NULL && strcmp(type, "welcome") == 0) {
		pthread_mutex_lock(&g->mu);
		g->welcomed = 1;
		pthread_mutex_unlock(&g->mu);
		msg_info("gate channel: connected to %s:%d", g->cf->central[g->cur].host,
		    g->cf->gate_port);
	} else if (type != NULL && (strcmp(type, "open") == 0 || strcmp(type, "close") == 0) &&
	    id != NULL && plate != NULL && strlen(id) < sizeof g->in[0].event_id &&
	    strlen(plate) <= EDGE_PLATE_MAX) {
		edge__on_command(g, type, id, plate);
	} else {
		msg_warnx("gate channel: unexpected message from the central");
		rc = -1;
	}
	cJSON_Delete(o);
	return rc;
}

static int edge__writeable(edge_gate *g, struct lws *wsi)
{
	char msg[LWS_PRE + 512];
	size_t n = 0;

	pthread_mutex_lock(&g->mu);
	msg_assert(g->nout <= EDGE__QMAX);
	if (g->nout > 0) {
		n = g->outlen[0];
		msg_assert(n <= sizeof g->out[0] - LWS_PRE);
		memcpy(msg, g->out[0], LWS_PRE + n);
		memmove(g->out[0], g->out[1], (g->nout - 1) * sizeof g->out[0]);
		memmove(g->outlen, g->outlen + 1, (g->nout - 1) * sizeof g->outlen[0]);
		g->nout--;
	}
	if (g->nout > 0)
		lws_callback_on_writable(wsi);
	pthread_mutex_unlock(&g->mu);
	if (n > 0 && lws_write(wsi, (unsigned char *)msg + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	return 0;
}

static int edge__callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	edge_gate *g = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (g->wsi != NULL)
			lws_callback_on_writable(g->wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		pthread_mutex_lock(&g->mu);
		g->nout = 0;
		edge__hello(g);
		pthread_mutex_unlock(&g->mu);
		g->nrx = 0;
		g->rx_over = 0;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (g->nrx + len > sizeof g->rx)
			g->rx_over = 1;
		else
			memcpy(g->rx + g->nrx, in, len), g->nrx += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			return 0;
		if (g->rx_over || edge__on_message(g) != 0)
			return -1;
		lws_callback_on_writable(wsi);	/* an ack may be queued */
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return edge__writeable(g, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (wsi == g->wsi || g->wsi == NULL)
			edge__retry(g);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static void *edge__thread(void *arg)
{
	edge_gate *g = arg;

	lws_sul_schedule(g->ctx, 0, &g->sul, edge__connect, 1);
	while (!atomic_load(&g->stop))
		if (lws_service(g->ctx, 0) < 0)
			break;
	return NULL;
}

/* ---- the agent's side ----------------------------------------------------- */

/* libwebsockets' own messages, through ours (warnings and errors only). */
static void edge__lws_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & (LLL_ERR | LLL_WARN))
		msg_warnx("lws: %.*s", (int)n, line);
}

int edge_gate_start(const edge_conf *cf, edge_gate **out)
{
	struct lws_context_creation_info info;
	edge_gate *g;

	*out = NULL;
	if (cf->gate_port == 0)
		return 0;
	if ((g = calloc(1, sizeof *g)) == NULL)
		return msg_warnx("gate channel: out of memory"), -1;
	g->cf = cf;
	g->notify[0] = g->notify[1] = -1;
	pthread_mutex_init(&g->mu, NULL);
	if (pipe2(g->notify, O_NONBLOCK | O_CLOEXEC) != 0) {
		msg_warn("gate channel: pipe");
		goto err;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, edge__lws_emit);
	g->protocols[0].name = EDGE__SUBPROTOCOL;
	g->protocols[0].callback = edge__callback;
	g->protocols[0].rx_buffer_size = EDGE__MSG_MAX;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = g->protocols;
	info.user = g;
	info.connect_timeout_secs = 5;
	info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	if ((g->ctx = lws_create_context(&info)) == NULL) {
		msg_warnx("gate channel: cannot create the websocket context");
		goto err;
	}
	if (pthread_create(&g->th, NULL, edge__thread, g) != 0) {
		msg_warnx("gate channel: cannot start its thread");
		goto err;
	}
	*out = g;
	return 0;
err:
	if (g->ctx != NULL)
		lws_context_destroy(g->ctx);
	if (g->notify[0] >= 0)
		close(g->notify[0]), close(g->notify[1]);
	pthread_mutex_destroy(&g->mu);
	free(g);
	return -1;
}

int edge_gate_fd(const edge_gate *g)
{
	return g != NULL ? g->notify[0] : -1;
}

int edge_gate_next(edge_gate *g, edge_gate_cmd *out)
{
	char drain[64];
	int got = 0;

	if (g == NULL)
		return 0;
	while (read(g->notify[0], drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&g->mu);
	msg_assert(g->nin <= EDGE__QMAX);
	if (g->nin > 0) {
		*out = g->in[0];
		memmove(g->in, g->in + 1, (g->nin - 1) * sizeof g->in[0]);
		g->nin--;
		got = 1;
	}
	pthread_mutex_unlock(&g->mu);
	return got;
}

void edge_gate_ack(edge_gate *g, const char *event_id, int ok, const char *error)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	edge__ack_json(g, event_id, ok, error);
	pthread_mutex_unlock(&g->mu);
	lws_cancel_service(g->ctx);
}

void edge_gate_expect(edge_gate *g, const char *cmd, const char *plate)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	snprintf(g->expect_cmd, sizeof g->expect_cmd, "%s", cmd);
	snprintf(g->expect_plate, sizeof g->expect_plate, "%s", plate);
	g->expect_until = edge__now() + EDGE__EXPECT_MS;
	pthread_mutex_unlock(&g->mu);
}

int edge_gate_connected(edge_gate *g)
{
	int w;

	if (g == NULL)
		return 0;
	pthread_mutex_lock(&g->mu);
	w = g->welcomed;
	pthread_mutex_unlock(&g->mu);
	return w;
}

void edge_gate_stop(edge_gate *g)
{
	if (g == NULL)
		return;
	atomic_store(&g->stop, 1);
	lws_cancel_service(g->ctx);
	pthread_join(g->th, NULL);
	lws_context_destroy(g->ctx);
	close(g->notify[0]);
	close(g->notify[1]);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
