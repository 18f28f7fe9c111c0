#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine: installs what is missing
# (Debian packages), then builds and tests the whole workspace against real parts
# (SQLite, a real SMTP server, the fixture PKI). Exits non-zero on any failure and ends
# with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# How long each phase took, printed at the end ("phases: …"): where a cold run spends its time.
phases=()
mark=$SECONDS
phase() {
    phases+=("$1 $((SECONDS - mark)) s")
    mark=$SECONDS
}

need_apt "${BHXH_APT_PACKAGES[@]}" "${BHXH_WINDOWS_APT_PACKAGES[@]}"
ui_deps
vicc_env   # the Python env of the virtual smart card the PC/SC test inserts
schemathesis_env   # the API fuzzer tests/it/openapi.rs runs against the server
# WebDriver for the real app window (tauri-driver drives Debian's WebKitWebDriver).
[ -x target/tools/bin/tauri-driver ] || cargo install -q tauri-driver --locked --root target/tools
# The desktop crate embeds ui/dist at compile time: build the front end first.
(cd ui && npm run --silent build >/dev/null)
phase set-up

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# A clean build on CI gains nothing from incremental compilation, only its bookkeeping.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
# The Windows programs, their installer and the shell's Windows test binary, which the
# Wine tests of crates/cli and src-tauri run: the same build as the programs shipped, in
# one cargo run (building them without cross-crate LTO saved nothing: 18m14s of cargo
# against 16m49s).
bash scripts/build-windows.sh
phase windows-build
log=$(mktemp)
wine_log=$(mktemp)
tests_log=$(mktemp)
trap 'rm -f "$log" "$wine_log" "$tests_log"' EXIT
status=0
# The format is the one rustfmt.toml says, everywhere (cargo fmt --all writes it).
cargo fmt --all --check >/dev/null || { echo "format: the Rust code is not formatted; run cargo fmt --all" >&2; status=1; }
# And the front end's, the one ui/.prettierrc.json says (npm run format writes it).
(cd ui && npm run --silent format:check >/dev/null 2>&1) || { echo "format: the front end is not formatted; run npm run format in ui/" >&2; status=1; }
# No import circle between the server's modules.
python3 scripts/check-imports.py || status=1
# ARCHITECTURE.md names only what exists: every path it names, and every test it says
# holds an invariant.
python3 - <<'PY' || status=1
import os, re, subprocess, sys
text = open("ARCHITECTURE.md", encoding="utf-8").read()
roots = ("crates/", "src-tauri/", "ui/", "scripts/", "docs/", "fuzz/", ".ci/")
bad = [t for t in set(re.findall(r"`([^`\s*]+)`", text)) if t.startswith(roots) and not os.path.exists(t)]
for name in set(re.findall(r"`([a-z0-9_]{25,})`", text)):
    if subprocess.run(["grep", "-rqE", f"fn {name}\\(", "crates", "src-tauri"]).returncode:
        bad.append(f"test {name}")
for b in sorted(bad):
    print(f"ARCHITECTURE.md names what does not exist: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
# One build of the workspace serves every test binary; --locked keeps CI on Cargo.lock.
# Output goes to a file and is followed from there, not through a pipe: a process a test
# left behind cannot then keep this script waiting for the pipe to close.
phase checks
cargo test --workspace --locked --no-run >"$log" 2>&1 &
cargo_pid=$!
tail -n +1 -f --pid="$cargo_pid" "$log"
wait "$cargo_pid" || status=$?
phase rust-build
# Then the tests. The Windows programs' under Wine (crates/cli/tests/e2e/wine.rs) run
# beside the rest: they mostly wait for Wine (49 s of CPU in 86 s), in a Wine prefix of
# their own process, each with its own backend on ports of its own. Both runs select the
# same packages (--workspace), so neither builds anything: one filter, and its complement.
cargo test --workspace --locked --no-fail-fast -- wine:: >"$wine_log" 2>&1 &
wine_pid=$!
cargo test --workspace --locked --no-fail-fast -- --skip wine:: >"$tests_log" 2>&1 &
cargo_pid=$!
tail -n +1 -f --pid="$cargo_pid" "$tests_log"
wait "$cargo_pid" || status=$?
wine_status=0
wait "$wine_pid" || wine_status=$?
if [ "$wine_status" = 0 ]; then
    # Every other binary ran none of its tests there: only what ran is shown.
    grep -E '^test .* \.\.\. |^test result: ok\. [1-9]' "$wine_log" || true
else
    cat "$wine_log"
    status=$wine_status
fi
cat "$tests_log" "$wine_log" >>"$log"
phase rust-tests
# The linter, on every target (tests and benches too), warnings as errors.
lint_log=$(mktemp)
if ! cargo clippy --workspace --all-targets --locked -- -D warnings >"$lint_log" 2>&1; then
    grep -E -A 8 '^(warning|error)' "$lint_log" | head -n 80 >&2
    echo "clippy: warnings in the Rust code; run cargo clippy --workspace --all-targets" >&2
    status=1
fi
rm -f "$lint_log"
phase clippy

# The front end: unit tests (vitest), then every screen in Debian's chromium (Playwright,
# the FAKE backend), with screenshots kept in ui/test-results/screenshots.
ui_log=$(mktemp)
(cd ui && NO_COLOR=1 npx vitest run >"$ui_log" 2>&1) || status=1
# Two files at once (ui/package.json's e2e; node alone takes one at a time on two cores):
# each file has its own Chromium and its own server on a port of its own, and the
# screenshots' names differ; the browser tests wait on what they look for, 30 s at most,
# and use little CPU meanwhile.
(cd ui && npm run --silent build:mock >/dev/null && npm run --silent e2e >>"$ui_log" 2>&1) || status=1
phase ui
grep -vE '^ +(duration_ms|type|\.\.\.|---)' "$ui_log" | tail -n 40
# A failed browser test by name, with its error (the tail above may not reach it).
grep -nE -A 14 '^ *not ok ' "$ui_log" | head -n 120 || true
cat "$ui_log" >>"$log"
rm -f "$ui_log"

echo "phases: $(IFS=,; echo "${phases[*]}" | sed 's/,/, /g')"
# One total over the three runners: cargo's "test result:" lines, vitest's "Tests" line,
# node's "# pass / # fail" lines.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     /^ +Tests +[0-9]/ { for (i = 1; i <= NF; i++) { if ($(i) == "passed") p += $(i-1); if ($(i) == "failed") f += $(i-1) } }
     /^# pass / { p += $3 } /^# fail / { f += $3 }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
