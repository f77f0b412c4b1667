//! The fifth dialect served end to end: at its edge against the embedded
//! catalog, and as the upstream of another gateway, over real sockets.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::config::{Config, CredentialsConfig, UpstreamConfig};
use crate::dialect::Dialect;
use crate::pipeline::Gateway;
use crate::server::Server;

/// `demo:demo`, the documented demo client.
const DEMO: &str = "Basic ZGVtbzpkZW1v";

/// A gateway on 127.0.0.1 serving `config`, until the sender drops.
async fn start(mut config: Config) -> (SocketAddr, oneshot::Sender<()>) {
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.validate().expect("valid config");
    let server = Server::bind(&config.server, Gateway::from_config(&config).unwrap()).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

async fn get(addr: SocketAddr, path: &str, authorization: Option<&str>) -> (StatusCode, http::HeaderMap, Value) {
    let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut req = Request::get(format!("http://{addr}{path}"));
    if let Some(authorization) = authorization {
        req = req.header(http::header::AUTHORIZATION, authorization);
    }
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client.request(req.body(Full::<Bytes>::default()).unwrap()),
    )
    .await
    .expect("an answer within 20 s")
    .expect("the request is answered");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn names(list: &Value) -> Vec<String> {
    list["images"].as_array().expect("an image list").iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn is_registered_by_its_module_and_arm_alone() {
    assert_eq!(Dialect::from_name("fifth"), Some(Dialect::Fifth));
    assert_eq!(Dialect::for_path("/fifth/images/1"), Some(Dialect::Fifth));
    assert!(Dialect::ALL.contains(&Dialect::Fifth));
}

#[test]
fn its_upstream_carries_the_name_alone() {
    let uncarried = crate::dialect::contract::uncarried(Dialect::Fifth);
    assert!(!uncarried.contains(&"name"));
    assert_eq!(uncarried.len() + 1, crate::model::COMPARED.len());
}

#[tokio::test]
async fn its_edge_serves_the_embedded_catalog() {
    let (addr, _stop) = start(Config::default()).await;
    let (status, headers, list) = get(addr, "/fifth/images", Some(DEMO)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(headers.contains_key("x-request-id"));
    // the four documents' samples, decoded by the other dialects' codecs
    assert!(names(&list).len() >= 4, "{list}");
    let first = &list["images"][0];
    let id = first["id"].as_str().unwrap();
    let (status, _, shown) = get(addr, &format!("/fifth/images/{id}"), Some(DEMO)).await;
    assert_eq!((status, &shown["image"]), (StatusCode::OK, first));

    let (status, _, refused) = get(addr, "/fifth/images", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(refused["error"].is_string(), "{refused}");
    let (status, _, missing) = get(addr, "/fifth/images/no-such-image", Some(DEMO)).await;
    assert_eq!((status, missing["error"].as_str()), (StatusCode::NOT_FOUND, Some("image no-such-image not found")));
}

#[tokio::test]
async fn it_is_an_upstream_of_the_other_edges() {
    let (inner, _stop_inner) = start(Config::default()).await;
    let mut up = UpstreamConfig::new("inner", Dialect::Fifth, &format!("http://{inner}"));
    up.credentials =
        CredentialsConfig { user: Some("demo".into()), password: Some("demo".into()), ..CredentialsConfig::default() };
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "inner".into();
    let (outer, _stop_outer) = start(config).await;

    let (_, _, direct) = get(inner, "/fifth/images", Some(DEMO)).await;
    let (status, _, through) = get(outer, "/fifth/images", Some(DEMO)).await;
    assert_eq!(status, StatusCode::OK, "{through}");
    assert_eq!(names(&through), names(&direct));
    // Hostway's edge in front of the fifth upstream shows every image
    let (status, _, hostway) = get(outer, "/accounts/demo/flexcloud/images/detail", Some(DEMO)).await;
    assert_eq!(status, StatusCode::OK, "{hostway}");
    for name in names(&direct) {
        assert!(hostway.to_string().contains(&serde_json::to_string(&name).unwrap()), "{name} in {hostway}");
    }
}
