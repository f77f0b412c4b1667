//! The upstream half: the gateway is a Foreman client, as hammer is.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Deserialize;

use super::super::{Capabilities, Credentials, Outcome, Paging, Target, UpstreamCall, percent_encode_segment};
use super::image::{CR_ID, WireImage, is_decimal};
use super::{edge, fault, search, write};
use crate::model::{Filter, GatewayError, ImageStatus, ListPage, PageStart, Sort, SortField, WriteOp};

/// What hammer and apipie-bindings send.
const ACCEPT: &str = "application/json;version=2";
/// The largest `per_page` the gateway asks for (hammer's `RETRIEVE_ALL_PER_PAGE`).
const MAX_PAGE: usize = 1000;

pub(super) fn capabilities() -> Capabilities {
    Capabilities {
        paging: Paging::PageNumber,
        max_page: MAX_PAGE,
        reports_total: true,
        get_many: false,
        sort_fields: &[SortField::Id, SortField::Name],
    }
}

/// Foreman searches images by id, name (exact or contains) and the
/// searchable `foreman.*` extras. Operating system and architecture names
/// are not searchable (Foreman's `operatingsystem`/`architecture` search
/// fields are ids), nor is anything else.
pub(super) fn split_filter(filter: &Filter) -> (Filter, Filter) {
    let mut residual = filter.clone();
    let mut native = Filter {
        id: residual.id.take_if(|id| is_decimal(id.as_str())),
        name: residual.name.take(),
        name_like: residual.name_like.take(),
        ..Filter::default()
    };
    (native.extra, residual.extra) =
        std::mem::take(&mut residual.extra).into_iter().partition(|(key, value)| search::is_native_extra(key, value));
    // a Foreman upstream judges its own scope: it lists its compute
    // resource, so the condition holds for all it lists (and is never sent)
    (native.shown, residual.shown) =
        std::mem::take(&mut residual.shown).into_iter().partition(|condition| condition.reads == Some(CR_ID));
    (native, residual)
}

pub(super) fn encode(call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
    if target.scope.is_empty() {
        return Err(GatewayError::internal("a foreman upstream needs a compute resource id as its scope"));
    }
    let mut url = format!("{}/api/v2/compute_resources/{}/images", target.base, percent_encode_segment(target.scope));
    let member = |url: &mut String, id: &crate::model::ImageId| {
        url.push('/');
        url.push_str(&percent_encode_segment(id.as_str()));
    };
    let (method, body) = match call {
        UpstreamCall::Show(id) => {
            member(&mut url, id);
            (Method::GET, None)
        }
        UpstreamCall::List { filter, sort, start, limit, .. } => {
            url.push('?');
            url.push_str(&list_query(filter, *sort, start, *limit)?);
            (Method::GET, None)
        }
        UpstreamCall::Write(WriteOp::Register(image, _)) => (Method::POST, Some(write::register_body(image))),
        UpstreamCall::Write(WriteOp::Update { id, patch }) => {
            let body = write::update_body(patch)
                .map_err(|field| GatewayError::unsupported(format!("update an image's {field}"), "foreman"))?;
            member(&mut url, id);
            (Method::PUT, Some(body))
        }
        UpstreamCall::Write(WriteOp::Delete { id, .. }) => {
            member(&mut url, id);
            (Method::DELETE, None)
        }
        UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => {
            return Err(GatewayError::unsupported(call.name(), "foreman"));
        }
    };
    let body = match body {
        Some(body) => Bytes::from(
            serde_json::to_vec(&body).map_err(|e| GatewayError::internal(format!("cannot write foreman body: {e}")))?,
        ),
        None => Bytes::new(),
    };
    let mut request = http::Request::builder()
        .method(method)
        .uri(url)
        .header(header::ACCEPT, ACCEPT)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(authorization) = authorization(target.credentials)? {
        request = request.header(header::AUTHORIZATION, authorization);
    }
    request.body(body).map_err(|e| GatewayError::internal(format!("cannot build foreman request: {e}")))
}

/// `search`, `order`, `page` and `per_page` (`all` when no limit is set).
fn list_query(
    filter: &Filter,
    sort: Option<Sort>,
    start: &PageStart,
    limit: Option<usize>,
) -> Result<String, GatewayError> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(text) = search::build(filter) {
        query.append_pair("search", &text);
    }
    if let Some(order) = sort.and_then(order) {
        query.append_pair("order", &order);
    }
    let (page, per_page) = page_number(start, limit)?;
    query.append_pair("page", &page.to_string());
    query.append_pair("per_page", &per_page);
    Ok(query.finish())
}

/// `<field> ASC|DESC`. Foreman orders `operatingsystem` and `architecture`
/// by id and cannot order by the timestamps, which are then left to its
/// default order.
fn order(sort: Sort) -> Option<String> {
    let field = match sort.field {
        SortField::Created | SortField::Updated => return None,
        field => edge::sort_field_name(field),
    };
    Some(format!("{field} {}", if sort.descending { "DESC" } else { "ASC" }))
}

fn page_number(start: &PageStart, limit: Option<usize>) -> Result<(usize, String), GatewayError> {
    let misplaced = || GatewayError::internal(format!("foreman pages cannot start at {start:?} with limit {limit:?}"));
    match (start, limit) {
        (_, Some(0)) | (PageStart::After(_), _) => Err(misplaced()),
        (PageStart::First, Some(limit)) => Ok((1, limit.to_string())),
        (PageStart::Offset(offset), Some(limit)) if offset % limit == 0 => Ok((offset / limit + 1, limit.to_string())),
        (PageStart::First | PageStart::Offset(0), None) => Ok((1, "all".to_owned())),
        _ => Err(misplaced()),
    }
}

/// Basic auth (the password may be a personal access token), or a JWT as a
/// bearer token.
fn authorization(credentials: &Credentials) -> Result<Option<HeaderValue>, GatewayError> {
    let text = match credentials {
        Credentials::None => return Ok(None),
        Credentials::Basic { user, password } => format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
        Credentials::Token(token) => format!("Bearer {token}"),
        Credentials::GoGrid { .. } => {
            return Err(GatewayError::internal("a foreman upstream takes basic credentials or a token"));
        }
    };
    let mut value = HeaderValue::try_from(text)
        .map_err(|_| GatewayError::internal("foreman credentials are not a valid header"))?;
    value.set_sensitive(true);
    Ok(Some(value))
}

pub(super) fn decode(
    call: &UpstreamCall,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Outcome, GatewayError> {
    if !status.is_success() {
        return Err(fault::decode(call, status, headers, body));
    }
    let unreadable = |e: serde_json::Error| {
        GatewayError::upstream_protocol(format!("unreadable foreman reply to {}: {e}", call.name())).with_cause(e)
    };
    let image = || serde_json::from_slice::<WireImage>(body).map(|w| w.0).map_err(unreadable);
    match call {
        UpstreamCall::Show(_) | UpstreamCall::Write(WriteOp::Register(..) | WriteOp::Update { .. }) => {
            image().map(Outcome::Image)
        }
        UpstreamCall::List { .. } => {
            serde_json::from_slice::<WireEnvelope>(body).map(|e| Outcome::List(e.into_page())).map_err(unreadable)
        }
        // the raw record of what was deleted; nothing at all is done too
        UpstreamCall::Write(WriteOp::Delete { .. }) if body.trim_ascii().is_empty() => Ok(Outcome::Done),
        UpstreamCall::Write(WriteOp::Delete { .. }) => image().map(|mut image| {
            image.status = ImageStatus::Deleted;
            Outcome::Image(image)
        }),
        UpstreamCall::GetMany(_) | UpstreamCall::Write(_) => Err(GatewayError::unsupported(call.name(), "foreman")),
    }
}

/// `index_layout.json.erb`; `search` and `sort` are only echoes.
#[derive(Deserialize)]
struct WireEnvelope {
    total: Option<usize>,
    subtotal: Option<usize>,
    page: Option<usize>,
    per_page: Option<usize>,
    results: Vec<WireImage>,
}

impl WireEnvelope {
    fn into_page(self) -> ListPage {
        let count = self.results.len();
        let per_page = self.per_page.unwrap_or(count);
        let offset = self.page.unwrap_or(1).saturating_sub(1).saturating_mul(per_page);
        let more = match self.subtotal {
            Some(subtotal) => offset + count < subtotal,
            None => per_page > 0 && count == per_page,
        };
        ListPage {
            images: self.results.into_iter().map(|w| w.0).collect(),
            offset: Some(offset),
            matched: self.subtotal,
            total: self.total,
            more,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{ErrorKind, GetMany, ImageId, ImagePatch, LookupKey, Resource, Snapshot, View};

    const BASIC: Credentials = Credentials::None;

    fn target<'a>(credentials: &'a Credentials) -> Target<'a> {
        Target {
            base: "https://foreman.example/prefix",
            scope: "980190962",
            credentials,
            now: 0,
            format: Default::default(),
        }
    }

    fn list(filter: Filter, sort: Option<Sort>, start: PageStart, limit: Option<usize>) -> UpstreamCall {
        UpstreamCall::List { filter, sort, view: View::Detail, start, limit }
    }

    fn url(call: &UpstreamCall) -> String {
        encode(call, &target(&BASIC)).unwrap().uri().to_string()
    }

    #[test]
    fn capabilities_are_page_numbers_with_totals() {
        assert_eq!(
            capabilities(),
            Capabilities {
                paging: Paging::PageNumber,
                max_page: 1000,
                reports_total: true,
                get_many: false,
                sort_fields: &[SortField::Id, SortField::Name],
            }
        );
    }

    #[test]
    fn show_request_is_hammer_like() {
        let credentials = Credentials::Basic { user: "admin".into(), password: "changeme".into() };
        let request = encode(&UpstreamCall::Show(ImageId::new("42")), &target(&credentials)).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(request.uri(), "https://foreman.example/prefix/api/v2/compute_resources/980190962/images/42");
        assert_eq!(request.headers()[header::AUTHORIZATION], "Basic YWRtaW46Y2hhbmdlbWU=");
        assert!(request.headers()[header::AUTHORIZATION].is_sensitive());
        assert_eq!(request.headers()[header::ACCEPT], "application/json;version=2");
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        assert!(request.body().is_empty());
        let token = Credentials::Token("jwt.x.y".into());
        let request = encode(&UpstreamCall::Show(ImageId::new("42")), &target(&token)).unwrap();
        assert_eq!(request.headers()[header::AUTHORIZATION], "Bearer jwt.x.y");
        let request = encode(&UpstreamCall::Show(ImageId::new("42")), &target(&BASIC)).unwrap();
        assert!(request.headers().get(header::AUTHORIZATION).is_none());
    }

    #[test]
    fn ids_and_scopes_stay_inside_their_segments() {
        assert_eq!(
            url(&UpstreamCall::Show(ImageId::new("../a b?c#d"))),
            "https://foreman.example/prefix/api/v2/compute_resources/980190962/images/..%2Fa%20b%3Fc%23d"
        );
        let mut t = target(&BASIC);
        t.scope = "..";
        let request = encode(&UpstreamCall::Show(ImageId::new("..")), &t).unwrap();
        assert_eq!(request.uri(), "https://foreman.example/prefix/api/v2/compute_resources/%2E%2E/images/%2E%2E");
        t.scope = "";
        assert_eq!(encode(&UpstreamCall::Show(ImageId::new("1")), &t).unwrap_err().kind, ErrorKind::Internal);
    }

    #[test]
    fn list_request_carries_search_order_and_page() {
        let filter = Filter {
            name_like: Some("cent os".into()),
            extra: vec![("foreman.operatingsystem_id".into(), "3".into())],
            ..Filter::default()
        };
        let sort = Some(Sort { field: SortField::Name, descending: true });
        assert_eq!(
            url(&list(filter, sort, PageStart::Offset(40), Some(20))),
            "https://foreman.example/prefix/api/v2/compute_resources/980190962/images\
             ?search=name+%7E+%22cent+os%22+and+operatingsystem+%3D+%223%22&order=name+DESC&page=3&per_page=20"
        );
        assert_eq!(
            url(&list(Filter::default(), None, PageStart::First, None)),
            "https://foreman.example/prefix/api/v2/compute_resources/980190962/images?page=1&per_page=all"
        );
        let by_created = Some(Sort { field: SortField::Created, descending: true });
        assert!(url(&list(Filter::default(), by_created, PageStart::First, Some(5))).ends_with("?page=1&per_page=5"));
        let by_os = Some(Sort { field: SortField::Os, descending: false });
        assert!(url(&list(Filter::default(), by_os, PageStart::First, Some(5))).contains("order=operatingsystem+ASC"));
    }

    #[test]
    fn misplaced_pages_and_get_many_are_refused() {
        for (start, limit) in [
            (PageStart::Offset(5), Some(20)),
            (PageStart::Offset(5), None),
            (PageStart::After(ImageId::new("1")), Some(20)),
            (PageStart::First, Some(0)),
        ] {
            let err = encode(&list(Filter::default(), None, start, limit), &target(&BASIC)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Internal);
        }
        let many = UpstreamCall::GetMany(GetMany { key: LookupKey::Id, values: vec!["1".into()], shown_name: None });
        let err = encode(&many, &target(&BASIC)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported { operation: "get many images".into(), backend: "foreman" });
        let gogrid = Credentials::GoGrid { api_key: "k".into(), secret: "s".into() };
        assert_eq!(
            encode(&UpstreamCall::Show(ImageId::new("1")), &target(&gogrid)).unwrap_err().kind,
            ErrorKind::Internal
        );
        let bad = Credentials::Token("a\nb".into());
        assert_eq!(
            encode(&UpstreamCall::Show(ImageId::new("1")), &target(&bad)).unwrap_err().kind,
            ErrorKind::Internal
        );
    }

    #[test]
    fn filters_split_into_searchable_and_residual() {
        let filter = Filter {
            id: Some(ImageId::new("12")),
            name: Some("a".into()),
            name_like: Some("b".into()),
            os: Some("centos".into()),
            architecture: Some("x86_64".into()),
            extra: vec![
                ("foreman.architecture_id".into(), "1".into()),
                ("foreman.uuid".into(), "u".into()),
                ("foreman.user_data".into(), "true".into()),
                ("gogrid.location".into(), "2".into()),
            ],
            ..Filter::default()
        };
        let (native, residual) = split_filter(&filter);
        assert_eq!(
            native,
            Filter {
                id: Some(ImageId::new("12")),
                name: Some("a".into()),
                name_like: Some("b".into()),
                extra: vec![
                    ("foreman.architecture_id".into(), "1".into()),
                    ("foreman.user_data".into(), "true".into())
                ],
                ..Filter::default()
            }
        );
        assert_eq!(
            residual,
            Filter {
                os: Some("centos".into()),
                architecture: Some("x86_64".into()),
                extra: vec![("foreman.uuid".into(), "u".into()), ("gogrid.location".into(), "2".into())],
                ..Filter::default()
            }
        );
        let (native, residual) = split_filter(&Filter { id: Some(ImageId::new("abc")), ..Filter::default() });
        assert_eq!((native.id, residual.id), (None, Some(ImageId::new("abc"))));
    }

    fn decoded(call: &UpstreamCall, status: u16, body: &serde_json::Value) -> Result<Outcome, GatewayError> {
        decode(call, StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.to_string().as_bytes())
    }

    #[test]
    fn list_envelope_becomes_a_page() {
        let call = list(Filter::default(), None, PageStart::Offset(2), Some(2));
        let body = json!({"total": 10, "subtotal": 5, "page": 2, "per_page": 2, "search": "x", "sort": {"by": null, "order": null},
                          "results": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]});
        let Outcome::List(page) = decoded(&call, 200, &body).unwrap() else { panic!() };
        assert_eq!(
            (page.offset, page.matched, page.total, page.more, page.images.len()),
            (Some(2), Some(5), Some(10), true, 2)
        );
        let body = json!({"total": 10, "subtotal": 4, "page": 2, "per_page": 2, "results": [{"id": 3}, {"id": 4}]});
        let Outcome::List(page) = decoded(&call, 200, &body).unwrap() else { panic!() };
        assert!(!page.more);
        let body = json!({"results": [{"id": 3}]});
        let Outcome::List(page) = decoded(&call, 200, &body).unwrap() else { panic!() };
        assert_eq!((page.offset, page.matched, page.total, page.more), (Some(0), None, None, true));
    }

    #[test]
    fn unreadable_success_bodies_are_protocol_errors() {
        let show = UpstreamCall::Show(ImageId::new("1"));
        let call = list(Filter::default(), None, PageStart::First, Some(20));
        for (call, body) in [
            (&show, "<html>ok</html>"),
            (&show, "[]"),
            (&show, r#"{"name": "no id"}"#),
            (&call, r#"{"total": 1}"#),
            (&call, r#"{"results": [{"id": {}}]}"#),
            (&call, ""),
        ] {
            let err = decode(call, StatusCode::OK, &HeaderMap::new(), body.as_bytes()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::UpstreamProtocol, "{body}");
        }
    }

    fn write(op: WriteOp) -> UpstreamCall {
        UpstreamCall::Write(op)
    }

    fn sent(call: &UpstreamCall) -> (Method, String, String) {
        let credentials = Credentials::Basic { user: "admin".into(), password: "changeme".into() };
        let request = encode(call, &target(&credentials)).unwrap();
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(request.headers()[header::AUTHORIZATION], "Basic YWRtaW46Y2hhbmdlbWU=");
        let body = String::from_utf8(request.body().to_vec()).unwrap();
        (request.method().clone(), request.uri().to_string(), body)
    }

    const IMAGES: &str = "https://foreman.example/prefix/api/v2/compute_resources/980190962/images";

    #[test]
    fn register_posts_the_image_hash() {
        let image = crate::model::Image {
            name: "TestImage".into(),
            extra: [
                ("foreman.username".into(), json!("ec2-user")),
                ("foreman.uuid".into(), json!("abcdef")),
                ("foreman.compute_resource_id".into(), json!(1)),
                ("foreman.architecture_id".into(), json!(331892513)),
            ]
            .into(),
            ..Default::default()
        };
        assert_eq!(
            sent(&write(WriteOp::Register(image, Default::default()))),
            (
                Method::POST,
                IMAGES.to_owned(),
                r#"{"image":{"name":"TestImage","username":"ec2-user","uuid":"abcdef","architecture_id":331892513}}"#
                    .to_owned()
            )
        );
    }

    #[test]
    fn update_puts_what_foreman_can_store_and_nothing_else() {
        let patch = ImagePatch { name: Some("new".into()), ..ImagePatch::default() };
        let update = write(WriteOp::Update { id: ImageId::new("a/b"), patch });
        assert_eq!(sent(&update), (Method::PUT, format!("{IMAGES}/a%2Fb"), r#"{"image":{"name":"new"}}"#.to_owned()));
        let noop = write(WriteOp::Update { id: ImageId::new("5"), patch: ImagePatch::default() });
        assert_eq!(sent(&noop).2, r#"{"image":{}}"#);
        let patch = ImagePatch { name: Some("new".into()), description: Some("d".into()), ..ImagePatch::default() };
        let err = encode(&write(WriteOp::Update { id: ImageId::new("5"), patch }), &target(&BASIC)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::Unsupported { operation: "update an image's description".into(), backend: "foreman" }
        );
    }

    #[test]
    fn delete_sends_no_body_whatever_the_trash() {
        for trash in [false, true] {
            let delete = write(WriteOp::Delete { id: ImageId::new("42"), trash });
            assert_eq!(sent(&delete), (Method::DELETE, format!("{IMAGES}/42"), String::new()));
        }
    }

    fn unexpressible() -> Vec<WriteOp> {
        let id = || ImageId::new("1");
        vec![
            WriteOp::Snapshot(Snapshot { server_id: "s".into(), name: "n".into(), ..Snapshot::default() }),
            WriteOp::Restore(id()),
            WriteOp::SetMetadata { id: id(), items: Default::default(), replace: true },
            WriteOp::SetMetadataItem { id: id(), key: "k".into(), value: json!("v") },
            WriteOp::DeleteMetadataItem { id: id(), key: "k".into() },
        ]
    }

    #[test]
    fn snapshots_restores_and_metadata_are_unsupported() {
        for op in unexpressible() {
            let call = write(op);
            let expected = ErrorKind::Unsupported { operation: call.name().into(), backend: "foreman" };
            assert_eq!(encode(&call, &target(&BASIC)).unwrap_err().kind, expected);
            assert_eq!(decoded(&call, 200, &json!({"id": 1})).unwrap_err().kind, expected);
        }
    }

    #[test]
    fn write_replies_become_images() {
        let body = json!({"id": 7, "name": "n", "uuid": "u", "password": "secret"});
        let register = write(WriteOp::Register(Default::default(), Default::default()));
        let Outcome::Image(image) = decoded(&register, 201, &body).unwrap() else { panic!() };
        assert_eq!((image.id.as_str(), image.status), ("7", ImageStatus::Active));
        let update = write(WriteOp::Update { id: ImageId::new("7"), patch: ImagePatch::default() });
        assert!(matches!(decoded(&update, 200, &body).unwrap(), Outcome::Image(_)));
        let delete = write(WriteOp::Delete { id: ImageId::new("7"), trash: false });
        let Outcome::Image(image) = decoded(&delete, 200, &body).unwrap() else { panic!() };
        assert_eq!(image.status, ImageStatus::Deleted);
        assert!(!format!("{image:?}").contains("secret"));
        assert_eq!(decode(&delete, StatusCode::OK, &HeaderMap::new(), b"").unwrap(), Outcome::Done);
        assert_eq!(decode(&delete, StatusCode::NO_CONTENT, &HeaderMap::new(), b" \n").unwrap(), Outcome::Done);
        let err = decode(&register, StatusCode::CREATED, &HeaderMap::new(), b"<html>").unwrap_err();
        assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    }

    #[test]
    fn write_refusals_keep_foremans_body() {
        let register = write(WriteOp::Register(Default::default(), Default::default()));
        let body = json!({"error": {"id": null, "errors": {"uuid": ["could not be found in bigcompute"]},
                                    "full_messages": ["Uuid could not be found in bigcompute"]}});
        let err = decoded(&register, 422, &body).unwrap_err();
        assert_eq!(
            (err.kind.clone(), err.message.as_ref()),
            (ErrorKind::BadRequest, "Uuid could not be found in bigcompute")
        );
        let reply = fault::render(&err);
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(super::super::tests::body_json(reply), body);
        let update = write(WriteOp::Update { id: ImageId::new("77"), patch: ImagePatch::default() });
        let err =
            decoded(&update, 404, &json!({"error": {"message": "Resource image not found by id '77'"}})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "77".into() });
    }

    #[test]
    fn error_statuses_use_the_call_id() {
        let show = UpstreamCall::Show(ImageId::new("77"));
        let err =
            decoded(&show, 404, &json!({"error": {"message": "Resource image not found by id '77'"}})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "77".into() });
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("12"));
        let err = decode(&show, StatusCode::TOO_MANY_REQUESTS, &headers, b"").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(std::time::Duration::from_secs(12)) });
    }
}
