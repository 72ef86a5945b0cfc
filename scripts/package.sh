#!/usr/bin/env bash
# Builds the Debian packages into target/packages/ (target/packages/debug/ with --debug):
#   switchboard_<version>_<arch>.deb         the desktop app (Tauri's bundler)
#   switchboard-server_<version>_<arch>.deb  the headless relay with a systemd unit, no GUI
# Usage: scripts/package.sh [--debug]
#   --debug  debug-profile binaries (what the test command uses: it reuses its own build)
# What goes where and why: docs/packaging.md.
set -euo pipefail
source "$(dirname "$0")/lib/setup.sh"

profile=release
case "${1:-}" in
  "") ;;
  --debug) profile=debug ;;
  *) die "unknown option ${1}: the only option is --debug" ;;
esac
OUT="$ROOT/target/packages"
[ "$profile" = debug ] && OUT="$OUT/debug"
started=$SECONDS

ensure_toolchains
ensure_apt "${BUILD_PACKAGES[@]}" dpkg-dev
ensure_npm ui
# The test command has just built the UI; building it again would give ui/dist new
# timestamps and make cargo rebuild the relay.
[ "${SWITCHBOARD_UI_BUILT:-}" = 1 ] || build_ui
mkdir -p "$OUT"
rm -f "$OUT"/*.deb

target="${CARGO_TARGET_DIR:-$ROOT/target}"
say "Desktop package (Tauri bundler, $profile)"
tauri_args=(build --ci --bundles deb)
if [ "$profile" = debug ]; then
  tauri_args+=(--debug)
  desktop_dir=debug
else
  # The desktop app is built for size (Cargo.toml's `desktop` profile: a third less code
  # mapped at idle, BENCHMARKS.md "Footprint"); the server keeps `release`, built for speed.
  tauri_args+=(-- --profile desktop)
  desktop_dir=desktop
fi
rm -rf "$target/$desktop_dir/bundle/deb"
ui/node_modules/.bin/tauri "${tauri_args[@]}"
desktop_deb=$(ls "$target/$desktop_dir/bundle/deb/"*.deb)
# Tauri names it after productName (Switchboard_0.1.0_amd64.deb); the Debian package is
# "switchboard", so the file is named like the server's.
version=$(dpkg-deb -f "$desktop_deb" Version)
arch=$(dpkg-deb -f "$desktop_deb" Architecture)
cp "$desktop_deb" "$OUT/switchboard_${version}_${arch}.deb"

say "Server package ($profile)"
if [ "$profile" = release ]; then
  cargo build --release --quiet -p switchboard-relay --bin switchboard-server
  bash packaging/server/build-deb.sh "$target/release/switchboard-server" "$version" "$OUT"
else
  # The test command's own build (cargo build --bins): with the same packages selected,
  # cargo finds it fresh instead of rebuilding with other features.
  cargo build --quiet --bins
  bash packaging/server/build-deb.sh "$target/debug/switchboard-server" "$version" "$OUT" fast
fi

say "Packages in $OUT ($((SECONDS - started)) s)"
ls -l "$OUT"
