//! The edge half's request side: the paths we answer, the context, and
//! requests decoded into canonical operations.

use http::{HeaderMap, Method, request::Parts};
use percent_encoding::percent_decode_str;

use super::{EXTRA_IMAGE_TYPE, MAX_LIMIT, clock, render, wire};
use crate::dialect::{Dialect, EdgeCtx, EdgeRequest, Item, Query, is_read};
use crate::model::{ErrorKind, Filter, GatewayError, ImageId, ImageOp, ListQuery, PageRequest, PageStart, Side, View};

/// The two API versions Nova serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V2,
    V21,
}

/// What a claimed path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource<'a> {
    /// `/`: the versions list.
    Versions,
    /// `/v2[/]` or `/v2.1[/]`: one version document.
    Version(ApiVersion),
    /// A path under `{prefix}`; `images` is `None` when it names nothing.
    Prefixed { prefix: &'a str, project: Option<&'a str>, images: Option<ImagePath<'a>> },
}

/// The image paths under a prefix, with raw (still percent-encoded) segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImagePath<'a> {
    List,
    Detail,
    Show(&'a str),
    Metadata(&'a str),
    MetadataKey(&'a str, &'a str),
}

impl ImagePath<'_> {
    /// Nova's controller and action, for logs.
    fn method(self) -> &'static str {
        match self {
            ImagePath::List => "images.index",
            ImagePath::Detail => "images.detail",
            ImagePath::Show(_) => "images.show",
            ImagePath::Metadata(_) => "image_metadata.index",
            ImagePath::MetadataKey(..) => "image_metadata.show",
        }
    }

    /// The highest microversion that still routes this path: the proxy APIs
    /// end at 2.35, the metadata APIs at 2.38.
    fn max_microversion(self) -> Microversion {
        match self {
            ImagePath::Metadata(_) | ImagePath::MetadataKey(..) => Microversion(2, 38),
            _ => Microversion(2, 35),
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
        (ApiVersion::V21, "images") => (None, version_end),
        _ => (Some(first), version_end + 1 + first.len()),
    };
    let images = match project {
        Some("") => None,
        _ => image_path(&path[prefix_end..]),
    };
    Some(Resource::Prefixed { prefix: &path[..prefix_end], project, images })
}

/// Parses what follows the prefix: `/images[/detail|/{id}[/metadata[/{key}]]][/]`.
fn image_path(rest: &str) -> Option<ImagePath<'_>> {
    let rest = rest.strip_prefix("/images")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Some(ImagePath::List);
    }
    let mut segments = rest.strip_prefix('/')?.split('/');
    let path = match (segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some("detail"), None, None, None) => ImagePath::Detail,
        (Some(id), None, None, None) => ImagePath::Show(id),
        (Some(id), Some("metadata"), None, None) => ImagePath::Metadata(id),
        (Some(id), Some("metadata"), Some(key), None) if !key.is_empty() => ImagePath::MetadataKey(id, key),
        _ => return None,
    };
    match path {
        ImagePath::Show("") | ImagePath::Metadata("") | ImagePath::MetadataKey("", _) => None,
        path => Some(path),
    }
}

pub fn context(parts: &Parts, origin: &str) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(Dialect::OpenStack, origin);
    match route(parts.uri.path()) {
        Some(Resource::Versions) => ctx.method = "versions.index",
        Some(Resource::Version(_)) => ctx.method = "versions.show",
        Some(Resource::Prefixed { prefix, project, images }) => {
            ctx.prefix = prefix.to_owned();
            ctx.scope = project.map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned());
            ctx.method = images.map_or("", ImagePath::method);
        }
        None => {}
    }
    ctx
}

pub fn decode(ctx: &mut EdgeCtx, parts: &Parts) -> Result<EdgeRequest, GatewayError> {
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
        Resource::Prefixed { images: None, .. } => Err(no_resource(path)),
        Resource::Prefixed { images: Some(images), .. } => {
            reads_only(&parts.method, path)?;
            check_microversion(&parts.headers, images.max_microversion())?;
            image_op(ctx, parts, images).map(EdgeRequest::Op)
        }
    }
}

fn image_op(ctx: &mut EdgeCtx, parts: &Parts, path: ImagePath<'_>) -> Result<ImageOp, GatewayError> {
    match path {
        ImagePath::List => list(&Query::of(&parts.uri), View::Summary),
        ImagePath::Detail => list(&Query::of(&parts.uri), View::Detail),
        ImagePath::Show(id) => Ok(ImageOp::Show(ImageId(segment(id)?))),
        ImagePath::Metadata(id) => {
            ctx.item = Some(Item::Metadata);
            Ok(ImageOp::Show(ImageId(segment(id)?)))
        }
        ImagePath::MetadataKey(id, key) => {
            ctx.item = Some(Item::MetadataKey(segment(key)?));
            Ok(ImageOp::Show(ImageId(segment(id)?)))
        }
    }
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
        ErrorKind::NotFound { resource: "resource", id: path.to_owned() },
        Side::Downstream,
        format!("no resource at {path}"),
    )
}

fn reads_only(method: &Method, path: &str) -> Result<(), GatewayError> {
    if is_read(method) {
        return Ok(());
    }
    Err(GatewayError::new(
        ErrorKind::MethodNotAllowed,
        Side::Downstream,
        format!("the method {method} is not allowed for {path}"),
    ))
}

/// `GET …/images[/detail]` with Nova's filters and paging.
fn list(q: &Query, view: View) -> Result<ImageOp, GatewayError> {
    let filter = Filter {
        name: given(q, "name").map(str::to_owned),
        status: given(q, "status").map(status).transpose()?,
        changed_since: given(q, "changes-since").map(changes_since).transpose()?,
        min_ram_mb: number(q, "minRam")?,
        min_disk_gb: number(q, "minDisk")?,
        server_id: given(q, "server").map(server_id),
        extra: given(q, "type").map(|t| (EXTRA_IMAGE_TYPE.to_owned(), t.to_owned())).into_iter().collect(),
        ..Filter::default()
    };
    // Nova checks these against `^[0-9]*$` too, though only `limit` shapes the reply.
    q.usize("page_size")?;
    q.usize("offset")?;
    let page = PageRequest {
        start: given(q, "marker").map_or(PageStart::First, |m| PageStart::After(m.into())),
        limit: limit(q)?,
    };
    Ok(ImageOp::List(ListQuery { filter, sort: None, page, view, count: false }))
}

/// A parameter's first value, unless it is empty: an empty value is no condition.
fn given<'q>(q: &'q Query, key: &str) -> Option<&'q str> {
    q.get(key).filter(|v| !v.is_empty())
}

fn status(word: &str) -> Result<crate::model::ImageStatus, GatewayError> {
    wire::status_of_word(word).ok_or_else(|| GatewayError::bad_request(format!("invalid status value: {word}")))
}

fn changes_since(value: &str) -> Result<time::OffsetDateTime, GatewayError> {
    clock::parse(value).ok_or_else(|| GatewayError::bad_request(format!("invalid changes-since value: {value}")))
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

fn check_microversion(headers: &HeaderMap, ceiling: Microversion) -> Result<(), GatewayError> {
    let v = requested_microversion(headers)?;
    if v < Microversion::MIN || v > Microversion::MAX {
        return Err(GatewayError::bad_request(format!(
            "version {}.{} is not supported by the api, minimum is 2.1 and maximum is 2.104",
            v.0, v.1
        )));
    }
    if v > ceiling {
        return Err(GatewayError::new(
            ErrorKind::NotFound { resource: "api version", id: format!("{}.{}", v.0, v.1) },
            Side::Downstream,
            format!("the image api ends at microversion {}.{}", ceiling.0, ceiling.1),
        ));
    }
    Ok(())
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
        for path in ["/", "/v2", "/v2/", "/v2/p/images", "/v2/p/servers", "/v2.1", "/v2.1/", "/v2.1/images/detail"] {
            assert!(claims(path), "{path}");
        }
        for path in ["", "/v20", "/v2.1x", "/v2.10/images", "/v3/auth/tokens", "/images", "/api/grid/image/list"] {
            assert!(!claims(path), "{path}");
        }
    }

    #[test]
    fn context_reads_prefix_scope_and_action() {
        let cases = [
            ("/v2/proj/images", "/v2/proj", Some("proj"), "images.index"),
            ("/v2.1/proj/images/detail?limit=1", "/v2.1/proj", Some("proj"), "images.detail"),
            ("/v2.1/images/abc", "/v2.1", None, "images.show"),
            ("/v2.1/images/abc/metadata", "/v2.1", None, "image_metadata.index"),
            ("/v2/p%20q/images/abc/metadata/k", "/v2/p%20q", Some("p q"), "image_metadata.show"),
            ("/v2/proj/servers", "/v2/proj", Some("proj"), ""),
            ("/", "", None, "versions.index"),
            ("/v2.1/", "", None, "versions.show"),
        ];
        for (uri, prefix, scope, method) in cases {
            let ctx = OpenStack.context(&parts("GET", uri, &[]), "https://gw:8774");
            assert_eq!(ctx.dialect, Dialect::OpenStack);
            assert_eq!(ctx.origin, "https://gw:8774");
            assert_eq!(ctx.prefix, prefix, "{uri}");
            assert_eq!(ctx.scope.as_deref(), scope, "{uri}");
            assert_eq!(ctx.method, method, "{uri}");
            assert_eq!(ctx.format, Format::Json);
            assert_eq!(ctx.item, None);
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
            assert!(matches!(e.kind, ErrorKind::NotFound { resource: "resource", .. }), "{path}: {e:?}");
        }
    }

    #[test]
    fn writes_are_not_allowed_yet() {
        for (method, path) in [
            ("POST", "/v2/p/images"),
            ("DELETE", "/v2/p/images/x"),
            ("PUT", "/v2/p/images/x/metadata"),
            ("POST", "/v2/p/images/x/metadata"),
            ("PUT", "/v2/p/images/x/metadata/k"),
            ("DELETE", "/v2.1/images/x/metadata/k"),
            ("POST", "/"),
            ("PUT", "/v2.1/"),
        ] {
            assert_eq!(err(method, path, &[]).kind, ErrorKind::MethodNotAllowed, "{method} {path}");
        }
    }

    #[test]
    fn malformed_percent_encoding_is_a_bad_request() {
        assert_eq!(err("GET", "/v2/p/images/%FF", &[]).kind, ErrorKind::BadRequest);
    }

    #[test]
    fn list_filters_decode() {
        let q = query(
            "/v2/p/images/detail?name=my%20image&status=saving&changes-since=2011-01-01T03:02:03%2B02:00\
             &minRam=512&minDisk=20&server=http://h/v2/p/servers/srv-1&type=snapshot&limit=10&marker=m-1&x=y",
        );
        assert_eq!(
            q,
            ListQuery {
                filter: Filter {
                    name: Some("my image".to_owned()),
                    status: Some(ImageStatus::Saving),
                    changed_since: Some(datetime!(2011-01-01 01:02:03 UTC)),
                    min_ram_mb: Some(512),
                    min_disk_gb: Some(20),
                    server_id: Some("srv-1".to_owned()),
                    extra: vec![(EXTRA_IMAGE_TYPE.to_owned(), "snapshot".to_owned())],
                    ..Filter::default()
                },
                sort: None,
                page: PageRequest { start: PageStart::After(ImageId::new("m-1")), limit: Some(10) },
                view: View::Detail,
                count: false,
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
            assert_eq!(query(&format!("/v2/p/images?status={word}")).filter.status, Some(status), "{word}");
        }
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
        assert!(matches!(e.kind, ErrorKind::NotFound { resource: "api version", .. }));
        // version documents are served whatever the caller asks for
        assert!(ok("/v2.1/", &new("2.90")));
    }

    #[test]
    fn malformed_or_unsupported_microversions_are_bad_requests() {
        for v in ["compute 2.01", "compute abc", "compute 2", "compute 0.5", "compute 2.0", "compute 3.0", "compute"] {
            assert_eq!(err("GET", "/v2.1/images", &[("OpenStack-API-Version", v)]).kind, ErrorKind::BadRequest, "{v}");
        }
    }
}
