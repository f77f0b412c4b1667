//! Writes through the chain: gateway(edge X → upstream Y) in front of
//! gateway(edge Y → memory catalog). Every write each edge offers is tried
//! against every upstream dialect: where Y can express it, it takes effect
//! and reads back through X; where it cannot, X answers with its own
//! not-implemented form and nothing changes.

use crate::common::dialects::{listed, show_path, shown};
use crate::common::{Got, TestGateway, get, in_front_of, send};
use dragoman::config::Config;
use dragoman::dialect::Dialect;
use http::Method;
use serde_json::{Value, json};

const GG: &str = "api_key=demo&v=1.3&sig=0&format=json";

/// A gateway whose every edge goes to `inner`'s edge of dialect `upstream`,
/// or straight to the memory catalog when `upstream` is `None`.
async fn gateway(upstream: Option<Dialect>) -> (TestGateway, Option<TestGateway>) {
    let Some(upstream) = upstream else {
        return (TestGateway::start(Config::default()).await, None);
    };
    let inner = TestGateway::start(Config::default()).await;
    (in_front_of(upstream, &inner).await, Some(inner))
}

fn name(upstream: Option<Dialect>) -> String {
    upstream.map_or("memory".into(), |d| d.name().into())
}

async fn json_request(method: Method, url: &str, body: Value) -> Got {
    send(method, url, &[("content-type", "application/json"), ("accept", "application/json")], &body.to_string()).await
}

/// Asserts `got` is `edge`'s not-implemented form, naming what was asked.
fn assert_not_implemented(edge: Dialect, got: &Got, what: &str) {
    assert_eq!(got.status, 501, "{what}: {}", got.text());
    let body = got.json();
    let message = match edge {
        Dialect::OpenStack => body["notImplemented"]["message"].as_str(),
        Dialect::GoGrid => body["list"][0]["message"].as_str(),
        Dialect::Foreman => body["error"]["message"].as_str(),
        Dialect::Hostway => body["notImplemented"]["message"].as_str(),
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => body["error"].as_str(),
    };
    assert!(message.is_some_and(|m| !m.is_empty()), "{what}: {body}");
}

async fn name_of(gw: &TestGateway, edge: Dialect, id: &str) -> Option<String> {
    let got = get(&gw.url(&show_path(edge, id))).await;
    (got.status == 200).then(|| shown(edge, &got.json()).1)
}

#[tokio::test]
async fn openstack_edge_writes() {
    let edge = Dialect::OpenStack;
    for upstream in
        [None, Some(Dialect::Hostway), Some(Dialect::OpenStack), Some(Dialect::GoGrid), Some(Dialect::Foreman)]
    {
        let what = format!("openstack -> {}", name(upstream));
        let (gw, _inner) = gateway(upstream).await;

        // createImage: the same act as GoGrid's save
        let got = json_request(
            Method::POST,
            &gw.url("/v2/demo/servers/srv-1/action"),
            json!({"createImage": {"name": "snap-1"}}),
        )
        .await;
        if matches!(upstream, None | Some(Dialect::OpenStack) | Some(Dialect::GoGrid)) {
            assert_eq!(got.status, 202, "{what} createImage: {}", got.text());
            let location = got.headers["location"].to_str().unwrap().to_owned();
            let id = location.rsplit('/').next().unwrap();
            assert!(location.starts_with(&gw.url("/v2/demo/images/")), "{what}: {location}");
            assert_eq!(name_of(&gw, edge, id).await.as_deref(), Some("snap-1"), "{what}");
        } else {
            assert_not_implemented(edge, &got, &format!("{what} createImage"));
        }
        // GoGrid's save keeps no metadata: a snapshot that carries some is refused whole
        let got = json_request(
            Method::POST,
            &gw.url("/v2/demo/servers/srv-1/action"),
            json!({"createImage": {"name": "snap-2", "metadata": {"purpose": "test"}}}),
        )
        .await;
        if matches!(upstream, None | Some(Dialect::OpenStack)) {
            assert_eq!(got.status, 202, "{what} createImage with metadata: {}", got.text());
        } else {
            assert_not_implemented(edge, &got, &format!("{what} createImage with metadata"));
        }

        // metadata: only Nova and the catalog keep it
        let id = "70a599e0-31e7-49b7-b260-868f441e862b";
        let got = json_request(
            Method::POST,
            &gw.url(&format!("/v2/demo/images/{id}/metadata")),
            json!({"metadata": {"color": "blue"}}),
        )
        .await;
        if matches!(upstream, None | Some(Dialect::OpenStack)) {
            assert_eq!(got.status, 200, "{what} metadata: {}", got.text());
            assert_eq!(got.json()["metadata"]["color"], "blue", "{what}");
            let got = get(&gw.url(&format!("/v2/demo/images/{id}/metadata/color"))).await;
            assert_eq!(got.json(), json!({"meta": {"color": "blue"}}), "{what}");
            let got = send(Method::DELETE, &gw.url(&format!("/v2/demo/images/{id}/metadata/color")), &[], "").await;
            assert_eq!(got.status, 204, "{what}: {}", got.text());
            let got = send(Method::DELETE, &gw.url(&format!("/v2/demo/images/{id}/metadata/color")), &[], "").await;
            assert_eq!(got.status, 404, "{what}: {}", got.text());
        } else {
            assert_not_implemented(edge, &got, &format!("{what} metadata"));
        }

        // delete: for good everywhere but a GoGrid hop, which can only trash
        let got = send(Method::DELETE, &gw.url(&format!("/v2/demo/images/{id}")), &[], "").await;
        if upstream == Some(Dialect::Hostway) {
            assert_not_implemented(edge, &got, &format!("{what} delete"));
            assert!(name_of(&gw, edge, id).await.is_some(), "{what}: nothing changed");
        } else {
            assert_eq!(got.status, 204, "{what} delete: {}", got.text());
            let after = get(&gw.url(&show_path(edge, id))).await;
            if upstream == Some(Dialect::GoGrid) {
                assert_eq!(after.json()["image"]["status"], "DELETED", "{what}");
            } else {
                assert_eq!(after.status, 404, "{what}: {}", after.text());
            }
        }
    }
}

#[tokio::test]
async fn gogrid_edge_writes() {
    let edge = Dialect::GoGrid;
    for upstream in
        [None, Some(Dialect::Hostway), Some(Dialect::OpenStack), Some(Dialect::GoGrid), Some(Dialect::Foreman)]
    {
        let what = format!("gogrid -> {}", name(upstream));
        let (gw, _inner) = gateway(upstream).await;

        // save from a server
        let got = get(&gw.url(&format!("/api/grid/image/save?server=srv-1&friendlyName=snap-1&{GG}"))).await;
        if matches!(upstream, None | Some(Dialect::OpenStack) | Some(Dialect::GoGrid)) {
            assert_eq!(got.status, 200, "{what} save: {}", got.text());
            assert_eq!(got.json()["status"], "success", "{what}");
            let (id, saved) = shown(edge, &got.json());
            assert_eq!(saved, "snap-1", "{what}");
            assert_eq!(name_of(&gw, edge, &id).await.as_deref(), Some("snap-1"), "{what}");
        } else {
            assert_not_implemented(edge, &got, &format!("{what} save"));
        }

        // edit: a rename, which Nova cannot do
        let got = send(
            Method::POST,
            &gw.url("/api/grid/image/edit"),
            &[("content-type", "application/x-www-form-urlencoded")],
            &format!("id=980190962&friendlyName=renamed&{GG}"),
        )
        .await;
        if matches!(upstream, None | Some(Dialect::GoGrid) | Some(Dialect::Foreman)) {
            assert_eq!(got.status, 200, "{what} edit: {}", got.text());
            assert_eq!(name_of(&gw, edge, "980190962").await.as_deref(), Some("renamed"), "{what}");
        } else {
            assert_not_implemented(edge, &got, &format!("{what} edit"));
            assert_eq!(name_of(&gw, edge, "980190962").await.as_deref(), Some("centos-1"), "{what}: nothing changed");
        }

        // delete goes to the trash where there is one; restore only from there
        let got = get(&gw.url(&format!("/api/grid/image/delete?id=250&{GG}"))).await;
        match upstream {
            Some(Dialect::Hostway) => assert_not_implemented(edge, &got, &format!("{what} delete")),
            None | Some(Dialect::GoGrid) => {
                assert_eq!(got.status, 200, "{what} delete: {}", got.text());
                assert_eq!(got.json()["list"][0]["state"]["name"], "Trash", "{what}");
                let got = get(&gw.url(&format!("/api/grid/image/restore?id=250&{GG}"))).await;
                assert_eq!(got.status, 200, "{what} restore: {}", got.text());
                assert_eq!(got.json()["list"][0]["state"]["name"], "Available", "{what}");
            }
            Some(_) => {
                assert_eq!(got.status, 200, "{what} delete: {}", got.text());
                assert_eq!(got.json()["list"][0]["state"]["name"], "Deleted", "{what}");
                let got = get(&gw.url(&format!("/api/grid/image/restore?id=250&{GG}"))).await;
                assert_not_implemented(edge, &got, &format!("{what} restore"));
            }
        }
    }
}

#[tokio::test]
async fn foreman_edge_writes() {
    let edge = Dialect::Foreman;
    let base = "/api/compute_resources/980190962/images";
    for upstream in
        [None, Some(Dialect::Hostway), Some(Dialect::OpenStack), Some(Dialect::GoGrid), Some(Dialect::Foreman)]
    {
        let what = format!("foreman -> {}", name(upstream));
        let (gw, _inner) = gateway(upstream).await;

        // register a provider template: only Foreman has the concept
        let got = json_request(
            Method::POST,
            &gw.url(base),
            json!({"image": {"name": "tpl-1", "username": "root", "uuid": "tpl-uuid-1", "password": "hunter2"}}),
        )
        .await;
        assert!(!got.text().contains("hunter2"), "{what}: a password came back");
        if matches!(upstream, None | Some(Dialect::Foreman)) {
            assert_eq!(got.status, 201, "{what} create: {}", got.text());
            let (id, created) = shown(edge, &got.json());
            assert_eq!(created, "tpl-1", "{what}");
            assert_eq!(name_of(&gw, edge, &id).await.as_deref(), Some("tpl-1"), "{what}");
        } else {
            assert_not_implemented(edge, &got, &format!("{what} create"));
        }

        // invalid input is Foreman's 422, whatever the upstream
        let got = json_request(Method::POST, &gw.url(base), json!({"image": {"name": ""}})).await;
        assert_eq!(got.status, 422, "{what}: {}", got.text());
        assert!(got.json()["error"]["full_messages"].as_array().is_some_and(|m| !m.is_empty()), "{what}");

        // rename
        let got =
            json_request(Method::PUT, &gw.url(&format!("{base}/298486374")), json!({"image": {"name": "renamed"}}))
                .await;
        if matches!(upstream, None | Some(Dialect::GoGrid) | Some(Dialect::Foreman)) {
            assert_eq!(got.status, 200, "{what} update: {}", got.text());
            assert_eq!(name_of(&gw, edge, "298486374").await.as_deref(), Some("renamed"), "{what}");
        } else {
            assert_not_implemented(edge, &got, &format!("{what} update"));
        }

        // delete answers with the record, never its password
        let got = send(Method::DELETE, &gw.url(&format!("{base}/298486374")), &[], "").await;
        if upstream == Some(Dialect::Hostway) {
            assert_not_implemented(edge, &got, &format!("{what} delete"));
        } else {
            assert_eq!(got.status, 200, "{what} delete: {}", got.text());
            assert_eq!(got.json()["id"], 298486374, "{what}");
            assert_eq!(got.json()["password"], Value::Null, "{what}");
        }
    }
}

#[tokio::test]
async fn hostway_edge_refuses_writes() {
    let (gw, _) = gateway(None).await;
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let got = send(method.clone(), &gw.url("/accounts/demo/flexcloud/images/133"), &[], "{}").await;
        assert_eq!(got.status, 405, "{method}: {}", got.text());
        assert_eq!(got.json()["badMethod"]["code"], 405);
    }
    let listed_ids = listed(Dialect::Hostway, &get(&gw.url("/accounts/demo/flexcloud/images")).await.json());
    assert_eq!(listed_ids.len(), 5, "nothing changed");
}
