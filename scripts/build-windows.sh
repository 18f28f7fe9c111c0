#!/usr/bin/env bash
# Builds the Windows programs on this Debian machine, from the same Cargo.lock:
#   bhxh.exe            the CLI (support staff, scripts)
#   bhxh-desktop.exe    the desktop app (Tauri 2, WebView2), with WebView2Loader.dll
#   bhxh-windows-shell-tests.exe   the shell's commands on Tauri's mock runtime, for Wine
#   Lay-lai-mat-khau-BHXH_<version>_x64-setup.exe   the NSIS installer (per user)
# for x86_64-pc-windows-gnu with mingw-w64, in a target dir of its own (target/windows),
# products in target/windows/x86_64-pc-windows-gnu/release and linked into cargo's usual
# place for the target, target/x86_64-pc-windows-gnu/release.
#
# rustup here has only the Linux target and cannot download another, so the standard
# library is built for Windows from Debian's rust-web-src by Debian's rustc-web (1.96)
# (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP=1; the Linux build keeps
# rustup's compiler). What cannot be made here (the MSI, code signing) is
# .github/workflows/desktop-bundles.yml's, for a public forge; it was not run here.
#
# For the tests only, it also builds SoftHSM2 for Windows (scripts/windows/build-softhsm2.sh,
# target/windows/softhsm2/softhsm2.dll): a real PKCS#11 module the Wine tests recover
# with. It is never shipped.
#
# BHXH_WINDOWS_INSTALLER=0 skips the installer; BHXH_WINDOWS_SOFTHSM2=0 the test module.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_apt "${BHXH_WINDOWS_APT_PACKAGES[@]}"
ui_deps
# The desktop app embeds ui/dist at compile time.
(cd ui && npm run --silent build >/dev/null)

target=x86_64-pc-windows-gnu
out=target/windows/$target/release
mkdir -p target/windows
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
cargo_windows() {
    cargo "$@" --release --locked -Zbuild-std=std,panic_abort --target "$target" \
        --target-dir target/windows --config scripts/windows/cargo-config.toml
}
# SoftHSM2 for the tests, alongside (its configure steps use one core, which cargo then has).
hsm_pid=
if [ "${BHXH_WINDOWS_SOFTHSM2:-1}" != 0 ]; then
    mkdir -p target/windows/softhsm2
    bash scripts/windows/build-softhsm2.sh target/windows/softhsm2 >target/windows/softhsm2.out 2>&1 &
    hsm_pid=$!
    # Not left running when this script fails.
    trap 'kill "$hsm_pid" 2>/dev/null || true' EXIT
fi
# The programs users get and the shell's Windows test binary, in one cargo run, so that
# every dependency is compiled once for both (two runs compiled most of them twice: the
# test's dev-dependencies change the features of crates deep in the tree). The programs
# therefore carry the test's features too: tauri's `test`, which only adds the
# `tauri::test` module (its mock runtime, which the programs never call), and the Windows
# API declarations tempfile asks of windows-sys.
cargo_windows build -p bhxh-cli -p bhxh-desktop --bins --test windows_shell \
    --message-format=json-render-diagnostics >target/windows/build.json
test_exe=$(grep -o '"executable":"[^"]*windows_shell-[^"]*\.exe"' target/windows/build.json | tail -n 1 | cut -d'"' -f4)
[ -n "$test_exe" ] || { echo "build-windows: the shell's Windows test binary was not built" >&2; exit 1; }
cp -f "$test_exe" "$out/bhxh-windows-shell-tests.exe"

# WebView2Loader.dll, which the app imports, comes from webview2-com-sys's build.
loader=$(find target/windows/$target/release/build -path '*webview2-com-sys*' -name WebView2Loader.dll -path '*x64*' | head -n 1)
[ -n "$loader" ] || loader=$(find target/windows/$target/release -name WebView2Loader.dll | head -n 1)
[ -n "$loader" ] || { echo "build-windows: WebView2Loader.dll not found" >&2; exit 1; }
[ "$loader" -ef "$out/WebView2Loader.dll" ] || cp -f "$loader" "$out/WebView2Loader.dll"

if [ "${BHXH_WINDOWS_INSTALLER:-1}" != 0 ]; then
    version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' src-tauri/tauri.conf.json | head -n 1)
    makensis -V2 -INPUTCHARSET UTF8 -DVERSION="$version" -DBIN="$PWD/$out" -DICON="$PWD/src-tauri/icons/icon.ico" \
        -DOUTFILE="$PWD/$out/Lay-lai-mat-khau-BHXH_${version}_x64-setup.exe" scripts/windows/installer.nsi
fi

if [ -n "$hsm_pid" ]; then
    wait "$hsm_pid" || { cat target/windows/softhsm2.out >&2; exit 1; }
    cat target/windows/softhsm2.out >&2
fi

# Cargo's usual place for the target's products (a hard link where the disk allows).
mkdir -p "target/$target/release"
for f in bhxh.exe bhxh-desktop.exe WebView2Loader.dll "$out"/Lay-lai-mat-khau-BHXH_*_x64-setup.exe; do
    f=$(basename "$f")
    [ -f "$out/$f" ] || continue
    ln -f "$out/$f" "target/$target/release/$f" 2>/dev/null || cp -f "$out/$f" "target/$target/release/$f"
done
# So that bhxh.exe can be tried by hand under Wine 8 from cargo's usual place, the test
# rig's bcryptprimitives.dll (scripts/windows/bcryptprimitives.c) sits beside it there, and
# only there: never in $out, which the installer is made from.
x86_64-w64-mingw32-gcc -shared -O2 -s -Wl,--kill-at -o "target/$target/release/bcryptprimitives.dll" \
    scripts/windows/bcryptprimitives.c -ladvapi32
ls -l "$out"/*.exe "$out/WebView2Loader.dll" | awk '{ printf "%10d  %s\n", $5, $9 }'
