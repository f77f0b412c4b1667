//! GoGrid request signatures: `sig = lowercase hex md5(api_key + secret + epoch seconds)`.
//!
//! The signature covers neither the method nor the other parameters, only the
//! key, the shared secret and the Unix time in whole seconds as a decimal string.

use md5::{Digest, Md5};

/// The `sig` parameter for a request made at `epoch_secs`.
pub fn signature(api_key: &str, secret: &str, epoch_secs: i64) -> String {
    let mut hasher = Md5::new();
    hasher.update(api_key.as_bytes());
    hasher.update(secret.as_bytes());
    hasher.update(epoch_secs.to_string().as_bytes());
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_md5_of_key_secret_and_seconds() {
        // printf 'identitycredential1234567890' | md5sum
        assert_eq!(signature("identity", "credential", 1_234_567_890), "334a533f50e9db554a43550c95674aab");
        // printf 'abcsecret0' | md5sum
        assert_eq!(signature("abc", "secret", 0), "d2c6da52f1eebca7fa5d09ac30dddd24");
    }

    #[test]
    fn signature_changes_every_second() {
        assert_ne!(signature("k", "s", 100), signature("k", "s", 101));
    }
}
