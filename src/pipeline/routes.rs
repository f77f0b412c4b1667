//! The route table: which backend carries out a request, by edge dialect and
//! by the tenant its path names.

use std::collections::HashMap;
use std::sync::Arc;

use crate::backend::{Backend, Catalog, HttpClient, Upstream};
use crate::config::{Config, MEMORY};
use crate::dialect::Dialect;
use crate::model::GatewayError;

pub struct RouteTable {
    routes: Vec<Route>,
    default: Backend,
    by_name: HashMap<String, Backend>,
}

struct Route {
    edge: Dialect,
    scope: Option<String>,
    backend: Backend,
}

impl RouteTable {
    /// Builds every backend the configuration names, once each.
    pub fn from_config(config: &Config) -> Result<Self, GatewayError> {
        let mut backends: HashMap<&str, Backend> = HashMap::new();
        let catalog = match &config.catalog.path {
            Some(path) => Catalog::open(path)?,
            None => Catalog::with_samples()?,
        }
        .with_bounds(config.catalog.max_images, config.catalog.max_image_bytes);
        backends.insert(MEMORY, Backend::Memory(Arc::new(catalog)));
        for up in &config.upstreams {
            let mut settings = up.settings().map_err(GatewayError::internal)?;
            settings.max_calls = config.limits.max_upstream_calls;
            settings.reply = config.limits.reply_bounds();
            let client = HttpClient::new(up.client_settings());
            let upstream = Upstream::new(settings, client).map_err(GatewayError::internal)?;
            backends.insert(&up.name, Backend::Upstream(Arc::new(upstream)));
        }
        let pick = |name: &str| {
            backends.get(name).cloned().ok_or_else(|| GatewayError::internal(format!("no backend named {name:?}")))
        };
        let routes = config
            .routes
            .iter()
            .map(|r| Ok(Route { edge: r.edge, scope: r.scope.clone(), backend: pick(&r.backend)? }))
            .collect::<Result<_, GatewayError>>()?;
        let default = pick(&config.server.default_backend)?;
        let by_name = backends.into_iter().map(|(name, backend)| (name.to_owned(), backend)).collect();
        Ok(Self { routes, default, by_name })
    }

    /// The backend for a request at `edge` whose path names `scope`: the
    /// first route that fits, else the default.
    pub fn backend(&self, edge: Dialect, scope: Option<&str>) -> &Backend {
        self.routes
            .iter()
            .find(|r| r.edge == edge && r.scope.as_deref().is_none_or(|s| Some(s) == scope))
            .map_or(&self.default, |r| &r.backend)
    }

    /// The backend of this name: an upstream's, or `memory`.
    pub fn named(&self, name: &str) -> Option<&Backend> {
        self.by_name.get(name)
    }

    /// One line per route, for the start-up banner.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .routes
            .iter()
            .map(|r| format!("{} {} -> {}", r.edge, r.scope.as_deref().unwrap_or("*"), r.backend.describe()))
            .collect();
        lines.push(format!("everything else -> {}", self.default.describe()));
        lines
    }
}
