/* peers/sync.c — per-connection replication state: pure decisions. */
#include "peers/sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"

static uint64_t peer__max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void peer_sync_init(peer_sync *ps)
{
	memset(ps, 0, sizeof *ps);
}

void peer_sync_free(peer_sync *ps)
{
	free(ps->s);
	memset(ps, 0, sizeof *ps);
}

/* Index of the first stream >= name (binary search). */
static size_t peer__lower(const peer_sync *ps, const char *name)
{
	size_t lo = 0, hi = ps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ps->s[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

peer_sync_stream *peer_sync_get(peer_sync *ps, const char *stream, int create)
{
	size_t i = peer__lower(ps, stream);
	peer_sync_stream *st;

	if (i < ps->n && strcmp(ps->s[i].name, stream) == 0)
		return &ps->s[i];
	if (!create || strlen(stream) > LOG_STREAM_MAX)
		return NULL;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		peer_sync_stream *s = realloc(ps->s, cap * sizeof *s);

		if (s == NULL)
			return NULL;
		ps->s = s;
		ps->cap = cap;
	}
	memmove(&ps->s[i + 1], &ps->s[i], (ps->n - i) * sizeof *ps->s);
	ps->n++;
	st = &ps->s[i];
	memset(st, 0, sizeof *st);
	memcpy(st->name, stream, strlen(stream) + 1);
	return st;
}

static const peer_head *peer__find(const peer_head *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].stream, name);

		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int peer_sync_hello(peer_sync *ps, const peer_head *their, size_t n,
    const peer_head *mine, size_t m)
{
	int forks = 0;

	for (size_t i = 0; i < n; i++) {
		peer_sync_stream *st = peer_sync_get(ps, their[i].stream, 1);
		const peer_head *h = peer__find(mine, m, their[i].stream);

		if (st == NULL)
			return ENOMEM;
		st->known = their[i].seq;
		st->sent = their[i].seq;
		if (h != NULL && h->seq == their[i].seq && h->P != their[i].P &&
		    !st->forked) {
			st->forked = st->fork_tell = 1;
			st->fork_seq = h->seq;
			forks++;
		}
	}
	return forks;
}

enum peer_rx peer_sync_batch(peer_sync *ps, const char *stream,
    uint64_t prev_seq, size_t n, uint64_t my_head, uint64_t *want_from)
{
	peer_sync_stream *st = peer_sync_get(ps, stream, 1);
	uint64_t eff;

	if (st == NULL)
		return PEER_RX_FLOOD;	/* out of memory: shed the connection */
	if (st->forked)
		return PEER_RX_REFUSE;
	/* it holds what it sends us: never echo it back */
	st->known = peer__max(st->known, prev_seq + n);
	eff = peer__max(st->rx_next, my_head);
	if (prev_seq > eff) {
		if (st->want_from == eff + 1)
			return PEER_RX_IGNORE;
		st->want_from = *want_from = eff + 1;
		return PEER_RX_WANT;
	}
	if (st->rx_jobs >= PEER_CREDIT)
		return PEER_RX_FLOOD;
	st->want_from = 0;	/* the answer to our want has begun */
	st->rx_jobs++;
	msg_assert(st->rx_jobs <= PEER_CREDIT);
	st->rx_next = peer__max(st->rx_next, prev_seq + n);
	return PEER_RX_SUBMIT;
}

enum peer_reply peer_sync_rx_done(peer_sync *ps, const char *stream,
    enum peer_verdict v, uint64_t head, uint64_t *want_from)
{
	peer_sync_stream *st = peer_sync_get(ps, stream, 0);

	if (st == NULL)
		return PEER_REPLY_NONE;
	/* a verdict for a batch we handed to the writer: never below zero */
	msg_assert(st->rx_jobs > 0 && st->rx_jobs <= PEER_CREDIT);
	st->rx_jobs--;
	switch (v) {
	case PEER_V_APPENDED:
		return st->forked ? PEER_REPLY_NONE : PEER_REPLY_ACK;
	case PEER_V_GAP:
	case PEER_V_FAILED:
		st->rx_next = head;
		if (st->forked || st->want_from == head + 1)
			return PEER_REPLY_NONE;
		st->want_from = *want_from = head + 1;
		return PEER_REPLY_WANT;
	case PEER_V_FORK:
		if (st->forked)
			return PEER_REPLY_NONE;
		st->forked = 1;
		st->fork_seq = head + 1;
		return PEER_REPLY_FORK;
	default:
		return PEER_REPLY_CLOSE;
	}
}

void peer_sync_ack(peer_sync *ps, const char *stream, uint64_t seq)
{
	peer_sync_stream *st = peer_sync_get(ps, stream, 1);
	unsigned k = 0;

	if (st == NULL)
		return;
	msg_assert(st->ninflight <= PEER_CREDIT);
	st->known = peer__max(st->known, seq);
	while (k < st->ninflight && st->inflight[k] <= seq)
		k++;
	memmove(st->inflight, st->inflight + k, (st->ninflight - k) * sizeof *st->inflight);
	st->ninflight -= k;
}

int peer_sync_want(peer_sync *ps, const char *stream, uint64_t from)
{
	peer_sync_stream *st = peer_sync_get(ps, stream, 1);

	if (st == NULL)
		return ENOMEM;
	/* its word beats our inference (its commit may have failed) */
	st->known = st->sent = from - 1;
	st->ninflight = 0;
	return 0;
}

int peer_sync_fork(peer_sync *ps, const char *stream, uint64_t seq)
{
	peer_sync_stream *st = peer_sync_get(ps, stream, 1);

	if (st == NULL)
		return ENOMEM;
	if (!st->forked) {
		st->forked = 1;
		st->fork_seq = seq;
	}
	return 0;
}

int peer_sync_next(peer_sync *ps, const peer_head *mine, size_t m,
    size_t *idx, uint64_t *from, uint64_t *to)
{
	for (size_t k = 0; k < m; k++) {
		size_t i = (ps->rr + k) % m;
		peer_sync_stream *st = peer_sync_get(ps, mine[i].stream, 1);
		uint64_t f;

		if (st == NULL)
			return 0;
		f = peer__max(st->sent, st->known) + 1;
		if (st->forked || f > mine[i].seq || st->ninflight >= PEER_CREDIT)
			continue;
		*idx = i;
		*from = f;
		*to = mine[i].seq - f + 1 > PEER_BATCH_EVENTS ?
		    f + PEER_BATCH_EVENTS - 1 : mine[i].seq;
		ps->rr = i + 1;
		return 1;
	}
	return 0;
}

void peer_sync_sent(peer_sync *ps, const char *stream, uint64_t end)
{
	peer_sync_stream *st = peer_sync_get(ps, stream, 1);

	if (st == NULL)
		return;
	/* peer_sync_next gave no batch without credit; batches only go forward */
	msg_assert(st->ninflight < PEER_CREDIT);
	msg_assert(end > st->sent && (st->ninflight == 0 ||
	    st->inflight[st->ninflight - 1] < end));
	st->sent = end;
	st->inflight[st->ninflight++] = end;
}

uint64_t peer_sync_lag(peer_sync *ps, const peer_head *mine, size_t m)
{
	uint64_t lag = 0;

	for (size_t i = 0; i < m; i++) {
		peer_sync_stream *st = peer_sync_get(ps, mine[i].stream, 0);
		uint64_t k = st ? st->known : 0;

		if (st != NULL && st->forked)
			continue;
		if (mine[i].seq > k)
			lag += mine[i].seq - k;
	}
	return lag;
}

int peer_sync_idle(const peer_sync *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->s[i].want_from != 0 || ps->s[i].rx_jobs != 0)
			return 0;
	return 1;
}
