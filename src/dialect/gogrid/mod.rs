//! GoGrid: `/api/grid/image/{list,get,save,edit,delete,restore}`, parameters
//! in the query string (GET) or a form body (POST), replies in JSON, XML or
//! CSV (`format`).
//!
//! # Edge paths
//!
//! | path | operation |
//! |---|---|
//! | `/api/grid/image/list` | `List`: `isPublic`, `image.state` or `state`, `image.type` or `type` → conditions on the value this edge shows (`isPublic`, the state and type options' names); `datacenter` → `zone`; `num_items` + `page` (0-based, ignored without `num_items`) → `Offset(page × num_items)`, limit `num_items` |
//! | `/api/grid/image/get` | `GetMany`: repeated `id` (`Id`), `name` (`Name`) or `image` (`IdOrName`); exactly one kind; a name is the unique name this edge shows (`ShownName`), whatever the backend |
//! | `/api/grid/image/save` | `Write(Snapshot)`: `friendlyName` → `name` and `server` (id or name, passed on as given) required; `description` optional |
//! | `/api/grid/image/edit` | `Write(Update{id, patch})`: the image (below); `friendlyName` → `name`, `description`, `isPublic` → `public`, at least one |
//! | `/api/grid/image/delete` | `Write(Delete{id, trash: true})`: GoGrid's delete sends the image to the trash |
//! | `/api/grid/image/restore` | `Write(Restore(id))` |
//! | any other `/api/grid/…` | 404 failure, errorcode `NotFound` |
//!
//! Every call needs `v` (1.0 to 1.9); `format` is `json` (default), `xml` or
//! `csv`, any case. `api_key` and `sig` are verified by `src/identity`
//! (a bad key or signature is the 403 below).
//! HTTP methods other than GET, HEAD and POST are `MethodNotAllowed`; a POST
//! body must be form-encoded. The write methods take GET (jclouds) or POST
//! (libcloud's save), never HEAD (`MethodNotAllowed`).
//!
//! A write names its one image by `id` or `image`, given once; the value is
//! the image id. GoGrid's `image` also takes a unique name: a name that is
//! no id of the backend matches nothing and gets GoGrid's not-found answer.
//! `name` (the unique `GSI-…` name) is refused with a 400: the canonical
//! write names images by id, and a name taken for an id could change
//! another image. Write parameters given twice, empty `friendlyName`,
//! `server`, `id` or `image`, a `description` over 500 characters and an
//! edit without a field to change are 400 `IllegalArgumentException`s; a
//! save without `friendlyName` or `server` is "missing required parameter
//! friendlyName" (or `server`).
//!
//! # Replies
//!
//! `{"list":[…],"method":"/grid/image/get","status":"success","summary":{"numpages","returned","start","total"}}`.
//! `numpages` is 0 unless `num_items` was given, else `ceil(total / num_items)`;
//! `start` is the page's offset; `total` the number of matching images.
//! Objects are `"serverimage"` from list and save, `"image"` from get, edit,
//! delete and restore. JSON, XML and CSV replies have the shapes of the
//! seed's samples; a JSON body keeps GoGrid's key order.
//!
//! A write answers with the one image it changed and its state as the
//! backend reports it: a save `1 Saving` or `2 Available`; a delete
//! `4 Trash` when the backend trashed the image, `3 Deleted` when it
//! deleted it for good (a backend without a trash); a restore `2 Available`.
//!
//! # Errors we render
//!
//! The same envelope with `"status":"failure"`, a summary without `numpages`
//! and one `{"object":"error","message","errorcode"}`. XML and CSV error
//! bodies are not documented by GoGrid; they follow the success shapes
//! (`<object name="error">`, `# FAILURE, …` + `# errorcode,message`).
//! Status codes are GoGrid's where it has one (400, 401, 403, 404, 500),
//! the HTTP meaning otherwise; error codes other than
//! `IllegalArgumentException` and `UnexpectedException` are our own words.
//!
//! | kind | status | errorcode |
//! |---|---|---|
//! | `NotFound` (an image, or the server of a save), and a get matching nothing | 400 | `IllegalArgumentException`, "No object found that matches your input criteria." |
//! | `NotFound` (anything else: an API method) | 404 | `NotFound` |
//! | `BadRequest`, `Conflict` (a restore of an image not in the trash) | 400 | `IllegalArgumentException`, the error's message |
//! | `Unauthorized` (bad key or signature) | 403 | `AuthenticationFailed` |
//! | `Forbidden` (the key's role lacks the right) | 401 | `Unauthorized` |
//! | `MethodNotAllowed` | 405 | `MethodNotAllowed` |
//! | `PayloadTooLarge` | 413 | `PayloadTooLarge` |
//! | `UnsupportedMediaType` | 415 | `UnsupportedMediaType` |
//! | `RateLimited` | 429 | `RateLimitExceeded`, with `Retry-After` |
//! | `Internal` | 500 | `UnexpectedException` |
//! | `Unsupported` | 501 | `NotImplemented` |
//! | `UpstreamProtocol` | 502 | `BadGateway` |
//! | `UpstreamUnavailable` | 503 | `ServiceUnavailable` |
//! | `UpstreamTimeout` | 504 | `GatewayTimeout` |
//!
//! # Image fields
//!
//! | GoGrid | canonical |
//! |---|---|
//! | `id` (number when numeric) | `id` |
//! | `friendlyName` | `name` |
//! | `name` (unique, `GSI-…`) | extra `gogrid.name`; a foreign image shows its display name (what every backend looks names up by), or its id when it has none |
//! | `description` | `description` |
//! | `state` | `status` + `backend_status` (table below) |
//! | `os` / `architecture` option | `os` / `architecture` (the option name); the id and description go to `gogrid.os.id`, `gogrid.os.description`, … when they differ from the vocabulary's |
//! | `type` option | extra `gogrid.type` (name), `gogrid.type.id`, `gogrid.type.description` (when they differ from the vocabulary's); foreign images are `1 Web Server` |
//! | `isPublic` | `public` (foreign default false) |
//! | `isActive` | extra `gogrid.isActive` when false (default true) |
//! | `createdTime` / `updatedTime` (epoch ms) | `created` / `updated` |
//! | `location` | extra `gogrid.location` (foreign default `""`) |
//! | `price` | extra `gogrid.price` when not 0 (default 0) |
//! | `owner` | extras `gogrid.owner.id`, `gogrid.owner.name`; foreign public images are GoGrid's own (`-1`, `GoGrid`), others `0`, `""` |
//! | `billingtokens` | extra `gogrid.billingtokens`, as sent (default `[]`) |
//! | `datacenterlist` (1.9) | `zones` (datacenter names) + extra `gogrid.datacenterlist` as sent; foreign zones render as `{"datacenter":{"name":zone,"object":"option"}}` |
//! | `server.id` (a CSV column; rendered in CSV only) | `server_id` |
//!
//! | GoGrid `state` | canonical |
//! |---|---|
//! | 1 Saving, 7 Migrating | `Saving` (Migrating renders back from `backend_status`) |
//! | 2 Available | `Active` |
//! | 3 Deleted | `Deleted` |
//! | 4 Trash | `Trashed` |
//! | other (kept in `gogrid.state.id`, `gogrid.state.description`) | `Unknown` |
//! | — | `Error` renders as `0 Error`, `Unknown` without a GoGrid state as `0 Unknown` |
//!
//! # Upstream
//!
//! `GET {base}/api/grid/image/<method>?api_key=…&sig=…&v=1.9&format=…&…`
//! with `Accept` matching `format`; `sig` = md5(key + secret + `target.now`)
//! ([`sign::signature`]); without credentials neither is sent. `Show` is
//! `get?id=…`; `GetMany` repeats `id`, `name` or `image`. Lists page by
//! `num_items` and `page` (`Paging::PageNumber`, at most 1000 a page) and
//! report `summary.total` as the matching count; GoGrid cannot sort.
//! Native filters: `isPublic`, `image.state` (Available, Deleted, Trash:
//! canonical `Saving` is two GoGrid states, so it stays with the gateway),
//! `image.type` (extra `gogrid.type`), `datacenter` (`zone`).
//!
//! Writes are signed GETs too, as jclouds sends them (libcloud POSTs its
//! save as a form; GoGrid takes both), sent once:
//!
//! | write | call |
//! |---|---|
//! | `Snapshot` | `save?friendlyName=…&server=…[&description=…]`; metadata, which GoGrid cannot keep, is `Unsupported` |
//! | `Update` | `edit?id=…[&friendlyName=…][&description=…][&isPublic=true\|false]` (`name` → `friendlyName`); a patch with `os`, `architecture` or any extra (`foreman.username`, …) is `Unsupported`, never a partial edit; an empty patch reads the image (`get?id=…`) |
//! | `Delete` | `delete?id=…`: GoGrid always trashes, so a delete from a dialect without a trash (`trash: false`) also lands in GoGrid's trash, and the reply says `Trash` |
//! | `Restore` | `restore?id=…` |
//! | `Register`, `SetMetadata`, `SetMetadataItem`, `DeleteMetadataItem` | `Unsupported`: GoGrid has no such method |
//!
//! A write's reply carries the image (`Image`); one without it is
//! `UpstreamProtocol`. Ids go out as given: a non-numeric one gets GoGrid's
//! own answer.
//!
//! Replies are read in JSON, XML or CSV (by content type, else by their
//! first byte). Errors:
//!
//! | reply | error |
//! |---|---|
//! | message "No object found…" (GoGrid sends it with 400) | `NotFound`, naming the looked-up ids; for a save, `NotFound` of the server |
//! | 400, or a 2xx failure with `IllegalArgumentException` | `BadRequest` |
//! | 403 "Authentication Failed" (bad key, signature or clock) | `Unauthorized` |
//! | 401 (the key's role lacks the right) | `Forbidden` |
//! | 404 (no such method on that server) | `Unsupported`, naming the call |
//! | 500, or a 2xx failure with `UnexpectedException` | `UpstreamUnavailable`: GoGrid's own failure, retrying may help |
//! | any other 2xx failure (e.g. a failure listing a server) | `UpstreamProtocol` |
//! | other statuses | `error_from_status` |
//! | a body that is no GoGrid reply (HTML from the API proxy) | by status as above; with a 2xx status `UpstreamProtocol` |
//!
//! The 401/403 reading holds for HTML bodies too: GoGrid's API proxy answers
//! bad credentials with an HTML 403.

mod boolean;
pub mod contract;
mod csv;
mod edge;
mod envelope;
mod image;
mod json;
mod profile;
pub mod sign;
mod upstream;
mod write;
mod xml;

pub(crate) use edge::parameters;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, request::Parts};

use super::{Capabilities, EdgeCodec, EdgeCtx, EdgeRequest, Outcome, Reply, Target, UpstreamCall, UpstreamCodec};
use crate::model::{Filter, GatewayError, ImageOp};

pub struct GoGrid;

/// The image methods of the GoGrid API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMethod {
    List,
    Get,
    Save,
    Edit,
    Delete,
    Restore,
}

impl ApiMethod {
    const ALL: [ApiMethod; 6] =
        [ApiMethod::List, ApiMethod::Get, ApiMethod::Save, ApiMethod::Edit, ApiMethod::Delete, ApiMethod::Restore];

    /// The method's name, which replies echo: its path under `/api`.
    fn name(self) -> &'static str {
        match self {
            ApiMethod::List => "/grid/image/list",
            ApiMethod::Get => "/grid/image/get",
            ApiMethod::Save => "/grid/image/save",
            ApiMethod::Edit => "/grid/image/edit",
            ApiMethod::Delete => "/grid/image/delete",
            ApiMethod::Restore => "/grid/image/restore",
        }
    }

    /// The method of this name (`/grid/image/get`).
    pub fn named(name: &str) -> Option<ApiMethod> {
        ApiMethod::ALL.into_iter().find(|m| m.name() == name)
    }

    fn from_path(path: &str) -> Option<ApiMethod> {
        ApiMethod::named(path.strip_prefix("/api")?)
    }

    /// The `object` of the images a reply to this method carries.
    fn object(self) -> &'static str {
        match self {
            ApiMethod::List | ApiMethod::Save => "serverimage",
            ApiMethod::Get | ApiMethod::Edit | ApiMethod::Delete | ApiMethod::Restore => "image",
        }
    }
}

impl EdgeCodec for GoGrid {
    fn claims(&self, path: &str) -> bool {
        edge::claims(path)
    }

    fn context(&self, parts: &Parts, origin: &str) -> EdgeCtx {
        edge::context(parts, origin)
    }

    fn decode(&self, ctx: &mut EdgeCtx, parts: &Parts, body: &Bytes) -> Result<EdgeRequest, GatewayError> {
        edge::decode(ctx, parts, body)
    }

    fn encode(&self, ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> Reply {
        edge::encode(ctx, op, outcome)
    }

    fn encode_error(&self, ctx: &EdgeCtx, err: &GatewayError) -> Reply {
        edge::encode_error(ctx, err)
    }
}

impl UpstreamCodec for GoGrid {
    fn capabilities(&self) -> Capabilities {
        upstream::capabilities()
    }

    fn split_filter(&self, filter: &Filter) -> (Filter, Filter) {
        upstream::split_filter(filter)
    }

    fn encode(&self, call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
        upstream::encode(call, target)
    }

    fn decode(
        &self,
        call: &UpstreamCall,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Outcome, GatewayError> {
        upstream::decode(call, status, headers, body)
    }
}
