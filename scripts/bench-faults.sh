#!/usr/bin/env bash
# The fault figures of the closing notes, from the same tests CI runs, scaled up:
#   - SMTP down during RESETS resets (default 1,000), then back: delivered, lost, duplicates;
#   - SIGKILL at random points, ROUNDS rounds (default 1,000) on SQLite and on PostgreSQL:
#     half resets (goal 0);
#   - slowloris: SLOW recoveries' (default 100) p50/p95 with 500 slow connections open;
#   - PostgreSQL stopped OUTAGE seconds (default 30) under load: every answer a 200 or a
#     503 with Retry-After, time to serve again, half resets.
# Each test asserts its goal; this prints the figures they report.
# Usage: scripts/bench-faults.sh   (RESETS=… ROUNDS=… SLOW=… OUTAGE=… to change the scale)
set -euo pipefail
cd "$(dirname "$0")/.."
export BHXH_BENCH_RESETS="${RESETS:-1000}" BHXH_BENCH_KILL_ROUNDS="${ROUNDS:-1000}" \
    BHXH_BENCH_SLOW_RECOVERIES="${SLOW:-100}" BHXH_BENCH_OUTAGE_SECS="${OUTAGE:-30}"
log=$(mktemp)
start=$(date +%s)
# One test at a time: each figure has the machine to itself.
if ! cargo test -p bhxh-server --features testing --test it -- --nocapture --test-threads 1 \
    outbox::smtp_down crash:: faults::five_hundred faults::postgres_stopped >"$log" 2>&1; then
    tail -50 "$log"
    echo "a fault test failed (full log: $log)" >&2
    exit 1
fi
# The figures are printed on the test's own line (after "test NAME ... ").
grep -oE "(smtp outage|crash test \([a-z]+\)|slowloris|outage): .*" "$log"
grep -E "^test result" "$log"
echo "($(( $(date +%s) - start )) s)"
