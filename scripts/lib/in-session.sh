#!/usr/bin/env bash
# Run by scripts/test.sh inside dbus-run-session.
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/lib/postgres.sh

keyring_home=$(mktemp -d)
trap 'stop_test_postgres; rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home"
# Keep GTK from starting accessibility daemons that outlive the tests.
export NO_AT_BRIDGE=1
printf '%s' "switchboard-tests" | gnome-keyring-daemon --unlock --components=secrets >/dev/null

# The store's PostgreSQL backend is tested against a real server (docs/postgres.md).
start_test_postgres
cargo test --quiet
stop_test_postgres
echo "== The OS keychain (Secret Service)"
# The same members as the run above, so nothing is rebuilt.
cargo test --test e2e --quiet -- --ignored keychain::
echo "== Browser and desktop-window tests"
xvfb-run -a -s "-screen 0 1280x900x24" node --test --test-concurrency=1 tests/node/*.test.mjs
