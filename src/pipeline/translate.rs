//! The heart of the gateway: carry the admitted operation out on the routed
//! backend, encode the outcome or the error in the edge dialect. Every error
//! ends here as a reply in the caller's dialect.

use super::admit::{Admitted, Face, Work};
use super::fallback::{FallbackServed, read_through, wanted};
use super::gateway::Gateway;
use super::guard;
use super::mirror::{Mirrored, Sides};
use tokio::time::Instant;

use crate::backend::Backend;
use crate::dialect::{EdgeCodec, EdgeCtx, Reply, ids::integer_ids};
use crate::identity::{Caller, keystone};
use crate::metrics::{FallbackLabels, metrics};
use crate::model::{ErrorKind, GatewayError, ImageOp, Side};
use crate::request_id::RequestId;

impl Gateway {
    /// Serves an admitted request on the gateway that admitted it. Never
    /// fails: errors are replies in the edge dialect. The work is borrowed
    /// where it is awaited, not moved out, so that the future holds the
    /// request once.
    pub async fn execute(mut admitted: Admitted) -> Reply {
        let gateway = &*admitted.gateway;
        let face = &admitted.face;
        match admitted.work {
            Work::Ready(reply) => reply,
            Work::Penalized(wait) => face.refuse(&super::rate_limited(wait)),
            Work::Keystone { ref parts, ref body } => match face {
                Face::Keystone { origin } => keystone::answer(&gateway.identity, &gateway.region, parts, body, origin),
                face => face.refuse(&misfit()),
            },
            Work::Op { ref mut op, ref caller } => match face {
                Face::Edge(ctx) => gateway.answer(ctx, op, caller).await,
                face => face.refuse(&misfit()),
            },
        }
    }

    async fn answer(&self, ctx: &EdgeCtx, op: &mut ImageOp, caller: &Caller) -> Reply {
        let edge: &dyn EdgeCodec = ctx.dialect.edge();
        if let Err(e) = self.bounds.check(op, ctx.dialect.profile().image_ids()) {
            return self.error(ctx, e);
        }
        let op = &*op;
        let tenant = &caller.client.tenant;
        // a client's own backend has no route, so no fallback and no mirror
        let (backend, fallback, mirror) = match tenant.backend.as_deref() {
            Some(name) => (self.routes.named(name), None, None),
            None => {
                let scope = ctx.scope.as_deref();
                let mirror = self.routes.mirror(ctx.dialect, scope).filter(|_| !matches!(op, ImageOp::Write(_)));
                (Some(self.routes.backend(ctx.dialect, scope)), self.routes.fallback(ctx.dialect, scope), mirror)
            }
        };
        let Some(backend) = backend else {
            return self.error(ctx, GatewayError::internal("the client's backend does not exist"));
        };
        crate::access::routed(backend.name(), op.kind());
        let scope = tenant.upstream_scope.as_deref();
        let integers = integer_ids(ctx.dialect);
        // a list that needs nothing of the whole goes out as it comes in; the
        // mirror's comparison, a fallback and the integer ids need the whole
        if let (ImageOp::List(query), Backend::Upstream(upstream), None, None, false) =
            (op, backend, &mirror, &fallback, integers)
            && let Some(writer) = edge.list_writer(ctx, op)
        {
            let deadline = Instant::now() + self.request_timeout;
            // boxed: the streaming producer's state would otherwise be part of every show's future
            let streamed = Box::pin(upstream.stream_list(query, scope, writer, deadline));
            match tokio::time::timeout_at(deadline, streamed).await {
                Ok(Some(Ok(reply))) => return reply,
                Ok(Some(Err(e))) => return self.error(ctx, e),
                Ok(None) => {}
                Err(_) => return self.error(ctx, self.timed_out(op)),
            }
        }
        // boxed: an upstream exchange is kilobytes of state, better not moved
        // with every future that wraps it. What only some requests take (ids
        // resolved by a walk, a write's guard, a fallback's read) is boxed
        // apart, so that a plain read's box holds its exchange alone
        let execution = Box::pin(async {
            let resolved = if integers { Box::pin(self.ids.resolve(op, backend, scope)).await } else { None };
            let resolved = match ctx.guard.as_deref() {
                Some(write_guard) => {
                    let asked = op.image_id().unwrap_or_default();
                    let target = resolved.as_ref().unwrap_or(op);
                    match Box::pin(guard::check(Some(write_guard), target, asked, backend, scope)).await {
                        Ok(guarded) => guarded.or(resolved),
                        Err(e) => return (Err(e), false),
                    }
                }
                None => resolved,
            };
            let outcome = backend.execute(resolved.as_ref().unwrap_or(op), scope).await;
            if let Some(mirror) = mirror
                && let Some(ticket) = self.mirrors.admit(mirror)
            {
                // the primary's own answer, before any fallback: the sides compared
                let sides = Sides { primary: backend.dialect(), mirror: mirror.backend.dialect() };
                let read = Mirrored::new(resolved.as_ref().unwrap_or(op), scope, &outcome, sides);
                self.mirrors.send(mirror, ticket, read);
            }
            match &fallback {
                Some(fallback) if wanted(&outcome, op) => {
                    // the fallback's own upstream ids behind the integers the edge shows
                    let resolved =
                        if integers { Box::pin(self.ids.resolve(op, fallback.backend, None)).await } else { None };
                    Box::pin(read_through(outcome, resolved.as_ref().unwrap_or(op), fallback)).await
                }
                _ => (outcome, false),
            }
        });
        let (outcome, fell_back) = match tokio::time::timeout(self.request_timeout, execution).await {
            Ok(answer) => answer,
            Err(_) => (Err(self.timed_out(op)), false),
        };
        let mut reply = match outcome {
            Ok(outcome) => {
                if integers {
                    self.ids.note(&outcome);
                }
                edge.encode(ctx, op, outcome)
            }
            Err(e) => self.error(ctx, e),
        };
        if let Some(fallback) = fallback.filter(|_| fell_back) {
            let labels = FallbackLabels { route: fallback.route.clone(), fallback: fallback.name.into() };
            metrics().fallback_served.get_or_create(&labels).inc();
            reply.extensions_mut().insert(FallbackServed(fallback.name.to_owned()));
        }
        reply
    }

    fn timed_out(&self, op: &ImageOp) -> GatewayError {
        GatewayError::new(
            ErrorKind::UpstreamTimeout,
            Side::Upstream,
            format!("{} did not finish within {:?}", op.name(), self.request_timeout),
        )
    }

    pub(super) fn error(&self, ctx: &EdgeCtx, err: GatewayError) -> Reply {
        if err.kind.is_internal() {
            let request_id = RequestId::current();
            let request_id = request_id.as_ref().map(RequestId::as_str);
            tracing::warn!(request_id, error = %err, cause = ?err.cause, side = ?err.side, "request failed");
        } else {
            tracing::debug!(error = %err, "request refused");
        }
        ctx.dialect.edge().encode_error(ctx, &err)
    }
}

/// Admitted work its face cannot render: a bug, answered as an internal error.
fn misfit() -> GatewayError {
    GatewayError::internal("admitted work does not fit its face")
}
