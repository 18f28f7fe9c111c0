//! A CA's OCSP responder for the tests and benches: Debian's `openssl ocsp`.

use crate::{fixture, free_port};

/// The fixture OCSP responder's URL, as the token certificates' authorityInfoAccess says.
pub const OCSP_URL: &str = "http://ocsp.bhxh-test.invalid/";

/// A real OCSP responder, `openssl ocsp -index … -port`, on a loopback port of its own,
/// answering for the issuing CA from its database (`ica-index.txt`, read only) and
/// signing with the fixture `signer` (`ica` itself, the delegated `ocsp-responder`, …).
/// Killed when dropped.
pub struct OcspResponder {
    pub base: String,
    child: Option<std::process::Child>,
}

impl OcspResponder {
    /// `extra`: more `openssl ocsp` options, e.g. `["-nmin", "1"]` for a one-minute
    /// `nextUpdate` (without, the answers carry none).
    pub fn start(signer: &str, extra: &[&str]) -> OcspResponder {
        OcspResponder::start_from("ica-index.txt", signer, extra)
    }

    /// A responder answering from another fixture database: `ica-index-before.txt` is
    /// the issuing CA's before any revocation (what a replayed old answer says).
    pub fn start_from(index: &str, signer: &str, extra: &[&str]) -> OcspResponder {
        for _ in 0..5 {
            let port = free_port();
            let mut child = std::process::Command::new("openssl")
                .args(["ocsp", "-index"])
                .arg(fixture(index))
                // A client that connects and sends nothing holds it at most this long.
                .args(["-port", &port.to_string(), "-timeout", "5", "-rsigner"])
                .arg(fixture(&format!("{signer}.cert.pem")))
                .arg("-rkey")
                .arg(fixture(&format!("{signer}.key.pem")))
                .arg("-CA")
                .arg(fixture("ica.cert.pem"))
                .args(extra)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("openssl ocsp (Debian openssl)");
            // Ready when it says it waits for clients (a probe connection would hold the
            // one-request-at-a-time responder); gone when the port was taken meanwhile.
            use std::io::BufRead as _;
            let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
            let ready = lines.by_ref().map_while(Result::ok).any(|l| l.contains("waiting for OCSP client connections"));
            if ready {
                // Keep draining what it logs, so it never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return OcspResponder { base: format!("http://127.0.0.1:{port}/"), child: Some(child) };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("openssl ocsp did not start");
    }

    /// Stops answering: connections are refused from now on.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        self.stop();
    }
}
