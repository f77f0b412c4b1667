//! The documented example configuration loads, and says what the defaults are.

use dragoman::config::{Config, MEMORY};
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
}
