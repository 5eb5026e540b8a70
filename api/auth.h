/* api/auth.h — who may call what: pure decisions, table-tested.
 *
 * Edge endpoints: with no edges configured any edge id is accepted without
 * a token. Once edges are configured an unknown edge is refused (403), and
 * an edge with a token needs "Authorization: Bearer <token>" (missing 401,
 * wrong 403). Operator endpoints: open unless an operator token is
 * configured, then the same bearer rule. Tokens compare in constant time.
 */
#ifndef PARKLOG_API_AUTH_H
#define PARKLOG_API_AUTH_H

#include <stddef.h>

#include "api/api.h"

/* 0 (allowed), 401 or 403, with the reason in *why. *edge is the
 * configured edge (NULL when none are configured). */
int api_auth_edge(const api_edge *edges, size_t nedges, const char *edge_id,
    const char *authorization, const api_edge **edge, const char **why);
int api_auth_operator(const char *token, const char *authorization,
    const char **why);
/* Does a detection at gate e open the barrier by itself? Entry (dir ENTRY):
 * the rule is on, the plate is not inside and was read with confidence
 * (thousandths; -1 unknown) at least the rule's. Exit (dir EXIT): the rule
 * is on, the plate is inside and its fee now is 0. 1 or 0. */
int api_auto_open(const api_edge *e, enum api_direction dir, int conf_milli,
    int inside, int64_t fee_now);

/* The gate channel's hello: the same rule as api_auth_edge, the token
 * given as is. 0 or 403. */
int api_auth_gate(const api_edge *edges, size_t nedges, const char *edge_id,
    const char *token);

#endif
