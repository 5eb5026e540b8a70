/* api/wsframe.h — RFC 6455 frames, pure (no I/O): what the server reads
 * from clients (masked) and writes to them (unmasked). Built into
 * parklog_api_parse, so the fuzz harness has it alone (tests/fuzz). */
#ifndef PARKLOG_API_WSFRAME_H
#define PARKLOG_API_WSFRAME_H

#include <stddef.h>
#include <stdint.h>

enum { API_WS_CONT = 0, API_WS_TEXT = 1, API_WS_BINARY = 2, API_WS_CLOSE = 8,
	API_WS_PING = 9, API_WS_PONG = 10 };

typedef struct api_ws_frame {
	int fin;
	int opcode;
	size_t hdr;			/* header bytes, mask included */
	size_t len;			/* payload bytes after hdr */
	unsigned char mask[4];
} api_ws_frame;

/* One client frame at the start of b[0..n): 1 and *f if it is complete
 * (hdr + len <= n), 0 if more bytes are needed, or -1 with *close_code
 * (1002 protocol, 1009 too big) if the stream is bad: unmasked, reserved
 * bits, unknown opcode, a control frame fragmented or over 125 bytes,
 * a payload over max. Never reads beyond b[n). */
int api_ws_parse(const unsigned char *b, size_t n, size_t max, api_ws_frame *f,
    int *close_code);
/* XOR p[0..len) with the mask, the way RFC 6455 §5.3 says. */
void api_ws_unmask(unsigned char *p, size_t len, const unsigned char mask[4]);
/* A server frame's header for opcode (fin set) and len into out[10];
 * returns its size. */
size_t api_ws_header(unsigned char out[10], int opcode, uint64_t len);
/* Sec-WebSocket-Accept for key into out[29] (base64 of a SHA-1). */
void api_ws_accept(const char *key, char out[29]);

#endif
