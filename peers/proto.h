/* peers/proto.h — the replication protocol between centrals: frames and
 * the pure decisions about them (no sockets, no LMDB: table-testable).
 *
 * Transport: one WebSocket connection per pair of centrals, subprotocol
 * "parklog-peer-1", text frames of at most PEER_FRAME_MAX bytes. A frame is
 * one compact JSON header line; a `batch` header is followed by "\n" and its
 * events, one canonical event per line, byte for byte as stored (canonical
 * events never contain a newline), so events cross the wire unchanged and are
 * never re-serialised:
 *
 *   {"type":"hello","v":2,"node":"central-1","nonce":"<32 hex>",
 *    "vector":{"central-1:00..ab":[12,"<16 hex P>"],...}}
 *   {"type":"auth","mac":"<64 hex>"}     HMAC-SHA256(secret, "parklog-peer-auth-2|"
 *                                        role|dialer|listener|dialer's nonce|
 *                                        listener's nonce), role = the
 *                                        sender's: "dialer" or "listener"
 *   {"type":"want","stream":"...","from":13}   send me seq >= from
 *   {"type":"batch","stream":"...","prev":[12,"<P hex>"],"n":3}\nEV\nEV\nEV
 *   {"type":"ack","stream":"...","seq":15,"P":"<hex>"}   I hold up to seq
 *   {"type":"fork","stream":"...","seq":13,"reason":"..."}
 *
 * Handshake (version 2): both sides send hello (a fresh nonce each) when
 * the socket opens. The dialer checks that the listener is the central it
 * dialed, and only once both nonces of this connection are fixed sends its
 * auth. The listener checks that the dialer's id is a configured peer, and
 * sends its own auth only after the dialer's verified. Each MAC names its
 * sender's role, both ids and both nonces, so a MAC is never accepted in
 * another connection (replay, relay) or in the other direction
 * (reflection), and a listener signs nothing for a party that has not
 * proven the secret. Equal nonces and our own id are refused. Version 1
 * (each side's MAC sent on the other's hello) made every central a
 * signing oracle: see docs/peers.md. Frames after the handshake are not
 * MACed (use TLS against an active man in the middle).
 *
 * Flow: nothing but hello and auth is accepted before the peer's auth
 * verifies (hello and auth exactly once, in that order). A
 * sender keeps, per peer and stream, `acked` and `sent` seqs; whenever its
 * head is beyond `sent` and it has credit (fewer than PEER_CREDIT unacked
 * batches), it sends the next batch read from its log — catch-up and live
 * push are the same mechanism. The receiver appends a batch if `prev` is at
 * or below its head for that stream and `P(prev)` agrees (events it holds
 * must be byte-equal, the rest are appended), then acks after the commit; a
 * `prev` beyond its head is answered with `want` from its head + 1 (once:
 * batches already in flight are ignored until the answer starts); the same
 * seq with another digest is a fork: that stream is refused from that peer,
 * both sides are told (`fork`) and report it; nothing is overwritten.
 *
 * Refinements of the first draft (and why):
 *  - No opening `want`s: the peer's hello vector is where the sender starts
 *    (the same information, one round trip less). `want` is only the answer
 *    to a gap (a refused batch, a failed commit, another peer's relay).
 *  - `ack` means "I hold up to seq" (my head after the commit), not "I
 *    committed your batch": a batch I already held (relayed to me by a third
 *    central) is acked with my head, and the sender skips ahead. Likewise a
 *    batch received tells its receiver what the sender holds, so relayed
 *    events are never echoed back.
 *  - A batch whose `prev` is below the receiver's head is not refused: it
 *    overlaps (relay from two sides, a resend after a want); the held part
 *    is checked byte for byte (LOG_DUP / LOG_EFORK), the rest appended.
 *  - No separate `digest` message: `prev` carries P(prev) and the hello
 *    vector carries P(head), so every batch and every hello is a digest
 *    check of the whole prefix (P is a prefix sum over XXH3 of the bytes).
 *  - Each event of a batch must be the batch's stream at seq prev+1, prev+2,
 *    ... (checked on the bytes before anything reaches the writer).
 */
#ifndef PARKLOG_PEER_PROTO_H
#define PARKLOG_PEER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "log/event.h"

#define PEER_PROTO_VERSION	2		/* 2: role-bound handshake */
#define PEER_AUTH_LABEL		"parklog-peer-auth-2"
#define PEER_SUBPROTOCOL	"parklog-peer-1"
#define PEER_FRAME_MAX		(512 * 1024)	/* bytes of one frame */
#define PEER_BATCH_EVENTS	1000		/* events per batch at most */
#define PEER_BATCH_BYTES	(256 * 1024)	/* a sender stops a batch here */
#define PEER_CREDIT		16		/* unacked batches per stream: enough to
					   keep a receiver busy through its
					   fsync (4 left it idle half the time) */
#define PEER_NONCE_HEX		32
#define PEER_MAC_HEX		64
#define PEER_VECTOR_MAX		4096		/* streams in a hello */
#define PEER_REASON_MAX		128		/* bytes of a fork reason */
#define PEER_SECRET_MAX		128

enum peer_msg_type {
	PEER_MSG_NONE = 0, PEER_MSG_HELLO, PEER_MSG_AUTH, PEER_MSG_WANT,
	PEER_MSG_BATCH, PEER_MSG_ACK, PEER_MSG_FORK
};

/* Errors of the peers module (0 is success). */
enum {
	PEER_EPROTO = -30600,	/* malformed frame: close the connection */
	PEER_ETOOBIG,		/* frame over PEER_FRAME_MAX */
	PEER_ESPACE,		/* output buffer too small */
	PEER_EAUTH,		/* wrong MAC, unknown node, version mismatch */
	PEER_ECONF		/* invalid options */
};
const char *peer_strerror(int err);

typedef struct peer_head {
	char stream[LOG_STREAM_MAX + 1];
	uint64_t seq;
	uint64_t P;
} peer_head;

typedef struct peer_span {
	const char *p;		/* into the parsed buffer */
	size_t len;
} peer_span;

/* One parsed frame. Strings are copies; `events` point into the buffer that
 * was parsed and live as long as it; `vector` is malloc'd, sorted by stream
 * name without duplicates, and freed by peer_frame_clear. */
typedef struct peer_frame {
	enum peer_msg_type type;
	/* hello */
	int version;
	char node[LOG_ORIGIN_MAX + 1];
	char nonce[PEER_NONCE_HEX + 1];
	peer_head *vector;
	size_t nvector;
	/* auth */
	char mac[PEER_MAC_HEX + 1];
	/* want (seq = from), batch, ack (seq, P), fork (seq, reason) */
	char stream[LOG_STREAM_MAX + 1];
	uint64_t seq;
	uint64_t P;
	uint64_t prev_seq, prev_P;	/* batch */
	size_t nevents;			/* batch */
	peer_span events[PEER_BATCH_EVENTS];
	char reason[PEER_REASON_MAX + 1];
} peer_frame;

/* Parse one complete frame strictly: known type, exactly its keys, every
 * value checked (names, hex widths, 0 <= seq <= LOG_SEQ_MAX, ...), for a
 * batch 1..PEER_BATCH_EVENTS event lines of 1..LOG_EVENT_MAX bytes, each
 * of the batch's stream at the next seq. 0, PEER_ETOOBIG or PEER_EPROTO
 * with a reason in err. On error f holds nothing to free. Never crashes on
 * any input; does not need a NUL-terminated buffer. */
int peer_frame_parse(const char *buf, size_t len, peer_frame *f,
    char *err, size_t errlen);
void peer_frame_clear(peer_frame *f);

/* Encoders: write a frame into buf (no NUL needed); return its length, or
 * PEER_ESPACE. Names must be valid (they are written unescaped). A hello
 * omits streams with head 0. */
int peer_enc_hello(char *buf, size_t cap, const char *node, const char *nonce,
    const peer_head *v, size_t n);
int peer_enc_auth(char *buf, size_t cap, const char *mac);
int peer_enc_want(char *buf, size_t cap, const char *stream, uint64_t from);
/* Header only, with the trailing "\n"; the caller appends the events
 * separated by "\n" (none after the last). */
int peer_enc_batch_head(char *buf, size_t cap, const char *stream,
    uint64_t prev_seq, uint64_t prev_P, size_t n);
int peer_enc_ack(char *buf, size_t cap, const char *stream, uint64_t seq,
    uint64_t P);
/* The reason is cut to PEER_REASON_MAX and reduced to printable ASCII
 * without '"' and '\'. */
int peer_enc_fork(char *buf, size_t cap, const char *stream, uint64_t seq,
    const char *reason);

/* ---- crypto and hex ---------------------------------------------------- */

/* A fresh nonce: 16 random bytes (getrandom) as 32 lower-case hex.
 * 0 or an errno value. */
int peer_nonce(char out[PEER_NONCE_HEX + 1]);
enum peer_role { PEER_ROLE_DIALER, PEER_ROLE_LISTENER };
/* The auth MAC the side in `role` presents on the connection from `dialer`
 * to `listener` with these nonces (see above), as 64 lower-case hex. An
 * empty secret is a valid (public) HMAC key: the service allows it on a
 * loopback listener only. 0, or PEER_ECONF (invalid id or nonce). */
int peer_auth_mac(const char *secret, enum peer_role role, const char *dialer,
    const char *listener, const char *dialer_nonce, const char *listener_nonce,
    char out[PEER_MAC_HEX + 1]);
/* Constant-time comparison of two 64-hex MACs: 1 if equal. */
int peer_mac_equal(const char *a, const char *b);
/* HMAC-SHA256 of msg under key into out[32] (exposed for RFC 4231 tests). */
int peer_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char out[32]);

/* uint64 ↔ exactly 16 lower-case hex digits. Parse: 0 or PEER_EPROTO. */
void peer_hex_u64(uint64_t v, char out[17]);
int peer_parse_hex_u64(const char *s, size_t len, uint64_t *out);
/* bytes → lower-case hex (out holds 2n+1). */
void peer_hex(const unsigned char *in, size_t n, char *out);

#endif
