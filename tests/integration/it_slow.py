#!/usr/bin/python3
"""Slow clients (issue 12, item 7; docs/http-limits.md). Clients that send
their headers a byte at a time, more of them than limits.max_conns, and
reconnecting whenever closed, from one address and then from several
127.0.0.x addresses: 15 real barrier opens must all be answered, each
within a few seconds. A lone trickling connection is closed at
limits.request_deadline_s; an event stream (its request complete) and a
keep-alive connection that showed a token are not cut.
Before the guard: 0 of 15 answered (MHD's idle timeout never fires).
Also: parklogd -n checks the limits' ranges.
Usage: it_slow.py PARKLOGD"""
import http.client
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

TOK = "tok-in-0123456789abcdef"


def check_n(limits, rc, text):
    """parklogd -n on a file with these limits: exit status and message."""
    with tempfile.TemporaryDirectory() as t:
        f = os.path.join(t, "c.json")
        with open(f, "w") as fh:
            json.dump({"limits": limits}, fh)
        p = subprocess.run([sys.argv[1], "-n", "-f", f], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    check(p.returncode == rc and text in out, "-n %s: %d %s" % (limits, p.returncode, out))


check_n({"request_deadline_s": 0}, 1, "limits.request_deadline_s: expected an integer 1..3600")
check_n({"request_deadline_s": 3601}, 1, "limits.request_deadline_s: expected an integer 1..3600")
check_n({"max_conns_per_ip": 0}, 1, "limits.max_conns_per_ip: expected an integer 1..65536")
check_n({"reserved_conns": -1}, 1, "limits.reserved_conns: expected an integer 0..65535")
check_n({"max_conns": 10, "reserved_conns": 10}, 1,
        "limits.reserved_conns: 10 must be less than limits.max_conns (10)")
check_n({"max_conns": 10}, 0, "configuration OK")   # reserved 0: max_conns / 16
check_n({"max_conns": 10, "reserved_conns": 9, "request_deadline_s": 3600,
         "max_conns_per_ip": 1}, 0, "configuration OK")
MAX_CONNS, PER_IP, RESERVED, DEADLINE = 40, 8, 4, 3
d = Daemon(sys.argv[1], config={
    "edges": [{"id": "gate-in", "direction": "ENTRY", "token": TOK}],
    "limits": {"max_conns": MAX_CONNS, "max_conns_per_ip": PER_IP,
               "reserved_conns": RESERVED, "request_deadline_s": DEADLINE,
               "conn_timeout_s": 60}}).start()
d._close()      # pl's keep-alive connection would count as a client
ANSWER_S = 6    # each real open answered within this (TSan builds are slow)


class Slowloris(threading.Thread):
    """`n` connections from each of `srcs`, each sending its request line,
    then header bytes one at a time (a byte per slot every `period` s);
    a closed one is reopened at once (a persistent attacker)."""

    def __init__(self, srcs, n, period=0.3):
        super().__init__(daemon=True)
        self.slots = [[src, None, 0.0] for src in srcs for _ in range(n)]
        self.period = period
        self.stop = False
        self.closed = 0          # times the server closed one of ours
        self.lifetimes = []      # seconds each closed connection lived

    def _open(self, slot):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.bind((slot[0], 0))
            s.connect(("127.0.0.1", d.port))
            s.sendall(b"POST /api/edge/barrier/open HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            s.setblocking(False)
            slot[1], slot[2] = s, time.time()
        except OSError:
            s.close()

    def _gone(self, slot):
        self.closed += 1
        self.lifetimes.append(time.time() - slot[2])
        slot[1].close()
        slot[1] = None

    def run(self):
        while not self.stop:
            for slot in self.slots:
                if self.stop:
                    break
                if slot[1] is None:
                    self._open(slot)
                    continue
                try:
                    r, _, _ = select.select([slot[1]], [], [], 0)
                    if r and slot[1].recv(4096) == b"":
                        self._gone(slot)
                        continue
                    slot[1].send(b"a")
                except OSError:
                    self._gone(slot)
            time.sleep(self.period)
        for slot in self.slots:
            if slot[1] is not None:
                slot[1].close()

    def halt(self):
        self.stop = True
        self.join(10)


def real_opens(tag, n=15):
    """n barrier opens, each on its own connection from 127.0.0.1; the
    number answered 200 within ANSWER_S each."""
    ok = 0
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=ANSWER_S)
        try:
            c.request("POST", "/api/edge/barrier/open",
                      body=json.dumps({"edge_id": "gate-in", "plate_id": "%s%05d" % (tag, i)}),
                      headers={"Authorization": "Bearer " + TOK,
                               "Content-Type": "application/json", "Connection": "close"})
            r = c.getresponse()
            r.read()
            ok += r.status == 200
        except OSError:
            pass
        finally:
            c.close()
    return ok


def flood(srcs, n, what):
    a = Slowloris(srcs, n)
    a.start()
    time.sleep(1.5)       # every slot opened and trickling
    try:
        t0 = time.time()
        ok = real_opens(what)
        check(ok == 15, "%s: %d of 15 barrier opens answered (%.1f s)" % (what, ok, time.time() - t0), d)
    finally:
        a.halt()
    return a


# 1. From one address, past max_conns: the newest push the oldest out.
flood(["127.0.0.1"], MAX_CONNS + 10, "29A")
# 2. From 8 addresses, 7 each (under the per-address cap), 56 > max_conns.
flood(["127.0.0.%d" % i for i in range(2, 10)], PER_IP - 1, "29B")

# 3. The deadline: one trickling connection, alone, closed after DEADLINE s
#    (not before), whatever it sends.
a = Slowloris(["127.0.0.20"], 1, period=0.2)
a.start()
end = time.time() + DEADLINE + 5
while a.closed == 0 and time.time() < end:
    time.sleep(0.1)
a.halt()
check(a.closed >= 1 and DEADLINE - 0.5 <= a.lifetimes[0] <= DEADLINE + 2.5,
      "a trickling connection closed at the deadline: %s" % a.lifetimes, d)

# 4. Never cut: an event stream (request complete) outlives the deadline,
#    and a keep-alive connection that showed a token survives a flood from
#    its own address (within the deadline).
ev = socket.create_connection(("127.0.0.1", d.port), timeout=10)
ev.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
head = ev.recv(4096)
check(head.startswith(b"HTTP/1.1 200"), "event stream: %r" % head[:80], d)
ka = http.client.HTTPConnection("127.0.0.1", d.port, timeout=ANSWER_S)
ka.request("POST", "/api/edge/barrier/open", body=json.dumps({"edge_id": "gate-in", "plate_id": "29C00001"}),
           headers={"Authorization": "Bearer " + TOK, "Content-Type": "application/json"})
r = ka.getresponse()
r.read()
check(r.status == 200, "keep-alive first open: %d" % r.status, d)
a = Slowloris(["127.0.0.1"], MAX_CONNS + 10, period=0.1)
a.start()
time.sleep(1.0)
ka.request("POST", "/api/edge/barrier/open", body=json.dumps({"edge_id": "gate-in", "plate_id": "29C00002"}),
           headers={"Authorization": "Bearer " + TOK, "Content-Type": "application/json"})
r = ka.getresponse()     # http.client raises if the connection was closed
r.read()
check(r.status == 200, "keep-alive with a token, second open: %d" % r.status, d)
ka.close()
a.halt()
time.sleep(DEADLINE)
ev.settimeout(ANSWER_S + 6)
got = b""
st, _, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29C00003"},
                 {"Authorization": "Bearer " + TOK})
check(st == 200, "open for the stream: %d" % st, d)
end = time.time() + ANSWER_S + 6
while b"29C00003" not in got and time.time() < end:
    chunk = ev.recv(65536)
    if not chunk:
        break
    got += chunk
check(b"29C00003" in got, "the event stream still delivers after the deadline: %r" % got[-300:], d)
ev.close()

st, m, _ = d.req("GET", "/metrics")
closed = {k: float(line.rsplit(" ", 1)[1]) for line in m.splitlines()
          for k in ("deadline", "newcomer")
          if line.startswith('parklog_http_slow_closed_total{reason="%s"}' % k)}
check(closed.get("deadline", 0) >= 1 and closed.get("newcomer", 0) >= 1,
      "/metrics counts both kinds of closing: %s" % closed, d)
st, h, _ = d.req("GET", "/api/parking/state")
check(st == 200, "state: %d %s" % (st, h), d)
check(d.stop() == 0, "SIGTERM exits 0", d)
print("it_slow: ok")
