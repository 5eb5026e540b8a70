#!/usr/bin/env bash
# One writer per data directory (issue 12, item 6): a second parklogd on
# the same directory exits at once, non-zero, naming the directory and the
# holder's pid; the first keeps serving; `parklog` still reads beside it.
# Usage: it_datadir_lock.sh PARKLOGD PARKLOG
. "$(dirname "$0")/lib.sh"
pl_start "$1"
post() { curl -s -o "$PL_TMP/body" -w '%{http_code}' -X POST "$PL_BASE/api/edge/barrier/open" \
	-d "{\"edge_id\":\"edge-1\",\"plate_id\":\"$1\",\"action\":\"open\"}"; }
[ "$(post 29A11111)" = 200 ] || pl_fail "first append: $(cat "$PL_TMP/body")"

p1=$(pl_free_port); p2=$(pl_free_port); p3=$(pl_free_port)
set +e
timeout 10 "$1" --data "$PL_DATA" --http "127.0.0.1:$p1" --p2p "127.0.0.1:$p2" \
	--gates "127.0.0.1:$p3" 2>"$PL_TMP/second.log"
rc=$?
set -e
[ "$rc" != 0 ] && [ "$rc" != 124 ] || pl_fail "second parklogd: exit $rc (want non-zero, at once)"
grep -q "$PL_DATA: data directory in use by another parklogd (pid $PL_PID)" "$PL_TMP/second.log" ||
	pl_fail "second parklogd's message: $(cat "$PL_TMP/second.log")"

# The first still serves, and writes.
curl -fsS "$PL_BASE/healthz" >/dev/null || pl_fail "first parklogd stopped answering"
[ "$(post 29A22222)" = 200 ] || pl_fail "append after the second start: $(cat "$PL_TMP/body")"
# The auditor reads while the daemon runs (read-only opens take no lock).
"$2" verify "$PL_DATA" >"$PL_TMP/verify.out" 2>&1 || pl_fail "parklog verify: $(cat "$PL_TMP/verify.out")"
grep -q " 2 events, 0 problems" "$PL_TMP/verify.out" || pl_fail "verify: $(cat "$PL_TMP/verify.out")"
"$2" dump "$PL_DATA" | grep -q 29A22222 || pl_fail "parklog dump"
echo "PASS one writer per data directory"
