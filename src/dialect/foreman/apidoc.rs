//! What Foreman clients read before they call: the API description
//! (`GET /apidoc/v2.json`, apipie's format), its checksum
//! (`GET /apidoc/apipie_checksum`, which hammer compares with its cache) and
//! the server's version (`GET /api/status`). All three are answered by the
//! edge itself, without credentials, as Foreman answers them.
//!
//! The description (`apidoc_v2.json`) lists only what this edge serves: the
//! images resource (index and show under the three parents, create, update
//! and destroy under compute resources, as Foreman documents them) and
//! `home#status`. Its parameters are the ones `write.rs` reads; `name`,
//! `username` and `uuid` are required on create only. Every reply of the
//! edge carries the description's checksum in `Apipie-Checksum`, as
//! Foreman's `checksum_in_headers` adds it, so apypie refreshes its cache
//! when the description changes.

use std::sync::LazyLock;

use http::{Method, StatusCode};
use md5::{Digest, Md5};

use super::{FOREMAN_VERSION, json_reply};
use crate::dialect::Reply;

/// The API description, as served.
const APIDOC: &str = include_str!("apidoc_v2.json");

/// Lowercase hex md5 of the description, as apipie computes its checksum.
pub(super) static CHECKSUM: LazyLock<String> =
    LazyLock::new(|| Md5::digest(APIDOC.as_bytes()).iter().map(|b| format!("{b:02x}")).collect());

/// The edge's own answer to a request for the description, its checksum or
/// the status; `None` for every other request.
pub(super) fn answer(method: &Method, path: &str) -> Option<Reply> {
    if *method != Method::GET && *method != Method::HEAD {
        return None;
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    let body = match path {
        "/apidoc/v2.json" => APIDOC.as_bytes().to_vec(),
        "/apidoc/apipie_checksum" | "/apidoc/apipie_checksum.json" => {
            serde_json::json!({"checksum": *CHECKSUM}).to_string().into_bytes()
        }
        _ if is_status(path) => serde_json::json!({
            "result": "ok",
            "status": 200,
            "version": FOREMAN_VERSION,
            "api_version": 2,
        })
        .to_string()
        .into_bytes(),
        _ => return None,
    };
    Some(json_reply(StatusCode::OK, body))
}

/// `/api[/v2]/status[.json]`.
fn is_status(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/") else { return false };
    let rest = rest.strip_prefix("v2/").unwrap_or(rest);
    matches!(rest, "status" | "status.json")
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::Value;

    use super::super::Foreman;
    use super::super::tests::body_json;
    use super::*;
    use crate::dialect::{EdgeCall, EdgeCodec, EdgeRequest};

    fn local(method: &str, path: &str) -> Option<Reply> {
        let parts = http::Request::builder().method(method).uri(path).body(()).unwrap().into_parts().0;
        let mut ctx = Foreman.context(&parts, "http://gw");
        match Foreman.decode(&mut ctx, &parts, &Bytes::new()) {
            Ok(EdgeRequest::Local(reply)) => Some(reply),
            _ => None,
        }
    }

    #[test]
    fn the_description_checksum_and_status_are_answered_locally() {
        let doc = body_json(local("GET", "/apidoc/v2.json").unwrap());
        assert_eq!(doc["docs"]["api_url"], "/api");
        let reply = local("GET", "/apidoc/apipie_checksum").unwrap();
        assert_eq!(reply.headers()["apipie-checksum"], CHECKSUM.as_str());
        assert_eq!(body_json(reply), serde_json::json!({"checksum": *CHECKSUM}));
        assert_eq!(CHECKSUM.len(), 32);
        for path in ["/api/status", "/api/v2/status", "/api/status.json", "/api/status/"] {
            let status = body_json(local("GET", path).unwrap());
            assert_eq!((status["version"].as_str(), status["api_version"].as_u64()), (Some("3.12.0"), Some(2)));
        }
        assert!(local("HEAD", "/api/status").is_some());
        assert!(local("POST", "/api/status").is_none());
        assert!(local("GET", "/apidoc/v1.json").is_none());
        assert!(local("GET", "/api/hosts/status").is_none());
    }

    /// Every route the description names is one this edge serves, as the
    /// action it is documented as.
    #[test]
    fn the_description_names_only_what_the_edge_serves() {
        let doc: Value = serde_json::from_str(APIDOC).unwrap();
        let images = &doc["docs"]["resources"]["images"]["methods"];
        let mut actions = Vec::new();
        for method in images.as_array().unwrap() {
            let action = method["name"].as_str().unwrap();
            actions.push(action);
            for api in method["apis"].as_array().unwrap() {
                let template = api["api_url"].as_str().unwrap();
                let path: Vec<String> = template
                    .split('/')
                    .map(|segment| if segment.starts_with(':') { "7".to_owned() } else { segment.to_owned() })
                    .collect();
                let path = path.join("/");
                let http_method = api["http_method"].as_str().unwrap();
                let parts = http::Request::builder()
                    .method(http_method)
                    .uri(path.as_str())
                    .header("content-type", "application/json")
                    .body(())
                    .unwrap()
                    .into_parts()
                    .0;
                let mut ctx = Foreman.context(&parts, "http://gw");
                let body = Bytes::from_static(br#"{"image": {"name": "n", "username": "u", "uuid": "x"}}"#);
                let decoded = Foreman.decode(&mut ctx, &parts, &body);
                assert!(matches!(decoded, Ok(EdgeRequest::Op(_))), "{http_method} {path}");
                let called = match ctx.call {
                    EdgeCall::Foreman(called) => called.name(),
                    _ => "",
                };
                assert_eq!(called, action, "{http_method} {path}");
            }
            // apypie checks required parameters before it calls: each must be one the edge reads
            for param in method["params"].as_array().unwrap() {
                let name = param["name"].as_str().unwrap();
                let known = ["id", "compute_resource_id", "architecture_id", "operatingsystem_id", "image"]
                    .contains(&name)
                    || ["search", "order", "page", "per_page"].contains(&name);
                assert!(known, "{action} documents {name}");
            }
        }
        assert_eq!(actions, ["index", "show", "create", "update", "destroy"]);
        let status = &doc["docs"]["resources"]["home"]["methods"][0]["apis"][0];
        assert_eq!((status["http_method"].as_str(), status["api_url"].as_str()), (Some("GET"), Some("/api/status")));
    }
}
