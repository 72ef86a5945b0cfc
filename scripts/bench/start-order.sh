#!/usr/bin/env bash
# Writes src-tauri/start.order: the functions a desktop app start runs, first run first,
# which optimised builds hand to the linker so that code sits together (src-tauri/build.rs
# says why). Run it as root after changes that move the start's code a lot (a dependency
# upgrade, a new start step); a stale list is still valid, just less useful.
# Takes ≈ 4–10 min for the build and ≈ 15 min for the trace (tracefs sets up and then
# removes ~23,000 probes, one at a time).
#
#   scripts/bench/start-order.sh [SECONDS]   (how long the traced app runs: its start, slowed by the
#                                            probes, and its first idle seconds; default 30)
set -euo pipefail
source "$(dirname "$0")/../lib/setup.sh"

ensure_toolchains
ensure_apt "${BUILD_PACKAGES[@]}" xvfb xauth gnome-keyring binutils
[ "${SKIP_UI_BUILD:-0}" = 1 ] && [ -f ui/dist/index.html ] || build_ui

# The build as packaged (the desktop profile) plus the linker's map of it, which names the
# function at each address of the stripped binary.
target="${CARGO_TARGET_DIR:-$ROOT/target}"
map="$target/desktop/switchboard.map"
say "Building the desktop app as packaged, with its link map"
SWITCHBOARD_LINK_MAP="$map" \
  cargo build --profile desktop --quiet -p switchboard-desktop -p switchboard-empty-window \
  --bin switchboard --bin empty-window

# A first start, untraced, makes what later starts find (the settings, the database, the
# sandbox's signing key): the footprint measures those later starts, and key generation
# under ~2 million probe hits would take the whole trace.
say "Tracing a second start"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
XDG_DATA_HOME="$home" NO_AT_BRIDGE=1 dbus-run-session -- bash -c '
  printf "%s" start-order | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  run() { xvfb-run -a -s "-screen 0 1280x900x24" timeout -s INT "$1" "$0" >/dev/null 2>&1 || true; }
  run 10
  export -f run
  python3 scripts/bench/start_order.py "$0" "$2" src-tauri/start.order -- bash -c "run $1" "$0"
' "$target/desktop/switchboard" "${1:-30}" "$map"
