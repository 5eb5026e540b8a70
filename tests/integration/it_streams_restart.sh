#!/usr/bin/env bash
# Streams per DESIGN.md (issue 12, item 9): a restart that appends nothing
# leaves no stream; six restarts list no stream in the vector, then one
# append makes exactly one. (Every restart used to add an empty stream.)
# Usage: it_streams_restart.sh PARKLOGD
. "$(dirname "$0")/lib.sh"
nstreams() {
	curl -fsS "$PL_BASE/api/p2p/status" | /usr/bin/python3 -c \
		'import json, sys; print(len(json.load(sys.stdin)["vector"]))'
}
for i in 1 2 3 4 5 6; do
	pl_start "$1"
	kill -TERM "$PL_PID"; wait "$PL_PID" || true; PL_PID=""
done
pl_start "$1"
[ "$(nstreams)" = 0 ] || pl_fail "after 6 restarts: $(nstreams) streams in the vector"
curl -fsS -X POST "$PL_BASE/api/edge/barrier/open" \
	-d '{"edge_id":"edge-1","plate_id":"29A12345","action":"open"}' >/dev/null || pl_fail "append"
[ "$(nstreams)" = 1 ] || pl_fail "after one append: $(nstreams) streams"
own=$(curl -fsS "$PL_BASE/api/p2p/status" | /usr/bin/python3 -c \
	'import json, sys; o = json.load(sys.stdin); print(list(o["vector"]) == [o["own_stream"]])')
[ "$own" = True ] || pl_fail "the one stream is not our own_stream"
echo "PASS no empty streams after restarts"
