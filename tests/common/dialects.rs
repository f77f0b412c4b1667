//! How a test client speaks each dialect at the edge, and how a test reads
//! the replies: one row per dialect, used by the matrix and chain tests.

use dragoman::dialect::Dialect;
use serde_json::Value;

/// The dialects Dragoman ships and its README documents: every one but a
/// test-only dialect.
pub fn shipped() -> impl Iterator<Item = Dialect> {
    #[cfg(feature = "fifth-dialect")]
    let shipped = |d: &Dialect| *d != Dialect::Fifth;
    #[cfg(not(feature = "fifth-dialect"))]
    let shipped = |_: &Dialect| true;
    Dialect::ALL.into_iter().filter(shipped)
}

/// Asserts `got` is `edge`'s error form with `status`, with a message.
pub fn assert_edge_error(edge: Dialect, got: &crate::common::Got, status: u16, what: &str) {
    assert_eq!(got.status.as_u16(), status, "{what}: {}", got.text());
    let body = got.json();
    match edge {
        Dialect::Hostway | Dialect::OpenStack => {
            let fault = body.as_object().and_then(|o| o.values().next()).expect("a fault object");
            assert_eq!(fault["code"], status, "{what}: {body}");
            assert!(fault["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
        }
        Dialect::GoGrid => {
            assert_eq!(body["status"], "failure", "{what}: {body}");
            assert_eq!(body["list"][0]["object"], "error", "{what}: {body}");
        }
        Dialect::Foreman => {
            let message = body["error"]["message"].as_str().or(body["message"].as_str());
            assert!(message.is_some_and(|m| !m.is_empty()), "{what}: {body}");
        }
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}"),
    }
}

/// The path (and query) of a show at `edge`.
pub fn show_path(edge: Dialect, id: &str) -> String {
    raw_show_path(edge, &dragoman::dialect::percent_encode_segment(id))
}

/// The path (and query) of a show at `edge` with `id` as it goes on the
/// wire, not encoded.
pub fn raw_show_path(edge: Dialect, id: &str) -> String {
    match edge {
        Dialect::Hostway => format!("/accounts/demo/flexcloud/images/{id}"),
        Dialect::OpenStack => format!("/v2/demo/images/{id}"),
        Dialect::GoGrid => format!("/api/grid/image/get?id={id}&api_key=demo&v=1.3&sig=0&format=json"),
        Dialect::Foreman => format!("/api/compute_resources/980190962/images/{id}"),
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => format!("/fifth/images/{id}"),
    }
}

/// The id `edge` shows for the catalog's image `id`, served through
/// `upstream`: an edge or an upstream with integer ids shows an integer.
pub fn id_at(edge: Dialect, upstream: Option<Dialect>, id: &str) -> String {
    use dragoman::dialect::ids::{integer_id, integer_ids};
    if integer_ids(edge) || upstream.is_some_and(integer_ids) { integer_id(id).to_string() } else { id.to_owned() }
}

/// The path of a detailed list of everything at `edge`.
pub fn list_path(edge: Dialect) -> String {
    match edge {
        Dialect::Hostway => "/accounts/demo/flexcloud/images/detail".into(),
        Dialect::OpenStack => "/v2/demo/images/detail".into(),
        Dialect::GoGrid => "/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json".into(),
        Dialect::Foreman => "/api/compute_resources/980190962/images?per_page=all".into(),
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => "/fifth/images".into(),
    }
}

/// Page `index` (0-based) of `size` images at `edge`; `marker` is the last
/// id of the previous page, for dialects that page by marker. `None` where
/// the dialect cannot page.
pub fn page_path(edge: Dialect, size: usize, index: usize, marker: Option<&str>) -> Option<String> {
    match edge {
        Dialect::Hostway => None,
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => None,
        Dialect::OpenStack => Some(match marker {
            Some(m) => format!("/v2/demo/images/detail?limit={size}&marker={m}"),
            None => format!("/v2/demo/images/detail?limit={size}"),
        }),
        Dialect::GoGrid => {
            Some(format!("/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json&num_items={size}&page={index}"))
        }
        Dialect::Foreman => Some(format!("/api/compute_resources/980190962/images?per_page={size}&page={}", index + 1)),
    }
}

/// The path of a GoGrid get-many by id.
pub fn get_many_path(ids: &[&str]) -> String {
    let ids: String = ids.iter().map(|id| format!("&id={id}")).collect();
    format!("/api/grid/image/get?api_key=demo&v=1.3&sig=0&format=json{ids}")
}

/// An id as a string, whether the dialect wrote it as a number or a string.
pub fn id_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an id: {other}"),
    }
}

/// `(id, display name)` of the one image a show reply carries.
pub fn shown(edge: Dialect, body: &Value) -> (String, String) {
    let (image, name) = match edge {
        Dialect::Hostway | Dialect::OpenStack => (&body["image"], "name"),
        Dialect::GoGrid => (&body["list"][0], "friendlyName"),
        Dialect::Foreman => (body, "name"),
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => (&body["image"], "name"),
    };
    (id_of(&image["id"]), image[name].as_str().unwrap_or_else(|| panic!("no {name} in {body}")).to_owned())
}

/// The ids a list reply carries, in order.
pub fn listed(edge: Dialect, body: &Value) -> Vec<String> {
    let key = match edge {
        Dialect::Hostway | Dialect::OpenStack => "images",
        Dialect::GoGrid => "list",
        Dialect::Foreman => "results",
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => "images",
    };
    body[key].as_array().unwrap_or_else(|| panic!("no {key} array in {body}")).iter().map(|i| id_of(&i["id"])).collect()
}

/// Asserts that a reply is `edge`'s own not-found for image `id`.
pub fn assert_not_found(edge: Dialect, status: u16, body: &Value, id: &str) {
    match edge {
        Dialect::Hostway => {
            assert_eq!(status, 404, "{body}");
            assert_eq!(body["itemNotFound"]["code"], 404, "{body}");
            assert_eq!(body["itemNotFound"]["message"], "Resource not found", "{body}");
            assert!(body["itemNotFound"]["errorid"].is_string(), "{body}");
        }
        Dialect::OpenStack => {
            assert_eq!(status, 404, "{body}");
            assert_eq!(body["itemNotFound"]["code"], 404, "{body}");
            assert_eq!(body["itemNotFound"]["message"], "Image not found.", "{body}");
        }
        Dialect::GoGrid => {
            assert_eq!(status, 400, "{body}");
            assert_eq!(body["status"], "failure", "{body}");
            assert_eq!(body["list"][0]["errorcode"], "IllegalArgumentException", "{body}");
            assert_eq!(body["list"][0]["message"], "No object found that matches your input criteria.", "{body}");
        }
        Dialect::Foreman => {
            assert_eq!(status, 404, "{body}");
            assert_eq!(body["error"]["message"], format!("Resource image not found by id '{id}'"), "{body}");
        }
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => {
            assert_eq!(status, 404, "{body}");
            assert_eq!(body["error"], format!("image {id} not found"), "{body}");
        }
    }
}

/// The status an edge answers an unreachable, slow or garbled upstream with.
pub fn upstream_failure_status(edge: Dialect, kind: &str) -> u16 {
    let _ = edge;
    match kind {
        "unreachable" => 503,
        "slow" => 504,
        "garbled" => 502,
        other => panic!("unknown failure {other}"),
    }
}
