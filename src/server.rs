//! The listener: accepts connections and serves HTTP/1.1 and HTTP/2 on them.
//!
//! What it bounds, before any request reaches the pipeline:
//! - connections open at once from one client address (`server.max_connections_per_address`):
//!   past it a new connection is closed at once;
//! - the time a client has to send its request head (`server.header_read_timeout_secs`):
//!   a slower client (slowloris) is disconnected, and holds nothing but its own connection;
//! - the size of the request head (`server.max_header_bytes`, `server.max_headers`): past
//!   either, hyper refuses it, and [`HeadGuard`] writes the refusal in the shape of the
//!   edge the path names (`src/head_guard.rs`).
//!
//! With `[server.tls]` it serves HTTPS: TLS 1.2 and 1.3, ALPN `h2` and
//! `http/1.1`, optionally mutual TLS; the handshake must finish within the
//! header read timeout. The certificate files and the client CA bundle are
//! read again every few seconds and a renewed one is used from the next
//! handshake on, open connections untouched; a new file that does not load
//! leaves the old one in use (see [`crate::tls`]). TLS sits here, outside the
//! stack of stages; requests served over it carry the [`Tls`] extension, so that
//! links in replies say `https://`.
//!
//! Several threads can serve one socket: [`Server::worker`] gives another
//! accept loop on it, for another thread's single-threaded runtime. Each
//! connection then lives on the thread that accepted it, and its requests,
//! their upstream calls included, are served there from start to end, with
//! no hand-off between threads (see `main.rs`).
//!
//! On shutdown (SIGTERM or Ctrl-C) it stops accepting — new connections are
//! refused — lets in-flight requests finish within `server.shutdown_grace_secs`,
//! closes idle keep-alive connections, and returns.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use futures_util::FutureExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::connection::ConnectionLimits;
pub use crate::connection::Tls;
use crate::head_guard::HeadGuard;
use crate::live::Live;
use crate::metrics::metrics;
use crate::pipeline::{Gateway, service};
use crate::tls::EdgeTls;

/// A bound listener, ready to serve.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

/// Another accept loop on a [`Server`]'s socket, to run on another thread's
/// runtime: the kernel hands each new connection to one of the loops, and
/// the connection is served on that loop's thread from then on.
pub struct Worker {
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
}

/// What every accept loop of one listening socket shares.
struct Shared {
    live: Arc<Live>,
    open: Arc<DashMap<IpAddr, usize>>,
    /// What the listener allows each connection.
    limits: ConnectionLimits,
}

impl Server {
    /// Binds `server.listen` for `gateway`; with TLS configured, loads the
    /// certificate first (an `InvalidInput` error when it does not load).
    /// The connection limits `server` sets hold for the life of the
    /// listener: a reload does not change them.
    pub async fn bind(server: &ServerConfig, gateway: Gateway) -> std::io::Result<Self> {
        let limits = ConnectionLimits::from_config(server);
        let tls = match &limits.tls {
            Some(config) => Some(
                EdgeTls::from_config(config)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("server.tls: {e}")))?,
            ),
            None => None,
        };
        let shared = Shared { live: Arc::new(Live::new(gateway, tls)), open: Arc::default(), limits };
        Ok(Self { listener: TcpListener::bind(server.listen).await?, shared: Arc::new(shared) })
    }

    /// The running state its loops serve, to reload or drain it.
    pub fn live(&self) -> Arc<Live> {
        self.shared.live.clone()
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.shared.live.tls.is_some()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// One more accept loop on this socket, for another thread.
    #[cfg(unix)]
    pub fn worker(&self) -> std::io::Result<Worker> {
        use std::os::fd::AsFd;
        let listener = std::net::TcpListener::from(self.listener.as_fd().try_clone_to_owned()?);
        Ok(Worker { listener, shared: self.shared.clone() })
    }

    /// Serves until `shutdown` resolves, then drains: see the module docs.
    /// This loop also reloads the TLS certificate, for every loop.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let reloading = self.shared.live.tls.is_some().then(|| watch_tls(self.shared.live.clone()));
        self.shared.serve(self.listener, shutdown).await;
        if let Some(reloading) = reloading {
            reloading.abort();
        }
    }
}

impl Worker {
    /// Serves until `shutdown` resolves, then drains its own connections.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        match TcpListener::from_std(self.listener) {
            Ok(listener) => self.shared.serve(listener, shutdown).await,
            Err(e) => tracing::error!(error = %e, "a worker could not take the listening socket"),
        }
    }
}

impl Shared {
    async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: impl std::future::Future<Output = ()>) {
        let limits = &self.limits;
        // each request is served by the gateway as it stands when it arrives
        let live = self.live.clone();
        let gateway = move || live.gateway();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_header_bytes)
            // replies are copied into one buffer of at most that size rather
            // than queued chunk by chunk: a streamed list waits for a slow
            // client with that much of it in memory, not 16 of its chunks
            .writev(false)
            .max_headers(limits.max_headers);
        builder.http2().timer(TokioTimer::new()).max_header_list_size(limits.max_header_bytes as u32);
        let builder = Arc::new(builder);
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Some(slot) = Slot::take(&self.open, peer.ip(), limits.max_per_address) else {
                tracing::debug!(%peer, "too many connections from this address: closed");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let secure = self.live.tls.is_some();
            // a hyper service straight over the stack: no tower adapter to
            // clone the service and drive a oneshot per request
            let stack = service(gateway.clone(), peer.ip());
            let svc = hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                if secure {
                    req.extensions_mut().insert(Tls);
                }
                stack(req).map(Ok::<_, Infallible>)
            });
            let watcher = graceful.watcher();
            let builder = builder.clone();
            let acceptor = self.live.tls.as_ref().map(|tls| tls.load().acceptor());
            let handshake_timeout = limits.header_read_timeout;
            tokio::spawn(async move {
                let _slot = slot;
                let served = match acceptor {
                    None => {
                        let stream = HeadGuard::new(stream);
                        watcher.watch(builder.serve_connection(TokioIo::new(stream), svc).into_owned()).await
                    }
                    Some(acceptor) => {
                        let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                        let stream = HeadGuard::new(stream);
                        watcher.watch(builder.serve_connection(TokioIo::new(stream), svc).into_owned()).await
                    }
                };
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection closed with an error");
                }
            });
        }
        // stop accepting: connections from now on are refused (once every loop has stopped)
        drop(listener);
        let open = graceful.count();
        tracing::info!(connections = open, grace = ?limits.shutdown_grace, "shutting down");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("every connection closed"),
            () = tokio::time::sleep(limits.shutdown_grace) => {
                tracing::warn!("shutdown grace over with connections still open");
            }
        }
    }
}

/// Looks at the edge's certificate files, and client CA bundle, every
/// `reload_secs`, whichever TLS settings a reload swapped in.
fn watch_tls(live: Arc<Live>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Some(tls) = live.tls.as_ref().map(|tls| tls.load_full()) else { return };
            tokio::time::sleep(tls.reload_every).await;
            let _ = tokio::task::spawn_blocking(move || tls.reload()).await;
        }
    })
}

/// One open connection of an address; the count drops with it.
struct Slot {
    open: Arc<DashMap<IpAddr, usize>>,
    ip: IpAddr,
}

impl Slot {
    /// A slot for one more connection from `ip`, unless it has `max` open already (0: no limit).
    fn take(open: &Arc<DashMap<IpAddr, usize>>, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut count = open.entry(ip).or_insert(0);
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        metrics().open_connections.inc();
        Some(Slot { open: open.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        metrics().open_connections.dec();
        // the last connection of an address forgets it, so the map holds only open ones
        self.open.remove_if_mut(&self.ip, |_, count| {
            *count -= 1;
            *count == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_per_address_and_forget_closed_addresses() {
        let open = Arc::new(DashMap::new());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = Slot::take(&open, a, 2).unwrap();
        let second = Slot::take(&open, a, 2).unwrap();
        assert!(Slot::take(&open, a, 2).is_none());
        let other = Slot::take(&open, b, 2).unwrap();
        drop(first);
        let third = Slot::take(&open, a, 2).unwrap();
        drop((second, third, other));
        assert!(open.is_empty());
        assert!(Slot::take(&open, a, 0).is_some(), "0 is no limit");
    }
}
