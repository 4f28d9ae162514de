#!/usr/bin/env bash
# Builds the Debian package: the release build (console, API, worker and edge in
# one binary, and the site), then `cargo deb --no-build`. Prints the .deb's path.
#
#   scripts/package.sh            build target/…/debian/imgflush_VERSION-1_ARCH.deb
#   BUILD=0 scripts/package.sh    package what the last release build left
#
# What goes where: server/Cargo.toml [package.metadata.deb] and deploy/debian/.
source "$(dirname "$0")/tools.sh"
install_cargo_deb
cd "$ROOT"

if [ "${BUILD:-1}" = 1 ]; then
  say "release build (scripts/build-release.sh)"
  bash "$ROOT/scripts/build-release.sh"
fi

# cargo-deb reads assets under target/release/ from the real target directory
# ($CARGO_TARGET_DIR); the site and the generated configuration are staged there.
stage="$CARGO_TARGET_DIR/release/deb"
rm -rf "$stage"
mkdir -p "$stage"
cp -r "$ROOT/target/site" "$stage/site"
{
  echo "# /etc/imgflush/imgflush.toml: the console's and the workers' settings (not secret:"
  echo "# every service reads it). Secrets go in /etc/imgflush/imgflush.env (chmod 600)."
  echo "# Relative paths are under the services' state directory, /var/lib/imgflush."
  echo "#"
  "$CARGO_TARGET_DIR/release/server" config example
} >"$stage/imgflush.toml"

say "cargo deb --no-build"
deb="$(cargo deb -p server --no-build | tail -n1)"
[ -f "$deb" ] || { echo "cargo deb made no package (it printed: $deb)" >&2; exit 1; }
echo "$deb"
