#!/bin/sh
# tests/browser/run.sh PARKLOGD WORKDIR [TEST.mjs] — a browser test (the
# console's by default; seed_ui_test.mjs: the seed's web UI's calls).
# Installs the pinned playwright-core (package-lock.json; no browser
# download) into WORKDIR/node_modules, then drives /usr/bin/chromium.
# Screenshots and the daemon's messages land in WORKDIR. Exit 77 (skipped)
# if chromium or npm is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 work=$2 test=${3:-console_test.mjs}
if [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null 2>&1; then
	echo "SKIP: needs /usr/bin/chromium and npm (scripts/install-deps.sh)" >&2
	exit 77
fi
mkdir -p "$work"
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" ||
    [ ! -d "$work/node_modules/playwright-core" ]; then
	cp "$here/package.json" "$here/package-lock.json" "$work/"
	(cd "$work" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts \
	    --no-audit --no-fund --loglevel=error)
fi
cp "$here/$test" "$here/fake_gate.py" "$work/"
exec node "$work/$test" "$bin" "$work"
