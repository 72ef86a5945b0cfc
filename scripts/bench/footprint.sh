#!/usr/bin/env bash
# Footprint of the binaries as packaged, in one table: desktop app start → interactive (median
# of several starts) and idle memory with its WebKit processes, each beside an empty Tauri
# window's measured in the same run and as a ratio to it, the headless server's
# idle memory and memory per idle conversation, and the release binary sizes.
# A benchmark: it prints figures and asserts nothing. What is measured and how:
# crates/switchboard-bench/BENCHMARKS.md ("Footprint").
#
#   scripts/bench/footprint.sh [--starts N] [--skip-actor-wait] [--only server|desktop] [--smaps] [--app-env NAME=VALUE]...
#
# Needs what ./scripts/test.sh installs (xvfb, gnome-keyring, webkit2gtk-driver,
# tauri-driver, tests/node's npm packages) and installs it the same way when missing.
# CARGO_TARGET_DIR is honoured; SKIP_UI_BUILD=1 reuses ui/dist as it is.
set -euo pipefail
source "$(dirname "$0")/../lib/setup.sh"

ensure_toolchains
ensure_apt "${BUILD_PACKAGES[@]}" xvfb xauth gnome-keyring webkit2gtk-driver
command -v tauri-driver >/dev/null || { say "Installing tauri-driver"; cargo install tauri-driver --locked --version 2.1.0; }
ensure_npm tests/node
[ "${SKIP_UI_BUILD:-0}" = 1 ] && [ -f ui/dist/index.html ] || build_ui

say "Building the binaries as packaged (server: release; desktop app and empty window: desktop)"
target="${CARGO_TARGET_DIR:-$ROOT/target}"
# Every binary by name: a --bin filter applies to every -p, so naming only the server's
# left the desktop app unbuilt and measured whatever binary was there before. The empty
# window is built in the same cargo run, so it links the very same tauri and WebKitGTK
# as the app (it asks for no tauri feature the app does not have).
# The desktop app as packaged (Cargo.toml's `desktop` profile, built for size) and the empty
# window built the same way, so the floor gets the same compiler settings; the server as
# packaged, `release`.
cargo build --release --quiet -p switchboard-relay --bin switchboard-server
cargo build --profile desktop --quiet -p switchboard-desktop -p switchboard-empty-window \
  --bin switchboard --bin empty-window
bins=$(mktemp -d)
ln -s "$target/release/switchboard-server" "$target/desktop/switchboard" "$target/desktop/empty-window" "$bins/"

say "Measuring"
# A private session bus with a fresh, unlocked keyring (as the tests have), so the app
# starts as on a desktop and never touches the developer's own keyring or app instance.
home=$(mktemp -d)
trap 'rm -rf "$home" "$bins"' EXIT
XDG_DATA_HOME="$home" NO_AT_BRIDGE=1 dbus-run-session -- bash -c '
  printf "%s" footprint | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec xvfb-run -a -s "-screen 0 1280x900x24" node tests/node/bench/footprint.mjs --bin-dir "$0" "$@"
' "$bins" "$@"
