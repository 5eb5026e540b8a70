/* tools/parklog/hq.c — `parklog hq`: durable pull consumers on every
 * facility's JetStream stream into the HQ's own LMDB (hq.h), and its HTTP
 * API. Read-only towards the facilities: it only consumes and acks. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "cli.h"
#include "hq.h"
#include "msg/msg.h"
#include "projections/tariff.h"

#define HQ_MAX_STREAMS	64
#define HQ_MAX_URLS	8

typedef struct hq_args {
	const char *dir, *nats, *http, *durable, *user, *password, *token, *creds;
	int tz_min;
	const char *streams[HQ_MAX_STREAMS];
	size_t nstreams;
} hq_args;

typedef struct hq_sub {
	const char *stream;
	natsSubscription *sub;		/* NULL until the stream exists */
	time_t tried;
} hq_sub;

static volatile sig_atomic_t hq_stop;

static void hq_on_signal(int sig)
{
	(void)sig;
	hq_stop = 1;
}

static int hq_usage(FILE *f, int code)
{
	fprintf(f, "usage: parklog hq DIR --nats URL[,URL...] [--http ADDR:PORT]\n"
	    "           [--utc-offset +HH:MM] [--durable NAME] [--user U --password P |\n"
	    "           --token T | --creds FILE] STREAM...\n"
	    "  Consumes every STREAM (one per facility, e.g. parklog-lot-1) into the\n"
	    "  LMDB in DIR; serves GET / and /api/hq/summary (default 127.0.0.1:8800).\n");
	return code;
}

static int hq_parse(int argc, char **argv, hq_args *a)
{
	memset(a, 0, sizeof *a);
	a->http = "127.0.0.1:8800";
	a->durable = "parklog-hq";
	a->tz_min = 7 * 60;
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **dst = strcmp(k, "--nats") == 0 ? &a->nats :
		    strcmp(k, "--http") == 0 ? &a->http :
		    strcmp(k, "--durable") == 0 ? &a->durable :
		    strcmp(k, "--user") == 0 ? &a->user :
		    strcmp(k, "--password") == 0 ? &a->password :
		    strcmp(k, "--token") == 0 ? &a->token :
		    strcmp(k, "--creds") == 0 ? &a->creds : NULL;

		if (strcmp(k, "--help") == 0)
			exit(hq_usage(stdout, CLI_OK));
		if (strcmp(k, "--utc-offset") == 0) {
			if (v == NULL || proj_utc_offset_parse(v, &a->tz_min) != 0)
				return fprintf(stderr, "parklog hq: --utc-offset: expected "
				    "+HH:MM, -HH:MM or Z\n"), -1;
			i++;
		} else if (dst != NULL) {
			if (v == NULL)
				return fprintf(stderr, "parklog hq: %s: value missing\n", k), -1;
			*dst = v;
			i++;
		} else if (k[0] == '-') {
			return fprintf(stderr, "parklog hq: unknown option %s\n", k), -1;
		} else if (a->dir == NULL) {
			a->dir = k;
		} else if (a->nstreams < HQ_MAX_STREAMS) {
			a->streams[a->nstreams++] = k;
		} else {
			return fprintf(stderr, "parklog hq: at most %d streams\n",
			    HQ_MAX_STREAMS), -1;
		}
	}
	if (a->dir == NULL || a->nats == NULL || a->nstreams == 0)
		return hq_usage(stderr, -1);
	return 0;
}

/* Connection that reconnects forever. */
static natsStatus hq_connect(const hq_args *a, natsConnection **nc)
{
	char urls[2048], *save = NULL;
	const char *list[HQ_MAX_URLS];
	int n = 0;
	natsOptions *op = NULL;
	natsStatus s;

	snprintf(urls, sizeof urls, "%s", a->nats);
	for (char *u = strtok_r(urls, ",", &save); u != NULL && n < HQ_MAX_URLS;
	    u = strtok_r(NULL, ",", &save))
		list[n++] = u;
	if ((s = natsOptions_Create(&op)) != NATS_OK)
		return s;
	s = natsOptions_SetServers(op, list, n);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(op, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(op, 250);
	if (s == NATS_OK && a->user != NULL)
		s = natsOptions_SetUserInfo(op, a->user, a->password ? a->password : "");
	if (s == NATS_OK && a->token != NULL)
		s = natsOptions_SetToken(op, a->token);
	if (s == NATS_OK && a->creds != NULL)
		s = natsOptions_SetUserCredentialsFromFiles(op, a->creds, NULL);
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, op);
	natsOptions_Destroy(op);
	return s;
}

/* The durable consumer "<durable>" on the stream's subjects; retried each
 * second while the stream does not exist yet. */
static void hq_subscribe(jsCtx *js, const hq_args *a, hq_sub *h)
{
	jsStreamInfo *si = NULL;
	jsSubOptions so;
	jsErrCode ec = 0;
	natsStatus s;

	if (h->sub != NULL || time(NULL) == h->tried)
		return;
	h->tried = time(NULL);
	if (js_GetStreamInfo(&si, js, h->stream, NULL, &ec) != NATS_OK)
		return;
	jsSubOptions_Init(&so);
	so.Stream = h->stream;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_PullSubscribe(&h->sub, js, si->Config->Subjects[0], a->durable, NULL,
	    &so, &ec);
	if (s != NATS_OK)
		msg_warnx("hq: %s: subscribe: %s (%d)", h->stream, natsStatus_GetText(s),
		    (int)ec);
	else
		msg_info("hq: consuming %s (%s) as %s", h->stream,
		    si->Config->Subjects[0], a->durable);
	jsStreamInfo_Destroy(si);
}

/* "<prefix>.<facility>.<origin>.<type>" → facility. 0 or -1. */
static int hq_facility(const char *subj, char out[64])
{
	const char *a = strchr(subj, '.'), *b = a != NULL ? strchr(a + 1, '.') : NULL;

	if (b == NULL || b - a - 1 < 1 || b - a - 1 > 32)
		return -1;
	snprintf(out, 64, "%.*s", (int)(b - a - 1), a + 1);
	return 0;
}

/* One fetched list, counted in one LMDB transaction, then acked: a crash
 * between the two redelivers, and the ids table absorbs it. */
static int hq_take(hq_db *db, natsMsgList *l, uint64_t *counted)
{
	MDB_txn *t;
	log_event ev;
	char fac[64], err[128];
	int rc, dup;

	if ((rc = mdb_txn_begin(db->env, NULL, 0, &t)) != 0)
		return rc;
	for (int i = 0; i < l->Count; i++) {
		natsMsg *m = l->Msgs[i];

		if (hq_facility(natsMsg_GetSubject(m), fac) != 0 ||
		    log_event_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
		    &ev, err, sizeof err) != 0) {
			msg_warnx("hq: %s: not a parklog event; skipped",
			    natsMsg_GetSubject(m));
			continue;
		}
		if ((rc = hq_db_apply(db, t, fac, &ev, &dup)) != 0) {
			mdb_txn_abort(t);
			return rc;
		}
		*counted += !dup;
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return rc;
	for (int i = 0; i < l->Count; i++)
		natsMsg_Ack(l->Msgs[i], NULL);
	return 0;
}

static int hq_run(const hq_args *a, hq_db *db, jsCtx *js)
{
	hq_sub subs[HQ_MAX_STREAMS] = { { 0 } };
	uint64_t counted = 0;
	int rc = 0;

	for (size_t i = 0; i < a->nstreams; i++)
		subs[i].stream = a->streams[i];
	while (!hq_stop && rc == 0) {
		int idle = 1;

		for (size_t i = 0; i < a->nstreams && rc == 0; i++) {
			natsMsgList l = { 0 };

			hq_subscribe(js, a, &subs[i]);
			if (subs[i].sub == NULL ||
			    natsSubscription_Fetch(&l, subs[i].sub, 1024, 100, NULL) != NATS_OK)
				continue;
			idle = 0;
			rc = hq_take(db, &l, &counted);
			natsMsgList_Destroy(&l);
		}
		if (idle)
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	for (size_t i = 0; i < a->nstreams; i++)
		natsSubscription_Destroy(subs[i].sub);
	if (rc != 0)
		msg_warnx("hq: %s: %s", a->dir, mdb_strerror(rc));
	return rc;
}

int cli_hq(int argc, char **argv)
{
	hq_args a;
	hq_db db = { 0 };
	hq_http *http = NULL;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	char host[64];
	const char *colon;
	int rc = CLI_USAGE, port;
	natsStatus s;

	if (hq_parse(argc, argv, &a) != 0)
		return CLI_USAGE;
	msg_init("parklog hq", MSG_INFO);
	colon = strrchr(a.http, ':');
	if (colon == NULL || (size_t)(colon - a.http) >= sizeof host ||
	    colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || (port = atoi(colon + 1)) > 65535)
		return fprintf(stderr, "parklog hq: --http: expected ADDR:PORT\n"), CLI_USAGE;
	snprintf(host, sizeof host, "%.*s", (int)(colon - a.http), a.http);
	if ((rc = hq_db_open(&db, a.dir, a.tz_min)) != 0) {
		fprintf(stderr, "parklog hq: %s: %s\n", a.dir, mdb_strerror(rc));
		return CLI_USAGE;
	}
	rc = CLI_USAGE;
	if (hq_http_start(&db, host, port, &http) != 0) {
		fprintf(stderr, "parklog hq: --http %s: cannot listen (numeric IPv4 "
		    "address, free port)\n", a.http);
		goto out;
	}
	if ((s = hq_connect(&a, &nc)) != NATS_OK ||
	    (s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK) {
		fprintf(stderr, "parklog hq: %s: %s\n", a.nats, natsStatus_GetText(s));
		goto out;
	}
	signal(SIGINT, hq_on_signal);
	signal(SIGTERM, hq_on_signal);
	signal(SIGPIPE, SIG_IGN);
	msg_info("hq: %s; http://%s:%d/", a.dir, host, hq_http_port(http));
	rc = hq_run(&a, &db, js) == 0 ? CLI_OK : CLI_FINDING;
out:
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	hq_http_stop(http);
	hq_db_close(&db);
	return rc;
}
