#!/usr/bin/env bash
# Runs the product on its embedded defaults: the reset backend (SQLite, mails as .eml
# files in data/demo/outbox/), a demo SoftHSM2 token (PIN 123456) whose certificate
# carries MST 0101234567, a demo account "demo" enrolled with that MST, and the desktop
# app pointed at that backend and that token. Closing the app stops the backend.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_apt "${BHXH_APT_PACKAGES[@]}"
ui_deps
(cd ui && npm run --silent build >/dev/null)

DATA=${BHXH_DATA_DIR:-data/demo}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
demo_pki "$DATA/pki5"
[ -f "$DATA/softhsm/env" ] || BHXH_TOKENS=rsa bash scripts/provision-softhsm.sh "$DATA/softhsm" "$DATA/pki5" >/dev/null

# The first run (or the first after the tests, whose build has other features) compiles
# the backend and the app: say so, as it takes minutes on a small machine.
echo "Đang biên dịch máy chủ và ứng dụng (lần đầu có thể mất vài phút)… / Building the backend and the app (the first time takes a few minutes)…" >&2
cargo build -q -p bhxh-server -p bhxh-desktop
export BHXH_DATA_DIR="$DATA" BHXH_TRUST_ANCHORS="$DATA/pki5/trust.pem" BHXH_INTERMEDIATES="$DATA/pki5/intermediates.pem"
export BHXH_LISTEN=${BHXH_LISTEN:-127.0.0.1:8080} BHXH_STAFF_LISTEN=${BHXH_STAFF_LISTEN:-127.0.0.1:8081}
demo_ports_free
# The demo CA's OCSP responder and CRLs, so the app shows the real path end to end.
demo_ca "$DATA/pki5" "$DATA/ca"
trap 'kill $DEMO_CA_PIDS 2>/dev/null || true' EXIT
SERVER=target/debug/bhxh-server
"$SERVER" account show demo >/dev/null 2>&1 || "$SERVER" account add --username demo --mst 0101234567 --email demo@congty.vn >/dev/null
"$SERVER" staff list | grep -q '^hotro\b' || echo 'Ban-ho-tro-2026!' | "$SERVER" staff add --username hotro --name "Nhân viên hỗ trợ (demo)" >/dev/null
"$SERVER" staff list | grep -q '^giamsat\b' || echo 'Ban-giam-sat-2026!' | "$SERVER" staff add --username giamsat --name "Người giám sát (demo)" --role supervisor >/dev/null

BHXH_LOG=warn "$SERVER" serve &
server_pid=$!
trap 'kill $server_pid $DEMO_CA_PIDS 2>/dev/null || true' EXIT
# No banner and no app unless the backend answers.
wait_backend "$server_pid"

cat <<MSG

  BHXH — Lấy lại mật khẩu bằng chữ ký số (demo)
  Máy chủ / Backend:       http://$BHXH_LISTEN
  Tài khoản / Account:     demo  (MST 0101234567, demo@congty.vn)
  Token demo (SoftHSM2):   "BHXH Test RSA", mã PIN / PIN: 123456
  Thư gửi đi / Mail:       $DATA/outbox/*.eml  (mật khẩu tạm thời ở đây / the temporary password is here)
  Bàn hỗ trợ / Staff desk: http://$BHXH_STAFF_LISTEN  (hotro / Ban-ho-tro-2026!)
  Người giám sát / Supervisor: giamsat / Ban-giam-sat-2026!  (phê duyệt đổi email / approves email changes)
  Tra cứu / Look up:       $SERVER audit show RC-XXXX-XXXX

MSG

set -a
. "$DATA/softhsm/env"
set +a
export BHXH_SERVER="http://$BHXH_LISTEN" BHXH_DESKTOP_CONFIG_DIR="$DATA/desktop"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo "No display: the backend runs alone (Ctrl-C stops it). bhxh recover --username demo works from another terminal." >&2
    wait "$server_pid"
else
    target/debug/bhxh-desktop
fi
