/* api/compat.c — what the seed's clients need of every answer: CORS
 * (preflight and headers on every answer, errors too) and the token-less
 * compatibility addresses (their lists: origin.c). docs/seed-compat.md. */
#include "api/internal.h"

#include <string.h>

int api__tokenless(api__req *r)
{
	const union MHD_ConnectionInfo *ci;

	if (r->pol->tokenless[0] == '\0')
		return 0;
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci != NULL && api_addr_listed(r->pol->tokenless, ci->client_addr);
}

void api__cors_headers(api__req *r, struct MHD_Response *resp)
{
	const char *o = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "Origin");
	const char *allow = api_cors_allow(r->pol->cors, o);

	if (allow == NULL)
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", allow);
	if (strcmp(allow, "*") != 0)
		MHD_add_response_header(resp, "Vary", "Origin");
}

enum MHD_Result api__cors_preflight(api__req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	api__cors_headers(r, resp);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
	    "GET, HEAD, POST, PUT, DELETE, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
	    "Content-Type, Authorization, Idempotency-Key");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD, POST, PUT, DELETE, OPTIONS");
	ret = MHD_queue_response(r->conn, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	api__metrics_count(r->srv, r->route, MHD_HTTP_NO_CONTENT);
	return ret;
}
