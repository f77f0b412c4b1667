use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use time::OffsetDateTime;

use super::Client;

/// Most tokens kept before expired ones are swept on issue.
const SWEEP_ABOVE: usize = 10_000;

/// The tokens the gateway's Keystone has issued.
pub struct Tokens {
    issued: DashMap<String, IssuedToken>,
    lifetime: Duration,
}

/// What a token stands for.
#[derive(Clone)]
pub struct IssuedToken {
    pub client: Arc<Client>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Scoped to the client's project: only such tokens reach the image API.
    pub scoped: bool,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken").field("client", &self.client.name).field("expires_at", &self.expires_at).finish()
    }
}

impl Tokens {
    pub fn new(lifetime: Duration) -> Self {
        Self { issued: DashMap::new(), lifetime }
    }

    /// A new token for `client`: its id and what it stands for.
    pub fn issue(&self, client: Arc<Client>, scoped: bool) -> (String, IssuedToken) {
        let now = OffsetDateTime::now_utc();
        if self.issued.len() > SWEEP_ABOVE {
            self.issued.retain(|_, t| t.expires_at > now);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let token = IssuedToken { client, issued_at: now, expires_at: now + self.lifetime, scoped };
        self.issued.insert(id.clone(), token.clone());
        (id, token)
    }

    /// What a token stands for, while it has not expired.
    pub fn validate(&self, id: &str) -> Option<IssuedToken> {
        let token = self.issued.get(id)?.clone();
        if token.expires_at <= OffsetDateTime::now_utc() {
            self.issued.remove(id);
            return None;
        }
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_stand_for_their_client_until_they_expire() {
        let tokens = Tokens::new(Duration::from_secs(60));
        let (id, issued) = tokens.issue(Arc::new(Client::demo()), true);
        assert_eq!(id.len(), 32);
        assert_eq!(tokens.validate(&id).unwrap().client.name, "demo");
        assert!(issued.expires_at > issued.issued_at);
        assert!(tokens.validate("nope").is_none());
        let short = Tokens::new(Duration::ZERO);
        let (id, _) = short.issue(Arc::new(Client::demo()), true);
        assert!(short.validate(&id).is_none(), "an expired token is refused");
    }
}
