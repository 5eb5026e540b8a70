/* api/parse: every request body parser, good and bad, as tables. */
#include "tests/harness/t.h"
#include "api/parse.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct bad_case {
	const char *body;
	const char *err;	/* expected message prefix */
} bad_case;

#define SEED_DETECTION "{\"edge_id\":\"edge-1\",\"plate_id\":\"29A12345\"," \
	"\"plate_view\":\"29A-123.45\",\"camera_type\":\"car\"," \
	"\"direction\":\"ENTRY\",\"confidence\":0.95}"

TEST(detection_seed_body)
{
	api_detection d;
	char err[200];

	T_EQ_INT(0, api_parse_detection(SEED_DETECTION, strlen(SEED_DETECTION),
	    &d, err, sizeof err));
	T_EQ_STR("edge-1", d.edge_id);
	T_EQ_STR("29A12345", d.plate);
	T_EQ_STR("29A-123.45", d.plate_view);
	T_EQ_STR("car", d.vehicle);
	T_EQ_INT(API_REQ_DIR_ENTRY, d.direction);
	T_EQ_INT(950, d.conf_milli);
}

TEST(detection_defaults)
{
	static const char b[] = "{\"edge_id\":\"g.1\",\"plate_id\":\"29a-123.45\","
	    "\"camera_type\":\"MOTO\",\"extra\":[1,2]}";
	api_detection d;
	char err[200];

	T_EQ_INT(0, api_parse_detection(b, sizeof b - 1, &d, err, sizeof err));
	T_EQ_STR("29A12345", d.plate);
	T_EQ_STR("29a-123.45", d.plate_view);	/* the raw plate as view */
	T_EQ_STR("moto", d.vehicle);
	T_EQ_INT(API_REQ_DIR_NONE, d.direction);
	T_EQ_INT(-1, d.conf_milli);
}

static void expect_bad(int (*fn)(const char *, size_t, char *, size_t),
    const bad_case *cases, size_t n)
{
	char err[200];

	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		if (fn(cases[i].body, strlen(cases[i].body), err, sizeof err) == 0)
			T_FAIL("case %zu accepted: %s", i, cases[i].body);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			T_FAIL("case %zu: expected \"%s...\", got \"%s\"", i,
			    cases[i].err, err);
	}
}

static int det(const char *b, size_t n, char *err, size_t errlen)
{
	api_detection d;

	return api_parse_detection(b, n, &d, err, errlen);
}

TEST(detection_bad)
{
	static const bad_case cases[] = {
		{ "", "body: empty" },
		{ "{", "body: invalid JSON" },
		{ "[1]", "body: expected a JSON object" },
		{ "\"x\"", "body: expected a JSON object" },
		{ "{\"plate_id\":\"29A12345\"}", "edge_id: missing" },
		{ "{\"edge_id\":null,\"plate_id\":\"29A12345\"}", "edge_id: missing" },
		{ "{\"edge_id\":1,\"plate_id\":\"29A12345\"}", "edge_id: expected a string" },
		{ "{\"edge_id\":\"\",\"plate_id\":\"29A12345\"}", "edge_id: need" },
		{ "{\"edge_id\":\"edge_1\",\"plate_id\":\"29A12345\"}", "edge_id: need" },
		{ "{\"edge_id\":\"e\"}", "plate_id: missing" },
		{ "{\"edge_id\":\"e\",\"plate_id\":29}", "plate_id: expected a string" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A1\"}", "plate_id: too short" },
		/* issue 12: invalid UTF-8 is refused, not stripped to 29A345 */
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A\xff\xfe" "345\"}",
		  "plate_id: invalid UTF-8 at byte 3" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345678901\"}", "plate_id: too long" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"plate_view\":\"a\\\"b\"}",
		  "plate_view: need" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"plate_view\":\"\"}",
		  "plate_view: need" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"plate_view\":\"\\u0001\"}",
		  "plate_view: need" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"camera_type\":\"c a r\"}",
		  "camera_type: need" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"camera_type\":true}",
		  "camera_type: expected a string" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"direction\":\"IN\"}",
		  "direction: expected" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"confidence\":\"0.9\"}",
		  "confidence: expected a number" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"confidence\":95}",
		  "confidence: expected 0..1" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"confidence\":-0.1}",
		  "confidence: expected 0..1" },
		{ "{\"edge_id\":\"e\",\"plate_id\":\"29A12345\",\"timestamp\":{}}",
		  "timestamp: expected" },
	};

	expect_bad(det, cases, ARRAY_LEN(cases));
}

static int open_(const char *b, size_t n, char *err, size_t errlen)
{
	api_barrier x;

	return api_parse_barrier(b, n, "open", &x, err, errlen);
}

TEST(barrier_open)
{
	static const char b[] = "{\"edge_id\":\"edge-1\",\"plate_id\":\"29A12345\","
	    "\"action\":\"open\"}";
	static const char nb[] = "{\"edge_id\":\"edge-1\",\"plate_id\":\"29A12345\"}";
	static const bad_case cases[] = {
		{ "{\"edge_id\":\"edge-1\",\"plate_id\":\"29A12345\",\"action\":\"close\"}",
		  "action: expected \"open\"" },
		{ "{\"edge_id\":\"edge-1\",\"plate_id\":\"29A12345\",\"action\":1}",
		  "action: expected a string" },
		{ "{\"edge_id\":\"edge-1\",\"plate_id\":\"29A12345\",\"vehicle\":\"C!\"}",
		  "vehicle: need" },
		{ "{\"edge_id\":\"edge-1\",\"plate_id\":[]}", "plate_id: expected a string" },
	};
	api_barrier x;
	char err[200];

	T_EQ_INT(0, api_parse_barrier(b, sizeof b - 1, "open", &x, err, sizeof err));
	T_EQ_STR("edge-1", x.edge_id);
	T_EQ_STR("29A12345", x.plate);
	T_EQ_STR("", x.plate_view);
	T_EQ_STR("", x.vehicle);
	T_EQ_INT(-1, x.conf_milli);
	T_EQ_INT(0, api_parse_barrier(nb, sizeof nb - 1, "open", &x, err, sizeof err));
	expect_bad(open_, cases, ARRAY_LEN(cases));
}

static int ev1(const char *b, size_t n, char *err, size_t errlen)
{
	api_event1 e;

	return api_parse_event1(b, n, &e, err, errlen);
}

TEST(event1)
{
	static const char b[] = "{\"type\":\"ENTRY\",\"camera_id\":1,"
	    "\"camera_name\":\"Gate 1\",\"camera_type\":\"car\","
	    "\"timestamp\":\"2026-11-23T10:00:00\",\"event_id\":\"cam1-42\","
	    "\"data\":{\"plate_text\":\"29A-123.45\",\"confidence\":0.9,"
	    "\"source\":\"ocr\"}}";
	static const bad_case cases[] = {
		{ "{\"camera_id\":1,\"data\":{\"plate_text\":\"29A12345\"}}", "type: missing" },
		{ "{\"type\":\"PASS\",\"camera_id\":1,\"data\":{\"plate_text\":\"29A12345\"}}",
		  "type: expected" },
		{ "{\"type\":\"EXIT\",\"data\":{\"plate_text\":\"29A12345\"}}", "camera_id: missing" },
		{ "{\"type\":\"EXIT\",\"camera_id\":1.5,\"data\":{\"plate_text\":\"29A12345\"}}",
		  "camera_id: expected an integer" },
		{ "{\"type\":\"EXIT\",\"camera_id\":-1,\"data\":{\"plate_text\":\"29A12345\"}}",
		  "camera_id: expected an integer" },
		{ "{\"type\":\"EXIT\",\"camera_id\":1}", "data: missing" },
		{ "{\"type\":\"EXIT\",\"camera_id\":1,\"data\":[]}", "data: expected an object" },
		{ "{\"type\":\"EXIT\",\"camera_id\":1,\"data\":{}}", "plate_text: missing" },
		{ "{\"type\":\"EXIT\",\"camera_id\":1,\"event_id\":\"a b\","
		  "\"data\":{\"plate_text\":\"29A12345\"}}", "event_id: need" },
		{ "{\"type\":\"EXIT\",\"camera_id\":1,\"camera_name\":\"a\\nb\","
		  "\"data\":{\"plate_text\":\"29A12345\"}}", "camera_name: control" },
	};
	api_event1 e;
	char err[200];

	T_EQ_INT(0, api_parse_event1(b, sizeof b - 1, &e, err, sizeof err));
	T_EQ_INT(API_EV1_ENTRY, e.type);
	T_EQ_STR("1", e.edge_id);
	T_EQ_STR("Gate 1", e.camera_name);
	T_EQ_STR("cam1-42", e.event_id);
	T_EQ_STR("29A12345", e.plate);
	T_EQ_STR("29A-123.45", e.plate_view);
	T_EQ_INT(900, e.conf_milli);
	expect_bad(ev1, cases, ARRAY_LEN(cases));
}

static int hb(const char *b, size_t n, char *err, size_t errlen)
{
	api_heartbeat h;

	return api_parse_heartbeat(b, n, &h, err, errlen);
}

TEST(heartbeat)
{
	static const char b[] = "{\"camera_id\":\"edge-1\",\"camera_name\":\"G\","
	    "\"camera_type\":\"car\",\"status\":\"online\",\"events_sent\":10,"
	    "\"events_failed\":0,\"timestamp\":1733140800}";
	static const bad_case cases[] = {
		{ "{}", "camera_id: missing" },
		{ "{\"camera_id\":\"e\",\"events_sent\":-1}", "events_sent: expected" },
		{ "{\"camera_id\":\"e\",\"events_failed\":\"3\"}", "events_failed: expected" },
		{ "{\"camera_id\":\"e\",\"status\":5}", "status: expected a string" },
	};
	api_heartbeat h;
	char err[200];

	T_EQ_INT(0, api_parse_heartbeat(b, sizeof b - 1, &h, err, sizeof err));
	T_EQ_STR("edge-1", h.edge_id);
	T_EQ_STR("online", h.status);
	T_EQ_INT(10, h.events_sent);
	T_EQ_INT(0, h.events_failed);
	expect_bad(hb, cases, ARRAY_LEN(cases));
}

TEST(view_rules)
{
	T_ASSERT(api_view_ok("29A-123.45"));
	T_ASSERT(api_view_ok("51F-999.99 \xc4\x90"));	/* Đ */
	T_ASSERT(!api_view_ok(""));
	T_ASSERT(!api_view_ok("a\"b"));
	T_ASSERT(!api_view_ok("a\\b"));
	T_ASSERT(!api_view_ok("\x7f"));
	T_ASSERT(!api_view_ok("\xc2\x85"));		/* C1 control */
	T_ASSERT(!api_view_ok("\xed\xa0\x80"));		/* surrogate */
	T_ASSERT(!api_view_ok("\xc0\xaf"));		/* overlong */
	T_ASSERT(!api_view_ok("\xe2\x82"));		/* truncated */
	T_ASSERT(!api_view_ok("123456789012345678901234567890123"));
}

TEST(idem_key)
{
	char k[API_IDEM_MAX + 2];

	T_EQ_INT(0, api_parse_idem_key("abc-123_x:y", NULL, 0));
	T_EQ_INT(-1, api_parse_idem_key("", NULL, 0));
	T_EQ_INT(-1, api_parse_idem_key("a b", NULL, 0));
	memset(k, 'a', sizeof k - 1);
	k[sizeof k - 1] = '\0';
	T_EQ_INT(-1, api_parse_idem_key(k, NULL, 0));
	k[API_IDEM_MAX] = '\0';
	T_EQ_INT(0, api_parse_idem_key(k, NULL, 0));
}

TEST(times)
{
	int64_t ms;

	T_EQ_INT(0, api_parse_time("1733140800000", 420, &ms));
	T_EQ_INT(1733140800000LL, ms);
	T_EQ_INT(0, api_parse_time("1970-01-01", 0, &ms));
	T_EQ_INT(0, ms);
	T_EQ_INT(0, api_parse_time("2026-11-23T10:00:00+07:00", 0, &ms));
	T_EQ_INT(1795402800000LL, ms);
	T_EQ_INT(0, api_parse_time("2026-11-23T10:00", 420, &ms));	/* facility time */
	T_EQ_INT(1795402800000LL, ms);
	T_EQ_INT(0, api_parse_time("2026-11-23T03:00:00.250Z", 420, &ms));
	T_EQ_INT(1795402800250LL, ms);
	T_EQ_INT(0, api_parse_time("2026-11-23", 420, &ms));
	T_EQ_INT(1795366800000LL, ms);
	T_EQ_INT(-1, api_parse_time("2026-13-01", 0, &ms));
	T_EQ_INT(-1, api_parse_time("2026-11-23T25:00", 0, &ms));
	T_EQ_INT(-1, api_parse_time("2026-11-23T10:00+7", 0, &ms));
	T_EQ_INT(-1, api_parse_time("yesterday", 0, &ms));
	T_EQ_INT(-1, api_parse_time("", 0, &ms));
}

typedef struct kv {
	const char *k, *v;
} kv;

static const char *kv_arg(void *ctx, const char *key)
{
	for (const kv *p = ctx; p->k != NULL; p++)
		if (strcmp(p->k, key) == 0)
			return p->v;
	return NULL;
}

TEST(history_query)
{
	kv none[] = { { NULL, NULL } };
	kv all[] = { { "limit", "5" }, { "offset", "10" }, { "today_only", "true" },
	    { "status", "out" }, { "search", "29a" }, { "in_parking_only", "0" },
	    { "entries_only", "" }, { "plate", "29A-123.45" },
	    { "from", "2026-11-23" }, { "to", "1795453200000" }, { NULL, NULL } };
	kv bad1[] = { { "limit", "100001" }, { NULL, NULL } };
	kv bad2[] = { { "status", "GONE" }, { NULL, NULL } };
	kv bad3[] = { { "today_only", "maybe" }, { NULL, NULL } };
	kv bad4[] = { { "from", "2026-11-24" }, { "to", "2026-11-23" }, { NULL, NULL } };
	kv bad5[] = { { "plate", "12" }, { NULL, NULL } };
	api_history_q q;
	char err[200];

	T_EQ_INT(0, api_parse_history(kv_arg, none, 420, &q, err, sizeof err));
	T_EQ_INT(100, q.limit);
	T_EQ_INT(0, q.offset);
	T_EQ_INT(0, api_parse_history(kv_arg, all, 420, &q, err, sizeof err));
	T_EQ_INT(5, q.limit);
	T_EQ_INT(10, q.offset);
	T_EQ_INT(1, q.today_only);
	T_EQ_INT(API_HIST_OUT, q.status);
	T_EQ_STR("29A", q.search);
	T_EQ_INT(0, q.in_parking_only);
	T_EQ_INT(1, q.entries_only);
	T_EQ_STR("29A12345", q.plate);
	T_EQ_INT(1795366800000LL, q.from_ms);
	T_EQ_INT(-1, api_parse_history(kv_arg, bad1, 420, &q, err, sizeof err));
	T_EQ_INT(-1, api_parse_history(kv_arg, bad2, 420, &q, err, sizeof err));
	T_EQ_INT(-1, api_parse_history(kv_arg, bad3, 420, &q, err, sizeof err));
	T_EQ_INT(-1, api_parse_history(kv_arg, bad4, 420, &q, err, sizeof err));
	T_EQ_STR("to: must be after from", err);
	T_EQ_INT(-1, api_parse_history(kv_arg, bad5, 420, &q, err, sizeof err));
}

T_MAIN()

/* Issue 12: a plate in a path or query with bytes that are not UTF-8 is
 * refused with a clear message, not stripped to other characters. */
TEST(plate_invalid_utf8)
{
	char out[LOG_PLATE_MAX + 1], err[128] = "";

	T_EQ_INT(0, api_parse_plate("29a-123.45", out, err, sizeof err));
	T_EQ_STR("29A12345", out);
	T_ASSERT(api_parse_plate("29A\xff\xfe" "345", out, err, sizeof err) != 0);
	T_EQ_STR("plate: invalid UTF-8 at byte 3", err);
}
