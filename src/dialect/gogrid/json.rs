//! The JSON format: GoGrid's default, keys in alphabetical order on success
//! and in the order of GoGrid's error bodies on failure.
//!
//! Success bodies are written by hand with the edges' one JSON writer
//! (`dialect/json_out.rs`), straight into one buffer: every key is a fixed
//! ASCII name, so only values need escaping, and most need none.

use serde::Serialize;

use super::envelope::{Failure, Summary, WireEnvelope};
use super::image::{Datacenters, ImageView, OptionView, OwnerView, Price, WireId};
use crate::dialect::json_out::{Object, integer, string, values};
use crate::model::Text;

/// Bytes a rendered image takes, to size the buffer once.
const IMAGE_BYTES: usize = 1024;

pub(super) fn success(method: &str, object: &str, summary: Summary, views: &[ImageView<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + IMAGE_BYTES * views.len());
    out.extend_from_slice(b"{\"list\":[");
    for (i, view) in views.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        image(&mut out, view, object);
    }
    out.extend_from_slice(b"],\"method\":");
    string(&mut out, method);
    out.extend_from_slice(b",\"status\":\"success\",\"summary\":");
    let mut o = Object::open(&mut out);
    o.number("numpages", summary.numpages);
    o.number("returned", summary.returned);
    o.number("start", summary.start);
    o.number("total", summary.total);
    o.close();
    out.push(b'}');
    out
}

/// One image object on its own.
#[cfg(test)]
pub(super) fn image_object(view: &ImageView<'_>, object: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(IMAGE_BYTES);
    image(&mut out, view, object);
    out
}

fn image(out: &mut Vec<u8>, v: &ImageView<'_>, object: &str) {
    let mut o = Object::open(out);
    if let Some(architecture) = &v.architecture {
        option(o.key("architecture"), architecture);
    }
    values(o.key("billingtokens"), v.billingtokens);
    if let Some(created) = v.created {
        o.integer("createdTime", created);
    }
    match v.datacenters {
        Some(Datacenters::Wire(list)) => values(o.key("datacenterlist"), list),
        Some(Datacenters::Zones(zones)) => zone_list(o.key("datacenterlist"), zones),
        None => {}
    }
    if let Some(description) = v.description {
        o.string("description", description);
    }
    o.string("friendlyName", v.friendly_name);
    id(o.key("id"), v.id);
    o.boolean("isActive", v.is_active);
    o.boolean("isPublic", v.is_public);
    o.string("location", &v.location);
    o.string("name", v.name);
    o.string("object", object);
    option(o.key("os"), &v.os);
    owner(o.key("owner"), &v.owner);
    match v.price {
        Price::Wire(n) => o.number("price", n),
        Price::Zero => o.number("price", 0),
    }
    option(o.key("state"), &v.state);
    option(o.key("type"), &v.kind);
    if let Some(updated) = v.updated {
        o.integer("updatedTime", updated);
    }
    o.close();
}

fn option(out: &mut Vec<u8>, option: &OptionView<'_>) {
    let mut o = Object::open(out);
    o.string("description", option.description);
    o.integer("id", option.id);
    o.string("name", option.name);
    o.string("object", "option");
    o.close();
}

fn owner(out: &mut Vec<u8>, owner: &OwnerView<'_>) {
    let mut o = Object::open(out);
    id(o.key("id"), owner.id);
    o.string("name", owner.name);
    o.string("object", "customer");
    o.close();
}

fn id(out: &mut Vec<u8>, id: WireId<'_>) {
    match id {
        WireId::Number(n) => integer(out, n),
        WireId::Text(t) => string(out, t),
    }
}

/// `[{"datacenter":{"name":zone,"object":"option"}}, …]`.
fn zone_list(out: &mut Vec<u8>, zones: &[Text]) {
    out.push(b'[');
    for (i, zone) in zones.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut item = Object::open(out);
        let mut datacenter = Object::open(item.key("datacenter"));
        datacenter.string("name", zone);
        datacenter.string("object", "option");
        datacenter.close();
        item.close();
    }
    out.push(b']');
}

/// `{"list":[{"object":"error",…}],"summary":{…},"status":"failure","method":…}`.
#[derive(Serialize)]
struct FailureBody<'a> {
    list: [ErrorObject<'a>; 1],
    summary: ErrorSummary,
    status: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    method: &'a str,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    object: &'static str,
    message: &'a str,
    errorcode: &'a str,
}

/// Error summaries carry no `numpages`.
#[derive(Serialize)]
struct ErrorSummary {
    total: u8,
    start: u8,
    returned: u8,
}

pub(super) fn failure(method: &str, failure: &Failure<'_>) -> serde_json::Result<Vec<u8>> {
    let body = FailureBody {
        list: [ErrorObject { object: "error", message: &failure.message, errorcode: failure.errorcode }],
        summary: ErrorSummary { total: 1, start: 0, returned: 1 },
        status: "failure",
        method,
    };
    serde_json::to_vec(&body)
}

/// Reads a reply. The body is checked as UTF-8 once, as a whole, so that
/// each string in it need not be.
pub(super) fn envelope(body: &[u8]) -> Result<WireEnvelope<'_>, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}
