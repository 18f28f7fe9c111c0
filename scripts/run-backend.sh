#!/usr/bin/env bash
# Runs the reset backend on its embedded defaults: SQLite in ./data/demo, mails written
# as .eml files into ./data/demo/outbox/, the demo PKI as trust anchor with its CA's
# OCSP responder and CRLs served on loopback (scripts/lib.sh demo_ca), and a demo
# account (username "demo", MST 0101234567, demo@congty.vn) enrolled.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_apt "${BHXH_APT_PACKAGES[@]}"

DATA=${BHXH_DATA_DIR:-data/demo}
PKI="$DATA/pki5"
mkdir -p "$DATA"
demo_pki "$PKI"

export BHXH_DATA_DIR="$DATA"
export BHXH_TRUST_ANCHORS="$PKI/trust.pem"
export BHXH_INTERMEDIATES="$PKI/intermediates.pem"
export BHXH_LISTEN=${BHXH_LISTEN:-127.0.0.1:8080}
export BHXH_STAFF_LISTEN=${BHXH_STAFF_LISTEN:-127.0.0.1:8081}

cargo build -q -p bhxh-server
demo_ports_free
demo_ca "$PKI" "$DATA/ca"
trap 'kill $DEMO_CA_PIDS 2>/dev/null || true' EXIT
BIN=target/debug/bhxh-server
if ! "$BIN" account show demo >/dev/null 2>&1; then
    "$BIN" account add --username demo --mst 0101234567 --email demo@congty.vn
fi
"$BIN" staff list | grep -q '^hotro\b' || echo 'Ban-ho-tro-2026!' | "$BIN" staff add --username hotro --name "Nhân viên hỗ trợ (demo)" >/dev/null
"$BIN" staff list | grep -q '^giamsat\b' || echo 'Ban-giam-sat-2026!' | "$BIN" staff add --username giamsat --name "Người giám sát (demo)" --role supervisor >/dev/null
"$BIN" serve &
server_pid=$!
trap 'kill $server_pid $DEMO_CA_PIDS 2>/dev/null || true' EXIT
wait_backend "$server_pid"
cat <<MSG

  Máy chủ lấy lại mật khẩu BHXH / BHXH reset backend
  Địa chỉ / Address:   http://$BHXH_LISTEN  (GET /v1/health)
  Tài khoản demo:      demo (MST 0101234567, demo@congty.vn)
  Thư gửi đi / Mail:   $DATA/outbox/*.eml
  Bàn hỗ trợ / Staff:  http://$BHXH_STAFF_LISTEN  (hotro / Ban-ho-tro-2026!)
  Tra cứu / Look up:   $BIN audit show RC-XXXX-XXXX
  Thu hồi / Revocation: OCSP http://127.0.0.1:${BHXH_DEMO_OCSP_PORT:-8082}/, CRL http://127.0.0.1:${BHXH_DEMO_CRL_PORT:-8083}/  ($BIN trust show)

MSG
wait "$server_pid"
