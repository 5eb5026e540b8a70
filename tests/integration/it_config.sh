#!/usr/bin/env bash
# parklogd's configuration: -n with good and bad files (messages
# "file: key: message", exit 1, nothing started), flags, the seed's
# p2p_config.json shape, and the refusal to listen beyond loopback without
# tokens. Usage: it_config.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
bin=$1
cd "$PL_TMP"

expect() {	# expect STATUS STDERR-REGEX -- args...
	want=$1 re=$2; shift 3
	rc=0; "$bin" "$@" >out.txt 2>err.txt || rc=$?
	[ "$rc" = "$want" ] || { cat out.txt err.txt; pl_fail "parklogd $*: status $rc, want $want"; }
	grep -Eq "$re" err.txt out.txt || { cat out.txt err.txt; pl_fail "parklogd $*: no /$re/"; }
}

cat >good.json <<'JSON'
{"id": "central-2", "data_dir": "./d2", "http": "127.0.0.1:8123",
 "edges": [{"id": "gate-1", "direction": "ENTRY", "token": "token-gate-1-0123456789"},
           {"id": "gate-2", "direction": "EXIT", "token": "token-gate-2-0123456789"}],
 "tariff": {"name": "q4", "classes": {"moto": {"mode": "per_visit", "free_min": 10,
   "day": 5000, "night": 10000, "day_start": "06:00", "night_start": "18:00"}}},
 "limits": {"idempotency_window_ms": 5000}}
JSON
cat >seed.json <<'JSON'
{"this_central": {"id": "central-1", "ip": "127.0.0.1", "p2p_port": 9000, "api_port": 8000},
 "peer_centrals": [{"id": "central-2", "ip": "127.0.0.1", "p2p_port": 9001}]}
JSON
printf '{"edges": [{"id": "gate-1", "direction": "SIDEWAYS"}]}' >bad_dir.json
printf '{"id": "central-1", ' >bad_json.json
printf '{"limits": {"max_header": 1024}}' >bad_header.json
printf '{"limits": {"max_header": 16384}}' >good_header.json
printf '{"edges": [{"id": "g1", "token": "token-g1-0123456789"}], "http": "0.0.0.0:8000", "colour": 1}' >bad_key.json
printf '{"http": "0.0.0.0:8000"}' >exposed.json
# time: the edge_ts bounds (docs/time.md)
printf '{"time": {"skew_ms": 500, "offline_horizon_s": 3600, "max_drift_ms": 1000}}' >time_ok.json
printf '{"time": {"skew_ms": 0}}' >time_skew.json
printf '{"time": {"offline_horizon_s": 2592001}}' >time_horizon.json
printf '{"time": {"max_drift_ms": 99}}' >time_drift.json
printf '{"time": {"skew": 500}}' >time_key.json

expect 0 'configuration OK' -- -n
expect 0 'good.json: configuration OK' -- -n -f good.json
expect 0 'seed.json: configuration OK' -- -n -f seed.json
expect 1 '^parklogd: bad_dir.json: edges\[0\]\.direction: expected' -- -n -f bad_dir.json
expect 1 '^parklogd: bad_json.json: ' -- -n -f bad_json.json
expect 1 '^parklogd: bad_header.json: limits\.max_header: ' -- -n -f bad_header.json
expect 0 'good_header.json: configuration OK' -- -n -f good_header.json
expect 1 '^parklogd: bad_key.json: colour: ' -- -n -f bad_key.json
expect 1 '^parklogd: missing.json: ' -- -n -f missing.json
expect 0 'time_ok.json: configuration OK' -- -n -f time_ok.json
expect 1 '^parklogd: time_skew.json: time\.skew_ms: ' -- -n -f time_skew.json
expect 1 '^parklogd: time_horizon.json: time\.offline_horizon_s: ' -- -n -f time_horizon.json
expect 1 '^parklogd: time_drift.json: time\.max_drift_ms: ' -- -n -f time_drift.json
expect 1 '^parklogd: time_key.json: time\.skew: ' -- -n -f time_key.json
expect 1 '^parklogd: --http: ' -- -n --http nonsense
expect 1 '^parklogd: --id: ' -- -n --id 'bad_id'
expect 1 '^parklogd: --durability: ' -- -n --durability sometimes
expect 1 '^usage: ' -- -x
# beyond loopback without tokens: refused, and nothing was started
port=$(pl_free_port)
expect 1 'exposed.json: http: listening on 0.0.0.0 .*token' -- -f exposed.json --http "0.0.0.0:$port" --data "$PL_TMP/x"
expect 1 'http: listening on 0.0.0.0 .*token' -- --http "0.0.0.0:$port" --data "$PL_TMP/x"
[ ! -e "$PL_TMP/x" ] || pl_fail "a refused start created its data directory"
if curl -s "http://127.0.0.1:$port/healthz" >/dev/null; then pl_fail "something listens"; fi
# flags override the file: the good file with another port serves there
pl_start "$bin" -f good.json
curl -fsS "$PL_BASE/healthz" | grep -q '"this_central":"central-2"' || pl_fail "id from file"
grep -q 'listening on http://127.0.0.1:'"${PL_BASE##*:}" "$PL_LOG" || pl_fail "listening message"
kill -TERM "$PL_PID"; rc=0; wait "$PL_PID" || rc=$?; PL_PID=""
[ "$rc" = 0 ] || pl_fail "exit status $rc after SIGTERM"
echo "PASS it_config"
