//! Foreman's error bodies: rendered at the edge, read from an upstream.

use std::fmt;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::super::{EdgeCall, EdgeCtx, Reply, UpstreamCall, error_from_status};
use super::Action;
use super::json_reply;
use crate::dialect::ids;
use crate::dialect::write_retry_after;
use crate::model::{ErrorKind, GatewayError, Resource, Side};

/// `class` of a search or order Foreman cannot run.
pub(super) const QUERY_NOT_SUPPORTED: &str = "ScopedSearch::QueryNotSupported";
/// `class` of a parameter that fails apipie's validation.
pub(super) const PARAM_INVALID: &str = "Apipie::ParamInvalid";
/// `class` of a bad request with no Foreman cause.
const BAD_REQUEST: &str = "ActionController::BadRequest";

/// `NoMethodError`'s fixed text (`api/base_controller.rb`), used for every
/// internal error so that no detail leaks.
const INTERNAL: &str = "Internal Server Error: the server was unable to finish the request. This may be caused by \
                        unavailability of some required service, incorrect API call or a server-side bug. There may \
                        be more information in the server's logs.";
/// `unauthorized.json.rabl` with no login known: the login is left blank.
const UNAUTHORIZED: &str = "Unable to authenticate user ";
/// The prefix of the malformed JSON reply (`api/base_controller.rb`).
const JSON_PROBLEM: &str = "There was a problem in the JSON you submitted: ";

/// A Foreman error body, kept as an error's cause: what an upstream said,
/// or what the edge says about a bad parameter. A Foreman edge repeats it
/// as it is while the error's kind is still the one it was read as.
#[derive(Debug)]
pub(super) struct ForemanFault {
    kind: ErrorKind,
    status: StatusCode,
    body: Value,
}

impl fmt::Display for ForemanFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "foreman answered {}: {}", self.status, self.body)
    }
}

impl std::error::Error for ForemanFault {}

/// A 400 in `param_error.json.rabl`'s shape.
pub(super) fn param_error(message: String, class: &'static str, parameter: Option<&'static str>) -> GatewayError {
    let mut error = json!({ "message": message, "class": class });
    if let Some(parameter) = parameter {
        error["parameter_name"] = parameter.into();
    }
    let fault =
        ForemanFault { kind: ErrorKind::BadRequest, status: StatusCode::BAD_REQUEST, body: json!({ "error": error }) };
    GatewayError::bad_request(message).with_cause(fault)
}

/// `unsupported_media_type.json.rabl`: the request's `Content-Type` as
/// it came, blank when there was none.
fn media_type_message(content_type: &str) -> String {
    format!(
        "Media type in 'Content-Type: {content_type}' is unsupported in API v2 for POST and PUT requests. Please use \
         'Content-Type: application/json'."
    )
}

/// A 415 for a create or update whose body is not JSON.
pub(super) fn unsupported_media_type(content_type: &str) -> GatewayError {
    let body = json!({ "error": { "message": media_type_message(content_type) } });
    let fault =
        ForemanFault { kind: ErrorKind::UnsupportedMediaType, status: StatusCode::UNSUPPORTED_MEDIA_TYPE, body };
    let message = format!("a body of media type {content_type:?} is not json");
    GatewayError::new(ErrorKind::UnsupportedMediaType, Side::Downstream, message).with_cause(fault)
}

/// The 400 of a JSON body that does not parse: `{"status":400,"error":…}`,
/// with no `error` object around it.
pub(super) fn malformed_json(problem: &str) -> GatewayError {
    let body = json!({ "status": 400, "error": format!("{JSON_PROBLEM}{problem}") });
    let fault = ForemanFault { kind: ErrorKind::BadRequest, status: StatusCode::BAD_REQUEST, body };
    GatewayError::bad_request(format!("malformed json body: {problem}")).with_cause(fault)
}

/// A 422 in `unprocessable_entity.json.rabl`'s shape for fields with a
/// `problem` ("can't be blank"), each `(parameter, human name)`; `id` is
/// the image's, null for a create.
pub(super) fn unprocessable(id: Option<&str>, fields: &[(&str, &str)], problem: &str) -> GatewayError {
    let errors: serde_json::Map<String, Value> =
        fields.iter().map(|(field, _)| ((*field).to_owned(), json!([problem]))).collect();
    let full_messages: Vec<String> = fields.iter().map(|(_, human)| format!("{human} {problem}")).collect();
    let message = format!("invalid image: {}", full_messages.join("; "));
    let body = json!({ "error": { "id": id.map(ids::integer_id), "errors": errors, "full_messages": full_messages } });
    let fault = ForemanFault { kind: ErrorKind::BadRequest, status: StatusCode::UNPROCESSABLE_ENTITY, body };
    GatewayError::bad_request(message).with_cause(fault)
}

/// A path under a Foreman prefix that no route matches.
pub(super) fn unknown_route(path: &str) -> GatewayError {
    let kind = ErrorKind::NotFound { resource: Resource::Route, id: path.to_owned() };
    GatewayError::new(kind, Side::Downstream, format!("no route matches {path}"))
}

pub(super) fn method_not_allowed(method: &http::Method) -> GatewayError {
    GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, format!("method {method} is not allowed here"))
}

/// Renders an error as Foreman does, a 405 naming the methods of the
/// path the request was for: a list's, or an image's.
pub(super) fn render_for(ctx: &EdgeCtx, err: &GatewayError) -> Reply {
    let mut reply = render(err);
    if err.kind == ErrorKind::MethodNotAllowed {
        let allow = match ctx.call {
            EdgeCall::Foreman(Action::Index | Action::Create) => "GET, HEAD, POST",
            EdgeCall::Foreman(Action::Show | Action::Update | Action::Destroy) => "GET, HEAD, PUT, PATCH, DELETE",
            _ => "GET, HEAD",
        };
        reply.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    reply
}

/// Renders an error as Foreman does.
pub(super) fn render(err: &GatewayError) -> Reply {
    let (status, body) = match repeated_fault(err) {
        Some(fault) => (fault.status, fault.body.clone()),
        None => taken(err).unwrap_or_else(|| (status_of(&err.kind), body_of(err))),
    };
    let mut reply = json_reply(status, serde_json::to_vec(&body).unwrap_or_default());
    let headers = reply.headers_mut();
    match &err.kind {
        ErrorKind::RateLimited { .. } => write_retry_after(headers, &err.kind),
        ErrorKind::MethodNotAllowed => {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        _ => {}
    }
    reply
}

/// The Foreman body an error carries, when it may be repeated: never for
/// internal kinds (details stay in the log), nor for a 401 (it names the
/// gateway's own upstream login).
fn repeated_fault(err: &GatewayError) -> Option<&ForemanFault> {
    if err.kind.is_internal() || err.kind == ErrorKind::Unauthorized {
        return None;
    }
    let fault = err.cause.as_deref()?.downcast_ref::<ForemanFault>()?;
    (fault.kind == err.kind).then_some(fault)
}

/// A value another image already has (see `model::Unique`): the 422 of
/// Foreman's uniqueness validation.
fn taken(err: &GatewayError) -> Option<(StatusCode, Value)> {
    let field = err.message.strip_suffix(" has already been taken").filter(|_| err.kind == ErrorKind::Conflict)?;
    let mut chars = field.chars();
    let human: String = chars.next()?.to_uppercase().chain(chars).collect();
    let body = json!({ "error": {
        "id": null,
        "errors": { field: ["has already been taken"] },
        "full_messages": [format!("{human} has already been taken")],
    } });
    Some((StatusCode::UNPROCESSABLE_ENTITY, body))
}

fn status_of(kind: &ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Foreman's name of a resource, as its not-found message shows it.
fn noun(resource: Resource) -> &'static str {
    match resource {
        Resource::Image => "image",
        Resource::MetadataItem => "metadata item",
        Resource::Server => "server",
        Resource::Tenant => "compute_resource",
        Resource::Route => "route",
        Resource::ApiVersion => "api version",
    }
}

fn body_of(err: &GatewayError) -> Value {
    let message = err.public_message();
    match &err.kind {
        ErrorKind::NotFound { resource: Resource::Route, .. } => wrapped(&message),
        ErrorKind::NotFound { resource, id } => {
            wrapped(&format!("Resource {} not found by id '{id}'", noun(*resource)))
        }
        ErrorKind::BadRequest => json!({ "error": { "message": message, "class": BAD_REQUEST } }),
        // a caller refused at the edge is named; the gateway's own upstream login never is
        ErrorKind::Unauthorized if err.side == Side::Downstream => {
            let login = err.message.strip_prefix("unable to authenticate user ").unwrap_or_default();
            wrapped(&format!("{UNAUTHORIZED}{login}"))
        }
        ErrorKind::Unauthorized => wrapped(UNAUTHORIZED),
        ErrorKind::Forbidden => json!({ "error": { "message": "Access denied", "details": message } }),
        ErrorKind::UnsupportedMediaType => wrapped(&media_type_message("")),
        ErrorKind::Unsupported { operation, backend } => {
            wrapped(&format!("{operation} is not supported by the {backend} backend"))
        }
        ErrorKind::UpstreamUnavailable => json!({ "message": message }),
        ErrorKind::Internal => wrapped(INTERNAL),
        ErrorKind::Conflict
        | ErrorKind::MethodNotAllowed
        | ErrorKind::NotAcceptable
        | ErrorKind::PayloadTooLarge
        | ErrorKind::RateLimited { .. }
        | ErrorKind::UpstreamTimeout
        | ErrorKind::UpstreamProtocol => wrapped(&message),
    }
}

/// `error_layout.json.erb` around a bare message.
fn wrapped(message: &str) -> Value {
    json!({ "error": { "message": message } })
}

/// Reads a Foreman error reply into the canonical error. A JSON body stays
/// attached as the cause; anything else (an HTML page from a front proxy)
/// leaves the status to decide.
pub(super) fn decode(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> GatewayError {
    let parsed = serde_json::from_slice::<Value>(body).ok().filter(Value::is_object);
    let message = parsed.as_ref().map(message_of).unwrap_or_default();
    let mut err = error_from_status(call, status, headers, &message);
    // an update or delete names its image, as a show does
    if let (ErrorKind::NotFound { id, .. }, UpstreamCall::Write(write)) = (&mut err.kind, call)
        && let Some(image) = write.image_id()
    {
        image.as_str().clone_into(id);
    }
    match parsed {
        Some(body) => {
            let kind = err.kind.clone();
            err.with_cause(ForemanFault { kind, status, body })
        }
        None => err,
    }
}

/// The most telling text of an error body: a 422's full messages, a 403's
/// details, the message; `{"error": "…"}` (malformed JSON) and a 503's
/// bare `{"message": …}` too.
fn message_of(body: &Value) -> String {
    match body.get("error") {
        Some(Value::String(text)) => text.clone(),
        Some(error) => full_messages(error)
            .or_else(|| error.get("details").and_then(Value::as_str).filter(|d| !d.is_empty()).map(str::to_owned))
            .or_else(|| error.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default(),
        None => body.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
    }
}

fn full_messages(error: &Value) -> Option<String> {
    let messages: Vec<&str> = error.get("full_messages")?.as_array()?.iter().filter_map(Value::as_str).collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::tests::body_json;
    use super::*;
    use crate::model::ImageId;

    fn rendered(err: &GatewayError) -> (u16, Value) {
        let reply = render(err);
        (reply.status().as_u16(), body_json(reply))
    }

    fn kind(kind: ErrorKind) -> GatewayError {
        GatewayError::new(kind, Side::Upstream, "something broke")
    }

    #[test]
    fn every_kind_renders_in_foreman_shape() {
        let cases = [
            (
                GatewayError::image_not_found("5"),
                404,
                json!({"error": {"message": "Resource image not found by id '5'"}}),
            ),
            (unknown_route("/api/hosts"), 404, json!({"error": {"message": "no route matches /api/hosts"}})),
            (
                GatewayError::bad_request("invalid page"),
                400,
                json!({"error": {"message": "invalid page", "class": "ActionController::BadRequest"}}),
            ),
            (kind(ErrorKind::Unauthorized), 401, json!({"error": {"message": "Unable to authenticate user "}})),
            (
                kind(ErrorKind::Forbidden),
                403,
                json!({"error": {"message": "Access denied", "details": "something broke"}}),
            ),
            (kind(ErrorKind::Conflict), 409, json!({"error": {"message": "something broke"}})),
            (kind(ErrorKind::MethodNotAllowed), 405, json!({"error": {"message": "something broke"}})),
            (kind(ErrorKind::UnsupportedMediaType), 415, json!({"error": {"message": media_type_message("")}})),
            (kind(ErrorKind::PayloadTooLarge), 413, json!({"error": {"message": "something broke"}})),
            (kind(ErrorKind::RateLimited { retry_after: None }), 429, json!({"error": {"message": "something broke"}})),
            (
                GatewayError::unsupported("show image", "gogrid"),
                501,
                json!({"error": {"message": "show image is not supported by the gogrid backend"}}),
            ),
            (kind(ErrorKind::UpstreamUnavailable), 503, json!({"message": "the service is temporarily unavailable"})),
            (
                kind(ErrorKind::UpstreamTimeout),
                504,
                json!({"error": {"message": "the upstream service did not answer in time"}}),
            ),
            (
                kind(ErrorKind::UpstreamProtocol),
                502,
                json!({"error": {"message": "the upstream service gave an invalid response"}}),
            ),
            (kind(ErrorKind::Internal), 500, json!({"error": {"message": INTERNAL}})),
        ];
        for (err, status, body) in cases {
            assert_eq!(rendered(&err), (status, body), "{err}");
        }
    }

    #[test]
    fn rate_limits_say_when_to_retry_and_405_says_what_is_allowed() {
        let reply = render(&kind(ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) }));
        assert_eq!(reply.headers()[header::RETRY_AFTER], "30");
        let reply = render(&method_not_allowed(&http::Method::POST));
        assert_eq!(reply.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(reply.headers()["foreman_api_version"], "2");
    }

    #[test]
    fn param_errors_carry_their_class() {
        let err = param_error("invalid per_page parameter: 0".into(), PARAM_INVALID, Some("per_page"));
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(
            rendered(&err),
            (
                400,
                json!({"error": {
                    "message": "invalid per_page parameter: 0", "class": "Apipie::ParamInvalid", "parameter_name": "per_page"
                }})
            )
        );
    }

    fn decoded(call: &UpstreamCall, status: u16, body: &str) -> GatewayError {
        decode(call, StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn upstream_bodies_decode_to_their_kinds() {
        let show = UpstreamCall::Show(ImageId::new("77"));
        let err = decoded(&show, 404, r#"{"error":{"message":"Resource image not found by id '77'"}}"#);
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "77".into() });
        let err = decoded(&show, 401, r#"{"error":{"message":"Unable to authenticate user admin"}}"#);
        assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::Unauthorized, "Unable to authenticate user admin"));
        let err = decoded(
            &show,
            403,
            r#"{"error":{"message":"Access denied","details":"Missing one of the required permissions: view_images"}}"#,
        );
        assert_eq!(
            (err.kind, err.message.as_ref()),
            (ErrorKind::Forbidden, "Missing one of the required permissions: view_images")
        );
        let err = decoded(&show, 422, r#"{"error":{"id":null,"errors":{},"full_messages":["Name can't be blank"]}}"#);
        assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, "Name can't be blank"));
        let err = decoded(&show, 400, r#"{"status":400,"error":"There was a problem in the JSON you submitted: x"}"#);
        assert_eq!(
            (err.kind, err.message.as_ref()),
            (ErrorKind::BadRequest, "There was a problem in the JSON you submitted: x")
        );
        let err = decoded(&show, 503, r#"{"message":"maintenance mode"}"#);
        assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::UpstreamUnavailable, "maintenance mode"));
        let err = decoded(&show, 500, r#"{"error":{"message":"undefined method"}}"#);
        assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    }

    #[test]
    fn html_and_garbage_fall_back_to_the_status() {
        let list = UpstreamCall::List {
            filter: Default::default(),
            sort: None,
            view: Default::default(),
            start: Default::default(),
            limit: None,
        };
        assert_eq!(decoded(&list, 403, "<html><body>Forbidden</body></html>").kind, ErrorKind::Forbidden);
        assert_eq!(decoded(&list, 401, "<html>").kind, ErrorKind::Unauthorized);
        assert_eq!(decoded(&list, 502, "\u{0}\u{1}garbage").kind, ErrorKind::UpstreamUnavailable);
        assert_eq!(
            decoded(&list, 404, "[]").kind,
            ErrorKind::NotFound { resource: Resource::Image, id: String::new() }
        );
        assert_eq!(decoded(&list, 418, "").kind, ErrorKind::UpstreamProtocol);
    }

    #[test]
    fn foreman_bodies_are_repeated_but_not_logins_or_internals() {
        let show = UpstreamCall::Show(ImageId::new("77"));
        let body = r#"{"error":{"message":"Access denied","details":"d","missing_permissions":["view_images"]}}"#;
        assert_eq!(rendered(&decoded(&show, 403, body)), (403, serde_json::from_str(body).unwrap()));
        let body = r#"{"error":{"message":"Unable to authenticate user admin"}}"#;
        assert_eq!(rendered(&decoded(&show, 401, body)).1, json!({"error": {"message": UNAUTHORIZED}}));
        let body = r#"{"error":{"message":"PG::ConnectionBad at 10.0.0.5"}}"#;
        assert_eq!(rendered(&decoded(&show, 500, body)).0, 502);
        assert!(!rendered(&decoded(&show, 500, body)).1.to_string().contains("10.0.0.5"));
        // a kind changed after reading loses the body
        let mut err = decoded(&show, 403, r#"{"error":{"message":"Access denied","details":"d"}}"#);
        err.kind = ErrorKind::Conflict;
        assert_eq!(rendered(&err), (409, json!({"error": {"message": "d"}})));
    }
}
