//! Hostway fixtures decoded by the upstream half and rendered again by the
//! edge half must come back equal, field order included.
//!
//! Fields that cannot round-trip, and why:
//! - `zones` in the 2012 list fixtures: that revision of the API had no
//!   `zones`; the current API (the Hostway API document, `ImageList`, `ImageListDetails`)
//!   always sends it, so the edge renders `"zones": []` for images without zones.
//! - `created` in the seed's field template: the placeholder
//!   `"yyyy-mm-ddThh:mm:ss"` is no timestamp and renders as `null`.
//! - `errorid` / `guid` in error bodies: a fresh uuid v4 on every error; the
//!   test checks it is one and compares everything else.
//! - the 401 body: the documentation prints WebOb's text on one line with
//!   single spaces; the edge sends WebOb's exact bytes (line breaks, two spaces
//!   after "requested."), so the two are compared with whitespace normalised.

use http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::common::golden::{self, Fixtures, list_call, list_op, reply_bytes, reply_json};
use dragoman::dialect::hostway::Hostway;
use dragoman::dialect::{Dialect, EdgeCodec, EdgeCtx, UpstreamCall, UpstreamCodec};
use dragoman::model::{ErrorKind, ImageId, ImageOp, Resource, View};

const EDGE: &dyn EdgeCodec = &Hostway;
const UP: &dyn UpstreamCodec = &Hostway;

const FIXTURES: Fixtures = Fixtures(Dialect::Hostway);

fn ctx(origin: &str, prefix: &str) -> EdgeCtx {
    golden::ctx(Dialect::Hostway, origin, prefix)
}

/// Decodes a 200 body and renders the outcome again.
fn round_trip(call: &UpstreamCall, op: &ImageOp, ctx: &EdgeCtx, body: &[u8]) -> Value {
    let reply = golden::round_trip(Dialect::Hostway, call, op, ctx, body);
    assert_eq!(reply.headers()[header::CONTENT_TYPE], "application/json");
    let (status, body) = reply_json(reply);
    assert_eq!(status, StatusCode::OK);
    body
}

fn assert_same(actual: &Value, expected: &Value) {
    golden::assert_same(actual, expected, "");
}

/// Adds `"zones": []` at the end of every listed image (it follows `id`).
fn with_empty_zones(mut list: Value) -> Value {
    for image in list["images"].as_array_mut().unwrap() {
        image.as_object_mut().unwrap().insert("zones".into(), Value::Array(vec![]));
    }
    list
}

#[test]
fn image_get_example() {
    let body = FIXTURES.bytes("docs_Image_get_example.json");
    let call = UpstreamCall::Show(ImageId::new("133"));
    let ctx = ctx("https://api.hostway.com", "/accounts/{accountId}/flexcloud");
    let out = round_trip(&call, &ImageOp::Show(ImageId::new("133")), &ctx, &body);
    assert_same(&out, &FIXTURES.json("docs_Image_get_example.json"));
}

#[test]
fn image_list_example_2012() {
    let body = FIXTURES.bytes("docs_ImageList_example_2012.json");
    let out = round_trip(&list_call(View::Summary), &list_op(View::Summary), &ctx("http://{api_server}", ""), &body);
    assert_same(&out, &with_empty_zones(FIXTURES.json("docs_ImageList_example_2012.json")));
}

#[test]
fn image_list_details_example_2012() {
    let body = FIXTURES.bytes("docs_ImageListDetails_example_2012.json");
    let out = round_trip(&list_call(View::Detail), &list_op(View::Detail), &ctx("http://127.0.0.1:6543", ""), &body);
    assert_same(&out, &with_empty_zones(FIXTURES.json("docs_ImageListDetails_example_2012.json")));
}

#[test]
fn seed_response_template() {
    let body = FIXTURES.bytes("seed_Image_response_template.json");
    let call = UpstreamCall::Show(ImageId::new("{image_id}"));
    let ctx = ctx("https://api.hostway.com", "/accounts/{accountId}/flexcloud");
    let out = round_trip(&call, &ImageOp::Show(ImageId::new("{image_id}")), &ctx, &body);
    let mut expected = FIXTURES.json("seed_Image_response_template.json");
    expected["image"]["created"] = Value::Null;
    // the braces of the placeholder id are escaped in links, as any id would be
    let href = "https://api.hostway.com/accounts/{accountId}/flexcloud/images/%7Bimage_id%7D/";
    expected["image"]["links"][0]["href"] = href.into();
    expected["image"]["links"][1]["href"] = href.into();
    assert_same(&out, &expected);
}

/// Decodes an error fixture, checks its kind, renders it again and returns
/// the rendered body with its fresh id (`id_key`) swapped for the fixture's.
fn error_round_trip(name: &str, status: StatusCode, call: &UpstreamCall, kind: ErrorKind, id_key: &str) {
    let body = FIXTURES.bytes(name);
    let err = UP.decode(call, status, &HeaderMap::new(), &body).unwrap_err();
    assert_eq!(err.kind, kind);
    let reply = EDGE.encode_error(&ctx("https://api.hostway.com", ""), &err);
    assert_eq!(reply.status(), status);
    assert_eq!(reply.headers()[header::CONTENT_TYPE], "application/json");
    let (_, mut out) = reply_json(reply);
    let expected: Value = serde_json::from_slice(&body).unwrap();
    let fault = out.as_object_mut().unwrap().values_mut().next().unwrap();
    let fresh = fault[id_key].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(fresh).unwrap().get_version_num(), 4);
    let fixture_id = expected.as_object().unwrap().values().next().unwrap()[id_key].clone();
    fault[id_key] = fixture_id;
    assert_same(&out, &expected);
}

#[test]
fn error_403_forbidden() {
    let call = UpstreamCall::Show(ImageId::new("122"));
    error_round_trip("docs_error_403_forbidden.json", StatusCode::FORBIDDEN, &call, ErrorKind::Forbidden, "errorid");
}

#[test]
fn error_404_image() {
    let call = UpstreamCall::Show(ImageId::new("missing_image_id"));
    let kind = ErrorKind::NotFound { resource: Resource::Image, id: "missing_image_id".into() };
    error_round_trip("docs_error_404_itemNotFound_image.json", StatusCode::NOT_FOUND, &call, kind, "errorid");
}

#[test]
fn error_404_account() {
    let call = UpstreamCall::Show(ImageId::new("122"));
    let kind = ErrorKind::NotFound { resource: Resource::Tenant, id: String::new() };
    error_round_trip("docs_error_404_itemNotFound_account.json", StatusCode::NOT_FOUND, &call, kind, "guid");
}

#[test]
fn error_401_plain_text() {
    let body = FIXTURES.bytes("docs_error_401_body.txt");
    let call = UpstreamCall::Show(ImageId::new("133"));
    let err = UP.decode(&call, StatusCode::UNAUTHORIZED, &HeaderMap::new(), &body).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    let reply = EDGE.encode_error(&ctx("https://api.hostway.com", ""), &err);
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    assert!(reply.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic realm="));
    let (_, out) = reply_bytes(reply);
    let words = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(words(&out), words(&body));
}
