//! OpenStack Compute v2 / v2.1: Nova's image proxy API.
//!
//! # Edge paths
//!
//! `{prefix}` is `/v2/{project}`, `/v2.1/{project}` or `/v2.1` (no project,
//! microversion 2.18 style). `ctx.scope` is the project, `ctx.prefix` the
//! prefix as the client wrote it.
//!
//! | method   | path                                  | decoded as                                             |
//! |----------|---------------------------------------|--------------------------------------------------------|
//! | GET      | `/`                                   | local: Nova's versions list (200)                      |
//! | GET      | `/v2`, `/v2/`                         | local: the v2.0 version document                       |
//! | GET      | `/v2.1`, `/v2.1/`                     | local: the v2.1 version document                       |
//! | GET      | `{prefix}/images`                     | `List`, `View::Summary`                                |
//! | GET      | `{prefix}/images/detail`              | `List`, `View::Detail`                                 |
//! | GET      | `{prefix}/images/{id}`                | `Show(id)`                                             |
//! | DELETE   | `{prefix}/images/{id}`                | `Delete { id, trash: false }` → 204, no body           |
//! | GET      | `{prefix}/images/{id}/metadata`       | `Show(id)`, `ctx.item = Metadata`                      |
//! | POST     | `{prefix}/images/{id}/metadata`       | `SetMetadata { replace: false }`, `ctx.item = Metadata` → 200 `{"metadata": all}` |
//! | PUT      | `{prefix}/images/{id}/metadata`       | `SetMetadata { replace: true }`, `ctx.item = Metadata` → 200 `{"metadata": all}` |
//! | GET      | `{prefix}/images/{id}/metadata/{key}` | `Show(id)`, `ctx.item = MetadataKey(key)`              |
//! | PUT      | `{prefix}/images/{id}/metadata/{key}` | `SetMetadataItem`, `ctx.item = MetadataKey(key)` → 200 `{"meta": {key: value}}` |
//! | DELETE   | `{prefix}/images/{id}/metadata/{key}` | `DeleteMetadataItem`, `ctx.item = MetadataKey(key)` → 204 |
//! | POST     | `{prefix}/servers/{id}/action`        | `{"createImage": …}`: `Snapshot` → 202 (below); any other action 400 "There is no such action: …" |
//! | other    | any of the above                      | 405 `badMethod`                                        |
//! | any      | anything else under `/v2`, `/v2.1`    | 404 `itemNotFound` "The resource could not be found."  |
//!
//! HEAD is read like GET. A trailing slash is tolerated. Ids, server ids
//! and metadata keys are percent-decoded from the path.
//!
//! Writes with a body check it as Nova does (see `body.rs` for each
//! message): a `Content-Type` other than JSON is a 415 "Unsupported
//! Content-Type", a body that is not JSON a 400 "Malformed request body",
//! and a body its schema refuses a 400 with Nova's `Invalid input for
//! field/attribute …` text. Metadata values must be strings of at most 255
//! characters under keys matching `[a-zA-Z0-9-_:. ]{1,255}`. `PUT
//! …/metadata/{key}` takes exactly one item: more is "Request body contains
//! too many items", another key "Request body and URI mismatch".
//!
//! `createImage` (`name` required, `metadata` optional; a `description` in
//! the metadata becomes `Snapshot.description` too) answers 202: without a
//! microversion or with one up to 2.44, no body and `Location:
//! {origin}{prefix}/images/{new id}`; from 2.45 (or `latest`) `{"image_id":
//! "…"}` and no `Location`. The server controller only saves images, so
//! every other action (reboot, resize, …) is answered as Nova answers an
//! action it does not know: 400 "There is no such action: <name>". Other
//! server paths are 404s. Nova has no image update, upload or restore, so
//! no request decodes to `Register`, `Update` or `Restore`.
//!
//! Microversions (`OpenStack-API-Version: compute X.Y`, else
//! `X-OpenStack-Nova-API-Version: X.Y`; none means 2.1): above 2.35 the image
//! paths answer 404 and above 2.38 the metadata paths do, as in Nova. A
//! malformed version is a 400, one outside 2.1–2.104 a 406 `computeFault`.
//! Every `/v2.1` reply names the version it answers in, as Nova's do:
//! `OpenStack-API-Version: compute X.Y`, `X-OpenStack-Nova-API-Version: X.Y`
//! and `Vary` on both (2.1 when the caller named none); `/v2` replies do
//! not. `createImage` gives the new image a UUID where the backend chooses
//! the id (the embedded catalog). The image delete
//! follows the image paths (2.35), the metadata writes the metadata paths
//! (2.38); `createImage` is served at every version.
//!
//! # List parameters
//!
//! | query           | canonical                                     | notes                                            |
//! |-----------------|-----------------------------------------------|--------------------------------------------------|
//! | `name`          | `Filter.name`                                 | exact                                            |
//! | `status`        | shown `status`                                | Nova words or Glance words, any case; else 400; judged on the status this edge shows (a trashed image is `DELETED`) |
//! | `changes-since` | `Filter.changed_since`                        | ISO 8601, no zone = UTC; else 400                |
//! | `minRam`        | `Filter.min_ram_mb`                           | digits, else 400                                 |
//! | `minDisk`       | `Filter.min_disk_gb`                          | digits, else 400                                 |
//! | `server`        | `Filter.server_id`                            | the part after the last `/` (a server URL works) |
//! | `type`          | shown `type`                                  | metadata `image_type` as shown (snapshot, backup); an image saved from a server shows `snapshot` |
//! | `property-<key>`| shown `property`                              | the metadata `<key>` shown, compared as text     |
//! | `limit`         | `PageRequest.limit`                           | digits, else 400; capped at 1000; 0 = no limit   |
//! | `marker`        | `PageStart::After(marker)`                    |                                                  |
//! | `page_size`, `offset` | checked as digits, otherwise unused     |                                                  |
//!
//! An empty value is no condition. Unknown parameters are tolerated and
//! ignored. The shown conditions judge the image as this edge renders it, so
//! they agree with the unfiltered list; no upstream applies them.
//!
//! # Image fields
//!
//! | wire (show/detail)      | canonical                                                           |
//! |-------------------------|---------------------------------------------------------------------|
//! | `id`                    | `id` (string; a JSON number is read as its digits)                  |
//! | `name`                  | `name` (`null` reads as empty)                                      |
//! | `status`                | `status` (table below); `backend_status` = the word as sent         |
//! | `progress`              | derived from the status; SAVING 25 is kept as extra `openstack.progress` |
//! | `created`, `updated`    | `created`, `updated` (`YYYY-MM-DDTHH:MM:SSZ`, `null` when unknown)  |
//! | `minRam`, `minDisk`     | `min_ram_mb`, `min_disk_gb` (integers or digit strings; 0 when unknown) |
//! | `OS-EXT-IMG-SIZE:size`  | `size_bytes` (omitted when unknown)                                 |
//! | `metadata`              | `metadata`; its `architecture` → `architecture`, `description` → `description`, `image_type` → extra `openstack.image_type` |
//! | `server.id`             | `server_id` (else metadata `instance_uuid`)                          |
//! | `OS-DCF:diskConfig`     | derived from metadata `auto_disk_config`; without that key, kept as extra `openstack.OS-DCF:diskConfig` |
//! | `links` self, bookmark  | rebuilt from `ctx.origin` and `ctx.prefix`                          |
//! | `links` alternate       | extra `openstack.alternate` (the Glance href); omitted when unknown |
//! | any other field         | extra `openstack.<field>`, re-emitted after the known fields         |
//!
//! Images from other dialects: `architecture`, `description` and
//! `openstack.image_type` are added to the rendered metadata when it lacks
//! those keys; `os`, `public` and `zones` have no place in Nova's image view.
//!
//! Links follow Nova exactly: self `{origin}{prefix}/images/{id}`, bookmark
//! the same without the version segment (`{origin}/{project}/images/{id}`),
//! `server` links likewise under `/servers/`. Lists carry
//! `images_links: [{"href": …, "rel": "next"}]` when `ListPage.more` is set;
//! its query is the caller's parameters sorted by name with `marker` set to
//! the last id (appended last when the caller sent none), as Nova builds it.
//! The parameters are the decoded ones: `limit` capped, `status` in Nova's
//! word, `server` as the bare id, unknown parameters left out. Without a
//! caller's `limit` the link carries none, as in Nova.
//!
//! # Status
//!
//! | Nova      | canonical            | progress                                       |
//! |-----------|----------------------|------------------------------------------------|
//! | `ACTIVE`  | `Active`             | 100                                            |
//! | `SAVING`  | `Saving`             | 25 when `backend_status` is `queued`, else 50  |
//! | `DELETED` | `Deleted`, `Trashed` | 0                                              |
//! | `ERROR`   | `Error`              | 0                                              |
//! | `UNKNOWN` | `Unknown` (and any other word read upstream) | 0                      |
//!
//! # Errors
//!
//! `{"<faultName>": {"code": N, "message": "…"}}`, `Content-Type:
//! application/json; charset=UTF-8` (Nova's `wsgi.Fault`):
//!
//! | kind                    | status | fault                | message                                   |
//! |-------------------------|--------|----------------------|-------------------------------------------|
//! | `NotFound` (an image)   | 404    | `itemNotFound`       | "Image not found."                        |
//! | `NotFound` (a metadata item) | 404 | `itemNotFound`     | "Invalid metadata key"                    |
//! | `NotFound` (a server)   | 404    | `itemNotFound`       | "Instance {id} could not be found."       |
//! | `NotFound` (other)      | 404    | `itemNotFound`       | "The resource could not be found."        |
//! | `BadRequest`            | 400    | `badRequest`         | the error's message                       |
//! | `Unauthorized`          | 401    | keystonemiddleware's `{"error": {"code", "title", "message"}}`, `WWW-Authenticate: Keystone uri="{origin}/v3"` | |
//! | `Forbidden`             | 403    | `forbidden`          | the error's message                       |
//! | `MethodNotAllowed`      | 405    | `badMethod`          |                                           |
//! | `Conflict`              | 409    | `conflictingRequest` |                                           |
//! | `PayloadTooLarge`       | 413    | `overLimit`          |                                           |
//! | `HeadTooLarge`          | 431    | `computeFault`       | the error's message (Nova names any unlisted code so) |
//! | `UnsupportedMediaType`  | 415    | `badMediaType`       |                                           |
//! | `RateLimited`           | 429    | `overLimit`          | + `retryAfter` (string) and `Retry-After` when known |
//! | `Unsupported`           | 501    | `notImplemented`     | names the operation and the backend       |
//! | `UpstreamUnavailable`   | 503    | `serviceUnavailable` | generic                                   |
//! | `UpstreamProtocol`      | 502    | `computeFault`       | generic (Nova names any unlisted code so) |
//! | `UpstreamTimeout`       | 504    | `computeFault`       | generic                                   |
//! | `Internal`              | 500    | `computeFault`       | generic                                   |
//!
//! A missing metadata key answers 404 "The resource could not be found.", as
//! Nova's `image_metadata.show` does; "Invalid metadata key" is the delete's
//! (the backend's `NotFound { resource: Resource::MetadataItem }`).
//!
//! Replies without a body (204, and 202 up to 2.44) carry `Content-Type:
//! application/json` and nothing else, as Nova's serializer leaves them.
//!
//! # Upstream
//!
//! `GET {base}/v2.1/{scope}/images[/detail|/{id}]` (`{base}/v2.1/images…`
//! when the scope is empty) with `Accept: application/json` and
//! `X-Auth-Token` from `Credentials::Token`; no microversion header (the
//! proxy answers 404 above 2.35). Marker paging up to 1000, no totals, no
//! get-many, no sorting. Native filters: name, changes-since, minRam,
//! minDisk, server. A status, type or property filter judges what the
//! caller's edge shows, so the gateway walks and judges it (Nova's own
//! status filter would not agree: it hands the word to Glance lower-cased,
//! so SAVING misses queued images and DELETED matches nothing). Error bodies: any `{"<fault>": {"message", …}}` (Nova,
//! Rackspace `unauthorized`), keystone's `{"error": {…}}`; the message is
//! kept verbatim and the status decides the kind; 404 on a show is
//! `image_not_found(id)`; 413/429 read `Retry-After` or the body's
//! `retryAfter`. Other bodies (HTML from a proxy) fall back to the status.
//!
//! Writes, sent as novaclient sends them (same headers, plus `Content-Type:
//! application/json` with a body, never a microversion):
//!
//! | op                   | request                                                        | reply → outcome                              |
//! |----------------------|----------------------------------------------------------------|----------------------------------------------|
//! | `Delete` (either `trash`: Nova has none, so it deletes for good) | `DELETE …/images/{id}` | 204 → `Done`                         |
//! | `SetMetadata`        | `POST` (merge) or `PUT` (replace) `…/images/{id}/metadata` `{"metadata": items}` | 200 `{"metadata"}` → `Metadata` |
//! | `SetMetadataItem`    | `PUT …/images/{id}/metadata/{key}` `{"meta": {key: value}}`    | 200 `{"meta"}` → `Metadata`                  |
//! | `DeleteMetadataItem` | `DELETE …/images/{id}/metadata/{key}`                          | 204 → `Done`                                 |
//! | `Snapshot`           | `POST …/servers/{server}/action` `{"createImage": {"name", "metadata"}}`; `description` goes into the metadata unless it has one | 202: the id is the last segment of `Location` (or the body's `image_id`) → `Image` saving, with the name, server, metadata asked for; no follow-up read |
//! | `Update` that changes nothing | `GET …/images/{id}`: no write                          | 200 `{"image"}` → `Image`, as it stands      |
//! | `Register`, `Update`, `Restore` | —                                                   | unsupported: Nova cannot register a template, rename or restore |
//!
//! A 404 on a write is the image (`image_not_found`), except on
//! `DeleteMetadataItem` when Nova did not say "Image not found." (it says
//! "Invalid metadata key": `NotFound { resource: Resource::MetadataItem, id: key }`)
//! and on `Snapshot` (`NotFound { resource: Resource::Server, id }`).

mod body;
mod clock;
pub mod contract;
mod edge;
mod method;
mod profile;
mod render;
mod upstream;
mod versions;
mod views;
mod wire;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, request::Parts};

pub use method::NovaMethod;

use super::{
    Capabilities, EdgeCodec, EdgeCtx, EdgeRequest, ListItems, ListWriter, Outcome, Reply, Target, UpstreamCall,
    UpstreamCodec,
};
use crate::model::{Filter, GatewayError, ImageOp};

/// Extra key of the Glance href of an image (the `alternate` link).
const EXTRA_ALTERNATE: &str = "openstack.alternate";
/// Extra key of the Glance property `image_type`, also the `type` filter.
const EXTRA_IMAGE_TYPE: &str = "openstack.image_type";
/// Extra key of a SAVING image's progress when it was 25 (Glance `queued`).
const EXTRA_PROGRESS: &str = "openstack.progress";
/// Extra key of `OS-DCF:diskConfig` when metadata has no `auto_disk_config`.
const EXTRA_DISK_CONFIG: &str = "openstack.OS-DCF:diskConfig";
/// The namespace of this dialect's extras.
const EXTRA_PREFIX: &str = "openstack.";

/// Nova's `CONF.api.max_limit`.
const MAX_LIMIT: usize = 1000;

pub struct OpenStack;

impl EdgeCodec for OpenStack {
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
        render::with_version_headers(ctx, render::outcome(ctx, op, &outcome))
    }

    fn encode_error(&self, ctx: &EdgeCtx, err: &GatewayError) -> Reply {
        render::with_version_headers(ctx, render::error(ctx, err))
    }

    /// Nova's words for a body it cannot read.
    fn too_deep(&self, _max_depth: usize) -> GatewayError {
        body::malformed()
    }

    fn list_writer(&self, ctx: &EdgeCtx, op: &ImageOp) -> Option<Box<dyn ListWriter>> {
        matches!(op, ImageOp::List(_)).then(|| Box::new(render::ImagesWriter::new(ctx, op)) as Box<dyn ListWriter>)
    }
}

impl UpstreamCodec for OpenStack {
    fn capabilities(&self) -> Capabilities {
        upstream::capabilities()
    }

    fn split_filter(&self, filter: &Filter) -> (Filter, Filter) {
        upstream::split_filter(filter)
    }

    fn encode(&self, call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
        upstream::request(call, target)
    }

    fn decode(
        &self,
        call: &UpstreamCall,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Outcome, GatewayError> {
        upstream::reply(call, status, headers, body)
    }

    fn list_items(&self, call: &UpstreamCall) -> Option<ListItems> {
        matches!(call, UpstreamCall::List { .. }).then_some(ListItems { key: "images", decode: upstream::list_item })
    }
}
