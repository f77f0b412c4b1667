//! The edge half's request side: the paths we answer, the context, and
//! requests decoded into canonical operations.

use http::{HeaderMap, Method, request::Parts};
use percent_encoding::percent_decode_str;

use super::NovaMethod;
use super::versions::ApiVersion;
use super::{MAX_LIMIT, body, render, views, wire};
use crate::dialect::timestamp::parse_iso8601;
use crate::dialect::{Dialect, EdgeCall, EdgeCtx, EdgeRequest, Item, Query, is_read};
use crate::model::{
    ErrorKind, Filter, GatewayError, Image, ImageId, ImageOp, ListQuery, PageRequest, PageStart, Shown, Side, Snapshot,
    View, WriteOp,
};

/// What a claimed path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource<'a> {
    /// `/`: the versions list.
    Versions,
    /// `/v2[/]` or `/v2.1[/]`: one version document.
    Version(ApiVersion),
    /// A path under `{prefix}`; `path` is `None` when it names nothing we serve.
    Prefixed { prefix: &'a str, project: Option<&'a str>, path: Option<ApiPath<'a>> },
}

/// The paths we serve under a prefix, with raw (still percent-encoded) segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiPath<'a> {
    List,
    Detail,
    Image(&'a str),
    Metadata(&'a str),
    MetadataKey(&'a str, &'a str),
    /// `/servers/{id}/action`, where `createImage` saves an image.
    ServerAction(&'a str),
}

/// A path and a method it answers: one of Nova's controller methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call<'a> {
    List,
    Detail,
    Show(&'a str),
    Delete(&'a str),
    ShowMetadata(&'a str),
    SetMetadata { id: &'a str, replace: bool },
    ShowMetadataKey(&'a str, &'a str),
    SetMetadataKey(&'a str, &'a str),
    DeleteMetadataKey(&'a str, &'a str),
    ServerAction(&'a str),
}

impl<'a> Call<'a> {
    /// The call `method` makes on `path`, if Nova routes it.
    fn of(path: ApiPath<'a>, method: &Method) -> Option<Call<'a>> {
        let read = is_read(method);
        Some(match path {
            ApiPath::List if read => Call::List,
            ApiPath::Detail if read => Call::Detail,
            ApiPath::Image(id) if read => Call::Show(id),
            ApiPath::Image(id) if method == Method::DELETE => Call::Delete(id),
            ApiPath::Metadata(id) if read => Call::ShowMetadata(id),
            ApiPath::Metadata(id) if method == Method::POST => Call::SetMetadata { id, replace: false },
            ApiPath::Metadata(id) if method == Method::PUT => Call::SetMetadata { id, replace: true },
            ApiPath::MetadataKey(id, key) if read => Call::ShowMetadataKey(id, key),
            ApiPath::MetadataKey(id, key) if method == Method::PUT => Call::SetMetadataKey(id, key),
            ApiPath::MetadataKey(id, key) if method == Method::DELETE => Call::DeleteMetadataKey(id, key),
            ApiPath::ServerAction(id) if method == Method::POST => Call::ServerAction(id),
            _ => return None,
        })
    }

    /// Nova's method for the call.
    fn method(self) -> NovaMethod {
        match self {
            Call::List => NovaMethod::ImagesIndex,
            Call::Detail => NovaMethod::ImagesDetail,
            Call::Show(_) => NovaMethod::ImagesShow,
            Call::Delete(_) => NovaMethod::ImagesDelete,
            Call::ShowMetadata(_) => NovaMethod::MetadataIndex,
            Call::SetMetadata { replace: false, .. } => NovaMethod::MetadataCreate,
            Call::SetMetadata { replace: true, .. } => NovaMethod::MetadataUpdateAll,
            Call::ShowMetadataKey(..) => NovaMethod::MetadataShow,
            Call::SetMetadataKey(..) => NovaMethod::MetadataUpdate,
            Call::DeleteMetadataKey(..) => NovaMethod::MetadataDelete,
            Call::ServerAction(_) => NovaMethod::ServersAction,
        }
    }

    /// The highest microversion that still routes this call: the image
    /// proxy ends at 2.35, the metadata APIs at 2.38; server actions go on.
    fn max_microversion(self) -> Microversion {
        match self {
            Call::ShowMetadata(_)
            | Call::SetMetadata { .. }
            | Call::ShowMetadataKey(..)
            | Call::SetMetadataKey(..)
            | Call::DeleteMetadataKey(..) => Microversion(2, 38),
            Call::ServerAction(_) => Microversion::MAX,
            Call::List | Call::Detail | Call::Show(_) | Call::Delete(_) => Microversion(2, 35),
        }
    }
}

pub fn claims(path: &str) -> bool {
    route(path).is_some()
}

fn route(path: &str) -> Option<Resource<'_>> {
    if path == "/" {
        return Some(Resource::Versions);
    }
    let (version, rest) = match path.strip_prefix("/v2.1") {
        Some(rest) => (ApiVersion::V21, rest),
        None => (ApiVersion::V2, path.strip_prefix("/v2")?),
    };
    if rest.is_empty() || rest == "/" {
        return Some(Resource::Version(version));
    }
    let tail = rest.strip_prefix('/')?;
    let version_end = path.len() - rest.len();
    let first = tail.split('/').next().unwrap_or_default();
    let (project, prefix_end) = match (version, first) {
        (ApiVersion::V21, "images" | "servers") => (None, version_end),
        _ => (Some(first), version_end + 1 + first.len()),
    };
    let served = match project {
        Some("") => None,
        _ => api_path(&path[prefix_end..]),
    };
    Some(Resource::Prefixed { prefix: &path[..prefix_end], project, path: served })
}

/// Parses what follows the prefix: `/images[/detail|/{id}[/metadata[/{key}]]][/]`
/// or `/servers/{id}/action[/]`.
fn api_path(rest: &str) -> Option<ApiPath<'_>> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(server) = rest.strip_prefix("/servers/").and_then(|r| r.strip_suffix("/action")) {
        return (!server.is_empty() && !server.contains('/')).then_some(ApiPath::ServerAction(server));
    }
    let rest = rest.strip_prefix("/images")?;
    if rest.is_empty() {
        return Some(ApiPath::List);
    }
    let mut segments = rest.strip_prefix('/')?.split('/');
    let path = match (segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some("detail"), None, None, None) => ApiPath::Detail,
        (Some(id), None, None, None) => ApiPath::Image(id),
        (Some(id), Some("metadata"), None, None) => ApiPath::Metadata(id),
        (Some(id), Some("metadata"), Some(key), None) if !key.is_empty() => ApiPath::MetadataKey(id, key),
        _ => return None,
    };
    match path {
        ApiPath::Image("") | ApiPath::Metadata("") | ApiPath::MetadataKey("", _) => None,
        path => Some(path),
    }
}

pub fn context(parts: &Parts, origin: &str) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(Dialect::OpenStack, origin);
    match route(parts.uri.path()) {
        Some(Resource::Versions) => ctx.call = EdgeCall::OpenStack(NovaMethod::VersionsIndex),
        Some(Resource::Version(_)) => ctx.call = EdgeCall::OpenStack(NovaMethod::VersionsShow),
        Some(Resource::Prefixed { prefix, project, path }) => {
            ctx.prefix = prefix.to_owned();
            ctx.scope = project.map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned());
            let method = path.and_then(|p| Call::of(p, &parts.method)).map(Call::method);
            ctx.call = method.map_or(EdgeCall::None, EdgeCall::OpenStack);
            if prefix.starts_with("/v2.1") {
                ctx.version = requested_microversion(&parts.headers)
                    .ok()
                    .filter(Microversion::is_served)
                    .map(|v| format!("{}.{}", v.0, v.1));
            }
        }
        None => {}
    }
    ctx
}

pub fn decode(ctx: &mut EdgeCtx, parts: &Parts, body: &[u8]) -> Result<EdgeRequest, GatewayError> {
    let path = parts.uri.path();
    let Some(resource) = route(path) else {
        return Err(no_resource(path));
    };
    match resource {
        Resource::Versions => {
            reads_only(&parts.method, path)?;
            Ok(EdgeRequest::Local(render::versions(ctx)))
        }
        Resource::Version(version) => {
            reads_only(&parts.method, path)?;
            Ok(EdgeRequest::Local(render::version(ctx, version)))
        }
        Resource::Prefixed { path: None, .. } => Err(no_resource(path)),
        Resource::Prefixed { path: Some(api_path), .. } => {
            let call = Call::of(api_path, &parts.method).ok_or_else(|| not_allowed(&parts.method, path))?;
            let version = check_microversion(&parts.headers, call.max_microversion())?;
            image_op(ctx, parts, body, call, version).map(EdgeRequest::Op)
        }
    }
}

fn image_op(
    ctx: &mut EdgeCtx,
    parts: &Parts,
    body: &[u8],
    call: Call<'_>,
    version: Microversion,
) -> Result<ImageOp, GatewayError> {
    let write = |op: WriteOp| Ok(ImageOp::Write(op));
    match call {
        Call::List => list(&Query::of(&parts.uri), View::Summary),
        Call::Detail => list(&Query::of(&parts.uri), View::Detail),
        Call::Show(id) => Ok(ImageOp::Show(image_id(id)?)),
        Call::Delete(id) => write(WriteOp::Delete { id: image_id(id)?, trash: false }),
        Call::ShowMetadata(id) => {
            ctx.item = Some(Item::Metadata);
            Ok(ImageOp::Show(image_id(id)?))
        }
        Call::SetMetadata { id, replace } => {
            ctx.item = Some(Item::Metadata);
            let id = image_id(id)?;
            let items = body::metadata(json_body(parts, body)?.as_ref())?;
            write(WriteOp::SetMetadata { id, items, replace })
        }
        Call::ShowMetadataKey(id, key) => {
            ctx.item = Some(Item::MetadataKey(segment(key)?));
            Ok(ImageOp::Show(image_id(id)?))
        }
        Call::SetMetadataKey(id, key) => {
            let key = segment(key)?;
            ctx.item = Some(Item::MetadataKey(key.clone()));
            let id = image_id(id)?;
            let value = body::meta(json_body(parts, body)?.as_ref(), &key)?;
            write(WriteOp::SetMetadataItem { id, key, value })
        }
        Call::DeleteMetadataKey(id, key) => {
            let key = segment(key)?;
            ctx.item = Some(Item::MetadataKey(key.clone()));
            write(WriteOp::DeleteMetadataItem { id: image_id(id)?, key })
        }
        Call::ServerAction(server) => {
            let server_id = segment(server)?;
            body::check_content_type(&parts.headers)?;
            let json = body::parse(body)?;
            let snapshot = match body::action(json.as_ref())? {
                ("createImage", arg) => snapshot(server_id, body::create_image(arg)?),
                (other, _) => return Err(GatewayError::bad_request(format!("There is no such action: {other}"))),
            };
            let method =
                if version >= Microversion(2, 45) { NovaMethod::CreateImageWithId } else { NovaMethod::CreateImage };
            ctx.call = EdgeCall::OpenStack(method);
            write(WriteOp::Snapshot(snapshot))
        }
    }
}

/// The body of a `POST` or `PUT`, read as Nova reads it.
fn json_body(parts: &Parts, body: &[u8]) -> Result<Option<serde_json::Value>, GatewayError> {
    body::check_content_type(&parts.headers)?;
    body::parse(body)
}

/// A snapshot as `createImage` asks for it; a `description` in its metadata
/// is the image's description too, as the read side has it.
fn snapshot(server_id: String, create: body::CreateImage) -> Snapshot {
    let description = create.metadata.get("description").and_then(serde_json::Value::as_str).map(str::to_owned);
    Snapshot { server_id, name: create.name, description, metadata: create.metadata, uuid_id: true }
}

fn image_id(raw: &str) -> Result<ImageId, GatewayError> {
    segment(raw).map(ImageId::new)
}

/// A path segment, percent-decoded.
fn segment(raw: &str) -> Result<String, GatewayError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| GatewayError::bad_request(format!("path segment {raw} is not utf-8 once decoded")))
}

fn no_resource(path: &str) -> GatewayError {
    GatewayError::new(
        ErrorKind::NotFound { resource: crate::model::Resource::Route, id: path.to_owned() },
        Side::Downstream,
        format!("no resource at {path}"),
    )
}

fn reads_only(method: &Method, path: &str) -> Result<(), GatewayError> {
    match is_read(method) {
        true => Ok(()),
        false => Err(not_allowed(method, path)),
    }
}

fn not_allowed(method: &Method, path: &str) -> GatewayError {
    GatewayError::new(
        ErrorKind::MethodNotAllowed,
        Side::Downstream,
        format!("the method {method} is not allowed for {path}"),
    )
}

/// `GET …/images[/detail]` with Nova's filters and paging.
fn list(q: &Query, view: View) -> Result<ImageOp, GatewayError> {
    let mut shown = Vec::new();
    if let Some(word) = given(q, "status") {
        shown.push(Shown::new("status", wire::status_word(status(word)?), shows_status));
    }
    if let Some(kind) = given(q, "type") {
        shown.push(Shown::new("type", kind, shows_image_type));
    }
    for (key, value) in q.pairs() {
        if let Some(property) = key.strip_prefix("property-").filter(|p| !p.is_empty()) {
            shown.push(Shown::new("property", format!("{property}={value}"), shows_property));
        }
    }
    let filter = Filter {
        name: given(q, "name").map(str::to_owned),
        changed_since: given(q, "changes-since").map(changes_since).transpose()?,
        min_ram_mb: number(q, "minRam")?,
        min_disk_gb: number(q, "minDisk")?,
        server_id: given(q, "server").map(server_id),
        shown,
        ..Filter::default()
    };
    // Nova checks these against `^[0-9]*$` too, though only `limit` shapes the reply.
    q.usize("page_size")?;
    q.usize("offset")?;
    let page = PageRequest {
        start: given(q, "marker").map_or(PageStart::First, |m| PageStart::After(m.into())),
        limit: limit(q)?,
    };
    Ok(ImageOp::List(ListQuery { filter, sort: None, page, view, count: false, scope: None }))
}

/// A parameter's first value, unless it is empty: an empty value is no condition.
fn given<'q>(q: &'q Query, key: &str) -> Option<&'q str> {
    q.get(key).filter(|v| !v.is_empty())
}

/// The status an image shows is `word` (`ACTIVE`, `SAVING`, `DELETED`, …).
fn shows_status(image: &Image, word: &str) -> bool {
    wire::status_word(image.status) == word
}

/// The `image_type` its metadata shows is `kind` (`snapshot`, `backup`).
fn shows_image_type(image: &Image, kind: &str) -> bool {
    views::Metadata(image).text("image_type").is_some_and(|shown| shown == kind)
}

/// Its metadata shows `key=value`: a `property-key=value` filter.
fn shows_property(image: &Image, key_value: &str) -> bool {
    let (key, value) = key_value.split_once('=').unwrap_or((key_value, ""));
    views::Metadata(image).text(key).is_some_and(|shown| shown == value)
}

fn status(word: &str) -> Result<crate::model::ImageStatus, GatewayError> {
    wire::status_of_word(word).ok_or_else(|| GatewayError::bad_request(format!("invalid status value: {word}")))
}

fn changes_since(value: &str) -> Result<time::OffsetDateTime, GatewayError> {
    parse_iso8601(value).ok_or_else(|| GatewayError::bad_request(format!("invalid changes-since value: {value}")))
}

fn number(q: &Query, key: &str) -> Result<Option<u64>, GatewayError> {
    match given(q, key) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .ok()
            .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
            .map(Some)
            .ok_or_else(|| GatewayError::bad_request(format!("invalid {key} parameter: {v}"))),
    }
}

/// Nova keeps only what follows the last `/`, so a server URL works.
fn server_id(value: &str) -> String {
    value.rsplit('/').next().unwrap_or(value).to_owned()
}

/// `limit`, capped at Nova's `max_limit`; 0 is dropped before Glance sees it.
fn limit(q: &Query) -> Result<Option<usize>, GatewayError> {
    Ok(q.usize("limit")?.filter(|&n| n > 0).map(|n| n.min(MAX_LIMIT)))
}

/// A compute microversion `X.Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Microversion(u32, u32);

impl Microversion {
    const MIN: Microversion = Microversion(2, 1);
    const MAX: Microversion = Microversion(2, 104);

    /// True when the compute API serves this version at all.
    fn is_served(&self) -> bool {
        (Microversion::MIN..=Microversion::MAX).contains(self)
    }

    /// `latest`, or `X.Y` as Nova's `^([1-9]\d*)\.([1-9]\d*|0)$`.
    fn parse(text: &str) -> Option<Microversion> {
        if text.eq_ignore_ascii_case("latest") {
            return Some(Microversion::MAX);
        }
        let (major, minor) = text.split_once('.')?;
        let number = |s: &str| {
            let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
            canonical.then(|| s.parse().ok()).flatten()
        };
        let major = number(major).filter(|&m| m > 0)?;
        Some(Microversion(major, number(minor)?))
    }
}

/// The microversion the caller asked for: `OpenStack-API-Version: compute
/// X.Y` first, then `X-OpenStack-Nova-API-Version`; none means 2.1.
fn requested_microversion(headers: &HeaderMap) -> Result<Microversion, GatewayError> {
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().map_err(|_| GatewayError::bad_request(format!("{name} is not ascii"))))
            .transpose()
    };
    let compute = text("openstack-api-version")?.and_then(|v| {
        v.split(',').find_map(|entry| {
            let mut words = entry.split_whitespace();
            let service = words.next()?;
            service.eq_ignore_ascii_case("compute").then(|| words.next().unwrap_or_default())
        })
    });
    let Some(requested) = compute.or(text("x-openstack-nova-api-version")?.map(str::trim)) else {
        return Ok(Microversion::MIN);
    };
    Microversion::parse(requested).ok_or_else(|| {
        GatewayError::bad_request(format!(
            "api version string {requested} is of invalid format, must be of format majornum.minornum"
        ))
    })
}

/// The caller's microversion, when this API serves it.
fn check_microversion(headers: &HeaderMap, ceiling: Microversion) -> Result<Microversion, GatewayError> {
    let v = requested_microversion(headers)?;
    if !v.is_served() {
        return Err(GatewayError::new(
            ErrorKind::NotAcceptable,
            Side::Downstream,
            format!("version {}.{} is not supported by the api, minimum is 2.1 and maximum is 2.104", v.0, v.1),
        ));
    }
    if v > ceiling {
        return Err(GatewayError::new(
            ErrorKind::NotFound { resource: crate::model::Resource::ApiVersion, id: format!("{}.{}", v.0, v.1) },
            Side::Downstream,
            format!("the image api ends at microversion {}.{}", ceiling.0, ceiling.1),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http::Request;
    use time::macros::datetime;

    use super::*;
    use crate::dialect::openstack::OpenStack;
    use crate::dialect::{EdgeCodec, Format};
    use crate::model::ImageStatus;

    fn nova(method: NovaMethod) -> EdgeCall {
        EdgeCall::OpenStack(method)
    }

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    fn run(method: &str, uri: &str, headers: &[(&str, &str)]) -> (EdgeCtx, Result<EdgeRequest, GatewayError>) {
        let p = parts(method, uri, headers);
        let mut ctx = OpenStack.context(&p, "http://gw");
        let decoded = OpenStack.decode(&mut ctx, &p, &Bytes::new());
        (ctx, decoded)
    }

    fn op(uri: &str) -> ImageOp {
        match run("GET", uri, &[]).1 {
            Ok(EdgeRequest::Op(op)) => op,
            other => panic!("{uri}: {other:?}"),
        }
    }

    fn err(method: &str, uri: &str, headers: &[(&str, &str)]) -> GatewayError {
        match run(method, uri, headers).1 {
            Err(e) => e,
            Ok(other) => panic!("{uri}: {other:?}"),
        }
    }

    fn query(uri: &str) -> ListQuery {
        match op(uri) {
            ImageOp::List(q) => q,
            other => panic!("{uri}: {other:?}"),
        }
    }

    #[test]
    fn claims_the_root_and_the_two_versions_only() {
        for path in [
            "/",
            "/v2",
            "/v2/",
            "/v2/p/images",
            "/v2/p/servers",
            "/v2/p/servers/s/action",
            "/v2.1/servers/s/action",
            "/v2.1",
            "/v2.1/",
            "/v2.1/images/detail",
        ] {
            assert!(claims(path), "{path}");
        }
        for path in ["", "/v20", "/v2.1x", "/v2.10/images", "/v3/auth/tokens", "/images", "/api/grid/image/list"] {
            assert!(!claims(path), "{path}");
        }
    }

    #[test]
    fn context_reads_prefix_scope_and_action() {
        let cases = [
            ("/v2/proj/images", "/v2/proj", Some("proj"), EdgeCall::OpenStack(NovaMethod::ImagesIndex)),
            (
                "/v2.1/proj/images/detail?limit=1",
                "/v2.1/proj",
                Some("proj"),
                EdgeCall::OpenStack(NovaMethod::ImagesDetail),
            ),
            ("/v2.1/images/abc", "/v2.1", None, EdgeCall::OpenStack(NovaMethod::ImagesShow)),
            ("/v2.1/images/abc/metadata", "/v2.1", None, EdgeCall::OpenStack(NovaMethod::MetadataIndex)),
            (
                "/v2/p%20q/images/abc/metadata/k",
                "/v2/p%20q",
                Some("p q"),
                EdgeCall::OpenStack(NovaMethod::MetadataShow),
            ),
            ("/v2/proj/servers", "/v2/proj", Some("proj"), EdgeCall::None),
            ("/v2/proj/servers/s/action", "/v2/proj", Some("proj"), EdgeCall::None),
            ("/", "", None, EdgeCall::OpenStack(NovaMethod::VersionsIndex)),
            ("/v2.1/", "", None, EdgeCall::OpenStack(NovaMethod::VersionsShow)),
        ];
        for (uri, prefix, scope, method) in cases {
            let ctx = OpenStack.context(&parts("GET", uri, &[]), "https://gw:8774");
            assert_eq!(ctx.dialect, Dialect::OpenStack);
            assert_eq!(ctx.origin, "https://gw:8774");
            assert_eq!(ctx.prefix, prefix, "{uri}");
            assert_eq!(ctx.scope.as_deref(), scope, "{uri}");
            assert_eq!(ctx.call, method, "{uri}");
            assert_eq!(ctx.format, Format::Json);
            assert_eq!(ctx.item, None);
        }
    }

    #[test]
    fn context_names_the_write_methods() {
        let cases = [
            ("DELETE", "/v2/p/images/x", nova(NovaMethod::ImagesDelete)),
            ("POST", "/v2/p/images/x/metadata", nova(NovaMethod::MetadataCreate)),
            ("PUT", "/v2/p/images/x/metadata", nova(NovaMethod::MetadataUpdateAll)),
            ("PUT", "/v2/p/images/x/metadata/k", nova(NovaMethod::MetadataUpdate)),
            ("DELETE", "/v2/p/images/x/metadata/k", nova(NovaMethod::MetadataDelete)),
            ("POST", "/v2.1/servers/s/action", nova(NovaMethod::ServersAction)),
            ("PATCH", "/v2/p/images/x", EdgeCall::None),
        ];
        for (method, uri, want) in cases {
            assert_eq!(OpenStack.context(&parts(method, uri, &[]), "http://gw").call, want, "{method} {uri}");
        }
    }

    #[test]
    fn image_paths_decode_to_operations() {
        assert_eq!(op("/v2/p/images"), ImageOp::List(ListQuery { view: View::Summary, ..ListQuery::default() }));
        assert_eq!(op("/v2/p/images/"), ImageOp::List(ListQuery { view: View::Summary, ..ListQuery::default() }));
        assert_eq!(
            op("/v2.1/p/images/detail"),
            ImageOp::List(ListQuery { view: View::Detail, ..ListQuery::default() })
        );
        assert_eq!(op("/v2.1/images/detail"), ImageOp::List(ListQuery { view: View::Detail, ..ListQuery::default() }));
        assert_eq!(op("/v2/p/images/70a599e0"), ImageOp::Show(ImageId::new("70a599e0")));
        assert_eq!(op("/v2.1/images/70a599e0/"), ImageOp::Show(ImageId::new("70a599e0")));
        assert_eq!(op("/v2.1/images/70a599e0/metadata/"), ImageOp::Show(ImageId::new("70a599e0")));
        assert_eq!(op("/v2/p/images/a%20b%2Fc"), ImageOp::Show(ImageId::new("a b/c")));
    }

    #[test]
    fn head_reads_like_get() {
        assert!(matches!(run("HEAD", "/v2/p/images/x", &[]).1, Ok(EdgeRequest::Op(ImageOp::Show(_)))));
    }

    #[test]
    fn metadata_paths_show_the_image_with_an_item() {
        let (ctx, decoded) = run("GET", "/v2/p/images/abc/metadata", &[]);
        assert!(matches!(decoded, Ok(EdgeRequest::Op(ImageOp::Show(ref id))) if id.as_str() == "abc"));
        assert_eq!(ctx.item, Some(Item::Metadata));
        let (ctx, decoded) = run("GET", "/v2.1/images/abc/metadata/kernel%5Fid%20x", &[]);
        assert!(matches!(decoded, Ok(EdgeRequest::Op(ImageOp::Show(ref id))) if id.as_str() == "abc"));
        assert_eq!(ctx.item, Some(Item::MetadataKey("kernel_id x".to_owned())));
    }

    #[test]
    fn version_paths_are_answered_locally() {
        for path in ["/", "/v2", "/v2/", "/v2.1", "/v2.1/"] {
            assert!(matches!(run("GET", path, &[]).1, Ok(EdgeRequest::Local(_))), "{path}");
        }
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in [
            "/v2/p",
            "/v2/p/servers",
            "/v2//images",
            "/v2/p/imagesx",
            "/v2/p/images/a/b",
            "/v2/p/images/a/metadata/k/x",
            "/v2/p/images/a/metadata//",
            "/v2/p/images//metadata",
            "/v2.1/images/a/tags",
        ] {
            let e = err("GET", path, &[]);
            assert!(
                matches!(e.kind, ErrorKind::NotFound { resource: crate::model::Resource::Route, .. }),
                "{path}: {e:?}"
            );
        }
    }

    #[test]
    fn methods_nova_does_not_route_are_not_allowed() {
        for (method, path) in [
            ("POST", "/v2/p/images"),
            ("DELETE", "/v2/p/images"),
            ("PUT", "/v2/p/images/detail"),
            ("PUT", "/v2/p/images/x"),
            ("POST", "/v2/p/images/x"),
            ("PATCH", "/v2/p/images/x"),
            ("DELETE", "/v2/p/images/x/metadata"),
            ("PATCH", "/v2/p/images/x/metadata"),
            ("POST", "/v2/p/images/x/metadata/k"),
            ("GET", "/v2/p/servers/s/action"),
            ("PUT", "/v2.1/servers/s/action"),
            ("DELETE", "/v2.1/servers/s/action"),
            ("POST", "/"),
            ("PUT", "/v2.1/"),
        ] {
            assert_eq!(err(method, path, &[]).kind, ErrorKind::MethodNotAllowed, "{method} {path}");
        }
    }

    fn write(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> (EdgeCtx, WriteOp) {
        match send(method, uri, headers, body) {
            (ctx, Ok(EdgeRequest::Op(ImageOp::Write(op)))) => (ctx, op),
            (_, other) => panic!("{method} {uri}: {other:?}"),
        }
    }

    fn send(
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (EdgeCtx, Result<EdgeRequest, GatewayError>) {
        let p = parts(method, uri, headers);
        let mut ctx = OpenStack.context(&p, "http://gw");
        let decoded = OpenStack.decode(&mut ctx, &p, &Bytes::copy_from_slice(body.as_bytes()));
        (ctx, decoded)
    }

    fn refused(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> GatewayError {
        match send(method, uri, headers, body).1 {
            Err(e) => e,
            Ok(other) => panic!("{method} {uri} {body}: {other:?}"),
        }
    }

    fn strings(pairs: &[(&str, &str)]) -> crate::model::Metadata {
        pairs.iter().map(|(k, v)| ((*k).into(), serde_json::Value::from(*v))).collect()
    }

    const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

    #[test]
    fn deleting_an_image_is_a_delete_for_good() {
        let (ctx, op) = write("DELETE", "/v2/p/images/a%20b", &[], "");
        assert_eq!(op, WriteOp::Delete { id: ImageId::new("a b"), trash: false });
        assert_eq!((ctx.call, ctx.item, ctx.scope.as_deref()), (nova(NovaMethod::ImagesDelete), None, Some("p")));
        let (_, op) = write("DELETE", "/v2.1/images/x/", &[], "ignored");
        assert_eq!(op, WriteOp::Delete { id: ImageId::new("x"), trash: false });
    }

    #[test]
    fn metadata_writes_merge_or_replace() {
        let body = r#"{"metadata": {"kernel_id": "False", "Label": "UpdatedImage"}}"#;
        let (ctx, op) = write("POST", "/v2/p/images/i-1/metadata", &JSON, body);
        let items = strings(&[("kernel_id", "False"), ("Label", "UpdatedImage")]);
        assert_eq!(op, WriteOp::SetMetadata { id: ImageId::new("i-1"), items: items.clone(), replace: false });
        assert_eq!((ctx.call, ctx.item), (nova(NovaMethod::MetadataCreate), Some(Item::Metadata)));
        let (ctx, op) = write("PUT", "/v2.1/images/i-1/metadata/", &[], body);
        assert_eq!(op, WriteOp::SetMetadata { id: ImageId::new("i-1"), items, replace: true });
        assert_eq!((ctx.call, ctx.item), (nova(NovaMethod::MetadataUpdateAll), Some(Item::Metadata)));
    }

    #[test]
    fn a_metadata_item_is_set_or_deleted_by_its_key() {
        let body = r#"{"meta": {"auto disk": "False"}}"#;
        let (ctx, op) = write("PUT", "/v2/p/images/i-1/metadata/auto%20disk", &JSON, body);
        assert_eq!(
            op,
            WriteOp::SetMetadataItem { id: ImageId::new("i-1"), key: "auto disk".to_owned(), value: "False".into() }
        );
        assert_eq!(
            (ctx.call, ctx.item),
            (nova(NovaMethod::MetadataUpdate), Some(Item::MetadataKey("auto disk".to_owned())))
        );
        let (ctx, op) = write("DELETE", "/v2.1/images/i-1/metadata/kernel_id", &[], "");
        assert_eq!(op, WriteOp::DeleteMetadataItem { id: ImageId::new("i-1"), key: "kernel_id".to_owned() });
        assert_eq!(
            (ctx.call, ctx.item),
            (nova(NovaMethod::MetadataDelete), Some(Item::MetadataKey("kernel_id".to_owned())))
        );
    }

    #[test]
    fn bad_metadata_bodies_are_novas_bad_requests() {
        let cases = [
            ("PUT", "/v2/p/images/i/metadata/k", r#"{"meta": {"j": "v"}}"#, "Request body and URI mismatch"),
            (
                "PUT",
                "/v2/p/images/i/metadata/k",
                r#"{"meta": {"k": "v", "j": "w"}}"#,
                "Request body contains too many items",
            ),
            ("PUT", "/v2/p/images/i/metadata/k", "{", "Malformed request body"),
            ("POST", "/v2/p/images/i/metadata", "", "None is not of type 'object'"),
            ("POST", "/v2/p/images/i/metadata", r#"{"meta": {}}"#, "'metadata' is a required property"),
            ("PUT", "/v2/p/images/i/metadata", "[]", "[] is not of type 'object'"),
        ];
        for (method, uri, body, message) in cases {
            let e = refused(method, uri, &JSON, body);
            assert_eq!((e.kind, e.message.as_ref()), (ErrorKind::BadRequest, message), "{method} {uri} {body}");
        }
    }

    #[test]
    fn bodies_of_another_type_are_unsupported() {
        let xml = [("Content-Type", "application/xml")];
        for (method, uri) in [
            ("POST", "/v2/p/images/i/metadata"),
            ("PUT", "/v2/p/images/i/metadata/k"),
            ("POST", "/v2/p/servers/s/action"),
        ] {
            let e = refused(method, uri, &xml, "<metadata/>");
            assert_eq!(e.kind, ErrorKind::UnsupportedMediaType, "{method} {uri}");
            assert_eq!(e.message, "Unsupported Content-Type");
        }
        // a delete has no body to read
        assert!(send("DELETE", "/v2/p/images/i", &xml, "").1.is_ok());
    }

    #[test]
    fn create_image_saves_a_snapshot() {
        let body =
            r#"{"createImage": {"name": "foo-image", "metadata": {"meta_var": "meta_val", "description": "d"}}}"#;
        let (ctx, op) = write("POST", "/v2/p/servers/srv%201/action", &JSON, body);
        let want = Snapshot {
            server_id: "srv 1".to_owned(),
            name: "foo-image".to_owned(),
            description: Some("d".to_owned()),
            metadata: strings(&[("meta_var", "meta_val"), ("description", "d")]),
            uuid_id: true,
        };
        assert_eq!(op, WriteOp::Snapshot(want));
        assert_eq!(
            (ctx.call, ctx.prefix.as_str(), ctx.scope.as_deref()),
            (nova(NovaMethod::CreateImage), "/v2/p", Some("p"))
        );
        let (ctx, op) = write("POST", "/v2.1/servers/s/action/", &[], r#"{"createImage": {"name": "n"}}"#);
        assert_eq!(
            op,
            WriteOp::Snapshot(Snapshot {
                server_id: "s".to_owned(),
                name: "n".to_owned(),
                uuid_id: true,
                ..Snapshot::default()
            })
        );
        assert_eq!((ctx.call, ctx.prefix.as_str(), ctx.scope), (nova(NovaMethod::CreateImage), "/v2.1", None));
    }

    #[test]
    fn create_image_answers_by_microversion() {
        let body = r#"{"createImage": {"name": "n"}}"#;
        let method = |headers: &[(&str, &str)]| write("POST", "/v2.1/p/servers/s/action", headers, body).0.call;
        assert_eq!(method(&[]), nova(NovaMethod::CreateImage));
        assert_eq!(method(&[("OpenStack-API-Version", "compute 2.44")]), nova(NovaMethod::CreateImage));
        assert_eq!(method(&[("OpenStack-API-Version", "compute 2.45")]), nova(NovaMethod::CreateImageWithId));
        assert_eq!(method(&[("X-OpenStack-Nova-API-Version", "2.96")]), nova(NovaMethod::CreateImageWithId));
        assert_eq!(method(&[("OpenStack-API-Version", "compute latest")]), nova(NovaMethod::CreateImageWithId));
        let e = refused("POST", "/v2.1/p/servers/s/action", &[("OpenStack-API-Version", "compute 2.105")], body);
        assert_eq!(e.kind, ErrorKind::NotAcceptable);
    }

    #[test]
    fn other_server_actions_and_bad_action_bodies_are_bad_requests() {
        let cases = [
            (r#"{"reboot": {"type": "HARD"}}"#, "There is no such action: reboot"),
            (r#"{"createBackup": {"name": "b"}}"#, "There is no such action: createBackup"),
            (r#"{"createImage": {"name": "n"}, "reboot": {}}"#, "Malformed request body"),
            ("{}", "Malformed request body"),
            ("", "Malformed request body"),
            ("createImage", "Malformed request body"),
            (
                r#"{"createImage": {"metadata": {}}}"#,
                "Invalid input for field/attribute createImage. Value: {'metadata': {}}. 'name' is a required property",
            ),
            (r#"{"createImage": {"name": ""}}"#, "Invalid input for field/attribute name. Value: . '' is too short"),
        ];
        for (body, message) in cases {
            let e = refused("POST", "/v2/p/servers/s/action", &JSON, body);
            assert_eq!((e.kind, e.message.as_ref()), (ErrorKind::BadRequest, message), "{body}");
        }
    }

    #[test]
    fn other_server_paths_are_not_found() {
        for path in ["/v2/p/servers/s", "/v2/p/servers//action", "/v2/p/servers/s/x/action", "/v2.1/servers/s/actions"]
        {
            let e = refused("POST", path, &JSON, r#"{"createImage": {"name": "n"}}"#);
            assert!(
                matches!(e.kind, ErrorKind::NotFound { resource: crate::model::Resource::Route, .. }),
                "{path}: {e:?}"
            );
        }
    }

    #[test]
    fn write_microversion_ceilings_follow_nova() {
        let at = |v: &str| [("OpenStack-API-Version", format!("compute {v}"))];
        let ok = |method: &str, uri: &str, v: &str, body: &str| {
            let h = at(v);
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(method, uri, &h, body).1.is_ok()
        };
        assert!(ok("DELETE", "/v2.1/images/x", "2.35", ""));
        assert!(!ok("DELETE", "/v2.1/images/x", "2.36", ""));
        let meta = r#"{"metadata": {}}"#;
        assert!(ok("POST", "/v2.1/images/x/metadata", "2.38", meta));
        assert!(!ok("PUT", "/v2.1/images/x/metadata", "2.39", meta));
        assert!(!ok("DELETE", "/v2.1/images/x/metadata/k", "2.39", ""));
        assert!(ok("POST", "/v2.1/servers/s/action", "2.104", r#"{"createImage": {"name": "n"}}"#));
    }

    #[test]
    fn malformed_percent_encoding_is_a_bad_request() {
        assert_eq!(err("GET", "/v2/p/images/%FF", &[]).kind, ErrorKind::BadRequest);
    }

    #[test]
    fn list_filters_decode() {
        let q = query(
            "/v2/p/images/detail?name=my%20image&status=saving&changes-since=2011-01-01T03:02:03%2B02:00\
             &minRam=512&minDisk=20&server=http://h/v2/p/servers/srv-1&type=snapshot&limit=10&marker=m-1&x=y\
             &property-architecture=x86_64",
        );
        assert_eq!(
            q,
            ListQuery {
                filter: Filter {
                    name: Some("my image".to_owned()),
                    changed_since: Some(datetime!(2011-01-01 01:02:03 UTC)),
                    min_ram_mb: Some(512),
                    min_disk_gb: Some(20),
                    server_id: Some("srv-1".to_owned()),
                    shown: vec![
                        Shown::new("status", "SAVING", shows_status),
                        Shown::new("type", "snapshot", shows_image_type),
                        Shown::new("property", "architecture=x86_64", shows_property),
                    ],
                    ..Filter::default()
                },
                sort: None,
                page: PageRequest { start: PageStart::After(ImageId::new("m-1")), limit: Some(10) },
                view: View::Detail,
                count: false,
                scope: None,
            }
        );
    }

    #[test]
    fn status_filter_takes_nova_and_glance_words() {
        let cases = [
            ("ACTIVE", ImageStatus::Active),
            ("active", ImageStatus::Active),
            ("SAVING", ImageStatus::Saving),
            ("queued", ImageStatus::Saving),
            ("DELETED", ImageStatus::Deleted),
            ("pending_delete", ImageStatus::Deleted),
            ("ERROR", ImageStatus::Error),
            ("killed", ImageStatus::Error),
            ("UNKNOWN", ImageStatus::Unknown),
        ];
        for (word, status) in cases {
            let shown = query(&format!("/v2/p/images?status={word}")).filter.shown;
            assert_eq!(shown, [Shown::new("status", wire::status_word(status), shows_status)], "{word}");
        }
    }

    #[test]
    fn filters_judge_what_the_image_shows() {
        let trashed = Image { status: ImageStatus::Trashed, ..Image::default() };
        assert!(query("/v2/p/images?status=DELETED").filter.matches(&trashed), "a trashed image shows DELETED");
        let saved = Image { server_id: Some("srv".into()), ..Image::default() };
        assert!(query("/v2/p/images?type=snapshot").filter.matches(&saved), "a saved image shows image_type snapshot");
        assert!(!query("/v2/p/images?type=backup").filter.matches(&saved));
        let mut tagged = Image { architecture: Some("x86_64".into()), ..Image::default() };
        tagged.metadata.insert("min_cores".into(), 2.into());
        assert!(query("/v2/p/images?property-architecture=x86_64&property-min_cores=2").filter.matches(&tagged));
        assert!(!query("/v2/p/images?property-architecture=i386").filter.matches(&tagged));
        assert!(!query("/v2/p/images?property-absent=x").filter.matches(&tagged));
    }

    #[test]
    fn empty_values_are_no_condition() {
        let q = query("/v2/p/images?name=&status=&changes-since=&minRam=&minDisk=&server=&type=&marker=");
        assert_eq!(q, ListQuery { view: View::Summary, ..ListQuery::default() });
    }

    #[test]
    fn a_bare_server_id_is_kept_whole() {
        assert_eq!(query("/v2/p/images?server=srv-1").filter.server_id.as_deref(), Some("srv-1"));
    }

    #[test]
    fn limit_is_capped_and_zero_means_none() {
        assert_eq!(query("/v2/p/images?limit=5000").page.limit, Some(MAX_LIMIT));
        assert_eq!(query("/v2/p/images?limit=1000").page.limit, Some(1000));
        assert_eq!(query("/v2/p/images?limit=0").page.limit, None);
        assert_eq!(query("/v2/p/images").page, PageRequest::default());
    }

    #[test]
    fn malformed_parameters_are_bad_requests() {
        for uri in [
            "/v2/p/images?limit=-1",
            "/v2/p/images?limit=abc",
            "/v2/p/images?limit=",
            "/v2/p/images?limit=1.5",
            "/v2/p/images/detail?page_size=x",
            "/v2/p/images/detail?offset=-3",
            "/v2/p/images?minRam=1k",
            "/v2/p/images?minDisk=-1",
            "/v2/p/images?status=sleeping",
            "/v2/p/images?changes-since=yesterday",
        ] {
            let e = err("GET", uri, &[]);
            assert_eq!(e.kind, ErrorKind::BadRequest, "{uri}");
            assert!(e.message.starts_with(char::is_lowercase), "{uri}");
            assert!(!e.message.ends_with('.'), "{uri}");
        }
    }

    #[test]
    fn microversions_above_the_proxy_ceiling_are_not_found() {
        let new = |v: &str| vec![("OpenStack-API-Version", format!("compute {v}"))];
        let ok = |uri: &str, h: &[(&str, String)]| {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            run("GET", uri, &h).1.is_ok()
        };
        assert!(ok("/v2.1/images", &[]));
        assert!(ok("/v2.1/images", &new("2.35")));
        assert!(!ok("/v2.1/images", &new("2.36")));
        assert!(ok("/v2.1/images/x/metadata", &new("2.38")));
        assert!(!ok("/v2.1/images/x/metadata/k", &new("2.39")));
        assert!(!ok("/v2.1/images/x", &new("latest")));
        assert!(ok("/v2.1/images", &[("X-OpenStack-Nova-API-Version", "2.10".to_owned())]));
        assert!(!ok("/v2.1/images", &[("X-OpenStack-Nova-API-Version", "2.50".to_owned())]));
        assert!(!ok("/v2.1/images", &[("OpenStack-API-Version", "image 2.5, compute 2.36".to_owned())]));
        // a header for another service leaves the compute default
        assert!(ok("/v2.1/images", &[("OpenStack-API-Version", "image 2.50".to_owned())]));
        // the new header wins over the legacy one
        let both =
            [("OpenStack-API-Version", "compute 2.2".to_owned()), ("X-OpenStack-Nova-API-Version", "2.99".to_owned())];
        assert!(ok("/v2.1/images", &both));
        let e = err("GET", "/v2.1/images", &[("OpenStack-API-Version", "compute 2.36")]);
        assert!(matches!(e.kind, ErrorKind::NotFound { resource: crate::model::Resource::ApiVersion, .. }));
        // version documents are served whatever the caller asks for
        assert!(ok("/v2.1/", &new("2.90")));
    }

    #[test]
    fn malformed_microversions_are_bad_requests_and_unserved_ones_not_acceptable() {
        for v in ["compute 2.01", "compute abc", "compute 2", "compute 0.5", "compute"] {
            assert_eq!(err("GET", "/v2.1/images", &[("OpenStack-API-Version", v)]).kind, ErrorKind::BadRequest, "{v}");
        }
        for v in ["compute 2.0", "compute 2.105", "compute 3.0"] {
            let e = err("GET", "/v2.1/images", &[("OpenStack-API-Version", v)]);
            assert_eq!(e.kind, ErrorKind::NotAcceptable, "{v}");
        }
    }
}
