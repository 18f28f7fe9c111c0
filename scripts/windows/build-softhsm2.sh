#!/usr/bin/env bash
# build-softhsm2.sh OUT_DIR
#
# Builds SoftHSM2 for Windows (OUT_DIR/softhsm2.dll, x86_64, mingw-w64) from Debian's
# own source packages, so that the Windows build's tests run a token recovery end to
# end under Wine through a real PKCS#11 module built for Windows, as a user's CA
# middleware DLL is. Test rig only: never shipped, never in the installer.
#
#   OpenSSL (libcrypto only, static): Debian's `openssl` source, ./Configure mingw64
#   SoftHSM2 2.6.1: Debian's `softhsm2` source, its CMake build, OpenSSL backend,
#                   file object store, libstdc++/libgcc/winpthread linked in statically
#
# The sources come from the .orig tarballs apt fetches and checks against Debian's
# signed Sources index (`apt-get source --download-only`; a deb-src entry is added if
# the machine has none). Debian's own patches are not applied: none concern Windows.
# SoftHSM2's CMake build was never finished for mingw; the three gaps are closed here
# by edits made in the unpacked copy, each named below.
#
# The result is kept (OUT_DIR/.stamp names this script's hash and the sources): a
# second run with the same script and sources does nothing. About 4-5 min cold on 2 cores.
set -euo pipefail
PROG=${0##*/}
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $PROG OUT_DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd -P)
mkdir -p -- "$1"
OUT=$(cd -- "$1" && pwd -P)
SRC=$OUT/src
mkdir -p "$SRC"

# ---------------------------------------------------------------- sources
have_deb_src() {
    grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ || grep -qs '^deb-src ' /etc/apt/sources.list
}
if ! have_deb_src; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "$PROG: adding Debian's source index (deb-src) to apt" >&2
    # The same archives as the binary entries, for source packages.
    $sudo tee /etc/apt/sources.list.d/bhxh-deb-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    $sudo apt-get update -q >/dev/null
fi
orig() { ls "$SRC"/"$1"_*.orig.tar.gz 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(orig openssl)" ] || [ -z "$(orig softhsm2)" ]; then
    # Only the .orig tarballs are needed; the mirror here may lack the Debian diffs, so
    # apt's exit status is not the judge: the tarballs are, each checked by apt as fetched.
    (cd "$SRC" && apt-get source --download-only -q openssl softhsm2 >"$SRC/apt.log" 2>&1) || true
    [ -n "$(orig openssl)" ] && [ -n "$(orig softhsm2)" ] ||
        die "apt-get source could not fetch the openssl and softhsm2 tarballs: $(tail -n 5 "$SRC/apt.log")"
fi
OSSL_TAR=$(orig openssl)
HSM_TAR=$(orig softhsm2)

stamp="$(sha256sum "$0" | cut -c1-16) $(basename "$OSSL_TAR") $(basename "$HSM_TAR")"
if [ -f "$OUT/softhsm2.dll" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
rm -f "$OUT/softhsm2.dll" "$OUT/.stamp"
LOG=$OUT/build.log
: >"$LOG"
step() {
    echo ">> $PROG: $1" >&2
    shift
    "$@" >>"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die "failed: $* (whole log: $LOG)"; }
}

# ---------------------------------------------------------------- OpenSSL (libcrypto.a)
OSSL=$OUT/openssl
rm -rf "$OUT/openssl-build" "$OSSL"
mkdir -p "$OUT/openssl-build" "$OSSL/lib"
tar -xzf "$OSSL_TAR" -C "$OUT/openssl-build" --strip-components=1
(
    cd "$OUT/openssl-build"
    step "OpenSSL: configure (mingw64, static)" ./Configure mingw64 --cross-compile-prefix=x86_64-w64-mingw32- \
        no-shared no-tests no-ui-console no-module no-legacy --prefix="$OSSL" --libdir=lib
    # libcrypto only (no libssl, no openssl.exe): all SoftHSM2 uses.
    step "OpenSSL: build libcrypto" make -j"$(nproc)" build_generated
    step "OpenSSL: build libcrypto (objects)" make -j"$(nproc)" libcrypto.a
)
cp "$OUT/openssl-build/libcrypto.a" "$OSSL/lib/"
mkdir -p "$OSSL/include"
cp -r "$OUT/openssl-build/include/openssl" "$OSSL/include/"

# ---------------------------------------------------------------- SoftHSM2
HSM=$OUT/softhsm2-src
rm -rf "$HSM" "$OUT/softhsm2-build"
mkdir -p "$HSM" "$OUT/softhsm2-build"
tar -xzf "$HSM_TAR" -C "$HSM" --strip-components=1
# 1. The Windows syslog stand-in (src/lib/win32, used by the autotools/MSVC builds) is
#    missing from CMake's common library: add its source and its header folder.
sed -i 's|^\( *\)SimpleConfigLoader.cpp|\1SimpleConfigLoader.cpp\n\1../win32/syslog.cpp|' "$HSM/src/lib/common/CMakeLists.txt"
grep -q 'win32/syslog.cpp' "$HSM/src/lib/common/CMakeLists.txt" || die "could not add win32/syslog.cpp"
# 2. config.h's Windows block maps snprintf to MSVC's _snprintf when _MSC_VER is below
#    1900, which mingw (no _MSC_VER at all) also meets: only for MSVC.
sed -i 's/^#if _MSC_VER < 1900$/#if defined(_MSC_VER) \&\& _MSC_VER < 1900/' "$HSM/config.h.in.cmake"
grep -q 'defined(_MSC_VER) && _MSC_VER < 1900' "$HSM/config.h.in.cmake" || die "could not mend config.h.in.cmake"
# 3. The configure checks that run a program (try_run) cannot run a Windows one here:
#    their answers for this OpenSSL are given (it has P-256/384/521 and both AES key
#    wraps), and the checks that do not apply (pthread.h, dlopen) are set for Windows.
cat >"$OUT/softhsm2-build/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 $OSSL)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Windows' own libraries that a static libcrypto needs, on every link (the checks' too).
set(CMAKE_C_STANDARD_LIBRARIES "-lws2_32 -lcrypt32 -lbcrypt -lkernel32 -luser32 -lgdi32 -ladvapi32" CACHE STRING "")
set(CMAKE_CXX_STANDARD_LIBRARIES "-lws2_32 -lcrypt32 -lbcrypt -lkernel32 -luser32 -lgdi32 -ladvapi32" CACHE STRING "")
EOF
(
    cd "$OUT/softhsm2-build"
    step "SoftHSM2: configure (CMake, mingw-w64)" cmake "$HSM" \
        -DCMAKE_TOOLCHAIN_FILE="$OUT/softhsm2-build/toolchain.cmake" \
        -DCMAKE_BUILD_TYPE=Release \
        -DOPENSSL_ROOT_DIR="$OSSL" -DOPENSSL_USE_STATIC_LIBS=ON \
        -DSSL_EAY="$OSSL/lib/libcrypto.a" `# FindOpenSSL wants a libssl on mingw; none is used` \
        -DWITH_CRYPTO_BACKEND=openssl -DENABLE_ECC=ON -DENABLE_EDDSA=OFF -DENABLE_GOST=OFF \
        -DENABLE_P11_KIT=OFF -DBUILD_TESTS=OFF -DENABLE_STATIC=OFF -DDISABLE_NON_PAGED_MEMORY=ON \
        -DRUN_ECC=0 -DRUN_ECC__TRYRUN_OUTPUT= \
        -DRUN_AES_KEY_WRAP=0 -DRUN_AES_KEY_WRAP__TRYRUN_OUTPUT= \
        -DRUN_AES_KEY_WRAP_PAD=0 -DRUN_AES_KEY_WRAP_PAD__TRYRUN_OUTPUT= \
        -DHAVE_PTHREAD_H=0 -DHAVE_DLOPEN=0 -DHAVE_LOADLIBRARY=1 \
        -DCMAKE_CXX_FLAGS="-I$HSM/src/lib/win32" \
        -DCMAKE_SHARED_LINKER_FLAGS="-static -static-libgcc -static-libstdc++"
    step "SoftHSM2: build softhsm2.dll" cmake --build . --target softhsm2 -j "$(nproc)"
)
dll=$(find "$OUT/softhsm2-build" -name '*softhsm2.dll' | head -n 1)
[ -n "$dll" ] || die "no softhsm2.dll was built (log: $LOG)"
x86_64-w64-mingw32-strip -o "$OUT/softhsm2.dll" "$dll"
# It must load on a Windows without mingw's runtime: only Windows' own DLLs imported.
pe=$(x86_64-w64-mingw32-objdump -p "$OUT/softhsm2.dll")
imports=$(sed -n 's/^\tDLL Name: //p' <<<"$pe" | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
case "$imports" in
    *libstdc++* | *libgcc* | *libwinpthread* | *libcrypto*) die "softhsm2.dll imports a mingw or OpenSSL DLL: $imports" ;;
esac
grep -Eq '\] C_GetFunctionList$' <<<"$pe" || die "softhsm2.dll exports no C_GetFunctionList"
rm -rf "$OUT/openssl-build" "$HSM"
echo "$stamp" >"$OUT/.stamp"
echo "$PROG: $OUT/softhsm2.dll ($(stat -c %s "$OUT/softhsm2.dll") bytes; imports: $imports)" >&2
