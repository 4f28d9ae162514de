#!/usr/bin/env bash
# Runs every check and test: format, lints, the VCL tests, unit and router tests (SQLite, and
# PostgreSQL when TEST_DATABASE_URL is set), and the browser tests in Chromium.
source "$(dirname "$0")/tools.sh"
install_rust_tools
install_node_tools
install_browser
install_emulators
# avifdec checks that the edge's AVIF decodes (edge/src/avif/tests.rs).
apt_install libavif-bin
cd "$ROOT"

say "cargo fmt --check"
cargo fmt --all --check
say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p app --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

say "structure: import circles, layers, file sizes, SQL placement"
if ! out="$(python3 -m unittest -q scripts/structure_test.py 2>&1)"; then
  echo "$out"
  exit 1
fi
python3 "$ROOT/scripts/structure.py"

say "VCL tests (varnishtest on Debian's varnish + varnish-modules)"
sh "$ROOT/deploy/varnish/test.sh"

say "CDN provider emulators' self-test (Prism, moto, fakes, fault proxy)"
bash "$ROOT/emulators/selftest.sh"

say "building the site (cargo leptos build --split)"
cargo leptos build --split

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  say "TEST_DATABASE_URL is not set: storage tests run on SQLite only"
fi
say "unit, router and pipeline tests"
cargo test --workspace

say "Prometheus rules and Grafana dashboard (promtool, and Prometheus scraping a console, worker and edge)"
bash "$ROOT/deploy/prometheus/check.sh"

say "browser tests (Chromium, hydrated and JavaScript-off)"
export IMGFLUSH_PROFILE=debug
bash "$ROOT/end2end/run.sh"

# The release build as start.sh and the package make it (scripts/build-release.sh,
# no cargo-leptos), in Chromium: pages whose islands are lazily loaded chunks of
# the split WASM hydrate, and their forms work.
say "the release build (scripts/build-release.sh) in Chromium"
bash "$ROOT/scripts/build-release.sh"
IMGFLUSH_PROFILE=release bash "$ROOT/end2end/run.sh" --project=hydrated tests/pages.spec.ts tests/targets.spec.ts
# The release binary as an operator first runs it: no configuration at all, a
# fresh directory, started twice (tests/startup.rs, on this binary).
say "the release binary with no configuration (tests/startup.rs)"
IMGFLUSH_TEST_SERVER_BINARY="$CARGO_TARGET_DIR/release/server" cargo test -p server --test startup

# The Debian package as an operator installs it: the release build above, cargo deb,
# apt-get install, systemd-analyze verify, each unit's ExecStart run, sign-in.
# It installs a system package, so it runs as root (CI) or when asked.
if [ "$(id -u)" -eq 0 ] || [ "${IMGFLUSH_PACKAGE_TEST:-0}" = 1 ]; then
  say "the Debian package (deploy/debian/test.sh)"
  BUILD=0 bash "$ROOT/deploy/debian/test.sh"
else
  say "the Debian package test is skipped: it installs imgflush system-wide (run as root or with IMGFLUSH_PACKAGE_TEST=1)"
fi
