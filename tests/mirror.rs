//! Mirror and compare during a migration: a gateway serving the Hostway edge
//! from the old side mirrors its reads to the new side, whose catalog lost
//! one image and renamed another; a hung or failing mirror changes nothing
//! the client sees.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;

use crate::common::binary::Binary;
use crate::common::dialects::{list_path, listed, show_path, shown};
use crate::common::{get, send};
use crate::fallback::{ONLY_OLD, RENAMED, hostway_upstream, old_and_new};
use dragoman::dialect::Dialect;

const ROUTE: &str = "hostway:*";

/// The configuration of a gateway whose Hostway and Foreman edges are
/// served by `backend` and, with `mirror_on`, mirrored to `mirror`, both
/// Hostway upstreams at the given URLs, with `[mirror]` settings.
fn mirror_config(backend: &str, mirror: &str, settings: &str, mirror_on: bool) -> String {
    mirror_config_with(backend, mirror, "", settings, mirror_on)
}

/// [`mirror_config`] with more keys on the Hostway edge's route.
fn mirror_config_with(backend: &str, mirror: &str, hostway_keys: &str, settings: &str, mirror_on: bool) -> String {
    let mirror_key = if mirror_on { "mirror = \"mirror\"\n" } else { "" };
    let route = |edge: &str| format!("[[route]]\nedge = \"{edge}\"\nbackend = \"primary\"\n{mirror_key}");
    format!(
        "{}{}{}{hostway_keys}{}[mirror]\n{settings}",
        hostway_upstream("primary", backend),
        hostway_upstream("mirror", mirror),
        route("hostway"),
        route("foreman"),
    )
}

/// A file of its own for a gateway's configuration.
fn config_file(config: &str) -> std::path::PathBuf {
    static WRITTEN: AtomicUsize = AtomicUsize::new(0);
    let n = WRITTEN.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("dragoman-mirror-{}-{n}.toml", std::process::id()));
    std::fs::write(&path, config).unwrap();
    path
}

/// The gateway of [`mirror_config`], mirror on.
fn mirrored(backend: &str, mirror: &str, settings: &str) -> Binary {
    mirrored_with(backend, mirror, "", settings)
}

/// The gateway of [`mirror_config_with`], mirror on.
fn mirrored_with(backend: &str, mirror: &str, hostway_keys: &str, settings: &str) -> Binary {
    let path = config_file(&mirror_config_with(backend, mirror, hostway_keys, settings, true));
    let args = ["--config", path.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let gw = Binary::start(&args, &[("RUST_LOG", "dragoman=info")], true);
    let _ = std::fs::remove_file(&path);
    gw
}

/// Every result a read of a route with a mirror is counted under.
const RESULTS: [&str; 5] = ["same", "different", "error", "dropped", "unsampled"];

/// `/mirror`'s report of the route, once it has counted `total` reads
/// (waits at most ten seconds for the background work).
async fn report_after(gw: &Binary, total: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = get(&gw.admin_url("/mirror")).await;
        assert_eq!(got.status, 200, "{}", got.text());
        let report = got.json();
        let route = report["routes"].as_array().unwrap().iter().find(|r| r["route"] == ROUTE).cloned();
        if let Some(route) = route {
            let counted: u64 = RESULTS.iter().map(|k| route[k].as_u64().unwrap()).sum();
            if counted >= total || Instant::now() > deadline {
                return route;
            }
        } else if Instant::now() > deadline {
            panic!("no report of {ROUTE}: {report}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The metric lines of `family` for the route, without the `# ` lines.
async fn metric_lines(gw: &Binary, family: &str) -> Vec<String> {
    let text = get(&gw.admin_url("/metrics")).await.text();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(family) && l.contains(&format!("route=\"{ROUTE}\"")))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn the_mirror_counts_exactly_the_renamed_and_the_missing_image() {
    let (old, new) = old_and_new().await;
    let gw = mirrored(&old.base, &new.base, "");
    // what the client sees: the old side, whatever the new side says
    let got = get(&gw.url(&show_path(Dialect::Hostway, ONLY_OLD))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    let got = get(&gw.url(&show_path(Dialect::Hostway, RENAMED))).await;
    assert_eq!(shown(Dialect::Hostway, &got.json()).1, "centos-2");
    let got = get(&gw.url(&show_path(Dialect::Hostway, "250"))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    let got = get(&gw.url(&show_path(Dialect::Hostway, "424242"))).await;
    assert_eq!(got.status, 404, "{}", got.text());
    let got = get(&gw.url(&list_path(Dialect::Hostway))).await;
    assert_eq!(listed(Dialect::Hostway, &got.json()).len(), 5);
    // a write is never mirrored (and a Hostway upstream refuses this one)
    let got = send(Method::DELETE, &gw.url(&show_path(Dialect::Foreman, "424242")), &[], "").await;
    assert_eq!(got.status, 501, "{}", got.text());

    let route = report_after(&gw, 5).await;
    // the show of 250 and the not-found of both; the missing, the renamed, the list
    assert_eq!((route["same"].as_u64(), route["different"].as_u64()), (Some(2), Some(3)), "{route}");
    assert_eq!((route["error"].as_u64(), route["dropped"].as_u64()), (Some(0), Some(0)), "{route}");
    assert_eq!(route["mirror"], "mirror");
    let report = get(&gw.admin_url("/mirror")).await.json();
    assert_eq!(
        report["routes"].as_array().unwrap().len(),
        1,
        "the write on the foreman edge is not mirrored: {report}"
    );
    let fields: Vec<(&str, u64)> = route["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["count"].as_u64().unwrap()))
        .collect();
    // the show and the list each see both differences, and no other field differs
    assert_eq!(fields, [("image", 2), ("name", 2)], "{route}");
    let name = &route["fields"][1]["examples"][0];
    assert_eq!(name["image"], RENAMED, "{route}");
    assert_eq!((name["primary"].as_str(), name["mirror"].as_str()), (Some("\"centos-2\""), Some("\"centos-2-moved\"")));
    assert!(!name["request_id"].as_str().unwrap().is_empty(), "{route}");
    let missing = &route["fields"][0]["examples"][0];
    assert_eq!((missing["image"].as_str(), missing["mirror"].as_str()), (Some(ONLY_OLD), Some("absent")), "{route}");

    assert_eq!(
        metric_lines(&gw, "dragoman_mirror_requests_total").await,
        [
            format!("dragoman_mirror_requests_total{{route=\"{ROUTE}\",result=\"different\"}} 3"),
            format!("dragoman_mirror_requests_total{{route=\"{ROUTE}\",result=\"same\"}} 2"),
        ]
    );
    assert_eq!(
        metric_lines(&gw, "dragoman_mirror_field_differences_total").await,
        [
            format!("dragoman_mirror_field_differences_total{{route=\"{ROUTE}\",field=\"image\"}} 2"),
            format!("dragoman_mirror_field_differences_total{{route=\"{ROUTE}\",field=\"name\"}} 2"),
        ]
    );
    let logs = gw.logs();
    let differs: Vec<&str> = logs.lines().filter(|l| l.contains("mirror differs")).collect();
    // one in ten logged, the first always
    assert_eq!(differs.len(), 1, "{logs}");
    assert!(differs[0].contains("request_id") && differs[0].contains(ONLY_OLD), "{differs:?}");
}

/// What a gateway with no mirror answers to each read, by status and image shown.
async fn answers(gw: &Binary, ids: &[&str]) -> Vec<(u16, Option<(String, String)>)> {
    let mut out = Vec::new();
    for id in ids {
        let got = get(&gw.url(&show_path(Dialect::Hostway, id))).await;
        out.push((got.status.as_u16(), (got.status == 200).then(|| shown(Dialect::Hostway, &got.json()))));
    }
    out
}

const READS: [&str; 6] = ["250", ONLY_OLD, RENAMED, "424242", "250", ONLY_OLD];

#[tokio::test]
async fn a_hung_mirror_changes_nothing_the_client_sees_and_reads_past_its_room_are_dropped() {
    // accepts and never answers
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let primary = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    // one running, one waiting, each held far longer than the test
    let gw = mirrored(
        &primary.base,
        &format!("http://{}", hung.local_addr().unwrap()),
        "concurrency = 1\nqueue = 1\ntimeout_ms = 60000\n",
    );
    assert_eq!(answers(&gw, &READS).await, answers(&primary, &READS).await);
    let route = report_after(&gw, 4).await;
    assert_eq!(route["dropped"].as_u64(), Some(4), "{route}");
    assert_eq!(route["same"].as_u64().unwrap() + route["different"].as_u64().unwrap(), 0, "{route}");
    drop(hung);
}

#[tokio::test]
async fn a_failing_mirror_changes_nothing_the_client_sees_and_counts_errors() {
    let primary = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    // a closed port: every mirrored read fails to connect
    let gw = mirrored(&primary.base, "http://127.0.0.1:9", "timeout_ms = 5000\n");
    assert_eq!(answers(&gw, &READS).await, answers(&primary, &READS).await);
    let route = report_after(&gw, READS.len() as u64).await;
    assert_eq!(route["error"].as_u64(), Some(READS.len() as u64), "{route}");
    assert!(route["last_error"].as_str().unwrap().starts_with("mirror: "), "{route}");
    assert_eq!(route["fields"].as_array().map(Vec::len), Some(0), "{route}");
}

#[tokio::test]
async fn a_mirror_is_turned_on_by_a_config_edit_and_sighup() {
    let (old, new) = old_and_new().await;
    let path = config_file(&mirror_config(&old.base, &new.base, "", false));
    let args = ["--config", path.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let gw = Binary::start(&args, &[], false);
    let show = gw.url(&show_path(Dialect::Hostway, RENAMED));
    assert_eq!(get(&show).await.status, 200);
    std::fs::write(&path, mirror_config(&old.base, &new.base, "", true)).unwrap();
    let hup = std::process::Command::new("kill").arg("-HUP").arg(gw.child.id().to_string()).status().unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !get(&gw.admin_url("/metrics")).await.text().contains("dragoman_config_reloads_total{result=\"success\"} 1") {
        assert!(Instant::now() < deadline, "the reload was not counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::fs::remove_file(&path);
    assert_eq!(get(&show).await.status, 200);
    // only the read after the reload was mirrored
    let route = report_after(&gw, 1).await;
    assert_eq!((route["different"].as_u64(), route["same"].as_u64()), (Some(1), Some(0)), "{route}");
    assert_eq!(route["fields"][0]["field"], "name", "{route}");
}

/// `n` shows of one image through `gw`, each answered 200.
async fn shows(gw: &Binary, n: usize) {
    for _ in 0..n {
        let got = get(&gw.url(&show_path(Dialect::Hostway, "250"))).await;
        assert_eq!(got.status, 200, "{}", got.text());
    }
}

/// A route's counts: (compared or failed, dropped, unsampled).
fn counts(route: &Value) -> (u64, u64, u64) {
    let n = |k: &str| route[k].as_u64().unwrap();
    (n("same") + n("different") + n("error"), n("dropped"), n("unsampled"))
}

#[tokio::test]
async fn a_sample_of_zero_mirrors_nothing_unless_the_route_draws_its_own() {
    let primary = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let mirror = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let gw = mirrored(&primary.base, &mirror.base, "sample = 0\n");
    shows(&gw, 10).await;
    let route = report_after(&gw, 10).await;
    assert_eq!(counts(&route), (0, 0, 10), "{route}");
    assert_eq!(route["sample"].as_f64(), Some(0.0), "{route}");
    assert_eq!(
        metric_lines(&gw, "dragoman_mirror_requests_total").await,
        [format!("dragoman_mirror_requests_total{{route=\"{ROUTE}\",result=\"unsampled\"}} 10")]
    );
    // the mirror's side was never asked, the primary's was
    let asked = get(&primary.admin_url("/metrics")).await.text();
    assert!(asked.contains("dragoman_requests_total{"), "{asked}");
    let asked = get(&mirror.admin_url("/metrics")).await.text();
    assert!(!asked.contains("dragoman_requests_total{"), "{asked}");

    // the route's own sample overrides [mirror]'s
    let gw = mirrored_with(&primary.base, &mirror.base, "mirror_sample = 1.0\n", "sample = 0\n");
    shows(&gw, 4).await;
    let route = report_after(&gw, 4).await;
    assert_eq!(counts(&route), (4, 0, 0), "{route}");
    assert_eq!(route["same"].as_u64(), Some(4), "{route}");
}

#[tokio::test]
async fn a_sample_draws_a_share_of_the_reads_and_counts_the_rest_unsampled() {
    const READS: u64 = 60;
    let primary = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let gw = mirrored(&primary.base, &primary.base, "sample = 0.5\nper_second = 0\n");
    shows(&gw, READS as usize).await;
    let route = report_after(&gw, READS).await;
    let (mirrored, dropped, unsampled) = counts(&route);
    assert_eq!((mirrored + unsampled, dropped), (READS, 0), "{route}");
    // a fair draw of 60 is neither none nor all (2 in 2^60 would be)
    assert!(mirrored > 0 && unsampled > 0, "{route}");
    assert_eq!(route["same"].as_u64(), Some(mirrored), "{route}");
}

#[tokio::test]
async fn a_rate_bounds_the_sampled_reads_mirrored_and_drops_the_rest() {
    const READS: u64 = 40;
    let primary = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    // one a second, in bursts of one
    let gw = mirrored(&primary.base, &primary.base, "sample = 0.5\nper_second = 1\n");
    let started = Instant::now();
    shows(&gw, READS as usize).await;
    let seconds = started.elapsed().as_secs();
    let route = report_after(&gw, READS).await;
    let (mirrored, dropped, unsampled) = counts(&route);
    assert_eq!(mirrored + dropped + unsampled, READS, "{route}");
    assert!(unsampled > 0 && mirrored + dropped > 0, "{route}");
    // the first drawn read finds the bucket full; after it, one a second
    assert!(mirrored >= 1, "{route}");
    assert!(mirrored <= 1 + seconds, "{mirrored} mirrored in {seconds}s: {route}");
    assert_eq!(route["same"].as_u64(), Some(mirrored), "{route}");
}
