#!/usr/bin/env bash
# Issue 14: operator changes are replicated events. Two real parklogd with
# the same config tariff (each seeds a TARIFF_SET; they converge on one) and
# operator accounts (viewer, operator, admin).
# (a) misread: a car enters at central-1 as 29A12345, its exit at central-2
#     is read 29A12845 (an orphan exit); the "did you mean" candidates name
#     29A12345; the operator corrects the exit's plate on central-1; on both
#     centrals the exit then closes 29A12345's session with the tariff's fee,
#     29A12345 is not inside and no 29A12845 row is left.
# (b) a pass issued on central-1 makes an exit on central-2 free once
#     replicated (the history names the pass); a pass revoked before the exit
#     does not.
# (c) a TARIFF_SET on central-1: an exit on central-2 is priced by it, and
#     both centrals show the same fee_tariff and state digest.
# (d) roles: a viewer may not correct, an operator may not set the tariff;
#     whoami names the account, and events name it too.
# Usage: ops.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
cl_ports 1 2
cl_conf 1 2
cl_conf 2 1
add_ops_conf() {	# N: tariff and accounts into N's config
	$CL_PY - "$CL_TMP/$1.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["tariff"] = {"name": "t-conf", "unknown_entry_fee": 50000,
    "classes": {"default": {"mode": "hourly", "free_min": 0, "per_hour": 30000}}}
c["operators"] = [
    {"name": "vy", "token": "tok-viewer-0123456789abcdef", "role": "viewer"},
    {"name": "lan", "token": "tok-operator-0123456789abcd", "role": "operator"},
    {"name": "boss", "token": "tok-admin-0123456789abcdef0", "role": "admin"}]
json.dump(c, open(p, "w"))
PY
}
add_ops_conf 1
add_ops_conf 2
cl_start 1
cl_start 2
VIEW="Authorization: Bearer tok-viewer-0123456789abcdef"
OP="Authorization: Bearer tok-operator-0123456789abcd"
ADMIN="Authorization: Bearer tok-admin-0123456789abcdef0"

get() { curl -fsS -H "$OP" "$(cl_url "$1")$2"; }
# lib.sh's, with a token: the operator API needs one here
cl_status() { curl -fsS -H "$VIEW" "$(cl_url "$1")/api/p2p/status"; }
post() {	# N PATH JSON AUTH -> body; HTTP status in $CODE
	local out
	out=$(curl -sS -o /dev/stdout -w '\n%{http_code}' -X POST -H "$4" \
		-H "Content-Type: application/json" -d "$3" "$(cl_url "$1")$2")
	CODE=${out##*$'\n'}
	echo "${out%$'\n'*}"
}
py() { $CL_PY -c "$@"; }
converged() {
	cl_wait 20 cl_converged 1 2 || cl_fail "$1: centrals did not converge"
}
# row N PLATE FIELD: FIELD of the plate's newest history row on central-N
row() {
	get "$1" "/api/parking/history?limit=1000" | py '
import json, sys
rows = [r for r in json.load(sys.stdin)["history"] if r["plate_id"] == sys.argv[1]]
print(json.dumps(rows[0].get(sys.argv[2])) if rows else "NOROW")' "$2" "$3"
}
inside() { get "$1" /api/parking/state | grep -q "\"plate_id\":\"$2\""; }
# leave N PLATE: an exit at central-N (the seed's Phase 1 event: an exit even
# for a plate not inside); prints the fee charged
leave() {
	curl -fsS -X POST "$(cl_url "$1")/api/edge/event" -H "Content-Type: application/json" \
		-d "{\"type\":\"EXIT\",\"camera_id\":9,\"camera_name\":\"Exit\",\"camera_type\":\"car\",\"event_id\":\"x-$2-$RANDOM\",\"data\":{\"plate_text\":\"$2\"}}" |
		py 'import json,sys; print(json.load(sys.stdin).get("fee"))'
}

# both seeded; one tariff in force on both
converged "seed"
for n in 1 2; do
	get "$n" /api/ops/tariff | py 'import json,sys; t=json.load(sys.stdin)
assert t["in_force"] == "t-conf", t' || cl_fail "central-$n: tariff not seeded"
done

# (d) roles
[ "$(get 1 /api/auth/whoami | py 'import json,sys; print(json.load(sys.stdin)["account"])')" = lan ] ||
	cl_fail "whoami"
post 1 /api/ops/void '{"session":"x","reason":"r"}' "$VIEW" >/dev/null
[ "$CODE" = 403 ] || cl_fail "viewer may void ($CODE)"
post 1 /api/ops/tariff '{"tariff":{"name":"t-x"},"reason":"r"}' "$OP" >/dev/null
[ "$CODE" = 403 ] || cl_fail "operator may set the tariff ($CODE)"

# (a) the misread
cl_open 1 29A12345 >/dev/null
converged "entry"
sleep 1
leave 2 29A12845 >/dev/null
converged "misread exit"
inside 1 29A12345 || cl_fail "29A12345 should be inside before the correction"
[ "$(row 2 29A12845 flags)" != NOROW ] || cl_fail "no orphan row"
exit_id=$(row 2 29A12845 id | tr -d '"')
get 1 "/api/ops/candidates?plate=29A12845" | grep -q '"29A12345"' ||
	cl_fail "did-you-mean misses 29A12345"
post 1 /api/ops/correct "{\"event_id\":\"$exit_id\",\"plate\":\"29A12345\",\"reason\":\"camera read 3 as 8\"}" "$OP" >/dev/null
[ "$CODE" = 200 ] || cl_fail "correct: $CODE"
converged "correction"
for n in 1 2; do
	! inside "$n" 29A12345 || { get "$n" /api/parking/state; get "$n" "/api/parking/history?limit=100"; cl_fail "central-$n: 29A12345 still inside"; }
	[ "$(row "$n" 29A12845 id)" = NOROW ] || cl_fail "central-$n: a 29A12845 row is left"
	[ "$(row "$n" 29A12345 status)" = '"OUT"' ] || cl_fail "central-$n: session not closed"
	[ "$(row "$n" 29A12345 fee_tariff)" = 30000 ] ||
		cl_fail "central-$n: fee_tariff $(row "$n" 29A12345 fee_tariff), want 30000"
	get "$n" "/api/parking/history/changes" | grep -q '"operator":"lan"' ||
		cl_fail "central-$n: the change does not name its operator"
done

# (a') the same misread, fixed from the console's "did you mean": the
# orphan exit linked to the session it belongs to (exit_id + session)
cl_open 2 30K55555 >/dev/null
converged "entry 2"
sleep 1
leave 1 30K55855 >/dev/null
converged "misread exit 2"
exit2=$(row 1 30K55855 id | tr -d '"')
sess2=$(get 1 "/api/ops/candidates?plate=30K55855" | py '
import json, sys
c = [c for c in json.load(sys.stdin)["candidates"] if c["plate_id"] == "30K55555"]
print(c[0]["session"] if c else "")')
[ -n "$sess2" ] || cl_fail "did-you-mean misses 30K55555"
post 2 /api/ops/correct "{\"exit_id\":\"$exit2\",\"session\":\"$sess2\",\"reason\":\"linked in the console\"}" "$OP" >/dev/null
[ "$CODE" = 200 ] || cl_fail "link: $CODE"
converged "link"
for n in 1 2; do
	! inside "$n" 30K55555 || cl_fail "central-$n: 30K55555 still inside after the link"
	[ "$(row "$n" 30K55855 id)" = NOROW ] || cl_fail "central-$n: a 30K55855 row is left"
	[ "$(row "$n" 30K55555 fee_tariff)" = 30000 ] || cl_fail "central-$n: linked fee"
done
post 2 /api/ops/correct "{\"exit_id\":\"$exit2\",\"session\":\"$sess2\",\"reason\":\"again\"}" "$OP" >/dev/null
[ "$CODE" = 409 ] || cl_fail "a second link of the same exit: $CODE, want 409"

# (b) passes
now=$(date +%s%3N)
post 1 /api/ops/pass "{\"plate\":\"51F11111\",\"valid_from_ms\":$((now - 3600000)),\"valid_to_ms\":$((now + 86400000)),\"reason\":\"monthly\"}" "$OP" >/dev/null
[ "$CODE" = 200 ] || cl_fail "pass: $CODE"
post 1 /api/ops/pass "{\"plate\":\"51F22222\",\"pass\":\"p-rev\",\"valid_from_ms\":$((now - 3600000)),\"valid_to_ms\":$((now + 86400000)),\"reason\":\"monthly\"}" "$OP" >/dev/null
post 1 /api/ops/pass/revoke '{"plate":"51F22222","pass":"p-rev","reason":"refund"}' "$OP" >/dev/null
[ "$CODE" = 200 ] || cl_fail "revoke: $CODE"
converged "passes"
for p in 51F11111 51F22222; do cl_open 2 "$p" >/dev/null; done
sleep 1
fee1=$(leave 2 51F11111)
fee2=$(leave 2 51F22222)
[ "$fee1" = 0 ] || cl_fail "exit inside a pass charged $fee1"
[ "$fee2" = 30000 ] || cl_fail "exit after a revoked pass charged $fee2"
converged "pass exits"
for n in 1 2; do
	[ "$(row "$n" 51F11111 pass)" != null ] || cl_fail "central-$n: history names no pass"
	[ "$(row "$n" 51F11111 fee_tariff)" = 0 ] || cl_fail "central-$n: pass exit fee_tariff"
done

# (c) a tariff from now on, set on central-1, prices an exit on central-2
cl_open 2 60C33333 >/dev/null
post 1 /api/ops/tariff '{"tariff":{"name":"t-new","classes":{"default":{"mode":"hourly","free_min":0,"per_hour":40000}}},"reason":"new prices"}' "$ADMIN" >/dev/null
[ "$CODE" = 200 ] || cl_fail "tariff: $CODE"
converged "tariff"
sleep 1
fee3=$(leave 2 60C33333)
[ "$fee3" = 40000 ] || cl_fail "exit after the TARIFF_SET charged $fee3, want 40000"
converged "tariff exit"
[ "$(row 1 60C33333 fee_tariff)" = "$(row 2 60C33333 fee_tariff)" ] &&
	[ "$(row 1 60C33333 fee_tariff)" = 40000 ] || cl_fail "centrals price the exit differently"
# (e) the seed's shapes: DELETE /api/parking/history/{id} voids a ghost
# entry (on both, not inside, shown VOIDED); PUT /api/staff (admin) is a
# replicated setting; /api/subscriptions lists the passes
cl_open 1 77G77777 >/dev/null
converged "ghost"
ghost=$(row 2 77G77777 id | tr -d '"')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "$OP" "$(cl_url 2)/api/parking/history/$ghost")
[ "$code" = 200 ] || cl_fail "DELETE history: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "$ADMIN" -H "Content-Type: application/json" \
	-d '{"staff":[{"id":1,"name":"Lan","shift":"Ca ngày","status":"active"}]}' "$(cl_url 1)/api/staff")
[ "$code" = 200 ] || cl_fail "PUT staff: $code"
converged "void and staff"
for n in 1 2; do
	! inside "$n" 77G77777 || cl_fail "central-$n: the voided ghost is inside"
	row "$n" 77G77777 flags | grep -q VOIDED || cl_fail "central-$n: ghost not shown VOIDED"
	get "$n" /api/staff | grep -q '"Lan"' || cl_fail "central-$n: staff not replicated"
	get "$n" /api/subscriptions | grep -q '"plate_number":"51F11111"' ||
		cl_fail "central-$n: subscriptions miss the pass"
done

# the auditor's tool: dump shows the operator events, sessions the
# corrected and pass rows as such (read-only, beside the running central)
if [ -n "$CL_CLI" ]; then
	"$CL_CLI" dump "$CL_TMP/d2" --type PLATE_CORRECTED | grep -q '"operator":"lan"' ||
		cl_fail "parklog dump: no PLATE_CORRECTED by lan"
	"$CL_CLI" dump "$CL_TMP/d2" --format csv | grep -q 'PASS_REVOKED.*refund' ||
		cl_fail "parklog dump --format csv: no PASS_REVOKED with its reason"
	"$CL_CLI" sessions "$CL_TMP/d2" --plate 29A12345 | grep -q '"CORRECTED"' ||
		cl_fail "parklog sessions: the corrected session is not shown as such"
	"$CL_CLI" sessions "$CL_TMP/d2" --plate 51F11111 | grep -q '"pass":' ||
		cl_fail "parklog sessions: the pass exit names no pass"
fi
echo "ok: operator changes replicate and fold alike"
