//! The upstream half: requests to a Nova image proxy and its replies read
//! back into the model, error bodies included.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::MAX_LIMIT;
use super::clock::IsoPrecise;
use super::wire::{ListBody, NovaImage, ShowBody};
use crate::dialect::{
    Capabilities, Credentials, Outcome, Paging, Target, UpstreamCall, error_from_status, percent_encode_segment,
};
use crate::model::{
    ErrorKind, Filter, GatewayError, Image, ImageId, ImageStatus, ListPage, Metadata, PageStart, Resource, Side,
    Snapshot, Text, View, WriteOp,
};

const BACKEND: &str = "openstack";

/// Nova's message when the image itself is missing.
const IMAGE_NOT_FOUND: &str = "Image not found.";

pub fn capabilities() -> Capabilities {
    Capabilities {
        paging: Paging::Marker,
        max_page: MAX_LIMIT,
        reports_total: false,
        get_many: false,
        sort_fields: &[],
    }
}

/// Nova filters by name, changes-since, minRam, minDisk and server; every
/// condition on what an edge shows (status, type, properties) stays with
/// the gateway.
pub fn split_filter(filter: &Filter) -> (Filter, Filter) {
    let mut residual = filter.clone();
    let native = Filter {
        name: residual.name.take(),
        changed_since: residual.changed_since.take(),
        min_ram_mb: residual.min_ram_mb.take(),
        min_disk_gb: residual.min_disk_gb.take(),
        server_id: residual.server_id.take(),
        ..Filter::default()
    };
    (native, residual)
}

const X_AUTH_TOKEN: HeaderName = HeaderName::from_static("x-auth-token");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

pub fn request(call: &UpstreamCall, target: &Target<'_>) -> Result<http::Request<Bytes>, GatewayError> {
    let mut url = String::with_capacity(target.base.len() + 96);
    url.push_str(target.base);
    url.push_str("/v2.1");
    if !target.scope.is_empty() {
        url.push('/');
        url.push_str(&percent_encode_segment(target.scope));
    }
    let (method, body) = match call {
        UpstreamCall::Show(id) => {
            push_image(&mut url, id);
            (Method::GET, None)
        }
        UpstreamCall::List { filter, sort, view, start, limit } => {
            if sort.is_some() {
                return Err(GatewayError::unsupported("sorted image lists", BACKEND));
            }
            url.push_str("/images");
            if *view == View::Detail {
                url.push_str("/detail");
            }
            let query = list_query(filter, start, *limit)?;
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query);
            }
            (Method::GET, None)
        }
        UpstreamCall::Write(op) => write(&mut url, op)?,
        UpstreamCall::GetMany(_) => return Err(GatewayError::unsupported(call.name(), BACKEND)),
    };
    // set part by part: `http::request::Builder` carries a `Result` through
    // every step and parses each header name and value again
    let uri = http::Uri::try_from(url)
        .map_err(|e| GatewayError::internal(format!("building an openstack request failed: {e}")))?;
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, APPLICATION_JSON);
    let body = match body {
        Some(json) => {
            headers.insert(header::CONTENT_TYPE, APPLICATION_JSON);
            Bytes::from(json.to_string())
        }
        None => Bytes::new(),
    };
    if let Some(token) = auth_token(target.credentials)? {
        headers.insert(X_AUTH_TOKEN, token);
    }
    let mut req = http::Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    Ok(req)
}

/// `/images/{id}`.
fn push_image(url: &mut String, id: &ImageId) {
    url.push_str("/images/");
    url.push_str(&percent_encode_segment(id.as_str()));
}

/// The method, path and body of a write, as novaclient sends it: no
/// microversion, so `createImage` answers with a `Location`.
fn write(url: &mut String, op: &WriteOp) -> Result<(Method, Option<Value>), GatewayError> {
    match op {
        WriteOp::Delete { id, .. } => {
            push_image(url, id);
            Ok((Method::DELETE, None))
        }
        WriteOp::SetMetadata { id, items, replace } => {
            push_image(url, id);
            url.push_str("/metadata");
            let method = if *replace { Method::PUT } else { Method::POST };
            Ok((method, Some(json!({ "metadata": items }))))
        }
        WriteOp::SetMetadataItem { id, key, value } => {
            push_metadata_key(url, id, key);
            Ok((Method::PUT, Some(json!({ "meta": { key.as_str(): value } }))))
        }
        WriteOp::DeleteMetadataItem { id, key } => {
            push_metadata_key(url, id, key);
            Ok((Method::DELETE, None))
        }
        WriteOp::Snapshot(snapshot) => {
            url.push_str("/servers/");
            url.push_str(&percent_encode_segment(&snapshot.server_id));
            url.push_str("/action");
            Ok((Method::POST, Some(create_image(snapshot))))
        }
        // an update that changes nothing is no write: the image is read
        WriteOp::Update { id, patch } if patch.is_empty() => {
            push_image(url, id);
            Ok((Method::GET, None))
        }
        WriteOp::Register(..) | WriteOp::Update { .. } | WriteOp::Restore(_) => {
            Err(GatewayError::unsupported(op.name(), BACKEND))
        }
    }
}

fn push_metadata_key(url: &mut String, id: &ImageId, key: &str) {
    push_image(url, id);
    url.push_str("/metadata/");
    url.push_str(&percent_encode_segment(key));
}

/// `{"createImage": {"name", "metadata"}}`; a description Nova keeps in
/// the metadata, where the read side finds it.
fn create_image(snapshot: &Snapshot) -> Value {
    let mut metadata = snapshot.metadata.clone();
    if let Some(description) = &snapshot.description {
        metadata.entry("description".into()).or_insert_with(|| Value::from(description.as_str()));
    }
    json!({ "createImage": { "name": snapshot.name, "metadata": metadata } })
}

/// `X-Auth-Token`, the only credential Nova takes.
fn auth_token(credentials: &Credentials) -> Result<Option<HeaderValue>, GatewayError> {
    match credentials {
        Credentials::None => Ok(None),
        Credentials::Token(token) => {
            let mut value = HeaderValue::from_str(token)
                .map_err(|_| GatewayError::internal("the openstack token is not a valid header value"))?;
            value.set_sensitive(true);
            Ok(Some(value))
        }
        Credentials::Basic { .. } | Credentials::GoGrid { .. } => {
            Err(GatewayError::internal("the openstack upstream needs a keystone token as its credentials"))
        }
    }
}

fn list_query(filter: &Filter, start: &PageStart, limit: Option<usize>) -> Result<String, GatewayError> {
    let (native, residual) = split_filter(filter);
    if residual != Filter::default() {
        return Err(GatewayError::internal("a filter the openstack upstream cannot apply was sent to it"));
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(name) = &native.name {
        q.append_pair("name", name);
    }
    if let Some(since) = native.changed_since {
        q.append_pair("changes-since", &IsoPrecise(since).to_string());
    }
    if let Some(ram) = native.min_ram_mb {
        q.append_pair("minRam", &ram.to_string());
    }
    if let Some(disk) = native.min_disk_gb {
        q.append_pair("minDisk", &disk.to_string());
    }
    if let Some(server) = &native.server_id {
        q.append_pair("server", server);
    }
    if let Some(limit) = limit {
        q.append_pair("limit", &limit.to_string());
    }
    match start {
        PageStart::First | PageStart::Offset(0) => {}
        PageStart::After(marker) => {
            q.append_pair("marker", marker.as_str());
        }
        PageStart::Offset(_) => {
            return Err(GatewayError::internal("the openstack upstream pages by marker, not offset"));
        }
    }
    Ok(q.finish())
}

pub fn reply(
    call: &UpstreamCall,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Outcome, GatewayError> {
    if !status.is_success() {
        return Err(error(call, status, headers, body));
    }
    match call {
        UpstreamCall::Show(_) => {
            let show: ShowBody = serde_json::from_str(text(body)?).map_err(unreadable)?;
            Ok(Outcome::Image(show.image.0))
        }
        UpstreamCall::List { start, .. } => {
            let list = ListBody::read(text(body)?).map_err(unreadable)?;
            let offset = matches!(start, PageStart::First).then_some(0);
            Ok(Outcome::List(ListPage { images: list.images, offset, matched: None, total: None, more: list.has_next }))
        }
        UpstreamCall::Write(op) => written(op, headers, body),
        UpstreamCall::GetMany(_) => Err(GatewayError::unsupported(call.name(), BACKEND)),
    }
}

/// One image of a list reply's `images` array.
pub fn list_item(_call: &UpstreamCall, item: &[u8]) -> Result<Image, GatewayError> {
    let image: NovaImage = serde_json::from_str(text(item)?).map_err(unreadable)?;
    Ok(image.0)
}

/// `{"metadata": {…}}` and `{"meta": {…}}`.
#[derive(serde::Deserialize)]
struct MetadataBody {
    #[serde(alias = "meta")]
    metadata: Metadata,
}

/// `{"image_id"}`, what `createImage` answers from 2.45.
#[derive(serde::Deserialize)]
struct SavedBody {
    image_id: String,
}

/// The outcome of a write Nova accepted.
fn written(op: &WriteOp, headers: &HeaderMap, body: &[u8]) -> Result<Outcome, GatewayError> {
    match op {
        WriteOp::Delete { .. } | WriteOp::DeleteMetadataItem { .. } => Ok(Outcome::Done),
        WriteOp::SetMetadata { .. } | WriteOp::SetMetadataItem { .. } => {
            let read: MetadataBody = serde_json::from_slice(body).map_err(unreadable)?;
            Ok(Outcome::Metadata(read.metadata))
        }
        WriteOp::Snapshot(snapshot) => Ok(Outcome::Image(saved_image(snapshot, saved_id(headers, body)?))),
        WriteOp::Update { patch, .. } if patch.is_empty() => {
            let show: ShowBody = serde_json::from_str(text(body)?).map_err(unreadable)?;
            Ok(Outcome::Image(show.image.0))
        }
        WriteOp::Register(..) | WriteOp::Update { .. } | WriteOp::Restore(_) => {
            Err(GatewayError::unsupported(op.name(), BACKEND))
        }
    }
}

/// The new image's id: the last segment of `Location`, or the 2.45 body's
/// `image_id` when a proxy pinned a microversion.
fn saved_id(headers: &HeaderMap, body: &[u8]) -> Result<ImageId, GatewayError> {
    let from_location = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).and_then(last_segment);
    if let Some(id) = from_location {
        return Ok(ImageId::new(id));
    }
    match serde_json::from_slice::<SavedBody>(body) {
        Ok(saved) if !saved.image_id.is_empty() => Ok(ImageId::new(saved.image_id)),
        Ok(_) => Err(GatewayError::upstream_protocol("the openstack upstream saved an image with an empty id")),
        Err(e) => Err(GatewayError::upstream_protocol(format!(
            "the openstack upstream saved an image but named it neither in a location nor in the body: {e}"
        ))
        .with_cause(e)),
    }
}

/// The last non-empty path segment of a URL or path, percent-decoded.
fn last_segment(location: &str) -> Option<String> {
    let url = url::Url::parse("http://upstream.invalid/").ok()?.join(location).ok()?;
    let last = url.path_segments()?.rfind(|s| !s.is_empty())?;
    percent_decode_str(last).decode_utf8().ok().map(|s| s.into_owned())
}

/// The image a snapshot starts as: what was asked, saving.
fn saved_image(snapshot: &Snapshot, id: ImageId) -> Image {
    let text = |key: &str| snapshot.metadata.get(key).and_then(Value::as_str).map(Text::from);
    // Glance stamps a new image at insert, which was just now; Nova's
    // seconds
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    Image {
        id,
        name: snapshot.name.as_str().into(),
        status: ImageStatus::Saving,
        created: Some(now),
        updated: Some(now),
        os: text("os_distro"),
        description: snapshot.description.as_deref().map(Text::from).or_else(|| text("description")),
        architecture: text("architecture"),
        server_id: Some(snapshot.server_id.as_str().into()),
        metadata: snapshot.metadata.clone(),
        ..Image::default()
    }
}

/// The body as text. One check of the whole body costs far less than
/// serde_json checking every string and key of a byte slice in turn.
fn text(body: &[u8]) -> Result<&str, GatewayError> {
    std::str::from_utf8(body)
        .map_err(|e| GatewayError::upstream_protocol(format!("unreadable openstack image reply: {e}")).with_cause(e))
}

fn unreadable(e: serde_json::Error) -> GatewayError {
    GatewayError::upstream_protocol(format!("unreadable openstack image reply: {e}")).with_cause(e)
}

/// The canonical error of a failed reply: the status decides the kind, the
/// body (Nova's fault, keystone's `error`, Rackspace's `unauthorized`)
/// gives the message and, for rate limits, the wait.
fn error(call: &UpstreamCall, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> GatewayError {
    let fault = UpstreamFault::read(body);
    let message = fault.as_ref().map_or("", |f| f.message.as_str());
    if let (StatusCode::NOT_FOUND, UpstreamCall::Write(op)) = (status, call) {
        return write_not_found(op, message);
    }
    let mut err = error_from_status(call, status, headers, message);
    if let ErrorKind::RateLimited { retry_after: wait @ None } = &mut err.kind {
        *wait = fault.and_then(|f| f.retry_after);
    }
    err
}

/// What a write's 404 did not find: the server of a `createImage`, a
/// metadata key Nova called invalid, else the image.
fn write_not_found(op: &WriteOp, message: &str) -> GatewayError {
    match op {
        WriteOp::Snapshot(snapshot) => {
            let id = snapshot.server_id.clone();
            let message = format!("server {id} not found");
            GatewayError::new(ErrorKind::NotFound { resource: Resource::Server, id }, Side::Downstream, message)
        }
        WriteOp::DeleteMetadataItem { id, key } if message != IMAGE_NOT_FOUND => {
            let message = format!("image {id} has no metadata item {key}");
            let kind = ErrorKind::NotFound { resource: Resource::MetadataItem, id: key.clone() };
            GatewayError::new(kind, Side::Downstream, message)
        }
        other => GatewayError::image_not_found(other.image_id().map_or("", ImageId::as_str)),
    }
}

/// What a JSON error body says: `{"<name>": {"message", "retryAfter"?, …}}`.
struct UpstreamFault {
    message: String,
    retry_after: Option<Duration>,
}

impl UpstreamFault {
    fn read(body: &[u8]) -> Option<UpstreamFault> {
        let Ok(Value::Object(outer)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        let inner = outer.into_iter().find_map(|(_, v)| match v {
            Value::Object(inner) => Some(inner),
            _ => None,
        })?;
        let text = |key: &str| inner.get(key).and_then(Value::as_str);
        let message = text("message").or_else(|| text("title")).unwrap_or_default().to_owned();
        let retry_after = match inner.get("retryAfter") {
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .map(Duration::from_secs);
        Some(UpstreamFault { message, retry_after })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::dialect::openstack::{EXTRA_ALTERNATE, EXTRA_DISK_CONFIG, EXTRA_PROGRESS};
    use crate::dialect::{Format, GetMany};
    use crate::model::{Image, ImageId, ImagePatch, LookupKey};

    const TOKEN: &str = "5f944a7a64d3408597b618915dad29ea";

    fn target<'a>(base: &'a str, scope: &'a str, credentials: &'a Credentials) -> Target<'a> {
        Target { base, scope, credentials, now: 0, format: Format::Json }
    }

    fn list(filter: Filter, view: View, start: PageStart, limit: Option<usize>) -> UpstreamCall {
        UpstreamCall::List { filter, sort: None, view, start, limit }
    }

    fn encode(call: &UpstreamCall, scope: &str) -> Result<http::Request<Bytes>, GatewayError> {
        request(call, &target("http://nova:8774", scope, &Credentials::Token(TOKEN.to_owned())))
    }

    fn full_filter() -> Filter {
        Filter {
            id: Some(ImageId::new("i")),
            name: Some("a b".into()),
            name_like: Some("cent".to_owned()),
            changed_since: Some(datetime!(2011-01-01 01:02:03.5 UTC)),
            min_ram_mb: Some(512),
            min_disk_gb: Some(20),
            server_id: Some("srv".into()),
            zone: Some("z".to_owned()),
            os: Some("CentOS".into()),
            architecture: Some("x86_64".into()),
            extra: vec![("gogrid.location".to_owned(), "x".to_owned())],
            shown: Vec::new(),
        }
    }

    #[test]
    fn capabilities_are_marker_paging_without_totals() {
        assert_eq!(
            capabilities(),
            Capabilities {
                paging: Paging::Marker,
                max_page: 1000,
                reports_total: false,
                get_many: false,
                sort_fields: &[]
            }
        );
    }

    #[test]
    fn filter_splits_into_novas_and_the_rest() {
        let (native, residual) = split_filter(&full_filter());
        assert_eq!(
            native,
            Filter {
                name: Some("a b".into()),
                changed_since: Some(datetime!(2011-01-01 01:02:03.5 UTC)),
                min_ram_mb: Some(512),
                min_disk_gb: Some(20),
                server_id: Some("srv".into()),
                ..Filter::default()
            }
        );
        assert_eq!(
            residual,
            Filter {
                id: Some(ImageId::new("i")),
                name_like: Some("cent".to_owned()),
                zone: Some("z".to_owned()),
                os: Some("CentOS".into()),
                architecture: Some("x86_64".into()),
                extra: vec![("gogrid.location".to_owned(), "x".to_owned())],
                ..Filter::default()
            }
        );
    }

    #[test]
    fn show_request_is_exact() {
        let req = encode(&UpstreamCall::Show(ImageId::new("70a599e0-31e7")), "b17a6492").unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "http://nova:8774/v2.1/b17a6492/images/70a599e0-31e7");
        assert_eq!(req.headers().len(), 2);
        assert_eq!(req.headers()[header::ACCEPT], "application/json");
        assert_eq!(req.headers()["x-auth-token"], TOKEN);
        assert!(req.headers()["x-auth-token"].is_sensitive());
        assert!(req.body().is_empty());
    }

    #[test]
    fn ids_and_scopes_stay_inside_their_segment() {
        let req = encode(&UpstreamCall::Show(ImageId::new("../a b?c#d")), "p/q").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p%2Fq/images/..%2Fa%20b%3Fc%23d");
        let req = encode(&UpstreamCall::Show(ImageId::new("..")), "p").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p/images/%2E%2E");
    }

    #[test]
    fn an_empty_scope_uses_the_projectless_path() {
        let req = encode(&UpstreamCall::Show(ImageId::new("x")), "").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/images/x");
    }

    #[test]
    fn base_paths_are_kept() {
        let creds = Credentials::None;
        let req = request(&UpstreamCall::Show(ImageId::new("x")), &target("https://h/compute", "p", &creds)).unwrap();
        assert_eq!(req.uri(), "https://h/compute/v2.1/p/images/x");
        assert!(req.headers().get("x-auth-token").is_none());
    }

    #[test]
    fn list_requests_carry_filters_and_paging() {
        let (native, _) = split_filter(&full_filter());
        let call = list(native, View::Detail, PageStart::After(ImageId::new("m 1")), Some(50));
        let req = encode(&call, "p").unwrap();
        assert_eq!(
            req.uri(),
            "http://nova:8774/v2.1/p/images/detail?name=a+b&changes-since=2011-01-01T01%3A02%3A03.5Z\
             &minRam=512&minDisk=20&server=srv&limit=50&marker=m+1"
        );
        let req = encode(&list(Filter::default(), View::Summary, PageStart::First, None), "p").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p/images");
        let req = encode(&list(Filter::default(), View::Summary, PageStart::Offset(0), Some(5)), "p").unwrap();
        assert_eq!(req.uri(), "http://nova:8774/v2.1/p/images?limit=5");
    }

    #[test]
    fn what_nova_cannot_express_is_refused() {
        let offset = list(Filter::default(), View::Detail, PageStart::Offset(20), Some(10));
        assert_eq!(encode(&offset, "p").unwrap_err().kind, ErrorKind::Internal);
        let residual =
            list(Filter { zone: Some("z".to_owned()), ..Filter::default() }, View::Detail, PageStart::First, None);
        assert_eq!(encode(&residual, "p").unwrap_err().kind, ErrorKind::Internal);
        let many =
            UpstreamCall::GetMany(GetMany { key: LookupKey::Id, values: vec!["a".to_owned()], shown_name: None });
        assert!(matches!(encode(&many, "p").unwrap_err().kind, ErrorKind::Unsupported { backend: "openstack", .. }));
        let sorted = UpstreamCall::List {
            filter: Filter::default(),
            sort: Some(crate::model::Sort { field: crate::model::SortField::Name, descending: false }),
            view: View::Detail,
            start: PageStart::First,
            limit: None,
        };
        assert!(matches!(encode(&sorted, "p").unwrap_err().kind, ErrorKind::Unsupported { .. }));
    }

    #[test]
    fn only_tokens_authenticate() {
        let basic = Credentials::Basic { user: "u".to_owned(), password: "p".to_owned() };
        let show = UpstreamCall::Show(ImageId::new("x"));
        assert_eq!(request(&show, &target("http://h", "p", &basic)).unwrap_err().kind, ErrorKind::Internal);
        let bad = Credentials::Token("a\nb".to_owned());
        assert_eq!(request(&show, &target("http://h", "p", &bad)).unwrap_err().kind, ErrorKind::Internal);
    }

    fn decode(call: &UpstreamCall, status: u16, headers: &[(&str, &str)], body: &str) -> Result<Outcome, GatewayError> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        reply(call, StatusCode::from_u16(status).unwrap(), &map, body.as_bytes())
    }

    fn show_image(body: Value) -> Image {
        match decode(&UpstreamCall::Show(ImageId::new("x")), 200, &[], &body.to_string()) {
            Ok(Outcome::Image(image)) => image,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_detailed_image_decodes_into_the_model() {
        let image = show_image(json!({"image": {
            "id": "abc",
            "name": "snap",
            "status": "SAVING",
            "progress": 25,
            "created": "2011-01-01T01:02:03Z",
            "updated": null,
            "minRam": "256",
            "minDisk": 5,
            "OS-EXT-IMG-SIZE:size": 74185822,
            "metadata": {"architecture": "x86_64", "description": "d", "image_type": "snapshot", "instance_uuid": "u-1"},
            "server": {"id": "srv-1", "links": []},
            "OS-DCF:diskConfig": "AUTO",
            "links": [{"rel": "self", "href": "s"}, {"rel": "alternate", "href": "http://glance/images/abc"}],
            "com.vendor:flag": [1, 2],
        }}));
        let mut metadata = std::collections::BTreeMap::new();
        for (k, v) in
            [("architecture", "x86_64"), ("description", "d"), ("image_type", "snapshot"), ("instance_uuid", "u-1")]
        {
            metadata.insert(k.into(), Value::from(v));
        }
        let extra = [
            (EXTRA_ALTERNATE, json!("http://glance/images/abc")),
            (EXTRA_DISK_CONFIG, json!("AUTO")),
            (crate::dialect::openstack::EXTRA_IMAGE_TYPE, json!("snapshot")),
            (EXTRA_PROGRESS, json!(25)),
            ("openstack.com.vendor:flag", json!([1, 2])),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
        assert_eq!(
            image,
            Image {
                id: ImageId::new("abc"),
                name: "snap".into(),
                status: ImageStatus::Saving,
                backend_status: Some("SAVING".into()),
                created: Some(datetime!(2011-01-01 01:02:03 UTC)),
                updated: None,
                description: Some("d".into()),
                os: None,
                architecture: Some("x86_64".into()),
                public: None,
                min_disk_gb: Some(5),
                min_ram_mb: Some(256),
                size_bytes: Some(74185822),
                server_id: Some("srv-1".into()),
                zones: vec![],
                metadata,
                extra,
            }
        );
    }

    #[test]
    fn odd_but_legal_values_decode_leniently() {
        let image = show_image(json!({"image": {"id": 13, "name": null, "status": "killed", "minRam": null,
            "minDisk": "", "progress": 50, "created": "last week", "metadata": null,
            "OS-DCF:diskConfig": "MANUAL"}}));
        assert_eq!(image.id.as_str(), "13");
        assert_eq!(image.name, "");
        assert_eq!(image.status, ImageStatus::Error);
        assert_eq!((image.min_ram_mb, image.min_disk_gb, image.created), (None, None, None));
        assert!(!image.extra.contains_key(EXTRA_PROGRESS));
        assert_eq!(image.extra[EXTRA_DISK_CONFIG], "MANUAL");
        let image = show_image(json!({"image": {"id": "x", "status": "BUILDING",
            "metadata": {"auto_disk_config": "True", "instance_uuid": "u-2"}, "OS-DCF:diskConfig": "AUTO"}}));
        assert_eq!(image.status, ImageStatus::Unknown);
        assert_eq!(image.backend_status.as_deref(), Some("BUILDING"));
        assert_eq!(image.server_id.as_deref(), Some("u-2"));
        assert!(!image.extra.contains_key(EXTRA_DISK_CONFIG));
    }

    #[test]
    fn lists_report_whether_more_follow() {
        let body = json!({"images": [{"id": "a", "name": "A", "links": []}, {"id": "b", "name": "B", "links": []}],
            "images_links": [{"rel": "next", "href": "http://nova/v2.1/p/images?limit=2&marker=b"}]});
        let call = list(Filter::default(), View::Summary, PageStart::First, Some(2));
        let Ok(Outcome::List(page)) = decode(&call, 200, &[], &body.to_string()) else { panic!("a list") };
        assert_eq!(page.images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((page.offset, page.matched, page.total, page.more), (Some(0), None, None, true));
        let call = list(Filter::default(), View::Detail, PageStart::After(ImageId::new("b")), None);
        let Ok(Outcome::List(page)) = decode(&call, 200, &[], r#"{"images": []}"#) else { panic!("a list") };
        assert_eq!((page.offset, page.more, page.images.len()), (None, false, 0));
    }

    #[test]
    fn unreadable_success_bodies_are_protocol_errors() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let detail = list(Filter::default(), View::Detail, PageStart::First, None);
        for (call, body) in [
            (&show, "<html>ok</html>"),
            (&show, "{}"),
            (&show, r#"{"image": {"name": "no id"}}"#),
            (&show, r#"{"image": {"id": "x", "minRam": -1}}"#),
            (&show, r#"{"image": {"id": "x", "minRam": "lots"}}"#),
            (&show, r#"{"image": {"id": ["x"]}}"#),
            (&detail, r#"{"images": {}}"#),
            (&detail, ""),
        ] {
            assert_eq!(decode(call, 200, &[], body).unwrap_err().kind, ErrorKind::UpstreamProtocol, "{body}");
        }
        let not_utf8 = reply(&show, StatusCode::OK, &HeaderMap::new(), b"{\"image\": {\"id\": \"\xff\"}}");
        assert_eq!(not_utf8.unwrap_err().kind, ErrorKind::UpstreamProtocol);
    }

    #[test]
    fn nova_faults_decode_by_status_with_their_message() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let detail = list(Filter::default(), View::Detail, PageStart::First, None);
        let fault =
            |name: &str, code: u16, message: &str| json!({name: {"code": code, "message": message}}).to_string();
        let cases = [
            (&show, 404, fault("itemNotFound", 404, "Image not found."), ErrorKind::NotFound { resource: Resource::Image, id: "x".to_owned() }),
            (&detail, 404, fault("itemNotFound", 404, "x"), ErrorKind::NotFound { resource: Resource::Image, id: String::new() }),
            (&detail, 400, fault("badRequest", 400, "Invalid status value: x"), ErrorKind::BadRequest),
            (&show, 403, fault("forbidden", 403, "Policy doesn't allow"), ErrorKind::Forbidden),
            (&show, 405, fault("badMethod", 405, "no"), ErrorKind::MethodNotAllowed),
            (&show, 409, fault("conflictingRequest", 409, "busy"), ErrorKind::Conflict),
            (&show, 415, fault("badMediaType", 415, "xml"), ErrorKind::UnsupportedMediaType),
            (&show, 500, fault("computeFault", 500, ""), ErrorKind::UpstreamProtocol),
            (&show, 501, fault("notImplemented", 501, "no"), ErrorKind::Unsupported { operation: "show image".to_owned(), backend: "upstream" }),
            (&show, 503, fault("serviceUnavailable", 503, "down"), ErrorKind::UpstreamUnavailable),
            (&show, 401, r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#.to_owned(), ErrorKind::Unauthorized),
        ];
        for (call, status, body, kind) in cases {
            let err = decode(call, status, &[], &body).unwrap_err();
            assert_eq!(err.kind, kind, "{status} {body}");
        }
        let err = decode(&detail, 400, &[], &fault("badRequest", 400, "Invalid status value: x")).unwrap_err();
        assert_eq!(err.message, "Invalid status value: x");
    }

    fn items(pairs: &[(&str, &str)]) -> Metadata {
        pairs.iter().map(|(k, v)| ((*k).into(), Value::from(*v))).collect()
    }

    fn sent(op: WriteOp, scope: &str) -> (Method, String, HeaderMap, Option<Value>) {
        let req = encode(&UpstreamCall::Write(op), scope).unwrap();
        let body = (!req.body().is_empty()).then(|| serde_json::from_slice(req.body()).unwrap());
        (req.method().clone(), req.uri().to_string(), req.headers().clone(), body)
    }

    #[test]
    fn deletes_are_exact() {
        let (method, uri, headers, body) = sent(WriteOp::Delete { id: ImageId::new("a b"), trash: true }, "p");
        assert_eq!((method, uri.as_str(), body), (Method::DELETE, "http://nova:8774/v2.1/p/images/a%20b", None));
        assert_eq!(headers.len(), 2);
        assert_eq!(headers["x-auth-token"], TOKEN);
        let item = WriteOp::DeleteMetadataItem { id: ImageId::new("i"), key: "k/1".to_owned() };
        let (method, uri, _, body) = sent(item, "");
        assert_eq!(
            (method, uri.as_str(), body),
            (Method::DELETE, "http://nova:8774/v2.1/images/i/metadata/k%2F1", None)
        );
    }

    #[test]
    fn metadata_writes_are_exact() {
        let all = items(&[("Label", "UpdatedImage"), ("kernel_id", "False")]);
        let merge = WriteOp::SetMetadata { id: ImageId::new("i"), items: all.clone(), replace: false };
        let (method, uri, headers, body) = sent(merge, "p");
        assert_eq!((method, uri.as_str()), (Method::POST, "http://nova:8774/v2.1/p/images/i/metadata"));
        assert_eq!(body, Some(json!({"metadata": {"Label": "UpdatedImage", "kernel_id": "False"}})));
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[header::ACCEPT], "application/json");
        assert!(headers.get("openstack-api-version").is_none());
        let replace = WriteOp::SetMetadata { id: ImageId::new("i"), items: all, replace: true };
        assert_eq!(sent(replace, "p").0, Method::PUT);
        let one = WriteOp::SetMetadataItem { id: ImageId::new("i"), key: "auto disk".to_owned(), value: "True".into() };
        let (method, uri, _, body) = sent(one, "p");
        assert_eq!((method, uri.as_str()), (Method::PUT, "http://nova:8774/v2.1/p/images/i/metadata/auto%20disk"));
        assert_eq!(body, Some(json!({"meta": {"auto disk": "True"}})));
    }

    #[test]
    fn create_image_is_a_server_action_without_a_microversion() {
        let snapshot = Snapshot {
            server_id: "srv/1".into(),
            name: "foo-image".into(),
            description: Some("d".into()),
            metadata: items(&[("meta_var", "meta_val")]),
            uuid_id: true,
        };
        let (method, uri, headers, body) = sent(WriteOp::Snapshot(snapshot), "p");
        assert_eq!((method, uri.as_str()), (Method::POST, "http://nova:8774/v2.1/p/servers/srv%2F1/action"));
        assert_eq!(
            body,
            Some(
                json!({"createImage": {"name": "foo-image", "metadata": {"description": "d", "meta_var": "meta_val"}}})
            )
        );
        assert!(
            headers.get("openstack-api-version").is_none() && headers.get("x-openstack-nova-api-version").is_none()
        );
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        // metadata is always sent, as novaclient does; its own description wins
        let snapshot = Snapshot {
            server_id: "s".into(),
            name: "n".into(),
            description: Some("ignored".into()),
            metadata: items(&[("description", "kept")]),
            uuid_id: true,
        };
        assert_eq!(
            sent(WriteOp::Snapshot(snapshot), "").3,
            Some(json!({"createImage": {"name": "n", "metadata": {"description": "kept"}}}))
        );
        let bare = Snapshot { server_id: "s".into(), name: "n".into(), ..Snapshot::default() };
        let (_, uri, _, body) = sent(WriteOp::Snapshot(bare), "");
        assert_eq!(uri, "http://nova:8774/v2.1/servers/s/action");
        assert_eq!(body, Some(json!({"createImage": {"name": "n", "metadata": {}}})));
    }

    #[test]
    fn writes_nova_cannot_express_are_unsupported() {
        for op in [
            WriteOp::Register(Image::default(), Default::default()),
            WriteOp::Update {
                id: ImageId::new("i"),
                patch: ImagePatch { name: Some("n".into()), ..Default::default() },
            },
            WriteOp::Restore(ImageId::new("i")),
        ] {
            let name = op.name();
            let err = encode(&UpstreamCall::Write(op), "p").unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unsupported { operation: name.to_owned(), backend: "openstack" });
        }
    }

    #[test]
    fn an_update_that_changes_nothing_reads_the_image() {
        let op = WriteOp::Update { id: ImageId::new("a b"), patch: ImagePatch::default() };
        let req = encode(&UpstreamCall::Write(op.clone()), "p").unwrap();
        assert_eq!(
            (req.method(), req.uri().to_string()),
            (&Method::GET, "http://nova:8774/v2.1/p/images/a%20b".into())
        );
        assert!(req.body().is_empty());
        let body = include_str!("../../../tests/fixtures/openstack/image-get-resp.json");
        let Ok(Outcome::Image(image)) = written(op, 200, &[], body) else { panic!("an image") };
        assert_eq!(image.name, "fakeimage7");
    }

    fn written(op: WriteOp, status: u16, headers: &[(&str, &str)], body: &str) -> Result<Outcome, GatewayError> {
        decode(&UpstreamCall::Write(op), status, headers, body)
    }

    #[test]
    fn deletes_are_done_on_204() {
        let delete = WriteOp::Delete { id: ImageId::new("i"), trash: false };
        assert_eq!(written(delete, 204, &[], "").unwrap(), Outcome::Done);
        let item = WriteOp::DeleteMetadataItem { id: ImageId::new("i"), key: "k".to_owned() };
        assert_eq!(written(item, 204, &[], "").unwrap(), Outcome::Done);
    }

    #[test]
    fn metadata_replies_decode_either_form() {
        let set = WriteOp::SetMetadata { id: ImageId::new("i"), items: Metadata::new(), replace: false };
        let got = written(set.clone(), 200, &[], r#"{"metadata": {"Label": "x", "n": 1}}"#).unwrap();
        let mut want = items(&[("Label", "x")]);
        want.insert("n".into(), json!(1));
        assert_eq!(got, Outcome::Metadata(want));
        let one = WriteOp::SetMetadataItem { id: ImageId::new("i"), key: "k".to_owned(), value: "v".into() };
        assert_eq!(written(one, 200, &[], r#"{"meta": {"k": "v"}}"#).unwrap(), Outcome::Metadata(items(&[("k", "v")])));
        let err = written(set, 200, &[], r#"{"image": {}}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::UpstreamProtocol);
    }

    fn snapshot_op() -> WriteOp {
        WriteOp::Snapshot(Snapshot {
            server_id: "srv-1".into(),
            name: "foo-image".into(),
            description: None,
            metadata: items(&[("meta_var", "meta_val"), ("description", "d"), ("architecture", "x86_64")]),
            uuid_id: true,
        })
    }

    #[test]
    fn a_saved_image_is_named_by_its_location() {
        let location = "http://glance:9292/v2/images/0e7761dd-ee98-41f0-ba35-05994e446431";
        let Outcome::Image(mut image) = written(snapshot_op(), 202, &[("location", location)], "").unwrap() else {
            panic!("an image")
        };
        // stamped now, to the second, as Glance stamps a new image
        assert!(image.created.is_some_and(|t| t.nanosecond() == 0) && image.created == image.updated);
        (image.created, image.updated) = (None, None);
        assert_eq!(
            image,
            Image {
                id: ImageId::new("0e7761dd-ee98-41f0-ba35-05994e446431"),
                name: "foo-image".into(),
                status: ImageStatus::Saving,
                description: Some("d".into()),
                architecture: Some("x86_64".into()),
                server_id: Some("srv-1".into()),
                metadata: items(&[("meta_var", "meta_val"), ("description", "d"), ("architecture", "x86_64")]),
                ..Image::default()
            }
        );
        for (location, id) in
            [("http://gw/v2.1/p/images/a%20b/", "a b"), ("/v2/p/images/7?x=1#f", "7"), ("images/9", "9")]
        {
            let Outcome::Image(image) = written(snapshot_op(), 202, &[("location", location)], "").unwrap() else {
                panic!("an image")
            };
            assert_eq!(image.id.as_str(), id, "{location}");
        }
    }

    #[test]
    fn a_saved_image_is_named_by_the_2_45_body_without_a_location() {
        let body = r#"{"image_id": "0e7761dd-ee98-41f0-ba35-05994e446431"}"#;
        let Outcome::Image(image) = written(snapshot_op(), 202, &[], body).unwrap() else { panic!("an image") };
        assert_eq!(image.id.as_str(), "0e7761dd-ee98-41f0-ba35-05994e446431");
        for body in ["", "{}", r#"{"image_id": ""}"#] {
            assert_eq!(written(snapshot_op(), 202, &[], body).unwrap_err().kind, ErrorKind::UpstreamProtocol, "{body}");
        }
        assert_eq!(
            written(snapshot_op(), 202, &[("location", "http://glance/")], "").unwrap_err().kind,
            ErrorKind::UpstreamProtocol
        );
    }

    #[test]
    fn write_not_founds_say_what_was_missing() {
        let fault = |message: &str| json!({"itemNotFound": {"code": 404, "message": message}}).to_string();
        let item = WriteOp::DeleteMetadataItem { id: ImageId::new("i"), key: "k".to_owned() };
        let err = written(item.clone(), 404, &[], &fault("Invalid metadata key")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::MetadataItem, id: "k".to_owned() });
        let err = written(item, 404, &[], &fault("Image not found.")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "i".to_owned() });
        let err = written(snapshot_op(), 404, &[], &fault("Instance srv-1 could not be found.")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Server, id: "srv-1".to_owned() });
        for op in [
            WriteOp::Delete { id: ImageId::new("i"), trash: false },
            WriteOp::SetMetadata { id: ImageId::new("i"), items: Metadata::new(), replace: true },
            WriteOp::SetMetadataItem { id: ImageId::new("i"), key: "k".to_owned(), value: "v".into() },
        ] {
            let err = written(op, 404, &[], &fault("Image not found.")).unwrap_err();
            assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "i".to_owned() });
        }
    }

    #[test]
    fn other_write_faults_keep_novas_message() {
        let fault =
            |name: &str, code: u16, message: &str| json!({name: {"code": code, "message": message}}).to_string();
        let item = WriteOp::SetMetadataItem { id: ImageId::new("i"), key: "k".to_owned(), value: "v".into() };
        let err = written(item, 400, &[], &fault("badRequest", 400, "Request body and URI mismatch")).unwrap_err();
        assert_eq!((err.kind, err.message.as_ref()), (ErrorKind::BadRequest, "Request body and URI mismatch"));
        let err = written(snapshot_op(), 409, &[], &fault("conflictingRequest", 409, "Cannot 'createImage' instance"))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        let delete = WriteOp::Delete { id: ImageId::new("i"), trash: false };
        let err = written(delete, 403, &[], &fault("forbidden", 403, "You are not allowed to delete the image."))
            .unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_ref()),
            (ErrorKind::Forbidden, "You are not allowed to delete the image.")
        );
    }

    #[test]
    fn rate_limits_read_the_header_or_the_body() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let body = json!({"overLimit": {"code": 413, "message": "This request was rate-limited.", "retryAfter": "60"}})
            .to_string();
        let err = decode(&show, 413, &[], &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(60)) });
        let err = decode(&show, 429, &[("retry-after", "7")], &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
        let err =
            decode(&show, 429, &[], r#"{"overLimit": {"code": 429, "message": "m", "retryAfter": 5}}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(5)) });
        let err = decode(&show, 429, &[], "slow down").unwrap_err();
        assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: None });
    }

    #[test]
    fn foreign_error_bodies_fall_back_to_the_status() {
        let show = UpstreamCall::Show(ImageId::new("x"));
        let html = "<html><body><h1>403 Forbidden</h1></body></html>";
        assert_eq!(decode(&show, 403, &[], html).unwrap_err().kind, ErrorKind::Forbidden);
        assert_eq!(decode(&show, 401, &[], "401 Unauthorized").unwrap_err().kind, ErrorKind::Unauthorized);
        assert_eq!(decode(&show, 502, &[], "\u{0}\u{ff}").unwrap_err().kind, ErrorKind::UpstreamUnavailable);
        assert_eq!(decode(&show, 504, &[], "").unwrap_err().kind, ErrorKind::UpstreamTimeout);
        assert_eq!(decode(&show, 300, &[], r#"{"choices": []}"#).unwrap_err().kind, ErrorKind::UpstreamProtocol);
        assert_eq!(decode(&show, 400, &[], r#"["x"]"#).unwrap_err().kind, ErrorKind::BadRequest);
    }
}
