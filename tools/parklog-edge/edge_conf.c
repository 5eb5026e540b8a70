/* edge_conf.c — strict JSON configuration of the gate agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "tools/parklog-edge/edge_conf.h"

#define CONF_FILE_MAX	(1024 * 1024)

/* A string into out (size n); required or not. 0, or -1 with message. */
static int get_str(const cJSON *v, const char *key, char *out, size_t n,
    char *err, size_t errlen)
{
	if (!cJSON_IsString(v))
		return snprintf(err, errlen, "%s: expected a string", key), -1;
	if (strlen(v->valuestring) >= n)
		return snprintf(err, errlen, "%s: longer than %zu bytes", key, n - 1), -1;
	snprintf(out, n, "%s", v->valuestring);
	return 0;
}

static int get_int(const cJSON *v, const char *key, int lo, int hi, int *out,
    char *err, size_t errlen)
{
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
	    v->valuedouble < lo || v->valuedouble > hi)
		return snprintf(err, errlen, "%s: expected an integer %d..%d", key,
		    lo, hi), -1;
	*out = (int)v->valuedouble;
	return 0;
}

static int get_bool(const cJSON *v, const char *key, int *out, char *err, size_t errlen)
{
	if (!cJSON_IsBool(v))
		return snprintf(err, errlen, "%s: expected true or false", key), -1;
	*out = cJSON_IsTrue(v);
	return 0;
}

static int get_urls(const cJSON *v, edge_conf *c, char *err, size_t errlen)
{
	const cJSON *u;

	c->ncentral = 0;
	if (cJSON_IsString(v))
		return edge_url_parse(v->valuestring, &c->central[c->ncentral++]) == 0 ? 0 :
		    (snprintf(err, errlen, "central: expected \"http://host:port\""), -1);
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 ||
	    cJSON_GetArraySize(v) > EDGE_URLS_MAX)
		return snprintf(err, errlen, "central: expected a URL or an array of "
		    "1..%d URLs", EDGE_URLS_MAX), -1;
	cJSON_ArrayForEach(u, v) {
		if (!cJSON_IsString(u) ||
		    edge_url_parse(u->valuestring, &c->central[c->ncentral]) != 0)
			return snprintf(err, errlen, "central[%zu]: expected "
			    "\"http://host:port\"", c->ncentral), -1;
		c->ncentral++;
	}
	return 0;
}

static int barrier_key(const cJSON *v, edge_barrier_conf *b, char *err, size_t errlen)
{
	const char *k = v->string;
	char key[64];

	snprintf(key, sizeof key, "barrier.%s", k);
	if (strcmp(k, "driver") == 0)
		return get_str(v, key, b->driver, sizeof b->driver, err, errlen);
	if (strcmp(k, "chip") == 0)
		return get_str(v, key, b->chip, sizeof b->chip, err, errlen);
	if (strcmp(k, "line") == 0)
		return get_int(v, key, 0, 4095, &b->line, err, errlen);
	if (strcmp(k, "active_low") == 0)
		return get_bool(v, key, &b->active_low, err, errlen);
	if (strcmp(k, "sensor_line") == 0)
		return cJSON_IsNull(v) ? (b->sensor_line = -1, 0) :
		    get_int(v, key, 0, 4095, &b->sensor_line, err, errlen);
	if (strcmp(k, "state_file") == 0)
		return get_str(v, key, b->state_file, sizeof b->state_file, err, errlen);
	if (strcmp(k, "sensor") == 0)
		return get_str(v, key, b->sensor_path, sizeof b->sensor_path, err, errlen);
	if (strcmp(k, "open_ms") == 0)
		return get_int(v, key, 100, 600000, &b->open_ms, err, errlen);
	return snprintf(err, errlen, "%s: unknown key", key), -1;
}

static int get_barrier(const cJSON *v, edge_barrier_conf *b, char *err, size_t errlen)
{
	const cJSON *k;

	if (!cJSON_IsObject(v))
		return snprintf(err, errlen, "barrier: expected an object"), -1;
	cJSON_ArrayForEach(k, v)
		if (barrier_key(k, b, err, errlen) != 0)
			return -1;
	if (strcmp(b->driver, "gpiod") == 0 && b->chip[0] == '\0')
		return snprintf(err, errlen, "barrier.chip: required by the gpiod driver"), -1;
	if (strcmp(b->driver, "sim") == 0 && b->state_file[0] == '\0')
		return snprintf(err, errlen, "barrier.state_file: required by the sim "
		    "driver"), -1;
	if (strcmp(b->driver, "sim") != 0 && strcmp(b->driver, "gpiod") != 0)
		return snprintf(err, errlen, "barrier.driver: expected \"gpiod\" or "
		    "\"sim\""), -1;
	return 0;
}

static int get_direction(const cJSON *v, edge_conf *c, char *err, size_t errlen)
{
	if (cJSON_IsNull(v))
		return c->direction[0] = '\0', 0;
	if (cJSON_IsString(v) && (strcmp(v->valuestring, "ENTRY") == 0 ||
	    strcmp(v->valuestring, "EXIT") == 0))
		return snprintf(c->direction, sizeof c->direction, "%s", v->valuestring), 0;
	return snprintf(err, errlen, "direction: expected \"ENTRY\", \"EXIT\" or null"), -1;
}

/* "reads_http": "127.0.0.1:8181" (loopback: checked when it starts), or null. */
static int get_reads(const cJSON *v, edge_conf *c, char *err, size_t errlen)
{
	const char *s = cJSON_GetStringValue(v), *colon;
	char *end;
	long port;

	if (cJSON_IsNull(v))
		return 0;
	if (s == NULL || (colon = strrchr(s, ':')) == NULL || colon == s ||
	    (size_t)(colon - s) >= sizeof c->reads_host)
		return snprintf(err, errlen, "reads_http: expected \"ADDR:PORT\""), -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return snprintf(err, errlen, "reads_http: port 1..65535"), -1;
	memcpy(c->reads_host, s, (size_t)(colon - s));
	c->reads_host[colon - s] = '\0';
	c->reads_port = (int)port;
	return 0;
}

static int top_key(const cJSON *v, edge_conf *c, char *err, size_t errlen)
{
	const char *k = v->string;

	if (strcmp(k, "edge_id") == 0)
		return get_str(v, k, c->id, sizeof c->id, err, errlen);
	if (strcmp(k, "central") == 0)
		return get_urls(v, c, err, errlen);
	if (strcmp(k, "token") == 0)
		return get_str(v, k, c->token, sizeof c->token, err, errlen);
	if (strcmp(k, "direction") == 0)
		return get_direction(v, c, err, errlen);
	if (strcmp(k, "vehicle") == 0)
		return cJSON_IsNull(v) ? 0 : get_str(v, k, c->vehicle, sizeof c->vehicle,
		    err, errlen);
	if (strcmp(k, "auto_open") == 0)
		return get_bool(v, k, &c->auto_open, err, errlen);
	if (strcmp(k, "heartbeat_s") == 0)
		return get_int(v, k, 1, 86400, &c->heartbeat_s, err, errlen);
	if (strcmp(k, "dedup_ms") == 0)
		return get_int(v, k, 0, 3600000, &c->dedup_ms, err, errlen);
	if (strcmp(k, "timeout_ms") == 0)
		return get_int(v, k, 100, 60000, &c->timeout_ms, err, errlen);
	if (strcmp(k, "retry_ms") == 0)
		return get_int(v, k, 100, 600000, &c->retry_ms, err, errlen);
	if (strcmp(k, "retry_max_ms") == 0)
		return get_int(v, k, 100, 3600000, &c->retry_max_ms, err, errlen);
	if (strcmp(k, "gate_port") == 0)
		return get_int(v, k, 0, 65535, &c->gate_port, err, errlen);
	if (strcmp(k, "reads_http") == 0)
		return get_reads(v, c, err, errlen);
	if (strcmp(k, "queue_dir") == 0)
		return get_str(v, k, c->queue_dir, sizeof c->queue_dir, err, errlen);
	if (strcmp(k, "barrier") == 0)
		return get_barrier(v, &c->barrier, err, errlen);
	return snprintf(err, errlen, "%s: unknown key", k), -1;
}

static void defaults(edge_conf *c)
{
	memset(c, 0, sizeof *c);
	c->heartbeat_s = 30;	/* the seed's */
	c->dedup_ms = 10000;
	c->timeout_ms = 3000;
	c->retry_ms = 2000;
	c->retry_max_ms = 60000;
	c->gate_port = 9100;
	snprintf(c->queue_dir, sizeof c->queue_dir, "./edge-queue");
	snprintf(c->barrier.driver, sizeof c->barrier.driver, "sim");
	c->barrier.sensor_line = -1;
	c->barrier.open_ms = 10000;
}

static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), NULL;
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return snprintf(err, errlen, "%s: out of memory", path), NULL;
	}
	*len = fread(buf, 1, CONF_FILE_MAX + 1, f);
	fclose(f);
	if (*len > CONF_FILE_MAX) {
		free(buf);
		return snprintf(err, errlen, "%s: larger than 1 MiB", path), NULL;
	}
	buf[*len] = '\0';
	return buf;
}

int edge_conf_load(edge_conf *c, const char *path, char *err, size_t errlen)
{
	char why[400];
	size_t len;
	char *buf;
	cJSON *root, *v;
	int rc = -1;

	defaults(c);
	if ((buf = slurp(path, &len, err, errlen)) == NULL)
		return -1;
	root = cJSON_ParseWithLength(buf, len);
	free(buf);
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		goto out;
	}
	cJSON_ArrayForEach(v, root)
		if (top_key(v, c, why, sizeof why) != 0)
			goto bad;
	if (c->id[0] == '\0')
		snprintf(why, sizeof why, "edge_id: required");
	else if (c->ncentral == 0)
		snprintf(why, sizeof why, "central: required");
	else
		rc = 0;
	if (rc == 0)
		goto out;
bad:
	snprintf(err, errlen, "%s: %s", path, why);
out:
	cJSON_Delete(root);
	return rc;
}
