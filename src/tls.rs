//! TLS, with rustls and its `ring` provider: the edge listener's
//! certificates and client CA bundle (reloaded when their files change)
//! and the upstream
//! client's trust roots and client certificate.
//!
//! TLS sits outside the stack of stages: the listener completes the handshake
//! before a request reaches the pipeline.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// TLS 1.2 and 1.3, nothing older.
const VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why certificates, keys or CA bundles do not load.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Pem { path: PathBuf, source: rustls_pki_types::pem::Error },
    #[error("{}: no PEM certificate in the file", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: no usable PEM private key: {source}", path.display())]
    NoKey { path: PathBuf, source: rustls_pki_types::pem::Error },
    /// A certificate and a key that do not go together.
    #[error("{} with {}: {source}", cert.display(), key.display())]
    Pair { cert: PathBuf, key: PathBuf, source: rustls::Error },
    /// A CA certificate the trust store does not take.
    #[error("{}: {source}", path.display())]
    Root { path: PathBuf, source: rustls::Error },
    #[error("ca {}: {source}", path.display())]
    UpstreamRoot { path: PathBuf, source: rustls::Error },
    #[error("client_cert {} with client_key {}: {source}", cert.display(), key.display())]
    ClientPair { cert: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("client_cert and client_key go together")]
    ClientPairHalf,
    #[error("client_ca: {0}")]
    ClientVerifier(#[from] rustls::server::VerifierBuilderError),
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

/// Every certificate of a PEM file, at least one.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    certs_from_pem(path, &read(path)?)
}

fn certs_from_pem(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem { path: path.to_owned(), source })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    key_from_pem(path, &read(path)?)
}

fn key_from_pem(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|source| TlsError::NoKey { path: path.to_owned(), source })
}

fn certified_key(cert: &Path, cert_pem: &[u8], key: &Path, key_pem: &[u8]) -> Result<CertifiedKey, TlsError> {
    let chain = certs_from_pem(cert, cert_pem)?;
    let key_der = key_from_pem(key, key_pem)?;
    CertifiedKey::from_der(chain, key_der, &provider()).map_err(|source| TlsError::Pair {
        cert: cert.to_owned(),
        key: key.to_owned(),
        source,
    })
}

fn roots_from_pem(path: &Path, pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in certs_from_pem(path, pem)? {
        store.add(cert).map_err(|source| TlsError::Root { path: path.to_owned(), source })?;
    }
    Ok(store)
}

/// The edge's certificate, swapped whole when its files change.
#[derive(Debug)]
pub struct CertStore {
    cert: PathBuf,
    key: PathBuf,
    current: ArcSwap<CertifiedKey>,
    /// The file contents last looked at, good or bad, so that each change is
    /// loaded (or reported) once.
    seen: std::sync::Mutex<(Vec<u8>, Vec<u8>)>,
    /// The last failure logged, so that a file that stays unreadable is reported once.
    reported: std::sync::Mutex<Option<String>>,
}

impl CertStore {
    fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let (cert_pem, key_pem) = read_pair(cert, key)?;
        let certified = certified_key(cert, &cert_pem, key, &key_pem)?;
        Ok(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: ArcSwap::from_pointee(certified),
            seen: std::sync::Mutex::new((cert_pem, key_pem)),
            reported: std::sync::Mutex::new(None),
        })
    }

    /// Reads the files again and swaps in the certificate they hold if they
    /// changed; a file that does not load leaves the old certificate
    /// serving, and says why in the log. Returns whether it swapped.
    pub fn reload(&self) -> bool {
        let (cert_pem, key_pem) = match read_pair(&self.cert, &self.key) {
            Ok(pair) => pair,
            Err(e) => {
                self.report(e);
                return false;
            }
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.0 == cert_pem && seen.1 == key_pem {
            return false;
        }
        let loaded = certified_key(&self.cert, &cert_pem, &self.key, &key_pem);
        *seen = (cert_pem, key_pem);
        match loaded {
            Ok(certified) => {
                self.current.store(Arc::new(certified));
                count_reload(true);
                *self.reported.lock().unwrap_or_else(|e| e.into_inner()) = None;
                tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                true
            }
            Err(e) => {
                self.report(e);
                false
            }
        }
    }

    fn report(&self, error: TlsError) {
        let error = error.to_string();
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        if reported.as_deref() != Some(error.as_str()) {
            count_reload(false);
            tracing::warn!(%error, "TLS certificate not reloaded: the current one keeps serving");
            *reported = Some(error);
        }
    }
}

/// Counts a reload of the edge's TLS files in `dragoman_tls_reloads_total`.
fn count_reload(ok: bool) {
    crate::metrics::metrics().tls_reloads.get_or_create(crate::metrics::ResultLabels::of(ok)).inc();
}

fn read_pair(cert: &Path, key: &Path) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    Ok((read(cert)?, read(key)?))
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The edge listener's TLS: its rustls configuration, swapped whole when the
/// client CA bundle changes, and the certificate store behind it.
#[derive(Clone)]
pub struct EdgeTls {
    config: Arc<ArcSwap<ServerConfig>>,
    pub certs: Arc<CertStore>,
    client_cas: Option<Arc<ClientCas>>,
    /// How often the certificate files are looked at.
    pub reload_every: Duration,
}

impl EdgeTls {
    /// Loads the certificate, key and client CA the configuration names.
    pub fn from_config(tls: &EdgeTlsConfig) -> Result<Self, TlsError> {
        let certs = Arc::new(CertStore::load(&tls.cert, &tls.key)?);
        let client_cas = match &tls.client_ca {
            Some(path) => Some(Arc::new(ClientCas::load(path)?)),
            None => None,
        };
        let config = server_config(&certs, client_cas.as_ref().map(|cas| cas.current.load_full()))?;
        Ok(Self {
            config: Arc::new(ArcSwap::from_pointee(config)),
            certs,
            client_cas,
            reload_every: Duration::from_secs(tls.reload_secs.max(1)),
        })
    }

    /// What accepts the next connection: the configuration as it stands.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.load_full())
    }

    /// Reads the certificate files, and the client CA bundle, again.
    pub fn reload(&self) {
        self.certs.reload();
        let Some(cas) = &self.client_cas else { return };
        if !cas.reload() {
            return;
        }
        match server_config(&self.certs, Some(cas.current.load_full())) {
            Ok(config) => {
                self.config.store(Arc::new(config));
                tracing::info!(client_ca = %cas.path.display(), "TLS client CA reloaded");
            }
            Err(e) => tracing::warn!(error = %e, "TLS client CA not reloaded: the current one keeps verifying"),
        }
    }
}

/// TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`, the certificate from `certs`,
/// and client certificates verified against `client_cas` when given.
fn server_config(certs: &Arc<CertStore>, client_cas: Option<Arc<RootCertStore>>) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider()).with_protocol_versions(VERSIONS)?;
    let builder = match client_cas {
        Some(roots) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider()).build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(certs.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The CAs client certificates must chain to, read again when the file
/// changes; a file that does not load leaves the old bundle verifying.
struct ClientCas {
    path: PathBuf,
    current: ArcSwap<RootCertStore>,
    /// The file contents last looked at, good or bad, so that each change is
    /// loaded (or reported) once.
    seen: std::sync::Mutex<Vec<u8>>,
}

impl ClientCas {
    fn load(path: &Path) -> Result<Self, TlsError> {
        let pem = read(path)?;
        let roots = roots_from_pem(path, &pem)?;
        Ok(Self { path: path.to_owned(), current: ArcSwap::from_pointee(roots), seen: std::sync::Mutex::new(pem) })
    }

    /// Reads the file again; returns whether a changed bundle was swapped in.
    fn reload(&self) -> bool {
        let pem = match std::fs::read(&self.path) {
            Ok(pem) => pem,
            Err(e) => {
                tracing::debug!(client_ca = %self.path.display(), error = %e, "TLS client CA not read");
                return false;
            }
        };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if *seen == pem {
            return false;
        }
        let loaded = roots_from_pem(&self.path, &pem);
        *seen = pem;
        match loaded {
            Ok(roots) => {
                self.current.store(Arc::new(roots));
                count_reload(true);
                true
            }
            Err(error) => {
                count_reload(false);
                tracing::warn!(%error, "TLS client CA not reloaded: the current one keeps verifying");
                false
            }
        }
    }
}

/// The upstream client's rustls configuration: the webpki roots plus the
/// extra CA bundle, and the client certificate, if any. Hostnames are
/// always verified.
pub fn client_config(tls: &UpstreamTlsConfig) -> Result<rustls::ClientConfig, TlsError> {
    let mut store = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(ca) = &tls.ca {
        for cert in load_certs(ca)? {
            store.add(cert).map_err(|source| TlsError::UpstreamRoot { path: ca.to_owned(), source })?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_root_certificates(store);
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|source| TlsError::ClientPair { cert: cert.to_owned(), key: key.to_owned(), source }),
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err(TlsError::ClientPairHalf),
    }
}

/// The edge listener's TLS (`[server.tls]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeTlsConfig {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key of the certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM bundle of the CAs client certificates must chain to; with it,
    /// clients without a valid certificate are refused (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// How often `cert`, `key` and `client_ca` are read again, in seconds; a
    /// change is used from the next handshake on.
    #[serde(default = "default_tls_reload")]
    pub reload_secs: u64,
}

fn default_tls_reload() -> u64 {
    5
}

/// The upstream client's TLS files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpstreamTlsConfig {
    /// PEM bundle of CAs trusted besides the webpki roots.
    pub ca: Option<PathBuf>,
    /// PEM certificate chain presented to the upstream.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
}
