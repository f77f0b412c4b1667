//! Rate limits: token buckets (governor's GCRA) per authenticated client,
//! per operation class, per source address, and one for the whole gateway.
//!
//! | who                                        | buckets charged, in order                  |
//! |--------------------------------------------|--------------------------------------------|
//! | an authenticated client                    | `client`, then `reads` or `writes`, by name |
//! | a token request at `POST /v3/auth/tokens`  | `tokens`, by source address                |
//! | anyone else (failed or no authentication)  | `address`, by source address               |
//! | everyone                                   | `global`, last                             |
//!
//! The most specific bucket is charged first, so that a caller over its own
//! quota does not spend the global one. A refused request is answered at
//! once, in the edge's dialect, with `Retry-After`.
//!
//! An address the `address` bucket refuses is penalized until the bucket
//! would let it through again: its requests are refused before their
//! credentials are checked, so a flood of wrong passwords costs no password
//! hashing and cannot guess its way past the quota.
//!
//! With `[rate_limit] store` every quota and every penalty lives in Redis,
//! shared by every replica, and these local buckets judge requests only
//! while the store is away (see [`shared`]).
//!
//! Memory stays bounded whatever the callers: keys whose bucket is full
//! again (idle keys) are pruned every second, and at most `max_addresses`
//! keys are tracked per bucket — keys past it share one overflow bucket
//! until pruning makes room.

use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use governor::clock::DefaultClock;
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};

use crate::config::{QuotaConfig, RateLimitConfig};
use crate::metrics::{QuotaLabels, metrics};

mod shared;

pub use shared::{SharedQuotas, StoreStats, Verdict};

/// How often idle keys are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Which quota class a request falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Read,
    Write,
    /// A token request at the gateway's own Keystone.
    Token,
}

/// Who a request is charged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// An authenticated client, by name.
    Client(Arc<str>),
    /// No authenticated caller: its source address.
    Address(IpAddr),
}

/// One quota of the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Client,
    Reads,
    Writes,
    Tokens,
    Address,
    Global,
}

impl Bucket {
    const COUNT: usize = 6;
    const ALL: [Bucket; Bucket::COUNT] =
        [Bucket::Client, Bucket::Reads, Bucket::Writes, Bucket::Tokens, Bucket::Address, Bucket::Global];

    fn name(self) -> &'static str {
        match self {
            Bucket::Client => "client",
            Bucket::Reads => "reads",
            Bucket::Writes => "writes",
            Bucket::Tokens => "tokens",
            Bucket::Address => "address",
            Bucket::Global => "global",
        }
    }

    fn quota(self, config: &RateLimitConfig) -> &QuotaConfig {
        match self {
            Bucket::Client => &config.client,
            Bucket::Reads => &config.reads,
            Bucket::Writes => &config.writes,
            Bucket::Tokens => &config.tokens,
            Bucket::Address => &config.address,
            Bucket::Global => &config.global,
        }
    }
}

/// The buckets a request is charged to, most specific first.
fn plan(who: &Who, class: Class) -> &'static [Bucket] {
    match (who, class) {
        (Who::Client(_), Class::Read) => &[Bucket::Client, Bucket::Reads, Bucket::Global],
        (Who::Client(_), _) => &[Bucket::Client, Bucket::Writes, Bucket::Global],
        (Who::Address(_), Class::Token) => &[Bucket::Tokens, Bucket::Global],
        (Who::Address(_), _) => &[Bucket::Address, Bucket::Global],
    }
}

/// Every quota of the gateway.
pub struct RateLimits {
    global: Option<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>,
    client: Option<Keyed<Arc<str>>>,
    reads: Option<Keyed<Arc<str>>>,
    writes: Option<Keyed<Arc<str>>>,
    tokens: Option<Keyed<IpAddr>>,
    address: Option<Keyed<IpAddr>>,
    /// Addresses refused by the `address` bucket, until when.
    penalized: DashMap<IpAddr, Instant>,
    max_addresses: usize,
    last_prune: Mutex<Instant>,
    /// The quotas every replica shares, when configured.
    shared: Option<SharedQuotas>,
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        let max = config.max_addresses.max(1);
        Self {
            global: config.global.quota().map(RateLimiter::direct),
            client: config.client.quota().map(|q| Keyed::new(q, max)),
            reads: config.reads.quota().map(|q| Keyed::new(q, max)),
            writes: config.writes.quota().map(|q| Keyed::new(q, max)),
            tokens: config.tokens.quota().map(|q| Keyed::new(q, max)),
            address: config.address.quota().map(|q| Keyed::new(q, max)),
            penalized: DashMap::new(),
            max_addresses: max,
            last_prune: Mutex::new(Instant::now()),
            shared: None,
        }
    }

    /// These quotas, kept in `shared` while it is reachable.
    pub fn shared_by(self, shared: SharedQuotas) -> Self {
        Self { shared: Some(shared), ..self }
    }

    /// The shared store, when configured: whether it is connected, its counters.
    pub fn store(&self) -> Option<&SharedQuotas> {
        self.shared.as_ref()
    }

    /// Charges one request from `peer`: in the shared store when there is
    /// one and it answers in time, else on the local buckets.
    pub async fn charge(&self, peer: IpAddr, who: &Who, class: Class) -> Result<(), Duration> {
        if let Some(shared) = &self.shared {
            // the penalties are kept here too, and pruned
            self.prune_now_and_then();
            match shared.charge(peer, who, class).await {
                Some(Verdict::Allowed) => return Ok(()),
                Some(Verdict::Refused { wait, penalized }) => {
                    // the store does not say which of its quotas refused
                    refused_by("shared");
                    if penalized {
                        self.penalize(peer, wait);
                    }
                    return Err(wait);
                }
                None => {}
            }
        }
        self.check(who, class)
    }

    /// How long `addr` must still wait before its credentials are checked
    /// again; `None` when it is not penalized.
    pub fn penalty(&self, addr: IpAddr) -> Option<Duration> {
        let until = *self.penalized.get(&addr)?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Charges one request on the local buckets; `Err(wait)` when one refuses it.
    pub fn check(&self, who: &Who, class: Class) -> Result<(), Duration> {
        self.prune_now_and_then();
        for bucket in plan(who, class) {
            let charged = match (bucket, who) {
                (Bucket::Global, _) => match &self.global {
                    Some(global) => global.check().map_err(|refused| refused.wait_time_from(Instant::now())),
                    None => Ok(()),
                },
                (_, Who::Client(name)) => check(self.by_name(*bucket), name),
                (_, Who::Address(addr)) => check(self.by_address(*bucket), addr),
            };
            if let Err(wait) = charged {
                refused_by(bucket.name());
                if let (Bucket::Address, Who::Address(addr)) = (bucket, who) {
                    self.penalize(*addr, wait);
                }
                return Err(wait);
            }
        }
        Ok(())
    }

    fn by_name(&self, bucket: Bucket) -> Option<&Keyed<Arc<str>>> {
        match bucket {
            Bucket::Client => self.client.as_ref(),
            Bucket::Reads => self.reads.as_ref(),
            Bucket::Writes => self.writes.as_ref(),
            _ => None,
        }
    }

    fn by_address(&self, bucket: Bucket) -> Option<&Keyed<IpAddr>> {
        match bucket {
            Bucket::Tokens => self.tokens.as_ref(),
            Bucket::Address => self.address.as_ref(),
            _ => None,
        }
    }

    /// Refuses `addr` before its credentials are checked, for `wait`.
    fn penalize(&self, addr: IpAddr, wait: Duration) {
        if self.penalized.len() < self.max_addresses || self.penalized.contains_key(&addr) {
            self.penalized.insert(addr, Instant::now() + wait);
        }
    }

    /// Forgets every key that is idle: whose bucket is full again, or whose penalty is over.
    pub fn prune(&self) {
        for keyed in [&self.client, &self.reads, &self.writes].into_iter().flatten() {
            keyed.prune();
        }
        for keyed in [&self.tokens, &self.address].into_iter().flatten() {
            keyed.prune();
        }
        let now = Instant::now();
        self.penalized.retain(|_, until| *until > now);
        self.penalized.shrink_to_fit();
    }

    /// Keys tracked now, over every bucket and the penalties.
    pub fn tracked(&self) -> usize {
        let names: usize = [&self.client, &self.reads, &self.writes].into_iter().flatten().map(Keyed::len).sum();
        let addresses: usize = [&self.tokens, &self.address].into_iter().flatten().map(Keyed::len).sum();
        names + addresses + self.penalized.len()
    }

    fn prune_now_and_then(&self) {
        let Ok(mut last) = self.last_prune.try_lock() else { return };
        if last.elapsed() < PRUNE_EVERY {
            return;
        }
        *last = Instant::now();
        drop(last);
        self.prune();
    }
}

/// Counts a refusal of `quota` in `dragoman_rate_limited_requests_total`.
pub fn refused_by(quota: &'static str) {
    metrics().rate_limited.get_or_create(&QuotaLabels { quota }).inc();
}

fn check<K: Hash + Eq + Clone>(keyed: Option<&Keyed<K>>, key: &K) -> Result<(), Duration> {
    match keyed {
        Some(keyed) => keyed.limiter.check_key(key).map_err(|refused| refused.wait_time_from(Instant::now())),
        None => Ok(()),
    }
}

/// One bucket per key, at most `max` keys.
struct Keyed<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, BoundedStore<K>, DefaultClock>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(quota: Quota, max: usize) -> Self {
        let store = BoundedStore { map: DashMap::new(), overflow: InMemoryState::default(), max };
        Self { limiter: RateLimiter::new(quota, store, DefaultClock::default()) }
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// governor's keyed state, bounded: past `max` keys, new keys share the
/// overflow bucket.
struct BoundedStore<K: Hash + Eq + Clone> {
    map: DashMap<K, InMemoryState>,
    overflow: InMemoryState,
    max: usize,
}

impl<K: Hash + Eq + Clone> StateStore for BoundedStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if let Some(state) = self.map.get(key) {
            return state.measure_and_replace(&NotKeyed::NonKey, f);
        }
        if self.map.len() >= self.max {
            return self.overflow.measure_and_replace(&NotKeyed::NonKey, f);
        }
        let state = self.map.entry(key.clone()).or_default();
        state.measure_and_replace(&NotKeyed::NonKey, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for BoundedStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.map.retain(|_, state| theoretical_arrival(state) > u64::from(drop_below));
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A bucket's theoretical arrival time, read without changing it: the
/// measuring function declines to replace it.
fn theoretical_arrival(state: &InMemoryState) -> u64 {
    state
        .measure_and_replace(&NotKeyed::NonKey, |tat| Err::<((), Nanos), _>(tat.map_or(0, u64::from)))
        .err()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuotaConfig;

    fn limits(address: QuotaConfig, max_addresses: usize) -> RateLimits {
        RateLimits::new(&RateLimitConfig { address, max_addresses, ..RateLimitConfig::default() })
    }

    fn addr(i: u32) -> Who {
        Who::Address(IpAddr::from(i.to_be_bytes()))
    }

    #[test]
    fn a_burst_then_refusal_with_a_wait() {
        let limits = limits(QuotaConfig { requests: 1, per_secs: 60, burst: Some(3) }, 10);
        for _ in 0..3 {
            assert_eq!(limits.check(&addr(1), Class::Read), Ok(()));
        }
        let wait = limits.check(&addr(1), Class::Read).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60), "{wait:?}");
        // another address has its own bucket
        assert_eq!(limits.check(&addr(2), Class::Read), Ok(()));
        // the refused address is penalized for as long as it must wait
        assert!(limits.penalty(IpAddr::from(1u32.to_be_bytes())).is_some());
        assert!(limits.penalty(IpAddr::from(2u32.to_be_bytes())).is_none());
    }

    #[test]
    fn classes_are_charged_per_client() {
        let config = RateLimitConfig {
            writes: QuotaConfig { requests: 1, per_secs: 60, burst: None },
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::new(&config);
        let alice = Who::Client("alice".into());
        assert_eq!(limits.check(&alice, Class::Write), Ok(()));
        assert!(limits.check(&alice, Class::Write).is_err());
        assert_eq!(limits.check(&alice, Class::Read), Ok(()), "reads have no quota here");
        assert_eq!(limits.check(&Who::Client("bob".into()), Class::Write), Ok(()));
    }

    #[test]
    fn keys_past_the_bound_share_the_overflow_bucket() {
        let limits = limits(QuotaConfig { requests: 1, per_secs: 60, burst: Some(2) }, 4);
        for i in 0..4 {
            assert_eq!(limits.check(&addr(i), Class::Read), Ok(()));
        }
        // the fifth and later addresses share one bucket of two
        assert_eq!(limits.check(&addr(10), Class::Read), Ok(()));
        assert_eq!(limits.check(&addr(11), Class::Read), Ok(()));
        assert!(limits.check(&addr(12), Class::Read).is_err());
        assert_eq!(limits.address.as_ref().unwrap().len(), 4);
    }
}
