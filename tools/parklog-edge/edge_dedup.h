/* edge_dedup — a plate read again within the window is sent once.
 *
 * A reader sees the same car in many frames; only the first read of a plate
 * within `window_ms` of its last sent read goes to the central. A fixed
 * table: the oldest entry is forgotten when it is full.
 */
#ifndef PARKLOG_EDGE_DEDUP_H
#define PARKLOG_EDGE_DEDUP_H

#include <stdint.h>

#define EDGE_DEDUP_SLOTS	64
#define EDGE_PLATE_MAX		12

typedef struct edge_dedup {
	int64_t window_ms;
	struct {
		char plate[EDGE_PLATE_MAX + 1];
		int64_t sent_ms;	/* 0: free slot */
	} slot[EDGE_DEDUP_SLOTS];
} edge_dedup;

void edge_dedup_init(edge_dedup *d, int64_t window_ms);
/* 1: send this read (and remember it), 0: a repeat within the window. */
int edge_dedup_check(edge_dedup *d, const char *plate, int64_t now_ms);

#endif
