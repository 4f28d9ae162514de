#!/usr/bin/env bash
# Runs the browser tests against an already built site and server binary:
#   cargo leptos build --split               # first, from the repository root
#   end2end/run.sh [playwright args…]        # e.g. --project=no-js tests/foundation.spec.ts
# (scripts/e2e.sh does both.) The harness finds the site in <repo>/target/site and the
# binary in $CARGO_TARGET_DIR/{debug,release}/server, <repo>/target/… or
# ~/.cache/imgflush/target/… (the newest one wins).
# Env: CHROMIUM_PATH (default /usr/bin/chromium), IMGFLUSH_SERVER_BIN, IMGFLUSH_SITE_ROOT,
#      IMGFLUSH_PROFILE=debug|release, E2E_WORKERS (default 2),
#      IMGFLUSH_E2E_KEEP=1 (keep the throw-away database). Server log: end2end/logs/server.log.
set -euo pipefail
cd "$(dirname "$0")"

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "error: no Chromium at $chromium." >&2
  echo "  Install Debian's: apt-get install -y chromium   (or set CHROMIUM_PATH)" >&2
  echo "  'npx playwright install' cannot download browsers on these machines." >&2
  exit 1
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "error: node and npm are needed (Node 20+): apt-get install -y nodejs npm" >&2
  exit 1
fi

# Dependencies: install when missing or when the lock file changed since the last install.
if [[ ! -x node_modules/.bin/playwright || package-lock.json -nt node_modules/.package-lock.json ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

exec npx --no-install playwright test "$@"
