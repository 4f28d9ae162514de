#!/usr/bin/env bash
# Builds and starts the console on the embedded SQLite default (./data/imgflush.db).
# First start creates an admin and the sample project `demo` and prints the login.
source "$(dirname "$0")/tools.sh"
install_rust_tools
install_node_tools
cd "$ROOT"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
say "building (release) and starting on http://$LEPTOS_SITE_ADDR"
exec cargo leptos serve --release
