/* conf: the embedded default, both file shapes, every error message (exact
 * text), the checks across keys, address parsing and loopback detection. */
#include <unistd.h>

#include "tests/harness/t.h"
#include "tools/parklogd/conf.h"

#define FILE_NAME "parklog.json"
#define TOK1 "edge1-token-0123456789abcdef"
#define TOK2 "edge2-token-0123456789abcdef"
#define SECRET "peer-secret-0123456789abcdef"

/* Write text to ./parklog.json in the case's scratch directory (a relative
 * name keeps the expected messages free of temporary paths). */
static void put_bytes(const char *text, size_t len)
{
	FILE *f;

	if (chdir(t_tmpdir) != 0)
		T_FAIL("chdir %s", t_tmpdir);
	if ((f = fopen(FILE_NAME, "wb")) == NULL || fwrite(text, 1, len, f) != len ||
	    fclose(f) != 0)
		T_FAIL("cannot write %s", FILE_NAME);
}

/* conf_default, then the file; returns conf_load_file's result. */
static int load(conf *c, const char *text, char *err, size_t errlen)
{
	conf_default(c);
	put_bytes(text, strlen(text));
	return conf_load_file(c, FILE_NAME, err, errlen);
}

static void load_ok(conf *c, const char *text)
{
	char err[512] = "x";

	if (load(c, text, err, sizeof err) != 0)
		T_FAIL("load failed: %s\n  file: %s", err, text);
	T_EQ_STR("", err);
}

TEST(default_values)
{
	conf c;
	proj_tariff seed;
	char err[256] = "x";

	conf_default(&c);
	proj_tariff_default(&seed);
	T_EQ_STR("central-1", c.id);
	T_EQ_STR("./data", c.data_dir);
	T_EQ_STR("127.0.0.1", c.http.host);
	T_EQ_INT(8000, c.http.port);
	T_EQ_STR("127.0.0.1", c.p2p.host);
	T_EQ_INT(9000, c.p2p.port);
	T_EQ_INT(LOG_DURABLE_FULL, c.durability);
	T_EQ_INT(1, c.verbose);
	T_EQ_INT(0, c.nedges);
	T_EQ_INT(0, c.npeers);
	T_EQ_INT(0, c.ncapacity);
	T_EQ_STR("", c.operator_token);
	T_EQ_STR("", c.peer_secret);
	T_EQ_U64(proj_tariff_hash(&seed), proj_tariff_hash(&c.tariff));
	T_EQ_INT(420, c.tariff.tz_offset_min);
	T_EQ_U64(16384, c.max_body);
	T_EQ_INT(1024, c.max_conns);
	T_EQ_INT(30, c.conn_timeout_s);
	T_EQ_INT(10000, c.idem_window_ms);
	T_EQ_INT(60, c.camera_offline_s);
	/* the default runs as it is */
	T_EQ_INT(0, conf_validate(&c, err, sizeof err));
	T_EQ_STR("", err);
}

/* The example of docs/config.md, "edges with tokens". */
static const char *const OWN =
    "{\"id\":\"central-1\",\"data_dir\":\"/var/lib/parklog\",\"http\":\"0.0.0.0:8000\","
    "\"p2p\":\"0.0.0.0:9000\",\"durability\":\"meta\",\"messages\":\"debug\","
    "\"utc_offset\":\"+07:00\",\"operator_token\":\"operator-token-0123456789\","
    "\"peer_secret\":\"" SECRET "\","
    "\"edges\":[{\"id\":\"edge-1\",\"direction\":\"ENTRY\",\"vehicle\":\"car\","
    "\"token\":\"" TOK1 "\",\"auto_open\":{\"entry_min_confidence\":0.9,\"exit_free\":true}},"
    "{\"id\":\"edge-2\",\"direction\":null,\"token\":\"" TOK2 "\"}],"
    "\"peers\":[{\"id\":\"central-2\",\"address\":\"192.168.1.102:9000\"}],"
    "\"tariff\":{\"name\":\"2026-q4\",\"classes\":{\"moto\":{\"mode\":\"per_visit\","
    "\"day\":5000,\"night\":10000,\"day_start\":\"06:00\",\"night_start\":\"18:00\"}}},"
    "\"capacity\":{\"car\":200,\"moto\":800},"
    "\"limits\":{\"max_body\":32768,\"max_conns\":2048,\"conn_timeout_s\":20,"
    "\"idempotency_window_ms\":5000,\"camera_offline_s\":90}}";

TEST(own_format)
{
	conf c;
	const conf_edge *e;
	char err[256] = "x";

	load_ok(&c, OWN);
	T_EQ_STR("central-1", c.id);
	T_EQ_STR("/var/lib/parklog", c.data_dir);
	T_EQ_STR("0.0.0.0", c.http.host);
	T_EQ_INT(8000, c.http.port);
	T_EQ_STR("0.0.0.0", c.p2p.host);
	T_EQ_INT(LOG_DURABLE_META, c.durability);
	T_EQ_INT(2, c.verbose);
	T_EQ_STR("operator-token-0123456789", c.operator_token);
	T_EQ_STR(SECRET, c.peer_secret);
	T_EQ_INT(2, c.nedges);
	e = &c.edges[0];
	T_EQ_STR("edge-1", e->id);
	T_EQ_INT(CONF_DIR_ENTRY, e->direction);
	T_EQ_STR("car", e->vehicle);
	T_EQ_STR(TOK1, e->token);
	T_EQ_INT(1, e->auto_open_entry);
	T_EQ_INT(900, e->auto_open_min_conf_milli);
	T_EQ_INT(1, e->auto_open_exit_free);
	e = &c.edges[1];
	T_EQ_STR("edge-2", e->id);
	T_EQ_INT(CONF_DIR_NONE, e->direction);
	T_EQ_STR("", e->vehicle);
	T_EQ_INT(0, e->auto_open_entry);
	T_EQ_INT(0, e->auto_open_exit_free);
	T_EQ_INT(1, c.npeers);
	T_EQ_STR("central-2", c.peers[0].id);
	T_EQ_STR("192.168.1.102", c.peers[0].addr.host);
	T_EQ_INT(9000, c.peers[0].addr.port);
	T_EQ_STR("2026-q4", c.tariff.name);
	T_EQ_INT(2, c.tariff.nrules);		/* moto + the seed's default */
	T_EQ_INT(420, c.tariff.tz_offset_min);
	T_EQ_INT(2, c.ncapacity);
	T_EQ_STR("car", c.capacity[0].vehicle);
	T_EQ_U64(200, c.capacity[0].capacity);
	T_EQ_STR("moto", c.capacity[1].vehicle);
	T_EQ_U64(800, c.capacity[1].capacity);
	T_EQ_U64(32768, c.max_body);
	T_EQ_INT(2048, c.max_conns);
	T_EQ_INT(20, c.conn_timeout_s);
	T_EQ_INT(5000, c.idem_window_ms);
	T_EQ_INT(90, c.camera_offline_s);
	T_EQ_INT(0, conf_validate(&c, err, sizeof err));
}

TEST(seed_format)
{
	conf c;

	load_ok(&c, "{\"this_central\":{\"id\":\"central-1\",\"ip\":\"127.0.0.1\","
	    "\"p2p_port\":9000,\"api_port\":8000},\"peer_centrals\":[{\"id\":\"central-2\","
	    "\"ip\":\"192.168.1.102\",\"p2p_port\":9000}]}");
	T_EQ_STR("central-1", c.id);
	T_EQ_STR("127.0.0.1", c.http.host);
	T_EQ_INT(8000, c.http.port);
	T_EQ_STR("127.0.0.1", c.p2p.host);
	T_EQ_INT(9000, c.p2p.port);
	T_EQ_INT(1, c.npeers);
	T_EQ_STR("central-2", c.peers[0].id);
	T_EQ_STR("192.168.1.102", c.peers[0].addr.host);
	T_EQ_INT(9000, c.peers[0].addr.port);

	/* the seed's own "no peers" (standalone) and an IPv6 ip */
	load_ok(&c, "{\"this_central\":{\"id\":\"central-3\",\"ip\":\"::1\","
	    "\"p2p_port\":9100,\"api_port\":8100},\"peer_centrals\":[]}");
	T_EQ_STR("central-3", c.id);
	T_EQ_STR("::1", c.http.host);
	T_EQ_INT(8100, c.http.port);
	T_EQ_INT(9100, c.p2p.port);
	T_EQ_INT(0, c.npeers);
}

TEST(own_keys_win_over_seed_keys)
{
	conf c;

	/* our keys come first in the file: the order does not matter */
	load_ok(&c, "{\"id\":\"central-9\",\"http\":\"127.0.0.2:8080\","
	    "\"peers\":[{\"id\":\"central-5\",\"address\":\"[fd00::5]:9005\"}],"
	    "\"this_central\":{\"id\":\"central-1\",\"ip\":\"127.0.0.1\",\"p2p_port\":9001,"
	    "\"api_port\":8001},\"peer_centrals\":[{\"id\":\"central-2\",\"ip\":\"10.0.0.2\","
	    "\"p2p_port\":9000},{\"id\":\"central-3\",\"ip\":\"10.0.0.3\",\"p2p_port\":9000}]}");
	T_EQ_STR("central-9", c.id);
	T_EQ_STR("127.0.0.2", c.http.host);
	T_EQ_INT(8080, c.http.port);
	T_EQ_STR("127.0.0.1", c.p2p.host);	/* no "p2p": the seed's keys give it */
	T_EQ_INT(9001, c.p2p.port);
	T_EQ_INT(1, c.npeers);
	T_EQ_STR("central-5", c.peers[0].id);
	T_EQ_STR("fd00::5", c.peers[0].addr.host);
	T_EQ_INT(9005, c.peers[0].addr.port);
}

TEST(file_overrides_only_what_it_names)
{
	conf c;

	load_ok(&c, "{\"id\":\"central-2\"}");
	T_EQ_STR("central-2", c.id);
	T_EQ_STR("./data", c.data_dir);
	T_EQ_INT(8000, c.http.port);
	T_EQ_INT(60, c.camera_offline_s);

	load_ok(&c, "{\"limits\":{\"idempotency_window_ms\":0}}");
	T_EQ_INT(0, c.idem_window_ms);
	T_EQ_U64(16384, c.max_body);

	/* read over c: a tariff without utc_offset keeps c's offset */
	conf_default(&c);
	c.tariff.tz_offset_min = 60;
	put_bytes("{\"tariff\":{\"name\":\"t2\"}}", 24);
	T_EQ_INT(0, conf_load_file(&c, FILE_NAME, NULL, 0));
	T_EQ_STR("t2", c.tariff.name);
	T_EQ_INT(60, c.tariff.tz_offset_min);
}

TEST(utc_offset_applies_to_the_tariff_in_any_order)
{
	conf c;

	load_ok(&c, "{\"utc_offset\":\"-03:30\",\"tariff\":{\"name\":\"t2\"}}");
	T_EQ_INT(-210, c.tariff.tz_offset_min);
	T_EQ_STR("t2", c.tariff.name);
	load_ok(&c, "{\"tariff\":{\"name\":\"t3\"},\"utc_offset\":\"Z\"}");
	T_EQ_INT(0, c.tariff.tz_offset_min);
	load_ok(&c, "{\"utc_offset\":\"+14:00\"}");
	T_EQ_INT(840, c.tariff.tz_offset_min);
	T_EQ_STR("default", c.tariff.name);
}

typedef struct bad {
	const char *text, *err;
} bad;

#define F FILE_NAME ": "
#define ADDR_MSG "expected \"host:port\" or \"[IPv6]:port\" with port 1..65535"

static const bad BAD[] = {
	{ "{\"edges\":[{\"id\":\"e1\",\"direction\":\"ENTRY\"},{\"id\":\"e2\",\"direction\":\"IN\"}]}",
	  F "edges[1].direction: expected \"ENTRY\", \"EXIT\" or null" },
	{ "{\"htpp\":\"0.0.0.0:8000\"}", F "htpp: unknown key" },
	{ "{\"id\":\"a\",\"id\":\"b\"}", F "id: duplicate key" },
	{ "[1,2]", F "expected a JSON object" },
	{ "{\"id\":\"central_1\"}",
	  F "id: expected an id: 1..32 characters of A-Z a-z 0-9 . -" },
	{ "{\"id\":\"c23456789012345678901234567890123\"}",
	  F "id: expected an id: 1..32 characters of A-Z a-z 0-9 . -" },
	{ "{\"data_dir\":\"\"}", F "data_dir: expected a path of 1..1023 bytes" },
	{ "{\"http\":\":8000\"}", F "http: " ADDR_MSG },
	{ "{\"p2p\":\"127.0.0.1:65536\"}", F "p2p: " ADDR_MSG },
	{ "{\"p2p\":9000}", F "p2p: " ADDR_MSG },
	{ "{\"durability\":\"fsync\"}", F "durability: expected \"full\", \"meta\" or \"none\"" },
	{ "{\"messages\":2}", F "messages: expected \"quiet\", \"info\" or \"debug\"" },
	{ "{\"utc_offset\":\"+7\"}",
	  F "utc_offset: expected \"+HH:MM\", \"-HH:MM\" or \"Z\", from -12:00 to +14:00" },
	{ "{\"operator_token\":\"has a space in it 0123\"}",
	  F "operator_token: expected 16..128 printable ASCII characters, no spaces" },
	{ "{\"peer_secret\":\"short\"}",
	  F "peer_secret: expected 16..128 printable ASCII characters, no spaces" },
	{ "{\"edges\":{}}", F "edges: expected an array" },
	{ "{\"edges\":[{\"direction\":\"ENTRY\"}]}", F "edges[0].id: missing" },
	{ "{\"edges\":[{\"id\":\"e1\",\"token\":\"short\"}]}",
	  F "edges[0].token: expected 16..128 printable ASCII characters, no spaces" },
	{ "{\"edges\":[{\"id\":\"e1\",\"vehicle\":\"Car\"}]}",
	  F "edges[0].vehicle: expected a vehicle class: 1..16 characters of a-z 0-9 _ - or null" },
	{ "{\"edges\":[{\"id\":\"e1\",\"gate\":1}]}", F "edges[0].gate: unknown key" },
	{ "{\"edges\":[{\"id\":\"e1\",\"auto_open\":{\"entry_min_confidence\":1.5}}]}",
	  F "edges[0].auto_open.entry_min_confidence: expected a number 0..1 or null" },
	{ "{\"edges\":[{\"id\":\"e1\",\"auto_open\":{\"exit_free\":1}}]}",
	  F "edges[0].auto_open.exit_free: expected true or false" },
	{ "{\"edges\":[{\"id\":\"e1\",\"auto_open\":true}]}",
	  F "edges[0].auto_open: expected an object" },
	{ "{\"peers\":[{\"id\":\"central-2\"}]}", F "peers[0].address: missing" },
	{ "{\"peers\":[{\"id\":\"central-2\",\"address\":\"::1:9000\"}]}",
	  F "peers[0].address: " ADDR_MSG },
	{ "{\"tariff\":{\"classes\":{\"car\":{\"mode\":\"hourly\",\"per_hr\":1}}}}",
	  F "tariff.classes.car.per_hr: unknown key" },
	{ "{\"tariff\":[]}", F "tariff: expected an object" },
	{ "{\"operators\":{}}", F "operators: expected an array" },
	{ "{\"operators\":[{\"name\":\"lan\",\"token\":\"tok-0123456789abcdef\"}]}",
	  F "operators[0].role: missing" },
	{ "{\"operators\":[{\"name\":\"lan\",\"token\":\"tok-0123456789abcdef\",\"role\":\"boss\"}]}",
	  F "operators[0].role: expected \"viewer\", \"operator\" or \"admin\"" },
	{ "{\"operators\":[{\"name\":\"lan\",\"token\":\"tok-0123456789abcdef\",\"role\":\"admin\"},"
	  "{\"name\":\"vy\",\"token\":\"tok-0123456789abcdef\",\"role\":\"viewer\"}]}",
	  F "operators[1]: same name or token as operators[0]" },
	{ "{\"capacity\":{\"car\":-1}}", F "capacity.car: expected an integer 0..1000000000" },
	{ "{\"capacity\":{\"car\":1.5}}", F "capacity.car: expected an integer 0..1000000000" },
	{ "{\"capacity\":{\"Car\":1}}",
	  F "capacity.Car: expected a vehicle class: 1..16 characters of a-z 0-9 _ - as the key" },
	{ "{\"capacity\":{\"car\":1,\"car\":2}}", F "capacity.car: duplicate key" },
	{ "{\"limits\":{\"max_body\":100}}", F "limits.max_body: expected an integer 1024..16777216" },
	{ "{\"limits\":{\"max_conn\":5}}", F "limits.max_conn: unknown key" },
	{ "{\"limits\":{\"conn_timeout_s\":\"30\"}}",
	  F "limits.conn_timeout_s: expected an integer 1..3600" },
	{ "{\"this_central\":{\"id\":\"central-1\",\"api_port\":\"8000\"}}",
	  F "this_central.api_port: expected an integer 1..65535" },
	{ "{\"this_central\":{\"port\":8000}}", F "this_central.port: unknown key" },
	{ "{\"peer_centrals\":[{\"id\":\"central-2\",\"ip\":\"192.168.1.999\",\"p2p_port\":9000}]}",
	  F "peer_centrals[0].ip: expected an IPv4 or IPv6 address or a host name" },
	{ "{\"peer_centrals\":[{\"id\":\"central-2\",\"ip\":\"10.0.0.2\"}]}",
	  F "peer_centrals[0].p2p_port: missing" },
	{ "{\"id\":\"central-1\",\n  \"http\": 8000,,}",
	  F "line 2, near column 17 (byte offset 35): invalid JSON" },
	{ "", F "line 1, near column 1 (byte offset 0): invalid JSON" },
	{ "{\"a\":1}}", F "line 1, column 8 (byte offset 7): unexpected data after the JSON value" },
	{ "{} {}", F "line 1, column 4 (byte offset 3): unexpected data after the JSON value" },
	{ "{\"seed\":[]}", F "seed: expected an object" },
	{ "{\"seed\":{\"cors\":[]}}", F "seed.cors: unknown key" },
	{ "{\"seed\":{\"cors_origins\":\"*\"}}",
	  F "seed.cors_origins: expected an array of strings" },
	{ "{\"seed\":{\"cors_origins\":[\"ui.lan\"]}}",
	  F "seed.cors_origins: expected \"*\" or origins such as \"http://10.0.0.5:3000\"" },
	{ "{\"seed\":{\"tokenless\":[\"10.0.0.0/33\"]}}",
	  F "seed.tokenless: expected IP addresses or prefixes such as \"10.0.0.0/24\"" },
	{ "{\"seed\":{\"tokenless\":[\"10.0.0.1,10.0.0.2\"]}}",
	  F "seed.tokenless: expected IP addresses or prefixes such as \"10.0.0.0/24\"" },
	{ "{\"seed\":{\"tokenless\":[\"gate.lan\"]}}",
	  F "seed.tokenless: expected IP addresses or prefixes such as \"10.0.0.0/24\"" },
};

TEST(seed_clients_keys)
{
	conf c;

	conf_default(&c);
	T_EQ_STR("*", c.seed_cors);			/* the seed's UI works */
	T_EQ_STR("", c.seed_tokenless);			/* tokens stay required */
	load_ok(&c, "{\"seed\":{\"cors_origins\":[\"http://10.0.0.5:5173\","
	    "\"https://ui.lan\"],\"tokenless\":[\"10.0.0.21\",\"10.0.1.0/24\","
	    "\"fd00::/8\"]}}");
	T_EQ_STR("http://10.0.0.5:5173,https://ui.lan", c.seed_cors);
	T_EQ_STR("10.0.0.21,10.0.1.0/24,fd00::/8", c.seed_tokenless);
	load_ok(&c, "{\"seed\":{\"cors_origins\":[]}}");
	T_EQ_STR("", c.seed_cors);			/* CORS off */
}

/* Issue 14: operator accounts, and the tariff kept as text to seed the
 * log's first TARIFF_SET. */
TEST(operators_and_tariff_text)
{
	conf c;

	load_ok(&c, "{\"operators\":[{\"name\":\"lan\",\"token\":"
	    "\"tok-0123456789abcdef\",\"role\":\"operator\"}],"
	    "\"tariff\":{\"name\":\"t1\"}}");
	T_EQ_INT(1, c.noperators);
	T_EQ_STR("lan", c.operators[0].name);
	T_EQ_STR("operator", c.operators[0].role);
	T_EQ_STR("{\"name\":\"t1\"}", c.tariff_json);
	load_ok(&c, "{}");
	T_EQ_INT(0, c.noperators);
	T_EQ_STR("", c.tariff_json);
}

TEST(bad_files_exact_messages)
{
	char err[512];
	size_t i;
	conf c;

	for (i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		strcpy(err, "(none)");
		if (load(&c, BAD[i].text, err, sizeof err) != -1)
			T_FAIL("row %zu loaded: %s", i, BAD[i].text);
		if (strcmp(BAD[i].err, err) != 0)
			T_FAIL("row %zu: %s\n  expected: %s\n  got:      %s", i,
			    BAD[i].text, BAD[i].err, err);
	}
}

TEST(file_errors)
{
	char err[512], *big;
	conf c;
	size_t n = 1024 * 1024;

	conf_default(&c);
	T_EQ_INT(-1, conf_load_file(&c, "no-such-dir/parklog.json", err, sizeof err));
	T_EQ_STR("no-such-dir/parklog.json: No such file or directory", err);
	T_EQ_INT(-1, conf_load_file(&c, t_tmpdir, err, sizeof err));
	T_ASSERT(strstr(err, ": Is a directory") != NULL);

	put_bytes("{\"id\":\"a\0b\"}", 12);
	T_EQ_INT(-1, conf_load_file(&c, FILE_NAME, err, sizeof err));
	T_EQ_STR(F "line 1, column 9 (byte offset 8): NUL byte", err);

	/* exactly 1 MiB passes, one byte more does not */
	if ((big = malloc(n + 1)) == NULL)
		T_FAIL("malloc");
	memset(big, ' ', n + 1);
	memcpy(big, "{}", 2);
	put_bytes(big, n);
	T_EQ_INT(0, conf_load_file(&c, FILE_NAME, err, sizeof err));
	put_bytes(big, n + 1);
	T_EQ_INT(-1, conf_load_file(&c, FILE_NAME, err, sizeof err));
	T_EQ_STR(F "larger than 1 MiB", err);
	free(big);

	/* a short buffer is cut, never overrun; NULL is allowed */
	put_bytes("{\"x\":1}", 7);
	T_EQ_INT(-1, conf_load_file(&c, FILE_NAME, err, 8));
	T_EQ_STR("parklog", err);
	T_EQ_INT(-1, conf_load_file(&c, FILE_NAME, NULL, 0));
}

TEST(limits_of_lists)
{
	char *buf, err[256];
	size_t i, n = 0, cap = 64 * 1024;
	conf c;

	if ((buf = malloc(cap)) == NULL)
		T_FAIL("malloc");
	n += (size_t)snprintf(buf + n, cap - n, "{\"edges\":[");
	for (i = 0; i < CONF_MAX_EDGES + 1; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s{\"id\":\"e%zu\"}", i ? "," : "", i);
	snprintf(buf + n, cap - n, "]}");
	T_EQ_INT(-1, load(&c, buf, err, sizeof err));
	T_EQ_STR(F "edges: more than 256 edges", err);
	/* 256 fit */
	strcpy(strstr(buf, ",{\"id\":\"e256\"}"), "]}");
	T_EQ_INT(0, load(&c, buf, err, sizeof err));
	T_EQ_INT(256, c.nedges);
	T_ASSERT(conf_edge_find(&c, "e255") == &c.edges[255]);
	free(buf);
}

typedef struct vrow {
	const char *text, *err;		/* err "" = valid */
} vrow;

#define E1 "{\"id\":\"e1\",\"token\":\"" TOK1 "\"}"
#define E2 "{\"id\":\"e2\",\"token\":\"" TOK2 "\"}"
#define P2 "{\"id\":\"central-2\",\"address\":\"10.0.0.2:9000\"}"

static const vrow VALIDATE[] = {
	{ "{}", "" },
	{ "{\"http\":\"localhost:8000\"}", "" },
	{ "{\"http\":\"[::1]:8000\",\"edges\":[{\"id\":\"e1\"},{\"id\":\"e2\"}]}", "" },
	{ "{\"http\":\"0.0.0.0:8000\"}", "http: listening on 0.0.0.0 needs edge tokens" },
	{ "{\"http\":\"[::]:8000\",\"edges\":[{\"id\":\"e1\"}]}",
	  "http: listening on :: needs edge tokens" },
	{ "{\"this_central\":{\"ip\":\"192.168.1.101\"}}",
	  "http: listening on 192.168.1.101 needs edge tokens" },
	{ "{\"http\":\"0.0.0.0:8000\",\"edges\":[" E1 "," E2 "]}", "" },
	{ "{\"edges\":[" E1 ",{\"id\":\"e2\"}]}",
	  "edges[1].token: missing (edges[0] has one: give every edge a token, or none)" },
	{ "{\"edges\":[{\"id\":\"e0\"}," E1 "]}",
	  "edges[0].token: missing (edges[1] has one: give every edge a token, or none)" },
	{ "{\"edges\":[" E1 "," E2 "," E1 "]}", "edges[2].id: \"e1\" is also edges[0]'s id" },
	{ "{\"edges\":[" E1 ",{\"id\":\"e2\",\"token\":\"" TOK1 "\"}]}",
	  "edges[1].token: same as edges[0]'s" },
	{ "{\"operator_token\":\"" TOK2 "\",\"edges\":[" E1 "," E2 "]}",
	  "operator_token: same as edges[1]'s token" },
	{ "{\"peers\":[" P2 "]}", "" },
	{ "{\"peers\":[" P2 ",{\"id\":\"central-1\",\"address\":\"10.0.0.1:9000\"}]}",
	  "peers[1].id: \"central-1\" is this central's own id" },
	{ "{\"this_central\":{\"id\":\"central-2\"},\"peer_centrals\":[{\"id\":\"central-2\","
	  "\"ip\":\"10.0.0.2\",\"p2p_port\":9000}]}",
	  "peers[0].id: \"central-2\" is this central's own id" },
	{ "{\"peers\":[" P2 "," P2 "]}", "peers[1].id: \"central-2\" is also peers[0]'s id" },
	{ "{\"p2p\":\"0.0.0.0:9000\",\"peers\":[" P2 "]}",
	  "p2p: listening on 0.0.0.0 needs a peer_secret" },
	{ "{\"p2p\":\"0.0.0.0:9000\",\"peer_secret\":\"" SECRET "\",\"peers\":[" P2 "]}", "" },
	{ "{\"p2p\":\"0.0.0.0:9000\"}", "p2p: listening on 0.0.0.0 needs a peer_secret" },
	{ "{\"p2p\":\"127.0.0.1:8000\"}", "p2p: port 8000 is also http's" },
	{ "{\"p2p\":\"[::]:8000\"}", "p2p: port 8000 is also http's" },
	{ "{\"p2p\":\"127.0.0.2:8000\"}", "" },
};

TEST(validate_rules)
{
	char err[512];
	size_t i;
	conf c;
	int rc;

	for (i = 0; i < sizeof VALIDATE / sizeof VALIDATE[0]; i++) {
		load_ok(&c, VALIDATE[i].text);
		strcpy(err, "(none)");
		rc = conf_validate(&c, err, sizeof err);
		if (rc != (VALIDATE[i].err[0] ? -1 : 0) || strcmp(VALIDATE[i].err, err) != 0)
			T_FAIL("row %zu: %s\n  expected: %d \"%s\"\n  got:      %d \"%s\"", i,
			    VALIDATE[i].text, VALIDATE[i].err[0] ? -1 : 0,
			    VALIDATE[i].err, rc, err);
	}
}

typedef struct arow {
	const char *in, *host;		/* host NULL: refused */
	int port;
} arow;

static const arow ADDRS[] = {
	{ "127.0.0.1:8000", "127.0.0.1", 8000 },
	{ "0.0.0.0:1", "0.0.0.0", 1 },
	{ "192.168.1.102:65535", "192.168.1.102", 65535 },
	{ "[::1]:9000", "::1", 9000 },
	{ "[::]:8000", "::", 8000 },
	{ "[fe80::1:2]:80", "fe80::1:2", 80 },
	{ "[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80 },
	{ "localhost:80", "localhost", 80 },
	{ "central-2.lan:9000", "central-2.lan", 9000 },
	{ "c2:9000", "c2", 9000 },
	{ "", NULL, 0 },
	{ ":8000", NULL, 0 },			/* a host is required */
	{ "127.0.0.1", NULL, 0 },
	{ "127.0.0.1:", NULL, 0 },
	{ "127.0.0.1:0", NULL, 0 },
	{ "127.0.0.1:65536", NULL, 0 },
	{ "127.0.0.1:100000", NULL, 0 },
	{ "127.0.0.1:+80", NULL, 0 },
	{ "127.0.0.1:-80", NULL, 0 },
	{ "127.0.0.1: 80", NULL, 0 },
	{ "127.0.0.1:80x", NULL, 0 },
	{ "127.0.0.1:80:80", NULL, 0 },
	{ "::1:8000", NULL, 0 },		/* bare IPv6: ambiguous */
	{ "[::1]8000", NULL, 0 },
	{ "[::1]:", NULL, 0 },
	{ "[::1:80", NULL, 0 },
	{ "[]:80", NULL, 0 },
	{ "[127.0.0.1]:80", NULL, 0 },
	{ "[localhost]:80", NULL, 0 },
	{ "[fe80::1%eth0]:80", NULL, 0 },
	{ "256.1.1.1:80", NULL, 0 },
	{ "1.2.3:80", NULL, 0 },
	{ "01.2.3.4:80", NULL, 0 },
	{ "host_name:80", NULL, 0 },
	{ "-host:80", NULL, 0 },
	{ "host-:80", NULL, 0 },
	{ "a..b:80", NULL, 0 },
	{ "host.:80", NULL, 0 },
	{ "exa mple:80", NULL, 0 },
};

TEST(parse_addr)
{
	conf_addr a;
	char big[400];
	size_t i;

	for (i = 0; i < sizeof ADDRS / sizeof ADDRS[0]; i++) {
		const arow *r = &ADDRS[i];
		int rc;

		strcpy(a.host, "untouched");
		a.port = -7;
		rc = conf_parse_addr(r->in, &a);
		if (r->host == NULL && (rc != -1 || strcmp(a.host, "untouched") != 0 ||
		    a.port != -7))
			T_FAIL("\"%s\" accepted (or out written)", r->in);
		if (r->host != NULL && (rc != 0 || strcmp(r->host, a.host) != 0 ||
		    r->port != a.port))
			T_FAIL("\"%s\": rc %d host \"%s\" port %d", r->in, rc, a.host, a.port);
	}
	T_EQ_INT(-1, conf_parse_addr(NULL, &a));
	/* 63-character labels up to 253 characters pass; 256 do not */
	memset(big, 'a', sizeof big);
	for (i = 63; i < 253; i += 64)
		big[i] = '.';
	strcpy(big + 253, ":1");
	T_EQ_INT(0, conf_parse_addr(big, &a));
	T_EQ_INT(253, strlen(a.host));
	big[63] = 'a';			/* a 127-character label */
	T_EQ_INT(-1, conf_parse_addr(big, &a));
	memset(big, 'a', 256);
	strcpy(big + 256, ":1");
	T_EQ_INT(-1, conf_parse_addr(big, &a));
}

TEST(addr_format_round_trips)
{
	static const char *const in[] = { "127.0.0.1:8000", "[::1]:9000",
	    "[fd00::5]:1", "localhost:65535" };
	char buf[CONF_HOST_MAX + 16];
	conf_addr a;
	size_t i;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		T_EQ_INT(0, conf_parse_addr(in[i], &a));
		T_EQ_INT(strlen(in[i]), conf_addr_format(&a, buf, sizeof buf));
		T_EQ_STR(in[i], buf);
	}
}

TEST(loopback)
{
	static const struct { const char *host; int yes; } rows[] = {
		{ "127.0.0.1", 1 }, { "127.1.2.3", 1 }, { "127.255.255.255", 1 },
		{ "::1", 1 }, { "localhost", 1 }, { "LocalHost", 1 },
		{ "::ffff:127.0.0.1", 1 },
		{ "0.0.0.0", 0 }, { "::", 0 }, { "128.0.0.1", 0 }, { "126.0.0.1", 0 },
		{ "10.0.0.1", 0 }, { "192.168.1.102", 0 }, { "::2", 0 },
		{ "::ffff:10.0.0.1", 0 }, { "example.com", 0 },
		{ "localhost.localdomain", 0 }, { "[::1]", 0 }, { "", 0 },
		{ "127.0.0.1:80", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (conf_is_loopback(rows[i].host) != rows[i].yes)
			T_FAIL("conf_is_loopback(\"%s\") != %d", rows[i].host, rows[i].yes);
	T_EQ_INT(0, conf_is_loopback(NULL));
}

TEST(edge_find)
{
	conf c;

	load_ok(&c, OWN);
	T_ASSERT(conf_edge_find(&c, "edge-1") == &c.edges[0]);
	T_ASSERT(conf_edge_find(&c, "edge-2") == &c.edges[1]);
	T_ASSERT(conf_edge_find(&c, "edge-3") == NULL);
	T_ASSERT(conf_edge_find(&c, "EDGE-1") == NULL);
	T_ASSERT(conf_edge_find(&c, "") == NULL);
	T_ASSERT(conf_edge_find(&c, NULL) == NULL);
	T_ASSERT(conf_edge_find(NULL, "edge-1") == NULL);
}

/* -n refuses what the peer service refuses (issue 12): beyond loopback
 * without a secret even with no peers yet, and a listen address that is a
 * name (lws binds addresses; localhost is 127.0.0.1). */
TEST(p2p_listener_as_the_daemon)
{
	static const vrow rows[] = {
		{ "{\"p2p\":\"192.168.1.5:9000\"}",
		  "p2p: listening on 192.168.1.5 needs a peer_secret" },
		{ "{\"p2p\":\"[::]:9000\"}", "p2p: listening on :: needs a peer_secret" },
		{ "{\"p2p\":\"0.0.0.0:9000\",\"peer_secret\":\"" SECRET "\"}", "" },
		{ "{\"p2p\":\"localhost:9000\"}", "" },
		{ "{\"p2p\":\"[::1]:9000\"}", "" },
		{ "{\"p2p\":\"central-2.lan:9000\",\"peer_secret\":\"" SECRET "\"}",
		  "p2p: listen address central-2.lan is not an IP address or localhost" },
	};
	char err[512];
	conf c;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		load_ok(&c, rows[i].text);
		strcpy(err, "(none)");
		if (conf_validate(&c, err, sizeof err) != (rows[i].err[0] ? -1 : 0) ||
		    strcmp(rows[i].err, err) != 0)
			T_FAIL("row %zu: %s: got \"%s\"", i, rows[i].text, err);
	}
}

/* "p2p_tls": all three paths, readable, and the secret still required. */
TEST(p2p_tls_checked)
{
	char text[3000], err[512], pem[600];
	conf c;
	FILE *f;

	snprintf(pem, sizeof pem, "%s/x.pem", t_tmpdir);
	T_ASSERT((f = fopen(pem, "w")) != NULL);
	fclose(f);
	T_EQ_INT(-1, load(&c, "{\"p2p_tls\":{\"cert\":\"a\",\"key\":\"b\"}}", err, sizeof err));
	T_ASSERT(strstr(err, "p2p_tls.ca: expected a path") != NULL);
	T_EQ_INT(-1, load(&c, "{\"p2p_tls\":\"yes\"}", err, sizeof err));
	T_ASSERT(strstr(err, "p2p_tls: expected {") != NULL);
	snprintf(text, sizeof text, "{\"p2p_tls\":{\"cert\":\"%s\",\"key\":\"%s\","
	    "\"ca\":\"%s\"}}", pem, pem, pem);
	load_ok(&c, text);
	T_EQ_INT(-1, conf_validate(&c, err, sizeof err));
	T_EQ_STR("p2p_tls: needs a peer_secret too", err);
	snprintf(text, sizeof text, "{\"peer_secret\":\"" SECRET "\",\"p2p_tls\":"
	    "{\"cert\":\"%s\",\"key\":\"%s/missing.key\",\"ca\":\"%s\"}}",
	    pem, t_tmpdir, pem);
	load_ok(&c, text);
	T_EQ_INT(-1, conf_validate(&c, err, sizeof err));
	T_ASSERT(strstr(err, "p2p_tls.key: ") != NULL && strstr(err, "No such file") != NULL);
	snprintf(text, sizeof text, "{\"peer_secret\":\"" SECRET "\",\"p2p_tls\":"
	    "{\"cert\":\"%s\",\"key\":\"%s\",\"ca\":\"%s\"}}", pem, pem, pem);
	load_ok(&c, text);
	T_EQ_INT(0, conf_validate(&c, err, sizeof err));
	T_EQ_STR(pem, c.p2p_tls_cert);
}


/* "export": {"nats": {...}} (docs/export.md): parsed, off without it, and a
 * bad value is refused with its key, changing nothing else. */
TEST(export_key)
{
	conf c;
	char err[512] = "";

	load_ok(&c, "{}");
	T_EQ_INT(0, c.export_on);
	load_ok(&c, "{\"export\":{\"nats\":{\"servers\":[\"nats://127.0.0.1:4222\","
	    "\"nats://127.0.0.1:4223\"],\"facility\":\"lot-1\",\"replicas\":3,"
	    "\"window\":512,\"user\":\"u\",\"password\":\"p\"}}}");
	T_EQ_INT(1, c.export_on);
	T_EQ_INT(2, c.export_nats.nservers);
	T_EQ_STR("nats://127.0.0.1:4223", c.export_nats.servers[1]);
	T_EQ_STR("lot-1", c.export_nats.facility);
	T_EQ_INT(3, c.export_nats.replicas);
	T_EQ_INT(512, c.export_nats.window);
	T_EQ_INT(-1, load(&c, "{\"export\":{\"nats\":{\"servers\":[],"
	    "\"facility\":\"lot-1\"}}}", err, sizeof err));
	T_EQ_STR("parklog.json: export.nats.servers: expected 1..8 URLs", err);
	T_EQ_INT(-1, load(&c, "{\"export\":{\"nats\":{\"servers\":[\"nats://h:1\"],"
	    "\"facility\":\"lot.1\"}}}", err, sizeof err));
	T_EQ_STR("parklog.json: export.nats.facility: expected 1..32 characters "
	    "of A-Z a-z 0-9 _ -", err);
	T_EQ_INT(-1, load(&c, "{\"export\":{\"nats\":{\"servers\":[\"http://h:1\"],"
	    "\"facility\":\"f\"}}}", err, sizeof err));
	T_EQ_STR("parklog.json: export.nats.servers[0]: expected nats://host:port "
	    "or tls://host:port", err);
	T_EQ_INT(-1, load(&c, "{\"export\":{\"kafka\":{}}}", err, sizeof err));
	T_EQ_STR("parklog.json: export.kafka: unknown key", err);
	T_EQ_INT(-1, load(&c, "{\"export\":{\"nats\":{\"servers\":[\"nats://h:1\"],"
	    "\"facility\":\"f\",\"window\":0}}}", err, sizeof err));
	T_EQ_STR("parklog.json: export.nats.window: expected an integer 1..65536", err);
}

T_MAIN()
