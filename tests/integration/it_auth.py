#!/usr/bin/python3
"""parklogd with edges, tokens, an operator token and a tariff from a file:
auth decisions, gate directions (409 on ENTRY of a plate inside, EXIT of a
plate not inside = unknown-entry fee), Idempotency-Key with the window off,
fees from the configured tariff, SIGHUP reload (valid and invalid).
Usage: it_auth.py PARKLOGD"""
import json
import signal
import sys
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

CONF = {
    "id": "central-7",
    "operator_token": "op-secret-0123456789",
    "utc_offset": "+07:00",
    "edges": [
        {"id": "gate-in", "direction": "ENTRY", "vehicle": "car", "token": "tok-in-0123456789abcdef"},
        {"id": "gate-out", "direction": "EXIT", "token": "tok-out-0123456789abcdef"},
        {"id": "gate-any", "direction": None, "token": "tok-any-0123456789abcdef"},
    ],
    "tariff": {"name": "t-test", "unknown_entry_fee": 30000,
               "classes": {"default": {"mode": "hourly", "free_min": 0, "per_hour": 25000}}},
    "capacity": {"car": 100},
    "limits": {"idempotency_window_ms": 0, "max_body": 4096},
    # no scraper allowed without the token, so /metrics is checked like the
    # rest of the operator API (it_metrics covers metrics_allow)
    "metrics_allow": [],
}
d = Daemon(sys.argv[1], config=CONF)
d.op_token = "op-secret-0123456789"
d.start()


def bearer(t):
    return {"Authorization": "Bearer " + t}


def open_(edge, plate, tok, extra=None):
    return d.req("POST", "/api/edge/barrier/open", {"edge_id": edge, "plate_id": plate}, 
                 dict(bearer(tok), **(extra or {})))


def appends():
    return d.metric("parklog_appends_total")


check("any edge id is accepted" not in d.messages(), "open-edges notice with edges", d)

# ---- auth
n = appends()
for edge, hdrs, want, err in [
    ("gate-x", bearer("tok-in-0123456789abcdef"), 403, "gate-x: unknown edge"),
    ("gate-in", {}, 401, "gate-in: missing Authorization"),
    ("gate-in", bearer("tok-out-0123456789abcdef"), 403, "gate-in: invalid token"),
    ("gate-in", {"Authorization": "Basic Z2F0ZQ=="}, 401, "gate-in: Authorization: expected"),
]:
    st, b, r = d.req("POST", "/api/edge/barrier/open", {"edge_id": edge, "plate_id": "29A12345"}, hdrs)
    check(st == want and b["success"] is False and b["error"].startswith(err), "auth %s: %s %s" % (edge, st, b), d)
st, b, r = d.req("POST", "/api/edge/heartbeat", {"camera_id": "gate-in"})
check(st == 401 and r.getheader("WWW-Authenticate") == "Bearer", "heartbeat without token: %s" % b, d)
check(appends() == n, "refused requests appended", d)
for path in ("/api/parking/history", "/api/stats", "/api/cameras", "/metrics", "/api/p2p/status"):
    st, b, _ = d.req("GET", path)
    check(st == 401 and b["success"] is False, "%s without operator token: %s" % (path, st), d)
    st, b, _ = d.req("GET", path, headers=bearer("nope"))
    check(st == 403, "%s with a wrong operator token: %s" % (path, st), d)
    st, b, _ = d.req("GET", path, headers=bearer("op-secret-0123456789"))
    check(st == 200, "%s with the operator token: %s" % (path, st), d)
st, b, _ = d.req("GET", "/healthz")
check(st == 200, "healthz is open", d)

# ---- gates and fees
st, b, _ = open_("gate-in", "29A12345", "tok-in-0123456789abcdef")
check(st == 200 and b["action"] == "ENTRY" and b["event_id"].startswith("central-7_"), "entry: %s" % b, d)
entry = b["event_id"]
st, b, _ = open_("gate-in", "29A12345", "tok-in-0123456789abcdef")
check(st == 409 and b["success"] is False and b["event_id"] == entry and b["already_inside"],
      "ENTRY of a plate inside at an ENTRY gate: %s %s" % (st, b), d)
st, b, _ = d.req("POST", "/api/edge/barrier/close", {"edge_id": "gate-in", "plate_id": "29A12345"},
                 bearer("tok-in-0123456789abcdef"))
check(st == 200 and b["action"] == "CONFIRM", "confirm: %s" % b, d)
time.sleep(1.1)
st, b, _ = open_("gate-out", "29A12345", "tok-out-0123456789abcdef")
check(st == 200 and b["action"] == "EXIT" and b["fee"] == 25000 and b["event_id"] == entry and
      b["duration_s"] >= 1, "exit with the configured tariff: %s" % b, d)
st, b, _ = open_("gate-out", "29A12345", "tok-out-0123456789abcdef")
check(st == 200 and b["action"] == "EXIT" and b["has_entry"] is False and b["fee"] == 30000 and
      b["event_id"] != entry, "exit of a plate not inside (window off): %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/barrier/close", {"edge_id": "gate-in", "plate_id": "29A12345"},
                 bearer("tok-in-0123456789abcdef"))
check(st == 409 and b["error"] == "plate not inside", "close at an entry gate, not inside: %s" % b, d)

# gate-any: ENTRY when outside, EXIT when inside
st, b, _ = open_("gate-any", "77K00001", "tok-any-0123456789abcdef")
check(b["action"] == "ENTRY", "gate-any entry: %s" % b, d)
st, b, _ = open_("gate-any", "77K00001", "tok-any-0123456789abcdef")
check(b["action"] == "EXIT" and b["fee"] == 25000, "gate-any exit: %s" % b, d)

# Idempotency-Key with the window off
k = {"Idempotency-Key": "k-42"}
st, b, _ = open_("gate-in", "30B67890", "tok-in-0123456789abcdef", k)
first = b["event_id"]
n = appends()
st, b, _ = open_("gate-in", "30B67890", "tok-in-0123456789abcdef", k)
check(st == 200 and b["event_id"] == first and b["idempotent_replay"] and appends() == n,
      "key replay: %s" % b, d)
st, b, _ = open_("gate-out", "30B67890", "tok-out-0123456789abcdef", k)   # same key, another edge: its own
check(b["action"] == "EXIT" and appends() == n + 1, "key is per edge: %s" % b, d)

# history shows the unknown-entry exit as such, and the fee charged
st, h, _ = d.req("GET", "/api/parking/history?plate=29A12345", headers=bearer("op-secret-0123456789"))
rows = h["history"]
check(len(rows) == 2 and rows[0]["fee"] == 30000 and "ORPHAN_EXIT" in rows[0]["flags"] and
      rows[1]["fee"] == 25000 and rows[1]["confirmed"], "history: %s" % h, d)
st, s, _ = d.req("GET", "/api/parking/state", headers=bearer("op-secret-0123456789"))
car = [c for c in s["by_class"] if c["vehicle"] == "car"]
check(car and car[0]["capacity"] == 100, "capacity: %s" % s, d)

# ---- SIGHUP: a new token for gate-in; then an invalid file keeps it
CONF["edges"][0]["token"] = "tok-in-2-0123456789abcdef"
d.write_config(CONF)
d.signal(signal.SIGHUP)
time.sleep(0.5)
st, b, _ = open_("gate-in", "40D40404", "tok-in-0123456789abcdef")
check(st == 403, "old token after reload: %s %s" % (st, b), d)
st, b, _ = open_("gate-in", "40D40404", "tok-in-2-0123456789abcdef")
check(st == 200 and b["action"] == "ENTRY", "new token after reload: %s" % b, d)
d.write_config('{"edges": [{"id": "gate-in", "direction": "SIDEWAYS"}]}')
d.signal(signal.SIGHUP)
time.sleep(0.5)
check("keeping the old configuration" in d.messages(), "invalid reload message", d)
st, b, _ = open_("gate-in", "41D40404", "tok-in-2-0123456789abcdef")
check(st == 200, "still serving with the old configuration: %s" % b, d)
check(d.stop() == 0, "SIGTERM exit status", d)
print("PASS it_auth")
