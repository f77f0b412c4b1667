//! Reads that never reached the upstream are retried, but only within a
//! budget shared by every call to that upstream: retries cannot multiply
//! the load on an upstream that is down.

use dragoman::backend::{HttpClient, RetryBudgetSettings, Upstream};
use dragoman::config::{CredentialsConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use dragoman::model::{ErrorKind, ImageId, ImageOp};

/// An upstream on a closed port, and its client to read the budget from.
fn unreachable(percent: u32, min_per_sec: u32) -> (Upstream, HttpClient) {
    // a closed port below the ephemeral range: every connection is refused
    let mut up = UpstreamConfig::new("down", Dialect::Hostway, "http://127.0.0.1:9");
    up.scope = "demo".into();
    up.credentials = CredentialsConfig { user: Some("u".into()), password: Some("p".into()), ..Default::default() };
    let mut settings = up.client_settings();
    settings.retry_budget = RetryBudgetSettings { percent, min_per_sec };
    let client = HttpClient::new(settings);
    (Upstream::new(up.settings().unwrap(), client.clone()).unwrap(), client)
}

async fn show_many(upstream: &Upstream, n: usize) {
    for _ in 0..n {
        let err = upstream.execute(&ImageOp::Show(ImageId::new("1")), None).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::UpstreamUnavailable);
    }
}

#[tokio::test]
async fn an_empty_budget_allows_no_retry() {
    let (upstream, client) = unreachable(0, 0);
    show_many(&upstream, 20).await;
    let stats = client.retry_stats();
    assert_eq!((stats.sent, stats.retried, stats.refused), (20, 0, 20));
}

#[tokio::test]
async fn retries_stay_a_share_of_the_requests() {
    let (upstream, client) = unreachable(10, 0);
    show_many(&upstream, 100).await;
    let stats = client.retry_stats();
    assert_eq!(stats.sent, 100);
    assert!(stats.retried >= 1, "some reads are retried: {stats:?}");
    assert!(stats.retried <= 10, "at most a tenth: {stats:?}");
    assert_eq!(stats.retried + stats.refused, 100, "every failure asked: {stats:?}");
}

#[tokio::test]
async fn a_quiet_upstream_keeps_a_few_retries() {
    // the default: 20 %, and one a second over ten seconds whatever the traffic
    let (upstream, client) = unreachable(20, 1);
    show_many(&upstream, 3).await;
    assert_eq!(client.retry_stats().retried, 3, "{:?}", client.retry_stats());
}
