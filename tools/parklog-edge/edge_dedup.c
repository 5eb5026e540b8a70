/* edge_dedup.c — repeated plate reads within a window. */
#include <stdio.h>
#include <string.h>

#include "tools/parklog-edge/edge_dedup.h"

void edge_dedup_init(edge_dedup *d, int64_t window_ms)
{
	memset(d, 0, sizeof *d);
	d->window_ms = window_ms;
}

int edge_dedup_check(edge_dedup *d, const char *plate, int64_t now_ms)
{
	size_t oldest = 0;

	for (size_t i = 0; i < EDGE_DEDUP_SLOTS; i++) {
		if (d->slot[i].sent_ms != 0 && strcmp(d->slot[i].plate, plate) == 0) {
			/* The window runs from the last read sent: a car
			 * standing at the gate is re-sent once per window. */
			if (now_ms - d->slot[i].sent_ms < d->window_ms)
				return 0;
			d->slot[i].sent_ms = now_ms;
			return 1;
		}
		if (d->slot[i].sent_ms < d->slot[oldest].sent_ms)
			oldest = i;
	}
	snprintf(d->slot[oldest].plate, sizeof d->slot[oldest].plate, "%s", plate);
	d->slot[oldest].sent_ms = now_ms;
	return 1;
}
