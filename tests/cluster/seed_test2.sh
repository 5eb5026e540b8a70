#!/usr/bin/env bash
# The seed's "Test 2: Multi-Central Mode" (seed/phase2-event-broadcasting.en.md)
# with two parklogd on loopback ports: entry at central-1, visible in
# central-2's history; exit at central-2 with the fee; the fee at central-1.
# Usage: seed_test2.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
cl_ports 1 2
cl_conf 1 2
cl_conf 2 1
cl_start 1
cl_start 2
C1=$(cl_url 1) C2=$(cl_url 2)

# ---- the seed's commands, 192.168.1.10N:8000 -> the loopback ports ----
# Entry at Central-1
curl -fsS -X POST $C1/api/edge/barrier/open \
  -H "Content-Type: application/json" \
  -d '{
    "edge_id": "edge-1",
    "plate_id": "29A12345",
    "action": "open"
  }' > "$CL_TMP/entry.json"
# Check that Central-2 synced it
cl_wait 10 cl_history_has 2 29A12345 IN || cl_fail "central-2 never showed the entry"
curl -fsS $C2/api/parking/history | grep -q 29A12345 || cl_fail "grep 29A12345 at central-2"
# Exit at Central-2
curl -fsS -X POST $C2/api/edge/barrier/open \
  -H "Content-Type: application/json" \
  -d '{
    "edge_id": "edge-8",
    "plate_id": "29A12345",
    "action": "open"
  }' > "$CL_TMP/exit.json"
# Check fee calculation
cl_wait 10 cl_history_has 1 29A12345 OUT || cl_fail "central-1 never showed the exit"
curl -fsS $C1/api/parking/history | grep -q 29A12345 || cl_fail "grep 29A12345 at central-1"
# ---- end of the seed's commands ----

$CL_PY - "$CL_TMP/entry.json" "$CL_TMP/exit.json" "$(curl -fsS "$C1/api/parking/history")" <<'PY' || cl_fail "answers do not match"
import json, sys
entry = json.load(open(sys.argv[1])); exit_ = json.load(open(sys.argv[2]))
hist = json.loads(sys.argv[3])
assert entry["success"] and entry["action"] == "ENTRY", entry
assert exit_["success"] and exit_["action"] == "EXIT" and "fee" in exit_, exit_
assert exit_["event_id"] == entry["event_id"], (entry, exit_)   # the session
row = [r for r in hist["history"] if r["plate_id"] == "29A12345"][0]
assert row["status"] == "OUT" and row["fee"] == exit_["fee"], row
PY
cl_wait 10 cl_converged 1 2 || cl_fail "vectors or state digests differ"
cl_status 1 | $CL_PY -c '
import json, sys
s = json.load(sys.stdin)
assert s["standalone_mode"] is False and s["connected_peers"] == 1, s
p = s["peers"][0]
assert p["peer_id"] == "central-2" and p["connected"] and p["events_received"] >= 1, p
' || cl_fail "p2p status of central-1"
cl_stop 2
cl_stop 1
echo "PASS seed test 2"
