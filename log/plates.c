/* log/plates.c — the in-memory per-plate index (see plates.h).
 *
 * An open-addressing hash table of plates (linear probing, at most half
 * full); each plate owns a small array of positions kept in fold order.
 * Events nearly always arrive last for their plate (the hybrid clock, and
 * edge_ts is rare and recent), so the insert scans back one step. Plates are never removed from the table
 * (a plate whose only events were undone keeps an empty slot).
 */
#include "log/plates.h"
#include "log/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

typedef struct log__pslot {
	char plate[LOG_PLATE_MAX + 1];	/* "" = a free slot */
	uint32_t n, cap;
	log__ppos *e;
	log__ppos last;		/* e[n - 1], kept here: the projections ask for
				   it on every append, and e is another cache miss */
	int64_t maxts;		/* the highest e[i].ts (the clock asks for it) */
} log__pslot;

typedef struct log__pstream {
	char origin[LOG_ORIGIN_MAX + 1];
	uint64_t epoch;
	uint64_t covered;
} log__pstream;

struct log__plates {
	pthread_mutex_t mu;
	log__pslot *slot;
	size_t cap, used;	/* slots; slots holding a plate */
	uint64_t nonempty;	/* plates with at least one event */
	log__pstream *st;	/* by stream_no */
	size_t nst;
	log__pslot *recent;	/* the slot found last: an append asks for its
				   plate's slot three times (clock, index,
				   projections), and the table misses cache */
	log__pslot **sorted;	/* used slots by plate (log__plates_next) */
	size_t nsorted;
	int dirty;		/* sorted is out of date */
};

int log__plates_new(log__plates **out)
{
	log__plates *px = calloc(1, sizeof *px);

	if (px == NULL || (px->slot = calloc(1024, sizeof *px->slot)) == NULL) {
		free(px);
		return ENOMEM;
	}
	px->cap = 1024;
	pthread_mutex_init(&px->mu, NULL);
	*out = px;
	return 0;
}

void log__plates_free(log__plates *px)
{
	if (px == NULL)
		return;
	for (size_t i = 0; i < px->cap; i++)
		free(px->slot[i].e);
	free(px->slot);
	free(px->st);
	free(px->sorted);
	pthread_mutex_destroy(&px->mu);
	free(px);
}

/* ---- the table (caller holds mu) ----------------------------------------- */

static size_t log__pslot_home(const log__plates *px, const char *plate)
{
	return (size_t)XXH3_64bits(plate, strlen(plate)) & (px->cap - 1);
}

/* The plate's slot, or the free slot where it would go. */
static log__pslot *log__pslot_probe(const log__plates *px, const char *plate)
{
	size_t i = log__pslot_home(px, plate);

	while (px->slot[i].plate[0] != '\0' && strcmp(px->slot[i].plate, plate) != 0)
		i = (i + 1) & (px->cap - 1);
	return &px->slot[i];
}

static log__pslot *log__pslot_find(log__plates *px, const char *plate)
{
	log__pslot *s = px->recent;

	if (s != NULL && strcmp(s->plate, plate) == 0)
		return s;
	s = log__pslot_probe(px, plate);
	if (s->plate[0] != '\0')
		px->recent = s;
	return s;
}

static int log__pslot_grow(log__plates *px)
{
	log__pslot *old = px->slot;
	size_t ocap = px->cap;

	if ((px->slot = calloc(ocap * 2, sizeof *px->slot)) == NULL) {
		px->slot = old;
		return ENOMEM;
	}
	px->cap = ocap * 2;
	px->recent = NULL;	/* slots move */
	for (size_t i = 0; i < ocap; i++)
		if (old[i].plate[0] != '\0')
			*log__pslot_probe(px, old[i].plate) = old[i];
	free(old);
	px->dirty = 1;
	return 0;
}

/* The plate's slot, claimed if new; NULL on ENOMEM. */
static log__pslot *log__pslot_get(log__plates *px, const char *plate)
{
	log__pslot *s = log__pslot_find(px, plate);

	if (s->plate[0] != '\0')
		return s;
	if ((px->used + 1) * 2 > px->cap) {
		if (log__pslot_grow(px) != 0)
			return NULL;
		s = log__pslot_find(px, plate);
	}
	snprintf(s->plate, sizeof s->plate, "%s", plate);
	px->recent = s;
	px->used++;
	px->dirty = 1;
	return s;
}

/* ---- streams and fold order ---------------------------------------------- */

int log__plates_stream(log__plates *px, uint32_t no, const char *origin,
    uint64_t epoch)
{
	int rc = 0;

	pthread_mutex_lock(&px->mu);
	if (no >= px->nst) {
		size_t n = (size_t)no + 16;
		log__pstream *p = realloc(px->st, n * sizeof *p);

		if (p == NULL) {
			rc = ENOMEM;
			goto out;
		}
		memset(p + px->nst, 0, (n - px->nst) * sizeof *p);
		px->st = p;
		px->nst = n;
	}
	snprintf(px->st[no].origin, sizeof px->st[no].origin, "%s", origin);
	px->st[no].epoch = epoch;
out:
	pthread_mutex_unlock(&px->mu);
	return rc;
}

/* Fold order: (action time, origin, epoch, seq), as proj_fold_cmp. */
static int log__ppos_cmp(const log__plates *px, const log__ppos *a,
    const log__ppos *b)
{
	int c;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	if (a->no != b->no) {
		const log__pstream *sa = &px->st[a->no], *sb = &px->st[b->no];

		if ((c = strcmp(sa->origin, sb->origin)) != 0)
			return c;
		if (sa->epoch != sb->epoch)
			return sa->epoch < sb->epoch ? -1 : 1;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- add / remove -------------------------------------------------------- */

static int log__pslot_insert(log__plates *px, log__pslot *s, const log__ppos *pos)
{
	uint32_t i;

	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 2;
		log__ppos *e = realloc(s->e, cap * sizeof *e);

		if (e == NULL)
			return ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	for (i = s->n; i > 0 && log__ppos_cmp(px, &s->e[i - 1], pos) > 0; i--)
		;
	memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof *s->e);
	s->e[i] = *pos;
	if (s->n++ == 0) {
		px->nonempty++;
		s->maxts = pos->ts;
	} else if (pos->ts > s->maxts) {
		s->maxts = pos->ts;
	}
	s->last = s->e[s->n - 1];
	return 0;
}

/* After a removal: the highest ts of what is left (undo is rare). */
static void log__pslot_maxts(log__pslot *s)
{
	s->maxts = s->n > 0 ? s->e[0].ts : 0;
	for (uint32_t i = 1; i < s->n; i++)
		if (s->e[i].ts > s->maxts)
			s->maxts = s->e[i].ts;
}

int log__plates_add(log__plates *px, const char *plate, const log__ppos *pos)
{
	log__pslot *s;
	int rc = ENOMEM;

	pthread_mutex_lock(&px->mu);
	if (pos->no >= px->nst) {
		rc = EINVAL;		/* stream not registered */
		goto out;
	}
	if ((s = log__pslot_get(px, plate)) == NULL ||
	    (rc = log__pslot_insert(px, s, pos)) != 0)
		goto out;
	if (pos->seq > px->st[pos->no].covered)
		px->st[pos->no].covered = pos->seq;
out:
	pthread_mutex_unlock(&px->mu);
	return rc;
}

void log__plates_remove(log__plates *px, const char *plate, const log__ppos *pos)
{
	log__pslot *s;

	pthread_mutex_lock(&px->mu);
	s = log__pslot_find(px, plate);
	for (uint32_t i = s->n; i-- > 0;)
		if (s->e[i].no == pos->no && s->e[i].seq == pos->seq) {
			memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof *s->e);
			if (--s->n == 0)
				px->nonempty--;
			else
				s->last = s->e[s->n - 1];
			log__pslot_maxts(s);
			break;
		}
	if (pos->no < px->nst && px->st[pos->no].covered >= pos->seq)
		px->st[pos->no].covered = pos->seq - 1;
	pthread_mutex_unlock(&px->mu);
}

/* ---- reads --------------------------------------------------------------- */

int log__plates_copy(log__plates *px, const char *plate, log__ppos **buf,
    size_t *cap, size_t *n)
{
	const log__pslot *s;
	int rc = 0;

	pthread_mutex_lock(&px->mu);
	s = log__pslot_find(px, plate);
	if (s->n > *cap) {
		log__ppos *p = realloc(*buf, s->n * sizeof *p);

		if (p == NULL) {
			rc = ENOMEM;
			goto out;
		}
		*buf = p;
		*cap = s->n;
	}
	if (s->n > 0)
		memcpy(*buf, s->e, s->n * sizeof *s->e);
	*n = s->n;
out:
	pthread_mutex_unlock(&px->mu);
	return rc;
}

int log__plates_last(log__plates *px, const char *plate, log__ppos *out)
{
	const log__pslot *s;
	int rc = LOG_NOTFOUND;

	pthread_mutex_lock(&px->mu);
	s = log__pslot_find(px, plate);
	if (s->n > 0) {
		*out = s->last;
		rc = 0;
	}
	pthread_mutex_unlock(&px->mu);
	return rc;
}

int log__plates_max_ts(log__plates *px, const char *plate, int64_t *ts)
{
	const log__pslot *s;
	int rc = LOG_NOTFOUND;

	pthread_mutex_lock(&px->mu);
	s = log__pslot_find(px, plate);
	if (s->n > 0) {
		*ts = s->maxts;
		rc = 0;
	}
	pthread_mutex_unlock(&px->mu);
	return rc;
}

static int log__sorted_cmp(const void *a, const void *b)
{
	return strcmp((*(log__pslot *const *)a)->plate, (*(log__pslot *const *)b)->plate);
}

/* Slots move when the table grows, which marks `sorted` dirty too. */
static int log__sorted_build(log__plates *px)
{
	log__pslot **p = realloc(px->sorted, (px->used ? px->used : 1) * sizeof *p);
	size_t n = 0;

	if (p == NULL)
		return ENOMEM;
	px->sorted = p;
	for (size_t i = 0; i < px->cap; i++)
		if (px->slot[i].plate[0] != '\0')
			p[n++] = &px->slot[i];
	qsort(p, n, sizeof *p, log__sorted_cmp);
	px->nsorted = n;
	px->dirty = 0;
	return 0;
}

int log__plates_next(log__plates *px, const char *after,
    char out[LOG_PLATE_MAX + 1])
{
	size_t lo = 0, hi;
	int rc = LOG_END;

	pthread_mutex_lock(&px->mu);
	if (px->dirty && (rc = log__sorted_build(px)) != 0)
		goto out;
	rc = LOG_END;
	hi = px->nsorted;
	while (lo < hi) {		/* first plate > after */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(px->sorted[mid]->plate, after) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < px->nsorted; lo++)
		if (px->sorted[lo]->n > 0) {
			memmove(out, px->sorted[lo]->plate, LOG_PLATE_MAX + 1);
			rc = 0;
			break;
		}
out:
	pthread_mutex_unlock(&px->mu);
	return rc;
}

uint64_t log__plates_count(log__plates *px)
{
	uint64_t n;

	pthread_mutex_lock(&px->mu);
	n = px->nonempty;
	pthread_mutex_unlock(&px->mu);
	return n;
}

uint64_t log__plates_covered(log__plates *px, uint32_t no)
{
	uint64_t c;

	pthread_mutex_lock(&px->mu);
	c = no < px->nst ? px->st[no].covered : 0;
	pthread_mutex_unlock(&px->mu);
	return c;
}
