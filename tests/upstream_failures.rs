//! An unreachable, slow or garbled upstream of any dialect reaches the
//! caller as its own dialect's 503, 504 or 502 — with no internal detail.

use std::time::Duration;

use crate::common::dialects::{assert_edge_error, show_path};
use crate::common::{Canned, FakeUpstream, Got, TestGateway, get};
use dragoman::config::{Config, UpstreamConfig};
use dragoman::dialect::Dialect;
use tokio::net::TcpListener;

async fn gateway(upstream: Dialect, url: &str) -> TestGateway {
    let mut up = UpstreamConfig::new("up", upstream, url);
    up.scope = "1".into();
    up.credentials = crate::common::any_credentials(upstream);
    up.timeout_secs = 1;
    up.connect_timeout_secs = 1;
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "up".into();
    TestGateway::start(config).await
}

/// Asserts `got` is `edge`'s error form with `status`, and shows nothing internal.
fn assert_opaque_edge_error(edge: Dialect, got: &Got, status: u16, what: &str) {
    let text = got.text();
    for leak in ["127.0.0.1", "refused", "hyper", "expected value", "Error {"] {
        assert!(!text.contains(leak), "{what} leaks {leak:?}: {text}");
    }
    assert_edge_error(edge, got, status, what);
}

async fn each_edge(gw: &TestGateway, upstream: Dialect, status: u16, what: &str) {
    for edge in Dialect::ALL {
        let got = get(&gw.url(&show_path(edge, "42"))).await;
        assert_opaque_edge_error(edge, &got, status, &format!("{edge} -> {upstream} {what}"));
    }
}

#[tokio::test]
async fn an_unreachable_upstream_is_unavailable() {
    for upstream in Dialect::ALL {
        // a closed port below the ephemeral range
        let gw = gateway(upstream, "http://127.0.0.1:9").await;
        each_edge(&gw, upstream, 503, "unreachable").await;
    }
}

#[tokio::test]
async fn a_garbled_upstream_is_a_bad_gateway() {
    for upstream in Dialect::ALL {
        let garbage = Canned {
            matches: Box::new(|_, _| true),
            status: 200,
            content_type: "application/json",
            body: "{\"image\": [1, 2,, <html>".into(),
        };
        let fake = FakeUpstream::start(vec![garbage]).await;
        let gw = gateway(upstream, &fake.url()).await;
        each_edge(&gw, upstream, 502, "garbled").await;
    }
}

#[tokio::test]
async fn a_slow_upstream_times_out() {
    // accepts connections and never answers
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut runs = Vec::new();
    for upstream in Dialect::ALL {
        runs.push(tokio::spawn(async move {
            let gw = gateway(upstream, &format!("http://{addr}")).await;
            let started = std::time::Instant::now();
            each_edge(&gw, upstream, 504, "slow").await;
            assert!(started.elapsed() < Duration::from_secs(15), "timeouts are bounded");
        }));
    }
    for run in runs {
        run.await.unwrap();
    }
}
