#!/usr/bin/python3
"""The seed's clients have no tokens: parklogd keeps tokens as the default
and lets an installer name the addresses that need none ("seed":
{"tokenless": [...]}); CORS origins from "seed": {"cors_origins"}.
127.0.0.2 plays the seed's edge and UI machine (loopback: the whole
127/8 is local), 127.0.0.1 an address not in the list.
Usage: it_seed_auth.py PARKLOGD"""
import asyncio
import http.client
import json
import sys
import time

import websockets

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

UI = "http://10.1.2.3:3000"
CONF = {
    "operator_token": "op-secret-0123456789",
    "edges": [{"id": "1", "direction": "ENTRY", "token": "tok-1-0123456789abcdef"},
              {"id": "2", "direction": "EXIT", "token": "tok-2-0123456789abcdef"}],
    "seed": {"cors_origins": [UI], "tokenless": ["127.0.0.2/32", "fd00::/8"]},
}
d = Daemon(sys.argv[1], config=CONF).start()


def req(src, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10, source_address=(src, 0))
    h = dict(headers or {})
    if body is not None:
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data or b"null"), r


ev = {"type": "ENTRY", "camera_id": 1, "camera_name": "Cổng A", "camera_type": "ENTRY",
      "timestamp": time.time(), "event_id": "edge-1_1_29A12345",
      "data": {"plate_id": "29A12345", "plate_text": "29A-123.45"}}

# tokens stay the default: the same calls from an address not listed
st, b, _ = req("127.0.0.1", "GET", "/api/status")
check(st == 401, "status without token from a listed-nowhere address: %s %s" % (st, b), d)
st, b, _ = req("127.0.0.1", "POST", "/api/edge/event", ev)
check(st == 401, "edge event without token: %s %s" % (st, b), d)
# ... and from the compatibility address, with no token
st, b, _ = req("127.0.0.2", "GET", "/api/status", headers={"Origin": UI})
check(st == 200 and b["success"], "status from a tokenless address: %s %s" % (st, b), d)
st, b, _ = req("127.0.0.2", "POST", "/api/edge/event", ev)
check(st == 200 and b["success"] and b["action"] == "ENTRY", "event from it: %s" % b, d)
# the edge must still be configured
st, b, _ = req("127.0.0.2", "POST", "/api/edge/event", dict(ev, camera_id=9, event_id="x"))
check(st == 403 and "unknown edge" in b["error"], "unknown edge from it: %s %s" % (st, b), d)
# a token still works from anywhere
st, b, _ = req("127.0.0.1", "GET", "/api/status", None,
               {"Authorization": "Bearer op-secret-0123456789"})
check(st == 200, "status with the token: %s" % st, d)

# CORS: the listed origin is echoed, others get no header; preflight needs no token
st, b, r = req("127.0.0.1", "GET", "/api/status", headers={"Origin": UI})
check(st == 401 and r.getheader("Access-Control-Allow-Origin") == UI and
      "Origin" in (r.getheader("Vary") or ""), "CORS on a 401: %s" % r.getheaders(), d)
st, b, r = req("127.0.0.1", "GET", "/api/status", headers={"Origin": "http://evil.example"})
check(r.getheader("Access-Control-Allow-Origin") is None, "other origin: %s" % r.getheaders(), d)
st, b, r = req("127.0.0.1", "OPTIONS", "/api/config", headers={
    "Origin": UI, "Access-Control-Request-Method": "POST"})
check(st == 204 and r.getheader("Access-Control-Allow-Origin") == UI, "preflight: %s" % st, d)


async def sockets():
    url = "ws://127.0.0.1:%d" % d.port
    # the streams: operator auth at the handshake
    try:
        await websockets.connect(url + "/ws/history", local_addr=("127.0.0.1", 0))
        check(False, "ws/history without token from 127.0.0.1 was accepted", d)
    except websockets.InvalidStatusCode as e:
        check(e.status_code == 401, "ws/history refused: %s" % e.status_code, d)
    # a page of another origin than the UI's cannot open one (tokenless or not)
    try:
        await websockets.connect(url + "/ws/history", local_addr=("127.0.0.2", 0),
                                 origin="http://evil.example")
        check(False, "ws/history from a foreign origin was accepted", d)
    except websockets.InvalidStatusCode as x:
        check(x.status_code == 403, "ws foreign origin: %s" % x.status_code, d)
    # the UI's origin, and our own (same origin), can
    w = await websockets.connect(url + "/ws/cameras", local_addr=("127.0.0.2", 0), origin=UI)
    await w.close()
    w = await websockets.connect(url + "/ws/cameras", local_addr=("127.0.0.2", 0),
                                 origin="http://127.0.0.1:%d" % d.port)
    await w.close()
    h = await websockets.connect(url + "/ws/history", local_addr=("127.0.0.2", 0))
    # /ws/edge: the edge names itself; no token from 127.0.0.1 -> 1008
    e = await websockets.connect(url + "/ws/edge", local_addr=("127.0.0.1", 0))
    await e.send(json.dumps({"edge_id": 2}))
    try:
        await asyncio.wait_for(e.recv(), 5)
        check(False, "ws/edge without token stayed open", d)
    except websockets.ConnectionClosed as x:
        check(x.code == 1008, "ws/edge without token: %s" % x.code, d)
    # with its token in the handshake
    e = await websockets.connect(url + "/ws/edge", local_addr=("127.0.0.1", 0),
                                 extra_headers={"Authorization": "Bearer tok-2-0123456789abcdef"})
    await e.send(json.dumps({"edge_id": 2}))
    check(json.loads(await asyncio.wait_for(e.recv(), 5))["type"] == "connected", "edge 2", d)
    # from the tokenless address, none needed
    e1 = await websockets.connect(url + "/ws/edge", local_addr=("127.0.0.2", 0))
    await e1.send(json.dumps({"edge_id": 1}))
    check(json.loads(await asyncio.wait_for(e1.recv(), 5))["type"] == "connected", "edge 1", d)
    await e1.send(json.dumps(dict(ev, event_id="edge-1_2_30B67890", timestamp=time.time(),
                                  data={"plate_id": "30B67890", "plate_text": "30B-678.90"})))
    p = json.loads(await asyncio.wait_for(e.recv(), 5))
    check(p["type"] == "ENTRY" and p["data"]["plate_text"] == "30B67890",
          "entry from gate 1 pushed to gate 2: %s" % p, d)
    u = json.loads(await asyncio.wait_for(h.recv(), 5))
    check(u["type"] == "history_update", "history from the tokenless UI: %s" % u, d)
    # gate 2's socket (its token) cannot speak for gate 1; its own events go in
    await e.send(json.dumps(dict(ev, event_id="spoof", timestamp=time.time(),
                                 data={"plate_id": "77A77777", "plate_text": "77A-777.77"})))
    await e.send(json.dumps(dict(ev, camera_id=2, camera_type="EXIT", event_id="own",
                                 type="EXIT", timestamp=time.time(),
                                 data={"plate_id": "30B67890", "plate_text": "30B-678.90"})))
    while True:
        u = json.loads(await asyncio.wait_for(h.recv(), 5))
        if u["type"] == "history_update" and u["data"]["event_type"] == "EXIT":
            break
    check(u["data"]["plate_id"] == "30B67890", "gate 2's exit: %s" % u, d)
    st, b, _ = req("127.0.0.2", "GET", "/api/parking/history?search=77A77777")
    check(b["history"] == [], "an event for another gate was taken: %s" % b, d)
    for w in (h, e, e1):
        await w.close()

asyncio.run(sockets())

# a bad list is refused at start, with the key named
bad = Daemon(sys.argv[1], config=dict(CONF, seed={"tokenless": ["10.0.0.0/33"]}))
try:
    bad.start(timeout=5)
    check(False, "a bad tokenless prefix was accepted", bad)
except AssertionError as x:
    check("seed.tokenless" in str(x), "bad tokenless: %s" % x)
print("it_seed_auth: ok")
