/* export/internal.h — shared between the exporter's files only. */
#ifndef PARKLOG_EXPORT_INTERNAL_H
#define PARKLOG_EXPORT_INTERNAL_H

#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>

#include "export/export.h"

typedef struct export__pos {
	MDB_env *env;
	MDB_dbi dbi;
} export__pos;

/* <data_dir>/export: created if missing. 0 or an LMDB/errno code. */
int export__pos_open(export__pos *p, const char *data_dir);
void export__pos_close(export__pos *p);
/* 0 with *seq (0 if never exported), or an LMDB code. */
int export__pos_get(export__pos *p, const char *stream, uint64_t *seq);
/* Durable (but for the meta page) before it returns 0. */
int export__pos_put(export__pos *p, const char *stream, uint64_t seq);

#endif
