//! The command line: run from the embedded catalog, from a config file, or
//! in front of one upstream given on the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, LogFormat, UpstreamConfig};
use crate::dialect::Dialect;
use crate::environment::{self, Environment};

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
    /// Address of the admin listener: /metrics, /livez, /readyz, /mirror (overrides the file's admin.listen).
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
    /// Try it out: serve the embedded catalog on 0.0.0.0:8080 (or --listen)
    /// to the demo client from any address, as in a container.
    #[arg(long, conflicts_with_all = ["config", "upstream"])]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a configuration file and say exactly what is wrong and where.
    CheckConfig { file: PathBuf },
    /// Translate offline: an upstream reply of dialect FROM (on stdin) into
    /// what the edge of dialect TO answers; with --request, an edge request
    /// of dialect FROM (body on stdin) into the request an upstream of
    /// dialect TO is sent.
    Translate(TranslateArgs),
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

#[derive(Debug, clap::Args)]
pub struct TranslateArgs {
    #[arg(long, value_parser = dialect)]
    pub from: Dialect,
    #[arg(long, value_parser = dialect)]
    pub to: Dialect,
    /// What the upstream reply answers.
    #[arg(long = "as", value_enum, default_value = "show", conflicts_with = "request")]
    pub kind: crate::translate::ReplyKind,
    /// The upstream reply's status (default 200; 404 with --as error).
    #[arg(long, conflicts_with = "request")]
    pub status: Option<u16>,
    /// The GoGrid edge's reply format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: FormatArg,
    /// Translate an edge request instead of an upstream reply.
    #[arg(long, requires = "path")]
    pub request: bool,
    /// The edge request's method.
    #[arg(long, default_value = "GET", requires = "request")]
    pub method: String,
    /// The edge request's path and query, e.g. `/v2/demo/images/detail`.
    #[arg(long, requires = "request")]
    pub path: Option<String>,
    /// The account, project or compute resource upstream.
    #[arg(long = "upstream-scope", default_value = "demo", requires = "request")]
    pub upstream_scope: String,
}

/// A reply format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Json,
    Xml,
    Csv,
}

impl From<FormatArg> for crate::dialect::Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Json => Self::Json,
            FormatArg::Xml => Self::Xml,
            FormatArg::Csv => Self::Csv,
        }
    }
}

fn dialect(name: &str) -> Result<Dialect, String> {
    Dialect::from_name(name).ok_or_else(|| format!("one of {}", Dialect::names()))
}

impl TranslateArgs {
    /// Translates `input`; the text to print, and whether it succeeded.
    pub fn run(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        use crate::translate;
        if self.request {
            let method = http::Method::from_bytes(self.method.as_bytes()).map_err(|e| format!("--method: {e}"))?;
            let path = self.path.as_deref().unwrap_or_default();
            let body = bytes::Bytes::copy_from_slice(input);
            return Ok(match translate::request(self.from, self.to, method, path, body, &self.upstream_scope) {
                Ok(request) => translate::print_request(&request),
                Err(reply) => translate::print_reply(&reply),
            });
        }
        let default = if self.kind == translate::ReplyKind::Error { 404 } else { 200 };
        let status =
            http::StatusCode::from_u16(self.status.unwrap_or(default)).map_err(|e| format!("--status: {e}"))?;
        let reply = translate::reply(self.from, self.to, self.kind, status, self.format.into(), input);
        Ok(translate::print_reply(&reply))
    }
}

impl Cli {
    /// The configuration this command line asks for.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        if self.demo {
            config.server.listen = SocketAddr::from(([0, 0, 0, 0], 8080));
            config.demo_anywhere = true;
        }
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
        self.upstream_from(spec, &Environment::current())
    }

    /// The `--upstream DIALECT=URL` upstream, with what `env` says of it;
    /// refused, with the variables to set, when it could not work.
    pub fn upstream_from(&self, spec: &str, env: &Environment) -> Result<UpstreamConfig, ConfigError> {
        let bad = |why: &str| ConfigError::Invalid(format!("--upstream {spec:?}: {why}"));
        let (name, url) = spec.split_once('=').ok_or_else(|| bad("expected DIALECT=URL"))?;
        let dialect =
            Dialect::from_name(name).ok_or_else(|| bad(&format!("dialect must be one of {}", Dialect::names())))?;
        let from_env = environment::upstream(dialect, env).map_err(|e| bad(&e.to_string()))?;
        let url = if url.is_empty() { from_env.url.unwrap_or_default() } else { url.to_owned() };
        let mut up = UpstreamConfig::new(dialect.name(), dialect, &url);
        up.scope = self.scope.clone().or(from_env.scope).unwrap_or_default();
        up.credentials = from_env.credentials;
        up.ca = self.upstream_ca.clone().or(from_env.ca);
        up.client_cert = from_env.client_cert;
        up.client_key = from_env.client_key;
        up.settings().map_err(|e| {
            bad(&format!("{e} (from the {}); set {}", from_env.source, environment::variables(dialect)))
        })?;
        Ok(up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            cwd: "/nonexistent".into(),
            user_config: None,
            system_config: "/nonexistent".into(),
        }
    }

    #[test]
    fn an_upstream_ca_is_loaded_with_the_configuration() {
        let basic = env(&[
            ("HOSTWAY_USERNAME", "u"),
            ("HOSTWAY_PASSWORD", "p"),
            ("FOREMAN_USERNAME", "u"),
            ("FOREMAN_PASSWORD", "p"),
        ]);
        let cli =
            Cli::parse_from(["dragoman", "--upstream-ca", "/nonexistent/ca.pem", "--upstream", "hostway=https://h"]);
        let mut config = Config::default();
        config.upstreams.push(cli.upstream_from("hostway=https://h", &basic).unwrap());
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        assert!(Cli::try_parse_from(["dragoman", "--upstream-ca", "/ca.pem"]).is_err(), "only with --upstream");

        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().self_signed(&key).unwrap();
        let path = std::env::temp_dir().join(format!("dragoman-cli-ca-{}.pem", std::process::id()));
        std::fs::write(&path, ca.pem()).unwrap();
        let cli =
            Cli::parse_from(["dragoman", "--upstream", "foreman=https://f", "--upstream-ca", path.to_str().unwrap()]);
        let up = cli.upstream_from("foreman=https://f", &basic).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(up.ca.as_deref(), Some(path.as_path()));
    }

    #[test]
    fn every_dialect_without_credentials_is_refused_with_the_variables_to_set() {
        let cli = Cli::parse_from(["dragoman"]);
        for (spec, expected) in [
            (
                "hostway=http://h",
                "a hostway upstream needs both user and password (from the environment); set HOSTWAY_USERNAME and HOSTWAY_PASSWORD",
            ),
            (
                "foreman=http://f",
                "a foreman upstream needs both user and password (from the environment); set FOREMAN_USERNAME and FOREMAN_PASSWORD",
            ),
            (
                "gogrid=http://g",
                "a gogrid upstream needs api_key and secret (from the environment); set GOGRID_API_KEY and GOGRID_SHARED_SECRET",
            ),
            (
                "openstack=http://n",
                "an openstack upstream needs a token, or auth_url and keystone credentials (from the environment); set OS_CLOUD",
            ),
        ] {
            let err = cli.upstream_from(spec, &env(&[])).unwrap_err().to_string();
            assert!(err.contains(expected), "{spec}: {err}");
        }
    }

    #[test]
    fn os_auth_type_token_exchanges_the_token_at_keystone() {
        use crate::backend::KeystoneAuth;
        use crate::backend::keystone::NameOrId;
        let cli = Cli::parse_from(["dragoman"]);
        let vars = env(&[
            ("OS_AUTH_TYPE", "v3token"),
            ("OS_AUTH_URL", "http://keystone:5000/v3"),
            ("OS_TOKEN", "t0k"),
            ("OS_PROJECT_ID", "p1"),
            ("OS_USERNAME", "not-for-a-token"),
        ]);
        let up = cli.upstream_from("openstack=", &vars).unwrap();
        let method = up.keystone().unwrap().unwrap().method;
        let KeystoneAuth::Token { token, project: NameOrId::Id(project), .. } = method else { panic!("{method:?}") };
        assert_eq!((token.as_str(), project.as_str()), ("t0k", "p1"));
    }

    #[test]
    fn foreman_server_url_gives_the_url_the_command_line_leaves_empty() {
        let cli = Cli::parse_from(["dragoman"]);
        let vars = env(&[
            ("FOREMAN_SERVER_URL", "https://foreman.example"),
            ("FOREMAN_USERNAME", "admin"),
            ("FOREMAN_PASSWORD", "changeme"),
            ("FOREMAN_COMPUTE_RESOURCE", "3"),
        ]);
        let up = cli.upstream_from("foreman=", &vars).unwrap();
        assert_eq!((up.url.as_str(), up.scope.as_str()), ("https://foreman.example", "3"));
        let up = cli.upstream_from("foreman=http://other", &vars).unwrap();
        assert_eq!(up.url, "http://other", "the command line wins");
    }
}
