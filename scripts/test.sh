#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what is missing
# (Debian packages), then builds and tests the whole workspace against real parts
# (SQLite, a real SMTP server, the fixture PKI). Exits non-zero on any failure and ends
# with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_apt "${BHXH_APT_PACKAGES[@]}"

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
log=$(mktemp)
# The PC/SC test starts pcscd with virtual readers (scripts/pcsc-virtual.sh); stop it after.
trap 'rm -f "$log"; bash scripts/pcsc-virtual.sh stop >/dev/null 2>&1 || true' EXIT
status=0
# One build of the workspace serves every test binary; --locked keeps CI on Cargo.lock.
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?

awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
