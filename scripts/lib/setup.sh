# Shared install steps for scripts/run.sh and scripts/test.sh. Every step checks first
# and installs only what is missing, so running them again costs seconds.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "installing system packages needs root (or sudo): $*"
  fi
}

# Debian packages, installed only when one is missing.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# What building the app needs (Tauri 2 on WebKitGTK 4.1).
BUILD_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev dbus)

ensure_toolchains() {
  command -v cargo >/dev/null || die "Rust is not installed: install it with rustup (https://rustup.rs) and run this again"
  command -v node >/dev/null || die "Node.js 20.19+ is not installed: install it and run this again"
  local node_major node_minor
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  node_minor=$(node -p 'process.versions.node.split(".")[1]')
  if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
    die "Node.js $(node --version) is too old for Vite 8: install Node.js 20.19 or newer"
  fi
}

# npm ci when the lockfile changed since the last install (or on a fresh clone).
ensure_npm() {
  local dir="$1" stamp="$1/node_modules/.switchboard-lock-sum"
  local sum
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    say "Installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$sum" >"$stamp"
  fi
}

# The embedded UI must exist before cargo builds the relay (it is compiled in).
build_ui() {
  ensure_npm ui
  say "Building the UI"
  npm --prefix ui run --silent build -- --logLevel warn
}
