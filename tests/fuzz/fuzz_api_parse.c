/* Fuzz the api's request parsers. The first byte picks the parser, the rest
 * is the body (or, for the history query, "key=value" lines). Whatever a
 * parser accepts must make a valid event (log_event_check): bad input never
 * reaches the log. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/parse.h"
#include "log/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An ENTRY_PENDING built from parsed fields must pass the log's rules. */
static void check_event(const char *edge, const char *plate, const char *view,
    const char *vehicle, int conf_milli)
{
	log_event ev;
	char err[256];

	memset(&ev, 0, sizeof ev);
	ev.type = LOG_EV_ENTRY_PENDING;
	strcpy(ev.origin, "central-1");
	ev.epoch = 1;
	ev.seq = 1;
	ev.ts = 1733140800000;
	snprintf(ev.plate, sizeof ev.plate, "%s", plate);
	log_event_id(ev.id, ev.origin, ev.ts, ev.plate);
	snprintf(ev.session, sizeof ev.session, "%s", ev.id);
	snprintf(ev.plate_view, sizeof ev.plate_view, "%s", view[0] ? view : plate);
	snprintf(ev.vehicle, sizeof ev.vehicle, "%s", vehicle[0] ? vehicle : "car");
	snprintf(ev.edge_id, sizeof ev.edge_id, "%s", edge);
	ev.confidence_milli = conf_milli < 0 ? 0 : conf_milli;
	ev.entry_ts = ev.duration_s = -1;
	if (log_event_check(&ev, err, sizeof err) != 0) {
		fprintf(stderr, "accepted input makes a bad event: %s\n", err);
		abort();
	}
}

typedef struct lines {
	char buf[1024];
	char *k[32], *v[32];
	int n;
} lines;

static const char *line_arg(void *ctx, const char *key)
{
	lines *l = ctx;

	for (int i = 0; i < l->n; i++)
		if (strcmp(l->k[i], key) == 0)
			return l->v[i];
	return NULL;
}

static void fuzz_history(const char *s, size_t n)
{
	lines l = { .n = 0 };
	api_history_q q;
	char err[256], *p, *save = NULL;
	int64_t ms;

	if (n >= sizeof l.buf)
		n = sizeof l.buf - 1;
	memcpy(l.buf, s, n);
	l.buf[n] = '\0';
	for (p = strtok_r(l.buf, "\n", &save); p != NULL && l.n < 32;
	    p = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(p, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		l.k[l.n] = p;
		l.v[l.n++] = eq + 1;
		(void)api_parse_time(eq + 1, 420, &ms);
		(void)api_parse_idem_key(eq + 1, err, sizeof err);
	}
	if (api_parse_history(line_arg, &l, 420, &q, err, sizeof err) == 0 &&
	    (q.limit > API_HIST_LIMIT_MAX || (q.to_ms != 0 && q.to_ms <= q.from_ms)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data + 1;
	size_t n = size - 1;
	char err[256];
	api_detection d;
	api_barrier x;
	api_event1 e;
	api_heartbeat h;

	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		if (api_parse_detection(b, n, &d, err, sizeof err) == 0)
			check_event(d.edge_id, d.plate, d.plate_view, d.vehicle,
			    d.conf_milli);
		break;
	case 1:
	case 2:
		if (api_parse_barrier(b, n, data[0] % 6 == 1 ? "open" : "close",
		    &x, err, sizeof err) == 0)
			check_event(x.edge_id, x.plate, x.plate_view, x.vehicle,
			    x.conf_milli);
		break;
	case 3:
		if (api_parse_event1(b, n, &e, err, sizeof err) == 0)
			check_event(e.edge_id, e.plate, e.plate_view, e.vehicle,
			    e.conf_milli);
		break;
	case 4:
		(void)api_parse_heartbeat(b, n, &h, err, sizeof err);
		break;
	default:
		fuzz_history(b, n);
		break;
	}
	return 0;
}
