//! The keys of an image object on the wire, for every dialect's decoder: a
//! field the dialect reads into the model, or any other, which it keeps as
//! an extra under its namespace (`"hostway.kernel"`) so a round trip loses
//! nothing. A dialect names its fields ([`KnownFields`]); reading a key, and
//! keeping an unknown one as an extra, is here once
//! ([`KnownFields::next_known`]).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::model::{Extra, Text};

/// The fields one dialect reads from an image object.
pub(crate) trait KnownFields: Sized {
    /// The field called `key`, if it is one.
    fn named(key: &str) -> Option<Self>;

    /// The next known field of `map`, its value left to read; every other
    /// key met before it is kept in `extra` under `namespace`
    /// (`"hostway."`) with its value. `None` at the object's end.
    fn next_known<'de, A: MapAccess<'de>>(
        map: &mut A,
        namespace: &str,
        extra: &mut Extra,
    ) -> Result<Option<Self>, A::Error> {
        while let Some(key) = map.next_key::<Key<'de, Self>>()? {
            match key {
                Key::Known(field) => return Ok(Some(field)),
                Key::Other(key) => {
                    extra.insert(extra_key(namespace, &key), map.next_value::<Value>()?);
                }
            }
        }
        Ok(None)
    }
}

/// A string of the body, borrowed unless it holds an escape.
pub(crate) struct BodyText<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BodyText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = BodyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<BodyText<'de>, E> {
                Ok(BodyText(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BodyText<'de>, E> {
                Ok(BodyText(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// An optional string of the body, borrowed unless it holds an escape, for
/// `#[serde(deserialize_with)]`: serde's own `Cow<str>` borrows only as a
/// bare field, and copies every string inside an `Option`.
pub(crate) fn borrowed_text<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<BodyText<'a>>::deserialize(d)?.map(|text| text.0))
}

/// One key of an image object.
enum Key<'de, F> {
    Known(F),
    /// Any other key: borrowed from the body unless it holds an escape.
    Other(Cow<'de, str>),
}

/// The extra an unknown `key` is kept under in `namespace` (`"hostway."`),
/// sized once (inline when short).
fn extra_key(namespace: &str, key: &str) -> Text {
    let mut extra = Text::with_capacity(namespace.len() + key.len());
    extra.push_str(namespace);
    extra.push_str(key);
    extra
}

impl<'de, F: KnownFields> Deserialize<'de> for Key<'de, F> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<F>(PhantomData<F>);
        impl<'de, F: KnownFields> Visitor<'de> for KeyVisitor<F> {
            type Value = Key<'de, F>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de, F>, E> {
                Ok(F::named(key).map_or(Key::Other(Cow::Borrowed(key)), Key::Known))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de, F>, E> {
                Ok(F::named(key).map_or_else(|| Key::Other(Cow::Owned(key.to_owned())), Key::Known))
            }
        }
        deserializer.deserialize_identifier(KeyVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Field {
        Id,
    }

    impl KnownFields for Field {
        fn named(key: &str) -> Option<Self> {
            (key == "id").then_some(Field::Id)
        }
    }

    fn keys(body: &str) -> Vec<(Option<Field>, String, bool)> {
        let mut out = Vec::new();
        let mut de = serde_json::Deserializer::from_str(body);
        struct Collect<'a>(&'a mut Vec<(Option<Field>, String, bool)>);
        impl<'de> Visitor<'de> for Collect<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(key) = map.next_key::<Key<'de, Field>>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    self.0.push(match key {
                        Key::Known(field) => (Some(field), String::new(), false),
                        Key::Other(other) => (None, other.to_string(), matches!(other, Cow::Borrowed(_))),
                    });
                }
                Ok(())
            }
        }
        serde::Deserializer::deserialize_map(&mut de, Collect(&mut out)).unwrap();
        out
    }

    #[test]
    fn known_fields_are_told_and_other_keys_kept_borrowed_unless_escaped() {
        assert_eq!(
            keys(r#"{"id": 1, "kernel": "x", "ker\u006eel": 2}"#),
            [(Some(Field::Id), String::new(), false), (None, "kernel".into(), true), (None, "kernel".into(), false)]
        );
        assert_eq!(extra_key("hostway.", "kernel"), "hostway.kernel");
    }

    #[test]
    fn other_keys_before_and_after_a_known_field_are_kept_as_extras() {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = (Vec<Field>, Extra);
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut known, mut extra) = (Vec::new(), Extra::new());
                while let Some(field) = Field::next_known(&mut map, "x.", &mut extra)? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    known.push(field);
                }
                Ok((known, extra))
            }
        }
        let mut de = serde_json::Deserializer::from_str(r#"{"a": 1, "id": 2, "b": [true]}"#);
        let (known, extra) = serde::Deserializer::deserialize_map(&mut de, Fields).unwrap();
        assert_eq!(known, [Field::Id]);
        assert_eq!(
            extra,
            Extra::from([("x.a".into(), serde_json::json!(1)), ("x.b".into(), serde_json::json!([true]))])
        );
    }
}
