//! A write's guard (`model::WriteGuard`), carried out on the backend before
//! the write itself: the image named by the unique name the caller's edge
//! shows is found by it (as a get by name finds it) on every backend; an
//! image outside the path's scope is not found, and a value another image
//! already has is a conflict, where the gateway judges them:
//!
//! - the embedded catalog keeps every field: all of the guard applies;
//! - an upstream checks the scope on what the image shows, but for the
//!   conditions every image it holds meets (`Backend::unmet`: another
//!   dialect's fields, its own scope). Uniqueness is left to it: one of the
//!   caller's dialect validates its own (Foreman answers its own 422), one
//!   of another dialect has no such rule to keep.
//!
//! A write the backend cannot express is refused by the backend before
//! anything is read. The catalog's checks read before the write, so two
//! writes racing for one value may both pass.

use crate::backend::Backend;
use crate::dialect::Outcome;
use crate::model::{
    ErrorKind, GatewayError, GetMany, Image, ImageId, ImageOp, ListQuery, LookupKey, Side, View, WriteGuard, WriteOp,
};

/// `op` as the guard lets it go, naming its image by id; `None` when the
/// guard leaves it as it is. `asked` is the id the caller gave, for a
/// not-found.
pub(super) async fn check(
    guard: Option<&WriteGuard>,
    op: &ImageOp,
    asked: &str,
    backend: &Backend,
    scope: Option<&str>,
) -> Result<Option<ImageOp>, GatewayError> {
    let (ImageOp::Write(write), Some(guard)) = (op, guard) else { return Ok(None) };
    if guard.is_empty() || write.image_id().is_none() {
        return Ok(None);
    }
    backend.expresses(write)?;
    let mut write = write.clone();
    if let Some((name, shows)) = &guard.by_name {
        let get = GetMany { key: LookupKey::Name, values: vec![name.clone()], shown_name: Some(*shows) };
        let found = match backend.execute(&ImageOp::GetMany(get), scope).await? {
            Outcome::Images(images) => images,
            _ => return Err(GatewayError::internal("a get by name answered something else than images")),
        };
        let id = match found.as_slice() {
            [image] => image.id.clone(),
            [] => return Err(GatewayError::image_not_found(name)),
            _ => return Err(GatewayError::bad_request(format!("the name {name} names more than one image"))),
        };
        set_target(&mut write, id);
    }
    let id = write.image_id().cloned().unwrap_or_default();
    let within = backend.unmet(&guard.within, scope);
    let unique = if backend.dialect().is_none() { guard.unique.as_slice() } else { &[] };
    if within.is_empty() && unique.is_empty() {
        return Ok(Some(ImageOp::Write(write)));
    }
    let image = shown(backend, &id, scope).await?;
    if !within.matches(&image) {
        return Err(GatewayError::image_not_found(asked));
    }
    let changed = after(&write, image);
    for unique in unique {
        let query = ListQuery { filter: unique.taken.clone(), view: View::Detail, ..ListQuery::default() };
        let others = match backend.execute(&ImageOp::List(query), scope).await? {
            Outcome::List(page) => page.images,
            _ => return Err(GatewayError::internal("a list answered something else than a page")),
        };
        let takes = |other: &Image| other.id != id && unique.alike.is_none_or(|alike| (alike.0)(&changed, other));
        if others.iter().any(takes) {
            let message = format!("{} has already been taken", unique.field);
            return Err(GatewayError::new(ErrorKind::Conflict, Side::Downstream, message));
        }
    }
    Ok(Some(ImageOp::Write(write)))
}

/// The image as the backend has it now.
async fn shown(backend: &Backend, id: &ImageId, scope: Option<&str>) -> Result<Image, GatewayError> {
    match backend.execute(&ImageOp::Show(id.clone()), scope).await? {
        Outcome::Image(image) => Ok(image),
        _ => Err(GatewayError::internal("a show answered something else than an image")),
    }
}

/// The image as the write would leave it.
fn after(write: &WriteOp, mut image: Image) -> Image {
    if let WriteOp::Update { patch, .. } = write {
        patch.apply(&mut image);
    }
    image
}

/// Names the image a write changes by `id`.
fn set_target(write: &mut WriteOp, id: ImageId) {
    match write {
        WriteOp::Snapshot(_) | WriteOp::Register(..) => {}
        WriteOp::Update { id: target, .. }
        | WriteOp::Delete { id: target, .. }
        | WriteOp::Restore(target)
        | WriteOp::SetMetadata { id: target, .. }
        | WriteOp::SetMetadataItem { id: target, .. }
        | WriteOp::DeleteMetadataItem { id: target, .. } => *target = id,
    }
}
