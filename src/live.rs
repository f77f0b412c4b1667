//! The running state, swapped whole on reload: the gateway (routes,
//! clients, upstreams, quotas, identity) and the edge's TLS, each behind an
//! `ArcSwap`. A request loads the gateway once, when it is admitted, and
//! keeps that one to its end; a reload builds a complete new one first and
//! only then swaps it in, so requests in flight finish on the old one and
//! new ones get the new one, connections untouched.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::metrics::{ResultLabels, metrics};
use crate::pipeline::Gateway;
use crate::tls::{EdgeTls, TlsError};

/// Why a reload left the running state as it was.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("server.tls: {0}")]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Gateway(#[from] crate::model::GatewayError),
}

/// What every accept loop, the admin listener and the reload share.
pub struct Live {
    gateway: ArcSwap<Gateway>,
    /// The edge's TLS, when it serves HTTPS.
    pub tls: Option<ArcSwap<EdgeTls>>,
    /// Set on SIGTERM: `/readyz` fails from then on.
    draining: AtomicBool,
}

impl Live {
    pub fn new(gateway: Gateway, tls: Option<EdgeTls>) -> Self {
        Self {
            gateway: ArcSwap::from_pointee(gateway),
            tls: tls.map(ArcSwap::from_pointee),
            draining: AtomicBool::new(false),
        }
    }

    /// The gateway as it stands: a request keeps the one it got.
    pub fn gateway(&self) -> Arc<Gateway> {
        self.gateway.load_full()
    }

    /// Marks the gateway as draining: not ready for new traffic.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Swaps in the running state `next` describes, built from the current
    /// one (the catalog and the issued tokens carry over). `current` is the
    /// configuration running now. On success, returns the keys that changed
    /// but only take effect on a restart; on failure nothing changed.
    pub fn reload(&self, current: &Config, next: &Config) -> Result<Vec<&'static str>, ReloadError> {
        let result = self.swap(current, next);
        record_reload(match &result {
            Ok(restart_only) if restart_only.is_empty() => Ok("reloaded".to_owned()),
            Ok(restart_only) => Ok(format!("reloaded; only a restart changes {}", restart_only.join(", "))),
            Err(e) => Err(e.to_string()),
        });
        result
    }

    fn swap(&self, current: &Config, next: &Config) -> Result<Vec<&'static str>, ReloadError> {
        let tls = match (&self.tls, &next.server.tls) {
            (Some(_), Some(config)) => Some(EdgeTls::from_config(config)?),
            _ => None,
        };
        // last: it takes over the issued tokens, so nothing may fail after it
        let gateway = self.gateway().rebuilt(next)?;
        if let (Some(swap), Some(tls)) = (&self.tls, tls) {
            swap.store(Arc::new(tls));
        }
        self.gateway.store(Arc::new(gateway));
        Ok(restart_only_changes(current, next))
    }
}

/// Reloads kept in the history the status page shows.
const HISTORY: usize = 20;

/// One configuration reload, for the status page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadEvent {
    /// RFC 3339, UTC.
    pub at: String,
    pub ok: bool,
    /// What happened: `reloaded`, or why the running configuration stayed.
    pub detail: String,
}

fn history() -> &'static Mutex<VecDeque<ReloadEvent>> {
    static HISTORY_KEPT: std::sync::OnceLock<Mutex<VecDeque<ReloadEvent>>> = std::sync::OnceLock::new();
    HISTORY_KEPT.get_or_init(Mutex::default)
}

/// The latest configuration reloads (SIGHUP), oldest first.
pub fn reload_history() -> Vec<ReloadEvent> {
    history().lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
}

/// Counts a configuration reload and keeps it in the history: what it did,
/// or why the running configuration stayed.
pub fn record_reload(result: Result<String, String>) {
    count_reload(result.is_ok());
    let at = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let (ok, detail) = match result {
        Ok(detail) => (true, detail),
        Err(detail) => (false, detail),
    };
    let mut kept = history().lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() == HISTORY {
        kept.pop_front();
    }
    kept.push_back(ReloadEvent { at, ok, detail });
}

/// Counts a reload in `dragoman_config_reloads_total` and
/// `dragoman_config_last_reload_successful`.
pub fn count_reload(ok: bool) {
    metrics().config_reloads.get_or_create(ResultLabels::of(ok)).inc();
    metrics().config_last_reload_success.set(i64::from(ok));
}

/// The keys whose change needs a restart, among those that differ.
pub fn restart_only_changes(current: &Config, next: &Config) -> Vec<&'static str> {
    let (a, b) = (&current.server, &next.server);
    [
        ("server.listen", a.listen != b.listen),
        ("server.workers", a.workers != b.workers),
        ("server.header_read_timeout_secs", a.header_read_timeout_secs != b.header_read_timeout_secs),
        ("server.max_header_bytes", a.max_header_bytes != b.max_header_bytes),
        ("server.max_headers", a.max_headers != b.max_headers),
        ("server.max_connections_per_address", a.max_connections_per_address != b.max_connections_per_address),
        ("server.shutdown_grace_secs", a.shutdown_grace_secs != b.shutdown_grace_secs),
        ("server.shutdown_drain_delay_secs", a.shutdown_drain_delay_secs != b.shutdown_drain_delay_secs),
        ("server.tls (turning HTTPS on or off)", a.tls.is_some() != b.tls.is_some()),
        ("catalog.path", current.catalog != next.catalog),
        ("admin.listen", current.admin != next.admin),
        ("log", current.log.format != next.log.format || current.log.filter != next.log.filter),
    ]
    .into_iter()
    .filter_map(|(key, changed)| changed.then_some(key))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_a_restart_changes_are_reported() {
        let current = Config::parse("[server]\nworkers = 2\n").unwrap();
        let next = Config::parse(
            "[server]\nworkers = 3\nrequest_timeout_secs = 5\n[admin]\nlisten = \"127.0.0.1:9902\"\n[log]\naccess = false\n",
        )
        .unwrap();
        assert_eq!(restart_only_changes(&current, &next), ["server.workers", "admin.listen"]);
        assert!(restart_only_changes(&next, &next).is_empty());
    }
}
