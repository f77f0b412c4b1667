//! A one-line upstream's URL, scope and credentials, from the environment
//! conventions of each dialect's own tools: keystoneauth's `OS_*` variables
//! and openstacksdk's `OS_CLOUD` with `clouds.yaml`, Foreman's (hammer's and
//! Ansible's) `FOREMAN_*`, and Dragoman's `HOSTWAY_*` and `GOGRID_*`.
//! `docs/CONFIGURATION.md` has the table.

mod clouds;

use std::collections::HashMap;
use std::path::PathBuf;

pub use clouds::CloudRefusal;

use crate::config::CredentialsConfig;
use crate::dialect::Dialect;
use crate::dialect::profile::UpstreamVariables;

/// The process environment, or a made-up one: the variables, and where
/// openstacksdk looks for `clouds.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub vars: HashMap<String, String>,
    /// The current directory (`./clouds.yaml`).
    pub cwd: PathBuf,
    /// The user's configuration directory (`~/.config`, or `XDG_CONFIG_HOME`).
    pub user_config: Option<PathBuf>,
    /// The system's (`/etc`).
    pub system_config: PathBuf,
}

impl Environment {
    /// The process's own.
    pub fn current() -> Self {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let user_config = vars
            .get("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| vars.get("HOME").filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".config")));
        Self {
            cwd: std::env::current_dir().unwrap_or_default(),
            user_config,
            system_config: PathBuf::from("/etc"),
            vars,
        }
    }

    /// A variable's value; unset and empty are the same.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// What the environment says about one upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamEnv {
    /// The upstream's URL, when the environment names one (`FOREMAN_SERVER_URL`).
    pub url: Option<String>,
    pub scope: Option<String>,
    pub credentials: CredentialsConfig,
    /// HTTPS: a CA bundle, and a client certificate with its key.
    pub ca: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Where it came from, for the banner: `environment` or `cloud "x" of FILE`.
    pub source: String,
}

/// Why the environment describes no upstream.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: larger than {limit} bytes", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{}: {source}", path.display())]
    Parse { path: PathBuf, source: serde_norway::Error },
    #[error("OS_CLOUD is {name:?} but there is no clouds.yaml; looked for {looked}")]
    NoCloudsFile { name: String, looked: String },
    #[error("OS_CLOUD is {name:?} but {} has no cloud of that name", path.display())]
    NoSuchCloud { name: String, path: PathBuf },
    #[error("cloud {name:?} of {}: {refusal}", path.display())]
    Refused { name: String, path: PathBuf, refusal: CloudRefusal },
    #[error("OS_AUTH_TYPE / auth_type {0:?} is not supported; use one of {AUTH_TYPES}")]
    AuthType(String),
}

/// The variables to set for a `dialect` upstream, for refusals.
pub fn variables(dialect: Dialect) -> &'static str {
    dialect.profile().environment().hint()
}

/// The upstream of `dialect` the environment describes.
pub fn upstream(dialect: Dialect, env: &Environment) -> Result<UpstreamEnv, EnvironmentError> {
    let names = match dialect.profile().environment() {
        UpstreamVariables::Keystone { .. } => return openstack(env),
        UpstreamVariables::Named(names) => names,
    };
    let var = |name: Option<&str>| name.and_then(|name| env.var(name));
    Ok(UpstreamEnv {
        url: var(names.url),
        scope: var(names.scope),
        credentials: CredentialsConfig {
            user: var(names.user),
            password: var(names.password),
            api_key: var(names.api_key),
            secret: var(names.secret),
            ..CredentialsConfig::default()
        },
        source: "environment".into(),
        ..Default::default()
    })
}

/// keystoneauth's authentication types Dragoman carries out.
const AUTH_TYPES: &str = "password, v3password, token, v3token, v3applicationcredential";

/// The variables that choose a cloud without describing one (openstacksdk's
/// selectors).
const SELECTORS: [&str; 5] =
    ["OS_CLOUD", "OS_REGION_NAME", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD_NAME"];

/// The OpenStack upstream: `OS_CLOUD`'s entry in `clouds.yaml` when it is
/// set (as openstacksdk, the other `OS_*` variables are then not mixed in;
/// `OS_REGION_NAME` picks the region, as with the openstack CLI), else the
/// `OS_*` variables, else the only cloud of `clouds.yaml`.
fn openstack(env: &Environment) -> Result<UpstreamEnv, EnvironmentError> {
    let settings = match env.var("OS_CLOUD") {
        Some(cloud) => {
            let mut settings = clouds::cloud(env, &cloud)?;
            if let Some(region) = env.var("OS_REGION_NAME") {
                settings.insert("region_name".into(), region);
            }
            settings
        }
        None => {
            let mut settings: HashMap<String, String> = env
                .vars
                .iter()
                .filter(|(k, v)| k.starts_with("OS_") && !v.is_empty())
                .map(|(k, v)| (k["OS_".len()..].to_ascii_lowercase(), v.clone()))
                .collect();
            // as openstacksdk: variables that only select make no cloud of
            // their own, and a clouds.yaml of one cloud is then that cloud
            let only_selectors = env
                .vars
                .iter()
                .filter(|(k, v)| k.starts_with("OS_") && !v.is_empty())
                .all(|(k, _)| SELECTORS.contains(&k.as_str()));
            match only_selectors.then(|| clouds::only_cloud(env)).transpose()?.flatten() {
                Some(cloud) => cloud,
                None => {
                    settings.insert("source".into(), "environment".into());
                    settings
                }
            }
        }
    };
    openstack_settings(&settings)
}

/// The upstream from openstacksdk's flat keys (`auth_url`, `username`,
/// `region_name`, …: the `OS_*` names in lower case without the prefix).
fn openstack_settings(s: &HashMap<String, String>) -> Result<UpstreamEnv, EnvironmentError> {
    let get = |key: &str| s.get(key).filter(|v| !v.is_empty()).cloned();
    let auth_type = get("auth_type").unwrap_or_else(|| "password".into());
    let mut credentials = CredentialsConfig {
        auth_url: get("auth_url"),
        user: get("username"),
        user_id: get("user_id"),
        password: get("password"),
        user_domain_name: get("user_domain_name"),
        user_domain_id: get("user_domain_id").or_else(|| get("default_domain")),
        project_name: get("project_name").or_else(|| get("tenant_name")),
        project_id: get("project_id").or_else(|| get("tenant_id")),
        project_domain_name: get("project_domain_name"),
        project_domain_id: get("project_domain_id").or_else(|| get("default_domain")),
        interface: get("interface").or_else(|| get("endpoint_type")),
        region: get("region_name"),
        ..CredentialsConfig::default()
    };
    match auth_type.as_str() {
        "password" | "v3password" => {
            // without OS_AUTH_URL, OS_TOKEN is sent as it is
            if credentials.auth_url.is_none() {
                credentials.token = get("token");
            }
            // as before OS_AUTH_TYPE was read: an application credential alone
            credentials.application_credential_id = get("application_credential_id");
            credentials.application_credential_secret = get("application_credential_secret");
        }
        "token" | "v3token" => {
            credentials.token = get("token");
            credentials.user = None;
            credentials.user_id = None;
            credentials.password = None;
        }
        "v3applicationcredential" | "applicationcredential" => {
            credentials.application_credential_id = get("application_credential_id");
            credentials.application_credential_secret = get("application_credential_secret");
            credentials.user = None;
            credentials.user_id = None;
            credentials.password = None;
        }
        other => {
            return Err(EnvironmentError::AuthType(other.to_owned()));
        }
    }
    Ok(UpstreamEnv {
        url: None,
        // with Keystone the catalog's endpoint names the project
        scope: get("project_id").filter(|_| credentials.auth_url.is_none()),
        ca: get("cacert").map(PathBuf::from),
        client_cert: get("cert").map(PathBuf::from),
        client_key: get("key").map(PathBuf::from),
        source: get("source").unwrap_or_else(|| "environment".into()),
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            cwd: PathBuf::from("/nonexistent/cwd"),
            user_config: None,
            system_config: PathBuf::from("/nonexistent/etc"),
        }
    }

    #[test]
    fn os_variables_make_a_keystone_session() {
        let up = openstack(&env(&[
            ("OS_AUTH_URL", "http://k:5000/v3"),
            ("OS_USER_ID", "u1"),
            ("OS_PASSWORD", "p"),
            ("OS_PROJECT_NAME", "images"),
            ("OS_CERT", "/c.pem"),
            ("OS_KEY", "/k.pem"),
        ]))
        .unwrap();
        assert_eq!(up.credentials.user_id.as_deref(), Some("u1"));
        assert_eq!(up.credentials.project_name.as_deref(), Some("images"));
        assert_eq!((up.client_cert, up.client_key), (Some("/c.pem".into()), Some("/k.pem".into())));
        assert_eq!(up.source, "environment");
    }

    #[test]
    fn unknown_auth_types_are_refused_with_the_ones_carried_out() {
        let err = openstack(&env(&[("OS_AUTH_TYPE", "v3oidcpassword")])).unwrap_err().to_string();
        assert_eq!(
            err,
            "OS_AUTH_TYPE / auth_type \"v3oidcpassword\" is not supported; use one of password, v3password, token, \
             v3token, v3applicationcredential"
        );
        let up = openstack(&env(&[
            ("OS_AUTH_TYPE", "v3applicationcredential"),
            ("OS_AUTH_URL", "http://k:5000/v3"),
            ("OS_USERNAME", "ignored"),
            ("OS_APPLICATION_CREDENTIAL_ID", "ac"),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "s"),
        ]))
        .unwrap();
        assert_eq!(up.credentials.application_credential_id.as_deref(), Some("ac"));
        assert_eq!(up.credentials.user, None);
    }
}
