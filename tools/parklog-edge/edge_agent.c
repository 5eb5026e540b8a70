/* edge_agent.c — the gate's logic (see edge_agent.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "msg/msg.h"
#include "tools/parklog-edge/edge_agent.h"

#define P_DETECT	"/api/edge/detection"
#define P_OPEN		"/api/edge/barrier/open"
#define P_CLOSE		"/api/edge/barrier/close"
#define P_HEARTBEAT	"/api/edge/heartbeat"

int64_t edge_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void edge_agent_init(edge_agent *a, const edge_conf *cf, edge_barrier *bar,
    edge_queue *q, FILE *out)
{
	memset(a, 0, sizeof *a);
	a->cf = cf;
	a->bar = bar;
	a->q = q;
	a->out = out;
	edge_dedup_init(&a->dd, cf->dedup_ms);
	a->next_hb = edge_now_ms();	/* announce ourselves at once */
}

/* Print one output line {"event":..., more...}; takes `o`. */
static void emit(edge_agent *a, cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	if (s != NULL) {
		fprintf(a->out, "%s\n", s);
		fflush(a->out);
	}
	free(s);
	cJSON_Delete(o);
}

static cJSON *event(const char *name, const char *plate)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "event", name);
	if (plate != NULL)
		cJSON_AddStringToObject(o, "plate_id", plate);
	return o;
}

/* POST to the central in use, failing over in the configured order.
 * The status (5xx counts as unreachable: retry later), or -1. */
static int post(edge_agent *a, const char *path, const char *idem,
    const char *body, cJSON **answer)
{
	edge_http_req rq = { .method = "POST", .path = path, .token = a->cf->token,
	    .idem_key = idem, .body = body, .timeout_ms = a->cf->timeout_ms };
	edge_http_resp r;

	*answer = NULL;
	for (size_t i = 0; i < a->cf->ncentral; i++) {
		size_t k = (a->cur + i) % a->cf->ncentral;
		int rc = edge_http_do(&a->cf->central[k], &rq, &r);

		if (rc != 0 || r.status >= 500) {
			msg_debug("%s:%s%s: %s", a->cf->central[k].host,
			    a->cf->central[k].port, path, rc ? edge_http_strerror(rc) :
			    "server error");
			if (rc == 0)
				edge_http_resp_free(&r);
			continue;
		}
		a->cur = k;
		*answer = cJSON_ParseWithLength(r.body, r.len);
		if (*answer == NULL)
			*answer = cJSON_CreateString(r.body);
		rc = r.status;
		edge_http_resp_free(&r);
		a->sent++;
		return rc;
	}
	a->failed++;
	return -1;
}

static void emit_answer(edge_agent *a, cJSON *o, int status, cJSON *answer)
{
	if (status < 0) {
		cJSON_AddStringToObject(o, "error", "central unreachable");
	} else {
		cJSON_AddNumberToObject(o, "status", status);
		cJSON_AddItemToObject(o, "answer", answer);
	}
	emit(a, o);
}

/* What an answer to a queued record means for it. */
enum { Q_DELIVERED, Q_DEAD, Q_HOLD };

static int verdict(int status)
{
	if (status / 100 == 2)
		return Q_DELIVERED;
	/* refused for the record's own content: resending cannot change it */
	if (status == 400 || status == 409 || status == 413 || status == 422)
		return Q_DEAD;
	/* 401/403 (a token rotated on the central, an edge not yet
	 * configured there), 404, 429, ...: may pass later, so kept */
	return Q_HOLD;
}

/* The oldest record is refused for now: kept (so is all after it), tried
 * again after a backoff, and said loudly each round. Takes ans. */
static void hold(edge_agent *a, const char *id, int st, cJSON *ans)
{
	const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ans, "error"));
	int64_t d = a->held && a->backoff_ms > 0 ? a->backoff_ms : a->cf->retry_ms;
	int64_t cap = a->cf->retry_max_ms > a->cf->retry_ms ? a->cf->retry_max_ms :
	    a->cf->retry_ms;
	cJSON *o = event("held", NULL);

	a->held = 1;
	a->next_retry = edge_now_ms() + d;
	a->backoff_ms = d * 2 < cap ? d * 2 : cap;
	msg_warnx("queue: the central refuses %s (HTTP %d%s%s)%s: %zu actions kept, "
	    "none dropped; next try in %.1f s", id, st, why ? ": " : "", why ? why : "",
	    st == 401 || st == 403 ? "; check this edge's token on both sides" : "",
	    edge_queue_pending(a->q), (double)d / 1000);
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddNumberToObject(o, "pending", (double)edge_queue_pending(a->q));
	cJSON_AddNumberToObject(o, "retry_ms", (double)d);
	emit_answer(a, o, st, ans);
}

/* A queued record answered: delivered (popped), set aside (dead.ndjson)
 * or held. 0 to go on with the next record. Takes ans. */
static int settle(edge_agent *a, const edge_qrec *rec, int st, cJSON *ans)
{
	int v = verdict(st), rc;
	char *txt;
	cJSON *o;

	if (v == Q_HOLD)
		return hold(a, rec->id, st, ans), -1;
	if (v == Q_DEAD) {
		txt = cJSON_PrintUnformatted(ans);
		rc = edge_queue_dead(a->q, rec, st, txt);
		free(txt);
		if (rc == 0)
			msg_warnx("queue: %s %s refused by the central (HTTP %d): set "
			    "aside in %s/dead.ndjson (%lu so far)", rec->path, rec->id,
			    st, a->cf->queue_dir, ++a->dead);
	} else {
		rc = edge_queue_pop(a->q);
	}
	if (rc != 0) {
		msg_warnx("queue: %s: %s", rec->id, strerror(rc));
		cJSON_Delete(ans);
		return -1;
	}
	a->held = 0;
	a->backoff_ms = 0;
	o = event(v == Q_DEAD ? "dead_letter" : "delivered", NULL);
	cJSON_AddStringToObject(o, "id", rec->id);
	cJSON_AddStringToObject(o, "path", rec->path);
	emit_answer(a, o, st, ans);
	return 0;
}

/* Deliver queued records in order; 1 if the queue is now empty. */
static int flush(edge_agent *a)
{
	edge_qrec rec;
	cJSON *ans;
	int st, rc;

	while ((rc = edge_queue_peek(a->q, &rec)) == 0) {
		st = post(a, rec.path, rec.id, rec.body, &ans);
		rc = st < 0 ? -1 : settle(a, &rec, st, ans);
		edge_qrec_free(&rec);
		if (rc != 0)
			return 0;
	}
	if (rc != ENOENT)
		msg_warnx("queue: %s", strerror(rc));
	return rc == ENOENT;
}

/* An action for the log: sent now if nothing waits before it and the
 * central answers, else queued. Its status, or 0 if queued. */
static int action(edge_agent *a, const char *path, const char *id,
    cJSON *body, cJSON **answer)
{
	char *s = cJSON_PrintUnformatted(body);
	int st = -1, rc;
	cJSON *o;

	*answer = NULL;
	if (s != NULL && flush(a) && (st = post(a, path, id, s, answer)) >= 0)
		goto out;	/* answered, a refusal too: the operator sees it
				   and nothing opens (only queued actions,
				   already done offline, are held) */
	st = 0;
	if (s == NULL || (rc = edge_queue_push(a->q, path, id, s)) != 0) {
		msg_warnx("queue: %s: cannot queue %s: %s", id, path,
		    s ? strerror(rc) : "out of memory");
	} else {
		if (strcmp(path, P_HEARTBEAT) != 0)
			a->hb_queued = 0;
		o = event("queued", NULL);
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddNumberToObject(o, "pending", (double)edge_queue_pending(a->q));
		emit(a, o);
	}
	if (!a->held)	/* a held queue keeps its backoff */
		a->next_retry = edge_now_ms() + a->cf->retry_ms;
out:
	free(s);
	return st;
}

/* The body of a barrier action; `timestamp` carries the original time, so
 * a queued action can be recorded when it happened (see README). */
static cJSON *barrier_body(edge_agent *a, const char *plate, const char *act,
    int64_t ts)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "edge_id", a->cf->id);
	cJSON_AddStringToObject(b, "plate_id", plate);
	cJSON_AddStringToObject(b, "action", act);
	if (a->cf->vehicle[0] != '\0')
		cJSON_AddStringToObject(b, "camera_type", a->cf->vehicle);
	cJSON_AddNumberToObject(b, "timestamp", (double)ts);
	return b;
}

static void make_id(edge_agent *a, const char *plate, int64_t ts, char *id, size_t n)
{
	snprintf(id, n, "%s_%" PRId64 "_%s", a->cf->id, ts, plate);
}

static void barrier_open(edge_agent *a, const char *plate)
{
	cJSON *o = event("barrier", plate);

	if (edge_barrier_set(a->bar, 1) != 0) {
		msg_warn("barrier: cannot open");
		cJSON_AddStringToObject(o, "error", "cannot open");
	} else {
		snprintf(a->open_plate, sizeof a->open_plate, "%s", plate);
		a->close_at = edge_now_ms() + a->cf->barrier.open_ms;
		cJSON_AddStringToObject(o, "state", "open");
	}
	emit(a, o);
}

/* Open for `plate`: the central decides, unless it cannot be reached:
 * then the open is queued and the barrier opens anyway (the local operator
 * or the allowed read asked for it). */
static void gate_open(edge_agent *a, const char *plate)
{
	int64_t ts = edge_now_ms();
	cJSON *body = barrier_body(a, plate, "open", ts), *ans, *o;
	char id[EDGE_QUEUE_ID_MAX];
	int st, ok;

	make_id(a, plate, ts, id, sizeof id);
	edge_gate_expect(a->gate, "open", plate);	/* the central's command */
	st = action(a, P_OPEN, id, body, &ans);
	ok = st == 0 || (st / 100 == 2 &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "success")));
	o = event("open", plate);
	cJSON_AddStringToObject(o, "id", id);
	if (st == 0) {
		cJSON_AddBoolToObject(o, "queued", 1);
		emit(a, o);
	} else {
		emit_answer(a, o, st, ans);
	}
	cJSON_Delete(body);
	if (ok)
		barrier_open(a, plate);
}

void edge_agent_command(edge_agent *a, const edge_gate_cmd *c)
{
	int open = strcmp(c->cmd, "open") == 0, rc = 0;
	cJSON *o = event("command", c->plate);

	cJSON_AddStringToObject(o, "command", c->cmd);
	cJSON_AddStringToObject(o, "event_id", c->event_id);
	emit(a, o);
	if (open) {
		barrier_open(a, c->plate);
		rc = edge_barrier_is_open(a->bar) ? 0 : -1;
	} else if (edge_barrier_is_open(a->bar)) {
		/* the central closed it (the entry is confirmed there): no
		 * barrier/close of ours */
		o = event("barrier", c->plate);
		if ((rc = edge_barrier_set(a->bar, 0)) == 0) {
			a->close_at = 0;
			cJSON_AddStringToObject(o, "state", "closed");
			cJSON_AddStringToObject(o, "reason", "central");
		} else {
			cJSON_AddStringToObject(o, "error", "cannot close");
		}
		emit(a, o);
	}
	edge_gate_ack(a->gate, c->event_id, rc == 0, rc == 0 ? NULL :
	    open ? "cannot open" : "cannot close");
}

/* Close the barrier and tell the central (which confirms the entry). */
static void gate_close(edge_agent *a, const char *why)
{
	int64_t ts = edge_now_ms();
	char id[EDGE_QUEUE_ID_MAX], plate[EDGE_PLATE_MAX + 1];
	cJSON *body, *ans, *o;
	int st;

	if (!edge_barrier_is_open(a->bar))
		return;
	snprintf(plate, sizeof plate, "%s", a->open_plate);
	o = event("barrier", plate);
	if (edge_barrier_set(a->bar, 0) != 0) {
		msg_warn("barrier: cannot close");
		cJSON_AddStringToObject(o, "error", "cannot close");
		emit(a, o);
		return;
	}
	a->close_at = 0;
	cJSON_AddStringToObject(o, "state", "closed");
	cJSON_AddStringToObject(o, "reason", why);
	emit(a, o);
	body = barrier_body(a, plate, "close", ts);
	make_id(a, plate, ts, id, sizeof id);
	edge_gate_expect(a->gate, "close", plate);
	st = action(a, P_CLOSE, id, body, &ans);
	cJSON_Delete(body);
	if (st == 0)
		return;	/* the "queued" line says it */
	o = event("close", plate);
	cJSON_AddStringToObject(o, "id", id);
	emit_answer(a, o, st, ans);
}

void edge_agent_passed(edge_agent *a)
{
	gate_close(a, "passed");
}

static void heartbeat(edge_agent *a)
{
	int64_t ts = edge_now_ms();
	cJSON *b = cJSON_CreateObject(), *ans;
	char id[EDGE_QUEUE_ID_MAX];

	/* Offline, one queued heartbeat per stretch between actions says the
	 * gate was alive; a day of them would only delay what follows. */
	if (a->hb_queued && edge_queue_pending(a->q) > 0) {
		cJSON_Delete(b);
		return;
	}
	snprintf(id, sizeof id, "%s_%" PRId64 "_heartbeat", a->cf->id, ts);
	cJSON_AddStringToObject(b, "camera_id", a->cf->id);
	if (a->cf->vehicle[0] != '\0')
		cJSON_AddStringToObject(b, "camera_type", a->cf->vehicle);
	cJSON_AddStringToObject(b, "status", "online");
	cJSON_AddNumberToObject(b, "events_sent", (double)a->sent);
	cJSON_AddNumberToObject(b, "events_failed", (double)a->failed);
	cJSON_AddNumberToObject(b, "timestamp", (double)ts);
	a->hb_queued |= action(a, P_HEARTBEAT, id, b, &ans) == 0;
	cJSON_Delete(ans);
	cJSON_Delete(b);
}

int edge_agent_tick(edge_agent *a)
{
	int64_t now = edge_now_ms(), next;

	if (a->close_at != 0 && now >= a->close_at)
		gate_close(a, "timeout");
	if (now >= a->next_hb) {
		heartbeat(a);
		a->next_hb = now + (int64_t)a->cf->heartbeat_s * 1000;
	}
	if (edge_queue_pending(a->q) > 0 && now >= a->next_retry) {
		a->next_retry = now + a->cf->retry_ms;
		flush(a);	/* a held queue sets its own backoff */
	}
	now = edge_now_ms();
	next = a->next_hb;
	if (a->close_at != 0 && a->close_at < next)
		next = a->close_at;
	if (edge_queue_pending(a->q) > 0 && a->next_retry < next)
		next = a->next_retry;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

/* A–Z 0–9 only, upper case (the central's rule); 0 or -1 if not 6..12. */
static int norm_plate(const char *s, char out[EDGE_PLATE_MAX + 1])
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s))
			continue;
		if (n == EDGE_PLATE_MAX)
			return -1;
		out[n++] = (char)toupper((unsigned char)*s);
	}
	out[n] = '\0';
	return n >= 6 ? 0 : -1;
}

static cJSON *detection_body(edge_agent *a, const cJSON *rd, const char *plate)
{
	cJSON *b = cJSON_CreateObject();
	const cJSON *v;

	cJSON_AddStringToObject(b, "edge_id", a->cf->id);
	cJSON_AddStringToObject(b, "plate_id", plate);
	v = cJSON_GetObjectItemCaseSensitive(rd, "plate_view");
	if (cJSON_IsString(v))
		cJSON_AddStringToObject(b, "plate_view", v->valuestring);
	if (a->cf->vehicle[0] != '\0')
		cJSON_AddStringToObject(b, "camera_type", a->cf->vehicle);
	if (a->cf->direction[0] != '\0')
		cJSON_AddStringToObject(b, "direction", a->cf->direction);
	v = cJSON_GetObjectItemCaseSensitive(rd, "confidence");
	if (cJSON_IsNumber(v))
		cJSON_AddNumberToObject(b, "confidence", v->valuedouble);
	return b;
}

static void plate_read(edge_agent *a, const cJSON *rd)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(rd, "plate_id");
	char plate[EDGE_PLATE_MAX + 1], *s;
	cJSON *ans = NULL, *o;
	int st;

	if (!cJSON_IsString(p) || norm_plate(p->valuestring, plate) != 0) {
		o = event("error", NULL);
		cJSON_AddStringToObject(o, "error", "plate_id: expected 6..12 of A-Z 0-9");
		emit(a, o);
		return;
	}
	if (!edge_dedup_check(&a->dd, plate, edge_now_ms())) {
		emit(a, event("duplicate", plate));
		return;
	}
	snprintf(a->last_plate, sizeof a->last_plate, "%s", plate);
	o = detection_body(a, rd, plate);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	st = s ? post(a, P_DETECT, NULL, s, &ans) : -1;
	free(s);
	/* Auto-open only on the central's yes; offline, the operator decides. */
	if (a->cf->auto_open && st == 200 &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "allowed"))) {
		emit_answer(a, event("detection", plate), st, ans);
		gate_open(a, plate);
		return;
	}
	emit_answer(a, event("detection", plate), st, ans);
}

static void line_error(edge_agent *a, const char *why)
{
	cJSON *o = event("error", NULL);

	cJSON_AddStringToObject(o, "error", why);
	emit(a, o);
}

/* "open" opens for the last plate read; "open PLATE" for that plate. */
static void open_command(edge_agent *a, const char *arg)
{
	char plate[EDGE_PLATE_MAX + 1];

	arg += strspn(arg, " \t");
	if (*arg == '\0')
		snprintf(plate, sizeof plate, "%s", a->last_plate);
	else if (norm_plate(arg, plate) != 0)
		plate[0] = '\0';
	if (plate[0] == '\0')
		line_error(a, "open: no plate (read one first, or \"open PLATE\")");
	else
		gate_open(a, plate);
}

void edge_agent_line(edge_agent *a, const char *line)
{
	cJSON *rd = NULL;

	line += strspn(line, " \t");
	if (strncmp(line, "open", 4) == 0 &&
	    (line[4] == '\0' || isspace((unsigned char)line[4])))
		open_command(a, line + 4);
	else if (strcmp(line, "close") == 0)
		gate_close(a, "command");
	else if (*line == '\0')
		return;
	else if ((rd = cJSON_Parse(line)) != NULL && cJSON_IsObject(rd))
		plate_read(a, rd);
	else
		line_error(a, "expected a JSON plate read, \"open [PLATE]\" or \"close\"");
	cJSON_Delete(rd);
}
