#!/usr/bin/env bash
# Builds and starts the console on the embedded SQLite default (./data/imgflush.db).
# First start creates an admin and the sample project `demo` and prints the login.
source "$(dirname "$0")/tools.sh"
install_rust_tools
install_node_tools
cd "$ROOT"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
# The local demo may purge targets on this machine; a deployment allows only
# public addresses unless its operator lists networks (see README "Security model").
export APP__TARGETS__ALLOWED_NETWORKS="${APP__TARGETS__ALLOWED_NETWORKS:-127.0.0.0/8,::1/128}"
say "building (release) and starting on http://$LEPTOS_SITE_ADDR"
exec cargo leptos serve --release --split
