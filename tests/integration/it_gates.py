#!/usr/bin/python3
"""The gate channel of a real parklogd, with a scripted gate (a WebSocket
client speaking gates/frame.h): hello with the edge's token (a wrong token,
an unknown edge and garbage are refused, and the daemon keeps serving);
barrier/open and close at a connected gate send it the command, and the
HTTP answer carries the gate's ack; no ack within gate_ack_ms: "timeout";
a gate that goes away while a command waits: "gate disconnected"; an
offline gate: "gate offline"; /api/cameras shows the channel's view; a
newer connection replaces an older one; auto-open rules (a sure entry read,
a free exit) open by themselves and command the gate.
Usage: it_gates.py PARKLOGD"""
import asyncio
import json
import sys
import time

import websockets

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

TOK = {"gate-in": "tok-in-0123456789abcdef", "gate-out": "tok-out-0123456789abcdef",
       "auto-in": "tok-auto-in-0123456789ab", "auto-out": "tok-auto-out-0123456789a"}
CONF = {
    "id": "central-1",
    "operator_token": "op-0123456789abcdef",
    "edges": [
        {"id": "gate-in", "direction": "ENTRY", "vehicle": "car", "token": TOK["gate-in"]},
        {"id": "gate-out", "direction": "EXIT", "token": TOK["gate-out"]},
        {"id": "auto-in", "direction": "ENTRY", "token": TOK["auto-in"],
         "auto_open": {"entry_min_confidence": 0.9}},
        {"id": "auto-out", "direction": "EXIT", "token": TOK["auto-out"],
         "auto_open": {"exit_free": True}},
    ],
    "limits": {"gate_ack_ms": 400},
}
d = Daemon(sys.argv[1], config=CONF).start()
URL = "ws://127.0.0.1:%d/" % d.gates


def post(path, body, edge):
    return d.req("POST", path, body, {"Authorization": "Bearer " + TOK[edge]})


async def connect(edge, token):
    ws = await websockets.connect(URL, subprotocols=["parklog-gate"], open_timeout=5)
    await ws.send(json.dumps({"type": "hello", "edge_id": edge, "token": token}))
    return ws


async def refused(edge, token):
    """The central closes the connection instead of welcoming."""
    ws = await connect(edge, token)
    try:
        await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed:
        return True
    finally:
        await ws.close()
    return False


async def welcomed(edge):
    ws = await connect(edge, TOK[edge])
    w = json.loads(await asyncio.wait_for(ws.recv(), 5))
    check(w == {"type": "welcome", "edge_id": edge}, "welcome: %s" % w, d)
    return ws


def in_thread(fn, *args):
    return asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def main():
    # Who may connect.
    check(await refused("gate-in", "wrong-token"), "a wrong token is refused", d)
    check(await refused("gate-x", TOK["gate-in"]), "an unknown edge is refused", d)
    ws = await websockets.connect(URL, subprotocols=["parklog-gate"])
    await ws.send("garbage{")
    try:
        await asyncio.wait_for(ws.recv(), 5)
        check(False, "garbage closes the connection", d)
    except websockets.ConnectionClosed:
        pass
    ws = await websockets.connect(URL, subprotocols=["parklog-gate"])
    await ws.send(json.dumps({"type": "ack", "event_id": "x", "ok": True}))  # before hello
    try:
        await asyncio.wait_for(ws.recv(), 5)
        check(False, "an ack before hello closes the connection", d)
    except websockets.ConnectionClosed:
        pass
    check(d.req("GET", "/healthz")[0] == 200, "the daemon keeps serving", d)

    # Offline gate: the open succeeds, the barrier part says why not.
    st, b, _ = post("/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29A10001"}, "gate-in")
    check(st == 200 and b["barrier"] == {"command": "open", "sent": False, "acked": False,
                                         "ok": False, "reason": "gate offline"}, "offline: %s" % b, d)

    # A connected gate gets the command and acks it: the answer says so.
    gin = await welcomed("gate-in")
    fut = in_thread(post, "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29A10002"}, "gate-in")
    cmd = json.loads(await asyncio.wait_for(gin.recv(), 5))
    check(cmd["type"] == "open" and cmd["plate"] == "29A10002", "open command: %s" % cmd, d)
    await gin.send(json.dumps({"type": "ack", "event_id": cmd["event_id"], "ok": True}))
    st, b, _ = await fut
    check(st == 200 and b["action"] == "ENTRY" and b["event_id"] == cmd["event_id"], "open: %s" % b, d)
    check(b["barrier"]["acked"] and b["barrier"]["ok"] and b["barrier"]["sent"], "acked: %s" % b, d)

    # close at the same gate: the close command names the confirmation.
    fut = in_thread(post, "/api/edge/barrier/close", {"edge_id": "gate-in", "plate_id": "29A10002"}, "gate-in")
    cmd = json.loads(await asyncio.wait_for(gin.recv(), 5))
    check(cmd["type"] == "close", "close command: %s" % cmd, d)
    await gin.send(json.dumps({"type": "ack", "event_id": cmd["event_id"], "ok": True}))
    st, b, _ = await fut
    check(st == 200 and b["confirmed"] and b["barrier"]["ok"], "close: %s" % b, d)

    # The gate says it could not: acked, not ok, with its reason.
    fut = in_thread(post, "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29A10003"}, "gate-in")
    cmd = json.loads(await asyncio.wait_for(gin.recv(), 5))
    await gin.send(json.dumps({"type": "ack", "event_id": cmd["event_id"], "ok": False,
                               "error": "barrier jammed"}))
    st, b, _ = await fut
    check(st == 200 and b["barrier"]["acked"] and not b["barrier"]["ok"]
          and b["barrier"]["reason"] == "barrier jammed", "refused by gate: %s" % b, d)

    # No ack: the answer comes after gate_ack_ms, "timeout"; a late ack is ignored.
    t0 = time.time()
    fut = in_thread(post, "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29A10004"}, "gate-in")
    cmd = json.loads(await asyncio.wait_for(gin.recv(), 5))
    st, b, _ = await fut
    check(st == 200 and b["barrier"]["reason"] == "timeout" and not b["barrier"]["acked"],
          "timeout: %s" % b, d)
    check(0.3 < time.time() - t0 < 5, "timeout after about gate_ack_ms", d)
    await gin.send(json.dumps({"type": "ack", "event_id": cmd["event_id"], "ok": True}))

    # /api/cameras: connected, and the last command with its outcome.
    st, b, _ = d.req("GET", "/api/cameras", headers={"Authorization": "Bearer op-0123456789abcdef"})
    cams = {c["camera_id"]: c for c in b["cameras"]}
    g = cams["gate-in"]["gate"]
    check(g["connected"] and g["last_command"]["event_id"] == cmd["event_id"]
          and g["last_command"]["reason"] == "timeout", "cameras gate-in: %s" % g, d)
    check(not cams["gate-out"]["gate"]["connected"], "gate-out is not connected", d)

    # A gate that goes away while a command waits.
    gout = await welcomed("gate-out")
    fut = in_thread(post, "/api/edge/barrier/open", {"edge_id": "gate-out", "plate_id": "29A10002"}, "gate-out")
    cmd = json.loads(await asyncio.wait_for(gout.recv(), 5))
    check(cmd["type"] == "open", "exit command: %s" % cmd, d)
    await gout.close()
    st, b, _ = await fut
    check(st == 200 and b["action"] == "EXIT" and b["barrier"]["reason"] == "gate disconnected",
          "disconnected: %s" % b, d)

    # A newer connection of the same gate replaces the older one.
    gin2 = await welcomed("gate-in")
    fut = in_thread(post, "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29A10005"}, "gate-in")
    cmd = json.loads(await asyncio.wait_for(gin2.recv(), 5))
    await gin2.send(json.dumps({"type": "ack", "event_id": cmd["event_id"], "ok": True}))
    st, b, _ = await fut
    check(b["barrier"]["ok"], "the newer connection gets the commands: %s" % b, d)
    await gin2.close()
    await gin.close()

    # Auto-open rules: a sure read at auto-in opens by itself (the gate gets
    # the command); an unsure one does not; a free exit at auto-out opens.
    ain = await welcomed("auto-in")
    st, b, _ = post("/api/edge/detection", {"edge_id": "auto-in", "plate_id": "51F20001",
                                            "confidence": 0.5}, "auto-in")
    check(st == 200 and "auto_open" not in b, "unsure read: no auto-open: %s" % b, d)
    fut = in_thread(post, "/api/edge/detection", {"edge_id": "auto-in", "plate_id": "51F20001",
                                                  "confidence": 0.95}, "auto-in")
    cmd = json.loads(await asyncio.wait_for(ain.recv(), 5))
    check(cmd["type"] == "open" and cmd["plate"] == "51F20001", "auto-open command: %s" % cmd, d)
    await ain.send(json.dumps({"type": "ack", "event_id": cmd["event_id"], "ok": True}))
    st, b, _ = await fut
    ao = b.get("auto_open", {})
    check(st == 200 and b["allowed"] and ao.get("success") and ao.get("action") == "ENTRY"
          and ao["barrier"]["ok"], "auto-open entry: %s" % b, d)
    # The edge's own open afterwards is a retry: nothing appended twice.
    st, b, _ = post("/api/edge/barrier/open", {"edge_id": "auto-in", "plate_id": "51F20001"}, "auto-in")
    check(st == 200 and b["idempotent_replay"], "the edge's open after auto-open: %s" % b, d)
    await ain.close()
    st, b, _ = post("/api/edge/detection", {"edge_id": "auto-out", "plate_id": "51F20001"}, "auto-out")
    ao = b.get("auto_open", {})
    check(st == 200 and ao.get("action") == "EXIT" and ao.get("fee") == 0
          and ao["barrier"]["reason"] == "gate offline", "auto-open free exit: %s" % b, d)
    st, b, _ = post("/api/edge/detection", {"edge_id": "auto-out", "plate_id": "51F20001"}, "auto-out")
    check(st == 200 and "auto_open" not in b, "not inside any more: no auto-open: %s" % b, d)


asyncio.run(main())
check(d.stop() == 0, "SIGTERM exits 0", d)
print("it_gates: ok")
