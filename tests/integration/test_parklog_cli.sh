#!/usr/bin/env bash
# The auditor's tool against a real log: dump (filters, formats, orders),
# verify (clean and corrupted), replay, stats, sessions, backup, bad input.
# usage: test_parklog_cli.sh BUILD_DIR
set -euo pipefail
build=$1
parklog=$build/tools/parklog/parklog
mklog=$build/tests/integration/mklog
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/parklog-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
count() { "$parklog" dump "$@" | wc -l; }

# --- usage and bad directories
check "help exits 0" "$parklog" --help >/dev/null
for c in dump verify replay stats sessions backup; do
	check "$c --help" "$parklog" "$c" --help >/dev/null
done
set +e
out=$("$parklog" dump "$tmp/nothing" 2>&1); rc=$?
set -e
check "missing dir: exit 2" test $rc -eq 2
check "missing dir: clear message" grep -q "not a parklog data directory" <<<"$out"
mkdir "$tmp/empty"
set +e; "$parklog" verify "$tmp/empty" >/dev/null 2>&1; rc=$?; set -e
check "empty dir: exit 2" test $rc -eq 2
set +e; "$parklog" frobnicate "$tmp" >/dev/null 2>&1; rc=$?; set -e
check "unknown command: exit 2" test $rc -eq 2

# --- a log of 30 own events and 4 of a peer
own=$("$mklog" "$tmp/d" 30)
check "dump: every event" test "$(count "$tmp/d")" -eq 34
check "dump: lines are JSON objects with ids" \
	"$py" -c 'import json,sys; [json.loads(l)["id"] for l in sys.stdin]' < <("$parklog" dump "$tmp/d")
check "dump --origin" test "$(count "$tmp/d" --origin central-2)" -eq 4
check "dump --type EXIT" test "$(count "$tmp/d" --type EXIT)" -eq 11
check "dump --plate (normalised)" test "$(count "$tmp/d" --plate 51f-999.99)" -eq 3
check "dump --since/--until" test "$(count "$tmp/d" --since 1764547200000 --until 1764547200001)" -eq 1
check "dump --format csv" test "$("$parklog" dump "$tmp/d" --format csv | wc -l)" -eq 35
check "dump --order time is in time order" "$py" -c '
import json,sys
ts=[json.loads(l)["ts"] for l in sys.stdin]
sys.exit(0 if ts==sorted(ts) and len(ts)==34 else 1)' < <("$parklog" dump "$tmp/d" --order time)
set +e; "$parklog" dump "$tmp/d" --type BOGUS >/dev/null 2>&1; rc=$?; set -e
check "dump: bad filter exit 2" test $rc -eq 2

# --- verify, replay, stats, sessions
check "verify: clean log passes" "$parklog" verify "$tmp/d"
check "replay matches the stored projections" "$py" -c '
import json,sys
r=json.load(sys.stdin)
sys.exit(0 if r["matches_stored"] and r["sessions"]==12 and r["conflicts"]>=1 else 1)' < <("$parklog" replay "$tmp/d")
check "stats: two streams and the own one" "$py" -c '
import json,sys
s=json.load(sys.stdin)
names=[x["stream"] for x in s["streams"]]
sys.exit(0 if s["events"]==34 and len(names)==2 and sys.argv[1] in names else 1)' "$own" < <("$parklog" stats "$tmp/d")
check "sessions --plate: the peer's closed session with its fee" "$py" -c '
import json,sys
r=[json.loads(l) for l in sys.stdin]
sys.exit(0 if len(r)==1 and r[0]["status"]=="CLOSED" and r[0]["fee_charged"]==75000 else 1)' \
	< <("$parklog" sessions "$tmp/d" --plate 51F99999)
check "sessions --conflicts: the double entry" grep -q DOUBLE_ENTRY < <("$parklog" sessions "$tmp/d" --conflicts)
check "sessions --inside: nobody" test "$("$parklog" sessions "$tmp/d" --inside | wc -l)" -eq 0

# --- backup: a compact copy that verifies and dumps the same
check "backup" "$parklog" backup "$tmp/d" "$tmp/b" >/dev/null
check "backup verifies" "$parklog" verify "$tmp/b" >/dev/null
check "backup holds the same events" cmp <("$parklog" dump "$tmp/d") <("$parklog" dump "$tmp/b")
set +e; "$parklog" backup "$tmp/d" "$tmp/b" >/dev/null 2>&1; rc=$?; set -e
check "backup refuses a non-empty destination" test $rc -ne 0

# --- corruption: flip one byte of one stored event behind LMDB's back
if command -v mdb_dump >/dev/null; then
	mkdir "$tmp/c" && cp "$tmp/d"/*.mdb "$tmp/c/"
	mdb_dump -s log "$tmp/c" > "$tmp/log.dump"
	# value lines follow key lines after the header; corrupt the 2nd value's last hex digit pair
	awk 'BEGIN{v=0} /^ /{n++; if (n%2==0) {v++; if (v==2) {l=length($0); $0=substr($0,1,l-2) "58"}}} {print}' \
		"$tmp/log.dump" > "$tmp/log.bad"
	mdb_load -s log -f "$tmp/log.bad" "$tmp/c"
	set +e; out=$("$parklog" verify "$tmp/c"); rc=$?; set -e
	check "verify: corrupted record found (exit 1)" test $rc -eq 1
	check "verify: says which" grep -q "problem:" <<<"$out"
fi

echo "$pass passed, $fail failed"
test "$fail" -eq 0
