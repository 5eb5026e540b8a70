/* api/auth.c — bearer tokens for edges and operators; see auth.h. */
#include "api/auth.h"

#include <string.h>
#include <strings.h>

/* Equal strings, in time that depends on the lengths only. */
static int api__token_eq(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;

	for (size_t i = 0; i < na; i++)
		d |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
	return d == 0;
}

/* 0 if the header carries `token`, else 401/403 with the reason. */
static int api__bearer(const char *token, const char *authorization,
    const char **why)
{
	const char *p = authorization;

	if (p == NULL || *p == '\0') {
		*why = "missing Authorization: Bearer token";
		return 401;
	}
	if (strncasecmp(p, "Bearer ", 7) != 0) {
		*why = "Authorization: expected a Bearer token";
		return 401;
	}
	for (p += 7; *p == ' '; p++)
		;
	if (!api__token_eq(p, token)) {
		*why = "invalid token";
		return 403;
	}
	return 0;
}

int api_auth_edge(const api_edge *edges, size_t nedges, const char *edge_id,
    const char *authorization, const api_edge **edge, const char **why)
{
	*edge = NULL;
	*why = "";
	if (nedges == 0)
		return 0;
	for (size_t i = 0; i < nedges; i++) {
		if (strcmp(edges[i].id, edge_id) == 0) {
			*edge = &edges[i];
			break;
		}
	}
	if (*edge == NULL) {
		*why = "unknown edge";
		return 403;
	}
	if ((*edge)->token[0] == '\0')
		return 0;
	return api__bearer((*edge)->token, authorization, why);
}

int api_auto_open(const api_edge *e, enum api_direction dir, int conf_milli,
    int inside, int64_t fee_now)
{
	if (e == NULL)
		return 0;
	if (dir == API_DIR_ENTRY)
		return e->auto_entry && !inside && conf_milli >= 0 &&
		    conf_milli >= e->auto_entry_min_conf_milli;
	return dir == API_DIR_EXIT && e->auto_exit_free && inside && fee_now == 0;
}

int api_auth_gate(const api_edge *edges, size_t nedges, const char *edge_id,
    const char *token)
{
	if (nedges == 0)
		return 0;
	for (size_t i = 0; i < nedges; i++)
		if (strcmp(edges[i].id, edge_id) == 0)
			return edges[i].token[0] == '\0' ||
			    api__token_eq(token, edges[i].token) ? 0 : 403;
	return 403;
}

int api_auth_operator(const char *token, const char *authorization,
    const char **why)
{
	*why = "";
	if (token == NULL || token[0] == '\0')
		return 0;
	return api__bearer(token, authorization, why);
}
