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
use crate::model::{ErrorKind, GatewayError, Side};

/// What every request shares.
pub struct Gateway {
    pub routes: RouteTable,
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
        let op = match edge.decode(ctx, parts, &body) {
            Ok(EdgeRequest::Op(op)) => op,
            Ok(EdgeRequest::Local(reply)) => return reply,
            Err(e) => return self.error(edge, ctx, e),
        };
        let backend = self.routes.backend(ctx.dialect, ctx.scope.as_deref());
        let outcome = match tokio::time::timeout(self.request_timeout, backend.execute(&op)).await {
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
