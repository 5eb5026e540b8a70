/* edge_queue.c — the on-disk queue of actions for the central. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "tools/parklog-edge/edge_queue.h"

#define QMAGIC	0x31525150u	/* "PQR1" little-endian */
#define QHDR	16		/* magic u32, len u32, xxh64 u64 */

struct edge_queue {
	int fd, dirfd;
	uint64_t pos;		/* first undelivered record */
	uint64_t end;		/* end of the last whole record */
	uint64_t next;		/* after the record last peeked; 0: none */
	size_t pending;
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

/* Walk the records; cut the file after the last whole one. */
static int scan(edge_queue *q, size_t *cut)
{
	struct stat st;
	uint64_t off = 0;
	long len;
	int pos_seen = q->pos == 0;

	if (fstat(q->fd, &st) != 0)
		return errno;
	q->pending = 0;
	while ((len = rec_check(q->fd, off, NULL)) >= 0) {
		if (off >= q->pos)
			q->pending++;
		off += QHDR + (uint64_t)len;
		pos_seen |= off == q->pos;
	}
	if (cut != NULL)
		*cut = (size_t)((uint64_t)st.st_size - off);
	if ((uint64_t)st.st_size != off &&
	    (ftruncate(q->fd, (off_t)off) != 0 || fsync(q->fd) != 0))
		return errno;
	q->end = off;
	/* pos beyond the end: the file was cut after a full delivery. */
	if (q->pos > q->end)
		return pos_write(q, q->end);
	return pos_seen ? 0 : EBADMSG;
}

int edge_queue_open(const char *dir, edge_queue **out, size_t *cut)
{
	edge_queue *q = calloc(1, sizeof *q);
	int rc;

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
	if ((rc = pos_read(q)) != 0 || (rc = scan(q, cut)) != 0)
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
	char *p = NULL;
	long len;
	size_t lp, li;

	memset(rec, 0, sizeof *rec);
	if (q->pos >= q->end)
		return ENOENT;
	if ((len = rec_check(q->fd, q->pos, &p)) < 0)
		return EBADMSG;	/* checked at open: the disk changed under us */
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
	q->next = q->pos + QHDR + (uint64_t)len;
	return 0;
}

int edge_queue_pop(edge_queue *q)
{
	int rc;

	if (q->next == 0)
		return EINVAL;
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

size_t edge_queue_pending(const edge_queue *q)
{
	return q->pending;
}

void edge_qrec_free(edge_qrec *rec)
{
	free(rec->body);
	rec->body = NULL;
}
