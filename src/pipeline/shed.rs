//! The in-flight bound: a request past `server.max_in_flight` is shed at
//! once with the edge dialect's 503 (and `Retry-After: 1`) rather than
//! queued, so that a burst cannot pile up memory and latency.

use std::sync::Arc;

use http::{HeaderValue, header};
use tokio::sync::Semaphore;

use super::admit::Admitted;
use super::stage::{Next, run};
use crate::dialect::Reply;
use crate::metrics::metrics;
use crate::model::{ErrorKind, GatewayError, Side};

pub async fn shed(permits: Arc<Semaphore>, next: Next<Admitted>, admitted: Admitted) -> Reply {
    // held until the reply is built, or written when it is streamed
    let Ok(permit) = permits.try_acquire_owned() else {
        metrics().shed.inc();
        tracing::debug!(peer = %admitted.peer, "shed: too many requests in flight");
        let err = GatewayError::new(ErrorKind::UpstreamUnavailable, Side::Internal, "too many requests in flight");
        let mut reply = admitted.face.refuse(&err);
        reply.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return reply;
    };
    let counted = InFlight::count();
    let mut reply = run(next, admitted).await;
    reply.body_mut().hold((permit, counted));
    reply
}

/// One request counted in `dragoman_requests_in_flight` while it lives.
struct InFlight;

impl InFlight {
    fn count() -> Self {
        metrics().in_flight.inc();
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics().in_flight.dec();
    }
}
