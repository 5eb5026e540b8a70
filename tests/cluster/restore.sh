#!/usr/bin/env bash
# Restore from an old backup: central-1 restarted from an old `parklog
# backup` gets its lost events back from central-2, writes new events into a
# new stream, and no (stream, seq) is ever reused.
# Usage: restore.sh PARKLOGD PARKLOG
. "$(dirname "$0")/lib.sh"
[ -n "$CL_CLI" ] || cl_fail "usage: restore.sh PARKLOGD PARKLOG"
cl_ports 1 2
cl_conf 1 2
cl_conf 2 1
cl_start 1
cl_start 2
for i in 1 2 3; do cl_open 1 "10A0000$i" >/dev/null; done
cl_wait 10 cl_converged 1 2 || cl_fail "no initial convergence"
"$CL_CLI" backup "$CL_TMP/d1" "$CL_TMP/backup" >/dev/null || cl_fail "parklog backup"
for i in 4 5 6 7; do cl_open 1 "10A0000$i" >/dev/null; done	# lost by the restore
cl_wait 10 cl_converged 1 2 || cl_fail "central-2 did not get the later events"
before=$(cl_status 1)
cl_stop 1
rm -rf "$CL_TMP/d1"
cp -a "$CL_TMP/backup" "$CL_TMP/d1"
cl_start 1
cl_wait 20 cl_converged 1 2 || cl_fail "the restored central did not catch up"
cl_open 1 10A00008 >/dev/null
cl_wait 10 cl_converged 1 2 || cl_fail "no convergence after a new event"
after=$(cl_status 1)
"$CL_CLI" dump "$CL_TMP/d2" > "$CL_TMP/dump2" 2>/dev/null || cl_fail "parklog dump"
$CL_PY - "$before" "$after" "$CL_TMP/dump2" <<'PY' || cl_fail "streams after the restore"
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
old, new = before["own_stream"], after["own_stream"]
assert old != new, (old, new)                           # a new epoch
assert after["vector"][old] == before["vector"][old], (before, after)  # tail back
assert after["vector"][new][0] >= 1, after
seen = set()
for line in open(sys.argv[3]):
    e = json.loads(line)
    k = (e["stream"], e["seq"])
    assert k not in seen, k                             # never reused
    seen.add(k)
assert any(e == (new, 1) for e in seen), seen
PY
cl_stop 2
cl_stop 1
echo "PASS restore from an old backup"
