/* api/metrics.c — counters and the Prometheus text exposition (/metrics). */
#include "api/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const unsigned api__statuses[API__NSTATUS - 1] = {
	200, 400, 401, 403, 404, 405, 409, 413, 422, 500, 503
};

static size_t api__status_slot(unsigned status)
{
	for (size_t i = 0; i < API__NSTATUS - 1; i++)
		if (api__statuses[i] == status)
			return i;
	return API__NSTATUS - 1;	/* "other" */
}

void api__metrics_count(api_server *srv, int route, unsigned status)
{
	size_t rt = route >= 0 && (size_t)route < api__nroutes ? (size_t)route :
	    api__nroutes;

	atomic_fetch_add_explicit(&srv->m.req[rt][api__status_slot(status)], 1,
	    memory_order_relaxed);
}

/* Upper bounds of the latency buckets, µs (the last is +Inf). */
static const int64_t api__lat_le[API__NLAT - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000
};

int64_t api__now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void api__metrics_time(api_server *srv, int route, int64_t t0_us)
{
	size_t rt = route >= 0 && (size_t)route < api__nroutes ? (size_t)route :
	    api__nroutes, b = 0;
	int64_t us = api__now_us() - t0_us;

	if (t0_us <= 0 || us < 0)
		return;
	while (b < API__NLAT - 1 && us > api__lat_le[b])
		b++;
	atomic_fetch_add_explicit(&srv->m.lat[rt][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&srv->m.lat_us[rt], (uint64_t)us, memory_order_relaxed);
}

/* parklog_http_request_seconds: a histogram per route that answered. */
static void api__m_latency(FILE *f, api_server *srv)
{
	fputs("# HELP parklog_http_request_seconds Time from a request's arrival "
	    "to its answer (writes: after the commit and the gate's ack), by route.\n"
	    "# TYPE parklog_http_request_seconds histogram\n", f);
	for (size_t rt = 0; rt <= api__nroutes; rt++) {
		const char *name = rt < api__nroutes ? api__routes[rt].path : "other";
		uint64_t cum = 0, n[API__NLAT];

		for (size_t b = 0; b < API__NLAT; b++)
			cum += n[b] = atomic_load(&srv->m.lat[rt][b]);
		if (cum == 0)
			continue;
		cum = 0;
		for (size_t b = 0; b < API__NLAT; b++) {
			cum += n[b];
			if (b < API__NLAT - 1)
				fprintf(f, "parklog_http_request_seconds_bucket{route=\"%s\","
				    "le=\"%g\"} %" PRIu64 "\n", name, api__lat_le[b] / 1e6, cum);
			else
				fprintf(f, "parklog_http_request_seconds_bucket{route=\"%s\","
				    "le=\"+Inf\"} %" PRIu64 "\n", name, cum);
		}
		fprintf(f, "parklog_http_request_seconds_sum{route=\"%s\"} %.6f\n"
		    "parklog_http_request_seconds_count{route=\"%s\"} %" PRIu64 "\n", name,
		    (double)atomic_load(&srv->m.lat_us[rt]) / 1e6, name, cum);
	}
}

static void api__m_requests(FILE *f, api_server *srv)
{
	fputs("# HELP parklog_http_requests_total HTTP requests answered, by "
	    "route and status.\n# TYPE parklog_http_requests_total counter\n", f);
	for (size_t rt = 0; rt <= api__nroutes; rt++) {
		for (size_t s = 0; s < API__NSTATUS; s++) {
			uint64_t n = atomic_load(&srv->m.req[rt][s]);
			char st[8];

			if (n == 0)
				continue;
			if (s < API__NSTATUS - 1)
				snprintf(st, sizeof st, "%u", api__statuses[s]);
			else
				snprintf(st, sizeof st, "other");
			fprintf(f, "parklog_http_requests_total{route=\"%s\","
			    "status=\"%s\"} %" PRIu64 "\n", rt < api__nroutes ?
			    api__routes[rt].path : "other", st, n);
		}
	}
	fprintf(f, "# HELP parklog_http_inflight Write requests waiting for "
	    "their commit or answer.\n# TYPE parklog_http_inflight gauge\n"
	    "parklog_http_inflight %ld\n", (long)atomic_load(&srv->inflight));
}

/* Slow clients (guard.h, docs/http-limits.md). */
static void api__m_guard(FILE *f, api_server *srv)
{
	api__guard_stats g;

	api__guard_stats_get(srv->guard, &g);
	fprintf(f, "# HELP parklog_http_connections Open HTTP connections, and "
	    "those still sending a request (without a token: anon).\n"
	    "# TYPE parklog_http_connections gauge\n"
	    "parklog_http_connections{state=\"open\"} %ld\n"
	    "parklog_http_connections{state=\"receiving\"} %ld\n"
	    "parklog_http_connections{state=\"receiving_anon\"} %ld\n"
	    "# HELP parklog_http_slow_closed_total Connections closed by the "
	    "slow-client policy.\n# TYPE parklog_http_slow_closed_total counter\n"
	    "parklog_http_slow_closed_total{reason=\"deadline\"} %" PRIu64 "\n"
	    "parklog_http_slow_closed_total{reason=\"newcomer\"} %" PRIu64 "\n",
	    g.conns, g.receiving, g.anon, g.deadline_shut, g.evicted);
}

static void api__m_appends(FILE *f, api_server *srv)
{
	static const char *names[] = { "", "ENTRY_PENDING", "ENTRY_CONFIRMED", "EXIT" };

	fputs("# HELP parklog_appends_total Events appended by this API, by "
	    "type.\n# TYPE parklog_appends_total counter\n", f);
	for (int t = 1; t <= 3; t++)
		fprintf(f, "parklog_appends_total{type=\"%s\"} %" PRIu64 "\n",
		    names[t], (uint64_t)atomic_load(&srv->m.appends[t]));
	fprintf(f, "# HELP parklog_idempotent_replays_total Retried writes "
	    "answered with the first answer.\n# TYPE "
	    "parklog_idempotent_replays_total counter\n"
	    "parklog_idempotent_replays_total %" PRIu64 "\n",
	    (uint64_t)atomic_load(&srv->m.replays));
	fputs("# HELP parklog_edge_ts_total Gate timestamps (edge_ts) of barrier "
	    "actions: taken (ok) or refused, by reason (docs/time.md).\n"
	    "# TYPE parklog_edge_ts_total counter\n", f);
	for (int v = 0; v < API_TS_NVERDICT; v++)
		fprintf(f, "parklog_edge_ts_total{verdict=\"%s\"} %" PRIu64 "\n",
		    api_ts_reason((enum api_ts_verdict)v),
		    (uint64_t)atomic_load(&srv->m.edge_ts[v]));
}

static void api__m_writer(FILE *f, api_server *srv)
{
	static const char *le[8] = { "1", "4", "16", "64", "256", "1024", "4096", "+Inf" };
	log_writer_stats ws;
	uint64_t cum = 0;

	log_writer_get_stats(srv->writer, &ws);
	fprintf(f, "# HELP parklog_writer_commits_total Group commits of the "
	    "log writer.\n# TYPE parklog_writer_commits_total counter\n"
	    "parklog_writer_commits_total %" PRIu64 "\n"
	    "# HELP parklog_writer_failed_commits_total Commits that failed "
	    "(their requests were refused; e.g. a full disk).\n"
	    "# TYPE parklog_writer_failed_commits_total counter\n"
	    "parklog_writer_failed_commits_total %" PRIu64 "\n"
	    "# HELP parklog_writer_events_total Events committed by the writer, "
	    "own and from peers.\n# TYPE parklog_writer_events_total counter\n"
	    "parklog_writer_events_total %" PRIu64 "\n",
	    ws.commits, ws.failed_commits, ws.events);
	fputs("# HELP parklog_writer_batch_jobs Jobs per group commit.\n"
	    "# TYPE parklog_writer_batch_jobs histogram\n", f);
	for (int i = 0; i < 8; i++) {
		cum += ws.batch_hist[i];
		fprintf(f, "parklog_writer_batch_jobs_bucket{le=\"%s\"} %" PRIu64 "\n",
		    le[i], cum);
	}
	fprintf(f, "parklog_writer_batch_jobs_sum %" PRIu64 "\n"
	    "parklog_writer_batch_jobs_count %" PRIu64 "\n", ws.jobs, ws.commits);
	fprintf(f, "# HELP parklog_writer_commit_seconds Time in commits (fsync).\n"
	    "# TYPE parklog_writer_commit_seconds summary\n"
	    "parklog_writer_commit_seconds_sum %.6f\n"
	    "parklog_writer_commit_seconds_count %" PRIu64 "\n"
	    "# HELP parklog_writer_commit_seconds_max Longest commit since start.\n"
	    "# TYPE parklog_writer_commit_seconds_max gauge\n"
	    "parklog_writer_commit_seconds_max %.6f\n",
	    (double)ws.commit_ns_total / 1e9, ws.commits,
	    (double)ws.commit_ns_max / 1e9);
}

static int api__m_log(FILE *f, api_server *srv)
{
	log_store_stat st;
	log_txn *t;
	int rc;

	if ((rc = log_txn_begin(srv->store, 0, &t)) != 0)
		return rc;
	rc = log_txn_stat(t, &st);
	log_txn_abort(t);
	if (rc != 0)
		return rc;
	fprintf(f, "# HELP parklog_log_events Events held in the log.\n"
	    "# TYPE parklog_log_events gauge\nparklog_log_events %" PRIu64 "\n"
	    "# HELP parklog_log_streams Streams (origin, epoch) in the log.\n"
	    "# TYPE parklog_log_streams gauge\nparklog_log_streams %" PRIu64 "\n"
	    "# HELP parklog_log_plates Distinct plates in the log.\n"
	    "# TYPE parklog_log_plates gauge\nparklog_log_plates %" PRIu64 "\n"
	    "# HELP parklog_log_map_used_bytes Bytes of the LMDB map in use.\n"
	    "# TYPE parklog_log_map_used_bytes gauge\n"
	    "parklog_log_map_used_bytes %" PRIu64 "\n"
	    "# HELP parklog_log_map_size_bytes Size of the LMDB map (grown "
	    "before it fills).\n# TYPE parklog_log_map_size_bytes gauge\n"
	    "parklog_log_map_size_bytes %" PRIu64 "\n"
	    "# HELP parklog_log_peer_events_ahead_total Peer events dated "
	    "beyond the skew ahead of our clock when received (stored, they "
	    "move only their own plate).\n"
	    "# TYPE parklog_log_peer_events_ahead_total counter\n"
	    "parklog_log_peer_events_ahead_total %" PRIu64 "\n",
	    st.events, st.streams, st.plates, st.map_used, st.map_size,
	    st.peer_ahead);
	return 0;
}

/* Vehicles inside per class, and the places configured for each. */
static void api__m_inside(FILE *f, const api__policy *pol, const proj_summary *sum)
{
	fprintf(f, "# HELP parklog_vehicles_inside Vehicles inside now, by "
	    "class.\n# TYPE parklog_vehicles_inside gauge\n"
	    "parklog_vehicles_inside{vehicle=\"all\"} %" PRIu64 "\n", sum->inside);
	for (size_t i = 0; i < sum->nclasses; i++)
		fprintf(f, "parklog_vehicles_inside{vehicle=\"%s\"} %" PRIu64 "\n",
		    sum->classes[i].vehicle, sum->classes[i].inside);
	if (pol->ncapacity == 0)
		return;
	fputs("# HELP parklog_capacity Places configured, by class.\n"
	    "# TYPE parklog_capacity gauge\n", f);
	for (size_t i = 0; i < pol->ncapacity; i++)
		fprintf(f, "parklog_capacity{vehicle=\"%s\"} %" PRIu64 "\n",
		    pol->capacity[i].vehicle, pol->capacity[i].capacity);
}

/* What an operator graphs: who is inside, today's business, the gates. */
static int api__m_business(FILE *f, api_server *srv)
{
	api__policy *pol = api__policy_get(srv);
	int64_t now = api__now_ms();
	size_t known, online;
	proj_summary sum;
	proj_day day;
	log_txn *t;
	int rc;

	if ((rc = log_txn_begin(srv->store, 0, &t)) == 0) {
		if ((rc = proj_summary_get(srv->proj, t, &sum)) == 0)
			rc = proj_day_get(srv->proj, t, proj_local_day(srv->proj, now), &day);
		log_txn_abort(t);
	}
	if (rc == 0)
		api__m_inside(f, pol, &sum);
	if (rc == 0)
		fprintf(f, "# HELP parklog_today_entries Entries today (facility's "
		    "local day).\n# TYPE parklog_today_entries gauge\n"
		    "parklog_today_entries %" PRIu64 "\n# HELP parklog_today_exits "
		    "Exits today.\n# TYPE parklog_today_exits gauge\n"
		    "parklog_today_exits %" PRIu64 "\n# HELP parklog_today_revenue "
		    "Fees charged by today's exits, VND.\n# TYPE "
		    "parklog_today_revenue gauge\nparklog_today_revenue %" PRId64 "\n",
		    day.entries, day.exits, day.revenue);
	api__cameras_count(srv->cams, pol->camera_offline_s, now, &known, &online);
	fprintf(f, "# HELP parklog_gates_online Gates heard from within "
	    "limits.camera_offline_s.\n# TYPE parklog_gates_online gauge\n"
	    "parklog_gates_online %zu\n# HELP parklog_gates_known Gates heard "
	    "from since start.\n# TYPE parklog_gates_known gauge\n"
	    "parklog_gates_known %zu\n# HELP parklog_build_info The running "
	    "build.\n# TYPE parklog_build_info gauge\n"
	    "parklog_build_info{version=\"%s\"} 1\n", online, known, PARKLOG_VERSION);
	api__policy_put(pol);
	return rc;
}

/* What the peers (or any other hooked module) add. */
static void api__m_hook(FILE *f, api_server *srv)
{
	char small[4096], *buf = small;
	int n;

	if (srv->hooks.metrics == NULL)
		return;
	n = srv->hooks.metrics(srv->hooks.ctx, small, sizeof small);
	if (n >= (int)sizeof small && (buf = malloc((size_t)n + 1)) != NULL)
		n = srv->hooks.metrics(srv->hooks.ctx, buf, (size_t)n + 1);
	if (buf != NULL && n > 0)
		fwrite(buf, 1, (size_t)n, f);
	if (buf != small)
		free(buf);
}

enum MHD_Result api__h_metrics(api__req *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (f == NULL)
		return api__reply(r, 500, NULL);
	api__m_requests(f, r->srv);
	api__m_latency(f, r->srv);
	api__m_guard(f, r->srv);
	api__m_appends(f, r->srv);
	api__m_writer(f, r->srv);
	rc = api__m_log(f, r->srv);
	if (rc == 0)
		rc = api__m_business(f, r->srv);
	if (rc == 0)
		api__m_hook(f, r->srv);
	if (fclose(f) != 0 || rc != 0) {
		free(buf);
		return rc ? api__reply_store_error(r, rc) : api__reply(r, 500, NULL);
	}
	return api__reply_text(r, MHD_HTTP_OK, buf, len,
	    "text/plain; version=0.0.4; charset=utf-8");
}
