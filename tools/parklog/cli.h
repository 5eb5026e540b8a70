/* tools/parklog/cli.h — the auditor's tool: shared pieces of its commands.
 *
 * Every command opens the data directory read-only (a daemon may be writing
 * it), works in short read transactions where it can, and exits 0 only when
 * it did what was asked: 1 for a finding (verify, replay), 2 for usage or
 * open errors.
 */
#ifndef PARKLOG_CLI_H
#define PARKLOG_CLI_H

#include <stdio.h>

#include "log/store.h"
#include "projections/proj.h"

enum { CLI_OK = 0, CLI_FINDING = 1, CLI_USAGE = 2 };

/* An open data directory: the store and its projections, read-only. */
typedef struct cli_data {
	log_store *store;
	proj *proj;
} cli_data;

/* Open `dir` read-only with its projections (using the tariff stored with
 * them). Prints a clear message and returns CLI_USAGE on failure. */
int cli_open(const char *dir, cli_data *d);
void cli_close(cli_data *d);

/* Parse "2026-11-23", "2026-11-23T10:00:00Z", "...+07:00" or a number of ms
 * since the epoch into ms. 0 or -1. */
int cli_parse_time(const char *s, int64_t *ms);
/* ISO 8601 in UTC ("2026-11-23T03:00:00.000Z") into buf (>= 32 bytes). */
void cli_format_time(int64_t ms, char *buf, size_t cap);

int cli_dump(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_replay(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_sessions(int argc, char **argv);
int cli_backup(int argc, char **argv);
/* `parklog hq`: not on a data directory but on NATS (hq.h). */
int cli_hq(int argc, char **argv);

#endif
