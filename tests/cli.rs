//! The binary as a user runs it: the default run, the one-line upstream, and
//! check-config.

use std::process::Command;

use crate::common::binary::Binary;
use crate::common::get;

#[tokio::test]
async fn the_default_run_serves_every_dialect() {
    let gw = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    for path in [
        "/accounts/demo/flexcloud/images/133",
        "/images/133",
        "/v2/demo/images/70a599e0-31e7-49b7-b260-868f441e862b",
        "/api/grid/image/get?id=250&api_key=demo&v=1.3&sig=0&format=json",
        "/api/grid/image/get?id=250&api_key=demo&v=1.3&sig=0&format=xml",
        "/api/grid/image/get?id=250&api_key=demo&v=1.3&sig=0&format=csv",
        "/api/compute_resources/980190962/images/980190962",
        "/accounts/demo/flexcloud/images/250",
    ] {
        let got = get(&gw.url(path)).await;
        assert_eq!(got.status, 200, "{path}: {}", got.text());
    }
}

/// A one-line OpenStack upstream: `inner`, through its Keystone, with the
/// credentials in the `OS_*` environment.
fn in_front_of_keystone(inner: &Binary, args: &[&str]) -> Binary {
    let url = format!("openstack={}", inner.base);
    let auth_url = inner.url("/v3");
    let env = [
        ("OS_AUTH_URL", auth_url.as_str()),
        ("OS_USERNAME", "demo"),
        ("OS_PASSWORD", "demo"),
        ("OS_PROJECT_NAME", "demo"),
    ];
    let mut all = vec!["--listen", "127.0.0.1:0", "--upstream", &url];
    all.extend_from_slice(args);
    Binary::start(&all, &env, false)
}

#[tokio::test]
async fn a_one_line_upstream_takes_its_credentials_from_the_environment() {
    let inner = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    let front = in_front_of_keystone(&inner, &[]);
    let got = get(&front.url("/accounts/demo/flexcloud/images/250")).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["image"]["name"], "n");
}

/// The names of a process's threads.
#[cfg(target_os = "linux")]
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn worker_threads_share_the_socket_and_stop_together() {
    let inner = Binary::start(&["--listen", "127.0.0.1:0"], &[], false);
    // one Keystone token, fetched once, whichever thread asks first
    let mut front = in_front_of_keystone(&inner, &["--workers", "3"]);
    let pid = front.child.id();
    // a thread names itself once it runs: wait for both
    let mut names = Vec::new();
    for _ in 0..100 {
        names = thread_names(pid);
        if ["worker-1", "worker-2"].iter().all(|w| names.iter().any(|n| n == w)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for worker in ["worker-1", "worker-2"] {
        assert!(names.iter().any(|n| n == worker), "{worker} is not among {names:?}");
    }
    assert!(!names.iter().any(|n| n == "worker-3"), "three workers in all: {names:?}");
    // concurrent connections, each through some worker's own upstream pool
    let requests = (0..30).map(|_| {
        let url = front.url("/accounts/demo/flexcloud/images/250");
        tokio::spawn(async move { get(&url).await })
    });
    for request in requests.collect::<Vec<_>>() {
        let got = request.await.unwrap();
        assert_eq!(got.status, 200, "{}", got.text());
    }
    let term = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(term.success());
    for _ in 0..200 {
        if let Some(status) = front.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the workers did not stop within 10 s of SIGTERM");
}

#[test]
fn check_config_accepts_the_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(["check-config", concat!(env!("CARGO_MANIFEST_DIR"), "/config/dragoman.example.toml")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("dragoman.example.toml: ok\n"));
}

#[test]
fn check_config_says_what_is_wrong_and_where() {
    let dir = std::env::temp_dir().join(format!("dragoman-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("[server]\nlisten = \"127.0.0.1:8080\"\nlisen = 1\n", "unknown field `lisen`"),
        ("[server]\nlisten = \"nowhere\"\n", "invalid socket address"),
        ("[[route]]\nedge = \"hostway\"\nbackend = \"nova\"\n", "route[0].backend: no upstream named \"nova\""),
        ("[[route]]\nedge = \"azure\"\nbackend = \"memory\"\n", "unknown variant `azure`"),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let file = dir.join(format!("bad-{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_dragoman")).arg("check-config").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
        assert!(stderr.contains(&file.display().to_string()), "names the file: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn version_names_the_commit_and_completions_are_printed_for_a_shell() {
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman")).arg("--version").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let commit = said
        .trim()
        .strip_prefix(concat!("dragoman ", env!("CARGO_PKG_VERSION"), " (commit "))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{said}"));
    // built from a checkout: one of its commits; elsewhere, unknown
    let kind = Command::new("git").args(["cat-file", "-t", commit]).current_dir(env!("CARGO_MANIFEST_DIR")).output();
    match kind {
        Ok(kind) if kind.status.success() => assert_eq!(String::from_utf8_lossy(&kind.stdout).trim(), "commit"),
        _ => assert_eq!(commit, "unknown"),
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman")).args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(script.contains("complete -F _dragoman") && script.contains("--admin-listen"), "{script}");
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman")).args(["completions", "tcsh"]).output().unwrap();
    assert!(!out.status.success(), "an unknown shell is refused");
}
