/* peers/proto: strict frame parsing, encoders round-trip, HMAC vectors. */
#include "tests/harness/t.h"

#include "peers/proto.h"

#define S1 "central-1:00000000deadbeef"
#define S2 "central-2:0000000000000001"

static peer_frame fr;	/* 16 KiB: not on the stack of every case */

static int parse(const char *s)
{
	char err[256];

	return peer_frame_parse(s, strlen(s), &fr, err, sizeof err);
}

/* An event of stream S1 at seq, canonical bytes. */
static int mkev(uint64_t seq, char *buf, size_t cap)
{
	log_event e;

	memset(&e, 0, sizeof e);
	e.type = LOG_EV_ENTRY_PENDING;
	snprintf(e.origin, sizeof e.origin, "central-1");
	e.epoch = 0xdeadbeef;
	e.seq = seq;
	e.ts = 1733140800000LL + (int64_t)seq;
	snprintf(e.plate, sizeof e.plate, "29A12345");
	snprintf(e.plate_view, sizeof e.plate_view, "29A-123.45");
	snprintf(e.vehicle, sizeof e.vehicle, "car");
	snprintf(e.edge_id, sizeof e.edge_id, "edge-1");
	e.confidence_milli = 950;
	e.entry_ts = e.duration_s = -1;
	log_event_id(e.id, e.origin, e.ts, e.plate);
	snprintf(e.session, sizeof e.session, "%s", e.id);
	return log_event_encode(&e, buf, cap);
}

TEST(hex_round_trip)
{
	char h[17];
	uint64_t v;

	peer_hex_u64(0x0123456789abcdefULL, h);
	T_EQ_STR("0123456789abcdef", h);
	T_EQ_INT(0, peer_parse_hex_u64(h, 16, &v));
	T_EQ_U64(0x0123456789abcdefULL, v);
	T_EQ_INT(PEER_EPROTO, peer_parse_hex_u64("0123456789ABCDEF", 16, &v));
	T_EQ_INT(PEER_EPROTO, peer_parse_hex_u64("0123", 4, &v));
	T_EQ_INT(PEER_EPROTO, peer_parse_hex_u64("0123456789abcdeg", 16, &v));
}

/* RFC 4231 test cases 1 and 2. */
TEST(hmac_sha256_rfc4231)
{
	unsigned char key[20], mac[32];
	char hex[65];

	memset(key, 0x0b, sizeof key);
	T_EQ_INT(0, peer_hmac_sha256(key, 20, "Hi There", 8, mac));
	peer_hex(mac, 32, hex);
	T_EQ_STR("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", hex);
	T_EQ_INT(0, peer_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac));
	peer_hex(mac, 32, hex);
	T_EQ_STR("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", hex);
}

#define D PEER_ROLE_DIALER
#define L PEER_ROLE_LISTENER

/* Each MAC names its role, both ids and both nonces: changing any one of
 * them (reflection: the other role; relay: another id or nonce; replay:
 * another connection's nonce) gives another MAC. */
TEST(auth_mac_binds_role_ids_and_nonces)
{
	char a[65], c[65], n1[33], n2[33], n3[33];

	T_EQ_INT(0, peer_nonce(n1));
	T_EQ_INT(0, peer_nonce(n2));
	T_EQ_INT(0, peer_nonce(n3));
	T_ASSERT(strcmp(n1, n2) != 0);
	T_EQ_INT(32, strlen(n1));
	T_EQ_INT(0, peer_auth_mac("s3cret", D, "central-1", "central-2", n1, n2, a));
	T_EQ_INT(0, peer_auth_mac("s3cret", D, "central-1", "central-2", n1, n2, c));
	T_ASSERT(peer_mac_equal(a, c));
	/* reflection: the listener's MAC on the same connection differs */
	T_EQ_INT(0, peer_auth_mac("s3cret", L, "central-1", "central-2", n1, n2, c));
	T_ASSERT(!peer_mac_equal(a, c));
	/* the ids swapped (the same two centrals, the other direction) */
	T_EQ_INT(0, peer_auth_mac("s3cret", D, "central-2", "central-1", n2, n1, c));
	T_ASSERT(!peer_mac_equal(a, c));
	T_EQ_INT(0, peer_auth_mac("s3cret", D, "central-3", "central-2", n1, n2, c));
	T_ASSERT(!peer_mac_equal(a, c));
	/* replay: another connection's listener nonce */
	T_EQ_INT(0, peer_auth_mac("s3cret", D, "central-1", "central-2", n1, n3, c));
	T_ASSERT(!peer_mac_equal(a, c));
	T_EQ_INT(0, peer_auth_mac("s3cret", D, "central-1", "central-2", n3, n2, c));
	T_ASSERT(!peer_mac_equal(a, c));
	T_EQ_INT(0, peer_auth_mac("other", D, "central-1", "central-2", n1, n2, c));
	T_ASSERT(!peer_mac_equal(a, c));
	T_EQ_INT(0, peer_auth_mac("", D, "central-1", "central-2", n1, n2, c));
	T_ASSERT(!peer_mac_equal(a, c));
	T_ASSERT(!peer_mac_equal(a, "short"));
	/* names that could re-cut the fields, or bad nonces, are refused */
	T_EQ_INT(PEER_ECONF, peer_auth_mac("s", D, "a|b", "central-2", n1, n2, c));
	T_EQ_INT(PEER_ECONF, peer_auth_mac("s", D, "central-1", "central-2", "00", n2, c));
}

/* The MAC is HMAC-SHA256 over the documented text (docs/peers.md): a
 * fixed vector so another implementation can check itself. */
TEST(auth_mac_known_vector)
{
	char a[65];
	unsigned char m[32];
	char hex[65];
	const char *txt = "parklog-peer-auth-2|listener|central-1|central-2|"
	    "00112233445566778899aabbccddeeff|ffeeddccbbaa99887766554433221100";

	T_EQ_INT(0, peer_auth_mac("k", L, "central-1", "central-2",
	    "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100", a));
	T_EQ_INT(0, peer_hmac_sha256("k", 1, txt, strlen(txt), m));
	peer_hex(m, 32, hex);
	T_EQ_STR(hex, a);
}

/* An empty frame is refused without reading the (absent) buffer. */
TEST(empty_frame_refused)
{
	peer_frame *f = calloc(1, sizeof *f);
	char err[128];

	T_EQ_INT(PEER_EPROTO, peer_frame_parse(NULL, 0, f, err, sizeof err));
	T_EQ_INT(PEER_EPROTO, peer_frame_parse("", 0, f, err, sizeof err));
	free(f);
}

TEST(hello_round_trip)
{
	peer_head v[3] = {
		{ S2, 7, 0xffffffffffffffffULL }, { S1, 12, 0xab }, { "x:0000000000000000", 0, 0 }
	};
	char buf[1024], nonce[33];
	int n;

	T_EQ_INT(0, peer_nonce(nonce));
	n = peer_enc_hello(buf, sizeof buf, "central-1", nonce, v, 3);
	T_ASSERT(n > 0);
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
	T_EQ_INT(PEER_MSG_HELLO, fr.type);
	T_EQ_INT(PEER_PROTO_VERSION, fr.version);
	T_EQ_STR("central-1", fr.node);
	T_EQ_STR(nonce, fr.nonce);
	T_EQ_INT(2, fr.nvector);		/* head 0 omitted; sorted */
	T_EQ_STR(S1, fr.vector[0].stream);
	T_EQ_U64(12, fr.vector[0].seq);
	T_EQ_U64(0xab, fr.vector[0].P);
	T_EQ_U64(0xffffffffffffffffULL, fr.vector[1].P);
	peer_frame_clear(&fr);
	T_EQ_INT(PEER_ESPACE, peer_enc_hello(buf, 40, "central-1", nonce, v, 3));
}

TEST(small_frames_round_trip)
{
	char buf[512];
	int n;

	n = peer_enc_auth(buf, sizeof buf,
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
	T_EQ_INT(PEER_MSG_AUTH, fr.type);
	n = peer_enc_want(buf, sizeof buf, S1, 13);
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
	T_EQ_INT(PEER_MSG_WANT, fr.type);
	T_EQ_STR(S1, fr.stream);
	T_EQ_U64(13, fr.seq);
	n = peer_enc_ack(buf, sizeof buf, S1, 15, 0x1234);
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
	T_EQ_INT(PEER_MSG_ACK, fr.type);
	T_EQ_U64(15, fr.seq);
	T_EQ_U64(0x1234, fr.P);
	n = peer_enc_fork(buf, sizeof buf, S1, 13, "bytes \"differ\"\n");
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
	T_EQ_INT(PEER_MSG_FORK, fr.type);
	T_EQ_STR("bytes ?differ??", fr.reason);
}

TEST(batch_round_trip)
{
	char buf[8192];
	int n, k;

	n = peer_enc_batch_head(buf, sizeof buf, S1, 12, 0xab, 3);
	T_ASSERT(n > 0 && buf[n - 1] == '\n');
	for (uint64_t s = 13; s <= 15; s++) {
		k = mkev(s, buf + n, sizeof buf - (size_t)n);
		T_ASSERT(k > 0);
		n += k;
		if (s < 15)
			buf[n++] = '\n';
	}
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
	T_EQ_INT(PEER_MSG_BATCH, fr.type);
	T_EQ_U64(12, fr.prev_seq);
	T_EQ_U64(0xab, fr.prev_P);
	T_EQ_INT(3, fr.nevents);
	T_ASSERT(memmem(fr.events[1].p, fr.events[1].len, "\"seq\":14,", 9) != NULL);
	/* trailing newline, one event short, wrong seq: all refused */
	buf[n] = '\n';
	T_EQ_INT(PEER_EPROTO, peer_frame_parse(buf, (size_t)n + 1, &fr, NULL, 0));
	T_EQ_INT(PEER_EPROTO, peer_frame_parse(buf, (size_t)(fr.events[2].p - buf) - 1,
	    &fr, NULL, 0));
	k = peer_enc_batch_head(buf, sizeof buf, S1, 11, 0xab, 1);
	n = k + mkev(13, buf + k, sizeof buf - (size_t)k);
	T_EQ_INT(PEER_EPROTO, peer_frame_parse(buf, (size_t)n, &fr, NULL, 0));
}

/* Every malformed frame is an error code, never a crash. */
TEST(malformed_frames_refused)
{
	static const char *bad[] = {
		"", "x", "[]", "{}", "{\"type\":\"nope\"}", "{\"type\":1}",
		"{\"type\":\"auth\"}",
		"{\"type\":\"auth\",\"mac\":\"00\"}",
		"{\"type\":\"auth\",\"mac\":\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"}",
		"{\"type\":\"auth\",\"mac\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"x\":1}",
		"{\"type\":\"auth\",\"mac\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"} ",
		"{\"type\":\"auth\",\"type\":\"auth\",\"mac\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
		"{\"type\":\"want\",\"stream\":\"" S1 "\",\"from\":0}",
		"{\"type\":\"want\",\"stream\":\"" S1 "\",\"from\":1.5}",
		"{\"type\":\"want\",\"stream\":\"" S1 "\",\"from\":-1}",
		"{\"type\":\"want\",\"stream\":\"" S1 "\",\"from\":9007199254740996}",
		"{\"type\":\"want\",\"stream\":\"central-1\",\"from\":1}",
		"{\"type\":\"want\",\"stream\":\"" S1 "\",\"from\":\"1\"}",
		"{\"type\":\"want\",\"stream\":\"" S1 "\",\"from\":1}\n",
		"{\"type\":\"ack\",\"stream\":\"" S1 "\",\"seq\":1,\"P\":\"12\"}",
		"{\"type\":\"fork\",\"stream\":\"" S1 "\",\"seq\":1,\"reason\":\"a\\nb\"}",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0,\"0000000000000000\"],\"n\":1}",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0,\"0000000000000000\"],\"n\":1}\n",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0,\"0000000000000001\"],\"n\":1}\nx",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0,\"0000000000000000\"],\"n\":0}\nx",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0,\"0000000000000000\"],\"n\":1001}\nx",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0],\"n\":1}\nx",
		"{\"type\":\"batch\",\"stream\":\"" S1 "\",\"prev\":[0,\"0000000000000000\"],\"n\":1}\nnot an event",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c 1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{}}",
		"{\"type\":\"hello\",\"v\":0,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{}}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"0011\",\"vector\":{}}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":[]}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{\"" S1 "\":[1,\"00\"]}}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{\"" S1 "\":[1,\"0000000000000001\"],\"" S1 "\":[2,\"0000000000000001\"]}}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{\"" S1 "\":[0,\"0000000000000001\"]}}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{\"bad\":[1,\"0000000000000001\"]}}",
		"{\"type\":\"hello\",\"v\":1,\"node\":\"c1\",\"nonce\":\"00112233445566778899aabbccddeeff\",\"vector\":{}",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i]);

		if (rc != PEER_EPROTO)
			T_FAIL("frame %zu accepted or wrong error %d: %s", i, rc, bad[i]);
		T_ASSERT(fr.vector == NULL);
	}
}

TEST(oversized_frame_refused)
{
	size_t n = PEER_FRAME_MAX + 1;
	char *big = malloc(n);

	T_ASSERT(big != NULL);
	memset(big, ' ', n);
	big[0] = '{';
	T_EQ_INT(PEER_ETOOBIG, peer_frame_parse(big, n, &fr, NULL, 0));
	free(big);
}

TEST(hello_vector_limit)
{
	size_t n = PEER_VECTOR_MAX + 1, cap = n * 64 + 256;
	peer_head *v = calloc(n, sizeof *v);
	char *buf = malloc(cap);
	int len;

	T_ASSERT(v && buf);
	for (size_t i = 0; i < n; i++) {
		snprintf(v[i].stream, sizeof v[i].stream, "c%zu:%016zx", i, i);
		v[i].seq = i + 1;
	}
	len = peer_enc_hello(buf, cap, "central-1", "00112233445566778899aabbccddeeff", v, n);
	T_ASSERT(len > 0);
	T_EQ_INT(PEER_EPROTO, peer_frame_parse(buf, (size_t)len, &fr, NULL, 0));
	len = peer_enc_hello(buf, cap, "central-1", "00112233445566778899aabbccddeeff", v, n - 1);
	T_EQ_INT(0, peer_frame_parse(buf, (size_t)len, &fr, NULL, 0));
	T_EQ_INT(PEER_VECTOR_MAX, fr.nvector);
	peer_frame_clear(&fr);
	free(v);
	free(buf);
}

T_MAIN()
