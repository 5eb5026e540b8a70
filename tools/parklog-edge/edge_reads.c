/* edge_reads.c — plate reads over loopback HTTP (see edge_reads.h). */
#include "tools/parklog-edge/edge_reads.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>

#define EDGE__READS_QMAX 64

struct edge_reads {
	struct MHD_Daemon *mhd;
	int notify[2];
	pthread_mutex_t mu;
	char q[EDGE__READS_QMAX][EDGE_READ_MAX + 1];
	size_t nq;
};

/* One request's body, gathered across calls. */
typedef struct edge__body {
	char buf[EDGE_READ_MAX + 1];
	size_t len;
	int over;
} edge__body;

static enum MHD_Result edge__answer(struct MHD_Connection *c, unsigned status,
    const char *json)
{
	struct MHD_Response *res = MHD_create_response_from_buffer(strlen(json),
	    (void *)json, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (res == NULL)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type", "application/json");
	rc = MHD_queue_response(c, status, res);
	MHD_destroy_response(res);
	return rc;
}

/* A complete body: queue it if it is a JSON object. */
static enum MHD_Result edge__accept(edge_reads *r, struct MHD_Connection *c,
    edge__body *b)
{
	cJSON *o = cJSON_ParseWithLength(b->buf, b->len);
	int obj = cJSON_IsObject(o), full;
	char one = 1;

	cJSON_Delete(o);
	if (b->over)
		return edge__answer(c, 413, "{\"accepted\":false,\"error\":\"body over 4 KiB\"}");
	if (!obj)
		return edge__answer(c, 400, "{\"accepted\":false,\"error\":\"expected a JSON object\"}");
	/* one line per read: the agent splits stdin on newlines too */
	for (size_t i = 0; i < b->len; i++)
		if (b->buf[i] == '\n' || b->buf[i] == '\r')
			b->buf[i] = ' ';
	b->buf[b->len] = '\0';
	pthread_mutex_lock(&r->mu);
	if (!(full = r->nq == EDGE__READS_QMAX))
		memcpy(r->q[r->nq++], b->buf, b->len + 1);
	pthread_mutex_unlock(&r->mu);
	if (full)
		return edge__answer(c, 503, "{\"accepted\":false,\"error\":\"busy\"}");
	if (write(r->notify[1], &one, 1) < 0 && errno != EAGAIN)
		return MHD_NO;
	return edge__answer(c, 202, "{\"accepted\":true}");
}

static enum MHD_Result edge__access(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *data, size_t *size, void **con_cls)
{
	edge__body *b = *con_cls;

	(void)version;
	if (b == NULL) {
		if (strcmp(url, "/read") != 0)
			return edge__answer(c, 404, "{\"accepted\":false,\"error\":\"POST /read\"}");
		if (strcmp(method, "POST") != 0)
			return edge__answer(c, 405, "{\"accepted\":false,\"error\":\"POST /read\"}");
		if ((b = calloc(1, sizeof *b)) == NULL)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*size > 0) {
		if (b->len + *size > EDGE_READ_MAX)
			b->over = 1;
		else
			memcpy(b->buf + b->len, data, *size), b->len += *size;
		*size = 0;
		return MHD_YES;
	}
	return edge__accept(cls, c, b);
}

static void edge__done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int edge_reads_start(const char *host, int port, edge_reads **out, char *err,
    size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	edge_reads *r;

	*out = NULL;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return snprintf(err, errlen, "reads_http: %s: a 127.x.x.x address, please", host), -1;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return snprintf(err, errlen, "reads_http: out of memory"), -1;
	pthread_mutex_init(&r->mu, NULL);
	if (pipe2(r->notify, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "reads_http: pipe: %s", strerror(errno));
		goto err;
	}
	r->mhd = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, (uint16_t)port, NULL, NULL,
	    edge__access, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, edge__done, r,
	    MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	    MHD_OPTION_END);
	if (r->mhd == NULL) {
		snprintf(err, errlen, "reads_http: cannot listen on %s:%d", host, port);
		close(r->notify[0]);
		close(r->notify[1]);
		goto err;
	}
	*out = r;
	return 0;
err:
	pthread_mutex_destroy(&r->mu);
	free(r);
	return -1;
}

int edge_reads_fd(const edge_reads *r)
{
	return r != NULL ? r->notify[0] : -1;
}

int edge_reads_next(edge_reads *r, char *line)
{
	char drain[64];
	int got = 0;

	if (r == NULL)
		return 0;
	while (read(r->notify[0], drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&r->mu);
	if (r->nq > 0) {
		memcpy(line, r->q[0], EDGE_READ_MAX + 1);
		memmove(r->q[0], r->q[1], (r->nq - 1) * sizeof r->q[0]);
		r->nq--;
		got = 1;
	}
	pthread_mutex_unlock(&r->mu);
	return got;
}

void edge_reads_stop(edge_reads *r)
{
	if (r == NULL)
		return;
	MHD_stop_daemon(r->mhd);
	close(r->notify[0]);
	close(r->notify[1]);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
