#!/usr/bin/python3
"""Where the gate channel listens (issue 12, items 2 and 9), with the real
parklogd:
* "gates": "127.0.0.1:P" binds 127.0.0.1:P only (lws alone binds "::", every
  interface), "localhost:P" binds 127.0.0.1:P, "[::1]:P" stays IPv6 loopback;
  a host name is refused, by -n too;
* a gate port already in use is a startup error naming the address;
* two centrals from the seed's own config files (this_central /
  peer_centrals, no "gates" key), each in its own directory as the seed's
  Test 2 runs them, both start: their gate channels are on p2p's port + 100.
Checked with `ss -ltnH "sport = :P"`; loopback only.
Usage: it_gates_listen.py PARKLOGD"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check, free_port  # noqa: E402

BIN = os.path.abspath(sys.argv[1])


def listening(port):
    """The local addresses listening on TCP port `port`."""
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % port], capture_output=True,
                         text=True, check=True).stdout
    return sorted(line.split()[3] for line in out.splitlines() if line.strip())


def gates_at(addr, port):
    # Daemon.start passes its own --gates first: the last flag wins
    d = Daemon(BIN, args=["--gates", "%s:%d" % (addr, port)])
    d.gates = port
    return d


# 1. 127.0.0.1, localhost, [::1]: exactly the configured address.
for addr, want in (("127.0.0.1", "127.0.0.1"), ("localhost", "127.0.0.1"),
                   ("[::1]", "[::1]")):
    port = free_port()
    d = gates_at(addr, port).start()
    got = listening(port)
    check(got == ["%s:%d" % (want, port)], "%s: listening on %s" % (addr, got), d)
    check(d.stop() == 0, "%s: SIGTERM exit" % addr, d)

# 2. A host name: refused by -n and at start, with the key named.
for extra in (["-n"], []):
    r = subprocess.run([BIN, "--data", "/nonexistent-parklog", "--gates", "gates.example:9100"]
                       + extra, capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "gates: gates.example: expected a numeric address" in r.stderr,
          "a host name for gates %s: rc %d, %r" % (extra, r.returncode, r.stderr))

# 3. The gate port in use: a clear startup error naming the address.
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
port = busy.getsockname()[1]
d = gates_at("127.0.0.1", port)
try:
    d.start(timeout=5)
    check(False, "started with its gate port in use", d)
except AssertionError as e:
    check("gates: cannot listen on 127.0.0.1:%d" % port in str(e), "message: %s" % e, d)
busy.close()


# 4. Two centrals from the seed's config files on one machine.
def ports():
    """http and p2p ports free, and p2p + 100 (the derived gate port) too."""
    while True:
        h, p = free_port(), free_port()
        if p + 100 <= 65535 and h != p + 100 and not listening(p + 100):
            return h, p


(h1, p1), (h2, p2) = ports(), ports()
ds = []
for n, (h, p), (po, ppo) in ((1, (h1, p1), (2, p2)), (2, (h2, p2), (1, p1))):
    d = Daemon(BIN)
    home = os.path.join(d.tmp, "backend-central-%d" % n)
    os.makedirs(os.path.join(home, "config"))
    seed = {"this_central": {"id": "central-%d" % n, "ip": "127.0.0.1", "p2p_port": p,
                             "api_port": h},
            "peer_centrals": [{"id": "central-%d" % po, "ip": "127.0.0.1", "p2p_port": ppo}]}
    cfg = os.path.join(home, "config", "p2p_config.json")
    with open(cfg, "w") as f:
        json.dump(seed, f)
    d.port, d.p2p, d.gates = h, p, p + 100
    # as the seed runs it: in its own directory, with nothing but the file
    d.proc = subprocess.Popen([BIN, "-f", cfg], cwd=home, stderr=open(d.log, "ab"))
    ds.append(d)
for d in ds:
    end = time.time() + 10
    while time.time() < end:
        check(d.proc.poll() is None, "a seed-config central exited %s" % d.proc.returncode, d)
        try:
            if d.req("GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.05)
    else:
        check(False, "no /healthz", d)
    check(listening(d.gates) == ["127.0.0.1:%d" % d.gates],
          "gate channel on p2p + 100: %s" % listening(d.gates), d)
    check(("gate channel on ws://127.0.0.1:%d" % d.gates) in d.messages(),
          "the announced gate port", d)
for d in ds:
    check(d.stop() == 0, "SIGTERM exit", d)
print("PASS it_gates_listen")
