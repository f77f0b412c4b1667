//! What goes to Keystone v3 and what comes back: the token URL, the request
//! bodies of the two methods, the token reply and its catalog, and the
//! canonical errors of Keystone's refusals.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{KeystoneAuth, NameOrId};
use crate::model::{ErrorKind, GatewayError, Side};

/// keystoneauth's token URL: `/auth/tokens` under an `auth_url` that ends
/// in `/v3`, `/v3/auth/tokens` under any other. Without the catalog when
/// the compute endpoint is configured.
pub(super) fn token_url(auth_url: &str, nocatalog: bool) -> String {
    let base = auth_url.trim_end_matches('/');
    let path = if base.ends_with("/v3") { "/auth/tokens" } else { "/v3/auth/tokens" };
    let query = if nocatalog { "?nocatalog" } else { "" };
    format!("{base}{path}{query}")
}

/// The `auth` document of a token request, shaped as keystoneauth sends it:
/// a domain goes with its user or project whenever it is given.
pub(super) fn auth_body(method: &KeystoneAuth) -> Value {
    match method {
        KeystoneAuth::Password { user, user_domain, password, project, project_domain } => {
            let mut user = reference(user, user_domain.as_ref());
            user.insert("password".to_owned(), Value::String(password.clone()));
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": user}},
                "scope": {"project": reference(project, project_domain.as_ref())},
            }})
        }
        KeystoneAuth::ApplicationCredential { id, secret } => json!({"auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": id, "secret": secret},
            },
        }}),
        KeystoneAuth::Token { token, project, project_domain } => json!({"auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": reference(project, project_domain.as_ref())},
        }}),
    }
}

/// `{"id": …}` or `{"name": …}`, with `"domain"` when one is given.
fn reference(what: &NameOrId, domain: Option<&NameOrId>) -> Map<String, Value> {
    let mut object = Map::new();
    let (key, value) = key_value(what);
    object.insert(key.to_owned(), Value::String(value.to_owned()));
    if let Some(domain) = domain {
        let (key, value) = key_value(domain);
        object.insert("domain".to_owned(), json!({ key: value }));
    }
    object
}

fn key_value(what: &NameOrId) -> (&'static str, &str) {
    match what {
        NameOrId::Id(id) => ("id", id),
        NameOrId::Name(name) => ("name", name),
    }
}

/// The catalog interface a configured one means; keystoneauth also takes
/// the v2 spellings (`publicURL`).
pub(super) fn catalog_interface(configured: &str) -> Option<&'static str> {
    match configured.strip_suffix("URL").unwrap_or(configured) {
        "public" => Some("public"),
        "internal" => Some("internal"),
        "admin" => Some("admin"),
        _ => None,
    }
}

/// The token id, which Keystone sends in a header rather than the body.
pub(super) fn subject_token(headers: &HeaderMap) -> Result<String, GatewayError> {
    let value = headers
        .get("x-subject-token")
        .ok_or_else(|| GatewayError::upstream_protocol("keystone answered without an x-subject-token header"))?;
    match value.to_str() {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        _ => Err(GatewayError::upstream_protocol("keystone answered with an unusable x-subject-token header")),
    }
}

/// The canonical error of a Keystone reply that is not a success. Keystone's
/// own message goes to the log only.
pub(super) fn refusal(status: StatusCode, headers: &HeaderMap, body: &[u8], auth_url: &str) -> GatewayError {
    let said = keystone_message(body);
    let (kind, message) = match status.as_u16() {
        401 => (ErrorKind::Unauthorized, "keystone refused the configured credentials".to_owned()),
        403 => (ErrorKind::Forbidden, "keystone refused the configured scope".to_owned()),
        429 => {
            let retry_after = crate::dialect::retry_after(headers);
            (ErrorKind::RateLimited { retry_after }, "keystone is limiting token requests".to_owned())
        }
        502 | 503 => (ErrorKind::UpstreamUnavailable, said_too(status, &said)),
        504 => (ErrorKind::UpstreamTimeout, said_too(status, &said)),
        _ => (ErrorKind::UpstreamProtocol, said_too(status, &said)),
    };
    let request_id = crate::request_id::RequestId::current();
    let request_id = request_id.as_ref().map(crate::request_id::RequestId::as_str);
    tracing::warn!(request_id, auth_url, %status, keystone = %said, "keystone refused a token request");
    GatewayError::new(kind, Side::Upstream, message)
}

fn said_too(status: StatusCode, said: &str) -> String {
    if said.is_empty() { format!("keystone answered {status}") } else { format!("keystone answered {status}: {said}") }
}

/// `error.message` of Keystone's error body, or the start of whatever the
/// body is.
fn keystone_message(body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(message) = parsed.as_ref().and_then(|v| v.pointer("/error/message")).and_then(Value::as_str) {
        return message.to_owned();
    }
    String::from_utf8_lossy(body).chars().take(200).collect()
}

#[derive(Deserialize)]
struct Envelope {
    token: Body,
}

#[derive(Deserialize)]
struct Body {
    expires_at: String,
    issued_at: Option<String>,
    catalog: Option<Vec<Service>>,
    project: Option<Project>,
}

#[derive(Deserialize)]
struct Project {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Service {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    interface: String,
    region: Option<String>,
    region_id: Option<String>,
    url: String,
}

/// A token reply body, read.
pub(super) struct TokenReply {
    pub expires_at: OffsetDateTime,
    issued_at: Option<OffsetDateTime>,
    catalog: Vec<Service>,
    pub project_id: Option<String>,
}

impl TokenReply {
    pub fn parse(body: &[u8]) -> Result<TokenReply, GatewayError> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| GatewayError::upstream_protocol(format!("keystone token reply is not readable: {e}")))?;
        let token = envelope.token;
        Ok(TokenReply {
            expires_at: timestamp("expires_at", &token.expires_at)?,
            issued_at: token.issued_at.as_deref().map(|t| timestamp("issued_at", t)).transpose()?,
            catalog: token.catalog.unwrap_or_default(),
            project_id: token.project.and_then(|p| p.id),
        })
    }

    /// How long the token lives, on Keystone's clock: from `issued_at`, or
    /// from `now` when Keystone does not say when it issued the token.
    pub fn life(&self, now: OffsetDateTime) -> Result<Duration, GatewayError> {
        let life = self.expires_at - self.issued_at.unwrap_or(now);
        Duration::try_from(life)
            .ok()
            .filter(|life| !life.is_zero())
            .ok_or_else(|| GatewayError::upstream_protocol("keystone issued a token that had already expired"))
    }

    /// The URL of the first compute endpoint of `interface` (and `region`,
    /// matched against `region_id` or `region`), without a trailing slash.
    pub fn compute_url(&self, interface: &str, region: Option<&str>) -> Result<String, GatewayError> {
        let wanted = catalog_interface(interface).unwrap_or(interface);
        let in_region =
            |e: &Endpoint| region.is_none_or(|r| e.region_id.as_deref() == Some(r) || e.region.as_deref() == Some(r));
        self.catalog
            .iter()
            .filter(|service| service.kind == "compute")
            .flat_map(|service| &service.endpoints)
            .find(|e| e.interface == wanted && in_region(e))
            .map(|e| e.url.trim_end_matches('/').to_owned())
            .ok_or_else(|| {
                let place = region.map(|r| format!(" in region {r}")).unwrap_or_default();
                GatewayError::new(
                    ErrorKind::UpstreamProtocol,
                    Side::Upstream,
                    format!("the keystone catalog has no compute endpoint for the {wanted} interface{place}"),
                )
            })
    }
}

/// An RFC 3339 time, or one without an offset, taken as UTC.
fn timestamp(field: &str, value: &str) -> Result<OffsetDateTime, GatewayError> {
    let naive =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");
    OffsetDateTime::parse(value, &Rfc3339)
        .or_else(|_| time::PrimitiveDateTime::parse(value, naive).map(|t| t.assume_utc()))
        .map_err(|_| GatewayError::upstream_protocol(format!("keystone token {field} is not a time: {value:?}")))
}

/// A versioned endpoint split into its root and the project segment after
/// the version, as keystoneauth's discovery does.
pub(super) fn split_versioned(url: &str) -> (&str, Option<&str>) {
    let url = url.trim_end_matches('/');
    let Some((head, last)) = url.rsplit_once('/') else { return (url, None) };
    if is_version(last) {
        return (head, None);
    }
    match head.rsplit_once('/') {
        Some((root, version)) if is_version(version) && !last.is_empty() => (root, Some(last)),
        _ => (url, None),
    }
}

/// `v2`, `v2.1`, `v3`.
fn is_version(segment: &str) -> bool {
    let Some(number) = segment.strip_prefix('v') else { return false };
    let mut parts = number.splitn(2, '.');
    let digits = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && parts.next().is_none_or(|minor| digits(Some(minor)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_exchanged_for_one_of_the_project_as_keystone_documents() {
        let method = KeystoneAuth::Token {
            token: "t0k".into(),
            project: NameOrId::Name("images".into()),
            project_domain: Some(NameOrId::Id("default".into())),
        };
        assert_eq!(
            auth_body(&method),
            json!({"auth": {
                "identity": {"methods": ["token"], "token": {"id": "t0k"}},
                "scope": {"project": {"name": "images", "domain": {"id": "default"}}},
            }})
        );
    }

    #[test]
    fn versioned_endpoints_split_into_root_and_project() {
        assert_eq!(split_versioned("http://nova:8774/v2.1/abc"), ("http://nova:8774", Some("abc")));
        assert_eq!(split_versioned("http://nova:8774/v2/abc/"), ("http://nova:8774", Some("abc")));
        assert_eq!(split_versioned("http://host/compute/v2.1"), ("http://host/compute", None));
        assert_eq!(split_versioned("http://nova:8774"), ("http://nova:8774", None));
        assert_eq!(split_versioned("http://host/compute"), ("http://host/compute", None));
        assert_eq!(split_versioned("http://host/vx/abc"), ("http://host/vx/abc", None));
    }

    #[test]
    fn keystone_times_with_and_without_offset() {
        let with = timestamp("expires_at", "2015-11-07T02:58:43.578887Z").unwrap();
        let without = timestamp("expires_at", "2015-11-07T02:58:43.578887").unwrap();
        assert_eq!(with, without);
        assert!(timestamp("expires_at", "tomorrow").is_err());
    }
}
