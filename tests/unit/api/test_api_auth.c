/* api/auth: who may call what, as a table. */
#include "tests/harness/t.h"
#include "api/auth.h"

static const api_edge EDGES[] = {
	{ .id = "gate-in", .direction = API_DIR_ENTRY, .token = "s3cret-in" },
	{ .id = "gate-out", .direction = API_DIR_EXIT, .token = "s3cret-out" },
	{ .id = "gate-open", .direction = API_DIR_NONE, .token = "" },
};

TEST(edge_table)
{
	static const struct {
		size_t nedges;
		const char *edge, *authz;
		int want;
	} cases[] = {
		{ 0, "anything", NULL, 0 },		/* no edges: open (loopback) */
		{ 0, "anything", "Bearer x", 0 },
		{ 3, "gate-in", "Bearer s3cret-in", 0 },
		{ 3, "gate-in", "bearer   s3cret-in", 0 },
		{ 3, "gate-in", NULL, 401 },
		{ 3, "gate-in", "", 401 },
		{ 3, "gate-in", "Basic abc", 401 },
		{ 3, "gate-in", "Bearer s3cret-out", 403 },	/* another gate's */
		{ 3, "gate-in", "Bearer s3cret-i", 403 },
		{ 3, "gate-in", "Bearer s3cret-inn", 403 },
		{ 3, "gate-in", "Bearer ", 403 },
		{ 3, "gate-x", "Bearer s3cret-in", 403 },	/* unknown edge */
		{ 3, "gate-open", NULL, 0 },			/* edge without token */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const api_edge *e;
		const char *why;
		int got = api_auth_edge(EDGES, cases[i].nedges, cases[i].edge,
		    cases[i].authz, &e, &why);

		if (got != cases[i].want)
			T_FAIL("case %zu: expected %d, got %d (%s)", i,
			    cases[i].want, got, why);
		if (got == 0 && cases[i].nedges > 0 && (e == NULL ||
		    strcmp(e->id, cases[i].edge) != 0))
			T_FAIL("case %zu: wrong edge", i);
	}
}

TEST(unknown_edge_reason)
{
	const api_edge *e;
	const char *why;

	T_EQ_INT(403, api_auth_edge(EDGES, 3, "nope", NULL, &e, &why));
	T_EQ_STR("unknown edge", why);
	T_ASSERT(e == NULL);
}

TEST(operator)
{
	const char *why;

	T_EQ_INT(0, api_auth_operator(NULL, NULL, &why));
	T_EQ_INT(0, api_auth_operator("", "Bearer x", &why));
	T_EQ_INT(0, api_auth_operator("op-token", "Bearer op-token", &why));
	T_EQ_INT(401, api_auth_operator("op-token", NULL, &why));
	T_EQ_INT(403, api_auth_operator("op-token", "Bearer op-tokem", &why));
	T_EQ_STR("invalid token", why);
}

/* Auto-open rules: entry by confidence and not inside, exit when free. */
TEST(auto_open_table)
{
	api_edge off = { .id = "g" }, in = { .id = "in", .auto_entry = 1,
	    .auto_entry_min_conf_milli = 900 }, out = { .id = "out", .auto_exit_free = 1 };
	static const struct {
		int which;		/* 0 off, 1 in, 2 out */
		enum api_direction dir;
		int conf, inside;
		long long fee;
		int want;
	} cases[] = {
		{ 0, API_DIR_ENTRY, 990, 0, -1, 0 },	/* rules off by default */
		{ 0, API_DIR_EXIT, -1, 1, 0, 0 },
		{ 1, API_DIR_ENTRY, 900, 0, -1, 1 },	/* at the threshold */
		{ 1, API_DIR_ENTRY, 899, 0, -1, 0 },
		{ 1, API_DIR_ENTRY, -1, 0, -1, 0 },	/* confidence unknown */
		{ 1, API_DIR_ENTRY, 990, 1, -1, 0 },	/* already inside */
		{ 1, API_DIR_EXIT, 990, 1, 0, 0 },	/* entry rule only */
		{ 2, API_DIR_EXIT, -1, 1, 0, 1 },	/* free exit */
		{ 2, API_DIR_EXIT, -1, 1, 25000, 0 },
		{ 2, API_DIR_EXIT, -1, 0, 0, 0 },	/* not inside: unknown entry */
		{ 2, API_DIR_ENTRY, 990, 0, -1, 0 },
	};
	const api_edge *e[] = { &off, &in, &out };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (api_auto_open(e[cases[i].which], cases[i].dir, cases[i].conf,
		    cases[i].inside, cases[i].fee) != cases[i].want)
			T_FAIL("case %zu: want %d", i, cases[i].want);
	T_EQ_INT(0, api_auto_open(NULL, API_DIR_ENTRY, 999, 0, -1));
}

TEST(gate_hello)
{
	api_edge edges[2] = { { .id = "in", .token = "tok-in" }, { .id = "free" } };

	T_EQ_INT(0, api_auth_gate(NULL, 0, "anyone", ""));	/* open mode */
	T_EQ_INT(0, api_auth_gate(edges, 2, "in", "tok-in"));
	T_EQ_INT(403, api_auth_gate(edges, 2, "in", "tok-ix"));
	T_EQ_INT(403, api_auth_gate(edges, 2, "in", ""));
	T_EQ_INT(0, api_auth_gate(edges, 2, "free", ""));
	T_EQ_INT(403, api_auth_gate(edges, 2, "other", "tok-in"));
}

T_MAIN()
