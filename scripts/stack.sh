#!/usr/bin/env bash
# The whole local stack on loopback, each process in its own working directory
# under $STACK_DIR (default ./data/stack):
#
#   demo origin   http://127.0.0.1:3003      server demo origin
#   edge          http://127.0.0.1:3002      server edge (settings from the console;
#                 http://127.0.0.1:3004      its admin listener: purges and metrics)
#   varnish-1     http://127.0.0.1:6081      varnishd + deploy/varnish/imgflush.vcl
#   varnish-2     http://127.0.0.1:6082      varnishd + deploy/varnish/imgflush.vcl
#   console       http://127.0.0.1:3000      server serve (SQLite in $STACK_DIR/console)
#
# The demo project lists the edge and both nodes as purge targets. Prints the
# URLs to open; Ctrl-C stops every process it started. Ports: STACK_CONSOLE_PORT,
# STACK_EDGE_PORT, STACK_EDGE_ADMIN_PORT, STACK_ORIGIN_PORT, STACK_VARNISH_PORTS ("6081 6082").
# STACK_DEBUG=1 uses a debug build (faster to build, slower to run).
# STACK_READY_FILE=path: write "ready" there once everything is up (bench/).
source "$(dirname "$0")/tools.sh"
install_rust_tools
install_node_tools
apt_install varnish varnish-modules curl
cd "$ROOT"

STACK_DIR="$(mkdir -p "${STACK_DIR:-$ROOT/data/stack}" && cd "${STACK_DIR:-$ROOT/data/stack}" && pwd)"
CONSOLE_PORT="${STACK_CONSOLE_PORT:-3000}"
EDGE_PORT="${STACK_EDGE_PORT:-3002}"
EDGE_ADMIN_PORT="${STACK_EDGE_ADMIN_PORT:-3004}"
ORIGIN_PORT="${STACK_ORIGIN_PORT:-3003}"
read -r -a VARNISH_PORTS <<< "${STACK_VARNISH_PORTS:-6081 6082}"

for port in "$CONSOLE_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$ORIGIN_PORT" "${VARNISH_PORTS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use (another stack or ./scripts/start.sh?); stop it or set the STACK_*_PORT variables" >&2
    exit 1
  fi
done

if [ "${STACK_DEBUG:-0}" = "1" ]; then
  say "building the site and server (debug)"
  cargo leptos build --split
  BIN="$CARGO_TARGET_DIR/debug/server"
else
  say "building the site and server (release)"
  cargo leptos build --release --split
  BIN="$CARGO_TARGET_DIR/release/server"
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  say "stopping the stack"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "${1:-0}"
}
trap 'stop_all 0' INT TERM
trap 'stop_all 1' EXIT

secret() { # a secret kept in a file of the stack, made once
  local file="$STACK_DIR/$1"
  [ -s "$file" ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file")
  cat "$file"
}
wait_http() { # url name
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$2 did not come up ($1); its log: $STACK_DIR/$2/log" >&2
  exit 1
}

SETTINGS_TOKEN="$(secret settings.token)"
EDGE_SECRET="$(secret edge.secret)"
NODE_SECRET="$(secret varnish.secret)"
mkdir -p "$STACK_DIR"/{console,origin,edge}

# The console and the CLI share its configuration through the environment.
export APP__DATABASE__URL="sqlite://$STACK_DIR/console/imgflush.db"
export APP__EDGE__EMBEDDED=false
export APP__EDGE__SETTINGS_TOKEN="$SETTINGS_TOKEN"
export APP__EDGE__DATA_DIR="$STACK_DIR/origin"
export APP__TARGETS__ALLOWED_NETWORKS="127.0.0.0/8,::1/128"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_SITE_ADDR="127.0.0.1:$CONSOLE_PORT"

say "console on http://127.0.0.1:$CONSOLE_PORT"
(cd "$STACK_DIR/console" && exec "$BIN" serve) > >(tee "$STACK_DIR/console/log") 2>&1 &
pids+=($!)
(cd "$STACK_DIR/origin" && exec "$BIN" demo origin --listen "127.0.0.1:$ORIGIN_PORT") > "$STACK_DIR/origin/log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$CONSOLE_PORT/readyz" console
wait_http "http://127.0.0.1:$ORIGIN_PORT/sample.jpg" origin

(cd "$STACK_DIR/edge" && EDGE_PURGE_SECRET="$EDGE_SECRET" EDGE_SETTINGS_TOKEN="$SETTINGS_TOKEN" \
  exec "$BIN" edge --listen "127.0.0.1:$EDGE_PORT" --admin-listen "127.0.0.1:$EDGE_ADMIN_PORT" \
  --cache-dir "$STACK_DIR/edge/cache" \
  --console "http://127.0.0.1:$CONSOLE_PORT") > "$STACK_DIR/edge/log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$EDGE_PORT/healthz" edge

node_urls=()
i=0
for port in "${VARNISH_PORTS[@]}"; do
  i=$((i + 1))
  dir="$STACK_DIR/varnish-$i"
  mkdir -p "$dir" && chmod 755 "$dir"  # varnishd compiles the VCL as user vcache
  sh deploy/varnish/mknode.sh "$dir" --secret "$NODE_SECRET" --backend "127.0.0.1:$EDGE_PORT"
  if [ "$(id -u)" = 0 ] && id vcache >/dev/null 2>&1 && ! runuser -u vcache -- test -r "$dir/imgflush-node.vcl"; then
    echo "varnishd compiles the VCL as user vcache, which cannot read $dir:" >&2
    echo "  make its parent directories traversable (chmod o+x) or choose another STACK_DIR" >&2
    exit 1
  fi
  varnishd -F -n "$dir/work" -a "127.0.0.1:$port" -T 127.0.0.1:0 -s malloc,64m \
    -p "vcl_path=$dir:/etc/varnish:/usr/share/varnish/vcl" -f "$ROOT/deploy/varnish/imgflush.vcl" \
    > "$dir/log" 2>&1 &
  pids+=($!)
  node_urls+=("http://127.0.0.1:$port")
done
i=0
for url in "${node_urls[@]}"; do i=$((i + 1)); wait_http "$url/healthz" "varnish-$i"; done

# The demo project's own purge secret on the edge (never the node secret).
IMGFLUSH_TARGET_SECRET="$(EDGE_PURGE_SECRET="$EDGE_SECRET" "$BIN" edge secret --token demo)" \
  "$BIN" demo wire --origin "127.0.0.1:$ORIGIN_PORT" \
  --target "edge,edge-1,http://127.0.0.1:$EDGE_ADMIN_PORT/_purge"
wire=()
i=0
for url in "${node_urls[@]}"; do i=$((i + 1)); wire+=(--target "varnish,varnish-$i,$url/"); done
IMGFLUSH_TARGET_SECRET="$NODE_SECRET" "$BIN" demo wire --origin "127.0.0.1:$ORIGIN_PORT" "${wire[@]}"

image="demo/127.0.0.1:$ORIGIN_PORT/sample.jpg?w=400"
cat <<EOF

  The local stack is up (working directories and logs in $STACK_DIR):
    console     http://127.0.0.1:$CONSOLE_PORT/p/demo/invalidation   (the login is printed above on first start)
    edge        http://127.0.0.1:$EDGE_PORT/$image
$(for url in "${node_urls[@]}"; do echo "    varnish     $url/$image"; done)
  Change the origin image:  APP__EDGE__DATA_DIR=$STACK_DIR/origin $BIN demo swap
  then invalidate /127.0.0.1:$ORIGIN_PORT/sample.jpg on the console and reload the URLs.
  Ctrl-C stops everything.
EOF
[ -n "${STACK_READY_FILE:-}" ] && echo ready > "$STACK_READY_FILE"
wait -n "${pids[@]}" || true
echo "a process of the stack stopped; see the logs in $STACK_DIR" >&2
stop_all 1
