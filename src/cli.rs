//! The command line: run from the embedded catalog, from a config file, or
//! in front of one upstream given on the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, CredentialsConfig, UpstreamConfig};
use crate::dialect::Dialect;

#[derive(Debug, Parser)]
#[command(name = "dragoman", version, about = "A reverse proxy that translates between cloud image APIs")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Run from this TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (overrides the file's server.listen).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Send every edge to this upstream, e.g. `openstack=http://nova:8774`.
    /// Credentials and scope come from the dialect's environment variables
    /// (see `docs/CONFIGURATION.md`).
    #[arg(long, value_name = "DIALECT=URL")]
    pub upstream: Option<String>,
    /// Account, project or compute resource upstream (overrides the environment).
    #[arg(long, value_name = "SCOPE", requires = "upstream")]
    pub scope: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a configuration file and say exactly what is wrong and where.
    CheckConfig { file: PathBuf },
}

/// The environment variables a one-line upstream takes its credentials and
/// scope from: the ecosystem's own names where it has them.
pub struct UpstreamEnv {
    pub user: Option<&'static str>,
    pub password: Option<&'static str>,
    pub token: Option<&'static str>,
    pub api_key: Option<&'static str>,
    pub secret: Option<&'static str>,
    pub scope: &'static str,
}

pub fn upstream_env(dialect: Dialect) -> UpstreamEnv {
    let none = UpstreamEnv { user: None, password: None, token: None, api_key: None, secret: None, scope: "" };
    match dialect {
        Dialect::OpenStack => UpstreamEnv { token: Some("OS_TOKEN"), scope: "OS_PROJECT_ID", ..none },
        Dialect::Hostway => UpstreamEnv {
            user: Some("HOSTWAY_USERNAME"),
            password: Some("HOSTWAY_PASSWORD"),
            scope: "HOSTWAY_ACCOUNT",
            ..none
        },
        Dialect::GoGrid => {
            UpstreamEnv { api_key: Some("GOGRID_API_KEY"), secret: Some("GOGRID_SHARED_SECRET"), scope: "", ..none }
        }
        Dialect::Foreman => UpstreamEnv {
            user: Some("FOREMAN_USERNAME"),
            password: Some("FOREMAN_PASSWORD"),
            scope: "FOREMAN_COMPUTE_RESOURCE",
            ..none
        },
    }
}

impl Cli {
    /// The configuration this command line asks for.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        if let Some(spec) = &self.upstream {
            let up = self.one_line_upstream(spec)?;
            config.server.default_backend = up.name.clone();
            config.upstreams.retain(|u| u.name != up.name);
            config.upstreams.push(up);
        }
        if let Some(listen) = self.listen {
            config.server.listen = listen;
        }
        config.validate()?;
        Ok(config)
    }

    fn one_line_upstream(&self, spec: &str) -> Result<UpstreamConfig, ConfigError> {
        let bad = |why: &str| ConfigError::Invalid(format!("--upstream {spec:?}: {why}"));
        let (name, url) = spec.split_once('=').ok_or_else(|| bad("expected DIALECT=URL"))?;
        let dialect =
            Dialect::from_name(name).ok_or_else(|| bad("dialect must be hostway, openstack, gogrid or foreman"))?;
        let env = upstream_env(dialect);
        let var = |name: Option<&str>| name.and_then(|n| std::env::var(n).ok());
        let mut up = UpstreamConfig::new(dialect.name(), dialect, url);
        up.scope = self.scope.clone().or_else(|| var(Some(env.scope))).unwrap_or_default();
        up.credentials = CredentialsConfig {
            user: var(env.user),
            password: var(env.password),
            token: var(env.token),
            api_key: var(env.api_key),
            secret: var(env.secret),
            ..CredentialsConfig::default()
        };
        Ok(up)
    }
}
