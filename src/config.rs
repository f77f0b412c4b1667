//! The gateway's configuration: one TOML file, typed, unknown keys refused.
//! `config/dragoman.example.toml` documents every key.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::backend::{ClientSettings, UpstreamSettings};
use crate::dialect::{Credentials, Dialect, Format};

/// The name routes use for the embedded catalog.
pub const MEMORY: &str = "memory";

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub catalog: CatalogConfig,
    #[serde(default, rename = "upstream")]
    pub upstreams: Vec<UpstreamConfig>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the edge listens on.
    pub listen: SocketAddr,
    /// Longest time one request may take, upstream calls included, in seconds.
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Backend of requests no route names.
    pub default_backend: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout_secs: 60,
            max_body_bytes: 1024 * 1024,
            default_backend: MEMORY.to_owned(),
        }
    }
}

/// The embedded catalog.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// A redb file that keeps the catalog across restarts; in memory only when absent.
    pub path: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The name routes refer to.
    pub name: String,
    pub dialect: Dialect,
    /// Root URL of the upstream server (`http://nova.internal:8774`).
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
}

/// Sends the requests of one edge dialect (and, optionally, one tenant the
/// path names) to a backend.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub edge: Dialect,
    /// Account, project or compute resource in the edge path; any when absent.
    pub scope: Option<String>,
    /// An upstream's name, or `memory`.
    pub backend: String,
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
            let url = url::Url::parse(&up.url).map_err(|e| ConfigError::Invalid(format!("{at}: url: {e}")))?;
            if url.scheme() != "http" {
                return invalid(format!("{at}: url: only http:// upstreams are supported, not {}://", url.scheme()));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return invalid(format!("{at}: url: must not carry a query or fragment"));
            }
            if up.walk_limit == 0 || up.fanout == 0 {
                return invalid(format!("{at}: walk_limit and fanout must be at least 1"));
            }
            up.credentials().map_err(|e| ConfigError::Invalid(format!("{at}: credentials: {e}")))?;
        }
        let known = |name: &str| name == MEMORY || names.contains(name);
        if !known(&self.server.default_backend) {
            return invalid(format!("server.default_backend: no upstream named {:?}", self.server.default_backend));
        }
        for (i, route) in self.routes.iter().enumerate() {
            if !known(&route.backend) {
                return invalid(format!("route[{i}].backend: no upstream named {:?}", route.backend));
            }
        }
        Ok(())
    }
}

fn invalid<T>(msg: String) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid(msg))
}

impl UpstreamConfig {
    /// The upstream's credentials, secrets resolved from the environment.
    pub fn credentials(&self) -> Result<Credentials, String> {
        let c = &self.credentials;
        let secret = |value: &Option<String>, env: &Option<String>, key: &str| -> Result<Option<String>, String> {
            match env {
                Some(var) => match std::env::var(var) {
                    Ok(v) => Ok(Some(v)),
                    Err(_) if value.is_some() => Ok(value.clone()),
                    Err(_) => Err(format!("{key}_env names {var}, which is not set")),
                },
                None => Ok(value.clone()),
            }
        };
        let password = secret(&c.password, &c.password_env, "password")?;
        let token = secret(&c.token, &c.token_env, "token")?;
        let api_secret = secret(&c.secret, &c.secret_env, "secret")?;
        let need = |what: &str| format!("a {} upstream needs {what}", self.dialect);
        match self.dialect {
            Dialect::Hostway | Dialect::Foreman => match (&c.user, password) {
                (Some(user), Some(password)) => Ok(Credentials::Basic { user: user.clone(), password }),
                (None, None) => Ok(Credentials::None),
                _ => Err(need("both user and password")),
            },
            Dialect::OpenStack => Ok(token.map_or(Credentials::None, Credentials::Token)),
            Dialect::GoGrid => match (&c.api_key, api_secret) {
                (Some(api_key), Some(secret)) => Ok(Credentials::GoGrid { api_key: api_key.clone(), secret }),
                _ => Err(need("api_key and secret")),
            },
        }
    }

    pub fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            request_timeout: Duration::from_secs(self.timeout_secs),
            max_body: self.max_reply_bytes,
            ..ClientSettings::default()
        }
    }

    pub fn settings(&self) -> Result<UpstreamSettings, String> {
        Ok(UpstreamSettings {
            dialect: self.dialect,
            base: self.url.trim_end_matches('/').to_owned(),
            scope: self.scope.clone(),
            credentials: self.credentials()?,
            format: self.format,
            walk_limit: self.walk_limit,
            fanout: self.fanout,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn credentials_must_fit_the_dialect() {
        let text = "[[upstream]]\nname = \"gg\"\ndialect = \"gogrid\"\nurl = \"http://127.0.0.1:9\"\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert_eq!(err, "upstream[0] (\"gg\"): credentials: a gogrid upstream needs api_key and secret");
    }

    #[test]
    fn https_upstreams_are_refused_until_tls_is_configured() {
        let text = "[[upstream]]\nname = \"os\"\ndialect = \"openstack\"\nurl = \"https://nova:8774\"\n";
        let err = Config::parse(text).unwrap_err().to_string();
        assert!(err.contains("only http:// upstreams"), "{err}");
    }
}
