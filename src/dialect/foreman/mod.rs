//! Foreman API v2 images (`theforeman/foreman`, `api/v2/images_controller.rb`).
//!
//! # Edge paths
//!
//! Every path may carry `/v2` after `/api` (Foreman's `ApiConstraints`), a
//! trailing slash or a `.json` suffix. `ctx.call` is the controller
//! action (`index`, `show`, `create`, `update`, `destroy`).
//!
//! | path                                                  | op                                                   |
//! |-------------------------------------------------------|------------------------------------------------------|
//! | `GET /api/compute_resources/{cr}/images`              | `List`, `ctx.scope = cr`                             |
//! | `GET /api/compute_resources/{cr}/images/{id}`         | `Show(id)`, `ctx.scope = cr`                         |
//! | `GET /api/operatingsystems/{os}/images`               | `List`, extra `foreman.operatingsystem_id = os`      |
//! | `GET /api/architectures/{arch}/images`                | `List`, extra `foreman.architecture_id = arch`       |
//! | `GET /api/{operatingsystems,architectures}/{p}/images/{id}` | `List` of id + the parent condition, limit 1; shown bare, 404 when empty |
//! | `POST …/{parent}/{p}/images` `{"image":{…}}`          | `Write(Register(image))`: the body's fields (see `write.rs`), extra `foreman.<parent>_id = p`; 201 `main` view |
//! | `PUT`/`PATCH …/{parent}/{p}/images/{id}` `{"image":{…}}` | `Write(Update{id, patch})`; `{"image":{}}` is an empty patch; 200 `main` view |
//! | `DELETE …/{parent}/{p}/images/{id}`                   | `Write(Delete{id, trash: false})` (Foreman has no trash); 200 raw record |
//! | another method on an image path                       | 405, `Allow` naming the path's methods               |
//! | `GET /apidoc/v2.json`                                 | local, no credentials: the apipie description of the paths above (`apidoc.rs`) |
//! | `GET /apidoc/apipie_checksum`                         | local, no credentials: `{"checksum": md5 of the description}` |
//! | `GET /api[/v2]/status`                                | local, no credentials: `{"result":"ok","status":200,"version":"3.12.0","api_version":2}` |
//! | any other `/api/…` (not `/api/grid/…`), `/apidoc/…`   | 404 `{"error":{"message":"no route matches …"}}`    |
//!
//! # Writes
//!
//! Rails routes the writes under all three parents; apipie documents them
//! under compute resources only. Under an operating system or architecture
//! an update or delete names its image by id alone: the gateway cannot make
//! a write conditional on the parent, where Foreman would answer 404 for an
//! image outside it.
//!
//! | step (in Foreman's order)                  | refusal                                                      |
//! |--------------------------------------------|--------------------------------------------------------------|
//! | POST/PUT/PATCH without a JSON media type (`application/json`, `text/x-json`, `application/jsonrequest`, any parameters) | 415 `{"error":{"message":"Media type in 'Content-Type: <as sent>' is unsupported …"}}` |
//! | a JSON body that does not parse (DELETE's too) | 400 `{"status":400,"error":"There was a problem in the JSON you submitted: unexpected token at '…'"}` |
//! | a required field missing or blank          | 422 `{"error":{"id":<image id or null>,"errors":{…},"full_messages":[…]}}` |
//!
//! Foreman checks the media type of POST and PUT only; PATCH is held to it
//! here too, rather than read as a form. The parser's message is worded as
//! Ruby's, quoting the body from where reading stopped (or all of it when it
//! ended early); the exact spot may differ from Ruby's.
//!
//! A created image is the `main` view with status 201; an update's, 200.
//! A delete answers the raw model JSON (`resource.to_json`): `id`,
//! `operatingsystem_id`, `compute_resource_id`, `architecture_id`, `uuid`,
//! `username`, `name`, `created_at`/`updated_at` as `2019-09-11T14:34:13.271Z`,
//! `iam_role`, `user_data` (`false`, the column default, when unknown) and
//! `password`, always null. No password is ever kept: one given in a body
//! is dropped on reading, so an update giving only a password changes
//! nothing.
//!
//! # List parameters
//!
//! | parameter  | canonical                                                                    |
//! |------------|------------------------------------------------------------------------------|
//! | `search`   | [`Filter`] (see `search.rs`); the raw text is echoed in `ctx.search`         |
//! | `order`    | [`Sort`]: `id`, `name`, `operatingsystem`/`architecture` (by display name), `created_at`, `updated_at`; `ASC`/`DESC` |
//! | `page`     | 1-based, default 1: `PageStart::Offset((page - 1) * per_page)`              |
//! | `per_page` | positive integer up to 4294967296, apypie's one-page size (default 20), or `all` (limit `None`, `page` ignored); larger is refused, never served as a smaller page |
//!
//! Bad values are 400 in `param_error` shape: `class` `Apipie::ParamInvalid`
//! with `parameter_name` for `page`/`per_page`/path segments,
//! `ScopedSearch::QueryNotSupported` for `search` and `order`.
//!
//! # Image fields (`main` view, in this order)
//!
//! | wire                       | canonical                          | foreign image default            |
//! |----------------------------|------------------------------------|----------------------------------|
//! | `operatingsystem_id`       | extra `foreman.operatingsystem_id` | null                             |
//! | `operatingsystem_name`     | `os`                               | null                             |
//! | `compute_resource_id`      | extra `foreman.compute_resource_id`| `ctx.scope` (number when decimal), else null |
//! | `compute_resource_name`    | extra `foreman.compute_resource_name` | null                          |
//! | `architecture_id`          | extra `foreman.architecture_id`    | null                             |
//! | `architecture_name`        | `architecture`                     | null                             |
//! | `uuid`                     | extra `foreman.uuid`               | the canonical id                 |
//! | `username`                 | extra `foreman.username`           | null (the gateway cannot know the login) |
//! | `created_at`, `updated_at` | `created`, `updated`               | null; written `2019-09-11 14:34:13 UTC`, read in that form or RFC 3339 |
//! | `user_data`, `iam_role`    | extras, written only when present  | absent                           |
//! | `id`                       | `id`                               | JSON number when a canonical decimal, else string |
//! | `name`                     | `name`                             |                                  |
//! | any other field            | extra `foreman.<field>`, written after `name` |                       |
//! | `password`                 | dropped when read, never written   |                                  |
//!
//! Status: Foreman has none; images read are `Active` with no `backend_status`.
//!
//! # Envelope
//!
//! `{"total","subtotal","page","per_page","search","sort":{"by","order"},"results"}`:
//! `subtotal` = `ListPage.matched`, else offset + count (+1 when more
//! follow); `total` = `ListPage.total`, else `subtotal`; `per_page=all`
//! renders `total`. Get-many outcomes render as one page holding them all.
//!
//! # Errors
//!
//! | kind                 | status | body                                                              |
//! |----------------------|--------|-------------------------------------------------------------------|
//! | NotFound             | 404    | `{"error":{"message":"Resource <resource> not found by id '<id>'"}}` |
//! | BadRequest           | 400    | `{"error":{"message","class"[, "parameter_name"]}}` (class `ActionController::BadRequest` when none is known) |
//! | Unauthorized         | 401    | `{"error":{"message":"Unable to authenticate user "}}` (login unknown: blank, as Foreman renders it without one) |
//! | Forbidden            | 403    | `{"error":{"message":"Access denied","details":<message>}}`       |
//! | UnsupportedMediaType | 415    | Foreman's media type message, content type blank (the edge's own 415 names it) |
//! | Unsupported          | 501    | `{"error":{"message":"<operation> is not supported by the <backend> backend"}}` |
//! | UpstreamUnavailable  | 503    | `{"message":…}` (no wrapper, as Foreman's maintenance reply)     |
//! | Internal             | 500    | `{"error":{"message":"Internal Server Error: the server was unable …"}}` |
//! | others               | status | `{"error":{"message":…}}` (429 adds `Retry-After`, 405 `Allow`)  |
//!
//! The edge's own refusals of bad writes (415, malformed JSON 400, 422)
//! travel as Foreman bodies too, so they are rendered exactly.
//!
//! A Foreman error body read from an upstream (or built for a bad
//! parameter) travels as the error's cause and is repeated as it is,
//! except for 401 (it names the gateway's upstream login) and internal
//! kinds. Every reply carries `Foreman_api_version: 2`,
//! `Foreman_version: 3.12.0` and `Apipie-Checksum` (the description's).
//!
//! # Upstream
//!
//! `GET {base}/api/v2/compute_resources/{scope}/images[/{id}]` with Basic
//! auth (or `Bearer` for a token), `Accept: application/json;version=2`,
//! `Content-Type: application/json`; lists send `search`, `order`, `page`,
//! `per_page` (`all` when unlimited). Page numbers, totals, server-side
//! order (`operatingsystem`/`architecture` order by id in Foreman;
//! `created`/`updated` orders are left to Foreman's default), no get-many.
//!
//! Native filters, written as one scoped-search query: `id` (decimal ids
//! only), `name` (`=`), `name_like` (`~`), and the extras
//! `foreman.username`, `foreman.compute_resource_name`,
//! `foreman.operatingsystem_id`/`foreman.architecture_id` (decimal) and
//! `foreman.user_data` (`true`/`false`). `os` and `architecture` are
//! display names, which Foreman cannot search (its `operatingsystem` and
//! `architecture` fields are ids), so they stay with the gateway like every
//! other condition.
//!
//! Writes, sent once with the same headers and a JSON body:
//!
//! | op                        | request                                                  | reply                       |
//! |---------------------------|----------------------------------------------------------|-----------------------------|
//! | `Register(image)`         | `POST …/images` `{"image":{name, username, uuid, architecture_id \| architecture_name, operatingsystem_id \| operatingsystem_name, user_data, iam_role}}` (what the image has) | 201 → `Image` |
//! | `Update{id, patch}`       | `PUT …/images/{id}` `{"image":{…}}`, the patch's fields  | 200 → `Image`               |
//! | `Delete{id, trash}`       | `DELETE …/images/{id}`, no body, whatever `trash` says   | 200 raw record → `Image` with status `Deleted`; an empty body → `Done` |
//! | `Snapshot`, `Restore`, metadata ops | —: unsupported (Foreman registers existing templates; it cannot save one from a server, has no trash and no metadata) | |
//!
//! A display name (`os`, `architecture`) is sent as `operatingsystem_name`
//! / `architecture_name`, which Foreman looks up, only when the id is not
//! known. A register never sends `compute_resource_id` or
//! `compute_resource_name`: the upstream path names the compute resource,
//! and Foreman would ignore them. No password is ever sent.
//!
//! An update is sent only when Foreman can store all of it: a patch with a
//! `description`, a visibility (`public`) or an extra other than Foreman's
//! permitted parameters (`foreman.username`, `uuid`, `operatingsystem_id`,
//! `architecture_id`, `compute_resource_id`, `compute_resource_name`,
//! `user_data`, `iam_role`) is unsupported as a whole, never sent in part.
//!
//! Error statuses map through [`super::error_from_status`]; a JSON body's
//! most telling text (422 `full_messages`, 403 `details`, `message`)
//! becomes the message. A 422 is a bad request that keeps Foreman's body,
//! so a Foreman edge answers the very same 422 and others their own 400;
//! a 404 to an update names its image.

mod apidoc;
pub mod contract;
mod edge;
mod fault;
mod image;
mod profile;
mod search;
mod upstream;
mod write;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, request::Parts};

pub use edge::Action;

use super::{Capabilities, EdgeCodec, EdgeCtx, EdgeRequest, Outcome, Reply, Target, UpstreamCall, UpstreamCodec};
#[cfg(doc)]
use crate::model::Sort;
use crate::model::{Filter, GatewayError, ImageOp};

/// The Foreman release the edge claims to be.
const FOREMAN_VERSION: &str = "3.12.0";

pub struct Foreman;

impl EdgeCodec for Foreman {
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
        fault::render_for(ctx, err)
    }
}

impl UpstreamCodec for Foreman {
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

/// A JSON reply with the version headers Foreman adds to every API reply.
fn json_reply(status: StatusCode, body: Vec<u8>) -> Reply {
    let mut reply = super::reply::reply(status, "application/json; charset=utf-8", body);
    let headers = reply.headers_mut();
    headers.insert(HeaderName::from_static("foreman_api_version"), HeaderValue::from_static("2"));
    headers.insert(HeaderName::from_static("foreman_version"), HeaderValue::from_static(FOREMAN_VERSION));
    if let Ok(checksum) = HeaderValue::from_str(&apidoc::CHECKSUM) {
        headers.insert(HeaderName::from_static("apipie-checksum"), checksum);
    }
    reply
}

#[cfg(test)]
pub(super) mod tests {
    use futures_util::FutureExt;
    use http_body_util::BodyExt;
    use serde_json::Value;

    use super::Reply;

    /// The body of a reply, parsed.
    pub(crate) fn body_json(reply: Reply) -> Value {
        let body = reply.into_body().collect().now_or_never().expect("a full body is ready").expect("infallible");
        serde_json::from_slice(&body.to_bytes()).expect("a json body")
    }
}
