#!/usr/bin/python3
"""Handshake attacks on parklog peer listeners (loopback only).

  attacker.py relay   PORT_A PORT_B ID_A ID_B
  attacker.py replay  PORT_B ID_A ID_B SECRET
  attacker.py reflect PORT_B ID_A
  attacker.py forge   PORT_B ID_A ID_B SECRET FRAME-FILE
  attacker.py plain   PORT_B        (exit 0 if no plain ws gets B's hello)

relay: the attack of issue 12 -- read A's nonce, say hello to B as A with
A's nonce, forward whatever B signs to A in a hello as B, and forward what
A signs back to B. replay: authenticate once as A with the secret (the
control: that must work), then replay the recorded hello and auth on a new
connection. reflect: say hello to B as A with B's own nonce and echo back
any MAC B sends. forge: a peer that holds the secret (it logs in as A)
sends the batch frame in FRAME-FILE.

Exit 0 if no attacked central sent a MAC or a batch to a party that had not
proven the secret on that very connection; 1 if one did; 2 if the replay's
control (a legitimate handshake) failed. forge: 0 if B answered the batch
with a fork (refused) and never acked it, 1 if not, 2 if the login failed. Prints what it saw on stdout."""
import asyncio
import hashlib
import hmac
import json
import os
import sys

import websockets

SUB = ["parklog-peer-1"]


def uri(port):
    return "ws://127.0.0.1:%d/" % port


def hello(node, nonce, v):
    return json.dumps({"type": "hello", "v": v, "node": node, "nonce": nonce,
                       "vector": {}}, separators=(",", ":"))


def auth(mac):
    return '{"type":"auth","mac":"%s"}' % mac


async def connect(port):
    return await websockets.connect(uri(port), subprotocols=SUB, max_size=None,
                                    open_timeout=5, ping_interval=None)


async def collect(ws, secs):
    """Frames (parsed headers) received within secs, until closed."""
    out = []
    loop = asyncio.get_running_loop()
    end = loop.time() + secs
    while True:
        left = end - loop.time()
        if left <= 0:
            return out
        try:
            m = await asyncio.wait_for(ws.recv(), left)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return out
        if isinstance(m, bytes):
            continue
        try:
            out.append(json.loads(m.split("\n", 1)[0]))
        except ValueError:
            out.append({"type": "?"})


def signed(frames):
    return [f for f in frames if f.get("type") in ("auth", "batch")]


async def relay(port_a, port_b, id_a, id_b):
    wa = await connect(port_a)
    ha = (await collect(wa, 2))[:1]
    if not ha or ha[0].get("type") != "hello":
        print("relay: no hello from A")
        return 0
    v, na = ha[0]["v"], ha[0]["nonce"]
    wb = await connect(port_b)
    await wb.send(hello(id_a, na, v))
    fb = await collect(wb, 1.5)
    hb = [f for f in fb if f.get("type") == "hello"]
    nb = hb[0]["nonce"] if hb else "0" * 32
    await wa.send(hello(id_b, nb, v))
    for f in fb:
        if f.get("type") == "auth":
            await wa.send(auth(f["mac"]))
    fa = await collect(wa, 2)
    for f in fa:
        if f.get("type") == "auth":
            await wb.send(auth(f["mac"]))
    fb2 = await collect(wb, 1.5)
    print("relay: from B", fb + fb2, "from A", fa)
    return 1 if signed(fb + fb2) or signed(fa) else 0


def mac_for(secret, v, id_a, id_b, n_a, n_b):
    if v == 1:
        txt = "parklog-peer-1|%s|%s|%s|%s" % (id_a, id_b, n_b, n_a)
    else:
        txt = "parklog-peer-auth-2|dialer|%s|%s|%s|%s" % (id_a, id_b, n_a, n_b)
    return hmac.new(secret.encode(), txt.encode(), hashlib.sha256).hexdigest()


async def replay(port_b, id_a, id_b, secret):
    w = await connect(port_b)
    hb = await collect(w, 1)
    if not hb or hb[0].get("type") != "hello":
        print("replay: no hello from B")
        return 2
    v, nb = hb[0]["v"], hb[0]["nonce"]
    n_a = os.urandom(16).hex()
    rec = [hello(id_a, n_a, v), auth(mac_for(secret, v, id_a, id_b, n_a, nb))]
    for f in rec:
        await w.send(f)
    got = hb[1:] + await collect(w, 1.5)
    await w.close()
    if not [f for f in got if f.get("type") == "auth"]:
        print("replay: the legitimate handshake failed", got)
        return 2
    await asyncio.sleep(0.3)
    w = await connect(port_b)
    for f in rec:
        await w.send(f)
    got = await collect(w, 2)
    print("replay: second connection got", got)
    return 1 if signed(got) else 0


async def forge(port_b, id_a, id_b, secret, path):
    w = await connect(port_b)
    hb = await collect(w, 1)
    if not hb or hb[0].get("type") != "hello":
        return 2
    v, nb = hb[0]["v"], hb[0]["nonce"]
    n_a = os.urandom(16).hex()
    await w.send(hello(id_a, n_a, v))
    await w.send(auth(mac_for(secret, v, id_a, id_b, n_a, nb)))
    got = hb[1:] + await collect(w, 1)
    if not [f for f in got if f.get("type") == "auth"]:
        print("forge: login failed", got)
        return 2
    frame = open(path).read()
    stream = json.loads(frame.split("\n", 1)[0])["stream"]
    await w.send(frame)
    got = [f for f in await collect(w, 2) if f.get("stream") == stream]
    print("forge: answers", got)
    forks = [f for f in got if f["type"] == "fork"]
    acks = [f for f in got if f["type"] == "ack" and f["seq"] > 0]
    return 0 if forks and not acks else 1


async def plain(port_b):
    try:
        w = await connect(port_b)
        got = await collect(w, 2)
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        print("plain: refused:", type(e).__name__)
        return 0
    print("plain: got", got)
    return 1 if got else 0


async def reflect(port_b, id_a):
    w = await connect(port_b)
    hb = await collect(w, 1)
    if not hb or hb[0].get("type") != "hello":
        print("reflect: no hello from B")
        return 0
    await w.send(hello(id_a, hb[0]["nonce"], hb[0]["v"]))
    got = hb[1:] + await collect(w, 1.5)
    for f in got:
        if f.get("type") == "auth":
            await w.send(auth(f["mac"]))
    got += await collect(w, 1.5)
    w2 = await connect(port_b)      # and with a nonce of its own
    h2 = await collect(w2, 1)
    await w2.send(hello(id_a, os.urandom(16).hex(), h2[0]["v"] if h2 else 2))
    got2 = h2[1:] + await collect(w2, 1.5)
    for f in got2:
        if f.get("type") == "auth":
            await w2.send(auth(f["mac"]))
    got2 += await collect(w2, 1.5)
    print("reflect: got", got, got2)
    return 1 if signed(got) or signed(got2) else 0


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "relay":
        return asyncio.run(relay(int(a[0]), int(a[1]), a[2], a[3]))
    if mode == "replay":
        return asyncio.run(replay(int(a[0]), a[1], a[2], a[3]))
    if mode == "forge":
        return asyncio.run(forge(int(a[0]), a[1], a[2], a[3], a[4]))
    if mode == "plain":
        return asyncio.run(plain(int(a[0])))
    if mode == "reflect":
        return asyncio.run(reflect(int(a[0]), a[1]))
    return 3


sys.exit(main())
