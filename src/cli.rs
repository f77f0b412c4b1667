//! The command line: run from the embedded catalog, from a config file, or
//! in front of one upstream given on the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, CredentialsConfig, LogFormat, UpstreamConfig};
use crate::dialect::Dialect;

#[derive(Debug, Parser)]
#[command(name = "dragoman", version = VERSION, about = "A reverse proxy that translates between cloud image APIs")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Run from this TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (overrides the file's server.listen).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Address of the admin listener: /metrics, /livez, /readyz (overrides the file's admin.listen).
    #[arg(long, value_name = "ADDR", env = "DRAGOMAN_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// How log lines are written (overrides the file's log.format).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Threads serving requests (overrides the file's server.workers; 0: one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Send every edge to this upstream, e.g. `openstack=http://nova:8774`.
    /// Credentials and scope come from the dialect's environment variables
    /// (see `docs/CONFIGURATION.md`).
    #[arg(long, value_name = "DIALECT=URL")]
    pub upstream: Option<String>,
    /// Account, project or compute resource upstream (overrides the environment).
    #[arg(long, value_name = "SCOPE", requires = "upstream")]
    pub scope: Option<String>,
    /// PEM bundle of CAs an `https://` upstream's certificate may chain to,
    /// besides the public roots (for OpenStack, `OS_CACERT` when absent).
    #[arg(long, value_name = "FILE", requires = "upstream")]
    pub upstream_ca: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a configuration file and say exactly what is wrong and where.
    CheckConfig { file: PathBuf },
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Manage the key repository of the gateway's Keystone tokens (`[identity] token_keys`).
    #[command(subcommand)]
    TokenKeys(TokenKeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenKeysCommand {
    /// Promote the staged key to primary, stage a new one, drop the oldest
    /// past the maximum; creates the repository when it is empty. Then copy
    /// the directory to every replica.
    Rotate {
        dir: PathBuf,
        /// Keys kept, the staged key and the primary included: token
        /// lifetime / rotation interval + 2.
        #[arg(long, value_name = "N", default_value_t = crate::identity::keys::DEFAULT_MAX_ACTIVE_KEYS)]
        max_active_keys: usize,
    },
}

/// The version and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("DRAGOMAN_COMMIT"), ")");

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "dragoman", out);
}

/// The environment a one-line upstream takes its credentials and scope
/// from: the ecosystem's own names where it has them (`OS_*` for OpenStack).
fn credentials_from_env(dialect: Dialect) -> (CredentialsConfig, Option<String>) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let none = CredentialsConfig::default();
    match dialect {
        Dialect::OpenStack => (
            CredentialsConfig {
                token: var("OS_TOKEN"),
                auth_url: var("OS_AUTH_URL"),
                user: var("OS_USERNAME"),
                password: var("OS_PASSWORD"),
                user_domain_name: var("OS_USER_DOMAIN_NAME"),
                user_domain_id: var("OS_USER_DOMAIN_ID"),
                project_name: var("OS_PROJECT_NAME"),
                project_id: var("OS_PROJECT_ID"),
                project_domain_name: var("OS_PROJECT_DOMAIN_NAME"),
                project_domain_id: var("OS_PROJECT_DOMAIN_ID"),
                application_credential_id: var("OS_APPLICATION_CREDENTIAL_ID"),
                application_credential_secret: var("OS_APPLICATION_CREDENTIAL_SECRET"),
                interface: var("OS_INTERFACE"),
                region: var("OS_REGION_NAME"),
                ..none
            },
            // with Keystone the catalog's endpoint names the project
            var("OS_PROJECT_ID").filter(|_| var("OS_AUTH_URL").is_none()),
        ),
        Dialect::Hostway => (
            CredentialsConfig { user: var("HOSTWAY_USERNAME"), password: var("HOSTWAY_PASSWORD"), ..none },
            var("HOSTWAY_ACCOUNT"),
        ),
        Dialect::GoGrid => {
            (CredentialsConfig { api_key: var("GOGRID_API_KEY"), secret: var("GOGRID_SHARED_SECRET"), ..none }, None)
        }
        Dialect::Foreman => (
            CredentialsConfig { user: var("FOREMAN_USERNAME"), password: var("FOREMAN_PASSWORD"), ..none },
            var("FOREMAN_COMPUTE_RESOURCE"),
        ),
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
        if let Some(workers) = self.workers {
            config.server.workers = workers;
        }
        if let Some(admin) = self.admin_listen {
            config.admin.listen = admin;
        }
        if let Some(format) = self.log_format {
            config.log.format = format;
        }
        config.validate()?;
        Ok(config)
    }

    fn one_line_upstream(&self, spec: &str) -> Result<UpstreamConfig, ConfigError> {
        let bad = |why: &str| ConfigError::Invalid(format!("--upstream {spec:?}: {why}"));
        let (name, url) = spec.split_once('=').ok_or_else(|| bad("expected DIALECT=URL"))?;
        let dialect =
            Dialect::from_name(name).ok_or_else(|| bad("dialect must be hostway, openstack, gogrid or foreman"))?;
        let (credentials, scope) = credentials_from_env(dialect);
        let mut up = UpstreamConfig::new(dialect.name(), dialect, url);
        up.scope = self.scope.clone().or(scope).unwrap_or_default();
        up.credentials = credentials;
        let os_cacert = || std::env::var_os("OS_CACERT").filter(|v| !v.is_empty()).map(PathBuf::from);
        up.ca = self.upstream_ca.clone().or_else(|| (dialect == Dialect::OpenStack).then(os_cacert).flatten());
        Ok(up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_ca_is_loaded_with_the_configuration() {
        let cli =
            Cli::parse_from(["dragoman", "--upstream", "hostway=https://h", "--upstream-ca", "/nonexistent/ca.pem"]);
        let err = cli.config().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        assert!(Cli::try_parse_from(["dragoman", "--upstream-ca", "/ca.pem"]).is_err(), "only with --upstream");

        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().self_signed(&key).unwrap();
        let path = std::env::temp_dir().join(format!("dragoman-cli-ca-{}.pem", std::process::id()));
        std::fs::write(&path, ca.pem()).unwrap();
        let cli =
            Cli::parse_from(["dragoman", "--upstream", "foreman=https://f", "--upstream-ca", path.to_str().unwrap()]);
        let config = cli.config().unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(config.upstreams[0].ca.as_deref(), Some(path.as_path()));
    }
}
