# tests/cluster/lib.sh — several parklogd on loopback ports, for bash tests.
# Usage: . lib.sh PARKLOGD [PARKLOG]; cl_ports 1 2 3; cl_conf 1 2; cl_start 1 ...
# Centrals are numbered: central-N, data $CL_TMP/dN, log $CL_TMP/N.log.
# Everything started is killed and removed on exit.
set -eu
CL_BIN=$1
CL_CLI=${2:-}
CL_PY=/usr/bin/python3
CL_SECRET=cluster-test-secret-0123456789
CL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/parklog-cluster.XXXXXX")
declare -A CL_PID CL_HTTP CL_P2P CL_GATES
cl_cleanup() {
	for n in "${!CL_PID[@]}"; do
		kill -CONT "${CL_PID[$n]}" 2>/dev/null || true
		kill -9 "${CL_PID[$n]}" 2>/dev/null || true
	done
	rm -rf "$CL_TMP"
}
trap cl_cleanup EXIT

cl_free_port() {
	$CL_PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# cl_ports N...: fresh http, p2p and gates ports for each central.
cl_ports() {
	for n in "$@"; do
		CL_HTTP[$n]=$(cl_free_port); CL_P2P[$n]=$(cl_free_port); CL_GATES[$n]=$(cl_free_port)
	done
}

# cl_conf N PEER...: write $CL_TMP/N.json with the given peers.
cl_conf() {
	local n=$1; shift
	local peers="" sep=""
	for p in "$@"; do
		peers="$peers$sep{\"id\":\"central-$p\",\"address\":\"127.0.0.1:${CL_P2P[$p]}\"}"
		sep=","
	done
	cat > "$CL_TMP/$n.json" <<JSON
{"id":"central-$n","data_dir":"$CL_TMP/d$n","http":"127.0.0.1:${CL_HTTP[$n]}",
 "p2p":"127.0.0.1:${CL_P2P[$n]}","gates":"127.0.0.1:${CL_GATES[$n]}","durability":"none","peer_secret":"$CL_SECRET",
 "peers":[$peers]}
JSON
}

cl_url() { echo "http://127.0.0.1:${CL_HTTP[$1]}"; }

# cl_start N: start central-N with its config; wait for /healthz.
cl_start() {
	local n=$1
	"$CL_BIN" -f "$CL_TMP/$n.json" 2>>"$CL_TMP/$n.log" &
	CL_PID[$n]=$!
	for _ in $(seq 1 100); do
		if curl -fsS "$(cl_url "$n")/healthz" >/dev/null 2>&1; then return 0; fi
		kill -0 "${CL_PID[$n]}" 2>/dev/null || cl_fail "central-$n exited early"
		sleep 0.1
	done
	cl_fail "central-$n did not answer /healthz"
}

cl_stop() {
	local n=$1
	kill -TERM "${CL_PID[$n]}"
	wait "${CL_PID[$n]}" || cl_fail "central-$n: SIGTERM exit status $?"
	unset "CL_PID[$n]"
}

cl_fail() {
	echo "FAIL: $*" >&2
	for f in "$CL_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

# cl_open N PLATE [EDGE]: barrier/open at central-N; prints the JSON answer.
cl_open() {
	curl -fsS -X POST "$(cl_url "$1")/api/edge/barrier/open" \
		-H "Content-Type: application/json" \
		-d "{\"edge_id\":\"${3:-edge-$1}\",\"plate_id\":\"$2\",\"action\":\"open\"}"
}

# cl_status N: /api/p2p/status of central-N.
cl_status() { curl -fsS "$(cl_url "$1")/api/p2p/status"; }

# cl_converged N...: every central shows the same vector and state digest.
cl_converged() {
	local args=()
	for n in "$@"; do args+=("$(cl_status "$n")"); done
	$CL_PY - "${args[@]}" <<'PY'
import json, sys
st = [json.loads(a) for a in sys.argv[1:]]
key = lambda s: ({k: v for k, v in s["vector"].items() if v[0] > 0}, s["state_digest"])
sys.exit(0 if all(key(s) == key(st[0]) for s in st) else 1)
PY
}

# cl_wait SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
cl_wait() {
	local t=$1; shift
	for _ in $(seq 1 $((t * 5))); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	return 1
}

# cl_history_has N PLATE [STATUS]: central-N's history holds the plate.
cl_history_has() {
	curl -fsS "$(cl_url "$1")/api/parking/history?limit=1000" | $CL_PY -c '
import json, sys
h = json.load(sys.stdin)["history"]
rows = [r for r in h if r.get("plate_id") == sys.argv[1]]
want = sys.argv[2] if len(sys.argv) > 2 else None
sys.exit(0 if rows and (want is None or any(r.get("status") == want for r in rows)) else 1)
' "$2" ${3:+"$3"}
}
