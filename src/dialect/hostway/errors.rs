//! Hostway error bodies: rendering canonical errors and reading upstream ones.

use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use crate::dialect::write_retry_after;
use crate::dialect::{Reply, UpstreamCall, error_from_status, json_reply, retry_after, text_reply};
use crate::model::{ErrorKind, GatewayError, Resource, Side};

/// The realm announced with a 401.
const REALM: &str = r#"Basic realm="Hostway FlexCloud API""#;

/// WebOb's plain-text 401 body (`HTTPUnauthorized`, no detail): its
/// explanation with the line breaks turned into spaces.
pub(super) const UNAUTHORIZED_BODY: &str = "401 Unauthorized\n\n\
    This server could not verify that you are authorized to access the document you requested.  \
    Either you supplied the wrong credentials (e.g., bad password), or your browser does not \
    understand how to supply the credentials required. \n\n   ";

/// Hostway's own text for a missing resource.
const NOT_FOUND_MESSAGE: &str = "Resource not found";
/// Hostway's own text for a refused resource.
const FORBIDDEN_MESSAGE: &str = "forbidden";

/// The backend name in not-implemented errors read from a Hostway upstream.
const BACKEND: &str = "hostway";

/// The status and fault name a kind is rendered with.
fn fault(kind: &ErrorKind) -> (StatusCode, &'static str) {
    let (status, name) = match kind {
        ErrorKind::NotFound { .. } => (404, "itemNotFound"),
        ErrorKind::BadRequest => (400, "badRequest"),
        ErrorKind::Unauthorized => (401, "unauthorized"),
        ErrorKind::Forbidden => (403, "forbidden"),
        ErrorKind::Conflict => (409, "conflictingRequest"),
        ErrorKind::MethodNotAllowed => (405, "badMethod"),
        ErrorKind::NotAcceptable => (406, "computeFault"),
        ErrorKind::UnsupportedMediaType => (415, "badMediaType"),
        // the Nova v1.1 vocabulary Hostway follows: both limits are `overLimit`
        ErrorKind::PayloadTooLarge => (413, "overLimit"),
        ErrorKind::RateLimited { .. } => (429, "overLimit"),
        ErrorKind::Unsupported { .. } => (501, "notImplemented"),
        ErrorKind::UpstreamUnavailable => (503, "serviceUnavailable"),
        ErrorKind::UpstreamTimeout => (504, "computeFault"),
        ErrorKind::UpstreamProtocol => (502, "computeFault"),
        ErrorKind::Internal => (500, "computeFault"),
    };
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), name)
}

/// The body of a fault: `{"message","code","details","errorid"}`, or for a
/// missing account `{"guid","message","code","details"}`.
struct FaultBody<'a> {
    message: &'a str,
    code: u16,
    id_key: IdKey,
    id: String,
}

/// How a fault names its error: `guid` (missing account, first field) or
/// `errorid` (everything else, last field).
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdKey {
    Guid,
    ErrorId,
}

impl Serialize for FaultBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        if self.id_key == IdKey::Guid {
            map.serialize_entry("guid", &self.id)?;
        }
        map.serialize_entry("message", self.message)?;
        map.serialize_entry("code", &self.code)?;
        map.serialize_entry("details", "")?;
        if self.id_key == IdKey::ErrorId {
            map.serialize_entry("errorid", &self.id)?;
        }
        map.end()
    }
}

/// Renders a canonical error as Hostway does.
pub(super) fn render(err: &GatewayError) -> Reply {
    if err.kind == ErrorKind::Unauthorized {
        return unauthorized();
    }
    let (status, name) = fault(&err.kind);
    let public = err.public_message();
    let message = match &err.kind {
        ErrorKind::NotFound { .. } => NOT_FOUND_MESSAGE,
        ErrorKind::Forbidden => FORBIDDEN_MESSAGE,
        _ => &public,
    };
    let id_key = match &err.kind {
        ErrorKind::NotFound { resource: Resource::Tenant, .. } => IdKey::Guid,
        _ => IdKey::ErrorId,
    };
    let body = FaultBody { message, code: status.as_u16(), id_key, id: uuid::Uuid::new_v4().to_string() };
    let bytes = serde_json::to_vec(&Envelope { name, body }).unwrap_or_default();
    let mut reply = json_reply(status, bytes);
    add_headers(&err.kind, reply.headers_mut());
    reply
}

/// `{"<faultName>": {…}}`
struct Envelope<'a> {
    name: &'static str,
    body: FaultBody<'a>,
}

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.name, &self.body)?;
        map.end()
    }
}

fn unauthorized() -> Reply {
    let mut reply = text_reply(StatusCode::UNAUTHORIZED, UNAUTHORIZED_BODY);
    reply.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    reply
}

fn add_headers(kind: &ErrorKind, headers: &mut HeaderMap) {
    match kind {
        ErrorKind::RateLimited { .. } => write_retry_after(headers, kind),
        ErrorKind::MethodNotAllowed => {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- reading

/// A fault read from an upstream body.
struct Fault<'a> {
    name: &'a str,
    message: &'a str,
    /// The body named the error by `guid`: Hostway's missing-account form.
    guid: bool,
}

/// `{"<faultName>": {"message": …, …}}`, when the body is one.
fn read_fault(value: &Value) -> Option<Fault<'_>> {
    let (name, body) = value.as_object()?.iter().next()?;
    let body = body.as_object()?;
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    Some(Fault { name, message, guid: body.contains_key("guid") && !body.contains_key("errorid") })
}

/// The canonical error for a non-success upstream reply.
pub(super) fn decode(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> GatewayError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    match parsed.as_ref().and_then(read_fault) {
        Some(fault) => from_fault(call, status, headers, &fault),
        // plain-text 401s, HTML from a front proxy, empty bodies
        None => error_from_status(call, status, headers, ""),
    }
}

fn from_fault(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, fault: &Fault<'_>) -> GatewayError {
    let message = tidy(fault.message);
    let kind = match fault.name {
        "itemNotFound" if fault.guid => ErrorKind::NotFound { resource: Resource::Tenant, id: String::new() },
        "itemNotFound" => return not_found(call),
        "badRequest" => ErrorKind::BadRequest,
        "unauthorized" => ErrorKind::Unauthorized,
        "forbidden" => ErrorKind::Forbidden,
        "badMethod" => ErrorKind::MethodNotAllowed,
        "conflictingRequest" | "buildInProgress" => ErrorKind::Conflict,
        "overLimit" => ErrorKind::RateLimited { retry_after: retry_after(headers) },
        "badMediaType" => ErrorKind::UnsupportedMediaType,
        "notImplemented" => ErrorKind::Unsupported { operation: call.name().to_owned(), backend: BACKEND },
        "serviceUnavailable" => ErrorKind::UpstreamUnavailable,
        _ => return error_from_status(call, status, headers, &message),
    };
    let message = match &kind {
        ErrorKind::NotFound { .. } => "account not found".to_owned(),
        _ if message.is_empty() => format!("upstream answered {status}"),
        _ => message,
    };
    GatewayError::new(kind, Side::Upstream, message)
}

fn not_found(call: &UpstreamCall) -> GatewayError {
    match call {
        UpstreamCall::Show(id) => GatewayError::image_not_found(id.as_str()),
        _ => GatewayError::new(
            ErrorKind::NotFound { resource: Resource::Image, id: String::new() },
            Side::Upstream,
            "not found",
        ),
    }
}

/// An upstream message in the gateway's style: lowercase first letter, no
/// trailing period.
fn tidy(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_lowercases_and_drops_the_period() {
        assert_eq!(tidy("Resource not found."), "resource not found");
        assert_eq!(tidy("  "), "");
    }

    #[test]
    fn unauthorized_body_reads_like_webob() {
        let words: Vec<_> = UNAUTHORIZED_BODY.split_whitespace().collect();
        assert_eq!(words[..2], ["401", "Unauthorized"]);
        assert!(UNAUTHORIZED_BODY.starts_with("401 Unauthorized\n\nThis server"));
        assert!(UNAUTHORIZED_BODY.contains("requested.  Either"));
    }
}
