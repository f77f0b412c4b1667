//! The chain: gateway(edge X → upstream Y) in front of gateway(edge Y →
//! memory catalog), for all 16 pairs. Whatever X asks, it must see the
//! catalog exactly as it would from a gateway serving the catalog directly.

use crate::common::dialects::{assert_not_found, get_many_path, id_at, list_path, listed, page_path, show_path, shown};
use crate::common::{TestGateway, get, in_front_of};
use dragoman::config::Config;
use dragoman::dialect::Dialect;

/// The embedded catalog: ids and display names, in catalog order.
const CATALOG: [(&str, &str); 5] = [
    ("133", "test_debian_image"),
    ("70a599e0-31e7-49b7-b260-868f441e862b", "fakeimage7"),
    ("250", "n"),
    ("980190962", "centos-1"),
    ("298486374", "centos-2"),
];

/// The catalog's ids as `edge` shows them through `upstream`.
fn catalog_ids(edge: Dialect, upstream: Dialect) -> Vec<String> {
    CATALOG.iter().map(|(id, _)| id_at(edge, Some(upstream), id)).collect()
}

async fn chain_to(upstream: Dialect) {
    let inner = TestGateway::start(Config::default()).await;
    let gw = in_front_of(upstream, &inner).await;
    for edge in Dialect::ALL {
        let pair = format!("{edge} -> {upstream} -> memory");
        for (id, name) in CATALOG {
            let id = id_at(edge, Some(upstream), id);
            let got = get(&gw.url(&show_path(edge, &id))).await;
            assert_eq!(got.status, 200, "{pair} show {id}: {}", got.text());
            assert_eq!(shown(edge, &got.json()), (id, name.to_owned()), "{pair} show");
        }

        let got = get(&gw.url(&show_path(edge, "no-such-image"))).await;
        assert_not_found(edge, got.status.as_u16(), &got.json(), "no-such-image");

        let got = get(&gw.url(&list_path(edge))).await;
        assert_eq!(got.status, 200, "{pair} list: {}", got.text());
        assert_eq!(listed(edge, &got.json()), catalog_ids(edge, upstream), "{pair} list");

        // walk every page of two: each image once, in order
        let mut seen: Vec<String> = Vec::new();
        for index in 0..4 {
            let Some(path) = page_path(edge, 2, index, seen.last().map(String::as_str)) else { break };
            let got = get(&gw.url(&path)).await;
            assert_eq!(got.status, 200, "{pair} page {index}: {}", got.text());
            let ids = listed(edge, &got.json());
            assert!(ids.len() <= 2, "{pair} page {index} holds {ids:?}");
            seen.extend(ids);
        }
        // an edge that pages shows every image across its pages
        if page_path(edge, 2, 0, None).is_some() {
            assert_eq!(seen, catalog_ids(edge, upstream), "{pair} pages");
        }

        if edge == Dialect::GoGrid {
            let got = get(&gw.url(&get_many_path(&["250", "no-such-image", "133"]))).await;
            assert_eq!(got.status, 200, "{pair} get many: {}", got.text());
            assert_eq!(listed(edge, &got.json()), ["250", "133"], "{pair} get many");
        }
    }
}

#[tokio::test]
async fn every_edge_through_a_hostway_hop() {
    chain_to(Dialect::Hostway).await;
}

#[tokio::test]
async fn every_edge_through_an_openstack_hop() {
    chain_to(Dialect::OpenStack).await;
}

#[tokio::test]
async fn every_edge_through_a_gogrid_hop() {
    chain_to(Dialect::GoGrid).await;
}

#[tokio::test]
async fn every_edge_through_a_foreman_hop() {
    chain_to(Dialect::Foreman).await;
}
