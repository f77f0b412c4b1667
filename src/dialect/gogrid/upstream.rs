//! The upstream: us calling a GoGrid API.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;

use super::envelope::{NO_OBJECT_FOUND, WireEnvelope, WireError};
use super::image::{key, state_selecting, type_named};
use super::sign::signature;
use super::{ApiMethod, csv, json, write, xml};
use crate::dialect::{Capabilities, Credentials, Format, Outcome, Paging, Target, UpstreamCall, error_from_status};
use crate::model::{ErrorKind, Filter, GatewayError, ListPage, LookupKey, PageStart, Resource, Side, WriteOp};

/// The API version asked for: the last one, which has every parameter used
/// here (`datacenter` came in 1.5).
const API_VERSION: &str = "1.9";

pub(super) fn capabilities() -> Capabilities {
    Capabilities { paging: Paging::PageNumber, max_page: 1000, reports_total: true, get_many: true, sort_fields: &[] }
}

/// Native: `isPublic`, `image.state` (Available, Deleted, Trash: canonical
/// Saving is two GoGrid states), one `gogrid.type` of the vocabulary
/// (`image.type`) and `zone` (`datacenter`). Everything else is residual.
pub(super) fn split_filter(filter: &Filter) -> (Filter, Filter) {
    let mut residual = filter.clone();
    let mut native = Filter { public: residual.public.take(), zone: residual.zone.take(), ..Filter::default() };
    if residual.status.and_then(state_selecting).is_some() {
        native.status = residual.status.take();
    }
    let kind = residual.extra.iter().position(|(k, v)| k == key::TYPE && type_named(v).is_some_and(|t| t.name == v));
    if let Some(i) = kind {
        native.extra.push(residual.extra.remove(i));
    }
    (native, residual)
}

fn format_param(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Json => ("json", "application/json"),
        Format::Xml => ("xml", "application/xml"),
        Format::Csv => ("csv", "text/csv"),
    }
}

pub(super) fn encode(call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
    let (format, accept) = format_param(target.format);
    let mut query = url::form_urlencoded::Serializer::new(String::with_capacity(128));
    match target.credentials {
        Credentials::GoGrid { api_key, secret } => {
            query.append_pair("api_key", api_key);
            query.append_pair("sig", &signature(api_key, secret, target.now));
        }
        Credentials::None => {}
        Credentials::Basic { .. } | Credentials::Token(_) => {
            return Err(GatewayError::internal("a gogrid upstream needs gogrid credentials (api_key and secret)"));
        }
    }
    query.append_pair("v", API_VERSION).append_pair("format", format);
    let method = match call {
        UpstreamCall::Show(id) => {
            query.append_pair("id", id.as_str());
            ApiMethod::Get
        }
        UpstreamCall::GetMany(get) => {
            if get.values.is_empty() {
                return Err(GatewayError::internal("a gogrid get needs at least one id or name"));
            }
            let name = lookup_param(get.key);
            for value in &get.values {
                query.append_pair(name, value);
            }
            ApiMethod::Get
        }
        UpstreamCall::List { filter, start, limit, .. } => {
            list_params(&mut query, filter, start, *limit)?;
            ApiMethod::List
        }
        UpstreamCall::Write(op) => write::encode(op, &mut query)?,
    };
    let uri = format!("{}/api{}?{}", target.base, method.name(), query.finish());
    http::Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::ACCEPT, accept)
        .body(Bytes::new())
        .map_err(|e| GatewayError::internal("invalid gogrid upstream url").with_cause(e))
}

fn lookup_param(key: LookupKey) -> &'static str {
    match key {
        LookupKey::Id => "id",
        LookupKey::Name => "name",
        LookupKey::IdOrName => "image",
    }
}

/// Filters and paging of a list. Sorting is never sent: GoGrid cannot sort,
/// the capabilities say so and the gateway sorts.
fn list_params(
    query: &mut url::form_urlencoded::Serializer<'_, String>,
    filter: &Filter,
    start: &PageStart,
    limit: Option<usize>,
) -> Result<(), GatewayError> {
    if let Some(public) = filter.public {
        query.append_pair("isPublic", if public { "true" } else { "false" });
    }
    if let Some(state) = filter.status.and_then(state_selecting) {
        query.append_pair("image.state", state);
    }
    if let Some((_, kind)) = filter.extra.iter().find(|(k, _)| k == key::TYPE) {
        query.append_pair("image.type", kind);
    }
    if let Some(zone) = &filter.zone {
        query.append_pair("datacenter", zone);
    }
    let page = match (start, limit) {
        (_, Some(0)) => return Err(GatewayError::unsupported("list images with a page size of 0", "gogrid")),
        (PageStart::First, None) => None,
        (PageStart::Offset(0), None) => None,
        (PageStart::First, Some(size)) => Some((size, 0)),
        (PageStart::Offset(offset), Some(size)) if offset % size == 0 => Some((size, offset / size)),
        (PageStart::Offset(_), _) => {
            return Err(GatewayError::internal("gogrid pages start at a multiple of the page size"));
        }
        (PageStart::After(_), _) => return Err(GatewayError::internal("gogrid lists page by number, not by marker")),
    };
    if let Some((size, number)) = page {
        query.append_pair("num_items", &size.to_string()).append_pair("page", &number.to_string());
    }
    Ok(())
}

/// What a reply body is, by its content type or else its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Xml,
    Csv,
    Html,
    Other,
}

fn body_kind(headers: &HeaderMap, body: &[u8]) -> BodyKind {
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let start = body.trim_ascii_start();
    let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
    let looks_html = || {
        let head = &start[..start.len().min(15)];
        head.to_ascii_lowercase().starts_with(b"<!doctype html") || head.to_ascii_lowercase().starts_with(b"<html")
    };
    if declared.contains("html") || looks_html() {
        BodyKind::Html
    } else if declared.contains("json") {
        BodyKind::Json
    } else if declared.contains("xml") {
        BodyKind::Xml
    } else if declared.contains("csv") {
        BodyKind::Csv
    } else {
        match start.first() {
            Some(b'{') => BodyKind::Json,
            Some(b'<') => BodyKind::Xml,
            Some(b'#') => BodyKind::Csv,
            _ => BodyKind::Other,
        }
    }
}

pub(super) fn decode(
    call: &UpstreamCall,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Outcome, GatewayError> {
    let tree = match body_kind(headers, body) {
        BodyKind::Json => {
            return match json::envelope(body) {
                Ok(envelope) => outcome(call, status, headers, envelope),
                Err(e) => Err(unreadable(call, status, headers, &e)),
            };
        }
        BodyKind::Xml => xml::to_value(body),
        BodyKind::Csv => csv::to_value(body),
        BodyKind::Html | BodyKind::Other => return Err(unreadable(call, status, headers, "not a gogrid reply")),
    };
    let tree: Value = tree.map_err(|e| unreadable(call, status, headers, &e))?;
    match WireEnvelope::deserialize(&tree) {
        Ok(envelope) => outcome(call, status, headers, envelope),
        Err(e) => Err(unreadable(call, status, headers, &e.to_string())),
    }
}

/// A body that is no GoGrid envelope: the status decides, and a success
/// status with such a body is a protocol error.
fn unreadable(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, why: &str) -> GatewayError {
    if status.is_success() {
        GatewayError::upstream_protocol(format!("unreadable gogrid reply: {why}"))
    } else {
        failure(call, status, headers, None)
    }
}

fn outcome(
    call: &UpstreamCall,
    status: StatusCode,
    headers: &HeaderMap,
    envelope: WireEnvelope<'_>,
) -> Result<Outcome, GatewayError> {
    if envelope.is_failure() || !status.is_success() {
        return Err(failure(call, status, headers, envelope.list.as_ref().and_then(|l| l.error.as_ref())));
    }
    let list = envelope.list.ok_or_else(|| GatewayError::upstream_protocol("gogrid reply without a list"))?;
    if let Some(invalid) = list.invalid {
        return Err(invalid);
    }
    let summary = envelope.summary.unwrap_or_default();
    let images = list.images;
    match call {
        UpstreamCall::Show(id) => {
            images.into_iter().next().map(Outcome::Image).ok_or_else(|| GatewayError::image_not_found(id.as_str()))
        }
        UpstreamCall::GetMany(_) => Ok(Outcome::Images(images)),
        UpstreamCall::Write(op) => images.into_iter().next().map(Outcome::Image).ok_or_else(|| {
            let method = write::method_of(op).map_or("", ApiMethod::name);
            GatewayError::upstream_protocol(format!("the gogrid reply to {method} holds no image"))
        }),
        UpstreamCall::List { limit, .. } => {
            let offset = summary.start().unwrap_or(0);
            let matched = summary.total();
            // without num_items GoGrid sends every image: nothing follows
            let more = limit.is_some() && matched.is_some_and(|total| offset + images.len() < total);
            Ok(Outcome::List(ListPage { images, offset: Some(offset), matched, total: None, more }))
        }
    }
}

/// The id a not-found error names: the call's one, or its values joined.
fn looked_up(call: &UpstreamCall) -> String {
    match call {
        UpstreamCall::Show(id) => id.as_str().to_owned(),
        UpstreamCall::GetMany(get) => get.values.join(","),
        UpstreamCall::List { .. } => String::new(),
        UpstreamCall::Write(write) => write.image_id().map(ToString::to_string).unwrap_or_default(),
    }
}

/// GoGrid's "No object found": the image looked up, or for a save the
/// server it names.
fn not_found(call: &UpstreamCall) -> GatewayError {
    let (resource, id) = match call {
        UpstreamCall::Write(WriteOp::Snapshot(snapshot)) => (Resource::Server, snapshot.server_id.clone()),
        _ => (Resource::Image, looked_up(call)),
    };
    let noun = if resource == Resource::Server { "server" } else { "image" };
    let text = if id.is_empty() { format!("no {noun} matches") } else { format!("{noun} {id} not found") };
    GatewayError::new(ErrorKind::NotFound { resource, id }, Side::Upstream, text)
}

/// The text GoGrid gave, as a message part: trimmed, without its period.
fn detail(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    if message.is_empty() { "no reason given".to_owned() } else { message.to_owned() }
}

/// The canonical error of a failure reply or a non-success status (the
/// table is in the module docs).
fn failure(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, error: Option<&WireError>) -> GatewayError {
    let message = error.and_then(|e| e.message.as_deref()).unwrap_or("");
    let errorcode = error.and_then(|e| e.errorcode.as_deref());
    if message.starts_with(NO_OBJECT_FOUND.trim_end_matches('.')) {
        return not_found(call);
    }
    let kind = match (status.as_u16(), errorcode) {
        (400, _) | (200..=299, Some("IllegalArgumentException")) => ErrorKind::BadRequest,
        (401, _) => ErrorKind::Forbidden,
        (403, _) => ErrorKind::Unauthorized,
        (404, _) => ErrorKind::Unsupported { operation: call.name().to_owned(), backend: "gogrid" },
        (500, _) | (200..=299, Some("UnexpectedException")) => ErrorKind::UpstreamUnavailable,
        (200..=299, _) => ErrorKind::UpstreamProtocol,
        _ => return error_from_status(call, status, headers, message),
    };
    let text = match &kind {
        ErrorKind::BadRequest => format!("the gogrid upstream rejected the request: {}", detail(message)),
        ErrorKind::Forbidden => format!("the gogrid api key may not {}: {}", call.name(), detail(message)),
        ErrorKind::Unauthorized => format!("the gogrid upstream refused the credentials: {}", detail(message)),
        ErrorKind::Unsupported { .. } => format!("the gogrid upstream has no method for {}", call.name()),
        _ => format!("the gogrid upstream failed ({status}): {}", detail(message)),
    };
    GatewayError::new(kind, Side::Upstream, text)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{GetMany, Image, ImageId, ImagePatch, ImageStatus, Snapshot, Sort, SortField, View};

    const KEY: &str = "identity";
    const SECRET: &str = "credential";
    const NOW: i64 = 1_234_567_890;

    fn target<'a>(credentials: &'a Credentials, format: Format) -> Target<'a> {
        Target { base: "https://api.gogrid.example", scope: "", credentials, now: NOW, format }
    }

    fn credentials() -> Credentials {
        Credentials::GoGrid { api_key: KEY.into(), secret: SECRET.into() }
    }

    fn url(call: &UpstreamCall) -> String {
        let credentials = credentials();
        let request = encode(call, &target(&credentials, Format::Json)).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.headers()[header::ACCEPT], "application/json");
        assert!(request.body().is_empty());
        request.uri().to_string()
    }

    fn list_call(filter: Filter, start: PageStart, limit: Option<usize>) -> UpstreamCall {
        UpstreamCall::List { filter, sort: None, view: View::Detail, start, limit }
    }

    /// `sig` is md5("identitycredential1234567890").
    const AUTH: &str = "api_key=identity&sig=334a533f50e9db554a43550c95674aab&v=1.9&format=json";

    #[test]
    fn capabilities_are_page_numbers_with_totals() {
        assert_eq!(
            capabilities(),
            Capabilities {
                paging: Paging::PageNumber,
                max_page: 1000,
                reports_total: true,
                get_many: true,
                sort_fields: &[],
            }
        );
    }

    #[test]
    fn split_keeps_what_gogrid_filters() {
        let filter = Filter {
            name: Some("n".into()),
            public: Some(false),
            status: Some(ImageStatus::Trashed),
            zone: Some("US-East-1".into()),
            os: Some("CentOS".into()),
            extra: vec![("gogrid.type".into(), "Database Server".into()), ("gogrid.location".into(), "x".into())],
            ..Filter::default()
        };
        let (native, residual) = split_filter(&filter);
        assert_eq!(
            native,
            Filter {
                public: Some(false),
                status: Some(ImageStatus::Trashed),
                zone: Some("US-East-1".into()),
                extra: vec![("gogrid.type".into(), "Database Server".into())],
                ..Filter::default()
            }
        );
        assert_eq!(
            residual,
            Filter {
                name: Some("n".into()),
                os: Some("CentOS".into()),
                extra: vec![("gogrid.location".into(), "x".into())],
                ..Filter::default()
            }
        );
    }

    #[test]
    fn split_leaves_statuses_and_types_gogrid_cannot_select() {
        for status in [ImageStatus::Saving, ImageStatus::Error, ImageStatus::Unknown] {
            let filter = Filter { status: Some(status), ..Filter::default() };
            assert_eq!(split_filter(&filter), (Filter::default(), filter.clone()), "{status:?}");
        }
        let filter = Filter { extra: vec![("gogrid.type".into(), "web server".into())], ..Filter::default() };
        assert_eq!(split_filter(&filter), (Filter::default(), filter.clone()));
    }

    #[test]
    fn list_request_with_filters_and_page() {
        let filter = Filter {
            public: Some(true),
            status: Some(ImageStatus::Active),
            zone: Some("US West/1".into()),
            extra: vec![("gogrid.type".into(), "Web Server".into())],
            ..Filter::default()
        };
        assert_eq!(
            url(&list_call(filter, PageStart::Offset(10), Some(5))),
            format!(
                "https://api.gogrid.example/api/grid/image/list?{AUTH}&isPublic=true&image.state=Available\
                 &image.type=Web+Server&datacenter=US+West%2F1&num_items=5&page=2"
            )
        );
    }

    #[test]
    fn list_request_without_page() {
        assert_eq!(
            url(&list_call(Filter::default(), PageStart::First, None)),
            format!("https://api.gogrid.example/api/grid/image/list?{AUTH}")
        );
        assert_eq!(
            url(&list_call(Filter::default(), PageStart::First, Some(100))),
            format!("https://api.gogrid.example/api/grid/image/list?{AUTH}&num_items=100&page=0")
        );
    }

    #[test]
    fn list_requests_gogrid_cannot_express() {
        let credentials = credentials();
        let target = target(&credentials, Format::Json);
        let cases = [
            (PageStart::Offset(7), Some(5), ErrorKind::Internal),
            (PageStart::Offset(5), None, ErrorKind::Internal),
            (PageStart::After(ImageId::new("3")), Some(5), ErrorKind::Internal),
        ];
        for (start, limit, kind) in cases {
            assert_eq!(
                encode(&list_call(Filter::default(), start.clone(), limit), &target).unwrap_err().kind,
                kind,
                "{start:?}"
            );
        }
        let err = encode(&list_call(Filter::default(), PageStart::First, Some(0)), &target).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Unsupported { backend: "gogrid", .. }));
    }

    #[test]
    fn sorting_is_left_to_the_gateway() {
        let call = UpstreamCall::List {
            filter: Filter::default(),
            sort: Some(Sort { field: SortField::Name, descending: true }),
            view: View::Summary,
            start: PageStart::First,
            limit: None,
        };
        assert_eq!(url(&call), format!("https://api.gogrid.example/api/grid/image/list?{AUTH}"));
    }

    #[test]
    fn show_and_get_many_requests() {
        assert_eq!(
            url(&UpstreamCall::Show(ImageId::new("250"))),
            format!("https://api.gogrid.example/api/grid/image/get?{AUTH}&id=250")
        );
        let get = |key, values: &[&str]| {
            UpstreamCall::GetMany(GetMany {
                key,
                values: values.iter().map(|v| v.to_string()).collect(),
                shown_name: None,
            })
        };
        assert_eq!(
            url(&get(LookupKey::IdOrName, &["65413", "GSI-a&b c/d?e#f"])),
            format!("https://api.gogrid.example/api/grid/image/get?{AUTH}&image=65413&image=GSI-a%26b+c%2Fd%3Fe%23f")
        );
        assert_eq!(
            url(&get(LookupKey::Name, &["n"])),
            format!("https://api.gogrid.example/api/grid/image/get?{AUTH}&name=n")
        );
        assert_eq!(
            url(&get(LookupKey::Id, &["1"])),
            format!("https://api.gogrid.example/api/grid/image/get?{AUTH}&id=1")
        );
    }

    #[test]
    fn format_and_base_prefix() {
        let credentials = Credentials::None;
        let mut target = target(&credentials, Format::Xml);
        target.base = "http://10.0.0.5:8080/gogrid";
        let request = encode(&UpstreamCall::Show(ImageId::new("1")), &target).unwrap();
        assert_eq!(request.uri(), "http://10.0.0.5:8080/gogrid/api/grid/image/get?v=1.9&format=xml&id=1");
        assert_eq!(request.headers()[header::ACCEPT], "application/xml");
        target.format = Format::Csv;
        let request = encode(&UpstreamCall::Show(ImageId::new("1")), &target).unwrap();
        assert_eq!(request.headers()[header::ACCEPT], "text/csv");
    }

    #[test]
    fn other_credentials_cannot_sign() {
        let credentials = Credentials::Token("t".into());
        let err = encode(&UpstreamCall::Show(ImageId::new("1")), &target(&credentials, Format::Json)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal);
    }

    fn decode_json(call: &UpstreamCall, status: u16, body: &str) -> Result<Outcome, GatewayError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        decode(call, StatusCode::from_u16(status).unwrap(), &headers, body.as_bytes())
    }

    fn show() -> UpstreamCall {
        UpstreamCall::Show(ImageId::new("250"))
    }

    const IMAGE: &str = r#"{"id": 250, "friendlyName": "n", "state": {"id": 2, "name": "Available"}}"#;

    #[test]
    fn list_replies_become_pages() {
        let body = format!(
            r#"{{"list": [{IMAGE}, {IMAGE}], "method": "/grid/image/list", "status": "success",
                "summary": {{"numpages": 8, "returned": 2, "start": 10, "total": 39}}}}"#
        );
        let call = list_call(Filter::default(), PageStart::Offset(10), Some(5));
        let Ok(Outcome::List(page)) = decode_json(&call, 200, &body) else { panic!("not a list") };
        assert_eq!(
            (page.images.len(), page.offset, page.matched, page.total, page.more),
            (2, Some(10), Some(39), None, true)
        );
        let unpaged = list_call(Filter::default(), PageStart::First, None);
        let Ok(Outcome::List(page)) = decode_json(&unpaged, 200, &body) else { panic!("not a list") };
        assert!(!page.more);
    }

    #[test]
    fn show_and_get_replies() {
        let body = format!(r#"{{"list": [{IMAGE}], "status": "success", "method": "/grid/image/get"}}"#);
        let Ok(Outcome::Image(image)) = decode_json(&show(), 200, &body) else { panic!("not an image") };
        assert_eq!((image.id.as_str(), image.name.as_str(), image.status), ("250", "n", ImageStatus::Active));
        let many = UpstreamCall::GetMany(GetMany { key: LookupKey::Id, values: vec!["250".into()], shown_name: None });
        assert!(matches!(decode_json(&many, 200, &body), Ok(Outcome::Images(v)) if v.len() == 1));
        let empty = r#"{"list": [], "status": "success"}"#;
        assert_eq!(
            decode_json(&show(), 200, empty).unwrap_err().kind,
            ErrorKind::NotFound { resource: Resource::Image, id: "250".into() }
        );
        assert!(matches!(decode_json(&many, 200, empty), Ok(Outcome::Images(v)) if v.is_empty()));
    }

    fn failure_body(errorcode: &str, message: &str) -> String {
        format!(
            r#"{{"list":[{{"object":"error","message":"{message}","errorcode":"{errorcode}"}}],
                "summary":{{"total":1,"start":0,"returned":1}},"status":"failure","method":"/grid/image/get"}}"#
        )
    }

    #[test]
    fn not_found_names_what_was_looked_up() {
        let body = failure_body("IllegalArgumentException", "No object found that matches your input criteria.");
        let err = decode_json(&show(), 400, &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "250".into() });
        assert_eq!(err.message, "image 250 not found");
        let many = UpstreamCall::GetMany(GetMany {
            key: LookupKey::Name,
            values: vec!["a".into(), "b".into()],
            shown_name: None,
        });
        assert_eq!(
            decode_json(&many, 400, &body).unwrap_err().kind,
            ErrorKind::NotFound { resource: Resource::Image, id: "a,b".into() }
        );
        // the deltacloud capture: no method, no summary, no object
        let bare = r#"{"status":"failure","list":[{"errorcode":"IllegalArgumentException","message":"No object found that matches your input criteria."}]}"#;
        assert_eq!(
            decode_json(&show(), 400, bare).unwrap_err().kind,
            ErrorKind::NotFound { resource: Resource::Image, id: "250".into() }
        );
    }

    #[test]
    fn failure_statuses() {
        let cases = [
            (
                400,
                "IllegalArgumentException",
                "Invalid value for num_items.",
                ErrorKind::BadRequest,
                "the gogrid upstream rejected the request: Invalid value for num_items",
            ),
            (
                401,
                "Unauthorized",
                "Access denied",
                ErrorKind::Forbidden,
                "the gogrid api key may not show image: Access denied",
            ),
            (
                403,
                "AuthenticationFailed",
                "Bad signature",
                ErrorKind::Unauthorized,
                "the gogrid upstream refused the credentials: Bad signature",
            ),
            (
                404,
                "NotFound",
                "",
                ErrorKind::Unsupported { operation: "show image".into(), backend: "gogrid" },
                "the gogrid upstream has no method for show image",
            ),
            (
                500,
                "UnexpectedException",
                "An unexpected server error has occured.",
                ErrorKind::UpstreamUnavailable,
                "the gogrid upstream failed (500 Internal Server Error): An unexpected server error has occured",
            ),
            (
                200,
                "IllegalArgumentException",
                "bad",
                ErrorKind::BadRequest,
                "the gogrid upstream rejected the request: bad",
            ),
            (
                200,
                "UnexpectedException",
                "",
                ErrorKind::UpstreamUnavailable,
                "the gogrid upstream failed (200 OK): no reason given",
            ),
            (200, "Whatever", "odd", ErrorKind::UpstreamProtocol, "the gogrid upstream failed (200 OK): odd"),
            (503, "ServiceUnavailable", "down", ErrorKind::UpstreamUnavailable, "down"),
            (504, "GatewayTimeout", "slow", ErrorKind::UpstreamTimeout, "slow"),
        ];
        for (status, errorcode, message, kind, text) in cases {
            let err = decode_json(&show(), status, &failure_body(errorcode, message)).unwrap_err();
            assert_eq!(
                (err.kind, err.message.as_ref(), err.side),
                (kind, text, Side::Upstream),
                "{status} {errorcode}"
            );
        }
    }

    #[test]
    fn rate_limits_keep_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, "12".parse().unwrap());
        let body = failure_body("RateLimitExceeded", "slow down");
        let err = decode(&show(), StatusCode::TOO_MANY_REQUESTS, &headers, body.as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(12)) });
    }

    #[test]
    fn html_and_garbage_bodies() {
        let html = b"<html><head><title>403 Developer Inactive</title></head><body>Forbidden</body></html>";
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
        let status_kind = |status: u16, headers: &HeaderMap, body: &[u8]| {
            decode(&show(), StatusCode::from_u16(status).unwrap(), headers, body).unwrap_err().kind
        };
        assert_eq!(status_kind(403, &headers, html), ErrorKind::Unauthorized);
        assert_eq!(status_kind(401, &headers, html), ErrorKind::Forbidden);
        assert_eq!(status_kind(502, &headers, html), ErrorKind::UpstreamUnavailable);
        assert_eq!(status_kind(200, &headers, html), ErrorKind::UpstreamProtocol);
        let none = HeaderMap::new();
        assert_eq!(status_kind(403, &none, html), ErrorKind::Unauthorized);
        assert_eq!(status_kind(200, &none, b"\x00\xffgarbage"), ErrorKind::UpstreamProtocol);
        assert_eq!(status_kind(200, &none, b"{\"list\": 5}"), ErrorKind::UpstreamProtocol);
        assert_eq!(status_kind(200, &none, b"{\"status\": \"success\"}"), ErrorKind::UpstreamProtocol);
        assert_eq!(
            status_kind(200, &none, b"{\"list\": [{\"friendlyName\": \"no id\"}]}"),
            ErrorKind::UpstreamProtocol
        );
        assert_eq!(status_kind(200, &none, b"<gogrid><response"), ErrorKind::UpstreamProtocol);
        assert_eq!(status_kind(200, &none, b""), ErrorKind::UpstreamProtocol);
        assert_eq!(status_kind(503, &none, b""), ErrorKind::UpstreamUnavailable);
        assert_eq!(status_kind(400, &none, b"oops"), ErrorKind::BadRequest);
    }

    #[test]
    fn xml_and_csv_error_bodies() {
        let xml = br#"<gogrid><response method="/grid/image/get" status="failure"><summary total="1" start="0" returned="1"/>
            <list><object name="error"><attribute name="errorcode">IllegalArgumentException</attribute>
            <attribute name="message">No object found that matches your input criteria.</attribute></object></list></response></gogrid>"#;
        let csv = b"# FAILURE, /grid/image/get, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1\n# errorcode,message\n\
            IllegalArgumentException,No object found that matches your input criteria.,\n";
        for body in [&xml[..], &csv[..]] {
            let err = decode(&show(), StatusCode::BAD_REQUEST, &HeaderMap::new(), body).unwrap_err();
            assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "250".into() });
        }
    }

    fn write_call(op: WriteOp) -> UpstreamCall {
        UpstreamCall::Write(op)
    }

    fn save_call(description: Option<&str>) -> UpstreamCall {
        write_call(WriteOp::Snapshot(Snapshot {
            server_id: "serverName".into(),
            name: "friendly".into(),
            description: description.map(Into::into),
            ..Snapshot::default()
        }))
    }

    #[test]
    fn write_requests_are_signed_gets() {
        let base = "https://api.gogrid.example/api/grid/image";
        let rename = ImagePatch { name: Some("new name".into()), ..ImagePatch::default() };
        let cases = [
            (
                save_call(Some("fooy")),
                format!("{base}/save?{AUTH}&friendlyName=friendly&server=serverName&description=fooy"),
            ),
            (save_call(None), format!("{base}/save?{AUTH}&friendlyName=friendly&server=serverName")),
            (
                write_call(WriteOp::Update { id: ImageId::new("5050"), patch: rename }),
                format!("{base}/edit?{AUTH}&id=5050&friendlyName=new+name"),
            ),
            (
                write_call(WriteOp::Update { id: ImageId::new("5050"), patch: ImagePatch::default() }),
                format!("{base}/get?{AUTH}&id=5050"),
            ),
            (
                write_call(WriteOp::Delete { id: ImageId::new("11"), trash: false }),
                format!("{base}/delete?{AUTH}&id=11"),
            ),
            (write_call(WriteOp::Restore(ImageId::new("195"))), format!("{base}/restore?{AUTH}&id=195")),
        ];
        for (call, expected) in cases {
            assert_eq!(url(&call), expected);
        }
    }

    #[test]
    fn writes_gogrid_cannot_store_are_never_sent() {
        let credentials = credentials();
        let target = target(&credentials, Format::Json);
        let patch = ImagePatch { description: Some("d".into()), os: Some("CentOS".into()), ..ImagePatch::default() };
        let err = encode(&write_call(WriteOp::Update { id: ImageId::new("1"), patch }), &target).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Unsupported { operation: "update an image setting os".into(), backend: "gogrid" }
        );
        let err = encode(&write_call(WriteOp::Register(Image::default(), Vec::new())), &target).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported { operation: "register an image".into(), backend: "gogrid" });
    }

    const SAVED: &str = r#"{"list": [{"id": 5050, "friendlyName": "testimage", "object": "serverimage",
        "state": {"description": "Image is being saved", "id": 1, "name": "Saving", "object": "option"}}],
        "method": "/grid/image/save", "status": "success",
        "summary": {"numpages": 0, "returned": 1, "start": 0, "total": 1}}"#;

    #[test]
    fn write_replies_become_the_image() {
        let Ok(Outcome::Image(image)) = decode_json(&save_call(None), 200, SAVED) else { panic!("not an image") };
        assert_eq!((image.id.as_str(), image.name.as_str(), image.status), ("5050", "testimage", ImageStatus::Saving));
        let xml = br#"<gogrid><response method="/grid/image/delete" status="success"><summary total="1" start="0" numpages="0" returned="1"/>
            <list><object name="image"><attribute name="id">11</attribute><attribute name="friendlyName">gone</attribute>
            <attribute name="state"><object name="option"><attribute name="id">4</attribute><attribute name="name">Trash</attribute>
            <attribute name="description">Image is marked for deletion</attribute></object></attribute></object></list></response></gogrid>"#;
        let delete = write_call(WriteOp::Delete { id: ImageId::new("11"), trash: true });
        let Ok(Outcome::Image(image)) = decode(&delete, StatusCode::OK, &HeaderMap::new(), xml) else {
            panic!("not an image")
        };
        assert_eq!((image.id.as_str(), image.status), ("11", ImageStatus::Trashed));
        let csv = b"# SUCCESS, /grid/image/restore, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1\n\
            # id,friendlyName,state.id,state.name\n195,iis-saved,2,Available\n";
        let restore = write_call(WriteOp::Restore(ImageId::new("195")));
        let Ok(Outcome::Image(image)) = decode(&restore, StatusCode::OK, &HeaderMap::new(), csv) else {
            panic!("not an image")
        };
        assert_eq!((image.id.as_str(), image.name.as_str(), image.status), ("195", "iis-saved", ImageStatus::Active));
    }

    #[test]
    fn write_replies_without_the_image_are_protocol_errors() {
        let empty = r#"{"list": [], "status": "success", "method": "/grid/image/edit"}"#;
        let patch = ImagePatch { public: Some(true), ..ImagePatch::default() };
        let err = decode_json(&write_call(WriteOp::Update { id: ImageId::new("1"), patch }), 200, empty).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_ref()),
            (ErrorKind::UpstreamProtocol, "the gogrid reply to /grid/image/edit holds no image")
        );
    }

    #[test]
    fn write_failures() {
        let none = failure_body("IllegalArgumentException", "No object found that matches your input criteria.");
        let err = decode_json(&save_call(None), 400, &none).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Server, id: "serverName".into() });
        assert_eq!(err.message, "server serverName not found");
        let restore = write_call(WriteOp::Restore(ImageId::new("195")));
        let err = decode_json(&restore, 400, &none).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "195".into() });
        let refused = failure_body("IllegalArgumentException", "Image is not in the trash.");
        let err = decode_json(&restore, 400, &refused).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_ref()),
            (ErrorKind::BadRequest, "the gogrid upstream rejected the request: Image is not in the trash")
        );
        let err = decode_json(&restore, 401, &failure_body("Unauthorized", "Read Only role")).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_ref()),
            (ErrorKind::Forbidden, "the gogrid api key may not restore an image: Read Only role")
        );
    }
}
