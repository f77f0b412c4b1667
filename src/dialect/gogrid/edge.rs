//! The edge: GoGrid clients calling us.

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header, request::Parts};

use super::boolean::boolean;
use super::envelope::{Failure, Summary};
use super::image::{ImageView, state_named, type_named};
use super::{ApiMethod, csv, json, write, xml};
use crate::dialect::reply::reply;
use crate::dialect::write_retry_after;
use crate::dialect::{Dialect, EdgeCall, EdgeCtx, EdgeRequest, Format, Outcome, Query, Reply, text_reply};
use crate::model::{
    ErrorKind, Filter, GatewayError, GetMany, Image, ImageOp, ListPage, ListQuery, LookupKey, PageRequest, PageStart,
    Resource, Shown, ShownName, Side, View, WriteGuard,
};

/// API versions GoGrid published; features are not gated by version.
const VERSIONS: [&str; 10] = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9"];

/// The get parameters, of which exactly one kind may be given.
const LOOKUPS: [(&str, LookupKey); 3] =
    [("id", LookupKey::Id), ("name", LookupKey::Name), ("image", LookupKey::IdOrName)];

pub(super) fn claims(path: &str) -> bool {
    path == "/api/grid" || path.starts_with("/api/grid/")
}

pub(super) fn context(parts: &Parts, origin: &str) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(Dialect::GoGrid, origin);
    ctx.prefix = "/api".to_owned();
    ctx.call = ApiMethod::from_path(parts.uri.path()).map_or(EdgeCall::None, EdgeCall::GoGrid);
    ctx.format = format_named(Query::of(&parts.uri).get("format")).unwrap_or_default();
    ctx
}

pub(super) fn decode(ctx: &mut EdgeCtx, parts: &Parts, body: &Bytes) -> Result<EdgeRequest, GatewayError> {
    let path = parts.uri.path();
    let method = ApiMethod::from_path(path).ok_or_else(|| unknown_method(path))?;
    let params = parameters(parts, body)?;
    ctx.format = format_param(&params)?;
    check_version(&params)?;
    let op = match method {
        ApiMethod::List => list_op(&params)?,
        ApiMethod::Get => get_op(&params)?,
        write if parts.method == Method::HEAD => return Err(head_cannot_write(write)),
        write => {
            let op = write::decode(write, &params)?;
            if let Some(name) = write::target_name(&params) {
                let by_name = Some((name, ShownName(shows_name)));
                ctx.guard = Some(Box::new(WriteGuard { by_name, ..WriteGuard::default() }));
            }
            ImageOp::Write(op)
        }
    };
    Ok(EdgeRequest::Op(op))
}

fn unknown_method(path: &str) -> GatewayError {
    let method = path.strip_prefix("/api").unwrap_or(path);
    let message = format!("{method} is not a gogrid api method");
    GatewayError::new(
        ErrorKind::NotFound { resource: Resource::Route, id: method.to_owned() },
        Side::Downstream,
        message,
    )
}

/// A HEAD request only reads: the write methods take GET or POST.
fn head_cannot_write(method: ApiMethod) -> GatewayError {
    let message = format!("method HEAD is not allowed for {}: use GET or POST", method.name());
    GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, message)
}

/// The query string, plus the form body of a POST: the one rule of what a
/// GoGrid request's parameters are, for its authentication and its edge.
pub(crate) fn parameters(parts: &Parts, body: &[u8]) -> Result<Query, GatewayError> {
    let mut params = Query::of(&parts.uri);
    match parts.method {
        Method::GET | Method::HEAD => {}
        Method::POST => {
            if !body.is_empty() && !is_form(parts.headers.get(header::CONTENT_TYPE)) {
                return Err(GatewayError::new(
                    ErrorKind::UnsupportedMediaType,
                    Side::Downstream,
                    "post parameters must be form-encoded (application/x-www-form-urlencoded)",
                ));
            }
            params.extend_form(body);
        }
        ref other => {
            let message = format!("method {other} is not allowed: the gogrid api takes GET and POST");
            return Err(GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, message));
        }
    }
    Ok(params)
}

/// A missing content type is taken as a form, as GoGrid's own servlet does.
fn is_form(content_type: Option<&HeaderValue>) -> bool {
    content_type.is_none_or(|v| {
        v.to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    })
}

/// `format`: json (the default), xml or csv, in any case.
fn format_named(value: Option<&str>) -> Option<Format> {
    match value {
        None => Some(Format::Json),
        Some(v) if v.eq_ignore_ascii_case("json") => Some(Format::Json),
        Some(v) if v.eq_ignore_ascii_case("xml") => Some(Format::Xml),
        Some(v) if v.eq_ignore_ascii_case("csv") => Some(Format::Csv),
        Some(_) => None,
    }
}

fn format_param(params: &Query) -> Result<Format, GatewayError> {
    let value = params.get("format");
    format_named(value).ok_or_else(|| {
        GatewayError::bad_request(format!(
            "invalid format parameter: {}: use json, xml or csv",
            value.unwrap_or_default()
        ))
    })
}

fn check_version(params: &Query) -> Result<(), GatewayError> {
    match params.get("v") {
        None => Err(GatewayError::bad_request("missing required parameter v (the api version)")),
        Some(v) if VERSIONS.contains(&v) => Ok(()),
        Some(v) => Err(GatewayError::bad_request(format!("unsupported api version {v}: use 1.0 to 1.9"))),
    }
}

/// The first value of the first of `names` that is given.
fn first_of<'q>(params: &'q Query, names: &[&'static str]) -> Option<(&'static str, &'q str)> {
    names.iter().find_map(|&name| params.get(name).map(|v| (name, v)))
}

fn list_op(params: &Query) -> Result<ImageOp, GatewayError> {
    // isPublic, state and type judge the image as this edge shows it
    let mut filter = Filter::default();
    if let Some(public) = params.get("isPublic") {
        let public = boolean("isPublic", public)?;
        filter.shown.push(Shown::new("isPublic", public.to_string(), shows_public));
    }
    if let Some((name, state)) = first_of(params, &["image.state", "state"]) {
        filter.shown.push(Shown::new("state", state_filter(name, state)?, shows_state));
    }
    if let Some((name, kind)) = first_of(params, &["image.type", "type"]) {
        let kind = type_named(kind).ok_or_else(|| invalid(name, kind, "expected Web Server or Database Server"))?;
        filter.shown.push(Shown::new("type", kind.name, shows_type));
    }
    if let Some(datacenter) = params.get("datacenter") {
        if datacenter.is_empty() {
            return Err(GatewayError::bad_request("empty datacenter parameter"));
        }
        filter.zone = Some(datacenter.to_owned());
    }
    let page = page_request(params)?;
    Ok(ImageOp::List(ListQuery { filter, sort: None, page, view: View::Detail, count: true, scope: None }))
}

fn invalid(name: &str, value: &str, hint: &str) -> GatewayError {
    GatewayError::bad_request(format!("invalid {name} parameter: {value}: {hint}"))
}

/// A state name, in GoGrid's spelling.
fn state_filter(name: &str, state: &str) -> Result<&'static str, GatewayError> {
    state_named(state)
        .map(|(choice, _)| choice.name)
        .ok_or_else(|| invalid(name, state, "expected Saving, Available, Deleted, Trash or Migrating"))
}

/// The image shows `name` as its unique name.
fn shows_name(image: &Image, name: &str) -> bool {
    ImageView::new(image, None).name == name
}

/// The image shows `isPublic` as `public` (`true` or `false`).
fn shows_public(image: &Image, public: &str) -> bool {
    ImageView::new(image, None).is_public.to_string() == public
}

/// The image shows the state option named `state`.
fn shows_state(image: &Image, state: &str) -> bool {
    ImageView::new(image, None).state.name == state
}

/// The image shows the type option named `kind`.
fn shows_type(image: &Image, kind: &str) -> bool {
    ImageView::new(image, None).kind.name == kind
}

/// `num_items` (page size) and `page` (0-based, ignored without `num_items`).
fn page_request(params: &Query) -> Result<PageRequest, GatewayError> {
    let page = params.usize("page")?;
    match params.usize("num_items")? {
        None => Ok(PageRequest::default()),
        Some(0) => Err(invalid("num_items", "0", "expected a page size of at least 1")),
        Some(size) => {
            let offset = page
                .unwrap_or(0)
                .checked_mul(size)
                .ok_or_else(|| GatewayError::bad_request("page parameter out of range"))?;
            Ok(PageRequest { start: PageStart::Offset(offset), limit: Some(size) })
        }
    }
}

fn get_op(params: &Query) -> Result<ImageOp, GatewayError> {
    let mut given = LOOKUPS.iter().map(|&(name, key)| (name, key, params.all(name))).filter(|(_, _, v)| !v.is_empty());
    let (name, key, values) =
        given.next().ok_or_else(|| GatewayError::bad_request("one of the id, name or image parameters is required"))?;
    if given.next().is_some() {
        return Err(GatewayError::bad_request("the id, name and image parameters cannot be mixed in one call"));
    }
    if values.iter().any(|v| v.is_empty()) {
        return Err(GatewayError::bad_request(format!("empty {name} parameter")));
    }
    let values = values.into_iter().map(str::to_owned).collect();
    // names are the unique names this edge shows
    Ok(ImageOp::GetMany(GetMany { key, values, shown_name: Some(ShownName(shows_name)) }))
}

// ---------------------------------------------------------------------------
// Replies

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json",
        Format::Xml => "application/xml",
        Format::Csv => "text/csv",
    }
}

fn rendered(status: StatusCode, format: Format, body: std::io::Result<Vec<u8>>) -> Reply {
    match body {
        Ok(body) => reply(status, content_type(format), body),
        Err(_) => text_reply(StatusCode::INTERNAL_SERVER_ERROR, "the server could not render the reply"),
    }
}

/// The method a reply names: the one called, or the one `op` stands for.
fn reply_method(ctx: &EdgeCtx, op: &ImageOp) -> ApiMethod {
    match (called(ctx), op) {
        (Some(method), _) => method,
        (None, ImageOp::List(_)) => ApiMethod::List,
        (None, ImageOp::Write(write)) => write::method_of(write).unwrap_or(ApiMethod::Get),
        (None, _) => ApiMethod::Get,
    }
}

/// The method the caller called, when its path names one.
fn called(ctx: &EdgeCtx) -> Option<ApiMethod> {
    match ctx.call {
        EdgeCall::GoGrid(method) => Some(method),
        _ => None,
    }
}

pub(super) fn encode(ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> Reply {
    let method = reply_method(ctx, op);
    let (images, summary) = match &outcome {
        Outcome::Image(image) => (std::slice::from_ref(image), Summary::whole(1)),
        Outcome::Images(images) => (images.as_slice(), Summary::whole(images.len())),
        Outcome::List(page) => (page.images.as_slice(), list_summary(page, op)),
        Outcome::Metadata(_) | Outcome::Done => {
            let err = GatewayError::internal(format!("{} has no gogrid rendering", op.name()));
            return failure(ctx.format, method.name(), &Failure::of(&err));
        }
    };
    if images.is_empty() && !matches!(op, ImageOp::List(_)) {
        return failure(ctx.format, method.name(), &Failure::no_object_found());
    }
    success(ctx, method, summary, images)
}

fn success(ctx: &EdgeCtx, called: ApiMethod, summary: Summary, images: &[Image]) -> Reply {
    let format = ctx.format;
    let (method, object) = (called.name(), called.object());
    let views: Vec<ImageView<'_>> = images.iter().map(|image| ImageView::new(image, ctx.caller.as_deref())).collect();
    let body = match format {
        Format::Json => Ok(json::success(method, object, summary, &views)),
        Format::Xml => Ok(xml::success(method, object, summary, &views)),
        Format::Csv => csv::success(method, summary, &views),
    };
    rendered(StatusCode::OK, format, body)
}

/// `start` is the page's offset; `total` the matching count (or what the
/// page proves: its end, plus one when more follow); `numpages` is 0 unless
/// the caller asked for pages (`num_items`).
fn list_summary(page: &ListPage, op: &ImageOp) -> Summary {
    let requested = match op {
        ImageOp::List(q) => &q.page,
        _ => &PageRequest { start: PageStart::First, limit: None },
    };
    let returned = page.images.len();
    let start = page.offset.unwrap_or(match requested.start {
        PageStart::Offset(n) => n,
        PageStart::First | PageStart::After(_) => 0,
    });
    let total = page.matched.unwrap_or(start + returned + usize::from(page.more));
    let numpages = requested.limit.filter(|&n| n > 0).map_or(0, |n| total.div_ceil(n));
    Summary { numpages, returned, start, total }
}

pub(super) fn encode_error(ctx: &EdgeCtx, err: &GatewayError) -> Reply {
    let mut reply = failure(ctx.format, called(ctx).map_or("", ApiMethod::name), &Failure::of(err));
    write_retry_after(reply.headers_mut(), &err.kind);
    reply
}

fn failure(format: Format, method: &str, failure: &Failure<'_>) -> Reply {
    let body = match format {
        Format::Json => json::failure(method, failure).map_err(Into::into),
        Format::Xml => Ok(xml::failure(method, failure)),
        Format::Csv => csv::failure(method, failure),
    };
    rendered(failure.status, format, body)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::BodyExt;
    use serde_json::{Value, json};

    use super::*;
    use crate::model::{ImageId, ImagePatch, ImageStatus, Snapshot, WriteOp};

    fn parts(method: &str, uri: &str, content_type: Option<&str>) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn decode_with(
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (EdgeCtx, Result<ImageOp, GatewayError>) {
        let parts = parts(method, uri, content_type);
        let mut ctx = context(&parts, "http://gw");
        let op = decode(&mut ctx, &parts, &Bytes::from(body.to_owned())).map(|request| match request {
            EdgeRequest::Op(op) => op,
            EdgeRequest::Local(_) => panic!("no local replies"),
        });
        (ctx, op)
    }

    fn op(uri: &str) -> ImageOp {
        decode_with("GET", uri, None, "").1.unwrap()
    }

    fn error(uri: &str) -> GatewayError {
        decode_with("GET", uri, None, "").1.unwrap_err()
    }

    fn list(filter: Filter, page: PageRequest) -> ImageOp {
        ImageOp::List(ListQuery { filter, sort: None, page, view: View::Detail, count: true, scope: None })
    }

    fn body(reply: Reply) -> (StatusCode, String, String) {
        let status = reply.status();
        let content_type = reply.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        let bytes = futures_util::FutureExt::now_or_never(reply.into_body().collect()).unwrap().unwrap().to_bytes();
        (status, content_type, String::from_utf8(bytes.to_vec()).unwrap())
    }

    fn json_body(reply: Reply) -> (StatusCode, Value) {
        let (status, content_type, text) = body(reply);
        assert_eq!(content_type, "application/json");
        (status, serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn claims_only_the_grid_api() {
        for path in ["/api/grid/image/list", "/api/grid/image/get", "/api/grid/server/list", "/api/grid"] {
            assert!(claims(path), "{path}");
        }
        for path in ["/api/compute_resources/1/images", "/api/gridx", "/grid/image/list", "/v2/p/images"] {
            assert!(!claims(path), "{path}");
        }
    }

    #[test]
    fn context_names_the_method_and_format() {
        let ctx = context(&parts("GET", "/api/grid/image/get?id=1&format=XML", None), "http://gw");
        assert_eq!(
            (ctx.call, ctx.format, ctx.prefix.as_str()),
            (EdgeCall::GoGrid(ApiMethod::Get), Format::Xml, "/api")
        );
        let ctx = context(&parts("GET", "/api/grid/nothing?format=yaml", None), "http://gw");
        assert_eq!((ctx.call, ctx.format), (EdgeCall::None, Format::Json));
    }

    #[test]
    fn list_without_parameters_lists_everything() {
        assert_eq!(op("/api/grid/image/list?v=1.9"), list(Filter::default(), PageRequest::default()));
    }

    #[test]
    fn list_filters() {
        let expected = Filter {
            zone: Some("US-West-1".into()),
            shown: vec![
                Shown::new("isPublic", "true", shows_public),
                Shown::new("state", "Available", shows_state),
                Shown::new("type", "Web Server", shows_type),
            ],
            ..Filter::default()
        };
        let jclouds = "/api/grid/image/list?v=1.5&isPublic=true&image.state=Available&image.type=Web%20Server&datacenter=US-West-1";
        assert_eq!(op(jclouds), list(expected.clone(), PageRequest::default()));
        let wiki = "/api/grid/image/list?v=1.0&isPublic=TRUE&state=available&type=web+server&datacenter=US-West-1";
        assert_eq!(op(wiki), list(expected, PageRequest::default()));
    }

    #[test]
    fn list_state_names() {
        for (name, state) in
            [("Saving", "Saving"), ("Migrating", "Migrating"), ("Available", "Available"), ("TRASH", "Trash")]
        {
            let filter = Filter { shown: vec![Shown::new("state", state, shows_state)], ..Filter::default() };
            assert_eq!(op(&format!("/api/grid/image/list?v=1.9&state={name}")), list(filter, PageRequest::default()));
        }
    }

    #[test]
    fn names_are_the_unique_names_this_edge_shows() {
        let ImageOp::GetMany(get) = op("/api/grid/image/get?v=1.9&name=GSI-1") else { panic!() };
        let shows = get.shown_name.expect("a name lookup judges the shown name");
        let mut saved = Image { name: "nightly".into(), ..Image::default() };
        saved.extra.insert("gogrid.name".into(), "GSI-1".into());
        assert!(shows.matches(&saved, "GSI-1"));
        assert!(!shows.matches(&saved, "nightly"), "friendlyName is not the name");
        let foreign = Image { name: "fakeimage7".into(), ..Image::default() };
        assert!(shows.matches(&foreign, "fakeimage7"), "an image without a system name shows its display name");
    }

    #[test]
    fn filters_judge_what_the_image_shows() {
        let filter = |query: &str| match op(&format!("/api/grid/image/list?v=1.9&{query}")) {
            ImageOp::List(q) => q.filter,
            other => panic!("{other:?}"),
        };
        // an image that says nothing of its visibility shows isPublic false
        let foreign = Image { public: None, ..Image::default() };
        assert!(filter("isPublic=false").matches(&foreign));
        assert!(!filter("isPublic=true").matches(&foreign));
        // and shows type Web Server, the default option
        assert!(filter("type=Web%20Server").matches(&foreign));
        assert!(!filter("type=Database+Server").matches(&foreign));
        let trashed = Image { status: ImageStatus::Trashed, ..Image::default() };
        assert!(filter("state=Trash").matches(&trashed));
        assert!(!filter("state=Deleted").matches(&trashed));
    }

    #[test]
    fn list_pages() {
        let page = |start, limit| PageRequest { start: PageStart::Offset(start), limit: Some(limit) };
        assert_eq!(op("/api/grid/image/list?v=1.9&num_items=5&page=2"), list(Filter::default(), page(10, 5)));
        assert_eq!(op("/api/grid/image/list?v=1.9&num_items=5"), list(Filter::default(), page(0, 5)));
        assert_eq!(op("/api/grid/image/list?v=1.9&page=3"), list(Filter::default(), PageRequest::default()));
    }

    #[test]
    fn list_rejects_bad_values() {
        for (query, message) in [
            ("isPublic=yes", "invalid isPublic parameter: yes: expected true or false"),
            (
                "image.state=Gone",
                "invalid image.state parameter: Gone: expected Saving, Available, Deleted, Trash or Migrating",
            ),
            ("type=Mail%20Server", "invalid type parameter: Mail Server: expected Web Server or Database Server"),
            ("datacenter=", "empty datacenter parameter"),
            ("num_items=0", "invalid num_items parameter: 0: expected a page size of at least 1"),
            ("num_items=-1", "invalid num_items parameter: -1"),
            ("num_items=5&page=x", "invalid page parameter: x"),
            ("num_items=1000&page=99999999999999999999", "invalid page parameter: 99999999999999999999"),
            ("num_items=100000&page=999999999999999999", "page parameter out of range"),
        ] {
            let err = error(&format!("/api/grid/image/list?v=1.9&{query}"));
            assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, message), "{query}");
        }
    }

    #[test]
    fn get_takes_one_kind_of_lookup() {
        let get = |key, values: &[&str]| {
            ImageOp::GetMany(GetMany {
                key,
                values: values.iter().map(|v| v.to_string()).collect(),
                shown_name: Some(ShownName(shows_name)),
            })
        };
        assert_eq!(op("/api/grid/image/get?v=1.3&id=19283"), get(LookupKey::Id, &["19283"]));
        assert_eq!(
            op("/api/grid/image/get?v=1.3&name=GSI-kdf39-khdf94-JHfk3"),
            get(LookupKey::Name, &["GSI-kdf39-khdf94-JHfk3"])
        );
        assert_eq!(
            op("/api/grid/image/get?v=1.3&image=65413&image=32165&image=45672&image=35168"),
            get(LookupKey::IdOrName, &["65413", "32165", "45672", "35168"])
        );
    }

    #[test]
    fn get_rejects_mixed_missing_and_empty_lookups() {
        for (query, message) in [
            ("id=1&name=a", "the id, name and image parameters cannot be mixed in one call"),
            ("image=1&name=a", "the id, name and image parameters cannot be mixed in one call"),
            ("", "one of the id, name or image parameters is required"),
            ("id=1&id=", "empty id parameter"),
        ] {
            let err = error(&format!("/api/grid/image/get?v=1.3&{query}"));
            assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, message), "{query}");
        }
    }

    #[test]
    fn every_published_version_and_no_other() {
        for v in VERSIONS {
            assert!(decode_with("GET", &format!("/api/grid/image/list?v={v}"), None, "").1.is_ok(), "{v}");
        }
        for (query, message) in [
            ("", "missing required parameter v (the api version)"),
            ("v=2.0", "unsupported api version 2.0: use 1.0 to 1.9"),
            ("v=1", "unsupported api version 1: use 1.0 to 1.9"),
        ] {
            let err = error(&format!("/api/grid/image/list?{query}"));
            assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, message), "{query}");
        }
    }

    #[test]
    fn format_parameter() {
        let (ctx, _) = decode_with("GET", "/api/grid/image/list?v=1.9&format=csv", None, "");
        assert_eq!(ctx.format, Format::Csv);
        let (ctx, result) = decode_with("GET", "/api/grid/image/list?v=1.9&format=yaml", None, "");
        assert_eq!(ctx.format, Format::Json);
        assert_eq!(result.unwrap_err().message, "invalid format parameter: yaml: use json, xml or csv");
    }

    #[test]
    fn post_reads_the_form_body() {
        let form = "v=1.9&format=xml&image=1&image=abc%20d";
        let (ctx, result) =
            decode_with("POST", "/api/grid/image/get", Some("application/x-www-form-urlencoded; charset=UTF-8"), form);
        assert_eq!(ctx.format, Format::Xml);
        assert_eq!(
            result.unwrap(),
            ImageOp::GetMany(GetMany {
                key: LookupKey::IdOrName,
                values: vec!["1".into(), "abc d".into()],
                shown_name: Some(ShownName(shows_name))
            })
        );
        let (_, result) = decode_with("POST", "/api/grid/image/list", None, "v=1.9&num_items=2");
        assert_eq!(
            result.unwrap(),
            list(Filter::default(), PageRequest { start: PageStart::Offset(0), limit: Some(2) })
        );
    }

    #[test]
    fn post_with_another_body_type_is_unsupported_media() {
        let (_, result) = decode_with("POST", "/api/grid/image/list", Some("application/json"), r#"{"v":"1.9"}"#);
        assert_eq!(result.unwrap_err().kind, ErrorKind::UnsupportedMediaType);
    }

    #[test]
    fn other_http_methods_are_not_allowed() {
        for method in ["PUT", "DELETE", "PATCH"] {
            let (_, result) = decode_with(method, "/api/grid/image/list?v=1.9", None, "");
            assert_eq!(result.unwrap_err().kind, ErrorKind::MethodNotAllowed, "{method}");
        }
        assert!(decode_with("HEAD", "/api/grid/image/list?v=1.9", None, "").1.is_ok());
    }

    #[test]
    fn writes_decode_from_the_query_or_a_form() {
        // jclouds: everything in the query string of a GET
        assert_eq!(
            op("/api/grid/image/save?v=1.5&friendlyName=friendly&server=serverName&description=fooy"),
            ImageOp::Write(WriteOp::Snapshot(Snapshot {
                server_id: "serverName".into(),
                name: "friendly".into(),
                description: Some("fooy".into()),
                ..Snapshot::default()
            }))
        );
        assert_eq!(
            op("/api/grid/image/delete?v=1.5&id=11"),
            ImageOp::Write(WriteOp::Delete { id: ImageId::new("11"), trash: true })
        );
        // libcloud: a form POST with the signature in the query
        let (ctx, result) = decode_with(
            "POST",
            "/api/grid/image/save?api_key=k&sig=s&v=1.8&format=json",
            Some("application/x-www-form-urlencoded"),
            "server=1234&friendlyName=testimage",
        );
        assert_eq!(ctx.call, EdgeCall::GoGrid(ApiMethod::Save));
        assert_eq!(
            result.unwrap(),
            ImageOp::Write(WriteOp::Snapshot(Snapshot {
                server_id: "1234".into(),
                name: "testimage".into(),
                ..Snapshot::default()
            }))
        );
        assert_eq!(
            op("/api/grid/image/edit?v=1.8&id=5050&isPublic=true&description=d&friendlyName=f"),
            ImageOp::Write(WriteOp::Update {
                id: ImageId::new("5050"),
                patch: ImagePatch {
                    name: Some("f".into()),
                    description: Some("d".into()),
                    public: Some(true),
                    ..ImagePatch::default()
                }
            })
        );
        assert_eq!(
            op("/api/grid/image/restore?v=1.3&image=195"),
            ImageOp::Write(WriteOp::Restore(ImageId::new("195")))
        );
    }

    #[test]
    fn write_refusals_are_illegal_arguments() {
        let err = error("/api/grid/image/save?v=1.9&server=1");
        assert_eq!(
            (err.kind.clone(), err.message.as_ref()),
            (ErrorKind::BadRequest, "missing required parameter friendlyName")
        );
        let ctx = ctx("/grid/image/save", Format::Json);
        let (status, body) = json_body(encode_error(&ctx, &err));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"list": [{"object": "error", "message": "missing required parameter friendlyName", "errorcode": "IllegalArgumentException"}],
                   "summary": {"total": 1, "start": 0, "returned": 1}, "status": "failure", "method": "/grid/image/save"})
        );
        // the version is checked before the write's own parameters
        assert_eq!(error("/api/grid/image/delete?id=1").message, "missing required parameter v (the api version)");
    }

    #[test]
    fn head_never_writes() {
        for name in ["save", "edit", "delete", "restore"] {
            let (_, result) = decode_with("HEAD", &format!("/api/grid/image/{name}?v=1.9&id=1"), None, "");
            let err = result.unwrap_err();
            assert_eq!(err.kind, ErrorKind::MethodNotAllowed, "{name}");
            assert_eq!(err.message, format!("method HEAD is not allowed for /grid/image/{name}: use GET or POST"));
        }
    }

    #[test]
    fn unknown_methods_are_not_found() {
        let err = error("/api/grid/server/list?v=1.9");
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Route, id: "/grid/server/list".into() });
        let ctx = context(&parts("GET", "/api/grid/server/list", None), "http://gw");
        let (status, body) = json_body(encode_error(&ctx, &err));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            json!({"list": [{"object": "error", "message": "/grid/server/list is not a gogrid api method", "errorcode": "NotFound"}],
                   "summary": {"total": 1, "start": 0, "returned": 1}, "status": "failure"})
        );
    }

    /// A context for a call of `method`, by its name; `""` for none.
    fn ctx(method: &'static str, format: Format) -> EdgeCtx {
        let mut ctx = EdgeCtx::new(Dialect::GoGrid, "http://gw");
        ctx.call = ApiMethod::named(method).map_or(EdgeCall::None, EdgeCall::GoGrid);
        ctx.format = format;
        ctx
    }

    fn image(id: &str) -> Image {
        Image { id: ImageId::new(id), name: format!("image {id}").into(), ..Image::default() }
    }

    #[test]
    fn list_replies_carry_the_page_summary() {
        let op = list(Filter::default(), PageRequest { start: PageStart::Offset(10), limit: Some(5) });
        let page = ListPage {
            images: vec![image("1"), image("2")],
            offset: Some(10),
            matched: Some(39),
            total: None,
            more: true,
        };
        let (status, body) = json_body(encode(&ctx("/grid/image/list", Format::Json), &op, Outcome::List(page)));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["summary"], json!({"numpages": 8, "returned": 2, "start": 10, "total": 39}));
        assert_eq!(body["status"], json!("success"));
        assert_eq!(body["method"], json!("/grid/image/list"));
        assert_eq!(body["list"][1]["object"], json!("serverimage"));
        assert_eq!(body["list"][1]["id"], json!(2));
    }

    #[test]
    fn list_summaries_without_counts() {
        let op = list(Filter::default(), PageRequest { start: PageStart::Offset(4), limit: Some(2) });
        let page =
            ListPage { images: vec![image("1"), image("2")], offset: None, matched: None, total: None, more: true };
        let (_, body) = json_body(encode(&ctx("/grid/image/list", Format::Json), &op, Outcome::List(page)));
        assert_eq!(body["summary"], json!({"numpages": 4, "returned": 2, "start": 4, "total": 7}));
        let unpaged = list(Filter::default(), PageRequest::default());
        let page = ListPage { images: vec![image("1")], ..ListPage::default() };
        let (_, body) = json_body(encode(&ctx("/grid/image/list", Format::Json), &unpaged, Outcome::List(page)));
        assert_eq!(body["summary"], json!({"numpages": 0, "returned": 1, "start": 0, "total": 1}));
    }

    #[test]
    fn empty_lists_succeed() {
        let op = list(Filter::default(), PageRequest::default());
        let (status, body) =
            json_body(encode(&ctx("/grid/image/list", Format::Json), &op, Outcome::List(ListPage::default())));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"list": [], "method": "/grid/image/list", "status": "success", "summary": {"numpages": 0, "returned": 0, "start": 0, "total": 0}})
        );
    }

    fn not_found_body(method: &str) -> Value {
        json!({"list": [{"object": "error", "message": "No object found that matches your input criteria.", "errorcode": "IllegalArgumentException"}],
               "summary": {"total": 1, "start": 0, "returned": 1}, "status": "failure", "method": method})
    }

    #[test]
    fn empty_gets_are_gogrids_not_found() {
        let op = ImageOp::GetMany(GetMany { key: LookupKey::Id, values: vec!["9".into()], shown_name: None });
        let (status, body) = json_body(encode(&ctx("/grid/image/get", Format::Json), &op, Outcome::Images(vec![])));
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, not_found_body("/grid/image/get")));
        let (status, body) =
            json_body(encode_error(&ctx("/grid/image/get", Format::Json), &GatewayError::image_not_found("9")));
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, not_found_body("/grid/image/get")));
    }

    #[test]
    fn gets_and_shows_are_whole_lists() {
        let op =
            ImageOp::GetMany(GetMany { key: LookupKey::Id, values: vec!["1".into(), "2".into()], shown_name: None });
        let (_, body) = json_body(encode(
            &ctx("/grid/image/get", Format::Json),
            &op,
            Outcome::Images(vec![image("1"), image("2")]),
        ));
        assert_eq!(body["summary"], json!({"numpages": 0, "returned": 2, "start": 0, "total": 2}));
        assert_eq!(body["list"][0]["object"], json!("image"));
        let show = ImageOp::Show(ImageId::new("abc"));
        let (_, body) = json_body(encode(&ctx("", Format::Json), &show, Outcome::Image(image("abc"))));
        assert_eq!(body["method"], json!("/grid/image/get"));
        assert_eq!(body["list"][0]["id"], json!(crate::dialect::ids::derived("abc")));
    }

    #[test]
    fn replies_in_xml_and_csv() {
        let op = ImageOp::GetMany(GetMany { key: LookupKey::Id, values: vec!["1".into()], shown_name: None });
        let (status, content_type, text) =
            body(encode(&ctx("/grid/image/get", Format::Csv), &op, Outcome::Images(vec![image("1")])));
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv"));
        assert!(
            text.starts_with("# SUCCESS, /grid/image/get, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1\n# server.id,")
        );
        let (status, content_type, text) =
            body(encode(&ctx("/grid/image/get", Format::Xml), &op, Outcome::Images(vec![])));
        assert_eq!((status, content_type.as_str()), (StatusCode::BAD_REQUEST, "application/xml"));
        assert!(text.contains(r#"<response method="/grid/image/get" status="failure">"#));
    }

    #[test]
    fn every_error_kind_has_its_status_and_code() {
        let cases: Vec<(GatewayError, u16, &str, &str)> = vec![
            (
                GatewayError::image_not_found("1"),
                400,
                "IllegalArgumentException",
                "No object found that matches your input criteria.",
            ),
            (
                GatewayError::bad_request("invalid isPublic parameter: x"),
                400,
                "IllegalArgumentException",
                "invalid isPublic parameter: x",
            ),
            (
                GatewayError::new(ErrorKind::Conflict, Side::Upstream, "name taken"),
                400,
                "IllegalArgumentException",
                "name taken",
            ),
            (
                GatewayError::new(ErrorKind::Unauthorized, Side::Downstream, "bad signature"),
                403,
                "AuthenticationFailed",
                "Authentication Failed",
            ),
            (
                GatewayError::new(ErrorKind::Forbidden, Side::Downstream, "role lacks the right"),
                401,
                "Unauthorized",
                "role lacks the right",
            ),
            (GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, "no"), 405, "MethodNotAllowed", "no"),
            (
                GatewayError::new(ErrorKind::PayloadTooLarge, Side::Downstream, "too big"),
                413,
                "PayloadTooLarge",
                "too big",
            ),
            (
                GatewayError::new(ErrorKind::UnsupportedMediaType, Side::Downstream, "json"),
                415,
                "UnsupportedMediaType",
                "json",
            ),
            (
                GatewayError::new(ErrorKind::RateLimited { retry_after: None }, Side::Downstream, "slow down"),
                429,
                "RateLimitExceeded",
                "slow down",
            ),
            (
                GatewayError::internal("bug at line 3"),
                500,
                "UnexpectedException",
                "the server could not finish the request",
            ),
            (
                GatewayError::unsupported("list images sorted by name", "hostway"),
                501,
                "NotImplemented",
                "list images sorted by name is not supported by the hostway backend",
            ),
            (
                GatewayError::upstream_protocol("junk"),
                502,
                "BadGateway",
                "the upstream service gave an invalid response",
            ),
            (
                GatewayError::new(ErrorKind::UpstreamUnavailable, Side::Upstream, "refused"),
                503,
                "ServiceUnavailable",
                "the service is temporarily unavailable",
            ),
            (
                GatewayError::new(ErrorKind::UpstreamTimeout, Side::Upstream, "slow"),
                504,
                "GatewayTimeout",
                "the upstream service did not answer in time",
            ),
        ];
        for (err, status, errorcode, message) in cases {
            let (got, body) = json_body(encode_error(&ctx("/grid/image/list", Format::Json), &err));
            assert_eq!(got.as_u16(), status, "{err}");
            assert_eq!(
                body,
                json!({"list": [{"object": "error", "message": message, "errorcode": errorcode}],
                       "summary": {"total": 1, "start": 0, "returned": 1}, "status": "failure", "method": "/grid/image/list"}),
                "{err}"
            );
        }
    }

    #[test]
    fn errors_in_every_format_keep_their_status() {
        let err = GatewayError::new(ErrorKind::Forbidden, Side::Downstream, "role lacks the right");
        for format in [Format::Json, Format::Xml, Format::Csv] {
            let (status, _, text) = body(encode_error(&ctx("/grid/image/get", format), &err));
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{format:?}");
            assert!(text.contains("role lacks the right"), "{format:?}");
        }
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let err = GatewayError::new(
            ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(30)) },
            Side::Downstream,
            "slow down",
        );
        let reply = encode_error(&ctx("/grid/image/list", Format::Json), &err);
        assert_eq!(reply.headers()[header::RETRY_AFTER], "30");
    }

    fn write(op: WriteOp) -> ImageOp {
        ImageOp::Write(op)
    }

    fn status_of(image: Image, status: ImageStatus) -> Image {
        Image { status, ..image }
    }

    #[test]
    fn write_replies_carry_the_one_image() {
        let saved = Snapshot { server_id: "1".into(), name: "image 9".into(), ..Snapshot::default() };
        let cases = [
            (
                "/grid/image/save",
                write(WriteOp::Snapshot(saved)),
                status_of(image("9"), ImageStatus::Saving),
                "serverimage",
                (1, "Saving"),
            ),
            (
                "/grid/image/edit",
                write(WriteOp::Update { id: ImageId::new("9"), patch: ImagePatch::default() }),
                status_of(image("9"), ImageStatus::Active),
                "image",
                (2, "Available"),
            ),
            (
                "/grid/image/delete",
                write(WriteOp::Delete { id: ImageId::new("9"), trash: true }),
                status_of(image("9"), ImageStatus::Trashed),
                "image",
                (4, "Trash"),
            ),
            (
                "/grid/image/delete",
                write(WriteOp::Delete { id: ImageId::new("9"), trash: true }),
                status_of(image("9"), ImageStatus::Deleted),
                "image",
                (3, "Deleted"),
            ),
            (
                "/grid/image/restore",
                write(WriteOp::Restore(ImageId::new("9"))),
                status_of(image("9"), ImageStatus::Active),
                "image",
                (2, "Available"),
            ),
        ];
        for (method, op, image, object, (state_id, state)) in cases {
            let (status, body) = json_body(encode(&ctx(method, Format::Json), &op, Outcome::Image(image)));
            assert_eq!(status, StatusCode::OK, "{method}");
            assert_eq!(
                (&body["method"], &body["status"], &body["summary"]),
                (&json!(method), &json!("success"), &json!({"numpages": 0, "returned": 1, "start": 0, "total": 1})),
                "{method}"
            );
            assert_eq!(body["list"][0]["object"], json!(object), "{method}");
            assert_eq!(body["list"][0]["id"], json!(9), "{method}");
            assert_eq!(body["list"][0]["friendlyName"], json!("image 9"), "{method}");
            assert_eq!(
                (&body["list"][0]["state"]["id"], &body["list"][0]["state"]["name"]),
                (&json!(state_id), &json!(state))
            );
        }
    }

    #[test]
    fn write_replies_without_a_called_method_name_the_op() {
        let op = write(WriteOp::Restore(ImageId::new("9")));
        let (_, body) = json_body(encode(&ctx("", Format::Json), &op, Outcome::Image(image("9"))));
        assert_eq!(body["method"], json!("/grid/image/restore"));
        let op = write(WriteOp::Snapshot(Snapshot::default()));
        let (_, body) = json_body(encode(&ctx("", Format::Json), &op, Outcome::Image(image("9"))));
        assert_eq!((&body["method"], &body["list"][0]["object"]), (&json!("/grid/image/save"), &json!("serverimage")));
    }

    #[test]
    fn write_replies_in_xml_and_csv() {
        let op = write(WriteOp::Delete { id: ImageId::new("9"), trash: true });
        let trashed = status_of(image("9"), ImageStatus::Trashed);
        let (status, content_type, text) =
            body(encode(&ctx("/grid/image/delete", Format::Xml), &op, Outcome::Image(trashed.clone())));
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/xml"));
        assert!(text.contains(r#"<response method="/grid/image/delete" status="success">"#), "{text}");
        assert!(text.contains(r#"<attribute name="name">Trash</attribute>"#), "{text}");
        let (status, content_type, text) =
            body(encode(&ctx("/grid/image/delete", Format::Csv), &op, Outcome::Image(trashed)));
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/csv"));
        assert!(text.starts_with("# SUCCESS, /grid/image/delete, TOTAL, 1, NUMPAGES, 0, START, 0, RETURNED, 1\n"));
    }

    #[test]
    fn write_failures() {
        let restore = ctx("/grid/image/restore", Format::Json);
        let conflict = GatewayError::new(ErrorKind::Conflict, Side::Downstream, "image 9 is not in the trash");
        let (status, body) = json_body(encode_error(&restore, &conflict));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["list"][0],
            json!({"object": "error", "message": "image 9 is not in the trash", "errorcode": "IllegalArgumentException"})
        );
        let (status, body) = json_body(encode_error(&restore, &GatewayError::image_not_found("9")));
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, not_found_body("/grid/image/restore")));
        // a save from a server that does not exist
        let server = GatewayError::new(
            ErrorKind::NotFound { resource: Resource::Server, id: "77".into() },
            Side::Upstream,
            "server 77 not found",
        );
        let (status, body) = json_body(encode_error(&ctx("/grid/image/save", Format::Json), &server));
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, not_found_body("/grid/image/save")));
        let unsupported = GatewayError::unsupported("update an image setting os", "gogrid");
        let (status, body) = json_body(encode_error(&ctx("/grid/image/edit", Format::Json), &unsupported));
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
        assert_eq!(body["list"][0]["errorcode"], json!("NotImplemented"));
    }

    #[test]
    fn write_outcomes_without_an_image() {
        let op = write(WriteOp::Delete { id: ImageId::new("9"), trash: true });
        let (status, body) = json_body(encode(&ctx("/grid/image/delete", Format::Json), &op, Outcome::Done));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["list"][0]["errorcode"], json!("UnexpectedException"));
    }
}
