use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use subtle::ConstantTimeEq;

/// A secret a client proves it knows: kept as given, or as an argon2 hash
/// (PHC string, `$argon2id$…`). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Plain(String),
    Argon2(String),
}

impl Secret {
    /// True when `given` is the secret, compared in constant time.
    pub fn verify(&self, given: &str) -> bool {
        match self {
            Secret::Plain(secret) => secret.as_bytes().ct_eq(given.as_bytes()).into(),
            Secret::Argon2(phc) => PasswordHash::new(phc)
                .is_ok_and(|hash| argon2::Argon2::default().verify_password(given.as_bytes(), &hash).is_ok()),
        }
    }

    /// The secret itself, for computing a signature with it. Hashed secrets
    /// cannot sign; configuration refuses them where a signature is needed.
    pub fn expose(&self) -> &str {
        match self {
            Secret::Plain(secret) | Secret::Argon2(secret) => secret,
        }
    }
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
        let s = Secret::Argon2(phc);
        assert!(s.verify("s3cret"));
        assert!(!s.verify("s3cre7"));
        assert!(!Secret::Argon2("not a hash".into()).verify("x"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", Secret::Plain("hunter2".into())).contains("hunter2"));
        assert!(!format!("{:?}", Secret::Argon2("$argon2id$v=19$xyz".into())).contains("xyz"));
    }
}
