//! TLS at the edge and to upstreams, with certificates made here: a private
//! CA signing a server certificate for `localhost` and 127.0.0.1 and a
//! client certificate. Everything on 127.0.0.1, every test bounded in time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::common;
use crate::common::TestGateway;
use bytes::Bytes;
use dragoman::config::{Config, EdgeTlsConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use dragoman::pipeline::Gateway;
use dragoman::server::Server;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const BASIC_DEMO: &str = "Basic ZGVtbzpkZW1v";
const SHOW: &str = "/accounts/demo/flexcloud/images/133";

/// A private CA and what it signs.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A certificate and its key, in PEM.
struct Pair {
    cert: String,
    key: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self { issuer: Issuer::new(params, key), pem: cert.pem() }
    }

    fn sign(&self, names: &[&str], cn: &str, purpose: ExtendedKeyUsagePurpose) -> Pair {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![purpose];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pair { cert: cert.pem(), key: key.serialize_pem() }
    }

    fn server(&self, cn: &str) -> Pair {
        self.sign(&["localhost", "127.0.0.1"], cn, ExtendedKeyUsagePurpose::ServerAuth)
    }

    fn client(&self) -> Pair {
        self.sign(&[], "client", ExtendedKeyUsagePurpose::ClientAuth)
    }
}

/// A fresh directory for one test's files.
fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dragoman-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// A gateway serving the memory catalog over TLS with `pair`.
async fn tls_gateway(dir: &Path, pair: &Pair, client_ca: Option<&str>) -> TestGateway {
    let mut config = Config::default();
    config.server.tls = Some(EdgeTlsConfig {
        cert: write(dir, "server.pem", &pair.cert),
        key: write(dir, "server.key", &pair.key),
        client_ca: client_ca.map(|ca| write(dir, "client-ca.pem", ca)),
        reload_secs: 1,
    });
    TestGateway::start(config).await
}

/// A TLS connection to `addr` trusting `ca`, offering `alpn`.
async fn connect(
    addr: SocketAddr,
    ca: &str,
    client: Option<&Pair>,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some(pair) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(pair.cert.as_bytes()).map(Result::unwrap).collect(),
                PrivateKeyDer::from_pem_slice(pair.key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(ServerName::try_from("localhost").unwrap(), tcp).await
}

/// The end-entity certificate the server presented.
fn presented(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec()
}

/// One HTTP/1.1 connection to send several requests on.
struct H1 {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

impl H1 {
    async fn open(stream: TlsStream<TcpStream>) -> Self {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        Self { sender }
    }

    async fn show(&mut self) -> hyper::Result<(StatusCode, String)> {
        self.sender.ready().await?;
        let req = Request::get(SHOW)
            .header("host", "localhost")
            .header("authorization", BASIC_DEMO)
            .body(Empty::new())
            .unwrap();
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(40), f).await.expect("the test ends within 40 s")
}

#[tokio::test]
async fn the_edge_serves_http1_and_h2_by_alpn_and_links_say_https() {
    bounded(async {
        let ca = Ca::new("edge CA");
        let gw = tls_gateway(&dir("alpn"), &ca.server("server"), None).await;

        let stream = connect(gw.addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
        let (status, body) = H1::open(stream).await.show().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("https://localhost/accounts/demo/flexcloud/images/133"), "{body}");
        assert!(!body.contains("http://"), "{body}");

        let stream = connect(gw.addr, &ca.pem, None, &[b"h2", b"http/1.1"]).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        let req = Request::get(format!("https://localhost:{}{SHOW}", gw.addr.port()))
            .header("authorization", BASIC_DEMO)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert_eq!(res.version(), http::Version::HTTP_2);
        assert_eq!(res.status(), 200);
        let body = String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
        assert!(body.contains(&format!("https://localhost:{}/accounts/demo/", gw.addr.port())), "{body}");

        // plain HTTP on the TLS port gets no reply
        let plain = common::client().get(format!("http://{}{SHOW}", gw.addr).parse().unwrap()).await;
        assert!(plain.is_err(), "plain HTTP was answered on the TLS listener");
    })
    .await;
}

#[tokio::test]
async fn mutual_tls_accepts_a_certified_client_and_refuses_others() {
    bounded(async {
        let ca = Ca::new("mutual CA");
        let clients = Ca::new("client CA");
        let gw = tls_gateway(&dir("mutual"), &ca.server("server"), Some(&clients.pem)).await;

        let stream = connect(gw.addr, &ca.pem, Some(&clients.client()), &[b"http/1.1"]).await.unwrap();
        let (status, body) = H1::open(stream).await.show().await.unwrap();
        assert_eq!(status, 200, "{body}");

        // no certificate, or one from another CA: the handshake or the first request fails
        let strangers = Ca::new("stranger CA");
        for client in [None, Some(strangers.client())] {
            let refused = match connect(gw.addr, &ca.pem, client.as_ref(), &[b"http/1.1"]).await {
                Err(_) => true,
                Ok(stream) => match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                    Err(_) => true,
                    Ok((mut sender, conn)) => {
                        tokio::spawn(conn);
                        let req = Request::get(SHOW)
                            .header("host", "localhost")
                            .header("authorization", BASIC_DEMO)
                            .body(Empty::<Bytes>::new())
                            .unwrap();
                        sender.send_request(req).await.is_err()
                    }
                },
            };
            assert!(refused, "a client without a valid certificate was served");
        }
    })
    .await;
}

/// Whether a client presenting `client` gets an image over a new connection.
async fn serves(addr: SocketAddr, ca: &str, client: Pair) -> bool {
    match connect(addr, ca, Some(&client), &[b"http/1.1"]).await {
        Err(_) => false,
        Ok(stream) => H1::open(stream).await.show().await.is_ok_and(|(status, _)| status == 200),
    }
}

#[tokio::test]
async fn a_replaced_client_ca_verifies_the_next_handshakes() {
    bounded(async {
        let dir = dir("client-ca-reload");
        let ca = Ca::new("server CA");
        let old = Ca::new("old client CA");
        let new = Ca::new("new client CA");
        let gw = tls_gateway(&dir, &ca.server("server"), Some(&old.pem)).await;
        let served = |client: Pair| serves(gw.addr, &ca.pem, client);
        assert!(served(old.client()).await);
        assert!(!served(new.client()).await, "a client of the new CA before the change");

        // a bundle that is not PEM leaves the old one verifying
        write(&dir, "client-ca.pem", "not a certificate\n");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(served(old.client()).await);

        write(&dir, "client-ca.pem", &new.pem);
        let mut switched = false;
        for _ in 0..100 {
            if served(new.client()).await {
                switched = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(switched, "the new client CA was not used within ten seconds");
        assert!(!served(old.client()).await, "a client of the replaced CA is still served");
    })
    .await;
}

/// A plain gateway whose backend is the Hostway edge of `inner`, over HTTPS.
async fn in_front_of_tls(url: &str, ca: Option<PathBuf>, client: Option<(PathBuf, PathBuf)>) -> TestGateway {
    let mut up = UpstreamConfig::new("inner", Dialect::Hostway, url);
    up.scope = "demo".into();
    up.credentials.user = Some("demo".into());
    up.credentials.password = Some("demo".into());
    up.connect_timeout_secs = 5;
    up.timeout_secs = 10;
    up.ca = ca;
    if let Some((cert, key)) = client {
        up.client_cert = Some(cert);
        up.client_key = Some(key);
    }
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "inner".into();
    TestGateway::start(config).await
}

#[tokio::test]
async fn upstreams_over_tls_trust_the_extra_ca_and_present_a_client_certificate() {
    bounded(async {
        let dir = dir("upstream");
        let ca = Ca::new("upstream CA");
        let ca_file = write(&dir, "ca.pem", &ca.pem);
        let inner = tls_gateway(&dir.join("inner"), &ca.server("inner"), None).await;
        let url = format!("https://127.0.0.1:{}", inner.addr.port());

        let outer = in_front_of_tls(&url, Some(ca_file.clone()), None).await;
        let got = common::get(&outer.url(SHOW)).await;
        assert_eq!(got.status, 200, "{}", got.text());
        assert!(got.text().contains("test_debian_image"), "{}", got.text());
        // the links are the outer gateway's, over plain HTTP
        assert!(got.text().contains(&format!("http://{}/accounts/demo/", outer.addr)), "{}", got.text());

        // without the private CA the upstream is not trusted
        let untrusting = in_front_of_tls(&url, None, None).await;
        let got = common::get(&untrusting.url(SHOW)).await;
        assert!(matches!(got.status.as_u16(), 502 | 503), "{} {}", got.status, got.text());

        // an upstream asking for a client certificate gets the configured one
        let clients = Ca::new("client CA");
        let mutual = tls_gateway(&dir.join("mutual"), &ca.server("mutual"), Some(&clients.pem)).await;
        let url = format!("https://localhost:{}", mutual.addr.port());
        let client = clients.client();
        let files = (write(&dir, "client.pem", &client.cert), write(&dir, "client.key", &client.key));
        let outer = in_front_of_tls(&url, Some(ca_file.clone()), Some(files)).await;
        let got = common::get(&outer.url(SHOW)).await;
        assert_eq!(got.status, 200, "{}", got.text());
        let anonymous = in_front_of_tls(&url, Some(ca_file), None).await;
        let got = common::get(&anonymous.url(SHOW)).await;
        assert!(matches!(got.status.as_u16(), 502 | 503), "{} {}", got.status, got.text());
    })
    .await;
}

#[tokio::test]
async fn an_upstream_certificate_for_another_name_is_refused() {
    bounded(async {
        let dir = dir("hostname");
        let ca = Ca::new("hostname CA");
        let elsewhere = ca.sign(&["other.example"], "other", ExtendedKeyUsagePurpose::ServerAuth);
        let inner = tls_gateway(&dir.join("inner"), &elsewhere, None).await;
        let ca_file = write(&dir, "ca.pem", &ca.pem);
        for host in ["127.0.0.1", "localhost"] {
            let outer =
                in_front_of_tls(&format!("https://{host}:{}", inner.addr.port()), Some(ca_file.clone()), None).await;
            let got = common::get(&outer.url(SHOW)).await;
            assert!(matches!(got.status.as_u16(), 502 | 503), "{host}: {} {}", got.status, got.text());
            assert!(got.text().contains("error") || got.text().contains("Error"), "{}", got.text());
        }
    })
    .await;
}

/// Opens connections until one presents `want`, for up to ten seconds.
async fn until_presented(addr: SocketAddr, ca: &str, want: &[u8]) {
    for _ in 0..100 {
        let stream = connect(addr, ca, None, &[b"http/1.1"]).await.unwrap();
        if presented(&stream) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the renewed certificate was not served within ten seconds");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart_and_a_bad_one_is_not() {
    bounded(async {
        let dir = dir("reload");
        let ca = Ca::new("reload CA");
        let first = ca.server("first");
        let gw = tls_gateway(&dir, &first, None).await;

        let stream = connect(gw.addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(presented(&stream), der(&first.cert));
        let mut open = H1::open(stream).await;
        assert_eq!(open.show().await.unwrap().0, 200);

        let second = ca.server("second");
        write(&dir, "server.key", &second.key);
        write(&dir, "server.pem", &second.cert);
        until_presented(gw.addr, &ca.pem, &der(&second.cert)).await;
        // the connection opened before the renewal still serves
        assert_eq!(open.show().await.unwrap().0, 200, "the open connection was dropped");

        // a file that is not PEM, then a certificate without its key: the second keeps serving
        write(&dir, "server.pem", "not a certificate\n");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let stream = connect(gw.addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(presented(&stream), der(&second.cert));
        assert_eq!(H1::open(stream).await.show().await.unwrap().0, 200);

        write(&dir, "server.pem", &ca.server("third").cert);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let stream = connect(gw.addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(presented(&stream), der(&second.cert));
        assert_eq!(open.show().await.unwrap().0, 200);
    })
    .await;
}

#[test]
fn tls_files_that_do_not_load_refuse_the_configuration() {
    let dir = dir("config");
    let ca = Ca::new("config CA");
    let pair = ca.server("server");
    let cert = write(&dir, "server.pem", &pair.cert);
    let other = write(&dir, "other.key", &ca.server("other").key);
    let text = format!("[server.tls]\ncert = {:?}\nkey = {:?}\n", cert.display(), other.display());
    let err = Config::parse(&text).unwrap_err().to_string();
    assert!(err.starts_with("server.tls: "), "{err}");
    let key = write(&dir, "server.key", &pair.key);
    let text = format!("[server.tls]\ncert = {:?}\nkey = {:?}\nreload_secs = 2\n", cert.display(), key.display());
    let config = Config::parse(&text).unwrap();
    assert_eq!(config.server.tls.unwrap().reload_secs, 2);
}

#[tokio::test]
async fn a_reload_naming_other_certificate_files_serves_them_from_the_next_handshake() {
    bounded(async {
        let dir = dir("live-reload");
        let ca = Ca::new("live reload CA");
        let (first, second) = (ca.server("first"), ca.server("second"));
        let tls = |name: &str, pair: &Pair| EdgeTlsConfig {
            cert: write(&dir.join(name), "server.pem", &pair.cert),
            key: write(&dir.join(name), "server.key", &pair.key),
            client_ca: None,
            reload_secs: 60,
        };
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.server.tls = Some(tls("first", &first));
        let server = Server::bind(&config.server, Gateway::from_config(&config).unwrap()).await.unwrap();
        let (addr, live) = (server.local_addr().unwrap(), server.live());
        tokio::spawn(server.serve(std::future::pending()));
        let stream = connect(addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(presented(&stream), der(&first.cert));
        let mut open = H1::open(stream).await;

        let mut next = config.clone();
        next.server.tls = Some(tls("second", &second));
        assert_eq!(live.reload(&config, &next).unwrap(), Vec::<&str>::new());
        let stream = connect(addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(presented(&stream), der(&second.cert), "the next handshake");
        assert_eq!(H1::open(stream).await.show().await.unwrap().0, 200);
        assert_eq!(open.show().await.unwrap().0, 200, "the connection opened before still serves");

        // files that do not load: nothing changes
        let mut broken = next.clone();
        broken.server.tls = Some(EdgeTlsConfig { cert: dir.join("nowhere.pem"), ..tls("third", &first) });
        let err = live.reload(&next, &broken).unwrap_err().to_string();
        assert!(err.starts_with("server.tls: "), "{err}");
        let stream = connect(addr, &ca.pem, None, &[b"http/1.1"]).await.unwrap();
        assert_eq!(presented(&stream), der(&second.cert));
    })
    .await;
}
