//! openstacksdk's `clouds.yaml`: where it is looked for, and one cloud's
//! settings from it, with `secure.yaml` merged over them.
//!
//! As openstacksdk's loader: `OS_CLIENT_CONFIG_FILE` first, then
//! `./clouds.yaml`, `~/.config/openstack/clouds.yaml`,
//! `/etc/xdg/openstack/clouds.yaml` and `/etc/openstack/clouds.yaml` (each
//! also as `.yml` and `.json`); the first file that exists is the only one
//! read. Unlike openstacksdk, a file that does not parse is refused, not
//! skipped: a gateway should not start on another file than the one meant. `secure.yaml` is found the same way
//! (`OS_CLIENT_SECURE_FILE` first) and its cloud's keys win over the other's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use super::{Environment, EnvironmentError};

/// A `clouds.yaml` setting Dragoman refuses.
#[derive(Debug, thiserror::Error)]
pub enum CloudRefusal {
    #[error("verify: false is refused; TLS verification is always on (give cacert instead)")]
    NoVerify,
    #[error("profile (a vendor's defaults) is not supported; give auth.auth_url")]
    Profile,
}

/// Largest `clouds.yaml` read, in bytes.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The files openstacksdk would read for `stem` (`clouds` or `secure`), in order.
fn search_path(env: &Environment, stem: &str, first: Option<String>) -> Vec<PathBuf> {
    let mut dirs = vec![env.cwd.clone()];
    dirs.extend(env.user_config.as_ref().map(|dir| dir.join("openstack")));
    // platformdirs' site directory on Linux, then the Unix one
    dirs.push(env.system_config.join("xdg/openstack"));
    dirs.push(env.system_config.join("openstack"));
    let mut files: Vec<PathBuf> = first.into_iter().map(PathBuf::from).collect();
    for dir in dirs {
        files.extend(["yaml", "yml", "json"].map(|suffix| dir.join(format!("{stem}.{suffix}"))));
    }
    files
}

/// The first existing file of `files`, read.
fn first_file(files: &[PathBuf]) -> Result<Option<(PathBuf, Value)>, EnvironmentError> {
    let Some(path) = files.iter().find(|p| p.is_file()) else { return Ok(None) };
    let read = |source| EnvironmentError::Read { path: path.clone(), source };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(EnvironmentError::TooLarge { path: path.clone(), limit: MAX_FILE_BYTES });
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    let value =
        serde_norway::from_str(&text).map_err(|source| EnvironmentError::Parse { path: path.clone(), source })?;
    Ok(Some((path.clone(), value)))
}

/// The entry of cloud `name` in a parsed file, if any.
fn entry<'a>(file: &'a Value, name: &str) -> Option<&'a Mapping> {
    file.get("clouds")?.get(name)?.as_mapping()
}

/// `over`'s keys over `base`'s, mappings merged key by key.
fn merge(base: &mut Mapping, over: &Mapping) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Mapping(inner)), Value::Mapping(more)) => merge(inner, more),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The one cloud of the first `clouds.yaml`, when it holds exactly one:
/// openstacksdk's default when neither `OS_CLOUD` nor credentials are set.
pub(super) fn only_cloud(env: &Environment) -> Result<Option<HashMap<String, String>>, EnvironmentError> {
    let files = search_path(env, "clouds", env.var("OS_CLIENT_CONFIG_FILE"));
    let Some((_, file)) = first_file(&files)? else { return Ok(None) };
    let names: Vec<&str> = match file.get("clouds").and_then(Value::as_mapping) {
        Some(clouds) => clouds.keys().filter_map(Value::as_str).collect(),
        None => return Ok(None),
    };
    match names.as_slice() {
        [name] => cloud(env, name).map(Some),
        _ => Ok(None),
    }
}

/// Cloud `name`'s settings as openstacksdk's flat keys: the entry's own
/// (`region_name`, `interface`, `cacert`, …) and those of its `auth` mapping.
pub(super) fn cloud(env: &Environment, name: &str) -> Result<HashMap<String, String>, EnvironmentError> {
    let files = search_path(env, "clouds", env.var("OS_CLIENT_CONFIG_FILE"));
    let Some((path, file)) = first_file(&files)? else {
        let looked: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        return Err(EnvironmentError::NoCloudsFile { name: name.to_owned(), looked: looked.join(", ") });
    };
    let Some(mut cloud) = entry(&file, name).cloned() else {
        return Err(EnvironmentError::NoSuchCloud { name: name.to_owned(), path });
    };
    let secure = search_path(env, "secure", env.var("OS_CLIENT_SECURE_FILE"));
    if let Some((_, secure)) = first_file(&secure)?
        && let Some(more) = entry(&secure, name)
    {
        merge(&mut cloud, more);
    }
    flatten(&cloud, name, &path)
}

fn flatten(cloud: &Mapping, name: &str, path: &Path) -> Result<HashMap<String, String>, EnvironmentError> {
    let at = |refusal| EnvironmentError::Refused { name: name.to_owned(), path: path.to_owned(), refusal };
    let mut out = HashMap::new();
    for (key, value) in cloud {
        let Some(key) = key.as_str() else { continue };
        match (key, value) {
            ("auth", Value::Mapping(auth)) => {
                for (k, v) in auth {
                    if let (Some(k), Some(v)) = (k.as_str(), scalar(v)) {
                        out.insert(k.to_owned(), v);
                    }
                }
            }
            ("verify", Value::Bool(false)) => {
                return Err(at(CloudRefusal::NoVerify));
            }
            ("profile", _) => {
                return Err(at(CloudRefusal::Profile));
            }
            ("regions", Value::Sequence(regions)) => {
                let first = regions.first().and_then(|r| scalar(r).or_else(|| r.get("name").and_then(scalar)));
                if let Some(region) = first {
                    out.entry("region_name".to_owned()).or_insert(region);
                }
            }
            (key, value) => {
                if let Some(v) = scalar(value) {
                    out.insert(key.to_owned(), v);
                }
            }
        }
    }
    out.insert("source".into(), format!("cloud {name:?} of {}", path.display()));
    Ok(out)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
