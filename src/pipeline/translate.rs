//! The heart of the gateway: decode the edge request, carry the operation
//! out on the routed backend, encode the outcome or the error in the edge
//! dialect. Every error ends here as a reply in the caller's dialect.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Limited};

use super::routes::RouteTable;
use crate::dialect::{Dialect, EdgeCodec, EdgeCtx, EdgeRequest, Reply, json_reply};
use crate::identity::{Identity, keystone};
use crate::model::{ErrorKind, GatewayError, Side};

/// What every request shares.
pub struct Gateway {
    pub routes: RouteTable,
    pub identity: Identity,
    /// The region of the gateway's own Keystone catalog.
    pub region: String,
    pub request_timeout: Duration,
    pub max_body: usize,
}

impl Gateway {
    /// Answers one request. Never fails: errors are replies in the edge dialect.
    pub async fn handle<B>(self: Arc<Self>, req: Request<B>) -> Reply
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        if keystone::claims(parts.uri.path()) {
            let origin = origin(&parts);
            return match Limited::new(body, self.max_body).collect().await {
                Ok(body) => keystone::answer(&self.identity, &self.region, &parts, &body.to_bytes(), &origin),
                Err(_) => json_reply(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    r#"{"error":{"code":413,"title":"Request Entity Too Large","message":"request body too large"}}"#,
                ),
            };
        }
        let Some(dialect) = Dialect::for_path(parts.uri.path()) else {
            return no_dialect(parts.uri.path());
        };
        let edge = dialect.edge();
        let mut ctx = edge.context(&parts, &origin(&parts));
        let reply = match Limited::new(body, self.max_body).collect().await {
            Ok(body) => self.answer(edge, &mut ctx, &parts, body.to_bytes()).await,
            Err(e) => {
                let err = GatewayError::new(ErrorKind::PayloadTooLarge, Side::Downstream, "request body too large");
                tracing::debug!(error = %e, "request body refused");
                edge.encode_error(&ctx, &err)
            }
        };
        tracing::info!(
            dialect = dialect.name(),
            method = %parts.method,
            path = parts.uri.path(),
            status = reply.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
        reply
    }

    async fn answer(
        &self,
        edge: &dyn EdgeCodec,
        ctx: &mut EdgeCtx,
        parts: &http::request::Parts,
        body: Bytes,
    ) -> Reply {
        // decoded before authenticating, so that what a dialect answers by
        // itself (version documents) needs no credentials; a caller that
        // fails to authenticate still gets the refusal before any other error
        let decoded = edge.decode(ctx, parts, &body);
        if let Ok(EdgeRequest::Local(reply)) = decoded {
            return reply;
        }
        let caller = match self.identity.authenticate(ctx.dialect, parts, &body, unix_now()) {
            Ok(caller) => caller,
            Err(e) => return self.error(edge, ctx, e),
        };
        let op = match decoded {
            Ok(EdgeRequest::Op(op)) => op,
            Ok(EdgeRequest::Local(reply)) => return reply,
            Err(e) => return self.error(edge, ctx, e),
        };
        if let Err(e) = caller.authorize(ctx.dialect, ctx.scope.as_deref(), &op) {
            return self.error(edge, ctx, e);
        }
        let tenant = &caller.client.tenant;
        let backend = match tenant.backend.as_deref() {
            Some(name) => self.routes.named(name),
            None => Some(self.routes.backend(ctx.dialect, ctx.scope.as_deref())),
        };
        let Some(backend) = backend else {
            return self.error(edge, ctx, GatewayError::internal("the client's backend does not exist"));
        };
        let execution = backend.execute(&op, tenant.upstream_scope.as_deref());
        let outcome = match tokio::time::timeout(self.request_timeout, execution).await {
            Ok(outcome) => outcome,
            Err(_) => Err(GatewayError::new(
                ErrorKind::UpstreamTimeout,
                Side::Upstream,
                format!("{} did not finish within {:?}", op.name(), self.request_timeout),
            )),
        };
        match outcome {
            Ok(outcome) => edge.encode(ctx, &op, outcome),
            Err(e) => self.error(edge, ctx, e),
        }
    }

    fn error(&self, edge: &dyn EdgeCodec, ctx: &EdgeCtx, err: GatewayError) -> Reply {
        if err.kind.is_internal() {
            tracing::warn!(error = %err, cause = ?err.cause, side = ?err.side, "request failed");
        } else {
            tracing::debug!(error = %err, "request refused");
        }
        edge.encode_error(ctx, &err)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `scheme://authority` as the client reached us, for links in replies.
fn origin(parts: &http::request::Parts) -> String {
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && !b"/?#@\\\"<>".contains(&b)));
    format!("http://{}", host.as_deref().unwrap_or("localhost"))
}

/// A path no dialect answers.
fn no_dialect(path: &str) -> Reply {
    let body = serde_json::json!({"error": {"code": 404, "message": format!("no dialect serves {path}")}});
    let mut reply = json_reply(StatusCode::NOT_FOUND, body.to_string());
    reply.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}
