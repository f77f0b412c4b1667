//! Who may call, as whom: each edge authenticates its callers the way its
//! own API does, and maps each caller to a tenant.
//!
//! | edge      | credentials                                   | refusal (rendered by the edge codec)          |
//! |-----------|-----------------------------------------------|-----------------------------------------------|
//! | Hostway   | HTTP Basic                                    | plain-text 401, `WWW-Authenticate: Basic`     |
//! | Foreman   | HTTP Basic                                    | 401 `Unable to authenticate user …`           |
//! | GoGrid    | `api_key` + `sig` = md5(key + secret + secs)  | 403 `Authentication Failed`; wrong role 401   |
//! | OpenStack | `X-Auth-Token` issued by [`keystone`]         | Keystone's 401 with `WWW-Authenticate`        |
//!
//! Tenancy: a caller sees only its own tenant. A path naming another
//! account, project or compute resource gets the dialect's own answer:
//! Hostway's 404 for an unknown account, OpenStack's 400 `Malformed request
//! URL`, Foreman's 404, GoGrid's 401.
//!
//! Secrets are compared in constant time (`subtle`) or verified against an
//! argon2 hash; none is ever logged: every type holding one redacts it.

mod clients;
pub mod keys;
pub mod keystone;
mod secret;
mod tokens;

pub use clients::{Client, Tenant};
pub use keys::TokenKeys;
pub use secret::{Hashed, Secret, constant_time_eq};
pub use tokens::{IssuedToken, Tokens};

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use http::request::Parts;
use http::{HeaderMap, header};

use crate::dialect::profile::{CallerAuth, Tenancy, TenantField};
use crate::dialect::{Dialect, gogrid::sign::signature};
use crate::model::{ErrorKind, GatewayError, ImageOp, Side};

/// How the edges authenticate, and whom they know.
pub struct Identity {
    clients: Vec<Arc<Client>>,
    pub tokens: Tokens,
    /// How far a GoGrid signature's clock may be from ours.
    gogrid_window: i64,
    /// True when the only client is the documented demo one.
    pub demo: bool,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client: Arc<Client>,
}

impl Identity {
    pub fn new(clients: Vec<Client>, gogrid_window: Duration, tokens: Tokens, demo: bool) -> Self {
        Self {
            clients: clients.into_iter().map(Arc::new).collect(),
            tokens,
            gogrid_window: gogrid_window.as_secs() as i64,
            demo,
        }
    }

    /// Takes over the tokens `old` issued, for a reload.
    pub fn keep_tokens_of(&mut self, old: &Identity) {
        self.tokens.keep(&old.tokens);
    }

    /// The caller of an edge request, or the edge's refusal.
    pub fn authenticate(&self, dialect: Dialect, parts: &Parts, body: &[u8], now: i64) -> Result<Caller, GatewayError> {
        let client = match dialect.profile().caller_auth() {
            CallerAuth::Basic => self.basic(&parts.headers)?,
            CallerAuth::SignedApiKey => self.gogrid(parts, body, now)?,
            CallerAuth::Token => self.token(&parts.headers)?,
        };
        Ok(Caller { client })
    }

    /// The client whose user name and password these are, for Keystone.
    pub fn password_login(&self, user: &str, domain: &str, password: &str) -> Option<Arc<Client>> {
        self.clients
            .iter()
            .find(|c| {
                c.user.as_deref() == Some(user)
                    && (c.domain == domain || domain.is_empty())
                    && c.password.as_ref().is_some_and(|p| p.verify(password))
            })
            .cloned()
    }

    fn basic(&self, headers: &HeaderMap) -> Result<Arc<Client>, GatewayError> {
        let credentials = basic_credentials(headers).unwrap_or_default();
        let (user, password) = credentials.split_once(':').ok_or_else(|| unauthorized(""))?;
        self.clients
            .iter()
            .find(|c| c.user.as_deref() == Some(user) && c.password.as_ref().is_some_and(|p| p.verify(password)))
            .cloned()
            .ok_or_else(|| unauthorized(user))
    }

    fn gogrid(&self, parts: &Parts, body: &[u8], now: i64) -> Result<Arc<Client>, GatewayError> {
        let query = crate::dialect::gogrid::parameters(parts, body)?;
        let (Some(api_key), Some(sig)) = (query.get("api_key"), query.get("sig")) else {
            return Err(unauthorized(""));
        };
        let client = self.clients.iter().find(|c| c.api_key.as_deref() == Some(api_key));
        let secret = client.and_then(|c| c.gogrid_secret.as_ref());
        match (client, secret) {
            (Some(client), Some(secret)) if self.signed(api_key, secret, sig, now) => Ok(client.clone()),
            _ => Err(unauthorized(api_key)),
        }
    }

    /// True when `sig` signs `api_key` at a second within the window,
    /// trying the seconds nearest to now first.
    fn signed(&self, api_key: &str, secret: &Secret, sig: &str, now: i64) -> bool {
        let sig = sig.to_ascii_lowercase();
        (0..=self.gogrid_window).any(|skew| {
            let at = |t: i64| constant_time_eq(&signature(api_key, secret.expose(), t), &sig);
            at(now - skew) || (skew > 0 && at(now + skew))
        })
    }

    fn token(&self, headers: &HeaderMap) -> Result<Arc<Client>, GatewayError> {
        let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok()).ok_or_else(|| unauthorized(""))?;
        // an unscoped token authenticates to Keystone only, as Nova refuses it
        self.tokens
            .validate(token, |name| self.client(name))
            .filter(|issued| issued.project.is_some())
            .map(|issued| issued.client)
            .ok_or_else(|| unauthorized(""))
    }

    /// The client of this name.
    fn client(&self, name: &str) -> Option<Arc<Client>> {
        self.clients.iter().find(|c| c.name == name).cloned()
    }
}

impl Caller {
    /// Refuses a path that names another tenant, and a write from a client
    /// that may only read.
    pub fn authorize(&self, dialect: Dialect, scope: Option<&str>, op: &ImageOp) -> Result<(), GatewayError> {
        let tenant = &self.client.tenant;
        if let (Some(named), Tenancy::Scoped { field, refusal }) = (scope, dialect.profile().tenancy()) {
            let own = match field {
                TenantField::Account => Some(tenant.account.as_str()),
                TenantField::Project => Some(tenant.project.as_str()),
                TenantField::ComputeResource => tenant.compute_resource.as_deref(),
            };
            if let Some(own) = own.filter(|own| *own != named) {
                return Err(refusal(named, own));
            }
        }
        if self.client.read_only && matches!(op, ImageOp::Write(_)) {
            let message = format!("client {} may not {}", self.client.name, op.name());
            return Err(GatewayError::new(ErrorKind::Forbidden, Side::Downstream, message));
        }
        Ok(())
    }
}

/// The refusal of unknown credentials; the message names the login, which
/// Foreman shows (`Unable to authenticate user …`), never the secret.
fn unauthorized(login: &str) -> GatewayError {
    GatewayError::new(ErrorKind::Unauthorized, Side::Downstream, format!("unable to authenticate user {login}"))
}

/// The decoded `user:password` of an `Authorization: Basic` header, split by
/// the caller: the decoded bytes are the text, with no copy of either part.
fn basic_credentials(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    String::from_utf8(decoded).ok()
}
