#!/usr/bin/env bash
# tools/bench/bench_export.sh BENCH_EXPORT [EVENTS [RUNS [SECONDS]]]: a
# three-node nats-server JetStream cluster on loopback (free ports, scratch
# directory, removed at the end), then bench_export against it. Not a test.
set -eu
B=$1; shift
T=$(mktemp -d /tmp/bench-nats.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A C R M
for i in 1 2 3; do C[$i]=$(port); R[$i]=$(port); M[$i]=$(port); done
for i in 1 2 3; do
	routes=""; sep=""
	for j in 1 2 3; do [ "$j" = "$i" ] || { routes="$routes${sep}nats://127.0.0.1:${R[$j]}"; sep=","; }; done
	nats-server -n "n$i" -a 127.0.0.1 -p "${C[$i]}" -m "${M[$i]}" -js -sd "$T/n$i" \
		--cluster_name bench --cluster "nats://127.0.0.1:${R[$i]}" --routes "$routes" \
		>"$T/n$i.log" 2>&1 & PIDS+=($!)
done
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:${M[1]}/jsz" | grep -q '"leader"' && break
	sleep 0.2
done
echo "load before: $(cat /proc/loadavg)"
"$B" "nats://127.0.0.1:${C[1]},nats://127.0.0.1:${C[2]},nats://127.0.0.1:${C[3]}" "$@"
echo "load after: $(cat /proc/loadavg)"
