//! Foreman's `image` parameters (`Foreman::Controller::Parameters::Image`):
//! read from a create or update body at the edge, and written into the
//! bodies the gateway sends a Foreman upstream.
//!
//! | parameter               | canonical                             | cast (as ActiveRecord casts it)            |
//! |-------------------------|---------------------------------------|--------------------------------------------|
//! | `name`                  | `name`                                | text: strings as they are, numbers as their digits, booleans `t`/`f` |
//! | `username`, `uuid`      | extra `foreman.username`, `foreman.uuid` | text                                    |
//! | `compute_resource_id`, `architecture_id`, `operatingsystem_id` | extra `foreman.<parameter>` | id: integers, decimal strings as numbers, other text kept |
//! | `compute_resource_name` | extra `foreman.compute_resource_name` | text                                       |
//! | `operatingsystem_name`  | `os`                                  | text                                       |
//! | `architecture_name`     | `architecture`                        | text                                       |
//! | `user_data`             | extra `foreman.user_data`             | flag: Rails' false words (`0`, `f`, `false`, `off`, …) are false, anything else true, blank null |
//! | `iam_role`              | extra `foreman.iam_role`              | text                                       |
//! | `password`              | never read, never kept, never sent    |                                            |
//!
//! Null, empty and white-space values are blank. Arrays, objects, and values
//! a cast cannot take are dropped, as strong parameters drop them; so is
//! every other key. A body without an `image` key is wrapped as Rails'
//! params wrapper does: its top-level `images` columns become the image.
//!
//! Validation (`app/models/image.rb`), answered with Foreman's 422:
//! - create: `username`, `name` and `uuid` must be given and not blank. The
//!   model also requires the operating system, compute resource and
//!   architecture ids; those are left to the backend (a Foreman upstream
//!   answers its own 422, repeated as it is; no other backend has them);
//! - update: none of the six may be set blank;
//! - messages follow the model's validation order: username, operating
//!   system, compute resource, architecture, name, uuid.
//!
//! The resource a path is nested under wins over the body: its id and name
//! parameters in the body are ignored, and a create carries the path's id.

use http::{HeaderMap, HeaderValue, header};
use serde_json::{Map, Value};

use super::image::{
    ARCH_ID, CR_ID, CR_NAME, IAM_ROLE, OS_ID, USER_DATA, USERNAME, UUID, in_compute_resource, is_decimal,
    same_operatingsystem, shows_architecture, shows_operatingsystem, shows_uuid,
};
use super::{contract, fault};
use crate::model::{
    Adopt, Alike, Checks, Extra, Filter, GatewayError, Image, ImageId, ImagePatch, Reference, Shown, Text, Unique,
    WriteOp, is_unsafe_char,
};

/// Where a parameter lands in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Name,
    Os,
    Architecture,
    Extra(&'static str),
}

/// How a parameter's value is cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cast {
    Text,
    Id,
    Flag,
}

struct Param {
    wire: &'static str,
    slot: Slot,
    cast: Cast,
}

const fn param(wire: &'static str, slot: Slot, cast: Cast) -> Param {
    Param { wire, slot, cast }
}

/// The permitted parameters but `password`, in the order they are written upstream.
const PARAMS: [Param; 11] = [
    param("name", Slot::Name, Cast::Text),
    param("username", Slot::Extra(USERNAME), Cast::Text),
    param("uuid", Slot::Extra(UUID), Cast::Text),
    param("compute_resource_id", Slot::Extra(CR_ID), Cast::Id),
    param("compute_resource_name", Slot::Extra(CR_NAME), Cast::Text),
    param("architecture_id", Slot::Extra(ARCH_ID), Cast::Id),
    param("architecture_name", Slot::Architecture, Cast::Text),
    param("operatingsystem_id", Slot::Extra(OS_ID), Cast::Id),
    param("operatingsystem_name", Slot::Os, Cast::Text),
    param("user_data", Slot::Extra(USER_DATA), Cast::Flag),
    param("iam_role", Slot::Extra(IAM_ROLE), Cast::Text),
];

/// The fields the model requires, in its validation order, with the names
/// its full messages give them.
const REQUIRED: [(&str, &str); 6] = [
    ("username", "Username"),
    ("operatingsystem_id", "Operatingsystem"),
    ("compute_resource_id", "Compute resource"),
    ("architecture_id", "Architecture"),
    ("name", "Name"),
    ("uuid", "Uuid"),
];

/// Of those, the ones a create must carry.
const CREATE_REQUIRES: [&str; 3] = ["username", "name", "uuid"];

/// The `images` columns: what Rails' params wrapper moves into `image`.
const COLUMNS: [&str; 12] = [
    "id",
    "operatingsystem_id",
    "compute_resource_id",
    "architecture_id",
    "uuid",
    "username",
    "name",
    "created_at",
    "updated_at",
    "iam_role",
    "user_data",
    "password",
];

/// The media types Rails reads as JSON: `Mime[:json]` and its synonyms.
const JSON_TYPES: [&str; 3] = ["application/json", "text/x-json", "application/jsonrequest"];

/// Rails' words for false (`ActiveModel::Type::Boolean::FALSE_VALUES`).
const FALSE_WORDS: [&str; 7] = ["0", "f", "F", "false", "FALSE", "off", "OFF"];

/// The resource a write's path is nested under.
#[derive(Debug, Clone, Copy)]
pub(super) struct PathParent<'a> {
    /// Its id parameter (`compute_resource_id`).
    pub id_param: &'static str,
    /// The parameter that names it (`compute_resource_name`).
    pub name_param: &'static str,
    /// The extra its id is kept under.
    pub key: &'static str,
    /// The id the path gives.
    pub id: &'a str,
}

/// `POST …/images`: registers the template the body names.
pub(super) fn create(parent: &PathParent<'_>, headers: &HeaderMap, body: &[u8]) -> Result<WriteOp, GatewayError> {
    let params = read(parent, json_body(headers, body)?);
    let missing: Vec<&str> = CREATE_REQUIRES.into_iter().filter(|wire| !params.given(wire)).collect();
    check(None, &missing)?;
    check_text(None, &params.patch)?;
    let ImagePatch { name, os, architecture, mut extra, .. } = params.patch;
    extra.insert(parent.key.into(), id_value(parent.id));
    let image = Image {
        name: name.unwrap_or_default().into(),
        os: os.map(Text::from),
        architecture: architecture.map(Text::from),
        extra,
        ..Image::default()
    };
    let checks = Checks { unique: unique(&image), references: references(&image) };
    Ok(WriteOp::Register(image, checks))
}

/// The records a new image names by id, whose names it shows: Foreman
/// reads `operatingsystem_name`, `architecture_name` and
/// `compute_resource_name` from the records. An operating system or
/// architecture named by id alone must be one an image already shows
/// (Foreman's seeded architecture, id 1, always is); a compute resource no
/// image names yet shows its id as its name.
fn references(image: &Image) -> Vec<Reference> {
    let given = |key: &str| image.extra.get(key).filter(|v| !v.is_null()).map(value_text);
    let shown_by = |condition: Shown| Filter { shown: vec![condition], ..Filter::default() };
    let mut references = Vec::new();
    if let (Some(id), None) = (given(OS_ID), &image.os) {
        references.push(Reference {
            record: "operatingsystem",
            shown_by: shown_by(Shown::new("operatingsystem_id", id.clone(), shows_operatingsystem)),
            id,
            optional: false,
            adopt: Adopt(|shown, image| image.os.clone_from(&shown.os)),
        });
    }
    let seeded = contract::DEFAULT_ARCHITECTURE.0.to_string();
    if let (Some(id), None) = (given(ARCH_ID).filter(|id| *id != seeded), &image.architecture) {
        references.push(Reference {
            record: "architecture",
            shown_by: shown_by(Shown::new("architecture_id", id.clone(), shows_architecture)),
            id,
            optional: false,
            adopt: Adopt(|shown, image| image.architecture.clone_from(&shown.architecture)),
        });
    }
    if let (Some(id), None) = (given(CR_ID), image.extra.get(CR_NAME)) {
        references.push(Reference {
            record: "compute_resource",
            shown_by: Filter { extra: vec![(CR_ID.to_owned(), id.clone())], ..Filter::default() },
            id,
            optional: true,
            adopt: Adopt(|shown, image| {
                if let Some(name) = shown.extra.get(CR_NAME) {
                    image.extra.insert(CR_NAME.into(), name.clone());
                }
            }),
        });
    }
    references
}

/// Foreman's uniqueness rules (`app/models/image.rb`): a name once per
/// compute resource and operating system, a uuid once per compute resource,
/// judged on what the images show.
fn unique(image: &Image) -> Vec<Unique> {
    let given = |key: &str| image.extra.get(key).map(value_text);
    let mut scope = Filter::default();
    if let Some(cr) = given(CR_ID) {
        scope.shown.push(Shown::reading("compute_resource_id", cr, in_compute_resource, CR_ID));
    }
    let name = Filter { name: Some(image.name.to_string()), ..scope.clone() };
    let mut unique = vec![Unique { field: "name", taken: name, alike: Some(Alike(same_operatingsystem)) }];
    if let Some(value) = given(UUID) {
        let mut uuid = scope;
        uuid.shown.push(Shown::new("uuid", value, shows_uuid));
        unique.push(Unique { field: "uuid", taken: uuid, alike: None });
    }
    unique
}

/// The same rules for an update, whose image is read first: another image
/// of the path's scope (`scope`: its conditions) with the new name and the
/// changed image's operating system, or with the new uuid, takes it.
pub(super) fn unique_after(patch: &ImagePatch, scope: &Filter) -> Vec<Unique> {
    let mut unique = Vec::new();
    if let Some(name) = &patch.name {
        let taken = Filter { name: Some(name.clone()), ..scope.clone() };
        unique.push(Unique { field: "name", taken, alike: Some(Alike(same_operatingsystem)) });
    }
    if let Some(value) = patch.extra.get(UUID).filter(|v| !v.is_null()) {
        let mut taken = scope.clone();
        taken.shown.push(Shown::new("uuid", value_text(value), shows_uuid));
        unique.push(Unique { field: "uuid", taken, alike: None });
    }
    unique
}

/// A scalar's plain text (`309172073`, `abc`).
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `PUT`/`PATCH …/images/{id}`: sets what the body gives; `{"image":{}}`
/// changes nothing.
pub(super) fn update(
    parent: &PathParent<'_>,
    id: ImageId,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<WriteOp, GatewayError> {
    let params = read(parent, json_body(headers, body)?);
    check(Some(&id), &params.blank)?;
    check_text(Some(&id), &params.patch)?;
    Ok(WriteOp::Update { id, patch: params.patch })
}

/// `DELETE …/images/{id}`: a JSON body is parsed (and must parse), then ignored.
pub(super) fn destroy(id: ImageId, headers: &HeaderMap, body: &[u8]) -> Result<WriteOp, GatewayError> {
    if is_json(headers.get(header::CONTENT_TYPE)) {
        parse(body)?;
    }
    Ok(WriteOp::Delete { id, trash: false })
}

/// What a body gave: the fields set, and the required ones given blank.
#[derive(Debug, Default)]
struct Params {
    patch: ImagePatch,
    blank: Vec<&'static str>,
}

impl Params {
    /// True when the parameter was given a value that is not blank.
    fn given(&self, wire: &str) -> bool {
        match PARAMS.iter().find(|p| p.wire == wire).map(|p| p.slot) {
            Some(Slot::Name) => self.patch.name.is_some(),
            Some(Slot::Os) => self.patch.os.is_some(),
            Some(Slot::Architecture) => self.patch.architecture.is_some(),
            Some(Slot::Extra(key)) => self.patch.extra.contains_key(key),
            None => false,
        }
    }

    fn set(&mut self, slot: Slot, value: Value) {
        let text = || match &value {
            Value::String(text) => Some(text.clone()),
            _ => None,
        };
        match slot {
            Slot::Name => self.patch.name = text(),
            Slot::Os => self.patch.os = text(),
            Slot::Architecture => self.patch.architecture = text(),
            Slot::Extra(key) => {
                self.patch.extra.insert(key.into(), value);
            }
        }
    }
}

/// Reads the permitted parameters of a body, but the parent's.
fn read(parent: &PathParent<'_>, body: Value) -> Params {
    let (hash, wrapped) = image_hash(body);
    let mut params = Params::default();
    for param in &PARAMS {
        if param.wire == parent.id_param || param.wire == parent.name_param {
            continue;
        }
        if !wrapped && !COLUMNS.contains(&param.wire) {
            continue;
        }
        let Some(value) = hash.get(param.wire) else { continue };
        match cast(value, param.cast) {
            Given::Value(value) => params.set(param.slot, value),
            Given::Blank if REQUIRED.iter().any(|(wire, _)| *wire == param.wire) => params.blank.push(param.wire),
            Given::Blank => {
                if let Slot::Extra(key) = param.slot {
                    params.patch.extra.insert(key.into(), Value::Null);
                }
            }
            Given::Dropped => {}
        }
    }
    params
}

/// The `image` hash of a body, and whether the body wrapped it itself.
fn image_hash(body: Value) -> (Map<String, Value>, bool) {
    match body {
        Value::Object(mut top) => match top.remove("image") {
            Some(Value::Object(image)) => (image, true),
            Some(_) => (Map::new(), true),
            None => (top, false),
        },
        // Rails keeps a JSON array or scalar under `_json`: no image
        _ => (Map::new(), true),
    }
}

/// A parameter's value after its cast.
#[derive(Debug, PartialEq)]
enum Given {
    Value(Value),
    Blank,
    Dropped,
}

fn cast(value: &Value, cast: Cast) -> Given {
    match (cast, value) {
        (_, Value::Array(_) | Value::Object(_)) => Given::Dropped,
        (Cast::Flag, value) => Given::Value(flag(value)),
        (_, Value::Null) => Given::Blank,
        (_, Value::String(text)) if text.trim().is_empty() => Given::Blank,
        (Cast::Text, Value::String(text)) => Given::Value(Value::String(text.clone())),
        (Cast::Text, Value::Number(n)) => Given::Value(Value::String(n.to_string())),
        (Cast::Text, Value::Bool(b)) => Given::Value(Value::String(if *b { "t" } else { "f" }.to_owned())),
        (Cast::Id, Value::Number(n)) if n.is_u64() || n.is_i64() => Given::Value(Value::Number(n.clone())),
        (Cast::Id, Value::String(text)) => Given::Value(id_value(text.trim())),
        (Cast::Id, _) => Given::Dropped,
    }
}

fn flag(value: &Value) -> Value {
    match value {
        Value::Bool(b) => Value::Bool(*b),
        Value::Null => Value::Null,
        Value::String(text) if text.is_empty() => Value::Null,
        Value::String(text) => Value::Bool(!FALSE_WORDS.contains(&text.as_str())),
        Value::Number(n) => Value::Bool(n.as_f64() != Some(0.0)),
        Value::Array(_) | Value::Object(_) => Value::Null,
    }
}

/// An id as Foreman keeps it: a number when decimal, else the text.
fn id_value(id: &str) -> Value {
    match id.parse::<u64>() {
        Ok(n) if is_decimal(id) => Value::from(n),
        _ => Value::String(id.to_owned()),
    }
}

/// A 422 naming every field given blank, in the model's order.
fn check(id: Option<&ImageId>, blank: &[&str]) -> Result<(), GatewayError> {
    let fields: Vec<(&str, &str)> = REQUIRED.into_iter().filter(|(wire, _)| blank.contains(wire)).collect();
    if fields.is_empty() {
        return Ok(());
    }
    Err(fault::unprocessable(id.map(ImageId::as_str), &fields, "can't be blank"))
}

/// A 422 naming every text field holding a character no format can carry.
fn check_text(id: Option<&ImageId>, patch: &ImagePatch) -> Result<(), GatewayError> {
    let unsafe_text = |text: &Option<String>| text.as_deref().is_some_and(|t| t.chars().any(is_unsafe_char));
    let fields: Vec<(&str, &str)> = [
        ("name", "Name", unsafe_text(&patch.name)),
        ("operatingsystem_id", "Operating system", unsafe_text(&patch.os)),
        ("architecture_id", "Architecture", unsafe_text(&patch.architecture)),
    ]
    .into_iter()
    .filter_map(|(wire, human, bad)| bad.then_some((wire, human)))
    .collect();
    if fields.is_empty() {
        return Ok(());
    }
    Err(fault::unprocessable(id.map(ImageId::as_str), &fields, "is invalid"))
}

/// A create or update body: JSON, or Foreman's 415.
fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, GatewayError> {
    let content_type = headers.get(header::CONTENT_TYPE);
    if !is_json(content_type) {
        let given = content_type.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
        return Err(fault::unsupported_media_type(&given));
    }
    parse(body)
}

/// True when the media type (before any `;` parameter) is one Rails reads as JSON.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type else { return false };
    let text = String::from_utf8_lossy(value.as_bytes());
    let media = text.split([';', ',']).next().unwrap_or_default().trim().to_ascii_lowercase();
    JSON_TYPES.contains(&media.as_str())
}

/// An empty body is no parameters; anything else must be JSON.
fn parse(body: &[u8]) -> Result<Value, GatewayError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| fault::malformed_json(&parser_message(body, &e)))
}

/// Worded as Ruby's JSON parser words it, `unexpected token at '<text>'`,
/// but never echoing the body: the text is the token reading stopped in
/// (the body's first character when it ended early), at most
/// [`EXCERPT_BYTES`] bytes and never past a quote, so no string the caller
/// sent — a password — comes back.
fn parser_message(body: &[u8], err: &serde_json::Error) -> String {
    let mut at = if err.is_eof() { 0 } else { offset(body, err.line(), err.column()) };
    while at > 0 && body[at - 1].is_ascii_alphabetic() {
        at -= 1;
    }
    let rest = &body[at..];
    let end = if err.is_eof() { rest.len().min(1) } else { rest.len().min(EXCERPT_BYTES) };
    let end = rest[..end].iter().position(|b| *b == b'"').unwrap_or(end);
    let excerpt = String::from_utf8_lossy(&rest[..end]);
    format!("unexpected token at '{}'", crate::model::safe_text(&excerpt))
}

/// The most of the body a parse error shows.
const EXCERPT_BYTES: usize = 16;

/// The byte offset of a 1-based line and column.
fn offset(body: &[u8], line: usize, column: usize) -> usize {
    let start: usize = body.split_inclusive(|b| *b == b'\n').take(line.saturating_sub(1)).map(<[u8]>::len).sum();
    (start + column.saturating_sub(1)).min(body.len())
}

/// The `{"image": {…}}` body registering `image` upstream. The upstream
/// path names the compute resource, so the image's own is not sent (Foreman
/// would ignore it); nor is a password, which the gateway never holds.
pub(super) fn register_body(image: &Image) -> Value {
    let hash = image_params(
        Some(&image.name),
        image.os.as_deref(),
        image.architecture.as_deref(),
        &image.extra,
        &[CR_ID, CR_NAME],
    );
    wrap(hash)
}

/// The `{"image": {…}}` body of an update, or the first field of the patch
/// Foreman cannot store: then nothing is sent at all.
pub(super) fn update_body(patch: &ImagePatch) -> Result<Value, String> {
    if patch.description.is_some() {
        return Err("description".into());
    }
    if patch.public.is_some() {
        return Err("visibility".into());
    }
    let storable = |key: &str| PARAMS.iter().any(|p| matches!(p.slot, Slot::Extra(k) if k == key));
    if let Some(key) = patch.extra.keys().find(|key| !storable(key)) {
        return Err(key.to_string());
    }
    let hash =
        image_params(patch.name.as_deref(), patch.os.as_deref(), patch.architecture.as_deref(), &patch.extra, &[]);
    Ok(wrap(hash))
}

/// The parameters to send, in [`PARAMS`] order. A display name goes only
/// when its id is not known: Foreman looks names up, ids it takes as they are.
fn image_params(
    name: Option<&str>,
    os: Option<&str>,
    architecture: Option<&str>,
    extra: &Extra,
    skip: &[&str],
) -> Map<String, Value> {
    let mut hash = Map::new();
    for param in &PARAMS {
        let value = match param.slot {
            Slot::Name => name.map(Value::from),
            Slot::Os if !extra.contains_key(OS_ID) => os.map(Value::from),
            Slot::Architecture if !extra.contains_key(ARCH_ID) => architecture.map(Value::from),
            Slot::Os | Slot::Architecture => None,
            Slot::Extra(key) if skip.contains(&key) => None,
            Slot::Extra(key) => extra.get(key).cloned(),
        };
        if let Some(value) = value {
            hash.insert(param.wire.to_owned(), value);
        }
    }
    hash
}

fn wrap(hash: Map<String, Value>) -> Value {
    let mut body = Map::new();
    body.insert("image".to_owned(), Value::Object(hash));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const CR: PathParent<'static> = PathParent {
        id_param: "compute_resource_id",
        name_param: "compute_resource_name",
        key: CR_ID,
        id: "980190962",
    };
    const OS: PathParent<'static> =
        PathParent { id_param: "operatingsystem_id", name_param: "operatingsystem_name", key: OS_ID, id: "7" };

    fn json_headers(content_type: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers
    }

    fn created(parent: &PathParent<'_>, body: Value) -> Result<Image, GatewayError> {
        match create(parent, &json_headers("application/json"), body.to_string().as_bytes())? {
            WriteOp::Register(image, _) => Ok(image),
            other => panic!("{other:?}"),
        }
    }

    fn updated(body: Value) -> Result<ImagePatch, GatewayError> {
        match update(&CR, ImageId::new("5"), &json_headers("application/json"), body.to_string().as_bytes())? {
            WriteOp::Update { id, patch } => {
                assert_eq!(id.as_str(), "5");
                Ok(patch)
            }
            other => panic!("{other:?}"),
        }
    }

    fn extra(pairs: &[(&str, Value)]) -> Extra {
        pairs.iter().map(|(k, v)| ((*k).into(), v.clone())).collect()
    }

    #[test]
    fn create_reads_every_permitted_parameter_and_drops_the_password() {
        let image = created(
            &CR,
            json!({"image": {
                "name": "TestImage", "username": "ec2-user", "uuid": "abcdef", "password": "secret",
                "operatingsystem_id": 309172073, "compute_resource_id": 928692541, "compute_resource_name": "other",
                "architecture_id": "331892513", "user_data": true, "iam_role": "role",
                "operatingsystem_name": "centos 5.3", "architecture_name": "sparc", "id": 4, "color": "red"
            }}),
        )
        .unwrap();
        assert_eq!(
            image,
            Image {
                name: "TestImage".into(),
                os: Some("centos 5.3".into()),
                architecture: Some("sparc".into()),
                extra: extra(&[
                    (USERNAME, json!("ec2-user")),
                    (UUID, json!("abcdef")),
                    (ARCH_ID, json!(331892513)),
                    (OS_ID, json!(309172073)),
                    (USER_DATA, json!(true)),
                    (IAM_ROLE, json!("role")),
                    (CR_ID, json!(980190962)),
                ]),
                ..Image::default()
            }
        );
        assert!(!format!("{image:?}").contains("secret"));
    }

    #[test]
    fn the_path_parent_wins_over_the_body() {
        let image = created(
            &OS,
            json!({"image": {"name": "n", "username": "u", "uuid": "x", "operatingsystem_id": 1,
                             "operatingsystem_name": "other", "compute_resource_id": "cr-9"}}),
        )
        .unwrap();
        assert_eq!(image.os, None);
        assert_eq!(image.extra.get(OS_ID), Some(&json!(7)));
        assert_eq!(image.extra.get(CR_ID), Some(&json!("cr-9")));
        let odd = PathParent { id: "cr.example", ..CR };
        let image = created(&odd, json!({"name": "n", "username": "u", "uuid": "x"})).unwrap();
        assert_eq!(image.extra.get(CR_ID), Some(&json!("cr.example")));
    }

    #[test]
    fn an_unwrapped_body_gives_only_columns() {
        let image = created(
            &CR,
            json!({"name": "n", "username": "u", "uuid": "x", "architecture_name": "sparc", "user_data": "0"}),
        )
        .unwrap();
        assert_eq!((image.name.as_str(), image.architecture), ("n", None));
        assert_eq!(image.extra.get(USER_DATA), Some(&json!(false)));
    }

    #[test]
    fn values_are_cast_as_activerecord_casts_them() {
        let patch = updated(json!({"image": {
            "name": 42, "username": false, "uuid": ["dropped"], "operatingsystem_id": 1.5,
            "architecture_id": "x86", "iam_role": "", "compute_resource_name": null
        }}))
        .unwrap();
        assert_eq!(patch.name.as_deref(), Some("42"));
        assert_eq!(
            patch.extra,
            // `compute_resource_name` names the path's parent: ignored
            extra(&[(USERNAME, json!("f")), (ARCH_ID, json!("x86")), (IAM_ROLE, Value::Null)])
        );
        for (given, expected) in [
            (json!(true), json!(true)),
            (json!("off"), json!(false)),
            (json!("FALSE"), json!(false)),
            (json!("yes"), json!(true)),
            (json!(0), json!(false)),
            (json!(1), json!(true)),
            (json!(""), Value::Null),
            (json!(null), Value::Null),
        ] {
            let patch = updated(json!({"image": {"user_data": given}})).unwrap();
            assert_eq!(patch.extra.get(USER_DATA), Some(&expected), "{given}");
        }
    }

    fn refusal(err: &GatewayError) -> (u16, Value) {
        let reply = fault::render(err);
        (reply.status().as_u16(), super::super::tests::body_json(reply))
    }

    #[test]
    fn a_create_without_its_required_fields_is_a_422() {
        let err = created(&CR, json!({"image": {"name": " ", "password": "p"}})).unwrap_err();
        assert_eq!(err.kind, crate::model::ErrorKind::BadRequest);
        assert_eq!(
            refusal(&err),
            (
                422,
                json!({"error": {
                    "id": null,
                    "errors": {"username": ["can't be blank"], "name": ["can't be blank"], "uuid": ["can't be blank"]},
                    "full_messages": ["Username can't be blank", "Name can't be blank", "Uuid can't be blank"]
                }})
            )
        );
        let err = created(&CR, json!([1, 2])).unwrap_err();
        assert_eq!(refusal(&err).0, 422);
        let err = created(&CR, json!({"image": "x", "name": "n", "username": "u", "uuid": "x"})).unwrap_err();
        assert_eq!(refusal(&err).0, 422);
        let empty = create(&CR, &json_headers("application/json"), b"").unwrap_err();
        assert_eq!(refusal(&empty).0, 422);
    }

    #[test]
    fn an_update_may_not_blank_a_required_field() {
        assert_eq!(updated(json!({"image": {}})).unwrap(), ImagePatch::default());
        assert_eq!(updated(json!({"image": {"password": "p"}})).unwrap(), ImagePatch::default());
        let err = updated(json!({"image": {"uuid": "", "architecture_id": null, "name": "ok"}})).unwrap_err();
        assert_eq!(
            refusal(&err),
            (
                422,
                json!({"error": {
                    "id": 5,
                    "errors": {"architecture_id": ["can't be blank"], "uuid": ["can't be blank"]},
                    "full_messages": ["Architecture can't be blank", "Uuid can't be blank"]
                }})
            )
        );
        // the path's parent, blank in the body, is ignored with the rest of it
        assert_eq!(updated(json!({"image": {"compute_resource_id": ""}})).unwrap(), ImagePatch::default());
    }

    #[test]
    fn creates_and_updates_must_be_json() {
        let message = |ct: &str| {
            format!(
                "Media type in 'Content-Type: {ct}' is unsupported in API v2 for POST and PUT requests. Please use \
                 'Content-Type: application/json'."
            )
        };
        let err = create(&CR, &json_headers("text/plain"), b"{}").unwrap_err();
        assert_eq!(refusal(&err), (415, json!({"error": {"message": message("text/plain")}})));
        let form = "application/x-www-form-urlencoded; charset=utf-8";
        let err = update(&CR, ImageId::new("1"), &json_headers(form), b"image[name]=x").unwrap_err();
        assert_eq!(refusal(&err), (415, json!({"error": {"message": message(form)}})));
        let err = create(&CR, &HeaderMap::new(), b"{}").unwrap_err();
        assert_eq!(refusal(&err), (415, json!({"error": {"message": message("")}})));
        for ct in ["Application/JSON; charset=utf-8", "text/x-json", "application/jsonrequest"] {
            assert!(create(&CR, &json_headers(ct), br#"{"name":"n","username":"u","uuid":"x"}"#).is_ok(), "{ct}");
        }
    }

    #[test]
    fn malformed_json_is_foremans_own_400() {
        let headers = json_headers("application/json");
        let problem = |body: &[u8]| refusal(&create(&CR, &headers, body).unwrap_err());
        let expect = |text: &str| {
            (400, json!({"status": 400, "error": format!("There was a problem in the JSON you submitted: {text}")}))
        };
        assert_eq!(problem(b"{"), expect("unexpected token at '{'"));
        assert_eq!(problem(br#"{"image": nope}"#), expect("unexpected token at 'nope}'"));
        assert_eq!(problem(b"{\"image\": {},\n \"x\": ]}"), expect("unexpected token at ']}'"));
        assert_eq!(problem(b"   "), expect("unexpected token at ' '"));
        let secret = br#"{"user": "u", "password": "hunter2-hunter2", nope"#;
        assert_eq!(problem(secret), expect("unexpected token at 'nope'"));
        assert_eq!(problem(br#"{"password": "hunter2"#), expect("unexpected token at '{'"));
        assert_eq!(problem(b"[tru]"), expect("unexpected token at 'tru]'"));
        assert_eq!(problem(b"{\"a\": 1x}"), expect("unexpected token at 'x}'"));
        let err = destroy(ImageId::new("1"), &headers, b"{\"image\": {").unwrap_err();
        assert_eq!(refusal(&err).0, 400);
    }

    #[test]
    fn a_delete_ignores_its_body() {
        let gone = WriteOp::Delete { id: ImageId::new("1"), trash: false };
        let headers = json_headers("application/json");
        assert_eq!(destroy(ImageId::new("1"), &headers, br#"{"image": {}}"#).unwrap(), gone);
        assert_eq!(destroy(ImageId::new("1"), &headers, b"").unwrap(), gone);
        assert_eq!(destroy(ImageId::new("1"), &HeaderMap::new(), b"not json").unwrap(), gone);
    }

    #[test]
    fn register_body_sends_what_foreman_permits_but_no_compute_resource() {
        let image = Image {
            id: ImageId::new("ignored"),
            name: "TestImage".into(),
            os: Some("centos 5.3".into()),
            architecture: Some("sparc".into()),
            description: Some("not sent".into()),
            extra: extra(&[
                (USERNAME, json!("ec2-user")),
                (UUID, json!("abcdef")),
                (OS_ID, json!(309172073)),
                (CR_ID, json!(980190962)),
                (CR_NAME, json!("bigcompute")),
                (USER_DATA, json!(true)),
                ("foreman.password", json!("secret")),
            ]),
            ..Image::default()
        };
        assert_eq!(
            serde_json::to_string(&register_body(&image)).unwrap(),
            r#"{"image":{"name":"TestImage","username":"ec2-user","uuid":"abcdef","architecture_name":"sparc","operatingsystem_id":309172073,"user_data":true}}"#
        );
    }

    #[test]
    fn update_body_sends_the_patch_or_names_what_foreman_cannot_store() {
        let patch = ImagePatch {
            name: Some("new".into()),
            os: Some("centos".into()),
            extra: extra(&[(UUID, json!("u2")), (CR_ID, json!(3)), (IAM_ROLE, Value::Null)]),
            ..ImagePatch::default()
        };
        assert_eq!(
            serde_json::to_string(&update_body(&patch).unwrap()).unwrap(),
            r#"{"image":{"name":"new","uuid":"u2","compute_resource_id":3,"operatingsystem_name":"centos","iam_role":null}}"#
        );
        assert_eq!(update_body(&ImagePatch::default()).unwrap(), json!({"image": {}}));
        let named = |patch: ImagePatch| update_body(&patch).unwrap_err();
        assert_eq!(named(ImagePatch { description: Some("d".into()), ..ImagePatch::default() }), "description");
        assert_eq!(
            named(ImagePatch { public: Some(true), name: Some("n".into()), ..ImagePatch::default() }),
            "visibility"
        );
        let foreign = ImagePatch { extra: extra(&[("gogrid.location", json!(1))]), ..ImagePatch::default() };
        assert_eq!(named(foreign), "gogrid.location");
    }

    #[test]
    fn offsets_count_lines_and_columns() {
        assert_eq!(offset(b"ab\ncd", 2, 2), 4);
        assert_eq!(offset(b"ab", 1, 9), 2);
        assert_eq!(offset(b"ab", 0, 0), 0);
    }
}
