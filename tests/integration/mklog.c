/* mklog — writes a small realistic log for the auditor-tool tests:
 *   mklog DIR N
 * N own events of central-1 (entries, confirms, exits over N/3 plates, with
 * projections kept), then 6 events of a peer stream central-2 (a plate that
 * enters at central-2 and exits there, and a double entry of plate 30A00000).
 * Prints the own stream name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/store.h"
#include "projections/proj.h"

static int own(log_store *s, long k, char sess[][LOG_ID_MAX + 1], long plates)
{
	long p = (k / 3) % plates;
	log_event e;
	log_txn *t;
	int rc;

	memset(&e, 0, sizeof e);
	e.type = (enum log_ev_type)(k % 3 + 1);
	snprintf(e.plate, sizeof e.plate, "30A%05ld", p % 100000);
	snprintf(e.plate_view, sizeof e.plate_view, "30A-%03ld.%02ld", p / 100 % 1000, p % 100);
	snprintf(e.vehicle, sizeof e.vehicle, "%s", p % 2 ? "car" : "moto");
	snprintf(e.edge_id, sizeof e.edge_id, "edge-%ld", 1 + k % 2);
	e.confidence_milli = 950;
	e.entry_ts = e.duration_s = -1;
	if (e.type != LOG_EV_ENTRY_PENDING)
		memcpy(e.session, sess[p], sizeof e.session);
	if (e.type == LOG_EV_EXIT) {
		e.fee = 25000;
		snprintf(e.tariff, sizeof e.tariff, "default");
	}
	if ((rc = log_txn_begin(s, 1, &t)) != 0)
		return rc;
	if ((rc = log_txn_next_ts(t, e.plate, 1764547200000LL + k * 600000, &e.ts)) != 0 ||
	    (rc = log_txn_append_own(t, &e)) != 0) {
		log_txn_abort(t);
		return rc;
	}
	if (e.type == LOG_EV_ENTRY_PENDING)
		memcpy(sess[p], e.id, sizeof e.id);
	return log_txn_commit(t);
}

static int peer(log_store *s)
{
	static const struct { int type; const char *plate; long dt; int exit_of; } ev[] = {
		{ 1, "51F99999", 0, -1 }, { 2, "51F99999", 1000, 0 },
		{ 1, "30A00000", 2000, -1 }, { 3, "51F99999", 7200000, 0 },
	};
	char ids[4][LOG_ID_MAX + 1], buf[LOG_EVENT_MAX], err[160];
	log_txn *t;
	int rc, n;

	if ((rc = log_txn_begin(s, 1, &t)) != 0)
		return rc;
	for (int i = 0; i < 4 && rc == 0; i++) {
		log_event e;

		memset(&e, 0, sizeof e);
		e.type = (enum log_ev_type)ev[i].type;
		snprintf(e.origin, sizeof e.origin, "central-2");
		e.epoch = 0xc2;
		e.seq = (uint64_t)i + 1;
		e.ts = 1764547200000LL + 300000 + ev[i].dt;
		snprintf(e.plate, sizeof e.plate, "%s", ev[i].plate);
		snprintf(e.plate_view, sizeof e.plate_view, "%s", ev[i].plate);
		snprintf(e.vehicle, sizeof e.vehicle, "car");
		snprintf(e.edge_id, sizeof e.edge_id, "edge-8");
		e.confidence_milli = 900;
		e.entry_ts = e.duration_s = -1;
		log_event_id(e.id, e.origin, e.ts, e.plate);
		memcpy(ids[i], e.id, sizeof e.id);
		if (e.type == LOG_EV_ENTRY_PENDING)
			memcpy(e.session, e.id, sizeof e.id);
		else
			memcpy(e.session, ids[ev[i].exit_of], sizeof e.session);
		if (e.type == LOG_EV_EXIT) {
			e.fee = 75000;
			snprintf(e.tariff, sizeof e.tariff, "default");
		}
		if ((n = log_event_encode(&e, buf, sizeof buf)) < 0)
			rc = n;
		else
			rc = log_txn_append_peer(t, buf, (size_t)n, err, sizeof err);
	}
	if (rc != 0) {
		log_txn_abort(t);
		return rc;
	}
	return log_txn_commit(t);
}

int main(int argc, char **argv)
{
	log_store_opts o = { .origin = "central-1", .extra_dbs = PROJ_DBS };
	long n = argc == 3 ? atol(argv[2]) : -1, plates = n / 3 > 0 ? n / 3 : 1;
	char (*sess)[LOG_ID_MAX + 1];
	proj_tariff tariff;
	log_store *s;
	proj *p;
	int rc;

	if (n < 0) {
		fprintf(stderr, "usage: mklog DIR N\n");
		return 2;
	}
	sess = calloc((size_t)plates, sizeof *sess);
	proj_tariff_default(&tariff);
	if ((rc = log_store_open(argv[1], &o, &s)) != 0 ||
	    (rc = proj_open(s, &tariff, &p)) != 0) {
		fprintf(stderr, "mklog: %s\n", proj_strerror(rc));
		return 1;
	}
	proj_attach(p);
	for (long k = 0; k < n && rc == 0; k++)
		rc = own(s, k, sess, plates);
	if (rc == 0)
		rc = peer(s);
	if (rc != 0)
		fprintf(stderr, "mklog: %s\n", proj_strerror(rc));
	else
		printf("%s\n", log_store_own_stream(s));
	proj_close(p);
	log_store_close(s);
	free(sess);
	return rc ? 1 : 0;
}
