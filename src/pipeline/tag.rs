//! The request id and the request line: every request gets an id, every
//! reply carries it, every upstream call made for it carries it (see
//! [`crate::request_id`]), and every request is logged once, with it.

use std::time::Instant;

use http::Request;
use tracing::Instrument;

use super::stage::{Next, run};
use crate::dialect::{Dialect, Reply};
use crate::identity::keystone;
use crate::request_id::{RequestId, X_COMPUTE_REQUEST_ID, X_OPENSTACK_REQUEST_ID, X_REQUEST_ID};

pub async fn tag<B: Send + 'static>(next: Next<Request<B>>, req: Request<B>) -> Reply {
    let started = Instant::now();
    let id = RequestId::new();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let face = if keystone::claims(&path) { Some("keystone") } else { Dialect::for_path(&path).map(Dialect::name) };
    let span = tracing::debug_span!("request", request_id = %id);
    let mut reply = id.clone().scope(run(next, req)).instrument(span).await;
    // the headers each API's own clients read the request id from
    let names: &[http::HeaderName] = match face {
        Some("openstack") => &[X_COMPUTE_REQUEST_ID, X_OPENSTACK_REQUEST_ID],
        Some("keystone") => &[X_OPENSTACK_REQUEST_ID],
        _ => &[X_REQUEST_ID],
    };
    for name in names {
        reply.headers_mut().insert(name.clone(), id.header_value());
    }
    tracing::info!(
        request_id = %id,
        dialect = face.unwrap_or("none"),
        method = %method,
        path,
        status = reply.status().as_u16(),
        // the route's fallback served it (a migration's read-through)
        fallback = reply.extensions().get::<super::FallbackServed>().map(|f| f.0.as_str()),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    reply
}
