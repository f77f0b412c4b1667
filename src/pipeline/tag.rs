//! The request id and the request line: every request gets an id, every
//! reply carries it, every upstream call made for it carries it (see
//! [`crate::request_id`]), and every request is counted in the metrics and
//! logged once, with it: the access log line (target `dragoman::access`,
//! see [`crate::access`]). Every warning logged while the request runs names
//! the id too; at debug level, so does every line, from the request's span.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Instant;

use http::{Request, header};
use http_body::Body;
use tracing::Instrument;

use super::stage::{Next, run};
use crate::dialect::{Dialect, Reply};
use crate::identity::keystone;
use crate::metrics::{RequestLabels, request_done, status_class};
use crate::request_id::{KEYSTONE_REPLY_HEADERS, REPLY_HEADERS, RequestId};

/// The backend label of a request answered before routing.
static NO_BACKEND: LazyLock<Arc<str>> = LazyLock::new(|| "none".into());

pub async fn tag<B: Send + 'static>(peer: IpAddr, next: Next<Request<B>>, req: Request<B>) -> Reply {
    let started = Instant::now();
    let id = RequestId::new();
    let path = req.uri().path();
    let keystone = keystone::claims(path);
    let dialect = if keystone { None } else { Dialect::for_path(path) };
    // what only the access log line needs, copied only when it is written
    let logged = crate::access::enabled()
        .then(|| (req.method().clone(), path.to_owned(), req.headers().get(header::USER_AGENT).cloned()));
    let face = if keystone { Some("keystone") } else { dialect.map(Dialect::name) };
    // debug: a span costs an allocation per request; warnings name the id themselves
    let span = tracing::debug_span!("request", request_id = %id);
    let (mut reply, done) = crate::access::recorded(id.clone().scope(run(next, req))).instrument(span).await;
    // the headers each API's own clients read the request id from
    let names: &[http::HeaderName] = match dialect {
        Some(dialect) => dialect.profile().reply_request_id_headers(),
        None if keystone => &KEYSTONE_REPLY_HEADERS,
        None => &REPLY_HEADERS,
    };
    let value = id.header_value();
    for name in names {
        reply.headers_mut().insert(name.clone(), value.clone());
    }
    let took = started.elapsed();
    let status = reply.status().as_u16();
    let edge = face.unwrap_or("none");
    let backend = done.backend.unwrap_or_else(|| NO_BACKEND.clone());
    let operation = done.operation.unwrap_or("none");
    if let Some((method, path, user_agent)) = logged {
        tracing::info!(
            target: "dragoman::access",
            request_id = %id,
            client_address = %peer,
            client = done.client.as_deref().unwrap_or("-"),
            edge,
            backend = &*backend,
            operation,
            method = %method,
            path,
            status,
            upstream_status = done.upstream_status,
            duration_ms = took.as_secs_f64() * 1000.0,
            upstream_duration_ms = done.upstream_time.as_secs_f64() * 1000.0,
            bytes_in = done.bytes_in,
            bytes_out = reply.body().size_hint().exact().unwrap_or(0),
            user_agent = user_agent.as_ref().and_then(|ua| ua.to_str().ok()).unwrap_or("-"),
            // the route's fallback served it (a migration's read-through)
            fallback = reply.extensions().get::<super::FallbackServed>().map(|f| f.0.as_str()),
            "request"
        );
    }
    request_done(RequestLabels { edge, backend, operation, status_class: status_class(status) }, took.as_secs_f64());
    reply
}
