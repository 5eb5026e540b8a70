/* export/export.h — the exporter: every committed event of this central's
 * log (own and replicated) to a NATS JetStream stream (DESIGN.md, "Beyond
 * one facility"; docs/export.md).
 *
 * One thread of its own. The writer's on_commit only signals it (never
 * blocks), so a slow or absent NATS makes the export lag, never the gates.
 * The thread reads the log through log/store.h in short read transactions
 * (a batch is copied out before it is published), publishes each event in
 * log order per log stream to "<prefix>.<facility>.<origin>.<type>" with
 * Nats-Msg-Id = event id, async with at most `window` in flight, waits for
 * JetStream's acks, and only then stores the stream's exported seq in its
 * own LMDB environment `<data_dir>/export/` (why its own: the log's env has
 * one writer, the writer thread; a table there would put the exporter's
 * commits in the gates' queue). After a crash or an outage it resumes after
 * the stored seq: what was in flight is sent again and JetStream's
 * duplicate window (`dedup_window_s`) absorbs it.
 */
#ifndef PARKLOG_EXPORT_H
#define PARKLOG_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "log/store.h"
#include "log/writer.h"

#define EXPORT_MAX_SERVERS	8
#define EXPORT_URL_MAX		255
#define EXPORT_NAME_MAX		32	/* facility, stream, subject prefix */

typedef struct exporter exporter;

/* Plain data, copied by export_start. */
typedef struct export_opts {
	char servers[EXPORT_MAX_SERVERS][EXPORT_URL_MAX + 1];
	size_t nservers;
	char facility[EXPORT_NAME_MAX + 1];	/* [A-Za-z0-9_-] */
	char stream[EXPORT_NAME_MAX + 1];	/* "": "parklog-<facility>" */
	char subject_prefix[EXPORT_NAME_MAX + 1]; /* "": "parklog" */
	char user[128], password[128];		/* "" : none */
	char token[128];
	char creds[1024];			/* .creds file path, "" none */
	unsigned replicas;		/* 0: 3 with >= 3 servers, else 1 */
	unsigned window;		/* async publishes in flight; 0: 4096 */
	unsigned dedup_window_s;	/* stream Duplicates; 0: 3600 */
	unsigned ack_wait_ms;		/* a batch's acks within; 0: 10000 */
} export_opts;

/* Check names and bounds; 0 or -1 with "key: why" in err. */
int export_opts_check(const export_opts *o, char *err, size_t errlen);

/* Open the position env in <data_dir>/export and start the thread (it
 * connects by itself and retries forever). The store must outlive the
 * exporter. *out owned by the caller until export_stop. */
int export_start(log_store *s, const char *data_dir, const export_opts *o,
    exporter **out);

/* The writer's commit notification: wakes the thread. Never blocks for
 * long (a mutex held for a few instructions). NULL e: nothing. */
void export_on_commit(exporter *e, const log_commit_info *ci);

/* Stop the thread (what is in flight is given up to ack_wait_ms), close
 * NATS and the env, free. NULL: nothing. */
void export_stop(exporter *e);

typedef struct export_stat {
	int connected;
	uint64_t exported;	/* events acked since start */
	uint64_t lag;		/* events committed, not yet acked (last look) */
	uint64_t batches, failed_batches;
	int64_t last_ack_ms;	/* wall time of the last acked batch, 0 never */
	char last_error[128];
} export_stat;
void export_get_stat(exporter *e, export_stat *out);

/* Prometheus text (as snprintf). */
int export_metrics(exporter *e, char *buf, size_t len);
/* Adds "export": {...} to obj (the /api/p2p/status object). */
void export_status_json(exporter *e, cJSON *obj);

#endif
