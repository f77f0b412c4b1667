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
    issued: Arc<DashMap<String, IssuedToken>>,
    lifetime: Duration,
}

/// What a token stands for.
#[derive(Clone)]
pub struct IssuedToken {
    pub client: Arc<Client>,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken").field("client", &self.client.name).field("expires_at", &self.expires_at).finish()
    }
}

impl Tokens {
    pub fn new(lifetime: Duration) -> Self {
        Self { issued: Arc::default(), lifetime }
    }

    /// Takes over the tokens `old` issued, for a reload: each stays valid
    /// while its client is still declared (as `clients` declares it now),
    /// and until it expires.
    pub fn keep(&mut self, old: &Tokens, clients: &[Arc<Client>]) {
        old.issued.retain(|_, token| match clients.iter().find(|c| c.name == token.client.name) {
            Some(client) => {
                token.client = client.clone();
                true
            }
            None => false,
        });
        self.issued = old.issued.clone();
    }

    /// A new token for `client`: its id and what it stands for.
    pub fn issue(&self, client: Arc<Client>) -> (String, IssuedToken) {
        let now = OffsetDateTime::now_utc();
        if self.issued.len() > SWEEP_ABOVE {
            self.issued.retain(|_, t| t.expires_at > now);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let token = IssuedToken { client, issued_at: now, expires_at: now + self.lifetime };
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
        let (id, issued) = tokens.issue(Arc::new(Client::demo()));
        assert_eq!(id.len(), 32);
        assert_eq!(tokens.validate(&id).unwrap().client.name, "demo");
        assert!(issued.expires_at > issued.issued_at);
        assert!(tokens.validate("nope").is_none());
        let short = Tokens::new(Duration::ZERO);
        let (id, _) = short.issue(Arc::new(Client::demo()));
        assert!(short.validate(&id).is_none(), "an expired token is refused");
    }

    #[test]
    fn kept_tokens_follow_their_client_into_the_new_identity_or_end_with_it() {
        let client = |name: &str, read_only: bool| {
            let mut c = Client::demo();
            c.name = name.into();
            c.read_only = read_only;
            Arc::new(c)
        };
        let old = Tokens::new(Duration::from_secs(60));
        let (kept, _) = old.issue(client("stays", false));
        let (gone, _) = old.issue(client("leaves", false));
        let mut new = Tokens::new(Duration::from_secs(60));
        new.keep(&old, &[client("stays", true)]);
        assert!(new.validate(&kept).unwrap().client.read_only, "the client as declared now");
        assert!(new.validate(&gone).is_none(), "a client no longer declared loses its tokens");
        let (fresh, _) = new.issue(client("stays", true));
        assert!(old.validate(&fresh).is_some(), "one table: requests on the old identity see new tokens");
    }
}
