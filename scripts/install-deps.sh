#!/bin/sh
# Installs the Debian 12 packages that parklog needs. Idempotent; run as root.
#   (default)            build + test suite (chromium + npm: the console's
#                        browser test installs playwright-core from npm)
#   PARKLOG_DEPS_MIN=1   the build alone
#   PARKLOG_DEPS_ALL=1   also benchmarks (wrk, hyperfine) and fuzzing (clang)
set -eu
export DEBIAN_FRONTEND=noninteractive

build="build-essential cmake pkg-config liblmdb-dev libmicrohttpd-dev
  libwebsockets-dev libcjson-dev libgpiod-dev libxxhash-dev libsystemd-dev
  libnats-dev"
tests="lmdb-utils curl python3 python3-websockets iproute2 procps chromium
  debootstrap systemd-container man-db nats-server"
extra="wrk hyperfine clang libclang-rt-14-dev linux-perf"

pkgs="$build"
[ "${PARKLOG_DEPS_MIN:-0}" = 1 ] || pkgs="$pkgs $tests"
# npm (Node.js) for playwright-core; a Node.js that ships its own npm is kept.
[ "${PARKLOG_DEPS_MIN:-0}" = 1 ] || command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
[ "${PARKLOG_DEPS_ALL:-0}" = 1 ] && pkgs="$pkgs $extra"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ] && [ "$(id -u)" != 0 ]; then
	# A user without root who has the packages needs nothing from here.
	echo "parklog needs these Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	echo "(or run this script as root; it runs apt-get itself)" >&2
	exit 1
fi
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
