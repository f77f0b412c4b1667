//! The heart of the gateway: carry the admitted operation out on the routed
//! backend, encode the outcome or the error in the edge dialect. Every error
//! ends here as a reply in the caller's dialect.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::admit::{Admitted, Face, Work};
use super::rate::RateLimits;
use super::routes::RouteTable;
use crate::dialect::{EdgeCodec, EdgeCtx, Outcome, Reply};
use crate::identity::{Caller, Identity, keystone};
use crate::model::{ErrorKind, GatewayError, ImageOp, RequestBounds, Side};
use crate::server::ConnectionLimits;

/// What every request shares.
pub struct Gateway {
    pub routes: RouteTable,
    pub identity: Identity,
    /// The region of the gateway's own Keystone catalog.
    pub region: String,
    pub request_timeout: Duration,
    pub max_body: usize,
    /// What one operation may ask for and write.
    pub bounds: RequestBounds,
    pub rate: RateLimits,
    /// One permit per request in flight.
    pub in_flight: Arc<Semaphore>,
    /// What the listener allows each connection.
    pub connections: ConnectionLimits,
}

impl Gateway {
    /// Serves an admitted request. Never fails: errors are replies in the edge dialect.
    pub async fn execute(&self, admitted: Admitted) -> Reply {
        match (admitted.work, &admitted.face) {
            (Work::Ready(reply), _) => reply,
            (Work::Penalized(wait), face) => face.refuse(&super::rate_limited(wait)),
            (Work::Keystone { parts, body }, Face::Keystone { origin }) => {
                keystone::answer(&self.identity, &self.region, &parts, &body, origin)
            }
            (Work::Op { op, caller }, Face::Edge(ctx)) => self.answer(ctx, op, &caller).await,
            (_, face) => face.refuse(&GatewayError::internal("admitted work does not fit its face")),
        }
    }

    async fn answer(&self, ctx: &EdgeCtx, mut op: ImageOp, caller: &Caller) -> Reply {
        let edge: &dyn EdgeCodec = ctx.dialect.edge();
        if let Err(e) = self.bounds.check(&mut op) {
            return self.error(ctx, e);
        }
        let op = &op;
        let tenant = &caller.client.tenant;
        let backend = match tenant.backend.as_deref() {
            Some(name) => self.routes.named(name),
            None => Some(self.routes.backend(ctx.dialect, ctx.scope.as_deref())),
        };
        let Some(backend) = backend else {
            return self.error(ctx, GatewayError::internal("the client's backend does not exist"));
        };
        // boxed: an upstream exchange is kilobytes of state, better not moved
        // with every future that wraps it
        let execution = Box::pin(backend.execute(op, tenant.upstream_scope.as_deref()));
        let outcome: Result<Outcome, GatewayError> = match tokio::time::timeout(self.request_timeout, execution).await {
            Ok(outcome) => outcome,
            Err(_) => Err(GatewayError::new(
                ErrorKind::UpstreamTimeout,
                Side::Upstream,
                format!("{} did not finish within {:?}", op.name(), self.request_timeout),
            )),
        };
        match outcome {
            Ok(outcome) => edge.encode(ctx, op, outcome),
            Err(e) => self.error(ctx, e),
        }
    }

    pub(super) fn error(&self, ctx: &EdgeCtx, err: GatewayError) -> Reply {
        if err.kind.is_internal() {
            tracing::warn!(error = %err, cause = ?err.cause, side = ?err.side, "request failed");
        } else {
            tracing::debug!(error = %err, "request refused");
        }
        ctx.dialect.edge().encode_error(ctx, &err)
    }
}
