/* peers/status.c — what the service shows: status snapshots (thread-safe),
 * the HTTP API hooks, Prometheus metrics, and the `peers` table records
 * (one JSON object per peer id, so `mdb_dump` shows them as they are). */
#include "peers/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "msg/msg.h"

void peer__status_set_error(peer__peer *p, const char *why)
{
	pthread_mutex_lock(&p->svc->mu);
	snprintf(p->st.last_error, sizeof p->st.last_error, "%s", why);
	pthread_mutex_unlock(&p->svc->mu);
}

/* The peer's known vector (seqs) from the connection's sync state. */
static peer_head *peer__known_vector(const peer_sync *ps, size_t *n)
{
	peer_head *v = calloc(ps->n ? ps->n : 1, sizeof *v);

	*n = 0;
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->s[i].known > 0) {
			memcpy(v[*n].stream, ps->s[i].name, sizeof v[*n].stream);
			v[(*n)++].seq = ps->s[i].known;
		}
	return v;
}

/* Does it hold anything we lack? */
static int peer__ahead_of_us(peer_service *svc, const peer_sync *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		const peer_head *h = peer__mine(svc, ps->s[i].name, NULL);

		if (!ps->s[i].forked && ps->s[i].known > (h ? h->seq : 0))
			return 1;
	}
	return 0;
}

/* On the service thread: lag, vector and last sync time of connected peers. */
void peer__status_update(peer_service *svc)
{
	int64_t now = peer__now_ms();

	for (size_t i = 0; i < svc->npeers; i++) {
		peer__peer *p = svc->peers[i];
		peer__conn *c = p ? p->active : NULL;
		peer_head *v, *old;
		uint64_t lag;
		size_t n;
		int insync;

		if (c == NULL || c->state != PEER__C_UP)
			continue;
		lag = peer_sync_lag(&c->sync, svc->mine, svc->nmine);
		insync = lag == 0 && peer_sync_idle(&c->sync) && !peer__ahead_of_us(svc, &c->sync);
		v = peer__known_vector(&c->sync, &n);
		pthread_mutex_lock(&svc->mu);
		p->st.lag = lag;
		if (insync && p->st.last_sync_ms != now) {
			p->st.last_sync_ms = now;
			p->dirty = 1;
		}
		old = v ? p->st.vector : NULL;
		if (v != NULL) {
			p->st.vector = v;
			p->st.nvector = n;
		}
		pthread_mutex_unlock(&svc->mu);
		free(old);
	}
}

int peer_service_status(peer_service *svc, peer_status **out, size_t *n)
{
	peer_status *st;
	int rc = 0;

	pthread_mutex_lock(&svc->mu);
	*n = svc->npeers;
	if ((st = calloc(*n ? *n : 1, sizeof *st)) == NULL)
		rc = ENOMEM;
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		const peer_status *s = &svc->peers[i]->st;

		st[i] = *s;
		st[i].vector = NULL;
		if (s->nvector > 0 && (st[i].vector = malloc(s->nvector * sizeof *s->vector)) == NULL)
			rc = ENOMEM;
		else if (s->nvector > 0)
			memcpy(st[i].vector, s->vector, s->nvector * sizeof *s->vector);
	}
	pthread_mutex_unlock(&svc->mu);
	if (rc != 0) {
		peer_status_free(st, *n);
		*n = 0;
		st = NULL;
	}
	*out = st;
	return rc;
}

void peer_status_free(peer_status *st, size_t n)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(st[i].vector);
	free(st);
}

/* ---- JSON ------------------------------------------------------------------ */

static void peer__iso(int64_t ms, char out[48])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void peer__add_time(cJSON *o, const char *key, int64_t ms)
{
	char iso[48];

	if (ms <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	peer__iso(ms, iso);
	cJSON_AddStringToObject(o, key, iso);
}

static void peer__add_vector(cJSON *o, const peer_status *s)
{
	cJSON *v = cJSON_AddObjectToObject(o, "vector");

	for (size_t k = 0; v != NULL && k < s->nvector; k++)
		cJSON_AddNumberToObject(v, s->vector[k].stream, (double)s->vector[k].seq);
}

static void peer__add_counters(cJSON *o, const peer_status *s)
{
	cJSON *f;

	cJSON_AddNumberToObject(o, "events_sent", (double)s->events_sent);
	cJSON_AddNumberToObject(o, "events_received", (double)s->events_received);
	cJSON_AddNumberToObject(o, "bytes_sent", (double)s->bytes_sent);
	cJSON_AddNumberToObject(o, "bytes_received", (double)s->bytes_received);
	cJSON_AddNumberToObject(o, "frames_sent", (double)s->frames_sent);
	cJSON_AddNumberToObject(o, "frames_received", (double)s->frames_received);
	cJSON_AddNumberToObject(o, "connects", (double)s->connects);
	cJSON_AddNumberToObject(o, "auth_failures", (double)s->auth_failures);
	cJSON_AddNumberToObject(o, "lag", (double)s->lag);
	cJSON_AddNumberToObject(o, "last_seen_ms", (double)s->last_seen_ms);
	cJSON_AddNumberToObject(o, "last_sync_ms", (double)s->last_sync_ms);
	f = cJSON_AddArrayToObject(o, "forks");
	for (size_t k = 0; f != NULL && k < s->nforks && k < 4; k++)
		cJSON_AddItemToArray(f, cJSON_CreateString(s->forks[k]));
}

/* "id\0json": a record of the `peers` table (malloc'd). */
char *peer__progress_json(const peer_status *s)
{
	cJSON *o = cJSON_CreateObject();
	char *json, *rec = NULL;
	size_t il = strlen(s->id), jl;

	if (o == NULL)
		return NULL;
	peer__add_counters(o, s);
	peer__add_vector(o, s);
	if ((json = cJSON_PrintUnformatted(o)) != NULL) {
		jl = strlen(json);
		if ((rec = malloc(il + 1 + jl + 1)) != NULL) {
			memcpy(rec, s->id, il + 1);
			memcpy(rec + il + 1, json, jl + 1);
		}
	}
	cJSON_free(json);
	cJSON_Delete(o);
	return rec;
}

static uint64_t peer__num(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(j) && j->valuedouble >= 0 ? (uint64_t)j->valuedouble : 0;
}

static void peer__load_one(peer_status *s, const cJSON *o)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "vector"), *c;
	const cJSON *forks = cJSON_GetObjectItemCaseSensitive(o, "forks");
	size_t n = 0;

	/* a fork stays refused across restarts (peer__conn_up reapplies it) */
	cJSON_ArrayForEach(c, forks)
		if (cJSON_IsString(c) && strlen(c->valuestring) <= LOG_STREAM_MAX) {
			if (s->nforks < 4)
				snprintf(s->forks[s->nforks], sizeof s->forks[0], "%s",
				    c->valuestring);
			s->nforks++;
		}

	s->events_sent = peer__num(o, "events_sent");
	s->events_received = peer__num(o, "events_received");
	s->bytes_sent = peer__num(o, "bytes_sent");
	s->bytes_received = peer__num(o, "bytes_received");
	s->frames_sent = peer__num(o, "frames_sent");
	s->frames_received = peer__num(o, "frames_received");
	s->connects = peer__num(o, "connects");
	s->auth_failures = peer__num(o, "auth_failures");
	s->lag = peer__num(o, "lag");
	s->last_seen_ms = (int64_t)peer__num(o, "last_seen_ms");
	s->last_sync_ms = (int64_t)peer__num(o, "last_sync_ms");
	if (!cJSON_IsObject(v) || (s->vector = calloc((size_t)cJSON_GetArraySize(v) + 1,
	    sizeof *s->vector)) == NULL)
		return;
	cJSON_ArrayForEach(c, v)
		if (c->string != NULL && strlen(c->string) <= LOG_STREAM_MAX && cJSON_IsNumber(c)) {
			snprintf(s->vector[n].stream, sizeof s->vector[n].stream, "%s", c->string);
			s->vector[n++].seq = (uint64_t)c->valuedouble;
		}
	s->nvector = n;
}

/* At create: the persisted progress of the configured peers. */
int peer__load_progress(peer_service *svc)
{
	log_txn *t = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	if ((rc = log_txn_begin(svc->store, 0, &t)) != 0 ||
	    (rc = mdb_cursor_open(log_txn_mdb(t), svc->dbi, &cur)) != 0)
		goto err;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		for (size_t i = 0; i < svc->npeers; i++) {
			peer_status *s = &svc->peers[i]->st;
			cJSON *o;

			if (k.mv_size != strlen(s->id) || memcmp(k.mv_data, s->id, k.mv_size) != 0)
				continue;
			if ((o = cJSON_ParseWithLength(v.mv_data, v.mv_size)) != NULL)
				peer__load_one(s, o);
			else
				msg_warnx("peers: progress record of %s unreadable; ignored", s->id);
			cJSON_Delete(o);
		}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
err:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (t != NULL)
		log_txn_abort(t);
	return rc;
}

/* ---- API hooks ----------------------------------------------------------------- */

static void peer__replace(cJSON *obj, const char *key, cJSON *val)
{
	if (val == NULL)
		return;
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

static cJSON *peer__peer_json(const peer_status *s, int sync_state)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "peer_id", s->id);
	cJSON_AddStringToObject(o, "peer_ip", s->host);
	cJSON_AddNumberToObject(o, "peer_port", s->port);
	cJSON_AddBoolToObject(o, "connected", s->connected);
	if (sync_state) {
		peer__add_time(o, "last_sync_time", s->last_sync_ms);
		cJSON_AddNumberToObject(o, "lag", (double)s->lag);
		cJSON_AddNumberToObject(o, "events_received", (double)s->events_received);
		cJSON_AddNumberToObject(o, "events_sent", (double)s->events_sent);
		peer__add_vector(o, s);
		return o;
	}
	peer__add_time(o, "last_ping_time", s->last_seen_ms);
	cJSON_AddStringToObject(o, "direction", !s->connected ? "" : s->dialed ? "out" : "in");
	peer__add_time(o, "connected_since", s->connected_since_ms);
	peer__add_time(o, "last_sync_time", s->last_sync_ms);
	peer__add_counters(o, s);
	cJSON_AddStringToObject(o, "last_error", s->last_error);
	peer__add_vector(o, s);
	return o;
}

uint64_t peer_service_id_conflict(peer_service *svc, char *buf, size_t len)
{
	uint64_t n;

	pthread_mutex_lock(&svc->mu);
	n = svc->id_conflicts;
	if (len > 0)
		snprintf(buf, len, "%s", svc->id_conflict);
	pthread_mutex_unlock(&svc->mu);
	return n;
}

static void peer__api(peer_service *svc, cJSON *obj, int sync_state)
{
	peer_status *st = NULL;
	size_t n = 0, up = 0;
	uint64_t fs = 0, fr = 0;
	cJSON *arr;

	if (peer_service_status(svc, &st, &n) != 0 || (arr = cJSON_CreateArray()) == NULL) {
		peer_status_free(st, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		up += st[i].connected != 0;
		fs += st[i].frames_sent;
		fr += st[i].frames_received;
		cJSON_AddItemToArray(arr, peer__peer_json(&st[i], sync_state));
	}
	peer__replace(obj, "standalone_mode", cJSON_CreateBool(n == 0));
	if (!sync_state) {
		char conflict[sizeof ((peer_service *)0)->id_conflict];

		peer_service_id_conflict(svc, conflict, sizeof conflict);
		peer__replace(obj, "id_conflict", conflict[0] ? cJSON_CreateString(conflict) :
		    cJSON_CreateNull());
	}
	peer__replace(obj, "peers", arr);
	if (!sync_state) {
		peer__replace(obj, "total_peers", cJSON_CreateNumber((double)n));
		peer__replace(obj, "connected_peers", cJSON_CreateNumber((double)up));
		peer__replace(obj, "messages_sent", cJSON_CreateNumber((double)fs));
		peer__replace(obj, "messages_received", cJSON_CreateNumber((double)fr));
	}
	peer_status_free(st, n);
}

void peer_service_api_status(void *svc, struct cJSON *obj)
{
	peer__api(svc, obj, 0);
}

void peer_service_api_sync_state(void *svc, struct cJSON *obj)
{
	peer__api(svc, obj, 1);
}

/* ---- metrics ------------------------------------------------------------------- */

int peer_service_metrics(peer_service *svc, char *buf, size_t len)
{
	static const char *const help =
	    "# TYPE parklog_peer_connected gauge\n"
	    "# TYPE parklog_peer_lag_events gauge\n"
	    "# TYPE parklog_peer_events_sent_total counter\n"
	    "# TYPE parklog_peer_events_received_total counter\n"
	    "# TYPE parklog_peer_bytes_sent_total counter\n"
	    "# TYPE parklog_peer_bytes_received_total counter\n"
	    "# TYPE parklog_peer_auth_failures_total counter\n"
	    "# TYPE parklog_peer_forks gauge\n"
	    "# TYPE parklog_peer_last_sync_timestamp_seconds gauge\n";
	peer_status *st = NULL;
	size_t n = 0, off = 0;
	int k;

	if (peer_service_status(svc, &st, &n) != 0)
		return snprintf(buf, len, "%s", "");
	k = snprintf(buf, len, "%s", help);
	off = k > 0 ? (size_t)k : 0;
	for (size_t i = 0; i < n; i++) {
		const peer_status *s = &st[i];

		k = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
		    "parklog_peer_connected{peer=\"%s\"} %d\n"
		    "parklog_peer_lag_events{peer=\"%s\"} %" PRIu64 "\n"
		    "parklog_peer_events_sent_total{peer=\"%s\"} %" PRIu64 "\n"
		    "parklog_peer_events_received_total{peer=\"%s\"} %" PRIu64 "\n"
		    "parklog_peer_bytes_sent_total{peer=\"%s\"} %" PRIu64 "\n"
		    "parklog_peer_bytes_received_total{peer=\"%s\"} %" PRIu64 "\n"
		    "parklog_peer_auth_failures_total{peer=\"%s\"} %" PRIu64 "\n"
		    "parklog_peer_forks{peer=\"%s\"} %zu\n"
		    "parklog_peer_last_sync_timestamp_seconds{peer=\"%s\"} %.3f\n",
		    s->id, s->connected, s->id, s->lag, s->id, s->events_sent, s->id,
		    s->events_received, s->id, s->bytes_sent, s->id, s->bytes_received,
		    s->id, s->auth_failures, s->id, s->nforks, s->id, s->last_sync_ms / 1000.0);
		off += k > 0 ? (size_t)k : 0;
	}
	peer_status_free(st, n);
	return (int)off;
}
