#!/usr/bin/env bash
# The Debian package, as an operator installs it: builds it (scripts/package.sh),
# installs it with `apt-get install ./imgflush_….deb` (its dependencies come
# too), checks the units with `systemd-analyze verify`, then starts the
# installed binary the way each unit says (ExecStart, Environment,
# EnvironmentFile, UMask, an unprivileged user with no new privileges) and signs
# in to the console. These machines have no systemd running: the units'
# sandboxing itself is not exercised here, only their commands and settings.
#
#   deploy/debian/test.sh           build, install, run
#   BUILD=0 deploy/debian/test.sh   package the last release build
source "$(dirname "$0")/../../scripts/tools.sh"
cd "$ROOT"

deb="$(bash scripts/package.sh | tail -n1)"
say "apt-get install $deb"
case "$deb" in /*) ;; *) deb="./$deb" ;; esac
DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq --reinstall "$deb" >/dev/null

say "what the package installed"
for f in /usr/bin/imgflush /usr/share/imgflush/site/pkg/imgflush.js /usr/share/imgflush/site/pkg/imgflush.css \
  /etc/imgflush/imgflush.toml /lib/systemd/system/imgflush-console.service \
  /lib/systemd/system/imgflush-worker.service /lib/systemd/system/imgflush-edge@.service \
  /usr/share/imgflush/varnish/imgflush.vcl /usr/share/imgflush/prometheus/imgflush-rules.yml \
  /usr/share/imgflush/grafana/imgflush.json /usr/share/doc/imgflush/examples/edge.env; do
  [ -e "$f" ] || { echo "missing after install: $f" >&2; exit 1; }
done
dpkg-query -W -f='${Depends}\n' imgflush | grep -q libturbojpeg0 \
  || { echo "the package does not depend on libturbojpeg0: $(dpkg-query -W -f='${Depends}' imgflush)" >&2; exit 1; }
# Passkeys' signature checks link OpenSSL 3.
dpkg-query -W -f='${Depends}\n' imgflush | grep -q libssl3 \
  || { echo "the package does not depend on libssl3: $(dpkg-query -W -f='${Depends}' imgflush)" >&2; exit 1; }
/usr/bin/imgflush config check >/dev/null

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if command -v systemd-analyze >/dev/null; then
  say "systemd-analyze verify"
  # A template is verified through an instance.
  cp /lib/systemd/system/imgflush-edge@.service "$work/imgflush-edge@ci.service"
  out="$(systemd-analyze verify --man=no /lib/systemd/system/imgflush-console.service \
    /lib/systemd/system/imgflush-worker.service "$work/imgflush-edge@ci.service" 2>&1)" \
    || { echo "$out" >&2; exit 1; }
  # Warnings about this machine (no systemd running) are not the units' fault;
  # anything naming our units is.
  if echo "$out" | grep -i "imgflush" | grep -vi "Failed to .* bus\|No such file or directory.*\.env"; then
    exit 1
  fi
else
  echo "systemd-analyze is not installed: the unit files are not verified"
fi

# run UNIT INSTANCE ENVFILE: what systemd would start for UNIT, with ENVFILE's
# content standing in for the unit's EnvironmentFile=, as `nobody`
# (DynamicUser=) without new privileges (NoNewPrivileges=), under UMask=. The
# state and cache directories (/var/lib/imgflush, /var/cache/imgflush/…) are
# made under $work/root, as StateDirectory=/CacheDirectory= would make them.
run() {
  local unit="/lib/systemd/system/$1" instance="$2" envfile="$3" root="$work/root"
  local exec_start umask workdir
  exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
  umask="$(sed -n 's/^UMask=//p' "$unit")"
  workdir="$(sed -n 's/^WorkingDirectory=//p' "$unit")"
  workdir="$root${workdir//%i/$instance}"
  mkdir -p "$workdir" && chown -R nobody:nogroup "$root" && chmod 700 "$workdir"
  local -a vars=()
  while IFS= read -r kv; do vars+=("${kv//%i/$instance}"); done < <(sed -n 's/^Environment=//p' "$unit")
  if [ -n "$envfile" ]; then
    while IFS= read -r kv; do vars+=("$kv"); done < <(grep -v '^[[:space:]]*#' "$envfile" | grep '=')
  fi
  vars=("${vars[@]//=\/var\//=$root/var/}")
  (cd "$workdir" && umask "$umask" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
    env -i PATH=/usr/bin:/bin "${vars[@]}" $exec_start) >"$work/$instance.log" 2>&1 &
  pids+=($!)
}

wait_for() { # FILE TEXT
  for _ in $(seq 1 120); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  exit 1
}

token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$work/imgflush.env" <<ENV
APP__EDGE__SETTINGS_TOKEN=$token
ENV
say "starting imgflush-console as its unit says"
run imgflush-console.service console "$work/imgflush.env"
wait_for "$work/console.log" "listening on"
wait_for "$work/console.log" "password:"
email="$(sed -n 's/^ *e-mail: *//p' "$work/console.log" | head -n1)"
password="$(sed -n 's/^ *password: *//p' "$work/console.log" | head -n1)"
base="http://127.0.0.1:3000"

say "signing in as $email"
jar="$work/cookies"
status="$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" -b "$jar" -H "Origin: $base" \
  --data-urlencode "email=$email" --data-urlencode "password=$password" "$base/login")"
case "$status" in 303\ "$base/"*) ;; *) echo "sign-in answered $status" >&2; cat "$work/console.log" >&2; exit 1 ;; esac
# The only project's page is where "/" takes its user.
curl -sfL -b "$jar" "$base/" | grep -q '<h1>Invalidation' \
  || { echo "no Invalidation page for the sample project after sign-in" >&2; exit 1; }
for asset in pkg/imgflush.js pkg/imgflush.css pkg/imgflush.wasm; do
  curl -sf -o /dev/null "$base/$asset" || { echo "$asset is not served from /usr/share/imgflush/site" >&2; exit 1; }
done

say "starting imgflush-worker as its unit says"
run imgflush-worker.service worker "$work/imgflush.env"
wait_for "$work/worker.log" "worker metrics on"
curl -sf "http://127.0.0.1:9101/metrics" | grep -q '^imgflush_' || { echo "the worker's /metrics is empty" >&2; exit 1; }

say "starting imgflush-edge@ci as its unit says"
cat >"$work/edge-ci.env" <<ENV
EDGE_LISTEN=127.0.0.1:18081
EDGE_ADMIN_LISTEN=127.0.0.1:18082
EDGE_CONSOLE_URL=$base
EDGE_SETTINGS_TOKEN=$token
EDGE_PURGE_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
ENV
run "imgflush-edge@.service" ci "$work/edge-ci.env"
for _ in $(seq 1 60); do curl -sf -o /dev/null http://127.0.0.1:18082/metrics && break; sleep 0.5; done
curl -sf http://127.0.0.1:18082/metrics | grep -q '^edge_' || { echo "the edge's /metrics is empty:" >&2; cat "$work/ci.log" >&2; exit 1; }
cache="$work/root/var/cache/imgflush/edge-ci"
[ -n "$(ls -A "$cache" 2>/dev/null)" ] || { echo "the edge wrote nothing in $cache" >&2; exit 1; }
[ -f "$work/root/var/lib/imgflush/data/imgflush.db" ] || { echo "no database in the state directory" >&2; exit 1; }

say "stopping them (SIGTERM, as systemctl stop does)"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || { echo "a service exited with $? on SIGTERM" >&2; exit 1; }; done
pids=()
say "the installed package works"
