use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;

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
