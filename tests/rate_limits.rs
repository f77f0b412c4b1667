//! Quotas: a request over one is refused in the edge's own dialect with
//! `Retry-After`, per client, per class, per address for callers that fail
//! authentication, for Keystone token requests, and globally; refused
//! requests take no in-flight slot; and a flood of distinct callers cannot
//! grow the limiter's memory without bound.

use std::net::IpAddr;
use std::time::Duration;

use crate::common::dialects::show_path;
use crate::common::{Got, TestGateway, demo_token, get, send, send_raw};
use crate::protect;
use dragoman::config::{Config, CredentialsConfig, QuotaConfig, RateLimitConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use dragoman::pipeline::{Class, RateLimits, Who};
use http::Method;
use serde_json::json;

/// `requests` an hour, in a burst of as many: nothing replenishes during a test.
fn per_hour(requests: u32) -> QuotaConfig {
    QuotaConfig { requests, per_secs: 3600, burst: None }
}

fn with_limits(rate_limit: RateLimitConfig) -> Config {
    Config { rate_limit, ..Config::default() }
}

/// Asserts `got` is `edge`'s rate-limit refusal, with a `Retry-After` in the hour.
fn assert_rate_limited(edge: Dialect, got: &Got, what: &str) {
    assert_eq!(got.status, 429, "{what}: {}", got.text());
    let after: u64 = got.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&after), "{what}: Retry-After {after}");
    let body = got.json();
    match edge {
        Dialect::Hostway => assert_eq!(body["overLimit"]["code"], 429, "{what}: {body}"),
        Dialect::OpenStack => {
            assert_eq!(body["overLimit"]["code"], 429, "{what}: {body}");
            assert_eq!(body["overLimit"]["retryAfter"], after.to_string(), "{what}: {body}");
        }
        Dialect::GoGrid => {
            assert_eq!(body["status"], "failure", "{what}: {body}");
            assert_eq!(body["list"][0]["errorcode"], "RateLimitExceeded", "{what}: {body}");
        }
        Dialect::Foreman => assert!(body["error"]["message"].is_string(), "{what}: {body}"),
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => assert!(body["error"].is_string(), "{what}: {body}"),
    }
}

#[tokio::test]
async fn a_client_over_its_quota_is_refused_in_its_edge_dialect() {
    for edge in Dialect::ALL {
        let gw = TestGateway::start(with_limits(RateLimitConfig { client: per_hour(1), ..Default::default() })).await;
        let first = get(&gw.url(&show_path(edge, "133"))).await;
        assert_eq!(first.status, 200, "{edge}: {}", first.text());
        let second = get(&gw.url(&show_path(edge, "133"))).await;
        assert_rate_limited(edge, &second, &format!("{edge} over its quota"));
        if edge == Dialect::GoGrid {
            // in the format asked for
            let xml = get(&gw.url(&show_path(edge, "133").replace("format=json", "format=xml"))).await;
            assert_eq!(xml.status, 429);
            assert!(xml.headers["content-type"].to_str().unwrap().contains("xml"), "{:?}", xml.headers);
            assert!(xml.text().contains("status=\"failure\"") && xml.text().contains("RateLimitExceeded"));
        }
    }
}

#[tokio::test]
async fn token_requests_have_their_own_quota_in_keystone_s_shape() {
    let gw = TestGateway::start(with_limits(RateLimitConfig { tokens: per_hour(1), ..Default::default() })).await;
    let body = json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}}})
    .to_string();
    let headers = [("content-type", "application/json")];
    let first = send_raw(Method::POST, &gw.url("/v3/auth/tokens"), &headers, &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let second = send_raw(Method::POST, &gw.url("/v3/auth/tokens"), &headers, &body).await;
    assert_eq!(second.status, 429, "{}", second.text());
    assert!(second.headers.contains_key("retry-after"));
    let refusal = second.json();
    assert_eq!(refusal["error"]["code"], 429, "{refusal}");
    assert_eq!(refusal["error"]["title"], "Too Many Requests", "{refusal}");
    // the version document is not a token request
    assert_eq!(get(&gw.url("/v3")).await.status, 200);
}

#[tokio::test]
async fn an_address_failing_authentication_is_refused_before_its_credentials_are_checked() {
    let limits = RateLimitConfig { address: per_hour(2), ..Default::default() };
    let gw = TestGateway::start(with_limits(limits)).await;
    let path = gw.url(&show_path(Dialect::Hostway, "133"));
    let wrong = [("authorization", "Basic ZGVtbzp3cm9uZw==")];
    for _ in 0..2 {
        assert_eq!(send(Method::GET, &path, &wrong, "").await.status, 401);
    }
    let refused = send(Method::GET, &path, &wrong, "").await;
    assert_rate_limited(Dialect::Hostway, &refused, "wrong passwords past the address quota");
    // the address is penalized: even right credentials are not checked now
    let right = get(&path).await;
    assert_rate_limited(Dialect::Hostway, &right, "right password from a penalized address");
    // and the refusal is in each edge's dialect
    let foreman = get(&gw.url(&show_path(Dialect::Foreman, "133"))).await;
    assert_rate_limited(Dialect::Foreman, &foreman, "foreman from a penalized address");
}

#[tokio::test]
async fn reads_and_writes_are_counted_apart_and_the_global_cap_holds_for_everyone() {
    let limits = RateLimitConfig { writes: per_hour(1), ..Default::default() };
    let gw = TestGateway::start(with_limits(limits)).await;
    let image = gw.url("/api/compute_resources/980190962/images/404404");
    assert_eq!(send(Method::DELETE, &image, &[], "").await.status, 404, "one write");
    let second = send(Method::DELETE, &image, &[], "").await;
    assert_rate_limited(Dialect::Foreman, &second, "a second write");
    for _ in 0..3 {
        assert_eq!(get(&gw.url(&show_path(Dialect::Foreman, "133"))).await.status, 200, "reads have no quota");
    }

    let gw = TestGateway::start(with_limits(RateLimitConfig { global: per_hour(2), ..Default::default() })).await;
    assert_eq!(get(&gw.url(&show_path(Dialect::Hostway, "133"))).await.status, 200);
    assert_eq!(get(&gw.url("/v3")).await.status, 200, "an anonymous request counts too");
    let third = get(&gw.url(&show_path(Dialect::Hostway, "133"))).await;
    assert_rate_limited(Dialect::Hostway, &third, "past the global cap");
}

#[tokio::test]
async fn a_refused_request_takes_no_in_flight_slot() {
    let inner = TestGateway::start(Config::default()).await;
    let held = protect::Held::start(inner.addr).await;
    let mut up = UpstreamConfig::new("held", Dialect::Hostway, &held.url());
    up.scope = "demo".into();
    up.credentials =
        CredentialsConfig { user: Some("demo".into()), password: Some("demo".into()), ..Default::default() };
    let clients = ["alice", "bob"].map(|name| {
        format!("[[client]]\nname = \"{name}\"\nuser = \"{name}\"\npassword = \"{name}\"\naccount = \"demo\"\n")
    });
    let mut config = Config::parse(&clients.concat()).unwrap();
    config.rate_limit.client = per_hour(1);
    config.server.max_in_flight = 1;
    config.server.default_backend = "held".into();
    config.upstreams.push(up);
    let gw = TestGateway::start(config).await;
    let path = gw.url(&show_path(Dialect::Hostway, "133"));
    let as_alice = [("authorization", "Basic YWxpY2U6YWxpY2U=")];
    let as_bob = [("authorization", "Basic Ym9iOmJvYg==")];

    let first = tokio::spawn({
        let path = path.clone();
        async move { send(Method::GET, &path, &as_alice, "").await }
    });
    held.arrived().await;
    // alice is over her quota: refused by the rate limiter, before the full in-flight bound
    let over = send(Method::GET, &path, &as_alice, "").await;
    assert_rate_limited(Dialect::Hostway, &over, "alice past her quota while the only slot is taken");
    // bob is within his, and the only slot is still taken: shed
    let shed = send(Method::GET, &path, &as_bob, "").await;
    assert_eq!(shed.status, 503, "{}", shed.text());
    assert_eq!(shed.json()["serviceUnavailable"]["code"], 503);
    held.release(1);
    assert_eq!(first.await.unwrap().status, 200);
}

#[test]
fn a_flood_of_distinct_addresses_keeps_the_limiter_bounded() {
    let max_addresses = 1_000;
    let config = RateLimitConfig {
        address: QuotaConfig { requests: 1_000, per_secs: 1, burst: Some(1) },
        max_addresses,
        ..Default::default()
    };
    let limits = RateLimits::new(&config);
    let mut allowed = 0;
    for i in 0..100_000u32 {
        let who = Who::Address(IpAddr::from((0x0a00_0000 + i).to_be_bytes()));
        if limits.check(&who, Class::Read).is_ok() {
            allowed += 1;
        }
        if i % 1_000 == 0 {
            // the addresses' buckets and their penalties, each bounded
            assert!(limits.tracked() <= 2 * max_addresses, "{} keys after {i} addresses", limits.tracked());
        }
    }
    assert!(limits.tracked() <= 2 * max_addresses, "{} keys", limits.tracked());
    // the addresses past the bound shared one bucket rather than getting one each
    assert!(allowed < 100_000, "{allowed} allowed");
    // once idle, every key is forgotten
    std::thread::sleep(Duration::from_millis(50));
    limits.prune();
    assert_eq!(limits.tracked(), 0);
    // and there is room for new callers again
    assert!(limits.check(&Who::Address(IpAddr::from([192, 0, 2, 1])), Class::Read).is_ok());
}

#[tokio::test]
async fn an_openstack_token_is_not_charged_to_the_address_quota() {
    let gw = TestGateway::start(with_limits(RateLimitConfig { address: per_hour(1), ..Default::default() })).await;
    demo_token(&gw.addr.to_string()).await;
    for _ in 0..3 {
        let got = get(&gw.url(&show_path(Dialect::OpenStack, "133"))).await;
        assert_eq!(got.status, 200, "{}", got.text());
    }
}

/// A version document fetched from the source address `from`.
async fn version_from(gw: &TestGateway, from: [u8; 4]) -> u16 {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_local_address(Some(IpAddr::from(from)));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Full<bytes::Bytes>>(connector);
    let request = http::Request::get(gw.url("/v3")).body(Default::default()).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(20), client.request(request)).await.unwrap().unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn each_source_address_has_its_own_bucket() {
    let gw = TestGateway::start(with_limits(RateLimitConfig { address: per_hour(1), ..Default::default() })).await;
    // every 127.x address is this machine's loopback
    for last in 2..12 {
        assert_eq!(version_from(&gw, [127, 0, 0, last]).await, 200, "127.0.0.{last}");
        assert_eq!(version_from(&gw, [127, 0, 0, last]).await, 429, "127.0.0.{last} again");
    }
}
