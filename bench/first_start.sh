#!/usr/bin/env bash
# The first start on a fresh machine, measured (a benchmark, not a test):
# a fresh clone of this checkout, an empty CARGO_HOME, target directory and
# npm cache (an isolated HOME), then `scripts/start.sh` until the console
# answers on its port. The Rust toolchain with its WASM target and the apt
# packages stay as they are (what the README's quick start assumes installed
# after its first step). Prints each phase `build-release.sh` announces and
# the total; writes bench/results/first_start.md unless BENCH_SMALL is set.
#
#   bench/first_start.sh
#
# It downloads every crate and npm package again and keeps both cores busy
# for about 12 minutes: run it on an otherwise idle machine.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/tools.sh"
rustup target add wasm32-unknown-unknown >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/imgflush-first-start.XXXXXX")"
console=""
cleanup() {
  # start.sh and everything it started (cargo, the tools' installs) are one process group.
  [ -n "$console" ] && kill -- "-$console" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

git clone -q "$ROOT" "$work/imgflush"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$work/start.log"

# Only the toolchain through rustup's proxies: nothing else the host's
# ~/.cargo/bin holds (cargo-leptos, imgflush-site, wasm-bindgen) is on PATH,
# so start.sh installs what it needs, as on a fresh machine.
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
proxies="$(dirname "$(command -v cargo)")"
mkdir -p "$work/toolchain"
for tool in cargo rustc rustdoc rustup; do
  ln -s "$proxies/$tool" "$work/toolchain/$tool"
done
start=$SECONDS
(
  cd "$work/imgflush"
  exec setsid env -i PATH="$work/home/.cargo/bin:$work/toolchain:/usr/local/bin:/usr/bin:/bin" \
    HOME="$work/home" RUSTUP_HOME="$rustup_home" CARGO_HOME="$work/home/.cargo" \
    CARGO_TARGET_DIR="$work/target" npm_config_cache="$work/npm" \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" APP__EDGE__EMBEDDED=false \
    DATABASE_URL="sqlite://$work/imgflush.db" \
    bash scripts/start.sh
) >"$log" 2>&1 &
console=$!

deadline=$((SECONDS + 3600))
until curl -fsS -o /dev/null "http://127.0.0.1:$port/login" 2>/dev/null; do
  if ! kill -0 "$console" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
    tail -40 "$log"
    echo "first_start: the console did not answer (start.sh ended, or an hour passed)" >&2
    exit 1
  fi
  sleep 2
done
total=$((SECONDS - start))

phases="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^==>' | sed 's/^/  /' || true)"
report="$(cat <<EOF
## The first start on a fresh machine

$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, revision $(git -C "$ROOT" rev-parse --short HEAD).
From a fresh clone with an empty CARGO_HOME, target directory and npm cache,
\`scripts/start.sh\` until \`/login\` answered: **${total} s** ($((total / 60)) min $((total % 60)) s; goal ≤ 720 s).

What start.sh printed on the way:

\`\`\`
$phases
\`\`\`
EOF
)"
echo "$report"
if [ -z "${BENCH_SMALL:-}" ]; then
  mkdir -p "$ROOT/bench/results"
  echo "$report" >"$ROOT/bench/results/first_start.md"
fi
