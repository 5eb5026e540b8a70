/* Fuzz gate_frame_parse (what any client of the gate listener may send):
 * never a crash; whatever it accepts has fields within their bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gates/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	gate_frame f;

	if (gate_frame_parse((const char *)data, size, &f, err, sizeof err) != 0)
		return 0;
	if ((f.type != GATE_F_HELLO && f.type != GATE_F_ACK) ||
	    strlen(f.edge_id) > LOG_ORIGIN_MAX || strlen(f.token) > GATE_TOKEN_MAX ||
	    strlen(f.event_id) > LOG_ID_MAX || strlen(f.error) > GATE_ERROR_MAX ||
	    (f.type == GATE_F_HELLO && f.edge_id[0] == '\0') ||
	    (f.type == GATE_F_ACK && f.event_id[0] == '\0'))
		abort();
	return 0;
}
