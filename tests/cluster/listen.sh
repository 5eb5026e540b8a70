#!/usr/bin/env bash
# The peer listener binds what it is told (issue 12, item 2): 127.0.0.1:P
# binds 127.0.0.1 only (lws binds `::`, every interface, unless IPv6 is
# off), "localhost:P" binds 127.0.0.1, "[::1]:P" keeps IPv6 and binds ::1;
# `parklogd -n` refuses what the daemon refuses (a name, or p2p beyond
# loopback without a peer_secret). Checked with ss on the real daemon.
# Usage: listen.sh PARKLOGD
. "$(dirname "$0")/lib.sh" "$1"
command -v ss >/dev/null || { echo "SKIP: no ss"; exit 0; }

# listening N P2P-ADDRESS: central-N with p2p at that address, no peers.
listening() {
	local n=$1 addr=$2
	cat > "$CL_TMP/$n.json" <<JSON
{"id":"central-$n","data_dir":"$CL_TMP/d$n","http":"127.0.0.1:${CL_HTTP[$n]}",
 "p2p":"$addr","gates":"127.0.0.1:${CL_GATES[$n]}","durability":"none"}
JSON
	"$CL_BIN" -n -f "$CL_TMP/$n.json" >/dev/null 2>&1 || cl_fail "-n refuses $addr"
	cl_start "$n"
}

# bound PORT WANT: the only listening socket on PORT is WANT (ss's local
# address column, e.g. 127.0.0.1:9000 or [::1]:9000).
bound() {
	local got
	got=$(ss -ltnH "sport = :$1" | awk '{print $4}' | sort -u | tr '\n' ' ')
	[ "$got" = "$2 " ] || cl_fail "port $1: listening on '$got', want '$2'"
}

cl_ports 1 2 3
listening 1 "127.0.0.1:${CL_P2P[1]}"
bound "${CL_P2P[1]}" "127.0.0.1:${CL_P2P[1]}"
listening 2 "localhost:${CL_P2P[2]}"
bound "${CL_P2P[2]}" "127.0.0.1:${CL_P2P[2]}"
if $CL_PY -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	listening 3 "[::1]:${CL_P2P[3]}"
	bound "${CL_P2P[3]}" "[::1]:${CL_P2P[3]}"
	cl_stop 3
fi
cl_stop 1
cl_stop 2

# -n and the daemon agree: both refuse, and the daemon starts nothing
for bad in '"p2p":"0.0.0.0:PORT"' '"p2p":"[::]:PORT"' \
    '"p2p":"central-9.lan:PORT","peer_secret":"cluster-test-secret-0123456789"'; do
	port=$(cl_free_port)
	cat > "$CL_TMP/bad.json" <<JSON
{"id":"central-9","data_dir":"$CL_TMP/d9","http":"127.0.0.1:$(cl_free_port)",
 "gates":"127.0.0.1:$(cl_free_port)","durability":"none",${bad/PORT/$port}}
JSON
	if "$CL_BIN" -n -f "$CL_TMP/bad.json" >"$CL_TMP/n.out" 2>&1; then
		cl_fail "-n accepts $bad: $(cat "$CL_TMP/n.out")"
	fi
	grep -q 'p2p: ' "$CL_TMP/n.out" || cl_fail "-n on $bad: $(cat "$CL_TMP/n.out")"
	rc=0; timeout 10 "$CL_BIN" -f "$CL_TMP/bad.json" >/dev/null 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || cl_fail "the daemon runs with $bad (status $rc)"
	[ -z "$(ss -ltnH "sport = :$port")" ] || cl_fail "something listens on $port"
done
echo "listen: ok"
