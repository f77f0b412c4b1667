//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), here so that they
//! also run on stable as bounded smoke tests (`tests/fuzz_smoke.rs`). Each
//! takes arbitrary bytes, must never panic, and checks what holds beyond
//! that: every edge error renders in its edge's shape, every rendered reply
//! is well-formed in its format.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;

use crate::dialect::gogrid::ApiMethod;
use crate::dialect::{Dialect, EdgeCall, EdgeCodec, EdgeCtx, EdgeRequest, Reply, UpstreamCall};
use crate::identity::Identity;
use crate::model::{GetMany, ImageId, ImageOp, ListQuery, LookupKey, Outcome, PageStart, View};

/// A request to `dialect`'s edge made of `data`: the first line is the
/// path and query (a list path when it is no URI), the rest the body; the
/// first byte picks the method.
pub fn edge_request(dialect: Dialect, data: &[u8]) {
    let (head, body) = split_line(data);
    let path = std::str::from_utf8(head).ok().filter(|p| p.starts_with('/') && p.parse::<http::Uri>().is_ok());
    let path = path.unwrap_or(dialect.profile().collection_path());
    let method =
        [Method::GET, Method::POST, Method::PUT, Method::DELETE][data.first().map_or(0, |b| *b as usize % 4)].clone();
    let content_type = dialect.profile().body_content_type();
    decode_at_edge(dialect.edge(), method, path, content_type, Bytes::copy_from_slice(body));
}

/// Foreman's search grammar: `data` as the `search` parameter of a list.
pub fn foreman_search(data: &[u8]) {
    let search: String = percent_encoding::percent_encode(data, percent_encoding::NON_ALPHANUMERIC).to_string();
    let path = format!("/api/compute_resources/980190962/images?search={search}");
    decode_at_edge(&crate::dialect::foreman::Foreman, Method::GET, &path, "application/json", Bytes::new());
}

fn decode_at_edge(edge: &dyn EdgeCodec, method: Method, path: &str, content_type: &'static str, body: Bytes) {
    let Ok(request) = http::Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::AUTHORIZATION, "Basic ZGVtbzpkZW1v")
        .body(())
    else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let mut ctx = edge.context(&parts, "http://127.0.0.1");
    match edge.decode(&mut ctx, &parts, &body) {
        Ok(EdgeRequest::Op(op)) => {
            // whatever was asked, its bounds check never panics
            let mut op = op;
            let _ = crate::model::RequestBounds::default().check(&mut op);
        }
        Ok(EdgeRequest::Local(reply)) => assert_well_formed(&ctx, reply, None),
        Err(err) => {
            let status = err.kind.status();
            assert_well_formed(&ctx, edge.encode_error(&ctx, &err), Some(status));
        }
    }
}

/// An upstream reply of `dialect` to a show, a list and a get-many, with
/// `data` as its body (the first byte picks the status and the content
/// type); whatever decodes is rendered by every edge, in every GoGrid format.
pub fn upstream_reply(dialect: Dialect, data: &[u8]) {
    let (status, content_type) = match data.first().map_or(0, |b| b % 6) {
        0..=2 => (StatusCode::OK, "application/json"),
        3 => (StatusCode::OK, "application/xml"),
        4 => (StatusCode::OK, "text/csv"),
        _ => (StatusCode::NOT_FOUND, "application/json"),
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let calls = [
        UpstreamCall::Show(ImageId::new("1")),
        UpstreamCall::List {
            filter: Default::default(),
            sort: None,
            view: View::Detail,
            start: PageStart::First,
            limit: None,
        },
        UpstreamCall::GetMany(GetMany { key: LookupKey::Id, values: vec!["1".into()], shown_name: None }),
    ];
    let bounds = crate::config::LimitsConfig::default().reply_bounds();
    if bounds.check(data).is_err() {
        return;
    }
    for call in calls {
        if let Ok(outcome) = dialect.upstream().decode(&call, status, &headers, data) {
            render_everywhere(outcome);
        }
    }
}

/// Renders `outcome` as each edge would, GoGrid in each format.
fn render_everywhere(outcome: Outcome) {
    let op = match &outcome {
        Outcome::List(_) => ImageOp::List(ListQuery::default()),
        Outcome::Images(_) => ImageOp::GetMany(GetMany { key: LookupKey::Id, values: vec![], shown_name: None }),
        _ => ImageOp::Show(ImageId::new("1")),
    };
    for edge in Dialect::ALL {
        for format in edge.profile().formats() {
            let mut ctx = EdgeCtx::new(edge, "http://127.0.0.1");
            ctx.format = *format;
            ctx.scope = Some("demo".into());
            ctx.call = EdgeCall::GoGrid(ApiMethod::List);
            let reply = edge.edge().encode(&ctx, &op, outcome.clone());
            assert_well_formed(&ctx, reply, None);
        }
    }
}

/// A body at the gateway's own Keystone (`POST /v3/auth/tokens`): a 201,
/// or a refusal in Keystone's shape naming no internal type.
pub fn keystone_body(data: &[u8]) {
    let tokens =
        crate::identity::Tokens::new(crate::identity::TokenKeys::ephemeral(), std::time::Duration::from_secs(60));
    let identity = Identity::new(Vec::new(), std::time::Duration::from_secs(300), tokens, true);
    let (parts, ()) = http::Request::builder()
        .method(Method::POST)
        .uri("/v3/auth/tokens")
        .header(header::CONTENT_TYPE, "application/json")
        .body(())
        .expect("a static request")
        .into_parts();
    let reply = crate::identity::keystone::answer(
        &identity,
        "RegionOne",
        &parts,
        &Bytes::copy_from_slice(data),
        "http://127.0.0.1",
    );
    let status = reply.status();
    let body = body_of(reply);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("keystone replies are JSON");
    if status.as_u16() >= 400 {
        assert_eq!(json["error"]["code"], status.as_u16(), "{json}");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("struct ") && !text.contains("enum "), "{text}");
    }
}

/// A configuration file: parsed and validated, or refused; never a panic.
pub fn config_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::Config::parse(text);
    }
}

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

fn body_of(reply: Reply) -> Bytes {
    use futures_util::FutureExt;
    reply.into_body().collect().now_or_never().expect("a full body is ready").expect("infallible").to_bytes()
}

/// A reply is well-formed in its format: JSON parses, GoGrid's XML is
/// XML 1.0 whatever the text, CSV starts with its envelope line; an error
/// carries `status` when given.
fn assert_well_formed(ctx: &EdgeCtx, reply: Reply, status: Option<u16>) {
    if let Some(status) = status.filter(|_| ctx.dialect.profile().error_status_follows_kind()) {
        assert_eq!(reply.status().as_u16() >= 400, status >= 400, "{status}");
    }
    if reply.status() == StatusCode::NO_CONTENT {
        return;
    }
    let content_type = reply.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = body_of(reply);
    if content_type.contains("json") {
        serde_json::from_slice::<serde_json::Value>(&body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    } else if content_type.contains("xml") {
        xml_well_formed(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    } else if content_type.contains("csv") {
        assert!(body.starts_with(b"# "), "{}", String::from_utf8_lossy(&body));
    }
}

/// Reads all of `xml`: well-formed, balanced, every character allowed in XML 1.0.
pub fn xml_well_formed(xml: &[u8]) -> Result<(), String> {
    use quick_xml::events::Event;
    let text = std::str::from_utf8(xml).map_err(|e| e.to_string())?;
    if let Some(c) = text.chars().find(|c| crate::model::is_unsafe_char(*c)) {
        return Err(format!("U+{:04X} is not allowed in XML 1.0", c as u32));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.checked_sub(1).ok_or("an end tag with no start")?,
            Event::Text(t) => {
                t.unescape().map_err(|e| e.to_string())?;
            }
            Event::Eof if depth == 0 => return Ok(()),
            Event::Eof => return Err(format!("{depth} elements left open")),
            _ => {}
        }
    }
}
