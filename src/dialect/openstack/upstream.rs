//! The upstream half: requests to a Nova image proxy and its replies read
//! back into the model, error bodies included.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use super::clock::IsoPrecise;
use super::wire::{ListBody, ShowBody, status_word};
use super::{EXTRA_IMAGE_TYPE, MAX_LIMIT};
use crate::dialect::{
    Capabilities, Credentials, Outcome, Paging, Target, UpstreamCall, error_from_status, percent_encode_segment,
};
use crate::model::{ErrorKind, Filter, GatewayError, ImageStatus, ListPage, PageStart, View};

const BACKEND: &str = "openstack";

pub fn capabilities() -> Capabilities {
    Capabilities {
        paging: Paging::Marker,
        max_page: MAX_LIMIT,
        reports_total: false,
        get_many: false,
        sort_fields: &[],
    }
}

/// Nova filters by name, status, changes-since, minRam, minDisk, server and
/// type. Of the statuses only ACTIVE and DELETED are exact: Nova hands the
/// word to Glance lower-cased, so `SAVING` would miss queued images.
pub fn split_filter(filter: &Filter) -> (Filter, Filter) {
    let mut residual = filter.clone();
    let native_type = residual.extra.iter().position(|(k, _)| k == EXTRA_IMAGE_TYPE).map(|i| residual.extra.remove(i));
    let native = Filter {
        name: residual.name.take(),
        status: residual.status.take_if(|s| matches!(s, ImageStatus::Active | ImageStatus::Deleted)),
        changed_since: residual.changed_since.take(),
        min_ram_mb: residual.min_ram_mb.take(),
        min_disk_gb: residual.min_disk_gb.take(),
        server_id: residual.server_id.take(),
        extra: native_type.into_iter().collect(),
        ..Filter::default()
    };
    (native, residual)
}

pub fn request(call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
    let mut url = String::with_capacity(target.base.len() + 96);
    url.push_str(target.base);
    url.push_str("/v2.1");
    if !target.scope.is_empty() {
        url.push('/');
        url.push_str(&percent_encode_segment(target.scope));
    }
    url.push_str("/images");
    match call {
        UpstreamCall::Show(id) => {
            url.push('/');
            url.push_str(&percent_encode_segment(id.as_str()));
        }
        UpstreamCall::List { filter, sort, view, start, limit } => {
            if sort.is_some() {
                return Err(GatewayError::unsupported("sorted image lists", BACKEND));
            }
            if *view == View::Detail {
                url.push_str("/detail");
            }
            let query = list_query(filter, start, *limit)?;
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query);
            }
        }
        UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => {
            return Err(GatewayError::unsupported(call.name(), BACKEND));
        }
    }
    let mut req = http::Request::builder()
        .method(Method::GET)
        .uri(url)
        .header(header::ACCEPT, "application/json")
        .body(Bytes::new())
        .map_err(|e| GatewayError::internal(format!("building an openstack request failed: {e}")))?;
    if let Some(token) = auth_token(target.credentials)? {
        req.headers_mut().insert("x-auth-token", token);
    }
    Ok(req)
}

/// `X-Auth-Token`, the only credential Nova takes.
fn auth_token(credentials: &Credentials) -> Result<Option<HeaderValue>, GatewayError> {
    match credentials {
        Credentials::None => Ok(None),
        Credentials::Token(token) => {
            let mut value = HeaderValue::from_str(token)
                .map_err(|_| GatewayError::internal("the openstack token is not a valid header value"))?;
            value.set_sensitive(true);
            Ok(Some(value))
        }
        Credentials::Basic { .. } | Credentials::GoGrid { .. } => {
            Err(GatewayError::internal("the openstack upstream needs a keystone token as its credentials"))
        }
    }
}

fn list_query(filter: &Filter, start: &PageStart, limit: Option<usize>) -> Result<String, GatewayError> {
    let (native, residual) = split_filter(filter);
    if residual != Filter::default() {
        return Err(GatewayError::internal("a filter the openstack upstream cannot apply was sent to it"));
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(name) = &native.name {
        q.append_pair("name", name);
    }
    if let Some(status) = native.status {
        q.append_pair("status", status_word(status));
    }
    if let Some(since) = native.changed_since {
        q.append_pair("changes-since", &IsoPrecise(since).to_string());
    }
    if let Some(ram) = native.min_ram_mb {
        q.append_pair("minRam", &ram.to_string());
    }
    if let Some(disk) = native.min_disk_gb {
        q.append_pair("minDisk", &disk.to_string());
    }
    if let Some(server) = &native.server_id {
        q.append_pair("server", server);
    }
    for (_, image_type) in &native.extra {
        q.append_pair("type", image_type);
    }
    if let Some(limit) = limit {
        q.append_pair("limit", &limit.to_string());
    }
    match start {
        PageStart::First | PageStart::Offset(0) => {}
        PageStart::After(marker) => {
            q.append_pair("marker", marker.as_str());
        }
        PageStart::Offset(_) => {
            return Err(GatewayError::internal("the openstack upstream pages by marker, not offset"));
        }
    }
    Ok(q.finish())
}

pub fn reply(
    call: &UpstreamCall,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Outcome, GatewayError> {
    if !status.is_success() {
        return Err(error(call, status, headers, body));
    }
    match call {
        UpstreamCall::Show(_) => {
            let show: ShowBody = serde_json::from_slice(body).map_err(unreadable)?;
            Ok(Outcome::Image(show.image.0))
        }
        UpstreamCall::List { start, .. } => {
            let list: ListBody = serde_json::from_slice(body).map_err(unreadable)?;
            let more = list.has_next();
            let offset = matches!(start, PageStart::First).then_some(0);
            let images = list.images.into_iter().map(|i| i.0).collect();
            Ok(Outcome::List(ListPage { images, offset, matched: None, total: None, more }))
        }
        UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => Err(GatewayError::unsupported(call.name(), BACKEND)),
    }
}

fn unreadable(e: serde_json::Error) -> GatewayError {
    GatewayError::upstream_protocol(format!("unreadable openstack image reply: {e}")).with_cause(e)
}

/// The canonical error of a failed reply: the status decides the kind, the
/// body (Nova's fault, keystone's `error`, Rackspace's `unauthorized`)
/// gives the message and, for rate limits, the wait.
fn error(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> GatewayError {
    let fault = UpstreamFault::read(body);
    let mut err = error_from_status(call, status, headers, fault.as_ref().map_or("", |f| f.message.as_str()));
    if let ErrorKind::RateLimited { retry_after: wait @ None } = &mut err.kind {
        *wait = fault.and_then(|f| f.retry_after);
    }
    err
}

/// What a JSON error body says: `{"<name>": {"message", "retryAfter"?, …}}`.
struct UpstreamFault {
    message: String,
    retry_after: Option<Duration>,
}

impl UpstreamFault {
    fn read(body: &[u8]) -> Option<UpstreamFault> {
        let Ok(Value::Object(outer)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        let inner = outer.into_iter().find_map(|(_, v)| match v {
            Value::Object(inner) => Some(inner),
            _ => None,
        })?;
        let text = |key: &str| inner.get(key).and_then(Value::as_str);
        let message = text("message").or_else(|| text("title")).unwrap_or_default().to_owned();
        let retry_after = match inner.get("retryAfter") {
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .map(Duration::from_secs);
        Some(UpstreamFault { message, retry_after })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::dialect::openstack::{EXTRA_ALTERNATE, EXTRA_DISK_CONFIG, EXTRA_PROGRESS};
    use crate::dialect::{Format, GetMany};
    use crate::model::{Image, ImageId, LookupKey};

    const TOKEN: &str = "5f944a7a64d3408597b618915dad29ea";

    fn target<'a>(base: &'a str, scope: &'a str, credentials: &'a Credentials) -> Target<'a> {
        Target { base, scope, credentials, now: 0, format: Format::Json }
    }

    fn list(filter: Filter, view: View, start: PageStart, limit: Option<usize>) -> UpstreamCall {
        UpstreamCall::List { filter, sort: None, view, start, limit }
    }

    fn encode(call: &UpstreamCall, scope: &str) -> Result<http::Request<Bytes>, GatewayError> {
        request(call, &target("http://nova:8774", scope, &Credentials::Token(TOKEN.to_owned())))
    }

    fn full_filter() -> Filter {
        Filter {
            id: Some(ImageId::new("i")),
            name: Some("a b".to_owned()),
            name_like: Some("cent".to_owned()),
            status: Some(ImageStatus::Active),
            public: Some(true),
            changed_since: Some(datetime!(2011-01-01 01:02:03.5 UTC)),
            min_ram_mb: Some(512),
            min_disk_gb: Some(20),
            server_id: Some("srv".to_owned()),
            zone: Some("z".to_owned()),
            os: Some("CentOS".to_owned()),
            architecture: Some("x86_64".to_owned()),
            extra: vec![
                ("gogrid.location".to_owned(), "x".to_owned()),
                (EXTRA_IMAGE_TYPE.to_owned(), "snapshot".to_owned()),
            ],
        }
    }

    #[test]
    fn capabilities_are_marker_paging_without_totals() {
        assert_eq!(
            capabilities(),
            Capabilities {
                paging: Paging::Marker,
                max_page: 1000,
                reports_total: false,
                get_many: false,
                sort_fields: &[]
            }
        );
    }

    #[test]
    fn filter_splits_into_novas_and_the_rest() {
        let (native, residual) = split_filter(&full_filter());
        assert_eq!(
            native,
            Filter {
                name: Some("a b".to_owned()),
                status: Some(ImageStatus::Active),
                changed_since: Some(datetime!(2011-01-01 01:02:03.5 UTC)),
                min_ram_mb: Some(512),
                min_disk_gb: Some(20),
                server_id: Some("srv".to_owned()),
                extra: vec![(EXTRA_IMAGE_TYPE.to_owned(), "snapshot".to_owned())],
                ..Filter::default()
            }
        );
        assert_eq!(
            residual,
            Filter {
                id: Some(ImageId::new("i")),
                name_like: Some("cent".to_owned()),
                public: Some(true),
                zone: Some("z".to_owned()),
                os: Some("CentOS".to_owned()),
                architecture: Some("x86_64".to_owned()),
                extra: vec![("gogrid.location".to_owned(), "x".to_owned())],
                ..Filter::default()
            }
        );
    }

    #[test]
    fn inexact_statuses_stay_with_the_gateway() {
        for status in [ImageStatus::Saving, ImageStatus::Trashed, ImageStatus::Error, ImageStatus::Unknown] {
            let (native, residual) = split_filter(&Filter { status: Some(status), ..Filter::default() });
            assert_eq!(native, Filter::default(), "{status:?}");
            assert_eq!(residual.status, Some(status));
        }
        let (native, _) = split_filter(&Filter { status: Some(ImageStatus::Deleted), ..Filter::default() });
        assert_eq!(native.status, Some(ImageStatus::Deleted));
    }

    #[test]
    fn show_request_is_exact() {
        let req = encode(&UpstreamCall::Show(ImageId::new("70a599e0-31e7")), "b17a6492").unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "http://nova:8774/v2.1/b17a6492/images/70a599e0-31e7");
        assert_eq!(req.headers().len(), 2);
        assert_eq!(req.headers()[header::ACCEPT], "application/json");
        assert_eq!(req.headers()["x-auth-token"], TOKEN);
        assert!(req.headers()["x-auth-token"].is_sensitive());
        assert!(req.body().is_empty());
    }

    #[test]
    fn ids_and_scopes_stay_inside_their_segment() {
        let req = encode(&UpstreamCall::Show(ImageId::new("../a b?c#d")), "p/q").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p%2Fq/images/..%2Fa%20b%3Fc%23d");
        let req = encode(&UpstreamCall::Show(ImageId::new("..")), "p").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p/images/%2E%2E");
    }

    #[test]
    fn an_empty_scope_uses_the_projectless_path() {
        let req = encode(&UpstreamCall::Show(ImageId::new("x")), "").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/images/x");
    }

    #[test]
    fn base_paths_are_kept() {
        let creds = Credentials::None;
        let req = request(&UpstreamCall::Show(ImageId::new("x")), &target("https://h/compute", "p", &creds)).unwrap();
        assert_eq!(req.uri(), "https://h/compute/v2.1/p/images/x");
        assert!(req.headers().get("x-auth-token").is_none());
    }

    #[test]
    fn list_requests_carry_filters_and_paging() {
        let (native, _) = split_filter(&full_filter());
        let call = list(native, View::Detail, PageStart::After(ImageId::new("m 1")), Some(50));
        let req = encode(&call, "p").unwrap();
        assert_eq!(
            req.uri(),
            "http://nova:8774/v2.1/p/images/detail?name=a+b&status=ACTIVE&changes-since=2011-01-01T01%3A02%3A03.5Z\
             &minRam=512&minDisk=20&server=srv&type=snapshot&limit=50&marker=m+1"
        );
        let req = encode(&list(Filter::default(), View::Summary, PageStart::First, None), "p").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p/images");
        let req = encode(&list(Filter::default(), View::Summary, PageStart::Offset(0), Some(5)), "p").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p/images?limit=5");
    }

    #[test]
    fn what_nova_cannot_express_is_refused() {
        let offset = list(Filter::default(), View::Detail, PageStart::Offset(20), Some(10));
        assert_eq!(encode(&offset, "p").unwrap_err().kind, ErrorKind::Internal);
        let residual =
            list(Filter { zone: Some("z".to_owned()), ..Filter::default() }, View::Detail, PageStart::First, None);
        assert_eq!(encode(&residual, "p").unwrap_err().kind, ErrorKind::Internal);
        let many = UpstreamCall::GetMany(GetMany { key: LookupKey::Id, values: vec!["a".to_owned()] });
        assert!(matches!(encode(&many, "p").unwrap_err().kind, ErrorKind::Unsupported { backend: "openstack", .. }));
        let sorted = UpstreamCall::List {
            filter: Filter::default(),
            sort: Some(crate::model::Sort { field: crate::model::SortField::Name, descending: false }),
            view: View::Detail,
            start: PageStart::First,
            limit: None,
        };
        assert!(matches!(encode(&sorted, "p").unwrap_err().kind, ErrorKind::Unsupported { .. }));
    }

    #[test]
    fn only_tokens_authenticate() {
        let basic = Credentials::Basic { user: "u".to_owned(), password: "p".to_owned() };
        let show = UpstreamCall::Show(ImageId::new("x"));
        assert_eq!(request(&show, &target("http://h", "p", &basic)).unwrap_err().kind, ErrorKind::Internal);
        let bad = Credentials::Token("a\nb".to_owned());
        assert_eq!(request(&show, &target("http://h", "p", &bad)).unwrap_err().kind, ErrorKind::Internal);
    }

    fn decode(call: &UpstreamCall, status: u16, headers: &[(&str, &str)], body: &str) -> Result<Outcome, GatewayError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        reply(call, StatusCode::from_u16(status).unwrap(), &map, body.as_bytes())
    }

    fn show_image(body: Value) -> Image {
        match decode(&UpstreamCall::Show(ImageId::new("x")), 200, &[], &body.to_string()) {
            Ok(Outcome::Image(image)) => image,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_detailed_image_decodes_into_the_model() {
        let image = show_image(json!({"image": {
            "id": "abc",
            "name": "snap",
            "status": "SAVING",
            "progress": 25,
            "created": "2011-01-01T01:02:03Z",
            "updated": null,
            "minRam": "256",
            "minDisk": 5,
            "OS-EXT-IMG-SIZE:size": 74185822,
            "metadata": {"architecture": "x86_64", "description": "d", "image_type": "snapshot", "instance_uuid": "u-1"},
            "server": {"id": "srv-1", "links": []},
            "OS-DCF:diskConfig": "AUTO",
            "links": [{"rel": "self", "href": "s"}, {"rel": "alternate", "href": "http://glance/images/abc"}],
            "com.vendor:flag": [1, 2],
        }}));
        let mut metadata = std::collections::BTreeMap::new();
        for (k, v) in
            [("architecture", "x86_64"), ("description", "d"), ("image_type", "snapshot"), ("instance_uuid", "u-1")]
        {
            metadata.insert(k.to_owned(), Value::from(v));
        }
        let extra = [
            (EXTRA_ALTERNATE, json!("http://glance/images/abc")),
            (EXTRA_DISK_CONFIG, json!("AUTO")),
            (EXTRA_IMAGE_TYPE, json!("snapshot")),
            (EXTRA_PROGRESS, json!(25)),
            ("openstack.com.vendor:flag", json!([1, 2])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(
            image,
            Image {
                id: ImageId::new("abc"),
                name: "snap".to_owned(),
                status: ImageStatus::Saving,
                backend_status: Some("SAVING".to_owned()),
                created: Some(datetime!(2011-01-01 01:02:03 UTC)),
                updated: None,
                description: Some("d".to_owned()),
                os: None,
                architecture: Some("x86_64".to_owned()),
                public: None,
                min_disk_gb: Some(5),
                min_ram_mb: Some(256),
                size_bytes: Some(74185822),
                server_id: Some("srv-1".to_owned()),
                zones: vec![],
                metadata,
                extra,
            }
        );
    }

    #[test]
    fn odd_but_legal_values_decode_leniently() {
        let image = show_image(json!({"image": {"id": 13, "name": null, "status": "killed", "minRam": null,
            "minDisk": "", "progress": 50, "created": "last week", "metadata": null,
            "OS-DCF:diskConfig": "MANUAL"}}));
        assert_eq!(image.id.as_str(), "13");
        assert_eq!(image.name, "");
        assert_eq!(image.status, ImageStatus::Error);
        assert_eq!((image.min_ram_mb, image.min_disk_gb, image.created), (None, None, None));
        assert!(!image.extra.contains_key(EXTRA_PROGRESS));
        assert_eq!(image.extra[EXTRA_DISK_CONFIG], "MANUAL");
        let image = show_image(json!({"image": {"id": "x", "status": "BUILDING",
            "metadata": {"auto_disk_config": "True", "instance_uuid": "u-2"}, "OS-DCF:diskConfig": "AUTO"}}));
        assert_eq!(image.status, ImageStatus::Unknown);
        assert_eq!(image.backend_status.as_deref(), Some("BUILDING"));
        assert_eq!(image.server_id.as_deref(), Some("u-2"));
        assert!(!image.extra.contains_key(EXTRA_DISK_CONFIG));
    }

    #[test]
    fn lists_report_whether_more_follow() {
        let body = json!({"images": [{"id": "a", "name": "A", "links": []}, {"id": "b", "name": "B", "links": []}],
            "images_links": [{"rel": "next", "href": "http://nova/v2.1/p/images?limit=2&marker=b"}]});
        let call = list(Filter::default(), View::Summary, PageStart::First, Some(2));
        let Ok(Outcome::List(page)) = decode(&call, 200, &[], &body.to_string()) else { panic!("a list") };
        assert_eq!(page.images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((page.offset, page.matched, page.total, page.more), (Some(0), None, None, true));
        let call = list(Filter::default(), View::Detail, PageStart::After(ImageId::new("b")), None);
        let Ok(Outcome::List(page)) = decode(&call, 200, &[], r#"{"images": []}"#) else { panic!("a list") };
        assert_eq!((page.offset, page.more, page.images.len()), (None, false, 0));
    }

    #[test]
    fn unreadable_success_bodies_are_protocol_errors() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let detail = list(Filter::default(), View::Detail, PageStart::First, None);
        for (call, body) in [
            (&show, "<html>ok</html>"),
            (&show, "{}"),
            (&show, r#"{"image": {"name": "no id"}}"#),
            (&show, r#"{"image": {"id": "x", "minRam": -1}}"#),
            (&show, r#"{"image": {"id": "x", "minRam": "lots"}}"#),
            (&show, r#"{"image": {"id": ["x"]}}"#),
            (&detail, r#"{"images": {}}"#),
            (&detail, ""),
        ] {
            assert_eq!(decode(call, 200, &[], body).unwrap_err().kind, ErrorKind::UpstreamProtocol, "{body}");
        }
    }

    #[test]
    fn nova_faults_decode_by_status_with_their_message() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let detail = list(Filter::default(), View::Detail, PageStart::First, None);
        let fault =
            |name: &str, code: u16, message: &str| json!({name: {"code": code, "message": message}}).to_string();
        let cases = [
            (&show, 404, fault("itemNotFound", 404, "Image not found."), ErrorKind::NotFound { resource: "image", id: "x".to_owned() }),
            (&detail, 404, fault("itemNotFound", 404, "x"), ErrorKind::NotFound { resource: "image", id: String::new() }),
            (&detail, 400, fault("badRequest", 400, "Invalid status value: x"), ErrorKind::BadRequest),
            (&show, 403, fault("forbidden", 403, "Policy doesn't allow"), ErrorKind::Forbidden),
            (&show, 405, fault("badMethod", 405, "no"), ErrorKind::MethodNotAllowed),
            (&show, 409, fault("conflictingRequest", 409, "busy"), ErrorKind::Conflict),
            (&show, 415, fault("badMediaType", 415, "xml"), ErrorKind::UnsupportedMediaType),
            (&show, 500, fault("computeFault", 500, ""), ErrorKind::UpstreamProtocol),
            (&show, 501, fault("notImplemented", 501, "no"), ErrorKind::Unsupported { operation: "show image".to_owned(), backend: "upstream" }),
            (&show, 503, fault("serviceUnavailable", 503, "down"), ErrorKind::UpstreamUnavailable),
            (&show, 401, r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#.to_owned(), ErrorKind::Unauthorized),
        ];
        for (call, status, body, kind) in cases {
            let err = decode(call, status, &[], &body).unwrap_err();
            assert_eq!(err.kind, kind, "{status} {body}");
        }
        let err = decode(&detail, 400, &[], &fault("badRequest", 400, "Invalid status value: x")).unwrap_err();
        assert_eq!(err.message, "Invalid status value: x");
    }

    #[test]
    fn rate_limits_read_the_header_or_the_body() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let body = json!({"overLimit": {"code": 413, "message": "This request was rate-limited.", "retryAfter": "60"}})
            .to_string();
        let err = decode(&show, 413, &[], &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(60)) });
        let err = decode(&show, 429, &[("retry-after", "7")], &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
        let err =
            decode(&show, 429, &[], r#"{"overLimit": {"code": 429, "message": "m", "retryAfter": 5}}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(5)) });
        let err = decode(&show, 429, &[], "slow down").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: None });
    }

    #[test]
    fn foreign_error_bodies_fall_back_to_the_status() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let html = "<html><body><h1>403 Forbidden</h1></body></html>";
        assert_eq!(decode(&show, 403, &[], html).unwrap_err().kind, ErrorKind::Forbidden);
        assert_eq!(decode(&show, 401, &[], "401 Unauthorized").unwrap_err().kind, ErrorKind::Unauthorized);
        assert_eq!(decode(&show, 502, &[], "\u{0}\u{ff}").unwrap_err().kind, ErrorKind::UpstreamUnavailable);
        assert_eq!(decode(&show, 504, &[], "").unwrap_err().kind, ErrorKind::UpstreamTimeout);
        assert_eq!(decode(&show, 300, &[], r#"{"choices": []}"#).unwrap_err().kind, ErrorKind::UpstreamProtocol);
        assert_eq!(decode(&show, 400, &[], r#"["x"]"#).unwrap_err().kind, ErrorKind::BadRequest);
    }
}
