/* Fuzz proj_row_decode: it must never crash, and whatever it accepts must
 * re-encode to exactly the same bytes (a stored row has one form). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "projections/row.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[PROJ_ROW_MAX];
	proj_session s;
	uint64_t h;
	size_t n;

	if (proj_row_decode(data, size, &s, &h) != 0)
		return 0;
	n = proj_row_encode(&s, h, buf);
	if (n != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
