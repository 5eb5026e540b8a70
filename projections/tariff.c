/* projections/tariff.c — what a stay costs: pure integer arithmetic, no I/O.
 *
 * Everything is computed in exact milliseconds: the header's rules are
 * defined on an uncapped cumulative fee G(t) (t = ms since entry), and the
 * daily cap on differences of G over 24-hour windows.
 */
#include "projections/tariff.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#define MS_MIN	60000LL
#define MS_HOUR	3600000LL
#define MS_DAY	86400000LL
#define DAY_MIN	1440

/* ---------------------------------------------------------------- rules */

void proj_tariff_default(proj_tariff *t)
{
	proj_tariff_rule *r = &t->rules[0];

	/* memset first: the struct is compared and copied as a whole. */
	memset(t, 0, sizeof *t);
	strcpy(t->name, "default");
	t->tz_offset_min = 7 * 60;
	t->unknown_entry_fee = 25000;
	t->nrules = 1;
	strcpy(r->vehicle, "default");
	r->mode = PROJ_TARIFF_HOURLY;
	r->free_s = 30 * 60;
	r->per_hour = 25000;
}

/* The rule named exactly `vehicle`, or NULL. */
static const proj_tariff_rule *proj__find(const proj_tariff *t, const char *vehicle)
{
	size_t i, n = t->nrules < PROJ_TARIFF_CLASSES ? t->nrules : PROJ_TARIFF_CLASSES;

	for (i = 0; i < n; i++)
		if (strcmp(t->rules[i].vehicle, vehicle) == 0)
			return &t->rules[i];
	return NULL;
}

const proj_tariff_rule *proj_tariff_rule_for(const proj_tariff *t, const char *vehicle)
{
	const proj_tariff_rule *r = vehicle != NULL ? proj__find(t, vehicle) : NULL;

	return r != NULL ? r : proj__find(t, "default");
}

static bool proj__fee_ok(int64_t v)
{
	return v >= 0 && v <= PROJ_TARIFF_FEE_MAX;
}

/* The fee arithmetic relies on these ranges (no overflow, free period and
 * first block at most a day), so a hand-built rule is checked too. */
static bool proj__rule_ok(const proj_tariff_rule *r)
{
	if (r->free_s < 0 || r->free_s > DAY_MIN * 60 ||
	    r->first_block_s < 0 || r->first_block_s > DAY_MIN * 60)
		return false;
	if (!proj__fee_ok(r->first_block_fee) || !proj__fee_ok(r->per_hour) ||
	    !proj__fee_ok(r->day_price) || !proj__fee_ok(r->night_price) ||
	    !proj__fee_ok(r->daily_cap))
		return false;
	if (r->mode == PROJ_TARIFF_HOURLY)
		return true;
	return r->mode == PROJ_TARIFF_PER_VISIT && r->day_start_min >= 0 &&
	    r->day_start_min < r->night_start_min && r->night_start_min < DAY_MIN;
}

/* ------------------------------------------------------------------ fee */

static int64_t proj__floordiv(int64_t a, int64_t b)	/* b > 0 */
{
	int64_t q = a / b;

	return a % b < 0 ? q - 1 : q;
}

static int64_t proj__ceildiv(int64_t a, int64_t b)	/* a >= 0, b > 0 */
{
	return a / b + (a % b != 0);
}

static int64_t proj__sat_add(int64_t a, int64_t b)	/* a, b >= 0 */
{
	int64_t s;

	return __builtin_add_overflow(a, b, &s) ? INT64_MAX : s;
}

/* How many periods [n*DAY + lo, n*DAY + hi) overlap the local time span
 * [a, b) (half-open on both sides: touching an end is not overlapping). */
static int64_t proj__periods(int64_t a, int64_t b, int64_t lo, int64_t hi)
{
	int64_t first = proj__floordiv(a - hi, MS_DAY) + 1;	/* n*D+hi > a */
	int64_t last = proj__floordiv(b - lo - 1, MS_DAY);	/* n*D+lo < b */

	return last >= first ? last - first + 1 : 0;
}

/* G(t): the uncapped fee of a stay of t ms entered at local time `le`.
 * Bounded by the ranges of PROJ_TARIFF_TS_MAX and proj__rule_ok: < 2^63. */
static int64_t proj__cum(const proj_tariff_rule *r, int64_t le, int64_t t)
{
	int64_t c = t - r->free_s * 1000, ds, ns, fb;

	if (c <= 0)
		return 0;
	if (r->mode == PROJ_TARIFF_PER_VISIT) {
		ds = r->day_start_min * MS_MIN;
		ns = r->night_start_min * MS_MIN;
		/* a night runs from night_start to the next day_start */
		return proj__periods(le, le + t, ds, ns) * r->day_price +
		    proj__periods(le, le + t, ns, MS_DAY + ds) * r->night_price;
	}
	if (r->first_block_s == 0)
		return proj__ceildiv(c, MS_HOUR) * r->per_hour;
	fb = r->first_block_s * 1000;
	if (c <= fb)
		return r->first_block_fee;
	return r->first_block_fee + proj__ceildiv(c - fb, MS_HOUR) * r->per_hour;
}

/* Capped cost of the k-th 24 h window of a stay of d ms. */
static int64_t proj__window(const proj_tariff_rule *r, int64_t le, int64_t d, int64_t k)
{
	int64_t s = k * MS_DAY, e = d - s < MS_DAY ? d : s + MS_DAY;
	int64_t w = proj__cum(r, le, e) - proj__cum(r, le, s);

	return w < r->daily_cap ? w : r->daily_cap;
}

/* Sum of the capped windows in O(1): from the third window on, every full
 * window costs the same (the free period and first block, each <= 24 h, are
 * over, hours and day/night periods repeat every 24 h), so only windows
 * 0..2, one representative and the last are computed. */
static int64_t proj__capped(const proj_tariff_rule *r, int64_t le, int64_t d)
{
	int64_t nwin = proj__ceildiv(d, MS_DAY), sum = 0, k, mid;

	for (k = 0; k < nwin && k < 3; k++)
		sum = proj__sat_add(sum, proj__window(r, le, d, k));
	if (nwin > 4) {		/* full windows 3 .. nwin-2 */
		if (__builtin_mul_overflow(nwin - 4, proj__window(r, le, d, 3), &mid))
			mid = INT64_MAX;
		sum = proj__sat_add(sum, mid);
	}
	if (nwin > 3)
		sum = proj__sat_add(sum, proj__window(r, le, d, nwin - 1));
	return sum;
}

int proj_tariff_fee(const proj_tariff *t, const char *vehicle, int64_t entry_ms,
    int64_t exit_ms, int64_t *fee)
{
	const proj_tariff_rule *r;
	int64_t le, d, f;

	if (entry_ms < -PROJ_TARIFF_TS_MAX || entry_ms > PROJ_TARIFF_TS_MAX ||
	    exit_ms < -PROJ_TARIFF_TS_MAX || exit_ms > PROJ_TARIFF_TS_MAX ||
	    exit_ms <= entry_ms)
		return PROJ_ETARIFF_DURATION;
	r = proj_tariff_rule_for(t, vehicle);
	if (r == NULL || !proj__rule_ok(r) ||
	    t->tz_offset_min <= -DAY_MIN || t->tz_offset_min >= DAY_MIN)
		return PROJ_ETARIFF_CONFIG;
	le = entry_ms + t->tz_offset_min * MS_MIN;
	d = exit_ms - entry_ms;
	f = r->daily_cap > 0 ? proj__capped(r, le, d) : proj__cum(r, le, d);
	*fee = f < LOG_FEE_MAX ? f : LOG_FEE_MAX;
	return 0;
}

/* -------------------------------------------------------------- parsing */

static int proj__fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int proj__fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err != NULL && errlen > 0) {
		n = snprintf(err, errlen, "%s: ", path);
		if (n >= 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return PROJ_ETARIFF_CONFIG;
}

/* An integral JSON number in [lo, hi] (NaN and fractions fail). */
static bool proj__int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!(d >= (double)lo && d <= (double)hi) || (double)(int64_t)d != d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* Exactly "HH:MM", 00:00 .. 23:59. */
static bool proj__hhmm(const char *s, int *min)
{
	int i, h, m;

	for (i = 0; i < 5; i++)
		if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
			return false;
	if (s[5] != '\0')
		return false;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	*min = h * 60 + m;
	return h < 24 && m < 60;
}

static bool proj__name_ok(const char *s, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (n >= max || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || strchr(extra, s[n]) != NULL))
			return false;
	return n > 0;
}

int proj_utc_offset_parse(const char *s, int *minutes)
{
	int m;

	if (s == NULL)
		return PROJ_ETARIFF_CONFIG;
	if (strcmp(s, "Z") == 0) {
		*minutes = 0;
		return 0;
	}
	if ((s[0] != '+' && s[0] != '-') || !proj__hhmm(s + 1, &m))
		return PROJ_ETARIFF_CONFIG;
	if (s[0] == '-')
		m = -m;
	if (m < -12 * 60 || m > 14 * 60)	/* the offsets in use on Earth */
		return PROJ_ETARIFF_CONFIG;
	*minutes = m;
	return 0;
}

/* The keys of a class: kind of value, the modes that use it, range, field. */
enum proj__kind { PROJ__MODE, PROJ__FEE, PROJ__MINUTES, PROJ__HHMM };
#define PROJ__H	(1u << PROJ_TARIFF_HOURLY)
#define PROJ__V	(1u << PROJ_TARIFF_PER_VISIT)

static const struct proj__key {
	const char *name;
	enum proj__kind kind;
	unsigned modes;
	int64_t lo, hi;
	size_t off;
} proj__keys[] = {
#define K(n, k, m, lo, hi, f) { n, k, m, lo, hi, offsetof(proj_tariff_rule, f) }
	K("mode", PROJ__MODE, PROJ__H | PROJ__V, 0, 0, mode),
	K("free_min", PROJ__MINUTES, PROJ__H | PROJ__V, 0, DAY_MIN, free_s),
	K("daily_cap", PROJ__FEE, PROJ__H | PROJ__V, 0, PROJ_TARIFF_FEE_MAX, daily_cap),
	K("first_block_min", PROJ__MINUTES, PROJ__H, 1, DAY_MIN, first_block_s),
	K("first_block", PROJ__FEE, PROJ__H, 0, PROJ_TARIFF_FEE_MAX, first_block_fee),
	K("per_hour", PROJ__FEE, PROJ__H, 0, PROJ_TARIFF_FEE_MAX, per_hour),
	K("day", PROJ__FEE, PROJ__V, 0, PROJ_TARIFF_FEE_MAX, day_price),
	K("night", PROJ__FEE, PROJ__V, 0, PROJ_TARIFF_FEE_MAX, night_price),
	K("day_start", PROJ__HHMM, PROJ__V, 0, 0, day_start_min),
	K("night_start", PROJ__HHMM, PROJ__V, 0, 0, night_start_min),
#undef K
};
#define PROJ__NKEYS (sizeof proj__keys / sizeof proj__keys[0])

static int proj__key_index(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < PROJ__NKEYS; i++)
		if (strcmp(proj__keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* "mode" first: which other keys are allowed depends on it. */
static int proj__parse_mode(const cJSON *obj, proj_tariff_rule *r, const char *path,
    char *err, size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "mode");
	const char *s = cJSON_GetStringValue(m);

	if (m == NULL)
		return proj__fail(err, errlen, path, "missing");
	if (s != NULL && strcmp(s, "hourly") == 0)
		r->mode = PROJ_TARIFF_HOURLY;
	else if (s != NULL && strcmp(s, "per_visit") == 0)
		r->mode = PROJ_TARIFF_PER_VISIT;
	else
		return proj__fail(err, errlen, path, "expected \"hourly\" or \"per_visit\"");
	return 0;
}

/* One key of a class object into its field of r. */
static int proj__class_key(const cJSON *it, const char *cls, proj_tariff_rule *r,
    unsigned *seen, char *err, size_t errlen)
{
	int i = proj__key_index(it->string);
	const struct proj__key *k;
	char path[96];
	int64_t v;
	int hm;

	snprintf(path, sizeof path, "classes.%s.%s", cls, it->string ? it->string : "");
	if (i < 0)
		return proj__fail(err, errlen, path, "unknown key");
	if (*seen & (1u << i))
		return proj__fail(err, errlen, path, "duplicate key");
	*seen |= 1u << i;
	k = &proj__keys[i];
	if (!(k->modes & (1u << r->mode)))
		return proj__fail(err, errlen, path, "not used in %s mode",
		    r->mode == PROJ_TARIFF_HOURLY ? "hourly" : "per_visit");
	if (k->kind == PROJ__MODE)
		return 0;	/* parsed already */
	if (k->kind == PROJ__HHMM) {
		if (!cJSON_IsString(it) || !proj__hhmm(it->valuestring, &hm))
			return proj__fail(err, errlen, path, "expected \"HH:MM\"");
		*(int *)((char *)r + k->off) = hm;
		return 0;
	}
	if (!proj__int(it, k->lo, k->hi, &v))
		return proj__fail(err, errlen, path, "expected an integer %lld..%lld",
		    (long long)k->lo, (long long)k->hi);
	*(int64_t *)((char *)r + k->off) = k->kind == PROJ__MINUTES ? v * 60 : v;
	return 0;
}

static bool proj__has(unsigned seen, const char *key)
{
	return (seen >> proj__key_index(key)) & 1u;
}

/* Cross-key rules: the prices a mode needs, first block pairs, day order. */
static int proj__class_check(const proj_tariff_rule *r, const char *cls, unsigned seen,
    char *err, size_t errlen)
{
	static const char *const need_h[] = { "per_hour", NULL };
	static const char *const need_v[] = { "day", "night", "day_start", "night_start", NULL };
	const char *const *need = r->mode == PROJ_TARIFF_HOURLY ? need_h : need_v;
	char path[96];

	for (; *need != NULL; need++)
		if (!proj__has(seen, *need)) {
			snprintf(path, sizeof path, "classes.%s.%s", cls, *need);
			return proj__fail(err, errlen, path, "missing (required in %s mode)",
			    r->mode == PROJ_TARIFF_HOURLY ? "hourly" : "per_visit");
		}
	if (proj__has(seen, "first_block") != proj__has(seen, "first_block_min")) {
		snprintf(path, sizeof path, "classes.%s.%s", cls,
		    proj__has(seen, "first_block") ? "first_block_min" : "first_block");
		return proj__fail(err, errlen, path, "missing (first_block and first_block_min go together)");
	}
	if (r->mode == PROJ_TARIFF_PER_VISIT && r->night_start_min <= r->day_start_min) {
		snprintf(path, sizeof path, "classes.%s.night_start", cls);
		return proj__fail(err, errlen, path, "must be later than day_start");
	}
	return 0;
}

static int proj__parse_class(const cJSON *obj, const char *cls, proj_tariff_rule *r,
    char *err, size_t errlen)
{
	const cJSON *it;
	unsigned seen = 0;
	char path[96];
	int rc;

	memset(r, 0, sizeof *r);
	strcpy(r->vehicle, cls);	/* length checked by the caller */
	snprintf(path, sizeof path, "classes.%s", cls);
	if (!cJSON_IsObject(obj))
		return proj__fail(err, errlen, path, "expected an object");
	snprintf(path, sizeof path, "classes.%s.mode", cls);
	if ((rc = proj__parse_mode(obj, r, path, err, errlen)) != 0)
		return rc;
	cJSON_ArrayForEach(it, obj)
		if ((rc = proj__class_key(it, cls, r, &seen, err, errlen)) != 0)
			return rc;
	return proj__class_check(r, cls, seen, err, errlen);
}

/* Rules sorted by class name: one tariff, one struct, whatever the JSON order. */
static void proj__sort_rules(proj_tariff *t)
{
	proj_tariff_rule tmp;
	size_t i, j;

	for (i = 1; i < t->nrules; i++) {
		tmp = t->rules[i];
		for (j = i; j > 0 && strcmp(t->rules[j - 1].vehicle, tmp.vehicle) > 0; j--)
			t->rules[j] = t->rules[j - 1];
		t->rules[j] = tmp;
	}
}

static int proj__parse_classes(const cJSON *obj, proj_tariff *t, char *err, size_t errlen)
{
	const char *toomany = "at most %d classes, \"default\" included";
	proj_tariff seed;
	const cJSON *it;
	char path[96];
	int rc;

	if (!cJSON_IsObject(obj))
		return proj__fail(err, errlen, "classes", "expected an object");
	proj_tariff_default(&seed);
	t->nrules = 0;
	cJSON_ArrayForEach(it, obj) {
		snprintf(path, sizeof path, "classes.%s", it->string ? it->string : "");
		if (it->string == NULL || !proj__name_ok(it->string, LOG_VEHICLE_MAX, "_-"))
			return proj__fail(err, errlen, path, "class name must be 1..%d of [a-z0-9_-]",
			    LOG_VEHICLE_MAX);
		if (proj__find(t, it->string) != NULL)
			return proj__fail(err, errlen, path, "duplicate class");
		if (t->nrules == PROJ_TARIFF_CLASSES)
			return proj__fail(err, errlen, "classes", toomany, PROJ_TARIFF_CLASSES);
		if ((rc = proj__parse_class(it, it->string, &t->rules[t->nrules], err, errlen)) != 0)
			return rc;
		t->nrules++;
	}
	if (proj__find(t, "default") == NULL) {
		if (t->nrules == PROJ_TARIFF_CLASSES)
			return proj__fail(err, errlen, "classes", toomany, PROJ_TARIFF_CLASSES);
		t->rules[t->nrules++] = seed.rules[0];
	}
	proj__sort_rules(t);
	return 0;
}

/* One top-level key; *seen catches duplicates (cJSON keeps both). */
static int proj__top_key(const cJSON *it, proj_tariff *t, unsigned *seen,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "unknown_entry_fee", "classes" };
	const char *k = it->string ? it->string : "";
	const char *s = cJSON_GetStringValue(it);
	unsigned i;

	for (i = 0; i < 3 && strcmp(keys[i], k) != 0; i++)
		;
	if (i == 3)
		return proj__fail(err, errlen, k, "unknown key");
	if (*seen & (1u << i))
		return proj__fail(err, errlen, k, "duplicate key");
	*seen |= 1u << i;
	if (i == 0) {
		if (s == NULL || !proj__name_ok(s, LOG_TARIFF_MAX, "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-"))
			return proj__fail(err, errlen, k, "expected 1..%d of [A-Za-z0-9._-]",
			    LOG_TARIFF_MAX);
		strcpy(t->name, s);
		return 0;
	}
	if (i == 1)
		return proj__int(it, 0, PROJ_TARIFF_FEE_MAX, &t->unknown_entry_fee) ? 0 :
		    proj__fail(err, errlen, k, "expected an integer 0..%lld",
			(long long)PROJ_TARIFF_FEE_MAX);
	return proj__parse_classes(it, t, err, errlen);
}

int proj_tariff_parse(const cJSON *json, proj_tariff *t, char *err, size_t errlen)
{
	const cJSON *it;
	unsigned seen = 0;
	int rc;

	proj_tariff_default(t);
	if (!cJSON_IsObject(json))
		return proj__fail(err, errlen, "tariff", "expected a JSON object");
	cJSON_ArrayForEach(it, json)
		if ((rc = proj__top_key(it, t, &seen, err, errlen)) != 0)
			return rc;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return 0;
}

/* ----------------------------------------------------------------- hash */

/* Canonical bytes: fixed-width little-endian integers, strings as length +
 * bytes. Upper bound: 8 + 40 + 3*8 + 16 * (24 + 10*8) = 1736. */
typedef struct proj__buf {
	unsigned char b[2048];
	size_t n;
} proj__buf;

static void proj__put(proj__buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 0; i < 8; i++)
		b->b[b->n++] = (unsigned char)(u >> (8 * i));
}

static void proj__put_str(proj__buf *b, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	proj__put(b, (int64_t)n);
	memcpy(b->b + b->n, s, n);
	b->n += n;
}

static void proj__put_rule(proj__buf *b, const proj_tariff_rule *r)
{
	proj__put_str(b, r->vehicle, sizeof r->vehicle);
	proj__put(b, r->mode);
	proj__put(b, r->free_s);
	proj__put(b, r->first_block_s);
	proj__put(b, r->first_block_fee);
	proj__put(b, r->per_hour);
	proj__put(b, r->day_price);
	proj__put(b, r->night_price);
	proj__put(b, r->day_start_min);
	proj__put(b, r->night_start_min);
	proj__put(b, r->daily_cap);
}

uint64_t proj_tariff_hash(const proj_tariff *t)
{
	size_t n = t->nrules < PROJ_TARIFF_CLASSES ? t->nrules : PROJ_TARIFF_CLASSES;
	size_t idx[PROJ_TARIFF_CLASSES], i, j, tmp;
	proj__buf b;

	/* class-name order, so a hand-built tariff hashes like a parsed one */
	for (i = 0; i < n; i++) {
		tmp = i;
		for (j = i; j > 0 && strncmp(t->rules[idx[j - 1]].vehicle,
		    t->rules[tmp].vehicle, sizeof t->rules[0].vehicle) > 0; j--)
			idx[j] = idx[j - 1];
		idx[j] = tmp;
	}
	b.n = 0;
	memcpy(b.b, "pltarif1", 8);	/* version of this serialisation */
	b.n = 8;
	proj__put_str(&b, t->name, sizeof t->name);
	proj__put(&b, t->tz_offset_min);
	proj__put(&b, t->unknown_entry_fee);
	proj__put(&b, (int64_t)n);
	for (i = 0; i < n; i++)
		proj__put_rule(&b, &t->rules[idx[i]]);
	return XXH3_64bits(b.b, b.n);
}
