//! What the rest of the gateway knows about a dialect besides its codecs:
//! how its callers authenticate and which tenant its paths name (identity),
//! what its upstreams need to be called and where the environment says it
//! (config, command line), the headers its upstreams read a request id from,
//! and the sample image its document shows (the embedded catalog). Each
//! dialect module implements [`Profile`]; callers reach it through
//! [`Dialect::profile`](super::Dialect::profile) and never match on dialects.

use http::HeaderName;

use super::contract::Contract;
use super::{Credentials, Format};
use crate::model::{GatewayError, IdRule, Image};
use crate::request_id::{REPLY_HEADERS, UPSTREAM_HEADERS};

/// A dialect's knowledge outside its codecs. What every dialect must decide
/// (callers, tenancy, credentials, environment, paths, contract, sample) has
/// no default; the rest defaults to the common case: JSON, `X-Request-Id`.
pub trait Profile: Send + Sync {
    /// How the edge's callers present who they are.
    fn caller_auth(&self) -> CallerAuth;
    /// Which tenant an edge path names, and how a path naming another
    /// tenant is refused.
    fn tenancy(&self) -> Tenancy;
    /// The upstream credentials made of the configured ones, or what is
    /// missing (`both user and password`).
    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str>;
    /// True when an upstream may be reached through a Keystone catalog
    /// (`auth_url` instead of a URL and credentials).
    fn keystone_upstream(&self) -> bool {
        false
    }
    /// Where the environment describes an upstream of this dialect.
    fn environment(&self) -> UpstreamVariables;
    /// The headers an edge reply carries the request id in.
    fn reply_request_id_headers(&self) -> &'static [HeaderName] {
        &REPLY_HEADERS
    }
    /// The headers an upstream call carries the request id in.
    fn upstream_request_id_headers(&self) -> &'static [HeaderName] {
        &UPSTREAM_HEADERS
    }
    /// The image collection's edge path in the demo tenant, in the richest
    /// format: where request bodies go to be decoded when they name none.
    fn collection_path(&self) -> &'static str;
    /// The content type its clients send request bodies in.
    fn body_content_type(&self) -> &'static str {
        "application/json"
    }
    /// True when every error it renders has an error status exactly when
    /// the error's kind has one (GoGrid's failures keep their own table).
    fn error_status_follows_kind(&self) -> bool {
        true
    }
    /// The reply formats the edge offers; the first is the default.
    fn formats(&self) -> &'static [Format] {
        &[Format::Json]
    }
    /// An edge path asking for one image (`Some(id)`, percent-encoded; the
    /// `image` shown, when known) or the detailed list, in `format`: for
    /// `dragoman translate`.
    fn sample_path(&self, id: Option<&str>, image: Option<&Image>, format: &str) -> String;
    /// What its edge's image ids, and the names a get-many looks up, can
    /// hold: anything else names no image there and is never sent upstream.
    fn image_ids(&self) -> IdRule;
    /// What its edge promises in every reply (see [`Contract`]).
    fn contract(&self) -> &'static Contract;
    /// The sample its API document shows, for the embedded catalog.
    fn seed(&self) -> Option<Seed>;
}

/// How an edge's callers authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerAuth {
    /// `Authorization: Basic` with a client's user name and password.
    Basic,
    /// GoGrid's `api_key` and `sig`, an md5 of key, secret and the time.
    SignedApiKey,
    /// `X-Auth-Token`, issued by the gateway's Keystone.
    Token,
}

/// The tenant an edge path names.
#[derive(Debug, Clone, Copy)]
pub enum Tenancy {
    /// Paths name no tenant.
    Unscoped,
    /// Paths name the client's `field`; `refusal(named, own)` answers a path
    /// naming another.
    Scoped { field: TenantField, refusal: fn(named: &str, own: &str) -> GatewayError },
}

/// A client's tenant field an edge path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantField {
    Account,
    Project,
    /// Any when the client names none.
    ComputeResource,
}

/// The configured upstream credentials, secrets resolved.
#[derive(Debug, Default)]
pub struct GivenCredentials {
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    pub api_key: Option<String>,
    pub secret: Option<String>,
}

impl GivenCredentials {
    /// HTTP Basic: a user and a password.
    pub fn basic(self) -> Result<Credentials, &'static str> {
        match (self.user, self.password) {
            (Some(user), Some(password)) => Ok(Credentials::Basic { user, password }),
            _ => Err("both user and password"),
        }
    }
}

/// Where the environment describes an upstream.
#[derive(Debug, Clone, Copy)]
pub enum UpstreamVariables {
    /// keystoneauth's `OS_*` variables and `clouds.yaml`.
    Keystone { hint: &'static str },
    /// Variables of the dialect's own names.
    Named(NamedVariables),
}

/// The variables an upstream's settings are read from.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamedVariables {
    /// The variables to set, for refusals.
    pub hint: &'static str,
    pub user: Option<&'static str>,
    pub password: Option<&'static str>,
    pub api_key: Option<&'static str>,
    pub secret: Option<&'static str>,
    pub scope: Option<&'static str>,
    pub url: Option<&'static str>,
}

impl UpstreamVariables {
    /// The variables to set, for refusals.
    pub fn hint(&self) -> &'static str {
        match self {
            UpstreamVariables::Keystone { hint } => hint,
            UpstreamVariables::Named(named) => named.hint,
        }
    }
}

/// A sample body in the dialect's upstream shape.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    /// The image a show reply holds; `None` for a list reply.
    pub id: Option<&'static str>,
    pub body: &'static str,
}
