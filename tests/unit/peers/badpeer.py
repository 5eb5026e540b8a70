#!/usr/bin/python3
"""Bad clients against a parklog peer listener (port in argv[1]).

Each case must see its connection closed by the server within a few
seconds; the central keeps serving meanwhile (checked by the C test).
Exit 0 if every case was closed, 1 otherwise."""
import asyncio
import sys

import websockets

PORT = int(sys.argv[1])
URI = "ws://127.0.0.1:%d/" % PORT
NONCE = "00112233445566778899aabbccddeeff"
MAC = "ab" * 32


async def closed(name, frames, timeout=5.0):
    try:
        async with websockets.connect(URI, subprotocols=["parklog-peer-1"],
                                      max_size=None, open_timeout=5,
                                      ping_interval=None) as ws:
            try:
                for f in frames:
                    await ws.send(f)
            except websockets.ConnectionClosed:
                return True
            try:
                while True:     # its hello, then the close
                    await asyncio.wait_for(ws.recv(), timeout)
            except websockets.ConnectionClosed:
                return True
            except asyncio.TimeoutError:
                print("not closed:", name, file=sys.stderr)
                return False
    except websockets.ConnectionClosed:
        return True


def hello(node):
    return ('{"type":"hello","v":2,"node":"%s","nonce":"%s","vector":{}}'
            % (node, NONCE))


async def main():
    cases = [
        ("garbage", ["hello world"]),
        ("empty frame", [""]),
        ("empty frame after hello", [hello("central-2"), ""]),
        ("binary", [b"\x00\x01\x02"]),
        ("oversized", ["{" + " " * (600 * 1024)]),
        ("auth before hello", ['{"type":"auth","mac":"%s"}' % MAC]),
        ("unknown central", [hello("central-77")]),
        ("wrong mac", [hello("central-2"), '{"type":"auth","mac":"%s"}' % MAC]),
        ("want before auth", [hello("central-2"),
                              '{"type":"want","stream":"central-1:0000000000000001","from":1}']),
        ("flood", ["x" * 100] * 10000),
        ("deep json", ["[" * 100000]),
    ]
    ok = True
    for name, frames in cases:
        ok &= await closed(name, frames)
    # idle connections that never say hello: dropped by the auth deadline
    idle = [closed("idle %d" % i, [], timeout=15.0) for i in range(20)]
    ok &= all(await asyncio.gather(*idle))
    return ok

sys.exit(0 if asyncio.run(main()) else 1)
