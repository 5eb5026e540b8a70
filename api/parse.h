/* api/parse.h — request bodies and query strings into plain structs.
 *
 * Pure functions: no I/O, no global state, bounded work; fuzzed
 * (tests/fuzz/fuzz_api_parse.c) and table-tested. Each returns 0, or -1 with
 * "field: why" in err (the text of the 400 answer). Unknown keys are
 * ignored (the seed's edges send extras); a known key with a wrong type or
 * value is an error. Strings in the structs are NUL-terminated; "" means
 * "not given" for optional ones.
 */
#ifndef PARKLOG_API_PARSE_H
#define PARKLOG_API_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "log/event.h"

#define API_IDEM_MAX	128	/* Idempotency-Key / Phase 1 event_id */
#define API_NAME_MAX	64	/* camera_name, status, source */

enum api_dir_req { API_REQ_DIR_NONE = 0, API_REQ_DIR_ENTRY, API_REQ_DIR_EXIT };

/* POST /api/edge/detection */
typedef struct api_detection {
	char edge_id[LOG_ORIGIN_MAX + 1];
	char plate[LOG_PLATE_MAX + 1];		/* normalised */
	char plate_view[LOG_VIEW_MAX + 1];	/* as sent, or the raw plate_id */
	char vehicle[LOG_VEHICLE_MAX + 1];	/* camera_type; "" if not given */
	enum api_dir_req direction;
	int conf_milli;				/* -1 if not given */
} api_detection;

/* A request's "timestamp" (the gate's clock): a number (ms, or seconds if
 * below 10^11), or a string for api_parse_time (which needs the facility's
 * offset, so it is kept as text); neither: none. Anything unreadable is
 * ignored — the log has its own clock — but a wrong JSON type is refused. */
typedef struct api_timestamp {
	int64_t ms;				/* > 0 if a number was given */
	char text[40];				/* "" if no string was given */
} api_timestamp;

/* The gate's time of an action in ms, 0 if none was given or it cannot be
 * read (or is not within 1..2^53). Whether to believe it is not decided
 * here: api_edge_ts_judge (api/edgetime.h) does, with the policy's bounds. */
int64_t api_timestamp_ms(const api_timestamp *t, int tz_min);

/* POST /api/edge/barrier/open and /close */
typedef struct api_barrier {
	char edge_id[LOG_ORIGIN_MAX + 1];
	char plate[LOG_PLATE_MAX + 1];
	char plate_view[LOG_VIEW_MAX + 1];	/* "" if not given */
	char vehicle[LOG_VEHICLE_MAX + 1];	/* "" if not given */
	int conf_milli;				/* -1 if not given */
	api_timestamp when;			/* the gate's time of the action */
} api_barrier;

/* POST /api/edge/event (Phase 1) */
/* UPDATE, DELETE, LOCATION_UPDATE: the seed edge's corrections and lot
 * sightings; parsed (type and camera_id only) so that they get an answer
 * that ends the edge's retries (docs/seed-compat.md). */
enum api_ev1_type { API_EV1_ENTRY = 1, API_EV1_EXIT, API_EV1_DETECTION,
	API_EV1_UPDATE, API_EV1_DELETE, API_EV1_LOCATION };
typedef struct api_event1 {
	enum api_ev1_type type;
	char edge_id[LOG_ORIGIN_MAX + 1];	/* camera_id as text */
	char camera_name[API_NAME_MAX + 1];
	char vehicle[LOG_VEHICLE_MAX + 1];
	char event_id[API_IDEM_MAX + 1];	/* "" if not given */
	char plate[LOG_PLATE_MAX + 1];
	char plate_view[LOG_VIEW_MAX + 1];	/* data.plate_text as sent */
	int conf_milli;
	api_timestamp when;			/* "timestamp": when queued */
} api_event1;

/* POST /api/edge/heartbeat */
typedef struct api_heartbeat {
	char edge_id[LOG_ORIGIN_MAX + 1];
	char camera_name[API_NAME_MAX + 1];
	char vehicle[LOG_VEHICLE_MAX + 1];
	char status[API_NAME_MAX + 1];
	int64_t events_sent, events_failed;	/* -1 if not given */
	api_timestamp when;			/* the gate's clock when sent */
} api_heartbeat;

/* GET /api/parking/history query */
enum api_hist_status { API_HIST_ANY = 0, API_HIST_IN, API_HIST_OUT };
#define API_HIST_LIMIT_MAX 10000
typedef struct api_history_q {
	size_t limit, offset;
	int today_only, in_parking_only, entries_only;
	enum api_hist_status status;
	char search[LOG_VIEW_MAX + 1];		/* upper-cased, "" = none */
	char plate[LOG_PLATE_MAX + 1];		/* normalised, "" = none */
	int64_t from_ms, to_ms;			/* 0 = unbounded */
} api_history_q;

/* A query-string lookup: the value of `key` or NULL (MHD's, in server). */
typedef const char *(*api_arg_fn)(void *ctx, const char *key);

int api_parse_detection(const char *body, size_t len, api_detection *out,
    char *err, size_t errlen);
int api_parse_barrier(const char *body, size_t len, const char *action,
    api_barrier *out, char *err, size_t errlen);
int api_parse_event1(const char *body, size_t len, api_event1 *out,
    char *err, size_t errlen);
int api_parse_heartbeat(const char *body, size_t len, api_heartbeat *out,
    char *err, size_t errlen);
/* from/to without an offset are facility time (tz_min minutes east). */
int api_parse_history(api_arg_fn arg, void *ctx, int tz_min,
    api_history_q *out, char *err, size_t errlen);

/* An Idempotency-Key header: 1..API_IDEM_MAX printable ASCII. 0 or -1. */
int api_parse_idem_key(const char *s, char *err, size_t errlen);
/* A plate in a URL path: normalised like plate_id. 0 or -1. */
int api_parse_plate(const char *s, char out[LOG_PLATE_MAX + 1], char *err,
    size_t errlen);
/* "2026-11-23", "2026-11-23T10:00:00", with "Z" or "+07:00", or ms since
 * the epoch; a time without an offset is facility time (tz_min). 0 or -1. */
int api_parse_time(const char *s, int tz_min, int64_t *ms);

/* Does s (NUL-terminated) satisfy plate_view's rules: 1..LOG_VIEW_MAX
 * bytes of printable UTF-8 without '"' or '\'? */
int api_view_ok(const char *s);

#endif
