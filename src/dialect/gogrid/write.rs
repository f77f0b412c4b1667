//! The four write methods both ways: the parameters of `save`, `edit`,
//! `delete` and `restore` read into a [`WriteOp`] (edge), and a [`WriteOp`]
//! written as those parameters (upstream).

use std::collections::BTreeMap;

use url::form_urlencoded::Serializer;

use super::ApiMethod;
use super::boolean::boolean;
use crate::dialect::Query;
use crate::model::{GatewayError, ImageId, ImagePatch, Snapshot, WriteOp};

/// The longest description GoGrid keeps, in characters (jclouds `SaveImageOptions`).
const MAX_DESCRIPTION: usize = 500;

/// The parameters naming the image a write changes; exactly one is given.
const TARGETS: [&str; 3] = ["id", "name", "image"];

/// The GoGrid method that carries out `op`, when GoGrid has one.
pub(super) fn method_of(op: &WriteOp) -> Option<ApiMethod> {
    match op {
        WriteOp::Snapshot(_) => Some(ApiMethod::Save),
        WriteOp::Update { .. } => Some(ApiMethod::Edit),
        WriteOp::Delete { .. } => Some(ApiMethod::Delete),
        WriteOp::Restore(_) => Some(ApiMethod::Restore),
        WriteOp::Register(..)
        | WriteOp::SetMetadata { .. }
        | WriteOp::SetMetadataItem { .. }
        | WriteOp::DeleteMetadataItem { .. } => None,
    }
}

// ---------------------------------------------------------------------------
// Edge

/// The write a call to `method` asks for.
pub(super) fn decode(method: ApiMethod, params: &Query) -> Result<WriteOp, GatewayError> {
    match method {
        ApiMethod::Save => save(params),
        ApiMethod::Edit => edit(params),
        ApiMethod::Delete => Ok(WriteOp::Delete { id: target(params)?, trash: true }),
        ApiMethod::Restore => Ok(WriteOp::Restore(target(params)?)),
        ApiMethod::List | ApiMethod::Get => {
            Err(GatewayError::internal(format!("{} is no write method", method.name())))
        }
    }
}

/// `friendlyName` and `server` (id or name, passed on as given), both
/// required; `description` optional.
fn save(params: &Query) -> Result<WriteOp, GatewayError> {
    let name = required(params, "friendlyName")?;
    let server = required(params, "server")?;
    let description = description(params)?;
    Ok(WriteOp::Snapshot(Snapshot {
        server_id: server.to_owned(),
        name: name.to_owned(),
        description,
        metadata: BTreeMap::new(),
        uuid_id: false,
    }))
}

/// `friendlyName`, `description` and `isPublic`, at least one of them.
fn edit(params: &Query) -> Result<WriteOp, GatewayError> {
    let id = target(params)?;
    let name = match single(params, "friendlyName")? {
        Some("") => return Err(empty("friendlyName")),
        name => name.map(str::to_owned),
    };
    let public = single(params, "isPublic")?.map(|v| boolean("isPublic", v)).transpose()?;
    let patch = ImagePatch { name, description: description(params)?, public, ..ImagePatch::default() };
    if patch.is_empty() {
        return Err(GatewayError::bad_request(
            "nothing to change: give at least one of the friendlyName, description or isPublic parameters",
        ));
    }
    Ok(WriteOp::Update { id, patch })
}

/// The image a write names, by `id`, `image` (whose value is taken as the
/// id: a name that is no id matches nothing) or its unique `name`, which
/// stands in for the id until the gateway finds the image by it (see
/// [`target_name`]). A write changes one image, so the parameter is given
/// once.
fn target(params: &Query) -> Result<ImageId, GatewayError> {
    let mut given = TARGETS.into_iter().filter(|name| !params.all(name).is_empty());
    let name =
        given.next().ok_or_else(|| GatewayError::bad_request("one of the id, name or image parameters is required"))?;
    if given.next().is_some() {
        return Err(GatewayError::bad_request("the id, name and image parameters cannot be mixed in one call"));
    }
    match single(params, name)? {
        Some("") | None => Err(empty(name)),
        Some(value) => Ok(ImageId::new(value)),
    }
}

/// The unique name (`GSI-…`) a write names its image by, when it uses the
/// `name` parameter: the image is the one this edge shows with that name,
/// found before the write (`WriteGuard::by_name`).
pub(super) fn target_name(params: &Query) -> Option<String> {
    params.get("name").filter(|name| !name.is_empty()).map(str::to_owned)
}

fn empty(name: &str) -> GatewayError {
    GatewayError::bad_request(format!("empty {name} parameter"))
}

/// The value of a parameter given at most once.
fn single<'q>(params: &'q Query, name: &str) -> Result<Option<&'q str>, GatewayError> {
    match params.all(name).as_slice() {
        [] => Ok(None),
        [value] => Ok(Some(value)),
        _ => Err(GatewayError::bad_request(format!("the {name} parameter may be given only once"))),
    }
}

fn required<'q>(params: &'q Query, name: &str) -> Result<&'q str, GatewayError> {
    match single(params, name)? {
        None => Err(GatewayError::bad_request(format!("missing required parameter {name}"))),
        Some("") => Err(empty(name)),
        Some(value) => Ok(value),
    }
}

/// `description`, at most [`MAX_DESCRIPTION`] characters; empty clears it.
fn description(params: &Query) -> Result<Option<String>, GatewayError> {
    match single(params, "description")? {
        Some(text) if text.chars().count() > MAX_DESCRIPTION => Err(GatewayError::bad_request(format!(
            "invalid description parameter: longer than {MAX_DESCRIPTION} characters"
        ))),
        text => Ok(text.map(str::to_owned)),
    }
}

// ---------------------------------------------------------------------------
// Upstream

/// Appends the parameters of `op` to `query` and names the method to call.
/// What GoGrid cannot store refuses the whole write. An update that changes
/// nothing reads the image (`get`), as an edit without a field is no edit.
pub(super) fn encode(op: &WriteOp, query: &mut Serializer<'_, String>) -> Result<ApiMethod, GatewayError> {
    match op {
        WriteOp::Snapshot(snapshot) => {
            if !snapshot.metadata.is_empty() {
                return Err(unstorable(op, &["metadata".to_owned()]));
            }
            query.append_pair("friendlyName", &snapshot.name).append_pair("server", &snapshot.server_id);
            if let Some(description) = &snapshot.description {
                query.append_pair("description", description);
            }
            Ok(ApiMethod::Save)
        }
        WriteOp::Update { id, patch } => {
            let unstored = unstored_fields(patch);
            if !unstored.is_empty() {
                return Err(unstorable(op, &unstored));
            }
            query.append_pair("id", id.as_str());
            if patch.is_empty() {
                return Ok(ApiMethod::Get);
            }
            if let Some(name) = &patch.name {
                query.append_pair("friendlyName", name);
            }
            if let Some(description) = &patch.description {
                query.append_pair("description", description);
            }
            if let Some(public) = patch.public {
                query.append_pair("isPublic", if public { "true" } else { "false" });
            }
            Ok(ApiMethod::Edit)
        }
        WriteOp::Delete { id, .. } => {
            query.append_pair("id", id.as_str());
            Ok(ApiMethod::Delete)
        }
        WriteOp::Restore(id) => {
            query.append_pair("id", id.as_str());
            Ok(ApiMethod::Restore)
        }
        WriteOp::Register(..)
        | WriteOp::SetMetadata { .. }
        | WriteOp::SetMetadataItem { .. }
        | WriteOp::DeleteMetadataItem { .. } => Err(GatewayError::unsupported(op.name(), "gogrid")),
    }
}

/// The fields of a patch a GoGrid image has no place for.
fn unstored_fields(patch: &ImagePatch) -> Vec<String> {
    let mut fields = Vec::new();
    if patch.os.is_some() {
        fields.push("os".to_owned());
    }
    if patch.architecture.is_some() {
        fields.push("architecture".to_owned());
    }
    fields.extend(patch.extra.keys().map(ToString::to_string));
    fields
}

fn unstorable(op: &WriteOp, fields: &[String]) -> GatewayError {
    GatewayError::unsupported(format!("{} setting {}", op.name(), fields.join(", ")), "gogrid")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::model::ErrorKind;

    fn params(query: &str) -> Query {
        Query::parse(query)
    }

    fn decoded(method: ApiMethod, query: &str) -> Result<WriteOp, GatewayError> {
        decode(method, &params(query))
    }

    fn refusal(method: ApiMethod, query: &str) -> String {
        let err = decoded(method, query).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest, "{query}");
        err.message.into_owned()
    }

    fn snapshot(server: &str, name: &str, description: Option<&str>) -> WriteOp {
        WriteOp::Snapshot(Snapshot {
            server_id: server.into(),
            name: name.into(),
            description: description.map(Into::into),
            metadata: BTreeMap::new(),
            uuid_id: false,
        })
    }

    fn update(id: &str, patch: ImagePatch) -> WriteOp {
        WriteOp::Update { id: ImageId::new(id), patch }
    }

    #[test]
    fn methods_of_writes() {
        let id = ImageId::new("1");
        assert_eq!(method_of(&snapshot("s", "n", None)), Some(ApiMethod::Save));
        assert_eq!(method_of(&update("1", ImagePatch::default())), Some(ApiMethod::Edit));
        assert_eq!(method_of(&WriteOp::Delete { id: id.clone(), trash: false }), Some(ApiMethod::Delete));
        assert_eq!(method_of(&WriteOp::Restore(id.clone())), Some(ApiMethod::Restore));
        assert_eq!(method_of(&WriteOp::DeleteMetadataItem { id, key: "k".into() }), None);
    }

    #[test]
    fn save_reads_name_server_and_description() {
        assert_eq!(
            decoded(ApiMethod::Save, "friendlyName=friendly&server=serverName&description=fooy").unwrap(),
            snapshot("serverName", "friendly", Some("fooy"))
        );
        assert_eq!(
            decoded(ApiMethod::Save, "server=5&friendlyName=My+First+GSI").unwrap(),
            snapshot("5", "My First GSI", None)
        );
        let longest = "é".repeat(500);
        assert_eq!(
            decoded(ApiMethod::Save, &format!("friendlyName=n&server=1&description={longest}")).unwrap(),
            snapshot("1", "n", Some(&longest))
        );
    }

    #[test]
    fn save_refusals_name_the_parameter() {
        for (query, message) in [
            ("server=1", "missing required parameter friendlyName"),
            ("friendlyName=n", "missing required parameter server"),
            ("", "missing required parameter friendlyName"),
            // the wiki's sample request names the image with name=
            ("name=My+First+GSI&server=1234", "missing required parameter friendlyName"),
            ("friendlyName=&server=1", "empty friendlyName parameter"),
            ("friendlyName=n&server=", "empty server parameter"),
            ("friendlyName=a&friendlyName=b&server=1", "the friendlyName parameter may be given only once"),
            (
                &format!("friendlyName=n&server=1&description={}", "x".repeat(501)),
                "invalid description parameter: longer than 500 characters",
            ),
        ] {
            assert_eq!(refusal(ApiMethod::Save, query), message, "{query}");
        }
    }

    #[test]
    fn edit_builds_a_patch() {
        let patch = ImagePatch {
            name: Some("My Image".into()),
            description: Some("edited".into()),
            public: Some(true),
            ..ImagePatch::default()
        };
        assert_eq!(
            decoded(ApiMethod::Edit, "id=250&friendlyName=My+Image&description=edited&isPublic=TRUE").unwrap(),
            update("250", patch)
        );
        let public = ImagePatch { public: Some(false), ..ImagePatch::default() };
        assert_eq!(decoded(ApiMethod::Edit, "id=5050&isPublic=false").unwrap(), update("5050", public));
        let cleared = ImagePatch { description: Some(String::new()), ..ImagePatch::default() };
        assert_eq!(decoded(ApiMethod::Edit, "image=abc-1&description=").unwrap(), update("abc-1", cleared));
    }

    #[test]
    fn edit_refusals() {
        for (query, message) in [
            ("id=1", "nothing to change: give at least one of the friendlyName, description or isPublic parameters"),
            ("id=1&friendlyName=", "empty friendlyName parameter"),
            ("id=1&isPublic=yes", "invalid isPublic parameter: yes: expected true or false"),
            ("friendlyName=n", "one of the id, name or image parameters is required"),
            ("id=1&image=2&friendlyName=n", "the id, name and image parameters cannot be mixed in one call"),
            ("id=1&id=2&friendlyName=n", "the id parameter may be given only once"),
            ("image=&friendlyName=n", "empty image parameter"),
            ("name=&friendlyName=n", "empty name parameter"),
        ] {
            assert_eq!(refusal(ApiMethod::Edit, query), message, "{query}");
        }
    }

    #[test]
    fn delete_goes_to_the_trash_and_restore_brings_back() {
        assert_eq!(
            decoded(ApiMethod::Delete, "id=11").unwrap(),
            WriteOp::Delete { id: ImageId::new("11"), trash: true }
        );
        assert_eq!(decoded(ApiMethod::Restore, "image=195").unwrap(), WriteOp::Restore(ImageId::new("195")));
        assert_eq!(refusal(ApiMethod::Delete, ""), "one of the id, name or image parameters is required");
    }

    #[test]
    fn a_unique_name_stands_for_the_image_until_it_is_found() {
        let renamed = ImagePatch { name: Some("n".into()), ..ImagePatch::default() };
        let query = "name=GSI-ljkhdf3&friendlyName=n";
        assert_eq!(decoded(ApiMethod::Edit, query).unwrap(), update("GSI-ljkhdf3", renamed));
        assert_eq!(target_name(&Query::parse(query)).as_deref(), Some("GSI-ljkhdf3"));
        assert_eq!(decoded(ApiMethod::Restore, "name=GSI-1").unwrap(), WriteOp::Restore(ImageId::new("GSI-1")));
        assert_eq!(
            decoded(ApiMethod::Delete, "name=GSI-1").unwrap(),
            WriteOp::Delete { id: ImageId::new("GSI-1"), trash: true }
        );
        assert_eq!(target_name(&Query::parse("id=5")), None);
    }

    #[test]
    fn reads_are_no_writes() {
        assert_eq!(decoded(ApiMethod::List, "id=1").unwrap_err().kind, ErrorKind::Internal);
    }

    fn encoded(op: &WriteOp) -> Result<(ApiMethod, String), GatewayError> {
        let mut query = Serializer::new(String::new());
        let method = encode(op, &mut query)?;
        Ok((method, query.finish()))
    }

    #[test]
    fn upstream_parameters() {
        let cases = [
            (
                snapshot("serverName", "friendly", Some("fooy & more")),
                ApiMethod::Save,
                "friendlyName=friendly&server=serverName&description=fooy+%26+more",
            ),
            (snapshot("7", "n", None), ApiMethod::Save, "friendlyName=n&server=7"),
            (
                update(
                    "250",
                    ImagePatch {
                        name: Some("new name".into()),
                        description: Some("d".into()),
                        public: Some(false),
                        ..ImagePatch::default()
                    },
                ),
                ApiMethod::Edit,
                "id=250&friendlyName=new+name&description=d&isPublic=false",
            ),
            (
                update("5", ImagePatch { name: Some("renamed".into()), ..ImagePatch::default() }),
                ApiMethod::Edit,
                "id=5&friendlyName=renamed",
            ),
            (update("5", ImagePatch::default()), ApiMethod::Get, "id=5"),
            (WriteOp::Delete { id: ImageId::new("11"), trash: false }, ApiMethod::Delete, "id=11"),
            (WriteOp::Delete { id: ImageId::new("11"), trash: true }, ApiMethod::Delete, "id=11"),
            (WriteOp::Restore(ImageId::new("195")), ApiMethod::Restore, "id=195"),
        ];
        for (op, method, query) in cases {
            assert_eq!(encoded(&op).unwrap(), (method, query.to_owned()), "{op:?}");
        }
    }

    #[test]
    fn upstream_refuses_what_gogrid_cannot_store() {
        let unsupported = |op: &WriteOp| match encoded(op).unwrap_err().kind {
            ErrorKind::Unsupported { operation, backend: "gogrid" } => operation,
            other => panic!("{other:?}"),
        };
        let patch = ImagePatch {
            name: Some("n".into()),
            os: Some("CentOS".into()),
            architecture: Some("x86_64".into()),
            extra: [("foreman.username".into(), Value::from("root"))].into(),
            ..ImagePatch::default()
        };
        assert_eq!(unsupported(&update("1", patch)), "update an image setting os, architecture, foreman.username");
        let uuid = ImagePatch { extra: [("foreman.uuid".into(), Value::from("t"))].into(), ..ImagePatch::default() };
        assert_eq!(unsupported(&update("1", uuid)), "update an image setting foreman.uuid");
        let mut with_metadata = Snapshot { server_id: "1".into(), name: "n".into(), ..Snapshot::default() };
        with_metadata.metadata.insert("k".into(), Value::from("v"));
        assert_eq!(unsupported(&WriteOp::Snapshot(with_metadata)), "save an image from a server setting metadata");
        let id = ImageId::new("1");
        for op in [
            WriteOp::Register(crate::model::Image::default(), Default::default()),
            WriteOp::SetMetadata { id: id.clone(), items: BTreeMap::new(), replace: true },
            WriteOp::SetMetadataItem { id: id.clone(), key: "k".into(), value: Value::Null },
            WriteOp::DeleteMetadataItem { id, key: "k".into() },
        ] {
            assert_eq!(unsupported(&op), op.name());
        }
    }
}
