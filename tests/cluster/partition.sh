#!/usr/bin/env bash
# Partition and heal. (a) central-2 paused (kill -STOP) while central-1 takes
# gates: the dead link shows within seconds, catch-up after kill -CONT.
# (b) the link cut (SIGHUP with no peers) while both sides take entries and
# exits, the same plate entering on both; after healing (SIGHUP with the
# peers again) both show equal vectors, state digests and occupancy, and the
# double entry as a DOUBLE_ENTRY conflict.
# Usage: partition.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
cl_ports 1 2
cl_conf 1 2
cl_conf 2 1
cl_start 1
cl_start 2
for i in 1 2 3; do cl_open 1 "10A0000$i" >/dev/null; cl_open 2 "20B0000$i" >/dev/null; done
cl_wait 10 cl_converged 1 2 || cl_fail "no initial convergence"

peer_connected() {	# N PEER_ID 0|1
	cl_status "$1" | $CL_PY -c '
import json, sys
p = [p for p in json.load(sys.stdin)["peers"] if p["peer_id"] == sys.argv[1]][0]
sys.exit(0 if bool(p["connected"]) == (sys.argv[2] == "1") else 1)' "$2" "$3"
}

# (a) pause central-2
kill -STOP "${CL_PID[2]}"
for i in 4 5 6; do cl_open 1 "10A0000$i" >/dev/null; done
cl_wait 15 peer_connected 1 central-2 0 || { kill -CONT "${CL_PID[2]}"; cl_fail "dead link not noticed"; }
kill -CONT "${CL_PID[2]}"
cl_wait 20 cl_converged 1 2 || cl_fail "no catch-up after the pause"

# (b) cut the link on both sides, keep both taking gates
cl_conf 1
cl_conf 2
kill -HUP "${CL_PID[1]}" "${CL_PID[2]}"
cl_wait 10 peer_connected 1 central-2 0 2>/dev/null || true
sleep 1
cl_open 1 99X12345 >/dev/null
sleep 0.05
cl_open 2 99X12345 >/dev/null			# the same plate, the other side
for i in 7 8; do cl_open 1 "10A0000$i" >/dev/null; cl_open 2 "20B0000$i" >/dev/null; done
cl_open 2 10A00001 >/dev/null			# exit at 2 of an entry made at 1
cl_open 1 20B00001 >/dev/null			# and the other way
cl_converged 1 2 && cl_fail "converged during the partition?"

# heal
cl_conf 1 2
cl_conf 2 1
kill -HUP "${CL_PID[1]}" "${CL_PID[2]}"
cl_wait 30 cl_converged 1 2 || cl_fail "no convergence after healing"
for n in 1 2; do
	curl -fsS "$(cl_url $n)/api/parking/conflicts" | $CL_PY -c '
import json, sys
c = json.load(sys.stdin)["conflicts"]
assert any(r["plate_id"] == "99X12345" and "DOUBLE_ENTRY" in r.get("flags", []) for r in c), c
' || cl_fail "central-$n shows no DOUBLE_ENTRY for 99X12345"
done
s1=$(curl -fsS "$(cl_url 1)/api/stats") s2=$(curl -fsS "$(cl_url 2)/api/stats")
$CL_PY - "$s1" "$s2" <<'PY' || cl_fail "occupancy differs"
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:])
assert a["vehicles_in_parking"] == b["vehicles_in_parking"] == 3 + 3 + 3 + 2 + 2 + 1 - 2, (a, b)
PY
cl_stop 2
cl_stop 1
echo "PASS partition and heal"
