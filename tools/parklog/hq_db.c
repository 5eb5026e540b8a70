/* tools/parklog/hq_db.c — the HQ's LMDB: dedup by event id, counts per
 * facility and per facility-day (hq.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hq.h"

int hq_db_open(hq_db *d, const char *dir, int tz_min)
{
	MDB_txn *t = NULL;
	int rc;

	d->tz_min = tz_min;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return errno;
	if ((rc = mdb_env_create(&d->env)) != 0)
		return rc;
	mdb_env_set_mapsize(d->env, (size_t)16 << 30);
	mdb_env_set_maxdbs(d->env, 4);
	if ((rc = mdb_env_open(d->env, dir, MDB_NOTLS, 0640)) != 0 ||
	    (rc = mdb_txn_begin(d->env, NULL, 0, &t)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(t, "ids", MDB_CREATE, &d->ids)) != 0 ||
	    (rc = mdb_dbi_open(t, "agg", MDB_CREATE, &d->agg)) != 0) {
		mdb_txn_abort(t);
		goto fail;
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		goto fail;
	return 0;
fail:
	mdb_env_close(d->env);
	d->env = NULL;
	return rc;
}

void hq_db_close(hq_db *d)
{
	if (d->env != NULL)
		mdb_env_close(d->env);
	d->env = NULL;
}

int32_t hq_local_day(const hq_db *d, int64_t ms)
{
	int64_t local = ms + (int64_t)d->tz_min * 60000;
	int64_t day = local / 86400000;

	if (local < 0 && local % 86400000 != 0)
		day--;
	return (int32_t)day;
}

/* agg[key] += delta. */
static int hq__add(hq_db *d, MDB_txn *t, const char *key, const hq_counts *delta)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	hq_counts c = { 0, 0, 0, 0 };
	int rc = mdb_get(t, d->agg, &k, &v);

	if (rc == 0 && v.mv_size == sizeof c)
		memcpy(&c, v.mv_data, sizeof c);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	c.inside += delta->inside;
	c.entries += delta->entries;
	c.exits += delta->exits;
	c.revenue += delta->revenue;
	v.mv_size = sizeof c;
	v.mv_data = &c;
	return mdb_put(t, d->agg, &k, &v, 0);
}

int hq_db_apply(hq_db *d, MDB_txn *t, const char *facility, const log_event *ev,
    int *dup)
{
	MDB_val k = { strlen(ev->id), (void *)ev->id }, v = { 0, "" };
	hq_counts delta = { 0, 0, 0, 0 };
	char key[96];
	int rc;

	*dup = 0;
	if ((rc = mdb_put(t, d->ids, &k, &v, MDB_NOOVERWRITE)) == MDB_KEYEXIST) {
		*dup = 1;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (ev->type == LOG_EV_ENTRY_PENDING) {
		delta.entries = 1;
		delta.inside = 1;
	} else if (ev->type == LOG_EV_EXIT) {
		delta.exits = 1;
		delta.revenue = ev->fee;
		delta.inside = ev->session[0] != '\0' ? -1 : 0;
	} else {
		return 0;
	}
	snprintf(key, sizeof key, "f/%s", facility);
	if ((rc = hq__add(d, t, key, &delta)) != 0)
		return rc;
	delta.inside = 0;	/* a day has no occupancy of its own */
	snprintf(key, sizeof key, "d/%s/%08x", facility,
	    (unsigned)hq_local_day(d, log_event_at(ev)));
	return hq__add(d, t, key, &delta);
}

int hq_db_each(hq_db *d, int32_t day, hq_fac_fn fn, void *ctx)
{
	MDB_txn *t;
	MDB_cursor *c;
	MDB_val k = { 2, "f/" }, v, dk, dv;
	char fac[64], key[96];
	int rc;

	if ((rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, d->agg, &c)) != 0)
		goto out;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		hq_counts all, today = { 0, 0, 0, 0 };

		if (k.mv_size < 3 || memcmp(k.mv_data, "f/", 2) != 0)
			break;
		if (v.mv_size != sizeof all || k.mv_size - 2 >= sizeof fac)
			continue;
		memcpy(&all, v.mv_data, sizeof all);
		snprintf(fac, sizeof fac, "%.*s", (int)k.mv_size - 2, (char *)k.mv_data + 2);
		snprintf(key, sizeof key, "d/%s/%08x", fac, (unsigned)day);
		dk.mv_size = strlen(key);
		dk.mv_data = key;
		if (mdb_get(t, d->agg, &dk, &dv) == 0 && dv.mv_size == sizeof today)
			memcpy(&today, dv.mv_data, sizeof today);
		fn(ctx, fac, &all, &today);
	}
	mdb_cursor_close(c);
	rc = rc == MDB_NOTFOUND ? 0 : rc;
out:
	mdb_txn_abort(t);
	return rc;
}
