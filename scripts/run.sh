#!/bin/sh
# Install the build dependencies, build, and run the central on its embedded
# default (central-1, data in ./data, HTTP on 127.0.0.1:8000, no peers, the
# seed's tariff). Arguments are passed to parklogd (e.g. -f parklogd.json).
# As root it installs what is missing with apt-get; as another user it needs
# the build packages installed already (it names them if one is missing):
#   build-essential cmake pkg-config liblmdb-dev libmicrohttpd-dev
#   libwebsockets-dev libcjson-dev libgpiod-dev libxxhash-dev libsystemd-dev
set -eu
cd "$(dirname "$0")/.."
PARKLOG_DEPS_MIN=1 ./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target parklogd
exec ./build/tools/parklogd/parklogd "$@"
