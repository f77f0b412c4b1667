//! Operating the gateway as an operator does, on the real binary: the admin
//! listener's metrics and probes, SIGHUP reload under load, the JSON access
//! log, and the drain on SIGTERM.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use dragoman::config::Config;
use dragoman::dialect::Dialect;
use dragoman::pipeline::Gateway;
use dragoman::server::Server;
use http::Method;
use tokio::net::TcpStream;

use crate::common::binary::Binary;
use crate::common::dialects::{list_path, show_path};
use crate::common::{TestGateway, get, send_raw};
use crate::protect;

/// A directory of its own for one test's files.
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dragoman-ops-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One sample of a scrape: its labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Every sample of `/metrics`, parsed from the OpenMetrics text.
async fn scrape(gateway: &Binary) -> Vec<Sample> {
    let got = send_raw(Method::GET, &gateway.admin_url("/metrics"), &[], "").await;
    assert_eq!(got.status, 200);
    assert!(got.headers["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = got.text();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(parse_sample).collect()
}

fn parse_sample(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
    let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a value: {line}"));
    let (name, labels) = match series.split_once('{') {
        None => (series, BTreeMap::new()),
        Some((name, rest)) => {
            let rest = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
            let labels = rest
                .split("\",")
                .map(|pair| {
                    let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label in {line}"));
                    (k.to_owned(), v.trim_end_matches('"').to_owned())
                })
                .collect();
            (name, labels)
        }
    };
    Sample { name: name.to_owned(), labels, value }
}

/// The sum of the samples named `name` whose labels include `labels`.
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
        .sum()
}

/// An upstream gateway serving the demo catalog on `addr`, until `stop` is dropped.
async fn upstream_on(addr: SocketAddr) -> tokio::sync::oneshot::Sender<()> {
    let mut config = Config::default();
    config.server.listen = addr;
    config.server.shutdown_grace_secs = 1;
    let server =
        Server::bind(&config.server, Gateway::from_config(&config).unwrap()).await.expect("the upstream binds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    stop
}

/// An `[[upstream]]` entry for a demo gateway's edge of `dialect` at `url`.
fn upstream_entry(name: &str, url: &str) -> String {
    format!(
        "[[upstream]]\nname = \"{name}\"\ndialect = \"hostway\"\nurl = \"{url}\"\nscope = \"demo\"\n\
         credentials = {{ user = \"demo\", password = \"demo\" }}\n"
    )
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("dragoman.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn metrics_count_the_traffic_of_every_edge_by_backend_and_status() {
    let inner = TestGateway::start(Config::default()).await;
    let dir = workdir("metrics");
    let config = write_config(
        &dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[[route]]\nedge = \"foreman\"\nbackend = \"inner\"\n\n{}",
            upstream_entry("inner", &format!("http://{}", inner.addr))
        ),
    );
    let gateway = Binary::with_config(&config, &[], false);
    for edge in [Dialect::Hostway, Dialect::OpenStack, Dialect::GoGrid, Dialect::Foreman] {
        for _ in 0..2 {
            let got = get(&gateway.url(&list_path(edge))).await;
            assert_eq!(got.status, 200, "{edge}: {}", got.text());
        }
    }
    let refused = send_raw(Method::GET, &gateway.url(&show_path(Dialect::Hostway, "133")), &[], "").await;
    assert_eq!(refused.status, 401);

    let samples = scrape(&gateway).await;
    let requests = "dragoman_requests_total";
    for (edge, backend) in [("hostway", "memory"), ("openstack", "memory"), ("gogrid", "memory"), ("foreman", "inner")]
    {
        let ok = [("edge", edge), ("backend", backend), ("status_class", "2xx")];
        assert_eq!(total(&samples, requests, &ok), 2.0, "{edge} → {backend}: {samples:?}");
        let timed = [("edge", edge), ("backend", backend)];
        assert_eq!(total(&samples, "dragoman_request_duration_seconds_count", &timed), 2.0, "{edge}");
        assert!(total(&samples, "dragoman_request_duration_seconds_sum", &timed) > 0.0, "{edge}");
        let all = [("edge", edge), ("backend", backend), ("le", "+Inf")];
        assert_eq!(total(&samples, "dragoman_request_duration_seconds_bucket", &all), 2.0, "{edge}");
    }
    let hostway_list = [("edge", "hostway"), ("operation", "list_detail"), ("status_class", "2xx")];
    assert_eq!(total(&samples, requests, &hostway_list), 2.0);
    let refused = [("edge", "hostway"), ("backend", "none"), ("status_class", "4xx")];
    assert_eq!(total(&samples, requests, &refused), 1.0);
    // the OpenStack edge's token, from the gateway's own Keystone
    assert_eq!(total(&samples, requests, &[("edge", "keystone"), ("status_class", "2xx")]), 1.0);
    // the foreman edge's two lists, each one call to the upstream
    let inner_calls = total(&samples, "dragoman_upstream_request_duration_seconds_count", &[("upstream", "inner")]);
    assert!(inner_calls >= 2.0, "{inner_calls}");
    assert_eq!(total(&samples, "dragoman_upstream_errors_total", &[("upstream", "inner")]), 0.0);
    assert_eq!(total(&samples, "dragoman_requests_in_flight", &[]), 0.0);
    assert_eq!(total(&samples, "dragoman_config_last_reload_successful", &[]), 1.0);
    let build = samples.iter().find(|s| s.name == "dragoman_build_info").expect("build info");
    assert_eq!(build.value, 1.0);
    assert_eq!(build.labels["version"], env!("CARGO_PKG_VERSION"));
    assert!(!build.labels["commit"].is_empty());

    // the admin listener is apart: no quota, no credentials, no dialect
    assert_eq!(send_raw(Method::GET, &gateway.admin_url("/livez"), &[], "").await.text(), "live\n");
    assert_eq!(send_raw(Method::GET, &gateway.admin_url("/nope"), &[], "").await.status, 404);
    assert_eq!(send_raw(Method::POST, &gateway.admin_url("/readyz"), &[], "").await.status, 405);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn readyz_fails_while_the_upstream_is_down_and_recovers_when_it_returns() {
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let stop = upstream_on(addr).await;
    let dir = workdir("readyz");
    let config = write_config(
        &dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndefault_backend = \"flaky\"\n\n{}",
            upstream_entry("flaky", &format!("http://{addr}"))
        ),
    );
    let gateway = Binary::with_config(&config, &[], false);
    let show = gateway.url(&show_path(Dialect::Hostway, "133"));
    assert_eq!(get(&show).await.status, 200);
    let ready = send_raw(Method::GET, &gateway.admin_url("/readyz"), &[], "").await;
    assert_eq!((ready.status.as_u16(), ready.text().as_str()), (200, "ready\n"));

    drop(stop);
    let mut down = None;
    for _ in 0..100 {
        // traffic finds the upstream gone; readiness probes it again
        let _ = get(&show).await;
        let ready = send_raw(Method::GET, &gateway.admin_url("/readyz"), &[], "").await;
        if ready.status == 503 {
            down = Some(ready.text());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let down = down.expect("/readyz turns 503 once the upstream is gone");
    assert!(down.contains("not ready: upstream flaky: does not answer"), "{down}");
    let samples = scrape(&gateway).await;
    let refused = [("upstream", "flaky"), ("kind", "connect")];
    assert!(total(&samples, "dragoman_upstream_errors_total", &refused) >= 1.0, "{samples:?}");

    let _back = upstream_on(addr).await;
    let mut up = false;
    for _ in 0..100 {
        if send_raw(Method::GET, &gateway.admin_url("/readyz"), &[], "").await.status == 200 {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "/readyz turns 200 once the upstream answers again");
    assert_eq!(get(&show).await.status, 200);
    let _ = std::fs::remove_dir_all(dir);
}

/// A client declared in the configuration, with Basic credentials.
#[tokio::test]
async fn a_configured_gateway_whose_keystone_is_away_starts_not_ready_and_says_why() {
    let dir = workdir("keystone-away");
    // Keystone on a closed port: the gateway serves, and readiness names it
    let config = write_config(
        &dir,
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[upstream]]\nname = \"nova\"\ndialect = \"openstack\"\n\
         url = \"http://127.0.0.1:9/v2.1\"\n\n[upstream.credentials]\nauth_url = \"http://127.0.0.1:9/v3\"\n\
         user = \"svc\"\npassword = \"x\"\nproject_name = \"images\"\n\n[[route]]\nedge = \"hostway\"\nbackend = \"nova\"\n",
    );
    let gateway = Binary::with_config(&config, &[], true);
    let ready = send_raw(Method::GET, &gateway.admin_url("/readyz"), &[], "").await;
    assert_eq!(ready.status, 503);
    let why = ready.text();
    assert!(why.contains("not ready: upstream nova: no keystone token"), "{why}");
    // what no route sends to Keystone is served meanwhile
    assert_eq!(get(&gateway.url(&show_path(Dialect::Foreman, "980190962"))).await.status, 200);
    let logs = gateway.logs();
    assert!(logs.contains("keystone at http://127.0.0.1:9/v3"), "{logs}");
    assert!(logs.contains("serving, not ready until it answers"), "{logs}");
    let _ = std::fs::remove_dir_all(dir);
}

fn client_entry(name: &str, password: &str) -> String {
    format!(
        "[[client]]\nname = \"{name}\"\nuser = \"{name}\"\npassword = \"{password}\"\naccount = \"demo\"\nproject = \"demo\"\n"
    )
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A token request at the gateway's own Keystone, for project `demo`.
async fn keystone_login(gateway: &Binary, user: &str, password: &str) -> crate::common::Got {
    let login = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
    }});
    let json = [("content-type", "application/json")];
    send_raw(Method::POST, &gateway.url("/v3/auth/tokens"), &json, &login.to_string()).await
}

fn signal(gateway: &Binary, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(gateway.child.id().to_string()).status().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sighup_under_load_swaps_routes_and_clients_and_a_bad_file_keeps_the_running_one() {
    let inner = TestGateway::start(Config::default()).await;
    let dir = workdir("reload");
    // no access log: the test reads the log only at the end
    let head = "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 2\n\n[log]\naccess = false\n\n";
    let alice = client_entry("alice", "alice-pw");
    let config = write_config(&dir, &format!("{head}{alice}"));
    let gateway = Binary::with_config(&config, &[("RUST_LOG", "dragoman=info")], true);
    let show = gateway.url(&show_path(Dialect::Hostway, "133"));
    let as_alice = basic("alice", "alice-pw");
    let as_bob = basic("bob", "bob-pw");
    // a token of the gateway's own Keystone, issued before the reload
    let issued = keystone_login(&gateway, "alice", "alice-pw").await;
    assert_eq!(issued.status, 201, "{}", issued.text());
    let token = issued.headers["x-subject-token"].to_str().unwrap().to_owned();
    assert_eq!(send_raw(Method::GET, &show, &[("authorization", &as_bob)], "").await.status, 401);

    // load: four callers, back to back, until the reload is seen through
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, sent, failed, show, auth) =
                (stop.clone(), sent.clone(), failed.clone(), show.clone(), as_alice.clone());
            tokio::spawn(async move {
                for _ in 0..5000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let got = send_raw(Method::GET, &show, &[("authorization", &auth)], "").await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    if got.status != 200 {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    while sent.load(Ordering::Relaxed) < 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // the new file: a second client, the hostway edge routed to an upstream,
    // and a key that only a restart changes
    let route = "[[route]]\nedge = \"hostway\"\nbackend = \"inner\"\n";
    let upstream = upstream_entry("inner", &format!("http://{}", inner.addr));
    let bob = client_entry("bob", "bob-pw");
    let next = format!("{}{alice}{bob}{route}{upstream}", head.replace("workers = 2", "workers = 3"));
    std::fs::write(&config, next).unwrap();
    signal(&gateway, "HUP");
    let mut swapped = false;
    for _ in 0..200 {
        if send_raw(Method::GET, &show, &[("authorization", &as_bob)], "").await.status == 200 {
            swapped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(swapped, "bob is a client once the file is reloaded");
    let before = sent.load(Ordering::Relaxed);
    while sent.load(Ordering::Relaxed) < before + 50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "of {} requests under load", sent.load(Ordering::Relaxed));
    let samples = scrape(&gateway).await;
    let routed = [("edge", "hostway"), ("backend", "inner"), ("status_class", "2xx")];
    assert!(total(&samples, "dragoman_requests_total", &routed) >= 1.0, "the route changed: {samples:?}");
    assert_eq!(total(&samples, "dragoman_config_reloads_total", &[("result", "success")]), 1.0);
    // the token issued before the reload still serves
    let openstack = gateway.url(&show_path(Dialect::OpenStack, "70a599e0-31e7-49b7-b260-868f441e862b"));
    assert_eq!(send_raw(Method::GET, &openstack, &[("x-auth-token", &token)], "").await.status, 200);

    // a file that does not load: the running configuration stays
    std::fs::write(&config, format!("{head}{alice}[[route]]\nedge = \"hostway\"\nbackend = \"nowhere\"\n")).unwrap();
    signal(&gateway, "HUP");
    let mut counted = false;
    for _ in 0..200 {
        let samples = scrape(&gateway).await;
        if total(&samples, "dragoman_config_reloads_total", &[("result", "failure")]) == 1.0 {
            assert_eq!(total(&samples, "dragoman_config_last_reload_successful", &[]), 0.0);
            counted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(counted, "the failed reload is counted");
    assert_eq!(send_raw(Method::GET, &show, &[("authorization", &as_bob)], "").await.status, 200, "bob stays");
    let logs = gateway.logs();
    assert!(logs.contains("configuration reloaded"), "{logs}");
    assert!(logs.contains("server.workers") && logs.contains("takes effect only on a restart"), "{logs}");
    let refusal = logs.lines().find(|l| l.contains("configuration not reloaded")).expect("the refusal is logged");
    assert!(refusal.contains("no upstream named") && refusal.contains("nowhere"), "{refusal}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn json_logs_carry_an_access_line_per_request_and_the_request_id_on_warnings() {
    let inner = TestGateway::start(Config::default()).await;
    let dir = workdir("json");
    // the foreman edge goes to an upstream nobody listens on
    let config = write_config(
        &dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndefault_backend = \"inner\"\n\n[log]\nformat = \"json\"\n\n\
             [[route]]\nedge = \"foreman\"\nbackend = \"down\"\n\n{}\n{}",
            upstream_entry("inner", &format!("http://{}", inner.addr)),
            upstream_entry("down", "http://127.0.0.1:9")
        ),
    );
    let gateway = Binary::with_config(&config, &[], true);
    let shown = send_raw(
        Method::GET,
        &gateway.url(&show_path(Dialect::Hostway, "133")),
        &[("authorization", "Basic ZGVtbzpkZW1v"), ("user-agent", "ops-test/1.0")],
        "",
    )
    .await;
    assert_eq!(shown.status, 200);
    let shown_id = shown.headers["x-request-id"].to_str().unwrap().to_owned();
    let failed = get(&gateway.url(&show_path(Dialect::Foreman, "1"))).await;
    assert!(failed.status.is_server_error(), "{}", failed.status);
    let failed_id = failed.headers["x-request-id"].to_str().unwrap().to_owned();

    let logs = gateway.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let access = |id: &str| {
        lines
            .iter()
            .find(|l| l["target"] == "dragoman::access" && l["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id} in {logs}"))
            .clone()
    };
    let line = access(&shown_id);
    assert_eq!(line["client_address"], "127.0.0.1");
    assert_eq!(line["client"], "demo");
    assert_eq!(line["edge"], "hostway");
    assert_eq!(line["backend"], "inner");
    assert_eq!(line["operation"], "show");
    assert_eq!(line["status"], 200);
    assert_eq!(line["upstream_status"], 200);
    assert!(line["duration_ms"].as_f64().unwrap() >= line["upstream_duration_ms"].as_f64().unwrap());
    assert!(line["upstream_duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(line["bytes_in"], 0);
    assert_eq!(line["bytes_out"].as_u64().unwrap(), shown.body.len() as u64);
    assert_eq!(line["user_agent"], "ops-test/1.0");
    let line = access(&failed_id);
    assert_eq!((line["edge"].as_str(), line["backend"].as_str()), (Some("foreman"), Some("down")));
    assert!(line.get("upstream_status").is_none(), "no upstream reply: {line}");
    let warning = lines
        .iter()
        .find(|l| l["level"] == "WARN" && l["message"] == "request failed")
        .unwrap_or_else(|| panic!("no warning in {logs}"));
    assert_eq!(warning["request_id"], failed_id.as_str(), "{warning}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_log_filter_that_does_not_parse_is_refused_at_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "dragoman=loud")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.starts_with("dragoman: RUST_LOG \"dragoman=loud\" is not a log filter"), "{said}");
}

#[tokio::test]
async fn sigterm_fails_readyz_first_then_closes_the_listener_then_lets_the_request_in_flight_finish() {
    let inner = TestGateway::start(Config::default()).await;
    let held = protect::Held::start(inner.addr).await;
    let dir = workdir("drain");
    let config = write_config(
        &dir,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndefault_backend = \"held\"\nshutdown_drain_delay_secs = 2\n\n{}",
            upstream_entry("held", &held.url())
        ),
    );
    let mut gateway = Binary::with_config(&config, &[("RUST_LOG", "dragoman=info")], true);
    let show = gateway.url(&show_path(Dialect::Hostway, "133"));
    // one answer first: the upstream answered recently, so /readyz does not probe it
    let first = show.clone();
    let answered = tokio::spawn(async move { get(&first).await });
    held.arrived().await;
    held.release(1);
    assert_eq!(answered.await.unwrap().status, 200);
    let in_flight = tokio::spawn(async move { get(&show).await });
    held.arrived().await;
    signal(&gateway, "TERM");

    // first: not ready, while the edge still accepts and serves
    let mut draining = false;
    for _ in 0..100 {
        let ready = send_raw(Method::GET, &gateway.admin_url("/readyz"), &[], "").await;
        if ready.status == 503 {
            assert!(ready.text().contains("draining"), "{}", ready.text());
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(draining, "/readyz fails once SIGTERM is handled");
    let edge: SocketAddr = gateway.base.trim_start_matches("http://").parse().unwrap();
    if let Err(e) = TcpStream::connect(edge).await {
        panic!("the edge still accepts during the drain delay: {e}");
    }
    // a request answered by the gateway itself: its own Keystone's token
    let during = keystone_login(&gateway, "demo", "demo").await;
    assert_eq!(during.status, 201, "a request sent during the delay is served");

    // then: the listener closes
    let mut closed = false;
    for _ in 0..200 {
        if TcpStream::connect(edge).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the listener closes after the delay");
    // and the request in flight all along finishes
    held.release(1);
    assert_eq!(in_flight.await.unwrap().status, 200);
    let mut status = None;
    for _ in 0..200 {
        status = gateway.child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(status.expect("the gateway exits").success());
    let mut logs = String::new();
    gateway.child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    let draining_at = logs.find("draining").expect("the drain is logged");
    let closing_at = logs.find("shutting down").expect("the close is logged");
    assert!(draining_at < closing_at, "{logs}");
    let _ = std::fs::remove_dir_all(dir);
}
