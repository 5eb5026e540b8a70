/* tools/parklog/hq_http.c — the HQ's small HTTP API (JSON, read-only) and
 * its console page, on libmicrohttpd like api/. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "hq.h"

struct hq_http {
	struct MHD_Daemon *mhd;
	hq_db *db;
	int port;
};

static const char hq__page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>parklog HQ</title>"
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .8em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}</style></head><body>"
    "<h1>parklog HQ</h1><p id=\"at\"></p><table id=\"t\"><thead><tr><th>facility</th>"
    "<th>inside</th><th>entries today</th><th>exits today</th><th>revenue today</th>"
    "<th>entries</th><th>exits</th><th>revenue</th></tr></thead><tbody></tbody></table>"
    "<script>\n"
    "function row(n,f){var tr=document.createElement('tr');"
    "[n,f.inside,f.today.entries,f.today.exits,f.today.revenue,f.entries,f.exits,"
    "f.revenue].forEach(function(x){var td=document.createElement('td');"
    "td.textContent=x;tr.appendChild(td);});return tr;}\n"
    "function load(){fetch('/api/hq/summary').then(function(r){return r.json();})"
    ".then(function(s){var b=document.querySelector('#t tbody');b.textContent='';"
    "Object.keys(s.facilities).forEach(function(k){b.appendChild(row(k,s.facilities[k]));});"
    "b.appendChild(row('total',s.total));document.getElementById('at').textContent="
    "'day '+s.day+', '+s.events+' events';});}\n"
    "load();setInterval(load,2000);</script></body></html>";

static void hq__put(cJSON *o, const hq_counts *all, const hq_counts *day)
{
	cJSON *t = cJSON_AddObjectToObject(o, "today");

	cJSON_AddNumberToObject(o, "inside", (double)all->inside);
	cJSON_AddNumberToObject(o, "entries", (double)all->entries);
	cJSON_AddNumberToObject(o, "exits", (double)all->exits);
	cJSON_AddNumberToObject(o, "revenue", (double)all->revenue);
	if (t == NULL)
		return;
	cJSON_AddNumberToObject(t, "entries", (double)day->entries);
	cJSON_AddNumberToObject(t, "exits", (double)day->exits);
	cJSON_AddNumberToObject(t, "revenue", (double)day->revenue);
}

typedef struct hq__sum {
	cJSON *facs;
	hq_counts all, day;
} hq__sum;

static void hq__fac(void *ctx, const char *facility, const hq_counts *all,
    const hq_counts *day)
{
	hq__sum *s = ctx;
	cJSON *o = cJSON_AddObjectToObject(s->facs, facility);

	if (o != NULL)
		hq__put(o, all, day);
	s->all.inside += all->inside;
	s->all.entries += all->entries;
	s->all.exits += all->exits;
	s->all.revenue += all->revenue;
	s->day.entries += day->entries;
	s->day.exits += day->exits;
	s->day.revenue += day->revenue;
}

/* {"success":true,"day":"YYYY-MM-DD","facilities":{...},"total":{...},"events":n} */
static char *hq__summary(hq_db *db)
{
	hq__sum s = { 0 };
	cJSON *o = cJSON_CreateObject(), *tot;
	int32_t day = hq_local_day(db, (int64_t)time(NULL) * 1000);
	time_t d = (time_t)day * 86400;
	struct tm tm;
	char buf[16], *out = NULL;
	MDB_txn *t;
	MDB_stat st = { 0 };

	if (o == NULL)
		return NULL;
	gmtime_r(&d, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
	cJSON_AddBoolToObject(o, "success", 1);
	cJSON_AddStringToObject(o, "day", buf);
	s.facs = cJSON_AddObjectToObject(o, "facilities");
	if (s.facs != NULL && hq_db_each(db, day, hq__fac, &s) == 0 &&
	    (tot = cJSON_AddObjectToObject(o, "total")) != NULL) {
		hq__put(tot, &s.all, &s.day);
		if (mdb_txn_begin(db->env, NULL, MDB_RDONLY, &t) == 0) {
			mdb_stat(t, db->ids, &st);
			mdb_txn_abort(t);
		}
		cJSON_AddNumberToObject(o, "events", (double)st.ms_entries);
		out = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	return out;
}

static enum MHD_Result hq__reply(struct MHD_Connection *c, unsigned code,
    const char *type, char *body, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, mode);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result hq__access(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_len, void **state)
{
	hq_http *h = cls;
	char *body;

	if (strcmp(method, "GET") != 0)
		return hq__reply(c, 405, "application/json",
		    "{\"success\":false,\"error\":\"read-only: GET only\"}",
		    MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/") == 0)
		return hq__reply(c, 200, "text/html; charset=utf-8", (char *)hq__page,
		    MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/api/hq/summary") != 0)
		return hq__reply(c, 404, "application/json",
		    "{\"success\":false,\"error\":\"not found\"}", MHD_RESPMEM_PERSISTENT);
	if ((body = hq__summary(h->db)) == NULL)
		return hq__reply(c, 500, "application/json",
		    "{\"success\":false,\"error\":\"store\"}", MHD_RESPMEM_PERSISTENT);
	return hq__reply(c, 200, "application/json", body, MHD_RESPMEM_MUST_FREE);
}

int hq_http_start(hq_db *d, const char *host, int port, hq_http **out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const union MHD_DaemonInfo *di;
	hq_http *h;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return EINVAL;
	if ((h = calloc(1, sizeof *h)) == NULL)
		return ENOMEM;
	h->db = d;
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
	    (uint16_t)port, NULL, NULL, hq__access, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_CONNECTION_LIMIT, 64U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		free(h);
		return EADDRINUSE;
	}
	di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di != NULL ? di->port : port;
	*out = h;
	return 0;
}

int hq_http_port(const hq_http *h)
{
	return h->port;
}

void hq_http_stop(hq_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);
	free(h);
}
