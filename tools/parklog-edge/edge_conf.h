/* edge_conf — parklog-edge's JSON configuration (docs/edge.md).
 *
 * Parsed strictly like parklogd's: unknown keys and wrong types are errors
 * of the form "file: key: message". Plain data, nothing to free.
 */
#ifndef PARKLOG_EDGE_CONF_H
#define PARKLOG_EDGE_CONF_H

#include <stddef.h>

#include "tools/parklog-edge/edge_barrier.h"
#include "tools/parklog-edge/edge_http.h"

#define EDGE_ID_MAX	32
#define EDGE_URLS_MAX	4
#define EDGE_TOKEN_MAX	128

typedef struct edge_conf {
	char id[EDGE_ID_MAX + 1];
	edge_url central[EDGE_URLS_MAX];	/* failover order */
	size_t ncentral;
	char token[EDGE_TOKEN_MAX + 1];		/* "" none */
	char direction[8];			/* "ENTRY", "EXIT", "" (central decides) */
	char vehicle[17];			/* "" none */
	int auto_open;				/* open when the central allows */
	int heartbeat_s;			/* 30 */
	int dedup_ms;				/* 10000 */
	int timeout_ms;				/* per request, 3000 */
	int retry_ms;				/* queue retry while unreachable, 2000 */
	int retry_max_ms;			/* backoff cap while the central
						   refuses (401/403...), 60000 */
	int gate_port;				/* the central's gate channel, 9100; 0: off */
	char reads_host[64];			/* plate reads over HTTP: "127.0.0.1" */
	int reads_port;				/* 0: off */
	char queue_dir[1024];
	edge_barrier_conf barrier;
} edge_conf;

/* Defaults, then the file over them. 0 or -1 with "file: key: message". */
int edge_conf_load(edge_conf *c, const char *path, char *err, size_t errlen);

#endif
