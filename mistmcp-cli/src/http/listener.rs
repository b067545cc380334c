//! Accepting HTTP connections within bounds, so that strangers holding sockets open cannot keep
//! real clients out: a cap on connections kept below the process's descriptor limit (at the cap,
//! the oldest connection with no request in flight is closed for the new one), a deadline for the
//! TLS handshake and each request's headers, and an idle timeout for connections with no request
//! in flight (a silent socket included). The body's deadline is the gate's.

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use futures_util::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The bounds of connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Most connections open at once (`--max-connections`), before [`descriptor_cap`].
    pub max_connections: usize,
    /// Time for the TLS handshake and for each request's headers (`--header-timeout`).
    pub header_timeout: Duration,
    /// Time a connection may stay open with no request in flight (`--keep-alive-timeout`).
    pub idle_timeout: Duration,
}

/// Descriptors kept for everything but client connections (Mist, logs, files): a quarter of
/// the limit, at least 32.
fn reserved(limit: usize) -> usize {
    (limit / 4).max(32)
}

/// `requested`, lowered below the soft limit of open files (`/proc/self/limits`), so that the
/// process can always accept, call Mist and write logs; at least 8.
pub fn descriptor_cap(requested: usize) -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        });
    match limit {
        Some(limit) => requested.min(limit.saturating_sub(reserved(limit))).max(8),
        None => requested.max(8),
    }
}

/// One open connection.
#[derive(Debug)]
struct Connection {
    /// Requests whose answer is not yet sent in full (an SSE stream counts until it ends).
    in_flight: AtomicUsize,
    /// When the last request ended (or the connection was accepted).
    idle_since: Mutex<Instant>,
    close: CancellationToken,
    /// Cancelled once the connection's socket is closed.
    closed: CancellationToken,
}

impl Connection {
    fn new() -> Self {
        Connection {
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            close: CancellationToken::new(),
            closed: CancellationToken::new(),
        }
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Marks a request in flight until the guard is dropped (with the answer's body).
    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    /// Returns when the connection has had no request in flight for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let since = *self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
            let deadline = since + idle;
            if self.idle() && Instant::now() >= deadline {
                return;
            }
            let wake = if self.idle() {
                deadline
            } else {
                Instant::now() + idle
            };
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}

/// A request in flight on its connection.
struct InFlight(Arc<Connection>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections, oldest first.
#[derive(Debug, Default)]
struct Connections {
    open: Mutex<BTreeMap<u64, Arc<Connection>>>,
    next: AtomicU64,
}

impl Connections {
    /// Registers a new connection if there is room, closing the oldest idle one at the cap
    /// (returned, to wait until its socket is closed); `None` when every connection has a request
    /// in flight.
    fn admit(&self, cap: usize) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut evicted = None;
        if open.len() >= cap {
            evicted = Some(close_oldest_idle(&mut open)?);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection::new());
        open.insert(id, connection.clone());
        Some(Admitted {
            id,
            connection,
            evicted,
        })
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Closes the oldest idle connection (when descriptors ran out), returning it.
    fn evict_oldest_idle(&self) -> Option<Arc<Connection>> {
        close_oldest_idle(&mut self.open.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Removes the oldest connection with no request in flight from `open` and closes it.
fn close_oldest_idle(open: &mut BTreeMap<u64, Arc<Connection>>) -> Option<Arc<Connection>> {
    let id = open.iter().find(|(_, c)| c.idle()).map(|(id, _)| *id)?;
    let evicted = open.remove(&id)?;
    evicted.close.cancel();
    Some(evicted)
}

/// A connection let in, and the one closed to make room.
struct Admitted {
    id: u64,
    connection: Arc<Connection>,
    evicted: Option<Arc<Connection>>,
}

/// Waits (briefly) until an evicted connection's socket is closed, so that descriptors are
/// free before the next accept.
async fn until_closed(evicted: Option<Arc<Connection>>) {
    if let Some(e) = evicted {
        let _ = tokio::time::timeout(Duration::from_secs(1), e.closed.cancelled()).await;
    }
}

/// Serves `app` on `listener` (through `tls` when given) until the process stops.
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    limits: ConnectionLimits,
) -> anyhow::Result<()> {
    let cap = descriptor_cap(limits.max_connections);
    tracing::info!(
        max_connections = cap,
        header_timeout = %humantime::format_duration(limits.header_timeout),
        keep_alive_timeout = %humantime::format_duration(limits.idle_timeout),
        "connections are capped and time out"
    );
    let connections = Arc::new(Connections::default());
    let mut refused_last = Instant::now() - Duration::from_secs(60);
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of descriptors (or another transient error): free one, then go on.
                tracing::warn!(error = %e, "cannot accept a connection");
                until_closed(connections.evict_oldest_idle()).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Some(Admitted {
            id,
            connection,
            evicted,
        }) = connections.admit(cap)
        else {
            if refused_last.elapsed() > Duration::from_secs(10) {
                tracing::warn!(
                    max_connections = cap,
                    "every connection has a request in flight: refusing new ones"
                );
                refused_last = Instant::now();
            }
            drop(tcp);
            continue;
        };
        until_closed(evicted).await;
        // Small SSE writes must not wait for delayed ACKs (Nagle): 40 ms per call otherwise.
        let _ = tcp.set_nodelay(true);
        let (app, tls, connections) = (app.clone(), tls.clone(), connections.clone());
        tokio::spawn(async move {
            let close = connection.close.clone();
            let closed = connection.closed.clone();
            let served = async {
                match tls {
                    None => serve_connection(tcp, &connection, app, limits).await,
                    Some(tls) => {
                        match tokio::time::timeout(limits.header_timeout, tls.accept(tcp)).await {
                            Ok(Ok(stream)) => {
                                serve_connection(stream, &connection, app, limits).await
                            }
                            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake timed out"),
                        }
                    }
                }
            };
            tokio::select! {
                () = served => {}
                () = close.cancelled() => tracing::debug!("connection closed for a new one"),
                () = connection.idle_for(limits.idle_timeout) => tracing::debug!("idle connection closed"),
            }
            connections.remove(id);
            // The socket was dropped with the futures above.
            closed.cancel();
        });
    }
}

/// Serves HTTP/1.1 on one connection, marking its requests in flight.
async fn serve_connection<I>(
    io: I,
    connection: &Arc<Connection>,
    app: Router,
    limits: ConnectionLimits,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = connection.clone();
    let service =
        hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
            let guard = connection.begin();
            let app = app.clone();
            async move {
                let response = tower::ServiceExt::oneshot(app, request.map(Body::new)).await?;
                // The request stays in flight until its answer's body is sent or dropped.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::from_stream(body.into_data_stream().map(move |chunk| {
                        let _in_flight = &guard;
                        chunk
                    }))
                }))
            }
        });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// The TLS acceptor of a PEM certificate chain and private key.
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the TLS key {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS certificate and key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let connections = Connections::default();
        let a = connections.admit(2).expect("room");
        let _busy = a.connection.begin();
        let b = connections.admit(2).expect("room");
        // The first is busy: the second, idle, is closed for the third.
        let c = connections.admit(2).expect("room by eviction");
        assert!(b.connection.close.is_cancelled() && !a.connection.close.is_cancelled());
        assert_eq!(
            c.evicted.map(|e| Arc::ptr_eq(&e, &b.connection)),
            Some(true)
        );
        assert_eq!(connections.open.lock().expect("lock").len(), 2);
        let _busy_too = c.connection.begin();
        assert!(connections.admit(2).is_none(), "all busy: refused");
        connections.remove(a.id);
    }

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(reserved(256), 64);
        assert!(descriptor_cap(usize::MAX) < usize::MAX);
        assert!(descriptor_cap(10) <= 10);
    }
}
