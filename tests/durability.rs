//! A durable catalog keeps what it is given: images written through each
//! dialect survive `kill -9`, even one that lands in the middle of writes.

use std::path::PathBuf;

use crate::common::binary::Binary;
use crate::common::{get, send};
use http::Method;
use serde_json::{Value, json};

const GG: &str = "api_key=demo&v=1.3&sig=0&format=json";

fn workspace(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("dragoman-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("dragoman.toml");
    let catalog = dir.join("catalog.redb");
    std::fs::write(
        &config,
        format!("[server]\nlisten = \"127.0.0.1:0\"\n\n[catalog]\npath = {:?}\n", catalog.display().to_string()),
    )
    .unwrap();
    (dir, config)
}

async fn json_request(method: Method, url: &str, body: Value) -> u16 {
    let got = send(method, url, &[("content-type", "application/json")], &body.to_string()).await;
    got.status.as_u16()
}

/// Everything the catalog holds, as OpenStack and Foreman see it, with the
/// gateway's own address (which changes across restarts) taken out of links.
async fn everything(gw: &Binary) -> (Value, Value) {
    let unlinked = |v: Value| -> Value { serde_json::from_str(&v.to_string().replace(&gw.base, "")).unwrap() };
    let openstack = get(&gw.url("/v2/demo/images/detail")).await.json();
    let foreman = get(&gw.url("/api/compute_resources/980190962/images?per_page=all")).await.json();
    (unlinked(openstack), unlinked(foreman))
}

#[tokio::test]
async fn writes_through_every_dialect_survive_kill_9() {
    let (dir, config) = workspace("durable");
    let gw = Binary::with_config(&config, &[], false);
    let image = "70a599e0-31e7-49b7-b260-868f441e862b";
    assert_eq!(
        json_request(Method::POST, &gw.url("/v2/demo/servers/s-1/action"), json!({"createImage": {"name": "os-snap"}}))
            .await,
        202
    );
    assert_eq!(
        json_request(
            Method::POST,
            &gw.url(&format!("/v2/demo/images/{image}/metadata")),
            json!({"metadata": {"k": "v"}})
        )
        .await,
        200
    );
    assert_eq!(get(&gw.url(&format!("/api/grid/image/save?server=s-2&friendlyName=gg-snap&{GG}"))).await.status, 200);
    assert_eq!(get(&gw.url(&format!("/api/grid/image/edit?id=250&friendlyName=gg-renamed&{GG}"))).await.status, 200);
    assert_eq!(get(&gw.url(&format!("/api/grid/image/delete?id=980190962&{GG}"))).await.status, 200);
    let tpl = json!({"image": {"name": "fm-tpl", "username": "root", "uuid": "u-1"}});
    assert_eq!(json_request(Method::POST, &gw.url("/api/compute_resources/980190962/images"), tpl).await, 201);
    let rename = json!({"image": {"name": "fm-renamed"}});
    assert_eq!(
        json_request(Method::PUT, &gw.url("/api/compute_resources/980190962/images/298486374"), rename).await,
        200
    );
    assert_eq!(send(Method::DELETE, &gw.url("/v2/demo/images/133"), &[], "").await.status, 204);
    let before = everything(&gw).await;
    gw.kill_9();

    let gw = Binary::with_config(&config, &[], false);
    let after = everything(&gw).await;
    assert_eq!(after, before, "the catalog came back unchanged");
    let names: Vec<&str> = after.1["results"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fakeimage7", "gg-renamed", "centos-1", "fm-renamed", "os-snap", "gg-snap", "fm-tpl"]);
    gw.kill_9();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_kill_in_the_middle_of_writes_loses_no_committed_image() {
    let (dir, config) = workspace("midwrite");
    let gw = Binary::with_config(&config, &[], false);
    let url = gw.url("/api/compute_resources/980190962/images");
    // writes in flight while the process dies: each either landed whole or not at all
    let writers: Vec<_> = (0..40)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let body = json!({"image": {"name": format!("w-{i}"), "username": "root", "uuid": format!("u-{i}")}});
                let got = send(Method::POST, &url, &[("content-type", "application/json")], &body.to_string()).await;
                got.status.as_u16() == 201
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    gw.kill_9();
    let mut acknowledged = 0;
    for w in writers {
        // a request cut off by the kill is not acknowledged
        if let Ok(true) = w.await {
            acknowledged += 1;
        }
    }

    let gw = Binary::with_config(&config, &[], false);
    let listed = get(&gw.url("/api/compute_resources/980190962/images?per_page=all")).await.json();
    let written: Vec<&Value> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"].as_str().unwrap().starts_with("w-"))
        .collect();
    assert!(written.len() >= acknowledged, "{} stored, {acknowledged} acknowledged", written.len());
    for image in written {
        let n = image["name"].as_str().unwrap().trim_start_matches("w-");
        assert_eq!(image["uuid"], format!("u-{n}"), "each stored image is whole");
    }
    gw.kill_9();
    let _ = std::fs::remove_dir_all(dir);
}

/// The ids the catalog holds, as OpenStack lists them.
async fn ids(gw: &Binary) -> Vec<String> {
    let listed = get(&gw.url("/v2/demo/images")).await.json();
    listed["images"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

/// Saves an image through GoGrid and returns its id.
async fn save(gw: &Binary, name: &str) -> i64 {
    let got = get(&gw.url(&format!("/api/grid/image/save?server=s-1&friendlyName={name}&{GG}"))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    got.json()["list"][0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn deletes_stay_deleted_and_ids_are_never_given_twice_across_kill_9() {
    let (dir, config) = workspace("deleted");
    let gw = Binary::with_config(&config, &[], false);
    let first = save(&gw, "first").await;
    for id in ids(&gw).await {
        assert_eq!(send(Method::DELETE, &gw.url(&format!("/v2/demo/images/{id}")), &[], "").await.status, 204);
    }
    assert_eq!(ids(&gw).await, Vec::<String>::new());
    gw.kill_9();

    let gw = Binary::with_config(&config, &[], false);
    assert_eq!(ids(&gw).await, Vec::<String>::new(), "an emptied catalog is not seeded again");
    // check-config accepts the catalog a running gateway holds open
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(["check-config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    let second = save(&gw, "second").await;
    assert!(second > first, "a deleted id is not given again: {first} then {second}");
    gw.kill_9();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn files_that_are_not_catalogs_are_refused_at_start_and_by_check_config() {
    let (dir, config) = workspace("corrupt");
    let catalog = dir.join("catalog.redb");
    for (what, bytes) in [("empty", Vec::new()), ("foreign", b"SQLite format 3\0 not a catalog".repeat(200))] {
        std::fs::write(&catalog, &bytes).unwrap();
        for args in [vec!["--config", config.to_str().unwrap()], vec!["check-config", config.to_str().unwrap()]] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_dragoman")).args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what} {args:?}: {stderr}");
            assert!(stderr.contains("catalog file"), "{what} {args:?}: {stderr}");
            assert!(!stderr.contains("panicked"), "{what} {args:?}: {stderr}");
            assert_eq!(std::fs::read(&catalog).unwrap(), bytes, "{what}: the file is left untouched");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
