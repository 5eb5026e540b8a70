#!/usr/bin/env bash
# --help prints the usage on stdout and exits 0; --version prints the
# version (issue 12); a wrong flag still exits non-zero with the usage on
# stderr. Usage: it_help.sh PARKLOGD PARKLOG VERSION
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$("$1" --help 2>/dev/null) || fail "parklogd --help: exit $?"
case $out in "usage: parklogd"*) ;; *) fail "parklogd --help: $out" ;; esac
[ "$("$1" --version)" = "parklogd $3" ] || fail "parklogd --version: $("$1" --version)"
"$1" --no-such-flag >/dev/null 2>&1 && fail "parklogd --no-such-flag: exit 0"
[ -z "$("$1" --no-such-flag 2>/dev/null)" ] || fail "parklogd: usage of an error on stdout"
out=$("$2" --help 2>/dev/null) || fail "parklog --help: exit $?"
case $out in "usage: parklog "*) ;; *) fail "parklog --help: $out" ;; esac
[ "$("$2" --version)" = "parklog $3" ] || fail "parklog --version: $("$2" --version)"
for c in dump verify replay stats sessions backup; do
	"$2" "$c" --help >/dev/null 2>&1 || fail "parklog $c --help: exit $?"
done
"$2" no-such-command >/dev/null 2>&1 && fail "parklog no-such-command: exit 0"
echo "PASS --help and --version"
