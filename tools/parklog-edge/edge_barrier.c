/* edge_barrier.c — the driver-independent part of the barrier. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/parklog-edge/edge_barrier.h"

int edge_barrier_open(const edge_barrier_conf *c, edge_barrier **out,
    char *err, size_t errlen)
{
	*out = NULL;
	if (strcmp(c->driver, "sim") == 0)
		return edge_barrier_sim_open(c, out, err, errlen);
	if (strcmp(c->driver, "gpiod") == 0)
		return edge_barrier_gpiod_open(c, out, err, errlen);
	snprintf(err, errlen, "barrier.driver: expected \"gpiod\" or \"sim\"");
	return -1;
}

int edge_barrier_set(edge_barrier *b, int open)
{
	if (b->ops->set(b, open != 0) != 0)
		return -1;
	b->is_open = open != 0;
	return 0;
}

int edge_barrier_is_open(const edge_barrier *b)
{
	return b->is_open;
}

int edge_barrier_sensor_fd(const edge_barrier *b)
{
	return b->ops->sensor_fd(b);
}

int edge_barrier_sensor_read(edge_barrier *b)
{
	return b->ops->sensor_read(b);
}

void edge_barrier_release(edge_barrier *b)
{
	if (b != NULL)
		b->ops->release(b);
}
