use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::Full;

use crate::model::ErrorKind;

/// A complete edge reply.
pub type Reply = http::Response<Full<Bytes>>;

/// A reply with a body and content type.
pub fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut res = http::Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A JSON reply from an already serialised body.
pub fn json_reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    reply(status, "application/json", body)
}

/// A plain-text reply.
pub fn text_reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    reply(status, "text/plain; charset=UTF-8", body)
}

/// How long a refusal over a quota says to wait, in whole seconds rounded
/// up: never sooner than the wait.
pub fn retry_after_secs(kind: &ErrorKind) -> Option<u64> {
    match kind {
        ErrorKind::RateLimited { retry_after: Some(wait) } => Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
        _ => None,
    }
}

/// `Retry-After` for a refusal over a quota that says how long to wait.
/// Every edge writes it.
pub fn write_retry_after(headers: &mut HeaderMap, kind: &ErrorKind) {
    if let Some(secs) = retry_after_secs(kind) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}
