/* Fuzz log_event_decode: it must never crash, and whatever it accepts must
 * re-encode to exactly the same bytes (decode accepts canonical bytes only). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], buf[LOG_EVENT_MAX];
	log_event ev;
	int n;

	if (log_event_decode((const char *)data, size, &ev, err, sizeof err) != 0)
		return 0;
	if (log_event_check(&ev, err, sizeof err) != 0)
		abort();
	n = log_event_encode(&ev, buf, sizeof buf);
	if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
