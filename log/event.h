/* log/event.h — the event model: one immutable JSON object per event.
 *
 * An event is serialised once, by its origin, into canonical bytes (fixed key
 * order, compact, no spaces, see log_event_encode). Those bytes are what is
 * stored, hashed and shipped to peers; nobody re-serialises them.
 *
 * Canonical form, keys in this order (EXIT-only keys last):
 *   {"id":"central-1_1733140800000_29A12345","type":"ENTRY_PENDING",
 *    "origin":"central-1","stream":"central-1:00000000deadbeef","seq":1,
 *    "ts":1733140800000,"plate_id":"29A12345","plate_view":"29A-123.45",
 *    "vehicle":"car","edge_id":"edge-1","confidence":0.95,
 *    "session":"central-1_1733140800000_29A12345"}
 *   EXIT adds: "entry_ts":1733140000000|null,"duration_s":800|null,
 *              "fee":25000,"tariff":"default"
 *
 * Value rules (log_event_check enforces them, with a precise message):
 *   id        "<origin>_<ts>_<plate_id>" (the origin bumps ts on a clash)
 *   origin    1..32 of [A-Za-z0-9.-]; also edge_id
 *   stream    "<origin>:<16 lower-case hex digits of the epoch>"
 *   seq       1 .. 2^53
 *   ts        ms since the epoch, 1 .. 2^53
 *   plate_id  6..12 of [A-Z0-9]; plate_view 1..32 bytes of printable UTF-8
 *             without '"' or '\'
 *   vehicle   1..16 of [a-z0-9_-]
 *   confidence 0..1, kept in thousandths, written with no trailing zeros
 *   session   an event id or null (null only for an EXIT with no known entry);
 *             an ENTRY_PENDING's session is its own id
 *   fee       0 .. 10^12 VND (integer); duration_s 0 .. 2^53; tariff 1..32 of
 *             [A-Za-z0-9._-]
 *
 * Functions here are pure: no I/O, no allocation unless stated.
 */
#ifndef PARKLOG_LOG_EVENT_H
#define PARKLOG_LOG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define LOG_ORIGIN_MAX	32	/* max chars of an origin or edge id */
#define LOG_PLATE_MIN	6
#define LOG_PLATE_MAX	12
#define LOG_VIEW_MAX	32	/* max bytes of plate_view */
#define LOG_VEHICLE_MAX	16
#define LOG_TARIFF_MAX	32
#define LOG_STREAM_MAX	(LOG_ORIGIN_MAX + 1 + 16)
/* origin + '_' + up to 16 digits + '_' + plate */
#define LOG_ID_MAX	(LOG_ORIGIN_MAX + 1 + 16 + 1 + LOG_PLATE_MAX)
/* Upper bound of one canonical event's bytes (all fields at their maximum,
 * plate_view fully \u-escaped is not allowed, so this is generous). */
#define LOG_EVENT_MAX	2048

#define LOG_SEQ_MAX	9007199254740992ULL	/* 2^53: exact in any JSON reader */
#define LOG_FEE_MAX	1000000000000LL

enum log_ev_type {
	LOG_EV_NONE = 0,
	LOG_EV_ENTRY_PENDING = 1,
	LOG_EV_ENTRY_CONFIRMED = 2,
	LOG_EV_EXIT = 3,
	/* Operator changes (DESIGN.md "Operator changes are events too"),
	 * encoded with the op block below; log_ev_is_op says which. */
	LOG_EV_PLATE_CORRECTED = 4,
	LOG_EV_SESSION_VOIDED = 5,
	LOG_EV_PASS_ISSUED = 6,
	LOG_EV_PASS_REVOKED = 7,
	LOG_EV_TARIFF_SET = 8,
	LOG_EV_SETTINGS_SET = 9
};
#define LOG_EV_LAST LOG_EV_SETTINGS_SET

/* Operator events. They keep the common head and body, with fixed values
 * where a gate field means nothing: edge_id "console", confidence 1,
 * vehicle the pass's class (PASS_ISSUED) else "any", edge_ts absent.
 *   plate_id   a reserved plate per kind, so that all events of a kind are
 *              one plate's in the log's plate index (projections/ops.c loads
 *              them so at open): LOG_OP_PLATE_CORRECT, _VOID, _PASS,
 *              _TARIFF, _SETTINGS. Gate events may not use these plates.
 *   plate_view the plate concerned as displayed (the corrected plate's for a
 *              PLATE_CORRECTED), else plate_id
 *   session    SESSION_VOIDED: the voided session; null for the others
 * then, after "session", by type:
 *   PLATE_CORRECTED ,"target":"<event id>","from_plate":"<plate>","to_plate":"<plate>"
 *   SESSION_VOIDED  ,"for_plate":"<the session's plate>"
 *   PASS_ISSUED     ,"for_plate":"<plate>","pass":"<word>","kind":"<word>",
 *                   "valid_from":ms,"valid_to":ms
 *   PASS_REVOKED    ,"for_plate":"<plate>","pass":"<word>"
 *   TARIFF_SET      ,"tariff":"<name>","effective_from":ms,"value":{tariff JSON}
 *   SETTINGS_SET    ,"section":"<word>","value":<JSON value>
 * and last, for all: ,"operator":"<account>","reason":"<text>".
 * "value" is compact JSON (no whitespace outside strings, at most
 * LOG_OP_JSON_MAX bytes, nesting <= 8), kept byte for byte; what it means
 * is checked by projections/ (a TARIFF_SET whose value is no tariff there
 * is ignored, and api/ never writes one). pass is a word of [A-Za-z0-9._-]
 * (1..32), kind (1..16); valid_from < valid_to; reason 1..200 bytes of the
 * plate_view rule; operator a word like an origin. */
#define LOG_OP_PLATE_CORRECT	"ZZCORRECT"
#define LOG_OP_PLATE_VOID	"ZZVOID"
#define LOG_OP_PLATE_PASS	"ZZPASS"
#define LOG_OP_PLATE_TARIFF	"ZZTARIFF"
#define LOG_OP_PLATE_SETTINGS	"ZZSETTINGS"
#define LOG_OP_EDGE		"console"
#define LOG_OP_JSON_MAX		1024
#define LOG_REASON_MAX		200
#define LOG_PASS_MAX		32
#define LOG_SECTION_MAX		16

typedef struct log_op {
	char target[LOG_ID_MAX + 1];		/* PLATE_CORRECTED */
	char from_plate[LOG_PLATE_MAX + 1];	/* PLATE_CORRECTED */
	char plate[LOG_PLATE_MAX + 1];		/* the plate concerned: to_plate
						   or for_plate */
	char pass[LOG_PASS_MAX + 1];		/* PASS_* */
	char kind[LOG_VEHICLE_MAX + 1];		/* PASS_ISSUED */
	int64_t valid_from, valid_to;		/* PASS_ISSUED, ms, [from, to) */
	int64_t effective_from;			/* TARIFF_SET, ms */
	char section[LOG_SECTION_MAX + 1];	/* SETTINGS_SET */
	char value[LOG_OP_JSON_MAX + 1];	/* TARIFF_SET, SETTINGS_SET */
	char op[LOG_ORIGIN_MAX + 1];		/* the operator account */
	char reason[LOG_REASON_MAX + 1];
} log_op;

/* One event, decoded. Strings are NUL-terminated and owned by the struct. */
typedef struct log_event {
	char id[LOG_ID_MAX + 1];
	enum log_ev_type type;
	char origin[LOG_ORIGIN_MAX + 1];
	uint64_t epoch;			/* stream = (origin, epoch) */
	uint64_t seq;
	int64_t ts;			/* ms since the epoch, UTC */
	char plate[LOG_PLATE_MAX + 1];	/* plate_id, normalised */
	char plate_view[LOG_VIEW_MAX + 1];
	char vehicle[LOG_VEHICLE_MAX + 1];
	char edge_id[LOG_ORIGIN_MAX + 1];
	int confidence_milli;		/* 0..1000 */
	char session[LOG_ID_MAX + 1];	/* "" means null */
	/* EXIT only */
	int64_t entry_ts;		/* -1 means null */
	int64_t duration_s;		/* -1 means null */
	int64_t fee;
	char tariff[LOG_TARIFF_MAX + 1];
	/* The gate's own time of the action, when the gate sent it (an action
	 * it queued while the central was unreachable happened earlier than
	 * it is recorded); 0: none. Canonical JSON: a last key "edge_ts",
	 * present only when > 0, so events without it keep their bytes. */
	int64_t edge_ts;
	/* Operator events only (log_ev_is_op); zeroed by decode otherwise.
	 * TARIFF_SET's tariff name is `tariff` above. */
	log_op op;
} log_event;

/* 1 for the operator event types (PLATE_CORRECTED .. SETTINGS_SET). */
int log_ev_is_op(enum log_ev_type t);
/* The reserved plate of an operator event type; NULL for others. */
const char *log_op_plate(enum log_ev_type t);
/* 1 if plate is one of the reserved plates. */
int log_op_plate_reserved(const char *plate);

/* When the event happened — its action time: the gate's time if it gave an
 * earlier one than ts, else ts. Sessions, fees and the per-plate fold order
 * use it (docs/time.md). A central stores an edge_ts only inside its bounds
 * (api/); a peer's event is taken as it is, and the earlier-of-the-two rule
 * keeps even a bad one from dating an action after it was recorded. */
int64_t log_event_at(const log_event *ev);

/* Error codes of this module (0 is success). log_event_strerror names them;
 * the functions that take an `err` buffer also say which field and why. */
enum {
	LOG_EEVENT_SYNTAX = -30900,	/* not JSON of the canonical shape */
	LOG_EEVENT_FIELD,		/* a field missing, out of order or extra */
	LOG_EEVENT_VALUE,		/* a field with a bad value */
	LOG_EEVENT_NONCANON,		/* valid, but not the canonical bytes */
	LOG_EEVENT_SPACE		/* output buffer too small */
};
const char *log_event_strerror(int err);

/* "ENTRY_PENDING" etc.; NULL for an unknown type. */
const char *log_ev_type_name(enum log_ev_type t);
/* The type named by `s`, or LOG_EV_NONE. */
enum log_ev_type log_ev_type_parse(const char *s);

/* Normalise a plate as the seed does: upper-case, keep only A-Z and 0-9.
 * Writes at most LOG_PLATE_MAX+1 bytes to `out`. Returns 0 if the result is
 * 6..12 characters, otherwise LOG_EEVENT_VALUE with a message in err. Input
 * that is not valid UTF-8 is refused ("invalid UTF-8"), `out` then "". */
int log_plate_normalise(const char *in, char out[LOG_PLATE_MAX + 1],
    char *err, size_t errlen);

/* Build "<origin>_<ts>_<plate>" into out (LOG_ID_MAX+1 bytes). */
void log_event_id(char out[LOG_ID_MAX + 1], const char *origin, int64_t ts,
    const char *plate);

/* Stream name "<origin>:<%016x epoch>" into out (LOG_STREAM_MAX+1 bytes). */
void log_stream_name(char out[LOG_STREAM_MAX + 1], const char *origin,
    uint64_t epoch);
/* Split a stream name; 0 or LOG_EEVENT_VALUE. */
int log_stream_parse(const char *name, char origin[LOG_ORIGIN_MAX + 1],
    uint64_t *epoch);

/* Check every value rule above. 0, or LOG_EEVENT_VALUE with "field: why". */
int log_event_check(const log_event *ev, char *err, size_t errlen);

/* Write the canonical bytes of a checked event into buf (no NUL appended).
 * Returns the length (> 0), or LOG_EEVENT_SPACE if cap is too small, or
 * LOG_EEVENT_VALUE if the event fails log_event_check. */
int log_event_encode(const log_event *ev, char *buf, size_t cap);

/* Decode canonical bytes (not NUL-terminated) strictly: the exact shape and
 * key order above, valid values, and bytes equal to what log_event_encode
 * would write. Anything else is rejected with a message in err; `ev` is then
 * unspecified. This is the only way bytes from a peer become an event. */
int log_event_decode(const char *buf, size_t len, log_event *ev,
    char *err, size_t errlen);

/* Decode bytes read back from our own log, whose hash was just verified:
 * the same strict scanner, without log_event_check and the canonical
 * re-encode that log_event_decode adds (both held when the bytes were
 * appended). For replays and projections, which read every event; never
 * for bytes from outside the log. 0 or LOG_EEVENT_SYNTAX/FIELD/VALUE. */
int log_event_decode_stored(const char *buf, size_t len, log_event *ev);

#endif
