//! Admission: everything the gateway learns about a request before it
//! decides whether to serve it — which face answers it (an edge dialect, the
//! gateway's Keystone, or neither), its body (bounded in size and time), the
//! decoded operation, and who is calling. The rate limiter keys on the
//! caller; the refusals of later stages are rendered by the face.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Limited};

use super::gateway::Gateway;
use super::rate::{Class, Who};
use crate::backend::ReplyBounds;
use crate::dialect::write_retry_after;
use crate::dialect::{Dialect, EdgeCtx, EdgeRequest, Reply, is_read, json_reply};
use crate::identity::{Caller, keystone};
use crate::model::{ErrorKind, GatewayError, ImageOp, Side};

/// A request the gateway has read and identified.
pub struct Admitted {
    /// The gateway that serves it, from admission to reply.
    pub gateway: Arc<Gateway>,
    pub peer: IpAddr,
    pub class: Class,
    /// Who the request is charged to.
    pub who: Who,
    pub face: Face,
    pub work: Work,
}

/// Who renders the request's replies, refusals included.
pub enum Face {
    /// An edge dialect, in the context its codec read from the request.
    Edge(EdgeCtx),
    /// The gateway's own Keystone, at `/v3`.
    Keystone { origin: String },
    /// No dialect claims the path.
    Plain,
}

/// What serving the request takes.
pub enum Work {
    /// Answered already: a local document, a refused body, a refused caller.
    Ready(Reply),
    /// The source address is penalized for this long: refused before its
    /// credentials are checked.
    Penalized(Duration),
    /// A request to the gateway's Keystone.
    Keystone { parts: Parts, body: Bytes },
    /// An image operation for a backend, by an authenticated caller.
    Op { op: ImageOp, caller: Caller },
}

impl Face {
    /// The face a request head names by its path alone, for a refusal
    /// before the request is read (`src/head_guard.rs`).
    pub fn of_head(parts: &Parts) -> Face {
        let path = parts.uri.path();
        if keystone::claims(path) {
            return Face::Keystone { origin: origin(parts) };
        }
        match Dialect::for_path(path) {
            Some(dialect) => Face::Edge(dialect.edge().context(parts, &origin(parts))),
            None => Face::Plain,
        }
    }

    /// `err` as this face renders it.
    pub fn refuse(&self, err: &GatewayError) -> Reply {
        match self {
            Face::Edge(ctx) => ctx.dialect.edge().encode_error(ctx, err),
            Face::Keystone { .. } => {
                let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let title = match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "Request Entity Too Large",
                    other => other.canonical_reason().unwrap_or("Error"),
                };
                let body = serde_json::json!({"error": {
                    "code": status.as_u16(), "title": title, "message": err.public_message()
                }});
                with_retry_after(json_reply(status, body.to_string()), err)
            }
            Face::Plain => {
                let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = serde_json::json!({"error": {"code": status.as_u16(), "message": err.public_message()}});
                with_retry_after(json_reply(status, body.to_string()), err)
            }
        }
    }
}

fn with_retry_after(mut reply: Reply, err: &GatewayError) -> Reply {
    write_retry_after(reply.headers_mut(), &err.kind);
    reply
}

impl Gateway {
    /// Reads and identifies a request. Never fails: what cannot be read is
    /// answered in the request's dialect.
    pub async fn admit<B>(self: &Arc<Self>, req: Request<B>, peer: IpAddr) -> Admitted
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = req.into_parts();
        let class = if is_read(&parts.method) { Class::Read } else { Class::Write };
        let anonymous = |face: Face, work: Work| Admitted {
            gateway: self.clone(),
            peer,
            class,
            who: Who::Address(peer),
            face,
            work,
        };
        let path = parts.uri.path();
        if keystone::claims(path) {
            let face = Face::Keystone { origin: origin(&parts) };
            let class = if parts.method == Method::POST && path.trim_end_matches('/') == "/v3/auth/tokens" {
                Class::Token
            } else {
                class
            };
            let work = match self.read_body(body).await {
                Ok(body) if self.too_deep(&body) => Work::Ready(face.refuse(&too_deep(self.bounds.max_depth))),
                Ok(body) => Work::Keystone { parts, body },
                Err(err) => Work::Ready(face.refuse(&err)),
            };
            return Admitted { class, ..anonymous(face, work) };
        }
        let Some(dialect) = Dialect::for_path(path) else {
            return anonymous(Face::Plain, Work::Ready(no_dialect(path)));
        };
        let edge = dialect.edge();
        let mut ctx = edge.context(&parts, &origin(&parts));
        let body = match self.read_body(body).await {
            Ok(body) if self.too_deep(&body) => {
                let reply = edge.encode_error(&ctx, &edge.too_deep(self.bounds.max_depth));
                return anonymous(Face::Edge(ctx), Work::Ready(reply));
            }
            Ok(body) => body,
            Err(err) => {
                let reply = edge.encode_error(&ctx, &err);
                return anonymous(Face::Edge(ctx), Work::Ready(reply));
            }
        };
        // decoded before authenticating, so that what a dialect answers by
        // itself (version documents) needs no credentials; a caller that
        // fails to authenticate still gets the refusal before any other error
        let decoded = edge.decode(&mut ctx, &parts, &body);
        if let Ok(EdgeRequest::Local(reply)) = decoded {
            return anonymous(Face::Edge(ctx), Work::Ready(reply));
        }
        if let Some(wait) = self.rate.penalty(peer) {
            return anonymous(Face::Edge(ctx), Work::Penalized(wait));
        }
        let caller = match self.identity.authenticate(ctx.dialect, &parts, &body, unix_now()) {
            Ok(caller) => caller,
            Err(e) => {
                let reply = self.error(&ctx, e);
                return anonymous(Face::Edge(ctx), Work::Ready(reply));
            }
        };
        let name: Arc<str> = caller.client.name.as_str().into();
        crate::access::client(&name);
        let who = Who::Client(name);
        edge.caller_account(&mut ctx, &caller.client.tenant.account);
        ctx.caller = Some(caller.client.name.clone());
        let work = match decoded {
            Ok(EdgeRequest::Op(op)) => match caller.authorize(ctx.dialect, ctx.scope.as_deref(), &op) {
                Ok(()) => Work::Op { op, caller },
                Err(e) => Work::Ready(self.error(&ctx, e)),
            },
            Ok(EdgeRequest::Local(reply)) => Work::Ready(reply),
            Err(e) => Work::Ready(self.error(&ctx, e)),
        };
        Admitted { gateway: self.clone(), peer, class, who, face: Face::Edge(ctx), work }
    }

    /// True when `body` nests deeper than `limits.max_depth` (JSON, XML):
    /// found on its bytes, before a decoder builds anything from them.
    fn too_deep(&self, body: &[u8]) -> bool {
        !body.is_empty() && ReplyBounds::depth_only(self.bounds.max_depth).check(body).is_err()
    }

    /// The whole body, bounded by `max_body` and received within the request timeout.
    async fn read_body<B>(&self, body: B) -> Result<Bytes, GatewayError>
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        match tokio::time::timeout(self.request_timeout, Limited::new(body, self.max_body).collect()).await {
            Ok(Ok(body)) => {
                let body = body.to_bytes();
                crate::access::bytes_in(body.len());
                Ok(body)
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "request body refused");
                Err(GatewayError::new(ErrorKind::PayloadTooLarge, Side::Downstream, "request body too large"))
            }
            Err(_) => Err(GatewayError::bad_request("request body not received in time")),
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `scheme://authority` as the client reached us, for links in replies: `https`
/// when the listener serves TLS.
fn origin(parts: &Parts) -> String {
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()))
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && !b"/?#@\\\"<>".contains(&b)))
        .unwrap_or("localhost");
    let scheme = if parts.extensions.get::<crate::connection::Tls>().is_some() { "https://" } else { "http://" };
    [scheme, host].concat()
}

/// Keystone's refusal of a body nested deeper than `max_depth`.
fn too_deep(max_depth: usize) -> GatewayError {
    GatewayError::bad_request(format!("the request body nests deeper than {max_depth} levels"))
}

/// A path no dialect answers.
fn no_dialect(path: &str) -> Reply {
    let body = serde_json::json!({"error": {"code": 404, "message": format!("no dialect serves {path}")}});
    let mut reply = json_reply(StatusCode::NOT_FOUND, body.to_string());
    reply.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}
