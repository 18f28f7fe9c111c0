#!/usr/bin/env bash
# fuzz.sh [SECONDS]: runs each fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for SECONDS
# (default 60) from a corpus seeded with the fixture PKI's certificates, CRLs and an OCSP
# answer, and prints what libFuzzer reports (runs, executions/s, coverage). A benchmark-
# style script, outside the test command and CI's time budget.
#
# The machine's one toolchain is stable; cargo-fuzz needs nightly flags, which
# RUSTC_BOOTSTRAP=1 lets the stable compiler take. Targets build with AddressSanitizer
# into target/fuzz (the one target dir), corpora in target/fuzz-corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
SECS=${1:-60}
need_apt openssl
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

PKI=target/fuzz-pki
bash scripts/make-fixtures.sh "$PKI"
CORPUS=target/fuzz-corpus
mkdir -p "$CORPUS"/{certificate,ocsp_response,crl}
for f in "$PKI"/*.cert.der; do cp "$f" "$CORPUS/certificate/"; done
cp "$PKI"/crl.der "$CORPUS/crl/"
for f in "$PKI"/*crl.pem; do cp "$f" "$CORPUS/crl/"; done
openssl ocsp -issuer "$PKI/ica.cert.pem" -cert "$PKI/rsa-valid.cert.pem" -reqout "$CORPUS/req.der" >/dev/null 2>&1
openssl ocsp -index "$PKI/ica-index.txt" -rsigner "$PKI/ica.cert.pem" -rkey "$PKI/ica.key.pem" \
    -CA "$PKI/ica.cert.pem" -nmin 60 -reqin "$CORPUS/req.der" -respout "$CORPUS/ocsp_response/good.der" >/dev/null 2>&1
openssl ocsp -index "$PKI/ica-index.txt" -rsigner "$PKI/ocsp-responder.cert.pem" -rkey "$PKI/ocsp-responder.key.pem" \
    -CA "$PKI/ica.cert.pem" -reqin "$CORPUS/req.der" -respout "$CORPUS/ocsp_response/delegated.der" >/dev/null 2>&1
rm -f "$CORPUS/req.der"

export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$PWD/target/fuzz"
cd fuzz
for t in certificate ocsp_response crl; do
    echo "== $t ($SECS s)"
    log="../target/fuzz-$t.log"
    if ! cargo fuzz run "$t" "../$CORPUS/$t" -- -max_total_time="$SECS" -print_final_stats=1 >"$log" 2>&1; then
        echo "   FAILED (a crash, or the build): $log"
        tail -20 "$log"
    fi
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb|SUMMARY)" "$log" || true
    ls "artifacts/$t" 2>/dev/null | sed "s/^/   crash: /" || true
done
