//! What a request or an upstream reply may expand into: ids per get-many,
//! upstream calls per request, replies that are small but expand (sparse
//! CSV columns, a list of 200,000 images, one huge name), ids that could
//! become separators upstream, and written text no format can carry.

use crate::common::dialects::raw_show_path;
use crate::common::{self, Canned, FakeUpstream, Got, TestGateway, get, send};
use dragoman::config::{Config, UpstreamConfig};
use dragoman::dialect::{Dialect, Format};
use http::Method;
use serde_json::Value;

/// A gateway whose every edge goes to the upstream at `url`.
async fn gateway(upstream: Dialect, url: &str, tune: impl FnOnce(&mut Config, &mut UpstreamConfig)) -> TestGateway {
    let mut up = UpstreamConfig::new("up", upstream, url);
    up.scope = "1".into();
    up.credentials = common::any_credentials(upstream);
    let mut config = Config::default();
    tune(&mut config, &mut up);
    config.upstreams.push(up);
    config.server.default_backend = "up".into();
    TestGateway::start(config).await
}

fn always(content_type: &'static str, body: String) -> Canned {
    Canned { matches: Box::new(|_, _| true), status: 200, content_type, body: body.into() }
}

fn assert_gogrid_failure(got: &Got, status: u16, what: &str) {
    assert_eq!(got.status.as_u16(), status, "{what}: {}", got.text());
    let body = got.json();
    assert_eq!(body["status"], "failure", "{what}: {body}");
    assert_eq!(body["list"][0]["object"], "error", "{what}: {body}");
}

#[tokio::test]
async fn a_get_many_of_110k_ids_is_refused_by_the_edge_without_an_upstream_call() {
    let fake = FakeUpstream::start(vec![]).await;
    let gw = gateway(Dialect::Hostway, &fake.url(), |_, _| {}).await;
    let ids: String = (0..110_000).map(|n| format!("&id={n}")).collect();
    let body = format!("api_key=demo&v=1.3&sig=0&format=json{ids}");
    let got = send(
        Method::POST,
        &gw.url("/api/grid/image/get"),
        &[("content-type", "application/x-www-form-urlencoded")],
        &body,
    )
    .await;
    assert_gogrid_failure(&got, 400, "110k ids");
    assert!(got.json()["list"][0]["message"].as_str().unwrap().contains("at most 100"), "{}", got.text());
    assert!(got.body.len() < 1024, "the refusal does not echo the ids: {} bytes", got.body.len());
    assert_eq!(fake.seen().len(), 0, "no upstream call");
}

#[tokio::test]
async fn a_request_making_more_upstream_calls_than_the_bound_stops_at_it() {
    let fake = FakeUpstream::start(vec![]).await;
    let gw = gateway(Dialect::Hostway, &fake.url(), |config, _| config.limits.max_upstream_calls = 5).await;
    let ids: String = (1..=20).map(|n| format!("&id={n}")).collect();
    let got = get(&gw.url(&format!("/api/grid/image/get?api_key=demo&v=1.3&sig=0&format=json{ids}"))).await;
    assert_gogrid_failure(&got, 501, "20 shows past a bound of 5 calls");
    assert!(fake.seen().len() <= 5, "{} upstream calls", fake.seen().len());
}

#[tokio::test]
async fn an_amplifying_gogrid_csv_reply_is_a_bad_gateway() {
    // 20 rows of 1000 columns x.N.1000: 51 KB that a blind reader expands
    // into 20 million list slots
    let columns: Vec<String> = (1..=1000).map(|n| format!("x.{n}.1000")).collect();
    let row = format!("{},\n", vec!["1"; 1000].join(","));
    let csv = format!(
        "# SUCCESS, /grid/image/list, TOTAL, 20, NUMPAGES, 0, START, 0, RETURNED, 20\n# {}\n{}",
        columns.join(","),
        row.repeat(20)
    );
    for max_fields in [256, 2000] {
        let fake = FakeUpstream::start(vec![always("text/csv", csv.clone())]).await;
        let gw = gateway(Dialect::GoGrid, &fake.url(), |config, up| {
            up.format = Format::Csv;
            config.limits.max_fields_per_record = max_fields;
        })
        .await;
        let got = get(&gw.url("/accounts/demo/flexcloud/images/detail")).await;
        assert_eq!(got.status, 502, "{max_fields} fields: {}", got.text());
        assert_eq!(got.json()["computeFault"]["code"], 502, "{}", got.text());
    }
}

#[tokio::test]
async fn a_reply_of_200k_images_or_a_huge_name_is_a_bad_gateway() {
    let images = format!("{{\"images\":[{}]}}", vec![r#"{"id":"1","name":"a"}"#; 200_000].join(","));
    let huge = format!(r#"{{"image":{{"id":"1","name":"{}","status":"ACTIVE"}}}}"#, "n".repeat(1 << 20));
    // a list past the bound within the first bytes of its reply: refused
    // before the reply starts (a longer one is streamed, and cut short: below)
    for (what, body, path) in [
        ("200k images", images, "/accounts/demo/flexcloud/images/detail"),
        ("a 1 MiB name", huge, "/accounts/demo/flexcloud/images/1"),
    ] {
        let fake = FakeUpstream::start(vec![always("application/json", body)]).await;
        let gw = gateway(Dialect::OpenStack, &fake.url(), |config, _| config.limits.max_reply_images = 100).await;
        let got = get(&gw.url(path)).await;
        assert_eq!(got.status, 502, "{what}: {}", got.text());
        assert_eq!(got.json()["computeFault"]["code"], 502, "{what}");
    }
}

/// Ids no edge's images can have, as they go on the wire: separators (also
/// encoded), dot segments (also encoded, or with Tomcat's `;`), control
/// characters, characters no id of any dialect holds, too long.
fn ids_no_edge_holds() -> Vec<String> {
    let raw = [
        "..%2F..%2Fadmin",
        "%2E%2E",
        "%2e",
        "..",
        "...",
        "a%5Cb",
        "a%00b",
        "a%3Bb",
        "..%3B",
        "a%20b",
        "a:b",
        "a@b",
        "%C3%A9",
        "a%252Fb",
    ];
    let mut ids: Vec<String> = raw.map(str::to_owned).to_vec();
    ids.extend(["a".repeat(256), "7".repeat(10_000)]);
    ids
}

#[tokio::test]
async fn a_streamed_list_past_the_bound_of_images_is_cut_short() {
    let images = format!("{{\"images\":[{}]}}", vec![r#"{"id":"1","name":"a"}"#; 200_000].join(","));
    let fake = FakeUpstream::start(vec![always("application/json", images)]).await;
    let gw = gateway(Dialect::OpenStack, &fake.url(), |_, _| {}).await;
    let request = http::Request::get(gw.url("/accounts/demo/flexcloud/images/detail"))
        .header("authorization", "Basic ZGVtbzpkZW1v")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let reply = common::client().request(request).await.unwrap();
    assert_eq!(reply.status(), 200, "the first images went out before the bound was passed");
    let read = http_body_util::BodyExt::collect(reply.into_body()).await;
    assert!(read.is_err(), "the reply is cut short, never a list of the first 10,000 images");
}

#[tokio::test]
async fn ids_an_edge_cannot_hold_never_reach_the_upstream() {
    let fake = FakeUpstream::start(vec![]).await;
    let gw = gateway(Dialect::Hostway, &fake.url(), |_, _| {}).await;
    // apipie's identifier at Foreman: letters, digits, `_` and `-`, at most 128
    let no_foreman_identifier = ["1.5", "a.b", "a~b", &"1".repeat(129)].map(str::to_owned);
    for edge in Dialect::ALL {
        let mut ids = ids_no_edge_holds();
        if edge == Dialect::Foreman {
            ids.extend(no_foreman_identifier.clone());
        }
        for id in &ids {
            let got = get(&gw.url(&raw_show_path(edge, id))).await;
            if edge == Dialect::GoGrid {
                assert_gogrid_failure(&got, 400, id);
            } else {
                assert_eq!(got.status, 404, "{edge} {id:.20}: {}", got.text());
            }
            assert!(got.body.len() < 2048, "{edge} {id:.20}: the not-found does not echo the whole id");
            if matches!(edge, Dialect::OpenStack | Dialect::Foreman) {
                let path = gw.url(&raw_show_path(edge, id));
                let got = send(Method::DELETE, &path, &[], "").await;
                assert_eq!(got.status, 404, "{edge} delete {id:.20}: {}", got.text());
            }
        }
        let seen = fake.seen();
        assert!(seen.is_empty(), "{edge}: {:?}", seen.iter().map(|s| &s.target).collect::<Vec<_>>());
    }
    // GoGrid looks images up by name too: only by what a name can hold
    for name in ["a%00b", "%EF%BF%BE", ""] {
        let path = format!("/api/grid/image/get?name={name}&api_key=demo&v=1.3&sig=0&format=json");
        assert_gogrid_failure(&get(&gw.url(&path)).await, 400, name);
    }
    assert!(fake.seen().is_empty(), "{:?}", fake.seen().iter().map(|s| &s.target).collect::<Vec<_>>());
    // what each edge's ids can hold does reach it
    let good = [
        (Dialect::Hostway, "debian_lenny_template"),
        (Dialect::OpenStack, "70a599e0-31e7-49b7-b260-868f441e862b"),
        (Dialect::GoGrid, "133"),
        (Dialect::Foreman, "70a599e0-31e7-49b7-b260-868f441e862b"),
    ];
    for (at, (edge, id)) in good.into_iter().enumerate() {
        get(&gw.url(&raw_show_path(edge, id))).await;
        let seen = fake.seen();
        assert_eq!(seen.len(), at + 1, "{edge} {id}");
        assert!(seen[at].target.ends_with(&format!("/images/{id}")), "{edge}: {}", seen[at].target);
    }
}

/// Every byte of `xml` read as XML 1.0: well-formed, or the reason.
fn well_formed(xml: &str) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0i32;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Text(t) => {
                let text = t.unescape().map_err(|e| e.to_string())?;
                if let Some(c) = text.chars().find(|c| dragoman::model::is_unsafe_char(*c)) {
                    return Err(format!("U+{:04X} in text", c as u32));
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    if depth == 0 { Ok(()) } else { Err(format!("{depth} elements left open")) }
}

#[tokio::test]
async fn names_no_format_can_carry_are_refused_and_upstream_ones_made_safe_for_xml() {
    let gw = TestGateway::start(Config::default()).await;
    for name in ["a%00b", "%01", "%EF%BF%BE"] {
        let got = get(
            &gw.url(&format!("/api/grid/image/save?api_key=demo&v=1.3&sig=0&format=json&server=1&friendlyName={name}"))
        )
        .await;
        assert_gogrid_failure(&got, 400, name);
    }
    let got = send(
        Method::POST,
        &gw.url("/api/v2/compute_resources/980190962/images"),
        &[("content-type", "application/json")],
        r#"{"image":{"name":"a\u0001b","username":"root","uuid":"u-1"}}"#,
    )
    .await;
    assert_eq!(got.status, 422, "{}", got.text());
    assert_eq!(got.json()["error"]["full_messages"][0], "Name is invalid");

    // an upstream may hold what the edge refuses: the XML stays well-formed
    let upstream = r#"{"images":[{"id":"1","name":"nul\u0000 bell\u0007 \ufffe end","status":"ACTIVE"}]}"#;
    let fake = FakeUpstream::start(vec![always("application/json", upstream.into())]).await;
    let gw = gateway(Dialect::OpenStack, &fake.url(), |_, _| {}).await;
    let got = get(&gw.url("/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=xml")).await;
    assert_eq!(got.status, 200, "{}", got.text());
    well_formed(&got.text()).unwrap_or_else(|e| panic!("{e}: {}", got.text()));
    assert!(got.text().contains("nul\u{FFFD} bell\u{FFFD} \u{FFFD} end"), "{}", got.text());
    let json: Value = get(&gw.url("/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json")).await.json();
    assert_eq!(json["list"][0]["name"], "nul\u{0} bell\u{7} \u{FFFE} end", "JSON carries every character");
}
