#!/usr/bin/env bash
# Builds the switchboard-server .deb from a built binary with plain dpkg-deb (already on
# every Debian machine, no tool to install): stages the files, computes the library
# dependencies with dpkg-shlibdeps, writes the control file.
# Usage: packaging/server/build-deb.sh BINARY VERSION OUT_DIR [fast]
#   fast: gzip -1 instead of xz (a debug binary of 80 MB takes 80 s to xz on 2 cores)
set -euo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 BINARY VERSION OUT_DIR [fast]" >&2; exit 2; }
binary=$1 version=$2 out=$3
compression=(-Zxz)
[ "${4:-}" = fast ] && compression=(-Zgzip -z1)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -x "$binary" ] || { echo "error: $binary is not a built binary" >&2; exit 1; }

arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

install -D -m 0755 "$binary" "$root/usr/bin/switchboard-server"
install -D -m 0644 "$here/switchboard-server.service" "$root/usr/lib/systemd/system/switchboard-server.service"
# Root's alone: it holds the API keys (systemd reads it before dropping privileges).
install -D -m 0600 "$here/server.env" "$root/etc/switchboard/server.env"
install -d -m 0755 "$root/usr/share/doc/switchboard-server"
cat >"$root/usr/share/doc/switchboard-server/copyright" <<'EOF'
Switchboard: connects a chatbot to the 8x8 Contact Center.
License: MIT
EOF
install -d -m 0755 "$root/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
echo /etc/switchboard/server.env >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control beside it; a two-stanza stub is enough.
mkdir -p "$stage/debian"
printf 'Source: switchboard\n\nPackage: switchboard-server\nArchitecture: any\n' >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O -e"root/usr/bin/switchboard-server" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "error: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
rm -rf "$stage/debian"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: switchboard-server
Version: $version
Architecture: $arch
Maintainer: Switchboard <switchboard@localhost>
Installed-Size: $installed_size
Depends: $depends
Section: net
Priority: optional
Description: Switchboard relay without a window, for servers
 Connects a chatbot to the 8x8 Contact Center through 8x8's Chat Gateway API,
 as an 8x8 Endpoint and as a handover provider. Runs as a hardened systemd
 service; set /etc/switchboard/server.env, then
 systemctl enable --now switchboard-server.
EOF

mkdir -p "$out"
dpkg-deb --root-owner-group "${compression[@]}" --build "$root" "$out/switchboard-server_${version}_${arch}.deb" >/dev/null
echo "$out/switchboard-server_${version}_${arch}.deb"
