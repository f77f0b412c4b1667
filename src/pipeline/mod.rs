//! The request pipeline, assembled in one place.

mod admit;
mod fallback;
mod gateway;
mod guard;
mod ids;
pub mod mirror;
mod rate;
mod routes;
mod shed;
mod stage;
mod tag;
mod translate;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use tokio::sync::Semaphore;

pub use admit::{Admitted, Face, Work};
pub use fallback::FallbackServed;
pub use gateway::Gateway;
pub use rate::{Class, RateLimits, SharedQuotas, StoreStats, Who};
pub use routes::RouteTable;
pub use stage::Next;

use crate::config::{Config, RateLimitConfig};
use crate::model::{ErrorKind, GatewayError, Side};
use stage::{innermost, run, stage};

impl Gateway {
    pub fn from_config(config: &Config) -> Result<Self, GatewayError> {
        if config.rate_limit.store.is_some() && config.identity.token_keys.is_none() {
            // a shared store says there are replicas: their tokens would not be
            tracing::warn!("rate_limit.store without identity.token_keys: tokens are valid at this process only");
        }
        Self::with_routes(config, RouteTable::from_config(config)?)
    }

    fn with_routes(config: &Config, routes: RouteTable) -> Result<Self, GatewayError> {
        Ok(Self {
            routes,
            identity: config.identity().map_err(|e| GatewayError::internal(e.to_string()))?,
            region: config.identity.region.clone(),
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
            max_body: config.server.max_body_bytes,
            bounds: config.limits.request_bounds(),
            rate: rate_limits(&config.rate_limit)?,
            in_flight: Arc::new(Semaphore::new(config.server.max_in_flight.max(1))),
            ids: Arc::default(),
            mirrors: mirror::MirrorPool::new(&config.mirror),
        })
    }

    /// The gateway `config` describes, for a live reload: the embedded
    /// catalog (its data, its open file), the integer ids shown and the
    /// tokens issued so far carry over; everything else is built anew.
    pub fn rebuilt(&self, config: &Config) -> Result<Self, GatewayError> {
        let routes = match self.routes.catalog() {
            Some(catalog) => RouteTable::with_catalog(config, catalog)?,
            None => RouteTable::from_config(config)?,
        };
        let mut next = Self::with_routes(config, routes)?;
        // the integer ids shown so far keep resolving without a walk
        next.ids = self.ids.clone();
        next.identity.keep_tokens_of(&self.identity);
        Ok(next)
    }
}

/// The quotas, shared through the store when one is configured.
fn rate_limits(config: &RateLimitConfig) -> Result<RateLimits, GatewayError> {
    let local = RateLimits::new(config);
    let Some(url) = &config.store else { return Ok(local) };
    let timeout = Duration::from_millis(config.store_timeout_ms.max(1));
    let shared = SharedQuotas::connect(url, timeout, config).map_err(|e| GatewayError::internal(e.to_string()))?;
    Ok(local.shared_by(shared))
}

/// The stack of stages that serves one connection from `peer`. The
/// listener below it bounds connections per address, header size and header
/// read time (see `src/server.rs`).
pub fn service<B>(current: impl Fn() -> Arc<Gateway> + Send + Sync + 'static, peer: IpAddr) -> Next<Request<B>>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // built from the inside out: each stage is given the rest of the stack
    //
    // translation answers every request itself, errors included, in the
    // edge dialect: nothing below it fails, so nothing above it rescues
    let translated = innermost(Gateway::execute);
    // the in-flight bound sheds with the edge's 503 instead of queueing:
    // right above the work it bounds
    let bounded = stage(
        move |next, admitted: Admitted| shed::shed(admitted.gateway.in_flight.clone(), next, admitted),
        translated,
    );
    // before the in-flight bound, so that a refused request takes no slot;
    // after admission, since quotas are per authenticated client
    let charged = stage(
        move |next, admitted: Admitted| async move {
            let wait = match &admitted.work {
                Work::Penalized(wait) => {
                    rate::refused_by("address");
                    Some(*wait)
                }
                _ => admitted.gateway.rate.charge(admitted.peer, &admitted.who, admitted.class).await.err(),
            };
            match wait {
                Some(wait) => {
                    tracing::debug!(who = ?admitted.who, ?wait, "rate limited");
                    admitted.face.refuse(&rate_limited(wait))
                }
                None => run(next, admitted).await,
            }
        },
        bounded,
    );
    // reads the body (bounded in size and time) and authenticates the
    // caller: the rate limiter keys on who is calling, and every later
    // refusal is rendered in the face (dialect) this finds. The request
    // is served by the gateway as it stands now, to its end, whatever
    // a reload swaps in meanwhile
    let admitted = stage(
        move |next, req: Request<B>| {
            let gateway = current();
            async move { run(next, gateway.admit(req, peer).await).await }
        },
        charged,
    );
    // outermost, so that every reply — refusals of every stage below
    // included — carries the request id, every upstream call is made
    // within its scope, and every request is logged once with it
    stage(move |next, req: Request<B>| tag::tag(peer, next, req), admitted)
}

/// The refusal of a request over a quota, with the wait in whole seconds
/// (rounded up, at least one) for `Retry-After`.
pub(crate) fn rate_limited(wait: Duration) -> GatewayError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let retry_after = Some(Duration::from_secs(secs.max(1)));
    GatewayError::new(ErrorKind::RateLimited { retry_after }, Side::Downstream, "rate limit exceeded")
}
