#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what is missing
# (Debian packages), then builds and tests the whole workspace against real parts
# (SQLite, a real SMTP server, the fixture PKI). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_apt "${BHXH_APT_PACKAGES[@]}"

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# One build of the workspace serves every test binary; --locked keeps CI on Cargo.lock.
cargo test --workspace --locked --no-fail-fast 2>&1
