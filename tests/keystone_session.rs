//! The Keystone session against a fake Keystone on 127.0.0.1:0: one fetch
//! for many callers, renewal inside the margin, eviction, the request
//! bodies, catalog selection, errors, and no secret in `Debug`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use dragoman::backend::keystone::{NameOrId, Token};
use dragoman::backend::{ClientSettings, HttpClient, KeystoneAuth, KeystoneSession, KeystoneSettings};
use dragoman::model::ErrorKind;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpListener;
use tokio::sync::{Barrier, oneshot};

const PASSWORD: &str = "pa55-w0rd-never-shown";
const APP_SECRET: &str = "app-secret-never-shown";
const NOVA: &str = "http://192.168.18.100:8774/v2.1/9c4693dce56b493b9b83197d900f7fba";

/// What the fake Keystone answers to its n-th request (from 1).
struct Answer {
    status: u16,
    subject_token: Option<String>,
    body: String,
    delay: Duration,
}

/// One request the fake Keystone received.
#[derive(Debug, Clone)]
struct Seen {
    method: http::Method,
    target: String,
    content_type: Option<String>,
    body: Value,
}

type Respond = Arc<dyn Fn(usize) -> Answer + Send + Sync>;

struct FakeKeystone {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    _stop: oneshot::Sender<()>,
}

impl FakeKeystone {
    async fn start(respond: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let respond: Respond = Arc::new(respond);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let (count, log) = (requests.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = &mut stopped => return,
                };
                let (count, log, respond) = (count.clone(), log.clone(), respond.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (count, log, respond) = (count.clone(), log.clone(), respond.clone());
                        async move { Ok::<_, Infallible>(answer(req, &count, &log, &*respond).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { addr, requests, seen, _stop: stop }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn answer(
    req: Request<Incoming>,
    count: &AtomicUsize,
    log: &Mutex<Vec<Seen>>,
    respond: &(dyn Fn(usize) -> Answer + Send + Sync),
) -> Response<Full<Bytes>> {
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    log.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        target: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        content_type: parts.headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let answer = respond(n);
    tokio::time::sleep(answer.delay).await;
    let mut res = Response::builder().status(answer.status).header("content-type", "application/json");
    if let Some(token) = answer.subject_token {
        res = res.header("x-subject-token", token);
    }
    res.body(Full::new(Bytes::from(answer.body))).unwrap()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// A catalog in the shape of Keystone's samples: identity, compute, volume.
fn catalog(compute: Value) -> Value {
    json!([
        {"endpoints": [
            {"id": "068d1b359ee84b438266cb736d81de97", "interface": "public", "region": "RegionOne",
             "region_id": "RegionOne", "url": "http://example.com/identity"}
         ], "type": "identity", "id": "050726f278654128aba89757ae25950c", "name": "keystone"},
        {"endpoints": compute, "type": "compute", "id": "03f123b2253e4852a86b994f86489c0a", "name": "nova"},
        {"endpoints": [
            {"id": "20bf617f334c4bcf82746820f5006599", "interface": "public", "region": "RegionOne",
             "region_id": "RegionOne", "url": "http://192.168.18.100:8776/v1/9c4693dce56b493b9b83197d900f7fba"}
         ], "type": "volume", "id": "47f77ba8f3864a03b66024e910ad7247", "name": "cinder"}
    ])
}

fn compute_endpoints() -> Value {
    json!([
        {"id": "b3bfb290", "interface": "internal", "region": "RegionOne", "region_id": "RegionOne",
         "url": "http://controller:8774/v2.1/9c4693dce56b493b9b83197d900f7fba"},
        {"id": "ca8a6e39", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": NOVA},
        {"id": "b52ee215", "interface": "admin", "region": "RegionOne", "region_id": "RegionOne",
         "url": "http://192.168.18.100:8774/v2.1/admin"},
        {"id": "d568ed6f", "interface": "public", "region": "RegionTwo", "region_id": "region-two",
         "url": "http://nova.two:8774/v2.1/9c4693dce56b493b9b83197d900f7fba/"}
    ])
}

/// A token body as Keystone's `project-scoped-password` sample has it.
fn token_body(life: Duration, catalog: Value) -> String {
    let issued = OffsetDateTime::now_utc();
    json!({"token": {
        "audit_ids": ["3T2dc1CGQxyJsHdDu1xkcw"],
        "catalog": catalog,
        "expires_at": rfc3339(issued + life),
        "is_domain": false,
        "issued_at": rfc3339(issued),
        "methods": ["password"],
        "project": {"domain": {"id": "default", "name": "Default"},
                    "id": "9c4693dce56b493b9b83197d900f7fba", "name": "admin"},
        "roles": [{"id": "51cc68287d524c759f47c811e6463340", "name": "admin"}],
        "user": {"domain": {"id": "default", "name": "Default"},
                 "id": "ee4dfb6e5540447cb3741905149d9b6e", "name": "admin"}
    }})
    .to_string()
}

/// Token `tok-<n>` living `life`, with the sample catalog.
fn issue(n: usize, life: Duration) -> Answer {
    Answer {
        status: 201,
        subject_token: Some(format!("tok-{n}")),
        body: token_body(life, catalog(compute_endpoints())),
        delay: Duration::ZERO,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

fn by_name() -> KeystoneAuth {
    KeystoneAuth::Password {
        user: NameOrId::Name("admin".to_owned()),
        user_domain: Some(NameOrId::Name("Default".to_owned())),
        password: PASSWORD.to_owned(),
        project: NameOrId::Name("demo".to_owned()),
        project_domain: Some(NameOrId::Id("default".to_owned())),
    }
}

fn session(settings: KeystoneSettings) -> KeystoneSession {
    let client = HttpClient::new(ClientSettings { request_timeout: Duration::from_secs(10), ..Default::default() });
    KeystoneSession::new(settings, client).expect("valid settings")
}

fn session_at(keystone: &FakeKeystone) -> KeystoneSession {
    session(KeystoneSettings::new(keystone.url(), by_name()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_callers_share_one_fetch() {
    let keystone = FakeKeystone::start(|n| Answer { delay: Duration::from_millis(150), ..issue(n, HOUR) }).await;
    let session = session_at(&keystone);
    let barrier = Arc::new(Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (session, barrier) = (session.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                session.token().await
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().expect("a token"));
    }
    assert_eq!(keystone.requests(), 1);
    assert!(tokens.iter().all(|t| *t == tokens[0]), "every caller gets the same token");
    assert_eq!(tokens[0].id, "tok-1");
    assert_eq!(tokens[0].compute_url, NOVA);
    assert_eq!(tokens[0].project_id.as_deref(), Some("9c4693dce56b493b9b83197d900f7fba"));
    assert_eq!(tokens[0].compute_root(), ("http://192.168.18.100:8774", Some("9c4693dce56b493b9b83197d900f7fba")));
    session.token().await.unwrap();
    assert_eq!(keystone.requests(), 1, "a fresh token is reused");
}

#[tokio::test]
async fn tokens_are_renewed_inside_the_margin_before_they_lapse() {
    let keystone = FakeKeystone::start(|n| issue(n, Duration::from_secs(2))).await;
    let mut settings = KeystoneSettings::new(keystone.url(), by_name());
    settings.refresh_margin = Duration::from_secs(1);
    let session = session(settings);
    let first = session.token().await.unwrap();
    assert_eq!(session.token().await.unwrap(), first);
    assert_eq!(keystone.requests(), 1, "a token within its life is reused");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(first.expires_at > OffsetDateTime::now_utc(), "the first token has not lapsed yet");
    let second = session.token().await.unwrap();
    assert_eq!(keystone.requests(), 2);
    assert_eq!(second.id, "tok-2");
    assert_eq!(session.token().await.unwrap(), second);
    assert_eq!(keystone.requests(), 2);
}

#[tokio::test]
async fn tokens_shorter_than_the_margin_are_kept_for_half_their_life() {
    let keystone = FakeKeystone::start(|n| issue(n, Duration::from_secs(2))).await;
    let session = session_at(&keystone);
    let first = session.token().await.unwrap();
    assert_eq!(session.token().await.unwrap(), first);
    assert_eq!(keystone.requests(), 1);
}

#[tokio::test]
async fn invalidate_evicts_the_current_token_only() {
    let keystone = FakeKeystone::start(|n| issue(n, HOUR)).await;
    let session = session_at(&keystone);
    let first = session.token().await.unwrap();

    session.invalidate("tok-stale");
    assert_eq!(session.token().await.unwrap(), first);
    assert_eq!(keystone.requests(), 1, "a stale id does not evict the current token");

    session.invalidate(&first.id);
    let second = session.token().await.unwrap();
    assert_eq!(keystone.requests(), 2);
    assert_eq!(second.id, "tok-2");

    session.invalidate(&first.id);
    assert_eq!(session.token().await.unwrap(), second);
    assert_eq!(keystone.requests(), 2, "the replaced token's id no longer evicts");
}

async fn first_request(auth_url_path: &str, method: KeystoneAuth) -> Seen {
    let keystone = FakeKeystone::start(|n| issue(n, HOUR)).await;
    let session = session(KeystoneSettings::new(format!("{}{auth_url_path}", keystone.url()), method));
    session.token().await.expect("a token");
    keystone.seen().remove(0)
}

#[tokio::test]
async fn password_by_names_and_domains() {
    let seen = first_request("", by_name()).await;
    assert_eq!(seen.method, http::Method::POST);
    assert_eq!(seen.target, "/v3/auth/tokens");
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    let expected = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
    }});
    assert_eq!(seen.body, expected);
}

#[tokio::test]
async fn password_by_ids() {
    let method = KeystoneAuth::Password {
        user: NameOrId::Id("ee4dfb6e5540447cb3741905149d9b6e".to_owned()),
        user_domain: None,
        password: "devstacker".to_owned(),
        project: NameOrId::Id("a6944d763bf64ee6a275f1263fae0352".to_owned()),
        project_domain: None,
    };
    let seen = first_request("/v3", method).await;
    assert_eq!(seen.target, "/v3/auth/tokens");
    // Keystone's own sample, project-id-password.json
    let expected = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": "ee4dfb6e5540447cb3741905149d9b6e", "password": "devstacker"}}},
        "scope": {"project": {"id": "a6944d763bf64ee6a275f1263fae0352"}}
    }});
    assert_eq!(seen.body, expected);
}

#[tokio::test]
async fn application_credential_has_no_scope() {
    let method = KeystoneAuth::ApplicationCredential {
        id: "423f19a4ac1e4f48bbb4180756e6eb6c".to_owned(),
        secret: APP_SECRET.to_owned(),
    };
    let seen = first_request("/identity/v3/", method).await;
    assert_eq!(seen.target, "/identity/v3/auth/tokens");
    let expected = json!({"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": "423f19a4ac1e4f48bbb4180756e6eb6c", "secret": APP_SECRET}
    }}});
    assert_eq!(seen.body, expected);
}

#[tokio::test]
async fn token_url_under_a_path_prefix_without_v3() {
    let seen = first_request("/identity/", by_name()).await;
    assert_eq!(seen.target, "/identity/v3/auth/tokens");
}

async fn compute_url(configure: impl FnOnce(&mut KeystoneSettings)) -> (String, Vec<Seen>) {
    let keystone = FakeKeystone::start(|n| issue(n, HOUR)).await;
    let mut settings = KeystoneSettings::new(keystone.url(), by_name());
    configure(&mut settings);
    let token = session(settings).token().await.expect("a token");
    (token.compute_url, keystone.seen())
}

#[tokio::test]
async fn interface_and_region_choose_the_compute_endpoint() {
    assert_eq!(compute_url(|_| {}).await.0, NOVA, "the first public endpoint");
    let internal = compute_url(|s| s.interface = "internal".to_owned()).await.0;
    assert_eq!(internal, "http://controller:8774/v2.1/9c4693dce56b493b9b83197d900f7fba");
    let admin = compute_url(|s| s.interface = "adminURL".to_owned()).await.0;
    assert_eq!(admin, "http://192.168.18.100:8774/v2.1/admin");
    let two = compute_url(|s| s.region = Some("region-two".to_owned())).await.0;
    assert_eq!(two, "http://nova.two:8774/v2.1/9c4693dce56b493b9b83197d900f7fba");
    let one = compute_url(|s| s.region = Some("RegionOne".to_owned())).await.0;
    assert_eq!(one, NOVA);
}

#[tokio::test]
async fn an_endpoint_override_wins_and_skips_the_catalog() {
    let (url, seen) = compute_url(|s| s.endpoint_override = Some("http://nova.local:8774/".to_owned())).await;
    assert_eq!(url, "http://nova.local:8774");
    assert_eq!(seen[0].target, "/v3/auth/tokens?nocatalog");
}

async fn failure(respond: impl Fn(usize) -> Answer + Send + Sync + 'static) -> dragoman::model::GatewayError {
    let keystone = FakeKeystone::start(respond).await;
    session_at(&keystone).token().await.expect_err("keystone fails")
}

#[tokio::test]
async fn a_missing_compute_entry_is_a_clear_error() {
    let err = failure(|n| {
        let only_identity = json!([catalog(json!([]))[0].clone()]);
        Answer { body: token_body(HOUR, only_identity), ..issue(n, HOUR) }
    })
    .await;
    assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    assert_eq!(err.message, "the keystone catalog has no compute endpoint for the public interface");

    let keystone = FakeKeystone::start(|n| issue(n, HOUR)).await;
    let mut settings = KeystoneSettings::new(keystone.url(), by_name());
    settings.region = Some("RegionThree".to_owned());
    let err = session(settings).token().await.unwrap_err();
    assert_eq!(
        err.message,
        "the keystone catalog has no compute endpoint for the public interface in region RegionThree"
    );
}

#[tokio::test]
async fn keystone_401_is_unauthorized_with_a_generic_message() {
    let said = "The request you have made requires authentication.";
    let err = failure(move |_| Answer {
        status: 401,
        subject_token: None,
        body: json!({"error": {"message": said, "code": 401, "title": "Unauthorized"}}).to_string(),
        delay: Duration::ZERO,
    })
    .await;
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert!(!err.retryable);
    assert_eq!(err.message, "keystone refused the configured credentials");
    assert!(!err.to_string().contains(said));
}

#[tokio::test]
async fn a_missing_subject_token_is_a_protocol_error() {
    let err = failure(|n| Answer { subject_token: None, ..issue(n, HOUR) }).await;
    assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    assert!(err.message.contains("x-subject-token"), "{}", err.message);
}

#[tokio::test]
async fn a_garbled_body_is_a_protocol_error() {
    for body in ["<html>oops</html>", r#"{"token": {"catalog": []}}"#, r#"{"token": {"expires_at": "soon"}}"#] {
        let err = failure(move |n| Answer { body: body.to_owned(), ..issue(n, HOUR) }).await;
        assert_eq!(err.kind, ErrorKind::UpstreamProtocol, "{body}");
    }
}

#[tokio::test]
async fn an_unreachable_keystone_is_unavailable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = session(KeystoneSettings::new(format!("http://{addr}"), by_name())).token().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::UpstreamUnavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn waiters_share_a_failure_that_later_callers_retry() {
    let keystone = FakeKeystone::start(|n| match n {
        1 => Answer {
            status: 503,
            subject_token: None,
            body: r#"{"error": {"message": "down", "code": 503}}"#.to_owned(),
            delay: Duration::from_millis(150),
        },
        n => issue(n, HOUR),
    })
    .await;
    let session = session_at(&keystone);
    let barrier = Arc::new(Barrier::new(50));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (session, barrier) = (session.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                session.token().await
            })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().expect_err("the shared fetch failed");
        assert_eq!(err.kind, ErrorKind::UpstreamUnavailable);
    }
    assert_eq!(keystone.requests(), 1, "waiters share the failed fetch");
    assert_eq!(session.token().await.unwrap().id, "tok-2", "the failure is not kept");
    assert_eq!(keystone.requests(), 2);
}

#[tokio::test]
async fn debug_shows_no_secret() {
    let keystone =
        FakeKeystone::start(|_| Answer { subject_token: Some("gAAAAABsecret-token-id".to_owned()), ..issue(1, HOUR) })
            .await;
    let app = KeystoneAuth::ApplicationCredential { id: "app-id".to_owned(), secret: APP_SECRET.to_owned() };
    let app_settings = KeystoneSettings::new(keystone.url(), app);
    let password_settings = KeystoneSettings::new(keystone.url(), by_name());
    let session = session(password_settings.clone());
    let token: Token = session.token().await.unwrap();
    let shown = [
        format!("{password_settings:?}"),
        format!("{app_settings:?}"),
        format!("{:?}", app_settings.method),
        format!("{session:?}"),
        format!("{session:#?}"),
        format!("{token:?}"),
        session.describe(),
    ];
    for text in &shown {
        for secret in [PASSWORD, APP_SECRET, "gAAAAABsecret-token-id"] {
            assert!(!text.contains(secret), "{secret:?} shown in {text}");
        }
    }
    assert!(shown[0].contains("<redacted>") && shown[1].contains("<redacted>") && shown[5].contains("<redacted>"));
    assert!(shown[3].contains("admin") && shown[5].contains(NOVA), "the rest is shown: {}", shown[3]);
}
