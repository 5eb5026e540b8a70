#!/usr/bin/env python3
"""it_metrics: /metrics as an operator's Prometheus sees it (issue 17).

* every family has `# HELP` and `# TYPE`;
* the business gauges: vehicles inside per class and capacity, today's
  entries/exits/revenue, gates online, build info;
* scraping without the operator token: from a listed address only
  (metrics_allow: addresses or prefixes, loopback by default), otherwise 401.
"""
import http.client
import json
import os
import re
import sys

from pl import Daemon, check

BIN = sys.argv[1]
TOKEN = "op-metrics-7c1e-5d2a9b"


def scrape(d, source, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10,
                                   source_address=(source, 0))
    c.request("GET", "/metrics", headers=headers or {})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, body


def families(text):
    helps, types, names = set(), set(), set()
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            helps.add(ln.split()[2])
        elif ln.startswith("# TYPE "):
            types.add(ln.split()[2])
        elif ln:
            n = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", ln).group(0)
            names.add(re.sub(r"_(bucket|sum|count)$", "", n))
    return helps, types, names


def value(text, sample):
    for ln in text.splitlines():
        if ln.startswith(sample + " "):
            return float(ln.rsplit(" ", 1)[1])
    return None


# 1. Default: loopback scrapes without a token; every family documented.
d = Daemon(BIN, config={"operator_token": TOKEN, "capacity": {"car": 200, "moto": 800}})
d.op_token = TOKEN
d.start()
for plate, veh in (("29A12345", "car"), ("59X111222", "moto"), ("30F55555", "car")):
    st, body, _ = d.req("POST", "/api/edge/barrier/open",
                        {"edge_id": "entry-1", "plate_id": plate, "vehicle": veh})
    check(st == 200, "entry %s: %s %s" % (plate, st, body), d)
st, body, _ = d.req("POST", "/api/edge/heartbeat", {"camera_id": "entry-1"})
check(st == 200, "heartbeat: %s %s" % (st, body), d)
st, text = scrape(d, "127.0.0.1")
check(st == 200, "loopback scrape without token: %s" % st, d)
helps, types, names = families(text)
check(names and not (names - helps), "families without HELP: %s" % sorted(names - helps), d)
check(not (names - types), "families without TYPE: %s" % sorted(names - types), d)
for sample, want in (('parklog_vehicles_inside{vehicle="all"}', 3),
                     ('parklog_vehicles_inside{vehicle="car"}', 2),
                     ('parklog_vehicles_inside{vehicle="moto"}', 1),
                     ('parklog_capacity{vehicle="car"}', 200),
                     ('parklog_capacity{vehicle="moto"}', 800),
                     ("parklog_today_entries", 3), ("parklog_today_exits", 0),
                     ("parklog_today_revenue", 0), ("parklog_gates_online", 1)):
    check(value(text, sample) == want, "%s = %s, want %s" % (sample, value(text, sample), want), d)
check(re.search(r'^parklog_build_info\{version="[0-9]+\.[0-9]+\.[0-9]+"\} 1$', text, re.M),
      "build_info", d)
# The Grafana dashboard in docs/ graphs only families this daemon exposes
# (the peers' appear with peers: parklog_peer_*; checked by name pattern).
dash = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "../../docs/grafana-dashboard.json")))
for p in dash["panels"]:
    for t in p["targets"]:
        for m in re.findall(r"parklog_[a-z_]+", t["expr"]):
            base = re.sub(r"_(bucket|sum|count)$", "", m)
            check(base in names or base.startswith("parklog_peer_"),
                  "dashboard panel %r uses %s, not exposed" % (p["title"], m), d)
# an exit moves today's exits (the fee depends on the tariff: only that it is counted)
st, body, _ = d.req("POST", "/api/edge/barrier/open",
                    {"edge_id": "exit-1", "plate_id": "29A12345", "vehicle": "car"})
check(st == 200, "exit: %s %s" % (st, body), d)
st, text = scrape(d, "127.0.0.1")
check(value(text, "parklog_today_exits") == 1, "today_exits after an exit", d)
check(value(text, 'parklog_vehicles_inside{vehicle="car"}') == 1, "car inside after exit", d)
d.stop()

# 2. A listed scraper: 127.0.0.2 reads without a token, 127.0.0.1 needs it.
d2 = Daemon(BIN, config={"operator_token": TOKEN, "metrics_allow": ["127.0.0.2"]})
d2.start()
st, _ = scrape(d2, "127.0.0.2")
check(st == 200, "listed address without token: %s" % st, d2)
st, _ = scrape(d2, "127.0.0.1")
check(st == 401, "unlisted address without token: %s, want 401" % st, d2)
st, _ = scrape(d2, "127.0.0.1", {"Authorization": "Bearer " + TOKEN})
check(st == 200, "unlisted address with the token: %s" % st, d2)
st, _ = scrape(d2, "127.0.0.3", {"Authorization": "Bearer wrong"})
check(st in (401, 403), "wrong token: %s" % st, d2)
d2.stop()

# 3. -n checks the key.
import subprocess  # noqa: E402
import tempfile  # noqa: E402
for bad, why in (({"metrics_allow": "127.0.0.1"}, "expected an array"),
                 ({"metrics_allow": ["localhost"]}, "IP addresses or prefixes"),
                 ({"metrics_allow": ["10.0.0.300"]}, "IP addresses or prefixes")):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(bad, f)
    p = subprocess.run([BIN, "-n", "-f", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    check(p.returncode == 1 and "metrics_allow" in p.stderr and why in p.stderr,
          "-n %s: rc %d %s" % (bad, p.returncode, p.stderr))
print("it_metrics: ok")
