/* log/event: plates, names, canonical encode, strict decode, value rules. */
#include "tests/harness/t.h"
#include "log/event.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define ID1 "central-1_1733140800000_29A12345"
#define HEAD(type) "{\"id\":\"" ID1 "\",\"type\":\"" type "\"," \
	"\"origin\":\"central-1\",\"stream\":\"central-1:00000000deadbeef\"," \
	"\"seq\":1,\"ts\":1733140800000,\"plate_id\":\"29A12345\"," \
	"\"plate_view\":\"29A-123.45\",\"vehicle\":\"car\"," \
	"\"edge_id\":\"edge-1\",\"confidence\":0.95,"

static const char PENDING[] = HEAD("ENTRY_PENDING")
    "\"session\":\"" ID1 "\"}";
static const char CONFIRMED[] = HEAD("ENTRY_CONFIRMED")
    "\"session\":\"central-2_1733140000000_29A12345\"}";
static const char EXIT_FULL[] = HEAD("EXIT")
    "\"session\":\"central-2_1733140000000_29A12345\","
    "\"entry_ts\":1733140000000,\"duration_s\":800,\"fee\":25000,"
    "\"tariff\":\"default\"}";
static const char EXIT_NULLS[] = HEAD("EXIT")
    "\"session\":null,\"entry_ts\":null,\"duration_s\":null,\"fee\":0,"
    "\"tariff\":\"default\"}";

static void make_event(log_event *ev, enum log_ev_type type)
{
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	strcpy(ev->origin, "central-1");
	ev->epoch = 0xdeadbeef;
	ev->seq = 1;
	ev->ts = 1733140800000;
	strcpy(ev->plate, "29A12345");
	log_event_id(ev->id, ev->origin, ev->ts, ev->plate);
	strcpy(ev->plate_view, "29A-123.45");
	strcpy(ev->vehicle, "car");
	strcpy(ev->edge_id, "edge-1");
	ev->confidence_milli = 950;
	strcpy(ev->session, type == LOG_EV_ENTRY_PENDING ? ev->id :
	    "central-2_1733140000000_29A12345");
	ev->entry_ts = -1;
	ev->duration_s = -1;
	if (type == LOG_EV_EXIT) {
		ev->entry_ts = 1733140000000;
		ev->duration_s = 800;
		ev->fee = 25000;
		strcpy(ev->tariff, "default");
	}
}

static int decode_str(const char *s, log_event *ev, char *err, size_t errlen)
{
	return log_event_decode(s, strlen(s), ev, err, errlen);
}

/* Encode ev, compare with `want`, decode it back and compare the fields. */
static void round_trip(const log_event *ev, const char *want)
{
	char buf[LOG_EVENT_MAX], err[256] = "";
	log_event back;
	int n = log_event_encode(ev, buf, sizeof buf);

	T_EQ_INT((int)strlen(want), n);
	T_EQ_MEM(want, buf, (size_t)n);
	memset(&back, 0x55, sizeof back);
	if (log_event_decode(buf, (size_t)n, &back, err, sizeof err) != 0)
		T_FAIL("decode: %s", err);
	T_EQ_STR(ev->id, back.id);
	T_EQ_INT(ev->type, back.type);
	T_EQ_STR(ev->origin, back.origin);
	T_EQ_U64(ev->epoch, back.epoch);
	T_EQ_U64(ev->seq, back.seq);
	T_EQ_INT(ev->ts, back.ts);
	T_EQ_STR(ev->plate, back.plate);
	T_EQ_STR(ev->plate_view, back.plate_view);
	T_EQ_STR(ev->vehicle, back.vehicle);
	T_EQ_STR(ev->edge_id, back.edge_id);
	T_EQ_INT(ev->confidence_milli, back.confidence_milli);
	T_EQ_STR(ev->session, back.session);
	T_EQ_INT(ev->entry_ts, back.entry_ts);
	T_EQ_INT(ev->duration_s, back.duration_s);
	T_EQ_INT(ev->fee, back.fee);
	T_EQ_STR(ev->tariff, back.tariff);
}

TEST(plate_normalise)
{
	static const struct { const char *in, *out; int rc; const char *msg; }
	cases[] = {
		{ "29A-123.45", "29A12345", 0, NULL },
		{ "29a-123.45", "29A12345", 0, NULL },
		{ " 51f 999.99 ", "51F99999", 0, NULL },
		{ "abc123", "ABC123", 0, NULL },
		{ "ABCDEFGHJK12", "ABCDEFGHJK12", 0, NULL },
		{ "29A-123.45 \xc4\x90\xc3\xa9", "29A12345", 0, NULL },
		{ "ab-12", "AB12", LOG_EEVENT_VALUE, "too short" },
		{ "", "", LOG_EEVENT_VALUE, "too short (0 characters" },
		{ "\xc4\x90\xc4\x90\xc4\x90\xc4\x90\xc4\x90\xc4\x90", "",
		    LOG_EEVENT_VALUE, "too short" },
		{ "ABCDEFGHJK123", "ABCDEFGHJK12", LOG_EEVENT_VALUE,
		    "too long (13 characters" },
		/* issue 12: bytes that are not UTF-8 are refused, not dropped */
		{ "29A\xff\xfe" "345", "", LOG_EEVENT_VALUE, "invalid UTF-8 at byte 3" },
		{ "29A12345\xc4", "", LOG_EEVENT_VALUE, "invalid UTF-8 at byte 8" },
		{ "29A\xc0\xaf" "12345", "", LOG_EEVENT_VALUE, "invalid UTF-8" },
		{ "29A\xed\xa0\x80" "12345", "", LOG_EEVENT_VALUE, "invalid UTF-8" },
	};
	char out[LOG_PLATE_MAX + 1], err[128];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		err[0] = '\0';
		T_EQ_INT(cases[i].rc, log_plate_normalise(cases[i].in, out, err,
		    sizeof err));
		T_EQ_STR(cases[i].out, out);
		if (cases[i].msg != NULL && strstr(err, cases[i].msg) == NULL)
			T_FAIL("case %zu: message \"%s\" lacks \"%s\"", i, err,
			    cases[i].msg);
	}
}

TEST(names_ids_streams)
{
	char id[LOG_ID_MAX + 1], s[LOG_STREAM_MAX + 1], o[LOG_ORIGIN_MAX + 1];
	uint64_t epoch = 0;

	T_EQ_STR("ENTRY_PENDING", log_ev_type_name(LOG_EV_ENTRY_PENDING));
	T_EQ_STR("ENTRY_CONFIRMED", log_ev_type_name(LOG_EV_ENTRY_CONFIRMED));
	T_EQ_STR("EXIT", log_ev_type_name(LOG_EV_EXIT));
	T_ASSERT(log_ev_type_name(LOG_EV_NONE) == NULL);
	T_ASSERT(log_ev_type_name((enum log_ev_type)(LOG_EV_LAST + 1)) == NULL);
	T_EQ_INT(LOG_EV_EXIT, log_ev_type_parse("EXIT"));
	T_EQ_INT(LOG_EV_ENTRY_CONFIRMED, log_ev_type_parse("ENTRY_CONFIRMED"));
	T_EQ_INT(LOG_EV_NONE, log_ev_type_parse("exit"));
	T_EQ_INT(LOG_EV_NONE, log_ev_type_parse(NULL));

	log_event_id(id, "central-1", 1733140800000, "29A12345");
	T_EQ_STR(ID1, id);
	log_stream_name(s, "central-1", 0xdeadbeef);
	T_EQ_STR("central-1:00000000deadbeef", s);
	log_stream_name(s, "c", UINT64_MAX);
	T_EQ_STR("c:ffffffffffffffff", s);
	T_EQ_INT(0, log_stream_parse("central-1:00000000deadbeef", o, &epoch));
	T_EQ_STR("central-1", o);
	T_EQ_U64(0xdeadbeef, epoch);
	T_EQ_INT(LOG_EEVENT_VALUE, log_stream_parse("c:00000000DEADBEEF", o, &epoch));
	T_EQ_INT(LOG_EEVENT_VALUE, log_stream_parse("c:deadbeef", o, &epoch));
	T_EQ_INT(LOG_EEVENT_VALUE, log_stream_parse(":00000000deadbeef", o, &epoch));
	T_EQ_INT(LOG_EEVENT_VALUE, log_stream_parse("c_1:00000000deadbeef", o, &epoch));
	T_EQ_INT(LOG_EEVENT_VALUE, log_stream_parse("c00000000deadbeef", o, &epoch));
	T_EQ_INT(LOG_EEVENT_VALUE, log_stream_parse("c:00000000deadbeef0", o, &epoch));

	T_ASSERT(strstr(log_event_strerror(LOG_EEVENT_NONCANON), "canonical"));
	T_ASSERT(strstr(log_event_strerror(LOG_EEVENT_SPACE), "small"));
	T_EQ_STR("success", log_event_strerror(0));
	T_ASSERT(log_event_strerror(-1) != NULL);
}

TEST(encode_decode_each_type)
{
	log_event ev;

	make_event(&ev, LOG_EV_ENTRY_PENDING);
	round_trip(&ev, PENDING);
	make_event(&ev, LOG_EV_ENTRY_CONFIRMED);
	round_trip(&ev, CONFIRMED);
	make_event(&ev, LOG_EV_EXIT);
	round_trip(&ev, EXIT_FULL);
	make_event(&ev, LOG_EV_EXIT);
	ev.session[0] = '\0';
	ev.entry_ts = -1;
	ev.duration_s = -1;
	ev.fee = 0;
	round_trip(&ev, EXIT_NULLS);
}

/* The gate's own time: a last key, only when given; one form only. */
TEST(edge_ts_optional_last_key)
{
	static const char pending_at[] = HEAD("ENTRY_PENDING")
	    "\"session\":\"" ID1 "\",\"edge_ts\":1733140000000}";
	static const char exit_at[] = HEAD("EXIT")
	    "\"session\":\"central-2_1733140000000_29A12345\","
	    "\"entry_ts\":1733140000000,\"duration_s\":800,\"fee\":25000,"
	    "\"tariff\":\"default\",\"edge_ts\":1733140700000}";
	static const char *refused[] = {
		HEAD("ENTRY_PENDING") "\"session\":\"" ID1 "\",\"edge_ts\":0}",
		HEAD("ENTRY_PENDING") "\"session\":\"" ID1 "\",\"edge_ts\":null}",
		HEAD("ENTRY_PENDING") "\"session\":\"" ID1 "\",\"edge_ts\":-5}",
		HEAD("ENTRY_PENDING") "\"session\":\"" ID1 "\",\"edge_ts\":1,\"x\":1}",
		HEAD("EXIT") "\"session\":null,\"edge_ts\":1733140700000,"
		    "\"entry_ts\":null,\"duration_s\":null,\"fee\":0,\"tariff\":\"default\"}",
	};
	char err[200];
	log_event ev;

	make_event(&ev, LOG_EV_ENTRY_PENDING);
	ev.edge_ts = 1733140000000LL;
	round_trip(&ev, pending_at);
	T_EQ_U64(1733140000000ULL, (uint64_t)log_event_at(&ev));	/* earlier: it */
	ev.edge_ts = ev.ts + 5000;
	T_EQ_U64((uint64_t)ev.ts, (uint64_t)log_event_at(&ev));	/* later: ts */
	ev.edge_ts = 0;
	T_EQ_U64((uint64_t)ev.ts, (uint64_t)log_event_at(&ev));
	make_event(&ev, LOG_EV_EXIT);
	ev.edge_ts = 1733140700000LL;
	round_trip(&ev, exit_at);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (decode_str(refused[i], &ev, err, sizeof err) == 0)
			T_FAIL("refused[%zu] was accepted", i);
	make_event(&ev, LOG_EV_ENTRY_PENDING);
	ev.edge_ts = -1;
	T_ASSERT(log_event_check(&ev, err, sizeof err) != 0);
}

TEST(encode_limits_round_trip)
{
	log_event ev;
	char buf[LOG_EVENT_MAX];
	int n;

	/* Every field at its maximum still fits LOG_EVENT_MAX and decodes. */
	make_event(&ev, LOG_EV_EXIT);
	memset(ev.origin, 'o', LOG_ORIGIN_MAX);
	ev.origin[LOG_ORIGIN_MAX] = '\0';
	ev.epoch = UINT64_MAX;
	ev.seq = LOG_SEQ_MAX;
	ev.ts = (int64_t)LOG_SEQ_MAX;
	strcpy(ev.plate, "ZZZZZZZZZZZZ");
	log_event_id(ev.id, ev.origin, ev.ts, ev.plate);
	T_EQ_INT(LOG_ID_MAX, (int)strlen(ev.id));
	strcpy(ev.session, ev.id);
	memset(ev.plate_view, '~', LOG_VIEW_MAX);
	ev.plate_view[LOG_VIEW_MAX] = '\0';
	memset(ev.vehicle, 'v', LOG_VEHICLE_MAX);
	ev.vehicle[LOG_VEHICLE_MAX] = '\0';
	memset(ev.edge_id, 'E', LOG_ORIGIN_MAX);
	ev.edge_id[LOG_ORIGIN_MAX] = '\0';
	memset(ev.tariff, 't', LOG_TARIFF_MAX);
	ev.tariff[LOG_TARIFF_MAX] = '\0';
	ev.entry_ts = ev.ts;
	ev.duration_s = (int64_t)LOG_SEQ_MAX;
	ev.fee = LOG_FEE_MAX;
	ev.confidence_milli = 1000;
	n = log_event_encode(&ev, buf, sizeof buf);
	T_ASSERT(n > 0 && n < LOG_EVENT_MAX);
	round_trip(&ev, (buf[n] = '\0', buf));
}

TEST(encode_confidence)
{
	static const struct { int milli; const char *text; } cases[] = {
		{ 950, "0.95" }, { 1000, "1" }, { 0, "0" }, { 5, "0.005" },
		{ 50, "0.05" }, { 500, "0.5" }, { 123, "0.123" }, { 100, "0.1" },
		{ 10, "0.01" }, { 999, "0.999" }, { 1, "0.001" }, { 990, "0.99" },
	};
	char buf[LOG_EVENT_MAX], want[64];
	log_event ev;
	size_t i;
	int n;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		make_event(&ev, LOG_EV_ENTRY_PENDING);
		ev.confidence_milli = cases[i].milli;
		n = log_event_encode(&ev, buf, sizeof buf - 1);
		T_ASSERT(n > 0);
		buf[n] = '\0';
		snprintf(want, sizeof want, "\"confidence\":%s,", cases[i].text);
		if (strstr(buf, want) == NULL)
			T_FAIL("milli %d: %s lacks %s", cases[i].milli, buf, want);
		round_trip(&ev, buf);
	}
}

TEST(encode_space_and_value)
{
	char buf[LOG_EVENT_MAX];
	log_event ev;
	int n;

	make_event(&ev, LOG_EV_ENTRY_PENDING);
	n = (int)strlen(PENDING);
	T_EQ_INT(LOG_EEVENT_SPACE, log_event_encode(&ev, buf, (size_t)n - 1));
	T_EQ_INT(n, log_event_encode(&ev, buf, (size_t)n));
	T_EQ_MEM(PENDING, buf, (size_t)n);
	T_EQ_INT(LOG_EEVENT_SPACE, log_event_encode(&ev, NULL, 0));
	ev.confidence_milli = 1001;
	T_EQ_INT(LOG_EEVENT_VALUE, log_event_encode(&ev, buf, sizeof buf));
}

/* Struct-level rules log_event_check enforces. */
TEST(check_rules)
{
	static const struct { enum log_ev_type type; int field; long long v;
	    const char *msg; } cases[] = {
		{ LOG_EV_ENTRY_PENDING, 0, 5, "fee: only an EXIT" },
		{ LOG_EV_ENTRY_CONFIRMED, 1, 5, "entry_ts: only an EXIT" },
		{ LOG_EV_ENTRY_PENDING, 2, 5, "duration_s: only an EXIT" },
		{ LOG_EV_ENTRY_CONFIRMED, 3, 0, "tariff: only an EXIT" },
		{ LOG_EV_EXIT, 0, LOG_FEE_MAX + 1, "fee: " },
		{ LOG_EV_EXIT, 0, -1, "fee: -1 is out of range" },
		{ LOG_EV_EXIT, 1, 1733140800001, "entry_ts: " },
		{ LOG_EV_EXIT, 1, 0, "entry_ts: 0 is out of range" },
		{ LOG_EV_EXIT, 2, -2, "duration_s: -2" },
		{ LOG_EV_EXIT, 4, 0, "seq: 0 is out of range" },
		{ LOG_EV_EXIT, 4, (long long)LOG_SEQ_MAX + 1, "seq: " },
		{ LOG_EV_EXIT, 5, 0, "type: unknown" },
		{ LOG_EV_ENTRY_CONFIRMED, 6, 0, "session: null is allowed only" },
		{ LOG_EV_ENTRY_PENDING, 6, 0, "session: an ENTRY_PENDING" },
		{ LOG_EV_EXIT, 7, 0, "session: not an event id" },
		{ LOG_EV_EXIT, 8, 0, "id: " },
	};
	char err[256];
	log_event ev;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		make_event(&ev, cases[i].type);
		T_EQ_INT(0, log_event_check(&ev, err, sizeof err));
		switch (cases[i].field) {
		case 0: ev.fee = cases[i].v; break;
		case 1: ev.entry_ts = cases[i].v; break;
		case 2: ev.duration_s = cases[i].v; break;
		case 3: strcpy(ev.tariff, "x"); break;
		case 4: ev.seq = (uint64_t)cases[i].v; break;
		case 5: ev.type = (enum log_ev_type)(LOG_EV_LAST + 1); break;
		case 6: ev.session[0] = '\0'; break;
		case 7: strcpy(ev.session, "central-2_0173_29A12345"); break;
		case 8: ev.ts++; break;
		}
		err[0] = '\0';
		T_EQ_INT(LOG_EEVENT_VALUE, log_event_check(&ev, err, sizeof err));
		if (strstr(err, cases[i].msg) == NULL)
			T_FAIL("case %zu: message \"%s\" lacks \"%s\"", i, err,
			    cases[i].msg);
	}
	/* NULL err is allowed. */
	T_EQ_INT(LOG_EEVENT_VALUE, log_event_check(&ev, NULL, 0));
}

/* Replace the first `from` in base by `to` (all of them with `all`). */
static void mutate(char *out, size_t cap, const char *base, const char *from,
    const char *to, int all)
{
	const char *hit;
	size_t len = 0, fl = strlen(from), tl = strlen(to);

	while ((hit = strstr(base, from)) != NULL) {
		T_ASSERT(len + (size_t)(hit - base) + tl < cap);
		memcpy(out + len, base, (size_t)(hit - base));
		len += (size_t)(hit - base);
		memcpy(out + len, to, tl);
		len += tl;
		base = hit + fl;
		if (!all)
			break;
	}
	T_ASSERT(len + strlen(base) < cap);
	strcpy(out + len, base);
}

struct reject {
	const char *base, *from, *to;
	int all, rc;
	const char *msg;
};

static const struct reject rejects[] = {
	/* shape: order, extra, missing, whitespace */
	{ PENDING, "\"seq\":1,\"ts\":1733140800000", "\"ts\":1733140800000,\"seq\":1",
	    0, LOG_EEVENT_FIELD, "key 4: expected \"seq\", found \"ts\"" },
	{ PENDING, "29A12345\"}", "29A12345\",\"x\":1}", 0, LOG_EEVENT_FIELD,
	    "key 12: unexpected extra key" },
	{ PENDING, "29A12345\"}", "29A12345\",\"entry_ts\":null,"
	    "\"duration_s\":null,\"fee\":0,\"tariff\":\"default\"}", 0,
	    LOG_EEVENT_FIELD, "key 12: unexpected extra key" },
	{ EXIT_FULL, "default\"}", "default\",\"x\":1}", 0, LOG_EEVENT_FIELD,
	    "key 16: unexpected extra key" },
	{ PENDING, ",\"vehicle\":\"car\"", "", 0, LOG_EEVENT_FIELD,
	    "key 8: expected \"vehicle\", found \"edge_id\"" },
	{ PENDING, ",\"session\":\"" ID1 "\"", "", 0, LOG_EEVENT_FIELD,
	    "key 11: expected \"session\", found the end of the object" },
	{ EXIT_FULL, ",\"tariff\":\"default\"", "", 0, LOG_EEVENT_FIELD,
	    "key 15: expected \"tariff\", found the end" },
	{ PENDING, "\"ts\":", "\"Ts\":", 0, LOG_EEVENT_FIELD,
	    "key 5: expected \"ts\"" },
	{ PENDING, "{\"id\"", "{ \"id\"", 0, LOG_EEVENT_SYNTAX,
	    "key 0: expected \"id\"" },
	{ PENDING, ",\"ts\"", ", \"ts\"", 0, LOG_EEVENT_SYNTAX,
	    "key 5: expected \"ts\"" },
	{ PENDING, ",\"ts\"", " ,\"ts\"", 0, LOG_EEVENT_SYNTAX,
	    "key 5: expected ','" },
	{ PENDING, "\"ts\":", "\"ts\" :", 0, LOG_EEVENT_SYNTAX,
	    "key 5: expected ':'" },
	{ PENDING, "\"seq\":1", "\"seq\": 1", 0, LOG_EEVENT_SYNTAX,
	    "seq: expected an integer" },
	{ PENDING, "\"}", "\"}\n", 0, LOG_EEVENT_SYNTAX, "1 trailing bytes" },
	{ PENDING, "\"}", "\" }", 0, LOG_EEVENT_SYNTAX, "expected '}'" },
	{ PENDING, "{", "[", 0, LOG_EEVENT_SYNTAX, "expected '{'" },
	{ PENDING, "\"type\":\"ENTRY_PENDING\"", "\"type\":1", 0,
	    LOG_EEVENT_SYNTAX, "type: expected a string" },
	/* numbers */
	{ PENDING, "\"seq\":1,", "\"seq\":01,", 0, LOG_EEVENT_SYNTAX,
	    "seq: leading zero" },
	{ PENDING, "\"seq\":1,", "\"seq\":-1,", 0, LOG_EEVENT_SYNTAX,
	    "seq: expected an integer" },
	{ PENDING, "\"seq\":1,", "\"seq\":+1,", 0, LOG_EEVENT_SYNTAX,
	    "seq: expected an integer" },
	{ PENDING, "\"seq\":1,", "\"seq\":1.0,", 0, LOG_EEVENT_SYNTAX,
	    "seq: expected an integer" },
	{ PENDING, "\"seq\":1,", "\"seq\":1e0,", 0, LOG_EEVENT_SYNTAX,
	    "seq: expected an integer" },
	{ PENDING, "\"seq\":1,", "\"seq\":0,", 0, LOG_EEVENT_VALUE,
	    "seq: 0 is out of range" },
	{ PENDING, "\"seq\":1,", "\"seq\":null,", 0, LOG_EEVENT_SYNTAX,
	    "seq: expected an integer" },
	{ PENDING, "\"seq\":1,", "\"seq\":9007199254740993,", 0,
	    LOG_EEVENT_VALUE, "seq: 9007199254740993 is out of range" },
	{ PENDING, "\"seq\":1,", "\"seq\":18446744073709551617,", 0,
	    LOG_EEVENT_VALUE, "seq: out of range" },
	{ PENDING, "1733140800000", "9007199254740993", 1, LOG_EEVENT_VALUE,
	    "ts: 9007199254740993 is out of range" },
	{ EXIT_FULL, "\"fee\":25000", "\"fee\":-25000", 0, LOG_EEVENT_SYNTAX,
	    "fee: expected an integer" },
	{ EXIT_FULL, "\"fee\":25000", "\"fee\":1000000000001", 0,
	    LOG_EEVENT_VALUE, "fee: 1000000000001 is out of range" },
	{ EXIT_FULL, "\"fee\":25000", "\"fee\":null", 0, LOG_EEVENT_SYNTAX,
	    "fee: expected an integer" },
	{ EXIT_FULL, "\"duration_s\":800", "\"duration_s\":-1", 0,
	    LOG_EEVENT_SYNTAX, "duration_s: expected an integer or null" },
	{ EXIT_FULL, "\"entry_ts\":1733140000000", "\"entry_ts\":1733140800001",
	    0, LOG_EEVENT_VALUE, "entry_ts: 1733140800001 is out of range" },
	{ EXIT_FULL, "\"entry_ts\":1733140000000", "\"entry_ts\":0", 0,
	    LOG_EEVENT_VALUE, "entry_ts: 0 is out of range" },
	/* confidence */
	{ PENDING, "0.95,", "0.950,", 0, LOG_EEVENT_NONCANON,
	    "confidence: trailing zero" },
	{ PENDING, "0.95,", "1.0,", 0, LOG_EEVENT_NONCANON,
	    "confidence: trailing zero" },
	{ PENDING, "0.95,", "0.0,", 0, LOG_EEVENT_NONCANON,
	    "confidence: trailing zero" },
	{ PENDING, "0.95,", "1.5,", 0, LOG_EEVENT_VALUE, "confidence: above 1" },
	{ PENDING, "0.95,", "0.9505,", 0, LOG_EEVENT_VALUE,
	    "confidence: more than 3 decimals" },
	{ PENDING, "0.95,", ".95,", 0, LOG_EEVENT_SYNTAX, "confidence: expected" },
	{ PENDING, "0.95,", "0.,", 0, LOG_EEVENT_SYNTAX,
	    "confidence: expected digits after '.'" },
	{ PENDING, "0.95,", "95e-2,", 0, LOG_EEVENT_SYNTAX, "confidence: expected" },
	{ PENDING, "0.95,", "0.95e0,", 0, LOG_EEVENT_SYNTAX,
	    "confidence: exponent" },
	{ PENDING, "0.95,", "00.95,", 0, LOG_EEVENT_SYNTAX, "confidence: expected" },
	{ PENDING, "0.95,", "\"0.95\",", 0, LOG_EEVENT_SYNTAX,
	    "confidence: expected" },
	/* strings */
	{ PENDING, "29A-123.45", "29A\\u002d123.45", 0, LOG_EEVENT_SYNTAX,
	    "plate_view: escapes are not allowed" },
	{ PENDING, "29A-123.45", "29A\\\"123.45", 0, LOG_EEVENT_SYNTAX,
	    "plate_view: escapes are not allowed" },
	{ PENDING, "29A-123.45", "29A\t123.45", 0, LOG_EEVENT_SYNTAX,
	    "plate_view: raw control character" },
	{ PENDING, "29A-123.45", "29A\x7f" "123.45", 0, LOG_EEVENT_VALUE,
	    "plate_view: control character" },
	{ PENDING, "29A-123.45", "29A\xc2\x85" "123.45", 0, LOG_EEVENT_VALUE,
	    "plate_view: control character" },
	{ PENDING, "29A-123.45", "29A\xc0\xad" "123.45", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8 at byte 3" },
	{ PENDING, "29A-123.45", "29A\xe0\x80\xad" "123.45", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8" },
	{ PENDING, "29A-123.45", "29A\xed\xa0\x80" "123.45", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8" },
	{ PENDING, "29A-123.45", "29A\xf4\x90\x80\x80", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8" },
	{ PENDING, "29A-123.45", "29A\xe2\x82", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8" },
	{ PENDING, "29A-123.45", "29A\xff", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8" },
	{ PENDING, "29A-123.45", "29A\x80", 0, LOG_EEVENT_VALUE,
	    "plate_view: invalid UTF-8" },
	{ PENDING, "29A-123.45", "", 0, LOG_EEVENT_VALUE, "plate_view: empty" },
	{ PENDING, "29A-123.45", "0123456789012345678901234567890123", 0,
	    LOG_EEVENT_VALUE, "plate_view: longer than 32 bytes" },
	{ PENDING, "\"29A12345\",\"plate_view", "\"29a12345\",\"plate_view", 0,
	    LOG_EEVENT_VALUE, "plate_id: character 'a'" },
	{ PENDING, "29A12345", "29A12", 1, LOG_EEVENT_VALUE,
	    "plate_id: too short" },
	{ PENDING, "\"car\"", "\"Car\"", 0, LOG_EEVENT_VALUE,
	    "vehicle: character 'C'" },
	{ PENDING, "\"car\"", "\"\"", 0, LOG_EEVENT_VALUE, "vehicle: empty" },
	{ PENDING, "edge-1", "edge 1", 0, LOG_EEVENT_VALUE,
	    "edge_id: character ' ' at byte 4" },
	{ PENDING, "central-1", "central_1", 1, LOG_EEVENT_VALUE,
	    "origin: character '_'" },
	{ PENDING, "ENTRY_PENDING", "ENTRY", 0, LOG_EEVENT_VALUE,
	    "type: unknown \"ENTRY\"" },
	{ PENDING, "ENTRY_PENDING", "ENTRY_PENDING_AND_MORE", 0,
	    LOG_EEVENT_VALUE, "type: longer than" },
	{ EXIT_FULL, "\"default\"", "\"\"", 0, LOG_EEVENT_VALUE,
	    "tariff: empty" },
	{ EXIT_FULL, "\"default\"", "\"de fault\"", 0, LOG_EEVENT_VALUE,
	    "tariff: character" },
	/* cross-field rules */
	{ PENDING, ID1 "\",\"type", "central-1_1733140800001_29A12345\",\"type",
	    0, LOG_EEVENT_VALUE, "id: " },
	{ PENDING, "\"central-1:", "\"central-2:", 0, LOG_EEVENT_VALUE,
	    "stream: origin part \"central-2\" is not the origin" },
	{ PENDING, "deadbeef", "DEADBEEF", 0, LOG_EEVENT_VALUE,
	    "stream: epoch must be 16 lower-case hex digits" },
	{ PENDING, "00000000deadbeef", "deadbeef", 0, LOG_EEVENT_VALUE,
	    "stream: epoch" },
	{ PENDING, "central-1:", "central-1", 0, LOG_EEVENT_VALUE,
	    "stream: no ':'" },
	{ PENDING, "\"session\":\"" ID1, "\"session\":\"central-2_1_29A12345",
	    0, LOG_EEVENT_VALUE, "session: an ENTRY_PENDING" },
	{ PENDING, "\"session\":\"" ID1 "\"", "\"session\":null", 0,
	    LOG_EEVENT_VALUE, "session: an ENTRY_PENDING" },
	{ CONFIRMED, "\"session\":\"central-2_1733140000000_29A12345\"",
	    "\"session\":null", 0, LOG_EEVENT_VALUE, "session: null" },
	{ CONFIRMED, "central-2_1733140000000_29A12345",
	    "central-2_01733140000000_29A12345", 0, LOG_EEVENT_VALUE,
	    "session: not an event id" },
	{ CONFIRMED, "central-2_1733140000000_29A12345", "nonsense", 0,
	    LOG_EEVENT_VALUE, "session: not an event id" },
	{ EXIT_NULLS, "\"session\":null", "\"session\":\"\"", 0,
	    LOG_EEVENT_NONCANON, "session: empty string" },
};

TEST(decode_rejects)
{
	char in[2 * LOG_EVENT_MAX], err[256];
	log_event ev;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(rejects); i++) {
		const struct reject *r = &rejects[i];

		mutate(in, sizeof in, r->base, r->from, r->to, r->all);
		if (strcmp(in, r->base) == 0)
			T_FAIL("case %zu: \"%s\" not found", i, r->from);
		strcpy(err, "(none)");
		rc = decode_str(in, &ev, err, sizeof err);
		if (rc != r->rc || strstr(err, r->msg) == NULL)
			T_FAIL("case %zu: got %d \"%s\", want %d \"%s\"\n  %s", i,
			    rc, err, r->rc, r->msg, in);
	}
}

TEST(decode_accepts_utf8_view)
{
	static const char *const views[] = {
		"29A-123.45 \xc4\x90\xc3\xa9",	/* Đé */
		"\xf0\x9f\x9a\x97 \xc2\xa0x",	/* car emoji, NBSP */
		"\xe2\x82\xac\xef\xbf\xbd\xf4\x8f\xbf\xbf",
		"'<>&{}[]:,", "x",
	};
	char in[LOG_EVENT_MAX * 2], err[256];
	log_event ev;
	size_t i;

	for (i = 0; i < ARRAY_LEN(views); i++) {
		mutate(in, sizeof in, PENDING, "29A-123.45", views[i], 0);
		if (decode_str(in, &ev, err, sizeof err) != 0)
			T_FAIL("view %zu: %s", i, err);
		T_EQ_STR(views[i], ev.plate_view);
	}
}

/* Every proper prefix of a valid event fails, and so does empty input. */
TEST(decode_rejects_prefixes)
{
	static const char *const valid[] = {
		PENDING, CONFIRMED, EXIT_FULL, EXIT_NULLS
	};
	char err[256];
	log_event ev;
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(valid); i++) {
		T_EQ_INT(0, decode_str(valid[i], &ev, err, sizeof err));
		for (n = 0; n < strlen(valid[i]); n++)
			if (log_event_decode(valid[i], n, &ev, err, sizeof err) == 0)
				T_FAIL("prefix %zu of %zu accepted", n, i);
	}
	T_EQ_INT(LOG_EEVENT_SYNTAX, log_event_decode(NULL, 0, &ev, err, sizeof err));
	T_EQ_INT(LOG_EEVENT_SYNTAX, log_event_decode(PENDING, LOG_EVENT_MAX + 1,
	    &ev, NULL, 0));
}

T_MAIN()
