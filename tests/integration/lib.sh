# tests/integration/lib.sh — start parklogd on loopback for a bash test.
# Usage: . lib.sh; pl_start PARKLOGD [args...]; ... ; (killed on exit)
# Sets PL_BASE (http://127.0.0.1:PORT), PL_DATA, PL_LOG, PL_PID.
set -eu

pl_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/parklog-it.XXXXXX")
PL_PID=""
pl_cleanup() {
	if [ -n "$PL_PID" ]; then kill -9 "$PL_PID" 2>/dev/null || true; fi
	rm -rf "$PL_TMP"
}
trap pl_cleanup EXIT

# pl_start BINARY [extra args]: data dir and ports are fresh.
pl_start() {
	bin=$1; shift
	port=$(pl_free_port)
	p2p=$(pl_free_port)
	PL_GATES=$(pl_free_port)
	PL_DATA=$PL_TMP/data
	PL_LOG=$PL_TMP/parklogd.log
	PL_BASE=http://127.0.0.1:$port
	"$bin" --data "$PL_DATA" --http "127.0.0.1:$port" --p2p "127.0.0.1:$p2p" \
		--gates "127.0.0.1:$PL_GATES" "$@" \
		2>"$PL_LOG" &
	PL_PID=$!
	for _ in $(seq 1 100); do
		if curl -fsS "$PL_BASE/healthz" >/dev/null 2>&1; then return 0; fi
		if ! kill -0 "$PL_PID" 2>/dev/null; then
			echo "parklogd exited early:" >&2; cat "$PL_LOG" >&2; return 1
		fi
		sleep 0.1
	done
	echo "parklogd did not answer /healthz" >&2; cat "$PL_LOG" >&2
	return 1
}

pl_fail() {
	echo "FAIL: $*" >&2
	echo "--- parklogd messages:" >&2
	cat "${PL_LOG:-/dev/null}" >&2 || true
	exit 1
}
