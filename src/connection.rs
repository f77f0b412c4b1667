//! What the listener allows each connection, and what it tells the
//! pipeline about one: the listener (`src/server.rs`) enforces the limits,
//! the pipeline reads the marks.

use std::time::Duration;

use crate::config::{EdgeTlsConfig, ServerConfig};

/// Marks a request that came over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tls;

/// What the listener allows each connection, and how long shutdown waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// 0 for no limit.
    pub max_per_address: usize,
    pub shutdown_grace: Duration,
    /// HTTPS instead of plain HTTP.
    pub tls: Option<EdgeTlsConfig>,
}

impl ConnectionLimits {
    pub fn from_config(server: &ServerConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(server.header_read_timeout_secs),
            // hyper refuses a read buffer under 8 KiB
            max_header_bytes: server.max_header_bytes.max(8192),
            max_headers: server.max_headers,
            max_per_address: server.max_connections_per_address,
            shutdown_grace: Duration::from_secs(server.shutdown_grace_secs),
            tls: server.tls.clone(),
        }
    }
}
