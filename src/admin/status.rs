//! The status page (`GET /`) and what it polls (`GET /status.json`): per
//! edge × backend pair its requests, errors and latency, each upstream's
//! readiness and errors, quota refusals, the reload history and the
//! mirrors' report. The numbers are read back from the metrics registry's
//! own text, so the page and `/metrics` never disagree; the page turns the
//! counts into rates between two polls.

use std::collections::BTreeMap;

use serde::Serialize;

use super::check_upstreams;
use crate::live::{Live, ReloadEvent, reload_history};
use crate::metrics::{COMMIT, metrics};
use crate::pipeline::mirror::report::{Report, report};

/// The page: the routes as the banner names them, and the script that
/// fills the tables from `/status.json`.
pub fn page(live: &Live) -> String {
    let gateway = live.gateway();
    let routes: String = gateway
        .routes
        .describe(&[])
        .iter()
        .map(|line| format!("<li>{}</li>", escape(line.trim_start_matches("route: "))))
        .collect();
    include_str!("status.html")
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
        .replace("{{commit}}", COMMIT)
        .replace("{{routes}}", &routes)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Everything the page shows, as it stands.
#[derive(Debug, Serialize)]
pub struct Status {
    pub draining: bool,
    pub pairs: Vec<Pair>,
    pub upstreams: Vec<UpstreamStatus>,
    pub quota_refusals: BTreeMap<String, u64>,
    pub shed: u64,
    pub in_flight: u64,
    pub reloads: Vec<ReloadEvent>,
    pub mirror: Report,
}

/// One edge × backend pair, counted since the start.
#[derive(Debug, Default, Serialize)]
pub struct Pair {
    pub edge: String,
    pub backend: String,
    pub requests: u64,
    /// Answered `4xx`: refused, not found.
    pub client_errors: u64,
    /// Answered `5xx`.
    pub errors: u64,
    pub mean_ms: f64,
    /// The upper bound of the duration bucket holding the 99th percentile.
    pub p99_ms: Option<f64>,
    #[serde(skip)]
    buckets: Vec<(f64, u64)>,
    #[serde(skip)]
    seconds: f64,
    #[serde(skip)]
    timed: u64,
}

#[derive(Debug, Serialize)]
pub struct UpstreamStatus {
    pub name: String,
    pub ready: bool,
    /// Why not, when not ready.
    pub detail: Option<String>,
    /// Failed calls, by kind.
    pub errors: BTreeMap<String, u64>,
}

/// The status as it stands (probes every upstream that has not answered lately).
pub async fn status(live: &Live) -> Status {
    let text = metrics().encode();
    let samples: Vec<Sample<'_>> = text.lines().filter_map(Sample::parse).collect();
    let mut pairs: BTreeMap<(String, String), Pair> = BTreeMap::new();
    let mut quota_refusals = BTreeMap::new();
    let mut upstream_errors: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut shed, mut in_flight) = (0, 0);
    for s in &samples {
        match s.name {
            "dragoman_requests_total" => {
                let p = pair_of(&mut pairs, s);
                p.requests += s.count();
                match s.label("status_class") {
                    "4xx" => p.client_errors += s.count(),
                    "5xx" => p.errors += s.count(),
                    _ => {}
                }
            }
            "dragoman_request_duration_seconds_bucket" => {
                let p = pair_of(&mut pairs, s);
                let le = s.label("le").parse().unwrap_or(f64::INFINITY);
                p.buckets.push((le, s.count()));
            }
            "dragoman_request_duration_seconds_sum" => {
                pair_of(&mut pairs, s).seconds += s.value;
            }
            "dragoman_request_duration_seconds_count" => {
                pair_of(&mut pairs, s).timed += s.count();
            }
            "dragoman_rate_limited_requests_total" => {
                quota_refusals.insert(s.label("quota").to_owned(), s.count());
            }
            "dragoman_upstream_errors_total" => {
                upstream_errors
                    .entry(s.label("upstream").to_owned())
                    .or_default()
                    .insert(s.label("kind").to_owned(), s.count());
            }
            "dragoman_shed_requests_total" => shed = s.count(),
            "dragoman_requests_in_flight" => in_flight = s.count(),
            _ => {}
        }
    }
    let pairs = pairs
        .into_iter()
        .map(|((edge, backend), mut p)| {
            p.edge = edge;
            p.backend = backend;
            p.mean_ms = if p.timed == 0 { 0.0 } else { p.seconds * 1000.0 / p.timed as f64 };
            p.p99_ms = percentile(&p.buckets, p.timed, 0.99).map(|s| s * 1000.0);
            p
        })
        .collect();
    let upstreams = check_upstreams(live)
        .await
        .into_iter()
        .map(|(name, check)| UpstreamStatus {
            errors: upstream_errors.remove(&name).unwrap_or_default(),
            ready: check.is_ok(),
            detail: check.err(),
            name,
        })
        .collect();
    Status {
        draining: live.is_draining(),
        pairs,
        upstreams,
        quota_refusals,
        shed,
        in_flight,
        reloads: reload_history(),
        mirror: report(),
    }
}

/// The pair of a sample's `edge` and `backend` labels.
fn pair_of<'p>(pairs: &'p mut BTreeMap<(String, String), Pair>, s: &Sample<'_>) -> &'p mut Pair {
    pairs.entry((s.label("edge").to_owned(), s.label("backend").to_owned())).or_default()
}

/// The upper bound of the first bucket holding the `q` quantile of `count`
/// observations; `None` with none, or past the last finite bucket.
fn percentile(buckets: &[(f64, u64)], count: u64, q: f64) -> Option<f64> {
    let wanted = (count as f64 * q).ceil() as u64;
    (count > 0).then_some(())?;
    buckets.iter().find(|(_, seen)| *seen >= wanted).map(|(le, _)| *le).filter(|le| le.is_finite())
}

/// One sample line of the OpenMetrics text: `name{labels} value`.
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, &'a str)>,
    value: f64,
}

impl<'a> Sample<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        if line.starts_with('#') {
            return None;
        }
        let (head, value) = line.rsplit_once(' ')?;
        let value = value.parse().ok()?;
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}')?),
            None => (head, ""),
        };
        // label values here are names from the configuration and fixed words:
        // no commas or quotes inside them
        let labels = labels
            .split(',')
            .filter_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                Some((key, value.trim_matches('"')))
            })
            .collect();
        Some(Self { name, labels, value })
    }

    fn label(&self, key: &str) -> &'a str {
        self.labels.iter().find(|(k, _)| *k == key).map_or("", |(_, v)| v)
    }

    fn count(&self) -> u64 {
        self.value as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_percentile_is_the_bound_of_its_bucket() {
        let buckets = [(0.001, 50), (0.01, 98), (0.1, 100), (f64::INFINITY, 100)];
        assert_eq!(percentile(&buckets, 100, 0.99), Some(0.1));
        assert_eq!(percentile(&buckets, 100, 0.5), Some(0.001));
        assert_eq!(percentile(&buckets, 0, 0.99), None);
    }

    #[test]
    fn sample_lines_are_read() {
        let s =
            Sample::parse(r#"dragoman_requests_total{edge="hostway",backend="memory",status_class="2xx"} 7"#).unwrap();
        assert_eq!(
            (s.name, s.label("edge"), s.label("backend"), s.count()),
            ("dragoman_requests_total", "hostway", "memory", 7)
        );
        assert!(Sample::parse("# HELP x y").is_none());
        assert_eq!(Sample::parse("dragoman_shed_requests_total 3").unwrap().count(), 3);
    }
}
