//! A fifth dialect, built only with the `fifth-dialect` feature, for the
//! test that a dialect is one module and one arm of [`Dialect`]: it speaks
//! the canonical image as JSON at `/fifth/images` and `/fifth/images/{id}`,
//! with HTTP Basic callers, as an edge and as an upstream.

mod profile;
#[cfg(test)]
mod tests;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header, request::Parts};
use serde_json::json;

use super::{
    Capabilities, Credentials, Dialect, EdgeCodec, EdgeCtx, EdgeRequest, Outcome, Paging, Reply, Target, UpstreamCall,
    UpstreamCodec, error_from_status, json_reply, percent_encode_segment, write_retry_after,
};
use crate::model::{ErrorKind, Filter, GatewayError, Image, ImageId, ImageOp, ListPage, ListQuery, Side};

pub struct Fifth;

const ROOT: &str = "/fifth/images";

impl EdgeCodec for Fifth {
    fn claims(&self, path: &str) -> bool {
        path.strip_prefix(ROOT).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    fn context(&self, _parts: &Parts, origin: &str) -> EdgeCtx {
        EdgeCtx::new(Dialect::Fifth, origin)
    }

    fn decode(&self, _ctx: &mut EdgeCtx, parts: &Parts, _body: &Bytes) -> Result<EdgeRequest, GatewayError> {
        if parts.method != Method::GET {
            return Err(GatewayError::new(ErrorKind::MethodNotAllowed, Side::Downstream, "only get is allowed"));
        }
        let rest = parts.uri.path().strip_prefix(ROOT).unwrap_or_default();
        Ok(EdgeRequest::Op(match rest.trim_matches('/') {
            "" => ImageOp::List(ListQuery::default()),
            id => ImageOp::Show(ImageId::new(id)),
        }))
    }

    fn encode(&self, _ctx: &EdgeCtx, _op: &ImageOp, outcome: Outcome) -> Reply {
        let body = match outcome {
            Outcome::Image(image) => json!({ "image": image }),
            Outcome::Images(images) => json!({ "images": images }),
            Outcome::List(page) => json!({ "images": page.images }),
            Outcome::Metadata(metadata) => json!({ "metadata": metadata }),
            Outcome::Done => return json_reply(StatusCode::NO_CONTENT, Bytes::new()),
        };
        json_reply(StatusCode::OK, body.to_string())
    }

    fn encode_error(&self, _ctx: &EdgeCtx, err: &GatewayError) -> Reply {
        let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut reply = json_reply(status, json!({ "error": err.public_message() }).to_string());
        write_retry_after(reply.headers_mut(), &err.kind);
        reply
    }
}

impl UpstreamCodec for Fifth {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            paging: Paging::None,
            max_page: usize::MAX,
            reports_total: false,
            get_many: false,
            sort_fields: &[],
        }
    }

    /// The upstream filters nothing: the gateway applies every condition.
    fn split_filter(&self, filter: &Filter) -> (Filter, Filter) {
        (Filter::default(), filter.clone())
    }

    fn encode(&self, call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
        let path = match call {
            UpstreamCall::Show(id) => format!("{ROOT}/{}", percent_encode_segment(id.as_str())),
            UpstreamCall::List { .. } => ROOT.to_owned(),
            UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => {
                return Err(GatewayError::unsupported(call.name(), "fifth"));
            }
        };
        let mut request = http::Request::get(format!("{}{path}", target.base));
        if let Credentials::Basic { user, password } = target.credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header(header::AUTHORIZATION, format!("Basic {token}"));
        }
        request.body(Bytes::new()).map_err(|e| GatewayError::internal(e.to_string()))
    }

    fn decode(
        &self,
        call: &UpstreamCall,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Outcome, GatewayError> {
        let protocol = |e: serde_json::Error| {
            GatewayError::new(ErrorKind::UpstreamProtocol, Side::Upstream, format!("unreadable reply: {e}"))
        };
        if !status.is_success() {
            let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            return Err(error_from_status(call, status, headers, body["error"].as_str().unwrap_or_default()));
        }
        #[derive(serde::Deserialize)]
        struct Shown {
            image: Image,
        }
        #[derive(serde::Deserialize)]
        struct Listed {
            images: Vec<Image>,
        }
        match call {
            UpstreamCall::Show(_) => Ok(Outcome::Image(serde_json::from_slice::<Shown>(body).map_err(protocol)?.image)),
            _ => {
                let images = serde_json::from_slice::<Listed>(body).map_err(protocol)?.images;
                Ok(Outcome::List(ListPage { images, ..ListPage::default() }))
            }
        }
    }
}
