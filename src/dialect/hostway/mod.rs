//! Hostway FlexCloud: the image read API, as an edge and as an upstream.
//!
//! # Paths (edge and upstream)
//!
//! | request                                              | operation                       |
//! |------------------------------------------------------|---------------------------------|
//! | `GET /accounts/{acct}/flexcloud/images`              | `List`, summary view            |
//! | `GET /accounts/{acct}/flexcloud/images/detail`       | `List`, detail view             |
//! | `GET /accounts/{acct}/flexcloud/images/{id}`         | `Show(id)`                      |
//! | `GET /images`, `/images/detail`, `/images/{id}`      | the same for the caller's own account (scope `None`) |
//! | `HEAD` on any of them                                | as `GET`                        |
//! | `POST`/`PUT`/`DELETE`/… on any of them               | `MethodNotAllowed` (405 `badMethod`) |
//! | any other path under `/images` or `/accounts`        | 404 `itemNotFound`              |
//!
//! One trailing slash is tolerated on every path. Links are
//! `{origin}{prefix}/images/{id}/` for both `self` and `bookmark`, where the
//! prefix is `/accounts/{acct}/flexcloud` or empty. Hostway has no paging:
//! a list asks for everything and the reply carries no paging metadata.
//!
//! # List filters
//!
//! | query       | canonical filter                                   |
//! |-------------|----------------------------------------------------|
//! | `name`      | `name` (exact)                                     |
//! | `status`    | `shown status`: the word this edge renders, `ACTIVE`, `SAVING`, `DELETED` (also `ERROR`, `UNKNOWN`); a trashed image shows `DELETED` |
//! | `type`      | `shown type`: `BASE` for public images (the provider's base images, visible to all), `SERVER` for the others (images saved from the customer's servers, and images that say neither); an inference, the docs do not say it |
//! | `zone`      | `zone`                                             |
//!
//! Other parameters are ignored; a bad `status` or `type` is a 400.
//!
//! # Fields
//!
//! | Hostway   | canonical                                                       |
//! |-----------|-----------------------------------------------------------------|
//! | `id`      | `id`, always rendered as a JSON string                          |
//! | `name`    | `name`                                                          |
//! | `status`  | `status` and `backend_status` (table below)                     |
//! | `created` | `created`; `YYYY-MM-DDTHH:MM:SS` read and written as UTC, `null` when unknown |
//! | `updated` | read into `updated`; always rendered `null` ("unused always null") |
//! | `zones`   | `zones` (`[]` when the image names none)                        |
//! | `links`   | derived from the id, never stored                               |
//! | other     | `extra["hostway.<field>"]`, rendered back after `zones`         |
//!
//! A list read with a native `type` filter marks its images `public`; the
//! image body itself never says.
//!
//! # Status
//!
//! | Hostway   | canonical | rendered from canonical            |
//! |-----------|-----------|------------------------------------|
//! | `ACTIVE`  | `Active`  | `Active` → `ACTIVE`                |
//! | `SAVING`  | `Saving`  | `Saving` → `SAVING`                |
//! | `DELETED` | `Deleted` | `Trashed`, `Deleted` → `DELETED`   |
//! | `ERROR`   | `Error`   | `Error` → `ERROR`                  |
//! | other     | `Unknown` | `Unknown` → `UNKNOWN`, or the upstream's own word when a Hostway upstream sent one (`extra["hostway.status"]`) |
//!
//! `ERROR` and `UNKNOWN` are not in Hostway's documented vocabulary; they are
//! the words of the Rackspace/Nova v1.1 API Hostway's fault names come from,
//! so clients of that family know them. A summary entry carries no status
//! and reads as `Unknown`.
//!
//! # Errors
//!
//! | kind                          | status | body                                          |
//! |-------------------------------|--------|-----------------------------------------------|
//! | `Unauthorized`                | 401    | WebOb's plain text, `WWW-Authenticate: Basic realm="Hostway FlexCloud API"` |
//! | `Forbidden`                   | 403    | `forbidden`: message `"forbidden"`            |
//! | `NotFound` (account)          | 404    | `itemNotFound` with `guid` instead of `errorid` |
//! | `NotFound` (anything else)    | 404    | `itemNotFound`: message `"Resource not found"` |
//! | `BadRequest`, `HeadTooLarge`  | 400    | `badRequest` (Hostway documents no 431)       |
//! | `MethodNotAllowed`            | 405    | `badMethod`, `Allow: GET, HEAD`               |
//! | `Conflict`                    | 409    | `conflictingRequest`                          |
//! | `PayloadTooLarge`             | 413    | `overLimit`                                   |
//! | `RateLimited`                 | 429    | `overLimit`, `Retry-After` (the Nova v1.1 vocabulary Hostway follows) |
//! | `UnsupportedMediaType`        | 415    | `badMediaType`                                |
//! | `Unsupported`                 | 501    | `notImplemented`, naming operation and backend |
//! | `UpstreamUnavailable`         | 503    | `serviceUnavailable`                          |
//! | `Internal`/`UpstreamProtocol`/`UpstreamTimeout` | 500/502/504 | `computeFault`          |
//!
//! JSON faults are `{"<fault>": {"message", "code", "details": "", "errorid": <fresh uuid v4>}}`;
//! the missing-account form is `{"itemNotFound": {"guid", "message", "code", "details"}}`.
//! Messages other than the two fixed Hostway strings are the error's public message.
//!
//! Upstream, the fault names map back the same way (`buildInProgress` is a
//! conflict too); `itemNotFound` with a `guid` is a missing account; bodies
//! that are not faults (the plain-text 401, HTML from a front proxy) fall back
//! to the status.
//!
//! # Upstream requests
//!
//! `GET {base}/accounts/{scope}/flexcloud/images[/detail|/{id}]` (the short
//! `/images…` paths when the scope is empty), with `Authorization: Basic`,
//! `Accept: application/json` and `Content-Type: application/json` on every
//! call (Hostway answers 415 on some APIs without it). `name` and `zone`
//! filter natively; the rest (a status or type filter judges what the
//! caller's edge shows) is left to the gateway.

pub mod contract;
mod errors;
mod paths;
mod profile;
mod wire;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};

pub use self::paths::PathCall;
use self::wire::{ImagesWriter, LinkBase, ListBody, Shape, ShowBody, WireImage};
use super::{
    Capabilities, Credentials, Dialect, EdgeCall, EdgeCodec, EdgeCtx, EdgeRequest, ListItems, ListWriter, Outcome,
    Paging, Query, Reply, Target, UpstreamCall, UpstreamCodec, is_read, json_reply, percent_encode_segment,
};
use crate::model::{
    ErrorKind, Filter, GatewayError, Image, ImageId, ImageOp, ImageStatus, ListPage, ListQuery, Shown, Side, View,
};

pub struct Hostway;

// ==================================================================== edge

impl EdgeCodec for Hostway {
    fn claims(&self, path: &str) -> bool {
        paths::claims(path)
    }

    fn context(&self, parts: &Parts, origin: &str) -> EdgeCtx {
        let mut ctx = EdgeCtx::new(Dialect::Hostway, origin);
        let path = parts.uri.path();
        if let Some(route) = paths::route(path) {
            ctx.prefix = route.prefix();
            let mut call = route.call(path);
            ctx.scope = route.account.map(|account| match paths::decode_segment(account, "account") {
                Ok(decoded) => decoded.into_owned(),
                Err(_) => {
                    call = PathCall::BadAccount;
                    account.to_owned()
                }
            });
            ctx.call = EdgeCall::Hostway(call);
        }
        ctx
    }

    fn decode(&self, ctx: &mut EdgeCtx, parts: &Parts, _body: &Bytes) -> Result<EdgeRequest, GatewayError> {
        let path = parts.uri.path();
        // the path as the context split it; a path it did not claim has no call
        let EdgeCall::Hostway(call) = ctx.call else { return Err(no_such_path(path)) };
        let op = match call {
            PathCall::BadAccount => return Err(paths::invalid_segment("account")),
            PathCall::Unknown => return Err(no_such_path(path)),
            _ if !is_read(&parts.method) => return Err(method_not_allowed(&parts.method)),
            PathCall::List => list_op(&Query::of(&parts.uri), View::Summary)?,
            PathCall::Detail => list_op(&Query::of(&parts.uri), View::Detail)?,
            PathCall::Image { start, end } => {
                ImageOp::Show(ImageId::new(paths::decode_segment(&path[start..end], "image id")?))
            }
        };
        Ok(EdgeRequest::Op(op))
    }

    fn encode(&self, ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> Reply {
        let links = LinkBase { origin: &ctx.origin, prefix: &ctx.prefix };
        let body = match &outcome {
            Outcome::Image(image) => wire::show_body(image, links),
            Outcome::Images(images) => ImagesWriter::new(links, Shape::Detail).whole(images, false),
            Outcome::List(page) => ImagesWriter::new(links, list_shape(op)).whole(&page.images, page.more),
            Outcome::Metadata(_) | Outcome::Done => {
                let err = GatewayError::internal(format!("{} has no hostway rendering", op.name()));
                return self.encode_error(ctx, &err);
            }
        };
        json_reply(StatusCode::OK, body)
    }

    fn encode_error(&self, _ctx: &EdgeCtx, err: &GatewayError) -> Reply {
        errors::render(err)
    }

    fn list_writer(&self, ctx: &EdgeCtx, op: &ImageOp) -> Option<Box<dyn ListWriter>> {
        let links = LinkBase { origin: &ctx.origin, prefix: &ctx.prefix };
        matches!(op, ImageOp::List(_))
            .then(|| Box::new(ImagesWriter::new(links, list_shape(op))) as Box<dyn ListWriter>)
    }

    /// The short `/images` paths act on the caller's account, and their
    /// links name the account's canonical URI.
    fn caller_account(&self, ctx: &mut EdgeCtx, account: &str) {
        if ctx.prefix.is_empty() {
            ctx.prefix = paths::account_prefix(&percent_encode_segment(account));
        }
    }
}

fn list_shape(op: &ImageOp) -> Shape {
    match op {
        ImageOp::List(ListQuery { view: View::Summary, .. }) => Shape::Summary,
        _ => Shape::Detail,
    }
}

fn no_such_path(path: &str) -> GatewayError {
    let kind = ErrorKind::NotFound { resource: crate::model::Resource::Route, id: path.to_owned() };
    GatewayError::new(kind, Side::Downstream, format!("no resource at {path}"))
}

fn method_not_allowed(method: &Method) -> GatewayError {
    GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, format!("method {method} is not allowed here"))
}

/// A list asking for everything, filtered by the query.
fn list_op(query: &Query, view: View) -> Result<ImageOp, GatewayError> {
    Ok(ImageOp::List(ListQuery { filter: edge_filter(query)?, view, ..ListQuery::default() }))
}

/// `status` and `type` judge the image as this edge shows it; `name` and
/// `zone` are the image's own name and zones, which it shows as they are.
fn edge_filter(query: &Query) -> Result<Filter, GatewayError> {
    let param = |key| query.get(key).filter(|v| !v.is_empty());
    let mut shown = Vec::new();
    if let Some(word) = param("status") {
        shown.push(Shown::new("status", parse_status(word)?, shows_status));
    }
    if let Some(word) = param("type") {
        shown.push(Shown::new("type", parse_type(word)?, shows_type));
    }
    Ok(Filter {
        name: param("name").map(str::to_owned),
        zone: param("zone").map(str::to_owned),
        shown,
        ..Filter::default()
    })
}

/// The status word, in Hostway's spelling.
fn parse_status(word: &str) -> Result<&'static str, GatewayError> {
    match wire::status_from_word(word) {
        ImageStatus::Unknown if !word.eq_ignore_ascii_case("UNKNOWN") => {
            Err(GatewayError::bad_request(format!("invalid status parameter: {word}")))
        }
        status => Ok(wire::status_word(status)),
    }
}

fn parse_type(word: &str) -> Result<&'static str, GatewayError> {
    [wire::TYPE_BASE, wire::TYPE_SERVER]
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(word))
        .ok_or_else(|| GatewayError::bad_request(format!("invalid type parameter: {word}")))
}

/// The image shows `word` as its status.
fn shows_status(image: &Image, word: &str) -> bool {
    wire::image_status_word(image) == word
}

/// The image is of type `word`.
fn shows_type(image: &Image, word: &str) -> bool {
    wire::image_type(image) == word
}

// ==================================================================== upstream

impl UpstreamCodec for Hostway {
    fn capabilities(&self) -> Capabilities {
        Capabilities { paging: Paging::None, max_page: 1000, reports_total: false, get_many: false, sort_fields: &[] }
    }

    fn split_filter(&self, filter: &Filter) -> (Filter, Filter) {
        let mut residual = filter.clone();
        let native = Filter { name: residual.name.take(), zone: residual.zone.take(), ..Filter::default() };
        (native, residual)
    }

    fn encode(&self, call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
        let url = upstream_url(call, target)?;
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = Method::GET;
        *request.uri_mut() =
            url.parse().map_err(|e| GatewayError::internal(format!("invalid upstream url {url}")).with_cause(e))?;
        let headers = request.headers_mut();
        let json = HeaderValue::from_static("application/json");
        headers.insert(header::ACCEPT, json.clone());
        headers.insert(header::CONTENT_TYPE, json);
        if let Some(auth) = authorization(target.credentials)? {
            headers.insert(header::AUTHORIZATION, auth);
        }
        Ok(request)
    }

    fn decode(
        &self,
        call: &UpstreamCall,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Outcome, GatewayError> {
        if !status.is_success() {
            return Err(errors::decode(call, status, headers, body));
        }
        match call {
            UpstreamCall::Show(_) => {
                let body: ShowBody = parse(body)?;
                Ok(Outcome::Image(body.image.0))
            }
            UpstreamCall::List { filter, .. } => {
                let body: ListBody = parse(body)?;
                Ok(Outcome::List(list_page(body.images, filter)))
            }
            UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => Err(GatewayError::unsupported(call.name(), "hostway")),
        }
    }

    fn list_items(&self, call: &UpstreamCall) -> Option<ListItems> {
        matches!(call, UpstreamCall::List { .. }).then_some(ListItems { key: "images", decode: list_item })
    }
}

fn upstream_url(call: &UpstreamCall, target: &Target<'_>) -> Result<String, GatewayError> {
    let mut url = String::with_capacity(target.base.len() + 64);
    url.push_str(target.base);
    if !target.scope.is_empty() {
        url.push_str("/accounts/");
        url.push_str(&percent_encode_segment(target.scope));
        url.push_str("/flexcloud");
    }
    url.push_str("/images");
    match call {
        UpstreamCall::Show(id) => {
            url.push('/');
            url.push_str(&percent_encode_segment(id.as_str()));
        }
        UpstreamCall::List { filter, view, .. } => {
            if *view == View::Detail {
                url.push_str("/detail");
            }
            push_query(&mut url, filter);
        }
        UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => {
            return Err(GatewayError::unsupported(call.name(), "hostway"));
        }
    }
    Ok(url)
}

/// Appends the native filter as `?name=…&status=…&type=…&zone=…`.
fn push_query(url: &mut String, filter: &Filter) {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(name) = &filter.name {
        query.append_pair("name", name);
    }
    if let Some(zone) = &filter.zone {
        query.append_pair("zone", zone);
    }
    let query = query.finish();
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
}

fn authorization(credentials: &Credentials) -> Result<Option<HeaderValue>, GatewayError> {
    match credentials {
        Credentials::None => Ok(None),
        Credentials::Basic { user, password } => {
            let token = BASE64.encode(format!("{user}:{password}"));
            let mut value = HeaderValue::try_from(format!("Basic {token}"))
                .map_err(|e| GatewayError::internal("invalid basic credentials").with_cause(e))?;
            value.set_sensitive(true);
            Ok(Some(value))
        }
        Credentials::Token(_) | Credentials::GoGrid { .. } => {
            Err(GatewayError::internal("the hostway upstream needs basic credentials"))
        }
    }
}

/// Checks the whole body for UTF-8 first: one pass over it costs far less
/// than serde_json checking every string and key of a byte slice in turn.
fn parse<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, GatewayError> {
    let unreadable =
        |e: &dyn std::fmt::Display| GatewayError::upstream_protocol(format!("unreadable hostway body: {e}"));
    let text = std::str::from_utf8(body).map_err(|e| unreadable(&e).with_cause(e))?;
    serde_json::from_str(text).map_err(|e| unreadable(&e).with_cause(e))
}

/// One image of a list reply's `images` array, as [`list_page`] reads it.
fn list_item(_: &UpstreamCall, item: &[u8]) -> Result<Image, GatewayError> {
    let WireImage(image) = parse(item)?;
    Ok(image)
}

/// Everything the upstream matched, in one page.
fn list_page(images: Vec<WireImage>, filter: &Filter) -> ListPage {
    let images: Vec<Image> = images.into_iter().map(|WireImage(image)| image).collect();
    let matched = images.len();
    let unfiltered = *filter == Filter::default();
    ListPage { images, offset: Some(0), matched: Some(matched), total: unfiltered.then_some(matched), more: false }
}

#[cfg(test)]
mod tests;
