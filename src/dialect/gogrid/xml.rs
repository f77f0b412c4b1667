//! The XML format:
//!
//! ```xml
//! <gogrid>
//!   <response method="/grid/image/get" status="success">
//!     <summary total="1" start="0" numpages="0" returned="1"/>
//!     <list>
//!       <object name="image">
//!         <attribute name="id">250</attribute>
//!         <attribute name="os"><object name="option">…</object></attribute>
//!         <attribute name="billingtokens"><list><object name="billingtoken">…</object></list></attribute>
//!       </object>
//!     </list>
//!   </response>
//! </gogrid>
//! ```
//!
//! Attributes come in the order of the seed sample (the order of the CSV
//! columns); absent description and times are empty elements, as GoGrid
//! sends them. Errors use the same envelope with `status="failure"`, a
//! summary without `numpages` and one `<object name="error">` carrying
//! `errorcode` and `message` (GoGrid's XML error body is not documented; this
//! follows its JSON one).
//!
//! Reading turns the document into the JSON tree the JSON reply would be,
//! each text typed the way JSON types that field, so one decoder serves both.

use quick_xml::Reader;
use quick_xml::escape::escape;

use crate::model::safe_text;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use super::envelope::{Failure, Summary};
use super::image::{Datacenters, ImageView, OptionView, OwnerView, java_double, typed_scalar};

/// Text and attribute values as XML 1.0 can carry them: characters it
/// forbids (most control characters, U+FFFE, U+FFFF) replaced, then escaped.
fn xml_text(text: &str) -> String {
    escape(safe_text(text).as_ref()).into_owned()
}

/// Bytes a rendered image takes, to size the buffer once.
const IMAGE_BYTES: usize = 3072;

/// A document being written: one element per line, indented by two spaces
/// a level; text and attribute values escaped by quick-xml.
struct Xml {
    out: Vec<u8>,
    depth: usize,
}

impl Xml {
    fn new(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?>"#);
        Xml { out, depth: 0 }
    }

    fn line(&mut self) {
        self.out.push(b'\n');
        self.out.resize(self.out.len() + 2 * self.depth, b' ');
    }

    /// `<tag a="v" …>` (or `<tag … />` when `empty`).
    fn start(&mut self, tag: &str, attributes: &[(&str, &str)], empty: bool) {
        self.line();
        self.out.push(b'<');
        self.out.extend_from_slice(tag.as_bytes());
        for (key, value) in attributes {
            self.out.push(b' ');
            self.out.extend_from_slice(key.as_bytes());
            self.out.extend_from_slice(b"=\"");
            self.out.extend_from_slice(xml_text(value).as_bytes());
            self.out.push(b'"');
        }
        if empty {
            self.out.extend_from_slice(b"/>");
        } else {
            self.out.push(b'>');
            self.depth += 1;
        }
    }

    fn open(&mut self, tag: &str, attributes: &[(&str, &str)]) {
        self.start(tag, attributes, false);
    }

    fn close(&mut self, tag: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line();
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(tag.as_bytes());
        self.out.push(b'>');
    }

    /// `<object name="…">` … `</object>`.
    fn object(&mut self, name: &str, body: impl FnOnce(&mut Self)) {
        self.open("object", &[("name", name)]);
        body(self);
        self.close("object");
    }

    /// `<attribute name="…">` … `</attribute>` around nested elements.
    fn attribute(&mut self, name: &str, body: impl FnOnce(&mut Self)) {
        self.open("attribute", &[("name", name)]);
        body(self);
        self.close("attribute");
    }

    /// `<list>` … `</list>`.
    fn list(&mut self, body: impl FnOnce(&mut Self)) {
        self.open("list", &[]);
        body(self);
        self.close("list");
    }

    /// `<attribute name="…">text</attribute>` on one line.
    fn text(&mut self, name: &str, value: &str) {
        self.line();
        self.out.extend_from_slice(br#"<attribute name=""#);
        self.out.extend_from_slice(xml_text(name).as_bytes());
        self.out.extend_from_slice(br#"">"#);
        self.out.extend_from_slice(xml_text(value).as_bytes());
        self.out.extend_from_slice(b"</attribute>");
    }

    fn number(&mut self, name: &str, value: impl std::fmt::Display) {
        self.text(name, &value.to_string());
    }
}

/// `<gogrid><response method=… status=…>` + body + closing tags.
fn document(capacity: usize, method: &str, status: &str, body: impl FnOnce(&mut Xml)) -> Vec<u8> {
    let mut xml = Xml::new(capacity);
    xml.open("gogrid", &[]);
    if method.is_empty() {
        xml.open("response", &[("status", status)]);
    } else {
        xml.open("response", &[("method", method), ("status", status)]);
    }
    body(&mut xml);
    xml.close("response");
    xml.close("gogrid");
    xml.out
}

pub(super) fn success(method: &str, object: &str, summary: Summary, views: &[ImageView<'_>]) -> Vec<u8> {
    document(512 + IMAGE_BYTES * views.len(), method, "success", |xml| {
        let counts = [summary.total, summary.start, summary.numpages, summary.returned].map(|n| n.to_string());
        let attributes =
            [("total", &*counts[0]), ("start", &*counts[1]), ("numpages", &*counts[2]), ("returned", &*counts[3])];
        xml.start("summary", &attributes, true);
        xml.list(|xml| views.iter().for_each(|v| image(xml, v, object)));
    })
}

pub(super) fn failure(method: &str, failure: &Failure<'_>) -> Vec<u8> {
    document(512, method, "failure", |xml| {
        xml.start("summary", &[("total", "1"), ("start", "0"), ("returned", "1")], true);
        xml.list(|xml| {
            xml.object("error", |xml| {
                xml.text("errorcode", failure.errorcode);
                xml.text("message", &failure.message);
            })
        });
    })
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn image(xml: &mut Xml, v: &ImageView<'_>, name: &str) {
    xml.object(name, |xml| {
        xml.text("id", &v.id.text());
        xml.text("friendlyName", v.friendly_name);
        xml.text("name", v.name);
        option(xml, "os", &v.os);
        if let Some(architecture) = &v.architecture {
            option(xml, "architecture", architecture);
        }
        owner(xml, &v.owner);
        option(xml, "type", &v.kind);
        option(xml, "state", &v.state);
        xml.text("description", v.description.unwrap_or(""));
        xml.text("location", &v.location);
        xml.text("price", &v.price.text());
        xml.text("isActive", bool_text(v.is_active));
        xml.text("isPublic", bool_text(v.is_public));
        xml.text("createdTime", &v.created.map(|t| t.to_string()).unwrap_or_default());
        xml.text("updatedTime", &v.updated.map(|t| t.to_string()).unwrap_or_default());
        value_list(xml, "billingtokens", "billingtoken", v.billingtokens);
        match v.datacenters {
            Some(Datacenters::Wire(list)) => value_list(xml, "datacenterlist", "datacenter", list),
            Some(Datacenters::Zones(zones)) => xml.attribute("datacenterlist", |xml| {
                xml.list(|xml| {
                    for zone in zones {
                        xml.object("datacenter", |xml| {
                            xml.attribute("datacenter", |xml| xml.object("option", |xml| xml.text("name", zone)))
                        });
                    }
                })
            }),
            None => {}
        }
    });
}

fn option(xml: &mut Xml, name: &str, o: &OptionView<'_>) {
    xml.attribute(name, |xml| {
        xml.object("option", |xml| {
            xml.number("id", o.id);
            xml.text("name", o.name);
            xml.text("description", o.description);
        })
    });
}

fn owner(xml: &mut Xml, o: &OwnerView<'_>) {
    xml.attribute("owner", |xml| {
        xml.object("customer", |xml| {
            xml.text("id", &o.id.text());
            xml.text("name", o.name);
        })
    });
}

/// A list of JSON objects kept as GoGrid sent them (billing tokens).
fn value_list(xml: &mut Xml, name: &str, item: &str, items: &[Value]) {
    xml.attribute(name, |xml| xml.list(|xml| items.iter().for_each(|v| value_object(xml, item, v))));
}

fn value_object(xml: &mut Xml, fallback_name: &str, value: &Value) {
    let Value::Object(map) = value else { return };
    let name = map.get("object").and_then(Value::as_str).unwrap_or(fallback_name);
    xml.object(name, |xml| {
        for (k, v) in map.iter().filter(|(k, _)| *k != "object") {
            value_attribute(xml, k, v);
        }
    });
}

fn value_attribute(xml: &mut Xml, name: &str, value: &Value) {
    match value {
        Value::Object(_) => xml.attribute(name, |xml| value_object(xml, name, value)),
        Value::Array(items) => value_list(xml, name, name, items),
        Value::Number(n) if name == "price" => xml.text(name, &n.as_f64().map_or_else(|| n.to_string(), java_double)),
        Value::Number(n) => xml.number(name, n),
        Value::String(s) => xml.text(name, s),
        Value::Bool(b) => xml.text(name, bool_text(*b)),
        Value::Null => xml.text(name, ""),
    }
}

// ---------------------------------------------------------------------------
// Reading

/// Deeper documents are not GoGrid replies.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Default)]
struct Element {
    tag: String,
    /// The `name` attribute (`<object name=…>`, `<attribute name=…>`).
    name: Option<String>,
    /// Every attribute, for `<response>` and `<summary>`.
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn open(start: &BytesStart<'_>) -> Result<Element, String> {
        let mut element =
            Element { tag: String::from_utf8_lossy(start.name().as_ref()).into_owned(), ..Element::default() };
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| e.to_string())?;
            let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
            let value = attribute.unescape_value().map_err(|e| e.to_string())?.into_owned();
            if key == "name" {
                element.name = Some(value.clone());
            }
            element.attributes.push((key, value));
        }
        Ok(element)
    }

    fn child(&mut self, tag: &str) -> Option<Element> {
        self.children.iter().position(|c| c.tag == tag).map(|i| self.children.swap_remove(i))
    }
}

fn parse(body: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(body);
    let mut open: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let finished = match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) if open.len() < MAX_DEPTH => {
                open.push(Element::open(&start)?);
                None
            }
            Event::Start(_) => return Err("the document nests too deep".into()),
            Event::Empty(start) => Some(Element::open(&start)?),
            Event::End(_) => Some(open.pop().ok_or("unbalanced end tag")?),
            Event::Text(t) => {
                if let Some(top) = open.last_mut() {
                    top.text.push_str(&t.unescape().map_err(|e| e.to_string())?);
                }
                None
            }
            Event::CData(c) => {
                if let Some(top) = open.last_mut() {
                    top.text.push_str(std::str::from_utf8(&c).map_err(|e| e.to_string())?);
                }
                None
            }
            Event::Eof => break,
            _ => None,
        };
        match (finished, open.last_mut()) {
            (Some(element), Some(parent)) => parent.children.push(element),
            (Some(element), None) => root = Some(element),
            (None, _) => {}
        }
    }
    if !open.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "the document has no element".into())
}

/// The JSON tree of an XML reply: `{"method","status","summary","list"}`.
pub(super) fn to_value(body: &[u8]) -> Result<Value, String> {
    let mut root = parse(body)?;
    if root.tag != "gogrid" {
        return Err(format!("the root element is <{}>, not <gogrid>", root.tag));
    }
    let mut response = root.child("response").ok_or("no <response> element")?;
    let mut envelope = Map::new();
    for (key, value) in std::mem::take(&mut response.attributes) {
        envelope.insert(key, Value::String(value));
    }
    if let Some(summary) = response.child("summary") {
        let counts = summary.attributes.iter().map(|(k, v)| (k.clone(), typed_scalar(k, v))).collect();
        envelope.insert("summary".into(), Value::Object(counts));
    }
    if let Some(list) = response.child("list") {
        envelope.insert("list".into(), list_value(list));
    }
    Ok(Value::Object(envelope))
}

fn list_value(list: Element) -> Value {
    Value::Array(list.children.into_iter().filter(|c| c.tag == "object").map(object_value).collect())
}

fn object_value(object: Element) -> Value {
    let mut map = Map::new();
    if let Some(name) = object.name {
        map.insert("object".into(), Value::String(name));
    }
    for mut attribute in object.children.into_iter().filter(|c| c.tag == "attribute") {
        let Some(key) = attribute.name.take() else { continue };
        let value = match attribute.children.into_iter().find(|c| c.tag == "object" || c.tag == "list") {
            Some(inner) if inner.tag == "object" => object_value(inner),
            Some(inner) => list_value(inner),
            None => typed_scalar(&key, attribute.text.trim()),
        };
        map.insert(key, value);
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_reply_into_the_json_tree() {
        let body = br#"<?xml version="1.0"?>
            <gogrid><response method="/grid/image/get" status="success">
            <summary total="1" start="0" numpages="0" returned="1"/>
            <list><object name="image">
              <attribute name="id">250</attribute>
              <attribute name="friendlyName">a &amp; b</attribute>
              <attribute name="os"><object name="option"><attribute name="id">11</attribute></object></attribute>
              <attribute name="description"></attribute>
              <attribute name="price">0.0</attribute>
              <attribute name="billingtokens"> <list>
                <object name="billingtoken"><attribute name="id">22</attribute></object>
              </list> </attribute>
            </object></list></response></gogrid>"#;
        assert_eq!(
            to_value(body).unwrap(),
            json!({
                "method": "/grid/image/get",
                "status": "success",
                "summary": {"total": 1, "start": 0, "numpages": 0, "returned": 1},
                "list": [{
                    "object": "image",
                    "id": 250,
                    "friendlyName": "a & b",
                    "os": {"object": "option", "id": 11},
                    "description": null,
                    "price": 0,
                    "billingtokens": [{"object": "billingtoken", "id": 22}]
                }]
            })
        );
    }

    #[test]
    fn rejects_what_is_not_a_gogrid_reply() {
        for body in [
            &b"<html><body>Forbidden</body></html>"[..],
            b"<gogrid><response>",
            b"<gogrid></response>",
            b"not xml at all",
            b"",
        ] {
            assert!(to_value(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        let deep = "<a>".repeat(100);
        assert!(to_value(deep.as_bytes()).is_err());
    }

    #[test]
    fn failure_document() {
        let failure = Failure::no_object_found();
        let body = String::from_utf8(super::failure("/grid/image/get", &failure)).unwrap();
        assert_eq!(
            body,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<gogrid>
  <response method="/grid/image/get" status="failure">
    <summary total="1" start="0" returned="1"/>
    <list>
      <object name="error">
        <attribute name="errorcode">IllegalArgumentException</attribute>
        <attribute name="message">No object found that matches your input criteria.</attribute>
      </object>
    </list>
  </response>
</gogrid>"#
        );
    }
}
