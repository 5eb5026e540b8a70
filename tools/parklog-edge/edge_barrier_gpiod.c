/* edge_barrier_gpiod.c — the barrier relay on a GPIO line (libgpiod v1).
 *
 * The output line is requested with the barrier closed as its default, so
 * the relay never twitches at startup; active-low wiring is left to the
 * kernel (GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW), so 1 always means "open".
 * The optional input line is the loop sensor: a falling edge (the vehicle
 * left the loop) means it has passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpiod.h>

#include "tools/parklog-edge/edge_barrier.h"

#define CONSUMER "parklog-edge"

typedef struct gpio {
	edge_barrier b;		/* first: the interface's view */
	struct gpiod_chip *chip;
	struct gpiod_line *out, *in;
} gpio;

static int gpio_set(edge_barrier *b, int open)
{
	return gpiod_line_set_value(((gpio *)b)->out, open);
}

static int gpio_sensor_fd(const edge_barrier *b)
{
	const gpio *g = (const gpio *)b;

	return g->in ? gpiod_line_event_get_fd(g->in) : -1;
}

static int gpio_sensor_read(edge_barrier *b)
{
	struct gpiod_line_event ev;

	if (gpiod_line_event_read(((gpio *)b)->in, &ev) != 0)
		return -1;
	return ev.event_type == GPIOD_LINE_EVENT_FALLING_EDGE;
}

static void gpio_release(edge_barrier *b)
{
	gpio *g = (gpio *)b;

	if (g->out != NULL) {
		gpiod_line_set_value(g->out, 0);	/* safe state: closed */
		gpiod_line_release(g->out);
	}
	if (g->in != NULL)
		gpiod_line_release(g->in);
	if (g->chip != NULL)
		gpiod_chip_close(g->chip);
	free(g);
}

static const edge_barrier_ops gpio_ops = {
	gpio_set, gpio_sensor_fd, gpio_sensor_read, gpio_release
};

static int gpio_lines(gpio *g, const edge_barrier_conf *c, char *err, size_t errlen)
{
	int flags = c->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;

	if ((g->out = gpiod_chip_get_line(g->chip, (unsigned)c->line)) == NULL)
		return snprintf(err, errlen, "barrier.line: %d: no such line on "
		    "%s: %s", c->line, c->chip, strerror(errno)), -1;
	if (gpiod_line_request_output_flags(g->out, CONSUMER, flags, 0) != 0) {
		g->out = NULL;
		return snprintf(err, errlen, "barrier.line: %d on %s: cannot "
		    "request it as output: %s", c->line, c->chip, strerror(errno)), -1;
	}
	if (c->sensor_line < 0)
		return 0;
	if ((g->in = gpiod_chip_get_line(g->chip, (unsigned)c->sensor_line)) == NULL)
		return snprintf(err, errlen, "barrier.sensor_line: %d: no such "
		    "line on %s: %s", c->sensor_line, c->chip, strerror(errno)), -1;
	if (gpiod_line_request_both_edges_events(g->in, CONSUMER) != 0) {
		g->in = NULL;
		return snprintf(err, errlen, "barrier.sensor_line: %d on %s: "
		    "cannot request edge events: %s", c->sensor_line, c->chip,
		    strerror(errno)), -1;
	}
	return 0;
}

int edge_barrier_gpiod_open(const edge_barrier_conf *c, edge_barrier **out,
    char *err, size_t errlen)
{
	gpio *g = calloc(1, sizeof *g);

	if (g == NULL)
		return snprintf(err, errlen, "barrier: out of memory"), -1;
	g->b.ops = &gpio_ops;
	if ((g->chip = gpiod_chip_open_lookup(c->chip)) == NULL) {
		snprintf(err, errlen, "barrier.chip: \"%s\": no such GPIO chip "
		    "(%s); see gpiodetect", c->chip, strerror(errno));
		goto err;
	}
	if (gpio_lines(g, c, err, errlen) != 0)
		goto err;
	*out = &g->b;
	return 0;
err:
	gpio_release(&g->b);
	return -1;
}
