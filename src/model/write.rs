use std::collections::BTreeMap;

use serde_json::Value;

use super::{Extra, Filter, Image, ImageId};

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
    /// A backend that keeps the images itself refuses it when another image
    /// takes one of the unique values.
    Register(Image, Vec<Unique>),
    /// Change some fields of an image: GoGrid `edit`, Foreman update.
    Update { id: ImageId, patch: ImagePatch },
    /// Delete an image. With `trash`, the caller's dialect expects it in a
    /// restorable trash (GoGrid); a backend with a trash honours it, one
    /// without deletes for good.
    Delete { id: ImageId, trash: bool },
    /// Bring an image back from the trash.
    Restore(ImageId),
    /// Merge `items` into the image's metadata, or with `replace` make them all of it.
    SetMetadata { id: ImageId, items: BTreeMap<String, Value>, replace: bool },
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

/// A value no two images may share: another image that meets `taken`
/// already has it, and a write that would give it to a second one is a
/// conflict about `field`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unique {
    /// The caller's name for the field (`name`, `uuid`).
    pub field: &'static str,
    pub taken: Filter,
}

/// What a snapshot is saved from and named.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub server_id: String,
    pub name: String,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, Value>,
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
            image.name.clone_from(name);
        }
        if let Some(description) = &self.description {
            image.description = Some(description.clone());
        }
        if let Some(public) = self.public {
            image.public = Some(public);
        }
        if let Some(os) = &self.os {
            image.os = Some(os.clone());
        }
        if let Some(architecture) = &self.architecture {
            image.architecture = Some(architecture.clone());
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
            extra: [("foreman.username".to_owned(), Value::from("root"))].into(),
            ..Image::default()
        };
        let patch = ImagePatch {
            name: Some("new".into()),
            public: Some(true),
            extra: [("foreman.uuid".to_owned(), Value::from("tpl-1"))].into(),
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
