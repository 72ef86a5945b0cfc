#!/usr/bin/env bash
# Runs every test: formatting, lints, UI type-check, Rust unit and end-to-end tests, the
# real keychain, the browser test, the desktop-window test and the Debian packages.
# Installs what it needs on a fresh Debian 12 machine first (needs root or sudo for apt).
set -euo pipefail
source "$(dirname "$0")/lib/setup.sh"
started=$SECONDS

ensure_toolchains
# python3-dbus and python3-gi: the stand-in notification server of the desktop notification test;
# imagemagick: the desktop tests' screenshots, taken from the Xvfb screen (tests/node/lib/screen.mjs);
# x11-utils (xwininfo): the package test looks for the installed app's window.
ensure_apt "${BUILD_PACKAGES[@]}" xvfb xauth gnome-keyring webkit2gtk-driver chromium python3-dbus python3-gi imagemagick x11-utils
cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1 \
  || rustup component add rustfmt clippy
command -v tauri-driver >/dev/null || { say "Installing tauri-driver"; cargo install tauri-driver --locked --version 2.1.0; }
ensure_npm tests/node

say "UI type-check"
ensure_npm ui
npm --prefix ui run --silent check
build_ui

say "Formatting (cargo fmt --check)"
cargo fmt --all --check

say "Lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "Building the app and the server"
cargo build --bins --quiet
# The one benchmark-crate binary a test uses: the seeder behind the conversations-scale
# browser test (the rest of the benchmarks are built only when run).
cargo build --quiet -p switchboard-bench --bin bench-store

# The rest runs on a private session bus with a fresh, unlocked keyring, so the keychain
# tests use the real Secret Service and never touch the developer's own keyring.
say "Tests (inside a private D-Bus session with gnome-keyring)"
dbus-run-session -- bash scripts/lib/in-session.sh

# After the tests above: Tauri's CLI rebuilds the app binary in target/debug for the bundle.
say "Packages (build with scripts/package.sh --debug, install, run, purge)"
bash scripts/lib/packages-test.sh

say "Fuzzing (cargo-fuzz, each target for a few seconds; fuzz/README.md)"
bash scripts/lib/fuzz.sh short

say "All tests passed in $((SECONDS - started)) s"
