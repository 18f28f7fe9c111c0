//! The listeners' accept loop, in place of `axum::serve`, for the defences it lacks:
//! the whole request head must arrive within `header_read_timeout_secs` (slowloris), a
//! connection on which no byte moves for `idle_timeout_secs` is closed (keep-alive idle,
//! a client that stopped sending), and at most `max_connections` are open at once
//! (past it new connections wait in the kernel's queue), at most
//! `max_connections_per_client` of them from one client (past it its new ones are closed). A request's own time is bounded
//! by the context layer (`limits.request_timeout_secs`), its head by `max_header_bytes`
//! (431 past it), its body by the body limit.
//!
//! HTTP/1.1 only (the clients and nginx speak it). On shutdown the loop stops accepting
//! and every connection finishes its request in flight, for at most `grace` (longer
//! than a request may take: a request is never cut after it committed).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use crate::client_addr::ProxyList;
use crate::config::HttpConfig;

/// Connections open per client (an address, an IPv6 /64), so one client cannot hold
/// every slot; a trusted proxy, which carries everyone's, is not counted.
struct PerClient {
    open: Mutex<HashMap<String, usize>>,
    max: usize,
    proxies: Arc<ProxyList>,
}

/// One counted connection; uncounted when dropped.
struct Counted {
    per: Arc<PerClient>,
    key: String,
}

impl PerClient {
    fn admit(per: &Arc<PerClient>, peer: IpAddr) -> Result<Option<Counted>, usize> {
        if per.proxies.contains(peer) {
            return Ok(None);
        }
        let key = crate::client_addr::limit_key(peer);
        let mut open = per.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= per.max {
            return Err(*n);
        }
        *n += 1;
        Ok(Some(Counted { per: per.clone(), key }))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.per.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves. `proxies` are the trusted
/// reverse proxies, whose connections are not counted per client.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    http: &HttpConfig,
    proxies: Arc<ProxyList>,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(http.max_connections));
    let per_client =
        Arc::new(PerClient { open: Mutex::new(HashMap::new()), max: http.max_connections_per_client.max(1), proxies });
    let (stop_tx, stop_rx) = watch::channel(false);
    let header_timeout = Duration::from_secs(http.header_read_timeout_secs);
    // hyper's read buffer bounds the request head (431 past it); its floor is 8192.
    let max_head = http.max_header_bytes.max(8192);
    let idle = Duration::from_secs(http.idle_timeout_secs);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first: at the cap, connections wait in the backlog, not in memory.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // closed: never, as only this loop holds it
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Past its share the client's new connection is closed at once: it waits in
        // no queue and takes no slot from anyone else.
        let counted = match PerClient::admit(&per_client, peer.ip()) {
            Ok(c) => c,
            Err(open) => {
                tracing::debug!(%peer, open, "a client holds its share of connections: closed");
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _counted = counted;
            let last = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let io = TokioIo::new(Tracked { inner: stream, last: last.clone(), started });
            let service = hyper_util::service::TowerToHyperService::new(router.map_request(
                move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    req
                },
            ));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(max_head)
                .keep_alive(true)
                .serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            let idle_out = async {
                loop {
                    let moved = Duration::from_millis(last.load(Ordering::Relaxed));
                    let quiet = started.elapsed().saturating_sub(moved);
                    if quiet >= idle {
                        return;
                    }
                    tokio::time::sleep(idle - quiet).await;
                }
            };
            let mut why = None;
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = idle_out => why = Some("idle"),
                _ = stop.wait_for(|s| *s) => {}
            }
            if let Some(why) = why {
                tracing::debug!(%peer, why, "closing a quiet connection");
            }
            // Finish the request in flight, if any, then close.
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(grace, conn).await;
        });
    }
    // Stop accepting, let every connection finish, for at most `grace`.
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(http.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(grace, slots.acquire_many(all)).await;
    Ok(())
}

/// A TCP stream that records when a byte last moved (ms since `started`).
struct Tracked {
    inner: TcpStream,
    last: Arc<AtomicU64>,
    started: Instant,
}

impl Tracked {
    fn touch(&self) {
        self.last.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
