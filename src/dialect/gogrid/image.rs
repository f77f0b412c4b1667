//! The GoGrid image object and the canonical [`Image`], both ways.
//!
//! Decoding reads a [`WireObject`] (deserialized straight from a JSON body, or
//! from the tree an XML or CSV body is turned into) into an [`Image`].
//! Encoding builds an [`ImageView`]: every wire field of one image, borrowed
//! from the canonical image, its `gogrid.*` extras and the vocabularies below,
//! with the defaults for what a foreign image lacks. The JSON, XML and CSV
//! writers all render the same view.

use std::borrow::Cow;
use std::fmt;
use std::ops::Bound;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Number, Value};
use time::OffsetDateTime;

use super::contract;
use crate::dialect::fields::borrowed_text;
use crate::dialect::ids;
use compact_str::ToCompactString;

use crate::model::{Extra, GatewayError, Image, ImageId, ImageStatus, Text};

/// Extra keys under which a GoGrid image keeps what the model has no slot for.
pub(super) mod key {
    pub const NAME: &str = "gogrid.name";
    pub const LOCATION: &str = "gogrid.location";
    pub const PRICE: &str = "gogrid.price";
    pub const IS_ACTIVE: &str = "gogrid.isActive";
    pub const OWNER_ID: &str = "gogrid.owner.id";
    pub const OWNER_NAME: &str = "gogrid.owner.name";
    pub const BILLINGTOKENS: &str = "gogrid.billingtokens";
    pub const DATACENTERLIST: &str = "gogrid.datacenterlist";
    pub const TYPE: &str = "gogrid.type";
    pub const TYPE_ID: &str = "gogrid.type.id";
    pub const TYPE_DESCRIPTION: &str = "gogrid.type.description";
    pub const OS_ID: &str = "gogrid.os.id";
    pub const OS_DESCRIPTION: &str = "gogrid.os.description";
    pub const ARCHITECTURE_ID: &str = "gogrid.architecture.id";
    pub const ARCHITECTURE_DESCRIPTION: &str = "gogrid.architecture.description";
    pub const STATE_ID: &str = "gogrid.state.id";
    pub const STATE_DESCRIPTION: &str = "gogrid.state.description";
}

/// One entry of a GoGrid option vocabulary (`common/lookup/list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Choice {
    pub id: i64,
    pub name: &'static str,
    pub description: &'static str,
}

const fn choice(id: i64, name: &'static str, description: &'static str) -> Choice {
    Choice { id, name, description }
}

/// `image.state`, with the canonical status each one means.
const STATES: [(Choice, ImageStatus); 5] = [
    (choice(1, "Saving", "Image is being saved"), ImageStatus::Saving),
    (choice(2, "Available", "Image is available for adds"), ImageStatus::Active),
    (choice(3, "Deleted", "Image has been deleted"), ImageStatus::Deleted),
    (choice(4, "Trash", "Image is marked for deletion"), ImageStatus::Trashed),
    (choice(7, "Migrating", "Image is being migrated from another data center"), ImageStatus::Saving),
];
const SAVING: usize = 0;
const AVAILABLE: usize = 1;
const DELETED: usize = 2;
const TRASH: usize = 3;
const MIGRATING: usize = 4;

/// States the model has and GoGrid has not; id 0 is no GoGrid option.
const ERROR_STATE: Choice = choice(0, "Error", "Image is in an error state");
const UNKNOWN_STATE: Choice = choice(0, "Unknown", "Image state is unknown");

/// `image.type`; the first is the default for foreign images.
const TYPES: [Choice; 2] = [
    choice(1, "Web Server", "Web or Application Server"),
    choice(2, "Database Server", "This server does not have a public connection to the Internet."),
];

/// `image.architecture`.
const ARCHITECTURES: [Choice; 2] = [choice(1, "32-bit", "32 bit OS"), choice(2, "64-bit", "64 bit OS")];

/// Other dialects' architecture words and the GoGrid option they fall under.
const ARCHITECTURE_ALIASES: [(&str, usize); 9] = [
    ("i386", 0),
    ("i686", 0),
    ("x86", 0),
    ("32 bit", 0),
    ("x86_64", 1),
    ("amd64", 1),
    ("aarch64", 1),
    ("arm64", 1),
    ("64 bit", 1),
];

/// The state named `name` (any case) and its canonical status.
pub(super) fn state_named(name: &str) -> Option<(Choice, ImageStatus)> {
    STATES.iter().copied().find(|(c, _)| c.name.eq_ignore_ascii_case(name))
}

fn state_numbered(id: i64) -> Option<(Choice, ImageStatus)> {
    STATES.iter().copied().find(|(c, _)| c.id == id)
}

/// The image type named `name` (any case).
pub(super) fn type_named(name: &str) -> Option<Choice> {
    TYPES.iter().copied().find(|c| c.name.eq_ignore_ascii_case(name))
}

fn architecture_named(name: &str) -> Option<Choice> {
    ARCHITECTURES.iter().copied().find(|c| c.name.eq_ignore_ascii_case(name)).or_else(|| {
        ARCHITECTURE_ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(name)).map(|&(_, i)| ARCHITECTURES[i])
    })
}

/// An id rendered as a number: only a canonical decimal integer, so that the
/// number prints back to the very same id (`"007"` stays a string).
pub(super) fn numeric_id(id: &str) -> Option<i64> {
    let digits = id.strip_prefix('-').unwrap_or(id);
    let canonical = match digits.as_bytes() {
        [b'0'] => digits.len() == id.len(),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if canonical { id.parse().ok() } else { None }
}

/// A double as Java prints it (`0.0`, `100.0`, `0.095`): XML and CSV prices.
pub(super) fn java_double(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.1}") } else { format!("{x}") }
}

/// A number the way GoGrid's JSON carries it: whole values as integers.
fn whole_or_float(x: f64) -> Option<Number> {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        // the bound keeps the cast exact
        Some(Number::from(x as i64))
    } else {
        Number::from_f64(x)
    }
}

/// The JSON value of a text field of an XML or CSV reply, typed the way the
/// JSON reply types the same field. Empty text is an absent value.
pub(super) fn typed_scalar(field: &str, text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    let typed = match field {
        "id" | "createdTime" | "updatedTime" | "total" | "start" | "numpages" | "returned" => {
            text.parse::<i64>().ok().map(Value::from)
        }
        "price" => text.parse::<f64>().ok().and_then(whole_or_float).map(Value::Number),
        "isActive" | "isPublic" => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    typed.unwrap_or_else(|| Value::String(text.to_owned()))
}

// ---------------------------------------------------------------------------
// Decoding

/// A JSON scalar of a lenient type: GoGrid sends numbers, XML and CSV send
/// text, and some fields come as either.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Cow<'a, str>),
}

impl Scalar<'_> {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
            Scalar::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::Text(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Scalar::Text(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<Number> {
        match self {
            Scalar::Int(n) => Some(Number::from(*n)),
            Scalar::Float(x) => whole_or_float(*x),
            Scalar::Text(s) => s.trim().parse().ok().and_then(whole_or_float),
            _ => None,
        }
    }

    /// The value as an id string: integers print, text stays as it is.
    fn as_id(&self) -> Option<Text> {
        match self {
            Scalar::Int(n) => Some(n.to_compact_string()),
            Scalar::Text(s) if !s.is_empty() => Some(Text::from(&**s)),
            Scalar::Float(_) => self.as_i64().map(|n| n.to_compact_string()),
            _ => None,
        }
    }

    /// A JSON value for an extra: numbers stay numbers, text stays text.
    fn to_value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(n) => Value::from(*n),
            Scalar::Float(x) => whole_or_float(*x).map_or(Value::Null, Value::Number),
            Scalar::Text(s) => s.trim().parse::<i64>().map_or_else(|_| Value::String(s.to_string()), Value::from),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string, a boolean or null")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
}

/// An option object: `{"description","id","name","object":"option"}`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireOption<'a> {
    #[serde(borrow, default)]
    pub id: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub description: Option<Cow<'a, str>>,
}

/// Any object of a reply's `list`: an image, an error, or (in a failure reply)
/// whatever the method works on. Fields no image has are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireObject<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub object: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub errorcode: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub id: Option<Scalar<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub friendly_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub description: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_text")]
    pub location: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub os: Option<WireOption<'a>>,
    #[serde(borrow, default)]
    pub architecture: Option<WireOption<'a>>,
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<WireOption<'a>>,
    #[serde(borrow, default)]
    pub state: Option<WireOption<'a>>,
    #[serde(borrow, default)]
    pub owner: Option<WireOption<'a>>,
    /// The server the image was saved from (a CSV column).
    #[serde(borrow, default)]
    pub server: Option<WireOption<'a>>,
    #[serde(borrow, default)]
    pub price: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub is_active: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub is_public: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub created_time: Option<Scalar<'a>>,
    #[serde(borrow, default)]
    pub updated_time: Option<Scalar<'a>>,
    #[serde(default)]
    pub billingtokens: Option<Value>,
    #[serde(default)]
    pub datacenterlist: Option<Value>,
}

fn malformed(what: &str) -> GatewayError {
    GatewayError::upstream_protocol(format!("gogrid image with {what}"))
}

impl WireObject<'_> {
    /// The canonical image this object describes.
    pub fn into_image(self) -> Result<Image, GatewayError> {
        let id = self.id.as_ref().and_then(Scalar::as_id).ok_or_else(|| malformed("no id"))?;
        let mut extra = Extra::new();
        let (status, backend_status) = decode_state(self.state, &mut extra);
        let name = match (self.friendly_name, &self.name) {
            (Some(friendly), _) => Text::from(friendly.as_ref()),
            (None, Some(unique)) => Text::from(unique.as_ref()),
            (None, None) => Text::default(),
        };
        put_text(&mut extra, key::NAME, self.name);
        put_text(&mut extra, key::LOCATION, self.location);
        let os = decode_option(self.os, None, (key::OS_ID, key::OS_DESCRIPTION), &mut extra);
        let architecture = decode_option(
            self.architecture,
            Some(architecture_named),
            (key::ARCHITECTURE_ID, key::ARCHITECTURE_DESCRIPTION),
            &mut extra,
        );
        if let Some(kind) =
            decode_option(self.kind, Some(type_named), (key::TYPE_ID, key::TYPE_DESCRIPTION), &mut extra)
        {
            extra.insert(key::TYPE.into(), Value::String(kind.into_string()));
        }
        decode_owner(self.owner, &mut extra);
        if let Some(price) = self.price.as_ref().and_then(Scalar::as_number).filter(|p| p.as_i64() != Some(0)) {
            extra.insert(key::PRICE.into(), Value::Number(price));
        }
        if self.is_active.as_ref().and_then(Scalar::as_bool) == Some(false) {
            extra.insert(key::IS_ACTIVE.into(), Value::Bool(false));
        }
        if let Some(Value::Array(tokens)) = self.billingtokens.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
            extra.insert(key::BILLINGTOKENS.into(), Value::Array(tokens));
        }
        let zones = match self.datacenterlist {
            Some(Value::Array(list)) if !list.is_empty() => {
                let zones = list.iter().filter_map(datacenter_name).collect();
                extra.insert(key::DATACENTERLIST.into(), Value::Array(list));
                zones
            }
            _ => Vec::new(),
        };
        Ok(Image {
            id: ImageId(id),
            name,
            status,
            backend_status,
            created: instant(self.created_time.as_ref(), "createdTime")?,
            updated: instant(self.updated_time.as_ref(), "updatedTime")?,
            description: self.description.as_deref().map(Text::from),
            os,
            architecture,
            public: self.is_public.as_ref().and_then(Scalar::as_bool),
            server_id: self.server.and_then(|server| server.id).as_ref().and_then(Scalar::as_id),
            zones,
            extra,
            ..Image::default()
        })
    }
}

fn put_text(extra: &mut Extra, key: &str, text: Option<Cow<'_, str>>) {
    if let Some(text) = text {
        extra.insert(key.into(), Value::String(text.into_owned()));
    }
}

/// The canonical status and GoGrid's own word for it. A state outside the
/// vocabulary is `Unknown`, its id and description kept so it renders back.
fn decode_state(state: Option<WireOption<'_>>, extra: &mut Extra) -> (ImageStatus, Option<Text>) {
    let Some(state) = state else { return (ImageStatus::Unknown, None) };
    let known = state
        .name
        .as_deref()
        .and_then(state_named)
        .or_else(|| state.id.as_ref().and_then(Scalar::as_i64).and_then(state_numbered));
    match known {
        Some((choice, status)) => {
            (status, Some(state.name.as_deref().map_or_else(|| Text::const_new(choice.name), Text::from)))
        }
        None => {
            if let Some(id) = state.id.as_ref().and_then(Scalar::as_i64) {
                extra.insert(key::STATE_ID.into(), Value::from(id));
            }
            put_text(extra, key::STATE_DESCRIPTION, state.description);
            (ImageStatus::Unknown, state.name.as_deref().map(Text::from))
        }
    }
}

/// An option's name; its id and description go to `keys` when they differ
/// from what the vocabulary (`lookup`) gives for that name.
fn decode_option(
    option: Option<WireOption<'_>>,
    lookup: Option<fn(&str) -> Option<Choice>>,
    (id_key, description_key): (&str, &str),
    extra: &mut Extra,
) -> Option<Text> {
    let option = option?;
    let name = Text::from(option.name?.as_ref());
    let known = lookup.and_then(|find| find(&name));
    let id = option.id.as_ref().and_then(Scalar::as_i64);
    if id.is_some_and(|id| id != known.map_or(0, |c| c.id)) {
        extra.insert(id_key.into(), Value::from(id));
    }
    let default_description = known.map_or(name.as_str(), |c| c.description);
    if let Some(description) = option.description.filter(|d| d != default_description) {
        extra.insert(description_key.into(), Value::String(description.into_owned()));
    }
    Some(name)
}

fn decode_owner(owner: Option<WireOption<'_>>, extra: &mut Extra) {
    let Some(owner) = owner else { return };
    if let Some(id) = owner.id.as_ref().map(Scalar::to_value).filter(|v| !v.is_null()) {
        extra.insert(key::OWNER_ID.into(), id);
    }
    put_text(extra, key::OWNER_NAME, owner.name);
}

/// `{"datacenter": {"id": 1, "name": "US-West-1", …}}` → `US-West-1`.
fn datacenter_name(item: &Value) -> Option<Text> {
    let datacenter = item.get("datacenter")?;
    match (datacenter.get("name"), datacenter.get("id")) {
        (Some(Value::String(name)), _) => Some(name.into()),
        (_, Some(Value::Number(id))) => Some(id.to_compact_string()),
        (_, Some(Value::String(id))) => Some(id.into()),
        _ => None,
    }
}

/// Epoch milliseconds → an instant; empty is absent, anything else is an error.
fn instant(value: Option<&Scalar<'_>>, field: &str) -> Result<Option<OffsetDateTime>, GatewayError> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Text(t)) if t.is_empty() => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
            .map(Some)
            .ok_or_else(|| malformed(&format!("an invalid {field}"))),
    }
}

// ---------------------------------------------------------------------------
// Encoding

/// An id or owner id on the wire: a number when it is one, else text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum WireId<'a> {
    Number(i64),
    Text(&'a str),
}

impl<'a> WireId<'a> {
    pub fn of(id: &'a str) -> Self {
        numeric_id(id).map_or(WireId::Text(id), WireId::Number)
    }

    fn of_value(value: &'a Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_i64().map(WireId::Number),
            Value::String(s) => Some(WireId::Text(s)),
            _ => None,
        }
    }

    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            WireId::Number(n) => Cow::Owned(n.to_string()),
            WireId::Text(s) => Cow::Borrowed(s),
        }
    }
}

/// An option object to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct OptionView<'a> {
    pub id: i64,
    pub name: &'a str,
    pub description: &'a str,
}

impl From<Choice> for OptionView<'_> {
    fn from(c: Choice) -> Self {
        OptionView { id: c.id, name: c.name, description: c.description }
    }
}

/// The owning customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct OwnerView<'a> {
    pub id: WireId<'a>,
    pub name: &'a str,
}

/// GoGrid's own provider images have owner id -1.
const PUBLIC_OWNER: OwnerView<'static> = OwnerView { id: WireId::Number(-1), name: "GoGrid" };
const NO_OWNER: OwnerView<'static> = OwnerView { id: WireId::Number(0), name: "" };

/// An image's price: as GoGrid sent it, or 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Price<'a> {
    Wire(&'a Number),
    Zero,
}

impl Price<'_> {
    /// The Java double text of XML and CSV replies.
    pub fn text(&self) -> String {
        match self {
            Price::Wire(n) => n.as_f64().map_or_else(|| n.to_string(), java_double),
            Price::Zero => java_double(0.0),
        }
    }
}

/// Where an image is available: GoGrid's own list, or the model's zones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Datacenters<'a> {
    Wire(&'a [Value]),
    Zones(&'a [Text]),
}

/// Every wire field of one image, ready for any of the three formats.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ImageView<'a> {
    pub id: WireId<'a>,
    /// The unique name (`GSI-…`).
    pub name: &'a str,
    /// The display name.
    pub friendly_name: &'a str,
    pub description: Option<&'a str>,
    pub os: OptionView<'a>,
    pub architecture: Option<OptionView<'a>>,
    pub kind: OptionView<'a>,
    pub state: OptionView<'a>,
    pub owner: OwnerView<'a>,
    pub location: Cow<'a, str>,
    pub price: Price<'a>,
    pub is_active: bool,
    pub is_public: bool,
    pub created: Option<i64>,
    pub updated: Option<i64>,
    pub billingtokens: &'a [Value],
    pub datacenters: Option<Datacenters<'a>>,
    /// The server the image was saved from (CSV `server.id`).
    pub server_id: Option<WireId<'a>>,
}

/// The `gogrid.*` extras of one image, read in one pass.
#[derive(Default)]
struct Extras<'a> {
    name: Option<&'a str>,
    location: Option<&'a str>,
    price: Option<&'a Number>,
    is_active: Option<bool>,
    owner_id: Option<WireId<'a>>,
    owner_name: Option<&'a str>,
    billingtokens: Option<&'a [Value]>,
    datacenters: Option<&'a [Value]>,
    kind: Option<&'a str>,
    kind_id: Option<i64>,
    kind_description: Option<&'a str>,
    os_id: Option<i64>,
    os_description: Option<&'a str>,
    architecture_id: Option<i64>,
    architecture_description: Option<&'a str>,
    state_id: Option<i64>,
    state_description: Option<&'a str>,
}

impl<'a> Extras<'a> {
    fn read(extra: &'a Extra) -> Self {
        let mut x = Extras::default();
        let from = (Bound::Included("gogrid."), Bound::Unbounded);
        let ours = extra.range::<str, _>(from).take_while(|(k, _)| k.starts_with("gogrid."));
        for (k, v) in ours {
            match k.as_str() {
                key::NAME => x.name = v.as_str(),
                key::LOCATION => x.location = v.as_str(),
                key::PRICE => x.price = v.as_number().or(x.price),
                key::IS_ACTIVE => x.is_active = v.as_bool(),
                key::OWNER_ID => x.owner_id = WireId::of_value(v),
                key::OWNER_NAME => x.owner_name = v.as_str(),
                key::BILLINGTOKENS => x.billingtokens = v.as_array().map(Vec::as_slice),
                key::DATACENTERLIST => x.datacenters = v.as_array().map(Vec::as_slice),
                key::TYPE => x.kind = v.as_str(),
                key::TYPE_ID => x.kind_id = v.as_i64(),
                key::TYPE_DESCRIPTION => x.kind_description = v.as_str(),
                key::OS_ID => x.os_id = v.as_i64(),
                key::OS_DESCRIPTION => x.os_description = v.as_str(),
                key::ARCHITECTURE_ID => x.architecture_id = v.as_i64(),
                key::ARCHITECTURE_DESCRIPTION => x.architecture_description = v.as_str(),
                key::STATE_ID => x.state_id = v.as_i64(),
                key::STATE_DESCRIPTION => x.state_description = v.as_str(),
                _ => {}
            }
        }
        x
    }
}

fn option_view<'a>(
    name: &'a str,
    known: Option<Choice>,
    id: Option<i64>,
    description: Option<&'a str>,
) -> OptionView<'a> {
    OptionView {
        id: id.or(known.map(|c| c.id)).unwrap_or(0),
        name,
        description: description.or(known.map(|c| c.description)).unwrap_or(name),
    }
}

fn epoch_millis(t: &OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl<'a> ImageView<'a> {
    /// The view of `image`, for a request by `caller`: the owner of a private
    /// image whose upstream names none.
    pub fn new(image: &'a Image, caller: Option<&'a str>) -> Self {
        let x = Extras::read(&image.extra);
        let is_public = image.public.unwrap_or(false);
        let owner = match (x.owner_id, x.owner_name, caller) {
            (None, None, _) if is_public => PUBLIC_OWNER,
            (None, None, Some(caller)) => OwnerView { id: WireId::Number(ids::derived(caller)), name: caller },
            (None, None, None) => NO_OWNER,
            (id, name, _) => OwnerView { id: id.unwrap_or(WireId::Number(0)), name: name.unwrap_or("") },
        };
        let name = x.name.unwrap_or(if image.name.is_empty() { image.id.as_str() } else { &image.name });
        let kind_name = x.kind.unwrap_or(TYPES[0].name);
        let datacenters = match (x.datacenters, image.zones.is_empty()) {
            (Some(list), _) => Some(Datacenters::Wire(list)),
            (None, false) => Some(Datacenters::Zones(&image.zones)),
            (None, true) => None,
        };
        ImageView {
            id: WireId::Number(ids::integer_id(image.id.as_str())),
            name,
            friendly_name: &image.name,
            description: image.description.as_deref(),
            os: match image.os.as_deref() {
                Some(os) => option_view(os, None, x.os_id, x.os_description),
                None => {
                    let (id, name, description) = contract::UNKNOWN_OS;
                    OptionView { id, name, description }
                }
            },
            architecture: image
                .architecture
                .as_deref()
                .and_then(architecture_named)
                .map(|known| option_view(known.name, Some(known), x.architecture_id, x.architecture_description)),
            kind: option_view(kind_name, type_named(kind_name), x.kind_id, x.kind_description),
            state: state_view(image, &x),
            location: match x.location {
                Some(location) => Cow::Borrowed(location),
                None => Cow::Owned(format!("{}/{name}.img", owner.id.text())),
            },
            owner,
            price: x.price.map_or(Price::Zero, Price::Wire),
            is_active: x.is_active.unwrap_or(true),
            is_public,
            created: image.created.as_ref().map(epoch_millis),
            // a source without an update time (Hostway): saved, never changed
            updated: image.updated.or(image.created).as_ref().map(epoch_millis),
            billingtokens: x.billingtokens.unwrap_or(&[]),
            datacenters,
            server_id: image.server_id.as_deref().map(WireId::of),
        }
    }
}

fn state_view<'a>(image: &'a Image, x: &Extras<'a>) -> OptionView<'a> {
    let choice = match image.status {
        ImageStatus::Active => STATES[AVAILABLE].0,
        ImageStatus::Saving if image.backend_status.as_deref() == Some(STATES[MIGRATING].0.name) => STATES[MIGRATING].0,
        ImageStatus::Saving => STATES[SAVING].0,
        ImageStatus::Deleted => STATES[DELETED].0,
        ImageStatus::Trashed => STATES[TRASH].0,
        ImageStatus::Error => ERROR_STATE,
        // a GoGrid state outside the vocabulary, kept by `decode_state`
        ImageStatus::Unknown if x.state_id.is_some() || x.state_description.is_some() => {
            return OptionView {
                id: x.state_id.unwrap_or(0),
                name: image.backend_status.as_deref().unwrap_or(UNKNOWN_STATE.name),
                description: x.state_description.unwrap_or(""),
            };
        }
        ImageStatus::Unknown => UNKNOWN_STATE,
    };
    choice.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(value: Value) -> Image {
        WireObject::deserialize(&value).unwrap().into_image().unwrap()
    }

    fn render(image: &Image, object: &'static str) -> Value {
        serde_json::from_slice(&super::super::json::image_object(&ImageView::new(image, Some("demo")), object)).unwrap()
    }

    fn seed_image() -> Value {
        json!({
            "billingtokens": [{"id": 22, "name": "Windows 2008 32bit", "price": 0}],
            "createdTime": 1248385571829_i64,
            "friendlyName": "n",
            "id": 250,
            "isActive": true,
            "isPublic": false,
            "location": "19999/GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e.img",
            "name": "GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e",
            "object": "image",
            "os": {"description": "Windows 2008 Server (32-bit)", "id": 11, "name": "Windows 2008 Server (32-bit)", "object": "option"},
            "owner": {"id": 19999, "name": "Servepath", "object": "customer"},
            "price": 0,
            "state": {"description": "Image is available for adds", "id": 2, "name": "Available", "object": "option"},
            "type": {"description": "Web or Application Server", "id": 1, "name": "Web Server", "object": "option"},
            "updatedTime": 1248386268435_i64
        })
    }

    #[test]
    fn seed_image_maps_onto_the_model() {
        let image = decode(seed_image());
        assert_eq!(image.id.as_str(), "250");
        assert_eq!(image.name, "n");
        assert_eq!(image.status, ImageStatus::Active);
        assert_eq!(image.backend_status.as_deref(), Some("Available"));
        assert_eq!(image.os.as_deref(), Some("Windows 2008 Server (32-bit)"));
        assert_eq!(image.public, Some(false));
        assert_eq!(image.created.map(|t| t.unix_timestamp()), Some(1_248_385_571));
        assert_eq!(image.description, None);
        let expected_extra: Extra = [
            (key::NAME, json!("GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e")),
            (key::LOCATION, json!("19999/GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e.img")),
            (key::OS_ID, json!(11)),
            (key::TYPE, json!("Web Server")),
            (key::OWNER_ID, json!(19999)),
            (key::OWNER_NAME, json!("Servepath")),
            (key::BILLINGTOKENS, json!([{"id": 22, "name": "Windows 2008 32bit", "price": 0}])),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
        assert_eq!(image.extra, expected_extra);
    }

    #[test]
    fn seed_image_renders_back_identically_and_in_order() {
        let wire = seed_image();
        let rendered = super::super::json::image_object(&ImageView::new(&decode(wire.clone()), None), "image");
        assert_eq!(String::from_utf8(rendered).unwrap(), serde_json::to_string(&wire).unwrap());
    }

    #[test]
    fn every_state_round_trips() {
        for (choice, status) in STATES {
            let wire = json!({"id": 1, "state": {"description": choice.description, "id": choice.id, "name": choice.name, "object": "option"}});
            let image = decode(wire.clone());
            assert_eq!(image.status, status, "{}", choice.name);
            assert_eq!(render(&image, "image")["state"], wire["state"]);
        }
    }

    #[test]
    fn unknown_states_keep_their_option() {
        let state = json!({"description": "Image is frozen", "id": 9, "name": "Frozen", "object": "option"});
        let image = decode(json!({"id": 1, "state": state}));
        assert_eq!(image.status, ImageStatus::Unknown);
        assert_eq!(render(&image, "image")["state"], state);
    }

    #[test]
    fn states_are_read_by_id_when_the_name_is_missing() {
        let image = decode(json!({"id": 1, "state": {"id": 4}}));
        assert_eq!(image.status, ImageStatus::Trashed);
        assert_eq!(image.backend_status.as_deref(), Some("Trash"));
    }

    #[test]
    fn foreign_images_get_defaults() {
        let image = Image {
            id: ImageId::new("70a599e0-31e7-49b7-b260-868f441e862b"),
            name: "cirros".into(),
            status: ImageStatus::Error,
            public: Some(true),
            os: Some("Ubuntu 22.04".into()),
            architecture: Some("x86_64".into()),
            zones: vec!["nova".into()],
            ..Image::default()
        };
        assert_eq!(
            render(&image, "serverimage"),
            json!({
                "architecture": {"description": "64 bit OS", "id": 2, "name": "64-bit", "object": "option"},
                "billingtokens": [],
                "datacenterlist": [{"datacenter": {"name": "nova", "object": "option"}}],
                "friendlyName": "cirros",
                "id": ids::derived("70a599e0-31e7-49b7-b260-868f441e862b"),
                "isActive": true,
                "isPublic": true,
                "location": "-1/cirros.img",
                "name": "cirros",
                "object": "serverimage",
                "os": {"description": "Ubuntu 22.04", "id": 0, "name": "Ubuntu 22.04", "object": "option"},
                "owner": {"id": -1, "name": "GoGrid", "object": "customer"},
                "price": 0,
                "state": {"description": "Image is in an error state", "id": 0, "name": "Error", "object": "option"},
                "type": {"description": "Web or Application Server", "id": 1, "name": "Web Server", "object": "option"}
            })
        );
    }

    #[test]
    fn private_foreign_images_belong_to_the_caller_and_fall_back_to_the_id_for_a_name() {
        let image = Image { id: ImageId::new("42"), ..Image::default() };
        let rendered = render(&image, "image");
        assert_eq!(rendered["owner"], json!({"id": ids::derived("demo"), "name": "demo", "object": "customer"}));
        assert_eq!(rendered["location"], json!(format!("{}/42.img", ids::derived("demo"))));
        assert_eq!(
            rendered["os"],
            json!({"description": "Operating system unknown", "id": 0, "name": "Unknown", "object": "option"})
        );
        assert_eq!(rendered["name"], json!("42"));
        assert_eq!(rendered["id"], json!(42));
        assert_eq!(rendered["state"]["name"], json!("Available"));
    }

    #[test]
    fn the_vocabularies_are_the_contracts() {
        assert_eq!(STATES.map(|(c, _)| c.name), contract::STATES);
        assert_eq!(TYPES.map(|c| c.name), contract::TYPES);
        assert_eq!(ARCHITECTURES.map(|c| c.name), contract::ARCHITECTURES);
    }

    #[test]
    fn migrating_renders_back_as_migrating() {
        let image = decode(json!({"id": 3, "state": {"id": 7, "name": "Migrating"}}));
        assert_eq!(image.status, ImageStatus::Saving);
        assert_eq!(render(&image, "image")["state"]["id"], json!(7));
    }

    #[test]
    fn the_source_server_is_the_server_id() {
        let image = decode(json!({"id": 1, "server": {"id": 90967, "name": "test1"}}));
        assert_eq!(image.server_id.as_deref(), Some("90967"));
    }

    #[test]
    fn lenient_scalars() {
        let image = decode(json!({"id": "77", "isPublic": "true", "createdTime": "1000", "price": "1.5"}));
        assert_eq!(image.id.as_str(), "77");
        assert_eq!(image.public, Some(true));
        assert_eq!(image.created.map(|t| t.unix_timestamp()), Some(1));
        assert_eq!(image.extra[key::PRICE], json!(1.5));
    }

    #[test]
    fn malformed_images_are_protocol_errors() {
        for wire in [json!({"name": "no id"}), json!({"id": 1, "createdTime": "yesterday"})] {
            let err = WireObject::deserialize(&wire).unwrap().into_image().unwrap_err();
            assert_eq!(err.kind, crate::model::ErrorKind::UpstreamProtocol, "{wire}");
        }
    }

    #[test]
    fn numeric_ids_are_canonical_integers_only() {
        assert_eq!(numeric_id("250"), Some(250));
        assert_eq!(numeric_id("-1"), Some(-1));
        assert_eq!(numeric_id("0"), Some(0));
        for text in ["007", "+5", "-0", "", "-", "1e3", "12a", "99999999999999999999"] {
            assert_eq!(numeric_id(text), None, "{text}");
        }
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(0.095), "0.095");
    }

    #[test]
    fn typed_scalars_follow_the_json_types() {
        assert_eq!(typed_scalar("id", "250"), json!(250));
        assert_eq!(typed_scalar("id", "GSI-1"), json!("GSI-1"));
        assert_eq!(typed_scalar("price", "0.0"), json!(0));
        assert_eq!(typed_scalar("price", "0.5"), json!(0.5));
        assert_eq!(typed_scalar("isPublic", "false"), json!(false));
        assert_eq!(typed_scalar("createdTime", ""), Value::Null);
        assert_eq!(typed_scalar("name", "250"), json!("250"));
    }
}
