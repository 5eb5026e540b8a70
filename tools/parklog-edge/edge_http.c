/* edge_http.c — minimal HTTP/1.1 client: connect, send, read, parse. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tools/parklog-edge/edge_http.h"

const char *edge_http_strerror(int err)
{
	switch (err) {
	case EDGE_HTTP_ECONNECT: return "central unreachable";
	case EDGE_HTTP_ETIMEOUT: return "no answer in time";
	case EDGE_HTTP_EPROTO: return "not an HTTP answer";
	case EDGE_HTTP_ETOOBIG: return "answer too large";
	default: return strerror(err);
	}
}

int edge_url_parse(const char *s, edge_url *u)
{
	const char *h, *end, *port = "80";
	size_t n;

	memset(u, 0, sizeof *u);
	if (strncmp(s, "http://", 7) != 0)
		return -1;
	h = s + 7;
	if (*h == '[') {
		if ((end = strchr(++h, ']')) == NULL)
			return -1;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0' && end[1] != '/')
			return -1;
	} else {
		end = h + strcspn(h, ":/");
		if (*end == ':')
			port = end + 1;
	}
	n = (size_t)(end - h);
	if (n == 0 || n > EDGE_HTTP_HOST_MAX)
		return -1;
	memcpy(u->host, h, n);
	n = strcspn(port, "/");
	if (n == 0 || n >= sizeof u->port || strspn(port, "0123456789") != n ||
	    (port[n] == '/' && port[n + 1] != '\0'))
		return -1;
	memcpy(u->port, port, n);
	return atoi(u->port) > 0 && atoi(u->port) < 65536 ? 0 : -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `ev` on fd until the deadline: 0, or ETIMEOUT. */
static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	long long left;
	int n;

	do {
		if ((left = deadline - now_ms()) <= 0)
			return EDGE_HTTP_ETIMEOUT;
		n = poll(&p, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : EDGE_HTTP_ETIMEOUT;
}

/* Non-blocking connect to any address of the url, bounded by the deadline. */
static int dial(const edge_url *u, long long deadline, int *out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, soerr;
	socklen_t sl = sizeof soerr;

	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return EDGE_HTTP_ECONNECT;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return EDGE_HTTP_ECONNECT;
	*out = fd;
	return 0;
}

static int send_all(int fd, const char *p, size_t n, long long deadline)
{
	ssize_t w;
	int rc;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((rc = wait_fd(fd, POLLOUT, deadline)) != 0)
				return rc;
			continue;
		}
		if (w < 0)
			return EDGE_HTTP_ECONNECT;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static char *format_request(const edge_url *u, const edge_http_req *rq, size_t *len)
{
	size_t blen = rq->body ? strlen(rq->body) : 0;
	int has_tok = rq->token != NULL && rq->token[0] != '\0';
	char *s = NULL;
	int n;

	n = asprintf(&s, "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
	    "Connection: close\r\nAccept: application/json\r\n"
	    "%s%s%s%s%s%s"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    rq->method, rq->path, strchr(u->host, ':') ? "[" : "", u->host,
	    strchr(u->host, ':') ? "]" : "", u->port,
	    has_tok ? "Authorization: Bearer " : "", has_tok ? rq->token : "",
	    has_tok ? "\r\n" : "",
	    rq->idem_key ? "Idempotency-Key: " : "", rq->idem_key ? rq->idem_key : "",
	    rq->idem_key ? "\r\n" : "", blen, rq->body ? rq->body : "");
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

/* The value of header `name` within [h, end), or NULL. */
static const char *header(const char *h, const char *end, const char *name,
    size_t *vlen)
{
	size_t nl = strlen(name);

	while (h < end) {
		const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - h) > nl && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			h += nl + 1;
			while (h < eol && (*h == ' ' || *h == '\t'))
				h++;
			*vlen = (size_t)(eol - h);
			return h;
		}
		h = eol + 2;
	}
	return NULL;
}

static int set_body(edge_http_resp *r, const char *p, size_t n)
{
	if (n > EDGE_HTTP_BODY_MAX)
		return EDGE_HTTP_ETOOBIG;
	if ((r->body = malloc(n + 1)) == NULL)
		return ENOMEM;
	memcpy(r->body, p, n);
	r->body[n] = '\0';
	r->len = n;
	return 0;
}

/* Decode a chunked body in [p, end): 0, 1 (incomplete) or EPROTO. */
static int dechunk(const char *p, const char *end, edge_http_resp *r)
{
	char *out = malloc((size_t)(end - p) + 1), *q;
	size_t total = 0;

	if ((q = out) == NULL)
		return ENOMEM;
	for (;;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		char *stop;
		unsigned long n;

		if (eol == NULL)
			goto more;
		n = strtoul(p, &stop, 16);
		if (stop == p || (*stop != '\r' && *stop != ';') || n > EDGE_HTTP_BODY_MAX)
			return free(out), EDGE_HTTP_EPROTO;
		p = eol + 2;
		if (n == 0)
			break;	/* trailers ignored */
		if ((size_t)(end - p) < n + 2)
			goto more;
		memcpy(q + total, p, n);
		total += n;
		p += n + 2;
	}
	out[total] = '\0';
	r->body = out;
	r->len = total;
	return 0;
more:
	free(out);
	return 1;
}

int edge_http_parse(const char *buf, size_t len, int closed, edge_http_resp *r)
{
	const char *hend = memmem(buf, len, "\r\n\r\n", 4), *v, *body, *end = buf + len;
	size_t vlen;
	int st;

	memset(r, 0, sizeof *r);
	if (hend == NULL)
		return closed ? EDGE_HTTP_EPROTO : 1;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    (st = atoi(buf + 9)) < 100 || st > 599)
		return EDGE_HTTP_EPROTO;
	body = hend + 4;
	if ((v = header(buf, hend + 2, "Transfer-Encoding", &vlen)) != NULL &&
	    vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0) {
		st = (r->status = st, dechunk(body, end, r));
		return st == 1 && closed ? EDGE_HTTP_EPROTO : st;
	}
	r->status = st;
	if ((v = header(buf, hend + 2, "Content-Length", &vlen)) != NULL) {
		unsigned long n = strtoul(v, NULL, 10);

		if (n > EDGE_HTTP_BODY_MAX)
			return EDGE_HTTP_ETOOBIG;
		if ((size_t)(end - body) < n)
			return closed ? EDGE_HTTP_EPROTO : 1;
		return set_body(r, body, n);
	}
	return closed ? set_body(r, body, (size_t)(end - body)) : 1;
}

/* Read until a complete answer (or the peer closes). */
static int read_answer(int fd, long long deadline, edge_http_resp *resp)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc = 1;
	ssize_t n;

	if (buf == NULL)
		return ENOMEM;
	while (rc == 1) {
		if (len == cap) {
			char *nb = cap > 2 * EDGE_HTTP_BODY_MAX ? NULL : realloc(buf, cap * 2);

			if (nb == NULL) {
				rc = EDGE_HTTP_ETOOBIG;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
				break;
			rc = 1;
			continue;
		}
		if (n < 0)
			n = 0;	/* reset: parse what came, as if closed */
		len += (size_t)n;
		rc = edge_http_parse(buf, len, n == 0, resp);
	}
	free(buf);
	return rc;
}

int edge_http_do(const edge_url *u, const edge_http_req *rq, edge_http_resp *resp)
{
	long long deadline = now_ms() + (rq->timeout_ms > 0 ? rq->timeout_ms : 5000);
	char *req = NULL;
	size_t len;
	int fd = -1, rc;

	memset(resp, 0, sizeof *resp);
	if ((req = format_request(u, rq, &len)) == NULL)
		return ENOMEM;
	if ((rc = dial(u, deadline, &fd)) != 0)
		goto err;
	if ((rc = send_all(fd, req, len, deadline)) != 0)
		goto err;
	rc = read_answer(fd, deadline, resp);
err:
	if (rc != 0)
		edge_http_resp_free(resp);
	if (fd >= 0)
		close(fd);
	free(req);
	return rc;
}

void edge_http_resp_free(edge_http_resp *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}
