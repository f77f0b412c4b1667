//! The gateway's configuration: one TOML file, typed, unknown keys refused.
//! `config/dragoman.example.toml` documents every key.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub use crate::backend::MEMORY;
use crate::backend::keystone::{KeystoneSettingsError, NameOrId};
use crate::backend::{ClientSettings, KeystoneAuth, KeystoneSettings, RetryBudgetSettings, UpstreamSettings};
use crate::dialect::profile::GivenCredentials;
use crate::dialect::{Credentials, Dialect, Format};
use crate::identity::{Client, Hashed, Identity, Secret, Tenant, TokenKeys, Tokens};
pub use crate::tls::{EdgeTlsConfig, UpstreamTlsConfig};

/// The name routes use for the embedded catalog.

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    #[serde(default)]
    pub identity: IdentityConfig,
    /// The callers the edges accept; the documented demo client when none.
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientConfig>,
    #[serde(default, rename = "upstream")]
    pub upstreams: Vec<UpstreamConfig>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `--demo`: the demo client is accepted on any listen address, not
    /// only on loopback. Never from a file.
    #[serde(skip)]
    pub demo_anywhere: bool,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub mirror: MirrorConfig,
}

/// What one request, and each upstream reply, may expand into (`[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most images one get-many may name (GoGrid `id=`/`name=` lists).
    pub max_ids_per_request: usize,
    /// Most upstream calls one request may make: fan-out shows, walked pages.
    pub max_upstream_calls: usize,
    /// Most images (elements of any list) in one upstream reply.
    pub max_reply_images: usize,
    /// Most fields of one record: keys of an object, columns of a CSV reply,
    /// metadata items of a written image.
    pub max_fields_per_record: usize,
    /// Deepest nesting of an upstream reply.
    pub max_depth: usize,
    /// Longest string in an upstream reply or a write, in bytes.
    pub max_field_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_ids_per_request: 100,
            max_upstream_calls: 100,
            max_reply_images: 10_000,
            max_fields_per_record: 256,
            max_depth: 32,
            max_field_bytes: 65_536,
        }
    }
}

impl LimitsConfig {
    pub fn request_bounds(&self) -> crate::model::RequestBounds {
        crate::model::RequestBounds {
            max_ids: self.max_ids_per_request,
            max_field_bytes: self.max_field_bytes,
            max_fields: self.max_fields_per_record,
        }
    }

    pub fn reply_bounds(&self) -> crate::backend::ReplyBounds {
        crate::backend::ReplyBounds {
            max_items: self.max_reply_images,
            max_fields: self.max_fields_per_record,
            max_depth: self.max_depth,
            max_string_bytes: self.max_field_bytes,
        }
    }
}

/// The admin listener: `/metrics`, `/livez`, `/readyz`, apart from the edge,
/// outside its quotas and authentication.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address the admin listener listens on; never the edge's.
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { listen: SocketAddr::from(([127, 0, 0, 1], 9901)) }
    }
}

/// The log on stderr.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (one human-readable line per event) or `json` (one JSON object per line).
    pub format: LogFormat,
    /// Which events are logged, in `RUST_LOG` syntax; `RUST_LOG` wins when set.
    pub filter: String,
    /// One line per request (target `dragoman::access`): who, what, where, how it went.
    pub access: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Text, filter: "dragoman=info".into(), access: true }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the edge listens on.
    pub listen: SocketAddr,
    /// Threads serving requests, each with its own event loop and upstream
    /// connections; 0 for one per CPU core.
    pub workers: usize,
    /// Longest time one request may take, upstream calls included, in seconds.
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Backend of requests no route names.
    pub default_backend: String,
    /// Longest time a client may take to send a request head, in seconds.
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers), in bytes; at least 8192.
    pub max_header_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
    /// Most requests in flight at once; past it, the edge dialect's 503.
    pub max_in_flight: usize,
    /// Most connections open at once from one client address; 0 for no limit.
    pub max_connections_per_address: usize,
    /// On SIGTERM or Ctrl-C, how long in-flight requests may take to finish, in seconds.
    pub shutdown_grace_secs: u64,
    /// On SIGTERM, how long `/readyz` fails while the edge still serves,
    /// before the listener closes, in seconds: time for load balancers and
    /// Kubernetes endpoints to stop sending new requests.
    pub shutdown_drain_delay_secs: u64,
    /// Serve HTTPS instead of plain HTTP; plain HTTP when absent.
    pub tls: Option<EdgeTlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: 0,
            request_timeout_secs: 60,
            max_body_bytes: 1024 * 1024,
            default_backend: MEMORY.to_owned(),
            header_read_timeout_secs: 30,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            max_in_flight: 1024,
            max_connections_per_address: 256,
            shutdown_grace_secs: 30,
            shutdown_drain_delay_secs: 5,
            tls: None,
        }
    }
}

/// Request quotas, as token buckets: `requests` per `per_secs` seconds,
/// bursts of up to `burst`. A quota with `requests = 0` is off.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Every request the gateway serves, whoever sends it.
    pub global: QuotaConfig,
    /// Per authenticated client, every request.
    pub client: QuotaConfig,
    /// Per authenticated client, reads (GET, HEAD).
    pub reads: QuotaConfig,
    /// Per authenticated client, writes (every other method).
    pub writes: QuotaConfig,
    /// Per source address, token requests at the gateway's Keystone (`POST /v3/auth/tokens`).
    pub tokens: QuotaConfig,
    /// Per source address, requests without an authenticated caller: those
    /// that fail authentication, and those that need none.
    pub address: QuotaConfig,
    /// Most source addresses tracked at once per quota; addresses past it
    /// share one bucket until idle ones are pruned.
    pub max_addresses: usize,
    /// `redis://HOST:PORT`: every quota shared by the replicas using it.
    pub store: Option<String>,
    /// Longest wait for the store on a request, in milliseconds; past it the
    /// request is charged on the local quotas.
    pub store_timeout_ms: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            global: QuotaConfig::OFF,
            client: QuotaConfig::OFF,
            reads: QuotaConfig::OFF,
            writes: QuotaConfig::OFF,
            tokens: QuotaConfig { requests: 5, per_secs: 1, burst: Some(20) },
            address: QuotaConfig { requests: 20, per_secs: 1, burst: Some(100) },
            max_addresses: 100_000,
            store: None,
            store_timeout_ms: 50,
        }
    }
}

/// One quota: `requests` per `per_secs` seconds, bursts of `burst` (default `requests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    pub requests: u32,
    #[serde(default = "one")]
    pub per_secs: u64,
    pub burst: Option<u32>,
}

impl QuotaConfig {
    pub const OFF: QuotaConfig = QuotaConfig { requests: 0, per_secs: 1, burst: None };

    /// The governor quota, or `None` when off.
    pub fn quota(&self) -> Option<governor::Quota> {
        let (period, burst) = self.gcra()?;
        let burst = std::num::NonZeroU32::new(burst)?;
        governor::Quota::with_period(period).map(|q| q.allow_burst(burst))
    }

    /// GCRA's emission interval and burst, or `None` when off.
    pub fn gcra(&self) -> Option<(Duration, u32)> {
        let requests = std::num::NonZeroU32::new(self.requests)?;
        let burst = self.burst.filter(|b| *b > 0).unwrap_or(requests.get());
        Some((Duration::from_secs(self.per_secs.max(1)) / requests.get(), burst))
    }
}

impl Default for QuotaConfig {
    fn default() -> Self {
        Self::OFF
    }
}

fn one() -> u64 {
    1
}

/// How the edges authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// How far a GoGrid signature's clock may be from the gateway's, in seconds.
    pub gogrid_window_secs: u64,
    /// How long a token the gateway's Keystone issues lives, in seconds.
    pub token_lifetime_secs: u64,
    /// The region of the endpoints in the gateway's Keystone catalog.
    pub region: String,
    /// The key repository (Keystone's Fernet layout) that signs and checks
    /// tokens; without it, a key made at start.
    pub token_keys: Option<PathBuf>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self { gogrid_window_secs: 300, token_lifetime_secs: 3600, region: "RegionOne".into(), token_keys: None }
    }
}

/// A caller, its credentials and its tenant. Every secret may come from the
/// file, an environment variable (`*_env`) or a file (`*_file`); a password
/// may be an argon2 hash (`password_hash`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub name: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<std::path::PathBuf>,
    pub password_hash: Option<String>,
    /// Keystone domain of the user.
    #[serde(default = "default_domain")]
    pub domain: String,
    pub api_key: Option<String>,
    pub secret: Option<String>,
    pub secret_env: Option<String>,
    pub secret_file: Option<std::path::PathBuf>,
    /// May read but not change images.
    #[serde(default)]
    pub read_only: bool,
    /// Hostway account in edge paths.
    #[serde(default)]
    pub account: String,
    /// OpenStack project in edge paths and tokens.
    #[serde(default)]
    pub project: String,
    /// Foreman compute resource in edge paths; any when absent.
    pub compute_resource: Option<String>,
    /// The backend its requests go to (an upstream's name or `memory`);
    /// the routes decide when absent.
    pub backend: Option<String>,
    /// The account, project or compute resource upstream, for this client.
    pub upstream_scope: Option<String>,
}

fn default_domain() -> String {
    "default".into()
}

/// The embedded catalog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// A redb file that keeps the catalog across restarts; in memory only when absent.
    pub path: Option<std::path::PathBuf>,
    /// Most images the catalog holds; a create past it is refused.
    pub max_images: usize,
    /// Largest image the catalog stores, in bytes as stored (JSON); a write
    /// past it is refused.
    pub max_image_bytes: usize,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self { path: None, max_images: 10_000, max_image_bytes: 65_536 }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The name routes refer to.
    pub name: String,
    pub dialect: Dialect,
    /// Root URL of the upstream server (`http://nova.internal:8774` or
    /// `https://…`); an
    /// OpenStack upstream with `auth_url` may leave it out and use the
    /// compute endpoint of Keystone's catalog.
    #[serde(default)]
    pub url: String,
    /// Account (Hostway), project (OpenStack) or compute resource (Foreman) upstream.
    #[serde(default)]
    pub scope: String,
    /// Reply format to ask of a GoGrid upstream.
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub credentials: CredentialsConfig,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_upstream_timeout")]
    pub timeout_secs: u64,
    /// Most images one list may walk through to filter, page or count.
    #[serde(default = "default_walk_limit")]
    pub walk_limit: usize,
    /// Most upstream calls in flight for one get-many.
    #[serde(default = "default_fanout")]
    pub fanout: usize,
    /// Largest upstream reply read, in bytes.
    #[serde(default = "default_max_reply")]
    pub max_reply_bytes: usize,
    /// Retries (of reads that never reached the upstream) allowed on top of
    /// the requests sent, in percent of them over the last ten seconds.
    #[serde(default = "default_retry_percent")]
    pub retry_budget_percent: u32,
    /// Retries allowed per second whatever the traffic, for quiet upstreams.
    #[serde(default = "default_retry_min")]
    pub retry_budget_min_per_sec: u32,
    /// HTTPS: PEM bundle of CAs trusted besides the webpki roots.
    pub ca: Option<PathBuf>,
    /// HTTPS: PEM certificate chain presented to the upstream (with `client_key`).
    pub client_cert: Option<PathBuf>,
    /// HTTPS: PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
}

fn default_connect_timeout() -> u64 {
    5
}
fn default_upstream_timeout() -> u64 {
    30
}
fn default_walk_limit() -> usize {
    10_000
}
fn default_fanout() -> usize {
    8
}
fn default_max_reply() -> usize {
    64 * 1024 * 1024
}
fn default_retry_percent() -> u32 {
    20
}
fn default_retry_min() -> u32 {
    1
}

/// Upstream credentials. Each secret may be given in the file or named by an
/// environment variable (`*_env`), which wins when set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    pub user: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub token: Option<String>,
    pub token_env: Option<String>,
    pub api_key: Option<String>,
    pub secret: Option<String>,
    pub secret_env: Option<String>,
    /// OpenStack: Keystone's URL; with it the token comes from Keystone
    /// (password or application credential) instead of `token`.
    pub auth_url: Option<String>,
    /// Keystone: the user by id instead of by name (`user`).
    pub user_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_secret: Option<String>,
    pub application_credential_secret_env: Option<String>,
    /// Catalog interface of the compute endpoint (default `public`).
    pub interface: Option<String>,
    /// Catalog region of the compute endpoint.
    pub region: Option<String>,
}

/// Sends the requests of one edge dialect (and, optionally, one tenant the
/// path names) to a backend.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub edge: Dialect,
    /// Account, project or compute resource in the edge path; any when absent.
    pub scope: Option<String>,
    /// An upstream's name, or `memory`.
    pub backend: String,
    /// During a migration, the backend (an upstream's name, or `memory`)
    /// asked for the images `backend` does not have: a show or get-many
    /// that `backend` answers not-found is read through it. Lists stay on
    /// `backend` (docs/MIGRATION.md).
    pub fallback: Option<String>,
    /// During a migration, the backend (an upstream's name, or `memory`)
    /// every read of this route is also sent to, in the background, and its
    /// outcome compared with `backend`'s; the client gets `backend`'s
    /// answer alone ([`MirrorConfig`] bounds the work, docs/MIGRATION.md).
    pub mirror: Option<String>,
    /// The share of this route's reads drawn for its `mirror` (0 to 1);
    /// `[mirror] sample` when absent.
    pub mirror_sample: Option<f64>,
}

/// How much background work the routes' mirrors may take.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorConfig {
    /// The share of a route's reads drawn at random for its mirror (0 to
    /// 1); the others are counted as `unsampled`.
    pub sample: f64,
    /// Most reads mirrored a second, over all routes, in bursts of up to a
    /// second's worth; past it a drawn read is not mirrored (counted as
    /// `dropped`). 0: no rate bound.
    pub per_second: u32,
    /// Mirrored reads sent at once, over all routes.
    pub concurrency: usize,
    /// Mirrored reads waiting for a turn; past it a read is not mirrored
    /// (counted as `dropped`).
    pub queue: usize,
    /// Longest wait for the mirror's answer (milliseconds); past it the read
    /// counts as an `error`.
    pub timeout_ms: u64,
    /// One log line per this many differences of a route (the first always).
    pub log_one_in: u64,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        // every read of a quiet route, and at most 100 a second whatever the
        // traffic: what the mirror adds to the gateway and to the mirror's
        // side stays small and known (docs/MIGRATION.md)
        Self { sample: 1.0, per_second: 100, concurrency: 8, queue: 64, timeout_ms: 5000, log_one_in: 10 }
    }
}

/// What is wrong with a configuration, and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: String, source: Box<toml::de::Error> },
    #[error("{0}")]
    Invalid(String),
}

/// Why a client's or an upstream's settings cannot work.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{key}_env names {var}, which is not set")]
    UnsetVariable { key: &'static str, var: String },
    #[error("{key}_file {}: {source}", path.display())]
    SecretFile { key: &'static str, path: std::path::PathBuf, source: std::io::Error },
    #[error("give password or password_hash, not both")]
    PasswordTwice,
    #[error("password_hash: {0}")]
    PasswordHash(argon2::password_hash::Error),
    #[error("{0} go together")]
    Pair(&'static str),
    #[error("a client needs user and password, or api_key and secret")]
    NoClientCredentials,
    #[error("{} {dialect} upstream needs {what}", article(dialect.name()))]
    UpstreamCredentials { dialect: Dialect, what: &'static str },
    #[error("auth_url is for openstack upstreams")]
    AuthUrlWithoutKeystone,
    #[error("keystone needs project_id or project_name")]
    NoProject,
    #[error("keystone password authentication needs user")]
    NoUser,
    #[error("keystone needs user and password, a token, or an application credential")]
    NoKeystoneCredentials,
    #[error(transparent)]
    Keystone(#[from] KeystoneSettingsError),
    #[error("url is needed unless auth_url is given (keystone's catalog then gives it)")]
    NoUrlNorAuthUrl,
    #[error("url is needed")]
    NoUrl,
}

/// `a` or `an`, as `name` begins.
fn article(name: &str) -> &'static str {
    if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let display = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: display.clone(), source })?;
        let config = Config::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse { path: display.clone(), source },
            ConfigError::Invalid(msg) => ConfigError::Invalid(format!("{display}: {msg}")),
            other => other,
        })?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: String::new(), source: Box::new(e) })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types alone cannot: names resolve, URLs parse,
    /// credentials fit their dialect.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = BTreeSet::new();
        for (i, up) in self.upstreams.iter().enumerate() {
            let at = format!("upstream[{i}] ({:?})", up.name);
            if up.name == MEMORY || !names.insert(up.name.as_str()) {
                return invalid(format!("{at}: name must be unique and not {MEMORY:?}"));
            }
            up.settings().map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
            crate::tls::client_config(&up.tls()).map_err(|e| ConfigError::Invalid(format!("{at}: tls: {e}")))?;
            if up.retry_budget_percent > 1000 || up.retry_budget_min_per_sec > 1_000_000 {
                return invalid(format!(
                    "{at}: retry_budget_percent must be at most 1000 and retry_budget_min_per_sec at most 1000000"
                ));
            }
            if up.url.is_empty() {
                continue;
            }
            let url = url::Url::parse(&up.url).map_err(|e| ConfigError::Invalid(format!("{at}: url: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return invalid(format!(
                    "{at}: url: only http:// and https:// upstreams are supported, not {}://",
                    url.scheme()
                ));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return invalid(format!("{at}: url: must not carry a query or fragment"));
            }
            if up.walk_limit == 0 || up.fanout == 0 {
                return invalid(format!("{at}: walk_limit and fanout must be at least 1"));
            }
        }
        self.validate_limits()?;
        if self.admin.listen == self.server.listen && self.server.listen.port() != 0 {
            return invalid(format!(
                "admin.listen {}: the admin listener cannot share the edge's address",
                self.admin.listen
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.filter)
            .map_err(|e| ConfigError::Invalid(format!("log.filter {:?}: {e}", self.log.filter)))?;
        if let Some(tls) = &self.server.tls {
            crate::tls::EdgeTls::from_config(tls).map_err(|e| ConfigError::Invalid(format!("server.tls: {e}")))?;
        }
        let known = |name: &str| name == MEMORY || names.contains(name);
        if self.clients.is_empty() && !self.server.listen.ip().is_loopback() && !self.demo_anywhere {
            return invalid(format!(
                "server.listen {}: the demo credentials serve only on a loopback address; declare [[client]] entries to listen elsewhere (or run --demo to try it out)",
                self.server.listen
            ));
        }
        let mut logins = BTreeSet::new();
        for (i, client) in self.clients.iter().enumerate() {
            let at = format!("client[{i}] ({:?})", client.name);
            client.client().map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
            for login in [
                client.user.as_deref().map(|u| format!("user {u}")),
                client.api_key.as_deref().map(|k| format!("api_key {k}")),
            ]
            .into_iter()
            .flatten()
            {
                if !logins.insert(login.clone()) {
                    return invalid(format!("{at}: {login} is already another client's"));
                }
            }
            if let Some(backend) = client.backend.as_deref().filter(|b| !known(b)) {
                return invalid(format!("{at}.backend: no upstream named {backend:?}"));
            }
        }
        if !known(&self.server.default_backend) {
            return invalid(format!("server.default_backend: no upstream named {:?}", self.server.default_backend));
        }
        for (i, route) in self.routes.iter().enumerate() {
            if !known(&route.backend) {
                return invalid(format!("route[{i}].backend: no upstream named {:?}", route.backend));
            }
            // the other side of a migration: a known backend, not the route's own
            for (key, other) in [("fallback", &route.fallback), ("mirror", &route.mirror)] {
                match other.as_deref() {
                    Some(other) if !known(other) => {
                        return invalid(format!("route[{i}].{key}: no upstream named {other:?}"));
                    }
                    Some(other) if other == route.backend => {
                        return invalid(format!("route[{i}].{key}: must not be the route's backend"));
                    }
                    _ => {}
                }
            }
            if let Some(sample) = route.mirror_sample {
                if route.mirror.is_none() {
                    return invalid(format!("route[{i}].mirror_sample: the route has no mirror"));
                }
                check_share(&format!("route[{i}].mirror_sample"), sample)?;
            }
        }
        check_share("mirror.sample", self.mirror.sample)?;
        Ok(())
    }
}

/// A share of reads: from 0 (none) to 1 (all).
fn check_share(at: &str, share: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&share) {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!("{at}: must be from 0 to 1, not {share}")))
    }
}

/// More threads than any machine has cores is a mistake, not a setting.
const MAX_WORKERS: usize = 1024;

impl Config {
    /// The bounds and quotas: each positive where zero would stop everything.
    fn validate_limits(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if s.workers > MAX_WORKERS {
            return invalid(format!("server.workers: at most {MAX_WORKERS}, not {}", s.workers));
        }
        if s.max_header_bytes < 8192 {
            return invalid(format!("server.max_header_bytes: must be at least 8192, not {}", s.max_header_bytes));
        }
        for (key, value) in [
            ("max_headers", s.max_headers as u64),
            ("max_in_flight", s.max_in_flight as u64),
            ("header_read_timeout_secs", s.header_read_timeout_secs),
        ] {
            if value == 0 {
                return invalid(format!("server.{key}: must be at least 1"));
            }
        }
        let l = &self.limits;
        for (key, value) in [
            ("max_ids_per_request", l.max_ids_per_request),
            ("max_upstream_calls", l.max_upstream_calls),
            ("max_reply_images", l.max_reply_images),
            ("max_fields_per_record", l.max_fields_per_record),
            ("max_depth", l.max_depth),
            ("max_field_bytes", l.max_field_bytes),
        ] {
            if value == 0 {
                return invalid(format!("limits.{key}: must be at least 1"));
            }
        }
        if self.catalog.max_images == 0 || self.catalog.max_image_bytes < 4096 {
            return invalid("catalog.max_images: must be at least 1, catalog.max_image_bytes at least 4096".into());
        }
        let r = &self.rate_limit;
        if r.max_addresses == 0 {
            return invalid("rate_limit.max_addresses: must be at least 1".into());
        }
        for (key, quota) in [
            ("global", r.global),
            ("client", r.client),
            ("reads", r.reads),
            ("writes", r.writes),
            ("tokens", r.tokens),
            ("address", r.address),
        ] {
            if quota.requests > 0 && (quota.per_secs == 0 || quota.burst == Some(0)) {
                return invalid(format!("rate_limit.{key}: per_secs and burst must be at least 1"));
            }
        }
        if let Some(store) = &r.store {
            // the URL may carry a password: not repeated
            if !store.starts_with("redis://") || url::Url::parse(store).is_err() {
                return invalid("rate_limit.store: must be a redis://HOST:PORT URL".into());
            }
        }
        if r.store_timeout_ms == 0 || r.store_timeout_ms > 10_000 {
            return invalid("rate_limit.store_timeout_ms: must be from 1 to 10000".into());
        }
        self.token_keys()?;
        Ok(())
    }
}

fn invalid<T>(msg: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid(msg))
}

/// A secret given in the file, named by an environment variable, or kept in
/// a file of its own; the variable wins, then the file, then the value.
fn resolve_secret(
    key: &'static str,
    value: &Option<String>,
    env: &Option<String>,
    file: &Option<std::path::PathBuf>,
) -> Result<Option<String>, SettingsError> {
    if let Some(var) = env {
        match std::env::var(var) {
            Ok(v) => return Ok(Some(v)),
            Err(_) if value.is_some() || file.is_some() => {}
            Err(_) => return Err(SettingsError::UnsetVariable { key, var: var.clone() }),
        }
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::SecretFile {
            key,
            path: path.clone(),
            source,
        })?;
        return Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()));
    }
    Ok(value.clone())
}

impl ClientConfig {
    /// The client, its secrets resolved.
    pub fn client(&self) -> Result<Client, SettingsError> {
        let password = match (
            &self.password_hash,
            resolve_secret("password", &self.password, &self.password_env, &self.password_file)?,
        ) {
            (Some(_), Some(_)) => return Err(SettingsError::PasswordTwice),
            (Some(hash), None) => {
                argon2::password_hash::PasswordHash::new(hash).map_err(SettingsError::PasswordHash)?;
                Some(Secret::Argon2(Hashed::new(hash.as_str())))
            }
            (None, plain) => plain.map(Secret::Plain),
        };
        if self.user.is_some() != password.is_some() {
            return Err(SettingsError::Pair("user and password"));
        }
        let gogrid_secret = resolve_secret("secret", &self.secret, &self.secret_env, &self.secret_file)?;
        if self.api_key.is_some() != gogrid_secret.is_some() {
            return Err(SettingsError::Pair("api_key and secret"));
        }
        if self.user.is_none() && self.api_key.is_none() {
            return Err(SettingsError::NoClientCredentials);
        }
        Ok(Client {
            name: self.name.clone(),
            user: self.user.clone(),
            password,
            domain: self.domain.to_ascii_lowercase(),
            api_key: self.api_key.clone(),
            gogrid_secret: gogrid_secret.map(Secret::Plain),
            read_only: self.read_only,
            tenant: Tenant {
                account: self.account.clone(),
                project: self.project.clone(),
                compute_resource: self.compute_resource.clone(),
                backend: self.backend.clone(),
                upstream_scope: self.upstream_scope.clone(),
            },
        })
    }
}

impl Config {
    /// The edges' identity: the declared clients, or the demo client.
    /// The keys of the gateway's tokens: the repository's, or one made now.
    fn token_keys(&self) -> Result<TokenKeys, ConfigError> {
        match &self.identity.token_keys {
            Some(dir) => {
                TokenKeys::from_repository(dir).map_err(|e| ConfigError::Invalid(format!("identity.token_keys: {e}")))
            }
            None => Ok(TokenKeys::ephemeral()),
        }
    }

    pub fn identity(&self) -> Result<Identity, ConfigError> {
        let demo = self.clients.is_empty();
        let clients = if demo {
            vec![Client::demo()]
        } else {
            self.clients
                .iter()
                .enumerate()
                .map(|(i, c)| c.client().map_err(|e| ConfigError::Invalid(format!("client[{i}] ({:?}): {e}", c.name))))
                .collect::<Result<_, _>>()?
        };
        let id = &self.identity;
        let tokens = Tokens::new(self.token_keys()?, Duration::from_secs(id.token_lifetime_secs));
        Ok(Identity::new(clients, Duration::from_secs(id.gogrid_window_secs), tokens, demo))
    }
}

impl UpstreamConfig {
    /// The upstream's credentials, secrets resolved from the environment.
    pub fn credentials(&self) -> Result<Credentials, SettingsError> {
        let c = &self.credentials;
        let secret = |value: &Option<String>, env: &Option<String>, key| resolve_secret(key, value, env, &None);
        let password = secret(&c.password, &c.password_env, "password")?;
        let token = secret(&c.token, &c.token_env, "token")?;
        let api_secret = secret(&c.secret, &c.secret_env, "secret")?;
        let given =
            GivenCredentials { user: c.user.clone(), password, token, api_key: c.api_key.clone(), secret: api_secret };
        self.dialect
            .profile()
            .upstream_credentials(given)
            .map_err(|what| SettingsError::UpstreamCredentials { dialect: self.dialect, what })
    }

    /// The upstream client's TLS files.
    pub fn tls(&self) -> UpstreamTlsConfig {
        UpstreamTlsConfig {
            ca: self.ca.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        }
    }

    /// The upstream client's settings. The TLS files were checked when the
    /// configuration loaded; should they no longer load, the client trusts
    /// the webpki roots alone and presents no certificate.
    pub fn client_settings(&self) -> ClientSettings {
        let tls = crate::tls::client_config(&self.tls())
            .map_err(|e| tracing::error!(upstream = %self.name, error = %e, "upstream TLS files do not load"))
            .ok()
            .map(Arc::new);
        ClientSettings {
            tls,
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            request_timeout: Duration::from_secs(self.timeout_secs),
            max_body: self.max_reply_bytes,
            retry_budget: RetryBudgetSettings {
                percent: self.retry_budget_percent,
                min_per_sec: self.retry_budget_min_per_sec,
            },
            request_id_headers: self.dialect.profile().upstream_request_id_headers(),
            name: self.name.as_str().into(),
            ..ClientSettings::default()
        }
    }

    /// The Keystone session an OpenStack upstream authenticates with, if any.
    pub fn keystone(&self) -> Result<Option<KeystoneSettings>, SettingsError> {
        let c = &self.credentials;
        let Some(auth_url) = &c.auth_url else { return Ok(None) };
        if !self.dialect.profile().keystone_upstream() {
            return Err(SettingsError::AuthUrlWithoutKeystone);
        }
        let named = |id: &Option<String>, name: &Option<String>| match (id, name) {
            (Some(id), _) => Some(NameOrId::Id(id.clone())),
            (None, Some(name)) => Some(NameOrId::Name(name.clone())),
            (None, None) => None,
        };
        let app_secret = resolve_secret(
            "application_credential_secret",
            &c.application_credential_secret,
            &c.application_credential_secret_env,
            &None,
        )?;
        let method = match (&c.application_credential_id, app_secret) {
            (Some(id), Some(secret)) => KeystoneAuth::ApplicationCredential { id: id.clone(), secret },
            (Some(_), None) | (None, Some(_)) => {
                return Err(SettingsError::Pair("application_credential_id and application_credential_secret"));
            }
            (None, None) => {
                let project = named(&c.project_id, &c.project_name).ok_or(SettingsError::NoProject)?;
                let project_domain =
                    named(&c.project_domain_id, &c.project_domain_name).or(Some(NameOrId::Id("default".into())));
                let password = resolve_secret("password", &c.password, &c.password_env, &None)?;
                let token = resolve_secret("token", &c.token, &c.token_env, &None)?;
                match (password, token) {
                    (Some(password), _) => KeystoneAuth::Password {
                        user: named(&c.user_id, &c.user).ok_or(SettingsError::NoUser)?,
                        user_domain: named(&c.user_domain_id, &c.user_domain_name)
                            .or(Some(NameOrId::Id("default".into()))),
                        password,
                        project,
                        project_domain,
                    },
                    (None, Some(token)) => KeystoneAuth::Token { token, project, project_domain },
                    (None, None) => {
                        return Err(SettingsError::NoKeystoneCredentials);
                    }
                }
            }
        };
        let mut settings = KeystoneSettings::new(auth_url.clone(), method);
        if let Some(interface) = &c.interface {
            settings.interface.clone_from(interface);
        }
        settings.region.clone_from(&c.region);
        settings.validate()?;
        Ok(Some(settings))
    }

    pub fn settings(&self) -> Result<UpstreamSettings, SettingsError> {
        let keystone = self.keystone()?;
        if self.url.is_empty() && keystone.is_none() {
            return Err(if self.dialect.profile().keystone_upstream() {
                SettingsError::NoUrlNorAuthUrl
            } else {
                SettingsError::NoUrl
            });
        }
        Ok(UpstreamSettings {
            dialect: self.dialect,
            base: self.url.trim_end_matches('/').to_owned(),
            scope: self.scope.clone(),
            credentials: if keystone.is_some() { Credentials::None } else { self.credentials()? },
            keystone,
            format: self.format,
            walk_limit: self.walk_limit,
            fanout: self.fanout,
            max_calls: LimitsConfig::default().max_upstream_calls,
            reply: LimitsConfig::default().reply_bounds(),
        })
    }

    /// An upstream with every optional key at its default.
    pub fn new(name: &str, dialect: Dialect, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            dialect,
            url: url.to_owned(),
            scope: String::new(),
            format: Format::Json,
            credentials: CredentialsConfig::default(),
            connect_timeout_secs: default_connect_timeout(),
            timeout_secs: default_upstream_timeout(),
            walk_limit: default_walk_limit(),
            fanout: default_fanout(),
            max_reply_bytes: default_max_reply(),
            retry_budget_percent: default_retry_percent(),
            retry_budget_min_per_sec: default_retry_min(),
            ca: None,
            client_cert: None,
            client_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_store_must_be_a_redis_url_and_its_timeout_bounded() {
        let ok = Config::parse("[rate_limit]\nstore = \"redis://127.0.0.1:6379\"\nstore_timeout_ms = 20").unwrap();
        assert_eq!(ok.rate_limit.store.as_deref(), Some("redis://127.0.0.1:6379"));
        let err = Config::parse("[rate_limit]\nstore = \"http://user:hunter2@cache:6379\"").unwrap_err().to_string();
        assert!(err.contains("rate_limit.store") && !err.contains("hunter2"), "{err}");
        let err = Config::parse("[rate_limit]\nstore_timeout_ms = 0").unwrap_err().to_string();
        assert!(err.contains("store_timeout_ms"), "{err}");
    }

    #[test]
    fn empty_file_serves_the_memory_catalog_on_loopback() {
        let config = Config::parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.server.default_backend, "memory");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_place() {
        let err = Config::parse("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `lisen`"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn routes_must_name_a_known_backend() {
        let err = Config::parse("[[route]]\nedge = \"hostway\"\nbackend = \"nova\"\n").unwrap_err().to_string();
        assert_eq!(err, "route[0].backend: no upstream named \"nova\"");
    }

    #[test]
    fn a_fallback_must_name_another_known_backend() {
        let route = "[[route]]\nedge = \"hostway\"\nbackend = \"memory\"\n";
        let err = Config::parse(&format!("{route}fallback = \"old\"\n")).unwrap_err().to_string();
        assert_eq!(err, "route[0].fallback: no upstream named \"old\"");
        let err = Config::parse(&format!("{route}fallback = \"memory\"\n")).unwrap_err().to_string();
        assert_eq!(err, "route[0].fallback: must not be the route's backend");
        let err = Config::parse(&format!("{route}mirror = \"old\"\n")).unwrap_err().to_string();
        assert_eq!(err, "route[0].mirror: no upstream named \"old\"");
        let err = Config::parse(&format!("{route}mirror = \"memory\"\n")).unwrap_err().to_string();
        assert_eq!(err, "route[0].mirror: must not be the route's backend");
    }

    #[test]
    fn a_mirror_sample_is_a_share_of_a_mirrored_route() {
        let route = "[[route]]\nedge = \"hostway\"\nbackend = \"memory\"\n";
        let err = Config::parse(&format!("{route}mirror_sample = 0.5\n")).unwrap_err().to_string();
        assert_eq!(err, "route[0].mirror_sample: the route has no mirror");
        let mirrored = format!(
            "[[upstream]]\nname = \"new\"\ndialect = \"hostway\"\nurl = \"http://127.0.0.1:1\"\n\
             [upstream.credentials]\nuser = \"u\"\npassword = \"p\"\n{route}mirror = \"new\"\n"
        );
        let err = Config::parse(&format!("{mirrored}mirror_sample = 1.5\n")).unwrap_err().to_string();
        assert_eq!(err, "route[0].mirror_sample: must be from 0 to 1, not 1.5");
        let config = Config::parse(&format!("{mirrored}mirror_sample = 0.25\n[mirror]\nsample = 0\n")).unwrap();
        assert_eq!((config.routes[0].mirror_sample, config.mirror.sample), (Some(0.25), 0.0));
        let err = Config::parse("[mirror]\nsample = -0.1\n").unwrap_err().to_string();
        assert_eq!(err, "mirror.sample: must be from 0 to 1, not -0.1");
        let err = Config::parse("[mirror]\nsample = nan\n").unwrap_err().to_string();
        assert_eq!(err, "mirror.sample: must be from 0 to 1, not NaN");
    }

    #[test]
    fn basic_upstreams_without_credentials_are_refused() {
        for dialect in ["hostway", "foreman"] {
            let text = format!("[[upstream]]\nname = \"u\"\ndialect = \"{dialect}\"\nurl = \"http://127.0.0.1:9\"\n");
            let err = Config::parse(&text).unwrap_err().to_string();
            assert_eq!(err, format!("upstream[0] (\"u\"): a {dialect} upstream needs both user and password"));
        }
    }

    #[test]
    fn credentials_must_fit_the_dialect() {
        let text = "[[upstream]]\nname = \"gg\"\ndialect = \"gogrid\"\nurl = \"http://127.0.0.1:9\"\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert_eq!(err, "upstream[0] (\"gg\"): a gogrid upstream needs api_key and secret");
    }

    #[test]
    fn quotas_read_inline_and_refuse_what_would_stop_everything() {
        let config = Config::parse("[rate_limit]\nclient = { requests = 10, burst = 30 }\n").unwrap();
        assert_eq!(config.rate_limit.client, QuotaConfig { requests: 10, per_secs: 1, burst: Some(30) });
        assert!(config.rate_limit.client.quota().is_some());
        assert!(config.rate_limit.global.quota().is_none(), "off unless asked for");
        let err = Config::parse("[rate_limit]\nreads = { requests = 1, burst = 0 }\n").unwrap_err().to_string();
        assert_eq!(err, "rate_limit.reads: per_secs and burst must be at least 1");
        let err = Config::parse("[rate_limit]\nreads = { requests = 1, every = 2 }\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `every`"), "{err}");
        let err = Config::parse("[server]\nmax_header_bytes = 100\n").unwrap_err().to_string();
        assert!(err.contains("server.max_header_bytes: must be at least 8192"), "{err}");
        let err = Config::parse("[server]\nmax_in_flight = 0\n").unwrap_err().to_string();
        assert_eq!(err, "server.max_in_flight: must be at least 1");
        let err = Config::parse("[server]\nworkers = 5000\n").unwrap_err().to_string();
        assert_eq!(err, "server.workers: at most 1024, not 5000");
    }

    #[test]
    fn https_upstreams_are_accepted_and_other_schemes_refused() {
        let token = "[upstream.credentials]\ntoken = \"t\"\n";
        let text =
            format!("[[upstream]]\nname = \"os\"\ndialect = \"openstack\"\nurl = \"https://nova:8774\"\n{token}");
        Config::parse(&text).unwrap();
        let text = format!("[[upstream]]\nname = \"os\"\ndialect = \"openstack\"\nurl = \"ftp://nova:8774\"\n{token}");
        let err = Config::parse(&text).unwrap_err().to_string();
        assert!(err.contains("only http:// and https:// upstreams"), "{err}");
        let text = "[[upstream]]\nname = \"os\"\ndialect = \"openstack\"\nurl = \"https://nova:8774\"\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert_eq!(
            err,
            "upstream[0] (\"os\"): an openstack upstream needs a token, or auth_url and keystone credentials"
        );
    }

    #[test]
    fn tls_files_that_do_not_load_are_refused_with_their_key() {
        let text = "[server.tls]\ncert = \"/nonexistent/cert.pem\"\nkey = \"/nonexistent/key.pem\"\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(err.starts_with("server.tls: /nonexistent/cert.pem"), "{err}");
        let text = "[[upstream]]\nname = \"h\"\ndialect = \"hostway\"\nurl = \"https://h\"\nclient_cert = \"/x.pem\"\n\
                    [upstream.credentials]\nuser = \"u\"\npassword = \"p\"\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(err.contains("client_cert and client_key go together"), "{err}");
    }

    #[test]
    fn the_admin_listener_is_never_the_edge_s_and_the_log_filter_must_parse() {
        let err = Config::parse("[server]\nlisten = \"127.0.0.1:9000\"\n[admin]\nlisten = \"127.0.0.1:9000\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "admin.listen 127.0.0.1:9000: the admin listener cannot share the edge's address");
        let config = Config::parse("[admin]\nlisten = \"127.0.0.1:9000\"\n[log]\nformat = \"json\"\n").unwrap();
        assert_eq!((config.admin.listen.port(), config.log.format), (9000, LogFormat::Json));
        let err = Config::parse("[log]\nfilter = \"dragoman=loud\"\n").unwrap_err().to_string();
        assert!(err.starts_with("log.filter \"dragoman=loud\": "), "{err}");
        let err = Config::parse("[log]\nformat = \"xml\"\n").unwrap_err().to_string();
        assert!(err.contains("unknown variant `xml`"), "{err}");
    }
}
