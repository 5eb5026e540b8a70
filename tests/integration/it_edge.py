#!/usr/bin/python3
"""parklog-edge (sim driver) against the real parklogd on loopback: read ->
detection -> open -> sim barrier -> sensor / auto-close -> close ->
(reads on stdin and on the loopback HTTP endpoint)
ENTRY_CONFIRMED; exit with fee; duplicate reads; the gate channel (the
edge's own open acked at once; an open the central decides elsewhere
reaches the edge, which opens the barrier and acks); the central killed
while the edge queues, restarted, every queued action delivered once; a
wrong token; queued actions held while the central refuses a rotated token
(issue 12); --help/--version; the gpiod driver without a chip.
Usage: it_edge.py PARKLOGD PARKLOG-EDGE"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, sys.path[0])
from pl import Daemon, check, free_port  # noqa: E402

EDGE = sys.argv[2]
TOK_IN, TOK_OUT = "tok-in-0123456789abcdef", "tok-out-0123456789abcdef"
CONF = {"edges": [
    {"id": "gate-in", "direction": "ENTRY", "vehicle": "car", "token": TOK_IN},
    {"id": "gate-out", "direction": "EXIT", "vehicle": "car", "token": TOK_OUT}]}

# --help: usage, exit 0; --version: the project's version (CMakeLists.txt).
r = subprocess.run([EDGE, "--help"], capture_output=True, text=True, timeout=10)
check(r.returncode == 0 and r.stdout.startswith("usage: parklog-edge") and "-f FILE" in r.stdout,
      "--help: %d %r" % (r.returncode, r.stdout))
with open(os.path.join(sys.path[0], "..", "..", "CMakeLists.txt")) as f:
    version = re.search(r"project\(parklog VERSION ([0-9.]+)", f.read()).group(1)
r = subprocess.run([EDGE, "--version"], capture_output=True, text=True, timeout=10)
check(r.returncode == 0 and r.stdout == "parklog-edge %s\n" % version,
      "--version: %d %r" % (r.returncode, r.stdout))
r = subprocess.run([EDGE, "--bogus"], capture_output=True, text=True, timeout=10)
check(r.returncode == 1 and "usage:" in r.stderr, "a bad flag: %d" % r.returncode)

d = Daemon(sys.argv[1], config=CONF)
d.start()
edges = []


class Edge:
    def __init__(self, name, conf):
        self.dir = os.path.join(d.tmp, name)
        os.makedirs(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.fifo = os.path.join(self.dir, "sensor")
        base = {"edge_id": name, "central": "http://127.0.0.1:%d" % d.port,
                "heartbeat_s": 30, "dedup_ms": 5000, "timeout_ms": 1000, "retry_ms": 300,
                "queue_dir": os.path.join(self.dir, "q"), "gate_port": d.gates,
                "barrier": {"driver": "sim", "state_file": self.state, "sensor": self.fifo,
                            "open_ms": 60000}}
        base.update(conf)
        self.conf = os.path.join(self.dir, "edge.json")
        with open(self.conf, "w") as f:
            json.dump(base, f)
        self.err = open(os.path.join(self.dir, "stderr"), "wb")
        self.p = subprocess.Popen([EDGE, "-f", self.conf], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()
        edges.append(self)

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(json.loads(line))

    def send(self, s):
        self.p.stdin.write(s + "\n")
        self.p.stdin.flush()

    def read(self, plate, **kw):
        self.send(json.dumps(dict({"plate_id": plate}, **kw)))

    def expect(self, pred, what, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            try:
                o = self.lines.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            self.seen.append(o)
            if pred(o):
                return o
        raise AssertionError("edge: no %s; saw %s" % (what, self.seen[-8:]))

    def barrier_states(self):
        with open(self.state) as f:
            return [ln.split()[0] for ln in f]

    def stop(self):
        self.p.terminate()
        return self.p.wait(10)


def ev(name, **kw):
    return lambda o: o.get("event") == name and all(o.get(k) == v for k, v in kw.items())


def gate_connected(edge_id, timeout=10):
    """Wait until the central holds edge_id's gate channel: a barrier
    command sent before that finds the gate offline (a race of the test,
    not of the system, under load)."""
    end = time.time() + timeout
    while time.time() < end:
        st, c, _ = d.req("GET", "/api/cameras")
        for cam in c.get("cameras", []) if st == 200 else []:
            if cam.get("camera_id") == edge_id and cam.get("gate", {}).get("connected"):
                return
        time.sleep(0.05)
    raise AssertionError("gate channel of %s never connected" % edge_id)


def history(plate):
    st, h, _ = d.req("GET", "/api/parking/history?plate=" + plate)
    check(st == 200, "history %s" % h, d)
    return h["history"]


try:
    gin = Edge("gate-in", {"token": TOK_IN, "direction": "ENTRY", "vehicle": "car",
                           "auto_open": True})
    READS = free_port()
    gout = Edge("gate-out", {"token": TOK_OUT, "direction": "EXIT", "vehicle": "car",
                             "reads_http": "127.0.0.1:%d" % READS})
    gate_connected("gate-in")
    gate_connected("gate-out")
    # Entry: read -> detection -> open -> barrier -> passed -> close -> confirmed.
    gin.read("29A-123.45", plate_view="29A-123.45", confidence=0.97)
    det = gin.expect(ev("detection", plate_id="29A12345"), "detection")
    check(det["status"] == 200 and det["answer"]["allowed"] is True, str(det))
    opn = gin.expect(ev("open", plate_id="29A12345"), "open")
    check(opn["answer"]["action"] == "ENTRY", str(opn))
    check(opn["answer"]["barrier"]["ok"] is True, "the gate acked its own open: %s" % opn)
    gin.expect(ev("barrier", state="open"), "barrier open")
    check(gin.barrier_states()[-1] == "open", "sim barrier open")
    gin.read("29A12345")        # the same car seen again: not sent
    gin.expect(ev("duplicate", plate_id="29A12345"), "duplicate")
    with open(gin.fifo, "w") as f:
        f.write("passed\n")
    gin.expect(ev("barrier", state="closed", reason="passed"), "closed on passed")
    cl = gin.expect(ev("close", plate_id="29A12345"), "close answer")
    check(cl["status"] == 200 and cl["answer"]["confirmed"] is True, str(cl))
    rows = history("29A12345")
    check(len(rows) == 1 and rows[0]["confirmed"] is True, str(rows), d)
    check(gin.barrier_states()[-2:] == ["open", "close"], str(gin.barrier_states()))

    # Exit with a fee: the read comes over the loopback HTTP endpoint (bad
    # bodies refused), then an operator "open" at the exit gate.
    def post_read(body):
        req = urllib.request.Request("http://127.0.0.1:%d/read" % READS, data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        for _ in range(50):
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
            except OSError:
                time.sleep(0.1)     # not listening yet
        raise AssertionError("reads endpoint never answered")
    st, b = post_read("not json")
    check(st == 400 and b["accepted"] is False, "bad read: %s %s" % (st, b))
    st, b = post_read(json.dumps({"plate_id": "29A12345"}))
    check(st == 202 and b["accepted"] is True, "read: %s %s" % (st, b))
    gout.expect(ev("detection", plate_id="29A12345"), "exit detection")
    gout.send("open")
    ex = gout.expect(ev("open", plate_id="29A12345"), "exit open")
    check(ex["answer"]["action"] == "EXIT" and "fee" in ex["answer"], str(ex))
    gout.expect(ev("barrier", state="open"), "exit barrier open")
    gout.send("close")
    gout.expect(ev("barrier", state="closed", reason="command"), "exit closed")
    check(history("29A12345")[0]["status"] == "OUT", "plate out", d)

    # An open decided elsewhere (the console, for this gate): the central
    # commands the gate over the channel; the edge opens and acks.
    st, b, _ = d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-in", "plate_id": "29A77777"},
                     {"Authorization": "Bearer " + TOK_IN})
    check(st == 200 and b["barrier"]["acked"] and b["barrier"]["ok"], "commanded open: %s" % b, d)
    cmd = gin.expect(ev("command", command="open", plate_id="29A77777"), "open command")
    check(cmd["event_id"] == b["event_id"], str(cmd))
    gin.expect(ev("barrier", state="open", plate_id="29A77777"), "commanded barrier open")
    st, b, _ = d.req("GET", "/api/cameras")
    g = {c["camera_id"]: c for c in b["cameras"]}["gate-in"]["gate"]
    check(g["connected"] and g["last_command"]["ok"], "cameras: %s" % g, d)
    with open(gin.fifo, "w") as f:
        f.write("passed\n")
    gin.expect(ev("close", plate_id="29A77777"), "close after the commanded open")

    # Wrong token: refused, nothing opens.
    bad = Edge("gate-in-bad", {"edge_id": "gate-in", "token": "wrong-token-0123456789",
                               "auto_open": True, "gate_port": 0})
    bad.read("51F88888")
    det = bad.expect(ev("detection", plate_id="51F88888"), "refused detection")
    check(det["status"] in (401, 403), str(det))
    bad.send("open 51F88888")
    o = bad.expect(ev("open", plate_id="51F88888"), "refused open")
    check(o["status"] in (401, 403) and bad.barrier_states()[-1] == "close", str(o))
    check(bad.stop() == 0, "edge SIGTERM exit status")
    check(bad.barrier_states()[-1] == "released", "released on SIGTERM")

    # Central down: manual open and auto-close are queued, then delivered once.
    gin2 = Edge("gate-in2", {"edge_id": "gate-in", "token": TOK_IN, "direction": "ENTRY",
                             "gate_port": 0,
                             "barrier": {"driver": "sim", "state_file": os.path.join(
                                 d.tmp, "st2"), "open_ms": 300}})
    d.kill9()
    gin2.read("30G55555")
    det = gin2.expect(ev("detection", plate_id="30G55555"), "offline detection")
    check(det.get("error") == "central unreachable", str(det))
    gin2.send("open")
    q1 = gin2.expect(ev("queued", path="/api/edge/barrier/open"), "queued open")
    gin2.expect(ev("barrier", state="open"), "offline barrier open")
    q2 = gin2.expect(ev("queued", path="/api/edge/barrier/close"), "queued close")
    check(q1["id"].startswith("gate-in_") and q1["id"].endswith("_30G55555"), str(q1))
    time.sleep(0.5)
    back_ms = int(time.time() * 1000)
    d.start()
    got = []
    while len(got) < 2:
        o = gin2.expect(lambda o: o.get("event") == "delivered" and "barrier" in o["path"],
                        "delivered")
        got.append(o)
    check([o["id"] for o in got] == [q1["id"], q2["id"]], "order %s" % got)
    check(all(o["status"] == 200 for o in got), str(got))
    time.sleep(1)
    rows = history("30G55555")
    check(len(rows) == 1 and rows[0]["confirmed"] is True, str(rows), d)
    # recorded with the gate's time, not the delivery's
    check(rows[0]["entry_time_ms"] < back_ms, "original time: %s (central back at %d)"
          % (rows[0], back_ms), d)
    for e in (gin, gout, gin2):
        check(e.stop() == 0, "edge exit status")

    # Issue 12, item 5: the central restarted with gate-out's token rotated while
    # the edge holds queued actions: refused 403, held (said each round), none
    # dropped; once the central takes the token again (SIGHUP), delivered in order.
    rot = Edge("gate-rot", {"edge_id": "gate-out", "token": TOK_OUT, "direction": "EXIT",
                            "vehicle": "car", "gate_port": 0, "retry_max_ms": 800})
    d.stop()
    rot.send("open 30G55555")
    q1 = rot.expect(ev("queued", path="/api/edge/barrier/open"), "queued exit")
    rot.send("close")
    q2 = rot.expect(ev("queued", path="/api/edge/barrier/close"), "queued close")
    rotated = json.loads(json.dumps(CONF))
    rotated["edges"][1]["token"] = "tok-out-ROTATED-0123456789"
    d.write_config(rotated)
    d.start()
    for _ in range(2):
        h = rot.expect(ev("held"), "held round", timeout=15)
        check(h["status"] == 403 and h["pending"] >= 2, str(h))
    check(not any(o.get("event") in ("delivered", "dead_letter") for o in rot.seen),
          "nothing delivered or dropped while refused: %s" % rot.seen[-6:])
    with open(os.path.join(rot.dir, "stderr"), errors="replace") as f:
        check("none dropped" in f.read(), "the held warning on stderr")
    d.write_config(CONF)
    d.signal(signal.SIGHUP)
    got = []
    while len(got) < 2:
        o = rot.expect(lambda o: o.get("event") == "delivered" and "barrier" in o["path"],
                       "delivered after the token is back", timeout=15)
        got.append(o)
    check([o["id"] for o in got] == [q1["id"], q2["id"]], "order %s" % got)
    check(all(o["status"] == 200 for o in got), str(got))
    check(rot.stop() == 0, "edge exit status")

    # A garbage queue.pos does not stop the agent: rebuilt from queue.log, said.
    qdir = os.path.join(rot.dir, "q")
    with open(os.path.join(qdir, "queue.pos"), "wb") as f:
        f.write(b"garbage!")
    again = Edge("gate-rot2", {"edge_id": "gate-out", "token": TOK_OUT, "gate_port": 0,
                               "queue_dir": qdir})
    again.send("open 30G77777")
    again.expect(ev("open", plate_id="30G77777"), "the agent runs")
    with open(os.path.join(again.dir, "stderr"), errors="replace") as f:
        check("queue.pos unreadable or not at a record: rebuilt" in f.read(),
              "the rebuilt queue.pos is said")
    check(again.stop() == 0, "edge exit status")

    # gpiod without a chip: a clear message, non-zero.
    cfg = os.path.join(d.tmp, "gpio.json")
    with open(cfg, "w") as f:
        json.dump({"edge_id": "g", "central": "http://127.0.0.1:1", "queue_dir":
                   os.path.join(d.tmp, "gq"), "barrier": {"driver": "gpiod",
                                                          "chip": "gpiochip9", "line": 4}}, f)
    r = subprocess.run([EDGE, "-f", cfg], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=10)
    check(r.returncode != 0 and 'barrier.chip: "gpiochip9": no such GPIO chip' in r.stderr,
          "gpiod: %d %s" % (r.returncode, r.stderr))
    r = subprocess.run([EDGE, "-n", "-f", cfg], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0, "-n " + r.stderr)
    with open(cfg, "w") as f:
        f.write('{"edge_id": "g", "centrall": "x"}')
    r = subprocess.run([EDGE, "-n", "-f", cfg], capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and cfg + ": centrall: unknown key" in r.stderr, r.stderr)
finally:
    for e in edges:
        if e.p.poll() is None:
            e.p.kill()
            e.p.wait()
print("PASS it_edge")
