/* api/origin.c — the seed's compatibility lists, pure: which CORS origin
 * to allow, which client addresses need no token (api.h). */
#include "api/api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* The next comma- or space-separated item of *s into buf; 0 at the end. */
static int api__item(const char **s, char *buf, size_t n)
{
	const char *p = *s, *e;

	while (*p == ',' || *p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	for (e = p; *e != '\0' && *e != ',' && *e != ' '; e++)
		;
	snprintf(buf, n, "%.*s", (int)(e - p), p);
	*s = e;
	return 1;
}

const char *api_cors_allow(const char *list, const char *origin)
{
	char it[API_ORIGIN_MAX + 1];
	const char *s = list;

	if (list == NULL || origin == NULL || origin[0] == '\0')
		return NULL;
	while (api__item(&s, it, sizeof it)) {
		if (strcmp(it, "*") == 0)
			return "*";
		if (strcasecmp(it, origin) == 0)
			return origin;
	}
	return NULL;
}

/* addr in "a.b.c.d", "a.b.c.d/n", "::1", "fd00::/8"? */
static int api__addr_in(const char *item, const struct sockaddr *sa)
{
	unsigned char net[16], a[16];
	char host[64];
	const char *slash = strchr(item, '/');
	int fam = strchr(item, ':') != NULL ? AF_INET6 : AF_INET;
	int len = fam == AF_INET6 ? 16 : 4;
	long bits = slash != NULL ? strtol(slash + 1, NULL, 10) : len * 8;

	snprintf(host, sizeof host, "%.*s", slash ? (int)(slash - item) : 63, item);
	if (inet_pton(fam, host, net) != 1 || bits < 0 || bits > len * 8)
		return 0;
	if (sa->sa_family == AF_INET6 && fam == AF_INET &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr))
		memcpy(a, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr + 12, 4);
	else if (sa->sa_family == fam && fam == AF_INET)
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else if (sa->sa_family == fam)
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		return 0;
	for (long i = 0; i < bits; i++) {
		unsigned char m = (unsigned char)(0x80 >> (i % 8));

		if ((a[i / 8] & m) != (net[i / 8] & m))
			return 0;
	}
	return 1;
}

int api_addr_listed(const char *list, const struct sockaddr *sa)
{
	char it[API_ORIGIN_MAX + 1];
	const char *s = list;

	if (list == NULL || sa == NULL)
		return 0;
	while (api__item(&s, it, sizeof it))
		if (api__addr_in(it, sa))
			return 1;
	return 0;
}

