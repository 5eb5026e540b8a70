/* log/store.h — the event log on LMDB: streams, sequence numbers, digests.
 *
 * One LMDB environment per data directory, with these named databases:
 *
 *   log      stream_no(4, BE) ‖ seq(8, BE) → record: header + canonical bytes
 *            (the log itself, in stream order; appended with MDB_APPEND
 *            whenever the key is the greatest in the table). Header, 28 B:
 *            version(1) = 1, type(1), 0(2), ts(8), h(8), P(8), BE.
 *   ids      event_id → stream_no ‖ seq
 *   streams  stream_no(4, BE) → head seq(8) ‖ head P(8) ‖ epoch(8) ‖
 *            flags(4) ‖ name
 *   meta     "magic" ("parklog"), "schema" (u32 BE, 1), "origin",
 *            "own_stream", "s/<stream name>" → stream_no. (Older versions
 *            stored a global clock floor "max_ts" at every commit; a write
 *            open removes that key and ignores it: the clock is per plate.)
 *
 * The per-plate index — each plate's events in fold order (action time,
 * origin, stream epoch, seq), what projections re-fold, and each plate's
 * highest ts — is kept in memory, not in
 * a table (log/plates.h says why): a write open builds it with one scan of
 * the log (about 0.2 s per million events) and appends add to it; a
 * read-only open catches it up before each use. Memory: about 48 bytes per
 * event. It assumes one writing process per data directory (parklogd).
 * Older data directories have a table "plates"; a write open drops it.
 *
 * DESIGN.md keys the log by event_id with a separate (stream, seq) index; we
 * key it by (stream, seq) and index ids instead: range reads, catch-up and
 * dumps are then sequential scans, and an id costs one extra lookup.
 *
 * Per event h = XXH3_64(bytes); per stream P(seq) = Σ h mod 2^64, stored in
 * each record, so the digest of (a, b] is P(b) − P(a) in O(1). Every read
 * verifies h against the bytes (LOG_ECORRUPT otherwise).
 *
 * Threads: any number of read transactions (MDB_NOTLS), one write transaction
 * at a time — in parklogd only the writer thread (log/writer.h) writes.
 * The map is grown (at a write begin) only while no transaction of this
 * process is open, so keep read transactions short; a thread that holds a
 * read transaction while it begins a write one delays growth (not deadlock).
 * Records returned by reads point into the map and stay valid until their
 * transaction ends.
 */
#ifndef PARKLOG_LOG_STORE_H
#define PARKLOG_LOG_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "log/event.h"

typedef struct log_store log_store;
typedef struct log_txn log_txn;
typedef struct log_iter log_iter;

/* Results: 0 on success; these, an LMDB code (MDB_*), or an errno value. */
enum {
	LOG_END = -30950,	/* iterator exhausted (not an error) */
	LOG_NOTFOUND,		/* no such event or stream */
	LOG_DUP,		/* append: already held with the same bytes; no-op */
	LOG_EPREV,		/* batch prev (seq, P) is not this stream's head */
	LOG_EGAP,		/* append: seq is beyond head + 1 */
	LOG_EFORK,		/* same (stream, seq) or id held with other bytes */
	LOG_ECORRUPT,		/* stored record fails its hash or shape */
	LOG_ENOTPARKLOG,	/* the directory holds no parklog data */
	LOG_ESCHEMA,		/* written by an incompatible version */
	LOG_EREADONLY,		/* write attempted on a read-only store/txn */
	LOG_ESTREAM,		/* an own append on a store opened without origin,
				   or a peer append to our own current stream */
	LOG_ESTOPPED,		/* the writer no longer accepts jobs */
	LOG_ELOCKED,		/* another process writes this data directory */
	LOG_ENOSPACE		/* the file system of the data directory is full */
};

/* Text for any result this module returns (LMDB's and errno's included). */
const char *log_strerror(int err);

enum log_durability {
	LOG_DURABLE_FULL = 0,	/* fsync data and meta on every commit */
	LOG_DURABLE_META,	/* MDB_NOMETASYNC: may lose the last commits, stays consistent */
	LOG_DURABLE_NONE	/* MDB_NOSYNC: the OS decides; for benchmarks and tests */
};

/* Called inside the write transaction for every event the log did not hold
 * before (own or peer), after it and its indexes are written. A non-zero
 * result fails that append (and the caller must abort the transaction). This
 * is how projections stay in the same transaction as the log; `ev` and `rec`
 * are valid only during the call. */
struct log_rec;
typedef int (*log_apply_fn)(void *ctx, log_txn *txn, const log_event *ev,
    const struct log_rec *rec);

typedef struct log_store_opts {
	int readonly;			/* MDB_RDONLY: auditors, while a daemon writes */
	const char *origin;		/* our central id; NULL for no own stream */
	enum log_durability durability;
	size_t mapsize;			/* initial map size; 0: 64 GiB (sparse) */
	unsigned int extra_dbs;		/* named databases others will open */
	log_apply_fn apply;		/* may be NULL */
	void *apply_ctx;
	/* A peer's event dated more than this ahead of our clock (ms) is
	 * stored as it is (the log is the log) but flagged: counted
	 * (log_store_stat.peer_ahead) and a message. 0: 2000. */
	int64_t peer_skew_ms;
} log_store_opts;

/* Open (creating if needed and writable) the log in directory `dir`.
 * Writable with an origin: a fresh random epoch names our own stream
 * "<origin>:<epoch>", created by the first own append of this open (a
 * store that appends nothing leaves no empty stream); the previous own
 * streams are kept as they are (sealed).
 * A writable open takes an exclusive lock (flock) on `dir`/LOG_LOCK_FILE,
 * held until log_store_close, and writes its pid there: a second writer,
 * in this or another process, gets LOG_ELOCKED (log_store_lock_holder
 * names the holder). Read-only opens take no lock and work beside it.
 * A writable open checks the log before anything else (every record's
 * hash, each stream's seq contiguity, prefix sums and head) and refuses a
 * corrupt one with LOG_ECORRUPT, saying where in `err`. On a full file
 * system it fails with LOG_ENOSPACE instead of touching unallocated pages.
 * Runs mdb_reader_check. On success *out owns the environment until
 * log_store_close. A read-only open of a directory without a parklog log
 * fails with LOG_ENOTPARKLOG. `err` (may be NULL) gets a message on
 * failure when there is more to say than log_strerror. */
#define LOG_LOCK_FILE "parklogd.lock"
int log_store_open(const char *dir, const log_store_opts *opts, log_store **out);
int log_store_open_err(const char *dir, const log_store_opts *opts,
    log_store **out, char *err, size_t errlen);
void log_store_close(log_store *s);
/* The pid written in `dir`'s lock file by its writer, or 0 if none. */
long log_store_lock_holder(const char *dir);

/* 0 while the last commit succeeded; else that commit's error (e.g.
 * LOG_ENOSPACE, EIO) until a commit succeeds again. Any thread. */
int log_store_write_status(const log_store *s);

/* Set the apply hook after open (the projections need the open store before
 * they can hook themselves in). Not while a write transaction is open. */
void log_store_set_apply(log_store *s, log_apply_fn apply, void *ctx);

/* Called inside every write transaction's commit, after its appends, before
 * LMDB commits; a non-zero result fails the commit (nothing is kept). Lets
 * the projections write, once per transaction, what they collected. */
typedef int (*log_precommit_fn)(void *ctx, log_txn *txn);
void log_store_set_precommit(log_store *s, log_precommit_fn fn, void *ctx);

MDB_env *log_store_env(log_store *s);
/* Open or create (if writable) another named database in the environment,
 * e.g. a projection table. Call after open, before any other transaction. */
int log_store_dbi(log_store *s, const char *name, unsigned int flags, MDB_dbi *out);
/* Our current own stream's name, or NULL if the store has no origin (the
 * stream itself exists from the first own append of this open). The
 * string lives as long as the store. */
const char *log_store_own_stream(const log_store *s);
const char *log_store_origin(const log_store *s);

/* ---- transactions ---------------------------------------------------- */

/* Begin a read (write=0) or write (write=1) transaction. Read transactions
 * may be used from any thread, one thread at a time. A write transaction
 * fails with LOG_EREADONLY on a read-only store. */
int log_txn_begin(log_store *s, int write, log_txn **out);
/* Commit (durably, per the store's durability) and free the transaction.
 * On failure nothing of it is kept. Read transactions: same as abort. */
int log_txn_commit(log_txn *t);
void log_txn_abort(log_txn *t);
MDB_txn *log_txn_mdb(log_txn *t);
/* A number no other transaction of this store (in this process) has had. */
uint64_t log_txn_serial(const log_txn *t);
/* Non-zero (the error) once an append failed after writing part of its
 * records, or its apply hook failed: such a transaction can only be
 * aborted; log_txn_commit refuses it with that error. */
int log_txn_failed(const log_txn *t);
/* Mark the transaction so (for a writer job that changed tables and then
 * failed: the writer answers it alone and runs the others again). */
void log_txn_set_failed(log_txn *t, int rc);

/* ---- appends (write transactions) ------------------------------------ */

/* The timestamp an own event about `plate` must carry: the hybrid clock
 * max(wall_ms, highest ts of that plate's events + 1) — per plate only, no
 * global floor (docs/time.md): an event dated far ahead moves the later
 * events of its own plate and nobody else's, also after a reopen (the
 * floor is each plate's events, found again by the open's scan). The ts of
 * one plate's own events is thereby strictly increasing and after every
 * event held of it (asserted), so the id "<origin>_<ts>_<plate>" is unique
 * among this origin's events. */
int log_txn_next_ts(log_txn *t, const char *plate, int64_t wall_ms, int64_t *ts);

/* Append an own event. The caller fills type, ts (from log_txn_next_ts),
 * plate, plate_view, vehicle, edge_id, confidence, session (not needed for
 * ENTRY_PENDING) and the EXIT fields; the store sets id, origin, epoch, seq
 * (and session for ENTRY_PENDING), encodes, writes and calls the apply hook.
 * On success `ev` holds the complete event as written. */
int log_txn_append_own(log_txn *t, log_event *ev);

/* Before appending a peer's batch for `stream`: 0 if (prev_seq, prev_P) is
 * that stream's head in this log (a stream we never saw has head (0, 0)),
 * else LOG_EPREV. */
int log_txn_check_prev(log_txn *t, const char *stream, uint64_t prev_seq,
    uint64_t prev_P);

/* Append one event received from a peer, as its canonical bytes. Decoded
 * strictly first (a malformed event fails with LOG_EEVENT_* and `err` says
 * why). Its seq must be its stream's head + 1 (LOG_EGAP beyond that). If the
 * position is already held: LOG_DUP with equal bytes, LOG_EFORK otherwise;
 * an id held at another position is LOG_EFORK too. Nothing is overwritten.
 * Appending to our own current stream is LOG_ESTREAM. */
int log_txn_append_peer(log_txn *t, const char *bytes, size_t len,
    char *err, size_t errlen);

/* ---- reads (any transaction) ----------------------------------------- */

typedef struct log_rec {
	const char *bytes;	/* canonical event bytes, not NUL-terminated */
	size_t len;
	uint32_t stream_no;	/* local number of the stream (not shared) */
	uint64_t seq;
	uint64_t h;		/* XXH3_64(bytes) */
	uint64_t P;		/* prefix sum of h up to and including seq */
	int64_t ts;
	enum log_ev_type type;
} log_rec;

typedef struct log_stream_info {
	uint32_t no;
	char name[LOG_STREAM_MAX + 1];
	char origin[LOG_ORIGIN_MAX + 1];
	uint64_t epoch;
	uint64_t head_seq;	/* 0 if empty */
	uint64_t head_P;
	int own;		/* written by this central (current or earlier epoch) */
	int current;		/* our stream of this open */
} log_stream_info;

int log_txn_get_id(log_txn *t, const char *id, log_rec *out);
int log_txn_get_pos(log_txn *t, uint32_t stream_no, uint64_t seq, log_rec *out);

/* All streams that hold events, in stream_no order (the version vector is
 * their heads; an empty stream, left by an open of an older version, is
 * not listed). *out is malloc'd (also when *n is 0); the caller frees it. */
int log_txn_streams(log_txn *t, log_stream_info **out, size_t *n);
int log_txn_stream_find(log_txn *t, const char *name, log_stream_info *out);

/* Plates in key order: the first plate greater than `after` ("" for the
 * first) into `plate` (`after` and `plate` may be the same buffer).
 * 0, or LOG_END after the last. */
int log_txn_next_plate(log_txn *t, const char *after, char plate[LOG_PLATE_MAX + 1]);

/* The position of the plate's last event in fold order (appends of this
 * transaction included): 0, or LOG_NOTFOUND if the plate has none. Lets the
 * projections tell an event that extends a plate's history from a late one. */
int log_txn_plate_last(log_txn *t, const char *plate, uint32_t *stream_no,
    uint64_t *seq);

/* Digest of (a, b] in a stream: P(b) − P(a), with P(0) = 0; b <= head. */
int log_txn_digest(log_txn *t, uint32_t stream_no, uint64_t a, uint64_t b,
    uint64_t *out);

/* Iterators. Each returns records through log_iter_next until LOG_END. */
int log_iter_range(log_txn *t, uint32_t stream_no, uint64_t from, uint64_t to,
    log_iter **out);			/* seq in [from, to]; to = 0: to the head */
int log_iter_all(log_txn *t, log_iter **out);	/* (stream_no, seq) order */
int log_iter_plate(log_txn *t, const char *plate, log_iter **out); /* fold order */
int log_iter_next(log_iter *it, log_rec *out);
/* May be called before or after its transaction ends (log_iter_next then
 * fails with EINVAL). */
void log_iter_free(log_iter *it);

/* One range of events appended in a stream (for live push). */
typedef struct log_range {
	uint32_t stream_no;
	uint64_t first_seq, last_seq;
} log_range;

/* The ranges this write transaction has appended so far, one per stream
 * touched, in first-touched order. Valid until the next append or the end of
 * the transaction. */
int log_txn_appended(log_txn *t, const log_range **out, size_t *n);

/* Counts for `parklog stats` and /metrics. */
typedef struct log_store_stat {
	uint64_t events;
	uint64_t streams;
	uint64_t plates;
	uint64_t map_used;	/* bytes of the map in use */
	uint64_t map_size;
	uint64_t peer_ahead;	/* peer events committed since this open that
				   were dated beyond the skew ahead of our clock */
} log_store_stat;
int log_txn_stat(log_txn *t, log_store_stat *out);

/* Grow the map now (double it). The writer calls it after MDB_MAP_FULL
 * before retrying a batch; log_txn_begin(write) also grows by itself past
 * 75% use or after a store call saw MDB_MAP_FULL. Waits (up to 2 s, then
 * ETIMEDOUT) until no transaction of this process is open. */
int log_store_grow(log_store *s);

/* Hot, compacting copy of the environment into directory `dest` (created,
 * must be empty). Safe while another process writes. */
int log_store_backup(log_store *s, const char *dest);

#endif
