//! Read-through fallback during a migration: two upstream gateways whose
//! catalogs differ — the new side has lost an image and renamed another —
//! and a gateway routing to the new side with the old one as fallback.

use http::Method;
use serde_json::Value;

use crate::common::binary::Binary;
use crate::common::dialects::{get_many_path, list_path, listed, show_path, shown};
use crate::common::{get, send};
use dragoman::dialect::Dialect;

/// The image only the old side keeps.
const ONLY_OLD: &str = "980190962";

/// Two gateways on the sample catalog; from the first (the new side) one
/// image is deleted and another renamed.
async fn old_and_new() -> (Binary, Binary) {
    let old = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let new = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let deleted = send(Method::DELETE, &new.url(&show_path(Dialect::Foreman, ONLY_OLD)), &[], "").await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let renamed = send(
        Method::PUT,
        &new.url(&show_path(Dialect::Foreman, "298486374")),
        &[("content-type", "application/json")],
        r#"{"image": {"name": "centos-2-moved"}}"#,
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    (old, new)
}

/// A gateway whose Hostway and GoGrid edges go to `new`, read through `old`.
fn bridge(old: &Binary, new: &Binary) -> Binary {
    let upstream = |name: &str, at: &Binary| {
        format!(
            "[[upstream]]\nname = \"{name}\"\ndialect = \"hostway\"\nurl = \"{}\"\nscope = \"demo\"\n\
             [upstream.credentials]\nuser = \"demo\"\npassword = \"demo\"\n",
            at.base
        )
    };
    let config = format!(
        "{}{}[[route]]\nedge = \"hostway\"\nbackend = \"new\"\nfallback = \"old\"\n\
         [[route]]\nedge = \"gogrid\"\nbackend = \"new\"\nfallback = \"old\"\n",
        upstream("new", new),
        upstream("old", old)
    );
    let path = std::env::temp_dir().join(format!("dragoman-fallback-{}.toml", std::process::id()));
    std::fs::write(&path, config).unwrap();
    let gw = Binary::with_config(&path, &[("RUST_LOG", "dragoman=info")], true);
    let _ = std::fs::remove_file(&path);
    gw
}

fn json(got: &crate::common::Got) -> Value {
    got.json()
}

#[tokio::test]
async fn the_fallback_serves_what_only_the_old_side_has_and_the_log_says_so() {
    let (old, new) = old_and_new().await;
    let gw = bridge(&old, &new);
    // only the old side has it: served from there
    let got = get(&gw.url(&show_path(Dialect::Hostway, ONLY_OLD))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(shown(Dialect::Hostway, &json(&got)), (ONLY_OLD.to_owned(), "centos-1".to_owned()));
    // both have it: the new side answers, renamed
    let got = get(&gw.url(&show_path(Dialect::Hostway, "298486374"))).await;
    assert_eq!(shown(Dialect::Hostway, &json(&got)).1, "centos-2-moved");
    // neither has it: the primary's not-found
    let got = get(&gw.url(&show_path(Dialect::Hostway, "424242"))).await;
    assert_eq!(got.status, 404, "{}", got.text());
    // a get-many: what the new side lacks comes from the old side
    let got = get(&gw.url(&get_many_path(&["250", ONLY_OLD]))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    let mut ids: Vec<String> =
        json(&got)["list"].as_array().unwrap().iter().map(|i| crate::common::dialects::id_of(&i["id"])).collect();
    ids.sort();
    assert_eq!(ids, ["250", ONLY_OLD]);
    // lists stay on the primary
    let got = get(&gw.url(&list_path(Dialect::Hostway))).await;
    let ids = listed(Dialect::Hostway, &json(&got));
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(!ids.iter().any(|id| id == ONLY_OLD), "{ids:?}");

    let logs = gw.logs();
    let served: Vec<&str> = logs.lines().filter(|l| l.contains("request") && l.contains("fallback=")).collect();
    assert_eq!(served.len(), 2, "the show and the get-many, no others: {logs}");
    assert!(served.iter().all(|l| l.contains("fallback=\"old\"") || l.contains("fallback=old")), "{served:?}");
    assert!(served[0].contains(&format!("/images/{ONLY_OLD}")), "{served:?}");
}
