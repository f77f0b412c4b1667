//! The request id: one per edge request, `req-<uuid>`, made by the gateway.
//!
//! | where                 | header                                                        |
//! |-----------------------|---------------------------------------------------------------|
//! | OpenStack edge reply  | `X-Compute-Request-Id` (Nova's own)                           |
//! | any other edge reply  | `X-Request-Id`                                                |
//! | every upstream call   | `X-Request-Id`                                                |
//! | OpenStack upstreams   | also `X-Openstack-Request-Id`, which oslo.middleware takes as the global request id |
//! | the log               | `request_id` on the request line, and on every line logged while the request runs |
//!
//! An id a caller sends is not reused: ids stay unique and of one shape,
//! and nothing a caller chose reaches the logs as an id.

use std::fmt;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const X_COMPUTE_REQUEST_ID: HeaderName = HeaderName::from_static("x-compute-request-id");
pub const X_OPENSTACK_REQUEST_ID: HeaderName = HeaderName::from_static("x-openstack-request-id");

/// The headers the id goes upstream in: to every upstream, and to OpenStack ones.
pub static UPSTREAM_HEADERS: [HeaderName; 1] = [X_REQUEST_ID];
pub static OPENSTACK_UPSTREAM_HEADERS: [HeaderName; 2] = [X_REQUEST_ID, X_OPENSTACK_REQUEST_ID];
/// The headers an edge reply carries the id in: Nova's own on OpenStack's,
/// Keystone's on Keystone's, `X-Request-Id` on the others.
pub static REPLY_HEADERS: [HeaderName; 1] = [X_REQUEST_ID];
pub static OPENSTACK_REPLY_HEADERS: [HeaderName; 2] = [X_COMPUTE_REQUEST_ID, X_OPENSTACK_REQUEST_ID];
pub static KEYSTONE_REPLY_HEADERS: [HeaderName; 1] = [X_OPENSTACK_REQUEST_ID];

tokio::task_local! {
    static CURRENT: RequestId;
}

/// One request's id.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A fresh id, `req-` and a random UUID, as Nova makes them.
    pub fn new() -> Self {
        let mut text = [0; 4 + uuid::fmt::Hyphenated::LENGTH];
        text[..4].copy_from_slice(b"req-");
        uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text[4..]);
        Self(std::str::from_utf8(&text).expect("a request id is ASCII").into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).expect("a request id is ASCII")
    }

    /// The id of the request the running task serves, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `fut` as the work of this request: upstream calls made within it carry the id.
    pub fn scope<F: Future>(self, fut: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, fut)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stamps the current request id on an upstream request, under `names`.
pub fn stamp_upstream(headers: &mut http::HeaderMap, names: &[HeaderName]) {
    let _ = CURRENT.try_with(|id| {
        // made once: a header value is checked and copied when made, shared when cloned
        let value = id.header_value();
        for name in names {
            headers.insert(name.clone(), value.clone());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_nova_shaped_and_unique() {
        let (a, b) = (RequestId::new(), RequestId::new());
        assert_ne!(a, b);
        let uuid = a.as_str().strip_prefix("req-").unwrap();
        assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{a}");
    }

    #[tokio::test]
    async fn the_current_id_is_the_scope_s() {
        assert!(RequestId::current().is_none());
        let id = RequestId::new();
        let seen = id.clone().scope(async { RequestId::current() }).await;
        assert_eq!(seen, Some(id));
    }
}
