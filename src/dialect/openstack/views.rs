//! Nova's image views written by hand, for show and list bodies: the
//! detail view (keys in the order of Nova's samples) and the summary view
//! (`id`, `links`, `name`). The link prefixes are escaped once per reply;
//! each image adds its percent-encoded id, which needs no escaping.

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use super::EXTRA_ALTERNATE;
use super::EXTRA_PREFIX;
use super::clock::Iso;
use super::wire::{is_reemitted_extra, status_word};
use super::{EXTRA_DISK_CONFIG, EXTRA_IMAGE_TYPE, EXTRA_PROGRESS};
use crate::dialect::{EdgeCtx, json_out, percent_encode_segment};
use crate::model::{Image, ImageStatus, View};

/// Rough sizes of one rendered image, to allocate the body once.
const DETAIL_BYTES: usize = 1024;
const SUMMARY_BYTES: usize = 384;

/// Where links point, escaped for a JSON string: `{origin}{prefix}/` for
/// self links and `{origin}{prefix without its version}/` for bookmarks,
/// as Nova's view builders do.
pub(super) struct LinkBase {
    own: Vec<u8>,
    bookmark: Vec<u8>,
    /// `{origin}{GLANCE_PATH}/images/`, escaped: the image service's link
    /// of an image whose upstream gave none.
    glance: Vec<u8>,
}

/// Where the `alternate` link of an image without one from its upstream
/// points: the image service on the gateway's own origin, under the path
/// devstack mounts Glance at (`http://host/image`). Nova's `alternate` is
/// `{glance endpoint}/images/{id}`; the gateway serves no Glance, and no
/// client follows the link (libcloud never reads it, openstacksdk keeps
/// it), but Nova's schema requires all three links.
pub(super) const GLANCE_PATH: &str = "/image";

/// An image's `alternate` link.
#[derive(Clone, Copy)]
enum Alternate<'a> {
    /// A server's links have none.
    None,
    /// The href the upstream gave.
    Given(&'a str),
    /// Derived from the gateway's origin and the image id.
    Derived,
}

impl<'a> Alternate<'a> {
    fn of(image: &'a Image) -> Self {
        image.extra_str(EXTRA_ALTERNATE).map_or(Alternate::Derived, Alternate::Given)
    }
}

impl LinkBase {
    pub(super) fn new(ctx: &EdgeCtx) -> Self {
        let head = |prefix: &str| {
            let mut head = Vec::with_capacity(ctx.origin.len() + prefix.len() + 1);
            json_out::string_piece(&mut head, &ctx.origin);
            json_out::string_piece(&mut head, prefix);
            head.push(b'/');
            head
        };
        let mut glance = head(GLANCE_PATH);
        glance.extend_from_slice(b"images/");
        Self { own: head(&ctx.prefix), bookmark: head(without_version(&ctx.prefix)), glance }
    }

    /// `[self, bookmark(, alternate)]` of the resource `{collection}/{id}`.
    fn write(&self, out: &mut Vec<u8>, collection: &str, id: &str, alternate: Alternate<'_>) {
        let id = percent_encode_segment(id);
        for (i, (head, rel)) in [(&self.own, "self"), (&self.bookmark, "bookmark")].into_iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"[{\"href\":\"" } else { b",{\"href\":\"" });
            out.extend_from_slice(head);
            out.extend_from_slice(collection.as_bytes());
            out.push(b'/');
            out.extend_from_slice(id.as_bytes());
            out.extend_from_slice(b"\",\"rel\":\"");
            out.extend_from_slice(rel.as_bytes());
            out.extend_from_slice(b"\"}");
        }
        match alternate {
            Alternate::None => {}
            Alternate::Given(glance) => {
                out.extend_from_slice(b",{\"href\":");
                json_out::string(out, glance);
            }
            Alternate::Derived => {
                out.extend_from_slice(b",{\"href\":\"");
                out.extend_from_slice(&self.glance);
                out.extend_from_slice(id.as_bytes());
                out.push(b'"');
            }
        }
        if !matches!(alternate, Alternate::None) {
            out.extend_from_slice(b",\"rel\":\"alternate\",\"type\":\"application/vnd.openstack.image\"}");
        }
        out.push(b']');
    }
}

/// `/v2/{project}` → `/{project}`; `/v2.1` → nothing.
pub(super) fn without_version(prefix: &str) -> &str {
    match prefix.strip_prefix("/v") {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => prefix,
    }
}

/// `{"image": {…}}`, the detail view.
pub(super) fn image_body(image: &Image, links: &LinkBase) -> Vec<u8> {
    let mut out = Vec::with_capacity(DETAIL_BYTES);
    out.extend_from_slice(b"{\"image\":");
    detail(&mut out, image, links);
    out.push(b'}');
    out
}

/// What one image of `view` takes, roughly.
pub(super) fn image_bytes(view: View) -> usize {
    match view {
        View::Summary => SUMMARY_BYTES,
        View::Detail => DETAIL_BYTES,
    }
}

/// `{"images": [`, before a list's images.
pub(super) fn list_head(out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"images\":[");
}

/// One image of a list, after a comma unless it is the `first`.
pub(super) fn list_image(out: &mut Vec<u8>, image: &Image, view: View, links: &LinkBase, first: bool) {
    if !first {
        out.push(b',');
    }
    match view {
        View::Summary => summary(out, image, links),
        View::Detail => detail(out, image, links),
    }
}

/// `]}` after a list's images, with `"images_links": [next]` between when
/// a next page is linked.
pub(super) fn list_tail(out: &mut Vec<u8>, next: Option<&str>) {
    out.push(b']');
    if let Some(next) = next {
        out.extend_from_slice(b",\"images_links\":[{\"href\":");
        json_out::string(out, next);
        out.extend_from_slice(b",\"rel\":\"next\"}]");
    }
    out.push(b'}');
}

/// `{"id", "links", "name"}`.
fn summary(out: &mut Vec<u8>, image: &Image, links: &LinkBase) {
    out.extend_from_slice(b"{\"id\":");
    json_out::string(out, image.id.as_str());
    out.extend_from_slice(b",\"links\":");
    links.write(out, "images", image.id.as_str(), Alternate::of(image));
    out.extend_from_slice(b",\"name\":");
    json_out::string(out, &image.name);
    out.push(b'}');
}

/// The show/detail view, keys in the order of Nova's samples.
fn detail(out: &mut Vec<u8>, image: &Image, links: &LinkBase) {
    out.push(b'{');
    if let Some(disk_config) = disk_config(image) {
        out.extend_from_slice(b"\"OS-DCF:diskConfig\":");
        json_out::string(out, disk_config);
        out.push(b',');
    }
    // Nova's own value for an unknown size
    out.extend_from_slice(b"\"OS-EXT-IMG-SIZE:size\":");
    json_out::value(out, &image.size_bytes.unwrap_or(0));
    out.push(b',');
    // Glance sets both times at insert: each stands for the other
    out.extend_from_slice(b"\"created\":");
    timestamp(out, image.created.or(image.updated).map(Iso));
    out.extend_from_slice(b",\"id\":");
    json_out::string(out, image.id.as_str());
    out.extend_from_slice(b",\"links\":");
    links.write(out, "images", image.id.as_str(), Alternate::of(image));
    out.extend_from_slice(b",\"metadata\":");
    json_out::value(out, &Metadata(image));
    out.extend_from_slice(b",\"minDisk\":");
    json_out::value(out, &image.min_disk_gb.unwrap_or(0));
    out.extend_from_slice(b",\"minRam\":");
    json_out::value(out, &image.min_ram_mb.unwrap_or(0));
    out.extend_from_slice(b",\"name\":");
    json_out::string(out, &image.name);
    out.extend_from_slice(b",\"progress\":");
    json_out::value(out, &progress(image));
    if let Some(id) = &image.server_id {
        out.extend_from_slice(b",\"server\":{\"id\":");
        json_out::string(out, id);
        out.extend_from_slice(b",\"links\":");
        links.write(out, "servers", id, Alternate::None);
        out.push(b'}');
    }
    out.extend_from_slice(b",\"status\":");
    json_out::string(out, status_word(image.status));
    out.extend_from_slice(b",\"updated\":");
    timestamp(out, image.updated.or(image.created).map(Iso));
    for (key, value) in image.extra.iter().filter(|(k, _)| is_reemitted_extra(k)) {
        out.push(b',');
        json_out::string(out, &key[EXTRA_PREFIX.len()..]);
        out.push(b':');
        json_out::value::<Value>(out, value);
    }
    out.push(b'}');
}

fn timestamp(out: &mut Vec<u8>, t: Option<Iso>) {
    match t.as_ref().and_then(Iso::digits) {
        Some(digits) => {
            out.push(b'"');
            out.extend_from_slice(&digits);
            out.push(b'"');
        }
        None => json_out::value(out, &t),
    }
}

/// Nova's `_get_progress`: a SAVING image is 25% while Glance has it queued.
pub(super) fn progress(image: &Image) -> u8 {
    match image.status {
        ImageStatus::Active => 100,
        ImageStatus::Saving if queued(image) => 25,
        ImageStatus::Saving => 50,
        _ => 0,
    }
}

fn queued(image: &Image) -> bool {
    image.backend_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("queued"))
        || image.extra.get(EXTRA_PROGRESS).and_then(Value::as_u64) == Some(25)
}

/// `OS-DCF:diskConfig` from metadata `auto_disk_config` (oslo's non-strict
/// `bool_from_string`), else as the upstream sent it.
pub(super) fn disk_config(image: &Image) -> Option<&str> {
    let Some(auto) = image.metadata.get("auto_disk_config") else {
        return image.extra_str(EXTRA_DISK_CONFIG);
    };
    let on = match auto {
        Value::Null => return None,
        Value::Bool(b) => *b,
        Value::String(s) => is_true_word(s),
        Value::Number(n) => is_true_word(&n.to_string()),
        Value::Array(_) | Value::Object(_) => false,
    };
    Some(if on { "AUTO" } else { "MANUAL" })
}

fn is_true_word(s: &str) -> bool {
    ["1", "t", "true", "on", "y", "yes"].iter().any(|w| w.eq_ignore_ascii_case(s.trim()))
}

/// The metadata Nova would show: the image's own, plus the canonical fields
/// a foreign image keeps elsewhere, under the Glance property names.
pub(super) struct Metadata<'a>(pub &'a Image);

/// A metadata value, borrowed from wherever the image keeps it.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum MetaValue<'a> {
    Json(&'a Value),
    Text(&'a str),
}

impl<'a> Metadata<'a> {
    /// Canonical fields missing from the metadata, in key order.
    fn fallbacks(&self) -> impl Iterator<Item = (&'static str, &'a str)> + use<'a> {
        let image = self.0;
        [
            ("architecture", image.architecture.as_deref()),
            ("description", image.description.as_deref()),
            // Nova marks what createImage saves from a server as a snapshot
            ("image_type", image.extra_str(EXTRA_IMAGE_TYPE).or(image.server_id.as_ref().map(|_| "snapshot"))),
            ("os_distro", image.os.as_deref()),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
        .filter(move |(key, _)| !image.metadata.contains_key(*key))
    }

    /// The plain text of a shown metadata value, as a `property-` filter
    /// compares it; `None` when the key is not shown or holds no scalar.
    pub(super) fn text(&self, key: &str) -> Option<Cow<'a, str>> {
        match self.get(key)? {
            MetaValue::Text(text) => Some(Cow::Borrowed(text)),
            MetaValue::Json(Value::String(text)) => Some(Cow::Borrowed(text.as_str())),
            MetaValue::Json(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
            MetaValue::Json(Value::Bool(b)) => Some(Cow::Owned(b.to_string())),
            MetaValue::Json(_) => None,
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<MetaValue<'a>> {
        match self.0.metadata.get(key) {
            Some(v) => Some(MetaValue::Json(v)),
            None => self.fallbacks().find(|(k, _)| *k == key).map(|(_, v)| MetaValue::Text(v)),
        }
    }
}

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mut fallbacks = self.fallbacks().peekable();
        for (key, value) in &self.0.metadata {
            while let Some((k, v)) = fallbacks.next_if(|(k, _)| *k < key.as_str()) {
                m.serialize_entry(k, v)?;
            }
            m.serialize_entry(key, value)?;
        }
        for (k, v) in fallbacks {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmarks_drop_the_version_segment() {
        assert_eq!(without_version("/v2/p"), "/p");
        assert_eq!(without_version("/v2.1/p"), "/p");
        assert_eq!(without_version("/v2.1"), "");
        assert_eq!(without_version(""), "");
    }

    #[test]
    fn link_prefixes_are_escaped_once_and_ids_percent_encoded() {
        let mut ctx = EdgeCtx::new(crate::dialect::Dialect::OpenStack, "http://h\"q");
        ctx.prefix = "/v2/p".into();
        let links = LinkBase::new(&ctx);
        let mut out = Vec::new();
        links.write(&mut out, "images", "a b/c", Alternate::Given("http://glance/\"x"));
        let parsed: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([
                {"href": "http://h\"q/v2/p/images/a%20b%2Fc", "rel": "self"},
                {"href": "http://h\"q/p/images/a%20b%2Fc", "rel": "bookmark"},
                {"href": "http://glance/\"x", "rel": "alternate", "type": "application/vnd.openstack.image"},
            ])
        );
    }

    #[test]
    fn every_image_links_to_the_image_service_as_nova_does() {
        let mut ctx = EdgeCtx::new(crate::dialect::Dialect::OpenStack, "http://gw:8774");
        ctx.prefix = "/v2.1/p".into();
        let links = LinkBase::new(&ctx);
        // Nova's sample, the image's links, for an upstream that gave no Glance link
        let image = Image { id: crate::model::ImageId::new("70a599e0-31e7"), ..Image::default() };
        let mut out = Vec::new();
        links.write(&mut out, "images", image.id.as_str(), Alternate::of(&image));
        let parsed: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([
                {"href": "http://gw:8774/v2.1/p/images/70a599e0-31e7", "rel": "self"},
                {"href": "http://gw:8774/p/images/70a599e0-31e7", "rel": "bookmark"},
                {"href": "http://gw:8774/image/images/70a599e0-31e7", "rel": "alternate",
                 "type": "application/vnd.openstack.image"},
            ])
        );
        // a server's links are two
        let mut out = Vec::new();
        links.write(&mut out, "servers", "s-1", Alternate::None);
        assert_eq!(serde_json::from_slice::<Value>(&out).unwrap().as_array().unwrap().len(), 2);
    }
}
