/* peers/job.c — the peer service's writer jobs: a batch received from a
 * peer (appended in the writer's group commit, projections included), and
 * the progress records of the `peers` table. run() executes on the writer
 * thread inside the batch's write transaction; done() hands the job back to
 * the service thread (lws_cancel_service). */
#include "peers/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "msg/msg.h"

void peer__job_free(peer__job *j)
{
	if (j == NULL)
		return;
	free(j->buf);
	if (j->f != NULL)
		peer_frame_clear(j->f);
	free(j->f);
	for (size_t i = 0; i < j->nrecs; i++)
		free(j->recs[i]);
	free(j->recs);
	free(j);
}

static void peer__job_done(log_job *job, int rc)
{
	peer__job *j = job->arg;
	peer_service *svc = j->svc;

	if (rc != 0) {
		j->rc = rc;
		j->verdict = PEER_V_FAILED;
	}
	pthread_mutex_lock(&svc->qmu);
	if (j->recs != NULL)
		svc->persist_busy = 0;
	j->next = svc->done;
	svc->done = j;
	if (svc->ctx != NULL)
		lws_cancel_service(svc->ctx);
	if (--svc->jobs == 0)
		pthread_cond_broadcast(&svc->qcond);
	pthread_mutex_unlock(&svc->qmu);
}

static int peer__submit(peer_service *svc, peer__job *j)
{
	int rc;

	j->svc = svc;
	j->job.done = peer__job_done;
	j->job.arg = j;
	pthread_mutex_lock(&svc->qmu);
	svc->jobs++;
	pthread_mutex_unlock(&svc->qmu);
	if ((rc = log_writer_submit(svc->writer, &j->job)) != 0) {
		pthread_mutex_lock(&svc->qmu);
		if (--svc->jobs == 0)
			pthread_cond_broadcast(&svc->qcond);
		pthread_mutex_unlock(&svc->qmu);
	}
	return rc;
}

/* ---- a batch from a peer ------------------------------------------------ */

/* A batch of our own current stream: a peer echoing what we wrote. Fine if
 * it is exactly what we hold; anything else is a forgery or a fork. */
static int peer__own_echo(peer__job *j, log_txn *t, const log_stream_info *si)
{
	const peer_frame *f = j->f;
	uint64_t sum = 0, d;
	int rc;

	if (f->prev_seq + f->nevents > si->head_seq) {
		j->verdict = PEER_V_FORK;
		j->fork_seq = si->head_seq + 1;
		snprintf(j->why, sizeof j->why, "events beyond our own head");
		return 0;
	}
	for (size_t i = 0; i < f->nevents; i++)
		sum += XXH3_64bits(f->events[i].p, f->events[i].len);
	if ((rc = log_txn_digest(t, si->no, f->prev_seq, f->prev_seq + f->nevents, &d)) != 0)
		return rc;
	if (d != sum) {
		j->verdict = PEER_V_FORK;
		j->fork_seq = f->prev_seq + 1;
		snprintf(j->why, sizeof j->why, "our own events with other bytes");
	}
	return 0;
}

/* A stream whose origin is this central: a peer may never create one (we
 * are its only writer), nor extend our current one (peer__own_echo). The
 * lost tail of an older own stream we hold comes back after a restore
 * from an old backup (DESIGN.md, Streams): allowed, and said (own_tail).
 * 1 if the batch is refused (verdict and why set). */
static int peer__own_origin(peer__job *j, const log_stream_info *si, int held)
{
	const peer_frame *f = j->f;
	char origin[LOG_ORIGIN_MAX + 1];
	uint64_t epoch;

	if (log_stream_parse(f->stream, origin, &epoch) != 0 ||
	    strcmp(origin, j->svc->node) != 0)
		return 0;
	if (!held) {
		j->verdict = PEER_V_FORK;
		j->fork_seq = f->prev_seq + 1;
		snprintf(j->why, sizeof j->why, "a stream under our own origin %s that we "
		    "never wrote: refused", origin);
		return 1;
	}
	if (f->prev_seq + f->nevents > si->head_seq)
		j->own_tail = 1;
	return 0;
}

/* A refusal of this batch by the log, not a failure of the transaction. */
static int peer__soft(int rc)
{
	switch (rc) {
	case LOG_DUP: case LOG_EFORK: case LOG_ESTREAM: case LOG_EGAP: case LOG_EPREV:
	case LOG_EEVENT_SYNTAX: case LOG_EEVENT_FIELD: case LOG_EEVENT_VALUE:
	case LOG_EEVENT_NONCANON: case LOG_EEVENT_SPACE:
		return 1;
	default:
		return 0;
	}
}

/* One event's append result → the verdict; 1 to stop the batch. */
static int peer__append_result(peer__job *j, int rc, uint64_t seq, const char *err)
{
	if (rc == 0) {
		j->appended++;
		return 0;
	}
	if (rc == LOG_DUP)
		return 0;
	j->fork_seq = seq;
	snprintf(j->why, sizeof j->why, "seq %" PRIu64 ": %s%s%s", seq, log_strerror(rc),
	    err[0] ? ": " : "", err);
	if (rc == LOG_EFORK || rc == LOG_ESTREAM)
		j->verdict = PEER_V_FORK;
	else if (rc == LOG_EGAP || rc == LOG_EPREV)
		j->verdict = PEER_V_GAP;
	else
		j->verdict = PEER_V_BAD;	/* LOG_EEVENT_*: strict decoding refused it */
	return 1;
}

/* prev/head continuity of a batch taken whole: every event is held at
 * prev+1.. (appended or already there), and where the head is the batch's
 * end, P(head) = P(prev) + the events' hashes (P(prev) was checked). */
static void peer__check_applied(const peer__job *j)
{
	const peer_frame *f = j->f;
	uint64_t sum = f->prev_P;

	if (j->verdict != PEER_V_APPENDED)
		return;
	msg_assert(j->head >= f->prev_seq + f->nevents);
	if (j->head != f->prev_seq + f->nevents)
		return;
	for (size_t i = 0; i < f->nevents; i++)
		sum += XXH3_64bits(f->events[i].p, f->events[i].len);
	msg_assert(j->head_P == sum);
}

static int peer__batch_run(log_job *job, log_txn *t)
{
	peer__job *j = job->arg;
	const peer_frame *f = j->f;
	const char *own = log_store_own_stream(j->svc->store);
	log_stream_info si;
	char err[200];
	uint64_t p;
	int rc;

	/* the writer runs a batch again after growing a full map */
	j->verdict = PEER_V_APPENDED;
	j->appended = 0;
	j->own_tail = 0;
	j->why[0] = '\0';
	memset(&si, 0, sizeof si);
	if ((rc = log_txn_stream_find(t, f->stream, &si)) != 0 && rc != LOG_NOTFOUND)
		return rc;
	j->head = si.head_seq;
	j->head_P = si.head_P;
	if ((own == NULL || strcmp(own, f->stream) != 0) &&
	    peer__own_origin(j, &si, rc != LOG_NOTFOUND))
		return 0;
	if (f->prev_seq > si.head_seq) {
		j->verdict = PEER_V_GAP;
		return 0;
	}
	if (f->prev_seq == si.head_seq)
		p = si.head_P;
	else if ((rc = log_txn_digest(t, si.no, 0, f->prev_seq, &p)) != 0)
		return rc;
	if (p != f->prev_P) {
		j->verdict = PEER_V_FORK;
		j->fork_seq = f->prev_seq;
		snprintf(j->why, sizeof j->why, "digest P(%" PRIu64 ") differs", f->prev_seq);
		return 0;
	}
	if (own != NULL && strcmp(own, f->stream) == 0)
		return peer__own_echo(j, t, &si);
	for (size_t i = 0; i < f->nevents; i++) {
		err[0] = '\0';
		rc = log_txn_append_peer(t, f->events[i].p, f->events[i].len, err, sizeof err);
		if (rc != 0 && !peer__soft(rc)) {
			/* LMDB, I/O, projections: the txn fails (earlier events
			 * of this batch may be in it: writer.h's rule) */
			log_txn_set_failed(t, rc);
			return rc;
		}
		if (peer__append_result(j, rc, f->prev_seq + 1 + i, err))
			break;
	}
	if ((rc = log_txn_stream_find(t, f->stream, &si)) == 0) {
		j->head = si.head_seq;
		j->head_P = si.head_P;
		peer__check_applied(j);
	}
	return rc == LOG_NOTFOUND ? 0 : rc;
}

int peer__submit_batch(peer__conn *c, char *buf, peer_frame *f)
{
	peer__job *j = calloc(1, sizeof *j);
	int rc;

	if (j == NULL)
		return ENOMEM;
	j->job.run = peer__batch_run;
	j->conn_id = c->id;
	j->buf = buf;
	j->f = f;
	if ((rc = peer__submit(c->svc, j)) != 0) {
		j->buf = NULL;		/* still the caller's */
		j->f = NULL;
		peer__job_free(j);
	}
	return rc;
}

/* ---- progress records ---------------------------------------------------- */

static int peer__persist_run(log_job *job, log_txn *t)
{
	peer__job *j = job->arg;
	MDB_txn *mt = log_txn_mdb(t);
	int rc;

	for (size_t i = 0; i < j->nrecs; i++) {
		size_t kl = strlen(j->recs[i]);
		MDB_val k = { kl, j->recs[i] };
		MDB_val v = { strlen(j->recs[i] + kl + 1), j->recs[i] + kl + 1 };

		if ((rc = mdb_put(mt, j->svc->dbi, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

/* Queue the records of the peers whose progress changed (all if `all`). */
int peer__submit_persist(peer_service *svc, int all)
{
	peer__job *j;
	int rc;

	if (svc->writer == NULL)
		return 0;
	pthread_mutex_lock(&svc->qmu);
	rc = svc->persist_busy;
	svc->persist_busy = 1;
	pthread_mutex_unlock(&svc->qmu);
	if (rc)
		return 0;	/* one at a time; the next tick catches up */
	if ((j = calloc(1, sizeof *j)) == NULL ||
	    (j->recs = calloc(svc->npeers ? svc->npeers : 1, sizeof *j->recs)) == NULL) {
		rc = ENOMEM;
		goto err;
	}
	pthread_mutex_lock(&svc->mu);
	for (size_t i = 0; i < svc->npeers; i++)
		if (svc->peers[i] != NULL && (all || svc->peers[i]->dirty)) {
			svc->peers[i]->dirty = 0;
			if ((j->recs[j->nrecs] = peer__progress_json(&svc->peers[i]->st)) != NULL)
				j->nrecs++;
		}
	pthread_mutex_unlock(&svc->mu);
	if (j->nrecs == 0) {
		rc = 0;
		goto err;
	}
	j->job.run = peer__persist_run;
	if ((rc = peer__submit(svc, j)) != 0)
		goto err;
	return 0;
err:
	peer__job_free(j);
	pthread_mutex_lock(&svc->qmu);
	svc->persist_busy = 0;
	pthread_mutex_unlock(&svc->qmu);
	return rc;
}
