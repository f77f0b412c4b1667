//! What the mirrors found, per route, since the process started: the
//! metrics' counts plus the most frequent differing fields with example
//! request ids, for `GET /mirror` on the admin listener and the status page.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde::Serialize;

use super::compare::{Difference, Verdict};
use crate::metrics::{MirrorFieldLabels, MirrorLabels, metrics};

/// Example differences kept per field of a route: the latest ones.
const EXAMPLES: usize = 5;

/// One route's counts.
#[derive(Debug)]
struct RouteReport {
    mirror: Arc<str>,
    since: Instant,
    same: u64,
    different: u64,
    error: u64,
    dropped: u64,
    last_error: Option<String>,
    fields: BTreeMap<&'static str, FieldReport>,
}

#[derive(Debug, Default)]
struct FieldReport {
    count: u64,
    examples: VecDeque<Example>,
}

/// A difference as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub request_id: String,
    pub image: String,
    pub primary: String,
    pub mirror: String,
}

/// How a mirrored read ended.
pub enum Recorded<'a> {
    Compared(&'a Verdict),
    Dropped,
}

fn routes() -> &'static Mutex<BTreeMap<Arc<str>, RouteReport>> {
    static ROUTES: OnceLock<Mutex<BTreeMap<Arc<str>, RouteReport>>> = OnceLock::new();
    ROUTES.get_or_init(Mutex::default)
}

/// Counts one mirrored read of `route` in the metrics and the report;
/// returns how many differences the route has had, this one's included.
pub fn record(route: &Arc<str>, mirror: &Arc<str>, request_id: &str, what: Recorded<'_>) -> u64 {
    let result = match what {
        Recorded::Dropped => "dropped",
        Recorded::Compared(Verdict::Same) => "same",
        Recorded::Compared(Verdict::Different(_)) => "different",
        Recorded::Compared(Verdict::Failed(_)) => "error",
    };
    metrics().mirror_requests.get_or_create(&MirrorLabels { route: route.clone(), result }).inc();
    let mut routes = routes().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let report = routes.entry(route.clone()).or_insert_with(|| RouteReport {
        mirror: mirror.clone(),
        since: Instant::now(),
        same: 0,
        different: 0,
        error: 0,
        dropped: 0,
        last_error: None,
        fields: BTreeMap::new(),
    });
    report.mirror = mirror.clone();
    match what {
        Recorded::Dropped => report.dropped += 1,
        Recorded::Compared(Verdict::Same) => report.same += 1,
        Recorded::Compared(Verdict::Failed(why)) => {
            report.error += 1;
            report.last_error = Some(why.clone());
        }
        Recorded::Compared(Verdict::Different(found)) => {
            report.different += 1;
            for d in found {
                note(report, route, request_id, d);
            }
        }
    }
    report.different
}

fn note(report: &mut RouteReport, route: &Arc<str>, request_id: &str, d: &Difference) {
    metrics().mirror_field_differences.get_or_create(&MirrorFieldLabels { route: route.clone(), field: d.field }).inc();
    let field = report.fields.entry(d.field).or_default();
    field.count += 1;
    if field.examples.len() == EXAMPLES {
        field.examples.pop_front();
    }
    field.examples.push_back(Example {
        request_id: request_id.to_owned(),
        image: d.image.clone(),
        primary: d.primary.clone(),
        mirror: d.mirror.clone(),
    });
}

/// The report of every route mirrored so far.
#[derive(Debug, Serialize)]
pub struct Report {
    pub routes: Vec<RouteSummary>,
}

#[derive(Debug, Serialize)]
pub struct RouteSummary {
    pub route: String,
    pub mirror: String,
    pub same: u64,
    pub different: u64,
    pub error: u64,
    pub dropped: u64,
    /// Mirrored reads per second since the route's first.
    pub per_second: f64,
    /// Share of the compared reads (same + different) that differed.
    pub different_ratio: f64,
    pub last_error: Option<String>,
    /// Most frequent first.
    pub fields: Vec<FieldSummary>,
}

#[derive(Debug, Serialize)]
pub struct FieldSummary {
    pub field: &'static str,
    pub count: u64,
    pub examples: Vec<Example>,
}

/// The report as it stands.
pub fn report() -> Report {
    let routes = routes().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let routes = routes
        .iter()
        .map(|(route, r)| {
            let total = r.same + r.different + r.error + r.dropped;
            let compared = r.same + r.different;
            let mut fields: Vec<FieldSummary> = r
                .fields
                .iter()
                .map(|(field, f)| FieldSummary {
                    field,
                    count: f.count,
                    examples: f.examples.iter().cloned().collect(),
                })
                .collect();
            fields.sort_by(|a, b| b.count.cmp(&a.count).then(a.field.cmp(b.field)));
            RouteSummary {
                route: route.to_string(),
                mirror: r.mirror.to_string(),
                same: r.same,
                different: r.different,
                error: r.error,
                dropped: r.dropped,
                per_second: total as f64 / r.since.elapsed().as_secs_f64().max(1.0),
                different_ratio: if compared == 0 { 0.0 } else { r.different as f64 / compared as f64 },
                last_error: r.last_error.clone(),
                fields,
            }
        })
        .collect();
    Report { routes }
}
