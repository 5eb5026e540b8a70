#!/usr/bin/python3
"""The console's routes: static files (types, CSP, ETag/304, 404, no auth),
GET /api/events (auth, hello, a detection, a committed event and a heartbeat
read within a bounded time, no busy loop while idle, the client bound,
SIGTERM with streams open), and the operator acting for a gate.
Usage: it_console.py PARKLOGD"""
import http.client
import json
import os
import signal
import sys
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

OP = "op-secret-0123456789"
TOK = "tok-in-0123456789abcdef"
CONF = {"id": "central-1", "operator_token": OP,
        "edges": [{"id": "gate-in", "direction": "ENTRY", "vehicle": "car", "token": TOK},
                  {"id": "gate-out", "direction": "EXIT", "token": "tok-out-0123456789abcdef"}],
        "limits": {"camera_offline_s": 2}}
d = Daemon(sys.argv[1], config=CONF)
d.op_token = OP
d.start()


def bearer(t):
    return {"Authorization": "Bearer " + t}


# ---- static files: no token needed, strict CSP, ETag
for path, ctype in [("/", "text/html"), ("/console/index.html", "text/html"),
                    ("/console/console.js", "text/javascript"),
                    ("/console/i18n.js", "text/javascript"),
                    ("/console/ops.js", "text/javascript"),
                    ("/console/console.css", "text/css"),
                    ("/console/favicon.svg", "image/svg+xml")]:
    st, body, r = d.req("GET", path)
    check(st == 200 and r.getheader("Content-Type").startswith(ctype), "%s: %s %s" % (path, st, r.getheader("Content-Type")), d)
    csp = r.getheader("Content-Security-Policy") or ""
    check("default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
          and "unsafe" not in csp, "%s: CSP %r" % (path, csp), d)
    check(r.getheader("X-Content-Type-Options") == "nosniff", "%s: nosniff" % path, d)
    etag = r.getheader("ETag")
    check(etag and etag.startswith('"') and r.getheader("Cache-Control") == "no-cache", "%s: etag %s" % (path, etag), d)
    st, body, r = d.req("GET", path, headers={"If-None-Match": etag})
    check(st == 304 and body == "", "%s: If-None-Match -> %s" % (path, st), d)
st, body, _ = d.req("GET", "/")
check("/console/console.js" in body and "<script>" not in body, "index references its script, nothing inline", d)
st, body, r = d.req("HEAD", "/console/console.css")
check(st == 200, "HEAD %s" % st, d)
for path in ["/console/nope.js", "/console/", "/console/../README.md", "/console/sub/x.js", "/index.html"]:
    st, body, _ = d.req("GET", path)
    check(st == 404, "%s: %s" % (path, st), d)
st, body, _ = d.req("POST", "/", "{}")
check(st == 405, "POST / -> %s" % st, d)
st, body, _ = d.req("GET", "/api/stats")
check(st == 401, "the data still needs the token: %s" % st, d)


# ---- /api/events
class Stream:
    def __init__(self, token=OP):
        self.c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        self.c.request("GET", "/api/events", headers=bearer(token) if token else {})
        self.r = self.c.getresponse()

    def next(self, name, within=5.0):
        """The data of the next message called `name`, within `within` s."""
        end = time.time() + within
        ev = None
        while time.time() < end:
            self.c.sock.settimeout(max(0.05, end - time.time()))
            line = self.r.readline().decode()
            check(line != "", "stream ended waiting for %s" % name, d)
            line = line.rstrip("\n")
            if line.startswith("event: "):
                ev = line[7:]
            elif line.startswith("data: ") and ev == name:
                return json.loads(line[6:])
        raise AssertionError("FAIL: no %s within %.1f s" % (name, within))

    def close(self):
        self.c.close()


s = Stream(None)
check(s.r.status == 401, "events without a token: %s" % s.r.status, d)
s.close()
s = Stream("wrong")
check(s.r.status == 403, "events with a wrong token: %s" % s.r.status, d)
s.close()

s = Stream()
check(s.r.status == 200 and s.r.getheader("Content-Type").startswith("text/event-stream") and
      s.r.getheader("Cache-Control") == "no-store", "events: %s %s" % (s.r.status, s.r.getheaders()), d)
hello = s.next("hello", 2)
check(hello["this_central"] == "central-1", "hello %s" % hello, d)

# idle: suspended, not polling (no busy loop)
def cpu_s():
    with open("/proc/%d/stat" % d.proc.pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


c0 = cpu_s()
time.sleep(1.5)
check(cpu_s() - c0 < 0.3, "idle stream costs CPU: %.2f s in 1.5 s" % (cpu_s() - c0), d)

t0 = time.time()
st, b, _ = d.req("POST", "/api/edge/detection", {"edge_id": "gate-in", "plate_id": "30H45678",
                 "plate_view": "30H-456.78", "confidence": 0.9}, bearer(TOK))
check(st == 200, "detection %s %s" % (st, b), d)
m = s.next("detection", 3)
check(m["edge_id"] == "gate-in" and m["plate_view"] == "30H-456.78" and m["confidence"] == 0.9 and
      m["vehicle_info"]["already_inside"] is False, "detection event %s" % m, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "30H45678"}, bearer(TOK))
check(st == 200 and b["action"] == "ENTRY", "open %s %s" % (st, b), d)
m = s.next("log", 3)
check(m["id"] == b["event_id"] and m["type"] == "ENTRY_PENDING" and m["plate_view"] == "30H-456.78",
      "log event %s" % m, d)
st, b, _ = d.req("POST", "/api/edge/heartbeat", {"camera_id": "gate-in", "status": "online",
                 "events_sent": 1, "events_failed": 0}, bearer(TOK))
m = s.next("camera", 3)
check(m["camera_id"] == "gate-in" and m["status"] == "online", "camera event %s" % m, d)
check(time.time() - t0 < 5, "events took %.1f s" % (time.time() - t0), d)
# no heartbeat for camera_offline_s: pushed offline, no poll needed
t1 = time.time()
m = s.next("camera", 12)
check(m["camera_id"] == "gate-in" and m["status"] == "offline", "offline event %s" % m, d)
check(time.time() - t1 > 1.5, "offline only after camera_offline_s", d)

# /api/cameras carries the gate's last detection (for the card after a reload)
st, b, _ = d.req("GET", "/api/cameras", headers=bearer(OP))
cam = [c for c in b["cameras"] if c["camera_id"] == "gate-in"][0]
check(cam["last_detection"]["plate_view"] == "30H-456.78", "cameras: %s" % cam, d)

# ---- the operator acts for a gate (barrier open/close only)
st, b, _ = d.req("POST", "/api/edge/barrier/close", {"edge_id": "gate-in", "plate_id": "30H45678"}, bearer(OP))
check(st == 200 and b["confirmed"] is True, "operator closes: %s %s" % (st, b), d)
m = s.next("log", 3)
check(m["type"] == "ENTRY_CONFIRMED", "confirm event %s" % m, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-out", "plate_id": "30H45678"}, bearer(OP))
check(st == 200 and b["action"] == "EXIT", "operator opens the exit: %s %s" % (st, b), d)
m = s.next("log", 3)
check(m["type"] == "EXIT" and m["edge_id"] == "gate-out", "exit event %s" % m, d)
st, b, _ = d.req("POST", "/api/edge/detection", {"edge_id": "gate-in", "plate_id": "30H45678"}, bearer(OP))
check(st == 403, "the operator token is not an edge's for detections: %s" % st, d)
st, b, _ = d.req("POST", "/api/edge/heartbeat", {"camera_id": "gate-in", "status": "x"}, bearer(OP))
check(st == 403, "nor for heartbeats: %s" % st, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-zzz", "plate_id": "30H45678"}, bearer(OP))
check(st == 403, "nor for an unknown edge: %s" % st, d)
st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "30H45678"}, bearer("nope"))
check(st == 403, "a wrong token still fails: %s" % st, d)

# ---- at most 16 streams; the 17th gets 503
more = [Stream() for _ in range(15)]
for x in more:
    check(x.r.status == 200, "stream %s" % x.r.status, d)
extra = Stream()
check(extra.r.status == 503, "17th stream: %s" % extra.r.status, d)
extra.close()
more.pop().close()
# A client that left is noticed when its stream is written (a write or
# two to a closed socket): what the 15 s keepalive does.
for _ in range(20):
    d.req("POST", "/api/edge/heartbeat", {"camera_id": "gate-in", "status": "online"}, bearer(TOK))
    time.sleep(0.1)
    again = Stream()
    if again.r.status == 200:
        break
    again.close()
check(again.r.status == 200, "a slot frees when a client leaves: %s" % again.r.status, d)
more.append(again)

# ---- SIGTERM with streams open: they end, the daemon exits 0
t0 = time.time()
rc = d.stop(timeout=20)
check(rc == 0 and time.time() - t0 < 15, "SIGTERM with streams: rc %s after %.1f s" % (rc, time.time() - t0), d)
for x in more + [s]:
    x.close()
print("ok")
