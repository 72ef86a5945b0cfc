//! Serving one listener without letting a client hold it: the endpoint listener faces
//! whoever knows the Endpoint URL's host, so a connection that sends half its headers,
//! a body that never ends, or nothing at all must not keep a socket (and a file
//! descriptor) for long, and a flood of such connections must not lock out 8x8.
//!
//! - **Header read timeout**: a request's headers must arrive within
//!   [`Limits::header_read`]; hyper restarts the same timer while a kept-alive
//!   connection waits for its next request, so it is the idle timeout too.
//! - **Body read timeout**: a request body must arrive within [`Limits::body_read`].
//! - **A cap on connections** ([`Limits::max_connections`]): at the cap, a new connection
//!   takes the place of the longest-idle one (idle: no request being answered), so idle
//!   or slow clients cannot lock out a genuine one; when every connection is busy, the
//!   new one is closed at once rather than queued.
//! - **Enough descriptors**: the process raises its soft open-files limit to the hard
//!   one at start ([`raise_open_files_limit`]), and the cap is derived from it, leaving
//!   room for SQLite, the other listener and outbound calls.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use axum::Router;
use hyper::service::Service as _;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    net::TcpListener,
    sync::{watch, Notify},
    task::JoinHandle,
};
use tower::ServiceBuilder;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// How long a listener lets a client take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// For a request's headers, counted from the connection's start or from the end of
    /// the previous response (so it bounds idle keep-alive connections too).
    pub header_read: Duration,
    /// For a request's whole body.
    pub body_read: Duration,
    /// Connections served at once on this listener.
    pub max_connections: usize,
}

impl Limits {
    /// 8x8 sends small events in one go: 10 s for headers and for a body is generous.
    pub fn standard(max_connections: usize) -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(10),
            max_connections,
        }
    }
}

/// Descriptors kept out of the connection caps: SQLite (database, WAL, shared memory,
/// journal), the log, the listeners themselves, outbound calls to 8x8 and the keychain.
const RESERVED_FDS: u64 = 256;

/// Raises the soft limit on open files to the hard limit and returns the new soft limit.
/// Unprivileged and harmless; without it, a default soft limit of 1,024 would be the
/// first thing a flood of connections exhausts.
pub fn raise_open_files_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-files limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    }
}

/// The connection cap per listener for an open-files limit shared by `listeners`.
pub fn connection_cap(open_files: u64, listeners: u64) -> usize {
    let usable = open_files.saturating_sub(RESERVED_FDS).max(64);
    (usable / listeners.max(1)).clamp(32, 16_384) as usize
}

/// Serves `router` on `listener` within `limits` until `stopped` turns true; requests in
/// flight then finish (a connection that will not is dropped by the caller's deadline).
pub fn serve(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let connections = Arc::new(Connections::new(limits.max_connections));
    tokio::spawn(async move {
        let mut last_accept_error: Option<Instant> = None;
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                // The guard `wait_for` returns is not Send: drop it inside.
                _ = async { let _ = stopped.wait_for(|s| *s).await; } => break,
                accepted = listener.accept() => accepted,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors (or another transient error): say so once a
                    // second at most, and give the timeouts a moment to free some.
                    if last_accept_error.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                        tracing::warn!(listener = name, error = %e, "cannot accept a connection");
                        last_accept_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let Some(slot) = connections.admit() else {
                // Every connection is answering a request: refuse this one at once.
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let stop = stopped.clone();
            tasks.spawn(serve_connection(
                stream,
                peer,
                router.clone(),
                limits,
                slot,
                stop,
            ));
        }
        // Let the connections finish what they are answering.
        while tasks.join_next().await.is_some() {}
    })
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    router: Router,
    limits: Limits,
    slot: Slot,
    mut stopped: watch::Receiver<bool>,
) {
    let service = TowerToHyperService::new(
        ServiceBuilder::new()
            .layer(RequestBodyTimeoutLayer::new(limits.body_read))
            .service(router),
    );
    let busy = slot.busy.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        // Who is asking, for per-client limits (the Copilot routes' rate limit).
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        let call = service.call(req);
        let guard = BusyGuard::enter(busy.clone());
        async move {
            let response = call.await;
            // Busy until the response's headers are out; a long body (a live stream)
            // counts as idle, which only matters when the listener is full.
            drop(guard);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = slot.evicted.notified() => {}
        _ = async { let _ = stopped.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Marks a connection busy while a request is being answered.
struct BusyGuard(Arc<AtomicUsize>);

impl BusyGuard {
    fn enter(busy: Arc<AtomicUsize>) -> Self {
        busy.fetch_add(1, Ordering::Relaxed);
        Self(busy)
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connections of one listener, for the cap and for choosing whom to evict.
struct Connections {
    cap: usize,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Entry>>,
}

struct Entry {
    opened: Instant,
    busy: Arc<AtomicUsize>,
    evicted: Arc<Notify>,
}

/// A connection's place under the cap; freed when the connection ends.
struct Slot {
    id: u64,
    busy: Arc<AtomicUsize>,
    evicted: Arc<Notify>,
    connections: Arc<Connections>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
    }
}

impl Connections {
    fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection: free, or taken from the longest-idle connection;
    /// `None` when every connection is busy answering.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.lock();
        if open.len() >= self.cap {
            let oldest_idle = open
                .iter()
                .filter(|(_, e)| e.busy.load(Ordering::Relaxed) == 0)
                .min_by_key(|(_, e)| e.opened)
                .map(|(id, _)| *id)?;
            if let Some(e) = open.remove(&oldest_idle) {
                // notify_one stores a permit, so an eviction is never lost even if the
                // connection's task is not waiting yet.
                e.evicted.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let busy = Arc::new(AtomicUsize::new(0));
        let evicted = Arc::new(Notify::new());
        open.insert(
            id,
            Entry {
                opened: Instant::now(),
                busy: busy.clone(),
                evicted: evicted.clone(),
            },
        );
        Some(Slot {
            id,
            busy,
            evicted,
            connections: self.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn start(limits: Limits) -> (SocketAddr, watch::Sender<bool>, JoinHandle<()>) {
        let router = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/echo", post(|body: String| async move { body }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let task = serve("test", listener, router, limits, stopped);
        (addr, stop, task)
    }

    fn quick(max_connections: usize) -> Limits {
        Limits {
            header_read: Duration::from_millis(300),
            body_read: Duration::from_millis(300),
            max_connections,
        }
    }

    /// Reads until the server closes the connection; returns what it sent and when.
    async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> (String, Duration) {
        let started = Instant::now();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
        (
            String::from_utf8_lossy(&out).into_owned(),
            started.elapsed(),
        )
    }

    async fn get_healthz(addr: SocketAddr) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        read_until_closed(&mut s).await.0
    }

    #[tokio::test]
    async fn half_sent_headers_are_cut_off_at_the_header_timeout() {
        let (addr, _stop, _task) = start(quick(64)).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        let (_, took) = read_until_closed(&mut s).await;
        assert!(
            took < Duration::from_secs(2),
            "closed after {took:?}, the timeout is 300 ms"
        );
    }

    #[tokio::test]
    async fn a_silent_connection_and_an_idle_keep_alive_are_closed() {
        let (addr, _stop, _task) = start(quick(64)).await;
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (_, took) = read_until_closed(&mut silent).await;
        assert!(took < Duration::from_secs(2), "silent: {took:?}");

        let mut kept = tokio::net::TcpStream::connect(addr).await.unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let (answer, took) = read_until_closed(&mut kept).await;
        assert!(
            answer.contains("200 OK") && answer.ends_with("ok"),
            "{answer}"
        );
        assert!(took < Duration::from_secs(2), "idle keep-alive: {took:?}");
    }

    #[tokio::test]
    async fn a_body_that_never_ends_is_cut_off_at_the_body_timeout() {
        let (addr, _stop, _task) = start(quick(64)).await;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
        )
        .await
        .unwrap();
        let (answer, took) = read_until_closed(&mut s).await;
        assert!(took < Duration::from_secs(2), "{took:?}: {answer}");
        assert!(
            !answer.contains("hello"),
            "a cut-off body is not answered: {answer}"
        );
    }

    #[tokio::test]
    async fn a_thousand_idle_connections_do_not_lock_out_a_genuine_request() {
        raise_open_files_limit();
        // A long header timeout: only the cap and the eviction can make room.
        let limits = Limits {
            header_read: Duration::from_secs(60),
            body_read: Duration::from_secs(60),
            max_connections: 256,
        };
        let (addr, _stop, _task) = start(limits).await;
        let mut idle = Vec::new();
        for _ in 0..1_000 {
            if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
                idle.push(s);
            }
        }
        assert_eq!(idle.len(), 1_000, "the idle connections were made");
        let started = Instant::now();
        let answer = get_healthz(addr).await;
        let took = started.elapsed();
        assert!(answer.contains("200 OK"), "{answer}");
        assert!(
            took < Duration::from_secs(1),
            "the genuine request took {took:?}"
        );
    }

    #[test]
    fn the_cap_leaves_descriptors_for_the_rest_of_the_relay() {
        assert_eq!(connection_cap(1_024, 2), 384);
        assert_eq!(connection_cap(256, 2), 32, "a tiny limit still serves some");
        assert_eq!(connection_cap(1_048_576, 2), 16_384);
    }
}
