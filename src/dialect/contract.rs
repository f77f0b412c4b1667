//! A dialect's contract: every field its documents show in an image (and in
//! the envelopes and errors around it), whether its own server always sends
//! it, its JSON type, its vocabulary, and what the edge shows when the
//! upstream has no value. Each dialect keeps its own in `<dialect>/contract.rs`;
//! the edge renders the defaults named there, and the conformance test checks
//! every reply of every edge against it with [`check`].

use serde_json::Value;

use super::Dialect;

/// Whether a field is in every reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Always present, never `null`.
    Always,
    /// Always present; `null` is a documented value.
    Nullable,
    /// Present when known, absent otherwise; never `null`.
    WhenKnown,
}

/// A field's JSON type and vocabulary.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Any string.
    Text,
    /// A string in a documented format, named for messages.
    Format(&'static str, fn(&str) -> bool),
    /// A string from a closed vocabulary.
    Words(&'static [&'static str]),
    Integer,
    /// Any JSON number.
    Number,
    Boolean,
    /// An object with these fields (and maybe others).
    Object(&'static [Field]),
    /// Any object (free-form metadata).
    Map,
    /// An array whose elements all have this shape.
    List(&'static Shape),
    /// An array of exactly these elements, in this order (Nova's links).
    Tuple(&'static [Shape]),
}

/// One field of a representation.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub presence: Presence,
    pub shape: Shape,
    /// The upstream dialects whose images carry what this field says. From
    /// any other upstream the edge shows `default`.
    pub carried_by: &'static [Dialect],
    /// What the edge shows when the upstream has no value (for
    /// `docs/COMPATIBILITY.md`).
    pub default: &'static str,
}

/// Every dialect carries it (ids, names).
pub const ALL: &[Dialect] = &Dialect::ALL;
/// No other dialect carries it: the edge's own bookkeeping.
pub const NONE: &[Dialect] = &[];

impl Field {
    pub const fn new(name: &'static str, presence: Presence, shape: Shape) -> Self {
        Field { name, presence, shape, carried_by: ALL, default: "" }
    }

    /// The dialects that carry the field's fact, and what shows without it.
    pub const fn lost(self, carried_by: &'static [Dialect], default: &'static str) -> Self {
        Field { carried_by, default, ..self }
    }
}

/// One representation: the fields of an object, and whether keys the
/// contract does not name are a breach (Nova's `additionalProperties: false`).
#[derive(Debug, Clone, Copy)]
pub struct Representation {
    pub fields: &'static [Field],
    pub closed: bool,
}

/// Where a show reply puts its one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapping {
    /// `{"image": {…}}`.
    Key(&'static str),
    /// The image is the body.
    Bare,
    /// In the list envelope, as its only item.
    Envelope,
}

/// A dialect's whole contract.
#[derive(Debug, Clone, Copy)]
pub struct Contract {
    pub dialect: Dialect,
    /// The canonical image fields (`model::COMPARED`) an upstream of this
    /// dialect never fills: where two backends are compared, a field either
    /// one cannot carry is not.
    pub uncarried: &'static [&'static str],
    /// An image in a show or a detailed list.
    pub image: Representation,
    /// An image in a summary list, where the dialect has one.
    pub summary: Option<Representation>,
    pub show: Wrapping,
    /// The body of a list reply around its images.
    pub list: Representation,
    /// The key of `list` that holds the images.
    pub items: &'static str,
    /// The error body: one key from `faults` wrapping `error`, or `error`
    /// itself when `faults` is empty.
    pub faults: &'static [&'static str],
    pub error: Representation,
}

impl Contract {
    /// The image fields some upstream dialect cannot fill, with what shows
    /// instead: the rows of the lost-fields table.
    pub fn lost_from(&self, upstream: Dialect) -> impl Iterator<Item = &'static Field> + use<> {
        let edge = self.dialect;
        let fields: &'static [Field] = self.image.fields;
        fields.iter().filter(move |f| upstream != edge && !f.carried_by.contains(&upstream))
    }
}

impl Contract {
    /// Checks a show reply; every breach is one line in `out`.
    pub fn check_show(&self, body: &Value, out: &mut Vec<String>) {
        match self.show {
            Wrapping::Key(key) => check(&self.image, &body[key], key, out),
            Wrapping::Bare => check(&self.image, body, "image", out),
            Wrapping::Envelope => self.check_list(body, &self.image, out),
        }
    }

    /// Checks a list reply whose images have the shape `images`.
    pub fn check_list(&self, body: &Value, images: &Representation, out: &mut Vec<String>) {
        check(&self.list, body, "list", out);
        match body[self.items].as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(images, item, &format!("{}[{i}]", self.items), out);
                }
            }
            None => out.push(format!("{}: no array", self.items)),
        }
    }

    /// Checks an error reply.
    pub fn check_error(&self, body: &Value, out: &mut Vec<String>) {
        if self.faults.is_empty() {
            return check(&self.error, body, "error", out);
        }
        match body.as_object().map(|o| o.iter().collect::<Vec<_>>()).as_deref() {
            Some([(fault, inner)]) if self.faults.contains(&fault.as_str()) => check(&self.error, inner, fault, out),
            _ => out.push(format!("error: not one fault of {:?}: {body}", self.faults)),
        }
    }
}

/// Checks `value` against `repr`; every breach is one line in `out`, named by
/// its path (`list[0].os.name`).
pub fn check(repr: &Representation, value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        out.push(format!("{path}: not an object: {value}"));
        return;
    };
    for field in repr.fields {
        let at = format!("{path}.{}", field.name);
        match (object.get(field.name), field.presence) {
            (None, Presence::WhenKnown) => {}
            (None, _) => out.push(format!("{at}: absent")),
            (Some(Value::Null), Presence::Nullable) => {}
            (Some(Value::Null), _) => out.push(format!("{at}: null")),
            (Some(v), _) => check_shape(&field.shape, v, &at, out),
        }
    }
    if repr.closed {
        for key in object.keys().filter(|k| !repr.fields.iter().any(|f| f.name == *k)) {
            out.push(format!("{path}.{key}: not in the contract"));
        }
    }
}

fn check_shape(shape: &Shape, v: &Value, at: &str, out: &mut Vec<String>) {
    let ok = match shape {
        Shape::Text => v.is_string(),
        Shape::Format(name, valid) => {
            if !v.as_str().is_some_and(valid) {
                out.push(format!("{at}: not {name}: {v}"));
            }
            true
        }
        Shape::Words(words) => {
            if v.as_str().is_some_and(|s| !words.contains(&s)) {
                out.push(format!("{at}: {v} is not one of {words:?}"));
            }
            v.is_string()
        }
        Shape::Integer => v.is_i64() || v.is_u64(),
        Shape::Number => v.is_number(),
        Shape::Boolean => v.is_boolean(),
        Shape::Map => v.is_object(),
        Shape::Object(fields) => {
            check(&Representation { fields, closed: false }, v, at, out);
            true
        }
        Shape::List(element) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_shape(element, item, &format!("{at}[{i}]"), out);
                }
                true
            }
            None => false,
        },
        Shape::Tuple(elements) => match v.as_array() {
            Some(items) if items.len() == elements.len() => {
                for (i, (element, item)) in elements.iter().zip(items).enumerate() {
                    check_shape(element, item, &format!("{at}[{i}]"), out);
                }
                true
            }
            Some(items) => {
                out.push(format!("{at}: {} elements, not {}", items.len(), elements.len()));
                true
            }
            None => false,
        },
    };
    if !ok {
        out.push(format!("{at}: wrong type: {v}"));
    }
}

/// True when `s` is a UTC time written exactly in `format`.
pub fn is_time(s: &str, format: &[time::format_description::BorrowedFormatItem<'_>]) -> bool {
    time::PrimitiveDateTime::parse(s, format).is_ok()
}

/// The contract of `dialect`'s edge.
pub fn of(dialect: Dialect) -> &'static Contract {
    dialect.profile().contract()
}

/// The canonical image fields an upstream of `dialect` never fills.
pub fn uncarried(dialect: Dialect) -> &'static [&'static str] {
    of(dialect).uncarried
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_uncarried_field_is_a_compared_one() {
        for dialect in Dialect::ALL {
            for field in uncarried(dialect) {
                assert!(crate::model::COMPARED.contains(field), "{dialect}: {field}");
            }
        }
    }

    const OPTION: &[Field] = &[
        Field::new("id", Presence::Always, Shape::Integer),
        Field::new("name", Presence::Always, Shape::Words(&["a", "b"])),
    ];
    const REPR: Representation = Representation {
        fields: &[
            Field::new("id", Presence::Always, Shape::Integer),
            Field::new("updated", Presence::Nullable, Shape::Text),
            Field::new("arch", Presence::WhenKnown, Shape::Object(OPTION)),
            Field::new("zones", Presence::Always, Shape::List(&Shape::Text)),
        ],
        closed: true,
    };

    fn breaches(value: Value) -> Vec<String> {
        let mut out = Vec::new();
        check(&REPR, &value, "image", &mut out);
        out
    }

    #[test]
    fn a_conforming_object_passes() {
        assert_eq!(breaches(json!({"id": 1, "updated": null, "zones": []})), Vec::<String>::new());
        assert_eq!(
            breaches(json!({"id": 1, "updated": "x", "arch": {"id": 2, "name": "b"}, "zones": ["z"]})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn nulls_types_words_and_strangers_are_breaches() {
        assert_eq!(
            breaches(json!({"id": "1", "arch": null, "zones": [3], "extra": 1})),
            [
                "image.id: wrong type: \"1\"",
                "image.updated: absent",
                "image.arch: null",
                "image.zones[0]: wrong type: 3",
                "image.extra: not in the contract",
            ]
        );
        assert_eq!(
            breaches(json!({"id": 1, "updated": null, "arch": {"id": 2, "name": "c"}, "zones": []})),
            ["image.arch.name: \"c\" is not one of [\"a\", \"b\"]"]
        );
    }
}
