//! Every canonical error kind rendered by every dialect: the status each
//! API uses, its own body shape, `Retry-After` on rate limits, and no
//! internal detail in what the caller sees.

use std::time::Duration;

use bytes::Bytes;
use dragoman::dialect::gogrid::ApiMethod;
use dragoman::dialect::{Dialect, EdgeCall, EdgeCtx, Format, Reply};
use dragoman::model::{ErrorKind, GatewayError, Resource, Side};
use http_body_util::BodyExt;
use serde_json::Value;

const SECRET_DETAIL: &str = "connect to 10.1.2.3:8774 failed: token abc";

fn kinds() -> Vec<ErrorKind> {
    vec![
        ErrorKind::NotFound { resource: Resource::Image, id: "missing-1".into() },
        ErrorKind::BadRequest,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::Conflict,
        ErrorKind::MethodNotAllowed,
        ErrorKind::UnsupportedMediaType,
        ErrorKind::PayloadTooLarge,
        ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) },
        ErrorKind::Unsupported { operation: "list images in detail".into(), backend: "hostway" },
        ErrorKind::UpstreamUnavailable,
        ErrorKind::UpstreamTimeout,
        ErrorKind::UpstreamProtocol,
        ErrorKind::Internal,
    ]
}

/// The status `dialect` answers `kind` with.
fn expected_status(dialect: Dialect, kind: &ErrorKind) -> u16 {
    match (dialect, kind) {
        // GoGrid: every input problem, not-found included, is a 400; a bad
        // signature is 403 and a role without the right is 401
        (Dialect::GoGrid, ErrorKind::NotFound { .. } | ErrorKind::Conflict) => 400,
        (Dialect::GoGrid, ErrorKind::Unauthorized) => 403,
        (Dialect::GoGrid, ErrorKind::Forbidden) => 401,
        _ => kind.status(),
    }
}

fn ctx(dialect: Dialect, format: Format) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(dialect, "http://gw.example:8080");
    ctx.format = format;
    ctx.scope = Some("demo".into());
    if dialect == Dialect::GoGrid {
        ctx.call = EdgeCall::GoGrid(ApiMethod::Get);
    }
    ctx
}

async fn body(reply: Reply) -> (u16, http::HeaderMap, Bytes) {
    let (parts, body) = reply.into_parts();
    (parts.status.as_u16(), parts.headers, body.collect().await.unwrap().to_bytes())
}

/// The caller-visible message of a JSON error body, wherever the dialect puts it.
fn message(dialect: Dialect, status: u16, body: &Value) -> String {
    let m = match dialect {
        Dialect::Hostway | Dialect::OpenStack => {
            let fault = body.as_object().and_then(|o| o.values().next()).expect("one fault object");
            assert_eq!(fault["code"], status, "{body}");
            &fault["message"]
        }
        Dialect::GoGrid => {
            assert_eq!(body["status"], "failure", "{body}");
            assert_eq!(body["list"][0]["object"], "error", "{body}");
            assert!(body["list"][0]["errorcode"].is_string(), "{body}");
            &body["list"][0]["message"]
        }
        Dialect::Foreman => {
            if body["error"]["message"].is_string() {
                &body["error"]["message"]
            } else {
                &body["message"]
            }
        }
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => &body["error"],
    };
    m.as_str().unwrap_or_else(|| panic!("no message in {body}")).to_owned()
}

#[tokio::test]
async fn every_kind_in_every_dialect() {
    for dialect in Dialect::ALL {
        for kind in kinds() {
            let err = match &kind {
                ErrorKind::Unsupported { operation, backend } => GatewayError::unsupported(operation.clone(), backend),
                _ => GatewayError::new(kind.clone(), Side::Upstream, SECRET_DETAIL),
            };
            let (status, headers, raw) = body(dialect.edge().encode_error(&ctx(dialect, Format::Json), &err)).await;
            let what = format!("{dialect} {kind:?}");
            assert_eq!(status, expected_status(dialect, &kind), "{what}");
            if kind.is_internal() {
                assert!(!String::from_utf8_lossy(&raw).contains("10.1.2.3"), "{what} leaks: {raw:?}");
            }
            if let ErrorKind::RateLimited { .. } = kind {
                assert_eq!(headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("7"), "{what}");
            }
            if (dialect, &kind) == (Dialect::Hostway, &ErrorKind::Unauthorized) {
                // Hostway's 401 is WebOb's plain text, with a Basic challenge
                assert!(String::from_utf8_lossy(&raw).contains("401 Unauthorized"), "{what}");
                assert!(headers.get("www-authenticate").is_some_and(|v| v.to_str().unwrap().starts_with("Basic")));
                continue;
            }
            let json: Value = serde_json::from_slice(&raw).unwrap_or_else(|e| panic!("{what}: {e}: {raw:?}"));
            if (dialect, &kind) == (Dialect::OpenStack, &ErrorKind::Unauthorized) {
                // keystonemiddleware's refusal, not a Nova fault
                assert_eq!(json["error"]["code"], 401, "{what}");
                assert_eq!(json["error"]["title"], "Unauthorized", "{what}");
                assert!(
                    headers.get("www-authenticate").is_some_and(|v| v.to_str().unwrap().starts_with("Keystone uri="))
                );
                continue;
            }
            let text = message(dialect, status, &json);
            assert!(!text.is_empty(), "{what}");
            if let ErrorKind::Unsupported { .. } = kind {
                assert!(text.contains("list images in detail") && text.contains("hostway"), "{what}: {text}");
            }
        }
    }
}

#[tokio::test]
async fn gogrid_errors_come_in_the_format_asked() {
    let err = GatewayError::image_not_found("42");
    let (status, headers, raw) =
        body(Dialect::GoGrid.edge().encode_error(&ctx(Dialect::GoGrid, Format::Xml), &err)).await;
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(status, 400);
    assert!(headers["content-type"].to_str().unwrap().contains("xml"), "{headers:?}");
    assert!(
        text.contains("status=\"failure\"") && text.contains("No object found that matches your input criteria."),
        "{text}"
    );
    let (status, _, raw) = body(Dialect::GoGrid.edge().encode_error(&ctx(Dialect::GoGrid, Format::Csv), &err)).await;
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(status, 400);
    assert!(text.starts_with("# FAILURE, /grid/image/get"), "{text}");
}
