//! The route table: which backend carries out a request, by edge dialect and
//! by the tenant its path names.

use std::collections::HashMap;
use std::sync::Arc;

use crate::backend::{Backend, Catalog, HttpClient, Upstream};
use crate::config::{ClientConfig, Config, MEMORY};
use crate::dialect::Dialect;
use crate::model::GatewayError;

use super::fallback::Fallback;
use super::mirror::Mirror;

pub struct RouteTable {
    routes: Vec<Route>,
    default: Backend,
    by_name: HashMap<String, Backend>,
}

struct Route {
    edge: Dialect,
    scope: Option<String>,
    backend: Backend,
    /// The backend's name and backend a not-found read is read through.
    fallback: Option<(String, Backend)>,
    /// Where the route's reads are also sent, to compare.
    mirror: Option<Mirror>,
    /// The route in metrics: `<edge>:<scope or *>`.
    label: Arc<str>,
}

impl RouteTable {
    /// Builds every backend the configuration names, once each.
    pub fn from_config(config: &Config) -> Result<Self, GatewayError> {
        let catalog = match &config.catalog.path {
            Some(path) => Catalog::open(path)?,
            None => Catalog::with_samples()?,
        }
        .with_bounds(config.catalog.max_images, config.catalog.max_image_bytes);
        Self::with_catalog(config, Arc::new(catalog))
    }

    /// The embedded catalog these routes serve.
    pub fn catalog(&self) -> Option<Arc<Catalog>> {
        match self.by_name.get(MEMORY) {
            Some(Backend::Memory(catalog)) => Some(catalog.clone()),
            _ => None,
        }
    }

    /// Builds every upstream the configuration names, once each, beside an
    /// embedded catalog already open.
    pub fn with_catalog(config: &Config, catalog: Arc<Catalog>) -> Result<Self, GatewayError> {
        let mut backends: HashMap<&str, Backend> = HashMap::new();
        backends.insert(MEMORY, Backend::Memory(catalog));
        for up in &config.upstreams {
            let mut settings = up.settings().map_err(|e| GatewayError::internal(e.to_string()))?;
            settings.max_calls = config.limits.max_upstream_calls;
            settings.reply = config.limits.reply_bounds();
            let client = HttpClient::new(up.client_settings());
            let upstream = Upstream::new(settings, client).map_err(|e| GatewayError::internal(e.to_string()))?;
            backends.insert(&up.name, Backend::Upstream(Arc::new(upstream)));
        }
        let pick = |name: &str| {
            backends.get(name).cloned().ok_or_else(|| GatewayError::internal(format!("no backend named {name:?}")))
        };
        let routes = config
            .routes
            .iter()
            .map(|r| {
                let fallback = match &r.fallback {
                    Some(name) => Some((name.clone(), pick(name)?)),
                    None => None,
                };
                let label: Arc<str> = format!("{}:{}", r.edge, r.scope.as_deref().unwrap_or("*")).into();
                let mirror = match &r.mirror {
                    Some(name) => {
                        let sample = r.mirror_sample.unwrap_or(config.mirror.sample);
                        Some(Mirror::new(label.clone(), pick(name)?, sample))
                    }
                    None => None,
                };
                Ok(Route { edge: r.edge, scope: r.scope.clone(), backend: pick(&r.backend)?, fallback, mirror, label })
            })
            .collect::<Result<_, GatewayError>>()?;
        let default = pick(&config.server.default_backend)?;
        let by_name = backends.into_iter().map(|(name, backend)| (name.to_owned(), backend)).collect();
        Ok(Self { routes, default, by_name })
    }

    /// The backend for a request at `edge` whose path names `scope`: the
    /// first route that fits, else the default.
    pub fn backend(&self, edge: Dialect, scope: Option<&str>) -> &Backend {
        self.route(edge, scope).map_or(&self.default, |r| &r.backend)
    }

    /// The fallback of the route that takes a request at `edge` naming `scope`, if it has one.
    pub fn fallback(&self, edge: Dialect, scope: Option<&str>) -> Option<Fallback<'_>> {
        let route = self.route(edge, scope)?;
        let (name, backend) = route.fallback.as_ref()?;
        Some(Fallback { name, backend, route: &route.label })
    }

    /// The mirror of the route that takes a request at `edge` naming `scope`, if it has one.
    pub fn mirror(&self, edge: Dialect, scope: Option<&str>) -> Option<&Mirror> {
        self.route(edge, scope)?.mirror.as_ref()
    }

    fn route(&self, edge: Dialect, scope: Option<&str>) -> Option<&Route> {
        self.routes.iter().find(|r| r.edge == edge && r.scope.as_deref().is_none_or(|s| Some(s) == scope))
    }

    /// The backend of this name: an upstream's, or `memory`.
    pub fn named(&self, name: &str) -> Option<&Backend> {
        self.by_name.get(name)
    }

    /// Every upstream, once each.
    pub fn upstreams(&self) -> impl Iterator<Item = &Arc<Upstream>> {
        self.by_name.values().filter_map(|backend| match backend {
            Backend::Upstream(upstream) => Some(upstream),
            Backend::Memory(_) => None,
        })
    }

    /// One line per route, then one per client that names its own backend,
    /// for the start-up banner: where requests really go.
    pub fn describe(&self, clients: &[ClientConfig]) -> Vec<String> {
        // a route no client can reach when every client names its backend
        let unreached = !clients.is_empty() && clients.iter().all(|c| c.backend.is_some());
        let note = if unreached { " (reaches no client: each client names its own backend)" } else { "" };
        let mut lines: Vec<String> = self
            .routes
            .iter()
            .map(|r| {
                let scope = r.scope.as_deref().unwrap_or("*");
                let fallback = r.fallback.as_ref().map(|(_, b)| format!(", not found there: {}", b.describe()));
                let mirror = r.mirror.as_ref().map(|m| format!(", reads mirrored to: {}", m.backend.describe()));
                format!(
                    "route: {} {scope} -> {}{}{}{note}",
                    r.edge,
                    r.backend.describe(),
                    fallback.unwrap_or_default(),
                    mirror.unwrap_or_default()
                )
            })
            .collect();
        lines.push(format!("route: everything else -> {}{note}", self.default.describe()));
        for client in clients {
            if let Some(backend) = client.backend.as_deref().and_then(|name| self.named(name)) {
                lines.push(format!(
                    "client {}: every request -> {}, whatever the routes",
                    client.name,
                    backend.describe()
                ));
            }
        }
        lines
    }

    /// The Keystone sessions of the upstreams, by upstream name.
    pub fn keystone_sessions(&self) -> Vec<(&str, &crate::backend::KeystoneSession)> {
        self.by_name
            .iter()
            .filter_map(|(name, backend)| match backend {
                Backend::Upstream(upstream) => upstream.keystone().map(|k| (name.as_str(), k)),
                Backend::Memory(_) => None,
            })
            .collect()
    }
}
