#!/bin/sh
# Installs the Debian 12 packages that parklog's build, tests and benchmarks
# need. Idempotent; run as root. Set PARKLOG_DEPS_MIN=1 for the build alone.
set -eu
export DEBIAN_FRONTEND=noninteractive

build="build-essential cmake pkg-config liblmdb-dev libmicrohttpd-dev
  libwebsockets-dev libcjson-dev libgpiod-dev libxxhash-dev"
tests="lmdb-utils curl python3 python3-websockets iproute2 procps
  clang libclang-rt-14-dev wrk hyperfine"

pkgs="$build"
[ "${PARKLOG_DEPS_MIN:-0}" = 1 ] || pkgs="$pkgs $tests"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
