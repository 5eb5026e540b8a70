/* tools/parklogd/conf.h — parklogd's configuration: embedded default, JSON
 * file (own format or the seed's config/p2p_config.json), command-line flags.
 *
 * Order of precedence: embedded default < file < flags. Every error names
 * where it is, OpenBSD style: "file: key: message" (for flags: "--http:
 * message"). A conf is plain data without pointers, owned by the caller:
 * it can be copied (SIGHUP: load into a copy, validate, then swap) and has
 * nothing to free. The file format: docs/config.md.
 */
#ifndef PARKLOG_CONF_H
#define PARKLOG_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "export/export.h"
#include "log/store.h"
#include "projections/tariff.h"

#define CONF_MAX_EDGES	256
#define CONF_MAX_PEERS	32
#define CONF_TOKEN_MAX	128
#define CONF_HOST_MAX	255

enum conf_direction { CONF_DIR_NONE = 0, CONF_DIR_ENTRY, CONF_DIR_EXIT };

typedef struct conf_addr {
	char host[CONF_HOST_MAX + 1];	/* numeric IPv4/IPv6 or a name */
	int port;
} conf_addr;

typedef struct conf_edge {
	char id[LOG_ORIGIN_MAX + 1];
	enum conf_direction direction;	/* NONE: EXIT if inside, else ENTRY */
	char vehicle[LOG_VEHICLE_MAX + 1]; /* default class of this gate; "" = per request */
	char token[CONF_TOKEN_MAX + 1];	/* bearer token; "" only without auth */
	/* auto-open rules (off by default: an operator confirms) */
	int auto_open_entry;		/* open if confidence >= threshold, not inside */
	int auto_open_min_conf_milli;
	int auto_open_exit_free;	/* open an exit whose fee is 0 */
} conf_edge;

typedef struct conf_peer {
	char id[LOG_ORIGIN_MAX + 1];
	conf_addr addr;			/* its p2p listener */
} conf_peer;

typedef struct conf_capacity {
	char vehicle[LOG_VEHICLE_MAX + 1];
	uint64_t capacity;
} conf_capacity;

typedef struct conf {
	char id[LOG_ORIGIN_MAX + 1];	/* central id, default "central-1" */
	char data_dir[1024];		/* default "./data" */
	conf_addr http;			/* default 127.0.0.1:8000 */
	conf_addr p2p;			/* default 127.0.0.1:9000 */
	conf_addr gates;		/* the gate channel, default 127.0.0.1 on
					   p2p's port + 100 (conf_gates_derive) */
	int gates_set;			/* "gates" given (file or flag): no derivation */
	unsigned gate_ack_ms;		/* wait for a gate's ack, default 2000 */
	enum log_durability durability;	/* "full" (default) | "meta" | "none" */
	int verbose;			/* msg level */

	size_t nedges;
	conf_edge edges[CONF_MAX_EDGES];
	char operator_token[CONF_TOKEN_MAX + 1]; /* "" = operator API open */
	/* "operators": named accounts, each its own token and role
	 * ("viewer" | "operator" | "admin"; api/accounts.c) */
	size_t noperators;
	struct conf_operator {
		char name[LOG_ORIGIN_MAX + 1];
		char token[CONF_TOKEN_MAX + 1];
		char role[16];
	} operators[32];

	size_t npeers;
	conf_peer peers[CONF_MAX_PEERS];
	char peer_secret[CONF_TOKEN_MAX + 1];	/* HMAC secret shared by the facility */
	/* "p2p_tls": wss on peer links, PEM paths; all "" = plain ws */
	char p2p_tls_cert[1024], p2p_tls_key[1024], p2p_tls_ca[1024];

	proj_tariff tariff;		/* includes the facility UTC offset */
	char tariff_json[1025];		/* "tariff" as given, compact ("" if
					   none): seeds the first TARIFF_SET */
	size_t ncapacity;
	char metrics_allow[2048];	/* /metrics without a token: addresses or
					   prefixes, comma-separated; default loopback */
	conf_capacity capacity[PROJ_TARIFF_CLASSES];

	/* limits */
	size_t max_body;		/* bytes, default 16 KiB */
	size_t max_header;		/* request line + headers, bytes, default 8 KiB */
	unsigned max_conns;		/* default 1024 */
	unsigned conn_timeout_s;	/* default 30 */
	unsigned request_deadline_s;	/* a complete request within, default 10 */
	unsigned max_conns_per_ip;	/* still sending, no token, default 128 */
	unsigned reserved_conns;	/* kept from those; 0: max_conns / 16 */
	unsigned idem_window_ms;	/* retried barrier/open window, default 10000 */
	unsigned idem_key_ttl_s;	/* Idempotency-Keys remembered, default 86400 */
	unsigned camera_offline_s;	/* default 60 (the seed's) */

	/* time: edge_ts bounds (docs/time.md) */
	unsigned time_skew_ms;		/* ahead of our clock, default 2000 */
	unsigned time_offline_horizon_s; /* older: refused, default 86400 */
	unsigned time_max_drift_ms;	/* gate clock offset, default 10000 */

	/* "seed": the seed's clients (docs/seed-compat.md), comma-separated */
	char seed_cors[2048];		/* CORS origins, default "*"; "" = none */
	char seed_tokenless[2048];	/* addresses needing no token, default "" */
	/* "export": {"nats": {...}} (docs/export.md); off without the key */
	int export_on;
	export_opts export_nats;
} conf;

/* Fill c with the embedded default (DESIGN.md, Programs). */
void conf_default(conf *c);

/* Read a JSON config file over c. Keys of the seed's p2p_config.json shape
 * ("this_central", "peer_centrals") are accepted alongside our own. On error
 * returns -1 with "file: key: message" in err, and c is unspecified. */
int conf_load_file(conf *c, const char *path, char *err, size_t errlen);

/* Checks across keys (edges without tokens on a non-loopback listener,
 * duplicate edge ids, ...). 0 or -1 with a message in err. */
int conf_validate(const conf *c, char *err, size_t errlen);

/* Is this a loopback address (127.0.0.0/8, ::1, "localhost")? */
int conf_is_loopback(const char *host);

/* "host:port" / "[v6]:port" → addr (host stored without brackets); 0 or -1.
 * The host is required: ":port" is refused, so that listening on every
 * interface is always spelled out ("0.0.0.0:8000", "[::]:8000"). A bare
 * IPv6 ("::1:8000") is ambiguous and refused too. */
int conf_parse_addr(const char *s, conf_addr *out);

/* addr → "host:port" or "[v6]:port" into buf; returns snprintf's result. */
int conf_addr_format(const conf_addr *a, char *buf, size_t len);

const conf_edge *conf_edge_find(const conf *c, const char *id);

/* Unless gates_set, the gate channel's port from p2p's: p2p + 100 (9000 →
 * 9100), or p2p - 100 above 65435. Call after the file and the flags,
 * before conf_validate: two centrals on one machine have different p2p
 * ports, so their gate channels differ too (docs/config.md). */
void conf_gates_derive(conf *c);

#endif
