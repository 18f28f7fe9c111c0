#!/usr/bin/python3
"""PC/SC probe used by scripts/pcsc-virtual.sh (run it with Debian's /usr/bin/python3,
which has python3-pyscard). Talks to pcscd through libpcsclite, like the app does.

  pcsc-probe.py readers                 reader names, one a line
  pcsc-probe.py status                  one line a reader: NAME<TAB>present|absent<TAB>ATR|-
  pcsc-probe.py reader-for-port PORT    name of the vpcd reader that serves PORT
  pcsc-probe.py wait PORT present|absent SECONDS
                                        blocks (SCardGetStatusChange) until the vpcd reader
                                        of PORT is in that state; prints the ATR when present
  pcsc-probe.py pnp SECONDS             waits on \\\\?PnP?\\Notification; prints "changed"
                                        or "timeout"

Exit codes: 0 ok, 2 usage, 3 pcscd unreachable / PC/SC error, 4 no such reader,
5 timed out.
"""
import sys
import time

from smartcard import scard as s

PNP = "\\\\?PnP?\\Notification"
VPCD_BASE_PORT = 35963  # CHANNELID 0x8C7B in /etc/reader.conf.d/vpcd; slot N listens on +N


def die(code, msg):
    print(f"pcsc-probe: {msg}", file=sys.stderr)
    sys.exit(code)


def check(hr, what):
    if hr != s.SCARD_S_SUCCESS:
        die(3, f"{what} failed: 0x{hr & 0xFFFFFFFF:08X} {s.SCardGetErrorMessage(hr).strip()}")


def context():
    hr, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    check(hr, "SCardEstablishContext (is pcscd running?)")
    return ctx


def readers(ctx):
    hr, names = s.SCardListReaders(ctx, [])
    if hr == s.SCARD_E_NO_READERS_AVAILABLE:
        return []
    check(hr, "SCardListReaders")
    return list(names)


def states(ctx, names):
    if not names:
        return []
    hr, st = s.SCardGetStatusChange(ctx, 0, [(n, s.SCARD_STATE_UNAWARE) for n in names])
    check(hr, "SCardGetStatusChange")
    return st


def atr_hex(atr):
    return bytes(atr).hex().upper()


def reader_for_port(ctx, port):
    slot = port - VPCD_BASE_PORT
    if not 0 <= slot <= 0xFF:
        die(4, f"port {port} is not a vpcd port (vpcd slot N listens on {VPCD_BASE_PORT}+N)")
    # pcscd names a reader "FRIENDLYNAME <reader index> <slot>", both 2-digit hex.
    names = [n for n in readers(ctx) if n.startswith("Virtual PCD") and n.endswith(f" {slot:02X}")]
    if not names:
        die(4, f"no vpcd reader for port {port} (readers: {readers(ctx)})")
    return sorted(names)[0]


def cmd_wait(ctx, port, want, seconds):
    name = reader_for_port(ctx, port)
    deadline = time.monotonic() + seconds
    current = s.SCARD_STATE_UNAWARE
    while True:
        left_ms = int((deadline - time.monotonic()) * 1000)
        hr, st = s.SCardGetStatusChange(ctx, max(left_ms, 0), [(name, current)])
        if hr == s.SCARD_E_TIMEOUT:
            die(5, f"timed out after {seconds}s waiting for card {want} in '{name}'")
        check(hr, "SCardGetStatusChange")
        _, event, atr = st[0]
        present = bool(event & s.SCARD_STATE_PRESENT)
        if want == "present" and present and atr:
            print(atr_hex(atr))
            return
        if want == "absent" and (event & s.SCARD_STATE_EMPTY):
            return
        if left_ms <= 0:
            die(5, f"timed out after {seconds}s waiting for card {want} in '{name}'")
        current = event & ~s.SCARD_STATE_CHANGED


def main(argv):
    if not argv:
        die(2, __doc__)
    cmd, args = argv[0], argv[1:]
    ctx = context()
    try:
        if cmd == "readers":
            for n in readers(ctx):
                print(n)
        elif cmd == "status":
            for name, event, atr in states(ctx, readers(ctx)):
                if event & s.SCARD_STATE_PRESENT:
                    print(f"{name}\tpresent\t{atr_hex(atr) or '-'}")
                else:
                    print(f"{name}\tabsent\t-")
        elif cmd == "reader-for-port" and len(args) == 1:
            print(reader_for_port(ctx, int(args[0])))
        elif cmd == "wait" and len(args) == 3 and args[1] in ("present", "absent"):
            cmd_wait(ctx, int(args[0]), args[1], float(args[2]))
        elif cmd == "pnp" and len(args) == 1:
            hr, st = s.SCardGetStatusChange(ctx, int(float(args[0]) * 1000),
                                            [(PNP, len(readers(ctx)) << 16)])
            if hr == s.SCARD_E_TIMEOUT:
                print("timeout")
            else:
                check(hr, "SCardGetStatusChange on " + PNP)
                print("changed" if st[0][1] & s.SCARD_STATE_CHANGED else f"event 0x{st[0][1]:X}")
        else:
            die(2, __doc__)
    finally:
        s.SCardReleaseContext(ctx)


if __name__ == "__main__":
    main(sys.argv[1:])
