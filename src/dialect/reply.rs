use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body::{Body, Frame, SizeHint};

use crate::model::ErrorKind;

/// An edge reply: a body whole in memory, or a list written as it is read.
pub type Reply = http::Response<ReplyBody>;

/// Why a streamed body stopped before its end.
pub type StreamError = Box<dyn std::error::Error + Send + Sync>;

/// The chunks of a streamed body, in order; an error ends it unfinished.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, StreamError>> + Send>>;

/// A reply body: whole, or streamed (a list written image by image).
///
/// A streamed body that fails after its head went out ends with an error:
/// hyper then closes the connection without the chunked body's last chunk
/// (HTTP/2: resets the stream), so the client sees a broken reply rather
/// than a well-formed one that lost its end.
pub struct ReplyBody {
    kind: Kind,
    /// Kept until the body is dropped: what a streamed reply holds while it
    /// is written (the in-flight slot).
    _held: Option<Box<dyn std::any::Any + Send + Sync>>,
}

enum Kind {
    Whole(Option<Bytes>),
    Streamed(Chunks),
}

impl ReplyBody {
    pub fn whole(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self { kind: Kind::Whole((!bytes.is_empty()).then_some(bytes)), _held: None }
    }

    pub fn streamed(chunks: Chunks) -> Self {
        Self { kind: Kind::Streamed(chunks), _held: None }
    }

    /// The bytes of a whole body; `None` for a streamed one.
    pub fn as_whole(&self) -> Option<Bytes> {
        match &self.kind {
            Kind::Whole(bytes) => Some(bytes.clone().unwrap_or_default()),
            Kind::Streamed(_) => None,
        }
    }

    /// Keeps `guard` alive until the body is written or dropped.
    pub fn hold(&mut self, guard: impl Send + Sync + 'static) {
        if matches!(self.kind, Kind::Streamed(_)) {
            self._held = Some(Box::new(guard));
        }
    }
}

impl Default for ReplyBody {
    fn default() -> Self {
        Self::whole(Bytes::new())
    }
}

impl std::fmt::Debug for ReplyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Whole(bytes) => f.debug_tuple("Whole").field(bytes).finish(),
            Kind::Streamed(_) => f.write_str("Streamed"),
        }
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = StreamError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, StreamError>>> {
        match &mut self.kind {
            Kind::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Streamed(chunks) => chunks.as_mut().poll_next(cx).map(|chunk| chunk.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Whole(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Streamed(_) => SizeHint::default(),
        }
    }
}

/// A reply with a body and content type.
pub fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    with_body(status, content_type, ReplyBody::whole(body))
}

/// A reply with a body of either kind and a content type.
pub fn with_body(status: StatusCode, content_type: &'static str, body: ReplyBody) -> Reply {
    let mut res = http::Response::new(body);
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
