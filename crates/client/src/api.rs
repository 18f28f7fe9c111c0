//! The reset backend's API (protocol v1) over reqwest with rustls.
//!
//! Plain `http://` is accepted only for loopback (a test or demo server on this
//! machine); anything else must be `https://`.

use std::time::{Duration, Instant};

use bhxh_protocol::tbs::normalize_origin;
use bhxh_protocol::wire::*;
use bhxh_protocol::{ErrorCode, Lang, Purpose, Secret};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ClientError;

/// A client of one backend.
#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    origin: String,
    lang: Lang,
    /// This installation's id ([`crate::instance`]), sent on every request.
    instance: Option<String>,
}

/// What `GET /v1/health` tells, measured.
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    pub version: String,
    pub protocol: String,
    /// Round trip, in milliseconds.
    pub latency_ms: f64,
    /// Server clock minus this computer's, in seconds (midpoint of the round trip).
    pub clock_skew_secs: i64,
    /// The support desk's number as the server is configured (empty from an older one).
    pub hotline: String,
}

/// Largest answer read from the server (the largest real one, a captcha, is ~30 KB): a
/// proxy or a wrong address answering with a flood is cut off, not read into memory.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

impl ApiClient {
    /// A client for `server_url` (`https://host[:port]`, or `http://` on loopback).
    /// Redirects are followed only within that origin (at most 3): what the token signs
    /// names the origin, and nothing is sent to another one.
    pub fn new(server_url: &str, lang: Lang) -> Result<ApiClient, ClientError> {
        let origin = normalize_origin(server_url).ok_or_else(|| {
            ClientError::local(ErrorCode::InsecureServerUrl, format!("not a server address: {server_url:?}"))
        })?;
        if origin.starts_with("http://") && !is_loopback(&origin) {
            return Err(ClientError::local(ErrorCode::InsecureServerUrl, format!("{origin} is not https")));
        }
        let same_origin = origin.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let to = normalize_origin(&attempt.url().origin().ascii_serialization());
                if attempt.previous().len() >= 3 {
                    attempt.error("more than 3 redirects")
                } else if to.as_deref() == Some(same_origin.as_str()) {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .use_rustls_tls()
            .https_only(!is_loopback(&origin))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("bhxh-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::local(ErrorCode::ServerTls, e.to_string()))?;
        Ok(ApiClient { http, origin, lang, instance: None })
    }

    /// The same client, sending this installation's id (`X-BHXH-Instance`) with every
    /// request, so the desk sees this app's attempts under its support code. An id
    /// without the form of one is not sent.
    pub fn with_instance(mut self, id: &str) -> ApiClient {
        self.instance = bhxh_protocol::valid_instance(id).then(|| id.to_string());
        self
    }

    /// `POST /v1/support/reports`: the support report the user agreed to send.
    pub async fn support_report(&self, report: &str, facts: ReportFacts) -> Result<SupportCodeIssued, ClientError> {
        self.post("/v1/support/reports", &SupportReportRequest { report: report.to_string(), facts }, None).await
    }

    /// The origin this client connects to (what the token signs for).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The language asked for in messages.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// `GET /v1/health`, with latency and clock skew.
    pub async fn health(&self) -> Result<HealthReport, ClientError> {
        let before = time::OffsetDateTime::now_utc();
        let start = Instant::now();
        let h: Health = self.get("/v1/health", None).await?;
        let latency = start.elapsed();
        let server = time::OffsetDateTime::parse(&h.time, &time::format_description::well_known::Rfc3339)
            .map_err(|e| ClientError::local(ErrorCode::UnexpectedResponse, format!("health time: {e}")))?;
        let midpoint = before + latency / 2;
        Ok(HealthReport {
            version: h.version,
            protocol: h.protocol,
            latency_ms: latency.as_secs_f64() * 1e3,
            clock_skew_secs: (server - midpoint).whole_seconds(),
            hotline: h.hotline,
        })
    }

    /// `POST /v1/recovery/challenge`.
    pub async fn challenge(
        &self,
        username: &str,
        purpose: Purpose,
        new_email: Option<&str>,
    ) -> Result<ChallengeResponse, ClientError> {
        let req = ChallengeRequest { username: username.into(), purpose, new_email: new_email.map(str::to_string) };
        self.post("/v1/recovery/challenge", &req, None).await
    }

    /// `POST /v1/recovery/complete` for an email change.
    pub async fn complete_email_change(&self, req: &CompleteRequest) -> Result<EmailChangeStarted, ClientError> {
        self.post("/v1/recovery/complete", req, None).await
    }

    /// `POST /v1/recovery/complete` for a password recovery.
    pub async fn complete_recovery(&self, req: &CompleteRequest) -> Result<RecoveryComplete, ClientError> {
        self.post("/v1/recovery/complete", req, None).await
    }

    /// `POST /v1/recovery/complete` for a username lookup.
    pub async fn complete_lookup(&self, req: &CompleteRequest) -> Result<UsernameLookupComplete, ClientError> {
        self.post("/v1/recovery/complete", req, None).await
    }

    /// `POST /v1/certificate/check`: the certificate's path and revocation verdict,
    /// before the PIN (nothing about accounts).
    pub async fn check_certificate(&self, der: &[u8], chain: &[Vec<u8>]) -> Result<CertificateCheck, ClientError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let req = CertificateCheckRequest {
            certificate: b64.encode(der),
            chain: chain.iter().map(|c| b64.encode(c)).collect(),
        };
        self.post("/v1/certificate/check", &req, None).await
    }

    /// `POST /v1/auth/login`. The password is moved in and wiped with the request.
    pub async fn login(&self, username: &str, password: impl Into<Secret>) -> Result<LoginResponse, ClientError> {
        let req = LoginRequest { username: username.into(), password: password.into() };
        self.post("/v1/auth/login", &req, None).await
    }

    /// `POST /v1/auth/change-password`.
    pub async fn change_password(
        &self,
        session: &str,
        current: Option<Secret>,
        new: impl Into<Secret>,
    ) -> Result<Ack, ClientError> {
        let req = ChangePasswordRequest { current_password: current, new_password: new.into() };
        self.post("/v1/auth/change-password", &req, Some(session)).await
    }

    /// `POST /v1/auth/logout`.
    pub async fn logout(&self, session: &str) -> Result<Ack, ClientError> {
        self.post("/v1/auth/logout", &serde_json::json!({}), Some(session)).await
    }

    /// `GET /v1/auth/session`.
    pub async fn session(&self, session: &str) -> Result<SessionInfo, ClientError> {
        self.get("/v1/auth/session", Some(session)).await
    }

    /// `GET /v1/portal/captcha`: a fresh image captcha (single use, 2 minutes).
    pub async fn portal_captcha(&self) -> Result<PortalCaptcha, ClientError> {
        self.get("/v1/portal/captcha", None).await
    }

    /// `POST /v1/portal/recover`: MST + registered email + captcha; the new password and
    /// its activation link are emailed.
    pub async fn portal_recover(&self, req: &PortalRecoverRequest) -> Result<PortalRecoverComplete, ClientError> {
        self.post("/v1/portal/recover", req, None).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, bearer: Option<&str>) -> Result<T, ClientError> {
        let mut req = self.http.get(format!("{}{path}", self.origin)).header("accept-language", self.lang.as_str());
        if let Some(i) = &self.instance {
            req = req.header(bhxh_protocol::INSTANCE_HEADER, i);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        answer(req.send().await.map_err(net)?).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        bearer: Option<&str>,
    ) -> Result<T, ClientError> {
        let mut req =
            self.http.post(format!("{}{path}", self.origin)).header("accept-language", self.lang.as_str()).json(body);
        if let Some(i) = &self.instance {
            req = req.header(bhxh_protocol::INSTANCE_HEADER, i);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        answer(req.send().await.map_err(net)?).await
    }
}

/// `http://127.x.y.z`, `http://localhost`, `http://[::1]`, with any port. The host must
/// parse as a loopback IP address: `127.example.vn` is not loopback.
pub fn is_loopback(origin: &str) -> bool {
    let authority = origin.split("://").nth(1).unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        return v6
            .split(']')
            .next()
            .and_then(|h| h.parse::<std::net::Ipv6Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
    }
    let host = authority.split(':').next().unwrap_or("");
    host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

async fn answer<T: DeserializeOwned>(mut resp: reqwest::Response) -> Result<T, ClientError> {
    let status = resp.status();
    if status.is_redirection() {
        let to = resp.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
        return Err(ClientError::local(
            ErrorCode::UnexpectedResponse,
            format!("HTTP {status}: a redirect to another origin ({to}), not followed"),
        ));
    }
    let too_big = || {
        ClientError::local(
            ErrorCode::UnexpectedResponse,
            format!("HTTP {status}: an answer larger than {MAX_RESPONSE_BYTES} bytes"),
        )
    };
    if resp.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(net)? {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_big());
        }
        bytes.extend_from_slice(&chunk);
    }
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::local(ErrorCode::UnexpectedResponse, format!("{status}: {e}")));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(ClientError::from_body(body)),
        Err(_) if status == StatusCode::TOO_MANY_REQUESTS => {
            Err(ClientError::local(ErrorCode::RateLimited, status.to_string()))
        }
        Err(_) => {
            Err(ClientError::local(ErrorCode::UnexpectedResponse, format!("HTTP {status} without an error body")))
        }
    }
}

/// The one place reqwest errors become codes.
fn net(e: reqwest::Error) -> ClientError {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_lowercase());
        chain.push(' ');
        source = s.source();
    }
    let code = if e.is_timeout() {
        ErrorCode::ServerTimeout
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake") {
        ErrorCode::ServerTls
    } else if e.is_decode() {
        ErrorCode::UnexpectedResponse
    } else {
        ErrorCode::ServerUnreachable
    };
    ClientError::local(code, chain.trim().to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_loopback() {
        assert!(ApiClient::new("http://127.0.0.1:8080", Lang::Vi).is_ok());
        assert!(ApiClient::new("http://localhost:8080/", Lang::Vi).is_ok());
        assert!(ApiClient::new("http://[::1]:8080", Lang::Vi).is_ok());
        assert!(ApiClient::new("https://reset.example.vn", Lang::Vi).is_ok());
        for bad in [
            "http://reset.example.vn",
            "http://127.example.vn",
            "http://127.0.0.1.nip.io",
            "http://[::2]:80",
            "ftp://x",
            "reset.example.vn",
        ] {
            assert_eq!(ApiClient::new(bad, Lang::Vi).unwrap_err().code(), ErrorCode::InsecureServerUrl, "{bad}");
        }
        assert_eq!(
            ApiClient::new("https://Reset.Example.vn:443/v1/", Lang::Vi).unwrap().origin(),
            "https://reset.example.vn"
        );
    }

    /// A one-connection-at-a-time HTTP server on a loopback address of its own that
    /// answers every request with `response`, counting requests.
    async fn raw_server(ip: &str, response: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let _ = conn.write_all(&response).await;
                let _ = conn.shutdown().await;
            }
        });
        (base, hits)
    }

    #[tokio::test]
    async fn a_redirect_to_another_origin_is_not_followed() {
        let body = br#"{"status":"ok"}"#;
        let (other, other_hits) =
            raw_server("127.0.0.2", format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes())
                .await;
        let (base, _) = raw_server(
            "127.0.0.1",
            format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {other}/v1/health\r\ncontent-length: 0\r\n\r\n")
                .into_bytes(),
        )
        .await;
        let err = ApiClient::new(&base, Lang::En).unwrap().health().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnexpectedResponse);
        assert!(err.to_string().contains("redirect to another origin"), "{err}");
        assert_eq!(other_hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing was sent to the other origin");
    }

    #[tokio::test]
    async fn an_answer_past_the_size_cap_is_cut_off() {
        // Declared too large, and streamed too large without a length.
        let declared = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", MAX_RESPONSE_BYTES + 1).into_bytes();
        let mut streamed = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
        streamed.extend(std::iter::repeat_n(b' ', MAX_RESPONSE_BYTES + 10));
        for response in [declared, streamed] {
            let (base, _) = raw_server("127.0.0.1", response).await;
            let err = ApiClient::new(&base, Lang::En).unwrap().health().await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::UnexpectedResponse);
            assert!(err.to_string().contains("larger than"), "{err}");
        }
    }
}
