/* edge_barrier — the barrier relay and the vehicle-passed loop sensor,
 * behind one small interface with two drivers:
 *   gpiod  a GPIO output line (libgpiod v1), optional input line for the
 *          sensor (edge events);
 *   sim    for tests and demos: each state change is appended to a file
 *          ("open <unix_ms>\n"), sensor events are lines "passed" read
 *          from a FIFO or file.
 * The barrier starts closed; edge_barrier_release leaves it closed (its
 * safe state) and gives the line back.
 */
#ifndef PARKLOG_EDGE_BARRIER_H
#define PARKLOG_EDGE_BARRIER_H

#include <stddef.h>

typedef struct edge_barrier edge_barrier;

typedef struct edge_barrier_conf {
	char driver[8];		/* "gpiod" | "sim" */
	/* gpiod */
	char chip[256];		/* name, number or path (gpiod_chip_open_lookup) */
	int line;		/* output offset */
	int active_low;
	int sensor_line;	/* input offset, -1: no sensor */
	/* sim */
	char state_file[1024];
	char sensor_path[1024];	/* "" none; a FIFO or a file of "passed" lines */
	/* both */
	int open_ms;		/* auto-close after this long */
} edge_barrier_conf;

/* Open the driver, barrier closed. On error -1 with a message naming the
 * key ("barrier.chip: ...") in err. */
int edge_barrier_open(const edge_barrier_conf *c, edge_barrier **out,
    char *err, size_t errlen);
/* 1 open, 0 closed. 0 or -1 (errno set). */
int edge_barrier_set(edge_barrier *b, int open);
int edge_barrier_is_open(const edge_barrier *b);
/* A descriptor to poll for sensor events (POLLIN), or -1 if none. */
int edge_barrier_sensor_fd(const edge_barrier *b);
/* After POLLIN: 1 if a vehicle passed, 0 nothing of note, -1 error. */
int edge_barrier_sensor_read(edge_barrier *b);
/* Close the barrier (safe state), release the lines, free. */
void edge_barrier_release(edge_barrier *b);

/* Drivers (edge_barrier_sim.c, edge_barrier_gpiod.c). */
typedef struct edge_barrier_ops {
	int (*set)(edge_barrier *b, int open);
	int (*sensor_fd)(const edge_barrier *b);
	int (*sensor_read)(edge_barrier *b);
	void (*release)(edge_barrier *b);
} edge_barrier_ops;

struct edge_barrier {
	const edge_barrier_ops *ops;
	int is_open;
};

int edge_barrier_sim_open(const edge_barrier_conf *c, edge_barrier **out,
    char *err, size_t errlen);
int edge_barrier_gpiod_open(const edge_barrier_conf *c, edge_barrier **out,
    char *err, size_t errlen);

#endif
