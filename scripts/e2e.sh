#!/usr/bin/env bash
# Builds the site and the server (debug, or release with E2E_RELEASE=1) and runs
# only the browser tests. Extra arguments go to Playwright, e.g.
#   scripts/e2e.sh --project=no-js tests/foundation.spec.ts
source "$(dirname "$0")/tools.sh"
install_rust_tools
install_node_tools
install_browser
cd "$ROOT"

if [ "${E2E_RELEASE:-0}" = "1" ]; then
  say "building the site and server (cargo leptos build --release --split)"
  cargo leptos build --release --split
  export IMGFLUSH_PROFILE=release
else
  say "building the site and server (cargo leptos build --split)"
  cargo leptos build --split
  export IMGFLUSH_PROFILE=debug
fi

say "browser tests (Chromium, hydrated and JavaScript-off)"
bash "$ROOT/end2end/run.sh" "$@"
