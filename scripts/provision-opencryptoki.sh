#!/usr/bin/env bash
# provision-opencryptoki.sh FIXTURES_DIR
#
# The second real PKCS#11 implementation of the tests: opencryptoki's soft token
# (Debian `opencryptoki`), which — unlike SoftHSM2 — locks the user PIN for real after
# three wrong tries (USER_PIN_COUNT_LOW → USER_PIN_FINAL_TRY → USER_PIN_LOCKED), lets the
# SO reset it (C_InitPIN), offers no CKM_SHA256_RSA_PKCS (only raw CKM_RSA_PKCS, so the
# client's DigestInfo fallback runs), and has configured slots whose libraries are
# missing (a half-broken module, as in the field).
#
# opencryptoki keeps ONE soft token per machine (/var/lib/opencryptoki/swtok, served by
# the pkcsslotd daemon): this script starts pkcsslotd if needed, wipes that token and
# makes it anew, so it refuses to touch a soft token it did not make (no marker file),
# unless BHXH_OCK_WIPE=1. Tests share it one at a time (bhxh_testkit::opencryptoki takes
# a file lock) and reset the PIN state between them with the SO PIN.
#
# The token (slot 3): label "BHXH OCK RSA", SO PIN 87654321, user PIN 123456 (4–8
# characters), holding the rsa-valid key (PKCS#8) and certificate (MST:0101234567) with
# CKA_ID 01 and the issuing CA's certificate (id ca01), all labelled as on SoftHSM2.
# Needs root (pkcsslotd and the token directory are root's); prints one summary line.
set -euo pipefail

PROG=${0##*/}
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $PROG FIXTURES_DIR" >&2; exit 2; }
FIX=${1%/}
[ -r "$FIX/rsa-valid.key.pem" ] && [ -r "$FIX/rsa-valid.cert.der" ] || die "$FIX holds no rsa-valid key and certificate (scripts/make-fixtures.sh)"
[ "$(id -u)" -eq 0 ] || die "needs root (pkcsslotd and /var/lib/opencryptoki belong to root)"

MODULE=/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so
SLOT=3
SO_PIN=87654321
USER_PIN=123456
LABEL="BHXH OCK RSA"
OBJ_LABEL="CÔNG TY TNHH THỬ NGHIỆM BHXH"
TOKDIR=/var/lib/opencryptoki/swtok
OWNER=/var/lib/opencryptoki/.bhxh-test-owner   # this script made the soft token
MARK=/var/lib/opencryptoki/.bhxh-test-token    # …and finished: the certificate it holds

if ! command -v pkcsslotd >/dev/null 2>&1 || [ ! -e "$MODULE" ] || ! command -v pkcs11-tool >/dev/null 2>&1; then
    echo "$PROG: installing opencryptoki opensc" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q opencryptoki opensc >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 || true; apt-get install -y -q opencryptoki opensc >/dev/null; } ||
        die "apt-get install opencryptoki opensc failed"
fi

# Ours: the owner marker, or the finished marker (all an earlier version wrote).
if [ -e "$TOKDIR/NVTOK.DAT" ] && [ ! -e "$OWNER" ] && [ ! -e "$MARK" ] && [ "${BHXH_OCK_WIPE:-}" != 1 ]; then
    die "opencryptoki's soft token in $TOKDIR was not made by this script; set BHXH_OCK_WIPE=1 to wipe it"
fi

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
run() { "$@" >"$LOG" 2>&1 || die "command failed: $*
$(sed 's/^/    /' "$LOG")"; }

# A fresh token: stop the daemon (it caches the token in shared memory), wipe, start.
if pgrep -x pkcsslotd >/dev/null; then
    pkill -x pkcsslotd || true
    for _ in $(seq 100); do pgrep -x pkcsslotd >/dev/null || break; sleep 0.05; done
fi
rm -rf "${TOKDIR:?}"/* /dev/shm/var.lib.opencryptoki.* 2>/dev/null || true
# The folders the package's tmpfiles.d entry makes at boot (no systemd in a container):
# TOK_OBJ holds the token's objects (without it C_CreateObject fails with
# CKR_FUNCTION_FAILED), /var/lock/opencryptoki/swtok its lock.
mkdir -p /run/opencryptoki /var/lock/opencryptoki/swtok "$TOKDIR/TOK_OBJ"
chgrp pkcs11 "$TOKDIR" "$TOKDIR/TOK_OBJ" /var/lock/opencryptoki /var/lock/opencryptoki/swtok 2>/dev/null || true
chmod 770 "$TOKDIR" "$TOKDIR/TOK_OBJ" /var/lock/opencryptoki /var/lock/opencryptoki/swtok 2>/dev/null || true
touch "$OWNER"
rm -f "$MARK"
run pkcsslotd
for _ in $(seq 100); do pkcsconf -c "$SLOT" -t >/dev/null 2>&1 && break; sleep 0.05; done

# Initialise (the label is read from stdin), then the user PIN (new PIN twice).
echo "$LABEL" | run pkcsconf -c "$SLOT" -I -S "$SO_PIN"
printf '%s\n%s\n' "$USER_PIN" "$USER_PIN" | run pkcsconf -c "$SLOT" -u -S "$SO_PIN"

KEY=$(mktemp --suffix .der)
trap 'rm -f "$LOG" "$KEY"' EXIT
run openssl pkcs8 -topk8 -nocrypt -in "$FIX/rsa-valid.key.pem" -outform DER -out "$KEY"
P11=(pkcs11-tool --module "$MODULE" --slot "$SLOT" --login --pin "$USER_PIN")
run "${P11[@]}" --write-object "$KEY" --type privkey --id 01 --label "$OBJ_LABEL" --usage-sign
run "${P11[@]}" --write-object "$FIX/rsa-valid.cert.der" --type cert --id 01 --label "$OBJ_LABEL"
if [ -r "$FIX/ica.cert.der" ]; then
    run "${P11[@]}" --write-object "$FIX/ica.cert.der" --type cert --id ca01 --label "BHXH Test Issuing CA"
fi
run "${P11[@]}" --list-objects
grep -q '^Private Key Object' "$LOG" && grep -q '^Certificate Object' "$LOG" ||
    die "the token does not hold the key and the certificate:
$(sed 's/^/    /' "$LOG")"
# Last: the marker names the certificate provisioned (the tests provision again when
# the fixture PKI they run with is another one, or when a run stopped half-way).
sha256sum "$FIX/rsa-valid.cert.der" | cut -d' ' -f1 >"$MARK"
echo "$LABEL: opencryptoki soft token, slot $SLOT, rsa-valid private key + certificate, id 01 ($MODULE)"
