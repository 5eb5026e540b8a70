#!/bin/sh
# Build the Debian package: BUILD/parklog_<version>_<arch>.deb (BUILD: build-pkg)
#   scripts/package.sh [BUILD]
# Install it with: apt-get install ./build-pkg/parklog_*.deb
# Only the three programs are built (no tests, no sanitizers), with prefix /usr
# so that configs go to /etc/parklog.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build-pkg}
PARKLOG_DEPS_MIN=1 ./scripts/install-deps.sh
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
	-DPARKLOG_SANITIZE=OFF -DPARKLOG_FUZZ=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$out" -j"$(nproc)" --target parklogd parklog parklog-edge
(cd "$out" && rm -f parklog_*.deb && cpack -G DEB >/dev/null)
ls "$out"/parklog_*.deb
