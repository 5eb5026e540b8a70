/* projections/row.c — the stored form of a session row (see row.h). */
#include "projections/row.h"

#include <errno.h>
#include <string.h>

#define PROJ__ROW_VER 1

/* The string fields in stored order, with their sizes. */
#define PROJ__ROW_STRS(X) X(id) X(plate) X(plate_view) X(vehicle) X(primary) \
	X(entry_edge) X(entry_origin) X(exit_id) X(exit_edge) X(exit_origin) X(pass)

#define PROJ__ROW_FITS(f) _Static_assert(sizeof ((proj_session *)0)->f <= 256, \
	    #f " is longer than a length byte");
PROJ__ROW_STRS(PROJ__ROW_FITS)
#undef PROJ__ROW_FITS

static uint8_t *proj__row_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	return p + 8;
}

static uint64_t proj__row_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t *proj__row_str(uint8_t *p, const char *s, size_t size)
{
	size_t n = strnlen(s, size - 1);

	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

size_t proj_row_encode(const proj_session *s, uint64_t h, uint8_t *buf)
{
	uint8_t *p = buf;

	*p++ = PROJ__ROW_VER;
	p[0] = (uint8_t)(s->flags >> 24);
	p[1] = (uint8_t)(s->flags >> 16);
	p[2] = (uint8_t)(s->flags >> 8);
	p[3] = (uint8_t)s->flags;
	p += 4;
	p = proj__row_u64(p, (uint64_t)s->entry_ts);
	p = proj__row_u64(p, (uint64_t)s->confirm_ts);
	p = proj__row_u64(p, (uint64_t)s->exit_ts);
	p = proj__row_u64(p, (uint64_t)s->fee_charged);
	p = proj__row_u64(p, (uint64_t)s->fee_tariff);
#define PROJ__ROW_PUT(f) p = proj__row_str(p, s->f, sizeof s->f);
	PROJ__ROW_STRS(PROJ__ROW_PUT)
#undef PROJ__ROW_PUT
	p = proj__row_u64(p, h);
	return (size_t)(p - buf);
}

/* Read one string into a field of `size` bytes; NULL if it does not fit. */
static const uint8_t *proj__row_getstr(const uint8_t *p, const uint8_t *end,
    char *out, size_t size)
{
	size_t n;

	if (p >= end || (n = *p++) > size - 1 || n > (size_t)(end - p) ||
	    memchr(p, '\0', n) != NULL)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return p + n;
}

int proj_row_decode(const uint8_t *buf, size_t len, proj_session *s, uint64_t *h)
{
	const uint8_t *p = buf, *end = buf + len;

	if (len < 1 + 4 + 5 * 8 + 8 || *p++ != PROJ__ROW_VER)
		return EINVAL;
	memset(s, 0, sizeof *s);
	s->flags = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
	p += 4;
	s->entry_ts = (int64_t)proj__row_get64(p);
	s->confirm_ts = (int64_t)proj__row_get64(p + 8);
	s->exit_ts = (int64_t)proj__row_get64(p + 16);
	s->fee_charged = (int64_t)proj__row_get64(p + 24);
	s->fee_tariff = (int64_t)proj__row_get64(p + 32);
	p += 40;
	end -= 8;		/* the hash */
#define PROJ__ROW_GET(f) if ((p = proj__row_getstr(p, end, s->f, sizeof s->f)) == NULL) \
		return EINVAL;
	PROJ__ROW_STRS(PROJ__ROW_GET)
#undef PROJ__ROW_GET
	if (p != end)
		return EINVAL;
	if (h != NULL)
		*h = proj__row_get64(end);
	return 0;
}
