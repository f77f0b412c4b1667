//! Several replicas, one service: two `dragoman` processes sharing a key
//! repository and a real `redis-server` (each test starts its own, on a
//! free port, without persistence). A token from one is valid at the other
//! and across restarts and rotations; quotas and wrong-password penalties
//! count across both; without Redis each keeps serving on its local quotas,
//! and shares them again when Redis is back.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::binary::Binary;
use crate::common::{Got, send_raw};
use http::Method;

const DEMO_BASIC: &str = "Basic ZGVtbzpkZW1v"; // demo:demo
const WRONG_BASIC: &str = "Basic ZGVtbzp3cm9uZw=="; // demo:wrong
const SHOW: &str = "/accounts/demo/flexcloud/images/133";
const OPENSTACK_SHOW: &str = "/v2/demo/images/70a599e0-31e7-49b7-b260-868f441e862b";

/// A `redis-server` of this test's own; killed when dropped.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    /// A new server on a free port, or `None` (said loudly) when this
    /// machine has no `redis-server`; CI installs it.
    fn start() -> Option<Redis> {
        if Command::new("redis-server").arg("--version").output().is_err() {
            eprintln!(
                "\n*** SKIPPED: redis-server is not installed (apt-get install redis-server; .ci/run does) ***\n"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { port, child: None };
        redis.restart();
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on its port, empty, and waits until it accepts connections.
    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGSTOP or SIGCONT: a Redis that hangs, then resumes.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("dragoman-replicas-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn keys(&self) -> PathBuf {
        self.0.join("keys")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `dragoman token-keys rotate DIR`, as an operator runs it.
fn rotate(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman")).args(["token-keys", "rotate"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A replica: the same keys and store, `rate_limit` lines added.
fn replica(scratch: &Scratch, name: &str, redis: &Redis, rate_limit: &str) -> Binary {
    let config = scratch.0.join(format!("{name}.toml"));
    // A loaded machine may not schedule a replica within the default 50 ms store
    // timeout, and a request past it is charged locally: exact counts need the store.
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nworkers = 2\n\n[identity]\ntoken_keys = {:?}\n\n[rate_limit]\nstore = {:?}\nstore_timeout_ms = 2000\n{rate_limit}\n",
        scratch.keys(),
        redis.url()
    );
    std::fs::write(&config, text).unwrap();
    Binary::with_config(&config, &[], false)
}

async fn token(at: &Binary) -> String {
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}},
        "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
    }});
    let got =
        send_raw(Method::POST, &at.url("/v3/auth/tokens"), &[("content-type", "application/json")], &body.to_string())
            .await;
    assert_eq!(got.status, 201, "{}", got.text());
    got.headers["x-subject-token"].to_str().unwrap().to_owned()
}

async fn with_token(at: &Binary, token: &str) -> u16 {
    send_raw(Method::GET, &at.url(OPENSTACK_SHOW), &[("x-auth-token", token)], "").await.status.as_u16()
}

async fn basic(at: &Binary, authorization: &str) -> Got {
    send_raw(Method::GET, &at.url(SHOW), &[("authorization", authorization)], "").await
}

/// Polls `check` every 100 ms until it holds, for at most 20 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_token_from_one_replica_is_valid_at_the_other_and_after_a_restart() {
    let Some(redis) = Redis::start() else { return };
    let scratch = Scratch::new("tokens");
    rotate(&scratch.keys());
    let a = replica(&scratch, "a", &redis, "");
    let b = replica(&scratch, "b", &redis, "");
    let from_a = token(&a).await;
    assert_eq!(with_token(&b, &from_a).await, 200, "a token from A at B");
    assert_eq!(with_token(&a, &token(&b).await).await, 200, "a token from B at A");
    drop(a);
    let a = replica(&scratch, "a", &redis, "");
    assert_eq!(with_token(&a, &from_a).await, 200, "a restart keeps tokens valid");
    let mut forged = from_a.clone();
    forged.replace_range(20..21, if &from_a[20..21] == "A" { "B" } else { "A" });
    assert_eq!(with_token(&b, &forged).await, 401, "a changed token is refused");
}

#[tokio::test]
async fn a_global_quota_lets_exactly_its_requests_through_across_both_replicas() {
    let Some(redis) = Redis::start() else { return };
    let scratch = Scratch::new("global");
    rotate(&scratch.keys());
    let quota = "global = { requests = 7, per_secs = 3600 }";
    let (a, b) = (replica(&scratch, "a", &redis, quota), replica(&scratch, "b", &redis, quota));
    let mut statuses = Vec::new();
    for i in 0..16 {
        statuses.push(basic(if i % 2 == 0 { &a } else { &b }, DEMO_BASIC).await.status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 7, "{statuses:?}");
    assert!(statuses[7..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn wrong_passwords_at_one_replica_count_at_the_other() {
    let Some(redis) = Redis::start() else { return };
    let scratch = Scratch::new("penalty");
    rotate(&scratch.keys());
    let quota = "address = { requests = 3, per_secs = 3600 }";
    let (a, b) = (replica(&scratch, "a", &redis, quota), replica(&scratch, "b", &redis, quota));
    for _ in 0..3 {
        assert_eq!(basic(&a, WRONG_BASIC).await.status, 401);
    }
    let got = basic(&b, WRONG_BASIC).await;
    assert_eq!(got.status, 429, "the fourth guess, at the other replica: {}", got.text());
    assert!(got.headers.contains_key("retry-after"));
    assert_eq!(basic(&b, DEMO_BASIC).await.status, 429, "even the right password, while penalized");
    assert_eq!(basic(&a, DEMO_BASIC).await.status, 429, "at either replica");
}

#[tokio::test]
async fn without_redis_both_serve_on_local_quotas_and_share_again_when_it_is_back() {
    let Some(mut redis) = Redis::start() else { return };
    let scratch = Scratch::new("outage");
    rotate(&scratch.keys());
    let quota = "global = { requests = 4, per_secs = 3600 }";
    let (a, b) = (replica(&scratch, "a", &redis, quota), replica(&scratch, "b", &redis, quota));
    assert_eq!(basic(&a, DEMO_BASIC).await.status, 200);
    assert_eq!(basic(&b, DEMO_BASIC).await.status, 200);

    redis.kill();
    // each replica alone: its own local quota of 4, every other answer a 429
    for (name, replica) in [("A", &a), ("B", &b)] {
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(basic(replica, DEMO_BASIC).await.status.as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "{name} without Redis");
    }

    redis.restart();
    // the local quotas are spent: a 200 now comes from the (empty) shared store
    eventually("A shares again", async || basic(&a, DEMO_BASIC).await.status == 200).await;
    eventually("B shares again", async || basic(&b, DEMO_BASIC).await.status == 200).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(basic(if i % 2 == 0 { &a } else { &b }, DEMO_BASIC).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429], "4 in all across both, again");
}

#[tokio::test]
async fn a_hung_redis_costs_a_bounded_wait_then_local_quotas_until_it_answers_again() {
    let Some(redis) = Redis::start() else { return };
    let scratch = Scratch::new("hung");
    rotate(&scratch.keys());
    let quota = "global = { requests = 6, per_secs = 3600 }";
    let (a, b) = (replica(&scratch, "a", &redis, quota), replica(&scratch, "b", &redis, quota));
    assert_eq!(basic(&a, DEMO_BASIC).await.status, 200);

    redis.signal("-STOP");
    // the first call at each replica waits store_timeout_ms, then all go to the local quota
    for (name, replica) in [("A", &a), ("B", &b)] {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(basic(replica, DEMO_BASIC).await.status.as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 429], "{name} while Redis hangs");
    }

    redis.signal("-CONT");
    // the local quotas are spent: a 200 now comes from Redis
    eventually("A shares again", async || basic(&a, DEMO_BASIC).await.status == 200).await;
    eventually("B shares again", async || basic(&b, DEMO_BASIC).await.status == 200).await;
}

#[tokio::test]
async fn key_rotation_keeps_live_tokens_valid_until_their_key_is_dropped() {
    let Some(redis) = Redis::start() else { return };
    let scratch = Scratch::new("rotation");
    let keys = scratch.keys();
    rotate(&keys);
    let (a, b) = (replica(&scratch, "a", &redis, ""), replica(&scratch, "b", &redis, ""));
    let first = token(&a).await;
    let signed_by = |token: &str, key: &str| {
        let key = std::fs::read_to_string(keys.join(key)).unwrap();
        fernet::Fernet::new(&key).unwrap().decrypt(token).is_ok()
    };
    assert!(signed_by(&first, "1"));

    rotate(&keys); // 0 → 2 (primary), new 0; 1 stays as secondary
    let mut second = String::new();
    eventually("A signs with the new primary", async || {
        second = token(&a).await;
        signed_by(&second, "2")
    })
    .await;
    for replica in [&a, &b] {
        assert_eq!(with_token(replica, &first).await, 200, "the old primary still verifies");
        assert_eq!(with_token(replica, &second).await, 200, "the new primary's token");
    }

    rotate(&keys); // 0 → 3, new 0; 1 dropped (three active keys)
    assert!(!keys.join("1").exists());
    eventually("B drops the first key", async || with_token(&b, &first).await == 401).await;
    eventually("A drops the first key", async || with_token(&a, &first).await == 401).await;
    assert_eq!(with_token(&a, &second).await, 200);
    assert_eq!(with_token(&b, &second).await, 200);
}

#[test]
fn a_key_repository_without_keys_is_refused_with_how_to_make_one() {
    let scratch = Scratch::new("nokeys");
    let config = scratch.0.join("nokeys.toml");
    std::fs::write(&config, format!("[identity]\ntoken_keys = {:?}\n", scratch.keys())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman")).arg("check-config").arg(&config).output().unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("holds no keys") && said.contains("dragoman token-keys rotate"), "{said}");
}

#[test]
fn a_second_process_on_the_same_catalog_file_is_refused_with_the_reason() {
    let scratch = Scratch::new("catalog");
    let config = scratch.0.join("catalog.toml");
    let catalog = scratch.0.join("catalog.redb");
    std::fs::write(&config, format!("[server]\nlisten = \"127.0.0.1:0\"\n\n[catalog]\npath = {catalog:?}\n")).unwrap();
    let _first = Binary::with_config(&config, &[], false);
    let second = Command::new(env!("CARGO_BIN_EXE_dragoman")).arg("--config").arg(&config).output().unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("in use by another process") && said.contains("single-node"), "{said}");
}
