//! The CSV format:
//!
//! ```text
//! # SUCCESS, /grid/image/get, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1
//! # server.id,server.name,id,friendlyName,…,billingtokens.1.id,billingtokens.1.name,billingtokens.1.price
//! ,,250,n,GSI-…,…,22,Windows 2008 32bit,0.0,
//! ```
//!
//! Line 1 is the envelope, line 2 (`# ` + dotted column names) the columns,
//! then one row per image, ended by a comma as GoGrid's rows are. Columns are
//! fixed (an image without an architecture leaves its three columns empty),
//! plus three per billing token up to the most any listed image has. Zones
//! have no column. Errors (inferred, GoGrid's CSV error body is not
//! documented): `# FAILURE, <method>, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1`,
//! `# errorcode,message`, then one row.
//!
//! Reading turns the rows into the JSON tree the JSON reply would be
//! (`os.id` → `{"os":{"id":…}}`, `billingtokens.2.id` → the second token).

use std::borrow::Cow;
use std::io::{self, Write};

use serde_json::{Map, Value};

use super::envelope::{Failure, Summary};
use super::image::{ImageView, OptionView, java_double, typed_scalar};

/// The fixed columns, in GoGrid's order.
const COLUMNS: &str = "server.id,server.name,id,friendlyName,name,os.id,os.name,os.description,\
architecture.id,architecture.name,architecture.description,owner.id,owner.name,type.id,type.name,\
type.description,state.id,state.name,state.description,description,location,price,isActive,isPublic,\
createdTime,updatedTime";

/// Indexed columns deeper than this are not a GoGrid reply.
const MAX_INDEX: usize = 1000;

fn envelope_line(out: &mut Vec<u8>, status: &str, method: &str, summary: Summary) -> io::Result<()> {
    writeln!(
        out,
        "# {status}, {method}, TOTAL, {}, NUMPAGES, {}, START, {}, RETURNED, {}",
        summary.total, summary.numpages, summary.start, summary.returned
    )
}

fn finish(writer: csv::Writer<Vec<u8>>) -> io::Result<Vec<u8>> {
    writer.into_inner().map_err(|e| e.into_error())
}

pub(super) fn success(method: &str, summary: Summary, views: &[ImageView<'_>]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(512 + 512 * views.len());
    envelope_line(&mut out, "SUCCESS", method, summary)?;
    let tokens = views.iter().map(|v| v.billingtokens.len()).max().unwrap_or(0);
    write!(out, "# {COLUMNS}")?;
    for n in 1..=tokens {
        write!(out, ",billingtokens.{n}.id,billingtokens.{n}.name,billingtokens.{n}.price")?;
    }
    out.push(b'\n');
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
    for view in views {
        writer.write_record(row(view, tokens).iter().map(|f| f.as_bytes()))?;
    }
    finish(writer)
}

pub(super) fn failure(method: &str, failure: &Failure<'_>) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    envelope_line(&mut out, "FAILURE", method, Summary { numpages: 0, returned: 1, start: 0, total: 1 })?;
    out.extend_from_slice(b"# errorcode,message\n");
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
    writer.write_record([failure.errorcode, failure.message.as_ref(), ""])?;
    finish(writer)
}

fn option_fields<'a>(fields: &mut Vec<Cow<'a, str>>, option: Option<&OptionView<'a>>) {
    match option {
        Some(o) => fields.extend([Cow::Owned(o.id.to_string()), Cow::Borrowed(o.name), Cow::Borrowed(o.description)]),
        None => fields.extend([Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed("")]),
    }
}

fn bool_text(b: bool) -> Cow<'static, str> {
    Cow::Borrowed(if b { "true" } else { "false" })
}

fn millis_text(t: Option<i64>) -> Cow<'static, str> {
    t.map_or(Cow::Borrowed(""), |t| Cow::Owned(t.to_string()))
}

fn token_field<'a>(token: &'a Value, field: &str) -> Cow<'a, str> {
    match token.get(field) {
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(Value::Number(n)) if field == "price" => Cow::Owned(n.as_f64().map_or_else(|| n.to_string(), java_double)),
        Some(Value::Number(n)) => Cow::Owned(n.to_string()),
        Some(Value::Bool(b)) => bool_text(*b),
        _ => Cow::Borrowed(""),
    }
}

fn row<'a>(v: &'a ImageView<'a>, tokens: usize) -> Vec<Cow<'a, str>> {
    let mut fields = Vec::with_capacity(27 + 3 * tokens);
    fields.push(v.server_id.map_or(Cow::Borrowed(""), |id| id.text()));
    fields.push(Cow::Borrowed(""));
    fields.extend([v.id.text(), Cow::Borrowed(v.friendly_name), Cow::Borrowed(v.name)]);
    option_fields(&mut fields, Some(&v.os));
    option_fields(&mut fields, v.architecture.as_ref());
    fields.extend([v.owner.id.text(), Cow::Borrowed(v.owner.name)]);
    option_fields(&mut fields, Some(&v.kind));
    option_fields(&mut fields, Some(&v.state));
    fields.extend([
        Cow::Borrowed(v.description.unwrap_or("")),
        Cow::Borrowed(&v.location),
        Cow::Owned(v.price.text()),
        bool_text(v.is_active),
        bool_text(v.is_public),
        millis_text(v.created),
        millis_text(v.updated),
    ]);
    for n in 0..tokens {
        match v.billingtokens.get(n) {
            Some(token) => fields.extend(["id", "name", "price"].map(|f| token_field(token, f))),
            None => fields.extend([Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed("")]),
        }
    }
    // GoGrid ends every row with a comma
    fields.push(Cow::Borrowed(""));
    fields
}

// ---------------------------------------------------------------------------
// Reading

/// The JSON tree of a CSV reply: `{"method","status","summary","list"}`.
pub(super) fn to_value(body: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut lines = text.splitn(3, '\n');
    let envelope_line = comment(lines.next()).ok_or("no envelope line")?;
    let columns: Vec<&str> = comment(lines.next()).ok_or("no column line")?.split(',').map(str::trim).collect();
    let mut envelope = read_envelope(envelope_line)?;
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(lines.next().unwrap_or("").as_bytes());
    let mut list = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let mut object = Value::Object(Map::new());
        // list slots a row may open: a GoGrid row opens at most one per column
        let mut slots = columns.len();
        for (column, field) in columns.iter().zip(record.iter()).filter(|(_, f)| !f.is_empty()) {
            let segments: Vec<&str> = column.split('.').collect();
            let leaf = segments.last().copied().unwrap_or(column);
            insert(&mut object, &segments, typed_scalar(leaf, field), &mut slots)?;
        }
        list.push(object);
    }
    envelope.insert("list".into(), Value::Array(list));
    Ok(Value::Object(envelope))
}

/// The text of a `# ` line.
fn comment(line: Option<&str>) -> Option<&str> {
    let line = line?.trim_end_matches('\r');
    Some(line.strip_prefix('#')?.trim_start())
}

/// `SUCCESS, /grid/image/get, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1`.
fn read_envelope(line: &str) -> Result<Map<String, Value>, String> {
    let mut tokens = line.split(',').map(str::trim);
    let status = tokens.next().filter(|s| !s.is_empty()).ok_or("no status")?;
    let mut envelope = Map::new();
    envelope.insert("status".into(), Value::String(status.to_ascii_lowercase()));
    envelope.insert("method".into(), Value::String(tokens.next().unwrap_or("").to_owned()));
    let mut summary = Map::new();
    while let (Some(name), Some(count)) = (tokens.next(), tokens.next()) {
        let name = name.to_ascii_lowercase();
        summary.insert(name.clone(), typed_scalar(&name, count));
    }
    envelope.insert("summary".into(), Value::Object(summary));
    Ok(envelope)
}

/// Puts `value` at a dotted path; numeric segments are 1-based list indexes.
/// Every list slot opened is taken from `slots`, so that sparse indexes
/// (`x.1000`) cannot make a small reply a large tree.
fn insert(slot: &mut Value, path: &[&str], value: Value, slots: &mut usize) -> Result<(), String> {
    let Some((segment, rest)) = path.split_first() else {
        *slot = value;
        return Ok(());
    };
    if let Ok(index) = segment.parse::<usize>() {
        if index == 0 || index > MAX_INDEX {
            return Err(format!("column index {index} out of range"));
        }
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let Value::Array(items) = slot else { return Ok(()) };
        if items.len() < index {
            *slots = slots.checked_sub(index - items.len()).ok_or("list indexes sparser than the columns")?;
            items.resize(index, Value::Null);
        }
        insert(&mut items[index - 1], rest, value, slots)
    } else {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(map) = slot else { return Ok(()) };
        insert(map.entry(*segment).or_insert(Value::Null), rest, value, slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_rows_into_the_json_tree() {
        let body = b"# SUCCESS, /grid/image/list, TOTAL, 39, NUMPAGES, 8, START, 10, RETURNED, 1\n\
# id,friendlyName,os.id,os.name,isPublic,price,billingtokens.1.id,billingtokens.2.name\n\
24,\"CentOS, 64\",16,CentOS 5.3 (32-bit),true,0.0,46,extra,\n";
        assert_eq!(
            to_value(body).unwrap(),
            json!({
                "status": "success",
                "method": "/grid/image/list",
                "summary": {"total": 39, "numpages": 8, "start": 10, "returned": 1},
                "list": [{
                    "id": 24,
                    "friendlyName": "CentOS, 64",
                    "os": {"id": 16, "name": "CentOS 5.3 (32-bit)"},
                    "isPublic": true,
                    "price": 0,
                    "billingtokens": [{"id": 46}, {"name": "extra"}]
                }]
            })
        );
    }

    #[test]
    fn failure_rows() {
        let body = String::from_utf8(super::failure("/grid/image/get", &Failure::no_object_found()).unwrap()).unwrap();
        assert_eq!(
            body,
            "# FAILURE, /grid/image/get, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1\n\
# errorcode,message\n\
IllegalArgumentException,No object found that matches your input criteria.,\n"
        );
        let tree = to_value(body.as_bytes()).unwrap();
        assert_eq!(tree["status"], json!("failure"));
        assert_eq!(tree["list"][0]["errorcode"], json!("IllegalArgumentException"));
    }

    #[test]
    fn rejects_what_is_not_a_gogrid_reply() {
        for body in [&b""[..], b"id,name\n1,a\n", b"# SUCCESS\n", b"# SUCCESS\n# billingtokens.0.id\n5\n"] {
            assert!(to_value(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        assert!(to_value(b"# SUCCESS\n# a.99999999.id\n5\n").is_err());
    }

    #[test]
    fn sparse_indexes_cannot_expand_a_small_reply() {
        // 1000 columns x.N.1000: a million list slots per row if read blindly
        let columns: Vec<String> = (1..=1000).map(|n| format!("x.{n}.1000")).collect();
        let row = vec!["1"; 1000].join(",");
        let body = format!("# SUCCESS, /grid/image/list\n# {}\n{row},\n", columns.join(","));
        assert_eq!(to_value(body.as_bytes()).unwrap_err(), "list indexes sparser than the columns");
    }
}
