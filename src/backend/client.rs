//! The pooled keep-alive HTTP client every upstream call goes through.
//!
//! It speaks `http://` and `https://`: TLS with rustls (hostnames always
//! verified, against the webpki roots and the upstream's extra CA bundle),
//! HTTP/2 where the upstream offers it by ALPN, HTTP/1.1 otherwise.
//!
//! Each thread keeps its own pool of connections: a worker thread's calls
//! go out and come back on that thread's own connections, never through a
//! connection another thread's runtime drives.
//!
//! Every call carries the request id (see [`crate::request_id`]). Retries
//! draw on a budget shared by every call to the upstream (tower's
//! [`TpsBudget`]): each request sent deposits, each retry withdraws, so that
//! retries stay a bounded share of the traffic and cannot multiply the load
//! on an upstream that is already failing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use thread_local::ThreadLocal;
use tower::retry::budget::{Budget, TpsBudget};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use crate::metrics::{UpstreamErrorLabels, UpstreamLabels, metrics};
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
    pub retry_budget: RetryBudgetSettings,
    /// The headers the request id goes upstream in.
    pub request_id_headers: &'static [http::HeaderName],
    /// TLS for `https://` upstreams; the webpki roots and no client
    /// certificate when absent.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The upstream's name, in metrics.
    pub name: Arc<str>,
}

/// How many retries the upstream's traffic allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudgetSettings {
    /// Retries allowed on top of the requests sent, in percent of them
    /// over the last ten seconds.
    pub percent: u32,
    /// Retries allowed per second whatever the traffic.
    pub min_per_sec: u32,
}

impl Default for RetryBudgetSettings {
    fn default() -> Self {
        Self { percent: 20, min_per_sec: 1 }
    }
}

/// What the retry budget allowed so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryStats {
    pub sent: u64,
    pub retried: u64,
    /// Retries the budget refused.
    pub refused: u64,
}

struct RetryBudget {
    budget: TpsBudget,
    sent: AtomicU64,
    retried: AtomicU64,
    refused: AtomicU64,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            pool_idle_timeout: Duration::from_secs(90),
            max_body: 64 * 1024 * 1024,
            retry_budget: RetryBudgetSettings::default(),
            request_id_headers: &crate::request_id::UPSTREAM_HEADERS,
            tls: None,
            name: "upstream".into(),
        }
    }
}

/// A reply read whole, or (with an [`Incoming`] body) its head only.
pub struct UpstreamReply<B = Bytes> {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: B,
}

/// A reply whose body is still to be read.
pub type OpenReply = UpstreamReply<Incoming>;

/// The most an upstream connection reads at once (hyper's default is about
/// 400 KiB): the largest frame of a reply body, and the largest reply head.
const READ_BUFFER_BYTES: usize = 16 * 1024;

type Pool = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Clone)]
pub struct HttpClient {
    /// One pool per thread, made on the thread's first call.
    pools: Arc<ThreadLocal<Pool>>,
    connector: HttpsConnector<HttpConnector>,
    settings: ClientSettings,
    budget: Arc<RetryBudget>,
    metrics: Arc<CallMetrics>,
}

/// The upstream's metric handles, resolved once, and when it last answered.
struct CallMetrics {
    duration: Histogram,
    connect: Counter,
    timeout: Counter,
    too_large: Counter,
    server_error: Counter,
    retries: Counter,
    /// When a reply last came, in milliseconds since [`epoch`]; 0 for never.
    last_answer_ms: AtomicU64,
    /// When a call last got no reply (refused, timed out), likewise.
    last_failure_ms: AtomicU64,
}

impl CallMetrics {
    fn new(upstream: &Arc<str>) -> Self {
        let m = metrics();
        let error =
            |kind| m.upstream_errors.get_or_create_owned(&UpstreamErrorLabels { upstream: upstream.clone(), kind });
        let labels = UpstreamLabels { upstream: upstream.clone() };
        Self {
            duration: m.upstream_duration.get_or_create_owned(&labels),
            connect: error("connect"),
            timeout: error("timeout"),
            too_large: error("reply_too_large"),
            server_error: error("5xx"),
            retries: m.upstream_retries.get_or_create_owned(&labels),
            last_answer_ms: AtomicU64::new(0),
            last_failure_ms: AtomicU64::new(0),
        }
    }

    fn record<B>(&self, outcome: &Result<UpstreamReply<B>, GatewayError>, took: Duration) {
        self.duration.observe(took.as_secs_f64());
        crate::access::upstream_call(outcome.as_ref().ok().map(|r| r.status.as_u16()), took);
        match outcome {
            Ok(reply) => {
                self.last_answer_ms.store(since_epoch_ms().max(1), Ordering::Relaxed);
                if reply.status.is_server_error() {
                    self.server_error.inc();
                }
            }
            Err(e) => {
                let failed = match e.kind {
                    ErrorKind::UpstreamTimeout => Some(&self.timeout),
                    ErrorKind::UpstreamUnavailable => Some(&self.connect),
                    _ => None,
                };
                if let Some(counter) = failed {
                    counter.inc();
                    self.last_failure_ms.store(since_epoch_ms().max(1), Ordering::Relaxed);
                }
            }
        }
    }
}

/// The instant the process first asked, for "how long ago".
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn since_epoch_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

impl HttpClient {
    pub fn new(settings: ClientSettings) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.connect_timeout));
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let tls = match &settings.tls {
            Some(tls) => rustls::ClientConfig::clone(tls),
            None => crate::tls::client_config(&Default::default()).expect("the webpki roots load"),
        };
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connector);
        let retry = settings.retry_budget;
        let budget = Arc::new(RetryBudget {
            budget: TpsBudget::new(Duration::from_secs(10), retry.min_per_sec, retry.percent as f32 / 100.0),
            sent: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let metrics = Arc::new(CallMetrics::new(&settings.name));
        epoch();
        Self { pools: Arc::new(ThreadLocal::new()), connector, settings, budget, metrics }
    }

    /// The upstream's name.
    pub fn name(&self) -> &Arc<str> {
        &self.settings.name
    }

    /// Whether the upstream answered something within `window`, and no
    /// call went unanswered since.
    pub fn answered_within(&self, window: Duration) -> bool {
        let answer = self.metrics.last_answer_ms.load(Ordering::Relaxed);
        let failure = self.metrics.last_failure_ms.load(Ordering::Relaxed);
        answer > 0 && answer >= failure && since_epoch_ms().saturating_sub(answer) < window.as_millis() as u64
    }

    /// This thread's pool.
    fn pool(&self) -> &Pool {
        self.pools.get_or(|| {
            Client::builder(TokioExecutor::new())
                // a reply is read in frames of at most this much: a list
                // streamed to the edge holds one frame at a time
                .http1_max_buf_size(READ_BUFFER_BYTES)
                .pool_idle_timeout(self.settings.pool_idle_timeout)
                .pool_timer(TokioTimer::new())
                .build(self.connector.clone())
        })
    }

    /// Sends a request and reads the whole reply, within the request timeout.
    pub async fn send(&self, request: http::Request<Bytes>) -> Result<UpstreamReply, GatewayError> {
        self.deposit();
        self.exchange(request).await
    }

    /// Sends a request and waits for the reply's head only, within the
    /// request timeout: its body is read by the caller, as it arrives.
    pub async fn open(&self, request: http::Request<Bytes>) -> Result<OpenReply, GatewayError> {
        self.deposit();
        self.exchange_head(request).await
    }

    fn deposit(&self) {
        self.budget.budget.deposit();
        self.budget.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends a request again after `failure`, if the retry budget allows;
    /// `None` when it is spent.
    pub async fn retry(
        &self,
        request: http::Request<Bytes>,
        failure: &GatewayError,
    ) -> Option<Result<UpstreamReply, GatewayError>> {
        if !self.withdraw(failure) {
            return None;
        }
        Some(self.exchange(request).await)
    }

    /// [`HttpClient::retry`] for [`HttpClient::open`].
    pub async fn retry_open(
        &self,
        request: http::Request<Bytes>,
        failure: &GatewayError,
    ) -> Option<Result<OpenReply, GatewayError>> {
        if !self.withdraw(failure) {
            return None;
        }
        Some(self.exchange_head(request).await)
    }

    fn withdraw(&self, failure: &GatewayError) -> bool {
        if !self.budget.budget.withdraw() {
            self.budget.refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(error = %failure, "not retried: the retry budget is spent");
            return false;
        }
        self.budget.retried.fetch_add(1, Ordering::Relaxed);
        self.metrics.retries.inc();
        tracing::debug!(error = %failure, "retrying a read that did not reach the upstream");
        true
    }

    /// The most bytes a reply may have.
    pub fn max_body(&self) -> usize {
        self.settings.max_body
    }

    /// How long a call may take, from sending it to the last byte of the reply.
    pub fn request_timeout(&self) -> Duration {
        self.settings.request_timeout
    }

    /// What the retry budget allowed so far.
    pub fn retry_stats(&self) -> RetryStats {
        let b = &self.budget;
        RetryStats {
            sent: b.sent.load(Ordering::Relaxed),
            retried: b.retried.load(Ordering::Relaxed),
            refused: b.refused.load(Ordering::Relaxed),
        }
    }

    async fn exchange(&self, request: http::Request<Bytes>) -> Result<UpstreamReply, GatewayError> {
        let mut request = request.map(Full::new);
        crate::request_id::stamp_upstream(request.headers_mut(), self.settings.request_id_headers);
        let exchange = async {
            let response = self.pool().request(request).await.map_err(connect_error)?;
            let (parts, body) = response.into_parts();
            let body = read_whole(body, self.settings.max_body).await.map_err(|e| self.body_error(e))?;
            Ok(UpstreamReply { status: parts.status, headers: parts.headers, body })
        };
        self.timed(exchange).await
    }

    async fn exchange_head(&self, request: http::Request<Bytes>) -> Result<OpenReply, GatewayError> {
        let mut request = request.map(Full::new);
        crate::request_id::stamp_upstream(request.headers_mut(), self.settings.request_id_headers);
        let exchange = async {
            let response = self.pool().request(request).await.map_err(connect_error)?;
            let (parts, body) = response.into_parts();
            Ok(UpstreamReply { status: parts.status, headers: parts.headers, body })
        };
        self.timed(exchange).await
    }

    /// `exchange` within the request timeout, recorded in the metrics.
    async fn timed<B>(
        &self,
        exchange: impl Future<Output = Result<UpstreamReply<B>, GatewayError>>,
    ) -> Result<UpstreamReply<B>, GatewayError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.settings.request_timeout, exchange).await.unwrap_or_else(|_| {
            Err(GatewayError::new(
                ErrorKind::UpstreamTimeout,
                Side::Upstream,
                format!("upstream did not answer within {:?}", self.settings.request_timeout),
            ))
        });
        self.metrics.record(&outcome, started.elapsed());
        outcome
    }

    /// The error of a reply body that could not be read whole.
    pub fn body_error(&self, e: Box<dyn std::error::Error + Send + Sync>) -> GatewayError {
        if e.is::<http_body_util::LengthLimitError>() {
            self.metrics.too_large.inc();
        }
        GatewayError::new(ErrorKind::UpstreamProtocol, Side::Upstream, format!("reading upstream reply: {e}"))
    }
}

fn connect_error(e: hyper_util::client::legacy::Error) -> GatewayError {
    let kind = if e.is_connect() { ErrorKind::UpstreamUnavailable } else { ErrorKind::UpstreamProtocol };
    let mut why = String::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(cause) = source {
        why.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    let mut err = GatewayError::new(kind, Side::Upstream, format!("upstream request failed: {e}{why}"));
    // a request that never reached the upstream may be sent again
    err.retryable = e.is_connect();
    err.with_cause(e)
}

/// A whole reply body of at most `max` bytes, in one buffer sized from the
/// length it announces when that is within `max`. Each chunk is copied as
/// it arrives and freed at once, so the connection reuses its read buffer
/// and a body never holds twice its size; a body that comes in one chunk is
/// kept as it is.
pub async fn read_whole<B>(body: B, max: usize) -> Result<Bytes, Box<dyn std::error::Error + Send + Sync>>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let announced = usize::try_from(body.size_hint().lower()).ok().filter(|&n| n <= max).unwrap_or(0);
    let mut body = Limited::new(body, max);
    let mut first: Option<Bytes> = None;
    let mut whole = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame?.into_data() else { continue };
        if let Some(earlier) = first.take() {
            whole.reserve(announced.max(earlier.len() + chunk.len()));
            whole.extend_from_slice(&earlier);
        }
        if whole.is_empty() {
            first = Some(chunk);
        } else {
            whole.extend_from_slice(&chunk);
        }
    }
    Ok(first.unwrap_or_else(|| whole.freeze()))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use futures_util::stream;
    use http_body::Frame;
    use http_body_util::{Full, StreamBody};

    use super::read_whole;

    fn chunked(
        chunks: &[&'static str],
    ) -> StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>>> {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> =
            chunks.iter().map(|c| Ok(Frame::data(Bytes::from_static(c.as_bytes())))).collect();
        StreamBody::new(stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_in_chunks_is_read_whole_in_order() {
        let body = read_whole(chunked(&["{\"images\": [", "", "{\"id\": \"1\"}", "]}"]), 100).await.unwrap();
        assert_eq!(body, Bytes::from_static(b"{\"images\": [{\"id\": \"1\"}]}"));
    }

    #[tokio::test]
    async fn a_body_in_one_chunk_is_kept_as_it_came() {
        let chunk = Bytes::from_static(b"{\"image\": {}}");
        let body = read_whole(Full::new(chunk.clone()), 100).await.unwrap();
        assert_eq!(body.as_ptr(), chunk.as_ptr(), "not copied");
        assert!(read_whole(chunked(&[]), 100).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_body_over_the_bound_is_refused() {
        for body in
            [read_whole(chunked(&["12345", "67890", "1"]), 10).await, read_whole(chunked(&["12345678901"]), 10).await]
        {
            assert!(body.unwrap_err().is::<http_body_util::LengthLimitError>());
        }
        let announced = read_whole(Full::new(Bytes::from(vec![b'x'; 11])), 10).await;
        assert!(announced.unwrap_err().is::<http_body_util::LengthLimitError>());
        assert_eq!(
            read_whole(chunked(&["12345", "67890"]), 10).await.unwrap().len(),
            10,
            "the bound itself is allowed"
        );
    }
}
