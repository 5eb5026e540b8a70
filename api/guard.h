/* api/guard.h — slow clients: a deadline on each request's delivery and caps
 * on the connections still sending one (docs/http-limits.md).
 *
 * libmicrohttpd's own timeout is an idle timeout: a client sending one byte
 * a second keeps a connection for ever, and max_conns such clients keep
 * every gate out. The guard tracks every connection (MHD's
 * NOTIFY_CONNECTION) from its start, or from the end of its previous
 * request, until its request is complete (headers and body):
 *   - past `deadline_ms` without a complete request, a sweeper thread shuts
 *     the socket down (shutdown(2); MHD then sees the end and closes it);
 *   - a new connection that makes more than `per_ip` connections of its
 *     address, or more than `anon_max` in all, still sending a request
 *     without having shown a valid token shuts the oldest such one down,
 *     so a newcomer always gets its turn and the rest of max_conns stays
 *     for answers, suspended writes, event streams and keep-alive
 *     connections of clients with a token.
 * A connection whose request is complete (being answered, suspended for
 * the writer, an event stream) is never shut down by the guard.
 *
 * Threads: the MHD callbacks run on MHD's thread, the sweep on the guard's
 * own; one mutex guards the list. MHD notifies CLOSED before it closes the
 * socket, and the sweep calls shutdown() under the mutex, so it never
 * touches a descriptor number that was closed and reused.
 *
 * Ownership: api__guard_new's guard belongs to the caller
 * (api__guard_free, after MHD stopped). An api__conn belongs to the guard,
 * from NOTIFY_CONNECTION STARTED to CLOSED; a request may point to its
 * connection's for the request's life.
 */
#ifndef PARKLOG_API_GUARD_H
#define PARKLOG_API_GUARD_H

#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

typedef struct api__guard api__guard;
typedef struct api__conn api__conn;

typedef struct api__guard_opts {
	unsigned deadline_ms;	/* to deliver a complete request */
	unsigned per_ip;	/* receiving without a token, per address */
	unsigned anon_max;	/* ... in all */
	unsigned tick_ms;	/* sweep period; 0: deadline/10, 50..500 */
} api__guard_opts;

typedef struct api__guard_stats {
	long conns;		/* open connections */
	long receiving;		/* ... still sending a request */
	long anon;		/* ... of them without a token */
	uint64_t deadline_shut;	/* shut down past the deadline */
	uint64_t evicted;	/* shut down for a newcomer */
} api__guard_stats;

/* 0, ENOMEM or the pthread error; starts the sweeper. */
int api__guard_new(const api__guard_opts *o, api__guard **out);
/* Stops the sweeper; every connection must have been closed (MHD
 * stopped). NULL is fine. */
void api__guard_free(api__guard *g);
/* Stop sweeping (before MHD_stop_daemon); connections stay tracked. */
void api__guard_stop(api__guard *g);

/* Track a new connection on fd from sa (may be NULL): what NOTIFY_CONNECTION
 * STARTED does; it may shut an older connection down (guard.h). NULL on
 * ENOMEM (then the connection is not guarded). */
api__conn *api__guard_add(api__guard *g, int fd, const struct sockaddr *sa);
/* Forget c (NULL is fine) and free it: NOTIFY_CONNECTION CLOSED, before
 * fd is closed. */
void api__guard_remove(api__guard *g, api__conn *c);
/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void api__guard_notify(void *cls, struct MHD_Connection *c,
    void **socket_context, enum MHD_ConnectionNotificationCode code);
/* The guard's record of c (MHD's thread), or NULL. */
api__conn *api__guard_conn(struct MHD_Connection *c);
/* The current request of gc is complete: the deadline no longer applies. */
void api__guard_delivered(api__guard *g, api__conn *gc);
/* The current request of gc showed a valid token. */
void api__guard_authed(api__guard *g, api__conn *gc);
/* The request of gc ended: the next one's deadline starts now. */
void api__guard_next(api__guard *g, api__conn *gc);
void api__guard_stats_get(api__guard *g, api__guard_stats *st);

#endif
