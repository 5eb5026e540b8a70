/* api/guard.c — the request deadline and the caps on connections still
 * sending a request. See guard.h. */
#include "api/guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include "msg/msg.h"

struct api__conn {
	api__conn *prev, *next;	/* the guard's list, oldest `since` first */
	int fd;
	int64_t since_ms;	/* the current request's delivery began */
	int receiving;		/* the current request is not complete */
	int authed;		/* a request on it showed a valid token */
	int shut;		/* the guard shut it down already */
	unsigned char addr[16];	/* the client's address (v4: 4 bytes) */
	unsigned char alen;
};

struct api__guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	api__conn *head, *tail;
	long nconns;		/* in the list */
	long nrecv;		/* receiving && !shut */
	long nanon;		/* receiving && !authed && !shut */
	api__guard_opts o;
	int stop;
	int th_on;
	pthread_t th;
	atomic_uint_fast64_t deadline_shut, evicted;
};

static int64_t api__guard_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The counters agree with the list's flags (guard.h); under mu. */
static void api__guard_check(const api__guard *g)
{
	msg_assert(g->nconns >= 0);
	msg_assert(g->nrecv >= 0 && g->nrecv <= g->nconns);
	msg_assert(g->nanon >= 0 && g->nanon <= g->nrecv);
}

static void api__guard_unlink(api__guard *g, api__conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		g->tail = c->prev;
	c->prev = c->next = NULL;
	g->nconns--;
}

static void api__guard_append(api__guard *g, api__conn *c)
{
	c->prev = g->tail;
	c->next = NULL;
	if (g->tail != NULL)
		g->tail->next = c;
	else
		g->head = c;
	g->tail = c;
	g->nconns++;
}

/* Leave the receiving counts (c's request is complete, or c is gone). */
static void api__guard_unrecv(api__guard *g, api__conn *c)
{
	if (!c->receiving || c->shut)
		return;
	g->nrecv--;
	if (!c->authed)
		g->nanon--;
}

/* Shut c's socket down; MHD sees the end of it and closes it. Under mu,
 * so that c (and its descriptor) is still MHD's. */
static void api__guard_shut(api__guard *g, api__conn *c)
{
	api__guard_unrecv(g, c);
	c->shut = 1;
	(void)shutdown(c->fd, SHUT_RDWR);
}

static void api__guard_addr(api__conn *c, const struct sockaddr *sa)
{
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(c->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		c->alen = 4;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(c->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		c->alen = 16;
	}
}

static int api__guard_same(const api__conn *a, const api__conn *b)
{
	return a->alen == b->alen && memcmp(a->addr, b->addr, a->alen) == 0;
}

static int api__guard_evictable(const api__conn *c, const api__conn *nc)
{
	return c != nc && c->receiving && !c->authed && !c->shut;
}

/* A newcomer nc: past per_ip of its address, or anon_max in all, the
 * oldest connection still sending a request without a token makes room
 * (the list is oldest first). Under mu. */
static void api__guard_admit(api__guard *g, api__conn *nc)
{
	api__conn *c, *oldest = NULL, *oldest_ip = NULL;
	unsigned same = 1;		/* nc itself */

	for (c = g->head; c != NULL; c = c->next) {
		if (!api__guard_evictable(c, nc))
			continue;
		if (oldest == NULL)
			oldest = c;
		if (nc->alen != 0 && api__guard_same(c, nc)) {
			if (oldest_ip == NULL)
				oldest_ip = c;
			same++;
		}
	}
	if (oldest_ip != NULL && g->o.per_ip != 0 && same > g->o.per_ip)
		c = oldest_ip;
	else if (oldest != NULL && (unsigned long)g->nanon > g->o.anon_max)
		c = oldest;
	else
		return;
	api__guard_shut(g, c);
	atomic_fetch_add(&g->evicted, 1);
	msg_debug("http: a connection still sending its request closed for a "
	    "newcomer (%ld such, %ld open)", g->nanon, g->nconns);
}

api__conn *api__guard_add(api__guard *g, int fd, const struct sockaddr *sa)
{
	api__conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->receiving = 1;
	api__guard_addr(c, sa);
	pthread_mutex_lock(&g->mu);
	c->since_ms = api__guard_now_ms();
	api__guard_append(g, c);
	g->nrecv++;
	g->nanon++;
	api__guard_admit(g, c);
	api__guard_check(g);
	pthread_mutex_unlock(&g->mu);
	return c;
}

void api__guard_remove(api__guard *g, api__conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	api__guard_unrecv(g, c);
	api__guard_unlink(g, c);
	api__guard_check(g);
	pthread_mutex_unlock(&g->mu);
	free(c);
}

void api__guard_notify(void *cls, struct MHD_Connection *mc,
    void **socket_context, enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *fi, *ai;

	if (code != MHD_CONNECTION_NOTIFY_STARTED) {
		api__guard_remove(cls, *socket_context);
		*socket_context = NULL;
		return;
	}
	fi = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	ai = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	/* Without a record the connection is served, only not guarded. */
	if (fi != NULL)
		*socket_context = api__guard_add(cls, fi->connect_fd,
		    ai != NULL ? ai->client_addr : NULL);
}

api__conn *api__guard_conn(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

void api__guard_delivered(api__guard *g, api__conn *c)
{
	if (g == NULL || c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	api__guard_unrecv(g, c);
	c->receiving = 0;
	api__guard_check(g);
	pthread_mutex_unlock(&g->mu);
}

void api__guard_authed(api__guard *g, api__conn *c)
{
	if (g == NULL || c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (!c->authed && c->receiving && !c->shut)
		g->nanon--;
	c->authed = 1;
	api__guard_check(g);
	pthread_mutex_unlock(&g->mu);
}

void api__guard_next(api__guard *g, api__conn *c)
{
	if (g == NULL || c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (!c->receiving && !c->shut) {
		g->nrecv++;
		if (!c->authed)
			g->nanon++;
	}
	c->receiving = 1;
	c->since_ms = api__guard_now_ms();
	/* The newest `since` goes last: the list stays oldest first. */
	api__guard_unlink(g, c);
	api__guard_append(g, c);
	api__guard_check(g);
	pthread_mutex_unlock(&g->mu);
}

/* Shut down what is past the deadline. The list is oldest first, so the
 * walk stops at the first connection that is not yet due. */
static void api__guard_sweep(api__guard *g)
{
	int64_t due = api__guard_now_ms() - (int64_t)g->o.deadline_ms;
	api__conn *c;

	pthread_mutex_lock(&g->mu);
	for (c = g->head; c != NULL && c->since_ms <= due; c = c->next) {
		if (!c->receiving || c->shut)
			continue;
		api__guard_shut(g, c);
		atomic_fetch_add(&g->deadline_shut, 1);
		msg_debug("http: a connection closed: no complete request "
		    "within %u ms", g->o.deadline_ms);
	}
	api__guard_check(g);
	pthread_mutex_unlock(&g->mu);
}

static void *api__guard_main(void *arg)
{
	api__guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)g->o.tick_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->mu);
		api__guard_sweep(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int api__guard_new(const api__guard_opts *o, api__guard **out)
{
	pthread_condattr_t ca;
	api__guard *g;
	int rc;

	*out = NULL;
	if ((g = calloc(1, sizeof *g)) == NULL)
		return ENOMEM;
	g->o = *o;
	if (g->o.tick_ms == 0)
		g->o.tick_ms = g->o.deadline_ms / 10;
	if (g->o.tick_ms < 50)
		g->o.tick_ms = 50;
	if (g->o.tick_ms > 500)
		g->o.tick_ms = 500;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&g->th, NULL, api__guard_main, g)) != 0) {
		api__guard_free(g);
		return rc;
	}
	g->th_on = 1;
	*out = g;
	return 0;
}

void api__guard_stop(api__guard *g)
{
	if (g == NULL || !g->th_on)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->th, NULL);
	g->th_on = 0;
}

void api__guard_free(api__guard *g)
{
	if (g == NULL)
		return;
	api__guard_stop(g);
	/* MHD notified CLOSED for every connection before it stopped. */
	msg_assert(g->head == NULL && g->nconns == 0);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void api__guard_stats_get(api__guard *g, api__guard_stats *st)
{
	memset(st, 0, sizeof *st);
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	st->conns = g->nconns;
	st->receiving = g->nrecv;
	st->anon = g->nanon;
	pthread_mutex_unlock(&g->mu);
	st->deadline_shut = atomic_load(&g->deadline_shut);
	st->evicted = atomic_load(&g->evicted);
}
