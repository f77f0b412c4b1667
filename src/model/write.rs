//! The canonical writes: snapshot, register, update, delete, restore and the
//! metadata changes, each as any dialect expresses it.

use serde_json::Value;

use super::{Extra, Filter, Image, ImageId, Metadata};

/// An operation that changes the catalog.
///
/// | op                    | Hostway | OpenStack                        | GoGrid     | Foreman |
/// |-----------------------|---------|----------------------------------|------------|---------|
/// | `Snapshot`            | —       | `POST /servers/{id}/action`      | `save`     | —       |
/// | `Register`            | —       | —                                | —          | `POST`  |
/// | `Update`              | —       | —                                | `edit`     | `PUT`   |
/// | `Delete`              | —       | `DELETE /images/{id}`            | `delete`   | `DELETE`|
/// | `Restore`             | —       | —                                | `restore`  | —       |
/// | `SetMetadata`         | —       | `POST`/`PUT …/metadata`          | —          | —       |
/// | `SetMetadataItem`     | —       | `PUT …/metadata/{key}`           | —          | —       |
/// | `DeleteMetadataItem`  | —       | `DELETE …/metadata/{key}`        | —          | —       |
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Save a new image from a server: GoGrid `save` and OpenStack
    /// `createImage` are the same act.
    Snapshot(Snapshot),
    /// Register an existing provider template as an image (Foreman create).
    /// The image carries what the caller gave; the backend assigns the id.
    /// A backend that keeps the images itself holds it to the checks.
    Register(Image, Checks),
    /// Change some fields of an image: GoGrid `edit`, Foreman update.
    Update { id: ImageId, patch: ImagePatch },
    /// Delete an image. With `trash`, the caller's dialect expects it in a
    /// restorable trash (GoGrid); a backend with a trash honours it, one
    /// without deletes for good.
    Delete { id: ImageId, trash: bool },
    /// Bring an image back from the trash.
    Restore(ImageId),
    /// Merge `items` into the image's metadata, or with `replace` make them all of it.
    SetMetadata { id: ImageId, items: Metadata, replace: bool },
    /// Set one metadata key.
    SetMetadataItem { id: ImageId, key: String, value: Value },
    /// Remove one metadata key; an absent key is not found.
    DeleteMetadataItem { id: ImageId, key: String },
}

impl WriteOp {
    /// A short name for logs and not-implemented errors.
    pub fn name(&self) -> &'static str {
        match self {
            WriteOp::Snapshot(_) => "save an image from a server",
            WriteOp::Register(..) => "register an image",
            WriteOp::Update { .. } => "update an image",
            WriteOp::Delete { .. } => "delete an image",
            WriteOp::Restore(_) => "restore an image",
            WriteOp::SetMetadata { .. } => "set image metadata",
            WriteOp::SetMetadataItem { .. } => "set an image metadata item",
            WriteOp::DeleteMetadataItem { .. } => "delete an image metadata item",
        }
    }

    /// The image the operation changes, when it names one.
    pub fn image_id(&self) -> Option<&ImageId> {
        match self {
            WriteOp::Snapshot(_) | WriteOp::Register(..) => None,
            WriteOp::Update { id, .. }
            | WriteOp::Delete { id, .. }
            | WriteOp::Restore(id)
            | WriteOp::SetMetadata { id, .. }
            | WriteOp::SetMetadataItem { id, .. }
            | WriteOp::DeleteMetadataItem { id, .. } => Some(id),
        }
    }
}

/// What a backend that keeps the images itself (the embedded catalog)
/// checks before it registers one; an upstream of the caller's dialect
/// checks the same itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checks {
    /// Values no other image may already have: a conflict.
    pub unique: Vec<Unique>,
    /// Records the image names by id (its operating system), which some
    /// image must already show: the new image takes their names from it;
    /// one that none shows is unknown and refuses the register.
    pub references: Vec<Reference>,
}

/// A value no two images may share: another image that meets `taken`
/// (and, for a change, shows what the changed image shows where `alike`
/// looks) already has it, and a write that would give it to a second one
/// is a conflict about `field`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unique {
    /// The caller's name for the field (`name`, `uuid`).
    pub field: &'static str,
    pub taken: Filter,
    pub alike: Option<Alike>,
}

/// Whether two images, as the caller's edge shows them, agree on a field
/// (Foreman: the same operating system), judged on the changed image first.
#[derive(Clone, Copy)]
pub struct Alike(pub fn(&Image, &Image) -> bool);

/// An edge has one way to show a field: any two compare equal.
impl PartialEq for Alike {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Alike {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Alike")
    }
}

/// A record a new image names by id (Foreman's operating system,
/// architecture or compute resource), known when an image shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The caller's name for the record (`operatingsystem`) and the id given.
    pub record: &'static str,
    pub id: String,
    /// The images that show the record.
    pub shown_by: Filter,
    /// A record no image shows is left as the edge shows it by default,
    /// rather than refused (a compute resource no image names yet).
    pub optional: bool,
    /// Gives the new image the record's names, from an image that shows it.
    pub adopt: Adopt,
}

/// Copies what a record is called from an image that shows it to another.
#[derive(Clone, Copy)]
pub struct Adopt(pub fn(&Image, &mut Image));

/// One edge, one way to copy a record's names: any two compare equal.
impl PartialEq for Adopt {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Adopt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Adopt")
    }
}

/// What a write that names one image asks of the backend first, beyond the
/// write itself, on any backend: that the image be found by the unique name
/// the caller's edge shows (GoGrid's `GSI-…`), that it lie within the
/// path's scope (a Foreman compute resource), and that no other image take
/// the values it would get. Empty: the write goes as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteGuard {
    /// The image is named by this unique name, as `shows` judges it,
    /// instead of by id.
    pub by_name: Option<(String, super::ShownName)>,
    /// Conditions the image must meet; an image that fails them is not found.
    pub within: Filter,
    /// Values the changed image may not share with another.
    pub unique: Vec<Unique>,
}

impl WriteGuard {
    pub fn is_empty(&self) -> bool {
        self.by_name.is_none() && self.within.is_empty() && self.unique.is_empty()
    }
}

/// What a snapshot is saved from and named.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub server_id: String,
    pub name: String,
    pub description: Option<String>,
    pub metadata: Metadata,
    /// The caller's dialect names images by UUID (OpenStack): a backend
    /// that chooses the new image's id makes it a UUID.
    pub uuid_id: bool,
}

/// The fields an update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImagePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub public: Option<bool>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    /// Dialect-owned fields to set (`foreman.username`), namespaced like `Image::extra`.
    pub extra: Extra,
}

impl ImagePatch {
    pub fn is_empty(&self) -> bool {
        *self == ImagePatch::default()
    }

    /// Sets the patch's fields on `image`.
    pub fn apply(&self, image: &mut Image) {
        if let Some(name) = &self.name {
            image.name = name.as_str().into();
        }
        if let Some(description) = &self.description {
            image.description = Some(description.as_str().into());
        }
        if let Some(public) = self.public {
            image.public = Some(public);
        }
        if let Some(os) = &self.os {
            image.os = Some(os.as_str().into());
        }
        if let Some(architecture) = &self.architecture {
            image.architecture = Some(architecture.as_str().into());
        }
        for (key, value) in &self.extra {
            image.extra.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_sets_only_what_it_names() {
        let mut image = Image {
            id: ImageId::new("1"),
            name: "old".into(),
            description: Some("kept".into()),
            public: Some(false),
            extra: [("foreman.username".into(), Value::from("root"))].into(),
            ..Image::default()
        };
        let patch = ImagePatch {
            name: Some("new".into()),
            public: Some(true),
            extra: [("foreman.uuid".into(), Value::from("tpl-1"))].into(),
            ..ImagePatch::default()
        };
        patch.apply(&mut image);
        assert_eq!(image.name, "new");
        assert_eq!(image.description.as_deref(), Some("kept"));
        assert_eq!(image.public, Some(true));
        assert_eq!(image.extra.len(), 2);
        assert!(ImagePatch::default().is_empty() && !patch.is_empty());
    }
}
