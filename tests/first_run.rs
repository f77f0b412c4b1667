//! The first five minutes: the banner's lines run in a real shell against
//! the gateway that printed them, start-up refusals say what to fix, the
//! environment conventions of the dialects' own tools (clouds.yaml with
//! openstacksdk's search order and precedence), and `--demo`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dragoman::dialect::Dialect;
use dragoman::environment::{Environment, upstream};

use crate::common::binary::Binary;
use crate::common::get;

/// Runs `lines` as one bash script, as if pasted, with each `curl` also
/// printing its status; returns what it printed.
fn paste(lines: &[String]) -> String {
    let mut script = String::from("curl() { command curl -sS -w '\\nstatus %{http_code}\\n' \"$@\"; }\n");
    for line in lines {
        script.push_str(line);
        script.push('\n');
    }
    let out = Command::new("bash").arg("-c").arg(&script).output().expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "the banner does not run: {stderr}\n{script}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The statuses the pasted requests got, in order.
fn statuses(output: &str) -> Vec<&str> {
    output.lines().filter_map(|l| l.strip_prefix("status ")).collect()
}

#[test]
fn every_banner_line_pastes_into_bash_and_works() {
    let (gw, banner) = Binary::start_with_banner(&["--listen", "127.0.0.1:0"], &[], false);
    assert!(banner.iter().any(|l| l.starts_with("TOKEN=$(curl")), "{banner:?}");
    let output = paste(&banner);
    // three reads, then (the token request's output is captured in TOKEN)
    // the read that needs the token
    assert_eq!(statuses(&output), ["200", "200", "200", "200"], "{output}");
    assert!(output.contains("70a599e0-31e7-49b7-b260-868f441e862b"), "{output}");
    drop(gw);
}

#[test]
fn the_banner_in_front_of_keystone_names_the_project_and_its_lines_work() {
    let inner = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let auth_url = inner.url("/v3");
    let upstream = format!("openstack={}", inner.base);
    let env = [
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_USERNAME", "demo"),
        ("OS_PASSWORD", "demo"),
        ("OS_PROJECT_NAME", "demo"),
    ];
    let (_front, banner) =
        Binary::start_with_banner(&["--listen", "127.0.0.1:0", "--upstream", &upstream], &env, false);
    let route = banner.iter().find(|l| l.starts_with("# route: everything else")).unwrap();
    assert!(route.contains("token from keystone at") && route.contains("project \"demo\""), "{route}");
    assert_eq!(statuses(&paste(&banner)), ["200", "200", "200", "200"]);
}

#[test]
fn the_banner_says_where_each_clients_requests_really_go() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/dragoman.example.toml");
    let (_gw, banner) = Binary::start_with_banner(&["--config", example, "--listen", "127.0.0.1:0"], &[], false);
    let hostway = banner.iter().find(|l| l.starts_with("# route: hostway *")).unwrap();
    assert!(hostway.ends_with("(reaches no client: each client names its own backend)"), "{hostway}");
    assert!(
        banner.iter().any(|l| l.starts_with("# client ops: every request -> embedded catalog")),
        "the example's client is served from the catalog: {banner:?}"
    );
    // nothing to try without the demo client, but still every line pastes
    assert!(paste(&banner).is_empty());
}

/// Runs the binary expecting it to refuse to start; returns what it said.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(args)
        .envs(env.iter().copied())
        .env("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} started");
    assert!(out.stdout.is_empty(), "no banner for a refused start");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn start_up_refusals_name_the_component_and_the_fix() {
    fn with(upstream: &str) -> [&str; 4] {
        ["--listen", "127.0.0.1:0", "--upstream", upstream]
    }
    let said = refused(&with("hostway=http://127.0.0.1:9"), &[]);
    assert!(said.contains("a hostway upstream needs both user and password (from the environment); set HOSTWAY_USERNAME and HOSTWAY_PASSWORD"), "{said}");
    let said = refused(&with("foreman="), &[("FOREMAN_USERNAME", "admin"), ("FOREMAN_PASSWORD", "x")]);
    assert!(said.contains("url is needed"), "{said}");
    assert!(said.contains("FOREMAN_SERVER_URL"), "names the variable that gives it: {said}");
    // Keystone unreachable (a closed port): said at start, not at the first request
    let keystone = [
        ("OS_AUTH_URL", "http://127.0.0.1:9/v3"),
        ("OS_USERNAME", "svc"),
        ("OS_PASSWORD", "x"),
        ("OS_PROJECT_NAME", "images"),
    ];
    let said = refused(&with("openstack="), &keystone);
    assert!(
        said.contains("keystone at http://127.0.0.1:9/v3 (user \"svc\", project \"images\") gives no token"),
        "{said}"
    );
    assert!(said.contains("connection refused") || said.contains("Connection refused"), "{said}");
    assert!(said.contains("check its URL (OS_AUTH_URL"), "{said}");
    let said = refused(&with("openstack="), &[("OS_AUTH_TYPE", "v3oidcpassword")]);
    assert!(said.contains("\"v3oidcpassword\" is not supported; use one of password, v3password"), "{said}");
    let said = refused(&with("openstack="), &[("OS_CLOUD", "prod")]);
    assert!(
        said.contains("OS_CLOUD is \"prod\" but there is no clouds.yaml; looked for /nonexistent/clouds.yaml, "),
        "{said}"
    );
    // a file
    let said = refused(&["--config", "/nonexistent/dragoman.toml"], &[]);
    assert!(said.contains("cannot read /nonexistent/dragoman.toml"), "{said}");
    // the demo client off loopback, without --demo
    let said = refused(&["--listen", "0.0.0.0:0"], &[]);
    assert!(said.contains("or run --demo to try it out"), "{said}");
}

/// A directory of its own under the system's temporary one.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dragoman-first-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A clouds.yaml with one cloud `prod` whose user is `user`.
fn clouds(user: &str) -> String {
    format!(
        "clouds:\n  prod:\n    region_name: RegionTwo\n    auth:\n      auth_url: http://keystone.{user}:5000/v3\n      \
         username: {user}\n      password: from-clouds\n      project_name: images\n      user_domain_name: Default\n      \
         project_domain_name: Default\n"
    )
}

#[test]
fn clouds_yaml_is_found_and_weighed_as_openstacksdk_does() {
    let root = scratch("clouds");
    let (cwd, user, system) = (root.join("cwd"), root.join("home/.config"), root.join("etc"));
    for (dir, who) in [(&cwd, "cwd"), (&user.join("openstack"), "user"), (&system.join("openstack"), "system")] {
        write(&dir.join("clouds.yaml"), &clouds(who));
    }
    let mut env = Environment {
        vars: HashMap::from([("OS_CLOUD".to_owned(), "prod".to_owned())]),
        cwd: cwd.clone(),
        user_config: Some(user.clone()),
        system_config: system.clone(),
    };
    let user_of = |env: &Environment| upstream(Dialect::OpenStack, env).unwrap().credentials.user.unwrap();
    // the current directory first, then ~/.config/openstack, then /etc/openstack
    assert_eq!(user_of(&env), "cwd");
    std::fs::remove_file(cwd.join("clouds.yaml")).unwrap();
    assert_eq!(user_of(&env), "user");
    std::fs::remove_file(user.join("openstack/clouds.yaml")).unwrap();
    assert_eq!(user_of(&env), "system");
    // OS_CLIENT_CONFIG_FILE goes before them all
    let named = root.join("elsewhere.yaml");
    write(&named, &clouds("named"));
    write(&cwd.join("clouds.yaml"), &clouds("cwd"));
    env.vars.insert("OS_CLIENT_CONFIG_FILE".into(), named.display().to_string());
    assert_eq!(user_of(&env), "named");
    // only the first file found is read: a cloud only a later one has is not found
    env.vars.insert("OS_CLOUD".into(), "other".into());
    write(&system.join("openstack/clouds.yaml"), &clouds("system").replace("prod:", "other:"));
    let err = upstream(Dialect::OpenStack, &env).unwrap_err().to_string();
    assert!(err.contains(&format!("{} has no cloud of that name", named.display())), "{err}");
    env.vars.insert("OS_CLOUD".into(), "prod".into());

    // secure.yaml's keys win over clouds.yaml's, key by key
    write(&user.join("openstack/secure.yaml"), "clouds:\n  prod:\n    auth:\n      password: from-secure\n");
    let up = upstream(Dialect::OpenStack, &env).unwrap();
    assert_eq!(up.credentials.password.as_deref(), Some("from-secure"));
    assert_eq!(up.credentials.user.as_deref(), Some("named"), "the rest of auth stays");
    assert_eq!(up.credentials.auth_url.as_deref(), Some("http://keystone.named:5000/v3"));
    assert_eq!(up.source, format!("cloud \"prod\" of {}", named.display()));

    // with OS_CLOUD the entry is used whole: OS_* credentials are not mixed
    // in, but OS_REGION_NAME still picks the region
    env.vars.insert("OS_USERNAME".into(), "from-env".into());
    env.vars.insert("OS_PASSWORD".into(), "from-env".into());
    assert_eq!(user_of(&env), "named");
    assert_eq!(upstream(Dialect::OpenStack, &env).unwrap().credentials.region.as_deref(), Some("RegionTwo"));
    env.vars.insert("OS_REGION_NAME".into(), "RegionThree".into());
    assert_eq!(upstream(Dialect::OpenStack, &env).unwrap().credentials.region.as_deref(), Some("RegionThree"));
    // without OS_CLOUD the variables are the cloud, whatever clouds.yaml holds
    env.vars.remove("OS_CLOUD");
    assert_eq!(user_of(&env), "from-env");
    // with neither, the one cloud of clouds.yaml is the cloud; with several, none is
    env.vars.retain(|k, _| k == "OS_CLIENT_CONFIG_FILE" || k == "OS_REGION_NAME");
    assert_eq!(user_of(&env), "named");
    write(&named, &format!("{}  other:\n    auth: {{}}\n", clouds("named")));
    let up = upstream(Dialect::OpenStack, &env).unwrap();
    assert_eq!((up.credentials.user, up.source.as_str()), (None, "environment"));
    write(&named, &clouds("named"));

    // what Dragoman would not do safely is refused, naming the file
    env.vars.insert("OS_CLOUD".into(), "prod".into());
    write(&named, &format!("{}    verify: false\n", clouds("named")));
    let err = upstream(Dialect::OpenStack, &env).unwrap_err().to_string();
    assert!(err.contains("verify: false is refused; TLS verification is always on"), "{err}");
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn os_cloud_takes_a_real_process_through_keystone() {
    let inner = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let root = scratch("os-cloud");
    let file = root.join("clouds.yaml");
    write(
        &file,
        &format!(
            "clouds:\n  demo:\n    auth_type: v3password\n    auth:\n      auth_url: {}\n      username: demo\n      \
             project_name: demo\n      user_domain_id: default\n      project_domain_id: default\n",
            inner.url("/v3")
        ),
    );
    write(&root.join("secure.yaml"), "clouds:\n  demo:\n    auth:\n      password: demo\n");
    let upstream = format!("openstack={}", inner.base);
    let secure = root.join("secure.yaml");
    let env = [
        ("OS_CLOUD", "demo"),
        ("OS_CLIENT_CONFIG_FILE", file.to_str().unwrap()),
        ("OS_CLIENT_SECURE_FILE", secure.to_str().unwrap()),
    ];
    let front = Binary::start(&["--listen", "127.0.0.1:0", "--upstream", &upstream], &env, false);
    let got = get(&front.url("/accounts/demo/flexcloud/images/250")).await;
    assert_eq!(got.status, 200, "{}", got.text());
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn demo_serves_every_address_and_says_so_loudly() {
    let (gw, banner) = Binary::start_with_banner(&["--demo", "--listen", "0.0.0.0:0"], &[], false);
    assert!(banner[0].starts_with("# dragoman listening on http://0.0.0.0:"), "{banner:?}");
    assert!(
        banner
            .iter()
            .any(|l| l.starts_with("# WARNING: --demo: the demo client (password demo) is accepted from ANY address")),
        "{banner:?}"
    );
    // the try lines name an address that reaches it
    let port = gw.base.rsplit(':').next().unwrap();
    let try_line = banner.iter().find(|l| l.starts_with("curl -u demo:demo")).unwrap();
    assert!(try_line.contains(&format!("http://127.0.0.1:{port}/")), "{try_line}");
    let got = get(&format!("http://127.0.0.1:{port}/accounts/demo/flexcloud/images/133")).await;
    assert_eq!(got.status, 200, "the demo client is served: {}", got.text());
    assert_eq!(statuses(&paste(&banner)), ["200", "200", "200", "200"]);
}

#[test]
fn demo_listens_on_every_address_of_port_8080_and_takes_no_file() {
    use clap::Parser;
    let config = dragoman::cli::Cli::parse_from(["dragoman", "--demo"]).config().unwrap();
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:8080");
    assert!(config.demo_anywhere && config.clients.is_empty());
    assert!(dragoman::cli::Cli::try_parse_from(["dragoman", "--demo", "--config", "x.toml"]).is_err());
    assert!(dragoman::cli::Cli::try_parse_from(["dragoman", "--demo", "--upstream", "hostway=http://h"]).is_err());
    let dockerfile = include_str!("../deploy/Dockerfile");
    assert!(dockerfile.contains("CMD [\"--demo\"]"), "the image runs the demo with no arguments");
}
