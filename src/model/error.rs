//! The canonical error: what went wrong (its kind), on which side, and
//! whether repeating the request could succeed. Each edge renders it in its
//! own dialect.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// What a caller named that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Image,
    /// A key of an image's metadata.
    MetadataItem,
    /// The server an image was to be saved from.
    Server,
    /// The tenant a path names: Hostway account, Foreman compute resource.
    Tenant,
    /// A path, or an API method, that no route of the edge serves.
    Route,
    /// An API version the edge does not serve.
    ApiVersion,
}

/// What went wrong, in terms every dialect can render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The named resource does not exist; `id` is the one the caller gave.
    NotFound {
        resource: Resource,
        id: String,
    },
    BadRequest,
    Unauthorized,
    Forbidden,
    Conflict,
    MethodNotAllowed,
    /// The caller asked for a version of the API the gateway does not speak.
    NotAcceptable,
    UnsupportedMediaType,
    PayloadTooLarge,
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// The operation cannot be expressed by the backend that would carry it out.
    Unsupported {
        operation: String,
        backend: &'static str,
    },
    UpstreamUnavailable,
    UpstreamTimeout,
    /// The upstream answered with something that cannot be understood.
    UpstreamProtocol,
    Internal,
}

impl ErrorKind {
    /// The HTTP status most dialects use for this kind.
    pub fn status(&self) -> u16 {
        match self {
            ErrorKind::NotFound { .. } => 404,
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::Conflict => 409,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::NotAcceptable => 406,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::RateLimited { .. } => 429,
            ErrorKind::Unsupported { .. } => 501,
            ErrorKind::UpstreamUnavailable => 503,
            ErrorKind::UpstreamTimeout => 504,
            ErrorKind::UpstreamProtocol => 502,
            ErrorKind::Internal => 500,
        }
    }

    /// True for the kinds whose message must not reach the caller: the
    /// details stay in the log and the caller gets a generic message.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            ErrorKind::UpstreamUnavailable
                | ErrorKind::UpstreamTimeout
                | ErrorKind::UpstreamProtocol
                | ErrorKind::Internal
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::NotFound { .. } => "not found",
            ErrorKind::BadRequest => "bad request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Conflict => "conflict",
            ErrorKind::MethodNotAllowed => "method not allowed",
            ErrorKind::NotAcceptable => "not acceptable",
            ErrorKind::UnsupportedMediaType => "unsupported media type",
            ErrorKind::PayloadTooLarge => "payload too large",
            ErrorKind::RateLimited { .. } => "rate limited",
            ErrorKind::Unsupported { .. } => "not implemented",
            ErrorKind::UpstreamUnavailable => "upstream unavailable",
            ErrorKind::UpstreamTimeout => "upstream timed out",
            ErrorKind::UpstreamProtocol => "upstream protocol error",
            ErrorKind::Internal => "internal error",
        };
        f.write_str(s)
    }
}

/// Which side of the gateway an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The caller sent something wrong.
    Downstream,
    /// The upstream failed or refused.
    Upstream,
    /// The gateway itself.
    Internal,
}

/// A canonical error. Rendering it is the edge dialect's job.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct GatewayError {
    pub kind: ErrorKind,
    pub side: Side,
    /// Whether repeating the request could succeed without changing it.
    pub retryable: bool,
    /// Lowercase, no trailing period; shown to the caller unless the kind is internal.
    pub message: Cow<'static, str>,
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl GatewayError {
    pub fn new(kind: ErrorKind, side: Side, message: impl Into<Cow<'static, str>>) -> Self {
        let retryable =
            matches!(kind, ErrorKind::UpstreamUnavailable | ErrorKind::UpstreamTimeout | ErrorKind::RateLimited { .. });
        Self { kind, side, retryable, message: message.into(), cause: None }
    }

    pub fn with_cause(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// The caller asked for something malformed.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::BadRequest, Side::Downstream, message)
    }

    pub fn image_not_found(id: impl Into<String>) -> Self {
        let id = id.into();
        let message = format!("image {id} not found");
        Self::new(ErrorKind::NotFound { resource: Resource::Image, id }, Side::Downstream, message)
    }

    pub fn unsupported(operation: impl Into<String>, backend: &'static str) -> Self {
        let operation = operation.into();
        let message = format!("{operation} is not supported by the {backend} backend");
        Self::new(ErrorKind::Unsupported { operation, backend }, Side::Internal, message)
    }

    /// The upstream answered with something the gateway cannot read.
    pub fn upstream_protocol(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::UpstreamProtocol, Side::Upstream, message)
    }

    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, Side::Internal, message)
    }

    /// The message a caller may see: the real one, or a generic one for
    /// internal kinds whose details belong in the log only.
    pub fn public_message(&self) -> Cow<'_, str> {
        match &self.kind {
            ErrorKind::UpstreamUnavailable => "the service is temporarily unavailable".into(),
            ErrorKind::UpstreamTimeout => "the upstream service did not answer in time".into(),
            ErrorKind::UpstreamProtocol => "the upstream service gave an invalid response".into(),
            ErrorKind::Internal => "the server could not finish the request".into(),
            _ => Cow::Borrowed(&self.message),
        }
    }
}
