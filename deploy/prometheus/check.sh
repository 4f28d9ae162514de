#!/usr/bin/env bash
# Checks the Prometheus rules, the example scrape configuration and the
# Grafana dashboard of deploy/, then proves on a live stack that every metric
# they name is exported:
#
#   1. installs Debian's prometheus (promtool) when missing, without starting
#      its system service (never used here);
#   2. promtool check rules / check config;
#   3. promtool test rules (imgflush-rules.test.yml: synthetic series);
#   4. the dashboard: valid JSON, the ${datasource} variable, every panel
#      titled with a PromQL target;
#   5. starts a console (`server serve`, fresh SQLite in a temp dir), a worker
#      (`server worker --metrics-listen`) and a standalone edge, wires the edge
#      as the demo project's purge target, starts Prometheus scraping the three
#      every second with the rules loaded, and asks its HTTP API that every
#      metric name of the rules and the dashboard exists, every panel's query
#      runs and every rule evaluates without error; then one invalidation
#      purges the edge and the counters must move. Loopback only; everything
#      it started is stopped on exit.
#
#   bash deploy/prometheus/check.sh
#
# The server binary: $IMGFLUSH_SERVER_BIN, else ${CARGO_TARGET_DIR}/debug/server
# (scripts/tools.sh defaults CARGO_TARGET_DIR to ~/.cache/imgflush/target),
# built with `cargo build -p server --bin server` when missing.
# CHECK_KEEP=1 keeps the temp dir (logs, Prometheus data) for a look afterwards.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/tools.sh"
cd "$ROOT"
started=$(date +%s)
RULES="$here/imgflush-rules.yml"
RULE_TESTS="$here/imgflush-rules.test.yml"
EXAMPLE="$here/prometheus.yml"
DASHBOARD="$ROOT/deploy/grafana/imgflush.json"
NAMES="$here/promql_names.py"

# 1. promtool and prometheus (Debian's package; its service is kept from starting).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  prc=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $(need_root) tee /usr/sbin/policy-rc.d >/dev/null
    $(need_root) chmod 0755 /usr/sbin/policy-rc.d
    prc=1
  fi
  rc=0
  apt_install prometheus || rc=$?
  if [ -n "$prc" ]; then $(need_root) rm -f /usr/sbin/policy-rc.d; fi
  if [ "$rc" -ne 0 ] || ! command -v promtool >/dev/null 2>&1; then
    echo "could not install Debian's prometheus (promtool)" >&2
    exit 1
  fi
fi
promtool --version 2>&1 | head -n 1
command -v curl >/dev/null 2>&1 || apt_install curl

# 2. Syntax and semantics of the rules and the example configuration.
say "promtool check rules / check config"
promtool check rules "$RULES"
promtool check config "$EXAMPLE"

# 3. The alerts fire (and stay quiet) on synthetic series.
say "promtool test rules"
promtool test rules "$RULE_TESTS"

# 4. The dashboard.
say "Grafana dashboard: JSON, datasource variable, panels"
python3 -m json.tool "$DASHBOARD" >/dev/null
python3 "$NAMES" dashboard "$DASHBOARD"

# 5. A live console, worker and edge, scraped by a real Prometheus.
SERVER_BIN="${IMGFLUSH_SERVER_BIN:-${CARGO_TARGET_DIR:-target}/debug/server}"
if [ ! -x "$SERVER_BIN" ]; then
  if [ -n "${IMGFLUSH_SERVER_BIN:-}" ]; then
    echo "IMGFLUSH_SERVER_BIN=$IMGFLUSH_SERVER_BIN is not an executable" >&2
    exit 1
  fi
  say "building the server binary (cargo build -p server --bin server)"
  cargo build -p server --bin server
fi
case "$SERVER_BIN" in /*) ;; *) SERVER_BIN="$ROOT/$SERVER_BIN" ;; esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/imgflush-prom.XXXXXX")"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for log in "$tmp"/*.log; do
      [ -f "$log" ] || continue
      echo "---- last lines of $(basename "$log")" >&2
      tail -n 15 "$log" >&2
    done
  fi
  if [ -n "${CHECK_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports: the OS picks them, they are released just before use.
read -r CONSOLE_PORT WORKER_PORT EDGE_PORT EDGE_ADMIN_PORT PROM_PORT < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
SETTINGS_TOKEN="$(secret)"  # 48 characters: edge.settings_token needs 32 or more
EDGE_SECRET="$(secret)"
mkdir -p "$tmp"/{console,worker,edge,prometheus}

start() { # name dir command...: runs in dir, logs to $tmp/name.log
  local name=$1 dir=$2
  shift 2
  (cd "$dir" && exec "$@") >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}
wait_http() { # url name
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$2 did not come up ($1)" >&2
  exit 1
}

# The console, the CLI and the worker share their configuration through the environment.
export DATABASE_URL="sqlite://$tmp/console/imgflush.db"
export APP__EDGE__EMBEDDED=false
export APP__EDGE__SETTINGS_TOKEN="$SETTINGS_TOKEN"
export APP__EDGE__DATA_DIR="$tmp/console/edge-data"
export APP__TARGETS__ALLOWED_NETWORKS="127.0.0.0/8"
export LEPTOS_SITE_ADDR="127.0.0.1:$CONSOLE_PORT"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
unset APP__METRICS__TOKEN

say "console, worker and edge on 127.0.0.1 ($tmp)"
start console "$tmp/console" "$SERVER_BIN" serve
wait_http "http://127.0.0.1:$CONSOLE_PORT/readyz" console
start worker "$tmp/worker" "$SERVER_BIN" worker --metrics-listen "127.0.0.1:$WORKER_PORT"
start edge "$tmp/edge" "$SERVER_BIN" edge --listen "127.0.0.1:$EDGE_PORT" \
  --admin-listen "127.0.0.1:$EDGE_ADMIN_PORT" --cache-dir "$tmp/edge/cache" \
  --purge-secret "$EDGE_SECRET" --settings-token "$SETTINGS_TOKEN" \
  --console "http://127.0.0.1:$CONSOLE_PORT"
wait_http "http://127.0.0.1:$WORKER_PORT/metrics" worker
wait_http "http://127.0.0.1:$EDGE_ADMIN_PORT/metrics" edge
# The edge as the demo project's purge target: the per-target series exist
# for every target the database lists.
TARGET_SECRET="$(EDGE_PURGE_SECRET="$EDGE_SECRET" "$SERVER_BIN" edge secret --token demo)"
(cd "$tmp/console" && IMGFLUSH_TARGET_SECRET="$TARGET_SECRET" "$SERVER_BIN" target add --project demo \
  --kind edge --name edge-1 --url "http://127.0.0.1:$EDGE_ADMIN_PORT/_purge") >>"$tmp/cli.log" 2>&1

cp "$RULES" "$tmp/prometheus/imgflush-rules.yml"
cat >"$tmp/prometheus/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - imgflush-rules.yml
scrape_configs:
  - job_name: imgflush-console
    static_configs: [{targets: ["127.0.0.1:$CONSOLE_PORT"]}]
  - job_name: imgflush-worker
    static_configs: [{targets: ["127.0.0.1:$WORKER_PORT"]}]
  - job_name: imgflush-edge
    static_configs: [{targets: ["127.0.0.1:$EDGE_ADMIN_PORT"]}]
EOF
promtool check config "$tmp/prometheus/prometheus.yml" >/dev/null
PROM="http://127.0.0.1:$PROM_PORT"
start prometheus "$tmp/prometheus" prometheus --config.file="$tmp/prometheus/prometheus.yml" \
  --storage.tsdb.path="$tmp/prometheus/data" --web.listen-address="127.0.0.1:$PROM_PORT" \
  --web.console.templates="$tmp/prometheus" --web.console.libraries="$tmp/prometheus"
wait_http "$PROM/-/ready" prometheus

say "waiting for Prometheus to scrape the three (up == 1)"
up=""
for _ in $(seq 1 60); do
  up="$(curl -fsS "$PROM/api/v1/query" --data-urlencode 'query=count(up{job=~"imgflush-.*"} == 1)' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')"
  [ "$up" = "3" ] && break
  sleep 1
done
if [ "$up" != "3" ]; then
  echo "only $up of 3 targets are up:" >&2
  curl -fsS "$PROM/api/v1/targets" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    print(" ", t["labels"]["job"], t["scrapeUrl"], t["health"], t.get("lastError", ""))' >&2
  exit 1
fi
sleep 2  # one more scrape of the per-target series after the target was added

say "every metric name of the rules and the dashboard is exported"
curl -fsS "$PROM/api/v1/label/__name__/values" >"$tmp/names.json"
python3 "$NAMES" missing "$tmp/names.json" "$RULES" "$DASHBOARD"

say "every panel's query runs on the live Prometheus"
python3 "$NAMES" query "$PROM" "$DASHBOARD"

say "every rule evaluates without error on the live series"
evaluated=
for _ in $(seq 1 10); do
  curl -fsS "$PROM/api/v1/rules" >"$tmp/rules.json"
  if python3 - "$tmp/rules.json" "$RULES" <<'EOF'
import json, sys
rules = [r for g in json.load(open(sys.argv[1]))["data"]["groups"] for r in g["rules"]]
expected = open(sys.argv[2]).read().count("- alert:")
bad = [r for r in rules if r.get("health") != "ok"]
if len(rules) != expected or bad:
    print(f"{len(rules)} of {expected} rules loaded; not ok: "
          + ", ".join(f"{r['name']} ({r.get('health')}: {r.get('lastError', '')})" for r in bad))
    sys.exit(1)
firing = [r["name"] for r in rules if r.get("state") == "firing"]
print(f"{len(rules)} rules evaluated, none with an error" + (f"; firing: {firing}" if firing else ""))
EOF
  then evaluated=1; break; fi
  sleep 1
done
[ -n "$evaluated" ]

# The names exist from the start (checked above); now one invalidation goes
# through a worker to the edge and the counters move.
say "one invalidation purges the edge: the per-target and edge counters move"
KEY="$(cd "$tmp/console" && "$SERVER_BIN" key add --project demo --name check 2>>"$tmp/cli.log" | tail -n 1)"
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$CONSOLE_PORT/invalidate" -H "x-client-key: $KEY" \
  -H 'content-type: application/json' --data '{"scope": "original", "urls": ["/sample.li/check.jpg"]}'
moved='sum(imgflush_target_purges_total{target="edge-1",result="ok"}) >= 1 and sum(edge_purges_total) >= 1
  and max(imgflush_invalidations{status="DONE"}) >= 1'
seen=0
for _ in $(seq 1 30); do
  seen="$(curl -fsS "$PROM/api/v1/query" --data-urlencode "query=$moved" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')"
  [ "$seen" = "1" ] && break
  sleep 1
done
if [ "$seen" != "1" ]; then
  echo "the invalidation did not show in the metrics within 30 s ($moved)" >&2
  exit 1
fi
echo "the edge-1 target's purge, the edge's purge and the DONE invalidation are in Prometheus"

echo "check.sh: all checks passed in $(( $(date +%s) - started )) s"
