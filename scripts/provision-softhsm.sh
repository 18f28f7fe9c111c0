#!/usr/bin/env bash
# provision-softhsm.sh OUT_DIR FIXTURES_DIR
#
# Builds a fresh, self-contained SoftHSM2 setup that stands in for the USB
# PKCS#11 tokens (chữ ký số) users plug in to prove their identity.
# FIXTURES_DIR is the test PKI made by scripts/make-fixtures.sh.
#
# Creates in OUT_DIR:
#   softhsm2.conf   directories.tokendir = OUT_DIR/tokens, file backend
#   tokens/         wiped and recreated on every run (idempotent)
#   env             SOFTHSM2_CONF, BHXH_PKCS11_MODULE, BHXH_TEST_PIN
#                   (use: set -a; . OUT_DIR/env; set +a)
#
# Tokens (SO PIN 87654321, user PIN 123456), each holding a private key,
# its public key (both from softhsm2-util --import) and the certificate,
# all three objects with the same CKA_ID and CKA_LABEL:
#   rsa    label "BHXH Test RSA"   rsa-valid  (RSA 2048, MST:0101234567)  id 01
#   ec     label "BHXH Test EC"    ec-valid   (P-256,    MST:0101234567)  id 02
#   other  label "BHXH Other MST"  other-mst  (RSA 2048, MST:0309999999)  id 03
# and, only when BHXH_TOKENS names it:
#   always label "BHXH Test Always-Auth"  rsa-valid  id 04, its private key
#          with CKA_ALWAYS_AUTHENTICATE true (a PIN for every signature:
#          imported by pkcs11-tool --always-auth, since softhsm2-util --import
#          cannot set it; its public key is written by pkcs11-tool too)
# CKA_LABEL of every object is the UTF-8 string "CÔNG TY TNHH THỬ NGHIỆM BHXH".
# Select tokens by label: SoftHSM slot IDs are derived from the random
# token serial and change on every run, and slot order is not stable.
#
# BHXH_TOKENS="rsa ec other always" (any subset, space separated) chooses
# which tokens are made; unset or empty means the three rsa ec other.
#
# Never touches /etc/softhsm, /var/lib/softhsm or any existing token: every
# softhsm2-util / pkcs11-tool call runs with SOFTHSM2_CONF=OUT_DIR/softhsm2.conf.
# Quiet on success except one summary line per token on stdout; on failure
# prints the failing command and its output to stderr and exits 1.
set -euo pipefail

PROG=${0##*/}

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}

[ $# -eq 2 ] && [ -n "$1" ] && [ -n "$2" ] ||
    { echo "usage: $PROG OUT_DIR FIXTURES_DIR" >&2; exit 2; }

SO_PIN=87654321
USER_PIN=123456
OBJ_LABEL="CÔNG TY TNHH THỬ NGHIỆM BHXH"
MODULE=/usr/lib/softhsm/libsofthsm2.so
# Deliberately NOT taken from the environment: a stale BHXH_PKCS11_MODULE
# pointing at a real token's driver must never receive our writes.

# token table: key -> "TOKEN LABEL|fixture name|CKA_ID hex"
declare -A TOKEN=(
    [rsa]="BHXH Test RSA|rsa-valid|01"
    [ec]="BHXH Test EC|ec-valid|02"
    [other]="BHXH Other MST|other-mst|03"
    [always]="BHXH Test Always-Auth|rsa-valid|04"
)
# What an empty BHXH_TOKENS makes ("always" only when named: many tests count three).
ALL_TOKENS=(rsa ec other)
VALID_TOKENS=(rsa ec other always)

# ---------------------------------------------------------------- tools
have_tools() {
    command -v softhsm2-util >/dev/null 2>&1 &&
        command -v pkcs11-tool >/dev/null 2>&1 &&
        [ -e "$MODULE" ]
}
if ! have_tools; then
    if [ "$(id -u)" -ne 0 ]; then
        die "softhsm2-util, pkcs11-tool or $MODULE missing; install them with: apt-get install -y -q softhsm2 opensc"
    fi
    echo "$PROG: installing softhsm2 opensc" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q softhsm2 opensc >/dev/null 2>&1; then
        # package lists may be missing on a fresh image
        apt-get update -q >/dev/null 2>&1 || true
        apt-get install -y -q softhsm2 opensc >/dev/null ||
            die "command failed: apt-get install -y -q softhsm2 opensc"
    fi
    have_tools || die "softhsm2-util, pkcs11-tool or $MODULE still missing after install"
fi

# ---------------------------------------------------------------- args
OUT=${1%/}
[ -n "$OUT" ] || die "refusing to use / as OUT_DIR"
case $OUT in *$'\n'*) die "OUT_DIR must not contain a newline" ;; esac
mkdir -p -- "$OUT" || die "cannot create $OUT"
OUT=$(cd -- "$OUT" && pwd -P)
[ "$OUT" != / ] || die "refusing to use / as OUT_DIR"
case $OUT in
    /etc/softhsm | /etc/softhsm/* | /var/lib/softhsm | /var/lib/softhsm/*)
        die "refusing to use the system SoftHSM directory $OUT" ;;
esac

[ -d "$2" ] || die "FIXTURES_DIR $2 is not a directory (make it with scripts/make-fixtures.sh)"
FIX=$(cd -- "$2" && pwd -P)

# which tokens
SELECTED=()
if [ -z "${BHXH_TOKENS:-}" ]; then
    SELECTED=("${ALL_TOKENS[@]}")
else
    declare -A seen=()
    for t in $BHXH_TOKENS; do
        [ -n "${TOKEN[$t]+x}" ] || die "BHXH_TOKENS: unknown token '$t' (valid: ${VALID_TOKENS[*]})"
        [ -n "${seen[$t]+x}" ] && continue
        seen[$t]=1
        SELECTED+=("$t")
    done
fi

for t in "${SELECTED[@]}"; do
    IFS='|' read -r _ fixture _ <<<"${TOKEN[$t]}"
    for f in "$FIX/$fixture.key.pem" "$FIX/$fixture.cert.der"; do
        [ -r "$f" ] || die "missing fixture $f (run scripts/make-fixtures.sh $FIX)"
    done
done

# ---------------------------------------------------------------- setup
CONF="$OUT/softhsm2.conf"
TOKDIR="$OUT/tokens"
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/provision-softhsm.XXXXXX")
trap 'rm -rf -- "$LOGDIR"' EXIT

# Isolate from any SoftHSM configuration in the caller's environment.
export SOFTHSM2_CONF="$CONF"

# run CMD...   run quietly; on failure show the command and its output.
# The command's stdout is kept in $LOGDIR/last.out for callers to parse.
run() {
    if ! "$@" >"$LOGDIR/last.out" 2>"$LOGDIR/last.err"; then
        {
            echo "$PROG: error: command failed (SOFTHSM2_CONF=$CONF):"
            printf '   '
            printf ' %q' "$@"
            echo
            sed 's/^/    /' "$LOGDIR/last.out" "$LOGDIR/last.err"
        } >&2
        exit 1
    fi
}

# Remove the env file first so a failed run never leaves one pointing at
# half-provisioned tokens.
rm -f -- "$OUT/env"
rm -rf -- "$TOKDIR"
mkdir -m 700 -- "$TOKDIR"

cat >"$CONF" <<EOF
# Generated by scripts/provision-softhsm.sh -- test tokens only.
directories.tokendir = $TOKDIR
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF

P11=(pkcs11-tool --module "$MODULE")

# ---------------------------------------------------------------- tokens
for t in "${SELECTED[@]}"; do
    IFS='|' read -r tlabel fixture id <<<"${TOKEN[$t]}"

    run softhsm2-util --module "$MODULE" --init-token --free --label "$tlabel" \
        --so-pin "$SO_PIN" --pin "$USER_PIN"
    slot=$(sed -n 's/.*reassigned to slot \([0-9][0-9]*\).*/\1/p' "$LOGDIR/last.out")
    [ -n "$slot" ] || die "could not read the slot of token '$tlabel' from softhsm2-util output: $(cat "$LOGDIR/last.out")"

    if [ "$t" = always ]; then
        # Private key with CKA_ALWAYS_AUTHENTICATE (and CKA_PRIVATE, CKA_SENSITIVE,
        # CKA_SIGN) from its PKCS#8 DER, then the public key from its SPKI DER.
        run openssl pkcs8 -topk8 -nocrypt -in "$FIX/$fixture.key.pem" -outform DER -out "$LOGDIR/key.der"
        run openssl pkey -in "$FIX/$fixture.key.pem" -pubout -outform DER -out "$LOGDIR/pub.der"
        run "${P11[@]}" --token-label "$tlabel" --login --pin "$USER_PIN" \
            --write-object "$LOGDIR/key.der" --type privkey --always-auth --usage-sign \
            --private --sensitive --id "$id" --label "$OBJ_LABEL"
        rm -f -- "$LOGDIR/key.der"
        run "${P11[@]}" --token-label "$tlabel" --login --pin "$USER_PIN" \
            --write-object "$LOGDIR/pub.der" --type pubkey --usage-sign --id "$id" --label "$OBJ_LABEL"
    else
        # Private key (CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN true) + public key.
        run softhsm2-util --module "$MODULE" --import "$FIX/$fixture.key.pem" \
            --token "$tlabel" --label "$OBJ_LABEL" --id "$id" --pin "$USER_PIN"
    fi

    # Certificate: a public object (readable without login), as on real tokens.
    run "${P11[@]}" --token-label "$tlabel" --login --pin "$USER_PIN" \
        --write-object "$FIX/$fixture.cert.der" --type cert \
        --id "$id" --label "$OBJ_LABEL"

    # The CA's intermediate, as real VN tokens carry it (no key; sent along as `chain`).
    if [ -r "$FIX/ica.cert.der" ]; then
        run "${P11[@]}" --token-label "$tlabel" --login --pin "$USER_PIN" \
            --write-object "$FIX/ica.cert.der" --type cert --id ca01 --label "BHXH Test Issuing CA"
    fi

    # Check that all three objects are there with the expected id.
    run "${P11[@]}" --token-label "$tlabel" --login --pin "$USER_PIN" --list-objects
    n=$(grep -c "^  ID: *$id\$" "$LOGDIR/last.out" || true)
    grep -q '^Private Key Object' "$LOGDIR/last.out" &&
        grep -q '^Certificate Object' "$LOGDIR/last.out" &&
        grep -q '^Public Key Object' "$LOGDIR/last.out" && [ "$n" -eq 3 ] ||
        die "token '$tlabel': expected private key, public key and certificate with id $id, got:
$(sed 's/^/    /' "$LOGDIR/last.out")"
    if [ "$t" = always ]; then
        grep -q '^  Access: *always authenticate' "$LOGDIR/last.out" ||
            die "token '$tlabel': the private key is not marked always authenticate, got:
$(sed 's/^/    /' "$LOGDIR/last.out")"
    fi

    serial=$(awk -v s="$slot" '
        /^Slot [0-9]+$/ { cur = $2 }
        cur == s && /Serial number:/ { print $3; exit }' \
        < <(softhsm2-util --module "$MODULE" --show-slots 2>/dev/null))

    printf '%s: slot %s (0x%x) serial %s: %s private key + public key + certificate, id %s\n' \
        "$tlabel" "$slot" "$slot" "${serial:-?}" "$fixture" "$id"
done

# ---------------------------------------------------------------- env
{
    printf 'SOFTHSM2_CONF=%q\n' "$CONF"
    printf 'BHXH_PKCS11_MODULE=%q\n' "$MODULE"
    printf 'BHXH_TEST_PIN=%s\n' "$USER_PIN"
} >"$OUT/env"
