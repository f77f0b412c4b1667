//! The listener: accepts connections and serves HTTP/1.1 and HTTP/2 on them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::pipeline::{Gateway, service};

/// Time a client has to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound listener, ready to serve.
pub struct Server {
    listener: TcpListener,
    gateway: Arc<Gateway>,
}

impl Server {
    pub async fn bind(addr: SocketAddr, gateway: Gateway) -> std::io::Result<Self> {
        Ok(Self { listener: TcpListener::bind(addr).await?, gateway: Arc::new(gateway) })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => return,
            };
            let _ = stream.set_nodelay(true);
            let svc = TowerToHyperService::new(service(self.gateway.clone()));
            tokio::spawn(async move {
                let mut builder = auto::Builder::new(TokioExecutor::new());
                builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
                if let Err(e) = builder.serve_connection(TokioIo::new(stream), svc).await {
                    tracing::debug!(%peer, error = %e, "connection closed with an error");
                }
            });
        }
    }
}
