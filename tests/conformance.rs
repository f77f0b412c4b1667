//! Every edge keeps its dialect's contract whatever serves it: each edge's
//! show, lists, writes and errors, through an upstream of every dialect (a
//! fake one replaying recorded bodies, and a second Dragoman serving each
//! dialect from its catalog) and on the embedded catalog, are checked field
//! by field against the edge's contract (`src/dialect/<edge>/contract.rs`).
//! A field that goes null, changes type or leaves its vocabulary fails.
//!
//! One table: a row per edge dialect says how that edge is asked. Adding a
//! dialect is adding its row here and its upstream row in `tests/matrix.rs`.

use crate::common::dialects::{id_at, list_path, show_path};
use crate::common::{FakeUpstream, Got, TestGateway, get, in_front_of, send};
use crate::matrix;
use dragoman::config::Config;
use dragoman::dialect::Dialect;
use dragoman::dialect::contract;
use http::Method;
use serde_json::{Value, json};

/// A request a row makes, with its body.
struct Ask {
    method: Method,
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const fn ask(method: Method, path: &'static str, body: &'static str) -> Ask {
    Ask { method, path, content_type: "application/json", body }
}

/// How one edge is asked: one row per dialect.
struct Edge {
    dialect: Dialect,
    /// A summary list, where the dialect has one.
    summary: Option<&'static str>,
    /// Every write the edge offers; `{id}` is an image the edge listed.
    writes: &'static [Ask],
}

const EDGES: &[Edge] = &[
    Edge {
        dialect: Dialect::Hostway,
        summary: Some("/accounts/demo/flexcloud/images"),
        writes: &[ask(Method::POST, "/accounts/demo/flexcloud/images/{id}", "{}")],
    },
    Edge {
        dialect: Dialect::OpenStack,
        summary: Some("/v2/demo/images"),
        writes: &[
            ask(Method::POST, "/v2/demo/servers/srv-1/action", r#"{"createImage": {"name": "snap-1"}}"#),
            ask(Method::POST, "/v2/demo/images/{id}/metadata", r#"{"metadata": {"color": "blue"}}"#),
            ask(Method::DELETE, "/v2/demo/images/{id}", ""),
        ],
    },
    Edge {
        dialect: Dialect::GoGrid,
        summary: None,
        writes: &[
            ask(
                Method::GET,
                "/api/grid/image/save?server=srv-1&friendlyName=snap-1&api_key=demo&v=1.3&sig=0&format=json",
                "",
            ),
            ask(
                Method::GET,
                "/api/grid/image/edit?id={id}&friendlyName=renamed&api_key=demo&v=1.3&sig=0&format=json",
                "",
            ),
            ask(Method::GET, "/api/grid/image/delete?id={id}&api_key=demo&v=1.3&sig=0&format=json", ""),
            ask(Method::GET, "/api/grid/image/restore?id={id}&api_key=demo&v=1.3&sig=0&format=json", ""),
        ],
    },
    Edge {
        dialect: Dialect::Foreman,
        summary: None,
        writes: &[
            ask(
                Method::POST,
                "/api/compute_resources/980190962/images",
                r#"{"image": {"name": "tpl-1", "username": "root", "uuid": "tpl-uuid-1"}}"#,
            ),
            ask(Method::PUT, "/api/compute_resources/980190962/images/{id}", r#"{"image": {"name": "renamed"}}"#),
        ],
    },
];

/// Breaches of `edge`'s contract in one reply, each prefixed with `what`.
fn breaches(edge: Dialect, what: &str, got: &Got, as_summary: bool) -> Vec<String> {
    let c = contract::of(edge);
    let mut out = Vec::new();
    if got.body.is_empty() {
        return out;
    }
    let body = match serde_json::from_slice::<Value>(&got.body) {
        Ok(body) => body,
        Err(e) => return vec![format!("{what}: not JSON ({e}): {}", got.text())],
    };
    if !got.status.is_success() {
        c.check_error(&body, &mut out);
    } else if body.get(c.items).is_some_and(Value::is_array) {
        let images = if as_summary { c.summary.as_ref().unwrap_or(&c.image) } else { &c.image };
        c.check_list(&body, images, &mut out);
    } else if body.as_object().is_some_and(|o| o.contains_key("metadata") || o.contains_key("meta")) {
        // an OpenStack metadata reply: not an image
    } else {
        c.check_show(&body, &mut out);
    }
    out.into_iter().map(|b| format!("{what}: {b}")).collect()
}

/// The ids an edge's list reply shows.
fn listed_ids(edge: Dialect, got: &Got) -> Vec<String> {
    let body = got.json();
    body[contract::of(edge).items]
        .as_array()
        .map(|items| items.iter().map(|i| i["id"].to_string().trim_matches('"').to_owned()).collect())
        .unwrap_or_default()
}

/// What serves the gateway: a label, and the upstream dialect (none for the catalog).
type Source<'a> = (&'a str, Option<Dialect>);

/// Asks every edge everything through `gw`; `show_ids` are upstream ids the
/// source can show. Returns every breach.
async fn run_edges(gw: &TestGateway, source: Source<'_>, show_ids: &[&str], writes: bool) -> Vec<String> {
    let mut out = Vec::new();
    for edge in EDGES {
        out.extend(run_edge(gw, edge, source, show_ids, writes).await);
    }
    out
}

/// Asks one edge everything, its writes last.
async fn run_edge(gw: &TestGateway, edge: &Edge, source: Source<'_>, show_ids: &[&str], writes: bool) -> Vec<String> {
    let (label, upstream) = source;
    let mut out = Vec::new();
    {
        let d = edge.dialect;
        let pair = format!("{d} -> {label}");
        for id in show_ids {
            let got = get(&gw.url(&show_path(d, &id_at(d, upstream, id)))).await;
            assert_eq!(got.status, 200, "{pair} show {id}: {}", got.text());
            out.extend(breaches(d, &format!("{pair} show {id}"), &got, false));
        }
        let got = get(&gw.url(&show_path(d, "missing-1"))).await;
        assert!(got.status.is_client_error(), "{pair} not found: {}", got.text());
        out.extend(breaches(d, &format!("{pair} not found"), &got, false));
        let detail = get(&gw.url(&list_path(d))).await;
        assert_eq!(detail.status, 200, "{pair} list: {}", detail.text());
        out.extend(breaches(d, &format!("{pair} list"), &detail, false));
        if let Some(path) = edge.summary {
            let got = get(&gw.url(path)).await;
            out.extend(breaches(d, &format!("{pair} summary"), &got, true));
        }
        if !writes {
            return out;
        }
        let listed = listed_ids(d, &detail);
        let id = listed.last().cloned().unwrap_or_default();
        for write in edge.writes {
            let path = write.path.replace("{id}", &id);
            let got =
                send(write.method.clone(), &gw.url(&path), &[("content-type", write.content_type)], write.body).await;
            assert!(!got.status.is_server_error() || got.status == 501, "{pair} {path}: {}", got.text());
            out.extend(breaches(d, &format!("{pair} {} {path}", write.method), &got, false));
        }
    }
    out
}

fn assert_none(breaches: Vec<String>) {
    assert!(breaches.is_empty(), "{} breaches:\n{}", breaches.len(), breaches.join("\n"));
}

#[tokio::test]
async fn every_edge_keeps_its_contract_over_recorded_upstream_bodies() {
    let mut out = Vec::new();
    for up in [matrix::hostway(), matrix::openstack(), matrix::gogrid(), matrix::foreman()] {
        let fake = FakeUpstream::start((up.canned)()).await;
        let gw = matrix::gateway_in_front_of(&up, &fake).await;
        let label = format!("{} (recorded)", up.dialect);
        out.extend(run_edges(&gw, (&label, Some(up.dialect)), &[up.show_id], false).await);
    }
    assert_none(out);
}

/// The catalog's sample images, one from each dialect's documents.
const SAMPLES: [&str; 4] = ["133", "70a599e0-31e7-49b7-b260-868f441e862b", "250", "980190962"];

#[tokio::test]
async fn every_edge_keeps_its_contract_through_every_upstream_dialect() {
    let mut out = Vec::new();
    for upstream in Dialect::ALL {
        // a fresh pair per edge: one edge's writes are not another's reads
        for edge in EDGES {
            let inner = TestGateway::start(Config::default()).await;
            let gw = in_front_of(upstream, &inner).await;
            out.extend(run_edge(&gw, edge, (upstream.name(), Some(upstream)), &SAMPLES, true).await);
        }
    }
    assert_none(out);
}

#[tokio::test]
async fn every_edge_keeps_its_contract_on_the_catalog() {
    let mut out = Vec::new();
    for edge in EDGES {
        let gw = TestGateway::start(Config::default()).await;
        out.extend(run_edge(&gw, edge, ("catalog", None), &SAMPLES, true).await);
    }
    assert_none(out);
}

#[test]
fn the_checker_catches_a_null_a_changed_type_and_a_stranger_word() {
    let c = contract::of(Dialect::GoGrid);
    let good = json!({"id": 1, "name": "GSI-1", "friendlyName": "n", "os": {"id": 0, "name": "Unknown", "description": null, "object": "option"},
        "type": {"id": 1, "name": "Web Server", "description": "", "object": "option"},
        "state": {"id": 2, "name": "Available", "description": "", "object": "option"},
        "price": 0, "location": "", "isActive": true, "isPublic": false, "updatedTime": 1, "billingtokens": [],
        "owner": {"id": 5, "name": "demo", "object": "customer"}, "object": "image"});
    let mut out = Vec::new();
    contract::check(&c.image, &good, "image", &mut out);
    assert_eq!(out, Vec::<String>::new());
    for (key, bad) in [
        ("os", Value::Null),
        ("id", json!("70a599e0")),
        ("state", json!({"id": 0, "name": "Error", "description": "", "object": "option"})),
    ] {
        let mut image = good.clone();
        image[key] = bad;
        let mut out = Vec::new();
        contract::check(&c.image, &image, "image", &mut out);
        assert_eq!(out.len(), 1, "{key}: {out:?}");
    }
}

#[test]
fn the_checker_wants_novas_three_links_in_order() {
    let c = contract::of(Dialect::OpenStack);
    let links = |rels: &[&str]| -> Value {
        rels.iter()
            .map(|rel| match *rel {
                "alternate" => json!({"href": "h", "rel": rel, "type": "application/vnd.openstack.image"}),
                _ => json!({"href": "h", "rel": rel}),
            })
            .collect()
    };
    let breaches_of = |rels: &[&str]| {
        let body = json!({"images": [{"id": "i", "name": "n", "links": links(rels)}]});
        let mut out = Vec::new();
        c.check_list(&body, c.summary.as_ref().unwrap(), &mut out);
        out
    };
    assert_eq!(breaches_of(&["self", "bookmark", "alternate"]), Vec::<String>::new());
    assert_eq!(breaches_of(&["self", "bookmark"]).len(), 1);
    assert!(!breaches_of(&["self", "alternate", "bookmark"]).is_empty());
}
