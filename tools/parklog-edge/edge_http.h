/* edge_http — a minimal HTTP/1.1 client for the gate agent.
 *
 * One request per connection ("Connection: close"): a gate sends a few
 * requests a minute, so keep-alive would only add states. Plain TCP, no
 * TLS (the central is on the facility's network; see README). Answers are
 * read with Content-Length, chunked encoding, or until the peer closes.
 */
#ifndef PARKLOG_EDGE_HTTP_H
#define PARKLOG_EDGE_HTTP_H

#include <stddef.h>

#define EDGE_HTTP_HOST_MAX	255
#define EDGE_HTTP_BODY_MAX	(256 * 1024)	/* larger answers are an error */

typedef struct edge_url {
	char host[EDGE_HTTP_HOST_MAX + 1];	/* without brackets */
	char port[8];
} edge_url;

typedef struct edge_http_req {
	const char *method;		/* "POST", "GET" */
	const char *path;		/* "/api/edge/detection" */
	const char *token;		/* NULL or "": no Authorization */
	const char *idem_key;		/* NULL: no Idempotency-Key */
	const char *body;		/* NULL: no body */
	int timeout_ms;			/* whole exchange */
} edge_http_req;

typedef struct edge_http_resp {
	int status;			/* 200, 404, ... */
	char *body;			/* malloc'd, NUL-terminated */
	size_t len;
} edge_http_resp;

/* Errors (0 is success; otherwise errno-like or these). */
enum {
	EDGE_HTTP_ECONNECT = -30700,	/* no connection: the central is unreachable */
	EDGE_HTTP_ETIMEOUT,		/* connected, no complete answer in time */
	EDGE_HTTP_EPROTO,		/* not an HTTP answer we understand */
	EDGE_HTTP_ETOOBIG		/* answer over EDGE_HTTP_BODY_MAX */
};
const char *edge_http_strerror(int err);

/* "http://host:port" (also "[v6]:port", default port 80) → url; 0 or -1. */
int edge_url_parse(const char *s, edge_url *u);

/* Send the request and read the answer into *resp (free with
 * edge_http_resp_free). 0 or an error above; resp is empty on error. */
int edge_http_do(const edge_url *u, const edge_http_req *rq, edge_http_resp *resp);
void edge_http_resp_free(edge_http_resp *resp);

/* Parse a complete answer held in buf (exported for tests): 0, EPROTO,
 * or 1 if more bytes are needed. */
int edge_http_parse(const char *buf, size_t len, int closed, edge_http_resp *resp);

#endif
