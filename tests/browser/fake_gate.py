#!/usr/bin/python3
"""A gate on the gate channel for the console's browser test: hello with
the edge's token, then ack every command ok.
Usage: fake_gate.py PORT EDGE_ID TOKEN"""
import asyncio
import json
import sys

import websockets


async def main(port, edge, token):
    async with websockets.connect("ws://127.0.0.1:%s/" % port, subprotocols=["parklog-gate"]) as ws:
        await ws.send(json.dumps({"type": "hello", "edge_id": edge, "token": token}))
        async for msg in ws:
            m = json.loads(msg)
            if m.get("type") in ("open", "close"):
                await ws.send(json.dumps({"type": "ack", "event_id": m["event_id"], "ok": True}))


asyncio.run(main(*sys.argv[1:4]))
