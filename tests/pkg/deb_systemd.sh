#!/bin/bash
# The Debian package on a clean Debian 12 under a real systemd (issue 17):
#   tests/pkg/deb_systemd.sh SRC_DIR WORK_DIR
# 1. builds the .deb (scripts/package.sh),
# 2. makes a minimal bookworm root with debootstrap, from the mirror this
#    machine's apt uses, with systemd and the package's dependencies,
# 3. boots it with systemd-nspawn (private network: only its own loopback)
#    and, inside, as a unit of its own: installs the .deb with dpkg (so the
#    postinst meets a running systemd), waits for parklogd.service to be
#    active (Type=notify: READY=1 was sent), asks /healthz, records an
#    entry, `systemctl reload`s, checks it is still active and serving,
#    checks the journal has priorities and no second timestamp, verifies the
#    units with systemd-analyze, renders each man page with man -l, then
#    `dpkg -r parklog` and checks /var/lib/parklog and its log are still there.
# KEEP=1 keeps WORK_DIR (the root, boot.log, the root's /pkgtest.log).
# Exit 0 when every check passed; 77 (skipped) when this machine cannot run
# containers (not root, or no debootstrap/systemd-nspawn).
set -euo pipefail
SRC=$(realpath "$1"); W=$2
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
for c in debootstrap systemd-nspawn; do
	command -v $c >/dev/null || { echo "skip: no $c (scripts/install-deps.sh installs it)"; exit 77; }
done
rm -rf "$W"; mkdir -p "$W"; R=$W/root
cleanup() {
	pkill -f "systemd-nspawn.*-D $R" 2>/dev/null || true
	for m in proc sys dev; do umount -l "$R/$m" 2>/dev/null || true; done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

"$SRC/scripts/package.sh" "$W/pkg" >"$W/package.log" 2>&1 ||
	{ cat "$W/package.log"; echo "FAIL: package build"; exit 1; }
deb=$(ls "$W"/pkg/parklog_*.deb)

# The mirror this machine's apt is set up with (deb822 or one-line format).
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "FAIL: no Debian mirror in this machine's apt sources"; exit 1; }
debootstrap --variant=minbase bookworm "$R" "$mirror" >"$W/debootstrap.log" 2>&1 ||
	{ tail -20 "$W/debootstrap.log"; echo "FAIL: debootstrap"; exit 1; }
cp "$deb" "$R/var/tmp/parklog.deb"
# Dependencies (and systemd) from the archive; then the package itself is
# removed again, so that it is installed under a running systemd below.
chroot "$R" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive;
	apt-get update -qq && apt-get install -y -qq --no-install-recommends \
		systemd systemd-sysv dbus curl man-db /var/tmp/parklog.deb && dpkg -P parklog &&
	userdel parklog && groupdel parklog 2>/dev/null; rm -rf /var/lib/parklog /var/lib/parklog-edge; true' \
	>"$W/chroot.log" 2>&1 || { tail -20 "$W/chroot.log"; echo "FAIL: chroot install"; exit 1; }

install -m 0755 "$SRC/tests/pkg/inside.sh" "$R/usr/local/sbin/pkgtest"
cat >"$R/etc/systemd/system/pkgtest.service" <<'UNIT'
[Unit]
Description=parklog package test
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/pkgtest
ExecStopPost=/bin/systemctl --no-block poweroff
StandardOutput=journal+console
[Install]
WantedBy=default.target
UNIT
mkdir -p "$R/etc/systemd/system/default.target.wants"
ln -sf /etc/systemd/system/pkgtest.service "$R/etc/systemd/system/default.target.wants/"

timeout 240 systemd-nspawn -q -D "$R" -b --private-network --register=no --keep-unit \
	--console=passive >"$W/boot.log" 2>&1 || true
if [ ! -f "$R/pkgtest.result" ]; then
	sed 's/\x1b\[[0-9;]*m//g' "$W/boot.log" | tail -40
	echo "FAIL: the container wrote no result"
	exit 1
fi
cat "$R/pkgtest.result"
grep -q '^ALL PASSED$' "$R/pkgtest.result"
