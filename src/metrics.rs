//! The gateway's Prometheus metrics, served by the admin listener at
//! `/metrics` (see [`crate::admin`]), with `prometheus-client`.
//!
//! One process-wide registry: [`metrics()`] gives its families. Where a
//! metric is recorded on every request, the handle is resolved once —
//! when the upstream client is made, or once per thread and label set
//! ([`request_done`]) — so that a request takes no lock of the registry.
//!
//! To add a metric: a field in [`Metrics`], registered in [`Metrics::new`]
//! under a `dragoman_`-less name (the prefix is added), with a unit suffix
//! and, for a counter, no `_total` (the encoder adds it).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The commit the binary was built from (`build.rs`), or `unknown`.
pub const COMMIT: &str = env!("DRAGOMAN_COMMIT");

/// The media type `/metrics` is served with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds, in seconds, of the duration histograms: from half a
/// millisecond (a catalog read) to a minute (the default request timeout).
const DURATION_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0];

/// What answered a request, and how it went.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The edge dialect, `keystone`, or `none`.
    pub edge: &'static str,
    /// The backend's name (an upstream's, or `memory`); `none` when the
    /// request was answered before routing.
    pub backend: Arc<str>,
    pub operation: &'static str,
    /// `2xx` … `5xx`.
    pub status_class: &'static str,
}

/// Which edge and backend a duration belongs to.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub edge: &'static str,
    pub backend: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    pub upstream: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamErrorLabels {
    pub upstream: Arc<str>,
    /// `connect`, `timeout`, `reply_too_large`, `5xx` or `decode`.
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QuotaLabels {
    /// `global`, `client`, `reads`, `writes`, `tokens`, `address`, or `shared`
    /// (refused by the shared store, which does not say which quota).
    pub quota: &'static str,
}

/// A mirrored read's result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MirrorLabels {
    /// The route, as `<edge>:<scope or *>`.
    pub route: Arc<str>,
    /// `same`, `different`, `error`, `dropped` (over the mirror's rate or
    /// room) or `unsampled` (not drawn by the route's sample).
    pub result: &'static str,
}

/// A canonical field a mirror's answer differed on.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MirrorFieldLabels {
    pub route: Arc<str>,
    /// A canonical field, `image` (on one side only) or `outcome`.
    pub field: &'static str,
}

/// A route's reads its fallback served.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FallbackLabels {
    pub route: Arc<str>,
    pub fallback: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// `success` or `failure`.
    pub result: &'static str,
}

impl ResultLabels {
    pub const SUCCESS: ResultLabels = ResultLabels { result: "success" };
    pub const FAILURE: ResultLabels = ResultLabels { result: "failure" };

    pub fn of(ok: bool) -> &'static ResultLabels {
        if ok { &Self::SUCCESS } else { &Self::FAILURE }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

/// Makes the duration histograms.
#[derive(Clone, Copy)]
pub struct Durations;

impl MetricConstructor<Histogram> for Durations {
    fn new_metric(&self) -> Histogram {
        Histogram::new(DURATION_BUCKETS)
    }
}

/// Every metric of the gateway.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<RouteLabels, Histogram, Durations>,
    pub upstream_duration: Family<UpstreamLabels, Histogram, Durations>,
    pub upstream_errors: Family<UpstreamErrorLabels, Counter>,
    pub upstream_retries: Family<UpstreamLabels, Counter>,
    pub rate_limited: Family<QuotaLabels, Counter>,
    pub shed: Counter,
    pub in_flight: Gauge,
    pub open_connections: Gauge,
    pub keystone_token_fetches: Family<UpstreamLabels, Counter>,
    pub keystone_token_failures: Family<UpstreamLabels, Counter>,
    pub tls_reloads: Family<ResultLabels, Counter>,
    pub config_reloads: Family<ResultLabels, Counter>,
    pub config_last_reload_success: Gauge,
    pub catalog_writes: Family<ResultLabels, Counter>,
    pub mirror_requests: Family<MirrorLabels, Counter>,
    pub mirror_field_differences: Family<MirrorFieldLabels, Counter>,
    pub fallback_served: Family<FallbackLabels, Counter>,
    pub quota_store_connected: Gauge,
    pub quota_store_local_charges: Gauge,
    pub quota_store_outages: Gauge,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("dragoman");
        let m = Self {
            registry: Registry::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(Durations),
            upstream_duration: Family::new_with_constructor(Durations),
            upstream_errors: Family::default(),
            upstream_retries: Family::default(),
            rate_limited: Family::default(),
            shed: Counter::default(),
            in_flight: Gauge::default(),
            open_connections: Gauge::default(),
            keystone_token_fetches: Family::default(),
            keystone_token_failures: Family::default(),
            tls_reloads: Family::default(),
            config_reloads: Family::default(),
            config_last_reload_success: Gauge::default(),
            catalog_writes: Family::default(),
            mirror_requests: Family::default(),
            mirror_field_differences: Family::default(),
            fallback_served: Family::default(),
            quota_store_connected: Gauge::default(),
            quota_store_local_charges: Gauge::default(),
            quota_store_outages: Gauge::default(),
        };
        let r = &mut registry;
        r.register(
            "requests",
            "Edge requests answered, by edge, backend, operation and status class",
            m.requests.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Time from a request's arrival to its reply, by edge and backend",
            m.request_duration.clone(),
        );
        r.register(
            "upstream_request_duration_seconds",
            "Time of one upstream call, from sending it to the last byte of the reply",
            m.upstream_duration.clone(),
        );
        r.register("upstream_errors", "Upstream calls that failed, by kind", m.upstream_errors.clone());
        r.register("upstream_retries", "Upstream reads sent again", m.upstream_retries.clone());
        r.register("rate_limited_requests", "Requests refused by a quota, by quota", m.rate_limited.clone());
        r.register("shed_requests", "Requests refused because too many were in flight", m.shed.clone());
        r.register("requests_in_flight", "Requests being served", m.in_flight.clone());
        r.register("open_connections", "Edge connections open", m.open_connections.clone());
        r.register(
            "keystone_token_fetches",
            "Tokens asked of an OpenStack upstream's Keystone",
            m.keystone_token_fetches.clone(),
        );
        r.register(
            "keystone_token_failures",
            "Token requests an OpenStack upstream's Keystone refused or did not answer",
            m.keystone_token_failures.clone(),
        );
        r.register("tls_reloads", "Edge certificate and client CA reloads, by result", m.tls_reloads.clone());
        r.register("config_reloads", "Configuration reloads (SIGHUP), by result", m.config_reloads.clone());
        r.register(
            "config_last_reload_successful",
            "1 when the last configuration reload succeeded (or none was asked for), 0 when it failed",
            m.config_last_reload_success.clone(),
        );
        r.register("catalog_writes", "Writes to the embedded catalog, by result", m.catalog_writes.clone());
        r.register(
            "mirror_requests",
            "Reads of a route with a mirror, by route and result (same, different, error; not mirrored: dropped, unsampled)",
            m.mirror_requests.clone(),
        );
        r.register(
            "mirror_field_differences",
            "Fields a route's mirror answered differently, by route and canonical field",
            m.mirror_field_differences.clone(),
        );
        r.register(
            "fallback_served",
            "Reads a route's fallback answered (wholly or in part), by route and fallback",
            m.fallback_served.clone(),
        );
        r.register(
            "quota_store_connected",
            "1 while the shared quota store is connected, 0 when it is away or none is configured",
            m.quota_store_connected.clone(),
        );
        r.register(
            "quota_store_local_charges",
            "Requests charged on the local quotas because the store was away or slow, since it was configured",
            m.quota_store_local_charges.clone(),
        );
        r.register(
            "quota_store_outages",
            "Times the shared quota store was lost, since it was configured",
            m.quota_store_outages.clone(),
        );
        // the version and commit ride as labels on a gauge of 1
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION"), commit: COMMIT }).set(1);
        r.register("build_info", "The version and commit of the running binary", build);
        m.config_last_reload_success.set(1);
        Self { registry, ..m }
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String succeeds");
        out
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// The `2xx` … `5xx` class of a status code.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

thread_local! {
    /// This thread's handles of the per-request metrics, by label set.
    static REQUEST_HANDLES: RefCell<HashMap<RequestLabels, Counter>> = RefCell::new(HashMap::new());
    static DURATION_HANDLES: RefCell<HashMap<RouteLabels, Histogram>> = RefCell::new(HashMap::new());
}

/// Counts one answered request and its duration, through this thread's
/// handles: the registry's lock is taken once per thread and label set.
pub fn request_done(labels: RequestLabels, seconds: f64) {
    let route = RouteLabels { edge: labels.edge, backend: labels.backend.clone() };
    REQUEST_HANDLES.with_borrow_mut(|handles| match handles.get(&labels) {
        Some(counter) => {
            counter.inc();
        }
        None => {
            let counter = metrics().requests.get_or_create_owned(&labels);
            counter.inc();
            handles.insert(labels, counter);
        }
    });
    DURATION_HANDLES.with_borrow_mut(|handles| match handles.get(&route) {
        Some(histogram) => histogram.observe(seconds),
        None => {
            let histogram = metrics().request_duration.get_or_create_owned(&route);
            histogram.observe(seconds);
            handles.insert(route, histogram);
        }
    });
}
