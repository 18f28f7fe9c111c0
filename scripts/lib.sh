# Shared by scripts/*.sh: install what the project needs on a fresh Debian machine.

# need_apt PKG…: installs the Debian packages that are missing (as root, or with sudo).
need_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo ">> apt-get install ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian packages the build and the tests use.
BHXH_APT_PACKAGES=(
    openssl            # scripts/make-fixtures.sh: the test PKI
    python3-aiosmtpd   # the real SMTP server the tests deliver to
    pkg-config
    libpcsclite-dev    # the pcsc crate links libpcsclite
    softhsm2           # the PKCS#11 token the tests provision (scripts/provision-softhsm.sh)
    opensc             # pkcs11-tool, used by the provisioning and the tests
    opencryptoki       # the second PKCS#11 implementation: a soft token that locks (scripts/provision-opencryptoki.sh)
    postgresql         # the second database engine; tests start a cluster of their own
    nginx              # the reverse proxy in front of two servers (tests start their own)
    prometheus         # promtool checks /metrics and the example alerts; a real Prometheus scrapes a backend
    systemd adduser    # systemd-analyze checks the server's unit; its package's postinst makes its user
    # PC/SC: a real pcscd with virtual readers (vpcd) and a virtual card (vicc, run in
    # the Python env of vicc_env), started by bhxh-testkit's pcsc module
    pcscd vsmartcard-vpcd vsmartcard-vpicc python3-virtualsmartcard python3-venv
    # The desktop app (Tauri 2, WebKitGTK)
    libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
    libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libxdo-dev libssl-dev
    # Its tests: a real browser, the real window under Xvfb over WebDriver
    chromium webkit2gtk-driver xvfb xauth dbus fonts-noto-core curl
    xclip              # the real window's test reads the X clipboard the app wrote
)

# The Windows build (scripts/build-windows.sh) and its tests under Wine.
BHXH_WINDOWS_APT_PACKAGES=(
    rustc-web rust-web-src   # Debian's rustc 1.96 and its std's source: std built for Windows (-Zbuild-std)
    gcc-mingw-w64-x86-64     # the linker and C compiler of x86_64-pc-windows-gnu
    nsis                     # makensis: the installer
    wine wine64              # the tests run the Windows programs under Wine
    g++-mingw-w64-x86-64 cmake   # SoftHSM2 for Windows, the tests' PKCS#11 module (scripts/windows/build-softhsm2.sh)
)

# ui_deps: the front end's npm packages, exactly as package-lock.json says.
ui_deps() {
    if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
        echo ">> npm ci (ui)" >&2
        (cd ui && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# vicc_env: target/tools/vicc-venv, the Python env bhxh-testkit runs the virtual smart
# card in (Debian vsmartcard-vpicc's vicc): Debian's python3 with its packages, plus
# PyPI pycryptodome (vicc imports `Crypto`; Debian only ships `Cryptodome`) and a .pth
# for the virtualsmartcard modules (Debian puts them outside Python's path).
vicc_env() {
    local venv=target/tools/vicc-venv mods site
    local check='from Crypto.Cipher import DES3, DES, AES, ARC4
from Crypto.Hash import HMAC, SHA
import virtualsmartcard.VirtualSmartcard'
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then return 0; fi
    echo ">> python venv for vicc ($venv)" >&2
    mods=$(dpkg -L python3-virtualsmartcard | grep '/virtualsmartcard/VirtualSmartcard\.py$' | head -n1)
    [ -n "$mods" ] || { echo "python3-virtualsmartcard: no VirtualSmartcard.py" >&2; return 1; }
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check pycryptodome
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    dirname "$(dirname "$mods")" >"$site/virtualsmartcard.pth"
    "$venv/bin/python" -c "$check"
}

# schemathesis_env: target/tools/st-venv, the Python env of Schemathesis (PyPI, pinned),
# which tests/it/openapi.rs runs against a live server with the published document.
BHXH_SCHEMATHESIS_VERSION=4.32.5
schemathesis_env() {
    local venv=target/tools/st-venv
    if [ -x "$venv/bin/st" ] && "$venv/bin/st" --version 2>/dev/null | grep -qF "$BHXH_SCHEMATHESIS_VERSION"; then return 0; fi
    echo ">> python venv for Schemathesis $BHXH_SCHEMATHESIS_VERSION ($venv)" >&2
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$BHXH_SCHEMATHESIS_VERSION"
    "$venv/bin/st" --version >/dev/null
}

# demo_pki DIR: the demo PKI in DIR (made once), remade when its CRLs are past their
# nextUpdate (30 days), together with the demo token that carries its certificates.
demo_pki() {
    local pki=$1 next
    if [ -f "$pki/.complete" ]; then
        next=$(openssl crl -in "$pki/root-crl.pem" -noout -nextupdate | cut -d= -f2)
        if [ "$(date -u -d "$next" +%s)" -le "$(date -u +%s)" ]; then
            echo "Demo PKI older than its CRLs' 30 days: made again (and the demo token)." >&2
            rm -rf -- "$pki" "$(dirname "$pki")/softhsm"
        fi
    fi
    bash scripts/make-fixtures.sh "$pki"
}

# demo_ca PKI DIR: the demo CA's services, as a real CA runs them: an OCSP responder
# (openssl ocsp answering from the issuing CA's database, served by scripts/demo-ocsp.py
# because openssl's own server listens on every interface; port BHXH_DEMO_OCSP_PORT,
# 8082) and the CRLs over HTTP (port BHXH_DEMO_CRL_PORT, 8083), both on loopback only;
# the certificates' URLs (at .invalid hosts) reach them through BHXH_REVOCATION_MIRRORS.
# Their PIDs are in DEMO_CA_PIDS for the caller to stop.
demo_ca() {
    local pki=$1 dir=$2 ocsp_port=${BHXH_DEMO_OCSP_PORT:-8082} crl_port=${BHXH_DEMO_CRL_PORT:-8083}
    mkdir -p "$dir/crl"
    cp "$pki/ica-crl.pem" "$dir/crl/ica.crl"
    cp "$pki/root-crl.pem" "$dir/crl/root.crl"
    python3 scripts/demo-ocsp.py "$ocsp_port" "$pki/ica-index.txt" "$pki/ica.cert.pem" \
        "$pki/ocsp-responder.cert.pem" "$pki/ocsp-responder.key.pem" >"$dir/ocsp.log" 2>&1 &
    DEMO_CA_PIDS="$!"
    python3 -m http.server "$crl_port" --bind 127.0.0.1 --directory "$dir/crl" >"$dir/crl.log" 2>&1 &
    DEMO_CA_PIDS="$DEMO_CA_PIDS $!"
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$ocsp_port/" 2>/dev/null \
            && curl -fsS -o /dev/null "http://127.0.0.1:$crl_port/root.crl" 2>/dev/null && break
        sleep 0.1
    done
    unset BHXH_CRL_FILE
    export BHXH_OCSP=1 BHXH_FETCH_CRLS=1
    export BHXH_REVOCATION_MIRRORS="http://ocsp.bhxh-test.invalid/=http://127.0.0.1:$ocsp_port/,http://crl.bhxh-test.invalid/ica.crl=http://127.0.0.1:$crl_port/ica.crl,http://crl.bhxh-test.invalid/root.crl=http://127.0.0.1:$crl_port/root.crl"
}

# listen_free HOST:PORT WHAT: fails, saying so in both languages, when something already
# listens there (an earlier backend still running, another program): the banner would
# otherwise point at a server that is not this one.
listen_free() {
    local host=${1%:*} port=${1##*:}
    host=${host#[}
    host=${host%]}
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
        echo "Không khởi động được $2: cổng $1 đang được một chương trình khác dùng (có thể là bản demo chạy trước đó). Hãy tắt chương trình đó, hoặc chọn cổng khác, ví dụ BHXH_LISTEN=127.0.0.1:8090 BHXH_STAFF_LISTEN=127.0.0.1:8091." >&2
        echo "Cannot start $2: port $1 is already in use (an earlier demo still running?). Stop it, or choose other ports, e.g. BHXH_LISTEN=127.0.0.1:8090 BHXH_STAFF_LISTEN=127.0.0.1:8091." >&2
        return 1
    fi
}

# demo_ports_free: the demo's backend, staff desk and CA ports are free (listen_free).
demo_ports_free() {
    listen_free "$BHXH_LISTEN" "máy chủ / the backend"
    listen_free "$BHXH_STAFF_LISTEN" "bàn hỗ trợ / the staff desk"
    listen_free "127.0.0.1:${BHXH_DEMO_OCSP_PORT:-8082}" "OCSP demo / the demo OCSP responder"
    listen_free "127.0.0.1:${BHXH_DEMO_CRL_PORT:-8083}" "CRL demo / the demo CRL server"
}

# wait_backend PID: returns once the backend at BHXH_LISTEN answers its health check;
# exits (no banner, no app) when process PID ended or never answered within 30 s.
wait_backend() {
    for _ in $(seq 300); do
        kill -0 "$1" 2>/dev/null || break
        curl -fsS "http://$BHXH_LISTEN/v1/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "Máy chủ không khởi động được (xem thông báo lỗi ở trên). / The backend did not start (see the error above)." >&2
    exit 1
}
