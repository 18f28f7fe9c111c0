#!/usr/bin/python3
"""A real SMTP server for the tests (aiosmtpd, Debian python3-aiosmtpd).

Every message it receives is written to OUT_DIR as NNNNNN.eml (raw) and NNNNNN.json
(decoded: message_id, from, to, subject, text) — the JSON written last, atomically, so a
reader that sees it sees a whole mail. Prints "READY <port>" once listening.

Usage: smtp_sink.py OUT_DIR [PORT]   (PORT 0 or absent: a free port)
"""
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        existing = [int(n.split(".")[0]) for n in os.listdir(out_dir) if n.endswith(".json")]
        self.counter = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        n = next(self.counter)
        base = os.path.join(self.out_dir, f"{n:06d}")
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        doc = {
            "message_id": (msg.get("Message-ID") or "").strip().strip("<>"),
            "from": str(msg.get("From") or ""),
            "to": envelope.rcpt_tos,
            "subject": str(msg.get("Subject") or ""),
            "text": body.get_content() if body is not None else "",
        }
        tmp = base + ".json.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.rename(tmp, base + ".json")
        return "250 Message accepted for delivery"


def main():
    out_dir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    os.makedirs(out_dir, exist_ok=True)
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    # aiosmtpd waits 5 s by default for its own thread to listen: too short on a loaded
    # 2-core machine.
    controller = Controller(Sink(out_dir), hostname="127.0.0.1", port=port, decode_data=False,
                            enable_SMTPUTF8=True, ready_timeout=60.0)
    controller.start()
    print(f"READY {port}", flush=True)
    # Never outlive the test process that started us (a test's static never drops
    # its sink, and an orphan would hold CI's output pipe open).
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    controller.stop()


if __name__ == "__main__":
    main()
