//! No secret ever reaches a log line: a full run of two gateways (one the
//! other's OpenStack upstream, through Keystone), every dialect, good and bad
//! credentials, at the most verbose log level — then the logs are searched
//! for every secret and every token.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::send_raw;
use dragoman::dialect::gogrid::sign::signature;
use http::Method;
use serde_json::json;

struct Running {
    child: Child,
    addr: String,
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the gateway and returns everything it logged.
    fn logs(mut self) -> String {
        self.child.kill().unwrap();
        let mut logs = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
        self.child.wait().unwrap();
        logs
    }
}

fn start(config: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr =
        first.trim().strip_prefix("dragoman listening on http://").unwrap_or_else(|| panic!("{first}")).to_owned();
    Running { child, addr, _stdout: stdout }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let dir = std::env::temp_dir().join(format!("dragoman-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inner_config = dir.join("inner.toml");
    std::fs::write(
        &inner_config,
        r#"[server]
listen = "127.0.0.1:0"

[[client]]
name = "svc"
user = "svc-user"
password = "inner-SECRET-pw"
project = "p1"
account = "a1"
"#,
    )
    .unwrap();
    let inner = start(&inner_config);
    let front_config = dir.join("front.toml");
    std::fs::write(
        &front_config,
        format!(
            r#"[server]
listen = "127.0.0.1:0"
default_backend = "inner"

[[client]]
name = "alice"
user = "alice"
password = "front-SECRET-pw"
api_key = "alice-key"
secret = "front-SECRET-gg"
account = "acct"
project = "proj"

[[upstream]]
name = "inner"
dialect = "openstack"

[upstream.credentials]
auth_url = "http://{}/v3"
user = "svc-user"
password = "inner-SECRET-pw"
project_name = "p1"
"#,
            inner.addr
        ),
    )
    .unwrap();
    let front = start(&front_config);

    let alice = "Basic YWxpY2U6ZnJvbnQtU0VDUkVULXB3"; // alice:front-SECRET-pw
    let wrong = "Basic YWxpY2U6ZnJvbnQtU0VDUkVULXd4"; // alice:front-SECRET-wx
    let hostway = front.url("/accounts/acct/flexcloud/images/250");
    assert_eq!(send_raw(Method::GET, &hostway, &[("authorization", alice)], "").await.status, 200);
    assert_eq!(send_raw(Method::GET, &hostway, &[("authorization", wrong)], "").await.status, 401);
    let foreman = front.url("/api/compute_resources/1/images/250");
    assert_eq!(send_raw(Method::GET, &foreman, &[("authorization", alice)], "").await.status, 200);
    let sig = signature("alice-key", "front-SECRET-gg", now());
    let gogrid = front.url(&format!("/api/grid/image/get?id=250&api_key=alice-key&v=1.8&sig={sig}&format=json"));
    assert_eq!(send_raw(Method::GET, &gogrid, &[], "").await.status, 200);
    let forged = front.url("/api/grid/image/get?id=250&api_key=alice-key&v=1.8&sig=front-SECRET-sig&format=json");
    assert_eq!(send_raw(Method::GET, &forged, &[], "").await.status, 403);
    let auth = json!({"auth": {"identity": {"methods": ["password"], "password": {"user":
        {"name": "alice", "domain": {"id": "default"}, "password": "front-SECRET-pw"}}}, "scope": {"project": {"id": "proj"}}}});
    let issued = send_raw(
        Method::POST,
        &front.url("/v3/auth/tokens"),
        &[("content-type", "application/json")],
        &auth.to_string(),
    )
    .await;
    assert_eq!(issued.status, 201);
    let token = issued.headers["x-subject-token"].to_str().unwrap().to_owned();
    let show = front.url("/v2/proj/images/250");
    assert_eq!(send_raw(Method::GET, &show, &[("x-auth-token", &token)], "").await.status, 200);
    assert_eq!(send_raw(Method::GET, &show, &[("x-auth-token", "front-SECRET-token")], "").await.status, 401);

    let logs = format!("{}\n{}", front.logs(), inner.logs());
    assert!(logs.contains("request"), "the gateways logged: {logs}");
    for secret in ["SECRET", "YWxpY2U6", sig.as_str(), token.as_str()] {
        assert!(!logs.contains(secret), "{secret:?} is in the logs");
    }
    let _ = std::fs::remove_dir_all(dir);
}
