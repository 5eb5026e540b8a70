/* edge_barrier_sim.c — the simulated barrier: state changes appended to a
 * file, sensor events read from a FIFO. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/parklog-edge/edge_barrier.h"

typedef struct sim {
	edge_barrier b;		/* first: the interface's view */
	int state_fd;
	int sensor_fd;		/* -1: no sensor */
	char line[128];		/* partial sensor line */
	size_t len;
} sim;

static int sim_note(sim *s, const char *what)
{
	struct timespec ts;
	char buf[64];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof buf, "%s %lld\n", what,
	    (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return write(s->state_fd, buf, (size_t)n) == n ? 0 : -1;
}

static int sim_set(edge_barrier *b, int open)
{
	return sim_note((sim *)b, open ? "open" : "close");
}

static int sim_sensor_fd(const edge_barrier *b)
{
	return ((const sim *)b)->sensor_fd;
}

/* Lines "passed" (a vehicle left the loop); anything else is ignored. */
static int sim_sensor_read(edge_barrier *b)
{
	sim *s = (sim *)b;
	ssize_t n = read(s->sensor_fd, s->line + s->len, sizeof s->line - 1 - s->len);
	int passed = 0;
	char *nl;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	s->len += (size_t)n;
	s->line[s->len] = '\0';
	while ((nl = strchr(s->line, '\n')) != NULL) {
		*nl = '\0';
		passed |= strcmp(s->line, "passed") == 0;
		s->len -= (size_t)(nl + 1 - s->line);
		memmove(s->line, nl + 1, s->len + 1);
	}
	if (s->len == sizeof s->line - 1)
		s->len = 0;	/* an overlong line: drop it */
	return passed;
}

static void sim_release(edge_barrier *b)
{
	sim *s = (sim *)b;

	if (b->is_open)
		sim_note(s, "close");
	sim_note(s, "released");
	close(s->state_fd);
	if (s->sensor_fd >= 0)
		close(s->sensor_fd);
	free(s);
}

static const edge_barrier_ops sim_ops = {
	sim_set, sim_sensor_fd, sim_sensor_read, sim_release
};

/* The FIFO is opened read-write so that a writer closing it does not make
 * it hang up (and poll spin). */
static int sim_sensor_open(const char *path, char *err, size_t errlen)
{
	int fd;

	if (mkfifo(path, 0600) != 0 && errno != EEXIST)
		return snprintf(err, errlen, "barrier.sensor: %s: %s", path,
		    strerror(errno)), -1;
	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return snprintf(err, errlen, "barrier.sensor: %s: %s", path,
		    strerror(errno)), -1;
	return fd;
}

int edge_barrier_sim_open(const edge_barrier_conf *c, edge_barrier **out,
    char *err, size_t errlen)
{
	sim *s = calloc(1, sizeof *s);

	if (s == NULL)
		return snprintf(err, errlen, "barrier: out of memory"), -1;
	s->b.ops = &sim_ops;
	s->sensor_fd = -1;
	s->state_fd = open(c->state_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->state_fd < 0) {
		snprintf(err, errlen, "barrier.state_file: %s: %s", c->state_file,
		    strerror(errno));
		goto err;
	}
	if (c->sensor_path[0] != '\0' &&
	    (s->sensor_fd = sim_sensor_open(c->sensor_path, err, errlen)) < 0)
		goto err;
	if (sim_note(s, "close") != 0) {
		snprintf(err, errlen, "barrier.state_file: %s: %s", c->state_file,
		    strerror(errno));
		goto err;
	}
	*out = &s->b;
	return 0;
err:
	if (s->state_fd >= 0)
		close(s->state_fd);
	if (s->sensor_fd >= 0)
		close(s->sensor_fd);
	free(s);
	return -1;
}
