#!/usr/bin/env bash
# tests/cluster/nats_export.sh PARKLOGD PARKLOG — the export to NATS
# JetStream and `parklog hq` with real servers on loopback (docs/export.md):
# a three-node nats-server cluster (R3 streams), two facilities of two
# centrals each exporting, then kill -9 of a central during export, a NATS
# node stopped and started again, central-3's network to NATS cut (through a
# relay we stop) and restored. Afterwards each facility's stream holds every
# event of the facility exactly once (JetStream's count = the facility's
# event count = the distinct ids the HQ counted) and the HQ's totals equal
# the sum of the facilities' own /api/stats.
DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/lib.sh" "$1" "${2:-}"
command -v nats-server >/dev/null || { echo "SKIP: no nats-server"; exit 77; }
declare -A NS_PID NS_C NS_R NS_M
RELAY_PID=""
nats_cleanup() {
	for k in "${!NS_PID[@]}"; do kill -9 "${NS_PID[$k]}" 2>/dev/null || true; done
	[ -z "$RELAY_PID" ] || kill -9 "$RELAY_PID" 2>/dev/null || true
	[ -z "${HQ_PID:-}" ] || kill -9 "$HQ_PID" 2>/dev/null || true
	cl_cleanup
}
trap nats_cleanup EXIT

for i in 1 2 3; do NS_C[$i]=$(cl_free_port); NS_R[$i]=$(cl_free_port); NS_M[$i]=$(cl_free_port); done
ns_start() {
	local i=$1 routes="" sep=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] && continue
		routes="$routes${sep}nats://127.0.0.1:${NS_R[$j]}"; sep=","
	done
	# --no_advertise: clients keep to their configured URLs (the relay
	# stays the only path of central-3)
	nats-server -n "n$i" -a 127.0.0.1 -p "${NS_C[$i]}" -m "${NS_M[$i]}" -js \
		-sd "$CL_TMP/ns$i" --cluster_name pl --cluster "nats://127.0.0.1:${NS_R[$i]}" \
		--routes "$routes" --no_advertise >>"$CL_TMP/ns$i.log" 2>&1 &
	NS_PID[$i]=$!
}
jsz() { curl -fsS "http://127.0.0.1:${NS_M[$1]}/jsz?streams=true&config=true"; }
meta_ok() { jsz "$1" | $CL_PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get("meta_cluster",{}).get("leader") else 1)'; }
for i in 1 2 3; do ns_start $i; done
for i in 1 2 3; do cl_wait 30 meta_ok $i || cl_fail "nats n$i: no JetStream meta leader"; done

RELAY=$(cl_free_port)
relay_start() { $CL_PY "$DIR/nats_proxy.py" "$RELAY" "${NS_C[1]}" & RELAY_PID=$!; sleep 0.3; }
relay_start

# central N of facility F, exporting to URLS
cl_ports 1 2 3 4
TARIFF='{"name":"t","classes":{"default":{"mode":"hourly","free_min":0,"per_hour":7000}}}'
conf_export() {
	local n=$1 fac=$2 urls=$3
	$CL_PY - "$CL_TMP/$n.json" "$fac" "$urls" "$TARIFF" <<'PY'
import json, sys
p, fac, urls, tariff = sys.argv[1:5]
c = json.load(open(p))
c["tariff"] = json.loads(tariff)
c["limits"] = {"idempotency_window_ms": 0}   # the exits follow within seconds
c["export"] = {"nats": {"servers": urls.split(","), "facility": fac, "window": 256, "replicas": 3,
                        "ack_wait_ms": 2000}}
json.dump(c, open(p, "w"))
PY
}
ALL="nats://127.0.0.1:${NS_C[1]},nats://127.0.0.1:${NS_C[2]},nats://127.0.0.1:${NS_C[3]}"
cl_conf 1 2; cl_conf 2 1; cl_conf 3 4; cl_conf 4 3
conf_export 1 lot-a "$ALL"; conf_export 2 lot-a "$ALL"
conf_export 3 lot-b "nats://127.0.0.1:$RELAY"; conf_export 4 lot-b "$ALL"
"$CL_BIN" -n -f "$CL_TMP/1.json" >/dev/null || cl_fail "config with export refused"
for n in 1 2 3 4; do cl_start $n; done

HQ_PORT=$(cl_free_port)
"$CL_CLI" hq "$CL_TMP/hq" --nats "$ALL" --http "127.0.0.1:$HQ_PORT" \
	parklog-lot-a parklog-lot-b 2>>"$CL_TMP/hq.log" & HQ_PID=$!

traffic() { $CL_PY "$DIR/nats_traffic.py" "${CL_HTTP[$1]}" "edge-$1" "$2" "$3"; }
lag() { curl -fsS "$(cl_url "$1")/metrics" | awk '/^parklog_export_lag_events/ {print $2}'; }

# 1. every central writes; central-1 killed -9 in the middle of its export
TP=()
for n in 2 3 4; do traffic $n "P${n}A" 150 >/dev/null & TP+=($!); done
traffic 1 P1A 2000 >"$CL_TMP/t1.out" & T1=$!
sleep 1
exported() { curl -fsS "$(cl_url "$1")/metrics" | awk '/^parklog_export_events_total/ {print $2}'; }
before=$(exported 1)
kill -9 "${CL_PID[1]}"; wait "${CL_PID[1]}" 2>/dev/null || true; unset "CL_PID[1]"
wait $T1 || true
[ "${before:-0}" -gt 0 ] || cl_fail "central-1 had exported nothing before its kill"
cl_start 1
wait "${TP[@]}"

# 2. a NATS node stopped while the centrals write, then started again
kill -TERM "${NS_PID[2]}"; wait "${NS_PID[2]}" 2>/dev/null || true
TP=()
for n in 1 2 4; do traffic $n "P${n}B" 100 >/dev/null & TP+=($!); done
wait "${TP[@]}"
ns_start 2
cl_wait 30 meta_ok 2 || cl_fail "nats n2 did not rejoin"

# 3. central-3's network to NATS cut: it keeps serving, its export lags
kill -9 "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true; RELAY_PID=""
traffic 3 P3C 120 >/dev/null
traffic 4 P4C 60 >/dev/null
sleep 1
l=$(lag 3); [ "${l:-0}" -gt 0 ] || cl_fail "central-3: no export lag while cut off ($l)"
curl -fsS "$(cl_url 3)/api/p2p/status" | grep -q '"connected":false' ||
	cl_fail "central-3: export not shown disconnected"
relay_start

# every central has exported everything, each facility converged
lag0() { for n in 1 2 3 4; do [ "$(lag $n)" = 0 ] || return 1; done; }
cl_wait 60 lag0 || cl_fail "export lag did not return to 0: $(for n in 1 2 3 4; do lag $n; done)"
cl_wait 30 cl_converged 1 2 || cl_fail "lot-a did not converge"
cl_wait 30 cl_converged 3 4 || cl_fail "lot-b did not converge"
cl_wait 30 lag0 || cl_fail "export lag after convergence"
# central-1 resumed after its stored position: since its restart it exported
# fewer events than its log holds (from 0 it would be all of them)
after=$(exported 1) held=$(cl_status 1 | $CL_PY -c 'import json,sys; print(sum(v[0] for v in json.load(sys.stdin)["vector"].values()))')
[ "$after" -lt "$held" ] || cl_fail "central-1 exported $after of $held after its restart: not resumed"
echo "central-1: $before exported before kill -9, $after of $held after the restart"

# The check, as a script: the followers' replicas apply a message after
# the quorum's ack, so one look at three /jsz may catch one behind: look
# again (bounded) until they agree or the time is up.
cat >"$CL_TMP/nats_check.py" <<'PY'
import json, sys, time, urllib.request
sa, sb, jz1, jz2, jz3, ra, rb = (json.loads(x) for x in sys.argv[1:8])
port = int(sys.argv[8])
count = lambda s: sum(v[0] for v in s["vector"].values())
want = {"parklog-lot-a": count(sa), "parklog-lot-b": count(sb)}
details = [s for jz in (jz1, jz2, jz3) for a in jz.get("account_details", [])
           for s in a.get("stream_detail", [])]
js = {}
for s in details:   # every node holds a replica: each must have them all
    js.setdefault(s["name"], set()).add(s["state"]["messages"])
js = {k: v.pop() if len(v) == 1 else sorted(v) for k, v in js.items()}
print("facility events", want, "JetStream", js)
assert all(js.get(k) == v for k, v in want.items()), "JetStream count != facility events"
assert len(details) == 6, "every node holds both streams (R3)"
for d in details:
    assert d["config"]["num_replicas"] == 3, d["config"]
deadline = time.time() + 30
while True:
    hq = json.load(urllib.request.urlopen("http://127.0.0.1:%d/api/hq/summary" % port))
    if hq["events"] == sum(want.values()) or time.time() > deadline:
        break
    time.sleep(0.3)
print("hq", json.dumps(hq["total"]), "events", hq["events"])
assert hq["events"] == sum(want.values()), "HQ distinct ids != events"
for fac, r in (("lot-a", ra), ("lot-b", rb)):
    f = hq["facilities"][fac]
    got = (f["inside"], f["today"]["entries"], f["today"]["exits"], f["today"]["revenue"])
    exp = (r["vehicles_in_parking"], r["entries_today"], r["exits_today"], r["revenue_today"])
    assert got == exp, (fac, got, exp)
t = hq["total"]
assert t["inside"] == ra["vehicles_in_parking"] + rb["vehicles_in_parking"]
assert t["today"]["revenue"] == ra["revenue_today"] + rb["revenue_today"] > 0
print("ok")
PY
ok=0
for _ in $(seq 1 20); do
	if $CL_PY "$CL_TMP/nats_check.py" "$(cl_status 1)" "$(cl_status 3)" "$(jsz 1)" "$(jsz 2)" \
		"$(jsz 3)" "$(curl -fsS "$(cl_url 1)/api/stats")" \
		"$(curl -fsS "$(cl_url 3)/api/stats")" "$HQ_PORT"; then ok=1; break; fi
	sleep 1
done
[ $ok = 1 ] || cl_fail "JetStream or HQ differ from the facilities"
echo "PASS nats_export"
