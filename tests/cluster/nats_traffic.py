#!/usr/bin/env python3
"""tests/cluster/nats_traffic.py PORT EDGE PREFIX N: N vehicles enter at the
central on 127.0.0.1:PORT (plates PREFIX + 6 digits), then every other one
leaves, over one keep-alive connection. Errors are counted, not fatal (the
central may be killed meanwhile); prints "ok=<n> err=<n>"."""
import http.client, json, sys

port, edge, prefix, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
ok = err = 0
conn = None

def post(plate):
    global conn, ok, err
    body = json.dumps({"edge_id": edge, "plate_id": plate, "action": "open"})
    try:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/api/edge/barrier/open", body,
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        ok += r.status == 200
        err += r.status != 200
    except (OSError, http.client.HTTPException):
        err += 1
        conn = None

plates = ["%s%06d" % (prefix, i) for i in range(n)]
for p in plates:
    post(p)
for p in plates[::2]:
    post(p)
print("ok=%d err=%d" % (ok, err))
