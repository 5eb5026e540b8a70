/* peers/service: several centrals in one process, each with its own store,
 * projections, writer and peer service on a loopback port. */
#include "tests/harness/t.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "peers/internal.h"
#include "tests/unit/peers/node.h"

#define WAIT_MS 10000

static tnode N[3];

static void dir_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", t_tmpdir, name);
}

/* Open n nodes, create their services, wire the given links (pairs of
 * indices), start everything. */
static void cluster(size_t n, const int links[][2], size_t nlinks)
{
	static const char *names[3] = { "central-1", "central-2", "central-3" };
	char dir[600];

	peer_lws_messages(0);
	for (size_t i = 0; i < n; i++) {
		dir_of(dir, sizeof dir, names[i]);
		tnode_open(&N[i], names[i], dir, LOG_DURABLE_NONE);
		T_EQ_INT(0, tnode_svc_create(&N[i], 0));
		tnode_writer_start(&N[i]);
	}
	for (size_t i = 0; i < n; i++) {
		tnode *pp[3];
		size_t np = 0;

		for (size_t l = 0; l < nlinks; l++) {
			if (links[l][0] == (int)i)
				pp[np++] = &N[links[l][1]];
			else if (links[l][1] == (int)i)
				pp[np++] = &N[links[l][0]];
		}
		tnode_peers(&N[i], pp, np);
	}
	for (size_t i = 0; i < n; i++)
		tnode_svc_start(&N[i]);
}

static void entries(tnode *n, const char *prefix, int count)
{
	char plate[16];

	for (int i = 0; i < count; i++) {
		snprintf(plate, sizeof plate, "%s%04d", prefix, i);
		T_EQ_INT(0, tnode_gate(n, LOG_EV_ENTRY_PENDING, plate, NULL, 0, NULL));
	}
}

static int wait_connected(tnode *a, tnode *b, int ms)
{
	for (int w = 0; w < ms; w += 10) {
		if (tnode_status(a, b->origin).connected && tnode_status(b, a->origin).connected)
			return 1;
		usleep(10000);
	}
	return 0;
}

TEST(live_push_both_ways)
{
	static const int links[][2] = { { 0, 1 } };
	tnode *ns[2] = { &N[0], &N[1] };
	peer_status st;

	cluster(2, links, 1);
	T_ASSERT(wait_connected(&N[0], &N[1], WAIT_MS));
	entries(&N[0], "29A", 20);
	entries(&N[1], "30B", 7);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	tview v = tnode_view(&N[1]);
	T_EQ_U64(27, tview_events(&v));
	T_EQ_U64(27, v.sum.inside);
	free(v.st);
	usleep(600 * 1000);	/* a status tick */
	st = tnode_status(&N[0], "central-2");
	T_EQ_INT(1, st.connected);
	/* sent may count twice if both dials won the race for a moment;
	 * received counts what was appended, exactly once */
	T_ASSERT(st.events_sent >= 20);
	T_EQ_U64(7, st.events_received);
	T_EQ_U64(0, st.lag);
	T_ASSERT(st.last_sync_ms > 0);
	/* exactly one connection per pair, whoever dialed */
	T_EQ_INT(1, st.dialed != tnode_status(&N[1], "central-1").dialed);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

TEST(catch_up_after_late_start)
{
	static const int links[][2] = { { 0, 1 } };
	tnode *ns[2] = { &N[0], &N[1] };
	char dir[600];

	peer_lws_messages(0);
	dir_of(dir, sizeof dir, "a");
	tnode_open(&N[0], "central-1", dir, LOG_DURABLE_NONE);
	T_EQ_INT(0, tnode_svc_create(&N[0], 0));
	tnode_writer_start(&N[0]);
	entries(&N[0], "51F", 3000);	/* three batches and more */
	dir_of(dir, sizeof dir, "b");
	tnode_open(&N[1], "central-2", dir, LOG_DURABLE_NONE);
	T_EQ_INT(0, tnode_svc_create(&N[1], 0));
	tnode_writer_start(&N[1]);
	entries(&N[1], "77K", 5);
	(void)links;
	tnode *p0 = &N[1], *p1 = &N[0];
	tnode_peers(&N[0], &p0, 1);
	tnode_peers(&N[1], &p1, 1);
	tnode_svc_start(&N[0]);
	tnode_svc_start(&N[1]);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	tview v = tnode_view(&N[1]);
	T_EQ_U64(3005, tview_events(&v));
	free(v.st);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

TEST(relay_over_a_line)
{
	static const int links[][2] = { { 0, 1 }, { 1, 2 } };	/* no 1-3 link */
	tnode *ns[3] = { &N[0], &N[1], &N[2] };

	cluster(3, links, 2);
	entries(&N[0], "11A", 50);
	entries(&N[2], "33C", 30);
	T_ASSERT(tnodes_wait(ns, 3, WAIT_MS));
	tview v = tnode_view(&N[2]);
	T_EQ_U64(80, tview_events(&v));
	free(v.st);
	T_EQ_INT(0, tnode_status(&N[0], "central-3").connected);	/* not configured */
	/* nothing echoed back: 1 received only 3's events, via 2 */
	usleep(600 * 1000);
	T_EQ_U64(30, tnode_status(&N[0], "central-2").events_received);
	T_EQ_U64(50, tnode_status(&N[2], "central-2").events_received);
	for (int i = 2; i >= 0; i--)
		tnode_close(&N[i]);
}

static int count_conflicts(void *ctx, const proj_session *s)
{
	(void)s;
	(*(int *)ctx)++;
	return 0;
}

TEST(partition_and_heal_double_entry)
{
	static const int links[][2] = { { 0, 1 } };
	tnode *ns[2] = { &N[0], &N[1] };
	log_event e0, e1;
	int port1;

	cluster(2, links, 1);
	entries(&N[0], "40P", 10);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	/* cut: central-2's service stops, both sides keep taking gates */
	port1 = N[1].port;
	tnode_svc_stop(&N[1]);
	T_EQ_INT(0, tnode_gate(&N[0], LOG_EV_ENTRY_PENDING, "99X12345", NULL, 0, &e0));
	usleep(5000);
	T_EQ_INT(0, tnode_gate(&N[1], LOG_EV_ENTRY_PENDING, "99X12345", NULL, 0, &e1));
	entries(&N[0], "41Q", 20);
	entries(&N[1], "42R", 20);
	T_EQ_INT(0, tnode_gate(&N[1], LOG_EV_EXIT, "40P0003", NULL, 25000, NULL));
	T_ASSERT(!tnodes_converged(ns, 2));
	/* heal: the same listener again */
	T_EQ_INT(0, tnode_svc_create(&N[1], port1));
	tnode *p = &N[0];
	tnode_peers(&N[1], &p, 1);
	tnode_svc_start(&N[1]);
	T_ASSERT(tnodes_wait(ns, 2, 15000));
	for (int i = 0; i < 2; i++) {
		tview v = tnode_view(&N[i]);
		log_txn *t;
		int c = 0;

		T_EQ_U64(10 + 20 + 20 + 3, tview_events(&v));
		T_ASSERT(v.sum.conflicts >= 1);
		T_EQ_INT(0, log_txn_begin(N[i].s, 0, &t));
		T_EQ_INT(0, proj_each_conflict(N[i].p, t, count_conflicts, &c));
		log_txn_abort(t);
		T_ASSERT(c >= 1);
		/* the plate is inside once: 10 + 20 + 20 + 1, less the exit */
		T_EQ_U64(10 + 20 + 20 + 1 - 1, v.sum.inside);
		free(v.st);
	}
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* A stream neither node wrote, with different bytes at one position. */
static void ghost(tnode *n, int count, int odd_at)
{
	log_txn *t;
	log_event e;
	char buf[LOG_EVENT_MAX], err[200];

	T_EQ_INT(0, log_txn_begin(n->s, 1, &t));
	for (int i = 1; i <= count; i++) {
		int len;

		memset(&e, 0, sizeof e);
		e.type = LOG_EV_ENTRY_PENDING;
		snprintf(e.origin, sizeof e.origin, "central-9");
		e.epoch = 9;
		e.seq = (uint64_t)i;
		e.ts = 1764547200000LL + i;
		snprintf(e.plate, sizeof e.plate, i == odd_at ? "66Z%05d" : "55G%05d", i);
		snprintf(e.plate_view, sizeof e.plate_view, "%s", e.plate);
		snprintf(e.vehicle, sizeof e.vehicle, "car");
		snprintf(e.edge_id, sizeof e.edge_id, "edge-9");
		e.entry_ts = e.duration_s = -1;
		log_event_id(e.id, e.origin, e.ts, e.plate);
		snprintf(e.session, sizeof e.session, "%s", e.id);
		len = log_event_encode(&e, buf, sizeof buf);
		T_ASSERT(len > 0);
		T_EQ_INT(0, log_txn_append_peer(t, buf, (size_t)len, err, sizeof err));
	}
	T_EQ_INT(0, log_txn_commit(t));
}

static uint64_t ghost_P(tnode *n)
{
	log_txn *t;
	log_stream_info si;

	T_EQ_INT(0, log_txn_begin(n->s, 0, &t));
	T_EQ_INT(0, log_txn_stream_find(t, "central-9:0000000000000009", &si));
	log_txn_abort(t);
	return si.head_P;
}

TEST(fork_refused_and_reported)
{
	char dir[600];
	uint64_t pa, pb;

	peer_lws_messages(0);
	dir_of(dir, sizeof dir, "a");
	tnode_open(&N[0], "central-1", dir, LOG_DURABLE_NONE);
	dir_of(dir, sizeof dir, "b");
	tnode_open(&N[1], "central-2", dir, LOG_DURABLE_NONE);
	ghost(&N[0], 5, 0);		/* 1..5 */
	ghost(&N[1], 3, 3);		/* 1..3, the 3rd differs */
	pa = ghost_P(&N[0]);
	pb = ghost_P(&N[1]);
	for (int i = 0; i < 2; i++) {
		T_EQ_INT(0, tnode_svc_create(&N[i], 0));
		tnode_writer_start(&N[i]);
	}
	tnode *p0 = &N[1], *p1 = &N[0];
	tnode_peers(&N[0], &p0, 1);
	tnode_peers(&N[1], &p1, 1);
	tnode_svc_start(&N[0]);
	tnode_svc_start(&N[1]);
	entries(&N[0], "12A", 5);
	entries(&N[1], "34B", 5);
	for (int w = 0; w < WAIT_MS && (tnode_status(&N[0], "central-2").nforks == 0 ||
	    tnode_status(&N[1], "central-1").nforks == 0); w += 10)
		usleep(10000);
	T_EQ_INT(1, tnode_status(&N[0], "central-2").nforks);
	T_EQ_INT(1, tnode_status(&N[1], "central-1").nforks);
	T_EQ_STR("central-9:0000000000000009", tnode_status(&N[1], "central-1").forks[0]);
	/* nothing overwritten, and the other streams still flow */
	usleep(300 * 1000);
	T_EQ_U64(pa, ghost_P(&N[0]));
	T_EQ_U64(pb, ghost_P(&N[1]));
	for (int w = 0; w < WAIT_MS; w += 10) {
		tview a = tnode_view(&N[0]), b = tnode_view(&N[1]);
		uint64_t ea = tview_events(&a), eb = tview_events(&b);

		free(a.st);
		free(b.st);
		if (ea == 5 + 5 + 5 && eb == 3 + 5 + 5)
			break;
		usleep(10000);
	}
	tview a = tnode_view(&N[0]), b = tnode_view(&N[1]);
	T_EQ_U64(15, tview_events(&a));
	T_EQ_U64(13, tview_events(&b));
	free(a.st);
	free(b.st);

	/* Restarted, with each other configured: the fork is still reported
	 * (from the progress record) and the stream still refused, while new
	 * events flow. */
	int port[2] = { N[0].port, N[1].port };
	const char *id[2] = { "central-1", "central-2" }, *sub[2] = { "a", "b" };

	tnode_close(&N[0]);
	tnode_close(&N[1]);
	for (int i = 0; i < 2; i++) {
		peer_addr other = { "", "127.0.0.1", port[1 - i] };
		peer_opts po = { .listen_host = "127.0.0.1", .listen_port = port[i],
		    .secret = N[i].secret, .ping_s = 1, .hangup_s = 3, .peers = &other,
		    .npeers = 1 };

		snprintf(other.id, sizeof other.id, "%s", id[1 - i]);
		dir_of(dir, sizeof dir, sub[i]);
		tnode_open(&N[i], id[i], dir, LOG_DURABLE_NONE);
		T_EQ_INT(0, peer_service_create(N[i].s, N[i].p, &po, &N[i].svc));
		N[i].port = port[i];
	}
	T_EQ_INT(1, tnode_status(&N[1], "central-1").nforks);
	T_EQ_STR("central-9:0000000000000009", tnode_status(&N[1], "central-1").forks[0]);
	for (int i = 0; i < 2; i++)
		tnode_writer_start(&N[i]);
	tnode_svc_start(&N[0]);
	tnode_svc_start(&N[1]);
	entries(&N[0], "56C", 3);
	for (int w = 0; w < WAIT_MS; w += 10) {
		tview bb = tnode_view(&N[1]);
		uint64_t eb = tview_events(&bb);

		free(bb.st);
		if (eb == 13 + 3)
			break;
		usleep(10000);
	}
	b = tnode_view(&N[1]);
	T_EQ_U64(13 + 3, tview_events(&b));
	free(b.st);
	usleep(300 * 1000);
	T_EQ_U64(pa, ghost_P(&N[0]));
	T_EQ_U64(pb, ghost_P(&N[1]));
	T_EQ_INT(1, tnode_status(&N[1], "central-1").nforks);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

TEST(wrong_secret_refused)
{
	char dir[600];

	peer_lws_messages(0);
	for (int i = 0; i < 2; i++) {
		dir_of(dir, sizeof dir, i ? "b" : "a");
		tnode_open(&N[i], i ? "central-2" : "central-1", dir, LOG_DURABLE_NONE);
	}
	snprintf(N[1].secret, sizeof N[1].secret, "not-the-facility-secret");
	for (int i = 0; i < 2; i++) {
		T_EQ_INT(0, tnode_svc_create(&N[i], 0));
		tnode_writer_start(&N[i]);
	}
	tnode *p0 = &N[1], *p1 = &N[0];
	tnode_peers(&N[0], &p0, 1);
	tnode_peers(&N[1], &p1, 1);
	tnode_svc_start(&N[0]);
	tnode_svc_start(&N[1]);
	entries(&N[0], "12A", 3);
	/* Each side finds the other's MAC wrong on its own time: wait for both. */
	for (int w = 0; w < WAIT_MS && (tnode_status(&N[0], "central-2").auth_failures == 0 ||
	    tnode_status(&N[1], "central-1").auth_failures == 0); w += 10)
		usleep(10000);
	T_ASSERT(tnode_status(&N[0], "central-2").auth_failures > 0);
	T_ASSERT(tnode_status(&N[1], "central-1").auth_failures > 0);
	T_EQ_INT(0, tnode_status(&N[0], "central-2").connected);
	tview b = tnode_view(&N[1]);
	T_EQ_U64(0, tview_events(&b));
	free(b.st);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* ---- handshake attacks (tests/unit/peers/attacker.py) ---------------------- */

/* Run the attacker script with these arguments: its exit status. */
static int attacker(const char *mode, const char *a1, const char *a2, const char *a3,
    const char *a4, const char *a5)
{
	pid_t pid;
	int status;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		execl("/usr/bin/python3", "python3", PEER_ATTACKER_PY, mode, a1, a2, a3, a4, a5,
		    (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Configure one peer of n by id and port (a dead port: nothing listens). */
static void peer_at(tnode *n, const char *id, int port)
{
	peer_addr a;

	memset(&a, 0, sizeof a);
	snprintf(a.id, sizeof a.id, "%s", id);
	snprintf(a.host, sizeof a.host, "127.0.0.1");
	a.port = port;
	T_EQ_INT(0, peer_service_set_peers(n->svc, &a, 1));
}

/* Two centrals that know each other (by id) but are not linked: the
 * links point to port 1, where nothing listens. */
static void unlinked_pair(void)
{
	char dir[600];

	peer_lws_messages(0);
	for (int i = 0; i < 2; i++) {
		dir_of(dir, sizeof dir, i ? "central-2" : "central-1");
		tnode_open(&N[i], i ? "central-2" : "central-1", dir, LOG_DURABLE_NONE);
		T_EQ_INT(0, tnode_svc_create(&N[i], 0));
		tnode_writer_start(&N[i]);
	}
	peer_at(&N[0], "central-2", 1);
	peer_at(&N[1], "central-1", 1);
	tnode_svc_start(&N[0]);
	tnode_svc_start(&N[1]);
}

/* Issue 12's relay: hello to B as A with A's nonce, B's MAC forwarded to A
 * in a hello as B. Neither central signs for the relay, A streams nothing
 * and accepts nothing; with the real link up, it stays the link. */
TEST(relay_attack_refused)
{
	tnode *ns[2] = { &N[0], &N[1] };
	char pa[16], pb[16];

	unlinked_pair();
	entries(&N[0], "31R", 5);
	snprintf(pa, sizeof pa, "%d", N[0].port);
	snprintf(pb, sizeof pb, "%d", N[1].port);
	T_EQ_INT(0, attacker("relay", pa, pb, "central-1", "central-2", NULL));
	T_EQ_U64(0, tnode_status(&N[0], "central-2").connects);
	T_EQ_U64(0, tnode_status(&N[0], "central-2").events_sent);
	T_EQ_U64(0, tnode_status(&N[1], "central-1").connects);
	tview b = tnode_view(&N[1]);
	T_EQ_U64(0, tview_events(&b));
	free(b.st);
	/* now the real link, and the same attack while it is up */
	peer_at(&N[0], "central-2", N[1].port);
	peer_at(&N[1], "central-1", N[0].port);
	T_ASSERT(wait_connected(&N[0], &N[1], WAIT_MS));
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	usleep(300 * 1000);	/* a duplicate dial, if any, is resolved */
	uint64_t c0 = tnode_status(&N[0], "central-2").connects;
	uint64_t c1 = tnode_status(&N[1], "central-1").connects;
	T_EQ_INT(0, attacker("relay", pa, pb, "central-1", "central-2", NULL));
	T_EQ_U64(c0, tnode_status(&N[0], "central-2").connects);
	T_EQ_U64(c1, tnode_status(&N[1], "central-1").connects);
	T_EQ_INT(1, tnode_status(&N[0], "central-2").connected);
	entries(&N[0], "32R", 3);	/* the real link still carries events */
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* A handshake recorded on one connection (made here with the secret, so
 * the first one is legitimate and must succeed) fails on the next. */
TEST(replayed_handshake_refused)
{
	char pb[16];

	unlinked_pair();
	entries(&N[0], "33P", 2);
	snprintf(pb, sizeof pb, "%d", N[1].port);
	T_EQ_INT(0, attacker("replay", pb, "central-1", "central-2", N[1].secret, NULL));
	T_EQ_U64(1, tnode_status(&N[1], "central-1").connects);	/* the legit one */
	T_ASSERT(tnode_status(&N[1], "central-1").auth_failures > 0);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* B's own nonce sent back, and any MAC echoed: B signs nothing for it. */
TEST(reflected_handshake_refused)
{
	char pb[16];

	unlinked_pair();
	snprintf(pb, sizeof pb, "%d", N[1].port);
	T_EQ_INT(0, attacker("reflect", pb, "central-1", NULL, NULL, NULL));
	T_EQ_U64(0, tnode_status(&N[1], "central-1").connects);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* Two centrals both called central-1, each told the other is central-2:
 * both refuse, say why, and the status shows it on both sides. */
TEST(same_id_refused_and_reported)
{
	char dir[600], why[256];
	cJSON *st;

	peer_lws_messages(0);
	for (int i = 0; i < 2; i++) {
		dir_of(dir, sizeof dir, i ? "twin-b" : "twin-a");
		tnode_open(&N[i], "central-1", dir, LOG_DURABLE_NONE);
		T_EQ_INT(0, tnode_svc_create(&N[i], 0));
		tnode_writer_start(&N[i]);
	}
	peer_at(&N[0], "central-2", N[1].port);
	peer_at(&N[1], "central-2", N[0].port);
	tnode_svc_start(&N[0]);
	tnode_svc_start(&N[1]);
	entries(&N[0], "34S", 2);
	for (int w = 0; w < WAIT_MS && (peer_service_id_conflict(N[0].svc, NULL, 0) == 0 ||
	    peer_service_id_conflict(N[1].svc, NULL, 0) == 0); w += 10)
		usleep(10000);
	for (int i = 0; i < 2; i++) {
		T_ASSERT(peer_service_id_conflict(N[i].svc, why, sizeof why) > 0);
		T_ASSERT(strstr(why, "also has our id central-1") != NULL);
		T_EQ_INT(0, tnode_status(&N[i], "central-2").connected);
		T_ASSERT(strstr(tnode_status(&N[i], "central-2").last_error,
		    "also has our id") != NULL);
		st = cJSON_CreateObject();
		peer_service_api_status(N[i].svc, st);
		T_ASSERT(cJSON_IsString(cJSON_GetObjectItem(st, "id_conflict")));
		cJSON_Delete(st);
	}
	tview b = tnode_view(&N[1]);
	T_EQ_U64(0, tview_events(&b));
	free(b.st);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* A batch frame of n's first stream, seq 1 (the bytes as stored), into
 * path; the stream's name into stream. */
static void first_event_frame(tnode *n, const char *path, char stream[LOG_STREAM_MAX + 1])
{
	log_stream_info *si = NULL;
	log_txn *t = NULL;
	log_iter *it = NULL;
	log_rec r;
	size_t k = 0;
	char hdr[256];
	FILE *f;

	T_EQ_INT(0, log_txn_begin(n->s, 0, &t));
	T_EQ_INT(0, log_txn_streams(t, &si, &k));
	T_ASSERT(k >= 1);
	snprintf(stream, LOG_STREAM_MAX + 1, "%s", si[0].name);
	T_EQ_INT(0, log_iter_range(t, si[0].no, 1, 1, &it));
	T_EQ_INT(0, log_iter_next(it, &r));
	T_ASSERT(peer_enc_batch_head(hdr, sizeof hdr, stream, 0, 0, 1) > 0);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	fprintf(f, "%s%.*s", hdr, (int)r.len, r.bytes);
	fclose(f);
	log_iter_free(it);
	log_txn_abort(t);
	free(si);
}

/* A peer holding the secret sends a stream under the receiver's own
 * origin (made by a twin called central-1): refused as a fork, with the
 * reason, and never created; the pair goes on replicating. */
TEST(own_origin_stream_refused)
{
	char dir[600], path[700], stream[LOG_STREAM_MAX + 1], pa[16];
	log_stream_info si;
	log_txn *t;

	peer_lws_messages(0);
	dir_of(dir, sizeof dir, "twin");
	tnode_open(&N[2], "central-1", dir, LOG_DURABLE_NONE);
	tnode_writer_start(&N[2]);
	entries(&N[2], "35T", 1);
	snprintf(path, sizeof path, "%s/forged.frame", t_tmpdir);
	first_event_frame(&N[2], path, stream);
	tnode_close(&N[2]);
	unlinked_pair();
	snprintf(pa, sizeof pa, "%d", N[0].port);
	T_EQ_INT(0, attacker("forge", pa, "central-2", "central-1", N[0].secret, path));
	T_EQ_INT(0, log_txn_begin(N[0].s, 0, &t));
	T_EQ_INT(LOG_NOTFOUND, log_txn_stream_find(t, stream, &si));
	log_txn_abort(t);
	T_EQ_INT(1, (int)tnode_status(&N[0], "central-2").nforks);
	T_EQ_STR(stream, tnode_status(&N[0], "central-2").forks[0]);
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

/* ---- TLS (wss) --------------------------------------------------------------- */

/* A CA and a certificate it signed (EC P-256), made by the openssl CLI in
 * dir: dir/ca.pem, dir/c.pem, dir/c.key. 0 on success. */
static int make_certs(const char *dir, const char *cn)
{
	char cmd[3000];

	snprintf(cmd, sizeof cmd, "(set -e; cd '%s'; "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout ca.key -out ca.pem -days 2 -subj /CN=%s-ca; "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout c.key -out c.csr -subj /CN=%s; "
	    "openssl x509 -req -in c.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out c.pem -days 2) >/dev/null 2>&1", dir, cn, cn);
	return system(cmd) == 0 ? 0 : -1;
}

/* Two centrals on wss with the facility's CA replicate; a third with a
 * certificate of another CA, and a plain ws one, never connect. */
TEST(tls_pair_syncs_strangers_refused)
{
	static const char *names[3] = { "central-1", "central-2", "central-3" };
	char dir[600], good[700], other[700], f[9][760];
	tnode *ns[2] = { &N[0], &N[1] };

	snprintf(good, sizeof good, "%s/pki-good", t_tmpdir);
	snprintf(other, sizeof other, "%s/pki-other", t_tmpdir);
	mkdir(good, 0700);
	mkdir(other, 0700);
	T_EQ_INT(0, make_certs(good, "facility"));
	T_EQ_INT(0, make_certs(other, "stranger"));
	peer_lws_messages(0);
	for (int i = 0; i < 3; i++) {
		const char *pki = i < 2 ? good : other;

		snprintf(f[3 * i], sizeof f[0], "%s/c.pem", pki);
		snprintf(f[3 * i + 1], sizeof f[0], "%s/c.key", pki);
		snprintf(f[3 * i + 2], sizeof f[0], "%s/ca.pem", pki);
		dir_of(dir, sizeof dir, names[i]);
		tnode_open(&N[i], names[i], dir, LOG_DURABLE_NONE);
		N[i].tls_cert = f[3 * i];
		N[i].tls_key = f[3 * i + 1];
		N[i].tls_ca = f[3 * i + 2];
		T_EQ_INT(0, tnode_svc_create(&N[i], 0));
		tnode_writer_start(&N[i]);
	}
	tnode *p01[2] = { &N[1], &N[2] }, *p1 = &N[0], *p2 = &N[0];
	tnode_peers(&N[0], p01, 2);
	tnode_peers(&N[1], &p1, 1);
	tnode_peers(&N[2], &p2, 1);
	for (int i = 0; i < 3; i++)
		tnode_svc_start(&N[i]);
	entries(&N[0], "36W", 4);
	entries(&N[1], "37W", 3);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	T_ASSERT(wait_connected(&N[0], &N[1], WAIT_MS));
	entries(&N[2], "38W", 2);
	usleep(1500 * 1000);
	T_EQ_U64(0, tnode_status(&N[0], "central-3").connects);
	T_EQ_U64(0, tnode_status(&N[2], "central-1").connects);
	tview c = tnode_view(&N[2]);
	T_EQ_U64(2, tview_events(&c));
	free(c.st);
	/* a plain ws client gets no hello from a wss listener */
	char port[16];

	snprintf(port, sizeof port, "%d", N[0].port);
	T_EQ_INT(0, attacker("plain", port, NULL, NULL, NULL, NULL));
	for (int i = 0; i < 3; i++)
		tnode_close(&N[i]);
}

/* Garbage, binary, oversized, out-of-order and flooding clients each lose
 * their connection; the two centrals keep replicating meanwhile. */
TEST(bad_clients_closed_service_goes_on)
{
	static const int links[][2] = { { 0, 1 } };
	tnode *ns[2] = { &N[0], &N[1] };
	char cmd[1200];
	pid_t pid;
	int status;

	cluster(2, links, 1);
	T_ASSERT(wait_connected(&N[0], &N[1], WAIT_MS));
	usleep(300 * 1000);	/* a duplicate dial, if any, is resolved */
	uint64_t connects = tnode_status(&N[0], "central-2").connects;
	snprintf(cmd, sizeof cmd, "%d", N[0].port);
	if ((pid = fork()) == 0) {
		execl("/usr/bin/python3", "python3", PEER_BADPEER_PY, cmd, (char *)NULL);
		_exit(127);
	}
	/* keep the gates busy while the bad clients run */
	for (int i = 0; i < 40; i++) {
		char plate[16];

		snprintf(plate, sizeof plate, "77B%04d", i);
		T_EQ_INT(0, tnode_gate(&N[0], LOG_EV_ENTRY_PENDING, plate, NULL, 0, NULL));
		usleep(50 * 1000);
	}
	T_EQ_INT(pid, waitpid(pid, &status, 0));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		T_FAIL("bad-client script failed (status %d)", status);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	T_EQ_INT(1, tnode_status(&N[0], "central-2").connected);
	T_EQ_U64(connects, tnode_status(&N[0], "central-2").connects);	/* never dropped */
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

TEST(peers_added_and_removed_at_run_time)
{
	static const int links[][2] = { { 0, 1 } };
	tnode *ns[2] = { &N[0], &N[1] };

	cluster(2, links, 1);
	T_ASSERT(wait_connected(&N[0], &N[1], WAIT_MS));
	tnode_peers(&N[0], NULL, 0);	/* SIGHUP without the peer */
	tnode_peers(&N[1], NULL, 0);
	usleep(300 * 1000);
	entries(&N[0], "88H", 5);
	usleep(500 * 1000);
	T_ASSERT(!tnodes_converged(ns, 2));
	tnode *p0 = &N[1], *p1 = &N[0];
	tnode_peers(&N[0], &p0, 1);	/* and back */
	tnode_peers(&N[1], &p1, 1);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	tnode_close(&N[0]);
	tnode_close(&N[1]);
}

TEST(progress_persisted)
{
	static const int links[][2] = { { 0, 1 } };
	tnode *ns[2] = { &N[0], &N[1] };
	peer_status st;

	cluster(2, links, 1);
	entries(&N[0], "21D", 12);
	T_ASSERT(tnodes_wait(ns, 2, WAIT_MS));
	usleep(300 * 1000);
	tnode_close(&N[1]);
	tnode_close(&N[0]);
	/* reopen central-1 alone: its counters about central-2 are back */
	char dir[600];
	peer_addr a = { "central-2", "127.0.0.1", 1 };
	peer_opts po = { .listen_host = "127.0.0.1", .secret = "x", .peers = &a, .npeers = 1 };

	dir_of(dir, sizeof dir, "central-1");
	tnode_open(&N[0], "central-1", dir, LOG_DURABLE_NONE);
	T_EQ_INT(0, peer_service_create(N[0].s, N[0].p, &po, &N[0].svc));
	st = tnode_status(&N[0], "central-2");
	T_ASSERT(st.events_sent >= 12);
	T_ASSERT(st.last_sync_ms > 0);
	T_EQ_INT(0, st.connected);
	tnode_close(&N[0]);
}

TEST(bad_options_refused)
{
	char dir[600];
	peer_addr self = { "central-1", "127.0.0.1", 9 };
	peer_opts po = { .listen_host = "0.0.0.0", .secret = "" };
	peer_service *svc;

	dir_of(dir, sizeof dir, "a");
	tnode_open(&N[0], "central-1", dir, LOG_DURABLE_NONE);
	T_EQ_INT(PEER_ECONF, peer_service_create(N[0].s, N[0].p, &po, &svc));
	po.listen_host = "127.0.0.1";	/* loopback: no secret is allowed */
	T_EQ_INT(0, peer_service_create(N[0].s, N[0].p, &po, &svc));
	peer_service_destroy(svc);
	po.secret = "s";
	po.peers = &self;
	po.npeers = 1;
	T_EQ_INT(PEER_ECONF, peer_service_create(N[0].s, N[0].p, &po, &svc));
	tnode_close(&N[0]);
}

T_MAIN()
