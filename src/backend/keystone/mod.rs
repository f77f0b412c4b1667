//! A Keystone v3 session: the token an OpenStack upstream sends as
//! `X-Auth-Token`, fetched from Keystone and renewed before it expires, and
//! the compute endpoint Keystone's catalog names.
//!
//! # Integration
//!
//! - Configuration builds a [`KeystoneSettings`] (secrets resolved from the
//!   environment like the other credentials), checks it with
//!   [`KeystoneSettings::validate`], and wraps one [`KeystoneSession`] per
//!   upstream in an `Arc` — for instance `Credentials::Keystone(Arc<KeystoneSession>)`,
//!   compared with `Arc::ptr_eq` where `Credentials` needs `PartialEq`.
//! - Per upstream request, `Upstream::send` calls [`KeystoneSession::token`]
//!   and builds the `Target` from it: `Credentials::Token(token.id)` for the
//!   codec, and [`Token::compute_root`] for `base` (and for `scope` when the
//!   configuration names none).
//! - When the upstream answers 401, it calls [`KeystoneSession::invalidate`]
//!   with the id it sent and tries once more with a fresh [`KeystoneSession::token`].
//!   This holds for writes too: a 401 means the write was refused, not applied.
//! - The session uses an [`HttpClient`]; the upstream's own client will do, its
//!   timeouts then bound Keystone calls as well.
//!
//! # Renewal and failures
//!
//! The current token sits in an [`ArcSwapOption`]: a caller that finds it
//! fresh takes no lock. A token is renewed `refresh_margin` before it expires
//! (keystoneauth's 120 s), or at half its life when Keystone issues tokens
//! shorter than twice the margin, so that short-lived tokens are not fetched
//! anew on every call. Its life is measured on Keystone's clock
//! (`expires_at - issued_at`) from the moment the request was sent, so a
//! skewed local clock does not matter.
//!
//! Fetching is single-flight: one fetch at a time, behind a
//! [`tokio::sync::Mutex`]. Callers that arrive while a fetch is in flight
//! wait for it and share its result, a failure included; a failure is not
//! kept for later callers, who try again. Keystone therefore never sees more
//! than one request at a time from a session, however many requests the
//! gateway serves, and a failing Keystone is asked at most once per its own
//! response time.

mod wire;

use crate::metrics::{UpstreamLabels, metrics};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use time::OffsetDateTime;

use super::client::HttpClient;
use crate::model::{ErrorKind, GatewayError, Side};

/// keystoneauth's `MIN_TOKEN_LIFE_SECONDS`.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// A user, project or domain, named by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrId {
    Id(String),
    Name(String),
}

impl NameOrId {
    fn value(&self) -> &str {
        match self {
            NameOrId::Id(v) | NameOrId::Name(v) => v,
        }
    }
}

/// How the session authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum KeystoneAuth {
    /// A user's password, scoped to a project. A user or project given by
    /// name needs its domain.
    Password {
        user: NameOrId,
        user_domain: Option<NameOrId>,
        password: String,
        project: NameOrId,
        project_domain: Option<NameOrId>,
    },
    /// An application credential; it is bound to its project, so no scope.
    ApplicationCredential { id: String, secret: String },
    /// An existing token, exchanged for one scoped to the project
    /// (keystoneauth's `token` plugin).
    Token { token: String, project: NameOrId, project_domain: Option<NameOrId> },
}

impl fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeystoneAuth::Password { user, user_domain, project, project_domain, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("user_domain", user_domain)
                .field("password", &format_args!("<redacted>"))
                .field("project", project)
                .field("project_domain", project_domain)
                .finish(),
            KeystoneAuth::ApplicationCredential { id, .. } => f
                .debug_struct("ApplicationCredential")
                .field("id", id)
                .field("secret", &format_args!("<redacted>"))
                .finish(),
            KeystoneAuth::Token { project, project_domain, .. } => f
                .debug_struct("Token")
                .field("token", &format_args!("<redacted>"))
                .field("project", project)
                .field("project_domain", project_domain)
                .finish(),
        }
    }
}

/// Where Keystone is, how to authenticate, and which compute endpoint to use.
/// Its `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoneSettings {
    /// Keystone's URL, with or without a trailing `/v3` (`http://keystone:5000`).
    pub auth_url: String,
    pub method: KeystoneAuth,
    /// The catalog interface of the compute endpoint: `public`, `internal` or `admin`.
    pub interface: String,
    /// The catalog region of the compute endpoint; the first one listed when absent.
    pub region: Option<String>,
    /// A compute URL used instead of the catalog's.
    pub endpoint_override: Option<String>,
    /// How long before its expiry a token is renewed.
    pub refresh_margin: Duration,
}

impl KeystoneSettings {
    /// Settings with the public interface, any region, no override and
    /// keystoneauth's 120 s margin.
    pub fn new(auth_url: impl Into<String>, method: KeystoneAuth) -> Self {
        Self {
            auth_url: auth_url.into(),
            method,
            interface: "public".to_owned(),
            region: None,
            endpoint_override: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// Checks what Keystone would otherwise refuse at the first request.
    pub fn validate(&self) -> Result<(), KeystoneSettingsError> {
        http_url("auth_url", &self.auth_url)?;
        if let Some(url) = &self.endpoint_override {
            http_url("endpoint_override", url)?;
        }
        if wire::catalog_interface(&self.interface).is_none() {
            return Err(KeystoneSettingsError::Interface(self.interface.clone()));
        }
        match &self.method {
            KeystoneAuth::Password { user, user_domain, password, project, project_domain } => {
                named("user", user, user_domain.as_ref())?;
                named("project", project, project_domain.as_ref())?;
                non_empty("password", password)
            }
            KeystoneAuth::ApplicationCredential { id, secret } => {
                non_empty("application credential id", id)?;
                non_empty("application credential secret", secret)
            }
            KeystoneAuth::Token { token, project, project_domain } => {
                named("project", project, project_domain.as_ref())?;
                non_empty("token", token)
            }
        }
    }
}

/// Why a Keystone session's settings cannot work.
#[derive(Debug, thiserror::Error)]
pub enum KeystoneSettingsError {
    #[error("{key}: {source}")]
    Url { key: &'static str, source: url::ParseError },
    #[error("{key}: only http:// and https:// are supported, not {scheme}://")]
    Scheme { key: &'static str, scheme: String },
    #[error("{0}: must not carry a query or fragment")]
    QueryOrFragment(&'static str),
    #[error("interface must be public, internal or admin, not {0:?}")]
    Interface(String),
    #[error("{0} must not be empty")]
    Empty(String),
    #[error("a {0} given by name needs its domain")]
    NameWithoutDomain(&'static str),
}

fn http_url(key: &'static str, value: &str) -> Result<(), KeystoneSettingsError> {
    let url = url::Url::parse(value).map_err(|source| KeystoneSettingsError::Url { key, source })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(KeystoneSettingsError::Scheme { key, scheme: url.scheme().to_owned() });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(KeystoneSettingsError::QueryOrFragment(key));
    }
    Ok(())
}

fn named(what: &'static str, value: &NameOrId, domain: Option<&NameOrId>) -> Result<(), KeystoneSettingsError> {
    non_empty(what, value.value())?;
    if let Some(domain) = domain {
        non_empty(&format!("{what} domain"), domain.value())?;
    }
    match (value, domain) {
        (NameOrId::Name(_), None) => Err(KeystoneSettingsError::NameWithoutDomain(what)),
        _ => Ok(()),
    }
}

fn non_empty(what: &str, value: &str) -> Result<(), KeystoneSettingsError> {
    if value.is_empty() { Err(KeystoneSettingsError::Empty(what.to_owned())) } else { Ok(()) }
}

/// A Keystone token and the compute endpoint it goes with. Its `Debug`
/// does not show the id.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The `X-Subject-Token`, sent upstream as `X-Auth-Token`.
    pub id: String,
    /// When Keystone says it expires.
    pub expires_at: OffsetDateTime,
    /// The compute endpoint, without a trailing slash
    /// (`http://nova:8774/v2.1/9c4693dce56b493b9b83197d900f7fba`).
    pub compute_url: String,
    /// The project the token is scoped to.
    pub project_id: Option<String>,
}

impl Token {
    /// The compute endpoint without its version and project segments, and
    /// the project segment when there is one: `http://nova:8774/v2.1/abc`
    /// gives `("http://nova:8774", Some("abc"))`, `http://nova/compute/v2.1`
    /// gives `("http://nova/compute", None)`. A URL without a version
    /// segment is returned whole.
    pub fn compute_root(&self) -> (&str, Option<&str>) {
        wire::split_versioned(&self.compute_url)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("id", &format_args!("<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("compute_url", &self.compute_url)
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// A token together with the moment it is due for renewal.
struct Cached {
    token: Token,
    renew_at: Instant,
}

/// A failure shared with the callers that waited on the fetch that failed.
struct Failure {
    kind: ErrorKind,
    side: Side,
    retryable: bool,
    message: std::borrow::Cow<'static, str>,
}

impl Failure {
    fn of(err: &GatewayError) -> Self {
        Self { kind: err.kind.clone(), side: err.side, retryable: err.retryable, message: err.message.clone() }
    }

    fn error(&self) -> GatewayError {
        let mut err = GatewayError::new(self.kind.clone(), self.side, self.message.clone());
        err.retryable = self.retryable;
        err
    }
}

/// What the fetch lock guards: the outcome of the last fetch when it failed.
#[derive(Default)]
struct Flight {
    failure: Option<Failure>,
}

struct Inner {
    settings: KeystoneSettings,
    client: HttpClient,
    current: ArcSwapOption<Cached>,
    /// Fetches finished (either way); read without the lock to tell whether
    /// a fetch ended while a caller waited for the lock.
    fetches: AtomicU64,
    flight: tokio::sync::Mutex<Flight>,
}

/// Keystone tokens for one upstream. Cloning is cheap and shares the token.
#[derive(Clone)]
pub struct KeystoneSession {
    inner: Arc<Inner>,
}

impl KeystoneSession {
    /// A session that fetches its first token on the first [`token`](Self::token) call.
    pub fn new(settings: KeystoneSettings, client: HttpClient) -> Result<Self, KeystoneSettingsError> {
        settings.validate()?;
        let inner = Inner {
            settings,
            client,
            current: ArcSwapOption::empty(),
            fetches: AtomicU64::new(0),
            flight: tokio::sync::Mutex::new(Flight::default()),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    pub fn settings(&self) -> &KeystoneSettings {
        &self.inner.settings
    }

    /// A short description for logs and the start-up banner.
    pub fn describe(&self) -> String {
        let who = match &self.inner.settings.method {
            KeystoneAuth::Password { user, project, .. } => {
                format!("user {:?}, project {:?}", user.value(), project.value())
            }
            KeystoneAuth::ApplicationCredential { id, .. } => format!("application credential {id:?}"),
            KeystoneAuth::Token { project, .. } => format!("a token, project {:?}", project.value()),
        };
        format!("keystone at {} ({who})", self.inner.settings.auth_url)
    }

    /// A token that is not due for renewal: the current one, or a new one
    /// from Keystone. Concurrent callers share one fetch and its outcome.
    pub async fn token(&self) -> Result<Token, GatewayError> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        // boxed: a fetch is an HTTP exchange with Keystone, kilobytes of
        // state every upstream call's future would otherwise carry
        Box::pin(self.renewed()).await
    }

    /// A token fetched from Keystone, or the one a concurrent fetch got.
    async fn renewed(&self) -> Result<Token, GatewayError> {
        let seen = self.inner.fetches.load(Ordering::Acquire);
        let mut flight = self.inner.flight.lock().await;
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        if self.inner.fetches.load(Ordering::Acquire) != seen
            && let Some(failure) = &flight.failure
        {
            return Err(failure.error());
        }
        let labels = UpstreamLabels { upstream: self.inner.client.name().clone() };
        metrics().keystone_token_fetches.get_or_create(&labels).inc();
        let fetched = self.fetch().await;
        if fetched.is_err() {
            metrics().keystone_token_failures.get_or_create(&labels).inc();
        }
        let outcome = match fetched {
            Ok(cached) => {
                let token = cached.token.clone();
                self.inner.current.store(Some(Arc::new(cached)));
                flight.failure = None;
                Ok(token)
            }
            Err(err) => {
                flight.failure = Some(Failure::of(&err));
                Err(err)
            }
        };
        self.inner.fetches.fetch_add(1, Ordering::Release);
        outcome
    }

    /// Forgets the current token if it is `token_id` (the upstream refused
    /// it), so that the next [`token`](Self::token) fetches a new one. A
    /// stale id — one already replaced — changes nothing.
    pub fn invalidate(&self, token_id: &str) {
        self.inner.current.rcu(|current| match current {
            Some(cached) if cached.token.id == token_id => None,
            other => other.clone(),
        });
    }

    fn fresh(&self) -> Option<Token> {
        let current = self.inner.current.load();
        let cached = current.as_ref()?;
        (Instant::now() < cached.renew_at).then(|| cached.token.clone())
    }

    async fn fetch(&self) -> Result<Cached, GatewayError> {
        let settings = &self.inner.settings;
        let sent = Instant::now();
        let reply = self.inner.client.send(self.request()?).await.map_err(|mut e| {
            e.message = format!("keystone at {}: {}", settings.auth_url, e.message).into();
            e
        })?;
        if !reply.status.is_success() {
            return Err(wire::refusal(reply.status, &reply.headers, &reply.body, &settings.auth_url));
        }
        let id = wire::subject_token(&reply.headers)?;
        let body = wire::TokenReply::parse(&reply.body)?;
        let life = body.life(OffsetDateTime::now_utc())?;
        let compute_url = match &settings.endpoint_override {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => body.compute_url(&settings.interface, settings.region.as_deref())?,
        };
        let token = Token { id, expires_at: body.expires_at, compute_url, project_id: body.project_id };
        tracing::debug!(expires_at = %token.expires_at, compute_url = %token.compute_url, "keystone issued a token");
        Ok(Cached { token, renew_at: renew_at(sent, life, settings.refresh_margin) })
    }

    fn request(&self) -> Result<http::Request<Bytes>, GatewayError> {
        let settings = &self.inner.settings;
        let url = wire::token_url(&settings.auth_url, settings.endpoint_override.is_some());
        let body = serde_json::to_vec(&wire::auth_body(&settings.method))
            .map_err(|e| GatewayError::internal(format!("encoding the keystone request failed: {e}")))?;
        http::Request::builder()
            .method(http::Method::POST)
            .uri(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::from(body))
            .map_err(|e| GatewayError::internal(format!("building the keystone request failed: {e}")))
    }
}

/// When a token of `life`, asked for at `sent`, is due for renewal: `margin`
/// before it expires, or halfway through a life shorter than twice the margin.
fn renew_at(sent: Instant, life: Duration, margin: Duration) -> Instant {
    let margin = margin.min(life / 2);
    let within = life - margin;
    sent.checked_add(within).unwrap_or_else(|| sent + Duration::from_secs(365 * 24 * 3600))
}

impl fmt::Debug for KeystoneSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.inner.current.load();
        f.debug_struct("KeystoneSession")
            .field("settings", &self.inner.settings)
            .field("token", &current.as_ref().map(|cached| &cached.token))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_keeps_the_margin_or_half_a_short_life() {
        let sent = Instant::now();
        let hour = Duration::from_secs(3600);
        assert_eq!(renew_at(sent, hour, DEFAULT_REFRESH_MARGIN), sent + hour - DEFAULT_REFRESH_MARGIN);
        let minute = Duration::from_secs(60);
        assert_eq!(renew_at(sent, minute, DEFAULT_REFRESH_MARGIN), sent + minute / 2);
    }

    #[test]
    fn names_need_their_domain() {
        let method = KeystoneAuth::Password {
            user: NameOrId::Name("admin".to_owned()),
            user_domain: None,
            password: "p".to_owned(),
            project: NameOrId::Id("p1".to_owned()),
            project_domain: None,
        };
        let err = KeystoneSettings::new("http://keystone:5000", method).validate().unwrap_err();
        assert_eq!(err.to_string(), "a user given by name needs its domain");
    }

    #[test]
    fn only_http_or_https_urls_and_known_interfaces() {
        let method = KeystoneAuth::ApplicationCredential { id: "a".to_owned(), secret: "s".to_owned() };
        let mut settings = KeystoneSettings::new("ftp://keystone:5000", method);
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "auth_url: only http:// and https:// are supported, not ftp://"
        );
        settings.auth_url = "https://keystone:5000/v3".to_owned();
        assert!(settings.validate().is_ok());
        settings.auth_url = "http://keystone:5000/v3".to_owned();
        settings.interface = "private".to_owned();
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "interface must be public, internal or admin, not \"private\""
        );
        settings.interface = "internalURL".to_owned();
        assert!(settings.validate().is_ok());
    }
}
