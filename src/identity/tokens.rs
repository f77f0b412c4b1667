//! The tokens of the gateway's Keystone: stateless, as Keystone's Fernet
//! tokens. A token is its own record — the client it stands for, its project
//! scope, the methods that authenticated it, when it was issued and when it
//! expires — packed with MessagePack, encrypted and signed with the primary
//! key of [`TokenKeys`]. Any process holding the same keys validates it;
//! nothing is kept per token, so a restart keeps tokens valid and memory
//! does not grow with them.
//!
//! A token is valid until it expires, while one of the active keys signed
//! it, and while its client is still configured with the same project.
//! There is no revocation list: replacing the key repository revokes every
//! token at once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Client;
use super::keys::TokenKeys;

/// The version of the payload, its first field.
const PAYLOAD_VERSION: u8 = 1;

/// The `password` method, in the payload's bit set of methods.
const METHOD_PASSWORD: u8 = 1;

/// The tokens the gateway's Keystone issues and validates.
pub struct Tokens {
    keys: TokenKeys,
    lifetime: Duration,
}

/// What a token stands for.
#[derive(Clone)]
pub struct IssuedToken {
    pub client: Arc<Client>,
    /// The project it is scoped to; `None` for an unscoped token.
    pub project: Option<String>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("client", &self.client.name)
            .field("project", &self.project)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A token's content: a MessagePack array, times in unix microseconds.
#[derive(Serialize, Deserialize)]
struct Payload(u8, String, Option<String>, u8, i64, i64);

impl Tokens {
    pub fn new(keys: TokenKeys, lifetime: Duration) -> Self {
        Self { keys, lifetime }
    }

    /// Takes over what `old` validates, for a reload: without a key
    /// repository the key made at start stays, so the tokens it sealed stay
    /// valid (with one, the repository's keys do that).
    pub fn keep(&mut self, old: &Tokens) {
        if self.keys.is_ephemeral() {
            self.keys = old.keys.in_use();
        }
    }

    /// A new token for `client`, scoped to `project` or unscoped: its id and what it stands for.
    pub fn issue(&self, client: Arc<Client>, project: Option<String>) -> (String, IssuedToken) {
        let now = OffsetDateTime::now_utc();
        let token = IssuedToken { client, project, issued_at: now, expires_at: now + self.lifetime };
        let payload = Payload(
            PAYLOAD_VERSION,
            token.client.name.clone(),
            token.project.clone(),
            METHOD_PASSWORD,
            micros(token.issued_at),
            micros(token.expires_at),
        );
        let packed = rmp_serde::to_vec(&payload).expect("a token payload packs");
        (self.keys.seal(&packed), token)
    }

    /// What a token stands for, while it has not expired and its client,
    /// found by `client`, still has the project it was scoped to.
    pub fn validate(&self, id: &str, client: impl Fn(&str) -> Option<Arc<Client>>) -> Option<IssuedToken> {
        let packed = self.keys.open(id)?;
        let Payload(version, name, project, _methods, issued, expires) = rmp_serde::from_slice(&packed).ok()?;
        if version != PAYLOAD_VERSION {
            return None;
        }
        let expires_at = from_micros(expires)?;
        if expires_at <= OffsetDateTime::now_utc() {
            return None;
        }
        let client = client(&name)?;
        if project.as_ref().is_some_and(|p| *p != client.tenant.project) {
            return None;
        }
        Some(IssuedToken { client, project, issued_at: from_micros(issued)?, expires_at })
    }
}

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

fn from_micros(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(name: &str) -> Option<Arc<Client>> {
        (name == "demo").then(|| Arc::new(Client::demo()))
    }

    #[test]
    fn tokens_stand_for_their_client_until_they_expire() {
        let tokens = Tokens::new(TokenKeys::ephemeral(), Duration::from_secs(60));
        let (id, issued) = tokens.issue(Arc::new(Client::demo()), Some("demo".into()));
        assert!(id.len() < 250, "{} bytes", id.len());
        let valid = tokens.validate(&id, demo).unwrap();
        assert_eq!((valid.client.name.as_str(), valid.project.as_deref()), ("demo", Some("demo")));
        assert_eq!(
            valid.expires_at,
            issued.expires_at.replace_nanosecond(issued.expires_at.microsecond() * 1000).unwrap()
        );
        assert!(issued.expires_at > issued.issued_at);
        assert!(tokens.validate("nope", demo).is_none());
        assert!(tokens.validate(&id, |_| None).is_none(), "a client no longer configured");
        let short = Tokens::new(TokenKeys::ephemeral(), Duration::ZERO);
        let (id, _) = short.issue(Arc::new(Client::demo()), None);
        assert!(short.validate(&id, demo).is_none(), "an expired token is refused");
    }

    #[test]
    fn a_token_scoped_to_another_project_than_its_clients_is_refused() {
        let tokens = Tokens::new(TokenKeys::ephemeral(), Duration::from_secs(60));
        let (id, _) = tokens.issue(Arc::new(Client::demo()), Some("elsewhere".into()));
        assert!(tokens.validate(&id, demo).is_none());
        let (unscoped, _) = tokens.issue(Arc::new(Client::demo()), None);
        assert_eq!(tokens.validate(&unscoped, demo).unwrap().project, None);
    }

    #[test]
    fn kept_tokens_stay_valid_after_a_reload_without_a_key_repository() {
        let old = Tokens::new(TokenKeys::ephemeral(), Duration::from_secs(60));
        let (id, _) = old.issue(Arc::new(Client::demo()), Some("demo".into()));
        let fresh = Tokens::new(TokenKeys::ephemeral(), Duration::from_secs(60));
        assert!(fresh.validate(&id, demo).is_none(), "another key");
        let mut kept = Tokens::new(TokenKeys::ephemeral(), Duration::from_secs(60));
        kept.keep(&old);
        assert_eq!(kept.validate(&id, demo).unwrap().client.name, "demo");
        let (new_id, _) = kept.issue(Arc::new(Client::demo()), None);
        assert!(old.validate(&new_id, demo).is_some(), "requests still on the old identity accept new tokens");
    }
}
