/* projections/row: the stored form of a session row — round trips, and
 * refusal of anything that is not exactly one well-formed row. */
#include "tests/harness/t.h"

#include <errno.h>

#include "projections/row.h"

static proj_session full_row(void)
{
	proj_session s;

	memset(&s, 0, sizeof s);
	memset(s.id, 'I', sizeof s.id - 1);		/* every field at its longest */
	memset(s.plate, 'P', sizeof s.plate - 1);
	memset(s.plate_view, 'V', sizeof s.plate_view - 1);
	memset(s.vehicle, 'c', sizeof s.vehicle - 1);
	memset(s.primary, 'Q', sizeof s.primary - 1);
	memset(s.entry_edge, 'e', sizeof s.entry_edge - 1);
	memset(s.entry_origin, 'o', sizeof s.entry_origin - 1);
	memset(s.exit_id, 'X', sizeof s.exit_id - 1);
	memset(s.exit_edge, 'f', sizeof s.exit_edge - 1);
	memset(s.exit_origin, 'g', sizeof s.exit_origin - 1);
	s.entry_ts = 1764547200000LL;
	s.confirm_ts = -1;
	s.exit_ts = INT64_MAX;
	s.fee_charged = -1;
	s.fee_tariff = 25000;
	s.flags = 0x80000001u;
	return s;
}

static proj_session typical_row(void)
{
	proj_session s;

	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "central-1_1764547200000_29A12345");
	snprintf(s.plate, sizeof s.plate, "29A12345");
	snprintf(s.plate_view, sizeof s.plate_view, "29A-123.45");
	snprintf(s.vehicle, sizeof s.vehicle, "car");
	snprintf(s.entry_edge, sizeof s.entry_edge, "edge-1");
	snprintf(s.entry_origin, sizeof s.entry_origin, "central-1");
	s.entry_ts = 1764547200000LL;
	s.confirm_ts = s.exit_ts = s.fee_charged = s.fee_tariff = -1;
	return s;
}

TEST(round_trip_is_exact)
{
	proj_session in[2] = { full_row(), typical_row() }, out;
	uint8_t buf[PROJ_ROW_MAX], again[PROJ_ROW_MAX];
	uint64_t h = 0;

	for (int i = 0; i < 2; i++) {
		size_t n = proj_row_encode(&in[i], 0x0123456789abcdefULL + (uint64_t)i, buf);

		T_ASSERT(n <= PROJ_ROW_MAX);
		T_EQ_INT(0, proj_row_decode(buf, n, &out, &h));
		T_EQ_U64(0x0123456789abcdefULL + (uint64_t)i, h);
		T_ASSERT(memcmp(&in[i], &out, sizeof out) == 0);
		T_EQ_U64(n, proj_row_encode(&out, h, again));
		T_ASSERT(memcmp(buf, again, n) == 0);
		T_EQ_INT(0, proj_row_decode(buf, n, &out, NULL));
	}
}

TEST(typical_row_is_small)
{
	proj_session s = typical_row();
	uint8_t buf[PROJ_ROW_MAX];

	/* versus sizeof(proj_session) + 8 (456 bytes) in schema 3 */
	T_ASSERT(proj_row_encode(&s, 1, buf) < 160);
}

TEST(refuses_malformed_rows)
{
	proj_session s = typical_row(), out;
	uint8_t buf[PROJ_ROW_MAX + 1];
	size_t n = proj_row_encode(&s, 7, buf);

	for (size_t cut = 0; cut < n; cut++)		/* every truncation */
		T_EQ_INT(EINVAL, proj_row_decode(buf, cut, &out, NULL));
	buf[n] = 0;
	T_EQ_INT(EINVAL, proj_row_decode(buf, n + 1, &out, NULL));	/* trailing byte */
	buf[0] = 2;
	T_EQ_INT(EINVAL, proj_row_decode(buf, n, &out, NULL));		/* version */
	buf[0] = 1;
	buf[45] = 200;		/* id's length beyond its field */
	T_EQ_INT(EINVAL, proj_row_decode(buf, n, &out, NULL));
	proj_row_encode(&s, 7, buf);
	buf[47] = '\0';		/* a NUL inside the id */
	T_EQ_INT(EINVAL, proj_row_decode(buf, n, &out, NULL));
}

T_MAIN()
