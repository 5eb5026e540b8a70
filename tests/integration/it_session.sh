#!/usr/bin/env bash
# GET /api/parking/session/{id}: the session row and the events it is made
# of (entry, confirmation, exit), as stored; 404 for an unknown id, 400 for
# a malformed one.
# Usage: it_session.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
pl_start "$1"
post() { curl -fsS -X POST "$PL_BASE/api/edge/barrier/$1" -d "{\"edge_id\":\"$2\",\"plate_id\":\"29A33333\",\"action\":\"$1\"}"; }
id=$(post open edge-1 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["event_id"])')
post close edge-1 >/dev/null
post open edge-8 >/dev/null	# another gate: not a retry of the first open
curl -fsS "$PL_BASE/api/parking/session/$id" | /usr/bin/python3 -c '
import json, sys
o = json.load(sys.stdin)
types = [e["type"] for e in o["events"]]
assert o["success"] and o["session"]["status"] == "OUT", o
assert types == ["ENTRY_PENDING", "ENTRY_CONFIRMED", "EXIT"], types
assert all(e["session"] == sys.argv[1] for e in o["events"]), o
' "$id" || pl_fail "session $id"
code=$(curl -s -o /dev/null -w '%{http_code}' "$PL_BASE/api/parking/session/central-1_1_29A99999")
[ "$code" = 404 ] || pl_fail "unknown session: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$PL_BASE/api/parking/session/bad%20id")
[ "$code" = 400 ] || pl_fail "malformed id: $code"
echo "PASS session details"
