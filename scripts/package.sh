#!/usr/bin/env bash
# Builds the desktop app's Linux bundles with the Tauri bundler: the .deb (works
# offline) and the AppImage (the bundler downloads linuxdeploy and its plugins from
# GitHub at build time; without that access only the .deb is built, and this says so).
# Usage: scripts/package.sh [--debug]      Bundles land in target/<profile>/bundle/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_apt "${BHXH_APT_PACKAGES[@]}"
ui_deps
(cd ui && npm run --silent build >/dev/null)

profile=release
flags=(--ci)
if [ "${1:-}" = "--debug" ]; then
    profile=debug
    flags+=(--debug)
fi
ui/node_modules/.bin/tauri build "${flags[@]}" --bundles deb
if ! ui/node_modules/.bin/tauri build "${flags[@]}" --bundles appimage; then
    echo "AppImage: not built — the Tauri bundler could not download linuxdeploy (it needs github.com)." >&2
fi
echo
find "target/$profile/bundle" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.AppImage' \) -exec ls -lh {} \;
