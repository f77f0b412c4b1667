//! The edge half's reply side: Nova's image views, faults and version
//! documents, serialised straight from borrowed images.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

use super::NovaMethod;
use super::clock::Iso;
use super::versions::ApiVersion;
use super::views::{self, LinkBase, Metadata};
use crate::dialect::reply::reply;
use crate::dialect::{
    EdgeCall, EdgeCtx, Item, ListWriter, Outcome, Reply, ReplyBody, json_reply, percent_encode_segment,
    retry_after_secs, with_body, write_retry_after,
};
use crate::model::{
    ErrorKind, GatewayError, Image, ImageId, ImageOp, ListQuery, PageStart, Resource, Side, View, WriteOp,
};

/// Nova's fault replies say which charset they use.
const FAULT_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Rough size of a small reply, to allocate the body once.
const SUMMARY_BYTES: usize = 384;

pub fn outcome(ctx: &EdgeCtx, op: &ImageOp, outcome: &Outcome) -> Reply {
    match op {
        ImageOp::Write(WriteOp::Delete { .. } | WriteOp::DeleteMetadataItem { .. }) => {
            return empty(StatusCode::NO_CONTENT);
        }
        ImageOp::Write(WriteOp::Snapshot(_)) => return image_saved(ctx, outcome),
        _ => {}
    }
    match outcome {
        Outcome::Image(image) => match &ctx.item {
            None => json_reply(StatusCode::OK, views::image_body(image, &LinkBase::new(ctx))),
            Some(Item::Metadata) => json(ctx, &Wrapped("metadata", Metadata(image)), SUMMARY_BYTES),
            Some(Item::MetadataKey(key)) => match Metadata(image).get(key) {
                Some(value) => json(ctx, &Wrapped("meta", Wrapped(key, value)), SUMMARY_BYTES),
                None => error(ctx, &no_metadata_key(image, key)),
            },
        },
        Outcome::Images(images) => json_reply(StatusCode::OK, ImagesWriter::new(ctx, op).whole(images, false)),
        Outcome::List(page) => json_reply(StatusCode::OK, ImagesWriter::new(ctx, op).whole(&page.images, page.more)),
        Outcome::Metadata(items) => match &ctx.item {
            Some(Item::MetadataKey(key)) => match items.get(key.as_str()) {
                Some(value) => json(ctx, &Wrapped("meta", Wrapped(key, value)), SUMMARY_BYTES),
                None => json(ctx, &Wrapped("meta", items), SUMMARY_BYTES),
            },
            _ => json(ctx, &Wrapped("metadata", items), SUMMARY_BYTES),
        },
        Outcome::Done => empty(StatusCode::NO_CONTENT),
    }
}

/// A reply without a body; Nova still names its JSON type.
fn empty(status: StatusCode) -> Reply {
    json_reply(status, Bytes::new())
}

/// `createImage`'s 202: up to 2.44 an empty body and the new image's
/// `Location`, from 2.45 `{"image_id"}` alone.
fn image_saved(ctx: &EdgeCtx, outcome: &Outcome) -> Reply {
    let Outcome::Image(image) = outcome else {
        return error(ctx, &GatewayError::internal("a saved image came back without the image"));
    };
    if ctx.call == EdgeCall::OpenStack(NovaMethod::CreateImageWithId) {
        return json_with(ctx, StatusCode::ACCEPTED, &Wrapped("image_id", image.id.as_str()), SUMMARY_BYTES);
    }
    let encoded_id = percent_encode_segment(image.id.as_str());
    let href = Href { origin: &ctx.origin, prefix: &ctx.prefix, collection: "images", encoded_id: &encoded_id };
    match HeaderValue::from_str(&href.to_string()) {
        Ok(location) => {
            let mut reply = empty(StatusCode::ACCEPTED);
            reply.headers_mut().insert(header::LOCATION, location);
            reply
        }
        Err(e) => error(ctx, &GatewayError::internal(format!("the new image's location is no header value: {e}"))),
    }
}

/// A list reply, image by image: `{"images": […]}`, and the next page's
/// link when more follow.
pub(super) struct ImagesWriter {
    ctx: EdgeCtx,
    /// The caller's query, for the next page's link.
    query: Option<ListQuery>,
    view: View,
    links: LinkBase,
}

impl ImagesWriter {
    pub(super) fn new(ctx: &EdgeCtx, op: &ImageOp) -> Self {
        let query = match op {
            ImageOp::List(q) => Some(q.clone()),
            _ => None,
        };
        let view = query.as_ref().map_or(View::Detail, |q| q.view);
        Self { ctx: ctx.clone(), query, view, links: LinkBase::new(ctx) }
    }
}

impl ListWriter for ImagesWriter {
    fn image_bytes(&self) -> usize {
        views::image_bytes(self.view)
    }

    fn head(&self, out: &mut Vec<u8>) {
        views::list_head(out);
    }

    fn image(&self, out: &mut Vec<u8>, image: &Image, first: bool) {
        views::list_image(out, image, self.view, &self.links, first);
    }

    fn tail(&self, out: &mut Vec<u8>, more: bool, last: Option<&ImageId>) {
        let next = match last {
            Some(last) if more => {
                let query = next_query(self.query.as_ref(), last.as_str());
                Some(NextHref { ctx: &self.ctx, view: self.view, query }.to_string())
            }
            _ => None,
        };
        views::list_tail(out, next.as_deref());
    }

    fn reply(&self, body: ReplyBody) -> Reply {
        with_version_headers(&self.ctx, with_body(StatusCode::OK, "application/json", body))
    }
}

fn no_metadata_key(image: &Image, key: &str) -> GatewayError {
    GatewayError::new(
        ErrorKind::NotFound { resource: Resource::MetadataItem, id: key.to_owned() },
        Side::Downstream,
        format!("image {} has no metadata key {key}", image.id),
    )
}

fn json<T: Serialize>(ctx: &EdgeCtx, body: &T, capacity: usize) -> Reply {
    json_with(ctx, StatusCode::OK, body, capacity)
}

fn json_with<T: Serialize>(ctx: &EdgeCtx, status: StatusCode, body: &T, capacity: usize) -> Reply {
    let mut bytes = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => json_reply(status, bytes),
        Err(e) => error(ctx, &GatewayError::internal(format!("rendering an image reply failed: {e}"))),
    }
}

/// `{key: value}`.
struct Wrapped<'a, T>(&'a str, T);

impl<T: Serialize> Serialize for Wrapped<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, &self.1)?;
        m.end()
    }
}

/// `{origin}{prefix}/{collection}/{id}`, the id already percent-encoded.
struct Href<'a> {
    origin: &'a str,
    prefix: &'a str,
    collection: &'static str,
    encoded_id: &'a str,
}

impl fmt::Display for Href<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // piece by piece: no format string to interpret for every link
        for piece in [self.origin, self.prefix, "/", self.collection, "/", self.encoded_id] {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

/// `{origin}{prefix}/images[/detail]?{query}`.
struct NextHref<'a> {
    ctx: &'a EdgeCtx,
    view: View,
    query: String,
}

impl fmt::Display for NextHref<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let collection = match self.view {
            View::Summary => "images",
            View::Detail => "images/detail",
        };
        write!(f, "{}{}/{}?{}", self.ctx.origin, self.ctx.prefix, collection, self.query)
    }
}

/// The query of the next-page link as Nova's `_get_next_link` builds it:
/// the caller's parameters sorted by name, `marker` set to the last id in
/// its sorted place, or appended when the caller sent none.
fn next_query<'q>(query: Option<&'q ListQuery>, marker: &'q str) -> String {
    let mut params: Vec<(&'static str, Cow<'q, str>)> = Vec::new();
    let mut marker_given = false;
    if let Some(q) = query {
        let f = &q.filter;
        let mut add = |key: &'static str, value: Option<Cow<'q, str>>| params.extend(value.map(|v| (key, v)));
        add("changes-since", f.changed_since.map(|t| Iso(t).to_string().into()));
        add("limit", q.page.limit.map(|n| n.to_string().into()));
        add("minDisk", f.min_disk_gb.map(|n| n.to_string().into()));
        add("minRam", f.min_ram_mb.map(|n| n.to_string().into()));
        add("name", f.name.as_deref().map(Cow::Borrowed));
        add("server", f.server_id.as_deref().map(Cow::Borrowed));
        let shown = |field: &str| f.shown.iter().find(|c| c.field == field).map(|c| Cow::Borrowed(c.value.as_str()));
        add("status", shown("status"));
        add("type", shown("type"));
        marker_given = matches!(q.page.start, PageStart::After(_));
    }
    if marker_given {
        params.push(("marker", marker.into()));
        params.sort_by(|a, b| a.0.cmp(b.0));
    } else {
        params.push(("marker", marker.into()));
    }
    let mut out = String::new();
    for (i, (key, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        quote_plus(&mut out, key);
        out.push('=');
        quote_plus(&mut out, value);
    }
    out
}

/// Characters Python's `quote_plus` leaves alone (space becomes `+`).
const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~');

fn quote_plus(out: &mut String, text: &str) {
    for (i, part) in text.split(' ').enumerate() {
        if i > 0 {
            out.push('+');
        }
        out.extend(utf8_percent_encode(part, QUOTE_PLUS));
    }
}

/// Nova's `_fault_names`; any other code is a `computeFault`.
fn fault_name(status: u16) -> &'static str {
    match status {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

/// Nova's version headers on a `/v2.1` reply: the microversion it answers
/// in, under both names, and `Vary` on both request headers.
pub fn with_version_headers(ctx: &EdgeCtx, mut reply: Reply) -> Reply {
    let Some(version) = ctx.version.as_deref() else {
        return reply;
    };
    let headers = reply.headers_mut();
    if let Ok(value) = HeaderValue::try_from(format!("compute {version}")) {
        headers.insert("openstack-api-version", value);
    }
    if let Ok(value) = HeaderValue::try_from(version) {
        headers.insert("x-openstack-nova-api-version", value);
    }
    headers.append(header::VARY, HeaderValue::from_static("OpenStack-API-Version"));
    headers.append(header::VARY, HeaderValue::from_static("X-OpenStack-Nova-API-Version"));
    reply
}

pub fn error(ctx: &EdgeCtx, err: &GatewayError) -> Reply {
    if err.kind == ErrorKind::Unauthorized {
        return unauthorized(ctx);
    }
    let code = err.kind.status();
    let message: Cow<'_, str> = match &err.kind {
        ErrorKind::NotFound { resource: Resource::Image, id } if !id.is_empty() => "Image not found.".into(),
        // Nova's `image_metadata.show` says no more than other 404s
        ErrorKind::NotFound { resource: Resource::MetadataItem, .. }
            if ctx.call != EdgeCall::OpenStack(NovaMethod::MetadataShow) =>
        {
            "Invalid metadata key".into()
        }
        ErrorKind::NotFound { resource: Resource::Server, id } if !id.is_empty() => {
            format!("Instance {id} could not be found.").into()
        }
        ErrorKind::NotFound { .. } => "The resource could not be found.".into(),
        _ => err.public_message(),
    };
    let fault = Fault { code, message: &message, retry_after: retry_after_secs(&err.kind) };
    let body = serde_json::to_vec(&Wrapped(fault_name(code), fault)).unwrap_or_default();
    let mut res =
        reply(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), FAULT_CONTENT_TYPE, body);
    write_retry_after(res.headers_mut(), &err.kind);
    res
}

/// `{"code", "message"[, "retryAfter"]}`.
struct Fault<'a> {
    code: u16,
    message: &'a str,
    retry_after: Option<u64>,
}

impl Serialize for Fault<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("code", &self.code)?;
        m.serialize_entry("message", self.message)?;
        if let Some(secs) = self.retry_after {
            m.serialize_entry("retryAfter", &format_args!("{secs}"))?;
        }
        m.end()
    }
}

/// keystonemiddleware's 401, which answers before Nova sees the request.
fn unauthorized(ctx: &EdgeCtx) -> Reply {
    let body = json!({"error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }});
    let mut res = json_reply(StatusCode::UNAUTHORIZED, body.to_string());
    if let Ok(value) = HeaderValue::from_str(&format!("Keystone uri=\"{}/v3\"", ctx.origin)) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    res
}

/// One version as Nova's documents describe it; the version's own
/// document adds the `describedby` link and the media types.
fn version_entry(ctx: &EdgeCtx, version: ApiVersion, document: bool) -> Value {
    let (id, path, status, max, min, updated, media_type) = match version {
        ApiVersion::V2 => (
            "v2.0",
            "v2",
            "DEPRECATED",
            "",
            "",
            "2025-07-04T12:00:00Z",
            "application/vnd.openstack.compute+json;version=2",
        ),
        ApiVersion::V21 => (
            "v2.1",
            "v2.1",
            "CURRENT",
            "2.104",
            "2.1",
            "2013-07-23T11:33:21Z",
            "application/vnd.openstack.compute+json;version=2.1",
        ),
    };
    let mut links = vec![json!({"href": format!("{}/{path}/", ctx.origin), "rel": "self"})];
    let mut entry = serde_json::Map::new();
    entry.insert("id".to_owned(), id.into());
    if document {
        links.push(json!({"href": "http://docs.openstack.org/", "rel": "describedby", "type": "text/html"}));
        entry.insert("links".to_owned(), links.into());
        entry.insert("media-types".to_owned(), json!([{"base": "application/json", "type": media_type}]));
    } else {
        entry.insert("links".to_owned(), links.into());
    }
    entry.insert("status".to_owned(), status.into());
    entry.insert("version".to_owned(), max.into());
    entry.insert("min_version".to_owned(), min.into());
    entry.insert("updated".to_owned(), updated.into());
    Value::Object(entry)
}

/// `GET /`: the versions list.
pub fn versions(ctx: &EdgeCtx) -> Reply {
    let entries = [version_entry(ctx, ApiVersion::V2, false), version_entry(ctx, ApiVersion::V21, false)];
    json_reply(StatusCode::OK, json!({ "versions": entries }).to_string())
}

/// `GET /v2/` or `GET /v2.1/`: one version document.
pub fn version(ctx: &EdgeCtx, version: ApiVersion) -> Reply {
    json_reply(StatusCode::OK, json!({ "version": version_entry(ctx, version, true) }).to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::model::ListPage;
    use futures_util::FutureExt;
    use http_body_util::BodyExt;
    use time::macros::datetime;

    use super::super::{EXTRA_ALTERNATE, EXTRA_DISK_CONFIG, EXTRA_IMAGE_TYPE, EXTRA_PROGRESS};
    use super::*;
    use crate::dialect::Dialect;
    use crate::model::ImageStatus;
    use crate::model::{Filter, ImageId, PageRequest};

    fn ctx(prefix: &str) -> EdgeCtx {
        let mut ctx = EdgeCtx::new(Dialect::OpenStack, "http://gw");
        ctx.prefix = prefix.to_owned();
        ctx
    }

    fn body(reply: Reply) -> Value {
        let bytes = reply.into_body().collect().now_or_never().unwrap().unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn show(ctx: &EdgeCtx, image: Image) -> Value {
        let reply = outcome(ctx, &ImageOp::Show(image.id.clone()), &Outcome::Image(image));
        assert_eq!(reply.status(), StatusCode::OK);
        assert_eq!(reply.headers()[header::CONTENT_TYPE], "application/json");
        body(reply)
    }

    /// An image as another dialect's backend would hand it over.
    fn foreign() -> Image {
        Image {
            id: ImageId::new("42"),
            name: "CentOS 5.3 (32-bit)".into(),
            status: ImageStatus::Active,
            backend_status: Some("Available".into()),
            created: Some(datetime!(2009-04-01 12:00:00.250 UTC)),
            updated: None,
            description: Some("a base image".into()),
            os: Some("CentOS 5.3".into()),
            architecture: Some("32-bit".into()),
            public: Some(true),
            min_disk_gb: None,
            min_ram_mb: Some(512),
            size_bytes: Some(1024),
            server_id: Some("srv-9".into()),
            zones: vec!["US-West-1".into()],
            metadata: Default::default(),
            extra: [("gogrid.location".into(), Value::from("x"))].into_iter().collect(),
        }
    }

    #[test]
    fn foreign_image_renders_with_defaults() {
        let got = show(&ctx("/v2.1/proj"), foreign());
        let want = json!({"image": {
            "OS-EXT-IMG-SIZE:size": 1024,
            "created": "2009-04-01T12:00:00Z",
            "id": "42",
            "links": [
                {"href": "http://gw/v2.1/proj/images/42", "rel": "self"},
                {"href": "http://gw/proj/images/42", "rel": "bookmark"},
                {"href": "http://gw/image/images/42", "rel": "alternate", "type": "application/vnd.openstack.image"},
            ],
            // saved from a server: a snapshot, as Nova marks one
            "metadata": {"architecture": "32-bit", "description": "a base image", "image_type": "snapshot", "os_distro": "CentOS 5.3"},
            "minDisk": 0,
            "minRam": 512,
            "name": "CentOS 5.3 (32-bit)",
            "progress": 100,
            "server": {"id": "srv-9", "links": [
                {"href": "http://gw/v2.1/proj/servers/srv-9", "rel": "self"},
                {"href": "http://gw/proj/servers/srv-9", "rel": "bookmark"},
            ]},
            "status": "ACTIVE",
            "updated": "2009-04-01T12:00:00Z",
        }});
        assert_eq!(got, want);
    }

    #[test]
    fn detail_keys_follow_novas_sample_order() {
        let mut image = foreign();
        image.metadata.insert("auto_disk_config".into(), Value::from("True"));
        let reply = outcome(&ctx("/v2/p"), &ImageOp::Show(image.id.clone()), &Outcome::Image(image));
        let bytes = reply.into_body().collect().now_or_never().unwrap().unwrap().to_bytes();
        let parsed: Value = serde_json::from_slice(&bytes).unwrap();
        let keys: Vec<&str> = parsed["image"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "OS-DCF:diskConfig",
                "OS-EXT-IMG-SIZE:size",
                "created",
                "id",
                "links",
                "metadata",
                "minDisk",
                "minRam",
                "name",
                "progress",
                "server",
                "status",
                "updated"
            ]
        );
        let meta: Vec<&str> = parsed["image"]["metadata"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(meta, ["architecture", "auto_disk_config", "description", "image_type", "os_distro"]);
    }

    #[test]
    fn metadata_keeps_its_own_values_over_canonical_fields() {
        let mut image = foreign();
        image.metadata.insert("architecture".into(), Value::from("x86_64"));
        image.metadata.insert("zzz".into(), Value::from(1));
        image.extra.insert(EXTRA_IMAGE_TYPE.into(), Value::from("snapshot"));
        let mut c = ctx("/v2/p");
        c.item = Some(Item::Metadata);
        assert_eq!(
            show(&c, image),
            json!({"metadata": {"architecture": "x86_64", "description": "a base image", "image_type": "snapshot", "os_distro": "CentOS 5.3", "zzz": 1}})
        );
    }

    #[test]
    fn a_metadata_key_is_shown_alone() {
        let mut c = ctx("/v2/p");
        c.item = Some(Item::MetadataKey("architecture".to_owned()));
        assert_eq!(show(&c, foreign()), json!({"meta": {"architecture": "32-bit"}}));
    }

    #[test]
    fn a_missing_metadata_key_is_not_found() {
        let mut c = ctx("/v2/p");
        c.call = EdgeCall::OpenStack(NovaMethod::MetadataShow);
        c.item = Some(Item::MetadataKey("kernel_id".to_owned()));
        let image = foreign();
        let reply = outcome(&c, &ImageOp::Show(image.id.clone()), &Outcome::Image(image));
        assert_eq!(reply.status(), StatusCode::NOT_FOUND);
        assert_eq!(reply.headers()[header::CONTENT_TYPE], FAULT_CONTENT_TYPE);
        assert_eq!(body(reply), json!({"itemNotFound": {"code": 404, "message": "The resource could not be found."}}));
    }

    #[test]
    fn status_and_progress_follow_nova() {
        let cases = [
            (ImageStatus::Active, None, "ACTIVE", 100),
            (ImageStatus::Saving, Some("queued"), "SAVING", 25),
            (ImageStatus::Saving, Some("QUEUED"), "SAVING", 25),
            (ImageStatus::Saving, Some("saving"), "SAVING", 50),
            (ImageStatus::Saving, None, "SAVING", 50),
            (ImageStatus::Trashed, Some("Trash"), "DELETED", 0),
            (ImageStatus::Deleted, None, "DELETED", 0),
            (ImageStatus::Error, Some("killed"), "ERROR", 0),
            (ImageStatus::Unknown, None, "UNKNOWN", 0),
        ];
        for (status, word, nova, progress) in cases {
            let image = Image { status, backend_status: word.map(crate::model::Text::from), ..foreign() };
            let got = show(&ctx("/v2/p"), image);
            assert_eq!(got["image"]["status"], nova, "{status:?}");
            assert_eq!(got["image"]["progress"], progress, "{status:?} {word:?}");
        }
        let image = Image { status: ImageStatus::Saving, backend_status: Some("SAVING".into()), ..foreign() };
        let mut kept = image.clone();
        kept.extra.insert(EXTRA_PROGRESS.into(), Value::from(25));
        assert_eq!(show(&ctx(""), kept)["image"]["progress"], 25);
        assert_eq!(show(&ctx(""), image)["image"]["progress"], 50);
    }

    #[test]
    fn disk_config_comes_from_auto_disk_config() {
        let cases = [
            (Value::from("True"), Some("AUTO")),
            (Value::from(" yes "), Some("AUTO")),
            (Value::from("False"), Some("MANUAL")),
            (Value::from("maybe"), Some("MANUAL")),
            (Value::from(true), Some("AUTO")),
            (Value::from(false), Some("MANUAL")),
            (Value::from(1), Some("AUTO")),
            (Value::from(0), Some("MANUAL")),
            (json!([]), Some("MANUAL")),
            (Value::Null, None),
        ];
        for (value, want) in cases {
            let mut image = foreign();
            image.metadata.insert("auto_disk_config".into(), value.clone());
            image.extra.insert(EXTRA_DISK_CONFIG.into(), Value::from("IGNORED"));
            let got = show(&ctx(""), image);
            assert_eq!(got["image"].get("OS-DCF:diskConfig").and_then(Value::as_str), want, "{value}");
        }
        let mut image = foreign();
        image.extra.insert(EXTRA_DISK_CONFIG.into(), Value::from("MANUAL"));
        assert_eq!(show(&ctx(""), image)["image"]["OS-DCF:diskConfig"], "MANUAL");
    }

    #[test]
    fn own_extras_are_reemitted_and_others_are_not() {
        let mut image = foreign();
        image.extra.insert("openstack.com.rackspace__1__os_distro".into(), Value::from("ubuntu"));
        image.extra.insert(EXTRA_ALTERNATE.into(), Value::from("http://glance/images/42"));
        image.extra.insert(EXTRA_PROGRESS.into(), Value::from(25));
        image.extra.insert(EXTRA_IMAGE_TYPE.into(), Value::from("backup"));
        image.extra.insert("openstack.name".into(), Value::from("shadow"));
        let got = show(&ctx("/v2/p"), image);
        let got = got["image"].as_object().unwrap();
        assert_eq!(got["com.rackspace__1__os_distro"], "ubuntu");
        assert_eq!(got["name"], "CentOS 5.3 (32-bit)");
        for absent in ["gogrid.location", "location", "alternate", "image_type", "openstack.progress"] {
            assert!(!got.contains_key(absent), "{absent}");
        }
        assert_eq!(
            got["links"][2],
            json!({"href": "http://glance/images/42", "rel": "alternate", "type": "application/vnd.openstack.image"})
        );
        assert_eq!(got["metadata"]["image_type"], "backup");
    }

    #[test]
    fn links_without_a_project_and_with_odd_ids() {
        let image = Image { id: ImageId::new("a b/c"), ..foreign() };
        let got = show(&ctx("/v2.1"), image);
        assert_eq!(got["image"]["id"], "a b/c");
        assert_eq!(got["image"]["links"][0]["href"], "http://gw/v2.1/images/a%20b%2Fc");
        assert_eq!(got["image"]["links"][1]["href"], "http://gw/images/a%20b%2Fc");
    }

    fn page(ids: &[&str], more: bool) -> ListPage {
        let images = ids
            .iter()
            .map(|id| Image { id: ImageId::new(*id), name: format!("n-{id}").into(), ..Image::default() })
            .collect();
        ListPage { images, offset: None, matched: None, total: None, more }
    }

    fn listed(c: &EdgeCtx, query: ListQuery, page: ListPage) -> Value {
        body(outcome(c, &ImageOp::List(query), &Outcome::List(page)))
    }

    #[test]
    fn summary_list_and_next_link_without_a_marker() {
        let q = ListQuery {
            view: View::Summary,
            page: PageRequest { start: PageStart::First, limit: Some(2) },
            ..ListQuery::default()
        };
        let got = listed(&ctx("/v2/p"), q, page(&["a", "b"], true));
        let want = json!({
            "images": [
                {"id": "a", "links": [{"href": "http://gw/v2/p/images/a", "rel": "self"}, {"href": "http://gw/p/images/a", "rel": "bookmark"},
                    {"href": "http://gw/image/images/a", "rel": "alternate", "type": "application/vnd.openstack.image"}], "name": "n-a"},
                {"id": "b", "links": [{"href": "http://gw/v2/p/images/b", "rel": "self"}, {"href": "http://gw/p/images/b", "rel": "bookmark"},
                    {"href": "http://gw/image/images/b", "rel": "alternate", "type": "application/vnd.openstack.image"}], "name": "n-b"},
            ],
            "images_links": [{"href": "http://gw/v2/p/images?limit=2&marker=b", "rel": "next"}],
        });
        assert_eq!(got, want);
    }

    #[test]
    fn next_link_keeps_filters_sorted_with_the_marker_in_place() {
        let q = ListQuery {
            filter: Filter {
                name: Some("a b&c".into()),
                changed_since: Some(datetime!(2011-01-01 01:02:03 UTC)),
                min_ram_mb: Some(512),
                min_disk_gb: Some(2),
                server_id: Some("s/1".into()),
                // the link reads the conditions, not how they judge
                shown: vec![
                    crate::model::Shown::new("status", "ACTIVE", |_, _| true),
                    crate::model::Shown::new("type", "snapshot", |_, _| true),
                ],
                ..Filter::default()
            },
            sort: None,
            page: PageRequest { start: PageStart::After(ImageId::new("x")), limit: Some(1) },
            view: View::Detail,
            count: false,
            scope: None,
        };
        let got = listed(&ctx("/v2.1"), q, page(&["z~1"], true));
        assert_eq!(
            got["images_links"],
            json!([{"rel": "next", "href": "http://gw/v2.1/images/detail?changes-since=2011-01-01T01%3A02%3A03Z&limit=1&marker=z~1&minDisk=2&minRam=512&name=a+b%26c&server=s%2F1&status=ACTIVE&type=snapshot"}])
        );
    }

    #[test]
    fn no_next_link_without_more_or_images() {
        let got = listed(&ctx("/v2/p"), ListQuery::default(), page(&["a"], false));
        assert!(got.get("images_links").is_none());
        let got = listed(&ctx("/v2/p"), ListQuery::default(), page(&[], true));
        assert_eq!(got, json!({"images": []}));
    }

    #[test]
    fn next_link_without_a_limit_carries_only_the_marker() {
        let got = listed(&ctx("/v2/p"), ListQuery::default(), page(&["a"], true));
        assert_eq!(got["images_links"][0]["href"], "http://gw/v2/p/images/detail?marker=a");
    }

    #[test]
    fn images_outcome_renders_as_a_detail_list() {
        let images = vec![foreign()];
        let got = body(outcome(&ctx("/v2/p"), &ImageOp::Show(ImageId::new("42")), &Outcome::Images(images)));
        assert_eq!(got["images"][0]["minRam"], 512);
        assert_eq!(got.as_object().unwrap().len(), 1);
    }

    fn rendered(kind: ErrorKind, message: &'static str) -> (StatusCode, HeaderMap, Value) {
        let reply = error(&ctx("/v2/p"), &GatewayError::new(kind, Side::Upstream, message));
        (reply.status(), reply.headers().clone(), body(reply))
    }

    use http::HeaderMap;

    #[test]
    fn every_error_kind_renders_as_a_nova_fault() {
        let not_found = |resource, id: &str| ErrorKind::NotFound { resource, id: id.to_owned() };
        let cases = [
            (not_found(Resource::Image, "x"), 404, "itemNotFound", "Image not found."),
            (not_found(Resource::Image, ""), 404, "itemNotFound", "The resource could not be found."),
            (not_found(Resource::Route, "/v2/p/x"), 404, "itemNotFound", "The resource could not be found."),
            (ErrorKind::BadRequest, 400, "badRequest", "boom"),
            (ErrorKind::Forbidden, 403, "forbidden", "boom"),
            (ErrorKind::Conflict, 409, "conflictingRequest", "boom"),
            (ErrorKind::MethodNotAllowed, 405, "badMethod", "boom"),
            (ErrorKind::UnsupportedMediaType, 415, "badMediaType", "boom"),
            (ErrorKind::PayloadTooLarge, 413, "overLimit", "boom"),
            (ErrorKind::RateLimited { retry_after: None }, 429, "overLimit", "boom"),
            (ErrorKind::UpstreamUnavailable, 503, "serviceUnavailable", "the service is temporarily unavailable"),
            (ErrorKind::UpstreamTimeout, 504, "computeFault", "the upstream service did not answer in time"),
            (ErrorKind::UpstreamProtocol, 502, "computeFault", "the upstream service gave an invalid response"),
            (ErrorKind::Internal, 500, "computeFault", "the server could not finish the request"),
        ];
        for (kind, code, fault, message) in cases {
            let (status, headers, got) = rendered(kind.clone(), "boom");
            assert_eq!(status.as_u16(), code, "{kind:?}");
            assert_eq!(headers[header::CONTENT_TYPE], FAULT_CONTENT_TYPE, "{kind:?}");
            assert!(headers.get(header::RETRY_AFTER).is_none(), "{kind:?}");
            assert_eq!(got, json!({fault: {"code": code, "message": message}}), "{kind:?}");
        }
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let (status, headers, got) =
            rendered(ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) }, "slow down");
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "30");
        assert_eq!(got, json!({"overLimit": {"code": 429, "message": "slow down", "retryAfter": "30"}}));
        let (_, headers, got) =
            rendered(ErrorKind::RateLimited { retry_after: Some(Duration::from_millis(1500)) }, "x");
        assert_eq!(headers[header::RETRY_AFTER], "2");
        assert_eq!(got["overLimit"]["retryAfter"], "2");
    }

    #[test]
    fn unsupported_names_the_operation_and_backend() {
        let reply = error(&ctx("/v2/p"), &GatewayError::unsupported("get many images", "hostway"));
        assert_eq!(reply.status(), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(
            body(reply),
            json!({"notImplemented": {"code": 501, "message": "get many images is not supported by the hostway backend"}})
        );
    }

    #[test]
    fn unauthorized_is_keystonemiddlewares() {
        let (status, headers, got) = rendered(ErrorKind::Unauthorized, "bad token");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Keystone uri=\"http://gw/v3\"");
        assert_eq!(
            got,
            json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
        );
    }

    #[test]
    fn version_links_follow_the_origin() {
        let got = body(versions(&EdgeCtx::new(Dialect::OpenStack, "https://api:8774")));
        assert_eq!(got["versions"][0]["links"][0]["href"], "https://api:8774/v2/");
        assert_eq!(got["versions"][1]["links"][0]["href"], "https://api:8774/v2.1/");
        let got = body(version(&EdgeCtx::new(Dialect::OpenStack, "https://api:8774"), ApiVersion::V21));
        assert_eq!(got["version"]["links"][0]["href"], "https://api:8774/v2.1/");
    }

    fn raw(reply: Reply) -> (StatusCode, HeaderMap, Bytes) {
        let status = reply.status();
        let headers = reply.headers().clone();
        (status, headers, reply.into_body().collect().now_or_never().unwrap().unwrap().to_bytes())
    }

    fn write(c: &EdgeCtx, op: WriteOp, outcome: Outcome) -> Reply {
        super::outcome(c, &ImageOp::Write(op), &outcome)
    }

    fn deleted() -> Image {
        Image { status: ImageStatus::Deleted, ..foreign() }
    }

    #[test]
    fn deletes_answer_204_with_nothing_whatever_the_backend_showed() {
        let delete = WriteOp::Delete { id: ImageId::new("42"), trash: false };
        let item = WriteOp::DeleteMetadataItem { id: ImageId::new("42"), key: "k".to_owned() };
        for (op, outcome) in [
            (delete.clone(), Outcome::Image(deleted())),
            (delete, Outcome::Done),
            (item.clone(), Outcome::Done),
            (item, Outcome::Metadata(Default::default())),
        ] {
            let (status, headers, bytes) = raw(write(&ctx("/v2/p"), op, outcome));
            assert_eq!(status, StatusCode::NO_CONTENT);
            assert_eq!(headers[header::CONTENT_TYPE], "application/json");
            assert!(bytes.is_empty());
        }
    }

    fn items(pairs: &[(&str, &str)]) -> crate::model::Metadata {
        pairs.iter().map(|(k, v)| ((*k).into(), Value::from(*v))).collect()
    }

    #[test]
    fn metadata_writes_render_the_form_the_request_used() {
        let all = items(&[("Label", "x"), ("kernel_id", "False")]);
        let set = WriteOp::SetMetadata { id: ImageId::new("42"), items: all.clone(), replace: false };
        let mut c = ctx("/v2/p");
        c.item = Some(Item::Metadata);
        let reply = write(&c, set.clone(), Outcome::Metadata(all.clone()));
        assert_eq!(reply.status(), StatusCode::OK);
        assert_eq!(body(reply), json!({"metadata": {"Label": "x", "kernel_id": "False"}}));

        let one = WriteOp::SetMetadataItem { id: ImageId::new("42"), key: "Label".to_owned(), value: "x".into() };
        c.item = Some(Item::MetadataKey("Label".to_owned()));
        assert_eq!(
            body(write(&c, one.clone(), Outcome::Metadata(items(&[("Label", "x")])))),
            json!({"meta": {"Label": "x"}})
        );
        // a backend that answers with all the metadata still shows the one item
        assert_eq!(body(write(&c, one, Outcome::Metadata(all))), json!({"meta": {"Label": "x"}}));
        // a backend that answers with the image shows its metadata
        c.item = Some(Item::Metadata);
        assert_eq!(
            body(write(&c, set, Outcome::Image(foreign()))),
            json!({"metadata": {"architecture": "32-bit", "description": "a base image", "image_type": "snapshot", "os_distro": "CentOS 5.3"}})
        );
    }

    fn snapshot() -> WriteOp {
        WriteOp::Snapshot(crate::model::Snapshot { server_id: "srv".into(), name: "n".into(), ..Default::default() })
    }

    #[test]
    fn create_image_up_to_2_44_answers_with_a_location() {
        let mut c = ctx("/v2/p");
        c.call = EdgeCall::OpenStack(NovaMethod::CreateImage);
        let image = Image { id: ImageId::new("0e77 61/dd"), ..foreign() };
        let (status, headers, bytes) = raw(write(&c, snapshot(), Outcome::Image(image)));
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(headers[header::LOCATION], "http://gw/v2/p/images/0e77%2061%2Fdd");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert!(bytes.is_empty());
    }

    #[test]
    fn create_image_from_2_45_answers_with_the_id() {
        let mut c = ctx("/v2.1");
        c.call = EdgeCall::OpenStack(NovaMethod::CreateImageWithId);
        let image = Image { id: ImageId::new("0e7761dd-ee98-41f0-ba35-05994e446431"), ..foreign() };
        let reply = write(&c, snapshot(), Outcome::Image(image));
        assert_eq!(reply.status(), StatusCode::ACCEPTED);
        assert!(reply.headers().get(header::LOCATION).is_none());
        assert_eq!(body(reply), json!({"image_id": "0e7761dd-ee98-41f0-ba35-05994e446431"}));
    }

    #[test]
    fn a_snapshot_without_its_image_is_an_internal_error() {
        let reply = write(&ctx("/v2/p"), snapshot(), Outcome::Done);
        assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body(reply)["computeFault"]["code"], 500);
    }

    #[test]
    fn write_not_founds_use_novas_words() {
        let not_found = |resource, id: &str| ErrorKind::NotFound { resource, id: id.to_owned() };
        let (status, _, got) = rendered(not_found(Resource::MetadataItem, "k"), "image 1 has no metadata item k");
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(got, json!({"itemNotFound": {"code": 404, "message": "Invalid metadata key"}}));
        let (_, _, got) = rendered(not_found(Resource::Server, "srv-1"), "server srv-1 not found");
        assert_eq!(got, json!({"itemNotFound": {"code": 404, "message": "Instance srv-1 could not be found."}}));
    }

    #[test]
    fn done_answers_204() {
        let (status, headers, bytes) = raw(outcome(&ctx(""), &ImageOp::Show(ImageId::new("x")), &Outcome::Done));
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert!(bytes.is_empty());
    }
}
