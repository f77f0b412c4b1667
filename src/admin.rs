//! The admin listener (`[admin] listen`, by default `127.0.0.1:9901`),
//! apart from the edge: no quotas, no authentication, no dialect.
//!
//! | path       | answers                                                              |
//! |------------|----------------------------------------------------------------------|
//! | `/metrics` | every metric, in the OpenMetrics text format (see [`crate::metrics`]) |
//! | `/livez`   | 200 `live` while the process serves                                  |
//! | `/readyz`  | 200 `ready`, or 503 and one line per failed check                    |
//!
//! Ready means: a configuration is loaded, the gateway is not draining
//! (SIGTERM), and every upstream can serve — a token can be had from an
//! OpenStack upstream's Keystone, and the upstream answered within the last
//! seconds or answers a probe.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::join_all;
use http::{Method, Request, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::dialect::{Reply, reply, text_reply};
use crate::live::Live;
use crate::metrics::{CONTENT_TYPE, metrics};

/// The paths the admin listener answers.
pub const METRICS: &str = "/metrics";
pub const LIVEZ: &str = "/livez";
pub const READYZ: &str = "/readyz";

/// A bound admin listener.
pub struct Admin {
    listener: TcpListener,
    live: Arc<Live>,
}

impl Admin {
    pub async fn bind(addr: SocketAddr, live: Arc<Live>) -> std::io::Result<Self> {
        Ok(Self { listener: TcpListener::bind(addr).await?, live })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the process ends: it answers while the edge drains.
    pub async fn serve(self) {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(std::time::Duration::from_secs(10));
        loop {
            let Ok((stream, _)) = self.listener.accept().await else { continue };
            let live = self.live.clone();
            let conn = http.serve_connection(
                TokioIo::new(stream),
                hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let live = live.clone();
                    async move { Ok::<_, Infallible>(answer(&live, req.method(), req.uri().path()).await) }
                }),
            );
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "admin connection closed with an error");
                }
            });
        }
    }
}

async fn answer(live: &Live, method: &Method, path: &str) -> Reply {
    if !matches!(*method, Method::GET | Method::HEAD) {
        let mut refused = text_reply(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
        refused.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return refused;
    }
    match path {
        METRICS => reply(StatusCode::OK, CONTENT_TYPE, metrics().encode()),
        LIVEZ => text_reply(StatusCode::OK, "live\n"),
        READYZ => match not_ready(live).await {
            failures if failures.is_empty() => text_reply(StatusCode::OK, "ready\n"),
            failures => text_reply(StatusCode::SERVICE_UNAVAILABLE, failures.join("\n") + "\n"),
        },
        _ => text_reply(StatusCode::NOT_FOUND, format!("not found; try {METRICS}, {LIVEZ} or {READYZ}\n")),
    }
}

/// Every readiness check that fails, one line each; while draining, that alone.
async fn not_ready(live: &Live) -> Vec<String> {
    if live.is_draining() {
        // nothing else matters now: no upstream is probed
        return vec!["not ready: draining (shutting down)".to_owned()];
    }
    let mut failures = Vec::new();
    let gateway = live.gateway();
    let mut upstreams: Vec<_> = gateway.routes.upstreams().collect();
    upstreams.sort_by(|a, b| a.name().cmp(b.name()));
    let checks = join_all(upstreams.iter().map(|up| up.ready())).await;
    for (up, check) in upstreams.iter().zip(checks) {
        if let Err(why) = check {
            failures.push(format!("not ready: upstream {}: {why}", up.name()));
        }
    }
    failures
}
