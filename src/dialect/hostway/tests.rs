use std::time::Duration;

use futures_util::FutureExt;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::macros::datetime;

use super::*;
use crate::model::{GetMany, LookupKey, PageRequest, Sort, SortField};

const ORIGIN: &str = "https://api.hostway.com";
const EDGE: &dyn EdgeCodec = &Hostway;
const UP: &dyn UpstreamCodec = &Hostway;

fn parts(method: Method, uri: &str) -> Parts {
    http::Request::builder().method(method).uri(uri).body(()).unwrap().into_parts().0
}

fn decode(method: Method, uri: &str) -> Result<ImageOp, GatewayError> {
    let parts = parts(method, uri);
    let mut ctx = EDGE.context(&parts, ORIGIN);
    match EDGE.decode(&mut ctx, &parts, &Bytes::new())? {
        EdgeRequest::Op(op) => Ok(op),
        EdgeRequest::Local(_) => panic!("hostway answers nothing locally"),
    }
}

fn get(uri: &str) -> ImageOp {
    decode(Method::GET, uri).unwrap()
}

fn list(filter: Filter, view: View) -> ImageOp {
    ImageOp::List(ListQuery { filter, sort: None, page: PageRequest::default(), view, count: false, scope: None })
}

fn body_of(reply: Reply) -> Vec<u8> {
    reply.into_body().collect().now_or_never().unwrap().unwrap().to_bytes().to_vec()
}

fn json_of(reply: Reply) -> Value {
    serde_json::from_slice(&body_of(reply)).unwrap()
}

fn account_ctx() -> EdgeCtx {
    let parts = parts(Method::GET, "/accounts/42/flexcloud/images/detail");
    EDGE.context(&parts, ORIGIN)
}

fn sample_image() -> Image {
    Image {
        id: ImageId::new("133"),
        name: "test_debian_image".into(),
        status: ImageStatus::Saving,
        created: Some(datetime!(2011-09-30 02:38:57 UTC)),
        zones: vec!["AUS001".into()],
        ..Image::default()
    }
}

fn links(href: &str) -> Value {
    json!([{"href": href, "rel": "self"}, {"href": href, "rel": "bookmark"}])
}

// ------------------------------------------------------------------ claims and context

#[test]
fn claims_only_hostway_roots() {
    for path in ["/images", "/images/", "/images/detail", "/accounts/1/flexcloud/images/x", "/accounts"] {
        assert!(EDGE.claims(path), "{path}");
    }
    for path in ["/", "/imagesx", "/v2/demo/images", "/api/grid/image/list", "/accountsx/1"] {
        assert!(!EDGE.claims(path), "{path}");
    }
}

#[test]
fn context_reads_account_and_prefix() {
    let ctx = account_ctx();
    assert_eq!(ctx.dialect, Dialect::Hostway);
    assert_eq!(ctx.origin, ORIGIN);
    assert_eq!(ctx.scope.as_deref(), Some("42"));
    assert_eq!(ctx.prefix, "/accounts/42/flexcloud");

    let ctx = EDGE.context(&parts(Method::GET, "/images/133/"), ORIGIN);
    assert_eq!((ctx.scope, ctx.prefix.as_str()), (None, ""));

    let ctx = EDGE.context(&parts(Method::GET, "/accounts/a%20b/flexcloud/images"), ORIGIN);
    assert_eq!(ctx.scope.as_deref(), Some("a b"));
    assert_eq!(ctx.prefix, "/accounts/a%20b/flexcloud");

    // never fails, even on paths it cannot read
    let ctx = EDGE.context(&parts(Method::GET, "/accounts/%FF/flexcloud/images"), ORIGIN);
    assert_eq!(ctx.scope.as_deref(), Some("%FF"));
    let ctx = EDGE.context(&parts(Method::GET, "/v2/x"), ORIGIN);
    assert_eq!((ctx.scope, ctx.prefix.as_str()), (None, ""));
}

// ------------------------------------------------------------------ decode

#[test]
fn every_path_decodes_with_and_without_account() {
    for prefix in ["/accounts/42/flexcloud", ""] {
        for slash in ["", "/"] {
            assert_eq!(get(&format!("{prefix}/images{slash}")), list(Filter::default(), View::Summary));
            assert_eq!(get(&format!("{prefix}/images/detail{slash}")), list(Filter::default(), View::Detail));
            assert_eq!(get(&format!("{prefix}/images/133{slash}")), ImageOp::Show(ImageId::new("133")));
        }
    }
    assert_eq!(decode(Method::HEAD, "/images/133").unwrap(), ImageOp::Show(ImageId::new("133")));
}

#[test]
fn image_ids_are_percent_decoded() {
    assert_eq!(get("/images/a%2Fb%20c"), ImageOp::Show(ImageId::new("a/b c")));
    assert_eq!(get("/images/vmi2011Dec26_2C7D8Dbur/"), ImageOp::Show(ImageId::new("vmi2011Dec26_2C7D8Dbur")));
    let err = decode(Method::GET, "/images/%FF").unwrap_err();
    assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, "invalid image id in path"));
    let err = decode(Method::GET, "/accounts/%FF/flexcloud/images").unwrap_err();
    assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, "invalid account in path"));
}

#[test]
fn list_filters_decode() {
    let op = get("/accounts/42/flexcloud/images/detail?name=my%20img&status=SAVING&type=BASE&zone=AUS001&limit=5");
    let shown = |field, value| Filter { shown: vec![Shown::new(field, value, |_, _| false)], ..Filter::default() };
    let filter = Filter {
        name: Some("my img".into()),
        zone: Some("AUS001".into()),
        shown: [shown("status", "SAVING").shown, shown("type", "BASE").shown].concat(),
        ..Filter::default()
    };
    assert_eq!(op, list(filter, View::Detail));

    let cases = [
        ("status=ACTIVE", shown("status", "ACTIVE")),
        ("status=deleted", shown("status", "DELETED")),
        ("status=ERROR", shown("status", "ERROR")),
        ("status=UNKNOWN", shown("status", "UNKNOWN")),
        ("type=SERVER", shown("type", "SERVER")),
        ("type=base", shown("type", "BASE")),
        ("name=&zone=", Filter::default()),
        ("name=a&name=b", Filter { name: Some("a".into()), ..Filter::default() }),
    ];
    for (query, filter) in cases {
        assert_eq!(get(&format!("/images?{query}")), list(filter, View::Summary), "{query}");
    }
}

#[test]
fn filters_judge_what_the_image_shows() {
    let filter = |query: &str| match get(&format!("/images?{query}")) {
        ImageOp::List(q) => q.filter,
        other => panic!("{other:?}"),
    };
    let trashed = Image { status: ImageStatus::Trashed, ..Image::default() };
    assert!(filter("status=DELETED").matches(&trashed), "a trashed image shows DELETED");
    assert!(!filter("status=ACTIVE").matches(&trashed));
    let unknown = Image { public: None, ..Image::default() };
    assert!(filter("type=SERVER").matches(&unknown), "an image that says nothing is a server image");
    assert!(!filter("type=BASE").matches(&unknown));
    let public = Image { public: Some(true), ..Image::default() };
    assert!(filter("type=BASE").matches(&public));
}

#[test]
fn bad_filters_are_bad_requests() {
    let err = decode(Method::GET, "/images?status=BUILD").unwrap_err();
    assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, "invalid status parameter: BUILD"));
    let err = decode(Method::GET, "/images/detail?type=PUBLIC").unwrap_err();
    assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, "invalid type parameter: PUBLIC"));
}

#[test]
fn writes_are_not_allowed_yet() {
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        for path in ["/images", "/images/detail", "/accounts/1/flexcloud/images/133"] {
            let err = decode(method.clone(), path).unwrap_err();
            assert_eq!(err.kind, ErrorKind::MethodNotAllowed, "{method} {path}");
            assert_eq!(err.message, format!("method {method} is not allowed here"));
        }
    }
}

#[test]
fn unknown_paths_are_not_found() {
    for path in [
        "/images/133/metadata",
        "/images//",
        "/images/detail/x",
        "/accounts",
        "/accounts/1",
        "/accounts//flexcloud/images",
        "/accounts/1/flexcloud",
        "/accounts/1/flexcloud/servers",
        "/accounts/1/other/images",
        "/v2/images",
    ] {
        let err = decode(Method::GET, path).unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::NotFound { resource: crate::model::Resource::Route, .. }),
            "{path}: {err}"
        );
    }
    // the path decides before the method
    assert!(matches!(decode(Method::POST, "/images/1/x").unwrap_err().kind, ErrorKind::NotFound { .. }));
}

// ------------------------------------------------------------------ encode

#[test]
fn show_renders_the_documented_shape() {
    let reply = EDGE.encode(&account_ctx(), &ImageOp::Show(ImageId::new("133")), Outcome::Image(sample_image()));
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(reply.headers()[header::CONTENT_TYPE], "application/json");
    let href = "https://api.hostway.com/accounts/42/flexcloud/images/133/";
    let expected = json!({"image": {"status": "SAVING", "updated": null, "name": "test_debian_image",
        "links": links(href), "created": "2011-09-30T02:38:57", "id": "133", "zones": ["AUS001"]}});
    assert_eq!(String::from_utf8(body_of(reply)).unwrap(), expected.to_string());
}

#[test]
fn summary_and_detail_lists() {
    let page = ListPage { images: vec![sample_image()], ..ListPage::default() };
    let href = "https://api.hostway.com/accounts/42/flexcloud/images/133/";

    let op = list(Filter::default(), View::Summary);
    let reply = EDGE.encode(&account_ctx(), &op, Outcome::List(page.clone()));
    let expected =
        json!({"images": [{"name": "test_debian_image", "links": links(href), "id": "133", "zones": ["AUS001"]}]});
    assert_eq!(String::from_utf8(body_of(reply)).unwrap(), expected.to_string());

    let detail = json!({"images": [{"status": "SAVING", "updated": null, "name": "test_debian_image",
        "links": links(href), "created": "2011-09-30T02:38:57", "id": "133", "zones": ["AUS001"]}]});
    let op = list(Filter::default(), View::Detail);
    let reply = EDGE.encode(&account_ctx(), &op, Outcome::List(page));
    assert_eq!(String::from_utf8(body_of(reply)).unwrap(), detail.to_string());

    // get-many never comes from a Hostway request, but renders as a detail list
    let op = ImageOp::GetMany(GetMany { key: LookupKey::Id, values: vec!["133".into()], shown_name: None });
    let reply = EDGE.encode(&account_ctx(), &op, Outcome::Images(vec![sample_image()]));
    assert_eq!(String::from_utf8(body_of(reply)).unwrap(), detail.to_string());

    let reply = EDGE.encode(&account_ctx(), &list(Filter::default(), View::Detail), Outcome::Images(vec![]));
    assert_eq!(json_of(reply), json!({"images": []}));
}

#[test]
fn foreign_images_get_hostway_defaults() {
    let mut extra = crate::model::Extra::new();
    extra.insert("gogrid.location".into(), json!("US-West-1"));
    extra.insert("hostway.owner".into(), json!("me"));
    extra.insert("hostway.id".into(), json!("shadowed"));
    let image = Image {
        id: ImageId::new("gogrid/42"),
        name: "CentOS".into(),
        status: ImageStatus::Trashed,
        backend_status: Some("Trash".into()),
        created: Some(datetime!(2009-07-23 23:46:11.829 +02:00)),
        updated: Some(datetime!(2010-01-01 00:00 UTC)),
        os: Some("CentOS 5.3 (32-bit)".into()),
        public: Some(true),
        extra,
        ..Image::default()
    };
    let ctx = EDGE.context(&parts(Method::GET, "/images/x"), "http://gw:8080");
    let reply = EDGE.encode(&ctx, &ImageOp::Show(image.id.clone()), Outcome::Image(image));
    let href = "http://gw:8080/images/gogrid%2F42/";
    let expected = json!({"image": {"status": "DELETED", "updated": null, "name": "CentOS", "links": links(href),
        "created": "2009-07-23T21:46:11", "id": "gogrid/42", "zones": [], "owner": "me"}});
    assert_eq!(String::from_utf8(body_of(reply)).unwrap(), expected.to_string());
}

#[test]
fn every_status_has_a_word() {
    let cases = [
        (ImageStatus::Active, "ACTIVE"),
        (ImageStatus::Saving, "SAVING"),
        (ImageStatus::Trashed, "DELETED"),
        (ImageStatus::Deleted, "DELETED"),
        (ImageStatus::Error, "ERROR"),
        (ImageStatus::Unknown, "UNKNOWN"),
    ];
    for (status, word) in cases {
        let image = Image { id: ImageId::new("1"), status, ..Image::default() };
        let body = json_of(EDGE.encode(&account_ctx(), &ImageOp::Show(image.id.clone()), Outcome::Image(image)));
        assert_eq!(body["image"]["status"], word);
        assert_eq!(body["image"]["created"], Value::Null);
    }
}

// ------------------------------------------------------------------ errors rendered

fn rendered(err: GatewayError) -> (StatusCode, HeaderMap, Value) {
    let reply = EDGE.encode_error(&account_ctx(), &err);
    let (status, headers) = (reply.status(), reply.headers().clone());
    (status, headers, json_of(reply))
}

/// Checks the envelope and returns the fault body without its fresh id.
fn fault_body(value: &Value, name: &str, id_key: &str) -> Value {
    let object = value.as_object().unwrap();
    assert_eq!(object.len(), 1);
    let mut body = object[name].clone();
    let id = body.as_object_mut().unwrap().remove(id_key).unwrap();
    let id = uuid::Uuid::parse_str(id.as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 4);
    body
}

#[test]
fn every_error_kind_renders() {
    let cases: Vec<(GatewayError, u16, &str, &str)> = vec![
        (GatewayError::image_not_found("133"), 404, "itemNotFound", "Resource not found"),
        (GatewayError::bad_request("invalid status parameter: X"), 400, "badRequest", "invalid status parameter: X"),
        (GatewayError::new(ErrorKind::Forbidden, Side::Upstream, "no"), 403, "forbidden", "forbidden"),
        (GatewayError::new(ErrorKind::Conflict, Side::Upstream, "busy"), 409, "conflictingRequest", "busy"),
        (GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, "m"), 405, "badMethod", "m"),
        (GatewayError::new(ErrorKind::UnsupportedMediaType, Side::Downstream, "t"), 415, "badMediaType", "t"),
        (GatewayError::new(ErrorKind::PayloadTooLarge, Side::Downstream, "big"), 413, "overLimit", "big"),
        (
            GatewayError::new(ErrorKind::RateLimited { retry_after: None }, Side::Downstream, "slow down"),
            429,
            "overLimit",
            "slow down",
        ),
        (
            GatewayError::unsupported("list images in detail", "gogrid"),
            501,
            "notImplemented",
            "list images in detail is not supported by the gogrid backend",
        ),
        (
            GatewayError::new(ErrorKind::UpstreamUnavailable, Side::Upstream, "secret"),
            503,
            "serviceUnavailable",
            "the service is temporarily unavailable",
        ),
        (
            GatewayError::new(ErrorKind::UpstreamTimeout, Side::Upstream, "secret"),
            504,
            "computeFault",
            "the upstream service did not answer in time",
        ),
        (
            GatewayError::upstream_protocol("secret"),
            502,
            "computeFault",
            "the upstream service gave an invalid response",
        ),
        (GatewayError::internal("secret"), 500, "computeFault", "the server could not finish the request"),
    ];
    for (err, code, name, message) in cases {
        let (status, headers, value) = rendered(err);
        assert_eq!(status.as_u16(), code, "{name}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers.get(header::RETRY_AFTER), None);
        let body = fault_body(&value, name, "errorid");
        assert_eq!(body, json!({"message": message, "code": code, "details": ""}), "{name}");
    }
}

#[test]
fn errors_keep_hostway_field_order() {
    let reply = EDGE.encode_error(&account_ctx(), &GatewayError::image_not_found("1"));
    let text = String::from_utf8(body_of(reply)).unwrap();
    assert!(text.starts_with(r#"{"itemNotFound":{"message":"Resource not found","code":404,"details":"","errorid":""#));

    let err = GatewayError::new(
        ErrorKind::NotFound { resource: crate::model::Resource::Tenant, id: "fake".into() },
        Side::Upstream,
        "x",
    );
    let reply = EDGE.encode_error(&account_ctx(), &err);
    let text = String::from_utf8(body_of(reply)).unwrap();
    assert!(text.starts_with(r#"{"itemNotFound":{"guid":""#), "{text}");
    assert!(text.ends_with(r#"","message":"Resource not found","code":404,"details":""}}"#), "{text}");
}

#[test]
fn fresh_error_ids() {
    let (_, _, a) = rendered(GatewayError::image_not_found("1"));
    let (_, _, b) = rendered(GatewayError::image_not_found("1"));
    assert_ne!(a["itemNotFound"]["errorid"], b["itemNotFound"]["errorid"]);
}

#[test]
fn unauthorized_is_webob_plain_text() {
    let err = GatewayError::new(ErrorKind::Unauthorized, Side::Upstream, "bad password");
    let reply = EDGE.encode_error(&account_ctx(), &err);
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers()[header::CONTENT_TYPE], "text/plain; charset=UTF-8");
    assert_eq!(reply.headers()[header::WWW_AUTHENTICATE], r#"Basic realm="Hostway FlexCloud API""#);
    let body = String::from_utf8(body_of(reply)).unwrap();
    assert_eq!(
        body,
        "401 Unauthorized\n\nThis server could not verify that you are authorized to access the document you \
         requested.  Either you supplied the wrong credentials (e.g., bad password), or your browser does not \
         understand how to supply the credentials required. \n\n   "
    );
}

#[test]
fn limits_and_methods_carry_their_headers() {
    let err = GatewayError::new(
        ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) },
        Side::Downstream,
        "rate limited",
    );
    let (status, headers, _) = rendered(err);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[header::RETRY_AFTER], "30");

    let (_, headers, _) = rendered(decode(Method::DELETE, "/images/1").unwrap_err());
    assert_eq!(headers[header::ALLOW], "GET, HEAD");
}

#[test]
fn unknown_path_renders_item_not_found() {
    let (status, _, value) = rendered(decode(Method::GET, "/accounts/1/flexcloud/servers").unwrap_err());
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        fault_body(&value, "itemNotFound", "errorid"),
        json!({"message": "Resource not found", "code": 404, "details": ""})
    );
}

// ------------------------------------------------------------------ upstream encode

fn basic() -> Credentials {
    Credentials::Basic { user: "user".into(), password: "pa:ss".into() }
}

fn target<'a>(scope: &'a str, credentials: &'a Credentials) -> Target<'a> {
    Target { base: "https://api.hostway.com", scope, credentials, now: 0, format: super::super::Format::Json }
}

fn list_call(filter: Filter, view: View) -> UpstreamCall {
    UpstreamCall::List { filter, sort: None, view, start: crate::model::PageStart::First, limit: None }
}

fn request(call: &UpstreamCall, scope: &str) -> http::Request<Bytes> {
    let credentials = basic();
    UP.encode(call, &target(scope, &credentials)).unwrap()
}

#[test]
fn upstream_requests_carry_basic_auth_and_json_headers() {
    let req = request(&UpstreamCall::Show(ImageId::new("133")), "42");
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri(), "https://api.hostway.com/accounts/42/flexcloud/images/133");
    // base64("user:pa:ss")
    assert_eq!(req.headers()[header::AUTHORIZATION], "Basic dXNlcjpwYTpzcw==");
    assert!(req.headers()[header::AUTHORIZATION].is_sensitive());
    assert_eq!(req.headers()[header::ACCEPT], "application/json");
    assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(req.headers().len(), 3);
    assert!(req.body().is_empty());
}

#[test]
fn upstream_paths() {
    let cases = [
        (list_call(Filter::default(), View::Summary), "42", "https://api.hostway.com/accounts/42/flexcloud/images"),
        (
            list_call(Filter::default(), View::Detail),
            "42",
            "https://api.hostway.com/accounts/42/flexcloud/images/detail",
        ),
        (list_call(Filter::default(), View::Detail), "", "https://api.hostway.com/images/detail"),
        (UpstreamCall::Show(ImageId::new("a/b?c")), "", "https://api.hostway.com/images/a%2Fb%3Fc"),
        (
            UpstreamCall::Show(ImageId::new("..")),
            "x y",
            "https://api.hostway.com/accounts/x%20y/flexcloud/images/%2E%2E",
        ),
    ];
    for (call, scope, url) in cases {
        assert_eq!(request(&call, scope).uri(), url);
    }
}

#[test]
fn upstream_list_query_carries_native_filters() {
    let filter = Filter {
        name: Some("my image&x=1".into()),
        status: Some(ImageStatus::Deleted),
        public: Some(false),
        zone: Some("AUS001".into()),
        ..Filter::default()
    };
    let call = UpstreamCall::List {
        filter,
        sort: Some(Sort { field: SortField::Name, descending: false }),
        view: View::Summary,
        start: crate::model::PageStart::First,
        limit: Some(10),
    };
    assert_eq!(
        request(&call, "42").uri(),
        "https://api.hostway.com/accounts/42/flexcloud/images?name=my+image%26x%3D1&status=DELETED&type=SERVER&zone=AUS001"
    );
    let call = list_call(Filter { public: Some(true), ..Filter::default() }, View::Detail);
    assert_eq!(request(&call, "42").uri(), "https://api.hostway.com/accounts/42/flexcloud/images/detail?type=BASE");
}

#[test]
fn upstream_credentials() {
    let call = UpstreamCall::Show(ImageId::new("1"));
    let req = UP.encode(&call, &target("1", &Credentials::None)).unwrap();
    assert_eq!(req.headers().get(header::AUTHORIZATION), None);
    let token = Credentials::Token("t".into());
    assert_eq!(UP.encode(&call, &target("1", &token)).unwrap_err().kind, ErrorKind::Internal);
}

#[test]
fn upstream_get_many_is_unsupported() {
    let call = UpstreamCall::GetMany(GetMany { key: LookupKey::Id, values: vec!["1".into()], shown_name: None });
    let credentials = basic();
    let err = UP.encode(&call, &target("1", &credentials)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported { operation: "get many images".into(), backend: "hostway" });
}

#[test]
fn split_filter_keeps_what_hostway_cannot_filter() {
    let filter = Filter {
        id: Some(ImageId::new("1")),
        name: Some("n".into()),
        name_like: Some("x".into()),
        status: Some(ImageStatus::Saving),
        public: Some(true),
        zone: Some("z".into()),
        os: Some("CentOS".into()),
        extra: vec![("gogrid.location".into(), "x".into())],
        ..Filter::default()
    };
    let (native, residual) = UP.split_filter(&filter);
    assert_eq!(
        native,
        Filter {
            name: Some("n".into()),
            status: Some(ImageStatus::Saving),
            public: Some(true),
            zone: Some("z".into()),
            ..Filter::default()
        }
    );
    assert_eq!(
        residual,
        Filter {
            id: Some(ImageId::new("1")),
            name_like: Some("x".into()),
            os: Some("CentOS".into()),
            extra: vec![("gogrid.location".into(), "x".into())],
            ..Filter::default()
        }
    );
    for status in [ImageStatus::Trashed, ImageStatus::Error, ImageStatus::Unknown] {
        let (native, residual) = UP.split_filter(&Filter { status: Some(status), ..Filter::default() });
        assert_eq!((native.status, residual.status), (None, Some(status)));
    }
}

#[test]
fn capabilities() {
    let caps = UP.capabilities();
    assert_eq!(caps.paging, Paging::None);
    assert!(!caps.reports_total && !caps.get_many && caps.sort_fields.is_empty());
}

// ------------------------------------------------------------------ upstream decode

fn upstream(call: &UpstreamCall, status: u16, body: &str) -> Result<Outcome, GatewayError> {
    UP.decode(call, StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.as_bytes())
}

fn show_call() -> UpstreamCall {
    UpstreamCall::Show(ImageId::new("133"))
}

#[test]
fn upstream_show_decodes() {
    let body = r#"{"image":{"status":"SAVING","updated":null,"name":"test_debian_image","links":[],
        "created":"2011-09-30T02:38:57","id":"133","zones":["AUS001"]}}"#;
    let Outcome::Image(image) = upstream(&show_call(), 200, body).unwrap() else { panic!("not an image") };
    assert_eq!(image, Image { backend_status: Some("SAVING".into()), ..sample_image() });
}

#[test]
fn upstream_lists_decode_with_counts() {
    let body = r#"{"images":[{"name":"a","links":[],"id":"1","zones":["Z"]},{"name":"b","id":"2"}]}"#;
    let Outcome::List(page) = upstream(&list_call(Filter::default(), View::Summary), 200, body).unwrap() else {
        panic!("not a list")
    };
    assert_eq!((page.offset, page.matched, page.total, page.more), (Some(0), Some(2), Some(2), false));
    let ids: Vec<_> = page.images.iter().map(|i| (i.id.as_str(), i.name.as_str(), i.status)).collect();
    assert_eq!(ids, [("1", "a", ImageStatus::Unknown), ("2", "b", ImageStatus::Unknown)]);
    assert_eq!(page.images[0].zones, ["Z"]);

    let filter = Filter { public: Some(true), ..Filter::default() };
    let Outcome::List(page) = upstream(&list_call(filter, View::Summary), 200, body).unwrap() else {
        panic!("not a list")
    };
    assert_eq!((page.matched, page.total), (Some(2), None));
    assert!(page.images.iter().all(|i| i.public == Some(true)));
}

#[test]
fn upstream_success_with_bad_bodies_is_a_protocol_error() {
    for body in ["", "<html>oops</html>", "{}", r#"{"images":{}}"#, r#"{"image":{"name":"no id"}}"#, "null"] {
        let err = upstream(&show_call(), 200, body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UpstreamProtocol, "{body}");
        let err = upstream(&list_call(Filter::default(), View::Detail), 200, body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UpstreamProtocol, "{body}");
    }
    let call = UpstreamCall::GetMany(GetMany { key: LookupKey::Name, values: vec![], shown_name: None });
    assert!(matches!(upstream(&call, 200, "{}").unwrap_err().kind, ErrorKind::Unsupported { .. }));
}

#[test]
fn upstream_not_found_bodies() {
    let image = r#"{"itemNotFound": {"message": "Resource not found", "code": 404, "details": "", "errorid": "59e0b3dd-2173-432a-8ff5-60efe16e83bf"}}"#;
    let err = upstream(&show_call(), 404, image).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound { resource: crate::model::Resource::Image, id: "133".into() });
    assert_eq!(err.message, "image 133 not found");
    let err = upstream(&list_call(Filter::default(), View::Summary), 404, image).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound { resource: crate::model::Resource::Image, id: String::new() });

    let account = r#"{"itemNotFound": {"guid": "23684df5-0532-4794-802d-fdc82e4e7e7c", "message": "Resource not found", "code": 404, "details": ""}}"#;
    let err = upstream(&show_call(), 404, account).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound { resource: crate::model::Resource::Tenant, id: String::new() });
    assert_eq!(err.message, "account not found");
    assert_eq!(err.side, Side::Upstream);
}

#[test]
fn upstream_fault_names() {
    let cases = [
        ("forbidden", 403, ErrorKind::Forbidden),
        ("badRequest", 400, ErrorKind::BadRequest),
        ("unauthorized", 401, ErrorKind::Unauthorized),
        ("badMethod", 405, ErrorKind::MethodNotAllowed),
        ("conflictingRequest", 409, ErrorKind::Conflict),
        ("buildInProgress", 409, ErrorKind::Conflict),
        ("overLimit", 413, ErrorKind::RateLimited { retry_after: None }),
        ("badMediaType", 415, ErrorKind::UnsupportedMediaType),
        ("notImplemented", 501, ErrorKind::Unsupported { operation: "show image".into(), backend: "hostway" }),
        ("serviceUnavailable", 503, ErrorKind::UpstreamUnavailable),
        ("computeFault", 500, ErrorKind::UpstreamProtocol),
        ("computeFault", 504, ErrorKind::UpstreamTimeout),
        ("somethingNew", 409, ErrorKind::Conflict),
    ];
    for (name, code, kind) in cases {
        let body = json!({name: {"message": "Went wrong.", "code": code, "details": "", "errorid": "x"}}).to_string();
        let err = upstream(&show_call(), code, &body).unwrap_err();
        assert_eq!(err.kind, kind, "{name}");
        assert_eq!(err.message, "went wrong", "{name}");
    }
    let body = json!({"forbidden": {"code": 403}}).to_string();
    assert_eq!(upstream(&show_call(), 403, &body).unwrap_err().message, "upstream answered 403 Forbidden");
}

#[test]
fn upstream_over_limit_reads_retry_after() {
    let mut headers = HeaderMap::new();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("12"));
    let body = br#"{"overLimit": {"message": "slow", "code": 413, "details": "", "errorid": "x"}}"#;
    let err = UP.decode(&show_call(), StatusCode::PAYLOAD_TOO_LARGE, &headers, body).unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(12)) });
    assert!(err.retryable);
}

#[test]
fn upstream_non_json_errors_fall_back_to_the_status() {
    let cases = [
        (401, errors::UNAUTHORIZED_BODY, ErrorKind::Unauthorized),
        (401, "<html><body>401 Authorization Required</body></html>", ErrorKind::Unauthorized),
        (403, "<html><body>Forbidden</body></html>", ErrorKind::Forbidden),
        (404, "Not Found", ErrorKind::NotFound { resource: crate::model::Resource::Image, id: "133".into() }),
        (502, "<html>Bad Gateway</html>", ErrorKind::UpstreamUnavailable),
        (500, "", ErrorKind::UpstreamProtocol),
        (303, "", ErrorKind::UpstreamProtocol),
        (400, "[1,2]", ErrorKind::BadRequest),
        (400, r#"{"badRequest": "text"}"#, ErrorKind::BadRequest),
    ];
    for (code, body, kind) in cases {
        assert_eq!(upstream(&show_call(), code, body).unwrap_err().kind, kind, "{code} {body}");
    }
}

#[test]
fn an_upstream_image_round_trips_through_the_edge() {
    let body = json!({"image": {"status": "ACTIVE", "updated": null, "name": "debian",
        "links": links("https://api.hostway.com/accounts/42/flexcloud/images/x%20y/"),
        "created": "2011-09-30T02:38:57", "id": "x y", "zones": ["AUS001", "TPA001"], "progress": 100}})
    .to_string();
    let outcome = upstream(&show_call(), 200, &body).unwrap();
    let reply = EDGE.encode(&account_ctx(), &ImageOp::Show(ImageId::new("x y")), outcome);
    assert_eq!(String::from_utf8(body_of(reply)).unwrap(), body);
}
