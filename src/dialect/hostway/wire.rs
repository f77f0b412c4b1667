//! Hostway image bodies: reading them into the model and writing the model
//! out in Hostway's field order.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use time::OffsetDateTime;

use crate::dialect::fields::{BodyText, KnownFields};
use http::StatusCode;

use crate::dialect::timestamp::{parse_rfc3339, parse_utc_seconds, utc_seconds};
use crate::dialect::{ListWriter, Reply, ReplyBody, json_out, percent_encode_segment, with_body};
use crate::model::{Image, ImageId, ImageStatus, Text};

/// Prefix of the extra fields this dialect owns.
pub(super) const EXTRA_PREFIX: &str = "hostway.";
/// Extra field keeping a status word outside the known vocabulary.
const EXTRA_STATUS: &str = "hostway.status";
/// The fields Hostway renders itself; extras never shadow them.
const WIRE_FIELDS: [&str; 7] = ["status", "updated", "name", "links", "created", "id", "zones"];

// ---------------------------------------------------------------- status

/// The canonical status of a Hostway status word (case ignored).
pub(super) fn status_from_word(word: &str) -> ImageStatus {
    const WORDS: [(&str, ImageStatus); 5] = [
        ("ACTIVE", ImageStatus::Active),
        ("SAVING", ImageStatus::Saving),
        ("DELETED", ImageStatus::Deleted),
        ("ERROR", ImageStatus::Error),
        ("UNKNOWN", ImageStatus::Unknown),
    ];
    WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map_or(ImageStatus::Unknown, |(_, s)| *s)
}

/// The Hostway word for a canonical status.
pub(super) fn status_word(status: ImageStatus) -> &'static str {
    match status {
        ImageStatus::Active => "ACTIVE",
        ImageStatus::Saving => "SAVING",
        ImageStatus::Trashed | ImageStatus::Deleted => "DELETED",
        ImageStatus::Error => "ERROR",
        ImageStatus::Unknown => "UNKNOWN",
    }
}

/// The word to render for an image: an unknown word a Hostway upstream
/// sent is given back as it was.
pub(super) fn image_status_word(image: &Image) -> &str {
    match (image.status, image.extra_str(EXTRA_STATUS)) {
        (ImageStatus::Unknown, Some(word)) => word,
        (status, _) => status_word(status),
    }
}

/// `type`: a provider template, visible to every account.
pub(super) const TYPE_BASE: &str = "BASE";
/// `type`: an image saved from a customer's server.
pub(super) const TYPE_SERVER: &str = "SERVER";

/// The image's type, as a `type` filter classifies it: `BASE` when it is
/// public, `SERVER` when it is not; the word a Hostway upstream gave when
/// the image says neither, `SERVER` when there is none.
pub(super) fn image_type(image: &Image) -> &str {
    match (image.public, image.extra_str("hostway.type")) {
        (Some(true), _) => TYPE_BASE,
        (Some(false), _) => TYPE_SERVER,
        (None, Some(word)) if word.eq_ignore_ascii_case(TYPE_BASE) => TYPE_BASE,
        (None, _) => TYPE_SERVER,
    }
}

// ---------------------------------------------------------------- timestamps

/// Reads `created`: `YYYY-MM-DDTHH:MM:SS` as UTC, or an RFC 3339 time;
/// anything else (the empty string of a pending image) is no time.
fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    parse_utc_seconds(s, b'T').or_else(|| parse_rfc3339(s))
}

/// `created` as Hostway writes it, in UTC: `YYYY-MM-DDTHH:MM:SS`.
struct Timestamp([u8; 19]);

impl Timestamp {
    /// `None` for years Hostway's format cannot hold (before 0, after 9999).
    fn new(t: OffsetDateTime) -> Option<Self> {
        utc_seconds(t).map(Self)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

// ---------------------------------------------------------------- reading

/// `{"image": {…}}`
#[derive(Deserialize)]
pub(super) struct ShowBody {
    pub image: WireImage,
}

/// `{"images": [{…}, …]}`
#[derive(Deserialize)]
pub(super) struct ListBody {
    pub images: Vec<WireImage>,
}

/// One Hostway image read straight into the model. Fields the model has no
/// slot for land in `extra` as `hostway.<field>`.
pub(super) struct WireImage(pub Image);

impl<'de> Deserialize<'de> for WireImage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ImageVisitor)
    }
}

/// The fields of a Hostway image; other keys are kept as extras.
enum Field {
    Id,
    Name,
    Status,
    Created,
    Updated,
    Zones,
    Links,
}

impl KnownFields for Field {
    fn named(key: &str) -> Option<Self> {
        Some(match key {
            "id" => Field::Id,
            "name" => Field::Name,
            "status" => Field::Status,
            "created" => Field::Created,
            "updated" => Field::Updated,
            "zones" => Field::Zones,
            "links" => Field::Links,
            _ => return None,
        })
    }
}

struct ImageVisitor;

impl<'de> Visitor<'de> for ImageVisitor {
    type Value = WireImage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a hostway image object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireImage, A::Error> {
        let mut id = None;
        // a summary carries no status; say so rather than guess
        let mut image = Image { status: ImageStatus::Unknown, ..Image::default() };
        while let Some(field) = Field::next_known(&mut map, EXTRA_PREFIX, &mut image.extra)? {
            match field {
                Field::Id => id = Some(map.next_value::<ImageId>()?.0),
                Field::Name => image.name = map.next_value::<Option<Text>>()?.unwrap_or_default(),
                Field::Status => {
                    if let Some(word) = map.next_value::<Option<Text>>()? {
                        read_status(&mut image, word);
                    }
                }
                Field::Created => {
                    image.created = map.next_value::<Option<BodyText>>()?.and_then(|t| parse_timestamp(&t.0))
                }
                Field::Updated => {
                    image.updated = map.next_value::<Option<BodyText>>()?.and_then(|t| parse_timestamp(&t.0))
                }
                Field::Zones => image.zones = map.next_value::<Option<Vec<Text>>>()?.unwrap_or_default(),
                Field::Links => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        image.id = ImageId(id.ok_or_else(|| de::Error::missing_field("id"))?);
        Ok(WireImage(image))
    }
}

fn read_status(image: &mut Image, word: Text) {
    image.status = status_from_word(&word);
    if image.status == ImageStatus::Unknown {
        image.extra.insert(EXTRA_STATUS.into(), Value::String(word.to_string()));
    }
    image.backend_status = Some(word);
}

// ---------------------------------------------------------------- writing

/// Where image links point: `{origin}{prefix}/images/`.
#[derive(Clone, Copy)]
pub(super) struct LinkBase<'a> {
    pub origin: &'a str,
    pub prefix: &'a str,
}

impl LinkBase<'_> {
    /// `{origin}{prefix}/images/`, escaped for a JSON string once per reply;
    /// each image adds its percent-encoded id, which needs no escaping.
    fn escaped(&self) -> Vec<u8> {
        let mut head = Vec::with_capacity(self.origin.len() + self.prefix.len() + 8);
        json_out::string_piece(&mut head, self.origin);
        json_out::string_piece(&mut head, self.prefix);
        head.extend_from_slice(b"/images/");
        head
    }
}

/// How much of an image a reply shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `name, links, id, zones` (ImageList)
    Summary,
    /// `status, updated, name, links, created, id, zones` (Image, ImageListDetails)
    Detail,
}

/// One image as Hostway renders it, in its field order; `links` is the
/// escaped [`LinkBase`].
fn write_image(out: &mut Vec<u8>, image: &Image, links: &[u8], shape: Shape) {
    out.push(b'{');
    if shape == Shape::Detail {
        out.extend_from_slice(b"\"status\":");
        json_out::string(out, image_status_word(image));
        out.extend_from_slice(b",\"updated\":null,");
    }
    out.extend_from_slice(b"\"name\":");
    json_out::string(out, &image.name);
    // `{origin}{prefix}/images/{id}/`, the same for `self` and `bookmark`
    let id = percent_encode_segment(image.id.as_str());
    for (i, rel) in ["self", "bookmark"].into_iter().enumerate() {
        out.extend_from_slice(if i == 0 { b",\"links\":[{\"href\":\"" } else { b",{\"href\":\"" });
        out.extend_from_slice(links);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(b"/\",\"rel\":\"");
        out.extend_from_slice(rel.as_bytes());
        out.extend_from_slice(b"\"}");
    }
    out.push(b']');
    if shape == Shape::Detail {
        out.extend_from_slice(b",\"created\":");
        match image.created.or(image.updated).and_then(Timestamp::new) {
            Some(t) => json_out::string(out, t.as_str()),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b",\"id\":");
    json_out::string(out, image.id.as_str());
    out.extend_from_slice(b",\"zones\":[");
    for (i, zone) in image.zones.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_out::string(out, zone);
    }
    out.push(b']');
    for (key, value) in own_extras(image) {
        out.push(b',');
        json_out::string(out, key);
        out.push(b':');
        json_out::value(out, value);
    }
    out.push(b'}');
}

/// This dialect's extra fields, keyed by their wire names, except those the
/// image renders itself.
fn own_extras(image: &Image) -> impl Iterator<Item = (&str, &Value)> {
    image
        .extra
        .iter()
        .filter_map(|(key, value)| key.strip_prefix(EXTRA_PREFIX).map(|wire| (wire, value)))
        .filter(|(wire, _)| !WIRE_FIELDS.contains(wire))
}

/// `{"image": {…}}`
pub(super) fn show_body(image: &Image, links: LinkBase<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(DETAIL_BYTES + 16);
    out.extend_from_slice(b"{\"image\":");
    write_image(&mut out, image, &links.escaped(), Shape::Detail);
    out.push(b'}');
    out
}

/// `{"images": […]}`, image by image: Hostway's lists carry no counts.
pub(super) struct ImagesWriter {
    /// The escaped [`LinkBase`].
    links: Vec<u8>,
    shape: Shape,
}

impl ImagesWriter {
    pub(super) fn new(links: LinkBase<'_>, shape: Shape) -> Self {
        Self { links: links.escaped(), shape }
    }
}

impl ListWriter for ImagesWriter {
    fn image_bytes(&self) -> usize {
        match self.shape {
            Shape::Summary => SUMMARY_BYTES,
            Shape::Detail => DETAIL_BYTES,
        }
    }

    fn head(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"images\":[");
    }

    fn image(&self, out: &mut Vec<u8>, image: &Image, first: bool) {
        if !first {
            out.push(b',');
        }
        write_image(out, image, &self.links, self.shape);
    }

    fn tail(&self, out: &mut Vec<u8>, _more: bool, _last: Option<&ImageId>) {
        out.extend_from_slice(b"]}");
    }

    fn reply(&self, body: ReplyBody) -> Reply {
        with_body(StatusCode::OK, "application/json", body)
    }
}

/// About what one image takes on the wire, links included, so a reply's
/// buffer is sized once rather than grown by doubling.
const DETAIL_BYTES: usize = 320;
const SUMMARY_BYTES: usize = 224;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_and_render_without_zone() {
        let t = parse_timestamp("2011-09-30T02:38:57").unwrap();
        assert_eq!(t, time::macros::datetime!(2011-09-30 02:38:57 UTC));
        assert_eq!(Timestamp::new(t).unwrap().as_str(), "2011-09-30T02:38:57");
        let shifted = parse_timestamp("2011-09-30T04:38:57+02:00").unwrap();
        assert_eq!(Timestamp::new(shifted).unwrap().as_str(), "2011-09-30T02:38:57");
        let early = time::macros::datetime!(0001-02-03 04:05:06.7 -01:00);
        assert_eq!(Timestamp::new(early).unwrap().as_str(), "0001-02-03T05:05:06");
        assert!(Timestamp::new(time::macros::datetime!(-0001-01-01 0:00 UTC)).is_none());
        for bad in ["", "yyyy-mm-ddThh:mm:ss", "2011-13-30T02:38:57", "2011-02-30T02:38:57", "2011-09-30 02:38:57"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert_eq!(parse_timestamp("2011-09-30T24:00:00"), None);
    }

    #[test]
    fn status_words_map_both_ways() {
        assert_eq!(status_from_word("ACTIVE"), ImageStatus::Active);
        assert_eq!(status_from_word("saving"), ImageStatus::Saving);
        assert_eq!(status_from_word("DELETED"), ImageStatus::Deleted);
        assert_eq!(status_from_word("BUILD"), ImageStatus::Unknown);
        let words: Vec<_> = ImageStatus::ALL.iter().map(|s| status_word(*s)).collect();
        assert_eq!(words, ["ACTIVE", "SAVING", "DELETED", "DELETED", "ERROR", "UNKNOWN"]);
    }

    #[test]
    fn unknown_fields_and_words_survive_a_round_trip() {
        let body = br#"{"image":{"status":"BUILD","updated":null,"name":"n","links":[],"created":"","id":7,"zones":["AUS001"],"type":"BASE"}}"#;
        let image = serde_json::from_slice::<ShowBody>(body).unwrap().image.0;
        assert_eq!(image.id.as_str(), "7");
        assert_eq!(image.status, ImageStatus::Unknown);
        assert_eq!(image.backend_status.as_deref(), Some("BUILD"));
        assert_eq!(image.created, None);
        assert_eq!(image.extra.get("hostway.type"), Some(&Value::from("BASE")));
        let out = show_body(&image, LinkBase { origin: "http://h", prefix: "" });
        let expected = serde_json::json!({"image":{"status":"BUILD","updated":null,"name":"n",
            "links":[{"href":"http://h/images/7/","rel":"self"},{"href":"http://h/images/7/","rel":"bookmark"}],
            "created":null,"id":"7","zones":["AUS001"],"type":"BASE"}});
        assert_eq!(String::from_utf8(out).unwrap(), expected.to_string());
    }

    #[test]
    fn an_image_without_id_is_rejected() {
        assert!(serde_json::from_slice::<ShowBody>(br#"{"image":{"name":"x"}}"#).is_err());
        assert!(serde_json::from_slice::<ListBody>(br#"{"images":[{"id":{}}]}"#).is_err());
    }
}
