//! From the integer ids the GoGrid and Foreman edges show back to the
//! upstream's own ids (`docs/IDS.md`).
//!
//! An edge with integer ids shows a non-integer upstream id as the integer
//! [`ids::derived`] from it. A request naming a derived integer is resolved
//! here before it reaches the backend: from the ids this process has already
//! shown (a bounded map), else by listing the backend once and deriving each
//! id until one matches. Neither needs anything shared, so a restart or
//! another replica resolves the same integer to the same image.

use dashmap::DashMap;

use crate::backend::Backend;
use crate::dialect::ids;
use crate::model::{ImageId, ImageOp, ListQuery, LookupKey, Outcome, Text, View, WriteOp};

/// Derived ids remembered at most; past it the map starts over.
const REMEMBERED: usize = 100_000;

#[derive(Default)]
pub struct IdResolver {
    /// Derived integer → upstream id, for the ids already shown.
    shown: DashMap<i64, ImageId>,
}

impl IdResolver {
    /// Remembers the derived ids of the images an outcome shows.
    pub fn note(&self, outcome: &Outcome) {
        let images = match outcome {
            Outcome::Image(image) => std::slice::from_ref(image),
            Outcome::Images(images) => images.as_slice(),
            Outcome::List(page) => page.images.as_slice(),
            Outcome::Metadata(_) | Outcome::Done => return,
        };
        for image in images.iter().filter(|i| ids::canonical_integer(i.id.as_str()).is_none()) {
            if self.shown.len() >= REMEMBERED {
                self.shown.clear();
            }
            self.shown.insert(ids::derived(image.id.as_str()), image.id.clone());
        }
    }

    /// `op` with every derived id it names replaced by the upstream id it
    /// stands for; `None` when it names none.
    pub async fn resolve(&self, op: &ImageOp, backend: &Backend, scope: Option<&str>) -> Option<ImageOp> {
        let mut resolved = op.clone();
        let targets = ids_of(&mut resolved);
        let derived: Vec<i64> = targets.iter().filter_map(|t| derived_in(t.as_str())).collect();
        if derived.is_empty() {
            return None;
        }
        if derived.iter().any(|n| !self.shown.contains_key(n)) {
            self.walk(backend, scope).await;
        }
        for mut target in targets {
            if let Some(id) = derived_in(target.as_str()).and_then(|n| self.shown.get(&n)) {
                target.set(id.as_str());
            }
        }
        Some(resolved)
    }

    /// Lists the backend once, remembering every derived id in it. A failed
    /// walk leaves the ids as they are: the backend then answers not found.
    async fn walk(&self, backend: &Backend, scope: Option<&str>) {
        let everything = ImageOp::List(ListQuery { view: View::Summary, ..ListQuery::default() });
        match backend.execute(&everything, scope).await {
            Ok(outcome) => self.note(&outcome),
            Err(e) => tracing::debug!(error = %e, "listing to resolve a derived id failed"),
        }
    }
}

fn derived_in(text: &str) -> Option<i64> {
    ids::canonical_integer(text).filter(|n| ids::may_be_derived(*n))
}

/// An id an operation names, to resolve in place: an image's, or a value
/// of a lookup by id.
enum IdSlot<'a> {
    Image(&'a mut Text),
    Value(&'a mut String),
}

impl IdSlot<'_> {
    fn as_str(&self) -> &str {
        match self {
            IdSlot::Image(id) => id,
            IdSlot::Value(value) => value,
        }
    }

    fn set(&mut self, id: &str) {
        match self {
            IdSlot::Image(slot) => **slot = id.into(),
            IdSlot::Value(slot) => **slot = id.to_owned(),
        }
    }
}

/// The ids an operation names, to resolve in place.
fn ids_of(op: &mut ImageOp) -> Vec<IdSlot<'_>> {
    match op {
        ImageOp::Show(id) => vec![IdSlot::Image(&mut id.0)],
        ImageOp::GetMany(many) if many.key != LookupKey::Name => many.values.iter_mut().map(IdSlot::Value).collect(),
        ImageOp::GetMany(_) | ImageOp::List(_) => Vec::new(),
        ImageOp::Write(write) => match write {
            WriteOp::Snapshot(_) | WriteOp::Register(..) => Vec::new(),
            WriteOp::Update { id, .. }
            | WriteOp::Delete { id, .. }
            | WriteOp::Restore(id)
            | WriteOp::SetMetadata { id, .. }
            | WriteOp::SetMetadataItem { id, .. }
            | WriteOp::DeleteMetadataItem { id, .. } => vec![IdSlot::Image(&mut id.0)],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Image;

    #[test]
    fn shown_ids_resolve_without_a_walk() {
        let resolver = IdResolver::default();
        let uuid = "70a599e0-31e7-49b7-b260-868f441e862b";
        resolver.note(&Outcome::Image(Image { id: ImageId::new(uuid), ..Image::default() }));
        let n = ids::derived(uuid);
        assert_eq!(resolver.shown.get(&n).map(|id| id.0.clone()).as_deref(), Some(uuid));
        let mut op = ImageOp::Show(ImageId::new(n.to_string()));
        assert_eq!(ids_of(&mut op).len(), 1);
    }
}
