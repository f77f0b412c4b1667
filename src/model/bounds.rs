//! What one request may ask for and write, checked before any backend sees
//! it: how many images a get-many names, which ids can name an image at all,
//! and what text a write may carry.
//!
//! An id the edge's dialect cannot hold ([`IdRule`], each dialect's own),
//! and any id no dialect can hold (a separator, a dot segment, a control
//! character, longer than [`MAX_ID_BYTES`]), names no image: it is refused
//! as not found and never sent upstream. Written text holding a character no
//! dialect's format can carry — a control character other than tab, line
//! feed and carriage return, or a Unicode noncharacter (U+FFFE, U+FFFF, …) —
//! is refused as a bad request, as is a string longer than the field bound
//! or more metadata items than the record bound.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{GatewayError, GetMany, Image, ImageOp, LookupKey, WriteOp};

/// The longest id any dialect's ids can hold, in bytes.
pub const MAX_ID_BYTES: usize = 255;

/// How much one request may ask for and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBounds {
    /// Most ids or names one get-many may name.
    pub max_ids: usize,
    /// Longest string a write may carry, in bytes.
    pub max_field_bytes: usize,
    /// Most metadata items (and other fields) one written image may carry.
    pub max_fields: usize,
    /// Deepest nesting of a request body.
    pub max_depth: usize,
}

impl Default for RequestBounds {
    fn default() -> Self {
        Self { max_ids: 100, max_field_bytes: 4096, max_fields: 128, max_depth: 32 }
    }
}

/// What an edge's ids, and the names it looks images up by, can hold: each
/// dialect's own rule (`Profile::image_ids`). Both only ever narrow
/// [`is_valid_id`], which holds for every dialect.
#[derive(Debug, Clone, Copy)]
pub struct IdRule {
    /// True when `id` can name an image at the edge.
    pub id: fn(&str) -> bool,
    /// True when a get-many by name may look for `name`; `None` when the
    /// edge looks images up by id only.
    pub name: Option<fn(&str) -> bool>,
}

impl IdRule {
    fn holds_id(&self, id: &str) -> bool {
        is_valid_id(id) && (self.id)(id)
    }

    fn holds_name(&self, name: &str, max_bytes: usize) -> bool {
        name.len() <= max_bytes && self.name.is_some_and(|holds| holds(name))
    }
}

/// True when `id` is something an image id can be in every dialect: 1 to
/// [`MAX_ID_BYTES`] bytes of URI path characters other than `%`, and not a
/// dot segment. It can then be put in an upstream path without a separator
/// appearing there however the upstream decodes it.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id != "."
        && id != ".."
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b))
}

/// True for a character no dialect's format can carry in text: XML 1.0
/// forbids the control characters but tab, line feed and carriage return,
/// and the noncharacters are no text at all.
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || is_noncharacter(c)
}

fn is_noncharacter(c: char) -> bool {
    let c = c as u32;
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

/// `text` as every format can carry it: each unsafe character replaced by
/// U+FFFD. Borrowed when nothing needed replacing.
pub fn safe_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_unsafe_char) {
        text.chars().map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c }).collect::<String>().into()
    } else {
        text.into()
    }
}

impl RequestBounds {
    /// Refuses what `op` may not ask for or write, its ids checked by the
    /// edge's `rule`; drops from a get-many the values that can be neither
    /// an id nor a name there.
    pub fn check(&self, op: &mut ImageOp, rule: IdRule) -> Result<(), GatewayError> {
        match op {
            ImageOp::Show(id) => held_or_not_found(id.as_str(), rule),
            ImageOp::GetMany(get) => self.check_get_many(get, rule),
            ImageOp::List(_) => Ok(()),
            ImageOp::Write(write) => {
                if let Some(id) = write.image_id() {
                    held_or_not_found(id.as_str(), rule)?;
                }
                self.check_write(write)
            }
        }
    }

    fn check_get_many(&self, get: &mut GetMany, rule: IdRule) -> Result<(), GatewayError> {
        if get.values.len() > self.max_ids {
            return Err(GatewayError::bad_request(format!(
                "a request may name at most {} images, this one names {}",
                self.max_ids,
                get.values.len()
            )));
        }
        let (key, max_name) = (get.key, self.max_field_bytes);
        let holds = |value: &String| match key {
            LookupKey::Id => rule.holds_id(value),
            LookupKey::Name => rule.holds_name(value, max_name),
            LookupKey::IdOrName => rule.holds_id(value) || rule.holds_name(value, max_name),
        };
        if let Some(first) = get.values.first()
            && !get.values.iter().any(holds)
        {
            // nothing left to look up: as an image not found
            return not_found(first);
        }
        get.values.retain(holds);
        Ok(())
    }

    fn check_write(&self, write: &WriteOp) -> Result<(), GatewayError> {
        match write {
            WriteOp::Snapshot(snapshot) => {
                self.text("name", &snapshot.name)?;
                self.text("server", &snapshot.server_id)?;
                self.optional("description", snapshot.description.as_deref())?;
                self.items(&snapshot.metadata)
            }
            WriteOp::Register(image, _) => self.image(image),
            WriteOp::Update { patch, .. } => {
                self.optional("name", patch.name.as_deref())?;
                self.optional("description", patch.description.as_deref())?;
                self.optional("os", patch.os.as_deref())?;
                self.optional("architecture", patch.architecture.as_deref())?;
                self.items(&patch.extra)
            }
            WriteOp::Delete { .. } | WriteOp::Restore(_) => Ok(()),
            WriteOp::SetMetadata { items, .. } => self.items(items),
            WriteOp::SetMetadataItem { key, value, .. } => {
                self.text("metadata key", key)?;
                self.value(key, value)
            }
            WriteOp::DeleteMetadataItem { key, .. } => self.text("metadata key", key),
        }
    }

    /// Refuses an image to be written that carries unsafe or oversized text.
    pub fn image(&self, image: &Image) -> Result<(), GatewayError> {
        self.text("name", &image.name)?;
        self.optional("description", image.description.as_deref())?;
        self.optional("os", image.os.as_deref())?;
        self.optional("architecture", image.architecture.as_deref())?;
        self.optional("server", image.server_id.as_deref())?;
        if image.metadata.len() + image.extra.len() > self.max_fields {
            return Err(self.too_many_fields());
        }
        self.items(&image.metadata)?;
        self.items(&image.extra)
    }

    fn items<K: AsRef<str>>(&self, items: &BTreeMap<K, Value>) -> Result<(), GatewayError> {
        if items.len() > self.max_fields {
            return Err(self.too_many_fields());
        }
        items.iter().try_for_each(|(key, value)| {
            self.text("metadata key", key.as_ref())?;
            self.value(key.as_ref(), value)
        })
    }

    fn too_many_fields(&self) -> GatewayError {
        GatewayError::bad_request(format!("an image may carry at most {} metadata items", self.max_fields))
    }

    /// A metadata value: strings checked as text, anything nested refused
    /// past the field bound as a whole.
    fn value(&self, key: &str, value: &Value) -> Result<(), GatewayError> {
        match value {
            Value::String(s) => self.text("metadata value", s),
            Value::Array(_) | Value::Object(_) => {
                let text = value.to_string();
                if text.len() > self.max_field_bytes {
                    return Err(self.too_long("metadata value"));
                }
                self.text(key, &text)
            }
            _ => Ok(()),
        }
    }

    fn optional(&self, field: &str, text: Option<&str>) -> Result<(), GatewayError> {
        text.map_or(Ok(()), |text| self.text(field, text))
    }

    fn text(&self, field: &str, text: &str) -> Result<(), GatewayError> {
        if text.len() > self.max_field_bytes {
            return Err(self.too_long(field));
        }
        if let Some(c) = text.chars().find(|c| is_unsafe_char(*c)) {
            return Err(GatewayError::bad_request(format!(
                "{field} holds the character U+{:04X}, which images cannot carry",
                c as u32
            )));
        }
        Ok(())
    }

    fn too_long(&self, field: &str) -> GatewayError {
        GatewayError::bad_request(format!("{field} is longer than {} bytes", self.max_field_bytes))
    }
}

/// The not-found of an id no image can have at the edge.
fn held_or_not_found(id: &str, rule: IdRule) -> Result<(), GatewayError> {
    if rule.holds_id(id) { Ok(()) } else { not_found(id) }
}

/// The not-found of `id`, naming at most its start.
fn not_found(id: &str) -> Result<(), GatewayError> {
    let shown: String = safe_text(id).chars().take(64).collect();
    Err(GatewayError::image_not_found(shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorKind, ImageId, ImagePatch, Snapshot};

    /// A rule that narrows nothing: only the floor every dialect shares holds.
    const ANY: IdRule = IdRule { id: |_| true, name: Some(|_| true) };
    /// Integer ids, names of letters only.
    const DIGITS: IdRule = IdRule {
        id: |id| id.bytes().all(|b| b.is_ascii_digit()),
        name: Some(|name| name.bytes().all(|b| b.is_ascii_alphabetic())),
    };

    #[test]
    fn ids_that_could_become_separators_or_dot_segments_are_not_ids() {
        for good in ["133", "70a599e0-31e7-49b7-b260-868f441e862b", "a.b", "x~y"] {
            assert!(is_valid_id(good), "{good}");
        }
        let long = "a".repeat(10_000);
        for bad in ["", ".", "..", "../../admin", "..%2F..%2Fadmin", "%2E%2E", "a/b", "a\\b", "a b", "a\0", &long] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_show_of_an_impossible_id_is_not_found_and_names_only_its_start() {
        let mut op = ImageOp::Show(ImageId::new("x".repeat(10_000)));
        let err = RequestBounds::default().check(&mut op, ANY).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::NotFound { ref id, .. } if id.len() == 64), "{err}");
    }

    #[test]
    fn a_get_many_past_the_bound_is_refused_and_impossible_ids_are_dropped() {
        let bounds = RequestBounds { max_ids: 2, ..RequestBounds::default() };
        let values = vec!["1".to_owned(), "../x".to_owned(), "2".to_owned()];
        let mut op = ImageOp::GetMany(GetMany { key: LookupKey::Id, values, shown_name: None });
        assert_eq!(bounds.check(&mut op, ANY).unwrap_err().kind, ErrorKind::BadRequest);
        let bounds = RequestBounds { max_ids: 3, ..bounds };
        bounds.check(&mut op, ANY).unwrap();
        assert!(matches!(op, ImageOp::GetMany(GetMany { ref values, .. }) if values == &["1", "2"]));
    }

    #[test]
    fn the_edge_s_rule_narrows_what_an_id_or_a_name_can_be() {
        let bounds = RequestBounds::default();
        for id in ["abc", "1a", "..", "1/2"] {
            let err = bounds.check(&mut ImageOp::Show(ImageId::new(id)), DIGITS).unwrap_err();
            assert!(matches!(err.kind, ErrorKind::NotFound { .. }), "{id}");
            let mut delete = ImageOp::Write(WriteOp::Delete { id: ImageId::new(id), trash: false });
            assert!(matches!(bounds.check(&mut delete, DIGITS).unwrap_err().kind, ErrorKind::NotFound { .. }));
        }
        bounds.check(&mut ImageOp::Show(ImageId::new("12")), DIGITS).unwrap();
        let values = ["12", "abc", "1a", "x/y"].map(str::to_owned).to_vec();
        for (key, kept) in
            [(LookupKey::Id, vec!["12"]), (LookupKey::Name, vec!["abc"]), (LookupKey::IdOrName, vec!["12", "abc"])]
        {
            let mut op = ImageOp::GetMany(GetMany { key, values: values.clone(), shown_name: None });
            bounds.check(&mut op, DIGITS).unwrap();
            assert!(matches!(op, ImageOp::GetMany(GetMany { ref values, .. }) if *values == kept), "{key:?}");
        }
        // no names at an edge that looks images up by id only; none longer than a field
        let ids_only = IdRule { name: None, ..DIGITS };
        let long = "n".repeat(bounds.max_field_bytes + 1);
        for (rule, name) in [(ids_only, "abc"), (DIGITS, long.as_str())] {
            let values = vec![name.to_owned()];
            let mut op = ImageOp::GetMany(GetMany { key: LookupKey::Name, values, shown_name: None });
            let err = bounds.check(&mut op, rule).unwrap_err();
            assert!(matches!(err.kind, ErrorKind::NotFound { ref id, .. } if id.len() <= 64), "{err}");
        }
    }

    #[test]
    fn written_text_with_characters_no_format_carries_is_refused() {
        let bounds = RequestBounds::default();
        for name in ["a\0b", "\u{1}", "a\u{FFFE}", "\u{FFFF}", "\u{1FFFF}", "\u{7f}", &"n".repeat(4097)] {
            let mut op = ImageOp::Write(WriteOp::Snapshot(Snapshot {
                server_id: "1".into(),
                name: name.into(),
                ..Snapshot::default()
            }));
            assert_eq!(bounds.check(&mut op, ANY).unwrap_err().kind, ErrorKind::BadRequest, "{name:?}");
        }
        let patch = ImagePatch { name: Some("tab\tand\nnewline é ✓".into()), ..ImagePatch::default() };
        bounds.check(&mut ImageOp::Write(WriteOp::Update { id: ImageId::new("1"), patch }), ANY).unwrap();
    }

    #[test]
    fn safe_text_replaces_only_what_formats_cannot_carry() {
        assert!(matches!(safe_text("plain é\t"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(safe_text("a\0b\u{FFFE}"), "a\u{FFFD}b\u{FFFD}");
    }
}
