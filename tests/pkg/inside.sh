#!/bin/bash
# Runs inside the booted container (see deb_systemd.sh); writes /pkgtest.result.
set -u
out=/pkgtest.result; : >"$out"; fails=0
ok()   { echo "ok   $*" >>"$out"; }
bad()  { echo "FAIL $*" >>"$out"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >>/pkgtest.log 2>&1; then ok "$what"; else bad "$what"; fi; }
active() { for _ in $(seq 100); do [ "$(systemctl is-active parklogd)" = active ] && return 0; sleep 0.1; done; return 1; }
health() { curl -sf --max-time 3 http://127.0.0.1:8000/healthz; }

check "dpkg -i under a running systemd" dpkg -i /var/tmp/parklog.deb
check "parklog system user" id parklog
check "parklogd.service enabled by postinst" systemctl is-enabled parklogd
check "parklogd.service active (Type=notify: READY=1 sent)" active
check "/healthz answers" health
check "an entry is recorded" curl -sf --max-time 5 -XPOST http://127.0.0.1:8000/api/edge/barrier/open \
	-H 'Content-Type: application/json' -d '{"edge_id":"entry-1","plate_id":"29A12345","vehicle":"car"}'
pid1=$(systemctl show -p MainPID --value parklogd)
check "systemctl reload" systemctl reload parklogd
check "active after reload" active
check "same process after reload" test "$(systemctl show -p MainPID --value parklogd)" = "$pid1"
check "/healthz after reload" health
check "the reload reached the daemon" sh -c 'journalctl -u parklogd -o cat | grep -q reload'
check "journal lines carry no timestamp of their own" sh -c \
	'! journalctl -u parklogd -o cat | grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"'
check "info lines at priority info" sh -c 'journalctl -u parklogd -p info..info -o cat | grep -q .'
check "data in /var/lib/parklog, owned by parklog" sh -c \
	'ls /var/lib/parklog/*.mdb && [ "$(stat -c %U /var/lib/parklog)" = parklog ]'
check "systemd-analyze verify parklogd.service" systemd-analyze verify /lib/systemd/system/parklogd.service
check "systemd-analyze verify parklog-edge.service" systemd-analyze verify /lib/systemd/system/parklog-edge.service
for p in parklog.1 parklogd.json.5 parklogd.8 parklog-edge.8; do
	check "man -l $p renders without warnings" sh -c \
		"MANWIDTH=80 man -l --warnings /usr/share/man/man${p##*.}/$p 2>/tmp/man.err | grep -q . && ! test -s /tmp/man.err"
done
check "parklog-edge.service active (READY=1)" systemctl start parklog-edge
check "the gate agent holds the central's gate channel" sh -c \
	'for i in $(seq 50); do journalctl -u parklogd -o cat | grep -q "gate entry-1 connected" && exit 0; sleep 0.2; done; exit 1'
check "parklog-edge stops cleanly" sh -c \
	'systemctl stop parklog-edge && [ "$(systemctl show -p Result --value parklog-edge)" = success ]'
check "systemctl stop: clean exit" sh -c 'systemctl stop parklogd && [ "$(systemctl show -p Result --value parklogd)" = success ]'
check "dpkg -r parklog" dpkg -r parklog
check "dpkg -r leaves /var/lib/parklog and its log" sh -c 'ls /var/lib/parklog/*.mdb'
check "the unit is gone" sh -c '! test -e /lib/systemd/system/parklogd.service'
[ $fails = 0 ] && echo "ALL PASSED" >>"$out"
