#!/usr/bin/env bash
# Builds the Debian package of the backend, bhxh-server: the binary in /usr/bin, the
# hardened systemd unit, /etc/bhxh/bhxh-server.toml (a conffile), the nginx site and the
# README as documentation; maintainer scripts make the `bhxh` system user and
# /var/lib/bhxh (0700), and a purge removes both (packaging/server/).
# Usage: scripts/package-server.sh [--binary PATH] [--out DIR]
#   --binary: the bhxh-server to package (default: target/release/bhxh-server, built
#             here with `cargo build --release -p bhxh-server` when missing)
#   --out:    where the .deb goes (default target/release/bundle/server)
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/release/bhxh-server
out=target/release/bundle/server
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--out DIR]" >&2; exit 2 ;;
    esac
done
if [ ! -x "$binary" ]; then
    [ "$binary" = target/release/bhxh-server ] || { echo "$binary: not an executable" >&2; exit 1; }
    cargo build --release -p bhxh-server
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$binary" "$root/usr/bin/bhxh-server"
strip --strip-debug "$root/usr/bin/bhxh-server" 2>/dev/null || true
install -D -m 0644 packaging/server/bhxh-server.service "$root/lib/systemd/system/bhxh-server.service"
install -D -m 0640 packaging/server/bhxh-server.toml "$root/etc/bhxh/bhxh-server.toml"
install -D -m 0644 packaging/server/nginx-bhxh.conf "$root/usr/share/doc/bhxh-server/examples/nginx-bhxh.conf"
install -D -m 0644 docs/prometheus/alerts.yml "$root/usr/share/doc/bhxh-server/examples/prometheus-alerts.yml"
install -D -m 0644 README.md "$root/usr/share/doc/bhxh-server/README.md"
install -d "$root/DEBIAN"
install -m 0755 packaging/server/postinst packaging/server/prerm packaging/server/postrm "$root/DEBIAN/"
echo /etc/bhxh/bhxh-server.toml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: bhxh-server
Version: $version
Architecture: $arch
Maintainer: BHXH reset maintainers <maintainers@example.vn>
Depends: libc6 (>= 2.34), libgcc-s1, adduser
Recommends: nginx
Suggests: postgresql, prometheus
Section: net
Priority: optional
Installed-Size: $size
Description: BHXH password-reset backend (token recovery, portal, support desk)
 The server that gives a user of the BHXH e-filing software a new password
 after proving who they are with their USB signature token (PKCS#11), or by
 tax code, registered email and captcha; with the support desk's console,
 Prometheus metrics, backups, and a certificate checker (bhxh-server trust check).
CONTROL

mkdir -p "$out"
deb="$out/bhxh-server_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
ls -l "$deb"
