#!/usr/bin/env bash
# Benchmarks (not tests): prints each table and writes bench/RESULTS.md with the
# machine, date and git revision.
#
#   bench/run.sh            every benchmark below
#   bench/run.sh edge       the edge: HIT vs nginx, MISS vs vipsthumbnail, purge among 100k
#   bench/run.sh hits       the edge's HIT req/s at ~4 KB, ~200 KB and ~2 MB against nginx
#                           (sendfile on) serving the same bytes, same workers and connections
#   bench/run.sh tags       cache tags among 1M cached objects: a tag purge of 1,000, its dry
#                           run, and the edge index's memory per object (in process)
#   bench/run.sh formats    AVIF (rav1e) and WebP of a 4000×3000 JPEG at w=500 against
#                           vipsthumbnail and cwebp at equal SSIM, an AVIF miss over HTTP,
#                           and the automatic format's savings on 20 images
#                           (bench/results/formats.md)
#   bench/run.sh shield     after a purge of everything, 1,000 requests for 100 objects through 4
#                           edges behind one shield vs 4 edges straight to the origin (in process)
#   bench/run.sh latency    submit→DONE through 1 edge + 2 Varnish nodes (scripts/stack.sh)
#   bench/run.sh api        POST /invalidate with wrk at 1/16/64 connections, SQLite and
#                           PostgreSQL (TEST_DATABASE_URL), and the console's memory
#   bench/run.sh pipeline   a backlog drained by one worker process, both databases
#   bench/run.sh cdn        fan-out of one invalidation to 100 and 1,000 targets, and 10,000
#                           invalidations against a provider limited to 5 calls/s, both databases
#   bench/run.sh logpage    the log's first page, a deep page and a path search with 10k
#                           and 1M invalidations stored (`server seed`), both databases
#   bench/run.sh soak       2 consoles + 3 workers SIGKILLed at random on a private
#                           PostgreSQL (restarted once): nothing lost, no concurrent double purge
#   bench/run.sh client     what the browser fetches on the first load of the Invalidation
#                           page (release WASM + JS, raw/gzip/brotli) and the lazy chunks
#   bench/run.sh results    only rebuild RESULTS.md from bench/results/*.md
#
# Release builds; needs wrk, nginx, libvips-tools, varnish (installed when missing).
# BENCH_SMALL=1 runs each at a tiny size (a smoke run, not a measurement), and
# BENCH_PROFILE=debug uses the debug build: `.ci/run` runs api, pipeline and
# logpage that way so none of them rots. Neither writes bench/results.
source "$(dirname "$0")/../scripts/tools.sh"
install_rust_tools
apt_install wrk nginx libvips-tools varnish varnish-modules curl sqlite3 bc
cd "$ROOT"

which="${1:-all}"
small="${BENCH_SMALL:-0}"
profile="${BENCH_PROFILE:-release}"
BIN="$CARGO_TARGET_DIR/$profile"
cargo_profile() { if [ "$profile" = release ]; then echo --release; fi; }
# The console and its site (the API benchmarks need no page, but the server serves the site root).
# BENCH_PREBUILT=1: use the binaries already in $CARGO_TARGET_DIR/$profile (e.g.
# from `cargo build --release -p server -p bench`) and build nothing.
build_server() {
  [ "${BENCH_PREBUILT:-0}" = 1 ] && return 0
  say "building the server ($profile)"
  cargo leptos build $(cargo_profile) --split >/dev/null
}
build_bench() { # BIN
  [ "${BENCH_PREBUILT:-0}" = 1 ] && return 0
  cargo build $(cargo_profile) -p bench --bin "$1"
}
out="$(mktemp)"
# Whatever a benchmark started in the background is stopped with it.
cleanup() {
  local kids; kids="$(jobs -p)"
  [ -z "$kids" ] || kill $kids 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$out"
}
trap cleanup EXIT

section() { printf '\n## %s\n\n' "$1" | tee -a "$out"; }

run_edge() {
  section "Edge (edge/benches/edge.rs)"
  cargo bench -p edge --bench edge 2>/dev/null | tee -a "$out"
}

run_hits() {
  section "Edge HITs by size against nginx with sendfile, 2 workers each, wrk -t2 -c32 (edge/benches/hits.rs)"
  # A smoke run (BENCH_SMALL=1) reuses the tests' debug build.
  local prof=(); [ "$small" = "1" ] && prof=(--profile dev)
  BENCH_SMALL="$small" cargo bench -p edge --bench hits "${prof[@]}" 2>/dev/null | tee -a "$out"
}

run_tags() {
  section "Cache tags among 1,000,000 cached objects, in process (edge/benches/tags.rs)"
  # A smoke run (BENCH_SMALL=1) reuses the tests' debug build.
  local prof=(); [ "$small" = "1" ] && prof=(--profile dev)
  cargo bench -p edge --bench tags "${prof[@]}" 2>/dev/null | tee -a "$out"
}

run_formats() {
  section "Output formats (edge/benches/formats.rs)"
  apt_install libvips-tools webp libavif-bin
  # A smoke run (BENCH_SMALL=1) reuses the tests' debug build.
  local prof=(); [ "$small" = "1" ] && prof=(--profile dev)
  cargo bench -p edge --bench formats "${prof[@]}" 2>/dev/null | tee -a "$out"
}

run_shield() {
  section "Shield tier: origin fetches after a purge of everything, in process (edge/benches/shield.rs)"
  # A smoke run (BENCH_SMALL=1) reuses the tests' debug build.
  local prof=(); [ "$small" = "1" ] && prof=(--profile dev)
  cargo bench -p edge --bench shield "${prof[@]}" 2>/dev/null | tee -a "$out"
}

run_latency() {
  section "Submit→DONE latency through 1 edge and 2 Varnish nodes (bench/src/bin/latency.rs)"
  local count=1000
  [ "$small" = "1" ] && count=20
  build_bench latency
  local dir; dir="$(mktemp -d)"
  chmod 755 "$dir" # varnishd compiles the VCL as user vcache
  local ready="$dir/ready"
  # Ports of their own, so a running ./scripts/start.sh does not matter.
  STACK_DIR="$dir/stack" STACK_READY_FILE="$ready" STACK_CONSOLE_PORT=3100 STACK_EDGE_PORT=3102 \
    STACK_ORIGIN_PORT=3103 STACK_VARNISH_PORTS="6181 6182" APP__API__REQUESTS_PER_MINUTE=1000000 \
    APP__API__REQUESTS_PER_MINUTE_PER_SOURCE=1000000 \
    RUST_LOG=warn ./scripts/stack.sh > "$dir/stack.log" 2>&1 &
  local stack=$!
  for _ in $(seq 1 1800); do [ -f "$ready" ] && break; kill -0 "$stack" 2>/dev/null || break; sleep 1; done
  if [ ! -f "$ready" ]; then cat "$dir/stack.log" >&2; echo "the stack did not start" >&2; return 1; fi
  local key
  key="$(APP__DATABASE__URL="sqlite://$dir/stack/console/imgflush.db" \
    "$BIN/server" key add --project demo --name bench --role editor | tail -n1)"
  header "figure | p50 | p99 | max | goal"
  "$BIN/latency" --console http://127.0.0.1:3100 --key "$key" \
    --origin 127.0.0.1:3103 --count "$count" --paths 10 --rate 20 | tee -a "$out"
  kill "$stack" 2>/dev/null; wait "$stack" 2>/dev/null || true
  rm -rf "$dir"
}

# A release console (worker on, limits raised for the run) on DATABASE_URL=$1,
# port $2; sets CONSOLE_PID and KEY (an editor key of the demo project).
start_console() {
  local db="$1" port="$2" dir
  dir="$(mktemp -d)"
  DATABASE_URL="$db" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$ROOT/target/site" \
    IMGFLUSH_CONFIG=/dev/null APP__EDGE__EMBEDDED=false ADMIN_PASSWORD=bench-admin-password \
    APP__API__REQUESTS_PER_MINUTE=100000000 APP__API__REQUESTS_PER_MINUTE_PER_SOURCE=100000000 \
    RUST_LOG=warn "$BIN/server" serve > "$dir/log" 2>&1 &
  CONSOLE_PID=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break; sleep 0.2; done
  KEY="$(DATABASE_URL="$db" IMGFLUSH_CONFIG=/dev/null "$BIN/server" \
    key add --project demo --name "bench-$port" --role editor | tail -n1)"
}

# A fresh database for one run: sets DB_URL (and PG_NAME for PostgreSQL);
# fails for PostgreSQL without TEST_DATABASE_URL.
fresh_db() { # sqlite|postgres
  PG_NAME=""
  if [ "$1" = sqlite ]; then DB_URL="sqlite://$(mktemp -d)/bench.db"; return 0; fi
  [ -n "${TEST_DATABASE_URL:-}" ] || return 1
  PG_NAME="imgflush_bench_${RANDOM}_$$"
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $PG_NAME" >/dev/null
  DB_URL="${TEST_DATABASE_URL%/*}/$PG_NAME"
}
drop_db() { [ -z "$PG_NAME" ] || psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $PG_NAME WITH (FORCE)" >/dev/null; }

# A Markdown table header: header "a | b | c"
header() {
  printf '| %s |\n|%s|\n' "$1" "$(echo "$1" | sed 's/[^|]*/---/g')" | tee -a "$out"
}

# `server seed`: N finished invalidations in the demo project of database $1.
seed() {
  DATABASE_URL="$1" IMGFLUSH_CONFIG=/dev/null "$BIN/server" seed --project demo --count "$2"
}

# Writes the database's log back into its files (SQLite: a TRUNCATE
# checkpoint; PostgreSQL: VACUUM ANALYZE, which autovacuum would otherwise run
# on the seeded table while the benchmark measures, then CHECKPOINT).
settle() { # URL
  if [[ "$1" == sqlite://* ]]; then
    sqlite3 -cmd ".timeout 30000" "${1#sqlite://}" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  else
    psql "$1" -qc "VACUUM (ANALYZE)" -qc "CHECKPOINT" >/dev/null
  fi
}

rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }

run_api() {
  section "API create: POST /invalidate, 2 paths per request, worker running (bench/api.lua)"
  local secs=10 stored=1000000
  [ "$small" = "1" ] && secs=2 stored=1000
  build_server
  build_bench latency
  local probes=400
  [ "$small" = "1" ] && probes=20
  echo "Each database holds $stored finished invalidations (\`server seed\`) before the run." | tee -a "$out"
  echo | tee -a "$out"
  header "database | connections | 201/s | p50 | p99 | other answers | goal"
  local mem=() loaded=()
  for db in sqlite postgres; do
    fresh_db "$db" || continue
    local goal=5000 port=3300
    [ "$db" = postgres ] && goal=3000 && port=3301
    start_console "$DB_URL" "$port"
    seed "$DB_URL" "$stored" | tee -a "$out"; echo | tee -a "$out"
    # The seed's own log (a 1M-row WAL on SQLite) is written back before the
    # runs, not by the console's checkpointer while wrk measures.
    settle "$DB_URL"
    sleep 1
    local idle; idle="$(rss_kb "$CONSOLE_PID" VmRSS)"
    local peak_rps=0
    for c in 1 16 64; do
      local line
      line="$(IMGFLUSH_KEY="$KEY" wrk -t"$(( c < 2 ? 1 : 2 ))" -c"$c" -d"${secs}s" --latency -s bench/api.lua "http://127.0.0.1:$port" | grep '^RESULT')"
      eval "${line#RESULT }"
      local verdict="NOT met"
      if [ "$c" != 1 ] && [ "${rps%.*}" -ge "$goal" ] && { [ "$db" != sqlite ] || awk "BEGIN {exit !($p99 <= 25)}"; }; then verdict=met; fi
      [ "$c" = 1 ] && verdict="(latency at c=1)"
      echo "| $db | $c | $rps | ${p50} ms | ${p99} ms | $other | >= $goal/s$([ "$db" = sqlite ] && echo ', p99 <= 25 ms'): $verdict |" | tee -a "$out"
      [ "${rps%.*}" -gt "$peak_rps" ] && peak_rps="${rps%.*}"
    done
    # Benchmark 2's second goal: submit→DONE while the API takes half its peak rate,
    # once the worker has drained what the runs above queued.
    local deadline=$((SECONDS + 600))
    while [ "$(sql "$DB_URL" "SELECT count(*) FROM invalidations WHERE finished_ms IS NULL")" != 0 ] &&
      [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
    loaded+=("$("$BIN/latency" --console "http://127.0.0.1:$port" --key "$KEY" --origin sample.li \
      --count "$probes" --paths 2 --rate 20 --load-rate $((peak_rps / 2)) | sed "s/^| Submit/| $db | Submit/")")
    local peak; peak="$(rss_kb "$CONSOLE_PID" VmHWM)"
    local ok="NOT met"; [ "$idle" -le $((30 * 1024)) ] && [ "$peak" -le $((100 * 1024)) ] && ok=met
    mem+=("| $db | $stored | $((idle / 1024)) MB | $((peak / 1024)) MB | $ok")
    kill "$CONSOLE_PID"; wait "$CONSOLE_PID" 2>/dev/null || true
    drop_db
  done
  section "Console memory (resident set): idle, and the peak under the API benchmark above"
  header "database | invalidations stored | idle | peak under load | goal: <= 30 MB idle, <= 100 MB under load"
  for m in "${mem[@]}"; do echo "$m |" | tee -a "$out"; done
  section "Submit→DONE under API load: the worker of the console above, no purge target (bench/src/bin/latency.rs)"
  header "database | figure | p50 | p99 | max | goal"
  for l in "${loaded[@]}"; do echo "$l" | tee -a "$out"; done
}

# One value from the database at URL $1: sql URL QUERY
sql() {
  case "$1" in
    sqlite://*) sqlite3 "${1#sqlite://}" "$2" ;;
    *) psql "$1" -tAc "$2" ;;
  esac
}
finished() { sql "$1" "SELECT count(*) FROM invalidations WHERE status IN ('DONE', 'ERROR', 'ERROR_CDN_NODE')"; }

run_pipeline() {
  section "Pipeline: a backlog drained by one worker process, one edge target answering at once"
  local want=10000 # the backlog: submitted in rounds of 1 s of wrk -c16 with no worker
  [ "$small" = "1" ] && want=500
  build_server
  header "database | backlog | drained in | invalidations/s | goal"
  for db in sqlite postgres; do
    fresh_db "$db" || continue
    local url="$DB_URL" port=3310 dir
    [ "$db" = postgres ] && port=3311
    dir="$(mktemp -d)"
    APP__WORKER__ENABLED=false start_console "$url" "$port"
    # A real edge: its POST /_purge answers at once ({"removed": 0}).
    EDGE_PURGE_SECRET=bench-secret EDGE_SETTINGS_TOKEN=unused-settings-token-of-32-chars "$BIN/server" edge \
      --listen 127.0.0.1:3319 --admin-listen 127.0.0.1:3320 --cache-dir "$dir/edge" \
      --console "http://127.0.0.1:$port" > "$dir/edge.log" 2>&1 &
    local edge=$!
    DATABASE_URL="$url" IMGFLUSH_CONFIG=/dev/null APP__TARGETS__ALLOWED_NETWORKS=127.0.0.0/8 \
      "$BIN/server" target add --project demo --kind edge --name edge-1 \
      --url http://127.0.0.1:3320/_purge \
      --secret "$(EDGE_PURGE_SECRET=bench-secret "$BIN/server" edge secret --token demo)" > /dev/null
    # The backlog: submitted with no worker running.
    local backlog=0
    while [ "$backlog" -lt "$want" ]; do
      IMGFLUSH_KEY="$KEY" wrk -t2 -c16 -d1s -s bench/api.lua "http://127.0.0.1:$port" > /dev/null
      backlog="$(sql "$url" "SELECT count(*) FROM invalidations")"
    done
    local start; start="$(date +%s.%N)"
    DATABASE_URL="$url" IMGFLUSH_CONFIG=/dev/null APP__TARGETS__ALLOWED_NETWORKS=127.0.0.0/8 \
      RUST_LOG=warn "$BIN/server" worker > "$dir/worker.log" 2>&1 &
    local worker=$!
    local deadline=$((SECONDS + 900))
    while [ "$(finished "$url")" -lt "$backlog" ]; do
      [ "$SECONDS" -lt "$deadline" ] || { echo "the worker did not drain the backlog; $dir/worker.log" >&2; return 1; }
      sleep 0.2
    done
    local took; took="$(echo "$(date +%s.%N) - $start" | bc -l)"
    local rate; rate="$(echo "$backlog / $took" | bc -l)"
    local verdict="NOT met"; [ "$db" = sqlite ] && awk "BEGIN {exit !($rate >= 2000)}" && verdict=met
    [ "$db" = postgres ] && verdict="(no goal)"
    printf '| %s | %d | %.1f s | %.0f | %s |\n' "$db" "$backlog" "$took" "$rate" \
      "$([ "$db" = sqlite ] && echo '>= 2,000/s: ')$verdict" | tee -a "$out"
    kill "$worker" "$edge" "$CONSOLE_PID"; wait "$worker" "$edge" "$CONSOLE_PID" 2>/dev/null || true
    drop_db
    rm -rf "$dir"
  done
}

run_cdn() {
  section "CDN targets at scale: fan-out to fleets of targets, and a backlog against a rate-limited provider (bench/src/bin/cdn.rs)"
  local fleets="100 1000" probes=30 backlog=10000
  [ "$small" = "1" ] && fleets="100" && probes=3 && backlog=200
  build_server
  build_bench cdn
  export IMGFLUSH_SECRETS_KEY="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" APP__TARGETS__ALLOWED_NETWORKS=127.0.0.0/8
  header "figure | measured | | | goal"
  for db in sqlite postgres; do
    fresh_db "$db" || continue
    local url="$DB_URL" port=3330 listen=3339 dir
    [ "$db" = postgres ] && port=3331 && listen=3338
    dir="$(mktemp -d)"
    start_console "$url" "$port"
    for n in $fleets; do
      local project="(SELECT id FROM projects WHERE token = 'demo')"
      case "$url" in
        sqlite://*) sql "$url" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
          INSERT INTO targets (project_id, kind, name, url, created_ms)
          SELECT $project, 'webhook', 'hook-' || i, 'http://127.0.0.1:$listen/t/' || i, 0 FROM n" ;;
        *) sql "$url" "INSERT INTO targets (project_id, kind, name, url, created_ms)
          SELECT $project, 'webhook', 'hook-' || i, 'http://127.0.0.1:$listen/t/' || i, 0 FROM generate_series(1, $n) i" >/dev/null ;;
      esac
      printf '| %s ' "$db" | tee -a "$out"
      "$BIN/cdn" fanout --console "http://127.0.0.1:$port" --key "$KEY" --listen "127.0.0.1:$listen" \
        --targets "$n" --count "$probes" | tee -a "$out"
      sql "$url" "DELETE FROM targets" >/dev/null
    done
    DATABASE_URL="$url" IMGFLUSH_CONFIG=/dev/null "$BIN/server" target add --project demo --kind cloudflare \
      --name cf --url "http://127.0.0.1:$listen/client/v4" --setting zone_id=023e105f4ecef8ad9ca31a8372d0c353 \
      --setting api_token=bench-token --setting plan=pro > /dev/null
    printf '| %s ' "$db" | tee -a "$out"
    "$BIN/cdn" backlog --console "http://127.0.0.1:$port" --key "$KEY" --listen "127.0.0.1:$listen" \
      --count "$backlog" --limit 5 | tee -a "$out"
    kill "$CONSOLE_PID"; wait "$CONSOLE_PID" 2>/dev/null || true
    drop_db
    rm -rf "$dir"
  done
}

# The id N/2 rows from the newest: a cursor for a page in the middle of the log.
middle_id() { # URL N
  case "$1" in
    sqlite://*) sqlite3 "${1#sqlite://}" "SELECT lower(hex(id)) FROM invalidations ORDER BY id DESC LIMIT 1 OFFSET $(($2 / 2))" |
      sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12})$/\1-\2-\3-\4-\5/' ;;
    *) psql "$1" -tAc "SELECT id FROM invalidations ORDER BY id DESC LIMIT 1 OFFSET $(($2 / 2))" ;;
  esac
}

run_logpage() {
  section "Log page cost as the log grows: GET /api/v1/invalidations?limit=50 (bench/src/bin/logpage.rs)"
  local sizes="10000 1000000" repeat=200
  [ "$small" = "1" ] && sizes="200 2000" && repeat=10
  build_server
  build_bench logpage
  echo "Server time seen over loopback, sequential calls, 50 rows a page; ms as p50 / p90." | tee -a "$out"
  echo "Deep: a cursor half-way down the log. Search: one image's path, in the middle of the log." | tee -a "$out"
  echo | tee -a "$out"
  header "database | invalidations | first page | deep page | search by path"
  local verdicts=()
  for db in sqlite postgres; do
    local small_first="" small_search="" n first deep search
    for n in $sizes; do
      fresh_db "$db" || continue 2
      APP__WORKER__ENABLED=false start_console "$DB_URL" 3320
      seed "$DB_URL" "$n" > /dev/null
      settle "$DB_URL"
      local line
      # One image's path, as support staff search for it (seeded paths: /seed/{k % 1000}/image-{k}.jpg).
      local k=$((n / 2 + 7))
      line="$("$BIN/logpage" --console http://127.0.0.1:3320 --key "$KEY" --deep "$(middle_id "$DB_URL" "$n")" \
        --search "/seed/$((k % 1000))/image-$k.jpg" --repeat "$repeat" | grep '^RESULT')"
      eval "${line#RESULT }"
      echo "| $db | $n | $first / $first90 | $deep / $deep90 | $search / $search90 |" | tee -a "$out"
      kill "$CONSOLE_PID"; wait "$CONSOLE_PID" 2>/dev/null || true
      drop_db
      if [ -z "$small_first" ]; then small_first="$first" small_search="$search"; fi
    done
    # Goals at the largest size: deep <= 1.5 x first; largest <= 1.5 x smallest (first page and search).
    local r1 r2 r3
    r1="$(echo "$deep / $first" | bc -l)"; r2="$(echo "$first / $small_first" | bc -l)"
    r3="$(echo "$search / $small_search" | bc -l)"
    verdicts+=("$(printf '| %s | %.2f | %.2f | %.2f | %s |' "$db" "$r1" "$r2" "$r3" \
      "$(awk "BEGIN {exit !($r1 <= 1.5 && $r2 <= 1.5 && $r3 <= 1.5)}" && echo met || echo 'NOT met')")")
  done
  echo | tee -a "$out"
  header "database | deep / first page | first page, largest / smallest log | search, largest / smallest | goal: each <= 1.5"
  for v in "${verdicts[@]}"; do echo "$v" | tee -a "$out"; done
}

# Client size: a release build of the site, then what a signed-in Chromium fetches on
# the first load of the Invalidation page (bench/client.mjs), beside the figures of
# the revision before the pages were split (bench/client-before.md, same script).
run_client() {
  section "Client: first load of the Invalidation page, release WASM + JS (bench/client.mjs)"
  install_node_tools
  install_browser
  # A clean pkg/: chunks of an earlier build would count as lazy chunks.
  rm -rf "$ROOT/target/site/pkg"
  cargo leptos build --release --split
  fresh_db sqlite
  start_console "$DB_URL" 3320
  local result
  result="$(node bench/client.mjs --base http://127.0.0.1:3320 --email admin@example.com \
    --password bench-admin-password --pkg "$ROOT/target/site/pkg")"
  kill "$CONSOLE_PID"; wait "$CONSOLE_PID" 2>/dev/null || true
  echo "$result" | grep -v '^RESULT' | tee -a "$out"
  local first_gzip; first_gzip="$(echo "$result" | sed -n 's/^RESULT first_gzip=\([0-9]*\).*/\1/p')"
  local verdict="NOT met"; [ "$first_gzip" -le $((250 * 1024)) ] && verdict=met
  printf '\nGoal: first load (WASM + JS) <= 250 KB gzip: %s (%s KB gzip).\n' "$verdict" \
    "$(awk "BEGIN {printf \"%.1f\", $first_gzip / 1024}")" | tee -a "$out"
  if [ -f bench/client-before.md ]; then
    printf '\n' | tee -a "$out"
    tee -a "$out" < bench/client-before.md
  fi
}

# Each benchmark's section lands in bench/results/NAME.md (with its date and
# revision); RESULTS.md is those sections together.
run_soak() {
  section "Soak: 2 consoles, 3 workers SIGKILLed at random, PostgreSQL restarted, consoles with their workers SIGKILLed (bench/src/bin/soak.rs)"
  # Behaviour under faults, not speed: the small run (CI) uses the debug build.
  local profile=release flag=--release
  [ "$small" = "1" ] && profile=debug flag=
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
  # One build command: the same feature set as the soak's own build, no rebuild.
  cargo build $flag -p server --bin server -p bench --bin soak
  local started=$SECONDS
  "$CARGO_TARGET_DIR/$profile/soak" --server "$CARGO_TARGET_DIR/$profile/server" | tee -a "$out"
  echo "_soak took $((SECONDS - started)) s on the $profile build_" | tee -a "$out"
}

record() { # name
  local name="$1"
  mkdir -p bench/results
  {
    echo "_$(date -u '+%Y-%m-%d %H:%M UTC'), revision $(git rev-parse --short HEAD)$(git diff --quiet || echo '+local changes'), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end_"
    cat "$out"
  } > "bench/results/$name.md"
  : > "$out"
}

case "$which" in all|edge|hits|tags|formats|shield|latency|api|pipeline|cdn|logpage|soak|client|results) ;; *) echo "usage: bench/run.sh [all|edge|hits|tags|formats|shield|latency|api|pipeline|cdn|logpage|soak|client|results]" >&2; exit 2 ;; esac
for name in edge hits tags formats shield latency api pipeline cdn logpage soak client; do
  [ "$which" = all ] || [ "$which" = "$name" ] || continue
  "run_$name"
  [ "$small" = "1" ] || record "$name"
done

if [ "$small" != "1" ]; then
  {
    echo "# Benchmark results"
    echo
    echo "Written by \`bench/run.sh\` (each section by \`bench/run.sh NAME\`). Benchmarks share the"
    echo "machine's cores with what they measure; where a peer exists it is measured in the same run."
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "- CPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo
    for f in bench/results/*.md; do cat "$f"; echo; done
  } > bench/RESULTS.md
  say "wrote bench/RESULTS.md"
fi
