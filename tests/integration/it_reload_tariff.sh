#!/usr/bin/env bash
# SIGHUP with another tariff: exits are charged by it at once, and the
# projections fold everything again with it (fee_tariff, FEE_DIFF), so that
# `parklog verify` (which replays with the stored tariff) still agrees.
# Usage: it_reload_tariff.sh PARKLOGD PARKLOG
. "$(dirname "$0")/lib.sh"
parklogd=$1 parklog=$2
conf=$PL_TMP/c.json
echo '{"id":"central-1"}' > "$conf"
pl_start "$parklogd" -f "$conf"
open() { curl -fsS -X POST "$PL_BASE/api/edge/barrier/open" -d "{\"edge_id\":\"$1\",\"plate_id\":\"$2\",\"action\":\"open\"}"; }

open edge-1 29A11111 >/dev/null
exit1=$(open edge-2 29A11111)	# within the 30 free minutes
grep -q '"fee":0' <<<"$exit1" || pl_fail "first exit not free: $exit1"
cat > "$conf" <<'JSON'
{"id":"central-1","tariff":{"name":"t2","unknown_entry_fee":1000,
 "classes":{"default":{"mode":"hourly","free_min":0,"per_hour":30000}}}}
JSON
kill -HUP "$PL_PID"
for _ in $(seq 1 50); do
	grep -q 'folded again with tariff "t2"' "$PL_LOG" && break
	sleep 0.1
done
grep -q 'folded again with tariff "t2"' "$PL_LOG" || pl_fail "no re-fold after SIGHUP"
open edge-1 29A22222 >/dev/null
exit2=$(open edge-2 29A22222)
grep -q '"fee":30000' <<<"$exit2" || pl_fail "new tariff not charged: $exit2"
hist=$(curl -fsS "$PL_BASE/api/parking/history?plate=29A11111")
grep -q '"fee_tariff":30000' <<<"$hist" && grep -q FEE_DIFF <<<"$hist" ||
	pl_fail "old exit not re-folded with the new tariff: $hist"
"$parklog" verify "$PL_DATA" >/dev/null || pl_fail "parklog verify after the re-fold"
echo "PASS reload tariff"
