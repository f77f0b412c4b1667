//! Read-through fallback during a migration: a show or get-many that the
//! route's backend answers not-found is asked of the route's fallback (the
//! old side), and its answer served. Lists stay on the primary: a list is
//! one page of one ordering and count, and merging two sides' pages would
//! answer with totals and markers that neither side can continue
//! (docs/MIGRATION.md).

use std::sync::Arc;

use crate::backend::Backend;
use crate::model::{ErrorKind, GatewayError, GetMany, Image, ImageOp, LookupKey, Outcome};

/// Marks a reply the route's fallback served (wholly or in part), with the
/// fallback's name, for the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackServed(pub String);

/// The route's fallback backend and its name.
pub struct Fallback<'a> {
    pub name: &'a str,
    pub backend: &'a Backend,
    /// The route, as metrics name it.
    pub route: &'a Arc<str>,
}

/// True when the fallback may have something to add to `primary`'s
/// outcome of `op`: a show not found, or any get-many.
pub fn wanted(primary: &Result<Outcome, GatewayError>, op: &ImageOp) -> bool {
    match (op, primary) {
        (ImageOp::Show(_), Err(e)) => matches!(e.kind, ErrorKind::NotFound { .. }),
        (ImageOp::GetMany(_), Ok(Outcome::Images(_))) => true,
        _ => false,
    }
}

/// `primary`'s outcome of `op`, or what the fallback answers for what the
/// primary did not find; true when the fallback's answer is in it.
pub async fn read_through(
    primary: Result<Outcome, GatewayError>,
    op: &ImageOp,
    fallback: &Fallback<'_>,
) -> (Result<Outcome, GatewayError>, bool) {
    match (op, primary) {
        (ImageOp::Show(_), Err(e)) if matches!(e.kind, ErrorKind::NotFound { .. }) => {
            match fallback.backend.execute(op, None).await {
                // the primary's not-found stands when the old side has nothing either
                Err(again) if matches!(again.kind, ErrorKind::NotFound { .. }) => (Err(e), false),
                answer => (answer, true),
            }
        }
        (ImageOp::GetMany(get), Ok(Outcome::Images(mut found))) => {
            let missing: Vec<String> =
                get.values.iter().filter(|v| !found.iter().any(|i| names(get, v, i))).cloned().collect();
            if missing.is_empty() {
                return (Ok(Outcome::Images(found)), false);
            }
            let rest = ImageOp::GetMany(GetMany { key: get.key, values: missing, shown_name: get.shown_name });
            match fallback.backend.execute(&rest, None).await {
                Ok(Outcome::Images(more)) if !more.is_empty() => {
                    for image in more {
                        if !found.iter().any(|seen| seen.id == image.id) {
                            found.push(image);
                        }
                    }
                    (Ok(Outcome::Images(found)), true)
                }
                // what the fallback cannot give leaves the primary's answer as it was
                _ => (Ok(Outcome::Images(found)), false),
            }
        }
        (_, primary) => (primary, false),
    }
}

/// True when `image` is what `value` names under `key`.
fn names(get: &GetMany, value: &str, image: &Image) -> bool {
    // a name is the one the caller's edge shows, when it shows one
    let by_name = || get.shown_name.map_or(image.name == value, |shown| shown.matches(image, value));
    match get.key {
        LookupKey::Id => image.id.as_str() == value,
        LookupKey::Name => by_name(),
        LookupKey::IdOrName => image.id.as_str() == value || by_name(),
    }
}
