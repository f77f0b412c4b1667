//! The deployment examples carry configurations that load.

use dragoman::config::Config;

/// The TOML embedded in the sidecar's ConfigMap, unindented.
fn sidecar_config() -> String {
    let yaml = include_str!("../deploy/k8s/sidecar.yaml");
    let start =
        yaml.find("dragoman.toml: |\n").expect("the ConfigMap holds dragoman.toml") + "dragoman.toml: |\n".len();
    yaml[start..]
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with("    "))
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_sidecar_configuration_loads() {
    // SAFETY: this binary runs this one test, so no other thread reads the
    // environment; the variables are the ones the Pod sets from its Secret
    unsafe {
        std::env::set_var("DRAGOMAN_APP_PASSWORD", "from-a-secret");
        std::env::set_var("OS_PASSWORD", "from-a-secret");
    }
    let config = Config::parse(&sidecar_config()).expect("the sidecar configuration is valid");
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.workers, 1);
    assert_eq!(config.clients[0].name, "app");
    assert_eq!(config.upstreams[0].keystone().unwrap().unwrap().interface, "internal");
}
