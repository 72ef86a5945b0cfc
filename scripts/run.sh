#!/usr/bin/env bash
# Builds and opens the Switchboard desktop app. With no 8x8 API key set it runs on the
# built-in 8x8 emulator (the sandbox), so everything works without an 8x8 tenant.
# Installs what it needs on a fresh Debian 12 machine first (needs root or sudo for apt).
set -euo pipefail
source "$(dirname "$0")/lib/setup.sh"

ensure_toolchains
ensure_apt "${BUILD_PACKAGES[@]}" gnome-keyring
build_ui
say "Building the desktop app"
cargo build -p switchboard-desktop --quiet

app="$ROOT/target/debug/switchboard"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  say "Starting Switchboard"
  exec "$app" "$@"
fi
# No screen (a server or container): run the window on a virtual display; the admin link
# it prints opens the same UI in any browser on this machine.
ensure_apt xvfb xauth
say "No display found: starting Switchboard on a virtual display (Xvfb)."
echo "Open the 'Admin UI' link printed below in a browser on this machine."
exec xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- "$app" "$@"
