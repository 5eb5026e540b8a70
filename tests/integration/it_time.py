#!/usr/bin/python3
"""A gate's timestamp is taken only inside the central's bounds (issue 12
item 4, docs/time.md): an entry stamped 29 days ago, an action stamped
ahead, and an action sent late on a live link are recorded at the
central's time, counted in /metrics, said in a message, answered with
edge_ts_refused and shown on the gate's card; a queued backlog after a
silence keeps the gate's time.
Usage: it_time.py PARKLOGD"""
import sys
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

DAY = 86400000
d = Daemon(sys.argv[1], config={"time": {"skew_ms": 300, "max_drift_ms": 400},
                                  "limits": {"idempotency_window_ms": 0}}).start()


def now_ms():
    return int(time.time() * 1000)


def open_(edge, plate, ts):
    return d.req("POST", "/api/edge/barrier/open",
                 {"edge_id": edge, "plate_id": plate, "timestamp": ts})


# 1. An entry stamped 29 days ago: the central's time, not 17,400,000 VND.
t = now_ms()
st, a, _ = open_("gate-a", "29A11111", t - 29 * DAY)
check(st == 200 and a["action"] == "ENTRY", "entry: %s" % a, d)
check(a.get("edge_ts_refused", {}).get("reason") == "too_old", "refusal said: %s" % a, d)
st, b, _ = open_("gate-a", "29A11111", now_ms())
check(st == 200 and b["action"] == "EXIT" and b["fee"] == 0, "exit right after: fee 0: %s" % b, d)
check(abs(b["entry_time_ms"] - t) < 5000, "entry dated now, not 29 days ago: %s" % b, d)
check("edge_ts_refused" not in b, "a live action is taken: %s" % b, d)

# 2. Stamped ahead of the central's clock beyond the skew.
st, a, _ = open_("gate-a", "30B22222", now_ms() + 10000)
check(st == 200 and a.get("edge_ts_refused", {}).get("reason") == "ahead", "ahead: %s" % a, d)
check(a["entry_time_ms"] <= now_ms(), "not dated ahead: %s" % a, d)

# 3. Late on a live link: the gate heartbeats, enters live, then sends an
# exit stamped soon after the entry, but late (not queued: it was in
# contact all along). Recorded when it came, not when it says.
st, _, _ = d.req("POST", "/api/edge/heartbeat", {"camera_id": "gate-b", "status": "online",
                                                 "timestamp": now_ms()})
check(st == 200, "heartbeat", d)
time.sleep(1.0)
e1 = now_ms()
st, a, _ = open_("gate-b", "51F33333", e1)
check(st == 200 and a["action"] == "ENTRY" and "edge_ts_refused" not in a, "live entry: %s" % a, d)
time.sleep(2.0)
sent = now_ms()
st, b, _ = open_("gate-b", "51F33333", e1 + 800)
check(st == 200 and b["action"] == "EXIT", "exit: %s" % b, d)
check(b["exit_time_ms"] >= sent - 50, "late exit dated when it came (%d): %s" % (sent, b), d)
check(b.get("edge_ts_refused", {}).get("reason") == "late", "refusal said: %s" % b, d)
st, cams, _ = d.req("GET", "/api/cameras")
card = [c for c in cams["cameras"] if c["camera_id"] == "gate-b"][0]
check(card["clock"]["edge_ts_refused"] == 1 and card["clock"]["last_refusal"] == "late",
      "the gate's card: %s" % card, d)

# 4. A gate never heard from (the central was unreachable for it) drains
# its queue: the gate's times stand, 1 min inside, fee 0.
t = now_ms()
st, a, _ = open_("gate-c", "62H44444", t - 3 * 3600000)
check(st == 200 and a["action"] == "ENTRY" and "edge_ts_refused" not in a,
      "queued entry keeps its time: %s" % a, d)
st, b, _ = open_("gate-c", "62H44444", t - 3 * 3600000 + 60000)
check(st == 200 and b["action"] == "EXIT" and b["fee"] == 0 and b["duration_s"] == 60
      and b["entry_time_ms"] == t - 3 * 3600000,
      "queued exit keeps its time: %s" % b, d)

check(d.metric('parklog_edge_ts_total{verdict="too_old"}') == 1, "too_old counted", d)
check(d.metric('parklog_edge_ts_total{verdict="ahead"}') == 1, "ahead counted", d)
check(d.metric('parklog_edge_ts_total{verdict="late"}') == 1, "late counted", d)
check("refused (late)" in d.messages() and "refused (too_old)" in d.messages(),
      "refusals said in messages", d)
check(d.stop() == 0, "SIGTERM exits 0", d)
print("it_time: ok")
