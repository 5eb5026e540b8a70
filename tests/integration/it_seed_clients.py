#!/usr/bin/python3
"""The seed's own clients against parklogd, as SEED-API.md describes their
calls: the web UI (FE) from another origin (CORS preflight, headers on
every answer, errors too), the desktop client (DT), the edge (Phase 1
events with the status codes it depends on, timestamp, an out-of-order
drain) and the three WebSockets (python3-websockets).
Usage: it_seed_clients.py PARKLOGD"""
import asyncio
import json
import sys
import time

import websockets

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

d = Daemon(sys.argv[1]).start()
UI = "http://127.0.0.1:5173"          # the FE's dev origin (not ours)
WS = "ws://127.0.0.1:%d" % d.port     # base with http -> ws


def fe(method, path, body=None):
    st, b, r = d.req(method, path, body, {"Origin": UI})
    check(r.getheader("Access-Control-Allow-Origin") in ("*", UI),
          "%s %s: no CORS header (%s)" % (method, path, r.getheaders()), d)
    return st, b


# ---- CORS: preflight for PUT/DELETE/JSON POST, headers on errors too
for m in ("PUT", "DELETE", "POST"):
    st, _, r = d.req("OPTIONS", "/api/parking/history/42",
                     headers={"Origin": UI, "Access-Control-Request-Method": m,
                              "Access-Control-Request-Headers": "content-type"})
    meth = r.getheader("Access-Control-Allow-Methods", "")
    hdrs = r.getheader("Access-Control-Allow-Headers", "").lower()
    check(200 <= st < 300 and m in meth and "content-type" in hdrs and
          r.getheader("Access-Control-Allow-Origin") in ("*", UI),
          "preflight %s: %s %s" % (m, st, r.getheaders()), d)
st, b = fe("GET", "/api/nope")
check(st == 404 and b["success"] is False, "404 with CORS: %s" % b, d)
st, b = fe("POST", "/api/edge/heartbeat", "{")
check(st == 400 and b["success"] is False, "400 with CORS: %s" % b, d)

# ---- edge: heartbeat (camera online), sync-config
now = time.time()
hb = {"camera_id": 1, "camera_name": "Cổng A", "camera_type": "ENTRY", "status": "online",
      "events_sent": 0, "events_failed": 0, "timestamp": now}
st, b, _ = d.req("POST", "/api/edge/heartbeat", hb)
check(st == 200 and b["success"], "heartbeat: %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/heartbeat", dict(hb, camera_id=2, camera_name="Cổng B",
                                                     camera_type="EXIT"))
st, b, _ = d.req("POST", "/api/edge/sync-config", {"edge_cameras": {"1": {
    "name": "Cổng A", "ip": "127.0.0.1", "camera_type": "ENTRY", "parking_lot_capacity": 0}}})
check(st == 200 and b["success"], "sync-config: %s" % b, d)
st, b, _ = d.req("POST", "/api/edge/sync-config", {})
check(st == 400 and b["success"] is False, "sync-config without edge_cameras: %s" % b, d)

# ---- FE / DT reads
st, b = fe("GET", "/api/status")
check(st == 200 and b and b["success"] and b["backend_type"] == "central" and
      b["cameras"]["total"] == 2 and "vehicles_in_parking" in b["parking"], "status: %s" % b, d)
st, b = fe("GET", "/api/cameras")
check(st == 200 and [c["id"] for c in b["cameras"]] == [1, 2] and b["online"] == 2 and
      b["offline"] == 0, "cameras: %s" % b, d)
c1 = b["cameras"][0]
check(c1["name"] == "Cổng A" and c1["type"] == "ENTRY" and c1["status"] == "online" and
      "location" in c1 and c1["stream_proxy"]["available"] is False and
      c1["control_proxy"]["available"] is False and b["cameras"][1]["type"] == "EXIT",
      "camera fields: %s" % c1, d)
st, b = fe("GET", "/api/config")
cfg = b["config"]
check(st == 200 and cfg["backend_type"] == "central" and cfg["parking"]["fee_per_hour"] == 25000
      and cfg["parking"]["fee_base"] == 0.5 and cfg["camera"]["heartbeat_timeout"] == 60 and
      cfg["server"]["port"] == d.port and cfg["edge_cameras"]["1"]["name"] == "Cổng A",
      "config: %s" % cfg, d)
for path, key in (("/api/staff", "staff"), ("/api/subscriptions", "subscriptions"),
                  ("/api/parking/occupancy", "parking_lots"),
                  ("/api/parking/history/changes", "changes")):
    st, b = fe("GET", path)
    check(st == 200 and b["success"] and b[key] == [], "%s: %s" % (path, b), d)
st, b = fe("GET", "/api/p2p/config")
check(st == 200 and b["config"]["this_central"]["id"] == "central-1" and
      b["config"]["this_central"]["api_port"] == d.port and b["config"]["peer_centrals"] == [],
      "p2p config: %s" % b, d)
st, b = fe("GET", "/api/p2p/status")
check(st == 200 and b["running"] is True and b["total_peers"] == 0, "p2p status: %s" % b, d)
st, b = fe("GET", "/api/p2p/sync-state")
check(st == 200 and b["sync_state"] == [], "sync-state: %s" % b, d)
# corrections are operator events now (issue 14): an id that names no event
# is a clear 400, never a fake success
for m, path, body in (("PUT", "/api/parking/history/1", {"plate_id": "29A12345",
                                                         "plate_view": "29A-123.45"}),
                      ("DELETE", "/api/parking/history/1", None)):
    st, b = fe(m, path, body)
    check(st == 400 and b["success"] is False and "not an event id" in b["error"],
          "%s %s: %s %s" % (m, path, st, b), d)
# writes no operator event carries yet: said so, never a fake success
for m, path, body in (("POST", "/api/config", cfg), ("PUT", "/api/config", cfg),
                      ("POST", "/api/staff", {"staff": []}),
                      ("PUT", "/api/subscriptions", {"subscriptions": []})):
    st, b = fe(m, path, body)
    check(st == 501 and b["success"] is False and "issue 14" in b["error"],
          "%s %s: %s %s" % (m, path, st, b), d)


# ---- the WebSockets, with Phase 1 events from the edge
async def recv_json(ws, want=None, timeout=5):
    end = time.time() + timeout
    while True:
        m = await asyncio.wait_for(ws.recv(), max(0.1, end - time.time()))
        if m in ("ping", "pong"):
            if want == m:
                return m
            continue
        o = json.loads(m)
        if want is None or o.get("type") == want:
            return o


def ev(typ, cam, plate, view, eid, ts, **data):
    return {"type": typ, "camera_id": cam, "camera_name": "Cổng %d" % cam,
            "camera_type": "ENTRY" if cam == 1 else "EXIT", "timestamp": ts,
            "event_id": eid, "data": dict({"plate_id": plate, "plate_text": view,
                                            "confidence": 0.9, "source": "auto"}, **data)}


async def sockets():
    hdr = {"Origin": UI}
    cams = await websockets.connect(WS + "/ws/cameras", extra_headers=hdr)
    snap = await recv_json(cams, "cameras_update")
    check([c["id"] for c in snap["data"]["cameras"]] == [1, 2] and snap["data"]["online"] == 2,
          "ws cameras snapshot: %s" % snap, d)
    await cams.send("ping")
    check(await recv_json(cams, "pong") == "pong", "ws cameras ping/pong", d)
    st, _, _ = d.req("POST", "/api/edge/heartbeat", hb)
    upd = await recv_json(cams, "cameras_update")
    check(upd["data"]["total"] == 2, "ws cameras push after heartbeat: %s" % upd, d)
    st, _, _ = d.req("POST", "/api/edge/sync-config", {"edge_cameras": {}})
    upd = await recv_json(cams, "cameras_update")
    check(upd["data"]["total"] == 2, "ws cameras push after sync-config: %s" % upd, d)

    hist = await websockets.connect(WS + "/ws/history", extra_headers=hdr)
    e2 = await websockets.connect(WS + "/ws/edge")
    await e2.send(json.dumps({"edge_id": 2}))
    hello = await recv_json(e2, "connected")
    check("2" in hello["message"], "ws edge registered: %s" % hello, d)
    await e2.send(json.dumps({"type": "ping"}))
    check((await recv_json(e2, "pong"))["type"] == "pong", "ws edge ping", d)

    # ENTRY at gate 1 over HTTP: history_update to the UI, ENTRY to gate 2
    t0 = time.time() - 600
    st, b, _ = d.req("POST", "/api/edge/event", ev("ENTRY", 1, "29A12345", "29A-123.45",
                                                   "edge-1_1_29A12345", t0))
    check(st == 200 and b["success"] and b["action"] == "ENTRY", "http entry: %s" % b, d)
    h = await recv_json(hist, "history_update")
    check(h["data"]["event_type"] == "ENTRY" and h["data"]["plate_id"] == "29A12345",
          "history_update: %s" % h, d)
    p = await recv_json(e2, "ENTRY")
    check(p["data"]["plate_text"] == "29A12345" and p["entry_time"] and p["event_id"] and
          p["camera_id"] == 1 and p["event_id"] != "edge-1_1_29A12345", "edge push: %s" % p, d)
    # the timestamp is the entry's time (10 minutes ago)
    st, b = fe("GET", "/api/parking/history?limit=5")
    row = b["history"][0]
    check(abs(row["entry_time_ms"] / 1000 - t0) < 2, "timestamp honoured: %s vs %s" % (row, t0), d)
    check(row["is_anomaly"] == 0 and row["entry_camera_name"] == "1" and
          row["exit_camera_name"] is None and "last_location" in row, "seed row fields: %s" % row, d)

    # EXIT at gate 2 over its socket (no answer): the session closes
    await e2.send(json.dumps(ev("EXIT", 2, "29A12345", "29A-123.45", p["event_id"], time.time())))
    h = await recv_json(hist, "history_update")
    check(h["data"]["event_type"] == "EXIT" and h["data"]["fee"] == 0 + h["data"]["fee"] and
          "exit_time" in h["data"], "history_update exit: %s" % h, d)
    st, b = fe("GET", "/api/parking/history?limit=5")
    check(b["history"][0]["status"] == "OUT", "ws exit closed the session: %s" % b["history"][0], d)

    # a lot camera's ENTRY on the socket is a sighting (as the seed): not an entry
    await e2.send(json.dumps(dict(ev("ENTRY", 2, "43C11111", "43C-111.11", "lot-1", time.time()),
                                  camera_type="PARKING_LOT")))
    # ... and events of one socket are written in their order: ENTRY then EXIT
    # (both frames in one TCP write, so that one read of the server gets both)
    def frame(o):
        p = json.dumps(o).encode()
        n = len(p)
        ln = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126, n >> 8, n & 255])
        return b"\x81" + ln + b"\0\0\0\0" + p       # a zero mask is a valid mask
    e2.transport.write(frame(ev("ENTRY", 2, "60A22222", "60A-222.22", "m-1", time.time() - 60)) +
                       frame(ev("EXIT", 2, "60A22222", "60A-222.22", "m-2", time.time())))
    seen = []
    while len(seen) < 2:
        u = await recv_json(hist, "history_update")
        if u["data"]["plate_id"] == "60A22222":
            seen.append(u["data"]["event_type"])
    check(seen == ["ENTRY", "EXIT"], "socket order kept: %s" % seen, d)
    st, b = fe("GET", "/api/parking/history?search=60A22222")
    check([r["status"] for r in b["history"]] == ["OUT"], "entry then exit: %s" % b, d)
    st, b = fe("GET", "/api/parking/history?search=43C11111&in_parking_only=True")
    check(b["history"] == [], "lot ENTRY recorded as an entry: %s" % b, d)

    # no edge_id: 1008
    bad = await websockets.connect(WS + "/ws/edge")
    await bad.send(json.dumps({"hello": 1}))
    try:
        await asyncio.wait_for(bad.recv(), 5)
        check(False, "ws edge without edge_id stayed open", d)
    except websockets.ConnectionClosed as e:
        check(e.code == 1008, "ws edge without edge_id: %s" % e.code, d)
    # a message over the limit: 1009, the server survives
    big = await websockets.connect(WS + "/ws/history", max_size=None)
    await big.send("x" * (70 * 1024))
    try:
        await asyncio.wait_for(big.recv(), 5)
    except websockets.ConnectionClosed as e:
        check(e.code == 1009, "ws too big: %s" % e.code, d)
    # fragments are put together
    await e2.send(iter(['{"type"', ': "ping"}']))
    check((await recv_json(e2, "pong"))["type"] == "pong", "ws fragmented ping", d)
    for w in (cams, hist, e2):
        await w.close()

asyncio.run(sockets())

# a plain GET on a socket path: 426, not a crash
st, b = fe("GET", "/ws/history")
check(st == 426 and b["success"] is False, "plain GET /ws/history: %s %s" % (st, b), d)

# ---- the edge's status codes: only 200 stops its retries
base = time.time() - 3000
# inside twice: refused for good -> 200, success false
st, b, _ = d.req("POST", "/api/edge/event", ev("ENTRY", 1, "30B67890", "30B-678.90", "e-a", base))
st, b, _ = d.req("POST", "/api/edge/event", ev("ENTRY", 1, "30B67890", "30B-678.90", "e-b", base + 5))
check(st == 200 and b["success"] is False and b["already_inside"] is True and b["refused"],
      "inside twice: %s %s" % (st, b), d)
st, b, _ = d.req("POST", "/api/edge/event", ev("ENTRY", 1, "AB1", "AB1", "e-c", base))
check(st == 200 and b["success"] is False and b["refusal_status"] == 400, "short plate: %s" % b, d)
for t in ("UPDATE", "DELETE", "LOCATION_UPDATE"):
    st, b, _ = d.req("POST", "/api/edge/event", dict(ev(t, 1, "30B67890", "30B-678.90", "e-a",
                                                        base), history_id=3))
    check(st == 200 and b["success"] is False and "issue 14" in b["error"],
          "%s: %s %s" % (t, st, b), d)
# the same event_id again (a retry): deduped, 200
st, b, _ = d.req("POST", "/api/edge/event", ev("ENTRY", 1, "30B67890", "30B-678.90", "e-a", base))
check(st == 200 and b.get("deduped") is True, "retry deduped: %s" % b, d)

# out-of-order drain: the EXIT (queued later) arrives before its ENTRY
t_in, t_out = time.time() - 4 * 3600, time.time() - 3600   # 3 h: 75,000
st, b, _ = d.req("POST", "/api/edge/event", ev("EXIT", 2, "51F99999", "51F-999.99", "x-1", t_out))
check(st == 200, "drained exit first: %s %s" % (st, b), d)
st, b, _ = d.req("POST", "/api/edge/event", ev("ENTRY", 1, "51F99999", "51F-999.99", "n-1", t_in))
check(st == 200, "drained entry second: %s %s" % (st, b), d)
st, b = fe("GET", "/api/parking/history?search=51F99999")
rows = b["history"]
# (its recorded fee is still the orphan exit's, flagged FEE_DIFF against the
# tariff's: the fold's business, projections/ — see docs/seed-compat.md)
check(len(rows) == 1 and rows[0]["status"] == "OUT" and rows[0]["fee_tariff"] == 75000 and
      abs(rows[0]["entry_time_ms"] / 1000 - t_in) < 2 and
      abs(rows[0]["exit_time_ms"] / 1000 - t_out) < 2 and rows[0]["vehicle"] != "entry",
      "out-of-order drain ends with one closed stay: %s" % rows, d)
st, b = fe("GET", "/api/parking/history?in_parking_only=true")
check(all(r["plate_id"] != "51F99999" for r in b["history"]), "not inside forever: %s" % b, d)


# ---- handshakes cut short (reset before the 101 is read): nothing leaks
# or breaks (the daemon's exit status below says so under ASan)
import socket  # noqa: E402
import struct  # noqa: E402
for i in range(30):
    s = socket.create_connection(("127.0.0.1", d.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(b"GET /ws/history HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" + (b"\x81" if i % 2 else b""))
    s.close()


# ---- shutdown with sockets open: they are closed (1001), the daemon exits 0
async def shutdown():
    socks = [await websockets.connect(WS + p) for p in ("/ws/cameras", "/ws/history", "/ws/edge")]
    await socks[2].send(json.dumps({"edge_id": 1}))
    await recv_json(socks[2], "connected")
    t = time.time()
    rc = await asyncio.get_running_loop().run_in_executor(None, d.stop)
    check(rc == 0 and time.time() - t < 10, "stop with sockets open: rc %s in %.1f s" %
          (rc, time.time() - t), d)
    for w in socks:
        try:
            while True:
                await asyncio.wait_for(w.recv(), 5)
        except websockets.ConnectionClosed as e:
            check(e.code in (1001, 1006), "closed at shutdown: %s" % e.code, d)

asyncio.run(shutdown())

# ---- an idle socket outlives the HTTP idle timeout and request deadline
d2 = Daemon(sys.argv[1], config={"limits": {"conn_timeout_s": 1, "request_deadline_s": 1}}).start()


async def idle():
    w = await websockets.connect("ws://127.0.0.1:%d/ws/cameras" % d2.port, ping_interval=None)
    await recv_json(w, "cameras_update")
    await asyncio.sleep(3)
    await w.send("ping")
    check(await recv_json(w, "pong") == "pong", "socket alive after 3 s idle", d2)
    await w.close()

asyncio.run(idle())
print("it_seed_clients: ok")
