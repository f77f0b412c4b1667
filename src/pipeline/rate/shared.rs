//! Quotas shared by every replica, kept in Redis (`[rate_limit] store`).
//!
//! Each request is one round trip: one Lua script (sent as `EVALSHA`, loaded
//! again after a Redis restart) charges every bucket of the request at once
//! with GCRA, as go-redis/redis_rate does: a bucket is a key holding its
//! theoretical arrival time in milliseconds of Redis's own clock (`TIME`, one
//! clock for every replica), written back only when every bucket lets the
//! request through, and expiring when the bucket is full again. A refusal by
//! the `address` bucket also writes that address's penalty key, which every
//! replica checks first, so that wrong passwords count the same at every
//! replica. Keys: `dragoman:quota:<bucket>[:<who>]`, `dragoman:penalty:<address>`.
//!
//! The requests of every worker thread share one multiplexed (pipelined)
//! connection, kept by a thread of its own. A call that fails, or finds no
//! answer within `store_timeout_ms`, drops the connection: that request and
//! the following ones are charged on the local quotas, each replica then
//! enforcing every quota as if it were alone, while the keeper thread
//! reconnects with a growing backoff (100 ms doubling to 5 s). Each loss and
//! each return is logged once; [`StoreStats`] counts them.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};
use tokio::sync::Notify;

use super::{Bucket, Class, Who, plan};
use crate::config::RateLimitConfig;

/// How long the keeper waits for a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The first wait before reconnecting, and the longest.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// A connection that lived this long resets the backoff.
const STABLE: Duration = Duration::from_secs(10);

const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
if ARGV[1] == '1' then  -- check the penalty
  local penalty = redis.call('PTTL', KEYS[1])
  if penalty > 0 then return {0, penalty, 1} end
end
local penalizing = tonumber(ARGV[2])
local tats = {}
for i = 2, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local stored = redis.call('GET', KEYS[i])
  local tat = stored and tonumber(stored) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  local wait = new_tat - interval * burst - now
  if wait > 0 then
    wait = math.ceil(wait)
    if i - 1 == penalizing then
      redis.call('SET', KEYS[1], '1', 'PX', wait)
      return {0, wait, 1}
    end
    return {0, wait, 0}
  end
  tats[i] = new_tat
end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now))
end
return {1, 0, 0}
";

/// What the shared store says of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused for `wait`; `penalized` when the source address is.
    Refused {
        wait: Duration,
        penalized: bool,
    },
}

/// Counters of the shared store, for metrics: read them with
/// [`SharedQuotas::stats`].
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Requests charged on the local quotas because the store was away or slow.
    pub local_charges: AtomicU64,
    /// Times the store was lost.
    pub outages: AtomicU64,
}

/// The quotas every replica shares.
pub struct SharedQuotas {
    keeper: Arc<Keeper>,
    /// Emission interval (ms) and burst of each bucket, by [`Bucket`]; `None` when off.
    limits: [Option<(f64, u32)>; Bucket::COUNT],
    script: Script,
}

/// The connection, and what its keeper thread and the requests share.
struct Keeper {
    /// `None` while the store is away.
    conn: ArcSwapOption<MultiplexedConnection>,
    /// Wakes the keeper when a request loses the connection.
    lost: Notify,
    timeout: Duration,
    stats: StoreStats,
}

/// Why the shared quota store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Only the kind: the URL may hold a password.
    #[error("rate_limit.store: not a redis URL ({0:?})")]
    Url(redis::ErrorKind),
    #[error("rate_limit.store: {0}")]
    Runtime(std::io::Error),
    #[error("rate_limit.store: {0}")]
    Thread(std::io::Error),
}

impl SharedQuotas {
    /// The store at `url`, connected (or trying to, in the background) by a
    /// thread of its own. Waits for the first try, so that a gateway whose
    /// store is up shares its quotas from its first request.
    pub fn connect(url: &str, timeout: Duration, config: &RateLimitConfig) -> Result<Self, StoreError> {
        // the URL may hold a password: never repeated
        let client = redis::Client::open(url).map_err(|e| StoreError::Url(e.kind()))?;
        let keeper = Arc::new(Keeper {
            conn: ArcSwapOption::empty(),
            lost: Notify::new(),
            timeout,
            stats: StoreStats::default(),
        });
        let script = Script::new(GCRA);
        let (tried, first_try) = std::sync::mpsc::channel();
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(StoreError::Runtime)?;
        let kept = Arc::clone(&keeper);
        let loader = script.clone();
        std::thread::Builder::new()
            .name("quota-store".into())
            .spawn(move || runtime.block_on(keep(client, kept, loader, tried)))
            .map_err(StoreError::Thread)?;
        let _ = first_try.recv_timeout(CONNECT_TIMEOUT * 2);
        let limits = Bucket::ALL.map(|bucket| {
            bucket.quota(config).gcra().map(|(interval, burst)| (interval.as_secs_f64() * 1000.0, burst))
        });
        Ok(Self { keeper, limits, script })
    }

    /// Charges one request from `peer` in the store; `None` when the store
    /// is away, for the local quotas to judge it.
    pub async fn charge(&self, peer: IpAddr, who: &Who, class: Class) -> Option<Verdict> {
        let current = self.keeper.conn.load_full();
        let Some(conn) = &current else {
            self.keeper.stats.local_charges.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let buckets: Vec<(Bucket, f64, u32)> = plan(who, class)
            .iter()
            .filter_map(|b| self.limits[*b as usize].map(|(interval, burst)| (*b, interval, burst)))
            .collect();
        let check_penalty = class != Class::Token && self.limits[Bucket::Address as usize].is_some();
        if buckets.is_empty() && !check_penalty {
            return Some(Verdict::Allowed);
        }
        let penalizing = buckets.iter().position(|(b, ..)| *b == Bucket::Address).map_or(0, |i| i + 1);
        let mut invocation = self.script.prepare_invoke();
        invocation.key(format!("dragoman:penalty:{peer}")).arg(u8::from(check_penalty)).arg(penalizing);
        for (bucket, interval, burst) in &buckets {
            invocation.key(match (bucket, who) {
                (Bucket::Global, _) => "dragoman:quota:global".to_owned(),
                (_, Who::Client(name)) => format!("dragoman:quota:{}:{name}", bucket.name()),
                (_, Who::Address(addr)) => format!("dragoman:quota:{}:{addr}", bucket.name()),
            });
            invocation.arg(interval).arg(burst);
        }
        let mut conn_clone = MultiplexedConnection::clone(conn);
        match tokio::time::timeout(self.keeper.timeout, invocation.invoke_async::<(u8, u64, u8)>(&mut conn_clone)).await
        {
            Ok(Ok((1, _, _))) => Some(Verdict::Allowed),
            Ok(Ok((_, wait, penalized))) => {
                Some(Verdict::Refused { wait: Duration::from_millis(wait), penalized: penalized == 1 })
            }
            Ok(Err(e)) => self.lose(&current, &e.to_string()),
            Err(_) => self.lose(&current, "no answer in time"),
        }
    }

    /// True while the quotas are shared: the store is connected.
    pub fn connected(&self) -> bool {
        self.keeper.conn.load().is_some()
    }

    /// The store's counters.
    pub fn stats(&self) -> &StoreStats {
        &self.keeper.stats
    }

    /// Drops the connection `current` (unless another request did already)
    /// and wakes the keeper; the request goes to the local quotas.
    fn lose(&self, current: &Option<Arc<MultiplexedConnection>>, why: &str) -> Option<Verdict> {
        let previous = self.keeper.conn.compare_and_swap(current, None);
        let ours = matches!((&*previous, current), (Some(a), Some(b)) if Arc::ptr_eq(a, b));
        if ours {
            tracing::warn!(error = why, "quota store lost: each replica enforces its quotas alone until it is back");
            self.keeper.stats.outages.fetch_add(1, Ordering::Relaxed);
            self.keeper.lost.notify_one();
        }
        self.keeper.stats.local_charges.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// The keeper thread: connects, waits until a request loses the
/// connection, reconnects with backoff; forever.
async fn keep(client: redis::Client, keeper: Arc<Keeper>, script: Script, tried: std::sync::mpsc::Sender<()>) {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(keeper.timeout.max(CONNECT_TIMEOUT)));
    let mut backoff = RETRY_MIN;
    let mut away_logged = false;
    loop {
        let connected = async {
            let mut conn = client.get_multiplexed_async_connection_with_config(&config).await?;
            script.prepare_invoke().load_async(&mut conn).await?;
            Ok::<_, redis::RedisError>(conn)
        };
        match connected.await {
            Ok(mut conn) => {
                conn.set_response_timeout(keeper.timeout);
                keeper.conn.store(Some(Arc::new(conn)));
                tracing::info!("quota store connected: quotas are shared by every replica");
                let _ = tried.send(());
                let since = Instant::now();
                keeper.lost.notified().await;
                // the request that lost it said so
                away_logged = true;
                if since.elapsed() >= STABLE {
                    backoff = RETRY_MIN;
                }
            }
            Err(e) => {
                if !away_logged {
                    tracing::warn!(error = %e, "quota store unreachable: serving on local quotas, retrying");
                    away_logged = true;
                }
                let _ = tried.send(());
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RETRY_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::super::RateLimits;
    use super::*;
    use crate::config::QuotaConfig;

    #[tokio::test]
    async fn without_its_store_a_request_is_judged_by_the_local_quotas_and_counted() {
        let config = RateLimitConfig {
            address: QuotaConfig { requests: 1, per_secs: 3600, burst: None },
            ..RateLimitConfig::default()
        };
        // a closed port: the store is away from the start
        let shared = SharedQuotas::connect("redis://127.0.0.1:9", Duration::from_millis(50), &config).unwrap();
        assert!(!shared.connected());
        let limits = RateLimits::new(&config).shared_by(shared);
        let peer = IpAddr::from([192, 0, 2, 1]);
        let who = Who::Address(peer);
        assert_eq!(limits.charge(peer, &who, Class::Read).await, Ok(()));
        assert!(limits.charge(peer, &who, Class::Read).await.is_err(), "the local address quota of one");
        let stats = limits.store().unwrap().stats();
        assert_eq!(stats.local_charges.load(Ordering::Relaxed), 2);
        assert_eq!(stats.outages.load(Ordering::Relaxed), 0, "never connected, never lost");
    }

    #[test]
    fn a_store_that_is_not_a_redis_url_is_refused_without_repeating_it() {
        let err =
            SharedQuotas::connect("http://user:secret@host", Duration::from_millis(50), &RateLimitConfig::default())
                .err()
                .unwrap()
                .to_string();
        assert!(err.starts_with("rate_limit.store: not a redis URL"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
