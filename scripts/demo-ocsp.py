#!/usr/bin/env python3
"""The demo CA's OCSP responder, on loopback only.

`openssl ocsp` as a server listens on every interface and cannot be told otherwise, so
the demo serves OCSP from 127.0.0.1 itself and has `openssl ocsp` answer each request
from the issuing CA's database (`-reqin`/`-respout`): every answer is still signed by the
real responder, with the demo's nextUpdate.

    demo-ocsp.py PORT INDEX CA RSIGNER RKEY
"""

import http.server
import subprocess
import sys
import tempfile
from pathlib import Path

PORT, INDEX, CA, RSIGNER, RKEY = sys.argv[1:6]
MAX_REQUEST = 64 * 1024


class Responder(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if not 0 < length <= MAX_REQUEST:
            self.send_error(400, "an OCSP request of 1 to 65536 bytes")
            return
        body = self.rfile.read(length)
        with tempfile.TemporaryDirectory() as tmp:
            req, resp = Path(tmp, "req.der"), Path(tmp, "resp.der")
            req.write_bytes(body)
            done = subprocess.run(
                ["openssl", "ocsp", "-index", INDEX, "-CA", CA, "-rsigner", RSIGNER, "-rkey", RKEY,
                 "-nmin", "60", "-reqin", str(req), "-respout", str(resp)],
                capture_output=True, timeout=10, check=False,
            )
            if done.returncode != 0 or not resp.exists():
                self.log_error("openssl ocsp: %s", done.stderr.decode(errors="replace").strip())
                self.send_error(500, "the responder failed")
                return
            answer = resp.read_bytes()
        self.send_response(200)
        self.send_header("content-type", "application/ocsp-response")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Responder)
    print(f"OCSP responder on http://127.0.0.1:{PORT}/", flush=True)
    server.serve_forever()
