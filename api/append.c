/* api/append.c — the writer side of edge writes: decide inside the batch's
 * write transaction (earlier jobs of the batch are visible), append last.
 *
 * Idempotency is decided here, from durable state only, so it survives a
 * crash between commit and answer:
 *   - an Idempotency-Key (or a Phase 1 event_id) maps, in the api's own
 *     table, to the event the first request appended, for idem_key_ttl_s
 *     (then the key is new again; old keys are purged in small chunks by
 *     the writes themselves). The table: key → event id, and
 *     't' ‖ time (8, BE) ‖ key → event id, the keys in time order;
 *   - without a key, the plate's latest event made at this gate by this
 *     central within idem_window_ms is taken as the first answer.
 */
#include "api/internal.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "msg/msg.h"
#include "projections/ops.h"

#define API__IDEM_DB "api_idem"

int api__idem_open(api_server *srv)
{
	return log_store_dbi(srv->store, API__IDEM_DB, MDB_CREATE, &srv->idem_dbi);
}

static api__req *api__job_req(log_job *job)
{
	return job->arg;
}

/* Forget any result of an earlier run (a failed batch may be re-run). */
static void api__result_reset(api__write *w)
{
	size_t off = offsetof(api__write, status);

	memset((char *)w + off, 0, sizeof *w - off);
	w->entry_ts = w->duration_s = w->fee = -1;
	w->status = 200;
}

static int api__event_get(log_txn *txn, const char *id, log_event *ev)
{
	char why[128];
	log_rec rec;
	int rc;

	if ((rc = log_txn_get_id(txn, id, &rec)) != 0)
		return rc;
	return log_event_decode(rec.bytes, rec.len, ev, why, sizeof why);
}

/* The first answer again, from the event that request appended. */
static void api__replay(api__write *w, const log_event *ev)
{
	w->replayed = 1;
	w->status = 200;
	snprintf(w->event_id, sizeof w->event_id, "%s", ev->id);
	snprintf(w->out_view, sizeof w->out_view, "%s", ev->plate_view);
	snprintf(w->out_vehicle, sizeof w->out_vehicle, "%s", ev->vehicle);
	w->ts = ev->ts;
	switch (ev->type) {
	case LOG_EV_ENTRY_PENDING:
		w->action = API__ACT_ENTRY;
		snprintf(w->session, sizeof w->session, "%s", ev->id);
		w->entry_ts = ev->ts;
		break;
	case LOG_EV_EXIT:
		w->action = API__ACT_EXIT;
		snprintf(w->session, sizeof w->session, "%s",
		    ev->session[0] ? ev->session : ev->id);
		w->has_entry = ev->entry_ts >= 0;
		w->entry_ts = ev->entry_ts;
		w->duration_s = ev->duration_s;
		w->fee = ev->fee;
		break;
	default:
		w->action = API__ACT_CONFIRM;
		snprintf(w->session, sizeof w->session, "%s", ev->session);
		break;
	}
}

/* How long an Idempotency-Key is remembered, by the current policy. */
static int64_t api__ttl_ms(api_server *srv)
{
	api__policy *p = api__policy_get(srv);
	int64_t ms = (int64_t)p->idem_key_ttl_s * 1000;

	api__policy_put(p);
	return ms;
}

/* Idempotency-Key: 0 and replayed, LOG_NOTFOUND, or an error. */
static int api__idem_replay(api_server *srv, log_txn *txn, api__write *w)
{
	MDB_val k = { strlen(w->idem), w->idem }, d;
	char id[LOG_ID_MAX + 1];
	log_event ev;
	int rc;

	rc = mdb_get(log_txn_mdb(txn), srv->idem_dbi, &k, &d);
	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	if (rc != 0)
		return rc;
	if (d.mv_size == 0 || d.mv_size > LOG_ID_MAX)
		return LOG_ECORRUPT;
	memcpy(id, d.mv_data, d.mv_size);
	id[d.mv_size] = '\0';
	/* A key whose append failed points nowhere: not a replay. */
	if ((rc = api__event_get(txn, id, &ev)) != 0)
		return rc == LOG_NOTFOUND ? LOG_NOTFOUND : rc;
	/* remembered no longer: the key is new again */
	if (ev.ts < w->now_ms - (int64_t)api__ttl_ms(srv))
		return LOG_NOTFOUND;
	if (strcmp(ev.plate, w->plate) != 0) {
		w->status = 422;
		snprintf(w->error, sizeof w->error, "%s: already used for "
		    "another plate", w->kind == API__W_EVENT1 ? "event_id" :
		    "Idempotency-Key");
		return 0;
	}
	api__replay(w, &ev);
	return 0;
}

static int api__idem_put(api_server *srv, log_txn *txn, const api__write *w,
    const char *id)
{
	MDB_val k = { strlen(w->idem), (void *)w->idem }, d = { strlen(id), (void *)id };
	unsigned char tk[1 + 8 + API__IDEM_KEY_MAX];
	MDB_val t = { 1 + 8 + k.mv_size, tk };
	int rc;

	if (w->idem[0] == '\0')
		return 0;
	tk[0] = 't';
	for (int i = 0; i < 8; i++)
		tk[1 + i] = (unsigned char)((uint64_t)w->now_ms >> (56 - 8 * i));
	memcpy(tk + 9, w->idem, k.mv_size);
	if ((rc = mdb_put(log_txn_mdb(txn), srv->idem_dbi, &k, &d, 0)) != 0)
		return rc;
	return mdb_put(log_txn_mdb(txn), srv->idem_dbi, &t, &d, 0);
}

/* Forget up to 256 keys older than the ttl (a key since reused for a newer
 * event stays). At most once a minute (or a ttl, if shorter), inside a
 * write's transaction. */
static int api__idem_purge(api_server *srv, log_txn *txn, int64_t now)
{
	int64_t before = now - (int64_t)api__ttl_ms(srv);
	unsigned char from = 't';
	MDB_val k = { 1, &from }, d, cur;
	MDB_cursor *c;
	int rc, n = 0;

	if (now - srv->idem_purged_ms < (before < now - 60000 ? 60000 : now - before))
		return 0;
	if ((rc = mdb_cursor_open(log_txn_mdb(txn), srv->idem_dbi, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0 && n < 256;
	    rc = mdb_cursor_get(c, &k, &d, MDB_NEXT), n++) {
		const unsigned char *p = k.mv_data;
		int64_t ts = 0;

		if (k.mv_size < 10 || p[0] != 't')
			break;
		for (int i = 0; i < 8; i++)
			ts = (int64_t)((uint64_t)ts << 8 | p[1 + i]);
		if (ts >= before)
			break;
		cur = (MDB_val){ k.mv_size - 9, (void *)(p + 9) };
		{
			MDB_val now_id;

			if (mdb_get(log_txn_mdb(txn), srv->idem_dbi, &cur, &now_id) == 0 &&
			    now_id.mv_size == d.mv_size &&
			    memcmp(now_id.mv_data, d.mv_data, d.mv_size) == 0 &&
			    (rc = mdb_del(log_txn_mdb(txn), srv->idem_dbi, &cur, NULL)) != 0)
				break;
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || rc == 0) {
		if (n < 256)
			srv->idem_purged_ms = now;	/* caught up */
		return 0;
	}
	return rc;
}

/* The plate's last EXIT, if its last event is one: 0, LOG_NOTFOUND. */
static int api__last_exit(log_txn *txn, const char *plate, log_event *ev)
{
	log_iter *it;
	log_rec rec, last = { .type = LOG_EV_NONE };
	char why[128];
	int rc;

	if ((rc = log_iter_plate(txn, plate, &it)) != 0)
		return rc;
	while ((rc = log_iter_next(it, &rec)) == 0)
		last = rec;	/* bytes stay valid until the txn ends */
	log_iter_free(it);
	if (rc != LOG_END)
		return rc;
	if (last.type != LOG_EV_EXIT)
		return LOG_NOTFOUND;
	return log_event_decode(last.bytes, last.len, ev, why, sizeof why);
}

/* Same gate, same plate, within the window: 0 and replayed, or
 * LOG_NOTFOUND. Only our own events count (edge ids are per central). */
static int api__window_replay(api__req *r, log_txn *txn, const proj_session *in)
{
	api_server *srv = r->srv;
	api__write *w = &r->w;
	int64_t win = r->pol->idem_window_ms;
	log_event ev;
	int rc;

	if (win == 0)
		return LOG_NOTFOUND;
	/* A gate that only exits never repeats an entry, and vice versa. */
	if (in != NULL && w->dir == API_DIR_EXIT)
		return LOG_NOTFOUND;
	if (in != NULL) {
		if (strcmp(in->entry_edge, w->edge_id) != 0 ||
		    strcmp(in->entry_origin, srv->origin) != 0 ||
		    w->now_ms - in->entry_ts > win)
			return LOG_NOTFOUND;
		if ((rc = api__event_get(txn, in->id, &ev)) != 0)
			return rc;
		api__replay(w, &ev);
		return 0;
	}
	if (w->dir == API_DIR_ENTRY)
		return LOG_NOTFOUND;
	/* Not inside: a retry if the plate's last event is our exit here. */
	if ((rc = api__last_exit(txn, w->plate, &ev)) != 0)
		return rc;
	if (strcmp(ev.edge_id, w->edge_id) != 0 || strcmp(ev.origin, srv->origin) != 0 ||
	    w->now_ms - ev.ts > win)
		return LOG_NOTFOUND;
	api__replay(w, &ev);
	return 0;
}

/* Fill what every own event of this request carries. */
static int api__event_base(api__req *r, log_txn *txn, log_event *ev,
    enum log_ev_type type, const proj_session *in)
{
	api__write *w = &r->w;
	const char *view = w->plate_view[0] ? w->plate_view :
	    in != NULL ? in->plate_view : w->plate;
	const char *veh = in != NULL && type != LOG_EV_ENTRY_PENDING ? in->vehicle :
	    w->vehicle[0] ? w->vehicle : "car";

	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->entry_ts = ev->duration_s = -1;
	snprintf(ev->plate, sizeof ev->plate, "%s", w->plate);
	snprintf(ev->plate_view, sizeof ev->plate_view, "%s", view);
	snprintf(ev->vehicle, sizeof ev->vehicle, "%s", veh);
	snprintf(ev->edge_id, sizeof ev->edge_id, "%s", w->edge_id);
	ev->confidence_milli = w->conf_milli >= 0 ? w->conf_milli : 0;
	if (in != NULL)
		snprintf(ev->session, sizeof ev->session, "%s", in->id);
	ev->edge_ts = w->edge_ts;
	return log_txn_next_ts(txn, w->plate, w->now_ms, &ev->ts);
}

/* Append last: the key row first (it names the id the event will get),
 * then the event. A failed append leaves a key that points nowhere. */
static int api__append(api__req *r, log_txn *txn, log_event *ev)
{
	api__write *w = &r->w;
	char id[LOG_ID_MAX + 1];
	int rc;

	log_event_id(id, r->srv->origin, ev->ts, ev->plate);
	if ((rc = api__idem_put(r->srv, txn, w, id)) != 0 ||
	    (rc = log_txn_append_own(txn, ev)) != 0)
		return rc;
	w->appended = 1;
	api__replay(w, ev);
	w->replayed = 0;
	return 0;
}

static int api__entry(api__req *r, log_txn *txn)
{
	log_event ev;
	int rc;

	if ((rc = api__event_base(r, txn, &ev, LOG_EV_ENTRY_PENDING, NULL)) != 0)
		return rc;
	return api__append(r, txn, &ev);
}

static int api__exit(api__req *r, log_txn *txn, const proj_session *in)
{
	const proj_tariff *t = &r->pol->tariff;
	char pass[LOG_PASS_MAX + 1];
	log_event ev;
	int rc;

	if ((rc = api__event_base(r, txn, &ev, LOG_EV_EXIT, in)) != 0)
		return rc;
	snprintf(ev.tariff, sizeof ev.tariff, "%s", t->name);
	if (in == NULL) {
		/* recorded as such: no session (ops.h: a pass, the tariff in force) */
		proj_ops_orphan_fee(proj_get_ops(r->srv->proj), t, ev.plate,
		    ev.vehicle, log_event_at(&ev), &ev.fee, ev.tariff);
	} else {
		int64_t at = log_event_at(&ev);	/* when it left, at the gate */

		if (at <= in->entry_ts)		/* gate clocks disagree: ours */
			at = ev.ts;

		ev.entry_ts = in->entry_ts;
		ev.duration_s = (at - in->entry_ts) / 1000;
		/* ops.h: free inside a pass; the tariff in force at `at` */
		if ((rc = proj_ops_exit_fee(proj_get_ops(r->srv->proj), t, ev.plate,
		    ev.vehicle, in->entry_ts, at, &ev.fee, ev.tariff, pass)) != 0) {
			r->w.status = 500;
			snprintf(r->w.error, sizeof r->w.error, "tariff: no fee "
			    "for class %s (%d)", ev.vehicle, rc);
			return 0;
		}
	}
	return api__append(r, txn, &ev);
}

static void api__conflict(api__write *w, const proj_session *in, const char *why)
{
	w->status = 409;
	snprintf(w->error, sizeof w->error, "%s", why);
	snprintf(w->session, sizeof w->session, "%s", in->id);
	snprintf(w->entry_edge, sizeof w->entry_edge, "%s", in->entry_edge);
	snprintf(w->out_view, sizeof w->out_view, "%s", in->plate_view);
	w->entry_ts = in->entry_ts;
}

/* barrier/open and Phase 1 ENTRY/EXIT. */
static int api__run_open(api__req *r, log_txn *txn)
{
	api__write *w = &r->w;
	proj_session in;
	enum api_direction dir = w->dir;
	int rc, inside;

	if (w->idem[0] != '\0' && (rc = api__idem_replay(r->srv, txn, w)) != LOG_NOTFOUND)
		return rc;
	rc = proj_inside_get(r->srv->proj, txn, w->plate, &in);
	if (rc != 0 && rc != LOG_NOTFOUND)
		return rc;
	inside = rc == 0;
	if ((rc = api__window_replay(r, txn, inside ? &in : NULL)) != LOG_NOTFOUND)
		return rc;
	if (dir == API_DIR_NONE)
		dir = inside ? API_DIR_EXIT : API_DIR_ENTRY;
	if (dir == API_DIR_ENTRY && inside) {
		api__conflict(w, &in, "plate already inside");
		return 0;
	}
	return dir == API_DIR_ENTRY ? api__entry(r, txn) :
	    api__exit(r, txn, inside ? &in : NULL);
}

/* barrier/close: confirm the entry (an entry gate's close). */
static int api__run_close(api__req *r, log_txn *txn)
{
	api__write *w = &r->w;
	proj_session in;
	log_event ev;
	int rc;

	rc = proj_inside_get(r->srv->proj, txn, w->plate, &in);
	if (rc != 0 && rc != LOG_NOTFOUND)
		return rc;
	if (rc == LOG_NOTFOUND || w->dir == API_DIR_EXIT) {
		/* After an exit the barrier just closes. */
		if (rc == LOG_NOTFOUND && w->dir == API_DIR_ENTRY) {
			w->status = 409;
			snprintf(w->error, sizeof w->error, "plate not inside");
		}
		return 0;
	}
	snprintf(w->session, sizeof w->session, "%s", in.id);
	if (in.flags & PROJ_S_CONFIRMED) {
		w->action = API__ACT_CONFIRM;
		w->replayed = 1;
		return 0;
	}
	if ((rc = api__event_base(r, txn, &ev, LOG_EV_ENTRY_CONFIRMED, &in)) != 0)
		return rc;
	return api__append(r, txn, &ev);
}

int api__run(log_job *job, log_txn *txn)
{
	api__req *r = api__job_req(job);
	int rc;

	api__result_reset(&r->w);
	if ((rc = api__idem_purge(r->srv, txn, r->w.now_ms)) != 0)
		return rc;
	return r->w.kind == API__W_CLOSE ? api__run_close(r, txn) :
	    api__run_open(r, txn);
}

/* One line per appended event, after it is durable. */
static void api__announce(const api__write *w)
{
	static const char *names[] = { "", "ENTRY_PENDING", "EXIT", "ENTRY_CONFIRMED" };

	if (w->action == API__ACT_EXIT)
		msg_debug("Appended EXIT: %s (%s), session %s, fee %" PRId64,
		    w->out_view, w->event_id, w->has_entry ? w->session : "none",
		    w->fee);
	else
		msg_debug("Appended %s: %s (%s)", names[w->action], w->out_view,
		    w->event_id);
}

/* The gate channel's answer: now the request answers. Any thread. */
static void api__barrier_done(void *arg, const api_gate_result *b)
{
	api__req *r = arg;
	struct MHD_Connection *c = r->conn;

	r->w.barrier = *b;
	/* the reply is formatted without escaping: keep it plain */
	for (char *p = r->w.barrier.reason; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '\'';
	r->state = API__RS_DONE;
	MHD_resume_connection(c);	/* last: r may be freed after it */
}

/* A successful barrier open or close at a gate: ask the gate channel to
 * drive that gate's barrier. 1 if asked (the answer comes later). */
static int api__barrier_ask(api__req *r)
{
	const api_hooks *h = &r->srv->hooks;
	api__write *w = &r->w;
	const char *id = w->event_id[0] != '\0' ? w->event_id : w->session;

	if (h->barrier == NULL || w->status != 200 || id[0] == '\0' ||
	    (w->kind != API__W_OPEN && w->kind != API__W_CLOSE))
		return 0;
	w->barrier_asked = 1;
	if (h->barrier(h->gate_ctx, w->edge_id, w->kind == API__W_OPEN ? "open" : "close",
	    id, w->plate, api__barrier_done, r) == 0)
		return 1;
	snprintf(w->barrier.reason, sizeof w->barrier.reason, "gate offline");
	return 0;
}

void api__done(log_job *job, int rc)
{
	api__req *r = api__job_req(job);
	api_server *srv = r->srv;
	struct MHD_Connection *c = r->conn;
	api__write *w = &r->w;

	if (rc != 0) {
		w->status = rc == LOG_ESTOPPED ? 503 : rc == LOG_ENOSPACE ? 507 : 500;
		w->appended = w->replayed = 0;
		snprintf(w->error, sizeof w->error, "log: %s", log_strerror(rc));
	} else if (w->appended) {
		atomic_fetch_add(&srv->m.appends[w->action == API__ACT_ENTRY ?
		    LOG_EV_ENTRY_PENDING : w->action == API__ACT_EXIT ?
		    LOG_EV_EXIT : LOG_EV_ENTRY_CONFIRMED], 1);
		api__announce(w);
	} else if (w->replayed) {
		atomic_fetch_add(&srv->m.replays, 1);
	}
	if (rc == 0 && api__barrier_ask(r))
		return;		/* answered when the gate acks (or does not) */
	r->state = API__RS_DONE;
	/* Last: once resumed, MHD may answer and free r at any moment. */
	MHD_resume_connection(c);
}
