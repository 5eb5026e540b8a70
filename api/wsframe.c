/* api/wsframe.c — RFC 6455 framing; see wsframe.h. */
#include "api/wsframe.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

static int api__ws_bad(int *close_code, int code)
{
	*close_code = code;
	return -1;
}

/* The 7-bit, 16-bit or 64-bit length at b[1..); 0 if more bytes needed. */
static int api__ws_len(const unsigned char *b, size_t n, size_t *hdr, uint64_t *len)
{
	unsigned l7 = b[1] & 0x7f;

	*hdr = 2;
	if (l7 < 126) {
		*len = l7;
	} else if (l7 == 126) {
		if (n < 4)
			return 0;
		*len = (uint64_t)b[2] << 8 | b[3];
		*hdr = 4;
	} else {
		if (n < 10)
			return 0;
		*len = 0;
		for (int i = 2; i < 10; i++)
			*len = *len << 8 | b[i];
		*hdr = 10;
	}
	return 1;
}

int api_ws_parse(const unsigned char *b, size_t n, size_t max, api_ws_frame *f,
    int *close_code)
{
	uint64_t len;
	size_t hdr;

	memset(f, 0, sizeof *f);
	if (n < 2)
		return 0;
	f->fin = (b[0] & 0x80) != 0;
	f->opcode = b[0] & 0x0f;
	if ((b[0] & 0x70) != 0 || (b[1] & 0x80) == 0)
		return api__ws_bad(close_code, 1002);	/* RSV bits, unmasked */
	if (f->opcode != API_WS_CONT && f->opcode != API_WS_TEXT &&
	    f->opcode != API_WS_BINARY && f->opcode != API_WS_CLOSE &&
	    f->opcode != API_WS_PING && f->opcode != API_WS_PONG)
		return api__ws_bad(close_code, 1002);
	if (f->opcode >= API_WS_CLOSE && (!f->fin || (b[1] & 0x7f) > 125))
		return api__ws_bad(close_code, 1002);
	if (!api__ws_len(b, n, &hdr, &len))
		return 0;
	if (len > max || len > (uint64_t)1 << 62)
		return api__ws_bad(close_code, 1009);
	if (n < hdr + 4)
		return 0;
	memcpy(f->mask, b + hdr, 4);
	f->hdr = hdr + 4;
	f->len = (size_t)len;
	return n - f->hdr >= f->len ? 1 : 0;
}

void api_ws_unmask(unsigned char *p, size_t len, const unsigned char mask[4])
{
	for (size_t i = 0; i < len; i++)
		p[i] ^= mask[i & 3];
}

size_t api_ws_header(unsigned char out[10], int opcode, uint64_t len)
{
	out[0] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (unsigned char)(len >> 8);
		out[3] = (unsigned char)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (unsigned char)(len >> (56 - 8 * i));
	return 10;
}

void api_ws_accept(const char *key, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char md[SHA_DIGEST_LENGTH];
	char buf[256];
	int n = snprintf(buf, sizeof buf, "%.200s%s", key, guid);

	SHA1((const unsigned char *)buf, (size_t)n, md);
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}
