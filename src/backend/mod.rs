//! Backends carry out canonical operations: the embedded [`Catalog`] or an
//! [`Upstream`] server that speaks one of the dialects.

mod client;
mod items;
mod json_scan;
pub mod keystone;
mod memory;
mod shape;
mod store;
mod upstream;

use std::sync::Arc;

pub use client::{ClientSettings, HttpClient, RetryBudgetSettings, RetryStats};
pub use keystone::{KeystoneAuth, KeystoneSession, KeystoneSettings};
pub use memory::Catalog;
pub use shape::{PastBound, ReplyBounds};
pub use upstream::{Upstream, UpstreamSettings, first_call};

/// The name of the embedded catalog's backend.
pub const MEMORY: &str = "memory";

use crate::model::{GatewayError, ImageOp, Outcome, WriteOp};

/// Where an operation is carried out.
#[derive(Clone)]
pub enum Backend {
    Memory(Arc<Catalog>),
    Upstream(Arc<Upstream>),
}

impl Backend {
    /// Carries out `op`; `scope` replaces an upstream's own account,
    /// project or compute resource for this request.
    pub async fn execute(&self, op: &ImageOp, scope: Option<&str>) -> Result<Outcome, GatewayError> {
        match self {
            // a durable write commits to disk: off the event loop, one at a time
            Backend::Memory(catalog) if catalog.is_durable() && matches!(op, ImageOp::Write(_)) => {
                let _turn = catalog.commit_turn().await;
                let (catalog, op) = (catalog.clone(), op.clone());
                tokio::task::spawn_blocking(move || catalog.execute(&op))
                    .await
                    .unwrap_or_else(|e| Err(GatewayError::internal(format!("a catalog write failed: {e}"))))
            }
            Backend::Memory(catalog) => catalog.execute(op),
            Backend::Upstream(upstream) => upstream.execute(op, scope).await,
        }
    }

    /// Refuses, before anything is read or sent, a write the backend cannot
    /// carry out (an upstream whose dialect cannot express it).
    pub fn expresses(&self, write: &WriteOp) -> Result<(), GatewayError> {
        match self {
            Backend::Memory(_) => Ok(()),
            Backend::Upstream(upstream) => upstream.expresses(write),
        }
    }

    /// `filter` without the conditions every image the backend holds meets
    /// (see [`Upstream::unmet`]); the catalog judges them all.
    pub fn unmet(&self, filter: &crate::model::Filter, scope: Option<&str>) -> crate::model::Filter {
        match self {
            Backend::Memory(_) => filter.clone(),
            Backend::Upstream(upstream) => upstream.unmet(filter, scope),
        }
    }

    /// The name routes and metrics know it by: an upstream's, or `memory`.
    pub fn name(&self) -> &Arc<str> {
        static NAME: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| MEMORY.into());
        match self {
            Backend::Memory(_) => &NAME,
            Backend::Upstream(upstream) => upstream.name(),
        }
    }

    /// The dialect of an upstream; `None` for the embedded catalog, which
    /// keeps every canonical field.
    pub fn dialect(&self) -> Option<crate::dialect::Dialect> {
        match self {
            Backend::Memory(_) => None,
            Backend::Upstream(upstream) => Some(upstream.dialect()),
        }
    }

    /// A short description for logs and the start-up banner.
    pub fn describe(&self) -> String {
        match self {
            Backend::Memory(catalog) => {
                let kept = if catalog.is_durable() { "durable" } else { "in memory" };
                format!("embedded catalog ({} images, {kept})", catalog.len())
            }
            Backend::Upstream(upstream) => upstream.describe(),
        }
    }
}
