/* Fuzz peer_frame_parse: it must never crash; whatever it accepts must
 * survive a round trip through the encoders (same fields, accepted again). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peers/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static peer_frame f, g;
static char out[PEER_FRAME_MAX + 1024];

static int reencode(const peer_frame *p)
{
	int n = 0, k;

	switch (p->type) {
	case PEER_MSG_HELLO:
		return peer_enc_hello(out, sizeof out, p->node, p->nonce, p->vector, p->nvector);
	case PEER_MSG_AUTH:
		return peer_enc_auth(out, sizeof out, p->mac);
	case PEER_MSG_WANT:
		return peer_enc_want(out, sizeof out, p->stream, p->seq);
	case PEER_MSG_ACK:
		return peer_enc_ack(out, sizeof out, p->stream, p->seq, p->P);
	case PEER_MSG_FORK:
		return peer_enc_fork(out, sizeof out, p->stream, p->seq, p->reason);
	case PEER_MSG_BATCH:
		n = peer_enc_batch_head(out, sizeof out, p->stream, p->prev_seq, p->prev_P,
		    p->nevents);
		for (size_t i = 0; n > 0 && i < p->nevents; i++) {
			if (i > 0)
				out[n++] = '\n';
			memcpy(out + n, p->events[i].p, p->events[i].len);
			n += (int)p->events[i].len;
		}
		return n;
	default:
		k = -1;
		return k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	int n;

	if (peer_frame_parse((const char *)data, size, &f, err, sizeof err) != 0) {
		if (f.vector != NULL)
			abort();	/* nothing may leak on error */
		return 0;
	}
	n = reencode(&f);
	if (n <= 0 || peer_frame_parse(out, (size_t)n, &g, err, sizeof err) != 0)
		abort();
	if (g.type != f.type || g.seq != f.seq || g.P != f.P || g.nvector != f.nvector ||
	    g.nevents != f.nevents || g.prev_seq != f.prev_seq || g.prev_P != f.prev_P ||
	    strcmp(g.stream, f.stream) != 0 || strcmp(g.node, f.node) != 0 ||
	    strcmp(g.reason, f.reason) != 0)
		abort();
	for (size_t i = 0; i < f.nvector; i++)
		if (strcmp(f.vector[i].stream, g.vector[i].stream) != 0 ||
		    f.vector[i].seq != g.vector[i].seq || f.vector[i].P != g.vector[i].P)
			abort();
	peer_frame_clear(&f);
	peer_frame_clear(&g);
	return 0;
}
