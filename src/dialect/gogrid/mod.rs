//! GoGrid: `/api/grid/image/{list,get}`, parameters in the query string (GET)
//! or a form body (POST), replies in JSON, XML or CSV (`format`).
//!
//! # Edge paths
//!
//! | path | operation |
//! |---|---|
//! | `/api/grid/image/list` | `List`: `isPublic` → `public`; `image.state` or `state` → `status`; `image.type` or `type` → extra `("gogrid.type", name)`; `datacenter` → `zone`; `num_items` + `page` (0-based, ignored without `num_items`) → `Offset(page × num_items)`, limit `num_items` |
//! | `/api/grid/image/get` | `GetMany`: repeated `id` (`Id`), `name` (`Name`) or `image` (`IdOrName`); exactly one kind |
//! | `/api/grid/image/{save,edit,delete,restore}` | `Unsupported` (501): images are read-only for now |
//! | any other `/api/grid/…` | 404 failure, errorcode `NotFound` |
//!
//! Every call needs `v` (1.0 to 1.9); `format` is `json` (default), `xml` or
//! `csv`, any case. `api_key` and `sig` are accepted and not verified yet.
//! HTTP methods other than GET, HEAD and POST are `MethodNotAllowed`; a POST
//! body must be form-encoded.
//!
//! # Replies
//!
//! `{"list":[…],"method":"/grid/image/get","status":"success","summary":{"numpages","returned","start","total"}}`.
//! `numpages` is 0 unless `num_items` was given, else `ceil(total / num_items)`;
//! `start` is the page's offset; `total` the number of matching images.
//! Objects are `"serverimage"` from list and save, `"image"` from get, edit,
//! delete and restore. A get matching nothing is GoGrid's 400
//! `IllegalArgumentException` "No object found that matches your input criteria.".
//! Error statuses and codes: see [`envelope::Failure::of`].
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
//! | CSV `server.id` | `server_id` |
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
//! `GET {base}/api/grid/image/list|get?api_key=…&sig=…&v=1.9&format=…&…`,
//! `sig` = md5(key + secret + `target.now`) ([`sign::signature`]). `Show`
//! is `get?id=…` (a non-numeric id is not found without a call); `GetMany`
//! repeats `id`, `name` or `image`. Lists page by `num_items` and `page`.
//! JSON, XML and CSV replies are read; errors as in [`upstream`]'s table.

mod csv;
mod edge;
mod envelope;
mod image;
mod json;
pub mod sign;
mod upstream;
mod xml;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, request::Parts};

use super::{Capabilities, EdgeCodec, EdgeCtx, EdgeRequest, Outcome, Reply, Target, UpstreamCall, UpstreamCodec};
use crate::model::{Filter, GatewayError, ImageOp};

pub struct GoGrid;

/// The image methods of the GoGrid API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiMethod {
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

    fn named(name: &str) -> Option<ApiMethod> {
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

    /// The operation, in words, for not-implemented errors.
    fn operation(self) -> &'static str {
        match self {
            ApiMethod::List => "list images",
            ApiMethod::Get => "get images",
            ApiMethod::Save => "save image",
            ApiMethod::Edit => "edit image",
            ApiMethod::Delete => "delete image",
            ApiMethod::Restore => "restore image",
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
