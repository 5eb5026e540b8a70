/* log/event: operator events (PLATE_CORRECTED .. SETTINGS_SET) — canonical
 * bytes, round trip, and what a peer's malformed one is refused for. */
#include "tests/harness/t.h"
#include "log/event.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define OPHEAD(type, plate, ts) "{\"id\":\"central-1_" ts "_" plate "\"," \
	"\"type\":\"" type "\",\"origin\":\"central-1\"," \
	"\"stream\":\"central-1:00000000deadbeef\",\"seq\":7,\"ts\":" ts "," \
	"\"plate_id\":\"" plate "\",\"plate_view\":\"" plate "\","

#define OPHEADV(type, plate, view, ts) "{\"id\":\"central-1_" ts "_" plate "\"," \
	"\"type\":\"" type "\",\"origin\":\"central-1\"," \
	"\"stream\":\"central-1:00000000deadbeef\",\"seq\":7,\"ts\":" ts "," \
	"\"plate_id\":\"" plate "\",\"plate_view\":\"" view "\","

static const char CORRECTED[] = OPHEADV("PLATE_CORRECTED", "ZZCORRECT", "29A-123.45",
    "1733150000000") "\"vehicle\":\"any\",\"edge_id\":\"console\","
    "\"confidence\":1,\"session\":null,"
    "\"target\":\"central-2_1733149000000_29A12845\","
    "\"from_plate\":\"29A12845\",\"to_plate\":\"29A12345\",\"operator\":\"lan\","
    "\"reason\":\"camera misread 3 as 8\"}";
static const char VOIDED[] = OPHEADV("SESSION_VOIDED", "ZZVOID", "29A12345",
    "1733150000000") "\"vehicle\":\"any\",\"edge_id\":\"console\","
    "\"confidence\":1,\"session\":\"central-1_1733140800000_29A12345\","
    "\"for_plate\":\"29A12345\",\"operator\":\"lan\",\"reason\":\"test drive\"}";
static const char ISSUED[] = OPHEADV("PASS_ISSUED", "ZZPASS", "29A12345",
    "1733150000000") "\"vehicle\":\"car\",\"edge_id\":\"console\","
    "\"confidence\":1,\"session\":null,\"for_plate\":\"29A12345\",\"pass\":\"p-2024-12\","
    "\"kind\":\"monthly\",\"valid_from\":1733011200000,"
    "\"valid_to\":1735689600000,\"operator\":\"lan\",\"reason\":\"paid\"}";
static const char REVOKED[] = OPHEADV("PASS_REVOKED", "ZZPASS", "29A12345",
    "1733150000000") "\"vehicle\":\"any\",\"edge_id\":\"console\","
    "\"confidence\":1,\"session\":null,\"for_plate\":\"29A12345\",\"pass\":\"p-2024-12\","
    "\"operator\":\"lan\",\"reason\":\"refund\"}";
static const char TARIFF[] = OPHEAD("TARIFF_SET", "ZZTARIFF",
    "1733150000000") "\"vehicle\":\"any\",\"edge_id\":\"console\","
    "\"confidence\":1,\"session\":null,\"tariff\":\"t2025\","
    "\"effective_from\":1735689600000,"
    "\"value\":{\"name\":\"t2025\",\"classes\":{\"default\":{\"mode\":"
    "\"hourly\",\"free_minutes\":30,\"per_hour\":30000}}},"
    "\"operator\":\"admin\",\"reason\":\"new year prices\"}";
static const char SETTINGS[] = OPHEAD("SETTINGS_SET", "ZZSETTINGS",
    "1733150000000") "\"vehicle\":\"any\",\"edge_id\":\"console\","
    "\"confidence\":1,\"session\":null,\"section\":\"capacity\","
    "\"value\":{\"car\":120,\"moto\":-1.5e3,\"x\":[true,false,null,\"a\\\"b\"]},"
    "\"operator\":\"admin\",\"reason\":\"new floor\"}";

static int decode_str(const char *s, log_event *ev, char *err, size_t errlen)
{
	return log_event_decode(s, strlen(s), ev, err, errlen);
}

/* Decode, re-encode to the same bytes. */
static void same_bytes(const char *s, log_event *ev)
{
	char buf[LOG_EVENT_MAX], err[256] = "";
	int n;

	if (decode_str(s, ev, err, sizeof err) != 0)
		T_FAIL("decode: %s", err);
	n = log_event_encode(ev, buf, sizeof buf);
	T_EQ_INT((int)strlen(s), n);
	T_EQ_MEM(s, buf, strlen(s));
}

TEST(op_names)
{
	T_EQ_STR("PLATE_CORRECTED", log_ev_type_name(LOG_EV_PLATE_CORRECTED));
	T_EQ_STR("SETTINGS_SET", log_ev_type_name(LOG_EV_SETTINGS_SET));
	T_EQ_INT(LOG_EV_PASS_REVOKED, log_ev_type_parse("PASS_REVOKED"));
	T_ASSERT(log_ev_is_op(LOG_EV_TARIFF_SET));
	T_ASSERT(!log_ev_is_op(LOG_EV_EXIT));
	T_ASSERT(!log_ev_is_op((enum log_ev_type)(LOG_EV_LAST + 1)));
}

TEST(op_round_trip)
{
	log_event ev;

	same_bytes(CORRECTED, &ev);
	T_EQ_INT(LOG_EV_PLATE_CORRECTED, ev.type);
	T_EQ_STR("central-2_1733149000000_29A12845", ev.op.target);
	T_EQ_STR("29A12845", ev.op.from_plate);
	T_EQ_STR("29A12345", ev.op.plate);
	T_EQ_STR("ZZCORRECT", ev.plate);
	T_EQ_STR("lan", ev.op.op);
	T_EQ_STR("camera misread 3 as 8", ev.op.reason);
	T_EQ_STR("", ev.session);
	same_bytes(VOIDED, &ev);
	T_EQ_STR("central-1_1733140800000_29A12345", ev.session);
	same_bytes(ISSUED, &ev);
	T_EQ_STR("p-2024-12", ev.op.pass);
	T_EQ_STR("monthly", ev.op.kind);
	T_EQ_INT(1733011200000, ev.op.valid_from);
	T_EQ_INT(1735689600000, ev.op.valid_to);
	same_bytes(REVOKED, &ev);
	T_EQ_STR("p-2024-12", ev.op.pass);
	same_bytes(TARIFF, &ev);
	T_EQ_STR("t2025", ev.tariff);
	T_EQ_INT(1735689600000, ev.op.effective_from);
	T_ASSERT(strncmp(ev.op.value, "{\"name\":\"t2025\"", 15) == 0);
	same_bytes(SETTINGS, &ev);
	T_EQ_STR("capacity", ev.op.section);
}

/* A gate event decoded after an op event carries no op fields. */
TEST(op_fields_cleared)
{
	static const char PENDING[] = "{\"id\":\"central-1_1733140800000_"
	    "29A12345\",\"type\":\"ENTRY_PENDING\",\"origin\":\"central-1\","
	    "\"stream\":\"central-1:00000000deadbeef\",\"seq\":1,"
	    "\"ts\":1733140800000,\"plate_id\":\"29A12345\",\"plate_view\":"
	    "\"29A12345\",\"vehicle\":\"car\",\"edge_id\":\"edge-1\","
	    "\"confidence\":1,\"session\":\"central-1_1733140800000_29A12345\"}";
	log_event ev;

	same_bytes(ISSUED, &ev);
	same_bytes(PENDING, &ev);
	T_EQ_STR("", ev.op.pass);
	T_EQ_STR("", ev.op.op);
}

/* Replace the first `from` in base by `to` into out. */
static void mutate(char *out, size_t cap, const char *base, const char *from,
    const char *to)
{
	const char *at = strstr(base, from);
	size_t pre;

	T_ASSERT(at != NULL);
	pre = (size_t)(at - base);
	T_ASSERT(pre + strlen(to) + strlen(at + strlen(from)) < cap);
	memcpy(out, base, pre);
	strcpy(out + pre, to);
	strcat(out, at + strlen(from));
}

/* What a peer could send: each is refused with a message naming why. */
TEST(op_decode_refuses)
{
	static const struct { const char *base, *from, *to, *msg; } cases[] = {
		{ CORRECTED, "\"operator\":\"lan\",", "", "operator" },
		{ CORRECTED, "\"reason\":\"camera misread 3 as 8\"",
		    "\"reason\":\"\"", "reason: empty" },
		{ CORRECTED, "\"from_plate\":\"29A12845\"",
		    "\"from_plate\":\"29A12345\"", "to_plate: the same" },
		{ CORRECTED, "\"to_plate\":\"29A12345\"",
		    "\"to_plate\":\"ZZVOID\"", "to_plate: a reserved" },
		{ CORRECTED, "ZZCORRECT\",\"type", "ZZPASS\",\"type", "id" },
		{ VOIDED, "\"for_plate\":\"29A12345\",", "", "for_plate" },
		{ CORRECTED, "\"target\":\"central-2_1733149000000_29A12845\"",
		    "\"target\":\"nope\"", "target: not an event id" },
		{ CORRECTED, "\"edge_id\":\"console\"", "\"edge_id\":\"edge-1\"",
		    "edge_id" },
		{ CORRECTED, "\"confidence\":1", "\"confidence\":0.5", "edge_id" },
		{ CORRECTED, "\"vehicle\":\"any\"", "\"vehicle\":\"car\"",
		    "vehicle" },
		{ CORRECTED, "\"session\":null",
		    "\"session\":\"central-1_1733140800000_29A12345\"",
		    "only a SESSION_VOIDED" },
		{ VOIDED, "\"session\":\"central-1_1733140800000_29A12345\"",
		    "\"session\":null", "names the session" },
		{ ISSUED, "\"valid_to\":1735689600000", "\"valid_to\":1733011200000",
		    "valid_to" },
		{ ISSUED, "\"kind\":\"monthly\"", "\"kind\":\"\"", "kind: empty" },
		{ REVOKED, "\"pass\":\"p-2024-12\"", "\"pass\":\"p 1\"", "pass:" },
		{ TARIFF, "\"value\":{", "\"value\":[", "value" },
		{ TARIFF, "\"free_minutes\":30", "\"free_minutes\": 30", "value" },
		{ TARIFF, "\"free_minutes\":30", "\"free_minutes\":030", "value" },
		{ TARIFF, "\"per_hour\":30000}}}", "\"per_hour\":30000}}", "" },
		{ TARIFF, "ZZTARIFF\",\"plate_view", "ZZTARIFX\",\"plate_view",
		    "" },
		{ SETTINGS, "\"a\\\"b\"", "\"a\\qb\"", "value" },
		{ SETTINGS, "\"section\":\"capacity\"", "\"section\":\"Cap\"",
		    "section" },
		{ SETTINGS, "\"reason\":\"new floor\"}",
		    "\"reason\":\"new floor\",\"edge_ts\":1}", "" },
	};
	char in[LOG_EVENT_MAX * 2], err[256];
	log_event ev;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		mutate(in, sizeof in, cases[i].base, cases[i].from, cases[i].to);
		err[0] = '\0';
		if (decode_str(in, &ev, err, sizeof err) == 0) {
			T_FAIL("case %zu accepted: %s", i, in);
			continue;
		}
		if (strstr(err, cases[i].msg) == NULL)
			T_FAIL("case %zu: message \"%s\" lacks \"%s\"", i, err,
			    cases[i].msg);
	}
}

/* Reserved plates are not for gate events, nor for plate-bound ops. */
TEST(op_reserved_plates)
{
	static const char *const valid[] = {
		CORRECTED, VOIDED, ISSUED, REVOKED, TARIFF, SETTINGS
	};
	char err[256];
	log_event ev;
	size_t i, n;

	T_EQ_INT(0, decode_str(VOIDED, &ev, err, sizeof err));
	strcpy(ev.plate, LOG_OP_PLATE_TARIFF);
	log_event_id(ev.id, ev.origin, ev.ts, ev.plate);
	T_EQ_INT(LOG_EEVENT_VALUE, log_event_check(&ev, err, sizeof err));
	T_ASSERT(strstr(err, "reserved") != NULL);
	/* a gate event on a reserved plate */
	memset(&ev, 0, sizeof ev);
	ev.type = LOG_EV_ENTRY_PENDING;
	strcpy(ev.origin, "central-1");
	ev.seq = 1;
	ev.ts = 1733140800000;
	strcpy(ev.plate, LOG_OP_PLATE_PASS);
	log_event_id(ev.id, ev.origin, ev.ts, ev.plate);
	strcpy(ev.session, ev.id);
	strcpy(ev.plate_view, "x");
	strcpy(ev.vehicle, "car");
	strcpy(ev.edge_id, "edge-1");
	ev.entry_ts = ev.duration_s = -1;
	T_EQ_INT(LOG_EEVENT_VALUE, log_event_check(&ev, err, sizeof err));
	T_ASSERT(strstr(err, "reserved") != NULL);
	/* every proper prefix of each is refused */
	for (i = 0; i < ARRAY_LEN(valid); i++)
		for (n = 0; n < strlen(valid[i]); n++)
			if (log_event_decode(valid[i], n, &ev, err, sizeof err) == 0)
				T_FAIL("prefix %zu of %zu accepted", n, i);
}

T_MAIN()
