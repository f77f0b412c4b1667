//! Every request gets an id, `req-<uuid>`: in the reply under the header
//! its API's clients read (`X-Compute-Request-Id` and
//! `X-Openstack-Request-Id` at the OpenStack edge, `X-Openstack-Request-Id`
//! at Keystone, `X-Request-Id` elsewhere), refusals included, and upstream
//! as `X-Request-Id` (and `X-Openstack-Request-Id` to OpenStack upstreams).

use crate::common::dialects::show_path;
use crate::common::{FakeUpstream, Got, TestGateway, get, send};
use dragoman::config::{Config, CredentialsConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use http::Method;

fn id<'a>(got: &'a Got, header: &str) -> &'a str {
    let value = got.headers.get(header).unwrap_or_else(|| panic!("no {header} in {:?}", got.headers));
    let value = value.to_str().unwrap();
    let uuid = value.strip_prefix("req-").unwrap_or_else(|| panic!("{header}: {value}"));
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{header}: {value}");
    value
}

#[tokio::test]
async fn every_reply_carries_its_id_in_its_api_s_header() {
    let gw = TestGateway::start(Config::default()).await;
    let mut seen = Vec::new();
    for edge in Dialect::ALL {
        let got = get(&gw.url(&show_path(edge, "133"))).await;
        assert_eq!(got.status, 200, "{edge}: {}", got.text());
        if edge == Dialect::OpenStack {
            assert_eq!(id(&got, "x-compute-request-id"), id(&got, "x-openstack-request-id"));
            assert!(got.headers.get("x-request-id").is_none());
            seen.push(id(&got, "x-compute-request-id").to_owned());
        } else {
            assert!(got.headers.get("x-compute-request-id").is_none(), "{edge}");
            seen.push(id(&got, "x-request-id").to_owned());
        }
    }
    let keystone = get(&gw.url("/v3")).await;
    seen.push(id(&keystone, "x-openstack-request-id").to_owned());
    // refusals too
    let refused =
        send(Method::GET, &gw.url(&show_path(Dialect::Foreman, "133")), &[("authorization", "Basic eDp5")], "").await;
    assert_eq!(refused.status, 401);
    seen.push(id(&refused, "x-request-id").to_owned());
    let nowhere = get(&gw.url("/nowhere/at/all")).await;
    assert_eq!(nowhere.status, 404);
    seen.push(id(&nowhere, "x-request-id").to_owned());
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "ids are unique: {seen:?}");
}

#[tokio::test]
async fn the_id_goes_upstream() {
    for upstream in [Dialect::OpenStack, Dialect::Foreman] {
        let fake = FakeUpstream::start(Vec::new()).await;
        let mut up = UpstreamConfig::new("up", upstream, &fake.url());
        up.scope = "1".into();
        up.credentials = match upstream {
            Dialect::OpenStack => CredentialsConfig { token: Some("t".into()), ..Default::default() },
            _ => CredentialsConfig { user: Some("u".into()), password: Some("p".into()), ..Default::default() },
        };
        let mut config = Config::default();
        config.upstreams.push(up);
        config.server.default_backend = "up".into();
        let gw = TestGateway::start(config).await;
        let got = get(&gw.url(&show_path(Dialect::Hostway, "42"))).await;
        assert_eq!(got.status, 404, "{}", got.text());
        let sent = id(&got, "x-request-id");
        let seen = fake.seen();
        assert!(!seen.is_empty());
        for call in &seen {
            assert_eq!(call.headers["x-request-id"], sent, "{upstream}");
            match upstream {
                Dialect::OpenStack => assert_eq!(call.headers["x-openstack-request-id"], sent),
                _ => assert!(call.headers.get("x-openstack-request-id").is_none()),
            }
        }
    }
}
