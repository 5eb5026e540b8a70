/* api/accounts.c — operator accounts: who a bearer token names and what
 * that account may do (api.h: viewer < operator < admin). The single
 * operator_token of older configs is the account "admin" (role admin);
 * with neither accounts nor a token the operator API is open (loopback
 * only, parklogd sees to it) and requests act as "admin". */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/auth.h"

enum api_role api_role_parse(const char *s)
{
	if (s == NULL)
		return API_ROLE_NONE;
	if (strcmp(s, "viewer") == 0)
		return API_ROLE_VIEWER;
	if (strcmp(s, "operator") == 0)
		return API_ROLE_OPERATOR;
	if (strcmp(s, "admin") == 0)
		return API_ROLE_ADMIN;
	return API_ROLE_NONE;
}

const char *api_role_name(enum api_role r)
{
	static const char *const names[] = { "none", "viewer", "operator", "admin" };

	return (unsigned)r < sizeof names / sizeof *names ? names[r] : "none";
}

static void api__as(api__req *r, const char *name, enum api_role role)
{
	snprintf(r->account, sizeof r->account, "%s", name);
	r->role = role;
}

unsigned api__accounts_auth(api__req *r, const char **why)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	const api__policy *p = r->pol;
	int st;

	*why = "";
	if (p->naccounts == 0 && p->operator_token[0] == '\0') {
		api__as(r, "admin", API_ROLE_ADMIN);
		return 0;
	}
	/* api_auth_operator compares in constant time; a wrong token of one
	 * account is simply not that account */
	for (size_t i = 0; i < p->naccounts; i++)
		if (api_auth_operator(p->accounts[i].token, h, why) == 0) {
			api__as(r, p->accounts[i].name, p->accounts[i].role);
			return 0;
		}
	if (p->operator_token[0] != '\0') {
		st = api_auth_operator(p->operator_token, h, why);
		if (st == 0)
			api__as(r, "admin", API_ROLE_ADMIN);
		return (unsigned)st;
	}
	return (unsigned)api_auth_operator("\x01", h, why);	/* its 401/403 */
}

void api__accounts_tokenless(api__req *r)
{
	/* the seed's clients have no tokens; installers list their machines
	 * (seed.tokenless): they act as operators, never as admins */
	api__as(r, "tokenless", API_ROLE_OPERATOR);
}

int api__role_need(api__req *r, enum api_role role, enum MHD_Result *res)
{
	if (r->role >= role)
		return 0;
	*res = api__reply_error(r, MHD_HTTP_FORBIDDEN, "account %s (%s) may not "
	    "do this: needs role %s", r->account, api_role_name(r->role),
	    api_role_name(role));
	return -1;
}

enum MHD_Result api__h_whoami(api__req *r)
{
	cJSON *o = api__ok();

	if (o == NULL)
		return api__reply_error(r, 500, "out of memory");
	cJSON_AddStringToObject(o, "account", r->account);
	cJSON_AddStringToObject(o, "role", api_role_name(r->role));
	cJSON_AddBoolToObject(o, "can_correct", r->role >= API_ROLE_OPERATOR);
	cJSON_AddBoolToObject(o, "can_set_tariff", r->role >= API_ROLE_ADMIN);
	return api__reply(r, MHD_HTTP_OK, o);
}
