//! The edge half: Foreman clients (hammer, python-foreman, apipie-bindings)
//! talk to the gateway.

use http::request::Parts;
use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;
use serde::{Serialize, Serializer};

use super::super::{Dialect, EdgeCall, EdgeCtx, EdgeRequest, Outcome, Query, Reply, is_read};
use super::fault::{self, PARAM_INVALID, QUERY_NOT_SUPPORTED, param_error};
use super::image::{self, ARCH_ID, CR_ID, ImageView, OS_ID, RawRecord};
use super::write::{self, PathParent};
use super::{apidoc, json_reply, search};
use crate::model::{
    Filter, GatewayError, Image, ImageId, ImageOp, ListPage, ListQuery, PageRequest, PageStart, Shown, Sort, SortField,
    View, WriteGuard, WriteOp,
};

/// `Setting[:entries_per_page]`'s default.
const DEFAULT_PER_PAGE: usize = 20;

/// The largest `per_page` served: apypie's `PER_PAGE` (`2 << 31`), which it
/// sends to list everything in one page. A larger one is refused, never
/// served as a smaller page.
pub(super) const MAX_PER_PAGE: u64 = 2 << 31;

/// An action of Foreman's images controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Index,
    Show,
    Create,
    Update,
    Destroy,
}

impl Action {
    /// The action a method asks of a list path, or of an image path
    /// (`member`), as Rails' `resources` routes it.
    fn of(method: &Method, member: bool) -> Option<Action> {
        if is_read(method) {
            return Some(if member { Action::Show } else { Action::Index });
        }
        match member {
            false if *method == Method::POST => Some(Action::Create),
            true if *method == Method::PUT || *method == Method::PATCH => Some(Action::Update),
            true if *method == Method::DELETE => Some(Action::Destroy),
            _ => None,
        }
    }

    /// The Rails action's name, as Foreman's API description gives it.
    #[cfg(test)]
    pub(super) fn name(self) -> &'static str {
        match self {
            Action::Index => "index",
            Action::Show => "show",
            Action::Create => "create",
            Action::Update => "update",
            Action::Destroy => "destroy",
        }
    }
}

/// Everything under `/api/` but GoGrid's `/api/grid/`, and `/apidoc/`.
pub(super) fn claims(path: &str) -> bool {
    let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    (under("/api") && !under("/api/grid")) || under("/apidoc")
}

/// The resource an image path is nested under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    ComputeResource,
    OperatingSystem,
    Architecture,
}

impl Parent {
    /// The parameter the path's parent id is.
    fn id_param(self) -> &'static str {
        match self {
            Parent::ComputeResource => "compute_resource_id",
            Parent::OperatingSystem => "operatingsystem_id",
            Parent::Architecture => "architecture_id",
        }
    }

    /// The write parameter that names the parent instead of its id.
    fn name_param(self) -> &'static str {
        match self {
            Parent::ComputeResource => "compute_resource_name",
            Parent::OperatingSystem => "operatingsystem_name",
            Parent::Architecture => "architecture_name",
        }
    }

    /// The extra the parent's id is kept under.
    fn key(self) -> &'static str {
        match self {
            Parent::ComputeResource => CR_ID,
            Parent::OperatingSystem => OS_ID,
            Parent::Architecture => ARCH_ID,
        }
    }
}

/// An image path, its segments still percent-encoded.
#[derive(Debug, PartialEq)]
struct Route<'a> {
    parent: Parent,
    parent_id: &'a str,
    image_id: Option<&'a str>,
    /// The path up to and excluding `/images`.
    prefix: &'a str,
}

/// Reads `/api[/v2]/{parent}/{parent_id}/images[/{id}]`, with an optional
/// trailing slash or `.json` format suffix.
fn route(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/api/")?;
    let rest = rest.strip_prefix("v2/").unwrap_or(rest);
    let (parent, rest) = rest.split_once('/')?;
    let parent = match parent {
        "compute_resources" => Parent::ComputeResource,
        "operatingsystems" => Parent::OperatingSystem,
        "architectures" => Parent::Architecture,
        _ => return None,
    };
    let (parent_id, tail) = rest.split_once('/')?;
    let prefix = &path[..path.len() - tail.len() - 1];
    let tail = tail.strip_suffix('/').unwrap_or(tail);
    let tail = tail.strip_suffix(".json").unwrap_or(tail);
    let image_id = match tail.split_once('/') {
        None if tail == "images" => None,
        Some(("images", id)) if !id.is_empty() && !id.contains('/') => Some(id),
        _ => return None,
    };
    (!parent_id.is_empty()).then_some(Route { parent, parent_id, image_id, prefix })
}

/// A percent-decoded path segment.
fn segment(raw: &str, parameter: &'static str) -> Result<String, GatewayError> {
    match percent_decode_str(raw).decode_utf8() {
        Ok(text) => Ok(text.into_owned()),
        Err(_) => Err(param_error(format!("{parameter} is not valid utf-8"), PARAM_INVALID, Some(parameter))),
    }
}

pub(super) fn context(parts: &Parts, origin: &str) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(Dialect::Foreman, origin);
    if let Some(route) = route(parts.uri.path()) {
        let member = route.image_id.is_some();
        // a method no route takes still names the path's methods in its 405
        let action = Action::of(&parts.method, member).unwrap_or(if member { Action::Show } else { Action::Index });
        let scope = (route.parent == Parent::ComputeResource)
            .then(|| segment(route.parent_id, "compute_resource_id").unwrap_or_else(|_| route.parent_id.to_owned()));
        fill(&mut ctx, &route, action, scope, &Query::of(&parts.uri));
    }
    ctx
}

fn fill(ctx: &mut EdgeCtx, route: &Route<'_>, action: Action, scope: Option<String>, query: &Query) {
    ctx.scope = scope;
    ctx.prefix = route.prefix.to_owned();
    ctx.call = EdgeCall::Foreman(action);
    ctx.search = if action == Action::Index { query.get("search").map(str::to_owned) } else { None };
}

pub(super) fn decode(ctx: &mut EdgeCtx, parts: &Parts, body: &[u8]) -> Result<EdgeRequest, GatewayError> {
    let path = parts.uri.path();
    if let Some(reply) = apidoc::answer(&parts.method, path) {
        return Ok(EdgeRequest::Local(reply));
    }
    let route = route(path).ok_or_else(|| fault::unknown_route(path))?;
    let action =
        Action::of(&parts.method, route.image_id.is_some()).ok_or_else(|| fault::method_not_allowed(&parts.method))?;
    let query = Query::of(&parts.uri);
    let parent_id = segment(route.parent_id, route.parent.id_param())?;
    let image_id = route.image_id.map(|id| segment(id, "id")).transpose()?.map(ImageId::new);
    let scope = (route.parent == Parent::ComputeResource).then(|| parent_id.clone());
    fill(ctx, &route, action, scope, &query);
    let parent = PathParent {
        id_param: route.parent.id_param(),
        name_param: route.parent.name_param(),
        key: route.parent.key(),
        id: &parent_id,
    };
    let headers = &parts.headers;
    let op = match (action, image_id) {
        (Action::Create, _) => ImageOp::Write(write::create(&parent, headers, body)?),
        (Action::Update, Some(id)) => {
            let update = write::update(&parent, id, headers, body)?;
            let within = parent_scope(route.parent, parent.id);
            let unique = match &update {
                WriteOp::Update { patch, .. } => write::unique_after(patch, &within),
                _ => Vec::new(),
            };
            ctx.guard = Some(Box::new(WriteGuard { within, unique, ..WriteGuard::default() }));
            ImageOp::Write(update)
        }
        (Action::Destroy, Some(id)) => {
            let within = parent_scope(route.parent, parent.id);
            ctx.guard = Some(Box::new(WriteGuard { within, ..WriteGuard::default() }));
            ImageOp::Write(write::destroy(id, headers, body)?)
        }
        (_, Some(id)) => show_op(route.parent, parent.id, id),
        (_, None) => ImageOp::List(list_query(&query, parent_scope(route.parent, parent.id))?),
    };
    Ok(EdgeRequest::Op(op))
}

/// The images under the path's parent: those that show its compute
/// resource, operating system or architecture. An image that names no
/// compute resource shows the path's (so an upstream of a dialect without
/// them lists them all, without a walk); a show under a compute resource
/// checks what the image shows, see [`encode`].
fn parent_scope(parent: Parent, parent_id: &str) -> Filter {
    let shown = match parent {
        Parent::ComputeResource => Shown::reading("compute_resource_id", parent_id, image::in_compute_resource, CR_ID),
        Parent::OperatingSystem => Shown::new("operatingsystem_id", parent_id, image::shows_operatingsystem),
        Parent::Architecture => Shown::new("architecture_id", parent_id, image::shows_architecture),
    };
    Filter { shown: vec![shown], ..Filter::default() }
}

/// A show: under a compute resource, the image itself (the reply checks
/// that it shows that compute resource); under an operating system or
/// architecture, a list of the one image that must also belong to the parent.
fn show_op(parent: Parent, parent_id: &str, id: ImageId) -> ImageOp {
    if parent == Parent::ComputeResource {
        return ImageOp::Show(id);
    }
    // the id the image shows: its own, or the integer derived from it
    let filter = Filter { shown: vec![Shown::new("id", id.0, image::shows_id)], ..Filter::default() };
    let page = PageRequest { start: PageStart::First, limit: Some(1) };
    let scope = Some(Box::new(parent_scope(parent, parent_id)));
    ImageOp::List(ListQuery { filter, scope, sort: None, page, view: View::Detail, count: true })
}

/// `search`, `order`, `page` and `per_page`; a blank value counts as absent
/// (Rails' `present?`).
fn list_query(query: &Query, scope: Filter) -> Result<ListQuery, GatewayError> {
    let present = |key| query.get(key).filter(|v| !v.trim().is_empty());
    let mut filter = Filter::default();
    if let Some(text) = present("search") {
        search::parse_into(text, &mut filter)?;
    }
    let sort = present("order").map(parse_order).transpose()?;
    let per_page = present("per_page").map_or(Ok(Some(DEFAULT_PER_PAGE)), parse_per_page)?;
    let page = present("page").map_or(Ok(1), parse_page)?;
    let start = match per_page {
        Some(per_page) => PageStart::Offset(
            (page - 1)
                .checked_mul(per_page)
                .ok_or_else(|| param_error(format!("page {page} is out of range"), PARAM_INVALID, Some("page")))?,
        ),
        None => PageStart::First,
    };
    let page = PageRequest { start, limit: per_page };
    Ok(ListQuery { filter, scope: Some(Box::new(scope)), sort, page, view: View::Detail, count: true })
}

/// `<field> [ASC|DESC]`, ascending when no direction is given.
fn parse_order(order: &str) -> Result<Sort, GatewayError> {
    let invalid = |message: String| param_error(message, QUERY_NOT_SUPPORTED, None);
    let mut words = order.split_whitespace();
    let field = words.next().unwrap_or_default();
    let field = sort_field_named(field).ok_or_else(|| invalid(format!("cannot order by {field}")))?;
    let descending = match words.next() {
        None => false,
        Some(dir) if dir.eq_ignore_ascii_case("asc") => false,
        Some(dir) if dir.eq_ignore_ascii_case("desc") => true,
        Some(dir) => return Err(invalid(format!("invalid order direction {dir}"))),
    };
    match words.next() {
        Some(_) => Err(invalid(format!("invalid order {order}"))),
        None => Ok(Sort { field, descending }),
    }
}

/// Foreman's sortable image fields (`operatingsystem` and `architecture`
/// sort by display name here), plus the timestamps.
const SORT_FIELDS: [(&str, SortField); 6] = [
    ("id", SortField::Id),
    ("name", SortField::Name),
    ("operatingsystem", SortField::Os),
    ("architecture", SortField::Architecture),
    ("created_at", SortField::Created),
    ("updated_at", SortField::Updated),
];

fn sort_field_named(name: &str) -> Option<SortField> {
    SORT_FIELDS.iter().find(|(n, _)| *n == name).map(|(_, field)| *field)
}

pub(super) fn sort_field_name(field: SortField) -> &'static str {
    SORT_FIELDS.iter().find(|(_, f)| *f == field).map_or("id", |(name, _)| name)
}

/// A positive integer up to [`MAX_PER_PAGE`], or `all` (`None`).
fn parse_per_page(value: &str) -> Result<Option<usize>, GatewayError> {
    if value == "all" {
        return Ok(None);
    }
    let per_page = positive(value)
        .ok_or_else(|| param_error(format!("invalid per_page parameter: {value}"), PARAM_INVALID, Some("per_page")))?;
    if per_page as u64 > MAX_PER_PAGE {
        let message = format!("per_page {value} is more than {MAX_PER_PAGE}, the most one page holds");
        return Err(param_error(message, PARAM_INVALID, Some("per_page")));
    }
    Ok(Some(per_page))
}

fn parse_page(value: &str) -> Result<usize, GatewayError> {
    positive(value).ok_or_else(|| param_error(format!("invalid page parameter: {value}"), PARAM_INVALID, Some("page")))
}

fn positive(value: &str) -> Option<usize> {
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    value.parse().ok().filter(|n| digits && *n > 0)
}

pub(super) fn encode(ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> Reply {
    let scope = ctx.scope.as_deref();
    match outcome {
        Outcome::Image(image) => match op {
            ImageOp::Write(WriteOp::Register(..)) => respond(StatusCode::CREATED, &ImageView { image: &image, scope }),
            ImageOp::Write(WriteOp::Delete { .. }) => respond(StatusCode::OK, &RawRecord { image: &image, scope }),
            // an image of another compute resource is not found under this one
            ImageOp::Show(id) if scope.is_some_and(|cr| !image::in_compute_resource(&image, cr)) => {
                fault::render(&GatewayError::image_not_found(id.as_str()))
            }
            _ => show(ctx, &image),
        },
        Outcome::List(page) if ctx.call == EdgeCall::Foreman(Action::Show) => match page.images.first() {
            Some(image) => show(ctx, image),
            None => fault::render(&GatewayError::image_not_found(shown_id(op))),
        },
        Outcome::List(page) => index(ctx, op, &page.images, &page),
        Outcome::Images(images) => index(ctx, op, &images, &ListPage::default()),
        Outcome::Metadata(_) | Outcome::Done => {
            fault::render(&GatewayError::internal(format!("{} has no foreman rendering", op.name())))
        }
    }
}

fn show(ctx: &EdgeCtx, image: &Image) -> Reply {
    respond(StatusCode::OK, &ImageView { image, scope: ctx.scope.as_deref() })
}

fn shown_id(op: &ImageOp) -> &str {
    match op {
        ImageOp::Show(id) => id.as_str(),
        ImageOp::List(q) => q.filter.shown.iter().find(|c| c.field == "id").map_or("", |c| c.value.as_str()),
        ImageOp::GetMany(_) => "",
        ImageOp::Write(write) => write.image_id().map_or("", ImageId::as_str),
    }
}

/// `index_layout.json.erb` around the images. `page` supplies the counts
/// the backend knows; the rest comes from the request.
fn index(ctx: &EdgeCtx, op: &ImageOp, images: &[Image], page: &ListPage) -> Reply {
    let (page_number, per_page, requested_offset) = requested_page(op);
    let offset = page.offset.unwrap_or(requested_offset);
    let subtotal = page.matched.unwrap_or(offset + images.len() + usize::from(page.more));
    let total = page.total.unwrap_or(subtotal);
    let sort = match op {
        ImageOp::List(q) => q.sort,
        _ => None,
    };
    respond(
        StatusCode::OK,
        &Envelope {
            total,
            subtotal,
            page: page_number,
            per_page: per_page.unwrap_or(total),
            search: ctx.search.as_deref(),
            sort: SortEcho {
                by: sort.map(|s| sort_field_name(s.field)),
                order: sort.map(|s| if s.descending { "DESC" } else { "ASC" }),
            },
            results: Results { images, scope: ctx.scope.as_deref() },
        },
    )
}

/// The page number, page size (`None`: all) and offset the caller asked for.
fn requested_page(op: &ImageOp) -> (usize, Option<usize>, usize) {
    match op {
        ImageOp::List(q) => match (&q.page.start, q.page.limit) {
            (PageStart::Offset(offset), Some(limit)) if limit > 0 => (offset / limit + 1, Some(limit), *offset),
            (_, limit) => (1, limit, 0),
        },
        _ => (1, None, 0),
    }
}

fn respond<T: Serialize>(status: StatusCode, body: &T) -> Reply {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_reply(status, bytes),
        Err(e) => fault::render(&GatewayError::internal(format!("cannot write reply: {e}"))),
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    total: usize,
    subtotal: usize,
    page: usize,
    per_page: usize,
    search: Option<&'a str>,
    sort: SortEcho,
    results: Results<'a>,
}

#[derive(Serialize)]
struct SortEcho {
    by: Option<&'static str>,
    order: Option<&'static str>,
}

struct Results<'a> {
    images: &'a [Image],
    scope: Option<&'a str>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.images.iter().map(|image| ImageView { image, scope: self.scope }))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::{Value, json};

    use super::super::Foreman;
    use super::super::image::{CR_NAME, USER_DATA};
    use super::super::tests::body_json;
    use super::*;
    use crate::dialect::EdgeCodec;
    use crate::model::ErrorKind;
    use crate::model::Resource;

    fn parts(method: &str, uri: &str) -> Parts {
        http::Request::builder().method(method).uri(uri).body(()).unwrap().into_parts().0
    }

    fn decoded(method: &str, uri: &str) -> (EdgeCtx, Result<ImageOp, GatewayError>) {
        let parts = parts(method, uri);
        let mut ctx = Foreman.context(&parts, "http://gw");
        let op = Foreman.decode(&mut ctx, &parts, &Bytes::new()).map(|req| match req {
            EdgeRequest::Op(op) => op,
            EdgeRequest::Local(_) => panic!("local reply for {uri}"),
        });
        (ctx, op)
    }

    fn list(uri: &str) -> ListQuery {
        match decoded("GET", uri).1.unwrap() {
            ImageOp::List(q) => q,
            other => panic!("{other:?}"),
        }
    }

    fn refused(uri: &str) -> (ErrorKind, Value) {
        let (ctx, op) = decoded("GET", uri);
        let err = op.unwrap_err();
        (err.kind.clone(), body_json(Foreman.encode_error(&ctx, &err)))
    }

    fn page(start: PageStart, limit: Option<usize>) -> PageRequest {
        PageRequest { start, limit }
    }

    #[test]
    fn claims_api_but_not_gogrid() {
        for path in ["/api", "/api/", "/api/v2/compute_resources/1/images", "/api/hosts", "/apidoc", "/apidoc/v2.json"]
        {
            assert!(claims(path), "{path}");
        }
        for path in ["/api/grid", "/api/grid/image/list", "/apix", "/apidocs", "/v2/images", "/"] {
            assert!(!claims(path), "{path}");
        }
    }

    #[test]
    fn routes_with_and_without_version() {
        let r = route("/api/v2/compute_resources/my.cr/images/5.json").unwrap();
        assert_eq!(
            r,
            Route {
                parent: Parent::ComputeResource,
                parent_id: "my.cr",
                image_id: Some("5"),
                prefix: "/api/v2/compute_resources/my.cr"
            }
        );
        let r = route("/api/architectures/3/images/").unwrap();
        assert_eq!(
            (r.parent, r.parent_id, r.image_id, r.prefix),
            (Parent::Architecture, "3", None, "/api/architectures/3")
        );
        assert_eq!(route("/api/operatingsystems/2/images.json").unwrap().parent, Parent::OperatingSystem);
        for path in [
            "/api/compute_resources//images",
            "/api/compute_resources/1",
            "/api/compute_resources/1/images/5/extra",
            "/api/compute_resources/1/images//",
            "/api/hosts/1/images",
            "/api/v1/compute_resources/1/images",
            "/api/compute_resources/1/available_images",
        ] {
            assert_eq!(route(path), None, "{path}");
        }
    }

    #[test]
    fn index_under_a_compute_resource_has_foreman_defaults() {
        let (ctx, op) = decoded("GET", "/api/compute_resources/980190962/images");
        let in_compute_resource = Filter {
            shown: vec![Shown::new("compute_resource_id", "980190962", image::in_compute_resource)],
            ..Filter::default()
        };
        let op = op.unwrap();
        let ImageOp::List(query) = &op else { panic!("not a list") };
        // images that name no compute resource show this one
        assert_eq!(query.scope.as_ref().unwrap().shown[0].reads, Some(CR_ID));
        assert_eq!(
            op,
            ImageOp::List(ListQuery {
                filter: Filter::default(),
                scope: Some(Box::new(in_compute_resource)),
                sort: None,
                page: page(PageStart::Offset(0), Some(20)),
                view: View::Detail,
                count: true,
            })
        );
        assert_eq!(ctx.scope.as_deref(), Some("980190962"));
        assert_eq!(ctx.prefix, "/api/compute_resources/980190962");
        assert_eq!((ctx.call, ctx.search), (EdgeCall::Foreman(Action::Index), None));
    }

    #[test]
    fn show_under_a_compute_resource() {
        let (ctx, op) = decoded("GET", "/api/v2/compute_resources/cr%201/images/ami-1%2F2");
        assert_eq!(op.unwrap(), ImageOp::Show(ImageId::new("ami-1/2")));
        assert_eq!((ctx.scope.as_deref(), ctx.call), (Some("cr 1"), EdgeCall::Foreman(Action::Show)));
        let (_, op) = decoded("HEAD", "/api/compute_resources/1/images/9");
        assert_eq!(op.unwrap(), ImageOp::Show(ImageId::new("9")));
    }

    #[test]
    fn os_and_architecture_parents_become_conditions() {
        let q = list("/api/operatingsystems/309172073/images?per_page=5");
        assert!(q.filter.is_empty());
        let os = Shown::new("operatingsystem_id", "309172073", image::shows_operatingsystem);
        assert_eq!(q.scope.unwrap().shown, [os]);
        let (ctx, op) = decoded("GET", "/api/architectures/7/images/12");
        assert_eq!((ctx.scope, ctx.call), (None, EdgeCall::Foreman(Action::Show)));
        let q = match op.unwrap() {
            ImageOp::List(q) => q,
            other => panic!("{other:?}"),
        };
        assert_eq!(q.filter.shown, [Shown::new("id", "12", image::shows_id)]);
        assert_eq!(q.scope.unwrap().shown, [Shown::new("architecture_id", "7", image::shows_architecture)]);
        assert_eq!(q.page, page(PageStart::First, Some(1)));
    }

    #[test]
    fn list_parameters() {
        let (ctx, op) = decoded(
            "GET",
            "/api/compute_resources/1/images?search=name%20~%20cent%20and%20username%3Droot&order=name+DESC&page=3&per_page=10",
        );
        let ImageOp::List(q) = op.unwrap() else { panic!() };
        assert_eq!(ctx.search.as_deref(), Some("name ~ cent and username=root"));
        assert_eq!(q.filter.name_like.as_deref(), Some("cent"));
        assert_eq!(q.filter.shown, [Shown::new("username", "root", image::shows_username)]);
        assert_eq!(q.sort, Some(Sort { field: SortField::Name, descending: true }));
        assert_eq!(q.page, page(PageStart::Offset(20), Some(10)));
        let q = list("/api/compute_resources/1/images?per_page=all&page=4&order=id");
        assert_eq!(q.page, page(PageStart::First, None));
        assert_eq!(q.sort, Some(Sort { field: SortField::Id, descending: false }));
        let q = list("/api/compute_resources/1/images?search=&order=&page=&per_page=");
        assert_eq!((q.filter, q.sort, q.page), (Filter::default(), None, page(PageStart::Offset(0), Some(20))));
        let q = list(
            "/api/compute_resources/1/images?search=compute_resource%3Dbig+and+user_data%3D0&order=created_at%20asc",
        );
        assert_eq!(
            q.filter.extra,
            [(CR_NAME.to_owned(), "big".to_owned()), (USER_DATA.to_owned(), "false".to_owned())]
        );
        assert_eq!(q.sort, Some(Sort { field: SortField::Created, descending: false }));
        // apypie's one huge page, with the parent repeated in the query as python-foreman sends it
        let q = list("/api/compute_resources/1/images?per_page=4294967296&compute_resource_id=1&id=3");
        assert_eq!((q.filter, q.page), (Filter::default(), page(PageStart::Offset(0), Some(4_294_967_296))));
    }

    #[test]
    fn bad_parameters_are_param_errors() {
        let param = |message: &str, name: &str| {
            (
                ErrorKind::BadRequest,
                json!({"error": {"message": message, "class": "Apipie::ParamInvalid", "parameter_name": name}}),
            )
        };
        let query = |message: &str| {
            (ErrorKind::BadRequest, json!({"error": {"message": message, "class": "ScopedSearch::QueryNotSupported"}}))
        };
        let base = "/api/compute_resources/1/images";
        assert_eq!(refused(&format!("{base}?per_page=0")), param("invalid per_page parameter: 0", "per_page"));
        assert_eq!(refused(&format!("{base}?per_page=-1")), param("invalid per_page parameter: -1", "per_page"));
        assert_eq!(refused(&format!("{base}?per_page=ALL")), param("invalid per_page parameter: ALL", "per_page"));
        assert_eq!(
            refused(&format!("{base}?per_page=4294967297")),
            param("per_page 4294967297 is more than 4294967296, the most one page holds", "per_page")
        );
        assert_eq!(
            refused(&format!("{base}?per_page=99999999999999999999999")),
            param("invalid per_page parameter: 99999999999999999999999", "per_page")
        );
        assert_eq!(refused(&format!("{base}?page=0")), param("invalid page parameter: 0", "page"));
        assert_eq!(refused(&format!("{base}?page=two")), param("invalid page parameter: two", "page"));
        assert_eq!(
            refused(&format!("{base}?page=99999999999999999999&per_page=2")),
            param("invalid page parameter: 99999999999999999999", "page")
        );
        let huge = usize::MAX / 2;
        assert_eq!(
            refused(&format!("{base}?page={huge}&per_page=3")),
            param(&format!("page {huge} is out of range"), "page")
        );
        assert_eq!(refused(&format!("{base}?order=username")), query("cannot order by username"));
        assert_eq!(refused(&format!("{base}?order=name%20up")), query("invalid order direction up"));
        assert_eq!(refused(&format!("{base}?order=name%20asc%20id")), query("invalid order name asc id"));
        assert_eq!(refused(&format!("{base}?search=a%20or%20b")), query("search syntax 'or' is not supported"));
        assert_eq!(
            refused("/api/compute_resources/%FF/images"),
            param("compute_resource_id is not valid utf-8", "compute_resource_id")
        );
        assert_eq!(refused("/api/compute_resources/1/images/%C3"), param("id is not valid utf-8", "id"));
    }

    #[test]
    fn unknown_paths_are_foreman_404s() {
        for path in ["/api", "/api/hosts", "/api/v2/compute_resources/1", "/apidoc/v1.json", "/apidoc/v2"] {
            let (kind, body) = refused(path);
            assert_eq!(kind, ErrorKind::NotFound { resource: Resource::Route, id: path.to_owned() });
            assert_eq!(body, json!({"error": {"message": format!("no route matches {path}")}}));
        }
    }

    /// Decodes a request with a body; `content_type` `None` sends none.
    fn written(
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (EdgeCtx, Result<ImageOp, GatewayError>) {
        let mut builder = http::Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
        }
        let parts = builder.body(()).unwrap().into_parts().0;
        let mut ctx = Foreman.context(&parts, "http://gw");
        let op = Foreman.decode(&mut ctx, &parts, &Bytes::from(body.to_owned())).map(|req| match req {
            EdgeRequest::Op(op) => op,
            EdgeRequest::Local(_) => panic!("local reply for {uri}"),
        });
        (ctx, op)
    }

    const JSON: Option<&str> = Some("application/json");

    fn write_op(op: Result<ImageOp, GatewayError>) -> WriteOp {
        match op.unwrap() {
            ImageOp::Write(write) => write,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn methods_route_as_rails_resources_do() {
        let allow = |method: &str, uri: &str| {
            let (ctx, op) = written(method, uri, JSON, "{}");
            let err = op.unwrap_err();
            assert_eq!(err.kind, ErrorKind::MethodNotAllowed, "{method} {uri}");
            let reply = Foreman.encode_error(&ctx, &err);
            assert_eq!(reply.status(), 405);
            reply.headers()[http::header::ALLOW].to_str().unwrap().to_owned()
        };
        for method in ["PUT", "PATCH", "DELETE"] {
            assert_eq!(allow(method, "/api/compute_resources/1/images"), "GET, HEAD, POST");
        }
        assert_eq!(allow("POST", "/api/compute_resources/1/images/2"), "GET, HEAD, PUT, PATCH, DELETE");
        assert_eq!(allow("OPTIONS", "/api/architectures/1/images/2"), "GET, HEAD, PUT, PATCH, DELETE");
        let (_, op) = written("POST", "/api/nothing", JSON, "{}");
        assert!(matches!(op.unwrap_err().kind, ErrorKind::NotFound { .. }));
        let (ctx, _) = written("PATCH", "/api/compute_resources/1/images/2", JSON, "{}");
        assert_eq!(ctx.call, EdgeCall::Foreman(Action::Update));
        let (ctx, _) = written("DELETE", "/api/compute_resources/1/images/2", None, "");
        assert_eq!(ctx.call, EdgeCall::Foreman(Action::Destroy));
    }

    #[test]
    fn a_create_registers_under_its_parent() {
        let body = r#"{"image": {"name": "TestImage", "username": "ec2-user", "uuid": "abcdef", "password": "pw",
                                  "compute_resource_id": 928692541, "operatingsystem_id": 309172073}}"#;
        let (ctx, op) = written("POST", "/api/v2/compute_resources/980190962/images", JSON, body);
        assert_eq!(
            (ctx.call, ctx.scope.as_deref(), ctx.search),
            (EdgeCall::Foreman(Action::Create), Some("980190962"), None)
        );
        let WriteOp::Register(image, _) = write_op(op) else { panic!("not a register") };
        assert_eq!(image.name, "TestImage");
        assert_eq!(image.extra.get(CR_ID), Some(&json!(980190962)));
        assert_eq!(image.extra.get(OS_ID), Some(&json!(309172073)));
        let (ctx, op) = written("POST", "/api/operatingsystems/3/images.json", JSON, body);
        assert_eq!(ctx.scope, None);
        let WriteOp::Register(image, _) = write_op(op) else { panic!("not a register") };
        assert_eq!(image.extra.get(OS_ID), Some(&json!(3)));
        assert_eq!(image.extra.get(CR_ID), Some(&json!(928692541)));
    }

    #[test]
    fn updates_and_deletes_name_their_image() {
        for method in ["PUT", "PATCH"] {
            let (_, op) = written(method, "/api/compute_resources/1/images/2", JSON, r#"{"image": {"name": "x"}}"#);
            let WriteOp::Update { id, patch } = write_op(op) else { panic!("not an update") };
            assert_eq!((id.as_str(), patch.name.as_deref()), ("2", Some("x")));
        }
        let (_, op) = written("PUT", "/api/compute_resources/1/images/2", JSON, r#"{"image": {}}"#);
        assert_eq!(write_op(op), WriteOp::Update { id: ImageId::new("2"), patch: Default::default() });
        let (_, op) = written("DELETE", "/api/architectures/7/images/a%20b", None, "");
        assert_eq!(write_op(op), WriteOp::Delete { id: ImageId::new("a b"), trash: false });
    }

    #[test]
    fn bad_write_bodies_get_foremans_answers() {
        let refused = |content_type, body: &str| {
            let (ctx, op) = written("POST", "/api/compute_resources/1/images", content_type, body);
            let reply = Foreman.encode_error(&ctx, &op.unwrap_err());
            (reply.status().as_u16(), body_json(reply))
        };
        let (status, body) = refused(Some("text/plain"), "{}");
        assert_eq!(status, 415);
        assert!(body["error"]["message"].as_str().unwrap().starts_with("Media type in 'Content-Type: text/plain' is"));
        assert_eq!(
            refused(JSON, "{"),
            (
                400,
                json!({"status": 400, "error": "There was a problem in the JSON you submitted: unexpected token at '{'"})
            )
        );
        let (status, body) = refused(JSON, r#"{"image": {"username": "u", "uuid": "x"}}"#);
        assert_eq!(
            (status, body),
            (
                422,
                json!({"error": {"id": null, "errors": {"name": ["can't be blank"]}, "full_messages": ["Name can't be blank"]}})
            )
        );
    }

    #[test]
    fn writes_render_as_foreman_answers_them() {
        let (ctx, op) = written(
            "POST",
            "/api/compute_resources/9/images",
            JSON,
            r#"{"image": {"name": "n", "username": "u", "uuid": "x"}}"#,
        );
        let op = op.unwrap();
        let ImageOp::Write(WriteOp::Register(mut image, _)) = op.clone() else { panic!("not a register") };
        image.id = ImageId::new("10");
        image.created = Some(time::macros::datetime!(2019-09-11 14:34:13.271 UTC));
        let (status, body) = encoded(&ctx, &op, Outcome::Image(image.clone()));
        assert_eq!(status, 201);
        assert_eq!(
            (body["id"].clone(), body["compute_resource_id"].clone(), body["created_at"].clone()),
            (json!(10), json!(9), json!("2019-09-11 14:34:13 UTC"))
        );
        let (ctx, op) = written("PUT", "/api/compute_resources/9/images/10", JSON, r#"{"image": {}}"#);
        let (status, body) = encoded(&ctx, &op.unwrap(), Outcome::Image(image.clone()));
        assert_eq!((status, body["name"].clone()), (200, json!("n")));
        let (ctx, op) = written("DELETE", "/api/compute_resources/9/images/10", None, "");
        let (status, body) = encoded(&ctx, &op.unwrap(), Outcome::Image(image));
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            format!(
                concat!(
                    r#"{{"id":10,"operatingsystem_id":{},"compute_resource_id":9,"architecture_id":1,"uuid":"x","#,
                    r#""username":"u","name":"n","created_at":"2019-09-11T14:34:13.271Z","#,
                    r#""updated_at":"2019-09-11T14:34:13.271Z","iam_role":null,"user_data":false,"password":null}}"#
                ),
                crate::dialect::ids::derived("Unknown")
            )
        );
    }

    fn image(id: &str, name: &str) -> Image {
        Image { id: ImageId::new(id), name: name.into(), ..Image::default() }
    }

    fn encoded(ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> (u16, Value) {
        let reply = Foreman.encode(ctx, op, outcome);
        assert_eq!(reply.headers()["foreman_version"], "3.12.0");
        (reply.status().as_u16(), body_json(reply))
    }

    fn list_op(start: PageStart, limit: Option<usize>, sort: Option<Sort>) -> ImageOp {
        ImageOp::List(ListQuery {
            filter: Filter::default(),
            sort,
            page: page(start, limit),
            view: View::Detail,
            count: true,
            scope: Some(Box::default()),
        })
    }

    fn envelope(reply: &Value) -> Value {
        let mut reply = reply.clone();
        reply.as_object_mut().unwrap().remove("results");
        reply
    }

    #[test]
    fn index_envelope_uses_the_backend_counts() {
        let mut ctx = EdgeCtx::new(Dialect::Foreman, "http://gw");
        ctx.scope = Some("5".into());
        ctx.search = Some("name ~ a".into());
        let op = list_op(PageStart::Offset(4), Some(2), Some(Sort { field: SortField::Os, descending: true }));
        let outcome = ListPage {
            images: vec![image("1", "a"), image("x", "b")],
            offset: Some(4),
            matched: Some(9),
            total: Some(30),
            more: true,
        };
        let (status, body) = encoded(&ctx, &op, Outcome::List(outcome));
        assert_eq!(status, 200);
        assert_eq!(
            envelope(&body),
            json!({"total": 30, "subtotal": 9, "page": 3, "per_page": 2, "search": "name ~ a",
                   "sort": {"by": "operatingsystem", "order": "DESC"}})
        );
        assert_eq!(body["results"][0]["id"], json!(1));
        assert_eq!(body["results"][1]["id"], json!(crate::dialect::ids::derived("x")));
        assert_eq!(body["results"][1]["compute_resource_id"], json!(5));
    }

    #[test]
    fn index_envelope_fills_unknown_counts() {
        let ctx = EdgeCtx::new(Dialect::Foreman, "http://gw");
        let op = list_op(PageStart::Offset(20), Some(20), None);
        let outcome = ListPage { images: vec![image("1", "a")], ..ListPage::default() };
        let (_, body) = encoded(&ctx, &op, Outcome::List(outcome));
        assert_eq!(
            envelope(&body),
            json!({"total": 21, "subtotal": 21, "page": 2, "per_page": 20, "search": null,
                   "sort": {"by": null, "order": null}})
        );
        let outcome = ListPage { images: vec![image("1", "a")], more: true, ..ListPage::default() };
        let (_, body) = encoded(&ctx, &list_op(PageStart::Offset(0), Some(1), None), Outcome::List(outcome));
        assert_eq!((body["total"].clone(), body["subtotal"].clone()), (json!(2), json!(2)));
        let all = list_op(PageStart::First, None, None);
        let outcome =
            ListPage { images: vec![image("1", "a"), image("2", "b")], total: Some(7), ..ListPage::default() };
        let (_, body) = encoded(&ctx, &all, Outcome::List(outcome));
        assert_eq!((body["per_page"].clone(), body["subtotal"].clone()), (json!(7), json!(2)));
        let many = ImageOp::GetMany(crate::model::GetMany {
            key: crate::model::LookupKey::Id,
            values: vec![],
            shown_name: None,
        });
        let (_, body) = encoded(&ctx, &many, Outcome::Images(vec![image("1", "a"), image("2", "b")]));
        assert_eq!(
            envelope(&body),
            json!({"total": 2, "subtotal": 2, "page": 1, "per_page": 2, "search": null,
                   "sort": {"by": null, "order": null}})
        );
        assert_eq!(body["results"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn show_is_the_bare_image() {
        let (mut ctx, op) = decoded("GET", "/api/compute_resources/1/images/7");
        let (status, body) = encoded(&ctx, &op.unwrap(), Outcome::Image(image("7", "seven")));
        assert_eq!((status, body["id"].clone(), body["name"].clone()), (200, json!(7), json!("seven")));
        ctx.scope = None;
        let (ctx, op) = decoded("GET", "/api/operatingsystems/3/images/7");
        let op = op.unwrap();
        let found = ListPage { images: vec![image("7", "seven")], ..ListPage::default() };
        let (status, body) = encoded(&ctx, &op, Outcome::List(found));
        assert_eq!(
            (status, body["name"].clone(), body["compute_resource_id"].clone()),
            (200, json!("seven"), Value::Null)
        );
        let (status, body) = encoded(&ctx, &op, Outcome::List(ListPage::default()));
        assert_eq!((status, body), (404, json!({"error": {"message": "Resource image not found by id '7'"}})));
    }
}
