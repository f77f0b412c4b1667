//! What the mirrors found, per route, since the process started: the
//! metrics' counts plus the most frequent differing fields with example
//! request ids, for `GET /mirror` on the admin listener and the status page.
//!
//! A route's [`Tally`] outlives reloads (one per route label, for the
//! process). Its counts are the metric's own counters, so counting a read
//! that is not mirrored (`unsampled`, `dropped`) on the request path is one
//! atomic increment, with no lock; only a compared read, in the background,
//! takes the lock of the differences' details.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use serde::Serialize;

use super::compare::{Difference, Verdict};
use crate::metrics::{MirrorFieldLabels, MirrorLabels, metrics};

/// Example differences kept per field of a route: the latest ones.
const EXAMPLES: usize = 5;

/// How a read of a route with a mirror ended, as
/// `dragoman_mirror_requests_total{result}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Same,
    Different,
    Error,
    /// Sampled, but over the mirror's rate or room: not mirrored.
    Dropped,
    /// Not drawn by the route's sample: not mirrored, on purpose.
    Unsampled,
}

impl Counted {
    const ALL: [Counted; 5] = [Counted::Same, Counted::Different, Counted::Error, Counted::Dropped, Counted::Unsampled];

    fn label(self) -> &'static str {
        match self {
            Counted::Same => "same",
            Counted::Different => "different",
            Counted::Error => "error",
            Counted::Dropped => "dropped",
            Counted::Unsampled => "unsampled",
        }
    }
}

/// One route's counts and differences, for the life of the process.
pub struct Tally {
    route: Arc<str>,
    /// The metric's counter of each [`Counted`], made on first use so that
    /// a result never seen has no metric line.
    counts: [OnceLock<Counter>; 5],
    /// The first read counted.
    since: OnceLock<Instant>,
    /// Differing reads numbered so far, to sample their log lines.
    differing: AtomicU64,
    details: Mutex<Details>,
}

/// What a reload may change, and what only the background work touches.
struct Details {
    mirror: Arc<str>,
    sample: f64,
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

fn tallies() -> &'static Mutex<BTreeMap<Arc<str>, Arc<Tally>>> {
    static TALLIES: OnceLock<Mutex<BTreeMap<Arc<str>, Arc<Tally>>>> = OnceLock::new();
    TALLIES.get_or_init(Mutex::default)
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The tally of `route`, made on the first call: a route table built by a
/// reload gets the tally the route had, with its mirror and sample now.
pub fn tally(route: &Arc<str>, mirror: &Arc<str>, sample: f64) -> Arc<Tally> {
    let tally = locked(tallies())
        .entry(route.clone())
        .or_insert_with(|| {
            Arc::new(Tally {
                route: route.clone(),
                counts: Default::default(),
                since: OnceLock::new(),
                differing: AtomicU64::new(0),
                details: Mutex::new(Details {
                    mirror: mirror.clone(),
                    sample,
                    last_error: None,
                    fields: BTreeMap::new(),
                }),
            })
        })
        .clone();
    let mut details = locked(&tally.details);
    (details.mirror, details.sample) = (mirror.clone(), sample);
    drop(details);
    tally
}

impl Tally {
    /// Counts one read; returns the count before it.
    pub fn count(&self, what: Counted) -> u64 {
        self.since.get_or_init(Instant::now);
        let labels = || MirrorLabels { route: self.route.clone(), result: what.label() };
        let counter =
            self.counts[what as usize].get_or_init(|| metrics().mirror_requests.get_or_create(&labels()).clone());
        counter.inc()
    }

    fn get(&self, what: Counted) -> u64 {
        self.counts[what as usize].get().map_or(0, Counter::get)
    }

    /// Numbers a differing read: how many the route has had, this one
    /// included. Taken before [`Tally::compared`] counts it, so that a count
    /// seen means the read's log line, if sampled, is written.
    pub fn number_difference(&self) -> u64 {
        self.differing.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts one compared read, and notes its differences.
    pub fn compared(&self, request_id: &str, verdict: &Verdict) {
        match verdict {
            Verdict::Same => self.count(Counted::Same),
            Verdict::Failed(why) => {
                locked(&self.details).last_error = Some(why.clone());
                self.count(Counted::Error)
            }
            Verdict::Different(found) => {
                let mut details = locked(&self.details);
                for d in found {
                    self.note(&mut details, request_id, d);
                }
                drop(details);
                self.count(Counted::Different)
            }
        };
    }

    fn note(&self, details: &mut Details, request_id: &str, d: &Difference) {
        let labels = MirrorFieldLabels { route: self.route.clone(), field: d.field };
        metrics().mirror_field_differences.get_or_create(&labels).inc();
        let field = details.fields.entry(d.field).or_default();
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

    fn summary(&self) -> Option<RouteSummary> {
        let [same, different, error, dropped, unsampled] = Counted::ALL.map(|what| self.get(what));
        let reads = same + different + error + dropped + unsampled;
        if reads == 0 {
            return None;
        }
        let seconds = self.since.get().map_or(1.0, |since| since.elapsed().as_secs_f64().max(1.0));
        let compared = same + different;
        let details = locked(&self.details);
        let mut fields: Vec<FieldSummary> = details
            .fields
            .iter()
            .map(|(field, f)| FieldSummary { field, count: f.count, examples: f.examples.iter().cloned().collect() })
            .collect();
        fields.sort_by(|a, b| b.count.cmp(&a.count).then(a.field.cmp(b.field)));
        Some(RouteSummary {
            route: self.route.to_string(),
            mirror: details.mirror.to_string(),
            sample: details.sample,
            same,
            different,
            error,
            dropped,
            unsampled,
            per_second: reads as f64 / seconds,
            mirrored_per_second: (same + different + error) as f64 / seconds,
            different_ratio: if compared == 0 { 0.0 } else { different as f64 / compared as f64 },
            last_error: details.last_error.clone(),
            fields,
        })
    }
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
    /// The share of the route's reads drawn for the mirror, as configured now.
    pub sample: f64,
    pub same: u64,
    pub different: u64,
    pub error: u64,
    pub dropped: u64,
    pub unsampled: u64,
    /// The route's reads a second since its first, mirrored or not.
    pub per_second: f64,
    /// The reads sent to the mirror a second (same, different, error).
    pub mirrored_per_second: f64,
    /// Share of the compared reads (same + different) that differed: the
    /// sample is drawn at random, so it estimates the share of all reads.
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

/// The report as it stands: the routes that have counted a read.
pub fn report() -> Report {
    let tallies: Vec<Arc<Tally>> = locked(tallies()).values().cloned().collect();
    Report { routes: tallies.iter().filter_map(|t| t.summary()).collect() }
}
