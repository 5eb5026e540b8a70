#!/usr/bin/env bash
# A plate with bytes that are not UTF-8 (issue 12, item 8) is refused with
# 400 and a clear message, and nothing is appended; it used to become
# 29A345 and be appended.
# Usage: it_plate_utf8.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
pl_start "$1"
printf '{"edge_id":"edge-1","plate_id":"29A\xff\xfe345","action":"open"}' >"$PL_TMP/req"
code=$(curl -s -o "$PL_TMP/body" -w '%{http_code}' -X POST "$PL_BASE/api/edge/barrier/open" \
	--data-binary @"$PL_TMP/req")
[ "$code" = 400 ] || pl_fail "invalid UTF-8 plate: $code $(cat "$PL_TMP/body")"
grep -q 'plate_id: invalid UTF-8 at byte 3' "$PL_TMP/body" || pl_fail "body: $(cat "$PL_TMP/body")"
printf '{"edge_id":"edge-1","plate_id":"29A\xff\xfe345"}' >"$PL_TMP/req"
code=$(curl -s -o "$PL_TMP/body" -w '%{http_code}' -X POST "$PL_BASE/api/edge/detection" \
	--data-binary @"$PL_TMP/req")
[ "$code" = 400 ] || pl_fail "detection, invalid UTF-8 plate: $code $(cat "$PL_TMP/body")"
# Nothing was appended: the plate 29A345 is unknown.
curl -fsS "$PL_BASE/api/p2p/status" >"$PL_TMP/st" || pl_fail "p2p status"
/usr/bin/python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert not o.get("vector"), o
' "$PL_TMP/st" || pl_fail "something was appended: $(cat "$PL_TMP/st")"
echo "PASS invalid UTF-8 plate refused"
