#!/usr/bin/env bash
# The release build without cargo-leptos: what `cargo leptos build --release
# --split` makes (cargo-leptos 0.3.11, src/compile/{front,style,assets}.rs and
# src/wasm_split_tools), step by step, so that a fresh machine does not first
# compile cargo-leptos (9 minutes) or wasm-bindgen-cli to start the console. Used by start.sh and
# package.sh; `cargo leptos watch` stays the development loop.
#
#   scripts/build-release.sh    → $CARGO_TARGET_DIR/release/server and target/site
#
# The cargo arguments and RUSTFLAGS are cargo-leptos's own, so either build
# finds the other's output fresh.
source "$(dirname "$0")/tools.sh"
install_release_tools
cd "$ROOT"

name=imgflush            # Cargo.toml: output-name
site="$ROOT/target/site" # site-root
pkg="$site/pkg"          # site-pkg-dir
front="$CARGO_TARGET_DIR/front"
wasm="$front/wasm32-unknown-unknown/wasm-release/app.wasm"
phase() { say "$1 (${SECONDS}s after the start of the build)"; }

# The tools the steps after the compile need (npm packages, imgflush-site),
# at the lowest CPU priority beside the compile: on a fresh machine they
# compile in the gaps it leaves (its links, the client's one-thread LTO).
(
  renice -n 19 "$BASHPID" >/dev/null
  install_node_tools
  install_site_tool
) &
tools=$!

# The client and the server at once: the client's fat-LTO link runs on one
# core for a minute, which the server's compile fills.
phase "compiling the client (WASM, wasm-release profile) and the server (release)"
RUSTFLAGS="--cfg erase_components -Clink-args=--emit-relocs" \
  cargo build --package=app --lib --target-dir="$front" --target=wasm32-unknown-unknown \
  --no-default-features --features=hydrate --profile=wasm-release &
client=$!
server_status=0
cargo build --package=server --bin=server --no-default-features --features=ssr --release || server_status=$?
client_status=0
wait "$client" || client_status=$?
[ "$client_status" -eq 0 ] || { echo "the client (WASM) build failed" >&2; exit "$client_status"; }
[ "$server_status" -eq 0 ] || { echo "the server build failed" >&2; exit "$server_status"; }
wait "$tools" || { echo "installing the build tools failed" >&2; exit 1; }

phase "splitting the WASM, wasm-bindgen, wasm-opt -Oz, minifying the JS and CSS"
rm -rf "$pkg"
mkdir -p "$pkg"
# Lazy islands' chunks and the loader into pkg/, the main module beside the input.
mapfile -t chunks < <(imgflush-site split "$wasm" "$pkg" "$name")
# wasm-bindgen --target=web --keep-lld-exports --no-demangle, as a library.
imgflush-site bindgen "${wasm%.wasm}_split.wasm" "$pkg" "$name"
mv "$pkg/${name}_bg.wasm" "$pkg/$name.wasm"
# binaryen from end2end/'s npm packages, as cargo-leptos runs it, two at a time.
printf '%s\n' "$pkg/$name.wasm" "${chunks[@]}" |
  xargs -P 2 -I{} wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int {} -o {}
esbuild --minify --format=esm --log-level=warning --allow-overwrite "$pkg/$name.js" --outfile="$pkg/$name.js"
# browserquery = "defaults" in Cargo.toml
lightningcss --minify --targets defaults "$ROOT/style/main.css" -o "$pkg/$name.css"
cp -r "$ROOT/public/." "$site/"
phase "release build done: $CARGO_TARGET_DIR/release/server and $site"
