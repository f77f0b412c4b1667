//! Mirror and compare during a migration: a read on a route with a mirror
//! is served from the route's backend as ever, then sent in the background
//! to the mirror, and the two outcomes compared ([`compare`]). The client's
//! reply never waits for the mirror: the background work is bounded (so
//! many at once, so many waiting, each within its timeout), and a read that
//! finds no room is not mirrored but counted as `dropped`. Writes are never
//! mirrored (docs/MIGRATION.md).

mod compare;
pub mod report;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use compare::Sides;
use compare::{Verdict, compare};
use report::Recorded;

use crate::backend::Backend;
use crate::config::MirrorConfig;
use crate::model::{GatewayError, ImageOp, Outcome};
use crate::request_id::RequestId;

/// A route's mirror: the route's name in metrics and its backend.
#[derive(Clone)]
pub struct Mirror {
    pub route: Arc<str>,
    pub backend: Backend,
}

/// The room for mirrored reads, over all routes.
pub struct MirrorPool {
    /// One permit per mirrored read, running or waiting.
    admitted: Arc<Semaphore>,
    /// One permit per mirrored read running.
    running: Arc<Semaphore>,
    timeout: Duration,
    log_one_in: u64,
}

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
            admitted: Arc::new(Semaphore::new(concurrency + config.queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            timeout: Duration::from_millis(config.timeout_ms.max(1)),
            log_one_in: config.log_one_in.max(1),
        }
    }

    /// Sends `read` to `mirror` in the background, or counts it dropped
    /// when there is no room. Returns at once.
    pub fn send(&self, mirror: &Mirror, read: Mirrored) {
        let request_id = RequestId::current();
        let id = request_id.as_ref().map_or_else(String::new, |id| id.as_str().to_owned());
        let Ok(admitted) = self.admitted.clone().try_acquire_owned() else {
            report::record(&mirror.route, mirror.backend.name(), &id, Recorded::Dropped);
            return;
        };
        let running = self.running.clone();
        let (timeout, log_one_in, mirror) = (self.timeout, self.log_one_in, mirror.clone());
        let work = async move {
            let _admitted = admitted;
            let Ok(_running) = running.acquire_owned().await else { return };
            let answer = tokio::time::timeout(timeout, mirror.backend.execute(&read.op, read.scope.as_deref())).await;
            let verdict = match answer {
                Ok(outcome) => compare(&read.primary, &outcome, read.sides),
                Err(_) => Verdict::Failed(format!("mirror: no answer within {timeout:?}")),
            };
            let name = mirror.backend.name();
            let differences = report::record(&mirror.route, name, &id, Recorded::Compared(&verdict));
            if let Verdict::Different(found) = &verdict
                && (differences - 1).is_multiple_of(log_one_in)
            {
                let diff: Vec<String> = found
                    .iter()
                    .take(4)
                    .map(|d| format!("{} {}: {} -> {}", d.image, d.field, d.primary, d.mirror))
                    .collect();
                tracing::info!(request_id = %id, route = %mirror.route, mirror = %name, diff = %diff.join("; "), "mirror differs");
            }
        };
        match request_id {
            Some(request_id) => tokio::spawn(request_id.scope(work)),
            None => tokio::spawn(work),
        };
    }
}
