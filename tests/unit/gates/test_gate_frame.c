/* gates/frame: what a gate may say, and what the central says to it. */
#include "tests/harness/t.h"

#include <errno.h>

#include "gates/frame.h"

TEST(parse_table)
{
	static const struct {
		const char *in;
		int rc;
		const char *why;	/* a part of the reason, for refusals */
	} cases[] = {
		{ "{\"type\":\"hello\",\"edge_id\":\"gate-1\",\"token\":\"s3cret\"}", 0, NULL },
		{ "{\"type\":\"hello\",\"edge_id\":\"gate-1\"}", 0, NULL },	/* no token */
		{ " {\"type\":\"ack\",\"event_id\":\"central-1_1_29A12345\",\"ok\":true}\n", 0, NULL },
		{ "{\"type\":\"ack\",\"event_id\":\"e\",\"ok\":false,\"error\":\"jammed\"}", 0, NULL },
		{ "", EINVAL, "message of 0 bytes" },
		{ "[]", EINVAL, "not a JSON object" },
		{ "{\"type\":\"hello\"", EINVAL, "not a JSON object" },
		{ "{\"type\":\"hello\",\"edge_id\":\"g\"} x", EINVAL, "bytes after" },
		{ "{\"edge_id\":\"g\"}", EINVAL, "type: missing" },
		{ "{\"type\":7}", EINVAL, "type: missing" },
		{ "{\"type\":\"open\"}", EINVAL, "type: unknown" },
		{ "{\"type\":\"hello\"}", EINVAL, "edge_id: missing" },
		{ "{\"type\":\"hello\",\"edge_id\":\"\"}", EINVAL, "edge_id: need" },
		{ "{\"type\":\"hello\",\"edge_id\":12}", EINVAL, "edge_id: not a string" },
		{ "{\"type\":\"hello\",\"edge_id\":\"a\\u0001b\"}", EINVAL, "control character" },
		{ "{\"type\":\"hello\",\"edge_id\":\"gate-1\",\"token\":null}", EINVAL, "token: not a string" },
		{ "{\"type\":\"ack\",\"event_id\":\"e\"}", EINVAL, "ok: missing" },
		{ "{\"type\":\"ack\",\"event_id\":\"e\",\"ok\":1}", EINVAL, "ok: missing or not a boolean" },
		{ "{\"type\":\"ack\",\"ok\":true}", EINVAL, "event_id: missing" },
	};
	char err[200];
	gate_frame f;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = gate_frame_parse(cases[i].in, strlen(cases[i].in), &f, err, sizeof err);

		if (rc != cases[i].rc)
			T_FAIL("case %zu (%s): rc %d, want %d (%s)", i, cases[i].in, rc,
			    cases[i].rc, rc ? err : "");
		if (cases[i].why != NULL && strstr(err, cases[i].why) == NULL)
			T_FAIL("case %zu: reason \"%s\" lacks \"%s\"", i, err, cases[i].why);
	}
}

TEST(parse_fields)
{
	const char *hello = "{\"type\":\"hello\",\"edge_id\":\"gate-1\",\"token\":\"t\"}";
	const char *nack = "{\"type\":\"ack\",\"event_id\":\"central-1_5_29A12345\","
	    "\"ok\":false,\"error\":\"barrier jammed\"}";
	gate_frame f;

	T_EQ_INT(0, gate_frame_parse(hello, strlen(hello), &f, NULL, 0));
	T_EQ_INT(GATE_F_HELLO, f.type);
	T_EQ_STR("gate-1", f.edge_id);
	T_EQ_STR("t", f.token);
	T_EQ_INT(0, gate_frame_parse(nack, strlen(nack), &f, NULL, 0));
	T_EQ_INT(GATE_F_ACK, f.type);
	T_EQ_STR("central-1_5_29A12345", f.event_id);
	T_EQ_INT(0, f.ok);
	T_EQ_STR("barrier jammed", f.error);
}

TEST(oversized_fields_and_messages)
{
	char buf[GATE_FRAME_MAX + 64], id[LOG_ORIGIN_MAX + 2];
	gate_frame f;
	int n;

	memset(id, 'g', sizeof id - 1);
	id[sizeof id - 1] = '\0';		/* one byte over */
	n = snprintf(buf, sizeof buf, "{\"type\":\"hello\",\"edge_id\":\"%s\"}", id);
	T_EQ_INT(EINVAL, gate_frame_parse(buf, (size_t)n, &f, NULL, 0));
	memset(buf, ' ', sizeof buf);
	T_EQ_INT(EINVAL, gate_frame_parse(buf, GATE_FRAME_MAX + 1, &f, NULL, 0));
}

TEST(commands_and_welcome)
{
	const char *want = "{\"type\":\"open\",\"event_id\":\"central-1_17_29A12345\","
	    "\"plate\":\"29A12345\"}";
	char buf[256];

	T_EQ_INT((int)strlen(want), gate_frame_command(buf, sizeof buf, "open",
	    "central-1_17_29A12345", "29A12345"));
	T_EQ_STR(want, buf);
	T_ASSERT(gate_frame_command(buf, sizeof buf, "close", "c_1_P", "29A12345") > 0);
	T_EQ_INT(-1, gate_frame_command(buf, sizeof buf, "lift", "c_1_P", "29A12345"));
	T_EQ_INT(-1, gate_frame_command(buf, sizeof buf, "open", "a\"b", "29A12345"));
	T_EQ_INT(-1, gate_frame_command(buf, sizeof buf, "open", "c_1_P", ""));
	T_EQ_INT(-1, gate_frame_command(buf, 20, "open", "c_1_P", "29A12345"));
	T_ASSERT(gate_frame_welcome(buf, sizeof buf, "gate-1") > 0);
	T_EQ_STR("{\"type\":\"welcome\",\"edge_id\":\"gate-1\"}", buf);
}

T_MAIN()
