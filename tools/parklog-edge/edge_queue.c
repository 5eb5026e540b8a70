/* edge_queue.c — the on-disk queue of actions for the central. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <xxhash.h>

#include "msg/msg.h"

#include "tools/parklog-edge/edge_queue.h"

#define QMAGIC	0x31525150u	/* "PQR1" little-endian */
#define QHDR	16		/* magic u32, len u32, xxh64 u64 */

struct edge_queue {
	int fd, dirfd;
	uint64_t pos;		/* first undelivered record (or bad bytes) */
	uint64_t end;		/* end of the last whole record */
	uint64_t next;		/* after the record last peeked; 0: none */
	size_t pending;		/* valid records at or after pos */
	size_t dead;		/* set aside since open */
};

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t r = pread(fd, buf, n, (off_t)off);

	if (r < 0)
		return errno;
	return (size_t)r == n ? 0 : ENODATA;
}

/* Check the record at off: its payload length, or -1 if torn/absent. */
static long rec_check(int fd, uint64_t off, char **payload)
{
	unsigned char h[QHDR];
	uint32_t magic, len;
	uint64_t sum;
	char *p;

	if (read_at(fd, h, QHDR, off) != 0)
		return -1;
	memcpy(&magic, h, 4);
	memcpy(&len, h + 4, 4);
	memcpy(&sum, h + 8, 8);
	if (magic != QMAGIC || len > EDGE_QUEUE_REC_MAX || (p = malloc(len + 1)) == NULL)
		return -1;
	if (read_at(fd, p, len, off + QHDR) != 0 || XXH64(p, len, 0) != sum) {
		free(p);
		return -1;
	}
	p[len] = '\0';
	if (payload != NULL)
		*payload = p;
	else
		free(p);
	return (long)len;
}

/* Resynchronise: the first offset in [from, limit) where a whole valid
 * record starts and ends within limit, or UINT64_MAX. Every place the
 * magic appears is tried; a false match needs a matching XXH64 too. */
static uint64_t rec_find(int fd, uint64_t from, uint64_t limit)
{
	static const uint32_t magic = QMAGIC;
	unsigned char buf[16384];
	uint64_t off = from;
	ssize_t n;
	long len;

	while (off + QHDR <= limit) {
		size_t want = limit - off < sizeof buf ? (size_t)(limit - off) : sizeof buf;

		if ((n = pread(fd, buf, want, (off_t)off)) < 4)
			return UINT64_MAX;
		for (size_t i = 0; i + 4 <= (size_t)n; i++)
			if (memcmp(buf + i, &magic, 4) == 0 &&
			    (len = rec_check(fd, off + i, NULL)) >= 0 &&
			    off + i + QHDR + (uint64_t)len <= limit)
				return off + i;
		off += (uint64_t)n - 3;	/* a magic may straddle two reads */
	}
	return UINT64_MAX;
}

static int pos_read(edge_queue *q)
{
	unsigned char b[16];
	uint64_t sum;
	int fd = openat(q->dirfd, "queue.pos", O_RDONLY | O_CLOEXEC), rc;

	q->pos = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : errno;
	rc = read_at(fd, b, sizeof b, 0);
	close(fd);
	if (rc != 0)
		return rc == ENODATA ? EBADMSG : rc;
	memcpy(&q->pos, b, 8);
	memcpy(&sum, b + 8, 8);
	return XXH64(b, 8, 0) == sum ? 0 : EBADMSG;
}

/* Replace queue.pos atomically: temp, fsync, rename, fsync the directory. */
static int pos_write(edge_queue *q, uint64_t pos)
{
	unsigned char b[16];
	uint64_t sum = XXH64(&pos, 8, 0);
	int fd, rc = 0;

	memcpy(b, &pos, 8);
	memcpy(b + 8, &sum, 8);
	fd = openat(q->dirfd, "queue.pos.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	if (write(fd, b, sizeof b) != (ssize_t)sizeof b || fsync(fd) != 0)
		rc = errno ? errno : EIO;
	close(fd);
	if (rc == 0 && renameat(q->dirfd, "queue.pos.tmp", q->dirfd, "queue.pos") != 0)
		rc = errno;
	if (rc == 0 && fsync(q->dirfd) != 0)
		rc = errno;
	if (rc == 0)
		q->pos = pos;
	return rc;
}

/* What a walk of queue.log found. */
typedef struct scan_state {
	uint64_t back;		/* last boundary at or before pos */
	size_t nrec, nback;	/* valid records; those before back */
	int at_pos;		/* pos is a boundary */
} scan_state;

/* A boundary: a record, bad bytes skipped, or the end. */
static void scan_mark(const edge_queue *q, scan_state *ss, uint64_t off)
{
	if (off <= q->pos) {
		ss->back = off;
		ss->nback = ss->nrec;
	}
	ss->at_pos |= off == q->pos;
}

/* Walk the records, skipping unreadable ones; cut bad bytes after the last
 * whole record. Sets end; counts into ss and rep. */
static int scan_walk(edge_queue *q, scan_state *ss, edge_queue_report *rep)
{
	struct stat st;
	uint64_t off = 0, size, nx;
	long len;

	if (fstat(q->fd, &st) != 0)
		return errno;
	size = (uint64_t)st.st_size;
	while (off < size) {
		scan_mark(q, ss, off);
		if ((len = rec_check(q->fd, off, NULL)) >= 0 &&
		    off + QHDR + (uint64_t)len <= size) {
			ss->nrec++;
			off += QHDR + (uint64_t)len;
			continue;
		}
		if ((nx = rec_find(q->fd, off + 1, size)) == UINT64_MAX)
			break;		/* nothing whole after it: a torn tail */
		rep->skipped++;
		rep->skipped_bytes += nx - off;
		off = nx;
	}
	scan_mark(q, ss, off);
	rep->cut = (size_t)(size - off);
	if (size != off && (ftruncate(q->fd, (off_t)off) != 0 || fsync(q->fd) != 0))
		return errno;
	q->end = off;
	return 0;
}

/* Walk, then settle pos: kept if it is a boundary; beyond an empty file
 * (cut after a full delivery, see the header) 0; else rebuilt. */
static int scan(edge_queue *q, int pos_bad, edge_queue_report *rep)
{
	scan_state ss = { .back = 0 };
	uint64_t pos;
	int rc;

	if ((rc = scan_walk(q, &ss, rep)) != 0)
		return rc;
	if (!pos_bad && ss.at_pos) {
		q->pending = ss.nrec - ss.nback;
		rep->pos = q->pos;
		return 0;
	}
	if (!pos_bad && q->pos > q->end && q->end == 0) {
		q->pending = 0;
		return pos_write(q, 0);
	}
	/* A checksummed pos inside the file: the boundary before it (one
	 * record resent at most). Garbage or beyond the records: from the
	 * first record; the central drops what it already has by id. */
	rep->pos_rebuilt = 1;
	pos = !pos_bad && q->pos <= q->end ? ss.back : 0;
	q->pending = pos == 0 ? ss.nrec : ss.nrec - ss.nback;
	rep->pos = pos;
	return pos_write(q, pos);
}

int edge_queue_open(const char *dir, edge_queue **out, edge_queue_report *rep)
{
	edge_queue *q = calloc(1, sizeof *q);
	edge_queue_report dummy;
	int rc, pos_bad = 0;

	*out = NULL;
	if (q == NULL)
		return ENOMEM;
	q->fd = q->dirfd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		goto fail;
	if ((q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	q->fd = openat(q->dirfd, "queue.log", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->fd < 0)
		goto fail;
	if (rep == NULL)
		rep = &dummy;
	memset(rep, 0, sizeof *rep);
	/* an unreadable queue.pos is rebuilt, not a reason to stop */
	if ((rc = pos_read(q)) == EBADMSG)
		pos_bad = 1;
	else if (rc != 0)
		goto err;
	if ((rc = scan(q, pos_bad, rep)) != 0)
		goto err;
	*out = q;
	return 0;
fail:
	rc = errno;
err:
	edge_queue_close(q);
	return rc;
}

void edge_queue_close(edge_queue *q)
{
	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	if (q->dirfd >= 0)
		close(q->dirfd);
	free(q);
}

int edge_queue_push(edge_queue *q, const char *path, const char *id, const char *body)
{
	size_t lp = strlen(path) + 1, li = strlen(id) + 1, lb = strlen(body);
	size_t len = lp + li + lb;
	uint32_t magic = QMAGIC, l32 = (uint32_t)len;
	uint64_t sum;
	char *buf;
	int rc = 0;

	if (len > EDGE_QUEUE_REC_MAX || lp > EDGE_QUEUE_PATH_MAX || li > EDGE_QUEUE_ID_MAX)
		return EMSGSIZE;
	if ((buf = malloc(QHDR + len)) == NULL)
		return ENOMEM;
	memcpy(buf + QHDR, path, lp);
	memcpy(buf + QHDR + lp, id, li);
	memcpy(buf + QHDR + lp + li, body, lb);
	sum = XXH64(buf + QHDR, len, 0);
	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &l32, 4);
	memcpy(buf + 8, &sum, 8);
	/* One write at the end; fdatasync before it counts as queued. */
	if (pwrite(q->fd, buf, QHDR + len, (off_t)q->end) != (ssize_t)(QHDR + len) ||
	    fdatasync(q->fd) != 0) {
		rc = errno ? errno : EIO;
		if (ftruncate(q->fd, (off_t)q->end) != 0)
			rc = errno;
	} else {
		q->end += QHDR + len;
		q->pending++;
	}
	free(buf);
	return rc;
}

int edge_queue_peek(edge_queue *q, edge_qrec *rec)
{
	uint64_t at = q->pos;
	char *p = NULL;
	long len;
	size_t lp, li;

	msg_assert(q->pos <= q->end);
	memset(rec, 0, sizeof *rec);
	if (q->pos >= q->end)
		return ENOENT;
	/* bad bytes at pos (skipped at open): the next whole record */
	if ((len = rec_check(q->fd, at, &p)) < 0 &&
	    ((at = rec_find(q->fd, q->pos + 1, q->end)) == UINT64_MAX ||
	    (len = rec_check(q->fd, at, &p)) < 0))
		return EBADMSG;	/* the disk changed under us */
	lp = strnlen(p, (size_t)len) + 1;
	li = lp < (size_t)len ? strnlen(p + lp, (size_t)len - lp) + 1 : 0;
	if (li == 0 || lp > EDGE_QUEUE_PATH_MAX || li > EDGE_QUEUE_ID_MAX ||
	    lp + li > (size_t)len + 1 || (rec->body = strdup(p + lp + li)) == NULL) {
		free(p);
		return EBADMSG;
	}
	memcpy(rec->path, p, lp);
	memcpy(rec->id, p + lp, li);
	free(p);
	q->next = at + QHDR + (uint64_t)len;
	msg_assert(q->next > q->pos && q->next <= q->end);
	return 0;
}

int edge_queue_pop(edge_queue *q)
{
	int rc;

	if (q->next == 0)
		return EINVAL;
	msg_assert(q->next > q->pos && q->next <= q->end && q->pending > 0);
	if (q->next == q->end) {
		/* All delivered: cut first, then the position (see header). */
		if (ftruncate(q->fd, 0) != 0 || fsync(q->fd) != 0)
			return errno;
		q->end = q->pos = 0;
		rc = pos_write(q, 0);
	} else {
		rc = pos_write(q, q->next);
	}
	if (rc == 0) {
		q->next = 0;
		q->pending--;
	}
	return rc;
}

int edge_queue_dead(edge_queue *q, const edge_qrec *rec, int status,
    const char *answer)
{
	cJSON *o = cJSON_CreateObject();
	char *line = NULL;
	size_t n;
	int fd = -1, rc = ENOMEM;

	if (q->next == 0)
		rc = EINVAL;
	else if (o != NULL && cJSON_AddStringToObject(o, "id", rec->id) &&
	    cJSON_AddStringToObject(o, "path", rec->path) &&
	    cJSON_AddStringToObject(o, "body", rec->body) &&
	    cJSON_AddNumberToObject(o, "status", status) &&
	    cJSON_AddStringToObject(o, "answer", answer ? answer : "") &&
	    (line = cJSON_PrintUnformatted(o)) != NULL) {
		n = strlen(line);
		line[n] = '\n';	/* over the NUL: written with its length */
		fd = openat(q->dirfd, "dead.ndjson",
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = errno;
		else if (write(fd, line, n + 1) != (ssize_t)(n + 1) || fsync(fd) != 0)
			rc = errno ? errno : EIO;
		else
			rc = 0;
	}
	if (fd >= 0)
		close(fd);
	free(line);
	cJSON_Delete(o);
	if (rc == 0 && (rc = edge_queue_pop(q)) == 0)
		q->dead++;
	return rc;
}

size_t edge_queue_dead_count(const edge_queue *q)
{
	return q->dead;
}

size_t edge_queue_pending(const edge_queue *q)
{
	return q->pending;
}

void edge_qrec_free(edge_qrec *rec)
{
	free(rec->body);
	rec->body = NULL;
}
