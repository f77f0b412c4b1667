use std::fmt;
use std::sync::{Arc, LazyLock};

use arc_swap::ArcSwapOption;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use blake2::Blake2bMac;
use blake2::digest::Mac;
use blake2::digest::consts::U32;
use subtle::ConstantTimeEq;

/// A secret a client proves it knows: kept as given, or as an argon2 hash
/// (PHC string, `$argon2id$…`). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Plain(String),
    Argon2(Hashed),
}

impl Secret {
    /// True when `given` is the secret, compared in constant time.
    pub fn verify(&self, given: &str) -> bool {
        match self {
            Secret::Plain(secret) => secret.as_bytes().ct_eq(given.as_bytes()).into(),
            Secret::Argon2(hashed) => hashed.verify(given),
        }
    }

    /// The secret itself, for computing a signature with it. Hashed secrets
    /// cannot sign; configuration refuses them where a signature is needed.
    pub fn expose(&self) -> &str {
        match self {
            Secret::Plain(secret) => secret,
            Secret::Argon2(hashed) => &hashed.phc,
        }
    }
}

/// An argon2 hash, and the password it last accepted, remembered only as a
/// digest keyed with a random key made at start-up. HTTP Basic sends the
/// password with every request: argon2, tens of milliseconds of CPU by
/// design, is paid when the password is new, and each later request costs a
/// keyed hash and a constant-time comparison.
#[derive(Clone)]
pub struct Hashed {
    phc: String,
    accepted: Arc<ArcSwapOption<[u8; 32]>>,
}

impl Hashed {
    pub fn new(phc: impl Into<String>) -> Self {
        Self { phc: phc.into(), accepted: Arc::default() }
    }

    fn verify(&self, given: &str) -> bool {
        let digest = keyed_digest(given);
        if self.accepted.load().as_deref().is_some_and(|accepted| bool::from(accepted.ct_eq(&digest))) {
            return true;
        }
        let ok = PasswordHash::new(&self.phc)
            .is_ok_and(|hash| argon2::Argon2::default().verify_password(given.as_bytes(), &hash).is_ok());
        if ok {
            self.accepted.store(Some(Arc::new(digest)));
        }
        ok
    }
}

impl PartialEq for Hashed {
    fn eq(&self, other: &Self) -> bool {
        self.phc == other.phc
    }
}

impl Eq for Hashed {}

/// BLAKE2b keyed with this process's own random key.
fn keyed_digest(given: &str) -> [u8; 32] {
    static KEY: LazyLock<[u8; 32]> = LazyLock::new(|| {
        let mut key = [0; 32];
        getrandom::fill(&mut key).expect("the operating system's random source answers");
        key
    });
    let mut mac = Blake2bMac::<U32>::new_from_slice(&*KEY).expect("a 32-byte key suits BLAKE2b");
    mac.update(given.as_bytes());
    mac.finalize().into_bytes().into()
}

/// True when two derived values (signatures) are equal, in constant time.
pub fn constant_time_eq(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Secret(<redacted>)"),
            Secret::Argon2(_) => f.write_str("Secret(argon2 <redacted>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, SaltString};

    use super::*;

    #[test]
    fn plain_secrets_compare_whole() {
        let s = Secret::Plain("demo".into());
        assert!(s.verify("demo"));
        assert!(!s.verify("dem") && !s.verify("demo ") && !s.verify(""));
    }

    #[test]
    fn hashed_passwords_verify() {
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let phc = argon2::Argon2::default().hash_password(b"s3cret", &salt).unwrap().to_string();
        let hashed = Hashed::new(phc);
        let s = Secret::Argon2(hashed.clone());
        assert!(!s.verify("s3cre7"));
        assert!(hashed.accepted.load().is_none(), "a refused password is not remembered");
        assert!(s.verify("s3cret"));
        assert!(hashed.accepted.load().is_some(), "an accepted password is remembered");
        // remembered or not, only the password is accepted
        assert!(s.verify("s3cret"));
        assert!(!s.verify("s3cre7") && !s.verify("") && !s.verify("s3cret "));
        assert!(!Secret::Argon2(Hashed::new("not a hash")).verify("x"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", Secret::Plain("hunter2".into())).contains("hunter2"));
        assert!(!format!("{:?}", Secret::Argon2(Hashed::new("$argon2id$v=19$xyz"))).contains("xyz"));
    }
}
