//! The four API dialects. Each is both an edge (we are its server) and an
//! upstream (we are its client), so each module implements two small traits:
//! [`EdgeCodec`] and [`UpstreamCodec`], and tells the rest of the gateway
//! what it needs to know besides through a third, [`Profile`]. The closed
//! [`Dialect`] enum picks one; a forgotten match arm is a compile error, and
//! no module outside this one matches on dialects.
//!
//! Adding a dialect is one module implementing the three traits and keeping
//! its contract (`contract.rs`), one enum arm, its fixtures and one row in the
//! matrix and conformance tests (`docs/ARCHITECTURE.md` has the checklist).

pub mod contract;
mod fields;
#[cfg(feature = "fifth-dialect")]
pub mod fifth;
pub mod foreman;
pub mod gogrid;
pub mod hostway;
pub mod ids;
mod json_out;
mod list_writer;
pub mod openstack;
pub mod profile;
mod query;
mod reply;
pub(crate) mod timestamp;

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, request::Parts};

use crate::model::{
    Filter, GatewayError, GetMany, Image, ImageId, ImageOp, PageStart, Resource, Sort, SortField, View, WriteGuard,
    WriteOp,
};

pub use list_writer::ListWriter;
// the model's outcome, which every edge renders and every upstream decodes into
pub use crate::model::Outcome;
pub use profile::Profile;
pub use query::{Query, percent_encode_segment};
pub use reply::{Reply, ReplyBody, json_reply, reply, retry_after_secs, text_reply, with_body, write_retry_after};

/// One of the four API dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Hostway,
    #[serde(rename = "openstack")]
    OpenStack,
    #[serde(rename = "gogrid")]
    GoGrid,
    Foreman,
    /// A dialect for the test that adding one takes one module and this arm.
    #[cfg(feature = "fifth-dialect")]
    Fifth,
}

impl Dialect {
    #[cfg(not(feature = "fifth-dialect"))]
    pub const ALL: [Dialect; 4] = [Dialect::Hostway, Dialect::OpenStack, Dialect::GoGrid, Dialect::Foreman];
    #[cfg(feature = "fifth-dialect")]
    pub const ALL: [Dialect; 5] =
        [Dialect::Hostway, Dialect::OpenStack, Dialect::GoGrid, Dialect::Foreman, Dialect::Fifth];

    /// The name used in config files, the command line and messages.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Hostway => "hostway",
            Dialect::OpenStack => "openstack",
            Dialect::GoGrid => "gogrid",
            Dialect::Foreman => "foreman",
            #[cfg(feature = "fifth-dialect")]
            Dialect::Fifth => "fifth",
        }
    }

    /// The names of all dialects, for messages: `hostway, openstack, …`.
    pub fn names() -> String {
        Dialect::ALL.map(Dialect::name).join(", ")
    }

    pub fn from_name(name: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name().eq_ignore_ascii_case(name))
    }

    /// The dialect whose edge answers this path. The edges claim disjoint
    /// paths (Foreman's `/api/` leaves GoGrid's `/api/grid/`).
    pub fn for_path(path: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.edge().claims(path))
    }

    /// The dialect's module: its one place in this match.
    fn module(self) -> &'static dyn DialectModule {
        match self {
            Dialect::Hostway => &hostway::Hostway,
            Dialect::OpenStack => &openstack::OpenStack,
            Dialect::GoGrid => &gogrid::GoGrid,
            Dialect::Foreman => &foreman::Foreman,
            #[cfg(feature = "fifth-dialect")]
            Dialect::Fifth => &fifth::Fifth,
        }
    }

    pub fn edge(self) -> &'static dyn EdgeCodec {
        self.module()
    }

    pub fn upstream(self) -> &'static dyn UpstreamCodec {
        self.module()
    }

    /// What the rest of the gateway knows about the dialect.
    pub fn profile(self) -> &'static dyn Profile {
        self.module()
    }
}

/// Everything a dialect is: its edge, its upstream and its profile, which
/// its module implements on one unit struct.
trait DialectModule: EdgeCodec + UpstreamCodec + Profile {}

impl<T: EdgeCodec + UpstreamCodec + Profile> DialectModule for T {}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reply body format. Only GoGrid offers more than JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Xml,
    Csv,
}

/// What the edge learned about a request that it needs to render the reply
/// or an error: built before decoding, so even a malformed request is
/// answered in the right dialect and format.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeCtx {
    pub dialect: Dialect,
    /// `scheme://authority` as the client reached us, for links.
    pub origin: String,
    /// The tenant the path names: Hostway account, OpenStack project,
    /// Foreman compute resource (or operating system / architecture).
    pub scope: Option<String>,
    /// The path up to and excluding `/images`, for links (`/v2/demo`).
    pub prefix: String,
    pub format: Format,
    /// The method called, in the dialect's own terms, for a reply that
    /// depends on it.
    pub call: EdgeCall,
    /// The caller's raw search expression, echoed back (Foreman `search`).
    pub search: Option<String>,
    /// A part of the image the reply shows instead of the whole image
    /// (OpenStack `metadata`, or one metadata key).
    pub item: Option<Item>,
    /// The API version the reply answers in, for a dialect that names it in
    /// its reply headers (OpenStack's compute microversion on `/v2.1`).
    pub version: Option<String>,
    /// The client the caller authenticated as: GoGrid shows it as the owner
    /// of private images whose upstream names none.
    pub caller: Option<String>,
    /// What a write asks of the backend before it is carried out: its image
    /// found by name, within the path's scope, its new values unique. Boxed,
    /// and only for writes that ask it: most requests have none.
    pub guard: Option<Box<WriteGuard>>,
}

/// The method a caller called, as its edge's dialect names it: read from
/// the request head or by `decode`, read back by `encode` and
/// `encode_error`. A dialect whose replies do not depend on the method
/// called has no arm here, and leaves `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EdgeCall {
    #[default]
    None,
    OpenStack(openstack::NovaMethod),
    GoGrid(gogrid::ApiMethod),
    Foreman(foreman::Action),
    /// What the Hostway path names, split once by the context.
    Hostway(hostway::PathCall),
}

/// A part of an image a reply may show on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Metadata,
    MetadataKey(String),
}

impl EdgeCtx {
    pub fn new(dialect: Dialect, origin: impl Into<String>) -> Self {
        Self {
            dialect,
            origin: origin.into(),
            scope: None,
            prefix: String::new(),
            format: Format::Json,
            call: EdgeCall::None,
            search: None,
            item: None,
            version: None,
            caller: None,
            guard: None,
        }
    }
}

/// A decoded edge request. Built once per request and moved, so its size
/// does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EdgeRequest {
    /// An image operation for a backend to carry out.
    Op(ImageOp),
    /// A request the edge answers by itself (version documents).
    Local(Reply),
}

/// The edge half: how clients of this dialect talk to us.
pub trait EdgeCodec: Send + Sync {
    /// True when this dialect's edge answers `path`.
    fn claims(&self, path: &str) -> bool;
    /// Reads what rendering needs (scope, format, link prefix) from the request
    /// head. Never fails: whatever it cannot read keeps its default.
    fn context(&self, parts: &Parts, origin: &str) -> EdgeCtx;
    /// Parses a request into a canonical operation.
    fn decode(&self, ctx: &mut EdgeCtx, parts: &Parts, body: &Bytes) -> Result<EdgeRequest, GatewayError>;
    /// Renders an outcome in this dialect.
    fn encode(&self, ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> Reply;
    /// Renders an error in this dialect's status and body shape.
    fn encode_error(&self, ctx: &EdgeCtx, err: &GatewayError) -> Reply;
    /// The refusal of a request body nested deeper than `max_depth`, found
    /// before it is decoded: a bad request, or the dialect's own words for a
    /// body it cannot read.
    fn too_deep(&self, max_depth: usize) -> GatewayError {
        GatewayError::bad_request(format!("the request body nests deeper than {max_depth} levels"))
    }
    /// The writer of `op`'s list reply, when the edge can write it image by
    /// image (a shape with no count before the images); `None` otherwise.
    fn list_writer(&self, _ctx: &EdgeCtx, _op: &ImageOp) -> Option<Box<dyn ListWriter>> {
        None
    }
    /// Learns the authenticated caller's own account, for a path that names
    /// none (Hostway's short `/images` paths link to the account's URI).
    fn caller_account(&self, _ctx: &mut EdgeCtx, _account: &str) {}
}

/// How an upstream pages its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Everything in one reply.
    None,
    /// `limit` + `marker` (the id of the last image seen).
    Marker,
    /// Page numbers of a fixed size; offsets must be multiples of the size.
    PageNumber,
}

/// What an upstream dialect can express (Deltacloud's `has_capability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub paging: Paging,
    /// The largest page the upstream serves.
    pub max_page: usize,
    /// Replies to a list carry the number of matching images.
    pub reports_total: bool,
    /// Get-many by id, name or either in one call.
    pub get_many: bool,
    /// The fields the upstream orders lists by; the gateway orders by the others.
    pub sort_fields: &'static [SortField],
}

/// The credentials an upstream call carries.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    None,
    Basic {
        user: String,
        password: String,
    },
    Token(String),
    GoGrid {
        api_key: String,
        secret: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            Credentials::Token(_) => f.write_str("Token(<redacted>)"),
            Credentials::GoGrid { api_key, .. } => write!(f, "GoGrid({api_key}, <redacted>)"),
        }
    }
}

/// Where and as whom an upstream call is made.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The upstream's root URL without a trailing slash (`http://10.0.0.5:8774`);
    /// it may carry a path prefix, which every upstream path goes under.
    pub base: &'a str,
    /// The tenant upstream: account, project or compute resource.
    pub scope: &'a str,
    pub credentials: &'a Credentials,
    /// Unix seconds, for signatures (GoGrid `sig`).
    pub now: i64,
    /// The reply format to ask for (GoGrid).
    pub format: Format,
}

/// A call the upstream half can express in one request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamCall {
    Show(ImageId),
    GetMany(GetMany),
    List {
        /// Only conditions the upstream can apply (see [`UpstreamCodec::split_filter`]).
        filter: Filter,
        sort: Option<Sort>,
        view: View,
        /// `After` only with [`Paging::Marker`]; `Offset` only with
        /// [`Paging::PageNumber`] and a multiple of `limit`.
        start: PageStart,
        limit: Option<usize>,
    },
    /// A change, expressed as the upstream's own write (see [`WriteOp`]).
    Write(WriteOp),
}

/// The upstream half: how we talk to a server of this dialect.
pub trait UpstreamCodec: Send + Sync {
    fn capabilities(&self) -> Capabilities;
    /// Splits a filter into what the upstream applies itself and what the
    /// gateway must apply after it: `(native, residual)`.
    fn split_filter(&self, filter: &Filter) -> (Filter, Filter);
    /// Builds the upstream request. Ids are percent-encoded into paths.
    fn encode(&self, call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError>;
    /// Reads the upstream reply, error bodies included: a non-success reply
    /// becomes the matching canonical error.
    fn decode(
        &self,
        call: &UpstreamCall,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Outcome, GatewayError>;
    /// How the images of a successful list reply to `call` are read one at
    /// a time, as the reply arrives; `None` when they cannot be.
    fn list_items(&self, _call: &UpstreamCall) -> Option<ListItems> {
        None
    }
}

/// Where a JSON list reply holds its images, and how one is read: the
/// reply's other keys, with the array emptied, still go through
/// [`UpstreamCodec::decode`].
#[derive(Clone, Copy)]
pub struct ListItems {
    /// The key of the top-level array of images.
    pub key: &'static str,
    /// One element of the array.
    pub decode: fn(&UpstreamCall, &[u8]) -> Result<Image, GatewayError>,
}

/// The canonical error for an upstream reply whose body said nothing more
/// specific: the status decides. A dialect's `decode` calls this after
/// reading what it can from its own error bodies.
pub fn error_from_status(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, message: &str) -> GatewayError {
    use crate::model::{ErrorKind, Side};
    let message = if message.is_empty() { format!("upstream answered {status}") } else { message.to_owned() };
    let kind = match status.as_u16() {
        400 | 422 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => match call {
            UpstreamCall::Show(id) => return GatewayError::image_not_found(id.as_str()),
            _ => ErrorKind::NotFound { resource: Resource::Image, id: String::new() },
        },
        405 => ErrorKind::MethodNotAllowed,
        406 => ErrorKind::NotAcceptable,
        409 => ErrorKind::Conflict,
        413 | 429 => ErrorKind::RateLimited { retry_after: retry_after(headers) },
        415 => ErrorKind::UnsupportedMediaType,
        501 => ErrorKind::Unsupported { operation: call.name().to_owned(), backend: "upstream" },
        502 | 503 => ErrorKind::UpstreamUnavailable,
        504 => ErrorKind::UpstreamTimeout,
        _ => ErrorKind::UpstreamProtocol,
    };
    GatewayError::new(kind, Side::Upstream, message)
}

/// The `Retry-After` header in seconds, when present and numeric.
pub fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let secs = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(std::time::Duration::from_secs(secs))
}

impl UpstreamCall {
    pub fn name(&self) -> &'static str {
        match self {
            UpstreamCall::Show(_) => "show image",
            UpstreamCall::GetMany(_) => "get many images",
            UpstreamCall::List { .. } => "list images",
            UpstreamCall::Write(write) => write.name(),
        }
    }
}

/// True for the methods that only read.
pub fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}
