#!/usr/bin/python3
"""Every endpoint of parklogd on its embedded default (no edges, no tokens):
the write path, idempotency, read endpoints, and every bad input (each gets
{"success":false,"error":...} and appends nothing). Usage: it_api.py PARKLOGD"""
import json
import re
import signal
import sys
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

d = Daemon(sys.argv[1]).start()

SEED_DET = {"edge_id": "edge-1", "plate_id": "29A12345", "plate_view": "29A-123.45",
            "camera_type": "car", "direction": "ENTRY", "confidence": 0.95}
OPEN = {"edge_id": "edge-1", "plate_id": "29A12345", "action": "open"}
ID_RE = r"central-1_\d{13}_%s"


def appends():
    return d.metric("parklog_appends_total")


def history(**q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    st, body, _ = d.req("GET", "/api/parking/history" + ("?" + qs if qs else ""))
    check(st == 200 and body["success"] is True, "history: %s %s" % (st, body), d)
    return body


# ---- write path: detection -> open (ENTRY) -> close (CONFIRM) -> open at another gate (EXIT)
st, b, _ = d.req("POST", "/api/edge/detection", SEED_DET)
check(st == 200 and b["allowed"] and not b["vehicle_info"]["already_inside"], "detection %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", OPEN)
check(st == 200 and b["action"] == "ENTRY" and re.fullmatch(ID_RE % "29A12345", b["event_id"]),
      "open: %s %s" % (st, b), d)
check(b["plate_view"] == "29A-123.45", "open takes plate_view from the detection: %s" % b, d)
entry_id = b["event_id"]
check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", b["entry_time"]) and
      isinstance(b["entry_time_ms"], int), "times: %s" % b, d)
n0 = appends()
check(n0 == 1, "one append after the first open (%s)" % n0, d)

# a retried open (same edge, plate, within the window): the first answer, nothing appended
st, b, _ = d.req("POST", "/api/edge/barrier/open", OPEN)
check(st == 200 and b["event_id"] == entry_id and b["idempotent_replay"] is True, "retry: %s" % b, d)
check(appends() == n0, "retry appended", d)

# detection now: already inside
st, b, _ = d.req("POST", "/api/edge/detection", SEED_DET)
check(st == 200 and b["vehicle_info"]["already_inside"] and not b["allowed"] and
      b["vehicle_info"]["entry_from"] == "edge-1", "detection inside: %s" % b, d)
det_exit = dict(SEED_DET, direction="EXIT", edge_id="edge-8")
st, b, _ = d.req("POST", "/api/edge/detection", det_exit)
check(st == 200 and b["vehicle_info"]["has_entry"] and b["vehicle_info"]["fee"] == 0,
      "detection exit: %s" % b, d)

# close confirms once; again: same answer, nothing appended
CLOSE = {"edge_id": "edge-1", "plate_id": "29A12345", "action": "close"}
st, b, _ = d.req("POST", "/api/edge/barrier/close", CLOSE)
check(st == 200 and b["action"] == "CONFIRM" and b["confirmed"] and b["event_id"] == entry_id,
      "close: %s" % b, d)
check(appends() == n0 + 1, "close appended ENTRY_CONFIRMED", d)
st, b, _ = d.req("POST", "/api/edge/barrier/close", CLOSE)
check(st == 200 and b["idempotent_replay"] and appends() == n0 + 1, "close again: %s" % b, d)

st, b, _ = d.req("GET", "/api/parking/vehicle/29a-123.45")
check(st == 200 and b["inside"] and b["session"]["confirmed"] and b["session"]["id"] == entry_id,
      "vehicle: %s" % b, d)

# exit at another gate: EXIT with the seed's fee (a short stay is free)
st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "edge-8", "plate_id": "29A12345",
                                                    "action": "open"})
check(st == 200 and b["action"] == "EXIT" and b["event_id"] == entry_id and b["fee"] == 0 and
      "duration" in b and b["has_entry"] and re.fullmatch(ID_RE % "29A12345", b["exit_event_id"]),
      "exit: %s" % b, d)
exit_id = b["exit_event_id"]
check(appends() == n0 + 2, "exit appended", d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "edge-8", "plate_id": "29A12345"})
check(b["action"] == "EXIT" and b["exit_event_id"] == exit_id and b["idempotent_replay"],
      "exit retry: %s" % b, d)
check(appends() == n0 + 2, "exit retry appended", d)

h = history()
check(h["count"] == 1 and h["history"][0]["status"] == "OUT" and h["history"][0]["fee"] == 0 and
      h["history"][0]["exit_event_id"] == exit_id, "history after exit: %s" % h, d)
check(h["stats"]["entries_today"] == 1 and h["stats"]["exits_today"] == 1, "stats %s" % h, d)

# ---- Idempotency-Key (another plate)
K = {"Idempotency-Key": "req-0001"}
o2 = {"edge_id": "edge-2", "plate_id": "30B67890", "plate_view": "30B-678.90", "camera_type": "moto"}
st, b, _ = d.req("POST", "/api/edge/barrier/open", o2, K)
check(st == 200 and b["action"] == "ENTRY", "keyed open: %s" % b, d)
e2 = b["event_id"]
n = appends()
st, b, _ = d.req("POST", "/api/edge/barrier/open", o2, K)
check(b["event_id"] == e2 and b["idempotent_replay"] and appends() == n, "keyed retry: %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", dict(o2, plate_id="31C11111"), K)
check(st == 422 and b["success"] is False and appends() == n, "key reused for another plate: %s %s" % (st, b), d)

# ---- Phase 1 /api/edge/event: ENTRY, dedup by event_id, inside twice refused, EXIT w/o entry
ev = {"type": "ENTRY", "camera_id": 3, "camera_name": "Gate 3", "camera_type": "car",
      "timestamp": "2026-11-23T10:00:00", "event_id": "cam3-1",
      "data": {"plate_text": "51F-999.99", "confidence": 0.9, "source": "ocr"}}
st, b, _ = d.req("POST", "/api/edge/event", ev)
check(st == 200 and b["action"] == "ENTRY" and b["plate_id"] == "51F99999" and
      b["plate_view"] == "51F-999.99" and "entry_time" in b, "phase1 entry: %s" % b, d)
n = appends()
st, b, _ = d.req("POST", "/api/edge/event", ev)
check(st == 200 and b.get("deduped") is True and appends() == n, "phase1 dedup: %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/event", dict(ev, event_id="cam3-2", camera_id=4))
check(st == 200 and b["success"] is False and b["refusal_status"] == 409 and
      b["already_inside"] is True and appends() == n,
      "phase1 inside twice: %s %s" % (st, b), d)
st, b, _ = d.req("POST", "/api/edge/event", dict(ev, type="EXIT", event_id="cam9-1", camera_id=9,
                                                 data={"plate_text": "88H12345"}))
check(st == 200 and b["action"] == "EXIT" and b["has_entry"] is False and b["fee"] == 25000 and
      appends() == n + 1, "phase1 exit without entry (unknown-entry fee): %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/event", dict(ev, type="DETECTION", event_id=None))
check(st == 200 and b["already_inside"] is True, "phase1 detection: %s" % b, d)

# ---- heartbeat, cameras
hb = {"camera_id": 3, "camera_name": "Gate 3", "camera_type": "car", "status": "online",
      "events_sent": 5, "events_failed": 0, "timestamp": time.time()}
st, b, _ = d.req("POST", "/api/edge/heartbeat", hb)
check(st == 200 and b["success"], "heartbeat: %s" % b, d)
st, b, _ = d.req("GET", "/api/cameras")
cams = {c["camera_id"]: c for c in b["cameras"]}
check(st == 200 and cams["3"]["status"] == "online" and cams["3"]["events_sent"] == 5 and
      cams["3"]["camera_name"] == "Gate 3" and "edge-1" in cams, "cameras: %s" % b, d)

# ---- read endpoints
st, b, _ = d.req("GET", "/api/parking/state")
plates = sorted(v["plate_id"] for v in b["vehicles"])
check(st == 200 and b["vehicles_in_parking"] == 2 and plates == ["30B67890", "51F99999"],
      "state: %s" % b, d)
check(all("fee_now" in v for v in b["vehicles"]), "state fee_now: %s" % b, d)
st, b, _ = d.req("GET", "/api/stats")
check(st == 200 and b["vehicles_in_parking"] == 2 and b["entries_today"] == 3 and
      b["exits_today"] == 2 and b["revenue_today"] == 25000, "stats: %s" % b, d)
st, b, _ = d.req("GET", "/api/parking/conflicts")
check(st == 200 and b["count"] == 1 and "ORPHAN_EXIT" in b["conflicts"][0]["flags"],
      "conflicts: %s" % b, d)
st, b, _ = d.req("GET", "/api/parking/vehicle/99Z99999")
check(st == 200 and b["inside"] is False and b["session"] is None and b["sessions"] == 0,
      "vehicle never seen: %s" % b, d)
st, b, _ = d.req("GET", "/api/p2p/status")
check(st == 200 and b["this_central"] == "central-1" and b["standalone_mode"] is True and
      b["connected_peers"] == 0 and b["peers"] == [] and re.fullmatch("[0-9a-f]{16}", b["state_digest"]),
      "p2p status: %s" % b, d)
own = b["own_stream"]
check(b["vector"][own][0] == appends() and re.fullmatch("[0-9a-f]{16}", b["vector"][own][1]),
      "vector: %s" % b, d)
st, b, _ = d.req("GET", "/api/p2p/sync-state")
check(st == 200 and b["peers"] == [], "sync-state: %s" % b, d)

# history filters
check(history(status="IN")["count"] == 2, "status=IN", d)
check(history(status="OUT")["count"] == 2, "status=OUT", d)
check(history(in_parking_only="true")["count"] == 2, "in_parking_only", d)
check(history(entries_only="true")["count"] == 3, "entries_only", d)
check(history(search="51f")["count"] == 1, "search", d)
check(history(plate="29A-123.45")["history"][0]["event_id"] == entry_id, "plate", d)
check(history(limit=1)["count"] == 1 and history(limit=2, offset=3)["count"] == 1, "paging", d)
check(history(today_only="true")["count"] == 4, "today_only", d)
check(history(**{"from": "2001-01-01", "to": "2001-01-02"})["count"] == 0, "from/to", d)

# /metrics
st, text, _ = d.req("GET", "/metrics", raw=True)
for name in ("parklog_http_requests_total{route=\"/api/edge/barrier/open\",status=\"200\"}",
             "parklog_appends_total{type=\"EXIT\"} 2", "parklog_writer_batch_jobs_bucket",
             "parklog_writer_commit_seconds_sum", "parklog_log_events 6", "parklog_log_map_used_bytes",
             "parklog_http_request_seconds_bucket{route=\"/api/edge/barrier/open\",le=\"+Inf\"}",
             "parklog_http_request_seconds_count{route=\"/api/edge/barrier/open\"}"):
    check(name in text, "metrics lacks %s:\n%s" % (name, text), d)
# Prometheus text: comments, or `name{labels} value`; histograms cumulative
import re  # noqa: E402
line_re = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')
for ln in text.splitlines():
    check(ln.startswith("# ") or line_re.match(ln), "not Prometheus text: %r" % ln, d)
cum = [int(ln.rsplit(" ", 1)[1]) for ln in text.splitlines()
       if ln.startswith('parklog_http_request_seconds_bucket{route="/api/edge/barrier/open"')]
check(len(cum) == 11 and cum == sorted(cum), "latency buckets cumulative: %s" % cum, d)

# ---- bad inputs: {"success":false,"error":...}, the right status, nothing appended
n = appends()
rows = history(limit=10000)["count"]
big = '{"edge_id":"edge-1","plate_id":"29A12345","pad":"' + "x" * 20000 + '"}'
BAD = [
    ("POST", "/api/edge/barrier/open", "{not json", 400, "body: invalid JSON"),
    ("POST", "/api/edge/barrier/open", "", 400, "body: empty"),
    ("POST", "/api/edge/barrier/open", "[1,2]", 400, "body: expected a JSON object"),
    ("POST", "/api/edge/barrier/open", '{"plate_id":"29A12345"}', 400, "edge_id: missing"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e1"}', 400, "plate_id: missing"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":7,"plate_id":"29A12345"}', 400, "edge_id: expected a string"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e1","plate_id":12345678}', 400, "plate_id: expected a string"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e1","plate_id":"29A1"}', 400, "plate_id: too short"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e1","plate_id":"29A-123.45-678.90"}', 400, "plate_id: too long"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e 1","plate_id":"29A12345"}', 400, "edge_id: need"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e1","plate_id":"29A12345","action":"close"}', 400, "action: expected"),
    ("POST", "/api/edge/barrier/open", '{"edge_id":"e1","plate_id":"29A12345","confidence":"high"}', 400, "confidence: expected a number"),
    ("POST", "/api/edge/barrier/close", '{"edge_id":"e1","plate_id":"29A12345","action":"open"}', 400, "action: expected"),
    ("POST", "/api/edge/detection", '{"edge_id":"e1","plate_id":"29A12345","direction":"UP"}', 400, "direction: expected"),
    # the seed's edge resends anything but 200: a final refusal is 200 (seed-compat.md)
    ("POST", "/api/edge/event", '{"type":"ENTRY","camera_id":1}', 200, "data: missing"),
    ("POST", "/api/edge/event", '{"type":"ENTRY","camera_id":1,"data":{"plate_text":"AB"}}', 200, "plate_text: too short"),
    ("POST", "/api/edge/heartbeat", '{"camera_name":"x"}', 400, "camera_id: missing"),
    ("POST", "/api/edge/barrier/open", big, 413, "body:"),
    ("GET", "/api/edge/barrier/open", None, 405, "method not allowed"),
    ("POST", "/api/stats", "{}", 405, "method not allowed"),
    ("DELETE", "/api/parking/history", None, 405, "method not allowed"),
    ("GET", "/api/nothing", None, 404, "no such endpoint"),
    ("POST", "/api/edge/barrier/opened", "{}", 404, "no such endpoint"),
    ("GET", "/api/parking/vehicle/AB", None, 400, "plate: too short"),
    ("GET", "/api/parking/history?limit=abc", None, 400, "limit: expected"),
    ("GET", "/api/parking/history?status=MAYBE", None, 400, "status: expected"),
    ("GET", "/api/parking/history?from=yesterday", None, 400, "from: expected"),
]
for method, path, body, want, err in BAD:
    st, b, r = d.req(method, path, body, {"Content-Type": "application/json"})
    check(st == want and isinstance(b, dict) and b.get("success") is False and
          str(b.get("error", "")).startswith(err),
          "%s %s -> %s %s (want %s %r)" % (method, path, st, b, want, err), d)
    if want == 405:
        check(r.getheader("Allow") is not None, "405 without Allow", d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", OPEN, {"Idempotency-Key": "has space"})
check(st == 400 and b["error"].startswith("Idempotency-Key:"), "bad key: %s" % b, d)

# Headers beyond limits.max_header (8 KiB by default): libmicrohttpd answers 431
# itself and closes; the next request is served as usual.
def raw_exchange(data):
    import socket
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    try:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return got
    finally:
        s.close()


body = json.dumps(OPEN).encode()
head = ("POST /api/edge/barrier/open HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "X-Pad: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % ("p" * 20000, len(body)))
got = raw_exchange(head.encode() + body)
check(got == b"" or got.startswith(b"HTTP/1.1 431"), "huge header: %r" % got[:80], d)
got = raw_exchange(("GET /api/stats HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n"
                   "Connection: close\r\n\r\n" % ("p" * 2000)).encode())
check(got.startswith(b"HTTP/1.1 200"), "a 2 KB header is served: %r" % got[:80], d)
check(appends() == n and history(limit=10000)["count"] == rows, "bad input appended", d)
check(d.metric("parklog_http_requests_total") > 40, "request counters", d)

# ---- SIGTERM: exit 0; a restart serves the same log
check(d.stop() == 0, "SIGTERM exit status", d)
d.start()
h = history(limit=10000)
check(h["count"] == rows and any(r["event_id"] == entry_id for r in h["history"]),
      "after restart: %s" % h, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", o2, K)
check(b["event_id"] == e2 and b["idempotent_replay"], "key survives a restart: %s" % b, d)
check(d.stop() == 0, "second SIGTERM", d)
print("PASS it_api")
