#!/usr/bin/env bash
# Benchmarks (not tests): prints each table and writes bench/RESULTS.md with the
# machine, date and git revision.
#
#   bench/run.sh            every benchmark below
#   bench/run.sh edge       the edge: HIT vs nginx, MISS vs vipsthumbnail, purge among 100k
#   bench/run.sh latency    submit→DONE through 1 edge + 2 Varnish nodes (scripts/stack.sh)
#
# Release builds; needs wrk, nginx, libvips-tools, varnish (installed when missing).
# BENCH_SMALL=1 runs each at a tiny size (a smoke run, not a measurement).
source "$(dirname "$0")/../scripts/tools.sh"
install_rust_tools
apt_install wrk nginx libvips-tools varnish varnish-modules curl
cd "$ROOT"

which="${1:-all}"
small="${BENCH_SMALL:-0}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

section() { printf '\n## %s\n\n' "$1" | tee -a "$out"; }

run_edge() {
  section "Edge (edge/benches/edge.rs)"
  cargo bench -p edge --bench edge 2>/dev/null | tee -a "$out"
}

run_latency() {
  section "Submit→DONE latency through 1 edge and 2 Varnish nodes (bench/src/bin/latency.rs)"
  local count=1000
  [ "$small" = "1" ] && count=20
  cargo build --release -p bench --bin latency
  local dir; dir="$(mktemp -d)"
  local ready="$dir/ready"
  # Ports of their own, so a running ./scripts/start.sh does not matter.
  STACK_DIR="$dir/stack" STACK_READY_FILE="$ready" STACK_CONSOLE_PORT=3100 STACK_EDGE_PORT=3102 \
    STACK_ORIGIN_PORT=3103 STACK_VARNISH_PORTS="6181 6182" APP__API__REQUESTS_PER_MINUTE=1000000 \
    RUST_LOG=warn ./scripts/stack.sh > "$dir/stack.log" 2>&1 &
  local stack=$!
  for _ in $(seq 1 1800); do [ -f "$ready" ] && break; kill -0 "$stack" 2>/dev/null || break; sleep 1; done
  if [ ! -f "$ready" ]; then cat "$dir/stack.log" >&2; echo "the stack did not start" >&2; return 1; fi
  local key
  key="$(APP__DATABASE__URL="sqlite://$dir/stack/console/imgflush.db" \
    "$CARGO_TARGET_DIR/release/server" key add --project demo --name bench --role editor | tail -n1)"
  echo "| figure | p50 | p99 | max | goal |" | tee -a "$out"
  echo "|---|---|---|---|---|" | tee -a "$out"
  "$CARGO_TARGET_DIR/release/latency" --console http://127.0.0.1:3100 --key "$key" \
    --origin 127.0.0.1:3103 --count "$count" --paths 10 --rate 20 | tee -a "$out"
  kill "$stack" 2>/dev/null; wait "$stack" 2>/dev/null || true
  rm -rf "$dir"
}

# Each benchmark's section lands in bench/results/NAME.md (with its date and
# revision); RESULTS.md is those sections together.
record() { # name
  local name="$1"
  mkdir -p bench/results
  {
    echo "_$(date -u '+%Y-%m-%d %H:%M UTC'), revision $(git rev-parse --short HEAD)$(git diff --quiet || echo '+local changes')_"
    cat "$out"
  } > "bench/results/$name.md"
  : > "$out"
}

for name in edge latency; do
  [ "$which" = all ] || [ "$which" = "$name" ] || continue
  "run_$name"
  [ "$small" = "1" ] || record "$name"
done
case "$which" in all|edge|latency) ;; *) echo "usage: bench/run.sh [all|edge|latency]" >&2; exit 2 ;; esac

if [ "$small" != "1" ]; then
  {
    echo "# Benchmark results"
    echo
    echo "Written by \`bench/run.sh\` (each section by \`bench/run.sh NAME\`). Benchmarks share the"
    echo "machine's cores with what they measure; where a peer exists it is measured in the same run."
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "- CPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    for f in bench/results/*.md; do cat "$f"; echo; done
  } > bench/RESULTS.md
  say "wrote bench/RESULTS.md"
fi
