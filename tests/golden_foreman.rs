//! Golden round trips for Foreman: every seed example and error body in
//! `tests/fixtures/foreman/` is read by the upstream half and written back by
//! the edge half, and must come out as the same JSON, field order included.
//! The seed's write requests decode into their write operations, and the
//! edge's own refusals of bad writes are the error fixtures, byte for byte.
//!
//! Bodies that do not round-trip, and why:
//! - `error_401_*.json`: a 401 names the gateway's own upstream login, so the
//!   edge answers with Foreman's blank-login form instead of repeating it.
//! - `error_500_*.json`, `error_503_maintenance.json`: internal kinds; the
//!   upstream's words stay in the log and the caller gets a generic message.

use bytes::Bytes;

use crate::common::golden::{self, Fixtures};
use dragoman::dialect::{
    Credentials, Dialect, EdgeCodec, EdgeCtx, EdgeRequest, Format, Outcome, Reply, Target, UpstreamCall, UpstreamCodec,
};
use dragoman::model::{
    ErrorKind, GatewayError, Image, ImageId, ImageOp, ImagePatch, ImageStatus, Resource, View, WriteOp,
};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use time::macros::datetime;

fn edge() -> &'static dyn EdgeCodec {
    Dialect::Foreman.edge()
}

fn upstream() -> &'static dyn UpstreamCodec {
    Dialect::Foreman.upstream()
}

const FIXTURES: Fixtures = Fixtures(Dialect::Foreman);

fn reply_json(reply: Reply) -> (u16, Value) {
    let (status, body) = golden::reply_json(reply);
    (status.as_u16(), body)
}

/// Decodes the request a Foreman client would send for this fixture.
fn edge_request(uri: &str) -> (EdgeCtx, ImageOp) {
    let parts = http::Request::get(uri).body(()).unwrap().into_parts().0;
    let mut ctx = edge().context(&parts, "https://foreman.example.com");
    match edge().decode(&mut ctx, &parts, &Bytes::new()).unwrap() {
        EdgeRequest::Op(op) => (ctx, op),
        EdgeRequest::Local(_) => panic!("{uri} answered locally"),
    }
}

/// Decodes a write a Foreman client would send, with `Content-Type` when given.
fn edge_write(
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (EdgeCtx, Result<ImageOp, GatewayError>) {
    let mut request = http::Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        request = request.header(http::header::CONTENT_TYPE, content_type);
    }
    let parts = request.body(()).unwrap().into_parts().0;
    let mut ctx = edge().context(&parts, "https://foreman.example.com");
    let op = edge().decode(&mut ctx, &parts, &Bytes::copy_from_slice(body)).map(|req| match req {
        EdgeRequest::Op(op) => op,
        EdgeRequest::Local(_) => panic!("{uri} answered locally"),
    });
    (ctx, op)
}

const JSON: Option<&str> = Some("application/json");
const IMAGE_PATH: &str = "/api/compute_resources/980190962/images/980190962";

/// The upstream call the gateway would make for an edge op, one to one.
fn upstream_call(op: &ImageOp) -> UpstreamCall {
    match op {
        ImageOp::Show(id) => UpstreamCall::Show(id.clone()),
        ImageOp::List(q) => UpstreamCall::List {
            filter: q.filter.clone(),
            sort: q.sort,
            view: q.view,
            start: q.page.start.clone(),
            limit: q.page.limit,
        },
        ImageOp::GetMany(_) => unreachable!(),
        ImageOp::Write(write) => UpstreamCall::Write(write.clone()),
    }
}

fn round_trip(uri: &str, name: &str) {
    let (ctx, op) = edge_request(uri);
    let call = upstream_call(&op);
    let (status, body) = reply_json(golden::round_trip(Dialect::Foreman, &call, &op, &ctx, &FIXTURES.bytes(name)));
    assert_eq!(status, 200, "{name}");
    golden::assert_same(&body, &FIXTURES.json(name), name);
}

#[test]
fn seed_index_round_trips() {
    round_trip("/api/compute_resources/980190962/images", "seed_index_compute_resource.json");
    round_trip("/api/v2/compute_resources/980190962/images?page=1&per_page=20", "seed_index_compute_resource.json");
}

#[test]
fn seed_show_create_and_update_bodies_round_trip() {
    let show = "/api/compute_resources/980190962/images/980190962";
    for name in ["seed_show.json", "seed_create_201.json", "seed_update_200.json"] {
        round_trip(show, name);
    }
}

#[test]
fn seed_index_decodes_into_the_model() {
    let call = upstream_call(&edge_request("/api/compute_resources/980190962/images").1);
    let body = FIXTURES.bytes("seed_index_compute_resource.json");
    let Outcome::List(page) = upstream().decode(&call, StatusCode::OK, &HeaderMap::new(), &body).unwrap() else {
        panic!("not a list")
    };
    assert_eq!((page.offset, page.matched, page.total, page.more), (Some(0), Some(2), Some(2), false));
    let second = &page.images[1];
    assert_eq!(second.id, ImageId::new("298486374"));
    assert_eq!(second.name, "centos-2");
    assert_eq!(second.status, ImageStatus::Active);
    assert_eq!(second.os.as_deref(), Some("centos 5.3"));
    assert_eq!(second.architecture.as_deref(), Some("x86_64"));
    assert_eq!(second.created, Some(datetime!(2019-09-11 14:34:13 UTC)));
    let extra: Value =
        second.extra.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<serde_json::Map<_, _>>().into();
    assert_eq!(
        extra,
        json!({
            "foreman.architecture_id": 501905019,
            "foreman.compute_resource_id": 980190962,
            "foreman.compute_resource_name": "bigcompute",
            "foreman.operatingsystem_id": 309172073,
            "foreman.username": "MyString",
            "foreman.uuid": "MyString2"
        })
    );
}

#[test]
fn seed_write_requests_decode_into_their_operations() {
    let (ctx, op) = edge_write(
        "POST",
        "/api/compute_resources/980190962/images",
        JSON,
        &FIXTURES.bytes("seed_create_request.json"),
    );
    assert_eq!(ctx.scope.as_deref(), Some("980190962"));
    let extra = [
        ("foreman.architecture_id", json!(331892513)),
        // the path's compute resource, not the body's 928692541
        ("foreman.compute_resource_id", json!(980190962)),
        ("foreman.operatingsystem_id", json!(309172073)),
        ("foreman.user_data", json!(true)),
        ("foreman.username", json!("ec2-user")),
        ("foreman.uuid", json!("abcdef")),
    ];
    let registered = Image {
        name: "TestImage".into(),
        extra: extra.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ..Image::default()
    };
    let ImageOp::Write(WriteOp::Register(image, _)) = op.unwrap() else { panic!("not a register") };
    assert_eq!(image, registered);
    let (_, op) = edge_write("PUT", IMAGE_PATH, JSON, &FIXTURES.bytes("seed_update_request.json"));
    let id = ImageId::new("980190962");
    assert_eq!(op.unwrap(), ImageOp::Write(WriteOp::Update { id: id.clone(), patch: ImagePatch::default() }));
    let (_, op) = edge_write("DELETE", IMAGE_PATH, JSON, &FIXTURES.bytes("seed_delete_request.json"));
    assert_eq!(op.unwrap(), ImageOp::Write(WriteOp::Delete { id, trash: false }));
}

/// An edge write, sent upstream as it is, answered with `reply`, rendered back.
fn write_round_trip(method: &str, uri: &str, request: &str, status: u16, reply: &str) -> (u16, Value) {
    let (ctx, op) = edge_write(method, uri, JSON, &FIXTURES.bytes(request));
    let op = op.unwrap();
    let call = upstream_call(&op);
    let status = StatusCode::from_u16(status).unwrap();
    let outcome = upstream().decode(&call, status, &HeaderMap::new(), &FIXTURES.bytes(reply)).unwrap();
    reply_json(edge().encode(&ctx, &op, outcome))
}

#[test]
fn seed_write_replies_round_trip() {
    let (status, body) = write_round_trip(
        "POST",
        "/api/compute_resources/980190962/images",
        "seed_create_request.json",
        201,
        "seed_create_201.json",
    );
    assert_eq!(status, 201);
    golden::assert_same(&body, &FIXTURES.json("seed_create_201.json"), "create");
    let (status, body) = write_round_trip("PUT", IMAGE_PATH, "seed_update_request.json", 200, "seed_update_200.json");
    assert_eq!(status, 200);
    golden::assert_same(&body, &FIXTURES.json("seed_update_200.json"), "update");
    let (status, body) =
        write_round_trip("DELETE", IMAGE_PATH, "seed_delete_request.json", 200, "seed_delete_200.json");
    assert_eq!(status, 200);
    golden::assert_same(&body, &FIXTURES.json("seed_delete_200.json"), "delete");
}

#[test]
fn seed_create_goes_upstream_without_password_or_compute_resource() {
    let (_, op) = edge_write(
        "POST",
        "/api/compute_resources/980190962/images",
        JSON,
        &FIXTURES.bytes("seed_create_request.json"),
    );
    let credentials = Credentials::Basic { user: "admin".into(), password: "changeme".into() };
    let target =
        Target { base: "https://up.example", scope: "5", credentials: &credentials, now: 0, format: Format::Json };
    let request = upstream().encode(&upstream_call(&op.unwrap()), &target).unwrap();
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri(), "https://up.example/api/v2/compute_resources/5/images");
    assert_eq!(request.headers()[http::header::CONTENT_TYPE], "application/json");
    let body: Value = serde_json::from_slice(request.body()).unwrap();
    golden::assert_same(
        &body,
        &json!({"image": {"name": "TestImage", "username": "ec2-user", "uuid": "abcdef",
                          "architecture_id": 331892513, "operatingsystem_id": 309172073, "user_data": true}}),
        "create sent upstream",
    );
}

#[test]
fn the_seed_delete_reply_decodes_as_deleted() {
    let call = UpstreamCall::Write(WriteOp::Delete { id: ImageId::new("980190962"), trash: false });
    let body = FIXTURES.bytes("seed_delete_200.json");
    let Outcome::Image(image) = upstream().decode(&call, StatusCode::OK, &HeaderMap::new(), &body).unwrap() else {
        panic!("not an image")
    };
    assert_eq!((image.id.as_str(), image.status), ("980190962", ImageStatus::Deleted));
    assert!(!image.extra.contains_key("foreman.password"));
}

#[test]
fn bad_writes_are_refused_with_the_error_fixtures() {
    let refused = |content_type: Option<&str>, body: &[u8], status: u16, name: &str| {
        let (ctx, op) = edge_write("POST", "/api/compute_resources/980190962/images", content_type, body);
        let (rendered_status, rendered) = reply_json(edge().encode_error(&ctx, &op.unwrap_err()));
        assert_eq!(rendered_status, status, "{name}");
        golden::assert_same(&rendered, &FIXTURES.json(&format!("errors/{name}")), name);
    };
    refused(Some("text/plain"), b"{}", 415, "error_415_media_type.json");
    refused(JSON, b"{", 400, "error_400_malformed_json.json");
    refused(JSON, br#"{"image": {"username": "root", "password": "x"}}"#, 422, "error_422_validation.json");
}

#[test]
fn seed_delete_body_decodes_without_its_password() {
    let call = UpstreamCall::Show(ImageId::new("980190962"));
    let body = FIXTURES.bytes("seed_delete_200.json");
    let Outcome::Image(image) = upstream().decode(&call, StatusCode::OK, &HeaderMap::new(), &body).unwrap() else {
        panic!("not an image")
    };
    assert_eq!((image.id.as_str(), image.name.as_str()), ("980190962", "centos-1"));
    assert_eq!(image.created, Some(datetime!(2019-09-11 14:34:13.271 UTC)));
    assert_eq!(image.updated, Some(datetime!(2019-09-11 14:34:13.271 UTC)));
    assert_eq!((image.os.as_deref(), image.architecture.as_deref()), (None, None));
    assert_eq!(image.extra.get("foreman.user_data"), Some(&json!(false)));
    assert_eq!(image.extra.get("foreman.iam_role"), Some(&Value::Null));
    assert!(!image.extra.contains_key("foreman.password"));
    let (ctx, op) = edge_request("/api/compute_resources/980190962/images/980190962");
    let (_, shown) = reply_json(edge().encode(&ctx, &op, Outcome::Image(image)));
    golden::assert_same(
        &shown,
        &json!({
            // the raw record names no operating system, compute resource or
            // architecture: the contract's defaults stand in, never null
            "operatingsystem_id": 309172073, "operatingsystem_name": "Unknown", "compute_resource_id": 980190962,
            "compute_resource_name": "980190962", "architecture_id": 501905019, "architecture_name": "x86_64",
            "uuid": "string-of-uuid", "username": "root", "created_at": "2019-09-11 14:34:13 UTC",
            "updated_at": "2019-09-11 14:34:13 UTC", "user_data": false, "iam_role": null,
            "id": 980190962, "name": "centos-1"
        }),
        "delete body shown",
    );
}

fn decode_error(name: &str, status: u16, call: &UpstreamCall) -> GatewayError {
    let status = StatusCode::from_u16(status).unwrap();
    match upstream().decode(call, status, &HeaderMap::new(), &FIXTURES.bytes(&format!("errors/{name}"))) {
        Err(err) => err,
        Ok(outcome) => panic!("{name} decoded to {outcome:?}"),
    }
}

fn render(err: &GatewayError) -> (u16, Value) {
    reply_json(edge().encode_error(&EdgeCtx::new(Dialect::Foreman, "https://gw"), err))
}

#[test]
fn error_bodies_decode_and_repeat() {
    let show = UpstreamCall::Show(ImageId::new("980190962"));
    let bad = ErrorKind::BadRequest;
    let repeated = [
        ("error_404_not_found.json", 404, ErrorKind::NotFound { resource: Resource::Image, id: "980190962".into() }),
        ("error_403_access_denied.json", 403, ErrorKind::Forbidden),
        ("error_400_query_not_supported.json", 400, bad.clone()),
        ("error_400_param_invalid.json", 400, bad.clone()),
        ("error_400_malformed_json.json", 400, bad.clone()),
        ("error_415_media_type.json", 415, ErrorKind::UnsupportedMediaType),
        ("error_422_validation.json", 422, bad.clone()),
        ("error_422_association.json", 422, bad),
    ];
    for (name, status, kind) in repeated {
        let err = decode_error(name, status, &show);
        assert_eq!(err.kind, kind, "{name}");
        let (rendered_status, body) = render(&err);
        assert_eq!(rendered_status, status, "{name}");
        golden::assert_same(&body, &FIXTURES.json(&format!("errors/{name}")), name);
    }
}

#[test]
fn error_messages_carry_the_telling_text() {
    let list = upstream_call(&edge_request("/api/compute_resources/980190962/images").1);
    let message = |name: &str, status: u16| decode_error(name, status, &list).message.into_owned();
    assert_eq!(message("error_403_access_denied.json", 403), "Missing one of the required permissions: view_images");
    assert_eq!(message("error_422_validation.json", 422), "Name can't be blank; Uuid can't be blank");
    assert_eq!(message("error_503_maintenance.json", 503), "Foreman is in maintenance mode");
    let err = decode_error("error_404_not_found.json", 404, &list);
    assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: String::new() });
}

#[test]
fn canonical_errors_render_like_foreman() {
    let (status, body) = render(&GatewayError::image_not_found("980190962"));
    assert_eq!(status, 404);
    golden::assert_same(&body, &FIXTURES.json("errors/error_404_not_found.json"), "404 from the model");
    let (status, body) = render(&GatewayError::internal("the catalog lock is poisoned"));
    assert_eq!(status, 500);
    golden::assert_same(&body, &FIXTURES.json("errors/error_500_no_method.json"), "500 from the model");
}

#[test]
fn logins_and_internal_details_are_not_repeated() {
    let show = UpstreamCall::Show(ImageId::new("1"));
    for name in ["error_401_unauthorized.json", "error_401_disabled.json", "error_401_bruteforce.json"] {
        let err = decode_error(name, 401, &show);
        assert_eq!(err.kind, ErrorKind::Unauthorized, "{name}");
        assert_eq!(render(&err), (401, json!({"error": {"message": "Unable to authenticate user "}})), "{name}");
    }
    let err = decode_error("error_500_standard_error.json", 500, &show);
    assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    assert_eq!(render(&err), (502, json!({"error": {"message": "the upstream service gave an invalid response"}})));
    let err = decode_error("error_500_no_method.json", 500, &show);
    assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    let err = decode_error("error_503_maintenance.json", 503, &show);
    assert_eq!(err.kind, ErrorKind::UpstreamUnavailable);
    assert_eq!(render(&err), (503, json!({"message": "the service is temporarily unavailable"})));
}

#[test]
fn list_view_is_always_detail() {
    let (_, op) = edge_request("/api/compute_resources/980190962/images");
    let ImageOp::List(q) = op else { panic!("not a list") };
    assert_eq!(q.view, View::Detail);
}
