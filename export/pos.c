/* export/pos.c — the exported position per log stream, in the exporter's
 * own LMDB environment: stream name → last acked seq (8 bytes, BE). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "export/internal.h"

int export__pos_open(export__pos *p, const char *data_dir)
{
	char dir[1100];
	MDB_txn *t = NULL;
	int rc;

	snprintf(dir, sizeof dir, "%s/export", data_dir);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return errno;
	if ((rc = mdb_env_create(&p->env)) != 0)
		return rc;
	mdb_env_set_mapsize(p->env, (size_t)64 << 20);
	/* a lost last commit only re-sends a batch: the dedup window takes it */
	if ((rc = mdb_env_open(p->env, dir, MDB_NOMETASYNC, 0640)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(p->env, NULL, 0, &t)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(t, NULL, 0, &p->dbi)) != 0 ||
	    (rc = mdb_txn_commit(t)) != 0) {
		if (rc != 0 && t != NULL)
			mdb_txn_abort(t);
		goto fail;
	}
	return 0;
fail:
	mdb_env_close(p->env);
	p->env = NULL;
	return rc;
}

void export__pos_close(export__pos *p)
{
	if (p->env != NULL)
		mdb_env_close(p->env);
	p->env = NULL;
}

int export__pos_get(export__pos *p, const char *stream, uint64_t *seq)
{
	MDB_txn *t;
	MDB_val k = { strlen(stream), (void *)stream }, v;
	int rc;

	*seq = 0;
	if ((rc = mdb_txn_begin(p->env, NULL, MDB_RDONLY, &t)) != 0)
		return rc;
	rc = mdb_get(t, p->dbi, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		for (int i = 0; i < 8; i++)
			*seq = *seq << 8 | ((const unsigned char *)v.mv_data)[i];
	mdb_txn_abort(t);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int export__pos_put(export__pos *p, const char *stream, uint64_t seq)
{
	unsigned char b[8];
	MDB_txn *t;
	MDB_val k = { strlen(stream), (void *)stream }, v = { 8, b };
	int rc;

	for (int i = 7; i >= 0; i--, seq >>= 8)
		b[i] = (unsigned char)seq;
	if ((rc = mdb_txn_begin(p->env, NULL, 0, &t)) != 0)
		return rc;
	if ((rc = mdb_put(t, p->dbi, &k, &v, 0)) != 0) {
		mdb_txn_abort(t);
		return rc;
	}
	return mdb_txn_commit(t);
}
