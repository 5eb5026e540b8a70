/* export/export.c — the exporter's thread: batches out of the log, async
 * JetStream publishes, positions after the acks (export/export.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "export/internal.h"
#include "log/event.h"
#include "msg/msg.h"

#define EXPORT__SUBJ_MAX (EXPORT_NAME_MAX * 2 + LOG_ORIGIN_MAX + 24)

/* One event of a batch, copied out of its read transaction. */
typedef struct export__ev {
	char id[LOG_ID_MAX + 1];
	char subj[EXPORT__SUBJ_MAX];
	size_t off, len;		/* in the batch's bytes */
} export__ev;

typedef struct export__batch {
	char stream[LOG_STREAM_MAX + 1];
	uint64_t first, last;		/* seqs */
	export__ev *ev;			/* window entries */
	size_t n;
	char *bytes;			/* window * LOG_EVENT_MAX */
	size_t used;
} export__batch;

struct exporter {
	export_opts o;
	log_store *store;
	export__pos pos;
	pthread_t thr;
	pthread_mutex_t mu;		/* guards what follows, and nc's life */
	pthread_cond_t cv;
	int stop, kicked, started;
	export_stat st;
	natsConnection *nc;
	jsCtx *js;
	atomic_uint_fast64_t ack_errs;	/* in the current batch */
	export__batch b;
};

static int64_t export__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int export__name_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	return n > 0 && n <= EXPORT_NAME_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") + strspn(s, extra) >= n &&
	    strcspn(s, " *>") == n;
}

int export_opts_check(const export_opts *o, char *err, size_t errlen)
{
	if (o->nservers == 0)
		return snprintf(err, errlen, "export.nats.servers: at least one "
		    "nats:// URL"), -1;
	for (size_t i = 0; i < o->nservers; i++)
		if (strncmp(o->servers[i], "nats://", 7) != 0 &&
		    strncmp(o->servers[i], "tls://", 6) != 0)
			return snprintf(err, errlen, "export.nats.servers[%zu]: "
			    "expected nats://host:port or tls://host:port", i), -1;
	if (!export__name_ok(o->facility, ""))
		return snprintf(err, errlen, "export.nats.facility: expected 1..%d "
		    "characters of A-Z a-z 0-9 _ -", EXPORT_NAME_MAX), -1;
	if (o->stream[0] != '\0' && !export__name_ok(o->stream, ""))
		return snprintf(err, errlen, "export.nats.stream: expected 1..%d "
		    "characters of A-Z a-z 0-9 _ -", EXPORT_NAME_MAX), -1;
	if (o->subject_prefix[0] != '\0' && (!export__name_ok(o->subject_prefix, "") ||
	    o->subject_prefix[0] == '.'))
		return snprintf(err, errlen, "export.nats.subject_prefix: expected "
		    "1..%d characters of A-Z a-z 0-9 _ -", EXPORT_NAME_MAX), -1;
	if (o->replicas > 5 || o->window > 65536 || (o->user[0] != '\0') !=
	    (o->password[0] != '\0'))
		return snprintf(err, errlen, "export.nats: replicas 0..5, window "
		    "0..65536, user and password together"), -1;
	return 0;
}

/* ---- the connection ------------------------------------------------------ */

static void export__ack_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	exporter *e = closure;

	atomic_fetch_add(&e->ack_errs, 1);
	(void)js;
	(void)pae;
}

static void export__fail(exporter *e, const char *what, natsStatus s)
{
	pthread_mutex_lock(&e->mu);
	snprintf(e->st.last_error, sizeof e->st.last_error, "%s: %s", what,
	    natsStatus_GetText(s));
	pthread_mutex_unlock(&e->mu);
}

static natsStatus export__options(exporter *e, natsOptions **out)
{
	const char *urls[EXPORT_MAX_SERVERS];
	natsOptions *op = NULL;
	natsStatus s;

	for (size_t i = 0; i < e->o.nservers; i++)
		urls[i] = e->o.servers[i];
	if ((s = natsOptions_Create(&op)) != NATS_OK)
		return s;
	s = natsOptions_SetServers(op, urls, (int)e->o.nservers);
	if (s == NATS_OK)	/* once connected, forever reconnecting */
		s = natsOptions_SetMaxReconnect(op, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(op, 250);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(op, 2000);
	if (s == NATS_OK && e->o.user[0] != '\0')
		s = natsOptions_SetUserInfo(op, e->o.user, e->o.password);
	if (s == NATS_OK && e->o.token[0] != '\0')
		s = natsOptions_SetToken(op, e->o.token);
	if (s == NATS_OK && e->o.creds[0] != '\0')
		s = natsOptions_SetUserCredentialsFromFiles(op, e->o.creds, NULL);
	if (s != NATS_OK) {
		natsOptions_Destroy(op);
		return s;
	}
	*out = op;
	return NATS_OK;
}

/* The stream, created when missing (another central of the facility may
 * create it at the same time: "in use" is then fine). */
static natsStatus export__ensure_stream(exporter *e)
{
	char subj[EXPORT_NAME_MAX * 2 + 8];
	const char *subjs[1] = { subj };
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode ec = 0;
	natsStatus s;

	if ((s = js_GetStreamInfo(&si, e->js, e->o.stream, NULL, &ec)) == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return NATS_OK;
	}
	if (s != NATS_NOT_FOUND)
		return s;
	snprintf(subj, sizeof subj, "%s.%s.>", e->o.subject_prefix, e->o.facility);
	jsStreamConfig_Init(&sc);
	sc.Name = e->o.stream;
	sc.Subjects = subjs;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = e->o.replicas;
	sc.Duplicates = (int64_t)e->o.dedup_window_s * 1000000000LL;
	s = js_AddStream(&si, e->js, &sc, NULL, &ec);
	if (s == NATS_OK)
		msg_info("export: created JetStream stream %s (%s, R%u)", e->o.stream,
		    subj, e->o.replicas);
	jsStreamInfo_Destroy(si);
	return s == NATS_OK || ec == JSStreamNameExistErr ? NATS_OK : s;
}

static void export__disconnect(exporter *e)
{
	pthread_mutex_lock(&e->mu);
	jsCtx_Destroy(e->js);
	natsConnection_Destroy(e->nc);
	e->js = NULL;
	e->nc = NULL;
	pthread_mutex_unlock(&e->mu);
}

static natsStatus export__connect(exporter *e)
{
	natsOptions *op = NULL;
	natsConnection *nc = NULL;
	jsOptions jo;
	jsCtx *js = NULL;
	natsStatus s;

	if ((s = export__options(e, &op)) != NATS_OK)
		return s;
	s = natsConnection_Connect(&nc, op);
	natsOptions_Destroy(op);
	if (s != NATS_OK)
		return s;
	jsOptions_Init(&jo);
	jo.Wait = e->o.ack_wait_ms;
	jo.PublishAsync.MaxPending = e->o.window;
	jo.PublishAsync.ErrHandler = export__ack_err;
	jo.PublishAsync.ErrHandlerClosure = e;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK) {
		natsConnection_Destroy(nc);
		return s;
	}
	pthread_mutex_lock(&e->mu);
	e->nc = nc;
	e->js = js;
	pthread_mutex_unlock(&e->mu);
	if ((s = export__ensure_stream(e)) != NATS_OK)
		export__disconnect(e);
	return s;
}

/* ---- one batch ----------------------------------------------------------- */

/* Copy stream `si`'s events (pos, pos + window] out of the read txn. */
static int export__collect(exporter *e, log_txn *t, const log_stream_info *si,
    uint64_t pos)
{
	export__batch *b = &e->b;
	uint64_t to = si->head_seq - pos > e->o.window ? pos + e->o.window : si->head_seq;
	log_iter *it = NULL;
	log_event ev;
	log_rec r;
	int rc;

	b->n = b->used = 0;
	snprintf(b->stream, sizeof b->stream, "%s", si->name);
	b->first = pos + 1;
	if ((rc = log_iter_range(t, si->no, pos + 1, to, &it)) != 0)
		return rc;
	while ((rc = log_iter_next(it, &r)) == 0) {
		export__ev *x = &b->ev[b->n];
		char origin[LOG_ORIGIN_MAX + 1];

		msg_assert(b->n < e->o.window && r.len <= LOG_EVENT_MAX);
		if ((rc = log_event_decode_stored(r.bytes, r.len, &ev)) != 0)
			break;
		snprintf(origin, sizeof origin, "%s", ev.origin);
		for (char *p = origin; *p != '\0'; p++)	/* '.' splits subjects */
			if (*p == '.')
				*p = '_';
		snprintf(x->id, sizeof x->id, "%s", ev.id);
		snprintf(x->subj, sizeof x->subj, "%s.%s.%s.%s", e->o.subject_prefix,
		    e->o.facility, origin, log_ev_type_name(ev.type));
		memcpy(b->bytes + b->used, r.bytes, r.len);
		x->off = b->used;
		x->len = r.len;
		b->used += r.len;
		b->last = r.seq;
		b->n++;
	}
	log_iter_free(it);
	return rc == LOG_END ? 0 : rc;
}

/* Publish the batch and wait for every ack: 0 only if JetStream acked all
 * of them (a duplicate's ack counts: it is held). */
static natsStatus export__publish(exporter *e)
{
	export__batch *b = &e->b;
	jsPubOptions po;
	natsStatus s = NATS_OK;

	atomic_store(&e->ack_errs, 0);
	jsPubOptions_Init(&po);
	po.MaxWait = e->o.ack_wait_ms;
	for (size_t i = 0; i < b->n && s == NATS_OK; i++) {
		po.MsgId = b->ev[i].id;
		s = js_PublishAsync(e->js, b->ev[i].subj, b->bytes + b->ev[i].off,
		    (int)b->ev[i].len, &po);
	}
	jsPubOptions_Init(&po);
	po.MaxWait = e->o.ack_wait_ms;
	if (s == NATS_OK)
		s = js_PublishAsyncComplete(e->js, &po);
	else	/* what is in flight is sent again with the batch */
		(void)js_PublishAsyncComplete(e->js, &po);
	if (s == NATS_OK && atomic_load(&e->ack_errs) != 0)
		s = NATS_ERR;
	return s;
}

/* One pass over the log's streams: every stream that is ahead of its
 * exported seq gets one batch. Returns the events exported, or -1. */
static long export__round(exporter *e)
{
	log_stream_info *si = NULL;
	size_t n = 0;
	uint64_t lag = 0, pos;
	long done = 0;
	log_txn *t = NULL;
	int rc;
	natsStatus s;

	if ((rc = log_txn_begin(e->store, 0, &t)) != 0 ||
	    (rc = log_txn_streams(t, &si, &n)) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((rc = export__pos_get(&e->pos, si[i].name, &pos)) != 0)
			goto fail;
		if (si[i].head_seq <= pos)
			continue;
		lag += si[i].head_seq - pos;
		if (done != 0)	/* one batch per round; the lag of the others */
			continue;
		if ((rc = export__collect(e, t, &si[i], pos)) != 0)
			goto fail;
		/* a stream's seqs are contiguous: the batch is (pos, last] */
		msg_assert(e->b.n > 0 && e->b.last == pos + e->b.n);
		/* the read txn ends before the wait for NATS */
		log_txn_abort(t);
		t = NULL;
		if ((s = export__publish(e)) != NATS_OK) {
			export__fail(e, "publish", s);
			pthread_mutex_lock(&e->mu);
			e->st.failed_batches++;
			e->st.lag = lag;
			pthread_mutex_unlock(&e->mu);
			free(si);
			return -1;
		}
		if ((rc = export__pos_put(&e->pos, e->b.stream, e->b.last)) != 0)
			goto fail;
		done = (long)e->b.n;
		lag -= e->b.n;
	}
	if (t != NULL)
		log_txn_abort(t);
	free(si);
	pthread_mutex_lock(&e->mu);
	e->st.lag = lag;
	e->st.exported += (uint64_t)done;
	if (done > 0) {
		e->st.batches++;
		e->st.last_ack_ms = export__now_ms();
	}
	pthread_mutex_unlock(&e->mu);
	return done;
fail:
	if (t != NULL)
		log_txn_abort(t);
	free(si);
	pthread_mutex_lock(&e->mu);
	snprintf(e->st.last_error, sizeof e->st.last_error, "log: %s", log_strerror(rc));
	pthread_mutex_unlock(&e->mu);
	return -1;
}

/* ---- the thread ------------------------------------------------------------ */

/* Sleep until a commit, stop, or ms passed. Returns e->stop. */
static int export__wait(exporter *e, int ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&e->mu);
	while (!e->stop && !e->kicked)
		if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) == ETIMEDOUT)
			break;
	e->kicked = 0;
	stop = e->stop;
	pthread_mutex_unlock(&e->mu);
	return stop;
}

static int export__stopping(exporter *e)
{
	int stop;

	pthread_mutex_lock(&e->mu);
	stop = e->stop;
	pthread_mutex_unlock(&e->mu);
	return stop;
}

static void *export__main(void *arg)
{
	exporter *e = arg;
	int backoff = 250;
	natsStatus s;
	long n;

	while (!export__stopping(e)) {
		if (e->js != NULL && natsConnection_Status(e->nc) !=
		    NATS_CONN_STATUS_CONNECTED) {
			/* libnats reconnects; publishing now would only fill
			 * its reconnect buffer with what we send again anyway */
			export__wait(e, 250);
			continue;
		}
		if (e->js == NULL) {
			if ((s = export__connect(e)) != NATS_OK) {
				export__fail(e, "connect", s);
				export__wait(e, backoff);
				backoff = backoff < 4000 ? backoff * 2 : 4000;
				continue;
			}
			backoff = 250;
			pthread_mutex_lock(&e->mu);
			e->st.last_error[0] = '\0';
			pthread_mutex_unlock(&e->mu);
			msg_info("export: connected to NATS, stream %s", e->o.stream);
		}
		if ((n = export__round(e)) < 0)
			export__wait(e, 500);	/* NATS (re)connecting, or a leader election */
		else if (n == 0)
			export__wait(e, 1000);	/* the 1 s also catches a lost kick */
	}
	return NULL;
}

void export_on_commit(exporter *e, const log_commit_info *ci)
{
	if (e == NULL || ci->events == 0)
		return;
	pthread_mutex_lock(&e->mu);
	e->kicked = 1;
	e->st.lag += ci->events;	/* until the next round counts it exactly */
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static void export__defaults(export_opts *o)
{
	if (o->stream[0] == '\0')
		snprintf(o->stream, sizeof o->stream, "parklog-%.*s",
		    EXPORT_NAME_MAX - 8, o->facility);
	if (o->subject_prefix[0] == '\0')
		snprintf(o->subject_prefix, sizeof o->subject_prefix, "parklog");
	if (o->replicas == 0)
		o->replicas = o->nservers >= 3 ? 3 : 1;
	if (o->window == 0)
		o->window = 4096;
	if (o->dedup_window_s == 0)
		o->dedup_window_s = 3600;
	if (o->ack_wait_ms == 0)
		o->ack_wait_ms = 10000;
}

int export_start(log_store *s, const char *data_dir, const export_opts *o,
    exporter **out)
{
	exporter *e = calloc(1, sizeof *e);
	int rc;

	if (e == NULL)
		return ENOMEM;
	e->o = *o;
	export__defaults(&e->o);
	e->store = s;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->b.ev = calloc(e->o.window, sizeof *e->b.ev);
	e->b.bytes = malloc((size_t)e->o.window * LOG_EVENT_MAX);
	if (e->b.ev == NULL || e->b.bytes == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	if ((rc = export__pos_open(&e->pos, data_dir)) != 0)
		goto fail;
	snprintf(e->st.last_error, sizeof e->st.last_error, "not connected yet");
	if ((rc = pthread_create(&e->thr, NULL, export__main, e)) != 0)
		goto fail;
	e->started = 1;
	*out = e;
	return 0;
fail:
	export__pos_close(&e->pos);
	free(e->b.ev);
	free(e->b.bytes);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
	return rc;
}

void export_stop(exporter *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (e->started)
		pthread_join(e->thr, NULL);
	export__disconnect(e);
	export__pos_close(&e->pos);
	free(e->b.ev);
	free(e->b.bytes);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void export_get_stat(exporter *e, export_stat *out)
{
	pthread_mutex_lock(&e->mu);
	*out = e->st;
	out->connected = e->nc != NULL &&
	    natsConnection_Status(e->nc) == NATS_CONN_STATUS_CONNECTED;
	pthread_mutex_unlock(&e->mu);
}

int export_metrics(exporter *e, char *buf, size_t len)
{
	export_stat st;

	export_get_stat(e, &st);
	return snprintf(buf, len,
	    "# HELP parklog_export_lag_events Committed events not yet acked by JetStream.\n"
	    "# TYPE parklog_export_lag_events gauge\n"
	    "parklog_export_lag_events %" PRIu64 "\n"
	    "# TYPE parklog_export_connected gauge\n"
	    "parklog_export_connected %d\n"
	    "# TYPE parklog_export_events_total counter\n"
	    "parklog_export_events_total %" PRIu64 "\n"
	    "# TYPE parklog_export_failed_batches_total counter\n"
	    "parklog_export_failed_batches_total %" PRIu64 "\n",
	    st.lag, st.connected, st.exported, st.failed_batches);
}

void export_status_json(exporter *e, cJSON *obj)
{
	cJSON *o = cJSON_AddObjectToObject(obj, "export");
	export_stat st;

	if (o == NULL)
		return;
	export_get_stat(e, &st);
	cJSON_AddStringToObject(o, "engine", "nats-jetstream");
	cJSON_AddStringToObject(o, "stream", e->o.stream);
	cJSON_AddStringToObject(o, "facility", e->o.facility);
	cJSON_AddBoolToObject(o, "connected", st.connected);
	cJSON_AddNumberToObject(o, "lag", (double)st.lag);
	cJSON_AddNumberToObject(o, "exported", (double)st.exported);
	cJSON_AddNumberToObject(o, "failed_batches", (double)st.failed_batches);
	cJSON_AddNumberToObject(o, "last_ack_ms", (double)st.last_ack_ms);
	cJSON_AddStringToObject(o, "last_error", st.last_error);
}
