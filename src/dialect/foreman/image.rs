//! The Foreman image on the wire: read from any Foreman reply body, written
//! as the `main` view (`app/views/api/v2/images/main.json.rabl`).

use std::fmt;
use std::ops::Bound;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::contract;
use crate::dialect::fields::KnownFields;
use crate::dialect::ids;
use crate::dialect::timestamp::{parse_rfc3339, parse_utc_seconds, utc_seconds, write_utc_seconds};
use crate::model::{Image, ImageId, Text};

/// The namespace of Foreman's extra fields.
pub(super) const NAMESPACE: &str = "foreman.";
pub(super) const OS_ID: &str = "foreman.operatingsystem_id";
pub(super) const CR_ID: &str = "foreman.compute_resource_id";
pub(super) const CR_NAME: &str = "foreman.compute_resource_name";
pub(super) const ARCH_ID: &str = "foreman.architecture_id";
pub(super) const UUID: &str = "foreman.uuid";
pub(super) const USERNAME: &str = "foreman.username";
pub(super) const USER_DATA: &str = "foreman.user_data";
pub(super) const IAM_ROLE: &str = "foreman.iam_role";

/// Wire fields the view writes in fixed places (or never: `password`), so
/// the loop over the remaining extras skips them.
const PLACED: [&str; 15] = [
    "operatingsystem_id",
    "operatingsystem_name",
    "compute_resource_id",
    "compute_resource_name",
    "architecture_id",
    "architecture_name",
    "uuid",
    "username",
    "created_at",
    "updated_at",
    "user_data",
    "iam_role",
    "id",
    "name",
    "password",
];

/// An image read from a Foreman body: the rabl views and the raw model
/// JSON of a DELETE reply alike. `password` is dropped on sight.
pub(super) struct WireImage(pub Image);

impl<'de> Deserialize<'de> for WireImage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ImageVisitor)
    }
}

struct ImageVisitor;

impl<'de> Visitor<'de> for ImageVisitor {
    type Value = WireImage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a foreman image object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireImage, A::Error> {
        let mut image = Image::default();
        let mut has_id = false;
        while let Some(field) = Field::next_known(&mut map, NAMESPACE, &mut image.extra)? {
            match field {
                Field::Id => {
                    image.id = map.next_value::<ImageId>()?;
                    has_id = true;
                }
                Field::Name => image.name = map.next_value::<Option<Text>>()?.unwrap_or_default(),
                Field::OsName => image.os = map.next_value()?,
                Field::ArchName => image.architecture = map.next_value()?,
                Field::CreatedAt => image.created = map.next_value::<WireTime>()?.0,
                Field::UpdatedAt => image.updated = map.next_value::<WireTime>()?.0,
                Field::Password => {
                    map.next_value::<IgnoredAny>()?;
                }
                Field::Extra(name) => {
                    // a static name is kept by reference, however long
                    image.extra.insert(Text::const_new(name), map.next_value()?);
                }
            }
        }
        if !has_id {
            return Err(de::Error::missing_field("id"));
        }
        Ok(WireImage(image))
    }
}

/// The fields with a canonical slot, and the known extras (already
/// namespaced, without allocating); any other key is kept as an extra.
enum Field {
    Id,
    Name,
    OsName,
    ArchName,
    CreatedAt,
    UpdatedAt,
    Password,
    Extra(&'static str),
}

impl KnownFields for Field {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Field::Id,
            "name" => Field::Name,
            "operatingsystem_name" => Field::OsName,
            "architecture_name" => Field::ArchName,
            "created_at" => Field::CreatedAt,
            "updated_at" => Field::UpdatedAt,
            "password" => Field::Password,
            "operatingsystem_id" => Field::Extra(OS_ID),
            "compute_resource_id" => Field::Extra(CR_ID),
            "compute_resource_name" => Field::Extra(CR_NAME),
            "architecture_id" => Field::Extra(ARCH_ID),
            "uuid" => Field::Extra(UUID),
            "username" => Field::Extra(USERNAME),
            "user_data" => Field::Extra(USER_DATA),
            "iam_role" => Field::Extra(IAM_ROLE),
            _ => return None,
        })
    }
}

/// A timestamp in either Foreman form, or null.
struct WireTime(Option<OffsetDateTime>);

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl<'de> Visitor<'de> for TimeVisitor {
            type Value = WireTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<WireTime, E> {
                Ok(WireTime(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<WireTime, E> {
                Ok(WireTime(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<WireTime, D::Error> {
                d.deserialize_str(self)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireTime, E> {
                parse_time(v).map(|t| WireTime(Some(t))).ok_or_else(|| E::custom(format!("invalid timestamp {v:?}")))
            }
        }
        deserializer.deserialize_option(TimeVisitor)
    }
}

/// Reads `2019-09-11 14:34:13 UTC` (rabl views) or `2019-09-11T14:34:13.271Z`
/// (raw model JSON), as UTC.
pub(super) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    s.strip_suffix(" UTC").and_then(|s| parse_utc_seconds(s, b' ')).or_else(|| parse_rfc3339(s))
}

/// A timestamp written the way the rabl views write it.
struct Stamp(OffsetDateTime);

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_utc_seconds(f, self.0, ' ')?;
        f.write_str(" UTC")
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(seconds) = utc_seconds(self.0) else { return serializer.collect_str(self) };
        let mut text = *b"0000-00-00 00:00:00 UTC";
        text[..19].copy_from_slice(&seconds);
        text[10] = b' ';
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

/// A timestamp written the way ActiveRecord's `to_json` writes it
/// (`2019-09-11T14:34:13.271Z`: UTC, milliseconds).
struct IsoStamp(OffsetDateTime);

impl fmt::Display for IsoStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_utc_seconds(f, self.0, 'T')?;
        write!(f, ".{:03}Z", self.0.millisecond())
    }
}

impl Serialize for IsoStamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(seconds) = utc_seconds(self.0) else { return serializer.collect_str(self) };
        let mut text = *b"0000-00-00T00:00:00.000Z";
        text[..19].copy_from_slice(&seconds);
        let mut millis = self.0.millisecond();
        for digit in text[20..23].iter_mut().rev() {
            // millis % 10 < 10: the cast keeps every bit
            *digit = b'0' + (millis % 10) as u8;
            millis /= 10;
        }
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

/// True for a decimal integer in canonical form (no sign, no leading zero),
/// which survives a trip through a JSON number unchanged.
pub(super) fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// The fields every Foreman image shows, with the contract's defaults for
/// what the upstream does not say (`contract.rs`).
struct Filled<'a> {
    os_id: Value,
    os_name: &'a str,
    compute_resource_id: Value,
    compute_resource_name: Value,
    architecture_id: Value,
    architecture_name: &'a str,
    username: Value,
    created: Option<OffsetDateTime>,
    updated: Option<OffsetDateTime>,
}

/// Other dialects' architecture words and Foreman's name for them.
const ARCHITECTURE_NAMES: [(&str, &str); 2] = [("64-bit", "x86_64"), ("32-bit", "i386")];

impl<'a> Filled<'a> {
    fn of(image: &'a Image, scope: Option<&'a str>) -> Self {
        let extra = |key: &str| image.extra.get(key).filter(|v| !v.is_null()).cloned();
        let os_name = image.os.as_deref().unwrap_or(contract::UNKNOWN_OS);
        let architecture_name = match image.architecture.as_deref() {
            Some(name) => ARCHITECTURE_NAMES.iter().find(|(word, _)| *word == name).map_or(name, |(_, ours)| ours),
            None => contract::DEFAULT_ARCHITECTURE.1,
        };
        let architecture_id = if architecture_name == contract::DEFAULT_ARCHITECTURE.1 {
            contract::DEFAULT_ARCHITECTURE.0
        } else {
            ids::derived(architecture_name)
        };
        Filled {
            os_id: extra(OS_ID).unwrap_or_else(|| ids::derived(os_name).into()),
            os_name,
            compute_resource_id: extra(CR_ID)
                .unwrap_or_else(|| scope.map_or(Value::Null, |s| ids::integer_id(s).into())),
            compute_resource_name: extra(CR_NAME).unwrap_or_else(|| scope.map_or(Value::Null, Value::from)),
            architecture_id: extra(ARCH_ID).unwrap_or_else(|| architecture_id.into()),
            architecture_name,
            username: extra(USERNAME).unwrap_or_else(|| contract::DEFAULT_USERNAME.into()),
            // Rails sets both at insert: each stands for the other
            created: image.created.or(image.updated),
            updated: image.updated.or(image.created),
        }
    }
}

/// The compute resource an image names as its own, when it names one: a
/// show under another compute resource is not found.
pub fn own_compute_resource(image: &Image) -> Option<String> {
    image.extra.get(CR_ID).filter(|v| !v.is_null()).map(|v| match v {
        Value::String(id) => id.clone(),
        other => other.to_string(),
    })
}

/// True when the image shows `compute_resource` as its `compute_resource_id`
/// under that compute resource: its own id is that one, or it has none and
/// shows the request's (see [`ImageView`]).
pub(super) fn in_compute_resource(image: &Image, compute_resource: &str) -> bool {
    let shown = Filled::of(image, Some(compute_resource)).compute_resource_id;
    same_text(&shown, compute_resource) || same_text(&shown, &ids::integer_id(compute_resource).to_string())
}

/// True when the image shows `id` as its `id`: its own when an integer,
/// else the integer derived from it.
pub(super) fn shows_id(image: &Image, id: &str) -> bool {
    ids::integer_id(image.id.as_str()).to_string() == id
}

/// True when the image shows `id` as its `operatingsystem_id`.
pub(super) fn shows_operatingsystem(image: &Image, id: &str) -> bool {
    same_text(&Filled::of(image, None).os_id, id)
}

/// True when the image shows `id` as its `architecture_id`.
pub(super) fn shows_architecture(image: &Image, id: &str) -> bool {
    same_text(&Filled::of(image, None).architecture_id, id)
}

/// True when two images show the same `operatingsystem_id`.
pub(super) fn same_operatingsystem(a: &Image, b: &Image) -> bool {
    Filled::of(a, None).os_id == Filled::of(b, None).os_id
}

/// True when the image shows `username` as its `username`.
pub(super) fn shows_username(image: &Image, username: &str) -> bool {
    same_text(&Filled::of(image, None).username, username)
}

/// True when a shown scalar reads as `text` (`309172073`, `root`).
fn same_text(value: &Value, text: &str) -> bool {
    match value {
        Value::String(shown) => shown == text,
        Value::Number(shown) => shown.to_string() == text,
        _ => false,
    }
}

/// True when the image shows `uuid` as its `uuid`: its template's, else its own id.
pub(super) fn shows_uuid(image: &Image, uuid: &str) -> bool {
    match image.extra.get(UUID) {
        Some(Value::String(shown)) => shown == uuid,
        Some(Value::Number(shown)) => shown.to_string() == uuid,
        Some(_) => false,
        None => image.id.as_str() == uuid,
    }
}

/// One image in the `main` view. `scope` is the compute resource of the
/// request, the default `compute_resource_id` of images that carry none.
pub(super) struct ImageView<'a> {
    pub image: &'a Image,
    pub scope: Option<&'a str>,
}

impl Serialize for ImageView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let image = self.image;
        let extra = |key: &str| image.extra.get(key);
        let filled = Filled::of(image, self.scope);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("operatingsystem_id", &filled.os_id)?;
        map.serialize_entry("operatingsystem_name", filled.os_name)?;
        map.serialize_entry("compute_resource_id", &filled.compute_resource_id)?;
        map.serialize_entry("compute_resource_name", &filled.compute_resource_name)?;
        map.serialize_entry("architecture_id", &filled.architecture_id)?;
        map.serialize_entry("architecture_name", filled.architecture_name)?;
        match extra(UUID) {
            Some(uuid) => map.serialize_entry("uuid", uuid)?,
            None => map.serialize_entry("uuid", image.id.as_str())?,
        }
        map.serialize_entry("username", &filled.username)?;
        map.serialize_entry("created_at", &filled.created.map(Stamp))?;
        map.serialize_entry("updated_at", &filled.updated.map(Stamp))?;
        if let Some(user_data) = extra(USER_DATA) {
            map.serialize_entry("user_data", user_data)?;
        }
        if let Some(iam_role) = extra(IAM_ROLE) {
            map.serialize_entry("iam_role", iam_role)?;
        }
        map.serialize_entry("id", &ids::integer_id(image.id.as_str()))?;
        map.serialize_entry("name", &image.name)?;
        for (key, value) in foreman_extras(image) {
            if !PLACED.contains(&key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// An image as the raw model JSON a DELETE answers with (`resource.to_json`:
/// the `images` columns in table order). `password` is always null: the
/// gateway never keeps one.
pub(super) struct RawRecord<'a> {
    pub image: &'a Image,
    pub scope: Option<&'a str>,
}

impl Serialize for RawRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let image = self.image;
        let extra = |key: &str| image.extra.get(key);
        let filled = Filled::of(image, self.scope);
        let mut map = serializer.serialize_map(Some(12))?;
        map.serialize_entry("id", &ids::integer_id(image.id.as_str()))?;
        map.serialize_entry("operatingsystem_id", &filled.os_id)?;
        map.serialize_entry("compute_resource_id", &filled.compute_resource_id)?;
        map.serialize_entry("architecture_id", &filled.architecture_id)?;
        match extra(UUID) {
            Some(uuid) => map.serialize_entry("uuid", uuid)?,
            None => map.serialize_entry("uuid", image.id.as_str())?,
        }
        map.serialize_entry("username", &filled.username)?;
        map.serialize_entry("name", &image.name)?;
        map.serialize_entry("created_at", &filled.created.map(IsoStamp))?;
        map.serialize_entry("updated_at", &filled.updated.map(IsoStamp))?;
        map.serialize_entry("iam_role", &extra(IAM_ROLE))?;
        // the column's default
        map.serialize_entry("user_data", extra(USER_DATA).unwrap_or(&Value::Bool(false)))?;
        map.serialize_entry("password", &())?;
        map.end()
    }
}

/// The `foreman.*` extras, keyed by their wire name.
fn foreman_extras(image: &Image) -> impl Iterator<Item = (&str, &Value)> {
    image
        .extra
        .range::<str, _>((Bound::Included(NAMESPACE), Bound::Unbounded))
        .map_while(|(key, value)| key.strip_prefix(NAMESPACE).map(|wire| (wire, value)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn read(body: Value) -> Image {
        serde_json::from_value::<WireImage>(body).unwrap().0
    }

    fn write(image: &Image, scope: Option<&str>) -> Value {
        serde_json::to_value(ImageView { image, scope }).unwrap()
    }

    #[test]
    fn both_timestamp_forms_parse() {
        assert_eq!(parse_time("2019-09-11 14:34:13 UTC"), Some(datetime!(2019-09-11 14:34:13 UTC)));
        assert_eq!(parse_time("2019-09-11T14:34:13.271Z"), Some(datetime!(2019-09-11 14:34:13.271 UTC)));
        assert_eq!(parse_time("2019-09-11T16:34:13+02:00"), Some(datetime!(2019-09-11 14:34:13 UTC)));
        assert_eq!(parse_time("11/09/2019"), None);
    }

    #[test]
    fn stamps_are_written_in_utc() {
        let t = datetime!(2019-09-11 16:34:13.9 +02:00);
        assert_eq!(Stamp(t).to_string(), "2019-09-11 14:34:13 UTC");
        assert_eq!(serde_json::to_value(Stamp(t)).unwrap(), json!("2019-09-11 14:34:13 UTC"));
        assert_eq!(
            serde_json::to_value(Stamp(datetime!(0033-01-02 3:04:05 UTC))).unwrap(),
            json!("0033-01-02 03:04:05 UTC")
        );
        let bc = Stamp(datetime!(-0001-01-01 0:00 UTC));
        assert_eq!(serde_json::to_value(bc).unwrap(), json!("-001-01-01 00:00:00 UTC"));
    }

    #[test]
    fn reading_keeps_every_field_but_the_password() {
        let image = read(json!({
            "id": 7, "name": "centos-1", "operatingsystem_id": 3, "operatingsystem_name": "centos 5.3",
            "compute_resource_id": 9, "architecture_name": null, "uuid": "abc", "password": "secret",
            "iam_role": null, "created_at": "2019-09-11T14:34:13.271Z", "updated_at": null, "custom": [1]
        }));
        assert_eq!(image.id.as_str(), "7");
        assert_eq!(image.name, "centos-1");
        assert_eq!(image.os.as_deref(), Some("centos 5.3"));
        assert_eq!(image.architecture, None);
        assert_eq!(image.created, Some(datetime!(2019-09-11 14:34:13.271 UTC)));
        assert_eq!(image.updated, None);
        let keys: Vec<&str> = image.extra.keys().map(Text::as_str).collect();
        assert_eq!(
            keys,
            [
                "foreman.compute_resource_id",
                "foreman.custom",
                "foreman.iam_role",
                "foreman.operatingsystem_id",
                "foreman.uuid"
            ]
        );
        assert!(!format!("{image:?}").contains("secret"));
    }

    #[test]
    fn reading_rejects_what_is_not_an_image() {
        assert!(serde_json::from_value::<WireImage>(json!({"name": "x"})).is_err());
        assert!(serde_json::from_value::<WireImage>(json!({"id": 1.5})).is_err());
        assert!(serde_json::from_value::<WireImage>(json!({"id": 1, "created_at": "yesterday"})).is_err());
        assert!(serde_json::from_value::<WireImage>(json!([1])).is_err());
    }

    #[test]
    fn a_foreign_image_gets_defaults() {
        let mut image = Image {
            id: ImageId::new("70a599e0-31e7"),
            name: "Ubuntu".into(),
            os: Some("Ubuntu 22.04".into()),
            architecture: Some("x86_64".into()),
            created: Some(datetime!(2011-01-01 0:00 UTC)),
            ..Image::default()
        };
        image.extra.insert("gogrid.location".into(), json!("1"));
        image.extra.insert("foreman.password".into(), json!("secret"));
        image.extra.insert("foreman.zz".into(), json!(true));
        assert_eq!(
            serde_json::to_string(&ImageView { image: &image, scope: Some("12") }).unwrap(),
            format!(
                concat!(
                    r#"{{"operatingsystem_id":{},"operatingsystem_name":"Ubuntu 22.04","compute_resource_id":12,"#,
                    r#""compute_resource_name":"12","architecture_id":1,"architecture_name":"x86_64","#,
                    r#""uuid":"70a599e0-31e7","username":"root","created_at":"2011-01-01 00:00:00 UTC","#,
                    r#""updated_at":"2011-01-01 00:00:00 UTC","id":{},"name":"Ubuntu","zz":true}}"#
                ),
                ids::derived("Ubuntu 22.04"),
                ids::derived("70a599e0-31e7")
            )
        );
        assert_eq!(write(&image, Some("cr.example"))["compute_resource_id"], json!(ids::derived("cr.example")));
        let unknown = write(&Image { architecture: Some("64-bit".into()), ..Image::default() }, Some("1"));
        assert_eq!(unknown["operatingsystem_name"], json!("Unknown"));
        assert_eq!(unknown["architecture_name"], json!("x86_64"));
        assert_eq!(unknown["updated_at"], Value::Null, "no time at all stays unknown");
        assert_eq!(write(&image, None)["compute_resource_id"], Value::Null);
    }

    #[test]
    fn a_deleted_image_is_the_raw_record_with_a_null_password() {
        let image = Image {
            id: ImageId::new("ami-1"),
            name: "n".into(),
            created: Some(datetime!(2019-09-11 16:34:13.005 +02:00)),
            extra: [("foreman.password".into(), json!("secret")), (USER_DATA.into(), json!(true))].into(),
            ..Image::default()
        };
        assert_eq!(
            serde_json::to_string(&RawRecord { image: &image, scope: Some("cr.example") }).unwrap(),
            format!(
                concat!(
                    r#"{{"id":{},"operatingsystem_id":{},"compute_resource_id":{},"architecture_id":1,"#,
                    r#""uuid":"ami-1","username":"root","name":"n","created_at":"2019-09-11T14:34:13.005Z","#,
                    r#""updated_at":"2019-09-11T14:34:13.005Z","iam_role":null,"user_data":true,"password":null}}"#
                ),
                ids::derived("ami-1"),
                ids::derived("Unknown"),
                ids::derived("cr.example")
            )
        );
        let bc = serde_json::to_value(IsoStamp(datetime!(-0001-01-01 0:00 UTC))).unwrap();
        assert_eq!(bc, json!("-001-01-01T00:00:00.000Z"));
    }

    #[test]
    fn optional_view_fields_sit_before_the_base_fields() {
        let body = json!({
            "operatingsystem_id": 1, "operatingsystem_name": "os", "compute_resource_id": 2,
            "compute_resource_name": "cr", "architecture_id": 3, "architecture_name": "arch", "uuid": "u",
            "username": "root", "created_at": "2019-09-11 14:34:13 UTC", "updated_at": "2019-09-11 14:34:13 UTC",
            "user_data": true, "iam_role": "role", "id": 4, "name": "n"
        });
        let written = write(&read(body.clone()), Some("99"));
        assert_eq!(written, body);
        let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
        let expected: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, expected);
    }
}
