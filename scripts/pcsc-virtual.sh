#!/usr/bin/env bash
# A real pcscd with virtual smart-card readers (Debian vsmartcard-vpcd) and a virtual
# ISO 7816 card (Debian vsmartcard-vpicc, `vicc`) that can be inserted and removed, for
# the tests that talk PC/SC through libpcsclite. Needs root (pcscd's socket lives in
# /run/pcscd). Works without systemd, without a TTY and without input.
#
#   scripts/pcsc-virtual.sh install        Debian packages + Python env for vicc (idempotent)
#   scripts/pcsc-virtual.sh start          start pcscd (unless one runs), print the reader names
#   scripts/pcsc-virtual.sh insert [PORT]  insert a card in the vpcd reader of PORT
#                                          (default 35963 = "Virtual PCD 00 00",
#                                          35964 = "Virtual PCD 00 01"), print its ATR (hex)
#   scripts/pcsc-virtual.sh remove [PORT]  remove that card
#   scripts/pcsc-virtual.sh stop           stop the cards and the pcscd this script started
#   scripts/pcsc-virtual.sh status         pcscd, then one line a reader:
#                                          NAME<TAB>present|absent<TAB>ATR|-
#
# Environment:
#   BHXH_PCSC_STATE    state dir (pid files, logs, the vicc venv), created as needed;
#                      default target/pcsc-virtual under the repo root (a relative
#                      value is taken from the current directory)
#   BHXH_PCSC_TIMEOUT  seconds any wait may last (default 10)
#   BHXH_PCSCD_ARGS    pcscd log options (default "-i": logs card insertion/removal and
#                      ATRs; "-d -a" logs everything, APDUs included)
# Results go to stdout (reader names, ATR, status lines); progress and errors to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${BHXH_PCSC_STATE:-$ROOT/target/pcsc-virtual}
TIMEOUT=${BHXH_PCSC_TIMEOUT:-10}
PCSCD_ARGS=${BHXH_PCSCD_ARGS:--i}

SYS_PY=/usr/bin/python3              # Debian's Python: has python3-pyscard, vicc's modules
PROBE=$ROOT/scripts/support/pcsc-probe.py
VICC=/usr/bin/vicc
VPCD_PORT=35963                      # CHANNELID 0x8C7B in /etc/reader.conf.d/vpcd
APT_PACKAGES=(pcscd vsmartcard-vpcd vsmartcard-vpicc libpcsclite-dev pcsc-tools
              python3-pyscard python3-venv)
PYPI_PACKAGES=(pycryptodome)         # vicc imports `Crypto`; Debian only ships `Cryptodome`

say() { echo "pcsc-virtual: $*" >&2; }
# die MESSAGE [LOG]: the error, the log to read and its last lines.
die() {
    say "ERROR: $1"
    if [ -n "${2:-}" ]; then
        if [ -s "$2" ]; then
            say "log: $2"
            tail -n 15 "$2" | sed 's/^/    | /' >&2
        else
            say "log: $2 (empty or absent: nothing logged there yet)"
        fi
    fi
    exit 1
}

mkdir -p "$STATE" || die "cannot create the state dir $STATE"
STATE=$(cd "$STATE" && pwd)
VENV=$STATE/venv
PCSCD_PID=$STATE/pcscd.pid
PCSCD_LOG=$STATE/pcscd.log
INSTALL_LOG=$STATE/install.log
PROBE_LOG=$STATE/probe.log
vicc_pidfile() { echo "$STATE/vicc-$1.pid"; }
vicc_log() { echo "$STATE/vicc-$1.log"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# alive PID WORD: PID is a live (not zombie) process whose command line contains WORD.
alive() {
    local pid=$1 word=$2 state cmd
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmd" == *"$word"* ]]
}
pid_from() { if [ -s "$1" ]; then cat "$1"; fi; }

# stop_pid PID WORD NAME LOG: SIGTERM, then SIGKILL after 5 s; waits until it is gone.
stop_pid() {
    local pid=$1 word=$2 name=$3 log=$4 _
    alive "$pid" "$word" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" "$word" || return 0; sleep 0.1; done
    say "$name (pid $pid) ignored SIGTERM for 5 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do alive "$pid" "$word" || return 0; sleep 0.1; done
    die "$name (pid $pid) does not die" "$log"
}

# probe ARGS…: scripts/support/pcsc-probe.py under a hard time limit. Its errors are
# appended to probe.log; the last one is kept for the messages (probe_err), in a file so
# that it survives $(…) subshells.
PROBE_ERR_FILE=$STATE/.probe-err.$$
trap 'rm -f "$PROBE_ERR_FILE"' EXIT
probe_err() { [ -s "$PROBE_ERR_FILE" ] && cat "$PROBE_ERR_FILE" || echo "none"; }
probe() {
    local limit=5 rc=0 out
    [ "$1" = wait ] && limit=$(( ${4%.*} + 5 ))
    out=$(timeout "$limit" "$SYS_PY" "$PROBE" "$@" 2>"$PROBE_ERR_FILE") || rc=$?
    [ "$rc" -eq 124 ] && echo "pcsc-probe.py $* hung for ${limit}s (pcscd not answering?)" >>"$PROBE_ERR_FILE"
    if [ -s "$PROBE_ERR_FILE" ]; then
        echo "$(date '+%F %T') probe $*: $(cat "$PROBE_ERR_FILE")" >>"$PROBE_LOG"
    fi
    [ -n "$out" ] && printf '%s\n' "$out"
    return "$rc"
}

# The directory to put on PYTHONPATH for vicc (holds the `virtualsmartcard` package).
vicc_pythonpath() {
    local f
    f=$(dpkg -L python3-virtualsmartcard 2>/dev/null | grep '/virtualsmartcard/VirtualSmartcard\.py$' | head -n1)
    [ -n "$f" ] || die "python3-virtualsmartcard is not installed: run $0 install"
    dirname "$(dirname "$f")"
}

venv_ok() {
    [ -x "$VENV/bin/python" ] || return 1
    [ "$(readlink -f "$VENV/bin/python")" = "$(readlink -f "$SYS_PY")" ] || return 1
    PYTHONPATH=$(vicc_pythonpath) "$VENV/bin/python" -c '
from Crypto.Cipher import DES3, DES, AES, ARC4
from Crypto.Hash import HMAC, SHA
import virtualsmartcard.VirtualSmartcard' >>"$INSTALL_LOG" 2>&1
}

need_installed() {
    local p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            die "Debian package $p is missing: run $0 install"
    done
}

# detach LOG CMD…: runs CMD in the background, in its own session (a Ctrl-C or SIGHUP
# meant for the caller does not reach it), stdin /dev/null, stdout and stderr appended
# to LOG, every other inherited descriptor closed (no caller's pipe, e.g. a test
# harness capturing our output, and not our lock, stays open in it). Sets DETACHED_PID:
# the subshell is no process group leader, so setsid and env exec in place and the pid
# is CMD's.
DETACHED_PID=""
detach() {
    local log=$1; shift
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
        done
        exec setsid "$@" </dev/null >>"$log" 2>&1
    ) &
    DETACHED_PID=$!
}

# Serialises the commands that change state (fd 9; detach closes it in the daemons, or
# the lock would outlive us).
lock() {
    exec 9>"$STATE/lock"
    flock -w $(( TIMEOUT * 3 )) 9 || die "another pcsc-virtual.sh holds $STATE/lock"
}

cmd_install() {
    lock
    local missing=() p
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] || die "apt-get install ${missing[*]} needs root"
        say "apt-get install ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
            </dev/null >>"$INSTALL_LOG" 2>&1 || die "apt-get install ${missing[*]} failed" "$INSTALL_LOG"
    fi
    if ! venv_ok; then
        say "creating the Python env for vicc in $VENV (Debian python + PyPI ${PYPI_PACKAGES[*]})"
        rm -rf "$VENV"
        "$SYS_PY" -m venv --system-site-packages "$VENV" </dev/null >>"$INSTALL_LOG" 2>&1 ||
            die "python venv creation in $VENV failed" "$INSTALL_LOG"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PYPI_PACKAGES[@]}" \
            </dev/null >>"$INSTALL_LOG" 2>&1 || die "pip install ${PYPI_PACKAGES[*]} into $VENV failed" "$INSTALL_LOG"
        venv_ok || die "vicc's modules do not import in $VENV" "$INSTALL_LOG"
    fi
    say "installed (state dir $STATE)"
}

# Pid of a running pcscd, ours or not (empty if none).
running_pcscd() {
    local pid
    pid=$(pid_from "$PCSCD_PID")
    if alive "$pid" pcscd; then echo "$pid"; return; fi
    pid=$(pid_from /run/pcscd/pcscd.pid | tr -dc 0-9)
    if alive "$pid" pcscd; then echo "$pid"; return; fi
    pgrep -x pcscd | while read -r pid; do alive "$pid" pcscd && { echo "$pid"; break; }; done || true
}

vpcd_readers() { probe readers 2>/dev/null | grep '^Virtual PCD' || true; }

cmd_start() {
    need_installed
    lock
    local pid ours=0 deadline readers=""
    pid=$(running_pcscd)
    if [ -n "$pid" ]; then
        [ "$pid" = "$(pid_from "$PCSCD_PID")" ] && ours=1
        if [ $ours -eq 1 ]; then
            say "pcscd already running (pid $pid, started by this script)"
        else
            say "using the pcscd already running (pid $pid, not started by this script: stop will leave it)"
        fi
    else
        rm -f "$PCSCD_PID"
        mkdir -p /run/pcscd || die "cannot create /run/pcscd (pcscd's socket dir; run as root)"
        echo "=== $(date '+%F %T') pcscd -f $PCSCD_ARGS" >>"$PCSCD_LOG"
        # shellcheck disable=SC2086
        detach "$PCSCD_LOG" pcscd -f $PCSCD_ARGS
        pid=$DETACHED_PID
        echo "$pid" >"$PCSCD_PID"
        ours=1
        say "started pcscd (pid $pid, log $PCSCD_LOG)"
    fi
    deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while :; do
        readers=$(vpcd_readers)
        [ -n "$readers" ] && break
        if [ $ours -eq 1 ] && ! alive "$pid" pcscd; then
            rm -f "$PCSCD_PID"
            die "pcscd (pid $pid) exited during startup" "$PCSCD_LOG"
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
            [ $ours -eq 1 ] && die "no vpcd reader visible after ${TIMEOUT}s (last probe error: $(probe_err))" "$PCSCD_LOG"
            die "the running pcscd (pid $pid, not ours) shows no vpcd reader after ${TIMEOUT}s; it was probably started before vsmartcard-vpcd was installed, or with another reader.conf.d: stop it and run $0 start (last probe error: $(probe_err))" "$PROBE_LOG"
        fi
        sleep 0.2
    done
    probe readers
}

# When vicc dies under a connected client (vicc 0.8 crashes on some APDUs, e.g. SELECT
# with P2=00), the failing SCardTransmit marks the reader empty before pcscd's reader
# poll (every 400 ms) has seen the card go; a new vicc that connects before that poll is
# then never reported. One second lets the poll run.
settle_after_crash() { sleep 1; }

port_arg() {
    local port=${1:-$VPCD_PORT}
    [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
    echo "$port"
}

reader_of() {
    local r
    r=$(probe reader-for-port "$1") ||
        die "no vpcd reader for port $1 ($(probe_err)); is pcscd running? run $0 start" "$PCSCD_LOG"
    echo "$r"
}

cmd_insert() {
    need_installed
    local port reader pidf log pid atr t0 deadline rc pypath
    port=$(port_arg "${1:-}")
    lock
    reader=$(reader_of "$port")
    pidf=$(vicc_pidfile "$port"); log=$(vicc_log "$port")
    pid=$(pid_from "$pidf")
    if alive "$pid" "$VICC"; then
        say "card already inserted in '$reader' (vicc pid $pid)"
    else
        if [ -n "$pid" ]; then
            # Our previous vicc died (vicc 0.8 crashes on some APDUs, see its log): pcscd
            # notices within its 400 ms poll; let it, before checking the reader is empty.
            say "the vicc of the last insert on port $port (pid $pid) is dead; its log: $log"
            rm -f "$pidf"
            probe wait "$port" absent "$TIMEOUT" >/dev/null || true
            settle_after_crash
        fi
        if grep -q "^$reader	present" <<<"$(probe status)"; then
            die "'$reader' already has a card that this script did not insert" "$PCSCD_LOG"
        fi
        venv_ok || die "the Python env for vicc ($VENV) is missing or broken: run $0 install" "$INSTALL_LOG"
        echo "=== $(date '+%F %T') vicc -t iso7816 -H 127.0.0.1 -P $port" >>"$log"
        pypath=$(vicc_pythonpath)
        detach "$log" env -u PYTHONHOME PYTHONPATH="$pypath" PYTHONUNBUFFERED=1 \
            "$VENV/bin/python" "$VICC" -t iso7816 -H 127.0.0.1 -P "$port" -vv
        pid=$DETACHED_PID
        echo "$pid" >"$pidf"
        say "started vicc for '$reader' (pid $pid, log $log)"
    fi
    t0=$(now_ms); deadline=$(( t0 + TIMEOUT * 1000 ))
    while :; do
        rc=0; atr=$(probe wait "$port" present 1) || rc=$?
        [ $rc -eq 0 ] && break
        [ $rc -eq 5 ] || die "waiting for the card in '$reader' failed: $(probe_err)" "$PCSCD_LOG"
        if ! alive "$pid" "$VICC"; then
            rm -f "$pidf"
            die "vicc (pid $pid) exited before the card showed up in '$reader'" "$log"
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
            stop_pid "$pid" "$VICC" vicc "$log"
            rm -f "$pidf"
            die "no card in '$reader' ${TIMEOUT}s after starting vicc, vicc stopped again (pcscd log: $PCSCD_LOG)" "$log"
        fi
    done
    say "card present in '$reader' after $(( $(now_ms) - t0 )) ms"
    echo "$atr"
}

cmd_remove() {
    need_installed
    local port reader pidf pid t0 rc crashed
    port=$(port_arg "${1:-}")
    lock
    pidf=$(vicc_pidfile "$port")
    pid=$(pid_from "$pidf")
    t0=$(now_ms)
    crashed=0
    if [ -n "$pid" ]; then
        # Our card: stop its vicc (if it has not died by itself, e.g. on a vicc crash).
        if ! alive "$pid" "$VICC"; then
            say "vicc (pid $pid) on port $port had already exited; its log: $(vicc_log "$port")"
            crashed=1
        fi
        stop_pid "$pid" "$VICC" vicc "$(vicc_log "$port")"
        rm -f "$pidf"
        reader=$(reader_of "$port")
    else
        reader=$(reader_of "$port")
        if grep -q "^$reader	present" <<<"$(probe status)"; then
            die "the card in '$reader' was not inserted by this script (no vicc pid file $pidf)" "$PCSCD_LOG"
        fi
    fi
    rm -f "$pidf"
    rc=0; probe wait "$port" absent "$TIMEOUT" || rc=$?
    [ $rc -eq 0 ] || die "'$reader' still reports a card ${TIMEOUT}s after vicc stopped: $(probe_err)" "$PCSCD_LOG"
    [ $crashed -eq 0 ] || settle_after_crash
    say "no card in '$reader' ($(( $(now_ms) - t0 )) ms)"
}

cmd_stop() {
    lock
    local f port pid
    for f in "$STATE"/vicc-*.pid; do
        [ -e "$f" ] || continue
        port=${f##*/vicc-}; port=${port%.pid}
        pid=$(pid_from "$f")
        if alive "$pid" "$VICC"; then
            stop_pid "$pid" "$VICC" vicc "$(vicc_log "$port")"
            say "stopped vicc on port $port (pid $pid)"
        fi
        rm -f "$f"
    done
    pid=$(pid_from "$PCSCD_PID")
    if alive "$pid" pcscd; then
        stop_pid "$pid" pcscd pcscd "$PCSCD_LOG"
        say "stopped pcscd (pid $pid)"
    else
        pid=$(running_pcscd)
        [ -z "$pid" ] || say "left pcscd pid $pid running: this script did not start it"
    fi
    rm -f "$PCSCD_PID"
}

cmd_status() {
    local pid f port
    pid=$(running_pcscd)
    if [ -z "$pid" ]; then
        echo "pcscd: not running"
        return 0
    fi
    if [ "$pid" = "$(pid_from "$PCSCD_PID")" ]; then
        echo "pcscd: running, pid $pid (started by this script, log $PCSCD_LOG)"
    else
        echo "pcscd: running, pid $pid (not started by this script)"
    fi
    for f in "$STATE"/vicc-*.pid; do
        [ -e "$f" ] || continue
        port=${f##*/vicc-}; port=${port%.pid}
        alive "$(pid_from "$f")" "$VICC" && echo "vicc: port $port, pid $(pid_from "$f") (log $(vicc_log "$port"))"
    done
    probe status || die "cannot read the readers from pcscd pid $pid: $(probe_err)" "$PCSCD_LOG"
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    insert) cmd_insert "${2:-}" ;;
    remove) cmd_remove "${2:-}" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
