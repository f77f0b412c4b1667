//! The canonical operations a caller asks for: show, get many, list (with
//! its filter, order, page and view) and the writes.

use time::OffsetDateTime;

use super::{Image, ImageId, PageRequest, WriteOp};

/// One canonical image operation, decoded from any dialect. Built once per
/// request and borrowed after, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ImageOp {
    Show(ImageId),
    GetMany(GetMany),
    List(ListQuery),
    Write(WriteOp),
}

impl ImageOp {
    /// A short name for logs and not-implemented errors.
    pub fn name(&self) -> &'static str {
        match self {
            ImageOp::Show(_) => "show image",
            ImageOp::GetMany(_) => "get many images",
            ImageOp::List(q) if q.view == View::Detail => "list images in detail",
            ImageOp::List(_) => "list images",
            ImageOp::Write(write) => write.name(),
        }
    }

    /// A short snake_case name, for metrics and the access log.
    pub fn kind(&self) -> &'static str {
        match self {
            ImageOp::Show(_) => "show",
            ImageOp::GetMany(_) => "get_many",
            ImageOp::List(q) if q.view == View::Detail => "list_detail",
            ImageOp::List(_) => "list",
            ImageOp::Write(write) => match write {
                WriteOp::Snapshot(_) => "snapshot",
                WriteOp::Register(..) => "register",
                WriteOp::Update { .. } => "update",
                WriteOp::Delete { .. } => "delete",
                WriteOp::Restore(_) => "restore",
                WriteOp::SetMetadata { .. } => "set_metadata",
                WriteOp::SetMetadataItem { .. } => "set_metadata_item",
                WriteOp::DeleteMetadataItem { .. } => "delete_metadata_item",
            },
        }
    }
}

/// What a get-many names its images by (GoGrid `id`, `name` or `image`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKey {
    Id,
    Name,
    IdOrName,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GetMany {
    pub key: LookupKey,
    pub values: Vec<String>,
    /// How the caller's edge shows an image's unique name, when it has one
    /// (GoGrid's `GSI-…`): a lookup by name finds the images that show it.
    pub shown_name: Option<ShownName>,
}

/// Whether an image, as the caller's edge shows it, has the given unique name.
#[derive(Clone, Copy)]
pub struct ShownName(pub fn(&Image, &str) -> bool);

impl ShownName {
    pub fn matches(&self, image: &Image, name: &str) -> bool {
        (self.0)(image, name)
    }
}

/// An edge has one way to show names: any two compare equal.
impl PartialEq for ShownName {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ShownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownName")
    }
}

/// Summary lists carry ids and names; detail lists carry whole images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    Summary,
    #[default]
    Detail,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub filter: Filter,
    /// Set when the caller's dialect shows the size of the listing's scope
    /// (Foreman's `total`): the conditions of that scope (the path's parent),
    /// which the total counts before `filter` and paging.
    pub scope: Option<Box<Filter>>,
    pub sort: Option<Sort>,
    pub page: PageRequest,
    pub view: View,
    /// The caller's dialect reports how many images match, so the backend
    /// must count them even when the upstream does not say.
    pub count: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Id,
    Name,
    Created,
    Updated,
    Os,
    Architecture,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

/// Conditions an image must meet to be listed. Every condition is exact
/// unless its doc says otherwise; `None` means "any".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub id: Option<ImageId>,
    pub name: Option<String>,
    /// Name contains this text, ignoring case (Foreman `name ~ text`).
    pub name_like: Option<String>,
    /// Changed at or after this instant.
    pub changed_since: Option<OffsetDateTime>,
    /// Images whose minimum RAM is at least this many MiB.
    pub min_ram_mb: Option<u64>,
    /// Images whose minimum disk is at least this many GiB.
    pub min_disk_gb: Option<u64>,
    pub server_id: Option<String>,
    pub zone: Option<String>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    /// Conditions on dialect-owned extra fields: `(key, value)` pairs, the
    /// value compared with the field's string form.
    pub extra: Vec<(String, String)>,
    /// Conditions on fields as the caller's edge shows them.
    pub shown: Vec<Shown>,
}

/// A condition on a field as the caller's edge shows it: `is` answers
/// whether the image, as that edge renders it, shows `value` there. The edge
/// builds `is` on the very function it renders the field with, so a filter
/// judges what the caller sees. No upstream applies it: it always stays in
/// the residual filter, but where it can never fail (see `reads`) or the
/// upstream's own scope guarantees it.
#[derive(Clone)]
pub struct Shown {
    /// The edge's name for the field (`isPublic`), for logs and equality.
    pub field: &'static str,
    pub value: String,
    pub is: fn(&Image, &str) -> bool,
    /// The one extra field (`foreman.compute_resource_id`) the condition
    /// reads, when an image without it always meets it (it then shows the
    /// request's own value). Images of an upstream whose dialect never
    /// writes that extra all meet it, so such an upstream need not walk.
    pub reads: Option<&'static str>,
}

impl Shown {
    pub fn new(field: &'static str, value: impl Into<String>, is: fn(&Image, &str) -> bool) -> Self {
        Self { field, value: value.into(), is, reads: None }
    }

    /// A condition every image without the extra `reads` meets.
    pub fn reading(
        field: &'static str,
        value: impl Into<String>,
        is: fn(&Image, &str) -> bool,
        reads: &'static str,
    ) -> Self {
        Self { reads: Some(reads), ..Self::new(field, value, is) }
    }

    /// True when every image an upstream of the dialect whose extras are
    /// named `namespace` (`gogrid.`) decodes meets the condition.
    pub fn holds_for_all_of(&self, namespace: &str) -> bool {
        self.reads.is_some_and(|extra| !extra.starts_with(namespace))
    }

    pub fn matches(&self, image: &Image) -> bool {
        (self.is)(image, &self.value)
    }
}

/// Two conditions are the same when they name the same field and value:
/// an edge has one rendering per field.
impl PartialEq for Shown {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field && self.value == other.value
    }
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shown({} = {:?})", self.field, self.value)
    }
}
