//! The pooled keep-alive HTTP client every upstream call goes through.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::model::{ErrorKind, GatewayError, Side};

/// Timeouts and bounds of the upstream client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// From sending the request to the last byte of the reply.
    pub request_timeout: Duration,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Upstream replies larger than this are refused.
    pub max_body: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(90),
            max_body: 64 * 1024 * 1024,
        }
    }
}

/// A reply read whole.
pub struct UpstreamReply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    settings: ClientSettings,
}

impl HttpClient {
    pub fn new(settings: ClientSettings) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Self { client, settings }
    }

    /// Sends a request and reads the whole reply, within the request timeout.
    pub async fn send(&self, request: http::Request<Bytes>) -> Result<UpstreamReply, GatewayError> {
        let request = request.map(Full::new);
        let exchange = async {
            let response = self.client.request(request).await.map_err(connect_error)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, self.settings.max_body).collect().await.map_err(|e| {
                GatewayError::new(ErrorKind::UpstreamProtocol, Side::Upstream, format!("reading upstream reply: {e}"))
            })?;
            Ok(UpstreamReply { status: parts.status, headers: parts.headers, body: body.to_bytes() })
        };
        tokio::time::timeout(self.settings.request_timeout, exchange).await.unwrap_or_else(|_| {
            Err(GatewayError::new(
                ErrorKind::UpstreamTimeout,
                Side::Upstream,
                format!("upstream did not answer within {:?}", self.settings.request_timeout),
            ))
        })
    }
}

fn connect_error(e: hyper_util::client::legacy::Error) -> GatewayError {
    let kind = if e.is_connect() { ErrorKind::UpstreamUnavailable } else { ErrorKind::UpstreamProtocol };
    let mut err = GatewayError::new(kind, Side::Upstream, format!("upstream request failed: {e:?}"));
    // a request that never reached the upstream may be sent again
    err.retryable = e.is_connect();
    err.with_cause(e)
}
