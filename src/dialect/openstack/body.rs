//! Request bodies of the writes, read and checked the way Nova's WSGI layer
//! and JSON schemas do, with Nova's messages.
//!
//! | check                                   | status | message                                                      |
//! |-----------------------------------------|--------|--------------------------------------------------------------|
//! | `Content-Type` not JSON (none, empty and `text/plain` read as JSON) | 415 | `Unsupported Content-Type`            |
//! | body not JSON                           | 400    | `Malformed request body`                                     |
//! | action body not one key                 | 400    | `Malformed request body`                                     |
//! | action other than `createImage`         | 400    | `There is no such action: <name>`                            |
//! | body or member of the wrong JSON type   | 400    | `Invalid input for field/attribute <f>. Value: <v>. <v> is not of type 'object'` (top level: without the prefix; an empty body is `None`) |
//! | missing member                          | 400    | `'metadata' is a required property` (inside `createImage`: prefixed) |
//! | unknown member, metadata key outside `[a-zA-Z0-9-_:. ]{1,255}` | 400 | `Additional properties are not allowed ('<k>' was unexpected)` |
//! | metadata value not a string / over 255  | 400    | `… <v> is not of type 'string'` / `… '<v>' is too long`      |
//! | `name` empty / over 255 / edge spaces or control characters | 400 | `… '' is too short` / `… is too long` / Nova's `InvalidName` text |
//! | `meta` with more than one key           | 400    | `Request body contains too many items`                       |
//! | `meta` without the URI's key            | 400    | `Request body and URI mismatch`                              |
//!
//! Values in messages are written as Python prints them (`{'k': 'v'}`,
//! `None`), since that is what Nova's messages show.

use std::fmt::Write as _;

use http::{HeaderMap, header};
use serde_json::{Map, Value};

use crate::model::{ErrorKind, GatewayError, Metadata, Side};

/// The media types Nova reads a body in.
const JSON_TYPES: [&str; 2] = ["application/json", "application/vnd.openstack.compute+json"];

/// The longest metadata key, metadata value and image name Nova takes.
const MAX_LEN: usize = 255;

/// Nova's `InvalidName` for `parameter_types.name`.
const INVALID_NAME: &str = "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

/// Metadata items as Nova takes them: string values under restricted keys.
pub type Items = Metadata;

/// What `createImage` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateImage {
    pub name: String,
    pub metadata: Items,
}

/// Nova's `get_content_type`: no type, an empty one or `text/plain` is
/// read as JSON; any other but its two JSON types is refused.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), GatewayError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value.to_str().ok().map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("" | "text/plain") => Ok(()),
        Some(t) if JSON_TYPES.contains(&t) => Ok(()),
        _ => Err(GatewayError::new(ErrorKind::UnsupportedMediaType, Side::Downstream, "Unsupported Content-Type")),
    }
}

/// The body as JSON; an empty body is `None`, as Nova reads it.
pub fn parse(body: &[u8]) -> Result<Option<Value>, GatewayError> {
    if body.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| malformed().with_cause(e))
}

pub(super) fn malformed() -> GatewayError {
    GatewayError::bad_request("Malformed request body")
}

/// `{"metadata": {…}}` of `POST` and `PUT …/metadata`.
pub fn metadata(body: Option<&Value>) -> Result<Items, GatewayError> {
    let top = object(body, None)?;
    let items = top.get("metadata").map(|m| items(m, "metadata")).transpose()?;
    let items = items.ok_or_else(|| invalid(None, "'metadata' is a required property"))?;
    only(top, &["metadata"], None)?;
    Ok(items)
}

/// `{"meta": {key: value}}` of `PUT …/metadata/{key}`: exactly the URI's key.
pub fn meta(body: Option<&Value>, key: &str) -> Result<Value, GatewayError> {
    let top = object(body, None)?;
    let items = top.get("meta").map(|m| items(m, "meta")).transpose()?;
    let mut items = items.ok_or_else(|| invalid(None, "'meta' is a required property"))?;
    only(top, &["meta"], None)?;
    if items.len() > 1 {
        return Err(GatewayError::bad_request("Request body contains too many items"));
    }
    items.remove(key).ok_or_else(|| GatewayError::bad_request("Request body and URI mismatch"))
}

/// The action a `POST …/servers/{id}/action` body names, with its argument:
/// the body must be an object of one key.
pub fn action(body: Option<&Value>) -> Result<(&str, &Value), GatewayError> {
    match body {
        Some(Value::Object(map)) if map.len() == 1 => {
            map.iter().next().map(|(k, v)| (k.as_str(), v)).ok_or_else(malformed)
        }
        _ => Err(malformed()),
    }
}

/// The argument of `createImage`: `name` required, `metadata` optional.
pub fn create_image(arg: &Value) -> Result<CreateImage, GatewayError> {
    let map = object(Some(arg), Some("createImage"))?;
    let name = map.get("name").map(name).transpose()?;
    let metadata = map.get("metadata").map(|m| items(m, "metadata")).transpose()?.unwrap_or_default();
    let name = name.ok_or_else(|| invalid(Some(("createImage", arg)), "'name' is a required property"))?;
    only(map, &["name", "metadata"], Some(("createImage", arg)))?;
    Ok(CreateImage { name, metadata })
}

/// An object, or Nova's type error for `field` (the whole body when `None`).
fn object<'a>(value: Option<&'a Value>, field: Option<&str>) -> Result<&'a Map<String, Value>, GatewayError> {
    match value {
        Some(Value::Object(map)) => Ok(map),
        _ => {
            let shown = value.unwrap_or(&Value::Null);
            Err(invalid(field.map(|f| (f, shown)), format!("{} is not of type 'object'", repr(shown))))
        }
    }
}

/// Refuses members other than `allowed`, as `additionalProperties: false`.
fn only(map: &Map<String, Value>, allowed: &[&str], at: Option<(&str, &Value)>) -> Result<(), GatewayError> {
    let unexpected: Vec<&str> = map.keys().map(String::as_str).filter(|k| !allowed.contains(k)).collect();
    match unexpected.is_empty() {
        true => Ok(()),
        false => Err(invalid(at, additional(&unexpected))),
    }
}

/// jsonschema's message for unexpected members.
fn additional(keys: &[&str]) -> String {
    let listed: Vec<String> = keys.iter().map(|k| repr_str(k)).collect();
    let verb = if keys.len() == 1 { "was" } else { "were" };
    format!("Additional properties are not allowed ({} {verb} unexpected)", listed.join(", "))
}

/// Metadata items under `field`: an object of string values no longer than
/// 255 characters, keys matching `^[a-zA-Z0-9-_:. ]{1,255}$`.
fn items(value: &Value, field: &str) -> Result<Items, GatewayError> {
    let map = object(Some(value), Some(field))?;
    for (key, item) in map.iter().filter(|(k, _)| is_key(k)) {
        match item {
            Value::String(s) if s.chars().count() > MAX_LEN => {
                return Err(invalid(Some((key, item)), format!("{} is too long", repr(item))));
            }
            Value::String(_) => {}
            _ => return Err(invalid(Some((key, item)), format!("{} is not of type 'string'", repr(item)))),
        }
    }
    let bad: Vec<&str> = map.keys().map(String::as_str).filter(|k| !is_key(k)).collect();
    if !bad.is_empty() {
        return Err(invalid(Some((field, value)), additional(&bad)));
    }
    Ok(map.iter().map(|(k, v)| (k.into(), v.clone())).collect())
}

fn is_key(key: &str) -> bool {
    (1..=MAX_LEN).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.' | b' '))
}

/// `parameter_types.name`: a string of 1 to 255 printable characters that
/// neither starts nor ends with whitespace.
fn name(value: &Value) -> Result<String, GatewayError> {
    let at = Some(("name", value));
    let Value::String(s) = value else {
        return Err(invalid(at, format!("{} is not of type 'string'", repr(value))));
    };
    if s.is_empty() {
        return Err(invalid(at, "'' is too short"));
    }
    if s.chars().count() > MAX_LEN {
        return Err(invalid(at, format!("{} is too long", repr(value))));
    }
    let edges = [s.chars().next(), s.chars().next_back()];
    if s.chars().any(char::is_control) || edges.into_iter().flatten().any(char::is_whitespace) {
        return Err(GatewayError::bad_request(INVALID_NAME));
    }
    Ok(s.clone())
}

/// Nova's validation message: `Invalid input for field/attribute …` when
/// the error is inside the body, the bare message at its top.
fn invalid(at: Option<(&str, &Value)>, message: impl Into<String>) -> GatewayError {
    let message = message.into();
    match at {
        None => GatewayError::bad_request(message),
        Some((field, value)) => GatewayError::bad_request(format!(
            "Invalid input for field/attribute {field}. Value: {}. {message}",
            display(value)
        )),
    }
}

/// Python's `str()` of a decoded JSON value: strings bare, the rest as `repr()`.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// Python's `repr()` of a decoded JSON value.
fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => out.push_str(&repr_str(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&repr_str(key));
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// Python's `repr()` of a string: single quotes unless it holds one and no
/// double quote.
fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use serde_json::json;

    use super::*;

    fn message(result: Result<impl std::fmt::Debug, GatewayError>) -> String {
        let err = result.expect_err("refused");
        assert_eq!(err.kind, ErrorKind::BadRequest, "{err:?}");
        err.message.into_owned()
    }

    fn items_of(pairs: &[(&str, &str)]) -> Items {
        pairs.iter().map(|(k, v)| ((*k).into(), Value::from(*v))).collect()
    }

    #[test]
    fn json_content_types_and_none_are_read() {
        for t in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/json"),
            Some("Application/JSON; charset=UTF-8"),
            Some("application/vnd.openstack.compute+json"),
        ] {
            let mut headers = HeaderMap::new();
            if let Some(t) = t {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
            }
            assert!(check_content_type(&headers).is_ok(), "{t:?}");
        }
        for t in ["application/xml", "application/x-www-form-urlencoded", "text/html"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
            let err = check_content_type(&headers).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UnsupportedMediaType, "{t}");
            assert_eq!(err.message, "Unsupported Content-Type");
        }
    }

    #[test]
    fn bodies_parse_or_are_malformed() {
        assert_eq!(parse(b"").unwrap(), None);
        assert_eq!(parse(br#"{"a": 1}"#).unwrap(), Some(json!({"a": 1})));
        for bad in [&b"{"[..], b" ", b"\xff", b"{'a': 1}"] {
            assert_eq!(message(parse(bad)), "Malformed request body");
        }
    }

    #[test]
    fn metadata_bodies_give_their_items() {
        let body = json!({"metadata": {"kernel_id": "False", "Label": "UpdatedImage"}});
        assert_eq!(metadata(Some(&body)).unwrap(), items_of(&[("kernel_id", "False"), ("Label", "UpdatedImage")]));
        assert_eq!(metadata(Some(&json!({"metadata": {}}))).unwrap(), Items::new());
        let long_key = "k".repeat(255);
        assert!(metadata(Some(&json!({"metadata": {long_key: "v".repeat(255), "a-b_c:d. e": ""}}))).is_ok());
    }

    #[test]
    fn malformed_metadata_bodies_get_novas_messages() {
        let cases = [
            (None, "None is not of type 'object'"),
            (Some(json!([1, "a"])), "[1, 'a'] is not of type 'object'"),
            (Some(json!({})), "'metadata' is a required property"),
            (Some(json!({"meta": {}})), "'metadata' is a required property"),
            (Some(json!({"metadata": {}, "x": 1})), "Additional properties are not allowed ('x' was unexpected)"),
            (
                Some(json!({"metadata": {}, "x": 1, "y": 2})),
                "Additional properties are not allowed ('x', 'y' were unexpected)",
            ),
            (
                Some(json!({"metadata": "a"})),
                "Invalid input for field/attribute metadata. Value: a. 'a' is not of type 'object'",
            ),
            (
                Some(json!({"metadata": {"k": 1}})),
                "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
            ),
            (
                Some(json!({"metadata": {"k": null}})),
                "Invalid input for field/attribute k. Value: None. None is not of type 'string'",
            ),
            (
                Some(json!({"metadata": {"k": {"a": true}}})),
                "Invalid input for field/attribute k. Value: {'a': True}. {'a': True} is not of type 'string'",
            ),
            (
                Some(json!({"metadata": {"bad/key": "v"}})),
                "Invalid input for field/attribute metadata. Value: {'bad/key': 'v'}. Additional properties are not allowed ('bad/key' was unexpected)",
            ),
            (
                Some(json!({"metadata": {"": "v"}})),
                "Invalid input for field/attribute metadata. Value: {'': 'v'}. Additional properties are not allowed ('' was unexpected)",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(message(metadata(body.as_ref())), want, "{body:?}");
        }
        let long = "v".repeat(256);
        let got = message(metadata(Some(&json!({"metadata": {"k": long}}))));
        assert_eq!(got, format!("Invalid input for field/attribute k. Value: {long}. '{long}' is too long"));
    }

    #[test]
    fn meta_bodies_name_exactly_the_uri_key() {
        let body = json!({"meta": {"auto_disk_config": "False"}});
        assert_eq!(meta(Some(&body), "auto_disk_config").unwrap(), Value::from("False"));
        assert_eq!(message(meta(Some(&body), "kernel_id")), "Request body and URI mismatch");
        assert_eq!(message(meta(Some(&json!({"meta": {}})), "k")), "Request body and URI mismatch");
        let two = json!({"meta": {"a": "1", "b": "2"}});
        assert_eq!(message(meta(Some(&two), "a")), "Request body contains too many items");
        assert_eq!(message(meta(Some(&two), "c")), "Request body contains too many items");
        assert_eq!(message(meta(Some(&json!({"metadata": {"k": "v"}})), "k")), "'meta' is a required property");
        assert_eq!(
            message(meta(Some(&json!({"meta": {"k": 2}})), "k")),
            "Invalid input for field/attribute k. Value: 2. 2 is not of type 'string'"
        );
        assert_eq!(message(meta(None, "k")), "None is not of type 'object'");
    }

    #[test]
    fn actions_are_one_key_objects() {
        let body = json!({"createImage": {"name": "x"}});
        assert_eq!(action(Some(&body)).unwrap(), ("createImage", &json!({"name": "x"})));
        for bad in
            [None, Some(json!({})), Some(json!({"a": 1, "b": 2})), Some(json!(["createImage"])), Some(json!("ab"))]
        {
            assert_eq!(message(action(bad.as_ref())), "Malformed request body", "{bad:?}");
        }
    }

    #[test]
    fn create_image_takes_a_name_and_optional_metadata() {
        let got = create_image(&json!({"name": "foo-image", "metadata": {"meta_var": "meta_val"}})).unwrap();
        assert_eq!(got, CreateImage { name: "foo-image".to_owned(), metadata: items_of(&[("meta_var", "meta_val")]) });
        let got = create_image(&json!({"name": "a b"})).unwrap();
        assert_eq!(got, CreateImage { name: "a b".to_owned(), metadata: Items::new() });
    }

    #[test]
    fn malformed_create_image_gets_novas_messages() {
        let cases = [
            (json!("x"), "Invalid input for field/attribute createImage. Value: x. 'x' is not of type 'object'"),
            (
                json!({"metadata": {}}),
                "Invalid input for field/attribute createImage. Value: {'metadata': {}}. 'name' is a required property",
            ),
            (json!({"name": 5}), "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"),
            (json!({"name": ""}), "Invalid input for field/attribute name. Value: . '' is too short"),
            (json!({"name": " lead"}), INVALID_NAME),
            (json!({"name": "trail\t"}), INVALID_NAME),
            (json!({"name": "a\u{0}b"}), INVALID_NAME),
            (
                json!({"name": "n", "x": 1}),
                "Invalid input for field/attribute createImage. Value: {'name': 'n', 'x': 1}. Additional properties are not allowed ('x' was unexpected)",
            ),
            (
                json!({"name": "n", "metadata": {"k": 1}}),
                "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
            ),
        ];
        for (arg, want) in cases {
            assert_eq!(message(create_image(&arg)), want, "{arg}");
        }
        let long = "n".repeat(256);
        assert_eq!(
            message(create_image(&json!({"name": long}))),
            format!("Invalid input for field/attribute name. Value: {long}. '{long}' is too long")
        );
    }

    #[test]
    fn values_print_as_python_does() {
        assert_eq!(
            repr(&json!({"a": [1, 2.5, null, false], "b'c": "it's"})),
            r#"{'a': [1, 2.5, None, False], "b'c": "it's"}"#
        );
        assert_eq!(repr(&json!("both ' and \"")), r#"'both \' and "'"#);
        assert_eq!(repr(&json!("tab\there\\\u{1}")), r"'tab\there\\\x01'");
        assert_eq!(display(&json!("bare")), "bare");
    }
}
