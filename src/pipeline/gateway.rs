//! What every request shares: the gateway a reload replaces whole.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::ids::IdResolver;
use super::mirror::MirrorPool;
use super::rate::RateLimits;
use super::routes::RouteTable;
use crate::identity::Identity;
use crate::model::RequestBounds;

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
    /// The upstream ids behind the integer ids the GoGrid and Foreman edges show.
    pub ids: Arc<IdResolver>,
    /// The rate and the room for the routes' mirrored reads.
    pub mirrors: MirrorPool,
}
