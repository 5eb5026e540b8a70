/* log/store.c — the event log on LMDB (see store.h for tables and rules).
 *
 * Per-transaction state (stream heads, appended ranges) lives in
 * the log_txn and reaches LMDB only in that transaction, so an abort leaves
 * nothing behind. The store's mutable state is the map-growth gate and the
 * in-memory plate index (log/plates.h), whose additions a transaction undoes
 * if it does not commit.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "log/store.h"
#include "log/internal.h"
#include "log/plates.h"
#include "msg/msg.h"

#define LOG__SCHEMA	1
#define LOG__MAGIC	"parklog"
#define LOG__MAP_DEFAULT ((size_t)64 << 30)
#define LOG__REC_VER	1
/* record header: ver, type, 2 reserved, ts, h, P (integers big-endian) */
#define LOG__HDR	28
#define LOG__KEY	12		/* stream_no(4) ‖ seq(8) */
/* stream record: head_seq, head_P, epoch, flags(4), then the name */
#define LOG__SREC	28
#define LOG__NAMEKEY	"s/"		/* meta: "s/<stream name>" → stream_no */

struct log_store {
	MDB_env *env;
	MDB_dbi log, ids, streams, meta;
	int readonly;
	int lockfd;			/* LOG_LOCK_FILE, flock'd; -1 if none */
	char dir[4096];
	atomic_int wstatus;		/* log_store_write_status */
	char why[256];			/* the open's detail for `err` */
	/* The plate index: built at a write open, caught up on use when
	 * read-only (pxsync serialises the catch-ups). */
	log__plates *px;
	pthread_mutex_t pxsync;
	int64_t peer_skew_ms;		/* a peer event dated beyond: flagged */
	atomic_uint_fast64_t peer_ahead;	/* ... how many (committed) */
	int has_origin;
	char origin[LOG_ORIGIN_MAX + 1];
	char home[LOG_ORIGIN_MAX + 1];	/* origin in meta: marks "own" streams */
	uint64_t epoch;
	/* Our stream's number once the first own append of this open created
	 * it, 0 before; written by the writer, read by any thread. */
	_Atomic uint32_t own_no;
	char own_stream[LOG_STREAM_MAX + 1];
	log_apply_fn apply;
	void *apply_ctx;
	log_precommit_fn precommit;
	void *precommit_ctx;
	atomic_uint_fast64_t serial;	/* last transaction serial handed out */
	/* The map gate: mdb_env_set_mapsize needs no txn open in the process,
	 * so every txn is counted in `txns` and a resize waits for zero. Not a
	 * pthread_rwlock: MDB_NOTLS txns may end on another thread than the
	 * one that began them. */
	pthread_mutex_t gmu;
	pthread_cond_t gcv;
	unsigned long txns;
	int resizing;
	atomic_int grow;		/* a txn hit MDB_MAP_FULL: grow at next begin */
};

/* A stream as this transaction sees it. */
struct log__sc {
	uint32_t no;
	uint32_t flags;
	uint64_t epoch, head_seq, head_P;
	int dirty;
	int pxreg;		/* told to the plate index */
	char name[LOG_STREAM_MAX + 1];
};

/* A plate index entry this txn added: undone unless it commits. */
struct log__pundo {
	char plate[LOG_PLATE_MAX + 1];
	log__ppos pos;
};

struct log_txn {
	log_store *s;
	MDB_txn *txn;
	uint64_t serial;
	int failed;		/* an append failed half-way: must not commit */
	int own_created;	/* created our stream: undone unless it commits */
	int write;
	int locked;
	struct log__sc *sc;
	size_t nsc, capsc;
	log_range *rg;
	size_t nrg, caprg;
	uint64_t nahead;		/* peer events dated ahead (flagged) */
	int64_t ahead_ms;		/* the farthest of them, ms ahead */
	char ahead_id[LOG_ID_MAX + 1];	/* ... its id */
	struct log__pundo *undo;
	size_t nundo, capundo;
	int have_last;
	uint8_t last[LOG__KEY];		/* greatest key of `log` (for MDB_APPEND) */
	log_iter *iters;		/* open iterators, closed at txn end */
	char buf[LOG__HDR + LOG_EVENT_MAX];
};

enum log__it_kind { LOG__IT_RANGE, LOG__IT_ALL, LOG__IT_PLATE };

struct log_iter {
	log_txn *t;
	MDB_cursor *c;
	enum log__it_kind kind;
	int started;
	uint32_t no;
	uint64_t from, to;
	log__ppos *pos;		/* LOG__IT_PLATE: the plate's positions */
	size_t npos, cappos, ipos;
	log_iter *next, **pprev;
};

/* ---- small helpers ---------------------------------------------------- */

static void log__put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t log__get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void log__put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t log__get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void log__key(uint8_t k[LOG__KEY], uint32_t no, uint64_t seq)
{
	log__put32(k, no);
	log__put64(k + 4, seq);
}


static int log__full(log_txn *t, int rc)
{
	if (rc == MDB_MAP_FULL)
		atomic_store(&t->s->grow, 1);
	return rc;
}

const char *log_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case LOG_END: return "end of iteration";
	case LOG_NOTFOUND: return "no such event or stream";
	case LOG_DUP: return "event already held (same bytes)";
	case LOG_EPREV: return "batch prev is not this stream's head";
	case LOG_EGAP: return "seq beyond the stream's head + 1";
	case LOG_EFORK: return "fork: position or id held with other bytes";
	case LOG_ECORRUPT: return "stored record is corrupt (hash or shape)";
	case LOG_ENOTPARKLOG: return "not a parklog data directory";
	case LOG_ESCHEMA: return "data written by an incompatible version";
	case LOG_EREADONLY: return "store or transaction is read-only";
	case LOG_ESTREAM: return "no own stream, or peer append to our own stream";
	case LOG_ESTOPPED: return "writer stopped";
	case LOG_ELOCKED: return "data directory in use by another parklogd";
	case LOG_ENOSPACE: return "disk full: no space left for the data directory";
	}
	if (err >= LOG_EEVENT_SYNTAX && err <= LOG_EEVENT_SPACE)
		return log_event_strerror(err);
	if (err >= MDB_KEYEXIST && err <= MDB_LAST_ERRCODE)
		return mdb_strerror(err);
	if (err > 0)
		return strerror(err);
	return "unknown error";
}

/* ---- records ---------------------------------------------------------- */

/* Parse a `log` entry without checking its hash: LOG_ECORRUPT if it has
 * not the shape of one. */
static int log__rec_shape(const MDB_val *k, const MDB_val *v, log_rec *out)
{
	const uint8_t *p = v->mv_data;

	if (k->mv_size != LOG__KEY || v->mv_size <= LOG__HDR ||
	    p[0] != LOG__REC_VER)
		return LOG_ECORRUPT;
	out->bytes = (const char *)p + LOG__HDR;
	out->len = v->mv_size - LOG__HDR;
	out->stream_no = log__get32(k->mv_data);
	out->seq = log__get64((const uint8_t *)k->mv_data + 4);
	out->type = (enum log_ev_type)p[1];
	out->ts = (int64_t)log__get64(p + 4);
	out->h = log__get64(p + 12);
	out->P = log__get64(p + 20);
	return 0;
}

/* Parse and verify a `log` entry; LOG_ECORRUPT if it fails its hash. */
static int log__rec(const MDB_val *k, const MDB_val *v, log_rec *out)
{
	int rc = log__rec_shape(k, v, out);

	if (rc == 0 && XXH3_64bits(out->bytes, out->len) != out->h)
		rc = LOG_ECORRUPT;
	return rc;
}

int log_txn_get_pos(log_txn *t, uint32_t stream_no, uint64_t seq, log_rec *out)
{
	uint8_t kb[LOG__KEY];
	MDB_val k = { LOG__KEY, kb }, v;
	int rc;

	log__key(kb, stream_no, seq);
	rc = mdb_get(t->txn, t->s->log, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	return rc ? rc : log__rec(&k, &v, out);
}

int log_txn_get_id(log_txn *t, const char *id, log_rec *out)
{
	MDB_val k = { strlen(id), (void *)id }, v;
	int rc;

	if (k.mv_size == 0 || k.mv_size > LOG_ID_MAX)
		return LOG_NOTFOUND;
	rc = mdb_get(t->txn, t->s->ids, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	if (rc != 0)
		return rc;
	if (v.mv_size != LOG__KEY)
		return LOG_ECORRUPT;
	return log_txn_get_pos(t, log__get32(v.mv_data),
	    log__get64((const uint8_t *)v.mv_data + 4), out);
}

/* ---- streams (per-txn cache over the `streams` table) ----------------- */

static int log__sc_parse(uint32_t no, const MDB_val *v, struct log__sc *sc)
{
	const uint8_t *p = v->mv_data;
	size_t n = v->mv_size - LOG__SREC;

	if (v->mv_size <= LOG__SREC || n > LOG_STREAM_MAX)
		return LOG_ECORRUPT;
	memset(sc, 0, sizeof *sc);
	sc->no = no;
	sc->head_seq = log__get64(p);
	sc->head_P = log__get64(p + 8);
	sc->epoch = log__get64(p + 16);
	sc->flags = log__get32(p + 24);
	memcpy(sc->name, p + LOG__SREC, n);
	return 0;
}

static int log__sc_write(log_txn *t, const struct log__sc *sc)
{
	uint8_t kb[4], vb[LOG__SREC + LOG_STREAM_MAX];
	size_t n = strlen(sc->name);
	MDB_val k = { 4, kb }, v = { LOG__SREC + n, vb };

	log__put32(kb, sc->no);
	log__put64(vb, sc->head_seq);
	log__put64(vb + 8, sc->head_P);
	log__put64(vb + 16, sc->epoch);
	log__put32(vb + 24, sc->flags);
	memcpy(vb + LOG__SREC, sc->name, n);
	return log__full(t, mdb_put(t->txn, t->s->streams, &k, &v, 0));
}

static struct log__sc *log__sc_add(log_txn *t, const struct log__sc *sc)
{
	if (t->nsc == t->capsc) {
		size_t cap = t->capsc ? t->capsc * 2 : 8;
		struct log__sc *p = realloc(t->sc, cap * sizeof *p);

		if (p == NULL)
			return NULL;
		t->sc = p;
		t->capsc = cap;
	}
	t->sc[t->nsc] = *sc;
	return &t->sc[t->nsc++];
}

/* The stream numbered `no`: LOG_NOTFOUND if none. The pointer is valid
 * until the next stream lookup of this txn. */
static int log__sc_no(log_txn *t, uint32_t no, struct log__sc **out)
{
	uint8_t kb[4];
	MDB_val k = { 4, kb }, v;
	struct log__sc sc;
	int rc;

	for (size_t i = 0; i < t->nsc; i++)
		if (t->sc[i].no == no)
			return *out = &t->sc[i], 0;
	log__put32(kb, no);
	rc = mdb_get(t->txn, t->s->streams, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	if (rc != 0 || (rc = log__sc_parse(no, &v, &sc)) != 0)
		return rc;
	*out = log__sc_add(t, &sc);
	return *out ? 0 : ENOMEM;
}

static int log__sc_name(log_txn *t, const char *name, struct log__sc **out)
{
	char kb[sizeof LOG__NAMEKEY + LOG_STREAM_MAX];
	size_t n = strlen(name);
	MDB_val k = { sizeof LOG__NAMEKEY - 1 + n, kb }, v;
	int rc;

	if (n == 0 || n > LOG_STREAM_MAX)
		return LOG_NOTFOUND;
	for (size_t i = 0; i < t->nsc; i++)
		if (strcmp(t->sc[i].name, name) == 0)
			return *out = &t->sc[i], 0;
	memcpy(kb, LOG__NAMEKEY, sizeof LOG__NAMEKEY - 1);
	memcpy(kb + sizeof LOG__NAMEKEY - 1, name, n);
	rc = mdb_get(t->txn, t->s->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LOG_NOTFOUND;
	if (rc != 0)
		return rc;
	if (v.mv_size != 4)
		return LOG_ECORRUPT;
	return log__sc_no(t, log__get32(v.mv_data), out);
}

/* Register a new stream with the next stream_no (writes it at once, so the
 * next creation in this txn sees it). */
static int log__sc_create(log_txn *t, const char *name, uint64_t epoch,
    struct log__sc **out)
{
	char kb[sizeof LOG__NAMEKEY + LOG_STREAM_MAX];
	uint8_t nb[4];
	size_t n = strlen(name);
	MDB_val k = { sizeof LOG__NAMEKEY - 1 + n, kb }, v = { 4, nb };
	MDB_cursor *c = NULL;
	struct log__sc sc = { .epoch = epoch };
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->streams, &c)) != 0)
		goto err;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size != 4)
		rc = LOG_ECORRUPT;
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto err;
	sc.no = rc == 0 ? log__get32(k.mv_data) + 1 : 1;
	memcpy(sc.name, name, n + 1);
	memcpy(kb, LOG__NAMEKEY, sizeof LOG__NAMEKEY - 1);
	memcpy(kb + sizeof LOG__NAMEKEY - 1, name, n);
	k = (MDB_val){ sizeof LOG__NAMEKEY - 1 + n, kb };
	v = (MDB_val){ 4, nb };
	log__put32(nb, sc.no);
	if ((rc = log__full(t, mdb_put(t->txn, t->s->meta, &k, &v, MDB_NOOVERWRITE))) != 0 ||
	    (rc = log__sc_write(t, &sc)) != 0)
		goto err;
	*out = log__sc_add(t, &sc);
	rc = *out ? 0 : ENOMEM;
err:
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}

static void log__sc_info(const log_store *s, const struct log__sc *sc,
    log_stream_info *out)
{
	memset(out, 0, sizeof *out);
	out->no = sc->no;
	memcpy(out->name, sc->name, sizeof out->name);
	if (log_stream_parse(sc->name, out->origin, &out->epoch) != 0)
		out->epoch = sc->epoch;
	out->head_seq = sc->head_seq;
	out->head_P = sc->head_P;
	out->own = s->home[0] != '\0' && strcmp(out->origin, s->home) == 0;
	out->current = s->has_origin && sc->no == s->own_no;
}

int log_txn_stream_find(log_txn *t, const char *name, log_stream_info *out)
{
	struct log__sc *sc;
	int rc = log__sc_name(t, name, &sc);

	if (rc == 0)
		log__sc_info(t->s, sc, out);
	return rc;
}

static int log__streams_push(log_txn *t, const MDB_val *k, const MDB_val *v,
    log_stream_info **arr, size_t *n, size_t *cap)
{
	struct log__sc sc, *cached = NULL;
	int rc;

	if (k->mv_size != 4 || (rc = log__sc_parse(log__get32(k->mv_data), v, &sc)) != 0)
		return LOG_ECORRUPT;
	for (size_t i = 0; i < t->nsc && cached == NULL; i++)
		if (t->sc[i].no == sc.no)
			cached = &t->sc[i];
	/* Empty streams (made by opens of older versions) are not listed. */
	if ((cached ? cached : &sc)->head_seq == 0)
		return 0;
	if (*n == *cap) {
		size_t c2 = *cap ? *cap * 2 : 16;
		log_stream_info *p = realloc(*arr, c2 * sizeof *p);

		if (p == NULL)
			return ENOMEM;
		*arr = p;
		*cap = c2;
	}
	log__sc_info(t->s, cached ? cached : &sc, &(*arr)[(*n)++]);
	return 0;
}

int log_txn_streams(log_txn *t, log_stream_info **out, size_t *n)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	/* Never NULL, also with no stream: callers qsort or memcpy it. */
	log_stream_info *arr = malloc(sizeof *arr);
	size_t cnt = 0, cap = 1;
	int rc;

	if (arr == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(t->txn, t->s->streams, &c)) != 0)
		goto err;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((rc = log__streams_push(t, &k, &v, &arr, &cnt, &cap)) != 0)
			goto err;
	if (rc != MDB_NOTFOUND)
		goto err;
	rc = 0;
	*out = arr;
	*n = cnt;
	arr = NULL;
err:
	free(arr);
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}

/* ---- the plate index --------------------------------------------------- */

/* Tell the index a stream's origin and epoch, once per txn and stream. */
static int log__sc_pxreg(log_txn *t, struct log__sc *sc)
{
	char origin[LOG_ORIGIN_MAX + 1];
	uint64_t epoch;
	int rc;

	if (sc->pxreg)
		return 0;
	if (log_stream_parse(sc->name, origin, &epoch) != 0)
		return LOG_ECORRUPT;
	if ((rc = log__plates_stream(t->s->px, sc->no, origin, sc->epoch)) == 0)
		sc->pxreg = 1;
	return rc;
}

/* The plate of a record that failed its hash: the value of its
 * "plate_id" key, if that still looks like a plate. */
static int log__plate_guess(const char *b, size_t len, char plate[LOG_PLATE_MAX + 1])
{
	static const char key[] = "\"plate_id\":\"";
	const char *p = memmem(b, len, key, sizeof key - 1), *e;
	char why[64];

	if (p == NULL)
		return LOG_ECORRUPT;
	p += sizeof key - 1;
	if ((e = memchr(p, '"', len - (size_t)(p - b))) == NULL ||
	    (size_t)(e - p) > LOG_PLATE_MAX)
		return LOG_ECORRUPT;
	memcpy(plate, p, (size_t)(e - p));
	plate[e - p] = '\0';
	return log_plate_normalise(plate, plate, why, sizeof why) == 0 ? 0 : LOG_ECORRUPT;
}

/* The write open's check of the log (store.h): one stream's records in
 * order, as the index scan reads them anyway. The hashes are computed by
 * that scan in any case; this adds seq contiguity and the prefix sums. */
typedef struct log__chk {
	const struct log__sc *sc;
	uint64_t seq, P;	/* the last record seen (0, 0 before the first) */
} log__chk;

static int log__corrupt(log_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int log__corrupt(log_store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
	return LOG_ECORRUPT;
}

static int log__chk_rec(log_store *s, log__chk *k, const log_rec *r, int hash_ok)
{
	const char *name = k->sc->name;

	if (r->seq != k->seq + 1)
		return log__corrupt(s, "stream %s: seq %" PRIu64 " follows %" PRIu64,
		    name, r->seq, k->seq);
	if (!hash_ok)
		return log__corrupt(s, "stream %s seq %" PRIu64 ": the event's "
		    "bytes fail their hash", name, r->seq);
	if (r->P != k->P + r->h)
		return log__corrupt(s, "stream %s seq %" PRIu64 ": prefix sum "
		    "%016" PRIx64 ", expected %016" PRIx64, name, r->seq, r->P,
		    k->P + r->h);
	k->seq = r->seq;
	k->P = r->P;
	return 0;
}

static int log__chk_end(log_store *s, const log__chk *k)
{
	if (k->seq != k->sc->head_seq || k->P != k->sc->head_P)
		return log__corrupt(s, "stream %s: head (seq %" PRIu64 ", P %016"
		    PRIx64 ") but its records end at (seq %" PRIu64 ", P %016"
		    PRIx64 ")", k->sc->name, k->sc->head_seq, k->sc->head_P,
		    k->seq, k->P);
	return 0;
}

/* Index stream sc's events after what the index covers, up to its head in
 * this txn. */
static int log__plates_sync_stream(log_txn *t, struct log__sc *sc)
{
	uint64_t from = log__plates_covered(t->s->px, sc->no) + 1;
	uint8_t kb[LOG__KEY];
	MDB_val k = { LOG__KEY, kb }, v;
	MDB_cursor *c = NULL;
	log_event ev;
	log_rec r;
	int rc, hash_ok;
	log__chk chk = { sc, from - 1, 0 };

	if (from > sc->head_seq)
		return 0;
	if ((rc = log__sc_pxreg(t, sc)) != 0 ||
	    (rc = mdb_cursor_open(t->txn, t->s->log, &c)) != 0)
		goto err;
	log__key(kb, sc->no, from);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if ((rc = log__rec_shape(&k, &v, &r)) != 0) {
			if (!t->s->readonly)
				log__corrupt(t->s, "stream %s: a record after seq %"
				    PRIu64 " has not the shape of one", sc->name, chk.seq);
			goto err;
		}
		if (r.stream_no != sc->no)
			break;
		if (r.seq > sc->head_seq) {
			if (!t->s->readonly)
				rc = log__corrupt(t->s, "stream %s: records beyond "
				    "its head seq %" PRIu64, sc->name, sc->head_seq);
			break;
		}
		hash_ok = XXH3_64bits(r.bytes, r.len) == r.h;
		if (!t->s->readonly && (rc = log__chk_rec(t->s, &chk, &r, hash_ok)) != 0)
			goto err;
		/* A record that fails its hash is still indexed if its plate
		 * can be found, so that reading it through the index reports
		 * the corruption (as every read does) instead of hiding it. */
		ev.edge_ts = 0;
		if (hash_ok)
			rc = log_event_decode_stored(r.bytes, r.len, &ev);
		else
			rc = log__plate_guess(r.bytes, r.len, ev.plate);
		if (rc != 0)
			continue;	/* unreadable: `parklog verify` reports it */
		ev.ts = r.ts;
		if ((rc = log__plates_add(t->s->px, ev.plate, &(log__ppos){
		    log_event_at(&ev), r.seq, r.stream_no, r.ts })) != 0)
			goto err;
	}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
	if (rc == 0 && !t->s->readonly)
		rc = log__chk_end(t->s, &chk);
	else if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
		rc = log__corrupt(t->s, "stream %s: B-tree of the log: %s",
		    sc->name, mdb_strerror(rc));
err:
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}

/* Bring the plate index up to this txn's stream heads. A writing store
 * does it once at open and then adds as it appends; a read-only one (no
 * writer in this process) before every use of the index. */
static int log__plates_sync(log_txn *t)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	struct log__sc sc;
	int rc;

	pthread_mutex_lock(&t->s->pxsync);
	if ((rc = mdb_cursor_open(t->txn, t->s->streams, &c)) != 0)
		goto err;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 4 || log__sc_parse(log__get32(k.mv_data), &v, &sc) != 0) {
			rc = LOG_ECORRUPT;
			goto err;
		}
		if ((rc = log__plates_sync_stream(t, &sc)) != 0)
			goto err;
	}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
err:
	if (c != NULL)
		mdb_cursor_close(c);
	pthread_mutex_unlock(&t->s->pxsync);
	return rc;
}

static int log__plates_use(log_txn *t)
{
	return t->s->readonly ? log__plates_sync(t) : 0;
}

/* Add an appended event to the index, remembering it for an undo. */
static int log__plates_note(log_txn *t, struct log__sc *sc, const log_event *ev)
{
	struct log__pundo *u;
	int rc;

	if ((rc = log__sc_pxreg(t, sc)) != 0)
		return rc;
	if (t->nundo == t->capundo) {
		size_t cap = t->capundo ? t->capundo * 2 : 64;

		if ((u = realloc(t->undo, cap * sizeof *u)) == NULL)
			return ENOMEM;
		t->undo = u;
		t->capundo = cap;
	}
	u = &t->undo[t->nundo];
	memcpy(u->plate, ev->plate, sizeof u->plate);
	u->pos = (log__ppos){ log_event_at(ev), ev->seq, sc->no, ev->ts };
	if ((rc = log__plates_add(t->s->px, u->plate, &u->pos)) == 0)
		t->nundo++;
	return rc;
}

/* The txn did not commit: take its appends out of the index again. */
static void log__plates_undo(log_txn *t)
{
	while (t->nundo > 0) {
		t->nundo--;
		log__plates_remove(t->s->px, t->undo[t->nundo].plate, &t->undo[t->nundo].pos);
	}
}

/* ---- open / close ----------------------------------------------------- */

static int log__meta_get(MDB_txn *txn, log_store *s, const char *key, MDB_val *v)
{
	MDB_val k = { strlen(key), (void *)key };

	return mdb_get(txn, s->meta, &k, v);
}

static int log__meta_put(MDB_txn *txn, log_store *s, const char *key,
    const void *val, size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)val };

	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* A fresh environment (main DB empty) gets our magic and schema; anything
 * else must carry them. */
static int log__check_meta(MDB_txn *txn, log_store *s, int fresh)
{
	uint8_t sb[4];
	MDB_val v;
	int rc;

	if (fresh) {
		log__put32(sb, LOG__SCHEMA);
		if ((rc = log__meta_put(txn, s, "magic", LOG__MAGIC, strlen(LOG__MAGIC))) != 0)
			return rc;
		return log__meta_put(txn, s, "schema", sb, 4);
	}
	rc = log__meta_get(txn, s, "magic", &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && (v.mv_size != strlen(LOG__MAGIC) ||
	    memcmp(v.mv_data, LOG__MAGIC, v.mv_size) != 0)))
		return LOG_ENOTPARKLOG;
	if (rc != 0)
		return rc;
	rc = log__meta_get(txn, s, "schema", &v);
	if (rc == MDB_NOTFOUND || (rc == 0 && (v.mv_size != 4 ||
	    log__get32(v.mv_data) != LOG__SCHEMA)))
		return LOG_ESCHEMA;
	return rc;
}

/* Earlier versions kept the plate index in a table "plates" (and its count
 * in meta); the index is in memory now, so a write open drops them. */
static int log__drop_old_plates(MDB_txn *txn, log_store *s)
{
	MDB_val k = { 6, "plates" };
	MDB_dbi dbi;
	int rc = mdb_dbi_open(txn, "plates", MDB_DUPSORT, &dbi);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = mdb_drop(txn, dbi, 1)) != 0)
		return rc;
	rc = mdb_del(txn, s->meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int log__open_dbis(MDB_txn *txn, log_store *s)
{
	unsigned int cr = s->readonly ? 0 : MDB_CREATE;
	MDB_dbi main;
	MDB_stat st;
	int rc, fresh;

	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) != 0 ||
	    (rc = mdb_stat(txn, main, &st)) != 0)
		return rc;
	fresh = !s->readonly && st.ms_entries == 0;
	rc = mdb_dbi_open(txn, "meta", fresh ? MDB_CREATE : 0, &s->meta);
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
		return LOG_ENOTPARKLOG;
	if (rc != 0 || (rc = log__check_meta(txn, s, fresh)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "log", cr, &s->log)) != 0 ||
	    (rc = mdb_dbi_open(txn, "ids", cr, &s->ids)) != 0 ||
	    (rc = mdb_dbi_open(txn, "streams", cr, &s->streams)) != 0)
		return rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE ? LOG_ECORRUPT : rc;
	return s->readonly ? 0 : log__drop_old_plates(txn, s);
}

static int log__valid_origin(const char *o)
{
	size_t n = strlen(o);

	if (n == 0 || n > LOG_ORIGIN_MAX)
		return 0;
	for (const char *p = o; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

/* Our stream of this open: a fresh random epoch, never used before. It is
 * registered in `streams` by the first own append (log__own_create), so an
 * open that appends nothing leaves no empty stream (DESIGN.md "Streams"). */
static int log__own_stream(log_txn *t)
{
	log_store *s = t->s;
	struct log__sc *sc;
	int rc;

	do {
		if (getrandom(&s->epoch, sizeof s->epoch, 0) != sizeof s->epoch)
			return errno ? errno : EIO;
		log_stream_name(s->own_stream, s->origin, s->epoch);
		rc = log__sc_name(t, s->own_stream, &sc);
	} while (rc == 0);		/* 2^-64: but never reuse a stream */
	if (rc != LOG_NOTFOUND)
		return rc;
	/* Written only when it changes: an open that writes nothing also
	 * works on a full disk (reads are served; appends answer 507). */
	if (strcmp(s->home, s->origin) != 0 && (rc = log__meta_put(t->txn, s,
	    "origin", s->origin, strlen(s->origin))) != 0)
		return rc;
	memcpy(s->home, s->origin, sizeof s->home);
	return 0;
}

/* The first own append of this open: create our stream in its txn. */
static int log__own_create(log_txn *t, struct log__sc **sc)
{
	log_store *s = t->s;
	int rc;

	/* Tables changed half-way must not commit (writer.h's rule). */
	if ((rc = log__sc_create(t, s->own_stream, s->epoch, sc)) != 0 ||
	    (rc = log__meta_put(t->txn, s, "own_stream", s->own_stream,
	    strlen(s->own_stream))) != 0)
		return t->failed = log__full(t, rc);
	t->own_created = 1;
	s->own_no = (*sc)->no;
	return 0;
}

/* Older versions kept a global clock floor in meta "max_ts" (one event
 * dated far ahead then dated every later event of every plate, also after
 * a restart). The clock is per plate now: the key is removed, its value
 * ignored. */
static int log__old_max_ts(log_txn *t)
{
	MDB_val k = { 6, "max_ts" }, v;
	int rc = log__meta_get(t->txn, t->s, "max_ts", &v);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return mdb_del(t->txn, t->s->meta, &k, NULL);
}

static int log__open_txn(log_store *s)
{
	log_txn *t = calloc(1, sizeof *t);
	MDB_val v;
	int rc;

	if (t == NULL)
		return ENOMEM;
	t->s = s;
	t->write = !s->readonly;
	if ((rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &t->txn)) != 0)
		goto err;
	if ((rc = log__open_dbis(t->txn, s)) != 0)
		goto err;
	rc = log__meta_get(t->txn, s, "origin", &v);
	if (rc == 0 && v.mv_size < sizeof s->home)
		memcpy(s->home, v.mv_data, v.mv_size);
	if (s->has_origin && (rc = log__own_stream(t)) != 0)
		goto err;
	/* A writer builds the plate index (each plate's highest ts with it)
	 * now, before any append, and drops the old global floor's key. */
	if (!s->readonly && ((rc = log__plates_sync(t)) != 0 ||
	    (rc = log__old_max_ts(t)) != 0))
		goto err;
	rc = mdb_txn_commit(t->txn);	/* also keeps the dbi handles */
	t->txn = NULL;
err:
	if (t->txn != NULL)
		mdb_txn_abort(t->txn);
	free(t->sc);
	free(t);
	return rc;
}

/* One writer per data directory: an flock on LOG_LOCK_FILE for the life
 * of the store (released by the kernel if the process dies), with our pid
 * in it for the message of the next one. flock, not fcntl: it conflicts
 * within one process too, and closing another fd of the file keeps it. */
static int log__lock_dir(log_store *s, const char *dir)
{
	char path[4200], pid[32];
	int fd, n;

	snprintf(path, sizeof path, "%s/%s", dir, LOG_LOCK_FILE);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = errno;
		close(fd);
		return n == EWOULDBLOCK ? LOG_ELOCKED : n;
	}
	s->lockfd = fd;
	/* Best effort: on a full disk the lock holds without the pid. */
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		msg_debug("%s: pid not written", path);
	return 0;
}

long log_store_lock_holder(const char *dir)
{
	char path[4200], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, LOG_LOCK_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* LMDB sizes its lock file with ftruncate and then writes it through a
 * shared map: on a full file system the first touch of a page the file
 * system cannot allocate is SIGBUS. So allocate it first (its size for the
 * default 126 readers is 8 KiB; a larger existing file keeps its size).
 * The data file is written with pwrite (no MDB_WRITEMAP): errors, not
 * signals. */
#define LOG__LOCKMDB_SIZE 8192
static int log__prealloc_lock(const char *dir)
{
	char path[4200];
	struct stat st;
	off_t len = LOG__LOCKMDB_SIZE;
	int fd, rc;

	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return errno == ENOSPC || errno == EDQUOT ? LOG_ENOSPACE : errno;
	if (fstat(fd, &st) == 0 && st.st_size > len)
		len = st.st_size;
	rc = posix_fallocate(fd, 0, len);
	close(fd);
	if (rc == EOPNOTSUPP || rc == EINVAL)
		rc = 0;		/* no fallocate here: LMDB as before */
	return rc == ENOSPC || rc == EDQUOT ? LOG_ENOSPACE : rc;
}

static int log__open_env(log_store *s, const char *dir, const log_store_opts *o)
{
	unsigned int fl = MDB_NOTLS;
	char path[4096];
	int rc;

	if (s->readonly) {
		/* Don't let LMDB leave a lock file in a directory that is not ours. */
		snprintf(path, sizeof path, "%s/data.mdb", dir);
		if (access(path, F_OK) != 0)
			return errno == ENOENT || errno == ENOTDIR ? LOG_ENOTPARKLOG : errno;
		fl |= MDB_RDONLY;
	} else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		return errno;
	} else if ((rc = log__lock_dir(s, dir)) != 0 ||
	    (rc = log__prealloc_lock(dir)) != 0) {
		return rc;
	}
	fl |= o->durability == LOG_DURABLE_META ? MDB_NOMETASYNC :
	    o->durability == LOG_DURABLE_NONE ? MDB_NOSYNC : 0;
	if ((rc = mdb_env_create(&s->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(s->env, 8 + o->extra_dbs)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, o->mapsize ? o->mapsize : LOG__MAP_DEFAULT)) != 0)
		return rc;
	rc = mdb_env_open(s->env, dir, fl, 0644);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
		return LOG_ENOTPARKLOG;
	if (rc != 0)
		return rc;
	return mdb_reader_check(s->env, NULL);
}

/* An I/O error is a full disk if the disk is (nearly) full: LMDB reports a
 * short write as EIO. */
#define LOG__FULL_BELOW ((unsigned long long)16 << 20)
static int log__space_err(const log_store *s, int rc)
{
	struct statvfs fs;

	if (rc == ENOSPC || rc == EDQUOT)
		return LOG_ENOSPACE;
	if (rc == EIO && statvfs(s->dir, &fs) == 0 &&
	    (unsigned long long)fs.f_bavail * fs.f_frsize < LOG__FULL_BELOW)
		return LOG_ENOSPACE;
	return rc;
}

int log_store_open(const char *dir, const log_store_opts *opts, log_store **out)
{
	return log_store_open_err(dir, opts, out, NULL, 0);
}

int log_store_open_err(const char *dir, const log_store_opts *opts,
    log_store **out, char *err, size_t errlen)
{
	static const log_store_opts none;
	const log_store_opts *o = opts ? opts : &none;
	log_store *s = calloc(1, sizeof *s);
	int rc;

	if (s == NULL)
		return ENOMEM;
	s->readonly = o->readonly;
	s->lockfd = -1;
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	s->apply = o->apply;
	s->apply_ctx = o->apply_ctx;
	s->peer_skew_ms = o->peer_skew_ms;
	if (o->origin != NULL && !o->readonly) {
		if (!log__valid_origin(o->origin)) {
			free(s);
			return EINVAL;
		}
		s->has_origin = 1;
		snprintf(s->origin, sizeof s->origin, "%s", o->origin);
	}
	pthread_mutex_init(&s->gmu, NULL);
	pthread_cond_init(&s->gcv, NULL);
	pthread_mutex_init(&s->pxsync, NULL);
	if ((rc = log__plates_new(&s->px)) != 0)
		goto err;
	if ((rc = log__open_env(s, dir, o)) != 0 || (rc = log__open_txn(s)) != 0)
		goto err;
	*out = s;
	return 0;
err:
	rc = log__space_err(s, rc);
	if (s->why[0] != '\0')
		log__err(err, errlen, "%s", s->why);
	log_store_close(s);
	return rc;
}

void log_store_close(log_store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd);	/* after LMDB: releases the directory */
	pthread_cond_destroy(&s->gcv);
	pthread_mutex_destroy(&s->gmu);
	pthread_mutex_destroy(&s->pxsync);
	log__plates_free(s->px);
	free(s);
}

void log_store_set_apply(log_store *s, log_apply_fn apply, void *ctx)
{
	s->apply = apply;
	s->apply_ctx = ctx;
}

void log_store_set_precommit(log_store *s, log_precommit_fn fn, void *ctx)
{
	s->precommit = fn;
	s->precommit_ctx = ctx;
}

int log_store_write_status(const log_store *s)
{
	return atomic_load(&((log_store *)s)->wstatus);
}

uint64_t log_txn_serial(const log_txn *t)
{
	return t->serial;
}

MDB_env *log_store_env(log_store *s)
{
	return s->env;
}

const char *log_store_own_stream(const log_store *s)
{
	return s->has_origin ? s->own_stream : NULL;
}

const char *log_store_origin(const log_store *s)
{
	return s->has_origin ? s->origin : NULL;
}

static void log__enter(log_store *s)
{
	pthread_mutex_lock(&s->gmu);
	while (s->resizing)
		pthread_cond_wait(&s->gcv, &s->gmu);
	s->txns++;
	pthread_mutex_unlock(&s->gmu);
}

static void log__leave(log_store *s)
{
	pthread_mutex_lock(&s->gmu);
	if (--s->txns == 0)
		pthread_cond_broadcast(&s->gcv);
	pthread_mutex_unlock(&s->gmu);
}

int log_store_dbi(log_store *s, const char *name, unsigned int flags, MDB_dbi *out)
{
	MDB_txn *txn = NULL;
	int rc;

	/* "Open or create (if writable)": MDB_CREATE is ours to decide. */
	if (s->readonly)
		flags &= ~(unsigned int)MDB_CREATE;
	else
		flags |= MDB_CREATE;
	log__enter(s);
	if ((rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn)) != 0)
		goto err;
	if ((rc = mdb_dbi_open(txn, name, flags, out)) != 0)
		goto err;
	rc = mdb_txn_commit(txn);
	txn = NULL;
err:
	if (txn != NULL)
		mdb_txn_abort(txn);
	log__leave(s);
	return rc;
}

/* ---- map size --------------------------------------------------------- */

static size_t log__map_used(log_store *s, size_t *mapsize)
{
	MDB_envinfo ei;
	MDB_stat st;

	mdb_env_info(s->env, &ei);
	mdb_env_stat(s->env, &st);
	*mapsize = ei.me_mapsize;
	return (ei.me_last_pgno + 1) * (size_t)st.ms_psize;
}

/* Wait (up to 2 s) until no txn is open in this process and close the
 * gate; ETIMEDOUT if a txn stays open (e.g. a read txn in this very thread). */
static int log__gate_close(log_store *s)
{
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2;
	pthread_mutex_lock(&s->gmu);
	while (rc == 0 && (s->txns > 0 || s->resizing))
		rc = pthread_cond_timedwait(&s->gcv, &s->gmu, &dl);
	if (rc == 0)
		s->resizing = 1;
	pthread_mutex_unlock(&s->gmu);
	return rc;
}

static void log__gate_open(log_store *s)
{
	pthread_mutex_lock(&s->gmu);
	s->resizing = 0;
	pthread_cond_broadcast(&s->gcv);
	pthread_mutex_unlock(&s->gmu);
}

/* Double the map (or more, until under 75% used); with `adopt`, take the
 * size another process has set instead. */
static int log__resize(log_store *s, int force, int adopt)
{
	size_t size, used;
	int rc;

	if ((rc = log__gate_close(s)) != 0)
		return rc;
	used = log__map_used(s, &size);	/* again: another thread may have grown */
	if (adopt) {
		rc = mdb_env_set_mapsize(s->env, 0);
	} else if (force || used > size / 4 * 3) {
		do
			size *= 2;
		while (used > size / 4 * 3);
		rc = mdb_env_set_mapsize(s->env, size);
	}
	log__gate_open(s);
	return rc;
}

int log_store_grow(log_store *s)
{
	atomic_store(&s->grow, 0);
	return log__resize(s, 1, 0);
}

/* Grow before it fills: at a write begin, past 75% or after a MAP_FULL. A
 * grow that cannot get the gate is retried at the next begin. */
static int log__maybe_grow(log_store *s)
{
	size_t size, used = log__map_used(s, &size);
	int force = atomic_exchange(&s->grow, 0), rc;

	if (!force && used <= size / 4 * 3)
		return 0;
	rc = log__resize(s, force, 0);
	if (rc == ETIMEDOUT && force)
		atomic_store(&s->grow, 1);
	return rc == ETIMEDOUT ? 0 : rc;
}

/* ---- transactions ----------------------------------------------------- */

static int log__txn_mdb_begin(log_txn *t)
{
	log_store *s = t->s;
	int rc, tries = 0;

	for (;;) {
		log__enter(s);
		rc = mdb_txn_begin(s->env, NULL, t->write ? 0 : MDB_RDONLY, &t->txn);
		if (rc == 0)
			return t->locked = 1, 0;
		log__leave(s);
		if (rc != MDB_MAP_RESIZED || ++tries > 8)
			return rc;
		if ((rc = log__resize(s, 0, 1)) != 0)
			return rc;
	}
}

int log_txn_begin(log_store *s, int write, log_txn **out)
{
	log_txn *t;
	int rc;

	if (write && s->readonly)
		return LOG_EREADONLY;
	if (write && (rc = log__maybe_grow(s)) != 0)
		return rc;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return ENOMEM;
	t->s = s;
	t->write = write;
	t->serial = atomic_fetch_add(&s->serial, 1) + 1;
	if ((rc = log__txn_mdb_begin(t)) != 0)
		goto err;
	*out = t;
	return 0;
err:
	log_txn_abort(t);
	return rc;
}

MDB_txn *log_txn_mdb(log_txn *t)
{
	return t->txn;
}

static void log__txn_free(log_txn *t)
{
	/* Cursors die with the txn: detach open iterators (freed later). */
	for (log_iter *it = t->iters; it != NULL; it = it->next) {
		if (it->c != NULL)
			mdb_cursor_close(it->c);
		it->c = NULL;
		it->t = NULL;
		it->pprev = NULL;
	}
	if (t->locked)
		log__leave(t->s);
	if (t->own_created)	/* not committed: the next append creates it */
		t->s->own_no = 0;
	log__plates_undo(t);	/* nothing left unless it committed */
	free(t->undo);
	free(t->sc);
	free(t->rg);
	free(t);
}

void log_txn_abort(log_txn *t)
{
	if (t == NULL)
		return;
	if (t->txn != NULL) {
		for (log_iter *it = t->iters; it != NULL; it = it->next)
			if (it->c != NULL)
				mdb_cursor_close(it->c), it->c = NULL;
		mdb_txn_abort(t->txn);
	}
	log__txn_free(t);
}

/* Write what the txn kept in memory: stream heads. */
static int log__flush(log_txn *t)
{
	int rc;

	for (size_t i = 0; i < t->nsc; i++)
		if (t->sc[i].dirty && (rc = log__sc_write(t, &t->sc[i])) != 0)
			return rc;
	return 0;
}

/* Peer events dated ahead, once committed: counted and said. They move
 * only their own plate's later events (the clock is per plate). */
static void log__ahead_told(log_txn *t)
{
	if (t->nahead == 0)
		return;
	atomic_fetch_add(&t->s->peer_ahead, t->nahead);
	msg_warnx("log: %" PRIu64 " peer event(s) dated ahead of our clock, the "
	    "farthest %s by %" PRId64 " ms: stored, flagged; they move only "
	    "their own plate", t->nahead, t->ahead_id, t->ahead_ms);
}

/* Note a peer event dated beyond the skew ahead of our wall clock. */
static void log__ahead_note(log_txn *t, const log_event *ev)
{
	struct timespec now;
	int64_t ms, skew = t->s->peer_skew_ms > 0 ? t->s->peer_skew_ms : 2000;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = ev->ts - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (ms <= skew)
		return;
	if (t->nahead++ == 0 || ms > t->ahead_ms) {
		t->ahead_ms = ms;
		memcpy(t->ahead_id, ev->id, sizeof t->ahead_id);
	}
}

int log_txn_commit(log_txn *t)
{
	int rc;

	if (!t->write) {
		log_txn_abort(t);
		return 0;
	}
	for (log_iter *it = t->iters; it != NULL; it = it->next)
		if (it->c != NULL)
			mdb_cursor_close(it->c), it->c = NULL;
	rc = t->failed ? t->failed : log__flush(t);
	if (rc == 0 && t->s->precommit != NULL)
		rc = t->s->precommit(t->s->precommit_ctx, t);
	if ((rc = log__full(t, rc)) != 0) {
		mdb_txn_abort(t->txn);
	} else {
		/* Only LMDB's own commit says whether the disk takes writes. */
		rc = log__space_err(t->s, log__full(t, mdb_txn_commit(t->txn)));
		atomic_store(&t->s->wstatus, rc == MDB_MAP_FULL ? 0 : rc);
	}
	if (rc == 0) {
		t->nundo = 0;	/* the index keeps what was committed */
		log__ahead_told(t);
		t->own_created = 0;
	}
	t->txn = NULL;
	log__txn_free(t);
	return rc;
}

/* ---- appends ---------------------------------------------------------- */

/* Per plate only: no global floor, so one event dated far ahead (a peer's
 * bad clock, our own clock that jumped once) moves its own plate's later
 * events and nothing else. */
int log_txn_next_ts(log_txn *t, const char *plate, int64_t wall_ms, int64_t *ts)
{
	int64_t best = wall_ms, last = 0;
	size_t n = strlen(plate);
	int rc, have;

	if (n == 0 || n > LOG_PLATE_MAX)
		return LOG_EEVENT_VALUE;
	if ((rc = log__plates_use(t)) != 0)
		return rc;
	have = log__plates_max_ts(t->s->px, plate, &last) == 0;
	if (have && last + 1 > best)
		best = last + 1;
	/* store.h: strictly after every event of the plate, never before the
	 * wall clock */
	msg_assert(best >= wall_ms && (!have || best > last));
	*ts = best;
	return 0;
}

static int log__range_note(log_txn *t, uint32_t no, uint64_t seq)
{
	for (size_t i = t->nrg; i-- > 0;)
		if (t->rg[i].stream_no == no)
			return t->rg[i].last_seq = seq, 0;
	if (t->nrg == t->caprg) {
		size_t cap = t->caprg ? t->caprg * 2 : 4;
		log_range *p = realloc(t->rg, cap * sizeof *p);

		if (p == NULL)
			return ENOMEM;
		t->rg = p;
		t->caprg = cap;
	}
	t->rg[t->nrg++] = (log_range){ no, seq, seq };
	return 0;
}

int log_txn_appended(log_txn *t, const log_range **out, size_t *n)
{
	*out = t->rg;
	*n = t->nrg;
	return 0;
}

/* Put into `log` with MDB_APPEND when the key is the table's greatest. */
static int log__put_log(log_txn *t, const uint8_t key[LOG__KEY], MDB_val *v)
{
	MDB_val k = { LOG__KEY, (void *)key }, lk, lv;
	MDB_cursor *c;
	unsigned int fl = 0;
	int rc;

	if (!t->have_last) {
		if ((rc = mdb_cursor_open(t->txn, t->s->log, &c)) != 0)
			return rc;
		rc = mdb_cursor_get(c, &lk, &lv, MDB_LAST);
		mdb_cursor_close(c);
		if (rc == 0 && lk.mv_size != LOG__KEY)
			return LOG_ECORRUPT;
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		memset(t->last, 0, LOG__KEY);
		if (rc == 0)
			memcpy(t->last, lk.mv_data, LOG__KEY);
		t->have_last = 1;
	}
	if (memcmp(key, t->last, LOG__KEY) > 0) {
		fl = MDB_APPEND;
		memcpy(t->last, key, LOG__KEY);
	} else {
		fl = MDB_NOOVERWRITE;
	}
	rc = mdb_put(t->txn, t->s->log, &k, v, fl);
	return rc == MDB_KEYEXIST ? LOG_EFORK : rc;
}

static int log__put_id(log_txn *t, const char *id, const uint8_t pos[LOG__KEY])
{
	MDB_val k = { strlen(id), (void *)id }, v = { LOG__KEY, (void *)pos };
	int rc = mdb_put(t->txn, t->s->ids, &k, &v, MDB_NOOVERWRITE);

	return rc == MDB_KEYEXIST ? LOG_EFORK : rc;
}

/* Write an event whose bytes are in t->buf + LOG__HDR (len bytes) at its
 * stream's head + 1, with its indexes, then run the apply hook. The id is
 * claimed first, so a clash leaves nothing written. */
static int log__write(log_txn *t, struct log__sc *sc, const log_event *ev, size_t len)
{
	uint8_t *p = (uint8_t *)t->buf, key[LOG__KEY];
	MDB_val v = { LOG__HDR + len, p };
	log_rec rec = { .bytes = t->buf + LOG__HDR, .len = len, .stream_no = sc->no,
	    .seq = ev->seq, .ts = ev->ts, .type = ev->type };
	int rc;

	/* store.h: a stream's seqs are contiguous and P(seq) = P(seq-1) + h,
	 * P(0) = 0: the new record goes right after the head, and an empty
	 * stream's head P is 0. */
	msg_assert(ev->seq == sc->head_seq + 1);
	msg_assert(sc->head_seq != 0 || sc->head_P == 0);
	rec.h = XXH3_64bits(rec.bytes, len);
	rec.P = sc->head_P + rec.h;
	memset(p, 0, LOG__HDR);
	p[0] = LOG__REC_VER;
	p[1] = (uint8_t)ev->type;
	log__put64(p + 4, (uint64_t)ev->ts);
	log__put64(p + 12, rec.h);
	log__put64(p + 20, rec.P);
	log__key(key, sc->no, ev->seq);
	/* The id goes first: a clash there has written nothing. */
	if ((rc = log__put_id(t, ev->id, key)) != 0)
		return log__full(t, rc);
	if ((rc = log__put_log(t, key, &v)) != 0 ||
	    (rc = log__plates_note(t, sc, ev)) != 0 ||
	    (rc = log__range_note(t, sc->no, ev->seq)) != 0)
		goto failed;
	sc->head_seq = ev->seq;
	sc->head_P = rec.P;
	sc->dirty = 1;
	if (t->s->apply && (rc = t->s->apply(t->s->apply_ctx, t, ev, &rec)) != 0)
		goto failed;
	return 0;
failed:
	/* Half an event (or an event without its projections) is in the
	 * transaction: it must never commit. */
	t->failed = rc = log__full(t, rc);
	return rc;
}

int log_txn_failed(const log_txn *t)
{
	return t->failed;
}

void log_txn_set_failed(log_txn *t, int rc)
{
	if (t->failed == 0)
		t->failed = rc ? rc : LOG_ECORRUPT;
}

int log_txn_append_own(log_txn *t, log_event *ev)
{
	log_store *s = t->s;
	struct log__sc *sc;
	int rc, n;

	if (!t->write)
		return LOG_EREADONLY;
	if (!s->has_origin)
		return LOG_ESTREAM;
	if (s->own_no == 0)
		rc = log__own_create(t, &sc);
	else
		rc = log__sc_no(t, s->own_no, &sc);
	if (rc != 0)
		return rc;
	memcpy(ev->origin, s->origin, sizeof ev->origin);
	ev->epoch = s->epoch;
	ev->seq = sc->head_seq + 1;
	log_event_id(ev->id, s->origin, ev->ts, ev->plate);
	if (ev->type == LOG_EV_ENTRY_PENDING)
		memcpy(ev->session, ev->id, sizeof ev->session);
	n = log_event_encode(ev, t->buf + LOG__HDR, LOG_EVENT_MAX);
	if (n < 0)
		return n;
	return log__write(t, sc, ev, (size_t)n);
}

int log_txn_check_prev(log_txn *t, const char *stream, uint64_t prev_seq,
    uint64_t prev_P)
{
	struct log__sc *sc;
	int rc = log__sc_name(t, stream, &sc);

	if (rc == LOG_NOTFOUND)
		return prev_seq == 0 && prev_P == 0 ? 0 : LOG_EPREV;
	if (rc != 0)
		return rc;
	return sc->head_seq == prev_seq && sc->head_P == prev_P ? 0 : LOG_EPREV;
}

/* A position already held: the same bytes are a duplicate, others a fork. */
static int log__held(log_txn *t, const struct log__sc *sc, const log_event *ev,
    const char *bytes, size_t len, char *err, size_t errlen)
{
	log_rec r;
	int rc = log_txn_get_pos(t, sc->no, ev->seq, &r);

	if (rc == LOG_NOTFOUND)
		rc = LOG_ECORRUPT;	/* below the head, so it must be there */
	if (rc != 0)
		return rc;
	if (r.len == len && memcmp(r.bytes, bytes, len) == 0)
		return LOG_DUP;
	log__err(err, errlen, "fork: %s seq %" PRIu64 " held with other bytes",
	    sc->name, ev->seq);
	return LOG_EFORK;
}

/* The stream an incoming event belongs to (created only when appending). */
static int log__peer_stream(log_txn *t, const log_event *ev, struct log__sc **sc,
    char *err, size_t errlen)
{
	char name[LOG_STREAM_MAX + 1];
	MDB_val k, v;
	int rc;

	log_stream_name(name, ev->origin, ev->epoch);
	if (t->s->has_origin && strcmp(name, t->s->own_stream) == 0) {
		log__err(err, errlen, "%s is our own current stream", name);
		return LOG_ESTREAM;
	}
	rc = log__sc_name(t, name, sc);
	if (rc != LOG_NOTFOUND)
		return rc;
	if (ev->seq != 1) {
		log__err(err, errlen, "gap: %s seq %" PRIu64 " after head 0", name, ev->seq);
		return LOG_EGAP;
	}
	/* Claim nothing for an event that will fail on its id. */
	k = (MDB_val){ strlen(ev->id), (void *)ev->id };
	rc = mdb_get(t->txn, t->s->ids, &k, &v);
	if (rc == 0) {
		log__err(err, errlen, "fork: id %s held at another position", ev->id);
		return LOG_EFORK;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	return log__sc_create(t, name, ev->epoch, sc);
}

int log_txn_append_peer(log_txn *t, const char *bytes, size_t len,
    char *err, size_t errlen)
{
	struct log__sc *sc;
	log_event ev;
	int rc;

	if (!t->write)
		return LOG_EREADONLY;
	if (len > LOG_EVENT_MAX) {
		log__err(err, errlen, "event of %zu bytes exceeds %d", len, LOG_EVENT_MAX);
		return LOG_EEVENT_SYNTAX;
	}
	if ((rc = log_event_decode(bytes, len, &ev, err, errlen)) != 0)
		return rc;
	if ((rc = log__peer_stream(t, &ev, &sc, err, errlen)) != 0)
		return rc;
	if (ev.seq <= sc->head_seq)
		return log__held(t, sc, &ev, bytes, len, err, errlen);
	if (ev.seq > sc->head_seq + 1) {
		log__err(err, errlen, "gap: %s seq %" PRIu64 " after head %" PRIu64,
		    sc->name, ev.seq, sc->head_seq);
		return LOG_EGAP;
	}
	memcpy(t->buf + LOG__HDR, bytes, len);
	rc = log__write(t, sc, &ev, len);
	if (rc == LOG_EFORK)
		log__err(err, errlen, "fork: id %s held at another position", ev.id);
	if (rc == 0)
		log__ahead_note(t, &ev);
	return rc;
}

/* ---- reads ------------------------------------------------------------ */

int log_txn_next_plate(log_txn *t, const char *after, char plate[LOG_PLATE_MAX + 1])
{
	int rc;

	if (strlen(after) > LOG_PLATE_MAX)
		return EINVAL;
	if ((rc = log__plates_use(t)) != 0)
		return rc;
	return log__plates_next(t->s->px, after, plate);
}

/* P(seq) of a stream, P(0) = 0. */
static int log__P(log_txn *t, const struct log__sc *sc, uint64_t seq, uint64_t *P)
{
	log_rec r;
	int rc;

	if (seq == 0 || seq == sc->head_seq) {
		*P = seq ? sc->head_P : 0;
		return 0;
	}
	if ((rc = log_txn_get_pos(t, sc->no, seq, &r)) != 0)
		return rc == LOG_NOTFOUND ? LOG_ECORRUPT : rc;
	*P = r.P;
	return 0;
}

int log_txn_digest(log_txn *t, uint32_t stream_no, uint64_t a, uint64_t b,
    uint64_t *out)
{
	struct log__sc *sc;
	uint64_t pa, pb;
	int rc;

	if ((rc = log__sc_no(t, stream_no, &sc)) != 0)
		return rc;
	if (a > b || b > sc->head_seq)
		return EINVAL;
	if ((rc = log__P(t, sc, b, &pb)) != 0 || (rc = log__P(t, sc, a, &pa)) != 0)
		return rc;
	*out = pb - pa;
	return 0;
}

int log_txn_stat(log_txn *t, log_store_stat *out)
{
	MDB_stat st;
	size_t size;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = mdb_stat(t->txn, t->s->log, &st)) != 0)
		return rc;
	out->events = st.ms_entries;
	if ((rc = mdb_stat(t->txn, t->s->streams, &st)) != 0)
		return rc;
	out->streams = st.ms_entries;
	if ((rc = log__plates_use(t)) != 0)
		return rc;
	out->plates = log__plates_count(t->s->px);
	out->map_used = log__map_used(t->s, &size);
	out->map_size = size;
	out->peer_ahead = atomic_load(&t->s->peer_ahead);
	return 0;
}

int log_store_backup(log_store *s, const char *dest)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (mkdir(dest, 0755) != 0 && errno != EEXIST)
		return errno;
	if ((d = opendir(dest)) == NULL)
		return errno;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = EEXIST;
	closedir(d);
	if (rc != 0)
		return rc;
	log__enter(s);	/* the copy runs a read txn */
	rc = mdb_env_copy2(s->env, dest, MDB_CP_COMPACT);
	log__leave(s);
	return rc;
}

/* ---- iterators -------------------------------------------------------- */

static int log__iter_new(log_txn *t, MDB_dbi dbi, enum log__it_kind kind,
    log_iter **out)
{
	log_iter *it = calloc(1, sizeof *it);
	int rc;

	if (it == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(t->txn, dbi, &it->c)) != 0) {
		free(it);
		return rc;
	}
	it->t = t;
	it->kind = kind;
	it->next = t->iters;
	if (t->iters != NULL)
		t->iters->pprev = &it->next;
	it->pprev = &t->iters;
	t->iters = it;
	*out = it;
	return 0;
}

int log_iter_range(log_txn *t, uint32_t stream_no, uint64_t from, uint64_t to,
    log_iter **out)
{
	int rc = log__iter_new(t, t->s->log, LOG__IT_RANGE, out);

	if (rc == 0) {
		(*out)->no = stream_no;
		(*out)->from = from;
		(*out)->to = to;
	}
	return rc;
}

int log_iter_all(log_txn *t, log_iter **out)
{
	return log__iter_new(t, t->s->log, LOG__IT_ALL, out);
}

/* The positions are copied now: the index may change while we iterate. */
int log_iter_plate(log_txn *t, const char *plate, log_iter **out)
{
	size_t n = strlen(plate);
	log_iter *it;
	int rc;

	if (n == 0 || n > LOG_PLATE_MAX)
		return EINVAL;
	if ((rc = log__plates_use(t)) != 0 ||
	    (rc = log__iter_new(t, t->s->log, LOG__IT_PLATE, &it)) != 0)
		return rc;
	if ((rc = log__plates_copy(t->s->px, plate, &it->pos, &it->cappos, &it->npos)) != 0) {
		log_iter_free(it);
		return rc;
	}
	*out = it;
	return 0;
}

int log_txn_plate_last(log_txn *t, const char *plate, uint32_t *stream_no,
    uint64_t *seq)
{
	size_t n = strlen(plate);
	log__ppos last;
	int rc;

	if (n == 0 || n > LOG_PLATE_MAX)
		return EINVAL;
	if ((rc = log__plates_use(t)) != 0 ||
	    (rc = log__plates_last(t->s->px, plate, &last)) != 0)
		return rc;
	*stream_no = last.no;
	*seq = last.seq;
	return 0;
}

/* The plate iterator's next event this txn holds. A position it does not
 * hold is an append the index has but this (older) snapshot has not, or
 * an aborted one not yet undone: skipped. A writer holds all of its own. */
static int log__iter_plate_next(log_iter *it, log_rec *out)
{
	uint8_t kb[LOG__KEY];
	MDB_val k, v;
	int rc;

	while (it->ipos < it->npos) {
		const log__ppos *p = &it->pos[it->ipos++];

		log__key(kb, p->no, p->seq);
		k = (MDB_val){ LOG__KEY, kb };
		rc = mdb_cursor_get(it->c, &k, &v, MDB_SET_KEY);
		if (rc == MDB_NOTFOUND && !it->t->write)
			continue;
		if (rc != 0)
			return rc == MDB_NOTFOUND ? LOG_ECORRUPT : rc;
		return log__rec(&k, &v, out);
	}
	return LOG_END;
}

static int log__iter_step(log_iter *it, MDB_val *k, MDB_val *v)
{
	uint8_t kb[LOG__KEY];
	int first = !it->started;

	it->started = 1;
	switch (it->kind) {
	case LOG__IT_ALL:
		return mdb_cursor_get(it->c, k, v, first ? MDB_FIRST : MDB_NEXT);
	case LOG__IT_RANGE:
		if (!first)
			return mdb_cursor_get(it->c, k, v, MDB_NEXT);
		log__key(kb, it->no, it->from);
		*k = (MDB_val){ LOG__KEY, kb };
		return mdb_cursor_get(it->c, k, v, MDB_SET_RANGE);
	case LOG__IT_PLATE:
		break;
	}
	return EINVAL;
}

int log_iter_next(log_iter *it, log_rec *out)
{
	MDB_val k, v;
	int rc;

	if (it->c == NULL)
		return EINVAL;		/* its transaction has ended */
	if (it->kind == LOG__IT_PLATE)
		return log__iter_plate_next(it, out);
	rc = log__iter_step(it, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LOG_END;
	if (rc != 0)
		return rc;
	if (k.mv_size != LOG__KEY)
		return LOG_ECORRUPT;
	if (it->kind == LOG__IT_RANGE && (log__get32(k.mv_data) != it->no ||
	    (it->to && log__get64((const uint8_t *)k.mv_data + 4) > it->to)))
		return LOG_END;
	return log__rec(&k, &v, out);
}

void log_iter_free(log_iter *it)
{
	if (it == NULL)
		return;
	if (it->pprev != NULL) {
		*it->pprev = it->next;
		if (it->next != NULL)
			it->next->pprev = it->pprev;
	}
	if (it->c != NULL)
		mdb_cursor_close(it->c);
	free(it->pos);
	free(it);
}
