#!/usr/bin/env bash
# A corrupt data file is noticed at start (issue 12, item 8): one flipped
# byte inside an event of data.mdb, and parklogd refuses to start, naming
# the stream and seq and pointing to `parklog verify`; it used to start.
# Usage: it_corrupt_start.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
pl_start "$1"
for p in 29A11111 29A55555 29A22222; do
	curl -fsS -X POST "$PL_BASE/api/edge/barrier/open" \
		-d "{\"edge_id\":\"edge-1\",\"plate_id\":\"$p\",\"action\":\"open\"}" >/dev/null ||
		pl_fail "append $p"
done
kill -TERM "$PL_PID"; wait "$PL_PID" || true; PL_PID=""
# Flip one byte of the plate inside the stored event (not in an index key).
/usr/bin/python3 - "$PL_DATA/data.mdb" <<'PY' || pl_fail "no event bytes found to flip"
import sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
i = b.find(b'"plate_id":"29A55555"')
assert i >= 0
b[i + len('"plate_id":"29A5')] ^= 0x01   # 29A55555 -> 29A54555
open(path, "r+b").write(b)
PY
port=$(pl_free_port); p2p=$(pl_free_port); gates=$(pl_free_port)
set +e
timeout 20 "$1" --data "$PL_DATA" --http "127.0.0.1:$port" --p2p "127.0.0.1:$p2p" \
	--gates "127.0.0.1:$gates" 2>"$PL_TMP/second.log"
rc=$?
set -e
[ "$rc" = 1 ] || pl_fail "start on a corrupt data file: exit $rc: $(cat "$PL_TMP/second.log")"
grep -q "the data file is corrupt: stream central-1:[0-9a-f]* seq 2: the event's bytes fail their hash" \
	"$PL_TMP/second.log" || pl_fail "message: $(cat "$PL_TMP/second.log")"
grep -q "parklog verify $PL_DATA" "$PL_TMP/second.log" || pl_fail "no pointer to parklog verify"
echo "PASS corrupt data file refused at start"
