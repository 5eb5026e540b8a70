#!/usr/bin/env bash
# The seed's "Test 1: Standalone Mode" (seed/phase2-event-broadcasting.en.md),
# verbatim but for the port: the embedded default on a free loopback port.
# Usage: seed_test1.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
# -v: each append is a debug message since issue 17 (a summary a minute
# at info); the seed's test reads the per-append line.
pl_start "$1" -v
PORT=${PL_BASE##*:}

out=$(
# ---- verbatim from the seed, localhost:8000 -> localhost:$PORT ----
# Test detection
curl -X POST http://localhost:$PORT/api/edge/detection \
  -H "Content-Type: application/json" \
  -d '{
    "edge_id": "edge-1",
    "plate_id": "29A12345",
    "plate_view": "29A-123.45",
    "camera_type": "car",
    "direction": "ENTRY",
    "confidence": 0.95
  }'
echo
# Test open barrier
curl -X POST http://localhost:$PORT/api/edge/barrier/open \
  -H "Content-Type: application/json" \
  -d '{
    "edge_id": "edge-1",
    "plate_id": "29A12345",
    "action": "open"
  }'
echo
# Check history
curl http://localhost:$PORT/api/parking/history
# ---- end of the seed's commands ----
)
echo "$out"
/usr/bin/python3 - "$out" <<'PY' || pl_fail "responses do not match the seed's shapes"
import json, re, sys
det, opn, hist = [json.loads(l) for l in sys.argv[1].strip().split("\n")]
assert det["success"] is True and det["allowed"] is True, det
vi = det["vehicle_info"]
assert vi["plate_id"] == "29A12345" and vi["plate_view"] == "29A-123.45", vi
assert vi["already_inside"] is False, vi
assert opn["success"] is True and opn["action"] == "ENTRY", opn
assert re.fullmatch(r"central-1_\d{13}_29A12345", opn["event_id"]), opn
assert hist["success"] is True and hist["count"] == 1, hist
row = hist["history"][0]
assert row["event_id"] == opn["event_id"] and row["plate_view"] == "29A-123.45", row
assert row["status"] == "IN" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", row["entry_time"]), row
assert hist["stats"]["vehicles_in_parking"] == 1, hist
PY
grep -q "Appended ENTRY_PENDING: 29A-123.45 (central-1_" "$PL_LOG" || pl_fail "no 'Appended' message"
grep -q "any edge id is accepted without a token" "$PL_LOG" || pl_fail "no open-edges notice"
kill -TERM "$PL_PID"
rc=0; wait "$PL_PID" || rc=$?
PL_PID=""
[ "$rc" = 0 ] || pl_fail "SIGTERM: exit status $rc"
echo "PASS seed test 1"
