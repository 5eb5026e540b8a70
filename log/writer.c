/* log/writer.c — the append queue and its writer thread (see writer.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/writer.h"
#include "msg/msg.h"

struct log_writer {
	log_store *s;
	log_writer_opts o;
	pthread_t th;
	pthread_mutex_t mu;		/* guards the queue, stopping and st */
	pthread_cond_t cv;
	log_job *head, *tail;
	int stopping;
	log_writer_stats st;
	/* writer thread only: the batch's ranges, copied before the commit */
	log_range *rg;
	size_t nrg, caprg;
	size_t events;
	uint64_t commit_ns;
	int warned_rc;			/* the failure last reported, 0 if none */
	uint64_t warned_ns;
};

/* A failed batch is reported on stderr: at once when the error is new,
 * then at most every LOG__WARN_NS while it lasts; its end once. */
#define LOG__WARN_NS (10ull * 1000000000u)

static uint64_t log__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int log__hist_bucket(size_t n)
{
	static const size_t top[7] = { 1, 4, 16, 64, 256, 1024, 4096 };
	int i = 0;

	while (i < 7 && n > top[i])
		i++;
	return i;
}

/* Keep the txn's ranges: they are valid only until it ends. */
static int log__keep_ranges(log_writer *w, log_txn *t)
{
	const log_range *r;
	size_t n;

	log_txn_appended(t, &r, &n);
	if (n > w->caprg) {
		log_range *p = realloc(w->rg, n * sizeof *p);

		if (p == NULL)
			return ENOMEM;
		w->rg = p;
		w->caprg = n;
	}
	if (n > 0)	/* r may be NULL then */
		memcpy(w->rg, r, n * sizeof *r);
	w->nrg = n;
	w->events = 0;
	for (size_t i = 0; i < n; i++)
		w->events += r[i].last_seq - r[i].first_seq + 1;
	return 0;
}

/* Events this txn has appended so far (one range per stream touched). */
static uint64_t log__appended(log_txn *t)
{
	const log_range *r;
	uint64_t n = 0;
	size_t nr;

	log_txn_appended(t, &r, &nr);
	for (size_t i = 0; i < nr; i++)
		n += r[i].last_seq - r[i].first_seq + 1;
	return n;
}

/* One attempt: run every job in one write txn and commit. If a job left
 * the txn unable to commit (an append failed half-way), *bad names it. */
static int log__attempt(log_writer *w, log_job *batch, log_job **bad)
{
	log_txn *t = NULL;
	uint64_t t0;
	int rc;

	*bad = NULL;
	if ((rc = log_txn_begin(w->s, 1, &t)) != 0)
		goto err;
	for (log_job *j = batch; j != NULL; j = j->next__) {
		uint64_t before = log__appended(t);

		j->rc__ = j->run(j, t);
		/* The txn is unusable after a full map: retry the batch. */
		if (j->rc__ == MDB_MAP_FULL) {
			rc = MDB_MAP_FULL;
			goto err;
		}
		if ((rc = log_txn_failed(t)) != 0) {
			*bad = j;
			goto err;
		}
		/* writer.h: a run() that fails must not have appended anything
		 * (else its events would commit with an error answered). */
		msg_assert(j->rc__ == 0 || log__appended(t) == before);
	}
	if ((rc = log__keep_ranges(w, t)) != 0)
		goto err;
	t0 = log__now_ns();
	rc = log_txn_commit(t);
	t = NULL;
	w->commit_ns = log__now_ns() - t0;
err:
	if (t != NULL)
		log_txn_abort(t);
	return rc;
}

static void log__account(log_writer *w, size_t n, int rc)
{
	pthread_mutex_lock(&w->mu);
	if (rc != 0) {
		w->st.failed_commits++;
	} else {
		w->st.commits++;
		w->st.jobs += n;
		w->st.events += w->events;
		w->st.batch_hist[log__hist_bucket(n)]++;
		w->st.commit_ns_total += w->commit_ns;
		if (w->commit_ns > w->st.commit_ns_max)
			w->st.commit_ns_max = w->commit_ns;
	}
	pthread_mutex_unlock(&w->mu);
}

static void log__report(log_writer *w, size_t n, int rc)
{
	uint64_t now = log__now_ns();

	if (rc == 0) {
		if (w->warned_rc != 0)
			msg_warnx("log: commits succeed again");
		w->warned_rc = 0;
		return;
	}
	if (rc == w->warned_rc && now - w->warned_ns < LOG__WARN_NS)
		return;
	msg_warnx("log: commit failed, %zu requests refused: %s", n,
	    log_strerror(rc));
	w->warned_rc = rc;
	w->warned_ns = now;
}

/* Take `bad` out of the batch; it is answered apart with its error. */
static log_job *log__drop(log_job *batch, log_job *bad, size_t *n)
{
	log_job **pp = &batch;

	while (*pp != bad)
		pp = &(*pp)->next__;
	*pp = bad->next__;
	bad->next__ = NULL;
	(*n)--;
	bad->done(bad, bad->rc__ ? bad->rc__ : LOG_ECORRUPT);
	return batch;
}

static void log__batch(log_writer *w, log_job *batch, size_t n)
{
	log_commit_info ci;
	log_job *bad;
	int rc = log__attempt(w, batch, &bad);

	if (rc == MDB_MAP_FULL && (rc = log_store_grow(w->s)) == 0)
		rc = log__attempt(w, batch, &bad);
	/* One job broke the txn: the others go again without it. */
	while (bad != NULL && (batch = log__drop(batch, bad, &n)) != NULL)
		rc = log__attempt(w, batch, &bad);
	if (batch == NULL)
		return;
	log__account(w, n, rc);
	log__report(w, n, rc);
	if (rc == 0 && w->o.on_commit != NULL) {
		ci = (log_commit_info){ .jobs = n, .events = w->events, .ranges = w->rg,
		    .nranges = w->nrg, .commit_ns = w->commit_ns };
		w->o.on_commit(w->o.ctx, &ci);
	}
	while (batch != NULL) {
		log_job *j = batch;

		batch = j->next__;	/* done() may free j */
		j->next__ = NULL;
		j->done(j, rc != 0 ? rc : j->rc__);
	}
}

/* Detach up to max_batch jobs from the queue; NULL once stopped and empty. */
static log_job *log__take(log_writer *w, size_t *n)
{
	log_job *batch, *last;

	pthread_mutex_lock(&w->mu);
	while (w->head == NULL && !w->stopping)
		pthread_cond_wait(&w->cv, &w->mu);
	batch = last = w->head;
	*n = batch != NULL;
	while (last != NULL && last->next__ != NULL && *n < w->o.max_batch) {
		last = last->next__;
		(*n)++;
	}
	if (last != NULL) {
		w->head = last->next__;
		if (w->head == NULL)
			w->tail = NULL;
		last->next__ = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	return batch;
}

static void *log__writer_main(void *arg)
{
	log_writer *w = arg;
	log_job *batch;
	size_t n;

	while ((batch = log__take(w, &n)) != NULL)
		log__batch(w, batch, n);
	return NULL;
}

int log_writer_start(log_store *s, const log_writer_opts *opts, log_writer **out)
{
	log_writer *w = calloc(1, sizeof *w);
	int rc;

	if (w == NULL)
		return ENOMEM;
	w->s = s;
	if (opts != NULL)
		w->o = *opts;
	if (w->o.max_batch == 0)
		w->o.max_batch = 4096;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((rc = pthread_create(&w->th, NULL, log__writer_main, w)) != 0)
		goto err;
	*out = w;
	return 0;
err:
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return rc;
}

int log_writer_submit(log_writer *w, log_job *job)
{
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return LOG_ESTOPPED;
	}
	job->next__ = NULL;
	job->rc__ = 0;
	if (w->tail != NULL)
		w->tail->next__ = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void log_writer_stop(log_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->rg);
	free(w);
}

void log_writer_get_stats(log_writer *w, log_writer_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}
