#!/usr/bin/python3
"""Idempotency-Key lifetime: within limits.idempotency_key_ttl_s a repeat
returns the first answer and appends nothing; after it the key is new again
(the old entry purged by the write itself), and a repeat of the new use
returns the new answer.
Usage: it_idem.py PARKLOGD"""
import sys
import time

sys.path.insert(0, sys.path[0])
from pl import Daemon, check  # noqa: E402

TOK = "tok-any-0123456789abcdef"
d = Daemon(sys.argv[1], config={
    "edges": [{"id": "gate-any", "direction": None, "token": TOK}],
    "limits": {"idempotency_window_ms": 0, "idempotency_key_ttl_s": 2}}).start()


def open_(key):
    return d.req("POST", "/api/edge/barrier/open", {"edge_id": "gate-any", "plate_id": "29A55555"},
                 {"Authorization": "Bearer " + TOK, "Idempotency-Key": key})


st, a, _ = open_("K-1")
check(st == 200 and a["action"] == "ENTRY" and not a["idempotent_replay"], "first: %s" % a, d)
st, b, _ = open_("K-1")
check(st == 200 and b["idempotent_replay"] and b["event_id"] == a["event_id"], "repeat: %s" % b, d)
time.sleep(2.3)
st, c, _ = open_("K-1")
check(st == 200 and not c["idempotent_replay"] and c["action"] == "EXIT",
      "after the ttl the key is new: %s" % c, d)
st, e, _ = open_("K-1")
check(st == 200 and e["idempotent_replay"] and e["action"] == "EXIT"
      and e["exit_event_id"] == c["exit_event_id"], "the new use is remembered: %s" % e, d)
st, h, _ = d.req("GET", "/api/parking/history?plate=29A55555")
check(len(h["history"]) == 1 and h["history"][0]["status"] == "OUT", "one visit: %s" % h, d)
check(d.stop() == 0, "SIGTERM exits 0", d)
print("it_idem: ok")
