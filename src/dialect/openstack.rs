//! OpenStack (placeholder until the codec lands).

use bytes::Bytes;
use http::{HeaderMap, StatusCode, request::Parts};

use super::{
    Capabilities, EdgeCodec, EdgeCtx, EdgeRequest, Outcome, Paging, Reply, Target, UpstreamCall, UpstreamCodec,
};
use crate::model::{Filter, GatewayError, ImageOp};

pub struct OpenStack;

impl EdgeCodec for OpenStack {
    fn claims(&self, _path: &str) -> bool {
        false
    }
    fn context(&self, _parts: &Parts, origin: &str) -> EdgeCtx {
        EdgeCtx::new(super::Dialect::OpenStack, origin)
    }
    fn decode(&self, _ctx: &mut EdgeCtx, _parts: &Parts, _body: &Bytes) -> Result<EdgeRequest, GatewayError> {
        Err(GatewayError::internal("unfinished"))
    }
    fn encode(&self, _ctx: &EdgeCtx, _op: &ImageOp, _outcome: Outcome) -> Reply {
        super::text_reply(StatusCode::NOT_IMPLEMENTED, "")
    }
    fn encode_error(&self, _ctx: &EdgeCtx, _err: &GatewayError) -> Reply {
        super::text_reply(StatusCode::NOT_IMPLEMENTED, "")
    }
}

impl UpstreamCodec for OpenStack {
    fn capabilities(&self) -> Capabilities {
        Capabilities { paging: Paging::None, max_page: 1000, reports_total: false, get_many: false, sort_fields: &[] }
    }
    fn split_filter(&self, filter: &Filter) -> (Filter, Filter) {
        (Filter::default(), filter.clone())
    }
    fn encode(&self, _call: &UpstreamCall, _target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
        Err(GatewayError::internal("unfinished"))
    }
    fn decode(
        &self,
        _call: &UpstreamCall,
        _status: StatusCode,
        _headers: &HeaderMap,
        _body: &[u8],
    ) -> Result<Outcome, GatewayError> {
        Err(GatewayError::internal("unfinished"))
    }
}
