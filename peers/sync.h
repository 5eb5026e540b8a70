/* peers/sync.h — the replication state of one peer connection and the
 * decisions taken on it. Pure: no I/O, no clock, no locks; the service owns
 * one peer_sync per authenticated connection and uses it on its thread only.
 *
 * Per stream it keeps what the peer holds as far as we know (`known`: its
 * hello, its acks, the batches it sent us), our send cursor (`sent`), the end
 * seqs of our unacked batches (credit), and on the receiving side where the
 * next batch from the peer should start (`rx_next`), our outstanding want,
 * the peer's batches still in our writer, and whether the stream is refused
 * for a fork. "mine" is our version vector, sorted by stream name.
 */
#ifndef PARKLOG_PEER_SYNC_H
#define PARKLOG_PEER_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "peers/proto.h"

typedef struct peer_sync_stream {
	char name[LOG_STREAM_MAX + 1];
	uint64_t known;			/* the peer holds up to here */
	uint64_t sent;			/* our last seq sent */
	uint64_t inflight[PEER_CREDIT];	/* end seqs of unacked batches, ascending */
	unsigned ninflight;
	uint64_t rx_next;		/* prev of the next batch we expect */
	uint64_t want_from;		/* our outstanding want; 0: none */
	unsigned rx_jobs;		/* its batches in our writer */
	int forked;			/* refused: same seq, other bytes */
	uint64_t fork_seq;
	int fork_tell;			/* a fork frame is still to be sent */
} peer_sync_stream;

typedef struct peer_sync {
	peer_sync_stream *s;		/* sorted by name */
	size_t n, cap;
	size_t rr;			/* round-robin start of peer_sync_next */
} peer_sync;

/* What to do with a batch received (peer_sync_batch). */
enum peer_rx {
	PEER_RX_SUBMIT = 0,	/* hand it to the writer */
	PEER_RX_WANT,		/* send want(*want_from); drop the batch */
	PEER_RX_IGNORE,		/* a want is outstanding: drop silently */
	PEER_RX_REFUSE,		/* stream forked with this peer: drop */
	PEER_RX_FLOOD		/* over credit: protocol violation, close */
};

/* The writer's verdict on a batch (set by the service's job). */
enum peer_verdict {
	PEER_V_APPENDED = 0,	/* appended and/or already held: head is new */
	PEER_V_GAP,		/* prev beyond our head */
	PEER_V_FORK,		/* P(prev) or an event's bytes differ */
	PEER_V_BAD,		/* an event failed strict decoding */
	PEER_V_FAILED		/* the commit failed: nothing kept */
};

/* What to answer after the writer's verdict (peer_sync_rx_done). */
enum peer_reply {
	PEER_REPLY_NONE = 0, PEER_REPLY_ACK, PEER_REPLY_WANT, PEER_REPLY_FORK,
	PEER_REPLY_CLOSE
};

void peer_sync_init(peer_sync *ps);
void peer_sync_free(peer_sync *ps);

/* The stream's state; created (zeroed) if create and absent. NULL if absent
 * (or out of memory). Valid until the next call that creates a stream. */
peer_sync_stream *peer_sync_get(peer_sync *ps, const char *stream, int create);

/* The peer's hello: it holds `their` (sorted); our sending starts there. A
 * stream at the same seq with another P is forked (fork_tell set). Returns
 * the number of forks found, or ENOMEM. */
int peer_sync_hello(peer_sync *ps, const peer_head *their, size_t n,
    const peer_head *mine, size_t m);

/* A batch (prev_seq, n events) arrived; my_head is our committed head of the
 * stream. Updates the cursors; *want_from is set for PEER_RX_WANT. */
enum peer_rx peer_sync_batch(peer_sync *ps, const char *stream,
    uint64_t prev_seq, size_t n, uint64_t my_head, uint64_t *want_from);

/* The writer is done with a batch: head is our head of the stream after it
 * (for GAP/FAILED: the committed head). *want_from for PEER_REPLY_WANT. */
enum peer_reply peer_sync_rx_done(peer_sync *ps, const char *stream,
    enum peer_verdict v, uint64_t head, uint64_t *want_from);

/* The peer acked (holds up to seq): frees credit, raises `known`. */
void peer_sync_ack(peer_sync *ps, const char *stream, uint64_t seq);
/* The peer wants seq >= from: resend from there (it holds from - 1). */
int peer_sync_want(peer_sync *ps, const char *stream, uint64_t from);
/* The peer reports a fork of the stream: stop sending it. */
int peer_sync_fork(peer_sync *ps, const char *stream, uint64_t seq);

/* The next batch to send given our vector: 1 with mine[*idx] and the seq
 * range [*from, *to] (at most PEER_BATCH_EVENTS), or 0 if nothing is due
 * (all sent or no credit). Round-robin over streams. */
int peer_sync_next(peer_sync *ps, const peer_head *mine, size_t m,
    size_t *idx, uint64_t *from, uint64_t *to);
/* A batch of the stream ending at `end` went out. */
void peer_sync_sent(peer_sync *ps, const char *stream, uint64_t end);

/* Events of ours the peer is not known to hold (lag), summed over streams. */
uint64_t peer_sync_lag(peer_sync *ps, const peer_head *mine, size_t m);
/* 1 if we wait for nothing from it: no outstanding want, no jobs. */
int peer_sync_idle(const peer_sync *ps);

#endif
