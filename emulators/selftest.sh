#!/usr/bin/env bash
# Self-test of every emulator, on loopback only. Exits non-zero on any failure.
#   emulators/selftest.sh        (after `source scripts/tools.sh && install_emulators`)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${IMGFLUSH_VENV:-$HOME/.cache/imgflush/venv}/bin/python"
[ -x "$PY" ] || { echo "no emulator venv at $PY: run install_emulators (scripts/tools.sh)"; exit 2; }
TMP="$(mktemp -d)"
PIDS=()
PASS=0
FAIL=0
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# start NAME cmd... : runs it, waits for its READY line, leaves the line in $TMP/NAME.out
start() {
  local name="$1"; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=("$!")
  for _ in $(seq 300); do
    grep -q '^READY ' "$TMP/$name.out" 2>/dev/null && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.2
  done
  echo "FAIL $name did not print READY"; cat "$TMP/$name.err"; exit 1
}
port() { awk '{print $2}' "$TMP/$1.out"; }

# expect CODE NAME curl-args... : the HTTP status must be CODE
expect() {
  local want="$1" name="$2"; shift 2
  local got
  got="$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 20 "$@")"
  if [ "$got" = "$want" ]; then PASS=$((PASS+1)); echo "ok   $name ($got)"
  else FAIL=$((FAIL+1)); echo "FAIL $name: want $want, got $got: $(head -c 300 "$TMP/body")"; fi
}
# body_has TEXT NAME : the last answer's body contains TEXT
body_has() {
  if grep -qF -- "$1" "$TMP/body"; then PASS=$((PASS+1)); echo "ok   $2"
  else FAIL=$((FAIL+1)); echo "FAIL $2: body lacks $1: $(head -c 300 "$TMP/body")"; fi
}
J='Content-Type: application/json'

echo "--- Fastly fake"
start fastly "$PY" "$HERE/fastly_fake.py" --port 0 --key fk --service SVC1 --purge-select-key sel
F="http://127.0.0.1:$(port fastly)"
expect 200 "bulk purge" -XPOST -H 'Fastly-Key: fk' -H "$J" -d "@$HERE/fixtures/fastly/bulk_purge_request.json" "$F/service/SVC1/purge"
body_has '"key_3": "108-' "bulk purge answers a purge id per key"
expect 200 "soft bulk purge via Surrogate-Key header" -XPOST -H 'Fastly-Key: fk' -H 'Fastly-Soft-Purge: 1' -H 'Surrogate-Key: a b' "$F/service/SVC1/purge"
expect 401 "wrong Fastly-Key" -XPOST -H 'Fastly-Key: nope' -H "$J" -d '{"surrogate_keys":["a"]}' "$F/service/SVC1/purge"
body_has 'Provided credentials are missing or invalid' "Fastly error body"
expect 401 "no Fastly-Key" -XPOST -H "$J" -d '{"surrogate_keys":["a"]}' "$F/service/SVC1/purge"
KEYS=$(python3 -c 'import json; print(json.dumps({"surrogate_keys":["k%d"%i for i in range(257)]}))')
expect 400 "257 keys" -XPOST -H 'Fastly-Key: fk' -H "$J" -d "$KEYS" "$F/service/SVC1/purge"
expect 400 "malformed body" -XPOST -H 'Fastly-Key: fk' -H "$J" -d '{"surrogate_keys":"a"}' "$F/service/SVC1/purge"
expect 200 "single key" -XPOST -H 'Fastly-Key: fk' "$F/service/SVC1/purge/key_1"
expect 200 "purge_all" -XPOST -H 'Fastly-Key: fk' "$F/service/SVC1/purge_all"
body_has '"status": "ok"' "purge_all answers status ok"
expect 403 "purge_all with a purge_select token" -XPOST -H 'Fastly-Key: sel' "$F/service/SVC1/purge_all"
expect 200 "service details" -H 'Fastly-Key: fk' "$F/service/SVC1"
expect 404 "unknown service" -H 'Fastly-Key: fk' "$F/service/NOPE"
expect 200 "/__requests" "$F/__requests"
body_has '"Fastly-Soft-Purge": "1"' "requests recorded with headers"
expect 200 "DELETE /__requests" -XDELETE "$F/__requests"
curl -s "$F/__requests" > "$TMP/body"; body_has '[]' "/__requests cleared"

echo "--- Bunny fake"
start bunny "$PY" "$HERE/bunny_fake.py" --port 0 --key bk --zone 777
B="http://127.0.0.1:$(port bunny)"
expect 204 "purgeCache whole zone" -XPOST -H 'AccessKey: bk' "$B/pullzone/777/purgeCache"
expect 204 "purgeCache by tag" -XPOST -H 'AccessKey: bk' -H "$J" -d "@$HERE/fixtures/bunny/purge_cache_request.json" "$B/pullzone/777/purgeCache"
expect 400 "purgeCache malformed body" -XPOST -H 'AccessKey: bk' -H "$J" -d '{"CacheTag":' "$B/pullzone/777/purgeCache"
expect 404 "purgeCache unknown zone" -XPOST -H 'AccessKey: bk' "$B/pullzone/1/purgeCache"
expect 401 "wrong AccessKey" -XPOST -H 'AccessKey: x' "$B/pullzone/777/purgeCache"
expect 401 "no AccessKey" -XPOST "$B/pullzone/777/purgeCache"
expect 200 "purge URL (POST, wildcard)" -XPOST -H 'AccessKey: bk' "$B/purge?url=https%3A%2F%2Fz.b-cdn.net%2Fimg%2F*"
expect 200 "purge URL (GET)" -H 'AccessKey: bk' "$B/purge?url=https%3A%2F%2Fz.b-cdn.net%2Fa.jpg"
expect 400 "purge without url" -XPOST -H 'AccessKey: bk' "$B/purge"
expect 200 "pull zone details" -H 'AccessKey: bk' "$B/pullzone/777"
expect 404 "unknown pull zone" -H 'AccessKey: bk' "$B/pullzone/1"

echo "--- fault proxy (in front of the Bunny fake)"
start fault "$PY" "$HERE/fault_proxy.py" --port 0 --upstream "$B" --provider bunny
X="http://127.0.0.1:$(port fault)"
curl -s -XDELETE "$B/__requests" >/dev/null
expect 204 "passes through" -XPOST -H 'AccessKey: bk' "$X/pullzone/777/purgeCache"
expect 200 "arm a queue" -XPOST -d '[{"mode":"429","retry_after":2,"times":1},{"mode":"500","times":2},{"mode":"refuse_token","times":1}]' "$X/__fault"
curl -s -D "$TMP/hdr" -o "$TMP/body" -XPOST -H 'AccessKey: bk' "$X/pullzone/777/purgeCache" >/dev/null
if grep -q '^HTTP/1.1 429' "$TMP/hdr" && grep -qi '^Retry-After: 2' "$TMP/hdr"; then PASS=$((PASS+1)); echo "ok   429 with Retry-After"; else FAIL=$((FAIL+1)); echo "FAIL 429 with Retry-After: $(cat "$TMP/hdr")"; fi
expect 500 "500 #1" -XPOST -H 'AccessKey: bk' "$X/pullzone/777/purgeCache"
expect 500 "500 #2" -XPOST -H 'AccessKey: bk' "$X/pullzone/777/purgeCache"
expect 401 "refuse_token" -XPOST -H 'AccessKey: bk' "$X/pullzone/777/purgeCache"
body_has 'Authorization has been denied' "bunny-shaped refusal"
expect 204 "faults used up" -XPOST -H 'AccessKey: bk' "$X/pullzone/777/purgeCache"
expect 200 "arm hang 1s" -XPOST -d '{"mode":"hang","seconds":1,"times":1}' "$X/__fault"
expect 000 "hang then connection closed" -H 'AccessKey: bk' "$X/pullzone/777"
expect 200 "arm path-limited 503" -XPOST -d '{"mode":"503","path_prefix":"/purge"}' "$X/__fault"
expect 200 "other paths unaffected" -H 'AccessKey: bk' "$X/pullzone/777"
expect 503 "matching path faulted" -H 'AccessKey: bk' "$X/purge?url=https%3A%2F%2Fa.b%2Fc"
expect 200 "mode none" -XPOST -d '{"mode":"none"}' "$X/__fault"
expect 200 "cleared" -H 'AccessKey: bk' "$X/purge?url=https%3A%2F%2Fa.b%2Fc"
curl -s "$X/__requests" > "$TMP/body"; body_has '"ts_ms": ' "proxy records with ts_ms"; body_has '"fault": "429"' "proxy records the fault applied"
curl -s "$X/__upstream/__requests" > "$TMP/body"
N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/body")
if [ "$N" = 4 ]; then PASS=$((PASS+1)); echo "ok   upstream saw only the 4 unfaulted requests"; else FAIL=$((FAIL+1)); echo "FAIL upstream saw $N requests, want 4"; fi
start fault2 "$PY" "$HERE/fault_proxy.py" --port 0 --upstream "$F" --provider akamai --require-header "Authorization=EG1-HMAC-SHA256 "
expect 401 "--require-header refuses, Akamai-shaped" -XPOST "http://127.0.0.1:$(port fault2)/x"
body_has 'pep-authn/deny' "akamai problem+json"

echo "--- Prism: Cloudflare"
start prism_cf "$PY" "$HERE/prism_launch.py" --api cloudflare --port 0
C="http://127.0.0.1:$(port prism_cf)"
Z=023e105f4ecef8ad9ca31a8372d0c353
expect 200 "purge by tags, Bearer" -XPOST -H 'Authorization: Bearer x' -H "$J" -d '{"tags":["a"]}' "$C/zones/$Z/purge_cache"
expect 200 "purge files, Bearer" -XPOST -H 'Authorization: Bearer x' -H "$J" -d '{"files":["https://example.com/a.jpg"]}' "$C/zones/$Z/purge_cache"
expect 200 "purge_everything, X-Auth-Email/Key" -XPOST -H 'X-Auth-Email: a@example.com' -H 'X-Auth-Key: k' -H "$J" -d '{"purge_everything":true}' "$C/zones/$Z/purge_cache"
expect 422 "tags not a list" -XPOST -H 'Authorization: Bearer x' -H "$J" -d '{"tags":"a"}' "$C/zones/$Z/purge_cache"
expect 422 "empty object" -XPOST -H 'Authorization: Bearer x' -H "$J" -d '{}' "$C/zones/$Z/purge_cache"
expect 422 "zone id not 32 hex" -XPOST -H 'Authorization: Bearer x' -H "$J" -d '{"tags":["a"]}' "$C/zones/xyz/purge_cache"
expect 401 "no credentials" -XPOST -H "$J" -d '{"tags":["a"]}' "$C/zones/$Z/purge_cache"
expect 404 "base path /client/v4 is not mounted" -XPOST -H 'Authorization: Bearer x' -H "$J" -d '{"tags":["a"]}' "$C/client/v4/zones/$Z/purge_cache"
expect 200 "token verify" -H 'Authorization: Bearer x' "$C/user/tokens/verify"
expect 401 "token verify without token" "$C/user/tokens/verify"
expect 200 "zone details" -H 'Authorization: Bearer x' "$C/zones/$Z"

echo "--- Prism: Akamai CCU v3"
start prism_ak "$PY" "$HERE/prism_launch.py" --api akamai --port 0
A="http://127.0.0.1:$(port prism_ak)"
expect 201 "invalidate url" -XPOST -H "$J" -d '{"objects":["https://foo1.bar.com/some/path"]}' "$A/invalidate/url/production"
expect 201 "delete tag staging" -XPOST -H "$J" -d '{"objects":["t1"]}' "$A/delete/tag/staging"
expect 201 "invalidate cpcode" -XPOST -H "$J" -d '{"objects":[12345]}' "$A/invalidate/cpcode/production"
expect 400 "cpcode not an integer" -XPOST -H "$J" -d '{"objects":["abc"]}' "$A/invalidate/cpcode/production"
expect 400 "unknown network" -XPOST -H "$J" -d '{"objects":["https://foo1.bar.com/x"]}' "$A/invalidate/url/prod"
expect 400 "objects missing" -XPOST -H "$J" -d '{"urls":["x"]}' "$A/invalidate/url/production"

echo "--- moto + CloudFront proxy"
start moto "$PY" "$HERE/moto_launch.py" --port 0 --proxy-port 0
read -r _ CFP KEY SECRET DIST MOTOP < "$TMP/moto.out"
if "$PY" "$HERE/selftest_cloudfront.py" "$CFP" "$KEY" "$SECRET" "$DIST" "$MOTOP"; then PASS=$((PASS+1)); else FAIL=$((FAIL+1)); fi

echo "--- SIGTERM"
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
for p in "${PIDS[@]}"; do
  if wait "$p"; then PASS=$((PASS+1)); else FAIL=$((FAIL+1)); echo "FAIL pid $p did not exit 0 on SIGTERM"; fi
done
PIDS=()
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
