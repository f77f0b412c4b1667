//! The deployment examples: the configurations they carry load, every
//! Kubernetes manifest validates against the Kubernetes schemas, the probes
//! name the admin listener's paths on its port, the Pod Security level is
//! "restricted", images are pinned, and the systemd unit's exposure is low.
//!
//! Needs `kubernetes-validate` (PyPI): named by `KUBERNETES_VALIDATE`, on
//! `PATH`, or installed by the first test that needs it into
//! `target/tools/venv`; and `systemd-analyze` (Debian's `systemd`, which
//! `.ci/run` installs; without it that one check says so and passes).

use std::path::{Path, PathBuf};
use std::process::Command;

use dragoman::config::Config;
use serde_json::Value;

const MANIFESTS: [&str; 2] = ["deploy/k8s/sidecar.yaml", "deploy/k8s/standalone.yaml"];

/// The variables the manifests set from their Secrets.
const FROM_SECRETS: [&str; 4] =
    ["DRAGOMAN_APP_PASSWORD", "OS_PASSWORD", "DRAGOMAN_BILLING_PASSWORD", "DRAGOMAN_LEGACY_GRID_SECRET"];

/// Sets the variables the Secrets provide, once, before any test reads the
/// environment: every test calls it first.
fn environment() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        for var in FROM_SECRETS {
            // SAFETY: every test waits here before it reads the environment
            // or starts a process, so no other thread reads it meanwhile
            unsafe { std::env::set_var(var, "from-a-secret") };
        }
    });
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The version of `kubernetes-validate` installed when none is found; `.ci/run` pins the same.
const KUBERNETES_VALIDATE_VERSION: &str = "1.37.0";

/// The `kubernetes-validate` program: `KUBERNETES_VALIDATE`, else on `PATH`,
/// else installed from PyPI into `target/tools/venv` (once per run).
fn kubernetes_validate() -> PathBuf {
    static FOUND: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("KUBERNETES_VALIDATE") {
                return path.into();
            }
            let venv = repo("target/tools/venv");
            let find = || {
                std::env::var_os("PATH")
                    .into_iter()
                    .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
                    .chain([venv.join("bin")])
                    .map(|dir| dir.join("kubernetes-validate"))
                    .find(|p| p.is_file())
            };
            find().unwrap_or_else(|| {
                install_kubernetes_validate(&venv);
                find().expect("kubernetes-validate installed")
            })
        })
        .clone()
}

fn install_kubernetes_validate(venv: &Path) {
    let run = |program: &Path, args: &[&str]| {
        let status = Command::new(program).args(args).status().unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        assert!(status.success(), "{} {args:?} failed: kubernetes-validate is needed (PyPI)", program.display());
    };
    run(Path::new("python3"), &["-m", "venv", venv.to_str().unwrap()]);
    let package = format!("kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}");
    run(&venv.join("bin/pip"), &["install", "--quiet", "--disable-pip-version-check", &package]);
}

/// Every document of a manifest, as JSON, read by the YAML parser that
/// `kubernetes-validate` itself uses (its Python's PyYAML).
fn documents(manifest: &str) -> Vec<Value> {
    let tool = kubernetes_validate();
    let python = tool.parent().map(|bin| bin.join("python3")).filter(|p| p.is_file()).unwrap_or("python3".into());
    let out = Command::new(python)
        .args(["-c", "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))"])
        .arg(repo(manifest))
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The pod templates of a manifest's Deployments.
fn pod_specs(docs: &[Value]) -> Vec<&Value> {
    docs.iter().filter(|d| d["kind"] == "Deployment").map(|d| &d["spec"]["template"]["spec"]).collect()
}

/// The Dragoman configuration a manifest's ConfigMap carries, loaded with
/// the variables its Secret provides.
fn carried_config(docs: &[Value]) -> Config {
    let map = docs.iter().find(|d| d["kind"] == "ConfigMap").expect("a ConfigMap");
    let secret = docs.iter().find(|d| d["kind"] == "Secret").expect("a Secret");
    for container in pod_specs(docs).iter().flat_map(|spec| containers(spec)) {
        for var in container["env"].as_array().into_iter().flatten() {
            let key = &var["valueFrom"]["secretKeyRef"]["key"];
            if let Some(key) = key.as_str() {
                assert!(secret["stringData"][key].is_string(), "the Secret holds {key}");
                let name = var["name"].as_str().unwrap();
                assert!(FROM_SECRETS.contains(&name), "{name} is set by environment()");
            }
        }
    }
    Config::parse(map["data"]["dragoman.toml"].as_str().unwrap()).expect("the carried configuration is valid")
}

fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers"].iter().flat_map(|k| spec[k].as_array().into_iter().flatten()).collect()
}

#[test]
fn every_manifest_validates_against_the_kubernetes_schemas() {
    environment();
    for manifest in MANIFESTS {
        let out = Command::new(kubernetes_validate()).arg("--strict").arg(repo(manifest)).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{manifest}: {said}");
        assert!(!said.contains("ERROR") && !said.contains("WARN"), "{manifest}: {said}");
        assert_eq!(said.matches("passed").count(), documents(manifest).len(), "{manifest}: {said}");
    }
}

#[test]
fn the_standalone_layer_has_every_part_and_the_sidecar_is_native() {
    environment();
    let kinds = |docs: &[Value]| docs.iter().map(|d| d["kind"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let standalone = documents("deploy/k8s/standalone.yaml");
    for kind in ["ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"] {
        assert!(kinds(&standalone).iter().any(|k| k == kind), "standalone: no {kind}");
    }
    let sidecar = documents("deploy/k8s/sidecar.yaml");
    let spec = pod_specs(&sidecar)[0];
    let dragoman = &spec["initContainers"][0];
    assert_eq!(dragoman["name"], "dragoman");
    assert_eq!(dragoman["restartPolicy"], "Always", "a native sidecar");
}

#[test]
fn the_probes_name_admin_paths_on_the_admin_port() {
    environment();
    let paths = [dragoman::admin::LIVEZ, dragoman::admin::READYZ];
    for manifest in MANIFESTS {
        let docs = documents(manifest);
        let config = carried_config(&docs);
        let admin_port = config.admin.listen.port();
        assert!(config.admin.listen.ip().is_unspecified(), "{manifest}: the kubelet probes the pod's address");
        for spec in pod_specs(&docs) {
            let dragoman = containers(spec).into_iter().find(|c| c["name"] == "dragoman").expect("dragoman");
            let port = dragoman["ports"].as_array().unwrap().iter().find(|p| p["name"] == "admin").expect("admin port");
            assert_eq!(port["containerPort"], admin_port, "{manifest}");
            for (probe, path) in [("livenessProbe", paths[0]), ("readinessProbe", paths[1]), ("startupProbe", paths[0])]
            {
                let get = &dragoman[probe]["httpGet"];
                assert_eq!(get["path"], path, "{manifest}: {probe}");
                assert_eq!(get["port"], "admin", "{manifest}: {probe}");
            }
        }
    }
}

#[test]
fn every_pod_meets_the_restricted_pod_security_level_with_pinned_images() {
    environment();
    for manifest in MANIFESTS {
        let docs = documents(manifest);
        for spec in pod_specs(&docs) {
            let pod = &spec["securityContext"];
            assert_eq!(pod["runAsNonRoot"], true, "{manifest}");
            assert_eq!(pod["seccompProfile"]["type"], "RuntimeDefault", "{manifest}");
            assert_ne!(pod["runAsUser"], 0, "{manifest}");
            for volume in spec["volumes"].as_array().into_iter().flatten() {
                let kinds: Vec<&String> = volume.as_object().unwrap().keys().filter(|k| *k != "name").collect();
                assert!(
                    kinds.iter().all(|k| ["configMap", "secret", "emptyDir", "projected"].contains(&k.as_str())),
                    "{manifest}: {volume}"
                );
            }
            for container in containers(spec) {
                let name = &container["name"];
                let security = &container["securityContext"];
                assert_eq!(security["allowPrivilegeEscalation"], false, "{manifest}: {name}");
                assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]), "{manifest}: {name}");
                assert_eq!(security["readOnlyRootFilesystem"], true, "{manifest}: {name}");
                assert!(security["capabilities"]["add"].is_null(), "{manifest}: {name}");
                let image = container["image"].as_str().unwrap();
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
                assert!(!tag.is_empty() && tag != "latest" && !tag.contains('/'), "{manifest}: {image} is not pinned");
            }
        }
    }
}

#[test]
fn the_carried_configurations_load() {
    environment();
    let sidecar = carried_config(&documents("deploy/k8s/sidecar.yaml"));
    assert_eq!(sidecar.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(sidecar.server.workers, 1);
    assert_eq!(sidecar.clients[0].name, "app");
    assert_eq!(sidecar.upstreams[0].keystone().unwrap().unwrap().interface, "internal");
    let standalone = carried_config(&documents("deploy/k8s/standalone.yaml"));
    assert_eq!(standalone.server.shutdown_drain_delay_secs, 5);
    assert_eq!(standalone.upstreams[0].name, "nova");
}

#[test]
fn the_systemd_unit_reloads_on_sighup_and_exposes_little() {
    environment();
    let unit = repo("deploy/systemd/dragoman.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"), "{text}");
    // exposure at most 2.0 (the threshold counts tenths)
    let out = match Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20", "--no-pager"])
        .arg(&unit)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED the exposure score: systemd-analyze is not installed (apt-get install systemd; .ci/run does)"
            );
            return;
        }
        Err(e) => panic!("systemd-analyze: {e}"),
    };
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("Overall exposure level for dragoman.service"), "{said}");
}
