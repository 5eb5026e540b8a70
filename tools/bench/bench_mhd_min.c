/* bench_mhd_min — the baseline of bench_http.sh: a minimal libmicrohttpd
 * server in parklogd's threading mode (one internal polling thread) that
 * reads the body, parses it with cJSON and answers a fixed reply. No log,
 * no disk. Usage: bench_mhd_min PORT (runs until killed). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <microhttpd.h>

#define MAX_BODY 16384

static const char REPLY[] = "{\"success\":true,\"action\":\"ENTRY\","
    "\"event_id\":\"central-1_1733140800000_29A12345\"}";

typedef struct req {
	size_t len;
	char body[MAX_BODY];
} req;

static enum MHD_Result answer(struct MHD_Connection *c, req *r)
{
	cJSON *o = cJSON_ParseWithLength(r->body, r->len);
	int ok = o != NULL && cJSON_IsString(cJSON_GetObjectItem(o, "plate_id"));
	struct MHD_Response *resp;
	enum MHD_Result ret;

	cJSON_Delete(o);
	resp = MHD_create_response_from_buffer(sizeof REPLY - 1, (void *)REPLY,
	    MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, ok ? 200 : 400, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *data, size_t *size, void **con_cls)
{
	req *r = *con_cls;

	(void)cls; (void)url; (void)method; (void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof *r)) == NULL)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*size != 0) {
		size_t n = *size < MAX_BODY - r->len ? *size : MAX_BODY - r->len;

		memcpy(r->body + r->len, data, n);
		r->len += n;
		*size = 0;
		return MHD_YES;
	}
	return answer(c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls; (void)c; (void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_mhd_min PORT\n");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME,
	    (uint16_t)atoi(argv[1]), NULL, NULL, handler, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, 1024u,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bench_mhd_min: cannot listen on %s\n", argv[1]);
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
