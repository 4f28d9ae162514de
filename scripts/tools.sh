# Sourced by start.sh and test.sh: installs what is missing, skips what is there.
# Pinned versions: see ../shared/TOOLCHAIN.md-style notes in the README.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/imgflush/target}"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then echo "sudo"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    $(need_root) apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq "${missing[@]}"
  fi
}

quick_install() {
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
    cargo install "$@"
}

# What the release build needs first (scripts/build-release.sh): the C
# libraries and the WASM target. Its tools come from install_site_tool.
install_release_tools() {
  # The edge links Debian's libjpeg-turbo (shrink-on-load JPEG decoding) and
  # builds libwebp from source; rav1e (AVIF) assembles its SIMD kernels with nasm.
  # Passkeys (webauthn-rs) check signatures with OpenSSL 3.
  apt_install pkg-config libturbojpeg0-dev build-essential nasm libssl-dev
  if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# imgflush-site (tools/site): the WASM split and wasm-bindgen steps of the
# release build, without compiling cargo-leptos or wasm-bindgen-cli.
install_site_tool() {
  local version
  version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/tools/site/Cargo.toml" | head -n1)"
  if ! imgflush-site --version 2>/dev/null | grep -q "$version"; then
    say "installing imgflush-site (tools/site: cargo-leptos's split and bindgen steps alone)"
    quick_install --path "$ROOT/tools/site" --locked --force
  fi
}

# Everything above, and cargo-leptos for the debug builds of the tests and
# `cargo leptos watch` while developing.
install_rust_tools() {
  install_release_tools
  install_site_tool
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (must equal Cargo.lock's wasm-bindgen; cargo-leptos runs it)"
    quick_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (compiles for 9 to 12 minutes, once)"
    # no_downloads: cargo-leptos must not fetch tool binaries (no network for that here).
    # A tool, not the product: build it quickly (no LTO, many codegen units, -O1).
    quick_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --ignore-rust-version --features no_downloads
  fi
}

CARGO_DEB_VERSION=3.8.0
install_cargo_deb() {
  # dpkg-shlibdeps (dpkg-dev) finds the binary's library dependencies ($auto).
  apt_install dpkg-dev
  if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
    say "installing cargo-deb $CARGO_DEB_VERSION"
    quick_install cargo-deb --version "$CARGO_DEB_VERSION" --locked
  fi
}

install_node_tools() {
  # binaryen (wasm-opt for release builds; never Debian's) and Playwright live in end2end/.
  if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
    say "installing npm packages in end2end/"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}

install_browser() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium
}

# The purge-driver test emulators (emulators/README.md): a venv outside the clone (kept
# warm between runs) with moto's server, and Prism from end2end/'s npm packages.
MOTO_VERSION=5.2.6
install_emulators() {
  local venv="${IMGFLUSH_VENV:-$HOME/.cache/imgflush/venv}"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating the emulator venv in $venv"
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    say "installing moto[server] $MOTO_VERSION in $venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  if [ ! -x "$ROOT/end2end/node_modules/.bin/prism" ]; then
    say "installing npm packages in end2end/ (Prism for the emulators)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
  install_oidc_emulator
  export IMGFLUSH_VENV="$venv"
}

# The test identity provider (emulators/oidc_provider.mjs): the certified
# oidc-provider from npm, pinned by emulators/oidc/package-lock.json.
install_oidc_emulator() {
  if [ ! -d "$ROOT/emulators/oidc/node_modules/oidc-provider" ]; then
    say "installing oidc-provider in emulators/oidc/ (the single sign-on tests' identity provider)"
    (cd "$ROOT/emulators/oidc" && npm ci --no-audit --no-fund)
  fi
}
