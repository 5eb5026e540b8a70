/* projections/tariff.h — what a stay costs: a pure function, integer VND.
 *
 * A tariff has one rule per vehicle class (and a "default" rule for classes
 * it does not name). A rule is one of two modes:
 *
 *   hourly     stay <= free period: 0. Otherwise the chargeable time is the
 *              stay minus the free period; its first block (if configured)
 *              costs first_block_fee, every started hour after it costs
 *              per_hour. The seed's rule: free 30 min, 25,000 per started
 *              hour (= ceil(hours - 0.5) x 25,000).
 *   per_visit  stay <= free period: 0. Otherwise the sum of the prices of the
 *              day and night periods the stay touches (day = [day_start,
 *              night_start) local time, night the rest).
 *
 * Daily cap (optional, both modes): the stay is cut into 24-hour windows
 * counted from the entry; each window costs at most the cap, where a window's
 * cost is G(window end) - G(window start) for the uncapped cumulative fee G.
 *
 * Local time is UTC plus the facility's fixed offset (tz_offset_min, default
 * +420 = +07:00). Exit at or before entry is an error, never a fee.
 *
 * Time is exact to the millisecond, nothing is rounded first: "stay <= free"
 * compares ms, and any positive remainder of an hour (even 1 ms) is a started
 * hour. A stay [entry, exit) touches a period [start, end) iff they overlap:
 * entering at day_start does not touch the night before, leaving at
 * night_start does not touch that night. A fee above LOG_FEE_MAX (only
 * possible for stays of years) saturates at LOG_FEE_MAX.
 * The JSON format, with worked examples: docs/tariff.md.
 */
#ifndef PARKLOG_PROJ_TARIFF_H
#define PARKLOG_PROJ_TARIFF_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "log/event.h"

#define PROJ_TARIFF_CLASSES 16		/* rules, "default" included */
#define PROJ_TARIFF_FEE_MAX 1000000000LL	/* per price / cap, VND */
#define PROJ_TARIFF_TS_MAX (1LL << 53)	/* |entry_ms|, |exit_ms| */

enum proj_tariff_mode { PROJ_TARIFF_HOURLY = 0, PROJ_TARIFF_PER_VISIT = 1 };

typedef struct proj_tariff_rule {
	char vehicle[LOG_VEHICLE_MAX + 1];	/* "default" for the fallback */
	enum proj_tariff_mode mode;
	int64_t free_s;			/* free period, seconds */
	int64_t first_block_s;		/* hourly: 0 = no first block */
	int64_t first_block_fee;
	int64_t per_hour;		/* hourly: per started hour */
	int64_t day_price, night_price;	/* per_visit */
	int day_start_min, night_start_min; /* per_visit: minutes after local midnight */
	int64_t daily_cap;		/* 0 = none */
} proj_tariff_rule;

typedef struct proj_tariff {
	char name[LOG_TARIFF_MAX + 1];	/* recorded in EXIT events */
	int tz_offset_min;		/* facility UTC offset, minutes */
	int64_t unknown_entry_fee;	/* EXIT of a plate not inside */
	size_t nrules;
	proj_tariff_rule rules[PROJ_TARIFF_CLASSES];
} proj_tariff;

/* Errors (0 is success). */
enum {
	PROJ_ETARIFF_CONFIG = -30800,	/* invalid tariff configuration */
	PROJ_ETARIFF_DURATION		/* exit at or before entry */
};

/* The seed's tariff: name "default", +07:00, one "default" hourly rule with
 * 30 min free and 25,000 per started hour, no cap, unknown entry 25,000. */
void proj_tariff_default(proj_tariff *t);

/* Read a tariff from JSON (docs/tariff.md has the format). *t starts as
 * proj_tariff_default (tz_offset_min included: it is not part of the JSON,
 * set it afterwards from the facility's "utc_offset"); top-level fields not
 * given keep the defaults. A class needs "mode" and its mode's prices; a
 * missing "default" class is the seed's rule. Unknown or duplicate keys,
 * keys of the other mode and out-of-range values are errors. Rules are
 * stored sorted by class name. On error returns PROJ_ETARIFF_CONFIG and
 * writes "key.path: message" (e.g. "classes.moto.day_start: expected
 * \"HH:MM\"") into err (if errlen > 0); *t is then unspecified. */
int proj_tariff_parse(const cJSON *json, proj_tariff *t, char *err, size_t errlen);

/* Parse a fixed UTC offset: "Z", or "+HH:MM" / "-HH:MM" from -12:00 to
 * +14:00 (e.g. "+07:00" -> 420, "-03:30" -> -210). 0 or PROJ_ETARIFF_CONFIG
 * (*minutes untouched). */
int proj_utc_offset_parse(const char *s, int *minutes);

/* The rule for a vehicle class (the "default" rule if none names it, or if
 * vehicle is NULL or ""); NULL if t has no "default" rule either. */
const proj_tariff_rule *proj_tariff_rule_for(const proj_tariff *t, const char *vehicle);

/* Fee in VND for a stay of `vehicle` from entry_ms to exit_ms (UTC).
 * 0, PROJ_ETARIFF_DURATION (exit_ms <= entry_ms, or a time beyond
 * +-PROJ_TARIFF_TS_MAX), or PROJ_ETARIFF_CONFIG (no rule applies, or the
 * rule or tz_offset_min is out of range). *fee is set only on success. */
int proj_tariff_fee(const proj_tariff *t, const char *vehicle, int64_t entry_ms,
    int64_t exit_ms, int64_t *fee);

/* Stable 64-bit fingerprint of a tariff (projections are rebuilt when the
 * tariff that computed them changes): XXH3_64 of a fixed little-endian
 * serialisation of every field, rules taken in class-name order. Same on
 * every run and machine; struct padding and bytes after a string's NUL do
 * not count. */
uint64_t proj_tariff_hash(const proj_tariff *t);

#endif
