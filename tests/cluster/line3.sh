#!/usr/bin/env bash
# Three centrals in a line (1-2-3, no 1-3 link): events from 1 reach 3
# through 2 and back; all end with equal vectors and state digests.
# Usage: line3.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
cl_ports 1 2 3
cl_conf 1 2
cl_conf 2 1 3
cl_conf 3 2
for n in 1 2 3; do cl_start $n; done
for i in 1 2 3 4 5; do cl_open 1 "11A0000$i" >/dev/null; cl_open 3 "33C0000$i" >/dev/null; done
cl_wait 15 cl_history_has 3 11A00005 IN || cl_fail "central-3 never got central-1's entries"
cl_wait 15 cl_history_has 1 33C00005 IN || cl_fail "central-1 never got central-3's entries"
cl_open 3 11A00001 edge-3 >/dev/null		# exits at 3 of entries made at 1
cl_wait 15 cl_history_has 1 11A00001 OUT || cl_fail "the exit at 3 never reached 1"
cl_wait 15 cl_converged 1 2 3 || cl_fail "vectors or state digests differ"
cl_status 1 | $CL_PY -c '
import json, sys
s = json.load(sys.stdin)
assert [p["peer_id"] for p in s["peers"]] == ["central-2"], s   # no 1-3 link
' || cl_fail "central-1 has a link it should not have"
for n in 3 2 1; do cl_stop $n; done
echo "PASS line of three"
