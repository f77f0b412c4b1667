use super::Secret;

/// A caller the gateway knows, with the credentials it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub name: String,
    /// User name for HTTP Basic (Hostway, Foreman) and Keystone (OpenStack).
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Keystone domain of the user (name or id).
    pub domain: String,
    /// GoGrid API key and its shared secret.
    pub api_key: Option<String>,
    pub gogrid_secret: Option<Secret>,
    /// A client that may read but not change images.
    pub read_only: bool,
    pub tenant: Tenant,
}

/// What a client may see, and where its requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Hostway account in edge paths.
    pub account: String,
    /// OpenStack project (id and name) in edge paths and tokens.
    pub project: String,
    /// Foreman compute resource in edge paths; any when absent.
    pub compute_resource: Option<String>,
    /// The backend its requests go to; the route table decides when absent.
    pub backend: Option<String>,
    /// The account, project or compute resource upstream, instead of the upstream's own.
    pub upstream_scope: Option<String>,
}

impl Client {
    /// The documented demo client: `demo`/`demo` for Basic and Keystone
    /// (project `demo`, domain `default`), GoGrid key `demo` with secret `demo`.
    pub fn demo() -> Self {
        Self {
            name: "demo".into(),
            user: Some("demo".into()),
            password: Some(Secret::Plain("demo".into())),
            domain: "default".into(),
            api_key: Some("demo".into()),
            gogrid_secret: Some(Secret::Plain("demo".into())),
            read_only: false,
            tenant: Tenant {
                account: "demo".into(),
                project: "demo".into(),
                compute_resource: None,
                backend: None,
                upstream_scope: None,
            },
        }
    }
}
