//! The envelope every GoGrid reply travels in, whatever its format: a
//! `status`, the `method` called, a `summary` of the list and the `list`
//! itself (images, or one error object when the status is `failure`).

use std::borrow::Cow;

use std::fmt;

use http::StatusCode;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::image::{Scalar, WireObject};
use crate::dialect::fields::borrowed_text;
use crate::model::{ErrorKind, GatewayError, Image, Resource};

/// GoGrid's error code for every problem with the input, not-found included.
pub(super) const ILLEGAL_ARGUMENT: &str = "IllegalArgumentException";
/// GoGrid's message when a get matches nothing (served with HTTP 400).
pub(super) const NO_OBJECT_FOUND: &str = "No object found that matches your input criteria.";

/// The `summary` of a success reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(super) struct Summary {
    /// 0 when the list is not paginated, else `ceil(total / num_items)`.
    pub numpages: usize,
    pub returned: usize,
    /// Index of the first returned item in the whole list.
    pub start: usize,
    pub total: usize,
}

impl Summary {
    /// An unpaginated reply carrying `n` objects.
    pub fn whole(n: usize) -> Self {
        Summary { numpages: 0, returned: n, start: 0, total: n }
    }
}

/// A failure reply: HTTP status, `errorcode` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure<'a> {
    pub status: StatusCode,
    pub errorcode: &'static str,
    pub message: Cow<'a, str>,
}

impl Failure<'_> {
    /// How GoGrid reports `err` (the table is in the module docs).
    pub fn of(err: &GatewayError) -> Failure<'_> {
        let (status, errorcode) = match &err.kind {
            ErrorKind::NotFound { resource: Resource::Image | Resource::Server, .. } => {
                return Failure::no_object_found();
            }
            ErrorKind::NotFound { .. } => (StatusCode::NOT_FOUND, "NotFound"),
            // GoGrid answers any input problem, a head too large too, with its 400
            ErrorKind::BadRequest | ErrorKind::Conflict | ErrorKind::HeadTooLarge => {
                (StatusCode::BAD_REQUEST, ILLEGAL_ARGUMENT)
            }
            ErrorKind::Unauthorized => {
                return Failure {
                    status: StatusCode::FORBIDDEN,
                    errorcode: "AuthenticationFailed",
                    message: Cow::Borrowed("Authentication Failed"),
                };
            }
            ErrorKind::Forbidden => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            ErrorKind::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
            ErrorKind::NotAcceptable => (StatusCode::NOT_ACCEPTABLE, "NotAcceptable"),
            ErrorKind::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
            ErrorKind::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType"),
            ErrorKind::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RateLimitExceeded"),
            ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "UnexpectedException"),
            ErrorKind::Unsupported { .. } => (StatusCode::NOT_IMPLEMENTED, "NotImplemented"),
            ErrorKind::UpstreamProtocol => (StatusCode::BAD_GATEWAY, "BadGateway"),
            ErrorKind::UpstreamUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
            ErrorKind::UpstreamTimeout => (StatusCode::GATEWAY_TIMEOUT, "GatewayTimeout"),
        };
        Failure { status, errorcode, message: err.public_message() }
    }

    /// GoGrid's answer to a get that matches nothing.
    pub fn no_object_found() -> Failure<'static> {
        Failure {
            status: StatusCode::BAD_REQUEST,
            errorcode: ILLEGAL_ARGUMENT,
            message: Cow::Borrowed(NO_OBJECT_FOUND),
        }
    }
}

/// A reply as read from any of the three formats.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireEnvelope<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub summary: Option<WireSummary<'a>>,
    #[serde(default)]
    pub list: Option<WireList>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireSummary<'a> {
    #[serde(borrow, default)]
    pub total: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub start: Option<Scalar<'a>>,
}

impl WireSummary<'_> {
    pub fn total(&self) -> Option<usize> {
        count(self.total.as_ref())
    }

    pub fn start(&self) -> Option<usize> {
        count(self.start.as_ref())
    }
}

fn count(value: Option<&Scalar<'_>>) -> Option<usize> {
    value.and_then(Scalar::as_i64).and_then(|n| usize::try_from(n).ok())
}

impl WireEnvelope<'_> {
    /// `status: "failure"`, whatever the list holds.
    pub fn is_failure(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("failure"))
    }
}

/// A reply's `list`, read one object at a time: each image becomes a
/// canonical image as it is read, and the first error object is kept for a
/// failure reply.
#[derive(Debug, Default)]
pub(super) struct WireList {
    pub images: Vec<Image>,
    pub error: Option<WireError>,
    /// Why the first object that is no valid image is not one.
    pub invalid: Option<GatewayError>,
}

/// An error object: `{"object":"error","errorcode":…,"message":…}`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct WireError {
    pub errorcode: Option<String>,
    pub message: Option<String>,
}

impl WireList {
    fn push(&mut self, object: WireObject<'_>) {
        if object.object.as_deref() == Some("error") || object.errorcode.is_some() || object.message.is_some() {
            if self.error.is_none() {
                let errorcode = object.errorcode.map(|c| c.into_owned());
                self.error = Some(WireError { errorcode, message: object.message.map(|m| m.into_owned()) });
            }
        } else if self.invalid.is_none() {
            match object.into_image() {
                Ok(image) => self.images.push(image),
                Err(e) => self.invalid = Some(e),
            }
        }
    }
}

impl<'de> Deserialize<'de> for WireList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = WireList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WireList, A::Error> {
        let mut list = WireList::default();
        while let Some(object) = seq.next_element::<WireObject<'de>>()? {
            list.push(object);
        }
        Ok(list)
    }
}
