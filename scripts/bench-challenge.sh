#!/usr/bin/env bash
# bench-challenge.sh: how cheap the challenge endpoint is next to the health endpoint of
# the same server in the same run (wrk, 16 connections, limits raised), on SQLite and on
# PostgreSQL (a cluster of the script's own). Figures, no assertions. (The resets' p95
# during a challenge flood is measured by `cargo bench -p bhxh-server --bench load`.)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_apt wrk postgresql openssl
SECS=${SECS:-5}
cargo build -q --release -p bhxh-server
BIN=target/release/bhxh-server
PKI=target/bench-challenge-pki
bash scripts/make-fixtures.sh "$PKI"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; if [ -n "${PGBIN:-}" ]; then as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true; fi; rm -rf "$WORK"' EXIT
cat >"$WORK/challenge.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format('{"username":"user%03d","purpose":"bhxh-password-recovery/v1"}', n % 500))
end
LUA

run() { # NAME DATABASE_URL
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$WORK/$1.toml" <<TOML
listen = "127.0.0.1:$port"
staff_listen = ""
data_dir = "$WORK/$1"
database_url = "$2"
trust_anchors = "$PKI/trust.pem"
trust_intermediates = "$PKI/intermediates.pem"
crl_file = "$PKI/crl.pem"
[limits]
per_client = 100000000
per_username = 100000000
per_username_total = 100000000
[revocation]
ocsp = false
fetch_crls = false
TOML
    BHXH_LOG=error "$BIN" --config "$WORK/$1.toml" serve &
    local pid=$!
    for _ in $(seq 200); do curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break; sleep 0.05; done
    local health challenge
    wrk -t2 -c16 -d"${SECS}s" "http://127.0.0.1:$port/v1/health" >"$WORK/health.out"
    wrk -t2 -c16 -d"${SECS}s" -s "$WORK/challenge.lua" "http://127.0.0.1:$port/v1/recovery/challenge" >"$WORK/challenge.out"
    health=$(awk '/Requests\/sec/ {print $2}' "$WORK/health.out")
    challenge=$(awk '/Requests\/sec/ {print $2}' "$WORK/challenge.out")
    python3 -c "print(f'$1: health {float($health):,.0f} req/s, challenge {float($challenge):,.0f} req/s, ratio {float($challenge)/float($health):.2f}')"
    # Every answer must have been a 200 for the figure to mean anything.
    grep -h "Non-2xx" "$WORK/health.out" "$WORK/challenge.out" || echo "  (every answer 2xx)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

run sqlite "sqlite://$WORK/sqlite/bhxh.db"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$WORK/pg"
if [ "$(id -u)" -eq 0 ]; then chmod 755 "$WORK"; chown postgres "$WORK/pg"; fi
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U bhxh --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1" -l "$WORK/pg/log" start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U bhxh bench
run postgres "postgres://bhxh@127.0.0.1:$PGPORT/bench"
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null
PGBIN=
