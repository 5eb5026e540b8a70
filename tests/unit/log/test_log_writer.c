/* log/writer: group commit from many producer threads, draining stop, map
 * growth with a retried batch. */
#include "tests/harness/t.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <unistd.h>

#include "log/writer.h"

#define T0 1764547200000LL

typedef struct job {
	log_job j;
	int k;
	atomic_int runs;
	atomic_int dones;
	int rc;
	uint64_t seq;
} job;

typedef struct ctx {
	atomic_long done;
	atomic_long committed_events;
	atomic_long commits;
	atomic_int gate;		/* a run() waits until it is set */
	log_writer *w;
	atomic_int refused;
} ctx;

static ctx C;

static int run_append(log_job *lj, log_txn *t)
{
	job *jb = (job *)lj;
	log_event e;
	int rc;

	atomic_fetch_add(&jb->runs, 1);
	memset(&e, 0, sizeof e);
	e.type = LOG_EV_ENTRY_PENDING;
	snprintf(e.plate, sizeof e.plate, "29A%06d", jb->k);
	snprintf(e.plate_view, sizeof e.plate_view, "29A-%06d", jb->k);
	snprintf(e.vehicle, sizeof e.vehicle, "car");
	snprintf(e.edge_id, sizeof e.edge_id, "edge-1");
	e.confidence_milli = 950;
	e.entry_ts = e.duration_s = -1;
	if ((rc = log_txn_next_ts(t, e.plate, T0, &e.ts)) != 0 ||
	    (rc = log_txn_append_own(t, &e)) != 0)
		return rc;
	jb->seq = e.seq;
	return 0;
}

static int run_gate(log_job *lj, log_txn *t)
{
	while (!atomic_load(&C.gate))
		usleep(1000);
	return run_append(lj, t);
}

static void done(log_job *lj, int rc)
{
	job *jb = (job *)lj;

	jb->rc = rc;
	atomic_fetch_add(&jb->dones, 1);
	atomic_fetch_add(&C.done, 1);
}

/* done() during log_writer_stop: a new submit is refused. */
static void done_resubmit(log_job *lj, int rc)
{
	static log_job extra;

	done(lj, rc);
	if (log_writer_submit(C.w, &extra) == LOG_ESTOPPED)
		atomic_store(&C.refused, 1);
}

static void on_commit(void *p, const log_commit_info *ci)
{
	ctx *c = p;
	long ev = 0;

	for (size_t i = 0; i < ci->nranges; i++)
		ev += (long)(ci->ranges[i].last_seq - ci->ranges[i].first_seq + 1);
	T_EQ_U64(ev, ci->events);
	atomic_fetch_add(&c->committed_events, ev);
	atomic_fetch_add(&c->commits, 1);
}

static log_store *open_store(size_t mapsize)
{
	log_store_opts o = { .origin = "central-1", .durability = LOG_DURABLE_FULL,
	    .mapsize = mapsize };
	log_store *s;

	T_EQ_INT(0, log_store_open(t_tmpdir, &o, &s));
	return s;
}

#define NTHREADS 8
#define PER_THREAD 500

struct producer {
	log_writer *w;
	job *jobs;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < PER_THREAD; i++)
		if (log_writer_submit(p->w, &p->jobs[i].j) != 0)
			abort();
	return NULL;
}

static void wait_done(long n)
{
	for (int i = 0; i < 30000 && atomic_load(&C.done) < n; i++)
		usleep(1000);
	T_EQ_INT(n, atomic_load(&C.done));
}

TEST(many_threads_group_commit)
{
	log_store *s = open_store(0);
	log_writer_opts o = { .on_commit = on_commit, .ctx = &C };
	job *jobs = calloc(NTHREADS * PER_THREAD, sizeof *jobs);
	struct producer pr[NTHREADS];
	pthread_t th[NTHREADS];
	log_writer_stats st;
	log_writer *w;
	char *seen = calloc(NTHREADS * PER_THREAD + 1, 1);

	T_EQ_INT(0, log_writer_start(s, &o, &w));
	for (int i = 0; i < NTHREADS * PER_THREAD; i++)
		jobs[i] = (job){ .j = { .run = run_append, .done = done }, .k = i };
	for (int i = 0; i < NTHREADS; i++) {
		pr[i] = (struct producer){ w, jobs + i * PER_THREAD };
		T_EQ_INT(0, pthread_create(&th[i], NULL, produce, &pr[i]));
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	wait_done(NTHREADS * PER_THREAD);
	log_writer_get_stats(w, &st);
	log_writer_stop(w);
	for (int i = 0; i < NTHREADS * PER_THREAD; i++) {
		T_EQ_INT(1, atomic_load(&jobs[i].dones));
		T_EQ_INT(0, jobs[i].rc);
		T_ASSERT(jobs[i].seq >= 1 && jobs[i].seq <= NTHREADS * PER_THREAD);
		T_ASSERT(!seen[jobs[i].seq]);
		seen[jobs[i].seq] = 1;
	}
	T_EQ_U64(NTHREADS * PER_THREAD, st.jobs);
	T_EQ_U64(NTHREADS * PER_THREAD, st.events);
	T_EQ_U64(NTHREADS * PER_THREAD, atomic_load(&C.committed_events));
	T_EQ_U64(st.commits, atomic_load(&C.commits));
	T_ASSERT(st.commits < st.jobs);		/* batching happened */
	{
		uint64_t sum = 0;

		for (int i = 0; i < 8; i++)
			sum += st.batch_hist[i];
		T_EQ_U64(st.commits, sum);
	}
	T_ASSERT(st.commit_ns_total > 0 && st.commit_ns_max > 0);
	printf("  %" PRIu64 " jobs in %" PRIu64 " commits\n", st.jobs, st.commits);
	log_store_close(s);
	free(jobs);
	free(seen);
}

static void *open_gate_later(void *arg)
{
	usleep(50000);
	atomic_store(&C.gate, 1);
	return NULL;
}

TEST(stop_drains_the_queue)
{
	log_store *s = open_store(0);
	log_writer_opts o = { .max_batch = 64 };
	job *jobs = calloc(2000, sizeof *jobs);
	log_writer *w;
	pthread_t th;

	T_EQ_INT(0, log_writer_start(s, &o, &w));
	C.w = w;
	jobs[0] = (job){ .j = { .run = run_gate, .done = done_resubmit }, .k = 0 };
	for (int i = 1; i < 2000; i++)
		jobs[i] = (job){ .j = { .run = run_append, .done = done }, .k = i };
	for (int i = 0; i < 2000; i++)
		T_EQ_INT(0, log_writer_submit(w, &jobs[i].j));
	/* The first batch is still running when stop begins. */
	T_EQ_INT(0, pthread_create(&th, NULL, open_gate_later, NULL));
	log_writer_stop(w);		/* returns only when everything is done */
	pthread_join(th, NULL);
	T_EQ_INT(2000, atomic_load(&C.done));
	for (int i = 0; i < 2000; i++) {
		T_EQ_INT(1, atomic_load(&jobs[i].dones));
		T_EQ_INT(0, jobs[i].rc);
	}
	T_EQ_INT(1, atomic_load(&C.refused));
	log_store_close(s);
	free(jobs);
}

/* A batch larger than the whole map: MAP_FULL, grow, the batch runs again. */
TEST(map_full_retries_the_batch)
{
	log_store *s = open_store((size_t)1 << 20);
	log_writer_opts o = { 0 };
	enum { N = 2500 };
	job *jobs = calloc(N, sizeof *jobs);
	log_writer_stats st;
	log_writer *w;
	int rerun = 0;

	T_EQ_INT(0, log_writer_start(s, &o, &w));
	jobs[0] = (job){ .j = { .run = run_gate, .done = done }, .k = 0 };
	for (int i = 1; i < N; i++)
		jobs[i] = (job){ .j = { .run = run_append, .done = done }, .k = i };
	for (int i = 0; i < N; i++)
		T_EQ_INT(0, log_writer_submit(w, &jobs[i].j));
	atomic_store(&C.gate, 1);
	wait_done(N);
	log_writer_get_stats(w, &st);
	log_writer_stop(w);
	for (int i = 0; i < N; i++) {
		T_EQ_INT(0, jobs[i].rc);
		rerun += atomic_load(&jobs[i].runs) > 1;
	}
	T_ASSERT(rerun > 0);
	T_EQ_U64(N, st.events);
	log_store_close(s);
	free(jobs);
}

/* An apply hook that fails for one plate: that event would be half-written. */
static int apply_fail_k1(void *hook, log_txn *t, const log_event *ev, const log_rec *rec)
{
	(void)hook; (void)t; (void)rec;
	return strcmp(ev->plate, "29A000001") == 0 ? ENOSPC : 0;
}

TEST(a_job_that_breaks_the_txn_fails_alone)
{
	log_store *s = open_store(0);
	log_writer *w;
	job jobs[3];
	log_txn *t;
	log_rec r;
	char id[LOG_ID_MAX + 1];

	memset(&C, 0, sizeof C);
	memset(jobs, 0, sizeof jobs);
	log_store_set_apply(s, apply_fail_k1, NULL);
	atomic_store(&C.gate, 0);
	T_EQ_INT(0, log_writer_start(s, NULL, &w));
	for (int i = 0; i < 3; i++) {	/* one batch: the first run waits */
		jobs[i].k = i;
		jobs[i].j.run = i == 0 ? run_gate : run_append;
		jobs[i].j.done = done;
		T_EQ_INT(0, log_writer_submit(w, &jobs[i].j));
	}
	atomic_store(&C.gate, 1);
	wait_done(3);
	T_EQ_INT(0, jobs[0].rc);
	T_EQ_INT(ENOSPC, jobs[1].rc);
	T_EQ_INT(0, jobs[2].rc);
	log_writer_stop(w);
	T_EQ_INT(0, log_txn_begin(s, 0, &t));
	log_event_id(id, "central-1", T0, "29A000001");
	T_EQ_INT(LOG_NOTFOUND, log_txn_get_id(t, id, &r));
	log_event_id(id, "central-1", T0, "29A000002");
	T_EQ_INT(0, log_txn_get_id(t, id, &r));
	T_EQ_INT(2, r.seq);	/* the broken append left no hole behind */
	log_txn_abort(t);
	log_store_close(s);
}

/* A run() that breaks writer.h's rule: appends, then reports an error. */
static int run_append_then_fail(log_job *lj, log_txn *t)
{
	int rc = run_append(lj, t);

	return rc ? rc : EINVAL;
}

/* Issue 12: writer.h's rule "a run() that returns non-zero must not have
 * appended anything" is checked: breaking it aborts with file:line instead
 * of committing events whose request was answered with an error. */
TEST(a_failed_job_that_appended_aborts)
{
	char path[4200], out[4096] = "";
	struct rlimit nocore = { 0, 0 };
	pid_t pid;
	int st = 0, fd;
	ssize_t n;

	snprintf(path, sizeof path, "%s/stderr", t_tmpdir);
	if ((pid = fork()) == 0) {
		static job jb = { .j = { .run = run_append_then_fail, .done = done }, .k = 1 };
		log_writer *w;

		setrlimit(RLIMIT_CORE, &nocore);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(2);
		if (log_writer_start(open_store(0), NULL, &w) != 0 ||
		    log_writer_submit(w, &jb.j) != 0)
			_exit(3);
		log_writer_stop(w);
		_exit(0);
	}
	T_EQ_INT(pid, waitpid(pid, &st, 0));
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	T_ASSERT((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, out, sizeof out - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	T_ASSERT(strstr(out, "writer.c:") != NULL);
	T_ASSERT(strstr(out, "assertion failed: j->rc__ == 0 || log__appended(t) == before") != NULL);
}

T_MAIN()
