//! Mirror and compare during a migration: a read on a route with a mirror
//! is served from the route's backend as ever, then sent in the background
//! to the mirror, and the two outcomes compared ([`compare`]). The client's
//! reply never waits for the mirror, and the mirror's share of the
//! gateway's work is bounded, in this order:
//!
//! 1. a read is drawn for the mirror at random, one in `1 / sample` (the
//!    route's `mirror_sample`, else `[mirror] sample`); the others are
//!    counted as `unsampled`;
//! 2. at most `per_second` drawn reads a second, over all routes, are
//!    mirrored (a token bucket, one second's worth of burst);
//! 3. at most `concurrency` of those run at once and `queue` wait, each
//!    within its `timeout_ms`.
//!
//! A drawn read over the rate or the room is not mirrored but counted as
//! `dropped`. A read not mirrored costs the request a random draw and an
//! atomic count; only a mirrored one has its outcome copied for the
//! background comparison. Writes are never mirrored (docs/MIGRATION.md).

mod compare;
pub mod report;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use compare::Sides;
use compare::{Verdict, compare};
use report::{Counted, Tally};

use crate::backend::Backend;
use crate::config::MirrorConfig;
use crate::model::{GatewayError, ImageOp, Outcome};
use crate::request_id::RequestId;

/// A route's mirror: the route's name in metrics, its backend, the share
/// of its reads drawn for it and its counts.
#[derive(Clone)]
pub struct Mirror {
    pub route: Arc<str>,
    pub backend: Backend,
    sample: f64,
    tally: Arc<Tally>,
}

impl Mirror {
    pub fn new(route: Arc<str>, backend: Backend, sample: f64) -> Self {
        let tally = report::tally(&route, backend.name(), sample);
        Self { route, backend, sample, tally }
    }
}

/// The mirror's share of the gateway, over all routes: the rate and the
/// room for mirrored reads.
pub struct MirrorPool {
    /// Mirrored reads a second; none with `per_second = 0`.
    rate: Option<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>,
    /// One permit per mirrored read, running or waiting.
    admitted: Arc<Semaphore>,
    /// One permit per mirrored read running.
    running: Arc<Semaphore>,
    timeout: Duration,
    log_one_in: u64,
}

/// A read let through to the mirror: its place in the room.
pub struct Ticket(OwnedSemaphorePermit);

/// One read to mirror: the operation, the primary's outcome, the dialects.
pub struct Mirrored {
    op: ImageOp,
    scope: Option<String>,
    primary: Result<Outcome, GatewayError>,
    sides: Sides,
}

impl Mirrored {
    pub fn new(op: &ImageOp, scope: Option<&str>, primary: &Result<Outcome, GatewayError>, sides: Sides) -> Self {
        let primary = match primary {
            Ok(outcome) => Ok(outcome.clone()),
            // what the comparison reads of an error: its kind and message
            Err(e) => Err(GatewayError::new(e.kind.clone(), e.side, e.message.clone())),
        };
        Self { op: op.clone(), scope: scope.map(str::to_owned), primary, sides }
    }
}

impl MirrorPool {
    pub fn new(config: &MirrorConfig) -> Self {
        let concurrency = config.concurrency.max(1);
        Self {
            rate: NonZeroU32::new(config.per_second).map(|n| RateLimiter::direct(Quota::per_second(n))),
            admitted: Arc::new(Semaphore::new(concurrency + config.queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            timeout: Duration::from_millis(config.timeout_ms.max(1)),
            log_one_in: config.log_one_in.max(1),
        }
    }

    /// Whether this read of `mirror`'s route goes to the mirror: drawn by
    /// its sample, within the rate, with room. A read that does not is
    /// counted, `unsampled` or `dropped`. Returns at once.
    pub fn admit(&self, mirror: &Mirror) -> Option<Ticket> {
        // a sample of 1 draws nothing: every read
        if mirror.sample < 1.0 && fastrand::f64() >= mirror.sample {
            mirror.tally.count(Counted::Unsampled);
            return None;
        }
        let within_rate = self.rate.as_ref().is_none_or(|rate| rate.check().is_ok());
        match within_rate.then(|| self.admitted.clone().try_acquire_owned().ok()).flatten() {
            Some(admitted) => Some(Ticket(admitted)),
            None => {
                mirror.tally.count(Counted::Dropped);
                None
            }
        }
    }

    /// Sends an admitted `read` to `mirror` in the background, to compare
    /// and count. Returns at once.
    pub fn send(&self, mirror: &Mirror, ticket: Ticket, read: Mirrored) {
        let request_id = RequestId::current();
        let id = request_id.as_ref().map_or_else(String::new, |id| id.as_str().to_owned());
        let running = self.running.clone();
        let (timeout, log_one_in, mirror) = (self.timeout, self.log_one_in, mirror.clone());
        let work = async move {
            let Ticket(_admitted) = ticket;
            let Ok(_running) = running.acquire_owned().await else { return };
            let answer = tokio::time::timeout(timeout, mirror.backend.execute(&read.op, read.scope.as_deref())).await;
            let verdict = match answer {
                Ok(outcome) => compare(&read.primary, &outcome, read.sides),
                Err(_) => Verdict::Failed(format!("mirror: no answer within {timeout:?}")),
            };
            if let Verdict::Different(found) = &verdict
                && (mirror.tally.number_difference() - 1).is_multiple_of(log_one_in)
            {
                let diff: Vec<String> = found
                    .iter()
                    .take(4)
                    .map(|d| format!("{} {}: {} -> {}", d.image, d.field, d.primary, d.mirror))
                    .collect();
                let name = mirror.backend.name();
                tracing::info!(request_id = %id, route = %mirror.route, mirror = %name, diff = %diff.join("; "), "mirror differs");
            }
            mirror.tally.compared(&id, &verdict);
        };
        match request_id {
            Some(request_id) => tokio::spawn(request_id.scope(work)),
            None => tokio::spawn(work),
        };
    }
}
