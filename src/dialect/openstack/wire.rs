//! Nova's image JSON read straight into the canonical [`Image`], one pass
//! over the body, plus the status vocabulary both halves share.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::{EXTRA_ALTERNATE, EXTRA_DISK_CONFIG, EXTRA_IMAGE_TYPE, EXTRA_PREFIX, EXTRA_PROGRESS};
use crate::dialect::fields::{BodyText, KnownFields};
use crate::dialect::timestamp::parse_iso8601;
use crate::model::{Image, ImageId, ImageStatus, Text};

/// Nova's word for a canonical status.
pub fn status_word(status: ImageStatus) -> &'static str {
    match status {
        ImageStatus::Active => "ACTIVE",
        ImageStatus::Saving => "SAVING",
        ImageStatus::Trashed | ImageStatus::Deleted => "DELETED",
        ImageStatus::Error => "ERROR",
        ImageStatus::Unknown => "UNKNOWN",
    }
}

/// The canonical status of a word Nova (or Glance behind it) uses, any case.
pub fn status_of_word(word: &str) -> Option<ImageStatus> {
    const WORDS: [(&str, ImageStatus); 11] = [
        ("active", ImageStatus::Active),
        ("saving", ImageStatus::Saving),
        ("queued", ImageStatus::Saving),
        ("deleted", ImageStatus::Deleted),
        ("pending_delete", ImageStatus::Deleted),
        ("error", ImageStatus::Error),
        ("killed", ImageStatus::Error),
        ("unknown", ImageStatus::Unknown),
        ("uploading", ImageStatus::Unknown),
        ("importing", ImageStatus::Unknown),
        ("deactivated", ImageStatus::Unknown),
    ];
    WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map(|&(_, s)| s)
}

/// `{"image": {…}}`.
#[derive(serde::Deserialize)]
pub struct ShowBody {
    pub image: NovaImage,
}

/// `{"images": […], "images_links": […]}`, read into canonical images.
pub struct ListBody {
    pub images: Vec<Image>,
    /// Nova links the next page only when more may follow.
    pub has_next: bool,
}

/// Bytes an image takes at least in a detail list, for the room to reserve.
const DETAIL_IMAGE_BYTES: usize = 512;

impl ListBody {
    /// Reads a list reply, with room reserved for about as many images as
    /// its length can hold, so the images are not moved as the list grows.
    pub fn read(text: &str) -> serde_json::Result<ListBody> {
        let mut de = serde_json::Deserializer::from_str(text);
        let body = de.deserialize_map(ListVisitor { capacity: text.len() / DETAIL_IMAGE_BYTES })?;
        de.end()?;
        Ok(body)
    }
}

struct ListVisitor {
    capacity: usize,
}

impl<'de> Visitor<'de> for ListVisitor {
    type Value = ListBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Nova image list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListBody, A::Error> {
        let mut images = None;
        let mut has_next = false;
        while let Some(key) = map.next_key::<BodyText<'de>>()? {
            match &*key.0 {
                "images" => images = Some(map.next_value_seed(ImagesSeed { capacity: self.capacity })?),
                "images_links" => {
                    has_next =
                        map.next_value::<Option<Vec<Link<'de>>>>()?.unwrap_or_default().iter().any(|l| l.is("next"))
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let images = images.ok_or_else(|| de::Error::missing_field("images"))?;
        Ok(ListBody { images, has_next })
    }
}

/// The `images` array, into a vector made with room for `capacity`.
struct ImagesSeed {
    capacity: usize,
}

impl<'de> de::DeserializeSeed<'de> for ImagesSeed {
    type Value = Vec<Image>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Image>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ImagesSeed {
    type Value = Vec<Image>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of Nova images")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Image>, A::Error> {
        let mut images = Vec::with_capacity(self.capacity);
        while let Some(NovaImage(image)) = seq.next_element()? {
            images.push(image);
        }
        Ok(images)
    }
}

#[derive(serde::Deserialize)]
pub struct Link<'a> {
    #[serde(borrow)]
    rel: Option<BodyText<'a>>,
    /// Left as bytes: most links are dropped unread, and only the one kept
    /// is worth checking for UTF-8.
    #[serde(borrow)]
    href: Option<Raw<'a>>,
}

impl Link<'_> {
    fn is(&self, rel: &str) -> bool {
        self.rel.as_ref().is_some_and(|r| r.0 == rel)
    }
}

/// A string's bytes, escapes resolved, borrowed from the body when it has
/// none.
struct Raw<'a>(Cow<'a, [u8]>);

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Raw<'de>, E> {
                Ok(Raw(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw<'de>, E> {
                Ok(Raw(Cow::Owned(v.to_owned())))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Raw<'de>, E> {
                Ok(Raw(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw<'de>, E> {
                Ok(Raw(Cow::Owned(v.as_bytes().to_owned())))
            }
        }
        d.deserialize_bytes(RawVisitor)
    }
}

/// An image's `links`, of which only Glance's `alternate` href is kept.
struct Alternate(Option<String>);

impl<'de> Deserialize<'de> for Alternate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LinksVisitor;
        impl<'de> Visitor<'de> for LinksVisitor {
            type Value = Alternate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of links")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Alternate, A::Error> {
                let mut alternate = None;
                while let Some(link) = seq.next_element::<Link<'de>>()? {
                    if link.is("alternate") && alternate.is_none() {
                        alternate = Some(link.href);
                    }
                }
                let href = alternate.flatten().map(|href| {
                    String::from_utf8(href.0.into_owned()).map_err(|_| de::Error::custom("a link's href is not UTF-8"))
                });
                Ok(Alternate(href.transpose()?))
            }
        }
        d.deserialize_seq(LinksVisitor)
    }
}

#[derive(serde::Deserialize)]
struct ServerRef {
    id: Option<Text>,
}

/// One image of a show, list or detail reply.
pub struct NovaImage(pub Image);

/// The fields of Nova's image view.
#[derive(Debug, Clone, Copy)]
enum Field {
    Id,
    Name,
    MinRam,
    MinDisk,
    Metadata,
    Created,
    Updated,
    Status,
    Progress,
    Size,
    Links,
    Server,
    DiskConfig,
}

impl KnownFields for Field {
    fn named(key: &str) -> Option<Field> {
        Some(match key {
            "id" => Field::Id,
            "name" => Field::Name,
            "minRam" => Field::MinRam,
            "minDisk" => Field::MinDisk,
            "metadata" => Field::Metadata,
            "created" => Field::Created,
            "updated" => Field::Updated,
            "status" => Field::Status,
            "progress" => Field::Progress,
            "OS-EXT-IMG-SIZE:size" => Field::Size,
            "links" => Field::Links,
            "server" => Field::Server,
            "OS-DCF:diskConfig" => Field::DiskConfig,
            _ => return None,
        })
    }
}

/// Whether `openstack.<key>` holds an unknown wire field to re-emit: the
/// renderer writes the known fields itself, and an extra must never shadow
/// them.
pub fn is_reemitted_extra(key: &str) -> bool {
    key.strip_prefix(EXTRA_PREFIX).is_some_and(|field| {
        Field::named(field).is_none()
            && ![EXTRA_ALTERNATE, EXTRA_IMAGE_TYPE, EXTRA_PROGRESS, EXTRA_DISK_CONFIG].contains(&key)
    })
}

/// A non-negative integer sent as a number or as digits (`"256"`, Rackspace
/// era); `null` is unknown.
struct Lenient(Option<u64>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct LenientVisitor;
        impl Visitor<'_> for LenientVisitor {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or a string of digits")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                u64::try_from(v).map(|v| Lenient(Some(v))).map_err(|_| E::custom(format_args!("negative value {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lenient, E> {
                if v.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&v) {
                    Ok(Lenient(Some(v as u64)))
                } else {
                    Err(E::custom(format_args!("not a whole number: {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                let v = v.trim();
                if v.is_empty() {
                    return Ok(Lenient(None));
                }
                v.parse().map(|n| Lenient(Some(n))).map_err(|_| E::custom(format_args!("not a number: {v:?}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(LenientVisitor)
    }
}

/// A timestamp; `null` or an unreadable one is unknown.
struct Stamp(Option<time::OffsetDateTime>);

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StampVisitor;
        impl Visitor<'_> for StampVisitor {
            type Value = Stamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 8601 timestamp or null")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Stamp, E> {
                Ok(Stamp(parse_iso8601(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Stamp, E> {
                Ok(Stamp(None))
            }
        }
        d.deserialize_any(StampVisitor)
    }
}

impl<'de> Deserialize<'de> for NovaImage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ImageVisitor(std::marker::PhantomData))
    }
}

struct ImageVisitor<'de>(std::marker::PhantomData<&'de ()>);

impl<'de> Visitor<'de> for ImageVisitor<'de> {
    type Value = NovaImage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Nova image object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NovaImage, A::Error> {
        let mut image = Image::default();
        let mut seen = Seen::default();
        while let Some(field) = Field::next_known(&mut map, EXTRA_PREFIX, &mut image.extra)? {
            match field {
                Field::Id => image.id = map.next_value::<ImageId>()?,
                Field::Name => image.name = map.next_value::<Option<Text>>()?.unwrap_or_default(),
                Field::MinRam => image.min_ram_mb = map.next_value::<Lenient>()?.0,
                Field::MinDisk => image.min_disk_gb = map.next_value::<Lenient>()?.0,
                Field::Metadata => image.metadata = map.next_value::<Option<BTreeMap<_, _>>>()?.unwrap_or_default(),
                Field::Created => image.created = map.next_value::<Stamp>()?.0,
                Field::Updated => image.updated = map.next_value::<Stamp>()?.0,
                Field::Status => image.backend_status = map.next_value()?,
                Field::Progress => seen.progress = map.next_value::<Lenient>()?.0,
                Field::Size => image.size_bytes = map.next_value::<Lenient>()?.0,
                Field::Links => seen.alternate = map.next_value::<Alternate>()?.0,
                Field::Server => seen.server = map.next_value::<Option<ServerRef>>()?.and_then(|s| s.id),
                Field::DiskConfig => seen.disk_config = map.next_value()?,
            }
        }
        if image.id.0.is_empty() {
            return Err(de::Error::missing_field("id"));
        }
        seen.apply(&mut image);
        Ok(NovaImage(image))
    }
}

/// Wire fields that land in the image only once the whole object is read.
#[derive(Default)]
struct Seen {
    progress: Option<u64>,
    alternate: Option<String>,
    server: Option<Text>,
    disk_config: Option<Value>,
}

impl Seen {
    fn apply(self, image: &mut Image) {
        if let Some(word) = &image.backend_status {
            image.status = status_of_word(word).unwrap_or(ImageStatus::Unknown);
        }
        if image.status == ImageStatus::Saving && self.progress == Some(25) {
            image.extra.insert(EXTRA_PROGRESS.into(), Value::from(25));
        }
        // the metadata the model has slots for, in one pass over its items
        let (mut instance, mut auto_disk_config) = (None, false);
        for (key, value) in &image.metadata {
            auto_disk_config |= key == "auto_disk_config";
            let Some(text) = value.as_str() else { continue };
            match key.as_str() {
                "architecture" => image.architecture = Some(text.into()),
                "description" => image.description = Some(text.into()),
                "os_distro" => image.os = Some(text.into()),
                "instance_uuid" => instance = Some(text),
                "image_type" => {
                    image.extra.insert(EXTRA_IMAGE_TYPE.into(), Value::from(text));
                }
                _ => {}
            }
        }
        image.server_id = self.server.or_else(|| instance.map(Text::from));
        if let Some(disk_config) = self.disk_config.filter(|_| !auto_disk_config) {
            image.extra.insert(EXTRA_DISK_CONFIG.into(), disk_config);
        }
        if let Some(href) = self.alternate {
            image.extra.insert(EXTRA_ALTERNATE.into(), Value::String(href));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_reads_its_images_and_whether_a_next_page_is_linked() {
        let body = r#"{"images": [{"id": "a", "name": "one"}, {"id": "b", "name": "two"}],
            "images_links": [{"rel": "next", "href": "http://nova/v2.1/p/images?marker=b"}], "other": [1]}"#;
        let list = ListBody::read(body).unwrap();
        let ids: Vec<_> = list.images.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(list.has_next);
        let last = ListBody::read(r#"{"images": [], "images_links": [{"rel": "prev", "href": "x"}]}"#).unwrap();
        assert!(last.images.is_empty());
        assert!(!last.has_next);
        assert!(!ListBody::read(r#"{"images": [], "images_links": null}"#).unwrap().has_next);
        for bad in ["{}", r#"{"images": {}}"#, r#"{"images": [{"name": "no id"}]}"#, r#"{"images": []} trailing"#] {
            assert!(ListBody::read(bad).is_err(), "{bad}");
        }
    }
}
