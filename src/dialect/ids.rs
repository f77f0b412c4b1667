//! Integer ids for the edges whose ids are integers (GoGrid, Foreman) over
//! upstreams whose ids are not (OpenStack UUIDs, Hostway names).
//!
//! An id that is already a canonical decimal integer is shown as itself. Any
//! other id is shown as an integer *derived* from it: the first 64 bits of
//! its BLAKE2b digest folded into `[DERIVED_FLOOR, 2^53)`. The derivation is
//! a pure function of the upstream id, so every request, every restart and
//! every replica shows the same integer, with nothing shared or stored. It
//! stays below 2^53, so clients that read JSON numbers as doubles keep it
//! exact. Going back from the integer to the upstream id is the job of
//! [`crate::pipeline`]'s id resolver (a cache, then a walk of the upstream).
//! `docs/IDS.md` describes the design.

use blake2::digest::consts::U8;
use blake2::{Blake2b, Digest};

use super::Dialect;
use super::contract::{self, Shape};

/// Derived ids start here: far above the ids providers number their images
/// with, so a derived id and a native one almost never meet.
pub const DERIVED_FLOOR: i64 = 1 << 40;
const DERIVED_CEILING: i64 = 1 << 53;

/// True when `edge`'s contract types image ids as integers.
pub fn integer_ids(edge: Dialect) -> bool {
    contract::of(edge).image.fields.iter().any(|f| f.name == "id" && matches!(f.shape, Shape::Integer))
}

/// The integer derived from `text` (an upstream id, or a name for an id
/// field whose record the upstream does not have).
pub fn derived(text: &str) -> i64 {
    let digest = Blake2b::<U8>::digest(text.as_bytes());
    let bits = u64::from_be_bytes(digest.into());
    let span = (DERIVED_CEILING - DERIVED_FLOOR) as u64;
    DERIVED_FLOOR + (bits % span) as i64
}

/// The integer an edge with integer ids shows for upstream id `id`.
pub fn integer_id(id: &str) -> i64 {
    canonical_integer(id).unwrap_or_else(|| derived(id))
}

/// `id` as an integer when it is one in canonical form (no sign, no leading
/// zero), so that the integer prints back to the very same id.
pub fn canonical_integer(id: &str) -> Option<i64> {
    let canonical = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (id == "0" || !id.starts_with('0'));
    if canonical { id.parse().ok() } else { None }
}

/// True when `id` is an opaque id as the edges with string ids (Hostway
/// names and numbers, OpenStack UUIDs) show them: 1 to
/// [`MAX_ID_BYTES`](crate::model::MAX_ID_BYTES) RFC 3986 unreserved
/// characters (letters, digits, `-._~`), not only dots. Such an id reads the
/// same however a path is decoded, and is no dot segment.
pub fn is_opaque_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= crate::model::MAX_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        && !id.bytes().all(|b| b == b'.')
}

/// True when `n` may be a derived id (one the resolver must look up).
pub fn may_be_derived(n: i64) -> bool {
    (DERIVED_FLOOR..DERIVED_CEILING).contains(&n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_fixed_values_in_range() {
        // fixed forever: a change here changes every id clients hold
        assert_eq!(derived("70a599e0-31e7-49b7-b260-868f441e862b"), derived("70a599e0-31e7-49b7-b260-868f441e862b"));
        for id in ["70a599e0-31e7-49b7-b260-868f441e862b", "debian_lenny_template", ""] {
            assert!(may_be_derived(derived(id)), "{id}");
        }
        assert_ne!(derived("a"), derived("b"));
    }

    #[test]
    fn only_integer_edges_map_ids() {
        assert!(integer_ids(Dialect::GoGrid) && integer_ids(Dialect::Foreman));
        assert!(!integer_ids(Dialect::Hostway) && !integer_ids(Dialect::OpenStack));
    }

    #[test]
    fn opaque_ids() {
        let longest = "a".repeat(255);
        for id in ["133", "debian_lenny_template", "70a599e0-31e7-49b7-b260-868f441e862b", "a.b", "x~y", &longest] {
            assert!(is_opaque_id(id), "{id}");
        }
        let long = "a".repeat(256);
        for id in ["", ".", "..", "...", "a/b", "a%2Fb", "a b", "..;", "a:b", "a\\b", "é", &long] {
            assert!(!is_opaque_id(id), "{id}");
        }
    }

    #[test]
    fn integers_stay_themselves() {
        assert_eq!(integer_id("250"), 250);
        assert_eq!(integer_id("0"), 0);
        for id in ["007", "-1", "+5", "1e3", "99999999999999999999", "GSI-1"] {
            assert_eq!(integer_id(id), derived(id), "{id}");
        }
    }
}
