//! Identity: each edge accepts and refuses callers as its own API does, a
//! caller sees only its tenant, and an OpenStack upstream's Keystone token is
//! renewed when the upstream refuses it.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common;
use crate::common::{TestGateway, demo_signature, demo_token, send_raw};
use bytes::Bytes;
use dragoman::config::{ClientConfig, Config, CredentialsConfig, UpstreamConfig};
use dragoman::dialect::gogrid::sign::signature;
use http::{Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::net::TcpListener;

async fn demo() -> TestGateway {
    TestGateway::start(Config::default()).await
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn basic_edges_refuse_in_their_own_shape() {
    let gw = demo().await;
    let hostway = gw.url("/accounts/demo/flexcloud/images/133");
    for headers in [vec![], vec![("authorization", "Basic ZGVtbzp3cm9uZw==")]] {
        let got = send_raw(Method::GET, &hostway, &headers, "").await;
        assert_eq!(got.status, 401, "{}", got.text());
        assert!(got.text().starts_with("401 Unauthorized\n\nThis server could not verify"), "{}", got.text());
        assert!(got.headers["www-authenticate"].to_str().unwrap().starts_with("Basic realm="));
    }
    let ok = send_raw(Method::GET, &hostway, &[("authorization", "Basic ZGVtbzpkZW1v")], "").await;
    assert_eq!(ok.status, 200);

    let foreman = gw.url("/api/compute_resources/980190962/images/980190962");
    // bob:demo
    let got = send_raw(Method::GET, &foreman, &[("authorization", "Basic Ym9iOmRlbW8=")], "").await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json(), json!({"error": {"message": "Unable to authenticate user bob"}}));
}

#[tokio::test]
async fn gogrid_signatures_are_checked_within_the_window() {
    let mut config = Config::default();
    config.identity.gogrid_window_secs = 30;
    let gw = TestGateway::start(config).await;
    let url = |sig: &str, format: &str| {
        gw.url(&format!("/api/grid/image/get?id=250&api_key=demo&v=1.8&sig={sig}&format={format}"))
    };
    for skew in [-27, 0, 27] {
        let got = send_raw(Method::GET, &url(&signature("demo", "demo", now() + skew), "json"), &[], "").await;
        assert_eq!(got.status, 200, "skew {skew}: {}", got.text());
    }
    for skew in [-33, 33] {
        let got = send_raw(Method::GET, &url(&signature("demo", "demo", now() + skew), "json"), &[], "").await;
        assert_eq!(got.status, 403, "skew {skew}: {}", got.text());
        assert_eq!(got.json()["list"][0]["message"], "Authentication Failed");
    }
    let wrong_secret = signature("demo", "nope", now());
    assert_eq!(send_raw(Method::GET, &url(&wrong_secret, "json"), &[], "").await.status, 403);
    let xml = send_raw(Method::GET, &url("0", "xml"), &[], "").await;
    assert_eq!(xml.status, 403);
    assert!(
        xml.text().contains("status=\"failure\"") && xml.text().contains("Authentication Failed"),
        "{}",
        xml.text()
    );
    let csv = send_raw(Method::GET, &url("0", "csv"), &[], "").await;
    assert!(csv.text().starts_with("# FAILURE"), "{}", csv.text());
    // a signed form POST: authentication reads the body as the edge does,
    // with or without a content type, in any case
    let form = format!("id=250&api_key=demo&v=1.8&sig={}&format=json", demo_signature());
    for content_type in
        [Some("application/x-www-form-urlencoded"), Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"), None]
    {
        let headers: Vec<(&str, &str)> = content_type.map(|c| ("content-type", c)).into_iter().collect();
        let got = send_raw(Method::POST, &gw.url("/api/grid/image/get"), &headers, &form).await;
        assert_eq!(got.status, 200, "{content_type:?}: {}", got.text());
    }
    // a body of another type is refused as such, not as bad credentials
    let got =
        send_raw(Method::POST, &gw.url("/api/grid/image/get"), &[("content-type", "application/json")], &form).await;
    assert_eq!(got.status, 415, "{}", got.text());
}

#[tokio::test]
async fn keystone_issues_tokens_the_openstack_edge_accepts() {
    let gw = demo().await;
    let version = send_raw(Method::GET, &gw.url("/v3"), &[], "").await;
    assert_eq!(version.status, 200);
    assert_eq!(version.json()["version"]["id"], "v3.14");

    let auth = |user: serde_json::Value, scope: serde_json::Value| {
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}}).to_string()
    };
    let by_name = auth(
        json!({"name": "demo", "domain": {"name": "Default"}, "password": "demo"}),
        json!({"project": {"name": "demo", "domain": {"name": "Default"}}}),
    );
    let by_id = auth(
        json!({"name": "demo", "domain": {"id": "default"}, "password": "demo"}),
        json!({"project": {"id": "demo"}}),
    );
    for body in [by_name, by_id] {
        let got =
            send_raw(Method::POST, &gw.url("/v3/auth/tokens"), &[("content-type", "application/json")], &body).await;
        assert_eq!(got.status, 201, "{}", got.text());
        let token = got.headers["x-subject-token"].to_str().unwrap().to_owned();
        let body = got.json();
        // Keystone's format: UTC, six fractional digits (`2015-11-07T02:58:43.578887Z`)
        for key in ["expires_at", "issued_at"] {
            let at = body["token"][key].as_str().unwrap();
            let fraction = at.strip_suffix('Z').and_then(|t| t.split_once('.')).map(|(_, f)| f);
            assert!(fraction.is_some_and(|f| f.len() == 6 && f.bytes().all(|b| b.is_ascii_digit())), "{key}: {at}");
        }
        assert_eq!(body["token"]["project"]["id"], "demo");
        let compute = body["token"]["catalog"].as_array().unwrap().iter().find(|s| s["type"] == "compute").unwrap();
        assert_eq!(compute["name"], "nova");
        assert_eq!(compute["endpoints"][0]["url"], gw.url("/v2.1/demo"));
        let show = gw.url("/v2/demo/images/250");
        assert_eq!(send_raw(Method::GET, &show, &[("x-auth-token", &token)], "").await.status, 200);
    }

    let wrong = auth(
        json!({"name": "demo", "domain": {"id": "default"}, "password": "nope"}),
        json!({"project": {"id": "demo"}}),
    );
    let got = send_raw(Method::POST, &gw.url("/v3/auth/tokens"), &[("content-type", "application/json")], &wrong).await;
    assert_eq!(got.status, 401);
    assert_eq!(got.json()["error"]["title"], "Unauthorized");
    assert_eq!(got.headers["www-authenticate"], format!("Keystone uri=\"{}\"", gw.url("/v3")));

    let refused = send_raw(Method::GET, &gw.url("/v2/demo/images/250"), &[("x-auth-token", "forged")], "").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"]["message"], "The request you have made requires authentication.");
    // version documents need no token
    assert_eq!(send_raw(Method::GET, &gw.url("/"), &[], "").await.status, 200);
}

#[tokio::test]
async fn unscoped_tokens_are_refused_by_the_image_api_and_keystone_errors_name_no_types() {
    let gw = demo().await;
    let tokens = gw.url("/v3/auth/tokens");
    let json_type = [("content-type", "application/json")];
    let unscoped = json!({"auth": {"identity": {"methods": ["password"], "password": {"user":
        {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}}}});
    let got = send_raw(Method::POST, &tokens, &json_type, &unscoped.to_string()).await;
    assert_eq!(got.status, 201, "{}", got.text());
    assert!(got.json()["token"].get("project").is_none(), "unscoped");
    let token = got.headers["x-subject-token"].to_str().unwrap().to_owned();
    let refused = send_raw(Method::GET, &gw.url("/v2/demo/images"), &[("x-auth-token", &token)], "").await;
    assert_eq!(refused.status, 401, "{}", refused.text());

    for body in [
        r#"{"auth": {"identity": {"methods": ["password"], "password": 7}}}"#,
        r#"{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "hunter2"#,
        r#"{"auth": 1}"#,
    ] {
        let got = send_raw(Method::POST, &tokens, &json_type, body).await;
        assert_eq!(got.status, 400, "{body}: {}", got.text());
        let text = got.text();
        for leak in ["struct", "PasswordMethod", "AuthRequest", "expected", "hunter2"] {
            assert!(!text.contains(leak), "{body}: {leak} in {text}");
        }
    }
}

#[tokio::test]
async fn a_caller_sees_only_its_tenant() {
    let gw = demo().await;
    let token = demo_token(&gw.addr.to_string()).await;
    let got = send_raw(Method::GET, &gw.url("/v2/other/images/250"), &[("x-auth-token", &token)], "").await;
    assert_eq!(got.status, 400);
    assert_eq!(
        got.json()["badRequest"]["message"],
        "Malformed request URL: URL's project_id 'other' doesn't match Context's project_id 'demo'"
    );
    let got = send_raw(
        Method::GET,
        &gw.url("/accounts/other/flexcloud/images/133"),
        &[("authorization", "Basic ZGVtbzpkZW1v")],
        "",
    )
    .await;
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["itemNotFound"]["message"], "Resource not found");
    assert!(got.json()["itemNotFound"]["guid"].is_string(), "an unknown account is named by guid");
}

fn client(name: &str, user: &str) -> ClientConfig {
    ClientConfig {
        name: name.into(),
        user: Some(user.into()),
        password: None,
        password_env: None,
        password_file: None,
        password_hash: None,
        domain: "default".into(),
        api_key: None,
        secret: None,
        secret_env: None,
        secret_file: None,
        read_only: false,
        account: "acme".into(),
        project: "p-acme".into(),
        compute_resource: Some("7".into()),
        backend: None,
        upstream_scope: None,
    }
}

#[tokio::test]
async fn declared_clients_with_hashed_passwords_roles_and_tenants() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
    let hash = argon2::Argon2::default().hash_password(b"s3cret", &salt).unwrap().to_string();
    let mut config = Config::default();
    config.clients.push(ClientConfig { password_hash: Some(hash), ..client("ops", "ops") });
    config.clients.push(ClientConfig {
        password: Some("look".into()),
        api_key: Some("ro-key".into()),
        secret: Some("ro-secret".into()),
        read_only: true,
        ..client("viewer", "viewer")
    });
    let gw = TestGateway::start(config).await;
    let ops = [("authorization", "Basic b3BzOnMzY3JldA==")]; // ops:s3cret
    let got = send_raw(Method::GET, &gw.url("/accounts/acme/flexcloud/images/133"), &ops, "").await;
    assert_eq!(got.status, 200, "{}", got.text());
    let demo = send_raw(
        Method::GET,
        &gw.url("/accounts/demo/flexcloud/images/133"),
        &[("authorization", "Basic ZGVtbzpkZW1v")],
        "",
    )
    .await;
    assert_eq!(demo.status, 401, "declared clients replace the demo client");
    let other_cr = send_raw(Method::GET, &gw.url("/api/compute_resources/8/images/250"), &ops, "").await;
    assert_eq!(other_cr.status, 404, "{}", other_cr.text());
    assert_eq!(other_cr.json()["error"]["message"], "Resource compute_resource not found by id '8'");

    // a read-only client may read but not write: GoGrid says 401, Foreman 403
    let sig = signature("ro-key", "ro-secret", now());
    let read = gw.url(&format!("/api/grid/image/get?id=250&api_key=ro-key&v=1.8&sig={sig}&format=json"));
    assert_eq!(send_raw(Method::GET, &read, &[], "").await.status, 200);
    let write = gw.url(&format!("/api/grid/image/delete?id=250&api_key=ro-key&v=1.8&sig={sig}&format=json"));
    let got = send_raw(Method::GET, &write, &[], "").await;
    assert_eq!(got.status, 401, "{}", got.text());
    let viewer = [("authorization", "Basic dmlld2VyOmxvb2s="), ("content-type", "application/json")]; // viewer:look
    let got = send_raw(Method::DELETE, &gw.url("/api/compute_resources/7/images/250"), &viewer, "").await;
    assert_eq!(got.status, 403, "{}", got.text());
}

#[test]
fn demo_credentials_serve_only_on_loopback() {
    let err = Config::parse("[server]\nlisten = \"0.0.0.0:8080\"\n").unwrap_err().to_string();
    assert!(err.contains("the demo credentials serve only on a loopback address"), "{err}");
    let declared = "[server]\nlisten = \"0.0.0.0:8080\"\n\n[[client]]\nname = \"a\"\nuser = \"a\"\npassword = \"b\"\n";
    assert!(Config::parse(declared).is_ok());
}

/// A fake Keystone that issues `t1`, `t2`, … (slowly, so that callers pile
/// up) and a fake Nova behind it that refuses `t1` when `refuse_first`.
/// Returns its address and the count of tokens issued.
async fn fake_openstack(refuse_first: bool) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let counter = counter.clone();
                    async move {
                        let res = if req.uri().path() == "/v3/auth/tokens" {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                            let body = json!({"token": {"expires_at": "2999-01-01T00:00:00Z", "issued_at": "2020-01-01T00:00:00Z",
                                "catalog": [{"type": "compute", "name": "nova", "endpoints": [
                                    {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("http://{addr}/v2.1/p1")}]}]}});
                            Response::builder()
                                .status(201)
                                .header("x-subject-token", format!("t{n}"))
                                .body(Full::new(Bytes::from(body.to_string())))
                        } else if refuse_first && req.headers()["x-auth-token"] == "t1" {
                            Response::builder().status(401).body(Full::new(Bytes::from_static(b"{}")))
                        } else {
                            let image = include_str!("fixtures/openstack/image-get-resp.json");
                            Response::builder().status(200).body(Full::new(Bytes::from_static(image.as_bytes())))
                        };
                        Ok::<_, Infallible>(res.unwrap())
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, issued)
}

/// A gateway whose upstream is the fake OpenStack at `addr`, through Keystone.
async fn gateway_to(addr: std::net::SocketAddr) -> TestGateway {
    let mut up = UpstreamConfig::new("nova", dragoman::dialect::Dialect::OpenStack, "");
    up.credentials = CredentialsConfig {
        auth_url: Some(format!("http://{addr}")),
        user: Some("svc".into()),
        password: Some("pw".into()),
        project_name: Some("p1".into()),
        ..Default::default()
    };
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "nova".into();
    TestGateway::start(config).await
}

const SHOW: &str = "/accounts/demo/flexcloud/images/70a599e0-31e7-49b7-b260-868f441e862b";

#[tokio::test]
async fn an_upstream_401_evicts_the_token_and_the_retry_succeeds() {
    let (addr, issued) = fake_openstack(true).await;
    let gw = gateway_to(addr).await;
    let got = common::get(&gw.url(SHOW)).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(issued.load(Ordering::SeqCst), 2, "the refused token was replaced once");
    let again = common::get(&gw.url(SHOW)).await;
    assert_eq!(again.status, 200);
    assert_eq!(issued.load(Ordering::SeqCst), 2, "the fresh token is reused");
}

#[tokio::test]
async fn two_hundred_concurrent_requests_cause_one_token_request() {
    let (addr, issued) = fake_openstack(false).await;
    let gw = Arc::new(gateway_to(addr).await);
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let requests: Vec<_> = (0..200)
        .map(|_| {
            let (gw, barrier) = (gw.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                common::get(&gw.url(SHOW)).await.status
            })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1, "no token flood: one request to Keystone");
}
