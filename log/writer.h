/* log/writer.h — the append queue and its writer thread: group commit.
 *
 * Every write to the log goes through one writer thread. Producers (HTTP
 * handlers, the peer service) submit jobs; the writer drains the queue, runs
 * every queued job inside ONE write transaction, commits once (durably, per
 * the store's durability), then calls each job's done() with its result. One
 * fsync thus answers every request in flight.
 *
 * A job's run() decides and appends in the batch's transaction (so decisions
 * such as "is this plate inside?" see every earlier job of the batch). Rule:
 * a run() that returns non-zero must not have appended anything — decide
 * first, append last (checked: breaking it aborts through msg_assert; a
 * run() that cannot keep it marks the txn with log_txn_set_failed). If the
 * transaction itself fails (LMDB error, I/O, map full after growing, a full
 * disk: LOG_ENOSPACE), every job of the batch gets that error in done(),
 * nothing of the batch is kept, and stderr says so (rate-limited). A job whose append failed half-way (the
 * store then refuses to commit, log_txn_failed) gets its error alone: the
 * batch is aborted and the other jobs run again without it.
 *
 * Re-runs: if the batch's transaction hits MDB_MAP_FULL (in a run() or at
 * the commit) it is aborted, the map is grown and the whole batch runs once
 * more in a fresh transaction. run() must therefore be re-runnable: keep
 * its effects inside the transaction (or make them idempotent). A run()
 * that sees MDB_MAP_FULL should return it as is.
 */
#ifndef PARKLOG_LOG_WRITER_H
#define PARKLOG_LOG_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "log/store.h"

typedef struct log_writer log_writer;
typedef struct log_job log_job;

struct log_job {
	/* In the writer thread, inside the batch's write transaction. */
	int (*run)(log_job *job, log_txn *txn);
	/* In the writer thread, after the commit (rc = run's result) or the
	 * batch's failure (rc = the store error). Must not block; typically
	 * it resumes a suspended HTTP connection. The job may be freed by its
	 * owner as soon as done() was called. */
	void (*done)(log_job *job, int rc);
	void *arg;			/* the producer's */
	/* internal */
	log_job *next__;
	int rc__;
};

typedef struct log_commit_info {
	size_t jobs;			/* jobs in the batch */
	size_t events;			/* events appended by the batch */
	const log_range *ranges;	/* valid during the call */
	size_t nranges;
	uint64_t commit_ns;		/* time spent in the commit (fsync) */
} log_commit_info;

typedef struct log_writer_opts {
	size_t max_batch;		/* jobs per transaction; 0: 4096 */
	/* After each successful commit, in the writer thread, before the
	 * jobs' done(). Must not block. */
	void (*on_commit)(void *ctx, const log_commit_info *ci);
	void *ctx;
} log_writer_opts;

typedef struct log_writer_stats {
	uint64_t commits;
	uint64_t jobs;
	uint64_t events;
	uint64_t failed_commits;
	uint64_t batch_hist[8];		/* jobs per commit: 1, 2-4, 5-16, 17-64,
					   65-256, 257-1024, 1025-4096, more */
	uint64_t commit_ns_total;
	uint64_t commit_ns_max;
} log_writer_stats;

/* Start the writer thread over an open, writable store. The store must
 * outlive the writer. */
int log_writer_start(log_store *s, const log_writer_opts *opts, log_writer **out);

/* Queue a job (thread-safe, never blocks on the disk). LOG_ESTOPPED once
 * log_writer_stop has begun: then done() is not called. */
int log_writer_submit(log_writer *w, log_job *job);

/* Stop accepting jobs, run and commit everything queued, join the thread
 * and free the writer. */
void log_writer_stop(log_writer *w);

void log_writer_get_stats(log_writer *w, log_writer_stats *out);

#endif
