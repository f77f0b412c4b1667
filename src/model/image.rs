//! The canonical image: its id, name, status and the facts every dialect
//! shows some of, with what a dialect keeps that no other has (`extra`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// The model's string: up to 24 bytes kept inline (names, status words,
/// zones), longer ones on the heap, so decoding an image does not allocate
/// for each short field. Its serde form is a plain string.
pub type Text = compact_str::CompactString;

/// An image id, opaque to the gateway. Numeric ids stay strings here; a
/// dialect with numeric ids renders them as numbers on the wire. It reads
/// from a string or an integer, whichever a body carries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct ImageId(pub Text);

impl<'de> Deserialize<'de> for ImageId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = ImageId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an image id, a string or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ImageId, E> {
                Ok(ImageId(v.into()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ImageId, E> {
                Ok(ImageId(v.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ImageId, E> {
                Ok(ImageId(compact_str::ToCompactString::to_compact_string(&v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ImageId, E> {
                Ok(ImageId(compact_str::ToCompactString::to_compact_string(&v)))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

impl ImageId {
    pub fn new(id: impl Into<Text>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an integer, when it is one (GoGrid and Foreman ids).
    pub fn as_number(&self) -> Option<i64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ImageId {
    fn from(s: &str) -> Self {
        Self(s.into())
    }
}

/// The portable lifecycle state of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageStatus {
    #[default]
    Active,
    Saving,
    Trashed,
    Deleted,
    Error,
    Unknown,
}

impl ImageStatus {
    pub const ALL: [ImageStatus; 6] = [
        ImageStatus::Active,
        ImageStatus::Saving,
        ImageStatus::Trashed,
        ImageStatus::Deleted,
        ImageStatus::Error,
        ImageStatus::Unknown,
    ];
}

/// Fields a dialect keeps that the model has no slot for, carried under keys
/// namespaced by the dialect that owns them (`"gogrid.location"`), so a
/// round trip through the gateway loses nothing the owning dialect said.
pub type Extra = BTreeMap<Text, Value>;

/// Free-form key/value properties (OpenStack image metadata), in key order.
pub type Metadata = BTreeMap<Text, Value>;

/// The canonical image: the union of what the four dialects say about one.
/// Its serde form is the durable catalog's storage format, not a wire format.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Image {
    pub id: ImageId,
    /// The display name (GoGrid's `friendlyName`).
    pub name: Text,
    pub status: ImageStatus,
    /// The backend's own word for the status, when it had one (`"Trash"`, `"queued"`).
    pub backend_status: Option<Text>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated: Option<OffsetDateTime>,
    pub description: Option<Text>,
    /// Operating system, as a display name (`"CentOS 5.3 (32-bit)"`).
    pub os: Option<Text>,
    /// Architecture, as a display name (`"x86_64"`, `"64-bit"`).
    pub architecture: Option<Text>,
    /// Visible to every tenant (GoGrid `isPublic`; Hostway type `BASE`).
    pub public: Option<bool>,
    pub min_disk_gb: Option<u64>,
    pub min_ram_mb: Option<u64>,
    pub size_bytes: Option<u64>,
    /// The server the image was saved from.
    pub server_id: Option<Text>,
    /// Zones or datacenters where the image is available.
    pub zones: Vec<Text>,
    pub metadata: Metadata,
    pub extra: Extra,
}

impl Image {
    /// A dialect-owned extra field, if present.
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }
}
