/* peers/sync: every decision of the per-connection replication state. */
#include "tests/harness/t.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peers/sync.h"

#define A "central-1:000000000000000a"
#define B "central-2:000000000000000b"
#define C "central-3:000000000000000c"

static peer_sync ps;

static void setup(void)
{
	peer_sync_init(&ps);
}

/* mine: A at 2500, B at 10, C at 0 (sorted by name). */
static peer_head mine[3] = { { A, 2500, 0xa }, { B, 10, 0xb }, { C, 0, 0 } };

TEST(hello_sets_cursors_and_detects_equal_seq_fork)
{
	peer_head their[2] = { { A, 2500, 0xdead }, { B, 4, 0x4 } };
	peer_sync_stream *st;

	setup();
	T_EQ_INT(1, peer_sync_hello(&ps, their, 2, mine, 3));
	st = peer_sync_get(&ps, A, 0);
	T_ASSERT(st && st->forked && st->fork_tell);
	T_EQ_U64(2500, st->fork_seq);
	st = peer_sync_get(&ps, B, 0);
	T_ASSERT(st && !st->forked);
	T_EQ_U64(4, st->known);
	T_EQ_U64(4, st->sent);
	T_ASSERT(peer_sync_get(&ps, C, 0) == NULL);
	peer_sync_free(&ps);
}

TEST(next_sends_from_their_head_with_credit)
{
	peer_head their[1] = { { B, 4, 0x4 } };
	size_t idx;
	uint64_t from, to;

	setup();
	T_EQ_INT(0, peer_sync_hello(&ps, their, 1, mine, 3));
	/* round robin: A first (1..1000), then B (5..10), then A again */
	T_EQ_INT(1, peer_sync_next(&ps, mine, 3, &idx, &from, &to));
	T_EQ_INT(0, idx);
	T_EQ_U64(1, from);
	T_EQ_U64(1000, to);
	peer_sync_sent(&ps, A, 1000);
	T_EQ_INT(1, peer_sync_next(&ps, mine, 3, &idx, &from, &to));
	T_EQ_INT(1, idx);
	T_EQ_U64(5, from);
	T_EQ_U64(10, to);
	peer_sync_sent(&ps, B, 10);
	T_EQ_INT(1, peer_sync_next(&ps, mine, 3, &idx, &from, &to));
	T_EQ_INT(0, idx);
	T_EQ_U64(1001, from);
	T_EQ_U64(2000, to);
	peer_sync_sent(&ps, A, 2000);
	T_EQ_INT(1, peer_sync_next(&ps, mine, 3, &idx, &from, &to));
	T_EQ_U64(2001, from);
	T_EQ_U64(2500, to);
	peer_sync_sent(&ps, A, 2500);
	T_EQ_INT(0, peer_sync_next(&ps, mine, 3, &idx, &from, &to));
	T_EQ_U64(2500 + 6, peer_sync_lag(&ps, mine, 3));
	peer_sync_ack(&ps, A, 2500);
	peer_sync_ack(&ps, B, 10);
	T_EQ_U64(0, peer_sync_lag(&ps, mine, 3));
	peer_sync_free(&ps);
}

TEST(credit_limits_unacked_batches)
{
	peer_head big[1] = { { A, 100000, 1 } };
	size_t idx;
	uint64_t from, to, end = 0;

	setup();
	for (int i = 0; i < PEER_CREDIT; i++) {
		T_EQ_INT(1, peer_sync_next(&ps, big, 1, &idx, &from, &to));
		T_EQ_U64(end + 1, from);
		end = to;
		peer_sync_sent(&ps, A, to);
	}
	T_EQ_INT(0, peer_sync_next(&ps, big, 1, &idx, &from, &to));
	peer_sync_ack(&ps, A, 1000);		/* frees one */
	T_EQ_INT(1, peer_sync_next(&ps, big, 1, &idx, &from, &to));
	T_EQ_U64(end + 1, from);
	peer_sync_sent(&ps, A, to);
	T_EQ_INT(0, peer_sync_next(&ps, big, 1, &idx, &from, &to));
	peer_sync_ack(&ps, A, 3500);		/* frees the batches ending <= 3500 */
	T_EQ_INT(PEER_CREDIT - 2, peer_sync_get(&ps, A, 0)->ninflight);
	peer_sync_ack(&ps, A, 90000);		/* it got them elsewhere: skip ahead */
	T_EQ_INT(1, peer_sync_next(&ps, big, 1, &idx, &from, &to));
	T_EQ_U64(90001, from);
	peer_sync_free(&ps);
}

TEST(want_resets_cursor_and_credit)
{
	peer_head big[1] = { { A, (PEER_CREDIT + 1) * 1000, 1 } };
	size_t idx;
	uint64_t from, to;

	setup();
	for (int i = 0; i < PEER_CREDIT; i++) {
		T_EQ_INT(1, peer_sync_next(&ps, big, 1, &idx, &from, &to));
		peer_sync_sent(&ps, A, to);
	}
	T_EQ_INT(0, peer_sync_want(&ps, A, 1001));
	T_EQ_INT(1, peer_sync_next(&ps, big, 1, &idx, &from, &to));
	T_EQ_U64(1001, from);
	T_EQ_U64(2000, to);
	peer_sync_free(&ps);
}

TEST(batch_received_is_never_echoed)
{
	peer_head m[1] = { { A, 3000, 1 } };
	size_t idx;
	uint64_t from, to, w;

	setup();
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 0, 1000, 0, &w));
	/* our vector now holds them (committed), the peer holds them too */
	T_EQ_INT(1, peer_sync_next(&ps, m, 1, &idx, &from, &to));
	T_EQ_U64(1001, from);
	peer_sync_free(&ps);
}

/* Receiving: the verdict table. */
TEST(batch_verdicts)
{
	uint64_t w = 0;
	peer_sync_stream *st;

	setup();
	const uint64_t end = PEER_CREDIT * 1000, gap = end + 5000;

	/* in order, pipelined before commits: all submitted */
	for (uint64_t prev = 0; prev < end; prev += 1000)
		T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, prev, 1000, 0, &w));
	/* one unacked batch more than the credit: flood */
	T_EQ_INT(PEER_RX_FLOOD, peer_sync_batch(&ps, A, end, 1000, 0, &w));
	T_EQ_INT(PEER_REPLY_ACK, peer_sync_rx_done(&ps, A, PEER_V_APPENDED, 1000, &w));
	/* a gap: want from our expected head + 1, once */
	T_EQ_INT(PEER_RX_WANT, peer_sync_batch(&ps, A, gap, 10, 1000, &w));
	T_EQ_U64(end + 1, w);
	T_EQ_INT(PEER_RX_IGNORE, peer_sync_batch(&ps, A, gap + 10, 10, 1000, &w));
	/* behind / overlapping: submitted (the writer checks the held part) */
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 500, 1000, 1000, &w));
	st = peer_sync_get(&ps, A, 0);
	T_EQ_U64(0, st->want_from);		/* the answer has begun */
	peer_sync_free(&ps);
}

TEST(rx_done_replies)
{
	uint64_t w = 0;

	setup();
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 0, 10, 0, &w));
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 10, 10, 0, &w));
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 20, 10, 0, &w));
	/* the first failed to commit: want from the committed head, once */
	T_EQ_INT(PEER_REPLY_WANT, peer_sync_rx_done(&ps, A, PEER_V_FAILED, 0, &w));
	T_EQ_U64(1, w);
	T_EQ_INT(PEER_REPLY_NONE, peer_sync_rx_done(&ps, A, PEER_V_GAP, 0, &w));
	T_EQ_INT(PEER_REPLY_NONE, peer_sync_rx_done(&ps, A, PEER_V_GAP, 0, &w));
	T_EQ_INT(0, peer_sync_get(&ps, A, 0)->rx_jobs);
	/* a later batch from 30 is still a gap: already asked */
	T_EQ_INT(PEER_RX_IGNORE, peer_sync_batch(&ps, A, 30, 10, 0, &w));
	/* the answer arrives, gets appended, acked */
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 0, 40, 0, &w));
	T_EQ_INT(PEER_REPLY_ACK, peer_sync_rx_done(&ps, A, PEER_V_APPENDED, 40, &w));
	T_EQ_INT(1, peer_sync_idle(&ps));
	/* unknown stream: nothing */
	T_EQ_INT(PEER_REPLY_NONE, peer_sync_rx_done(&ps, B, PEER_V_APPENDED, 1, &w));
	/* bad bytes: close */
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 40, 1, 40, &w));
	T_EQ_INT(PEER_REPLY_CLOSE, peer_sync_rx_done(&ps, A, PEER_V_BAD, 40, &w));
	peer_sync_free(&ps);
}

TEST(fork_refuses_the_stream_both_ways)
{
	peer_head m[2] = { { A, 50, 1 }, { B, 5, 2 } };
	size_t idx;
	uint64_t w = 0, from, to;

	setup();
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 0, 10, 0, &w));
	T_EQ_INT(PEER_RX_SUBMIT, peer_sync_batch(&ps, A, 10, 10, 0, &w));	/* in flight */
	T_EQ_INT(PEER_REPLY_FORK, peer_sync_rx_done(&ps, A, PEER_V_FORK, 0, &w));
	T_EQ_INT(PEER_REPLY_NONE, peer_sync_rx_done(&ps, A, PEER_V_FORK, 0, &w));
	T_EQ_INT(PEER_RX_REFUSE, peer_sync_batch(&ps, A, 0, 10, 0, &w));
	/* and we stop sending it: only B goes out */
	T_EQ_INT(1, peer_sync_next(&ps, m, 2, &idx, &from, &to));
	T_EQ_INT(1, idx);
	peer_sync_sent(&ps, B, 5);
	T_EQ_INT(0, peer_sync_next(&ps, m, 2, &idx, &from, &to));
	/* a fork reported by the peer does the same */
	T_EQ_INT(0, peer_sync_fork(&ps, B, 3));
	T_ASSERT(peer_sync_get(&ps, B, 0)->forked);
	T_EQ_U64(0, peer_sync_lag(&ps, m, 2));
	peer_sync_free(&ps);
}

TEST(many_streams_stay_sorted)
{
	char name[64];

	setup();
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof name, "c%03d:%016x", i, i);
		T_ASSERT(peer_sync_get(&ps, name, 1) != NULL);
	}
	T_EQ_INT(1000, ps.n);
	for (size_t i = 1; i < ps.n; i++)
		T_ASSERT(strcmp(ps.s[i - 1].name, ps.s[i].name) < 0);
	T_ASSERT(peer_sync_get(&ps, "c500:00000000000001f4", 0) != NULL);
	peer_sync_free(&ps);
}

/* The credit bounds are assertions (msg_assert aborts with file:line): a
 * verdict for a batch never handed to the writer, and a batch sent without
 * credit, abort instead of counting below zero or past PEER_CREDIT. */
/* 1 if fn aborts (SIGABRT) in a child process; its stderr is dropped. */
static int aborts(void (*fn)(void))
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		fn();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void rx_done_without_batch(void)
{
	uint64_t w = 0;

	setup();
	peer_sync_get(&ps, A, 1);
	peer_sync_rx_done(&ps, A, PEER_V_APPENDED, 0, &w);
}

static void sent_without_credit(void)
{
	setup();
	for (uint64_t i = 1; i <= PEER_CREDIT + 1; i++)
		peer_sync_sent(&ps, A, i);
}

TEST(credit_bounds_asserted)
{
	T_ASSERT(aborts(rx_done_without_batch));
	T_ASSERT(aborts(sent_without_credit));
}

T_MAIN()
