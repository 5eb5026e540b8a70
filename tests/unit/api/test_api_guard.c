/* test_api_guard.c — the slow-client guard (api/guard.h) without MHD:
 * connections are socketpairs; "shut down" is seen as EOF on the peer. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/guard.h"
#include "tests/harness/t.h"

typedef struct tconn {
	int fd[2];		/* [0] the guard's, [1] the client's */
	api__conn *c;
} tconn;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static api__guard *guard(unsigned deadline_ms, unsigned per_ip, unsigned anon_max)
{
	api__guard_opts o = { .deadline_ms = deadline_ms, .per_ip = per_ip,
	    .anon_max = anon_max, .tick_ms = 50 };
	api__guard *g = NULL;

	T_EQ_INT(0, api__guard_new(&o, &g));
	return g;
}

static void add(api__guard *g, tconn *t, const char *ip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	T_ASSERT(inet_pton(AF_INET, ip, &sa.sin_addr) == 1);
	T_EQ_INT(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, t->fd));
	t->c = api__guard_add(g, t->fd[0], (struct sockaddr *)&sa);
	T_ASSERT(t->c != NULL);
	sleep_ms(2);		/* distinct start times: "oldest" is defined */
}

/* 1: the guard shut the connection down (the client sees EOF). */
static int is_shut(const tconn *t)
{
	char b;

	return recv(t->fd[1], &b, 1, 0) == 0;
}

static void drop(api__guard *g, tconn *t)
{
	api__guard_remove(g, t->c);	/* as MHD: CLOSED before close */
	close(t->fd[0]);
	close(t->fd[1]);
}

static void stats(api__guard *g, long conns, long recv, long anon, uint64_t evicted)
{
	api__guard_stats s;

	api__guard_stats_get(g, &s);
	T_EQ_INT(conns, s.conns);
	T_EQ_INT(recv, s.receiving);
	T_EQ_INT(anon, s.anon);
	T_EQ_U64(evicted, s.evicted);
}

TEST(per_address_the_oldest_gives_way)
{
	api__guard *g = guard(60000, 2, 100);
	tconn t[4];

	add(g, &t[0], "10.0.0.1");
	add(g, &t[1], "10.0.0.2");
	add(g, &t[2], "10.0.0.1");
	T_ASSERT(!is_shut(&t[0]) && !is_shut(&t[1]) && !is_shut(&t[2]));
	add(g, &t[3], "10.0.0.1");	/* a third of 10.0.0.1: its oldest goes */
	T_ASSERT(is_shut(&t[0]));
	T_ASSERT(!is_shut(&t[1]) && !is_shut(&t[2]) && !is_shut(&t[3]));
	stats(g, 4, 3, 3, 1);
	for (int i = 0; i < 4; i++)
		drop(g, &t[i]);
	stats(g, 0, 0, 0, 1);
	api__guard_free(g);
}

TEST(in_all_the_oldest_gives_way)
{
	api__guard *g = guard(60000, 100, 2);
	tconn t[3];

	add(g, &t[0], "10.0.0.1");
	add(g, &t[1], "10.0.0.2");
	add(g, &t[2], "10.0.0.3");
	T_ASSERT(is_shut(&t[0]) && !is_shut(&t[1]) && !is_shut(&t[2]));
	stats(g, 3, 2, 2, 1);
	for (int i = 0; i < 3; i++)
		drop(g, &t[i]);
	api__guard_free(g);
}

/* A token, or a complete request, keeps a connection from giving way. */
TEST(token_and_complete_requests_are_kept)
{
	api__guard *g = guard(60000, 1, 100);
	tconn t[4];

	add(g, &t[0], "10.0.0.1");
	api__guard_authed(g, t[0].c);		/* showed a token */
	add(g, &t[1], "10.0.0.1");
	api__guard_delivered(g, t[1].c);	/* its request is complete */
	add(g, &t[2], "10.0.0.1");
	stats(g, 3, 2, 1, 0);
	add(g, &t[3], "10.0.0.1");		/* only t[2] may give way */
	T_ASSERT(!is_shut(&t[0]) && !is_shut(&t[1]) && is_shut(&t[2]));
	T_ASSERT(!is_shut(&t[3]));
	stats(g, 4, 2, 1, 1);
	for (int i = 0; i < 4; i++)
		drop(g, &t[i]);
	api__guard_free(g);
}

/* Past the deadline a receiving connection is shut down, whatever it
 * sends; a complete request is not, until its answer ended (next) and
 * the next request is late. */
TEST(deadline)
{
	api__guard *g = guard(1000, 100, 100);
	api__guard_stats s;
	tconn t[2];

	add(g, &t[0], "10.0.0.1");
	add(g, &t[1], "10.0.0.1");
	api__guard_delivered(g, t[1].c);
	for (int i = 0; i < 15; i++) {		/* a trickle does not help */
		(void)send(t[0].fd[1], "a", 1, MSG_NOSIGNAL);
		sleep_ms(100);
	}
	T_ASSERT(is_shut(&t[0]));
	T_ASSERT(!is_shut(&t[1]));
	api__guard_next(g, t[1].c);		/* keep-alive: a new deadline */
	sleep_ms(300);
	T_ASSERT(!is_shut(&t[1]));
	sleep_ms(1000);
	T_ASSERT(is_shut(&t[1]));
	api__guard_stats_get(g, &s);
	T_EQ_U64(2, s.deadline_shut);
	T_EQ_INT(0, s.receiving);
	drop(g, &t[0]);
	drop(g, &t[1]);
	api__guard_free(g);
}

T_MAIN()
