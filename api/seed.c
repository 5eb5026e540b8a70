/* api/seed.c — the seed's settings and listing endpoints, in the seed's
 * shapes (docs/seed-compat.md, SEED-API.md §2, §4). Read-only: changing
 * settings, staff, passes or history rows needs operator events that do
 * not exist yet (SETTINGS_SET, PLATE_CORRECTED ...: issue 14), so those
 * writes answer 501 with {"success": false, "error"}, never a fake
 * success. */
#include "api/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define API__NOT_YET "not supported in the seed's shape yet (issue 14's " \
	"operator events: /api/ops/settings, /api/ops/tariff, /api/ops/pass); " \
	"or edit the configuration file and reload (SIGHUP)"

/* The port this request came in on (srv->port is set after MHD's thread
 * started: read it there and the two threads race, formally). */
static int api__local_port(api__req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage ss;
	socklen_t n = sizeof ss;

	if (ci == NULL || getsockname(ci->connect_fd, (struct sockaddr *)&ss, &n) != 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

static enum MHD_Result api__not_yet(api__req *r, const char *what)
{
	return api__reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "%s: %s", what,
	    API__NOT_YET);
}

/* The seed's flat stats (GET /api/stats's), into o. */
static int api__seed_stats(api_server *srv, cJSON *o)
{
	int64_t now = api__now_ms();
	proj_summary sum;
	proj_day day;
	log_txn *t;
	int rc;

	if ((rc = log_txn_begin(srv->store, 0, &t)) != 0)
		return rc;
	if ((rc = proj_summary_get(srv->proj, t, &sum)) == 0)
		rc = proj_day_get(srv->proj, t, proj_local_day(srv->proj, now), &day);
	log_txn_abort(t);
	if (rc != 0)
		return rc;
	cJSON_AddNumberToObject(o, "vehicles_in_parking", (double)sum.inside);
	cJSON_AddNumberToObject(o, "entries_today", (double)day.entries);
	cJSON_AddNumberToObject(o, "exits_today", (double)day.exits);
	cJSON_AddNumberToObject(o, "revenue_today", (double)day.revenue);
	return 0;
}

/* GET /api/status: the UI's "connected" test (any 2xx, non-empty JSON). */
enum MHD_Result api__h_status(api__req *r)
{
	cJSON *o = api__ok(), *cams = api__seed_cameras(r->srv, r->pol);
	cJSON *parking = cJSON_CreateObject();
	int rc;

	if (o == NULL || cams == NULL || parking == NULL)
		goto oom;
	if ((rc = api__seed_stats(r->srv, parking)) != 0) {
		cJSON_Delete(o);
		cJSON_Delete(cams);
		cJSON_Delete(parking);
		return api__reply_store_error(r, rc);
	}
	cJSON_AddStringToObject(o, "backend_type", "central");
	cJSON_AddStringToObject(o, "this_central", r->srv->origin);
	cJSON_AddItemToObject(o, "cameras", cams);
	cJSON_AddItemToObject(o, "parking", parking);
	return api__reply(r, MHD_HTTP_OK, o);
oom:
	cJSON_Delete(o);
	cJSON_Delete(cams);
	cJSON_Delete(parking);
	return api__reply(r, 500, NULL);
}

/* The tariff's default hourly rule as the seed's fee settings. */
static void api__seed_parking(const proj_tariff *t, cJSON *o)
{
	const proj_tariff_rule *d = NULL;

	for (size_t i = 0; i < t->nrules; i++)
		if (strcmp(t->rules[i].vehicle, "default") == 0)
			d = &t->rules[i];
	cJSON_AddNumberToObject(o, "fee_base", d ? (double)d->free_s / 3600.0 : 0);
	cJSON_AddNumberToObject(o, "fee_per_hour", d ? (double)d->per_hour : 0);
	if (d != NULL && d->daily_cap > 0)
		cJSON_AddNumberToObject(o, "fee_daily_max", (double)d->daily_cap);
	cJSON_AddStringToObject(o, "api_url", "");
	cJSON_AddStringToObject(o, "tariff", t->name);
}

/* "edge_cameras" from the cameras the seed's UI knows. */
static void api__seed_edge_cameras(const cJSON *cams, cJSON *out)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(cams, "cameras")) {
		const char *id = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(c, "camera_id"));
		cJSON *e;

		if (id == NULL || (e = cJSON_AddObjectToObject(out, id)) == NULL)
			continue;
		cJSON_AddStringToObject(e, "name", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(c, "name")));
		cJSON_AddStringToObject(e, "ip", "");
		cJSON_AddStringToObject(e, "camera_type", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(c, "type")));
		cJSON_AddNumberToObject(e, "parking_lot_capacity", 0);
	}
}

static cJSON *api__seed_config(api__req *r)
{
	cJSON *c = cJSON_CreateObject(), *s, *cams;

	if (c == NULL)
		return NULL;
	cJSON_AddStringToObject(c, "backend_type", "central");
	if ((s = cJSON_AddObjectToObject(c, "server")) != NULL) {
		cJSON_AddStringToObject(s, "host", r->srv->host);
		cJSON_AddNumberToObject(s, "port", api__local_port(r));
	}
	if ((s = cJSON_AddObjectToObject(c, "database")) != NULL)
		cJSON_AddStringToObject(s, "db_file", "");
	if ((s = cJSON_AddObjectToObject(c, "camera")) != NULL)
		cJSON_AddNumberToObject(s, "heartbeat_timeout", r->pol->camera_offline_s);
	if ((s = cJSON_AddObjectToObject(c, "parking")) != NULL)
		api__seed_parking(&r->pol->tariff, s);
	static const char *const urls[] = { "staff", "subscriptions", "report" };
	for (size_t i = 0; i < 3; i++)
		if ((s = cJSON_AddObjectToObject(c, urls[i])) != NULL)
			cJSON_AddStringToObject(s, "api_url", "");
	if ((s = cJSON_AddObjectToObject(c, "central_server")) != NULL)
		cJSON_AddStringToObject(s, "ip", "");
	if ((s = cJSON_AddObjectToObject(c, "central_sync")) != NULL)
		cJSON_AddArrayToObject(s, "servers");
	s = cJSON_AddObjectToObject(c, "edge_cameras");
	if (s != NULL && (cams = api__seed_cameras(r->srv, r->pol)) != NULL) {
		api__seed_edge_cameras(cams, s);
		cJSON_Delete(cams);
	}
	return c;
}

/* GET /api/config from the running configuration; POST/PUT: 501. */
enum MHD_Result api__h_config(api__req *r)
{
	cJSON *o, *c;

	if (r->method != API__GET)
		return api__not_yet(r, "changing settings");
	if ((o = api__ok()) == NULL || (c = api__seed_config(r)) == NULL) {
		cJSON_Delete(o);
		return api__reply(r, 500, NULL);
	}
	cJSON_AddItemToObject(o, "config", c);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* Lots with vehicles' locations: parklog records no location yet. */
enum MHD_Result api__h_occupancy(api__req *r)
{
	cJSON *o = api__ok();

	if (o == NULL)
		return api__reply(r, 500, NULL);
	cJSON_AddArrayToObject(o, "parking_lots");
	return api__reply(r, MHD_HTTP_OK, o);
}

/* The seed's writes that no operator event carries yet (operator.c has
 * the rest: staff GET/PUT, subscriptions GET, history corrections). */
enum MHD_Result api__h_staff(api__req *r)
{
	return api__not_yet(r, "adding staff");
}

enum MHD_Result api__h_subscriptions(api__req *r)
{
	return api__not_yet(r, "replacing the list of passes (issue passes "
	    "with POST /api/ops/pass)");
}

/* this_central from our listener; peer_centrals from the peers' status. */
enum MHD_Result api__h_p2p_config(api__req *r)
{
	api_server *srv = r->srv;
	cJSON *o, *c, *me, *peers, *st = cJSON_CreateObject(), *p;

	if (r->method != API__GET) {
		cJSON_Delete(st);
		return api__not_yet(r, "changing peers");
	}
	if (st != NULL && srv->hooks.p2p_status != NULL) {
		cJSON_AddArrayToObject(st, "peers");
		srv->hooks.p2p_status(srv->hooks.ctx, st);
	}
	if ((o = api__ok()) == NULL || st == NULL ||
	    (c = cJSON_AddObjectToObject(o, "config")) == NULL ||
	    (me = cJSON_AddObjectToObject(c, "this_central")) == NULL ||
	    (peers = cJSON_AddArrayToObject(c, "peer_centrals")) == NULL) {
		cJSON_Delete(o);
		cJSON_Delete(st);
		return api__reply(r, 500, NULL);
	}
	cJSON_AddStringToObject(me, "id", srv->origin);
	cJSON_AddStringToObject(me, "ip", srv->host);
	cJSON_AddNumberToObject(me, "api_port", api__local_port(r));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "peers")) {
		cJSON *q = cJSON_CreateObject();
		const cJSON *port = cJSON_GetObjectItemCaseSensitive(p, "peer_port");

		if (q == NULL || !cJSON_AddItemToArray(peers, q)) {
			cJSON_Delete(q);
			break;
		}
		cJSON_AddStringToObject(q, "id", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(p, "peer_id")));
		cJSON_AddStringToObject(q, "ip", cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(p, "peer_ip")));
		if (cJSON_IsNumber(port))
			cJSON_AddNumberToObject(q, "p2p_port", port->valuedouble);
	}
	cJSON_Delete(st);
	return api__reply(r, MHD_HTTP_OK, o);
}

/* The edge's settings: parklog keeps no edge addresses (no video or
 * control relay), so nothing is stored; 400 without edge_cameras as the
 * seed did. */
enum MHD_Result api__h_sync_config(api__req *r)
{
	cJSON *b = cJSON_ParseWithLength(r->body ? r->body : "", r->len), *o;
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(b, "edge_cameras");
	int ok = cJSON_IsObject(ec);

	cJSON_Delete(b);
	if (!ok)
		return api__reply_error(r, MHD_HTTP_BAD_REQUEST,
		    "edge_cameras: missing or not an object");
	if ((o = api__ok()) == NULL)
		return api__reply(r, 500, NULL);
	api__ws_cameras_changed(r->srv);	/* as the seed did */
	cJSON_AddStringToObject(o, "message", "received; parklog does not relay "
	    "video or control to edges, so their addresses are not kept");
	return api__reply(r, MHD_HTTP_OK, o);
}
