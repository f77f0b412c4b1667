//! Dragoman's own Keystone v3, for its OpenStack edge: the version document
//! keystoneauth discovers (`GET /v3`, unauthenticated) and password
//! authentication (`POST /v3/auth/tokens`, project scope by name or id,
//! domain by name or id) answered `201` with `X-Subject-Token`, an
//! `expires_at` and a catalog whose `compute` endpoint (`nova`) points back
//! at the gateway's own OpenStack edge (`{origin}/v2.1/{project}`).
//! Its tokens are stateless (see [`super::tokens`]): any replica sharing the
//! key repository validates them.
//!
//! | request                  | answer                                                   |
//! |--------------------------|----------------------------------------------------------|
//! | `GET /v3`, `GET /v3/`    | 200 `{"version": {"id": "v3.14", …}}`                    |
//! | `POST /v3/auth/tokens`   | 201, `X-Subject-Token`, `{"token": {…}}`                 |
//! | bad credentials or scope | 401 `{"error":{"code":401,"title":"Unauthorized",…}}` + `WWW-Authenticate: Keystone uri="…"` |
//! | malformed body           | 400 `{"error":{"code":400,"title":"Bad Request",…}}`     |
//! | anything else under /v3  | 404 `{"error":{"code":404,"title":"Not Found",…}}`       |

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::FormatItem;
use time::macros::format_description;

use super::{Client, Identity};
use crate::dialect::{Reply, json_reply};

const UNAUTHORIZED: &str = "The request you have made requires authentication.";

/// True for the paths this Keystone answers.
pub fn claims(path: &str) -> bool {
    path == "/v3" || path.starts_with("/v3/")
}

/// Answers one Keystone request.
pub fn answer(identity: &Identity, region: &str, parts: &Parts, body: &Bytes, origin: &str) -> Reply {
    match (&parts.method, parts.uri.path().trim_end_matches('/')) {
        (&Method::GET | &Method::HEAD, "/v3") => json_reply(StatusCode::OK, version(origin).to_string()),
        (&Method::POST, "/v3/auth/tokens") => match issue(identity, region, body, origin) {
            Ok(reply) => reply,
            Err(Refusal::Unauthorized) => unauthorized(origin),
            Err(Refusal::BadRequest(message)) => error(StatusCode::BAD_REQUEST, "Bad Request", &message),
        },
        _ => error(StatusCode::NOT_FOUND, "Not Found", "The resource could not be found."),
    }
}

/// Keystone's refusal, pointing clients at this Keystone.
pub fn unauthorized(origin: &str) -> Reply {
    let mut reply = error(StatusCode::UNAUTHORIZED, "Unauthorized", UNAUTHORIZED);
    if let Ok(value) = HeaderValue::from_str(&format!("Keystone uri=\"{origin}/v3\"")) {
        reply.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    reply
}

fn error(status: StatusCode, title: &str, message: &str) -> Reply {
    let body = json!({"error": {"code": status.as_u16(), "title": title, "message": message}});
    json_reply(status, body.to_string())
}

fn version(origin: &str) -> Value {
    json!({"version": {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{origin}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    }})
}

enum Refusal {
    Unauthorized,
    BadRequest(String),
}

#[derive(Deserialize)]
struct AuthRequest {
    auth: Auth,
}

#[derive(Deserialize)]
struct Auth {
    identity: AuthIdentity,
    scope: Option<Scope>,
}

#[derive(Deserialize)]
struct AuthIdentity {
    methods: Vec<String>,
    password: Option<PasswordMethod>,
}

#[derive(Deserialize)]
struct PasswordMethod {
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: Option<String>,
    name: Option<String>,
    domain: Option<Named>,
    password: String,
}

#[derive(Deserialize)]
struct Scope {
    project: Option<Named>,
}

/// A user, project or domain named by id or by name.
#[derive(Deserialize)]
struct Named {
    id: Option<String>,
    name: Option<String>,
    domain: Option<Box<Named>>,
}

impl Named {
    fn is(&self, value: &str) -> bool {
        self.id.as_deref() == Some(value) || self.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(value))
    }
}

fn issue(identity: &Identity, region: &str, body: &Bytes, origin: &str) -> Result<Reply, Refusal> {
    let request: AuthRequest = serde_json::from_slice(body).map_err(|e| Refusal::BadRequest(invalid_input(&e)))?;
    let auth = request.auth;
    if !auth.identity.methods.iter().any(|m| m == "password") {
        return Err(Refusal::BadRequest("Only the password method is supported".into()));
    }
    let user = auth.identity.password.ok_or_else(|| Refusal::BadRequest("Missing password method".into()))?.user;
    let login = user.name.as_deref().or(user.id.as_deref()).ok_or(Refusal::Unauthorized)?;
    let domain = user.domain.as_ref().and_then(|d| d.id.as_deref().or(d.name.as_deref())).unwrap_or("");
    let client =
        identity.password_login(login, &domain.to_ascii_lowercase(), &user.password).ok_or(Refusal::Unauthorized)?;
    let project = match auth.scope.and_then(|s| s.project) {
        Some(project) if project.is(&client.tenant.project) && domain_fits(&project, &client) => Some(project),
        Some(_) => return Err(Refusal::Unauthorized),
        None => None,
    };
    let scoped = project.is_some();
    let (id, issued) = identity.tokens.issue(Arc::clone(&client), scoped.then(|| client.tenant.project.clone()));
    let mut token = json!({
        "methods": ["password"],
        "user": {"domain": domain_of(&client), "id": client.name, "name": client.user, "password_expires_at": null},
        "audit_ids": [uuid::Uuid::new_v4().simple().to_string()],
        "expires_at": keystone_time(issued.expires_at),
        "issued_at": keystone_time(issued.issued_at),
    });
    if scoped {
        let project_id = &client.tenant.project;
        token["project"] = json!({"domain": domain_of(&client), "id": project_id, "name": project_id});
        token["is_domain"] = json!(false);
        token["roles"] = json!([{"id": "member", "name": "member"}]);
        token["catalog"] = catalog(origin, region, project_id);
    }
    let mut reply = json_reply(StatusCode::CREATED, json!({ "token": token }).to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        reply.headers_mut().insert("x-subject-token", value);
    }
    Ok(reply)
}

/// The 400 message of a body that is not an auth request: where it went
/// wrong, but neither the body nor the parser's own words (which name
/// internal types).
fn invalid_input(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => {
            format!("Invalid input for field 'auth' at line {} column {}", e.line(), e.column())
        }
        _ => format!("Expecting a JSON auth request: malformed JSON at line {} column {}", e.line(), e.column()),
    }
}

fn domain_fits(project: &Named, client: &Client) -> bool {
    // a project named by id needs no domain
    project.id.is_some() || project.domain.as_ref().is_none_or(|d| d.is(&client.domain))
}

fn domain_of(client: &Client) -> Value {
    let name = if client.domain == "default" { "Default".to_owned() } else { client.domain.clone() };
    json!({"id": client.domain, "name": name})
}

/// The catalog: compute points back at this gateway's OpenStack edge.
fn catalog(origin: &str, region: &str, project: &str) -> Value {
    let endpoints = |url: String| -> Vec<Value> {
        ["public", "internal", "admin"]
            .iter()
            .map(|interface| {
                json!({"id": format!("{interface}-{}", uuid::Uuid::new_v4().simple()), "interface": interface,
                       "region": region, "region_id": region, "url": url})
            })
            .collect()
    };
    json!([
        {"endpoints": endpoints(format!("{origin}/v2.1/{project}")), "type": "compute", "id": "compute", "name": "nova"},
        {"endpoints": endpoints(format!("{origin}/v3")), "type": "identity", "id": "identity", "name": "keystone"}
    ])
}
/// Keystone's token times: UTC with exactly six fractional digits
/// (`2015-11-07T02:58:43.578887Z`).
const KEYSTONE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

fn keystone_time(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(KEYSTONE_TIME).unwrap_or_default()
}
