#!/usr/bin/env bash
# A full disk (issue 12, item 8), on a 2 MiB tmpfs mounted in a private
# mount namespace (needs root; skipped with 77 otherwise):
#  (a) an append that finds no space answers 507 "disk full", says so on
#      stderr, /healthz answers 503 "cannot write" until a write succeeds;
#  (b) a fresh start on the full file system refuses with a clear message
#      (it died of SIGBUS on LMDB's sparse lock file);
#  (c) a restart of a data directory on it serves (its open writes nothing).
# Usage: it_fulldisk.sh PARKLOGD
if [ "${PL_FULLDISK_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
		echo "SKIP: needs root and unshare -m"; exit 77
	fi
	PL_FULLDISK_INNER=1 exec timeout 100 unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
MNT=$PL_TMP/mnt
mkdir -p "$MNT"
mount -t tmpfs -o size=2m tmpfs "$MNT"
trap 'pl_cleanup_all' EXIT
pl_cleanup_all() { [ -z "$PL_PID" ] || kill -9 "$PL_PID" 2>/dev/null; umount -l "$MNT"; rm -rf "$PL_TMP"; }

# lib.sh's data dir on the small file system.
PL_TMP_SAVE=$PL_TMP
pl_start_on() {
	port=$(pl_free_port); p2p=$(pl_free_port); gates=$(pl_free_port)
	PL_BASE=http://127.0.0.1:$port
	PL_LOG=$PL_TMP_SAVE/parklogd.$2.log
	"$1" --data "$MNT/$2" --http "127.0.0.1:$port" --p2p "127.0.0.1:$p2p" \
		--gates "127.0.0.1:$gates" 2>"$PL_LOG" &
	PL_PID=$!
}
post() { curl -s -o "$PL_TMP_SAVE/body" -w '%{http_code}' -X POST "$PL_BASE/api/edge/barrier/open" \
	-d "{\"edge_id\":\"edge-1\",\"plate_id\":\"$1\",\"action\":\"open\"}"; }
health() { curl -s -o "$PL_TMP_SAVE/health" -w '%{http_code}' "$PL_BASE/healthz"; }

# (a) running when the disk fills.
pl_start_on "$1" data
for _ in $(seq 1 100); do [ "$(health)" = 200 ] && break; sleep 0.1; done
[ "$(post 29A00001)" = 200 ] || pl_fail "first append: $(cat "$PL_TMP_SAVE/body")"
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
code=200; i=0
while [ "$code" = 200 ] && [ $i -lt 3000 ]; do
	i=$((i + 1)); code=$(post "$(printf '30B%05d' $i)")
done
[ "$code" = 507 ] || pl_fail "append on a full disk: $code $(cat "$PL_TMP_SAVE/body")"
grep -q "disk full" "$PL_TMP_SAVE/body" || pl_fail "507 body: $(cat "$PL_TMP_SAVE/body")"
grep -q "log: commit failed.*disk full" "$PL_LOG" || pl_fail "no warning on stderr"
[ "$(health)" = 503 ] || pl_fail "/healthz on a full disk: $(cat "$PL_TMP_SAVE/health")"
grep -q '"cannot write"' "$PL_TMP_SAVE/health" || pl_fail "/healthz body: $(cat "$PL_TMP_SAVE/health")"
grep -q 'disk full' "$PL_TMP_SAVE/health" || pl_fail "/healthz reason: $(cat "$PL_TMP_SAVE/health")"
rm -f "$MNT/fill"
[ "$(post 29A00002)" = 200 ] || pl_fail "append after freeing space: $(cat "$PL_TMP_SAVE/body")"
[ "$(health)" = 200 ] || pl_fail "/healthz after a write succeeded: $(cat "$PL_TMP_SAVE/health")"
kill -9 "$PL_PID"; wait "$PL_PID" 2>/dev/null || true; PL_PID=""

# (c) a restart on the full file system: the open writes nothing, so it
# starts and serves reads; an append is refused with 507.
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
pl_start_on "$1" data
for _ in $(seq 1 100); do [ "$(health)" = 200 ] && break; sleep 0.1; done
[ "$(health)" = 200 ] || pl_fail "restart on a full disk: $(cat "$PL_LOG")"
code=200; i=0
while [ "$code" = 200 ] && [ $i -lt 3000 ]; do
	i=$((i + 1)); code=$(post "$(printf '31C%05d' $i)")
done
[ "$code" = 507 ] || pl_fail "append after a restart on a full disk: $code $(cat "$PL_TMP_SAVE/body")"
kill -9 "$PL_PID"; wait "$PL_PID" 2>/dev/null || true; PL_PID=""

# (b) a fresh start on a full file system.
pl_start_on "$1" fresh
set +e
wait "$PL_PID"; rc=$?
set -e
PL_PID=""
[ "$rc" = 1 ] || pl_fail "fresh start on a full disk: exit $rc (135 = SIGBUS)"
grep -q "$MNT/fresh: disk full" "$PL_LOG" || pl_fail "message: $(cat "$PL_LOG")"
echo "PASS full disk"
