/* The seed's compatibility, pure parts: RFC 6455 frames (api/wsframe.c),
 * CORS origins and tokenless addresses (api/origin.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "tests/harness/t.h"
#include "api/api.h"
#include "api/wsframe.h"

TEST(ws_accept_rfc_example)
{
	char out[29];

	api_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);	/* RFC 6455 §1.3 */
	T_EQ_STR("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", out);
}

TEST(ws_masked_hello)
{
	/* RFC 6455 §5.7: a masked "Hello" */
	unsigned char b[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
	    0x4d, 0x51, 0x58 };
	api_ws_frame f;
	int code = 0;

	for (size_t n = 0; n < sizeof b; n++)		/* any prefix: more */
		T_EQ_INT(0, api_ws_parse(b, n, 1024, &f, &code));
	T_EQ_INT(1, api_ws_parse(b, sizeof b, 1024, &f, &code));
	T_ASSERT(f.fin && f.opcode == API_WS_TEXT && f.hdr == 6 && f.len == 5);
	api_ws_unmask(b + f.hdr, f.len, f.mask);
	T_EQ_MEM("Hello", b + f.hdr, 5);
}

TEST(ws_lengths)
{
	unsigned char b[20] = { 0x82, 0x80 | 126, 0x01, 0x00, 1, 2, 3, 4 };
	api_ws_frame f;
	int code = 0;

	T_EQ_INT(0, api_ws_parse(b, 8, 1024, &f, &code));	/* 256 bytes due */
	T_EQ_INT(-1, api_ws_parse(b, 8, 100, &f, &code));	/* over max */
	T_EQ_INT(1009, code);
	b[1] = 0x80 | 127;
	memset(b + 2, 0xff, 8);					/* 2^64 - 1 */
	T_EQ_INT(-1, api_ws_parse(b, 14, (size_t)-1, &f, &code));
	T_EQ_INT(1009, code);
}

TEST(ws_protocol_errors)
{
	static const struct { unsigned char b0, b1; } bad[] = {
		{ 0x81, 0x05 },		/* unmasked */
		{ 0xc1, 0x85 },		/* RSV1 */
		{ 0x83, 0x85 },		/* opcode 3 */
		{ 0x89, 0x80 | 126 },	/* ping over 125 */
		{ 0x08, 0x80 },		/* close not final */
	};
	unsigned char b[16] = { 0 };
	api_ws_frame f;
	int code;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b[0] = bad[i].b0;
		b[1] = bad[i].b1;
		code = 0;
		if (api_ws_parse(b, sizeof b, 1 << 20, &f, &code) != -1 || code != 1002)
			T_FAIL("case %zu: accepted (code %d)", i, code);
	}
}

TEST(ws_header)
{
	unsigned char h[10];

	T_EQ_INT(2, api_ws_header(h, API_WS_TEXT, 5));
	T_ASSERT(h[0] == 0x81 && h[1] == 5);
	T_EQ_INT(4, api_ws_header(h, API_WS_TEXT, 300));
	T_ASSERT(h[1] == 126 && h[2] == 1 && h[3] == 44);
	T_EQ_INT(10, api_ws_header(h, API_WS_BINARY, 70000));
	T_ASSERT(h[1] == 127 && h[7] == 1 && h[8] == 0x11 && h[9] == 0x70);
}

TEST(cors_allow)
{
	T_EQ_STR("*", api_cors_allow("*", "http://a:1"));
	T_EQ_STR("http://a:1", api_cors_allow("http://b, http://a:1", "http://a:1"));
	T_ASSERT(api_cors_allow("http://b", "http://a:1") == NULL);
	T_ASSERT(api_cors_allow("", "http://a:1") == NULL);
	T_ASSERT(api_cors_allow(NULL, "http://a:1") == NULL);
	T_ASSERT(api_cors_allow("*", NULL) == NULL);	/* not a browser */
	T_ASSERT(api_cors_allow("http://a", "http://a:1") == NULL);
}

static struct sockaddr_storage v4(const char *s)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	a->sin_family = AF_INET;
	inet_pton(AF_INET, s, &a->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *s)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	a->sin6_family = AF_INET6;
	inet_pton(AF_INET6, s, &a->sin6_addr);
	return ss;
}

TEST(tokenless_addr)
{
	struct sockaddr_storage a = v4("10.0.0.7"), b = v4("10.0.1.7");
	struct sockaddr_storage m = v6("::ffff:10.0.0.7"), c = v6("fd00::1");
	const char *list = "10.0.0.0/24,192.168.1.5, fd00::/8";

	T_ASSERT(api_addr_listed(list, (struct sockaddr *)&a));
	T_ASSERT(!api_addr_listed(list, (struct sockaddr *)&b));
	T_ASSERT(api_addr_listed(list, (struct sockaddr *)&m));	/* v4-mapped */
	T_ASSERT(api_addr_listed(list, (struct sockaddr *)&c));
	b = v4("192.168.1.5");
	T_ASSERT(api_addr_listed(list, (struct sockaddr *)&b));
	b = v4("192.168.1.6");
	T_ASSERT(!api_addr_listed(list, (struct sockaddr *)&b));
	T_ASSERT(!api_addr_listed("", (struct sockaddr *)&a));
	T_ASSERT(!api_addr_listed(NULL, (struct sockaddr *)&a));
	T_ASSERT(!api_addr_listed("10.0.0.0/99,junk", (struct sockaddr *)&a));
}

T_MAIN()
