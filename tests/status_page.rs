//! The admin listener's status page and what it polls; the page itself is
//! checked in a headless chromium by `tests/browser/status_page.mjs`.

use crate::common::binary::Binary;
use crate::common::dialects::show_path;
use http::Method;

use crate::common::{Got, get, send_raw};
use dragoman::dialect::Dialect;

/// A GET of the admin listener, as is.
async fn admin(url: &str) -> Got {
    send_raw(Method::GET, url, &[], "").await
}

#[tokio::test]
async fn the_page_is_self_contained_and_its_json_counts_the_traffic() {
    let gw = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    for id in ["133", "133", "424242"] {
        get(&gw.url(&show_path(Dialect::Hostway, id))).await;
    }
    let page = admin(&gw.admin_url("/")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    let html = page.text();
    assert!(html.contains("fetch(\"/status.json\""), "the page polls the json");
    assert!(html.contains("<li>everything else -&gt; embedded catalog"), "the routes, server-rendered: {html}");
    // no external assets: nothing is loaded from anywhere else
    for external in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "{external}");
    }

    let status = admin(&gw.admin_url("/status.json")).await.json();
    let pair = status["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["edge"] == "hostway" && p["backend"] == "memory")
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!((pair["requests"].as_u64(), pair["client_errors"].as_u64()), (Some(3), Some(1)), "{pair}");
    assert_eq!(pair["errors"].as_u64(), Some(0), "{pair}");
    assert!(pair["p99_ms"].as_f64().is_some(), "{pair}");
    assert_eq!(status["upstreams"].as_array().map(Vec::len), Some(0), "{status}");
    assert_eq!(status["mirror"]["routes"].as_array().map(Vec::len), Some(0), "{status}");
    assert_eq!(status["draining"], false);
}
