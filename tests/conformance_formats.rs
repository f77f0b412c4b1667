//! GoGrid's XML and CSV replies keep the same contract as its JSON: every
//! documented field present, with its type and vocabulary, through the
//! catalog and an upstream of every dialect. Each reply is read here into
//! the JSON tree the contract describes, every text typed as the contract
//! types its field (a text that is not of that type stays text and fails),
//! with an empty element or cell standing for a null or absent value.

use std::collections::BTreeMap;

use dragoman::config::Config;
use dragoman::dialect::Dialect;
use dragoman::dialect::contract::{self, Field, Presence, Shape};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::common::dialects::id_at;
use crate::common::{TestGateway, get, in_front_of};

const AUTH: &str = "api_key=demo&v=1.3&sig=0";

/// An element of an XML reply: its `name` attribute (or tag), children and text.
#[derive(Debug, Default)]
struct Element {
    tag: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

fn parse_xml(text: &str) -> Element {
    let mut reader = Reader::from_str(text);
    let mut stack = vec![Element::default()];
    let open = |e: &quick_xml::events::BytesStart<'_>| Element {
        tag: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attributes: e
            .attributes()
            .map(|a| {
                let a = a.expect("an attribute");
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.unescape_value().expect("a value").into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader.read_event().expect("well-formed xml") {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let element = open(&e);
                stack.last_mut().unwrap().children.push(element);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.unescape().expect("text")),
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap().children.into_iter().next().expect("a root element")
}

/// A text typed as `shape` types it; text that is not of that type stays text.
fn typed(text: &str, shape: &Shape) -> Value {
    let parsed = match shape {
        Shape::Integer => text.parse::<i64>().ok().map(Value::from),
        Shape::Number => text.parse::<f64>().ok().map(Value::from),
        Shape::Boolean => text.parse::<bool>().ok().map(Value::from),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Sets `field` in `object` from a text: empty is null where the field may
/// be null, else absent (a breach where the field is always present).
fn set_text(object: &mut Map<String, Value>, field: &Field, text: &str) {
    let value = match (text.is_empty(), field.presence) {
        (true, Presence::Nullable) => Value::Null,
        (true, _) => return,
        _ => typed(text, &field.shape),
    };
    object.insert(field.name.to_owned(), value);
}

/// An `<object name="…">` element read as the object `fields` describe; its
/// name is the JSON object's `object`.
fn xml_object(element: &Element, fields: &[Field]) -> Value {
    let mut object = Map::new();
    if let Some(name) = element.attributes.get("name") {
        object.insert("object".into(), Value::String(name.clone()));
    }
    for attribute in element.children.iter().filter(|c| c.tag == "attribute") {
        let name = attribute.attributes.get("name").cloned().unwrap_or_default();
        let Some(field) = fields.iter().find(|f| f.name == name) else {
            object.insert(name, Value::String(attribute.text.clone()));
            continue;
        };
        match (attribute.children.first(), &field.shape) {
            (Some(inner), Shape::Object(inner_fields)) if inner.tag == "object" => {
                object.insert(name, xml_object(inner, inner_fields));
            }
            (Some(list), Shape::List(element)) if list.tag == "list" => {
                let items = list.children.iter().map(|item| match element {
                    Shape::Object(inner_fields) => xml_object(item, inner_fields),
                    _ => xml_object(item, &[]),
                });
                object.insert(name, Value::Array(items.collect()));
            }
            (Some(_), _) => {
                object.insert(name, Value::String(format!("unexpected element in {}", field.name)));
            }
            (None, _) => set_text(&mut object, field, attribute.text.trim()),
        }
    }
    Value::Object(object)
}

/// A GoGrid XML reply read as the JSON reply it stands for.
fn xml_reply(text: &str) -> Value {
    let root = parse_xml(text);
    assert_eq!(root.tag, "gogrid", "{text}");
    let response = root.children.iter().find(|c| c.tag == "response").expect("a response");
    let image = &contract::of(Dialect::GoGrid).image;
    let mut body = Map::new();
    for key in ["method", "status"] {
        if let Some(value) = response.attributes.get(key) {
            body.insert(key.to_owned(), Value::String(value.clone()));
        }
    }
    for child in &response.children {
        match child.tag.as_str() {
            "summary" => {
                let summary = child.attributes.iter().map(|(k, v)| (k.clone(), typed(v, &Shape::Integer)));
                body.insert("summary".into(), Value::Object(summary.collect()));
            }
            "list" => {
                let images = child.children.iter().map(|object| xml_object(object, image.fields));
                body.insert("list".into(), Value::Array(images.collect()));
            }
            _ => {}
        }
    }
    Value::Object(body)
}

/// A GoGrid CSV reply read as the JSON reply it stands for: line 1 the
/// envelope, line 2 the dotted columns, a row per image. CSV has no column
/// for the JSON objects' `object` names: they are not checked in CSV.
fn csv_reply(text: &str) -> Value {
    let mut lines = text.lines();
    let envelope: Vec<&str> = lines.next().expect("an envelope line").trim_start_matches("# ").split(", ").collect();
    let columns: Vec<String> =
        lines.next().expect("a columns line").trim_start_matches("# ").split(',').map(str::to_owned).collect();
    let mut body = Map::new();
    body.insert("status".into(), Value::String(envelope[0].to_lowercase()));
    body.insert("method".into(), Value::String(envelope[1].to_owned()));
    let summary = envelope[2..].chunks(2).map(|pair| (pair[0].to_lowercase(), typed(pair[1], &Shape::Integer)));
    body.insert("summary".into(), Value::Object(summary.collect()));
    let rest: String = lines.map(|line| format!("{line}\n")).collect();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(rest.as_bytes());
    let fields = contract::of(Dialect::GoGrid).image.fields;
    let mut images = Vec::new();
    for row in reader.records() {
        let row = row.expect("a csv row");
        let mut image = Map::new();
        for (column, cell) in columns.iter().zip(row.iter()) {
            set_column(&mut image, fields, column, cell);
        }
        // a list has columns only as far as some image fills them: none is an empty list
        for field in fields.iter().filter(|f| matches!(f.shape, Shape::List(_)) && f.presence == Presence::Always) {
            image.entry(field.name).or_insert_with(|| Value::Array(Vec::new()));
        }
        images.push(Value::Object(image));
    }
    body.insert("list".into(), Value::Array(images));
    Value::Object(body)
}

/// Sets the dotted `column` (`os.id`, `billingtokens.1.price`) from a cell.
fn set_column(image: &mut Map<String, Value>, fields: &[Field], column: &str, cell: &str) {
    let mut path = column.split('.');
    let top = path.next().unwrap_or_default();
    let Some(field) = fields.iter().find(|f| f.name == top) else {
        if !cell.is_empty() {
            image.insert(column.to_owned(), Value::String(cell.to_owned()));
        }
        return;
    };
    match (&field.shape, path.next(), path.next()) {
        (Shape::Object(inner), Some(name), None) => {
            let Some(inner_field) = inner.iter().find(|f| f.name == name) else { return };
            // an option or owner whose every column is empty is absent
            let object = image.entry(top).or_insert_with(|| Value::Object(Map::new()));
            set_text(object.as_object_mut().unwrap(), inner_field, cell);
        }
        (Shape::List(element), Some(index), Some(name)) => {
            let (Shape::Object(inner), Ok(index)) = (element, index.parse::<usize>()) else { return };
            let Some(inner_field) = inner.iter().find(|f| f.name == name) else { return };
            let list = image.entry(top).or_insert_with(|| Value::Array(Vec::new())).as_array_mut().unwrap();
            if cell.is_empty() {
                return;
            }
            while list.len() < index {
                list.push(Value::Object(Map::new()));
            }
            set_text(list[index - 1].as_object_mut().unwrap(), inner_field, cell);
        }
        (_, None, _) => set_text(image, field, cell),
        _ => {}
    }
}

/// Drops objects every column of which was empty (an image without an architecture).
fn without_empty_objects(body: &mut Value) {
    for image in body["list"].as_array_mut().into_iter().flatten() {
        if let Some(image) = image.as_object_mut() {
            image.retain(|_, v| !v.as_object().is_some_and(|o| o.values().all(Value::is_null)));
        }
    }
}

/// Breaches of GoGrid's contract in `format` for the reply to `path`.
async fn breaches(gw: &TestGateway, path: &str, format: &str, what: &str) -> Vec<String> {
    let got = get(&gw.url(&format!("{path}&{AUTH}&format={format}"))).await;
    assert_eq!(got.status, 200, "{what}: {}", got.text());
    let mut body = match format {
        "xml" => xml_reply(&got.text()),
        _ => csv_reply(&got.text()),
    };
    without_empty_objects(&mut body);
    assert!(!body["list"].as_array().is_none_or(Vec::is_empty), "{what}: no image in {}", got.text());
    let mut out = Vec::new();
    contract::of(Dialect::GoGrid).check_list(&body, &contract::of(Dialect::GoGrid).image, &mut out);
    out.retain(|b| format == "xml" || !b.ends_with(".object: absent"));
    out.into_iter().map(|b| format!("{what} {format}: {b}")).collect()
}

const SAMPLES: [&str; 4] = ["133", "70a599e0-31e7-49b7-b260-868f441e862b", "250", "980190962"];

#[tokio::test]
async fn gogrid_xml_and_csv_keep_the_contract_through_every_upstream() {
    let catalog = TestGateway::start(Config::default()).await;
    let mut fronts = vec![(None, catalog)];
    for upstream in Dialect::ALL {
        let front = in_front_of(upstream, &fronts[0].1).await;
        fronts.push((Some(upstream), front));
    }
    let mut out = Vec::new();
    for (upstream, gw) in &fronts {
        let label = upstream.map_or("catalog", Dialect::name);
        for format in ["xml", "csv"] {
            out.extend(breaches(gw, "/api/grid/image/list?", format, &format!("{label} list")).await);
            for id in SAMPLES {
                let shown = id_at(Dialect::GoGrid, *upstream, id);
                let path = format!("/api/grid/image/get?id={shown}");
                out.extend(breaches(gw, &path, format, &format!("{label} get {id}")).await);
            }
        }
    }
    assert!(out.is_empty(), "{} breaches:\n{}", out.len(), out.join("\n"));
}

#[test]
fn the_readers_catch_a_missing_option_and_a_changed_type() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<gogrid><response method="/grid/image/get" status="success"><summary total="1" start="0" numpages="0" returned="1"/>
<list><object name="image"><attribute name="id">70a599e0</attribute><attribute name="isPublic">false</attribute></object></list>
</response></gogrid>"#;
    let body = xml_reply(xml);
    assert_eq!(body["list"][0]["id"], "70a599e0", "a non-integer id stays text");
    assert_eq!(body["list"][0]["isPublic"], false);
    let mut out = Vec::new();
    contract::of(Dialect::GoGrid).check_list(&body, &contract::of(Dialect::GoGrid).image, &mut out);
    assert!(out.iter().any(|b| b.contains("list[0].id: wrong type")), "{out:?}");
    assert!(out.iter().any(|b| b.contains("list[0].os: absent")), "{out:?}");
    let csv = "# SUCCESS, /grid/image/get, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1\n# id,os.id,os.name,isPublic\n250,,,maybe,\n";
    let mut body = csv_reply(csv);
    without_empty_objects(&mut body);
    assert_eq!(body["list"][0]["id"], 250);
    let mut out = Vec::new();
    contract::of(Dialect::GoGrid).check_list(&body, &contract::of(Dialect::GoGrid).image, &mut out);
    assert!(out.iter().any(|b| b.contains("list[0].os: absent")), "{out:?}");
    assert!(out.iter().any(|b| b.contains("list[0].isPublic: wrong type")), "{out:?}");
}
