/* Fuzz the WebSocket frame parser (what any client of /ws/... may send):
 * never a crash, never a read past the input; what it accepts fits in it,
 * and a stream is consumed frame by frame as ws.c does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/wsframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *b = malloc(size ? size : 1);
	size_t used = 0;
	api_ws_frame f;
	int rc, code = 0;

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	while ((rc = api_ws_parse(b + used, size - used, 64 * 1024, &f, &code)) == 1) {
		if (f.hdr < 6 || f.hdr > 14 || f.len > 64 * 1024 ||
		    f.hdr + f.len > size - used || f.opcode > 15 ||
		    (f.opcode >= API_WS_CLOSE && (f.len > 125 || !f.fin)))
			abort();
		api_ws_unmask(b + used + f.hdr, f.len, f.mask);
		used += f.hdr + f.len;
	}
	if (rc < 0 && code != 1002 && code != 1009)
		abort();
	free(b);
	return 0;
}
