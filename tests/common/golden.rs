//! What every golden test does: read a dialect's recorded bodies from
//! `tests/fixtures/<dialect>/`, build its edge context, read a reply's body,
//! and take a recorded upstream body through the codecs and back.

use std::path::PathBuf;

use bytes::Bytes;
use dragoman::dialect::{Dialect, EdgeCtx, Outcome, Reply, UpstreamCall};
use dragoman::model::{Filter, GatewayError, ImageOp, ListQuery, PageStart, View};
use futures_util::FutureExt;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;

/// One dialect's fixtures.
#[derive(Debug, Clone, Copy)]
pub struct Fixtures(pub Dialect);

impl Fixtures {
    pub fn path(self, name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(self.0.name()).join(name)
    }

    pub fn bytes(self, name: &str) -> Vec<u8> {
        let path = self.path(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn json(self, name: &str) -> Value {
        serde_json::from_slice(&self.bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The recorded reply body `name`, as the dialect's upstream half reads
    /// it for `call`.
    pub fn decoded(
        self,
        call: &UpstreamCall,
        status: u16,
        headers: &HeaderMap,
        name: &str,
    ) -> Result<Outcome, GatewayError> {
        let status = StatusCode::from_u16(status).expect("a status code");
        self.0.upstream().decode(call, status, headers, &self.bytes(name))
    }
}

/// The edge context of `dialect` for a client at `origin`, links under `prefix`.
pub fn ctx(dialect: Dialect, origin: &str, prefix: &str) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(dialect, origin);
    ctx.prefix = prefix.to_owned();
    ctx
}

/// A reply's status and whole body (rendered replies are ready at once).
pub fn reply_bytes(reply: Reply) -> (StatusCode, Bytes) {
    let status = reply.status();
    let body = reply.into_body().collect().now_or_never().expect("a full body is ready").expect("infallible");
    (status, body.to_bytes())
}

/// A reply's status and JSON body.
pub fn reply_json(reply: Reply) -> (StatusCode, Value) {
    let (status, body) = reply_bytes(reply);
    (status, serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}")))
}

/// Decodes a 200 `body` as `dialect`'s upstream half reads it for `call`,
/// and renders the outcome at `dialect`'s edge for `op`.
pub fn round_trip(dialect: Dialect, call: &UpstreamCall, op: &ImageOp, ctx: &EdgeCtx, body: &[u8]) -> Reply {
    let outcome = dialect.upstream().decode(call, StatusCode::OK, &HeaderMap::new(), body).expect("the body decodes");
    dialect.edge().encode(ctx, op, outcome)
}

/// A list of everything, as an upstream call.
pub fn list_call(view: View) -> UpstreamCall {
    UpstreamCall::List { filter: Filter::default(), sort: None, view, start: PageStart::First, limit: None }
}

/// A list of everything, as an edge operation.
pub fn list_op(view: View) -> ImageOp {
    ImageOp::List(ListQuery { view, ..ListQuery::default() })
}

/// Equal values with equal key order (`Value` equality ignores the order).
pub fn assert_same(actual: &Value, expected: &Value, what: &str) {
    assert_eq!(actual, expected, "{what}");
    assert_eq!(actual.to_string(), expected.to_string(), "{what}: key order differs");
}
