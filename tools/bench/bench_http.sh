#!/usr/bin/env bash
# bench_http.sh — durable barrier/open over HTTP against a minimal
# libmicrohttpd baseline, on loopback, with wrk.
#
#   tools/bench/bench_http.sh [BUILD_DIR]     (default ./build, built first)
#
# Env: RUNS (3), SECS (10 per run), CONNS (64), THREADS (2), EVENTS_RSS
# (1000000; 0 skips the RSS run). Prints, as medians over RUNS:
#   parklogd durable opens/s, p50, p99; the baseline's; their ratio;
#   a single client's sequential open p50 and the LMDB pages each of its
#   commits wrote; the machine's busy CPU per
#   request for both (wrk and kernel included; the cores' ceiling follows);
#   parklogd's RSS after EVENTS_RSS events. wrk shares the machine's cores
#   with the server: compare the ratio, measured in the same run, rather
#   than absolute figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
RUNS=${RUNS:-3} SECS=${SECS:-10} CONNS=${CONNS:-64} THREADS=${THREADS:-2}
EVENTS_RSS=${EVENTS_RSS:-1000000}
LUA=tools/bench/bench_http_open.lua

[ -d "$BUILD" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target parklogd -j"$(nproc)" >/dev/null
PARKLOGD=$BUILD/tools/parklogd/parklogd
MIN=$BUILD/tools/bench/bench_mhd_min
mkdir -p "$(dirname "$MIN")"
cc -O2 -std=c11 -D_GNU_SOURCE tools/bench/bench_mhd_min.c -o "$MIN" \
	$(pkg-config --cflags --libs libmicrohttpd libcjson) -lpthread

TMP=$(mktemp -d "${TMPDIR:-/tmp}/parklog-bench.XXXXXX")
PID=""
cleanup() { [ -z "$PID" ] || kill -9 "$PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_up() {	# URL
	for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
	echo "server did not come up: $1" >&2; exit 1
}
start_parklogd() {	# DATA PORT
	"$PARKLOGD" -q --data "$1" --http "127.0.0.1:$2" --p2p "127.0.0.1:$(free_port)" \
		--gates "127.0.0.1:$(free_port)" \
		2>>"$TMP/parklogd.log" &
	PID=$!
	wait_up "http://127.0.0.1:$2/healthz"
}
stop_server() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

# The machine's busy CPU time so far, in clock ticks (user, nice, system,
# irq, softirq of every core): wrk, the server and the kernel's work for both.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# wrk_run URL TAG CONNS THREADS SECS → "rps p50_ms p99_ms errors cpu_us_per_req"
# cpu_us_per_req: the whole machine's busy CPU per answered request — what
# the throughput costs, steadier than the throughput on a noisy machine.
wrk_run() {
	local b0 b1
	b0=$(busy_ticks)
	wrk -t"$4" -c"$3" -d"$5"s --latency -s "$LUA" "$1" -- "$2" >"$TMP/wrk.out" 2>&1
	b1=$(busy_ticks)
	awk -v ticks=$((b1 - b0)) -v hz="$HZ" '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
	                 if (v ~ /s$/) return v * 1000; return v }
	/Requests\/sec:/ { rps = $2 } / requests in / { n = $1 }
	$1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
	/Non-2xx/ { err += $NF } /Socket errors/ { err += 1 }
	END { printf "%.0f %.3f %.3f %d %.1f\n", rps, p50, p99, err,
	      (n > 0 ? ticks * 1e6 / hz / n : 0) }' "$TMP/wrk.out"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

URL_PATH=/api/edge/barrier/open
: >"$TMP/durable" ; : >"$TMP/min"
for run in $(seq 1 "$RUNS"); do
	tag=$(printf "\\x$(printf %x $((64 + run)))")	# A, B, C...
	port=$(free_port)
	start_parklogd "$TMP/data$run" "$port"
	read -r rps p50 p99 err cpu < <(wrk_run "http://127.0.0.1:$port$URL_PATH" "$tag" "$CONNS" "$THREADS" "$SECS")
	metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
	appended=$(echo "$metrics" | awk '/^parklog_appends_total/ { s += $2 } END { print s }')
	batch=$(echo "$metrics" | awk '/^parklog_writer_batch_jobs_sum/ { s = $2 }
	    /^parklog_writer_batch_jobs_count/ { c = $2 } END { printf "%.1f", c ? s / c : 0 }')
	stop_server
	echo "run $run parklogd: $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $err, events appended $appended, $batch per commit, $cpu µs CPU/req"
	echo "$rps $p50 $p99 $cpu" >>"$TMP/durable"
	port=$(free_port)
	"$MIN" "$port" & PID=$!
	wait_up "http://127.0.0.1:$port/"
	read -r mrps mp50 mp99 merr mcpu < <(wrk_run "http://127.0.0.1:$port$URL_PATH" "$tag" "$CONNS" "$THREADS" "$SECS")
	stop_server
	echo "run $run minimal MHD: $mrps req/s, p50 $mp50 ms, p99 $mp99 ms, errors $merr, $mcpu µs CPU/req"
	echo "$mrps $mp50 $mp99 $mcpu" >>"$TMP/min"
done
d_rps=$(cut -d' ' -f1 "$TMP/durable" | median); d_p50=$(cut -d' ' -f2 "$TMP/durable" | median)
d_p99=$(cut -d' ' -f3 "$TMP/durable" | median)
m_rps=$(cut -d' ' -f1 "$TMP/min" | median); m_p50=$(cut -d' ' -f2 "$TMP/min" | median)
m_p99=$(cut -d' ' -f3 "$TMP/min" | median)
d_cpu=$(cut -d' ' -f4 "$TMP/durable" | median); m_cpu=$(cut -d' ' -f4 "$TMP/min" | median)

# a single client, sequential: one request, one commit. The bytes the
# daemon hands to write(2)/pwrite(2) meanwhile are, but for a few eventfd
# words, LMDB's pages: pages per one-event commit, a figure that the
# machine's noise does not move (the trees a commit must copy).
commits() { curl -fsS "http://127.0.0.1:$1/metrics" | awk '$1 == "parklog_writer_commits_total" { print $2 }'; }
wchar() { awk '$1 == "wchar:" { print $2 }' "/proc/$PID/io"; }
port=$(free_port)
start_parklogd "$TMP/seq" "$port"
c0=$(commits "$port") w0=$(wchar)
read -r s_rps s_p50 s_p99 _ < <(wrk_run "http://127.0.0.1:$port$URL_PATH" S 1 1 "$SECS")
c1=$(commits "$port") w1=$(wchar)
stop_server
s_pages=$(awk -v w=$((w1 - w0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", (c > 0 ? w / 4096 / c : 0) }')

echo
echo "== medians of $RUNS runs, $CONNS connections, $SECS s, loopback, $(nproc) cores =="
printf "parklogd durable barrier/open: %8s req/s  p50 %s ms  p99 %s ms\n" "$d_rps" "$d_p50" "$d_p99"
printf "minimal MHD + cJSON handler:   %8s req/s  p50 %s ms  p99 %s ms\n" "$m_rps" "$m_p50" "$m_p99"
awk -v a="$d_rps" -v b="$m_rps" 'BEGIN { printf "ratio durable/minimal:         %8.2f\n", a / b }'
printf "machine CPU per request:       %8s µs durable, %s µs minimal (the 2 cores' ceiling at that cost: %s req/s)\n" \
	"$d_cpu" "$m_cpu" "$(awk -v c="$d_cpu" -v n="$(nproc)" 'BEGIN { printf "%.0f", (c > 0 ? n * 1e6 / c : 0) }')"
printf "sequential (1 client):         %8s req/s  p50 %s ms  p99 %s ms\n" "$s_rps" "$s_p50" "$s_p99"
printf "pages written per commit:      %8s (sequential: one event a commit)\n" "$s_pages"

if [ "$EVENTS_RSS" -gt 0 ]; then
	port=$(free_port)
	start_parklogd "$TMP/rss" "$port"
	n=0 i=0
	while [ "$n" -lt "$EVENTS_RSS" ]; do
		i=$((i + 1))
		wrk -t"$THREADS" -c"$CONNS" -d10s -s "$LUA" "http://127.0.0.1:$port$URL_PATH" \
			-- "R$i" >/dev/null 2>&1
		n=$(curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1 == "parklog_log_events" { print $2 }')
	done
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$PID/status")
	anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$PID/status")
	file=$(awk '/^RssFile/ { print $2 }' "/proc/$PID/status")
	stop_server
	echo "parklogd RSS after $n events:  $((rss / 1024)) MiB (anonymous $((anon / 1024)) MiB, LMDB map pages $((file / 1024)) MiB)"
fi
