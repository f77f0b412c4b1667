//! Test support: a gateway on 127.0.0.1:0, fake upstreams that replay
//! recorded bodies and record what they were asked, and a small client.
#![allow(dead_code)]

pub mod binary;
pub mod dialects;
pub mod golden;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dragoman::config::Config;
use dragoman::pipeline::Gateway;
use dragoman::server::Server;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The Basic credentials gateways under test present to fake upstreams,
/// and the `Authorization` header they make.
pub const UPSTREAM_BASIC: &str = "Basic dXBzdHJlYW06czNjcmV0"; // upstream:s3cret

pub fn upstream_basic() -> dragoman::config::CredentialsConfig {
    dragoman::config::CredentialsConfig {
        user: Some("upstream".into()),
        password: Some("s3cret".into()),
        ..Default::default()
    }
}

/// Credentials of the form `dialect`'s upstreams take, for fake upstreams
/// that do not check them.
pub fn any_credentials(dialect: dragoman::dialect::Dialect) -> dragoman::config::CredentialsConfig {
    use dragoman::config::CredentialsConfig;
    use dragoman::dialect::Dialect;
    match dialect {
        Dialect::OpenStack => CredentialsConfig { token: Some("t".into()), ..Default::default() },
        Dialect::GoGrid => {
            CredentialsConfig { api_key: Some("k".into()), secret: Some("s".into()), ..Default::default() }
        }
        _ => CredentialsConfig { user: Some("u".into()), password: Some("p".into()), ..Default::default() },
    }
}

/// A running gateway; stops when dropped.
pub struct TestGateway {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl TestGateway {
    pub async fn start(mut config: Config) -> Self {
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.validate().expect("test config is valid");
        let gateway = Gateway::from_config(&config).expect("gateway builds");
        let server = Server::bind(&config.server, gateway).await.expect("bind 127.0.0.1:0");
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        Self { addr, _stop: stop }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }
}

/// A gateway whose every edge goes to `inner`'s edge of dialect `upstream`,
/// authenticating there as the demo client in that dialect's own scheme
/// (Keystone for OpenStack).
pub async fn in_front_of(upstream: dragoman::dialect::Dialect, inner: &TestGateway) -> TestGateway {
    use dragoman::config::{CredentialsConfig, UpstreamConfig};
    use dragoman::dialect::Dialect;
    let mut up = UpstreamConfig::new("inner", upstream, &format!("http://{}", inner.addr));
    up.scope = if upstream == Dialect::Foreman { "980190962".into() } else { "demo".into() };
    let demo = || Some("demo".to_owned());
    up.credentials = match upstream {
        Dialect::OpenStack => CredentialsConfig {
            auth_url: Some(format!("http://{}/v3", inner.addr)),
            user: demo(),
            password: demo(),
            project_name: demo(),
            ..Default::default()
        },
        Dialect::GoGrid => CredentialsConfig { api_key: demo(), secret: demo(), ..Default::default() },
        Dialect::Hostway | Dialect::Foreman => {
            CredentialsConfig { user: demo(), password: demo(), ..Default::default() }
        }
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => CredentialsConfig { user: demo(), password: demo(), ..Default::default() },
    };
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "inner".into();
    TestGateway::start(config).await
}

/// One request a fake upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// Path and query, exactly as received.
    pub target: String,
    pub headers: http::HeaderMap,
}

/// Chooses the requests a canned reply answers, by method and target.
pub type Matcher = Box<dyn Fn(&Method, &str) -> bool + Send + Sync>;

/// A canned reply, chosen by a predicate on the request target.
pub struct Canned {
    pub matches: Matcher,
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// An HTTP server on 127.0.0.1:0 that answers from canned replies (first
/// match wins; 404 text otherwise) and records every request.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _stop: oneshot::Sender<()>,
}

impl FakeUpstream {
    pub async fn start(canned: Vec<Canned>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let canned = Arc::new(canned);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = &mut stopped => return,
                };
                let canned = canned.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let canned = canned.clone();
                        let log = log.clone();
                        async move {
                            let target = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                            log.lock().unwrap().push(Seen {
                                method: req.method().clone(),
                                target: target.clone(),
                                headers: req.headers().clone(),
                            });
                            let reply = canned.iter().find(|c| (c.matches)(req.method(), &target));
                            let res = match reply {
                                Some(c) => Response::builder()
                                    .status(c.status)
                                    .header("content-type", c.content_type)
                                    .body(Full::new(c.body.clone()))
                                    .unwrap(),
                                None => Response::builder()
                                    .status(404)
                                    .header("content-type", "text/plain")
                                    .body(Full::new(Bytes::from_static(b"no canned reply")))
                                    .unwrap(),
                            };
                            Ok::<_, Infallible>(res)
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { addr, seen, _stop: stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A canned reply for requests whose target starts with `prefix`.
pub fn canned(method: Method, prefix: &str, status: u16, content_type: &'static str, body: impl Into<Bytes>) -> Canned {
    let prefix = prefix.to_owned();
    Canned {
        matches: Box::new(move |m, target| *m == method && target.starts_with(&prefix)),
        status,
        content_type,
        body: body.into(),
    }
}

/// A reply as a test sees it.
#[derive(Debug)]
pub struct Got {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// Sends a request as the demo client, with the credentials its dialect
/// expects (unless the request brings its own): Basic for Hostway and
/// Foreman, a fresh signature for GoGrid's `sig=0`, a token from the
/// gateway's own Keystone for OpenStack.
pub async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> Got {
    let uri: http::Uri = url.parse().unwrap();
    let brings_own =
        headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("x-auth-token"));
    let mut headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let (mut url, mut body) = (url.to_owned(), body.to_owned());
    match dragoman::dialect::Dialect::for_path(uri.path()) {
        _ if brings_own => {}
        Some(dragoman::dialect::Dialect::Hostway | dragoman::dialect::Dialect::Foreman) => {
            headers.push(("authorization".into(), "Basic ZGVtbzpkZW1v".into()));
        }
        #[cfg(feature = "fifth-dialect")]
        Some(dragoman::dialect::Dialect::Fifth) => {
            headers.push(("authorization".into(), "Basic ZGVtbzpkZW1v".into()));
        }
        Some(dragoman::dialect::Dialect::GoGrid) => {
            let sig = format!("sig={}", demo_signature());
            url = url.replace("sig=0", &sig);
            body = body.replace("sig=0", &sig);
        }
        Some(dragoman::dialect::Dialect::OpenStack) => {
            let authority = uri.authority().unwrap().as_str();
            let token = demo_token(authority).await;
            let mut with_token = headers.clone();
            with_token.push(("x-auth-token".into(), token.clone()));
            let with_token: Vec<(&str, &str)> = with_token.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let got = send_raw(method.clone(), &url, &with_token, &body).await;
            if got.status != 401 {
                return got;
            }
            // a gateway before this one had the same address: its token is not valid here
            forget_demo_token(authority, &token);
            headers.push(("x-auth-token".into(), demo_token(authority).await));
        }
        None => {}
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    send_raw(method, &url, &headers, &body).await
}

/// GoGrid's signature of the demo key and secret, now.
pub fn demo_signature() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    dragoman::dialect::gogrid::sign::signature("demo", "demo", now)
}

/// Demo tokens by the authority of the gateway that issued them.
static TOKENS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn forget_demo_token(authority: &str, token: &str) {
    TOKENS.lock().unwrap().retain(|(a, t)| !(a == authority && t == token));
}

/// A token for the demo client from the Keystone of the gateway at `authority`.
pub async fn demo_token(authority: &str) -> String {
    if let Some((_, token)) = TOKENS.lock().unwrap().iter().find(|(a, _)| a == authority) {
        return token.clone();
    }
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "demo"}}},
        "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}
    }});
    let got = send_raw(
        Method::POST,
        &format!("http://{authority}/v3/auth/tokens"),
        &[("content-type", "application/json")],
        &body.to_string(),
    )
    .await;
    assert_eq!(got.status, 201, "demo token: {}", got.text());
    let token = got.headers["x-subject-token"].to_str().unwrap().to_owned();
    TOKENS.lock().unwrap().push((authority.to_owned(), token.clone()));
    token
}

/// Sends a request exactly as given.
pub async fn send_raw(method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> Got {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let res = tokio::time::timeout(std::time::Duration::from_secs(20), client().request(req))
        .await
        .expect("gateway answers within 20 s")
        .expect("request succeeds");
    let (parts, body) = res.into_parts();
    Got { status: parts.status, headers: parts.headers, body: body.collect().await.unwrap().to_bytes() }
}

pub async fn get(url: &str) -> Got {
    send(Method::GET, url, &[], "").await
}

/// Reads a file under tests/fixtures/.
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}
