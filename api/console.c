/* api/console.c — the operator console's static files, embedded at build
 * time (console/ → console_assets.c by api/embed.cmake), served at "/" and
 * "/console/<name>" without auth: they hold no data; the data endpoints
 * they call need the operator token.
 *
 * Every answer carries a strict Content-Security-Policy (our own origin
 * only: no inline script or style, no other host), and an ETag: the files
 * change only with the binary, so a browser revalidates (no-cache) and
 * gets 304 with no body. */
#include "api/internal.h"

#include <string.h>

static const char api__csp[] = "default-src 'none'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

static const struct { const char *ext, *ctype; } api__ctypes[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

const char *api__console_ctype(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof api__ctypes / sizeof api__ctypes[0]; i++) {
		size_t k = strlen(api__ctypes[i].ext);

		if (n > k && strcmp(name + n - k, api__ctypes[i].ext) == 0)
			return api__ctypes[i].ctype;
	}
	return "application/octet-stream";
}

static const api__asset *api__asset_find(const char *name)
{
	for (size_t i = 0; i < api__nassets; i++)
		if (strcmp(api__assets[i].name, name) == 0)
			return &api__assets[i];
	return NULL;
}

static void api__console_headers(struct MHD_Response *resp, const char *etag)
{
	MHD_add_response_header(resp, "Content-Security-Policy", api__csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
}

/* If-None-Match carries our ETag (alone or in a list, or "*"). */
static int api__etag_match(api__req *r, const char *etag)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);

	return inm != NULL && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

static enum MHD_Result api__console_send(api__req *r, const api__asset *a)
{
	int fresh = api__etag_match(r, a->etag);
	unsigned status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(fresh ? 0 : a->len,
	    (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    api__console_ctype(a->name));
	api__console_headers(resp, a->etag);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	api__metrics_count(r->srv, r->route, status);
	return ret;
}

enum MHD_Result api__h_console(api__req *r)
{
	const char *name = strcmp(r->url, "/") == 0 ? "index.html" :
	    r->url + strlen("/console/");
	const api__asset *a = api__asset_find(name);

	if (a == NULL)
		return api__reply_error(r, MHD_HTTP_NOT_FOUND, "no such file");
	return api__console_send(r, a);
}
