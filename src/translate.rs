//! `dragoman translate`: the gateway's translation, offline. An upstream
//! reply in one dialect becomes what an edge of another would answer; an
//! edge request becomes the upstream request it sends. Nothing is sent
//! anywhere: the same codecs the gateway serves with, on stdin and stdout.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::backend::first_call;
use crate::dialect::{Credentials, Dialect, EdgeCtx, EdgeRequest, Format, Reply, Target, UpstreamCall};
use crate::model::{GatewayError, Image, ImageId, Outcome, View};

/// The origin edge links are rendered with, and the upstream's base URL.
const EDGE_ORIGIN: &str = "http://dragoman:8080";
const UPSTREAM_BASE: &str = "http://upstream";

/// The id a show's edge path names when the reply shows none (an error).
const UNKNOWN_ID: &str = "1";

/// What kind of upstream reply stdin holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplyKind {
    /// The reply to a show (one image).
    Show,
    /// The reply to a detailed list.
    List,
    /// An error reply (its `--status` says which).
    Error,
}

/// The edge path that asks `dialect`'s edge for `kind`, with `id` for a show
/// of `image`, when it decoded.
fn edge_path(dialect: Dialect, kind: ReplyKind, id: &str, image: Option<&Image>, format: Format) -> String {
    let id = crate::dialect::percent_encode_segment(id);
    let format = match format {
        Format::Json => "json",
        Format::Xml => "xml",
        Format::Csv => "csv",
    };
    let show = kind != ReplyKind::List;
    dialect.profile().sample_path(show.then_some(id.as_ref()), image, format)
}

/// The head of a request to `path`, for an edge to read.
fn head(method: Method, path: &str) -> Result<http::request::Parts, String> {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(())
        .map_err(|e| format!("--path: {e}"))?;
    Ok(request.into_parts().0)
}

/// What the `to` edge answers when an upstream of dialect `from` replied
/// `status` with `body` to a request of `kind`. `format` is the GoGrid
/// edge's.
pub fn reply(from: Dialect, to: Dialect, kind: ReplyKind, status: StatusCode, format: Format, body: &[u8]) -> Reply {
    let call = match kind {
        ReplyKind::List => UpstreamCall::List {
            filter: Default::default(),
            sort: None,
            view: View::Detail,
            start: Default::default(),
            limit: None,
        },
        ReplyKind::Show | ReplyKind::Error => UpstreamCall::Show(ImageId::new(UNKNOWN_ID)),
    };
    let decoded = from.upstream().decode(&call, status, &http::HeaderMap::new(), body);
    let image = match &decoded {
        Ok(Outcome::Image(image)) => Some(image),
        _ => None,
    };
    let id = image.map_or(UNKNOWN_ID, |image| image.id.as_str());
    let edge = to.edge();
    let path = edge_path(to, kind, id, image, format);
    let parts = head(Method::GET, &path).expect("the edge paths are valid URIs");
    let mut ctx = edge.context(&parts, EDGE_ORIGIN);
    let op = match edge.decode(&mut ctx, &parts, &Bytes::new()) {
        Ok(EdgeRequest::Op(op)) => op,
        Ok(EdgeRequest::Local(reply)) => return reply,
        Err(e) => return edge.encode_error(&ctx, &e),
    };
    match decoded {
        Ok(outcome) => edge.encode(&ctx, &op, outcome),
        Err(e) => edge.encode_error(&ctx, &e),
    }
}

/// The request an upstream of dialect `to` is sent for the edge request of
/// dialect `from`, or the `from` edge's error when it does not decode. The
/// request carries no credentials; `scope` is the upstream's tenant.
pub fn request(
    from: Dialect,
    to: Dialect,
    method: Method,
    path: &str,
    body: Bytes,
    scope: &str,
) -> Result<http::Request<Bytes>, Box<Reply>> {
    let edge = from.edge();
    let refuse = |e: GatewayError| Box::new(edge.encode_error(&EdgeCtx::new(from, EDGE_ORIGIN), &e));
    let parts = head(method, path).map_err(|e| refuse(bad_request(e)))?;
    if Dialect::for_path(parts.uri.path()) != Some(from) {
        return Err(refuse(bad_request(format!("the path is not one the {from} edge answers"))));
    }
    let mut ctx = edge.context(&parts, EDGE_ORIGIN);
    let op = match edge.decode(&mut ctx, &parts, &body) {
        Ok(EdgeRequest::Op(op)) => op,
        Ok(EdgeRequest::Local(reply)) => return Err(Box::new(reply)),
        Err(e) => return Err(Box::new(edge.encode_error(&ctx, &e))),
    };
    let codec = to.upstream();
    let call = first_call(codec, &op);
    let format = if to.profile().formats().contains(&ctx.format) { ctx.format } else { Format::Json };
    let target = Target { base: UPSTREAM_BASE, scope, credentials: &Credentials::None, now: now(), format };
    codec.encode(&call, &target).map_err(|e| Box::new(edge.encode_error(&ctx, &e)))
}

fn bad_request(message: String) -> GatewayError {
    GatewayError::new(crate::model::ErrorKind::BadRequest, crate::model::Side::Downstream, message)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A reply as the command prints it: status line, headers, blank line, body.
pub fn print_reply(reply: &Reply) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {}\n", reply.status()).into_bytes();
    for (name, value) in reply.headers() {
        out.extend_from_slice(format!("{name}: {}\n", value.to_str().unwrap_or("")).as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(&reply.body().as_whole().unwrap_or_default());
    out
}

/// A request as the command prints it: request line, headers, blank line, body.
pub fn print_request(request: &http::Request<Bytes>) -> Vec<u8> {
    let mut out = format!("{} {}\n", request.method(), request.uri()).into_bytes();
    for (name, value) in request.headers() {
        out.extend_from_slice(format!("{name}: {}\n", value.to_str().unwrap_or("")).as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(request.body());
    out
}
