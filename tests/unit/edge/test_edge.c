/* Unit tests of parklog-edge's modules: the offline queue (with a crash
 * mid-write), the dedup window, the HTTP client against a tiny local
 * server, the sim barrier driver and the gpiod driver's missing chip. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "tests/harness/t.h"
#include "tools/parklog-edge/edge_agent.h"
#include "tools/parklog-edge/edge_barrier.h"
#include "tools/parklog-edge/edge_dedup.h"
#include "tools/parklog-edge/edge_http.h"
#include "tools/parklog-edge/edge_queue.h"

static edge_queue *qopen_rep(edge_queue_report *rep)
{
	char dir[4200];
	edge_queue *q;

	snprintf(dir, sizeof dir, "%s/q", t_tmpdir);
	T_EQ_INT(0, edge_queue_open(dir, &q, rep));
	return q;
}

static edge_queue *qopen(size_t *cut)
{
	edge_queue_report rep;
	edge_queue *q = qopen_rep(&rep);

	if (cut != NULL)
		*cut = rep.cut;
	return q;
}

TEST(queue_order_and_pop)
{
	edge_queue *q = qopen(NULL);
	edge_qrec r;

	T_EQ_INT(0, edge_queue_push(q, "/a", "e_1_AAA111", "{\"n\":1}"));
	T_EQ_INT(0, edge_queue_push(q, "/b", "e_2_AAA111", "{\"n\":2}"));
	T_EQ_INT(2, edge_queue_pending(q));
	T_EQ_INT(0, edge_queue_peek(q, &r));
	T_EQ_STR("/a", r.path);
	T_EQ_STR("e_1_AAA111", r.id);
	edge_qrec_free(&r);
	T_EQ_INT(0, edge_queue_pop(q));
	edge_queue_close(q);
	q = qopen(NULL);	/* the position survives a restart */
	T_EQ_INT(1, edge_queue_pending(q));
	T_EQ_INT(0, edge_queue_peek(q, &r));
	T_EQ_STR("{\"n\":2}", r.body);
	edge_qrec_free(&r);
	T_EQ_INT(0, edge_queue_pop(q));
	T_EQ_INT(ENOENT, edge_queue_peek(q, &r));
	edge_queue_close(q);
	q = qopen(NULL);
	T_EQ_INT(0, edge_queue_pending(q));
	edge_queue_close(q);
}

TEST(queue_torn_tail_cut)
{
	char path[4200];
	edge_queue *q = qopen(NULL);
	size_t cut = 0;
	int fd;

	T_EQ_INT(0, edge_queue_push(q, "/a", "id1", "{}"));
	edge_queue_close(q);
	snprintf(path, sizeof path, "%s/q/queue.log", t_tmpdir);
	T_ASSERT((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	T_EQ_INT(7, write(fd, "PQR1\x40\0\0", 7));	/* half a header */
	close(fd);
	q = qopen(&cut);
	T_EQ_INT(7, cut);
	T_EQ_INT(1, edge_queue_pending(q));
	edge_queue_close(q);
}

/* Push n records {"n":i}; their offsets into off[] (may be NULL). */
static void push_n(edge_queue *q, int n, uint64_t *off)
{
	char body[64], id[32];
	uint64_t at = 0;

	for (int i = 0; i < n; i++) {
		snprintf(body, sizeof body, "{\"n\":%d}", i);
		snprintf(id, sizeof id, "e_%d_AAA111", i);
		if (off != NULL)
			off[i] = at;
		at += 16 + strlen("/p") + 1 + strlen(id) + 1 + strlen(body);
		T_EQ_INT(0, edge_queue_push(q, "/p", id, body));
	}
}

static void flip_byte(const char *file, uint64_t off)
{
	char path[4200];
	unsigned char b;
	int fd;

	snprintf(path, sizeof path, "%s/q/%s", t_tmpdir, file);
	T_ASSERT((fd = open(path, O_RDWR)) >= 0);
	T_EQ_INT(1, pread(fd, &b, 1, (off_t)off));
	b ^= 0x20;
	T_EQ_INT(1, pwrite(fd, &b, 1, (off_t)off));
	close(fd);
}

/* Pop everything; the "n" of each record in order into got[]; the count. */
static int drain(edge_queue *q, int *got, int max)
{
	edge_qrec r;
	int n = 0;

	while (edge_queue_peek(q, &r) == 0) {
		T_ASSERT(n < max);
		T_ASSERT(sscanf(r.body, "{\"n\":%d}", &got[n]) == 1);
		n++;
		edge_qrec_free(&r);
		T_EQ_INT(0, edge_queue_pop(q));
	}
	return n;
}

/* Issue 12, item 5: one flipped byte in record 11 of 300 (in its payload,
 * then in its length) skips that record only; the 289 after it are kept
 * and delivered in order, and the open says what it skipped. */
TEST(queue_bad_record_skipped_not_truncated)
{
	static uint64_t off[300];
	static int got[300];
	edge_queue_report rep;
	edge_queue *q = qopen(NULL);
	int n;

	push_n(q, 300, off);
	edge_queue_close(q);
	flip_byte("queue.log", off[10] + 16 + 5);	/* record 11's payload */
	q = qopen_rep(&rep);
	T_EQ_INT(299, edge_queue_pending(q));
	T_EQ_INT(1, rep.skipped);
	T_EQ_U64(off[11] - off[10], rep.skipped_bytes);
	T_EQ_INT(0, rep.cut);
	T_EQ_INT(0, rep.pos_rebuilt);
	n = drain(q, got, 300);
	T_EQ_INT(299, n);
	for (int i = 0; i < n; i++)
		T_EQ_INT(i < 10 ? i : i + 1, got[i]);
	edge_queue_close(q);

	/* a bad length: the reader finds the next record by its magic */
	q = qopen(NULL);
	push_n(q, 300, off);
	edge_queue_close(q);
	flip_byte("queue.log", off[10] + 6);		/* record 11's length */
	q = qopen_rep(&rep);
	T_EQ_INT(1, rep.skipped);
	T_EQ_INT(299, edge_queue_pending(q));
	T_EQ_INT(299, drain(q, got, 300));
	T_EQ_INT(299, got[298]);
	edge_queue_close(q);
}

/* The bad record is where delivery stands: peek skips to the next. */
TEST(queue_bad_record_at_pos)
{
	uint64_t off[5];
	int got[5];
	edge_queue_report rep;
	edge_qrec r;
	edge_queue *q = qopen(NULL);

	push_n(q, 5, off);
	T_EQ_INT(0, edge_queue_peek(q, &r));
	edge_qrec_free(&r);
	T_EQ_INT(0, edge_queue_pop(q));
	edge_queue_close(q);
	flip_byte("queue.log", off[1] + 16 + 3);
	q = qopen_rep(&rep);
	T_EQ_INT(3, edge_queue_pending(q));
	T_EQ_INT(1, rep.skipped);
	T_EQ_INT(0, rep.pos_rebuilt);
	T_EQ_INT(3, drain(q, got, 5));
	T_EQ_INT(2, got[0]);
	T_EQ_INT(4, got[2]);
	edge_queue_close(q);
}

static void write_pos(const char *bytes, size_t n)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/q/queue.pos", t_tmpdir);
	T_ASSERT((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	T_EQ_INT((long long)n, write(fd, bytes, n));
	close(fd);
}

/* A checksummed position (the file's own format). */
static void write_pos_value(uint64_t pos)
{
	unsigned char b[16];
	uint64_t sum = XXH64(&pos, 8, 0);

	memcpy(b, &pos, 8);
	memcpy(b + 8, &sum, 8);
	write_pos((const char *)b, sizeof b);
}

/* Issue 12, item 5: a garbage, out-of-range or misplaced queue.pos does
 * not stop the agent: it is rebuilt from queue.log, and said. */
TEST(queue_bad_pos_rebuilt)
{
	uint64_t off[5];
	int got[5];
	edge_queue_report rep;
	edge_queue *q = qopen(NULL);

	push_n(q, 5, off);
	edge_queue_close(q);
	write_pos("garbage", 7);			/* short and unreadable */
	q = qopen_rep(&rep);
	T_EQ_INT(1, rep.pos_rebuilt);
	T_EQ_U64(0, rep.pos);
	T_EQ_INT(5, edge_queue_pending(q));
	edge_queue_close(q);
	write_pos("0123456789abcdef", 16);		/* bad checksum */
	q = qopen_rep(&rep);
	T_EQ_INT(1, rep.pos_rebuilt);
	T_EQ_INT(5, edge_queue_pending(q));
	edge_queue_close(q);
	write_pos_value(off[4] + 4096);			/* beyond the records */
	q = qopen_rep(&rep);
	T_EQ_INT(1, rep.pos_rebuilt);
	T_EQ_INT(5, edge_queue_pending(q));
	edge_queue_close(q);
	write_pos_value(off[3] + 5);			/* inside record 3 */
	q = qopen_rep(&rep);
	T_EQ_INT(1, rep.pos_rebuilt);
	T_EQ_U64(off[3], rep.pos);
	T_EQ_INT(2, edge_queue_pending(q));
	T_EQ_INT(2, drain(q, got, 5));
	T_EQ_INT(3, got[0]);
	edge_queue_close(q);
	q = qopen_rep(&rep);				/* and it stays mended */
	T_EQ_INT(0, rep.pos_rebuilt);
	T_EQ_INT(0, edge_queue_pending(q));
	edge_queue_close(q);
}

/* A child appends records "n" = 0,1,2,... and is killed mid-stream; the
 * reopened queue holds a prefix 0..k-1, whole, in order. */
TEST(queue_crash_mid_write)
{
	char dir[4200], body[2200];
	edge_queue *q;
	edge_qrec r;
	pid_t pid;
	size_t n;

	snprintf(dir, sizeof dir, "%s/q", t_tmpdir);
	if ((pid = fork()) == 0) {
		if (edge_queue_open(dir, &q, NULL) != 0)
			_exit(2);
		for (int i = 0;; i++) {
			int k = snprintf(body, sizeof body, "{\"n\":%d,\"pad\":\"", i);

			memset(body + k, 'x', 1500);	/* big records: tear them */
			strcpy(body + k + 1500, "\"}");
			if (edge_queue_push(q, "/p", "id", body) != 0)
				_exit(3);
		}
	}
	usleep(300000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	T_EQ_INT(0, edge_queue_open(dir, &q, NULL));
	T_ASSERT((n = edge_queue_pending(q)) > 0);
	for (size_t i = 0; i < n; i++) {
		char want[32];

		T_EQ_INT(0, edge_queue_peek(q, &r));
		snprintf(want, sizeof want, "{\"n\":%zu,", i);
		T_ASSERT(strncmp(r.body, want, strlen(want)) == 0);
		T_ASSERT(strlen(r.body) == strlen(want) + 1509);
		edge_qrec_free(&r);
		T_EQ_INT(0, edge_queue_pop(q));
	}
	T_EQ_INT(ENOENT, edge_queue_peek(q, &r));
	edge_queue_close(q);
}

TEST(dedup_window)
{
	edge_dedup d;

	edge_dedup_init(&d, 10000);
	T_EQ_INT(1, edge_dedup_check(&d, "29A12345", 1000000));
	T_EQ_INT(0, edge_dedup_check(&d, "29A12345", 1005000));
	T_EQ_INT(1, edge_dedup_check(&d, "30B99999", 1005000));
	T_EQ_INT(0, edge_dedup_check(&d, "29A12345", 1009999));
	T_EQ_INT(1, edge_dedup_check(&d, "29A12345", 1010000));
	for (int i = 0; i < 100; i++) {	/* the table forgets the oldest */
		char p[16];

		snprintf(p, sizeof p, "ZZ%06d", i);
		T_EQ_INT(1, edge_dedup_check(&d, p, 1010001 + i));
	}
	T_EQ_INT(1, edge_dedup_check(&d, "30B99999", 1010200));
}

/* A one-shot server on a loopback port: saves the request to
 * t_tmpdir/req, answers `reply` (NULL: never answers). Returns the port. */
static int serve_once(const char *reply, pid_t *pid)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	T_ASSERT(ls >= 0 && bind(ls, (void *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0);
	T_ASSERT(getsockname(ls, (void *)&sa, &sl) == 0);
	if ((*pid = fork()) == 0) {
		char buf[8192], path[4200];
		size_t len = 0;
		ssize_t n;
		int c = accept(ls, NULL, NULL), fd;

		while (len < sizeof buf - 1 && (n = read(c, buf + len, sizeof buf - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			char *h = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");

			if (h != NULL && cl != NULL && len >= (size_t)(h + 4 - buf) + (size_t)atoi(cl + 16))
				break;
		}
		snprintf(path, sizeof path, "%s/req", t_tmpdir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (write(fd, buf, len) < 0)
			_exit(1);
		close(fd);
		if (reply == NULL)
			pause();
		if (write(c, reply, strlen(reply)) < 0)
			_exit(1);
		close(c);
		_exit(0);
	}
	close(ls);
	return ntohs(sa.sin_port);
}

static int call(int port, const char *idem, edge_http_resp *r, int timeout_ms)
{
	edge_url u;
	char url[64];
	edge_http_req rq = { .method = "POST", .path = "/api/x", .token = "tok123",
	    .idem_key = idem, .body = "{\"a\":1}", .timeout_ms = timeout_ms };

	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	T_EQ_INT(0, edge_url_parse(url, &u));
	return edge_http_do(&u, &rq, r);
}

TEST(http_content_length)
{
	pid_t pid;
	int port = serve_once("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
	    "Content-Length: 11\r\n\r\n{\"ok\":true}", &pid);
	edge_http_resp r;
	char path[4200], req[8192] = "";
	FILE *f;

	T_EQ_INT(0, call(port, "edge-1_1_AAA111", &r, 3000));
	T_EQ_INT(201, r.status);
	T_EQ_STR("{\"ok\":true}", r.body);
	edge_http_resp_free(&r);
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof path, "%s/req", t_tmpdir);
	T_ASSERT((f = fopen(path, "r")) != NULL);
	T_ASSERT(fread(req, 1, sizeof req - 1, f) > 0);
	fclose(f);
	T_ASSERT(strncmp(req, "POST /api/x HTTP/1.1\r\n", 22) == 0);
	T_ASSERT(strstr(req, "\r\nAuthorization: Bearer tok123\r\n") != NULL);
	T_ASSERT(strstr(req, "\r\nIdempotency-Key: edge-1_1_AAA111\r\n") != NULL);
	T_ASSERT(strstr(req, "\r\n\r\n{\"a\":1}") != NULL);
}

TEST(http_chunked)
{
	pid_t pid;
	int port = serve_once("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\n{\"a\"\r\nA;x=y\r\n:12345678}\r\n0\r\n\r\n", &pid);
	edge_http_resp r;

	T_EQ_INT(0, call(port, NULL, &r, 3000));
	T_EQ_INT(200, r.status);
	T_EQ_STR("{\"a\":12345678}", r.body);
	edge_http_resp_free(&r);
	waitpid(pid, NULL, 0);
}

TEST(http_until_close_and_bad)
{
	pid_t pid;
	int port = serve_once("HTTP/1.0 404 Not Found\r\n\r\nnope", &pid);
	edge_http_resp r;

	T_EQ_INT(0, call(port, NULL, &r, 3000));
	T_EQ_INT(404, r.status);
	T_EQ_STR("nope", r.body);
	edge_http_resp_free(&r);
	waitpid(pid, NULL, 0);
	port = serve_once("SSH-2.0-x\r\n\r\n", &pid);
	T_EQ_INT(EDGE_HTTP_EPROTO, call(port, NULL, &r, 3000));
	waitpid(pid, NULL, 0);
	port = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", &pid);
	T_EQ_INT(EDGE_HTTP_EPROTO, call(port, NULL, &r, 3000));
	waitpid(pid, NULL, 0);
}

TEST(http_timeout_and_refused)
{
	pid_t pid;
	int port = serve_once(NULL, &pid);
	edge_http_resp r;

	T_EQ_INT(EDGE_HTTP_ETIMEOUT, call(port, NULL, &r, 300));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	T_EQ_INT(EDGE_HTTP_ECONNECT, call(port, NULL, &r, 300));
}

TEST(url_parse)
{
	edge_url u;

	T_EQ_INT(0, edge_url_parse("http://127.0.0.1:8000", &u));
	T_EQ_STR("127.0.0.1", u.host);
	T_EQ_STR("8000", u.port);
	T_EQ_INT(0, edge_url_parse("http://[::1]:9/", &u));
	T_EQ_STR("::1", u.host);
	T_EQ_INT(0, edge_url_parse("http://central-2.lan", &u));
	T_EQ_STR("80", u.port);
	T_EQ_INT(-1, edge_url_parse("https://x:1", &u));
	T_EQ_INT(-1, edge_url_parse("http://x:99999", &u));
	T_EQ_INT(-1, edge_url_parse("http://:80", &u));
	T_EQ_INT(-1, edge_url_parse("http://x:80/api", &u));
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	T_ASSERT(f != NULL);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

TEST(sim_driver)
{
	edge_barrier_conf c = { .driver = "sim", .sensor_line = -1, .open_ms = 1000 };
	edge_barrier *b;
	char err[300], *s;
	int w;

	snprintf(c.state_file, sizeof c.state_file, "%s/state", t_tmpdir);
	snprintf(c.sensor_path, sizeof c.sensor_path, "%s/sensor", t_tmpdir);
	T_EQ_INT(0, edge_barrier_open(&c, &b, err, sizeof err));
	T_EQ_INT(0, edge_barrier_is_open(b));
	T_EQ_INT(0, edge_barrier_set(b, 1));
	T_EQ_INT(1, edge_barrier_is_open(b));
	T_ASSERT(edge_barrier_sensor_fd(b) >= 0);
	T_ASSERT((w = open(c.sensor_path, O_WRONLY | O_NONBLOCK)) >= 0);
	T_EQ_INT(8, write(w, "present\n", 8));
	T_EQ_INT(0, edge_barrier_sensor_read(b));
	T_EQ_INT(9, write(w, "pass", 4) + write(w, "ed\n", 3) + 2);
	T_EQ_INT(1, edge_barrier_sensor_read(b));
	close(w);
	edge_barrier_release(b);	/* open: closes it first */
	s = slurp(c.state_file);
	T_ASSERT(strncmp(s, "close ", 6) == 0);
	T_ASSERT(strstr(s, "\nopen ") != NULL);
	T_ASSERT(strstr(strstr(s, "\nopen "), "\nclose ") != NULL);
	T_ASSERT(strstr(s, "\nreleased ") != NULL);
}

/* The central unreachable: heartbeats do not pile up in the queue — one
 * per stretch between queued actions — while every action is kept. */
TEST(agent_queues_one_heartbeat_per_stretch)
{
	edge_conf cf;
	edge_barrier *b;
	edge_queue *q;
	edge_agent a;
	char err[300];
	size_t cut;
	FILE *out = tmpfile();

	memset(&cf, 0, sizeof cf);
	snprintf(cf.id, sizeof cf.id, "gate-1");
	T_EQ_INT(0, edge_url_parse("http://127.0.0.1:1", &cf.central[0]));
	cf.ncentral = 1;
	cf.heartbeat_s = 1;
	cf.timeout_ms = 300;
	cf.retry_ms = 600000;		/* no delivery attempts during the test */
	snprintf(cf.barrier.driver, sizeof cf.barrier.driver, "sim");
	snprintf(cf.barrier.state_file, sizeof cf.barrier.state_file, "%s/state", t_tmpdir);
	cf.barrier.sensor_line = -1;
	cf.barrier.open_ms = 60000;
	T_EQ_INT(0, edge_barrier_open(&cf.barrier, &b, err, sizeof err));
	q = qopen(&cut);
	edge_agent_init(&a, &cf, b, q, out);
	for (int i = 0; i < 5; i++) {
		a.next_hb = 0;		/* a heartbeat is due */
		edge_agent_tick(&a);
	}
	T_EQ_U64(1, edge_queue_pending(q));
	edge_agent_line(&a, "open 29A12345");	/* queued, barrier opens */
	T_EQ_U64(2, edge_queue_pending(q));
	T_EQ_INT(1, edge_barrier_is_open(b));
	for (int i = 0; i < 5; i++) {
		a.next_hb = 0;
		edge_agent_tick(&a);
	}
	T_EQ_U64(3, edge_queue_pending(q));
	edge_queue_close(q);
	edge_barrier_release(b);
	fclose(out);
}

/* A scripted central on a loopback port: answers the i-th request with
 * statuses[i] and a JSON body, one connection each (the client sends
 * "Connection: close"); appends each Idempotency-Key to t_tmpdir/ids. */
static int serve_script(const int *statuses, int n, pid_t *pid)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	T_ASSERT(ls >= 0 && bind(ls, (void *)&sa, sizeof sa) == 0 && listen(ls, 8) == 0);
	T_ASSERT(getsockname(ls, (void *)&sa, &sl) == 0);
	if ((*pid = fork()) == 0) {
		alarm(20);	/* a failed case never leaves it behind for long */
		for (int i = 0; i < n; i++) {
			char buf[8192], rep[512], path[4200], *h, *cl, *k;
			const char *body = statuses[i] / 100 == 2 ? "{\"success\":true}" :
			    "{\"success\":false,\"error\":\"scripted refusal\"}";
			size_t len = 0;
			ssize_t r;
			int c = accept(ls, NULL, NULL), m;
			FILE *f;

			while (len < sizeof buf - 1 && (r = read(c, buf + len, sizeof buf - 1 - len)) > 0) {
				len += (size_t)r;
				buf[len] = '\0';
				h = strstr(buf, "\r\n\r\n");
				cl = strstr(buf, "Content-Length: ");
				if (h != NULL && cl != NULL &&
				    len >= (size_t)(h + 4 - buf) + (size_t)atoi(cl + 16))
					break;
			}
			snprintf(path, sizeof path, "%s/ids", t_tmpdir);
			if ((f = fopen(path, "a")) != NULL) {
				k = strstr(buf, "Idempotency-Key: ");
				fprintf(f, "%.*s\n", k ? (int)strcspn(k + 17, "\r") : 0,
				    k ? k + 17 : "");
				fclose(f);
			}
			m = snprintf(rep, sizeof rep, "HTTP/1.1 %d X\r\nContent-Type: "
			    "application/json\r\nContent-Length: %zu\r\n\r\n%s",
			    statuses[i], strlen(body), body);
			if (write(c, rep, (size_t)m) < 0)
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	close(ls);
	return ntohs(sa.sin_port);
}

/* An agent on a sim barrier, talking to 127.0.0.1:port, no heartbeats. */
static void agent_at(edge_agent *a, edge_conf *cf, edge_barrier **b, edge_queue **q,
    int port, FILE *out)
{
	char url[64], err[300];

	memset(cf, 0, sizeof *cf);
	snprintf(cf->id, sizeof cf->id, "gate-1");
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	T_EQ_INT(0, edge_url_parse(url, &cf->central[0]));
	cf->ncentral = 1;
	cf->heartbeat_s = 3600;
	cf->timeout_ms = 3000;
	cf->retry_ms = 100;
	cf->retry_max_ms = 300;
	snprintf(cf->queue_dir, sizeof cf->queue_dir, "%s/q", t_tmpdir);
	snprintf(cf->barrier.driver, sizeof cf->barrier.driver, "sim");
	snprintf(cf->barrier.state_file, sizeof cf->barrier.state_file, "%s/state", t_tmpdir);
	cf->barrier.sensor_line = -1;
	cf->barrier.open_ms = 60000;
	T_EQ_INT(0, edge_barrier_open(&cf->barrier, b, err, sizeof err));
	*q = qopen(NULL);
	edge_agent_init(a, cf, *b, *q, out);
	a->next_hb = edge_now_ms() + 3600000;	/* no heartbeat in the way */
}

static size_t count_in(FILE *f, const char *needle)
{
	char line[4096];
	size_t n = 0;

	rewind(f);
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, needle) != NULL;
	return n;
}

/* Issue 12, item 5: queued actions the central refuses for auth (a token
 * rotated there) are kept and retried with a growing delay, with a "held"
 * line each round, until the central takes them, in order. */
TEST(agent_keeps_actions_refused_for_auth)
{
	static const int st[] = { 403, 401, 403, 200, 200, 200 };
	edge_conf cf;
	edge_barrier *b;
	edge_queue *q;
	edge_agent a;
	FILE *out = tmpfile();
	pid_t pid;
	int port = serve_script(st, 6, &pid);
	int64_t d[3];

	agent_at(&a, &cf, &b, &q, port, out);
	push_n(q, 3, NULL);
	for (int i = 0; i < 3; i++) {		/* three refused rounds */
		a.next_retry = 0;
		edge_agent_tick(&a);
		T_EQ_U64(3, edge_queue_pending(q));
		d[i] = a.next_retry - edge_now_ms();
	}
	T_ASSERT(d[0] > 0 && d[0] <= 100);	/* 100, 200, then the cap 300 */
	T_ASSERT(d[1] > 100 && d[1] <= 200);
	T_ASSERT(d[2] > 200 && d[2] <= 300);
	T_EQ_U64(3, count_in(out, "\"event\":\"held\""));
	T_EQ_U64(3, count_in(out, "\"pending\":3"));
	a.next_retry = 0;
	edge_agent_tick(&a);			/* accepted: all three, in order */
	T_EQ_U64(0, edge_queue_pending(q));
	T_EQ_U64(3, count_in(out, "\"event\":\"delivered\""));
	waitpid(pid, NULL, 0);
	{
		char path[4200], *ids;

		snprintf(path, sizeof path, "%s/ids", t_tmpdir);
		ids = slurp(path);
		T_EQ_STR("e_0_AAA111\ne_0_AAA111\ne_0_AAA111\ne_0_AAA111\n"
		    "e_1_AAA111\ne_2_AAA111\n", ids);
	}
	edge_queue_close(q);
	edge_barrier_release(b);
	fclose(out);
}

/* A refusal of a record's content (409) can never succeed: that record
 * is set aside in dead.ndjson (not deleted), said, and the rest go on. */
TEST(agent_dead_letters_content_refusals)
{
	static const int st[] = { 200, 409, 200 };
	edge_conf cf;
	edge_barrier *b;
	edge_queue *q;
	edge_agent a;
	FILE *out = tmpfile();
	char path[4200], *dead;
	pid_t pid;
	int port = serve_script(st, 3, &pid);

	agent_at(&a, &cf, &b, &q, port, out);
	push_n(q, 3, NULL);
	a.next_retry = 0;
	edge_agent_tick(&a);
	T_EQ_U64(0, edge_queue_pending(q));
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof path, "%s/q/dead.ndjson", t_tmpdir);
	dead = slurp(path);
	T_ASSERT(strstr(dead, "\"id\":\"e_1_AAA111\"") != NULL);
	T_ASSERT(strstr(dead, "\"status\":409") != NULL);
	T_ASSERT(strstr(dead, "scripted refusal") != NULL);
	T_ASSERT(strchr(dead, '\n') == dead + strlen(dead) - 1);	/* one line */
	T_EQ_U64(1, count_in(out, "\"event\":\"dead_letter\""));
	T_EQ_U64(2, count_in(out, "\"event\":\"delivered\""));
	edge_queue_close(q);
	edge_barrier_release(b);
	fclose(out);
}

TEST(gpiod_missing_chip)
{
	edge_barrier_conf c = { .driver = "gpiod", .chip = "gpiochip7", .line = 17,
	    .sensor_line = -1 };
	edge_barrier *b = NULL;
	char err[300];

	T_EQ_INT(-1, edge_barrier_open(&c, &b, err, sizeof err));
	T_ASSERT(b == NULL);
	T_ASSERT(strncmp(err, "barrier.chip: \"gpiochip7\": no such GPIO chip", 44) == 0);
	snprintf(c.driver, sizeof c.driver, "relay");
	T_EQ_INT(-1, edge_barrier_open(&c, &b, err, sizeof err));
	T_EQ_STR("barrier.driver: expected \"gpiod\" or \"sim\"", err);
}

T_MAIN()
