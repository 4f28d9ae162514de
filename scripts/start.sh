#!/usr/bin/env bash
# Builds (release) and starts the console on the embedded SQLite default
# (./data/imgflush.db). First start creates an admin and the sample project
# `demo` and prints the login. Arguments go to the server (e.g. `serve --no-worker`).
#
# The build is scripts/build-release.sh (no cargo-leptos needed: a fresh
# machine serves sooner); for development, `cargo leptos watch` rebuilds on change.
"$(dirname "$0")/build-release.sh"
source "$(dirname "$0")/tools.sh"
cd "$ROOT"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=imgflush
# The local demo may purge targets on this machine; a deployment allows only
# public addresses unless its operator lists networks (see README "Security model").
export APP__TARGETS__ALLOWED_NETWORKS="${APP__TARGETS__ALLOWED_NETWORKS:-127.0.0.0/8,::1/128}"
say "starting on http://$LEPTOS_SITE_ADDR"
exec "$CARGO_TARGET_DIR/release/server" "$@"
