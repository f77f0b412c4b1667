//! No secret ever reaches a log line: a full run of two gateways (one the
//! other's OpenStack upstream, through Keystone), every dialect, good and bad
//! credentials, at the most verbose log level — then the logs are searched
//! for every secret and every token.

use crate::common::binary::Binary;
use crate::common::send_raw;
use dragoman::dialect::gogrid::sign::signature;
use http::Method;
use serde_json::json;

/// The most verbose logs, without colour codes.
const LOUD: [(&str, &str); 2] = [("RUST_LOG", "trace"), ("NO_COLOR", "1")];

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
    let inner = Binary::with_config(&inner_config, &LOUD, true);
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
auth_url = "{}/v3"
user = "svc-user"
password = "inner-SECRET-pw"
project_name = "p1"
"#,
            inner.base
        ),
    )
    .unwrap();
    let front = Binary::with_config(&front_config, &LOUD, true);

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

    // malformed bodies carrying a password: refused, and neither echoed nor logged
    let foreman_create = front.url("/api/compute_resources/1/images");
    let json_type = ("content-type", "application/json");
    let broken = r#"{"image": {"name": "x", "password": "body-SECRET-pw", nope"#;
    let got = send_raw(Method::POST, &foreman_create, &[("authorization", alice), json_type], broken).await;
    assert_eq!(got.status, 400, "{}", got.text());
    assert!(!got.text().contains("SECRET"), "{}", got.text());
    let broken = r#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "body-SECRET-pw"#;
    let got = send_raw(Method::POST, &front.url("/v3/auth/tokens"), &[json_type], broken).await;
    assert_eq!(got.status, 400, "{}", got.text());
    assert!(!got.text().contains("SECRET"), "{}", got.text());

    let logs = format!("{}\n{}", front.logs(), inner.logs());
    assert!(logs.contains("request"), "the gateways logged: {logs}");
    for secret in ["SECRET", "YWxpY2U6", sig.as_str(), token.as_str()] {
        assert!(!logs.contains(secret), "{secret:?} is in the logs");
    }
    let _ = std::fs::remove_dir_all(dir);
}
