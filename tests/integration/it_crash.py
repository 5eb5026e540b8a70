#!/usr/bin/python3
"""Crash test: concurrent barrier opens (entries of fresh plates, exits of
acknowledged ones) while parklogd is killed with SIGKILL at random moments,
several times. After each restart every event whose request got a success
answer must be there, and nothing twice. Then `parklog verify` (if given).
Usage: it_crash.py PARKLOGD [PARKLOG]"""
import http.client
import json
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

ROUNDS, THREADS = 6, 16
d = Daemon(sys.argv[1])
acked_entry = {}          # plate -> entry event id
acked_exit = {}           # plate -> exit event id
exit_tried = set()
lock = threading.Lock()
rng = random.Random(int(time.time()))


def client(rnd, t, stop):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=5)
    i = 0
    while not stop.is_set():
        plate, edge = None, "edge-in-%d" % t
        with lock:
            if acked_entry and rng.random() < 0.3:
                cand = rng.choice(list(acked_entry))
                if cand not in exit_tried:
                    exit_tried.add(cand)
                    plate, edge = cand, "edge-out-%d" % t
        if plate is None:
            plate = "K%d%02d%06d" % (rnd, t, i)
            i += 1
        body = json.dumps({"edge_id": edge, "plate_id": plate, "action": "open"})
        try:
            conn.request("POST", "/api/edge/barrier/open", body,
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            b = json.loads(r.read())
        except (OSError, http.client.HTTPException, ValueError):
            return          # the daemon died: this request is not acknowledged
        if r.status != 200 or not b.get("success"):
            continue
        with lock:
            if b["action"] == "ENTRY":
                acked_entry[plate] = b["event_id"]
            else:
                acked_exit[plate] = b["exit_event_id"]


def history():
    rows, off = [], 0
    while True:
        st, b, _ = d.req("GET", "/api/parking/history?limit=10000&offset=%d" % off)
        check(st == 200, "history: %s" % st, d)
        rows += b["history"]
        if b["count"] < 10000:
            return rows
        off += 10000


def verify():
    rows = history()
    ids = [r["id"] for r in rows]
    check(len(ids) == len(set(ids)), "a session id appears twice", d)
    by_plate = {}
    for r in rows:
        by_plate.setdefault(r["plate_id"], []).append(r)
    with lock:
        entries, exits = dict(acked_entry), dict(acked_exit)
    for plate, eid in entries.items():
        rs = by_plate.get(plate, [])
        check(len(rs) == 1 and rs[0]["id"] == eid,
              "acknowledged entry %s of %s: rows %s" % (eid, plate, rs), d)
    for plate, xid in exits.items():
        rs = by_plate.get(plate, [])
        check(len(rs) == 1 and rs[0]["exit_event_id"] == xid and rs[0]["status"] == "OUT",
              "acknowledged exit %s of %s: rows %s" % (xid, plate, rs), d)
    for plate, rs in by_plate.items():
        check(len(rs) == 1 and not rs[0]["flags"], "plate %s: %s" % (plate, rs), d)
    return len(rows)


for rnd in range(ROUNDS):
    d.start()
    if rnd > 0:
        n = verify()
        print("round %d: restart ok, %d sessions, %d entries and %d exits acknowledged" %
              (rnd, n, len(acked_entry), len(acked_exit)), flush=True)
    stop = threading.Event()
    ts = [threading.Thread(target=client, args=(rnd, t, stop)) for t in range(THREADS)]
    for th in ts:
        th.start()
    time.sleep(rng.uniform(0.3, 1.5))
    d.kill9()          # while requests are in flight
    stop.set()
    for th in ts:
        th.join(10)
d.start()
n = verify()
print("final: %d sessions, %d entries and %d exits acknowledged, all present once" %
      (n, len(acked_entry), len(acked_exit)))
check(len(acked_entry) > 100 and len(acked_exit) > 10, "too little load to mean anything", d)
check(d.stop() == 0, "SIGTERM exit status", d)
if len(sys.argv) > 2:
    r = subprocess.run([sys.argv[2], "verify", d.data], capture_output=True, text=True)
    print(r.stdout, r.stderr)
    check(r.returncode == 0, "parklog verify: %d" % r.returncode, d)
print("PASS it_crash")
