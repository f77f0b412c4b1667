//! The request pipeline, assembled in one place.

mod routes;
mod translate;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;

pub use routes::RouteTable;
pub use translate::Gateway;

use crate::config::Config;
use crate::dialect::Reply;
use crate::model::GatewayError;

impl Gateway {
    pub fn from_config(config: &Config) -> Result<Self, GatewayError> {
        Ok(Self {
            routes: RouteTable::from_config(config)?,
            identity: config.identity().map_err(|e| GatewayError::internal(e.to_string()))?,
            region: config.identity.region.clone(),
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
            max_body: config.server.max_body_bytes,
        })
    }
}

/// The service a connection serves, as a tower stack.
pub fn service<B>(
    gateway: Arc<Gateway>,
) -> impl tower::Service<Request<B>, Response = Reply, Error = Infallible, Future: Send> + Clone + Send
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    tower::ServiceBuilder::new()
        // translation answers every request itself, errors included, in the
        // edge dialect: nothing below it fails, so nothing above it rescues
        .service_fn(move |req: Request<B>| {
            let gateway = gateway.clone();
            async move { Ok::<_, Infallible>(gateway.handle(req).await) }
        })
}
