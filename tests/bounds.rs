//! Bounds: requests in flight (shed with the edge's 503, not queued),
//! request head size and header count (431), body size (the edge's 413),
//! the time to send a head (a slowloris client is cut off and starves no
//! one), connections per client address — and an upstream's own rate
//! limit reaching the caller with its `Retry-After` kept.

use std::time::Duration;

use crate::common::dialects::{assert_edge_error, show_path};
use crate::common::{TestGateway, demo_token, get, send, send_raw};
use crate::{common, protect};
use dragoman::config::{Config, CredentialsConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use http::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A Hostway upstream at `url`, as the inner demo gateway expects it.
fn hostway_upstream(url: &str) -> UpstreamConfig {
    let mut up = UpstreamConfig::new("up", Dialect::Hostway, url);
    up.scope = "demo".into();
    up.credentials =
        CredentialsConfig { user: Some("demo".into()), password: Some("demo".into()), ..Default::default() };
    up
}

#[tokio::test]
async fn past_the_in_flight_bound_requests_are_shed_in_their_dialect() {
    let inner = TestGateway::start(Config::default()).await;
    let held = protect::Held::start(inner.addr).await;
    let mut config = Config::default();
    config.server.max_in_flight = 1;
    config.server.default_backend = "up".into();
    config.upstreams.push(hostway_upstream(&held.url()));
    let gw = TestGateway::start(config).await;
    // the OpenStack edge's token, while there is room
    demo_token(&gw.addr.to_string()).await;

    let first = tokio::spawn({
        let url = gw.url(&show_path(Dialect::Hostway, "133"));
        async move { get(&url).await }
    });
    held.arrived().await;
    for edge in Dialect::ALL {
        let shed = get(&gw.url(&show_path(edge, "133"))).await;
        assert_edge_error(edge, &shed, 503, &format!("{edge} while the only slot is taken"));
        assert_eq!(shed.headers["retry-after"], "1");
    }
    // the held request, and the one after it
    held.release(2);
    assert_eq!(first.await.unwrap().status, 200);
    // the slot is free again
    let got = get(&gw.url(&show_path(Dialect::Foreman, "133"))).await;
    assert_eq!(got.status, 200, "{}", got.text());
}

/// Writes `bytes` on a fresh connection and reads the reply until the gateway closes it.
async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let reading = async {
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            reply.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), reading).await.expect("the gateway answers and closes");
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test]
async fn request_heads_past_the_bounds_are_431() {
    let gw = TestGateway::start(Config::default()).await;
    let path = show_path(Dialect::Hostway, "133");
    let big = format!("GET {path} HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(70 * 1024));
    let reply = raw(gw.addr, big.as_bytes()).await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
    let many: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    let reply = raw(gw.addr, format!("GET {path} HTTP/1.1\r\nhost: x\r\n{many}\r\n").as_bytes()).await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
    // within the bounds, served
    let fine = raw(gw.addr, format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes()).await;
    assert!(fine.starts_with("HTTP/1.1 401"), "{fine}");
}

#[tokio::test]
async fn bodies_past_the_bound_get_the_edge_s_413() {
    let mut config = Config::default();
    config.server.max_body_bytes = 1024;
    let gw = TestGateway::start(config).await;
    let body = "x".repeat(4096);
    for edge in Dialect::ALL {
        let got =
            send(Method::POST, &gw.url(&show_path(edge, "133")), &[("content-type", "application/json")], &body).await;
        assert_edge_error(edge, &got, 413, &format!("{edge} with a body too large"));
    }
    let keystone = send_raw(Method::POST, &gw.url("/v3/auth/tokens"), &[], &body).await;
    assert_eq!(keystone.status, 413);
    assert_eq!(keystone.json()["error"]["title"], "Request Entity Too Large");
}

#[tokio::test]
async fn a_slowloris_client_is_cut_off_and_starves_no_one() {
    let mut config = Config::default();
    config.server.header_read_timeout_secs = 1;
    let gw = TestGateway::start(config).await;
    let mut slow = Vec::new();
    for _ in 0..8 {
        let addr = gw.addr;
        slow.push(tokio::spawn(async move {
            let (mut read, mut write) = TcpStream::connect(addr).await.unwrap().into_split();
            let head = b"GET /accounts/demo/flexcloud/images/133 HTTP/1.1\r\nhost: x\r\nx-slow: ";
            let dribble = async {
                // far longer than the header read timeout, one byte at a time
                for byte in head.iter().copied().chain(std::iter::repeat_n(b'a', 600)) {
                    if write.write_all(&[byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                panic!("a client that never finishes its head was never cut off");
            };
            let mut buf = [0u8; 256];
            tokio::select! {
                _ = read.read(&mut buf) => {}
                () = dribble => {}
            }
        }));
    }
    // while they dribble, others are served
    for _ in 0..10 {
        let got = get(&gw.url(&show_path(Dialect::Hostway, "133"))).await;
        assert_eq!(got.status, 200, "{}", got.text());
    }
    for client in slow {
        tokio::time::timeout(Duration::from_secs(25), client)
            .await
            .expect("the slow client is cut off within the bound")
            .unwrap();
    }
}

#[tokio::test]
async fn connections_past_the_per_address_bound_are_closed() {
    let mut config = Config::default();
    config.server.max_connections_per_address = 2;
    let gw = TestGateway::start(config).await;
    let first = TcpStream::connect(gw.addr).await.unwrap();
    let _second = TcpStream::connect(gw.addr).await.unwrap();
    let mut third = TcpStream::connect(gw.addr).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(20), third.read(&mut buf))
        .await
        .expect("the third connection is closed at once");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    drop(first);
    // once the gateway sees the first one closed, there is room again
    let url = gw.url(&show_path(Dialect::Hostway, "133"));
    for attempt in 0.. {
        let request = http::Request::get(&url)
            .header("authorization", "Basic ZGVtbzpkZW1v")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        match common::client().request(request).await {
            Ok(res) => {
                assert_eq!(res.status(), 200);
                break;
            }
            Err(e) => assert!(attempt < 200, "never served again: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_upstream_s_own_rate_limit_reaches_the_caller_with_its_retry_after() {
    for status in [429, 413] {
        let addr =
            protect::answering(status, &[("retry-after", "12"), ("content-type", "text/plain")], "slow down").await;
        for upstream in Dialect::ALL {
            let mut up = UpstreamConfig::new("up", upstream, &format!("http://{addr}"));
            up.scope = "1".into();
            up.credentials = common::any_credentials(upstream);
            let mut config = Config::default();
            config.upstreams.push(up);
            config.server.default_backend = "up".into();
            let gw = TestGateway::start(config).await;
            for edge in Dialect::ALL {
                let got = get(&gw.url(&show_path(edge, "42"))).await;
                let what = format!("{edge} -> {upstream} answering {status}");
                assert_edge_error(edge, &got, 429, &what);
                assert_eq!(got.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("12"), "{what}");
            }
        }
    }
}
