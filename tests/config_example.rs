//! The documented example configuration loads, and says what the defaults are.

use dragoman::config::{
    AdminConfig, Config, LogConfig, MEMORY, MirrorConfig, QuotaConfig, RateLimitConfig, ServerConfig,
};
use dragoman::dialect::Dialect;

#[test]
fn the_example_file_loads_and_documents_the_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/dragoman.example.toml");
    let config = Config::load(std::path::Path::new(path)).expect("the example config is valid");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.request_timeout_secs, 60);
    assert_eq!(config.server.max_body_bytes, 1_048_576);
    assert_eq!(config.server.default_backend, MEMORY);
    let names: Vec<(&str, Dialect)> = config.upstreams.iter().map(|u| (u.name.as_str(), u.dialect)).collect();
    assert_eq!(names, [("nova", Dialect::OpenStack), ("grid", Dialect::GoGrid)]);
    let nova = &config.upstreams[0];
    assert_eq!((nova.connect_timeout_secs, nova.timeout_secs, nova.walk_limit, nova.fanout), (5, 30, 10_000, 8));
    assert_eq!(config.routes.len(), 2);
    assert_eq!((config.identity.gogrid_window_secs, config.identity.token_lifetime_secs), (300, 3600));
    assert_eq!(config.identity.region, "RegionOne");
    let identity = config.identity().expect("the example client is valid");
    assert!(!identity.demo, "declared clients replace the demo client");
    assert_eq!(config.clients[0].name, "ops");
    assert_eq!(config.clients[0].compute_resource.as_deref(), Some("980190962"));
    assert_eq!((nova.retry_budget_percent, nova.retry_budget_min_per_sec), (20, 1));
}

#[test]
fn the_example_file_documents_the_protections_at_their_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/dragoman.example.toml");
    let config = Config::load(std::path::Path::new(path)).expect("the example config is valid");
    let server = &config.server;
    assert_eq!(server.header_read_timeout_secs, 30);
    assert_eq!((server.max_header_bytes, server.max_headers), (65_536, 100));
    assert_eq!(server.max_in_flight, 1024);
    assert_eq!(server.max_connections_per_address, 256);
    assert_eq!(server.shutdown_grace_secs, 30);
    assert_eq!(server.shutdown_drain_delay_secs, 5);
    assert_eq!(*server, ServerConfig::default(), "the example shows the defaults");
    assert_eq!(config.admin, AdminConfig::default(), "the example shows the defaults");
    assert_eq!(config.admin.listen.to_string(), "127.0.0.1:9901");
    assert_eq!(config.log, LogConfig::default(), "the example shows the defaults");
    let limits = &config.rate_limit;
    assert_eq!(*limits, RateLimitConfig::default(), "the example shows the defaults");
    for off in [limits.global, limits.client, limits.reads, limits.writes] {
        assert!(off.quota().is_none(), "{off:?}");
    }
    assert_eq!(limits.tokens, QuotaConfig { requests: 5, per_secs: 1, burst: Some(20) });
    assert_eq!(limits.address, QuotaConfig { requests: 20, per_secs: 1, burst: Some(100) });
    assert_eq!(limits.max_addresses, 100_000);
    assert_eq!(config.mirror, MirrorConfig::default(), "the example shows the defaults");
    assert_eq!((config.mirror.sample, config.mirror.per_second), (1.0, 100));
    assert_eq!(config.routes[1].mirror_sample, Some(0.5));
}
