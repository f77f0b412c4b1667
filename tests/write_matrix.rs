//! The write matrix: for every edge dialect that writes (OpenStack, GoGrid,
//! Foreman) and every upstream dialect, each write the edge offers goes to a
//! gateway whose upstream is a fake server replaying recorded bodies. Each
//! case checks the exact requests the upstream received (method, path and
//! query, body, credentials) and the edge's reply, derived from the recorded
//! reply. A write the upstream cannot express reaches it as no write at all
//! and is answered with the edge's own 501. Hostway's edge refuses writes
//! with 405. A failing upstream write is sent once and its error answered in
//! the edge's dialect.
//!
//! The recorded replies. OpenStack: Nova's api samples; `createImage` is
//! answered as Nova answers it without a microversion (202, no body, a
//! `Location` naming the new image in Glance, with the v2.45 sample's id)
//! and, behind a proxy pinned at 2.45, with the v2.45 sample body. GoGrid:
//! the seed's get, libcloud's save reply (libcloud's tests answer `edit` with
//! it too) and the wiki's restore sample (image 195 in state 4 Trash, as
//! recorded). No GoGrid `delete` reply is recorded: the restore sample
//! answers it, Trash being where GoGrid's delete leaves an image, and the get
//! a delete sends first. Foreman: the Foreman API document's create, update and delete
//! replies and its error bodies. Hostway: the documented image.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::common::dialects::shown;
use crate::common::{Got, TestGateway, UPSTREAM_BASIC, fixture, send, upstream_basic};
use bytes::Bytes;
use dragoman::config::{Config, CredentialsConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use dragoman::model::ImageStatus;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A write as a client asks for it, whatever the edge's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Save server `srv-1` as image `foo-image`.
    Snapshot,
    /// The same with Nova's recorded request, which sets a metadata item.
    SnapshotWithMetadata,
    /// The same with the description `nightly backup`.
    SnapshotWithDescription,
    /// Register Foreman's recorded template (the Foreman API document create request).
    Register,
    /// Rename an image to `renamed`.
    Rename,
    /// Set an image's description to `nightly backup` and make it public.
    DescribeAndPublish,
    /// Set the login of a Foreman template to `admin`.
    ChangeLogin,
    /// Foreman's recorded update, `{"image": {}}`: changes nothing.
    EmptyUpdate,
    /// Delete an image.
    Delete,
    /// Bring an image back from the trash.
    Restore,
    /// Nova's recorded metadata merge (POST).
    MergeMetadata,
    /// Nova's recorded metadata replacement (PUT).
    ReplaceMetadata,
    /// Nova's recorded set of `auto_disk_config`.
    SetMetadataItem,
    /// Remove the metadata item `kernel_id`.
    DeleteMetadataItem,
}

// ---------------------------------------------------------------------------
// The fake upstream

/// A recorded reply and the requests it answers: a method and a path, and
/// for GoGrid the `id` parameter.
#[derive(Clone)]
struct Recorded {
    method: Method,
    path: String,
    id: Option<&'static str>,
    status: u16,
    location: Option<String>,
    body: String,
}

impl Recorded {
    fn answers(&self, method: &Method, target: &str) -> bool {
        *method == self.method && path(target) == self.path && self.id.is_none_or(|id| param(target, "id") == Some(id))
    }

    fn response(&self) -> Response<Full<Bytes>> {
        let mut response =
            Response::builder().status(self.status).header("content-type", "application/json; charset=UTF-8");
        if let Some(location) = &self.location {
            response = response.header("location", location);
        }
        response.body(Full::new(Bytes::from(self.body.clone()))).unwrap()
    }
}

fn replay(method: Method, path: &str, status: u16, body: String) -> Recorded {
    Recorded { method, path: path.to_owned(), id: None, status, location: None, body }
}

/// A recorded GoGrid reply to `method` called with `id=<id>`, or with any id.
fn replay_gogrid(method: &str, id: Option<&'static str>, status: u16, body: String) -> Recorded {
    Recorded { id, ..replay(Method::GET, &format!("/api/grid/image/{method}"), status, body) }
}

/// One request the fake upstream received, body included.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Bytes,
}

/// An HTTP server on 127.0.0.1:0 that answers with the first recorded reply
/// that answers a request (a 404 text otherwise) and keeps every request
/// with its body; it stops when dropped. Unlike `common::FakeUpstream`, it
/// keeps request bodies and can answer with a `Location`.
struct RecordingUpstream {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    server: tokio::task::JoinHandle<()>,
}

impl RecordingUpstream {
    async fn start(replies: Vec<Recorded>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let replies = Arc::new(replies);
        let log = received.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (replies, log) = (replies.clone(), log.clone());
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let (replies, log) = (replies.clone(), log.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let target = parts.uri.path_and_query().map(ToString::to_string).unwrap_or_default();
                        let response = match replies.iter().find(|r| r.answers(&parts.method, &target)) {
                            Some(recorded) => recorded.response(),
                            None => Response::builder()
                                .status(404)
                                .body(Full::new(Bytes::from("no recorded reply")))
                                .unwrap(),
                        };
                        log.lock().unwrap().push(Received {
                            method: parts.method,
                            target,
                            headers: parts.headers,
                            body,
                        });
                        Ok::<_, hyper::Error>(response)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, received, server }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for RecordingUpstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn path(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}

fn param<'t>(target: &'t str, key: &str) -> Option<&'t str> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

// ---------------------------------------------------------------------------
// Upstreams

/// A request the gateway must send upstream.
#[derive(Debug)]
struct Expected {
    method: Method,
    /// Path and query; a GoGrid signature is written `sig=SIG`.
    target: String,
    body: Option<Value>,
}

fn read(target: impl Into<String>) -> Expected {
    Expected { method: Method::GET, target: target.into(), body: None }
}

fn write(method: Method, target: impl Into<String>, body: Option<Value>) -> Expected {
    Expected { method, target: target.into(), body }
}

/// What the upstream's reply says was written.
#[derive(Debug)]
enum Written {
    /// One image, its state in canonical terms.
    Image { id: &'static str, name: &'static str, status: ImageStatus },
    /// All the image's metadata or the one item set: the recorded reply, as
    /// the fixture under `tests/fixtures/` holds it.
    Metadata(&'static str),
    /// Nothing but success.
    Nothing,
}

/// How an upstream carries out one write.
struct Exchange {
    /// The image the edge's request names: one the recorded replies describe.
    image: &'static str,
    /// Every request the upstream receives, in order.
    sent: Vec<Expected>,
    /// What was written; `None` when the upstream cannot express the write.
    written: Option<Written>,
    /// The recorded reply an edge of the upstream's own dialect answers with unchanged.
    echoed: Option<&'static str>,
}

fn refused(image: &'static str, reads: Vec<Expected>) -> Exchange {
    Exchange { image, sent: reads, written: None, echoed: None }
}

/// A fake upstream of one dialect, its recorded replies, and how it
/// carries out each write.
struct Upstream {
    dialect: Dialect,
    scope: &'static str,
    credentials: CredentialsConfig,
    /// The header carrying the credentials on every request; GoGrid's are in the query.
    auth: Option<(&'static str, &'static str)>,
    replies: Vec<Recorded>,
    exchange: fn(Write) -> Exchange,
}

fn hostway() -> Upstream {
    Upstream {
        dialect: Dialect::Hostway,
        scope: "acct-7",
        credentials: upstream_basic(),
        auth: Some(("authorization", UPSTREAM_BASIC)),
        replies: vec![replay(
            Method::GET,
            "/accounts/acct-7/flexcloud/images/133",
            200,
            fixture("hostway/docs_Image_get_example.json"),
        )],
        // refused before anything is sent, the read a delete makes first included
        exchange: |_| refused("133", vec![]),
    }
}

const NOVA_IMAGE: &str = "70a599e0-31e7-49b7-b260-868f441e862b";
const NOVA_SAVED: &str = "0e7761dd-ee98-41f0-ba35-05994e446431";
const NOVA_IMAGES: &str = "/v2.1/proj-7/images";

/// How a Nova upstream names the image `createImage` saved.
#[derive(Debug, Clone, Copy)]
enum SavedImageNamed {
    /// Nova without a microversion: `Location`, no body.
    InLocation,
    /// Behind a proxy pinned at 2.45: `{"image_id"}`.
    InV245Body,
}

fn openstack(saved: SavedImageNamed) -> Upstream {
    let image = format!("{NOVA_IMAGES}/{NOVA_IMAGE}");
    let create_image = match saved {
        SavedImageNamed::InLocation => Recorded {
            location: Some(format!("http://glance.openstack.example.com/images/{NOVA_SAVED}")),
            ..replay(Method::POST, "/v2.1/proj-7/servers/srv-1/action", 202, String::new())
        },
        SavedImageNamed::InV245Body => replay(
            Method::POST,
            "/v2.1/proj-7/servers/srv-1/action",
            202,
            fixture("openstack/v2.45-server-action-create-image-resp.json"),
        ),
    };
    Upstream {
        dialect: Dialect::OpenStack,
        scope: "proj-7",
        credentials: CredentialsConfig { token: Some("tok-123".into()), ..Default::default() },
        auth: Some(("x-auth-token", "tok-123")),
        replies: vec![
            replay(Method::GET, &image, 200, fixture("openstack/image-get-resp.json")),
            replay(Method::DELETE, &image, 204, String::new()),
            create_image,
            replay(Method::POST, &format!("{image}/metadata"), 200, fixture("openstack/image-metadata-post-resp.json")),
            replay(Method::PUT, &format!("{image}/metadata"), 200, fixture("openstack/image-metadata-put-resp.json")),
            replay(
                Method::PUT,
                &format!("{image}/metadata/auto_disk_config"),
                200,
                fixture("openstack/image-meta-key-put-resp.json"),
            ),
            replay(Method::DELETE, &format!("{image}/metadata/kernel_id"), 204, String::new()),
        ],
        exchange: openstack_exchange,
    }
}

fn openstack_exchange(op: Write) -> Exchange {
    let image = format!("{NOVA_IMAGES}/{NOVA_IMAGE}");
    let create_image = |body: Value| Exchange {
        image: NOVA_IMAGE,
        sent: vec![write(Method::POST, "/v2.1/proj-7/servers/srv-1/action", Some(body))],
        written: Some(Written::Image { id: NOVA_SAVED, name: "foo-image", status: ImageStatus::Saving }),
        echoed: None,
    };
    let metadata = |method: Method, target: String, request: &str, reply: &'static str| Exchange {
        image: NOVA_IMAGE,
        sent: vec![write(method, target, Some(json_fixture(request)))],
        written: Some(Written::Metadata(reply)),
        echoed: Some(reply),
    };
    match op {
        Write::Snapshot => create_image(json!({"createImage": {"name": "foo-image", "metadata": {}}})),
        Write::SnapshotWithMetadata => create_image(json_fixture("openstack/server-action-create-image.json")),
        Write::SnapshotWithDescription => {
            create_image(json!({"createImage": {"name": "foo-image", "metadata": {"description": "nightly backup"}}}))
        }
        Write::Delete => Exchange {
            image: NOVA_IMAGE,
            sent: vec![read(&image), write(Method::DELETE, &image, None)],
            written: Some(Written::Image { id: NOVA_IMAGE, name: "fakeimage7", status: ImageStatus::Deleted }),
            echoed: None,
        },
        Write::MergeMetadata => metadata(
            Method::POST,
            format!("{image}/metadata"),
            "openstack/image-metadata-post-req.json",
            "openstack/image-metadata-post-resp.json",
        ),
        Write::ReplaceMetadata => metadata(
            Method::PUT,
            format!("{image}/metadata"),
            "openstack/image-metadata-put-req.json",
            "openstack/image-metadata-put-resp.json",
        ),
        Write::SetMetadataItem => metadata(
            Method::PUT,
            format!("{image}/metadata/auto_disk_config"),
            "openstack/image-meta-key-put-req.json",
            "openstack/image-meta-key-put-resp.json",
        ),
        Write::DeleteMetadataItem => Exchange {
            image: NOVA_IMAGE,
            sent: vec![write(Method::DELETE, format!("{image}/metadata/kernel_id"), None)],
            written: Some(Written::Nothing),
            echoed: None,
        },
        // an update without a field to change is no write: the image is read
        Write::EmptyUpdate => Exchange {
            image: NOVA_IMAGE,
            sent: vec![read(image.clone())],
            written: Some(Written::Image { id: NOVA_IMAGE, name: "fakeimage7", status: ImageStatus::Active }),
            echoed: None,
        },
        // Nova cannot register a template, rename, describe or restore
        Write::Register | Write::Rename | Write::DescribeAndPublish | Write::ChangeLogin | Write::Restore => {
            refused(NOVA_IMAGE, vec![])
        }
    }
}

/// GoGrid's credentials and version in the query, the signature masked.
const GOGRID_AUTH: &str = "api_key=key-1&sig=SIG&v=1.9&format=json";

fn gogrid() -> Upstream {
    let restore = || fixture("gogrid/wiki_grid.image.restore.json");
    let save = || fixture("gogrid/libcloud_image_save.json");
    Upstream {
        dialect: Dialect::GoGrid,
        scope: "",
        credentials: CredentialsConfig {
            api_key: Some("key-1".into()),
            secret: Some("sec".into()),
            ..Default::default()
        },
        auth: None,
        replies: vec![
            replay_gogrid("get", Some("250"), 200, fixture("gogrid/seed_image_get.json")),
            replay_gogrid("get", Some("195"), 200, restore()),
            replay_gogrid("save", None, 200, save()),
            replay_gogrid("edit", Some("5050"), 200, save()),
            replay_gogrid("delete", Some("195"), 200, restore()),
            replay_gogrid("restore", Some("195"), 200, restore()),
        ],
        exchange: gogrid_exchange,
    }
}

fn gogrid_exchange(op: Write) -> Exchange {
    let call = |method: &str, params: &str| read(format!("/api/grid/image/{method}?{GOGRID_AUTH}&{params}"));
    let saving = || Some(Written::Image { id: "5050", name: "testimage", status: ImageStatus::Saving });
    let trashed = || Some(Written::Image { id: "195", name: "iis-saved", status: ImageStatus::Trashed });
    let save = |params: &str| Exchange {
        image: "5050",
        sent: vec![call("save", params)],
        written: saving(),
        echoed: Some("gogrid/libcloud_image_save.json"),
    };
    match op {
        Write::Snapshot => save("friendlyName=foo-image&server=srv-1"),
        Write::SnapshotWithDescription => save("friendlyName=foo-image&server=srv-1&description=nightly+backup"),
        // libcloud's tests answer edit with the save reply
        Write::Rename => Exchange {
            image: "5050",
            sent: vec![call("edit", "id=5050&friendlyName=renamed")],
            written: saving(),
            echoed: None,
        },
        Write::DescribeAndPublish => Exchange {
            image: "5050",
            sent: vec![call("edit", "id=5050&description=nightly+backup&isPublic=true")],
            written: saving(),
            echoed: None,
        },
        // an edit without a field to change is no edit: the image is read
        Write::EmptyUpdate => Exchange {
            image: "250",
            sent: vec![call("get", "id=250")],
            written: Some(Written::Image { id: "250", name: "n", status: ImageStatus::Active }),
            echoed: None,
        },
        Write::Delete => Exchange {
            image: "195",
            sent: vec![call("get", "id=195"), call("delete", "id=195")],
            written: trashed(),
            echoed: None,
        },
        Write::Restore => Exchange {
            image: "195",
            sent: vec![call("restore", "id=195")],
            written: trashed(),
            echoed: Some("gogrid/wiki_grid.image.restore.json"),
        },
        // GoGrid keeps no metadata and no Foreman login, and registers nothing
        Write::SnapshotWithMetadata
        | Write::ChangeLogin
        | Write::Register
        | Write::MergeMetadata
        | Write::ReplaceMetadata
        | Write::SetMetadataItem
        | Write::DeleteMetadataItem => refused("250", vec![]),
    }
}

const FOREMAN_IMAGES: &str = "/api/v2/compute_resources/7/images";

fn foreman() -> Upstream {
    let image = format!("{FOREMAN_IMAGES}/980190962");
    Upstream {
        dialect: Dialect::Foreman,
        scope: "7",
        credentials: upstream_basic(),
        auth: Some(("authorization", UPSTREAM_BASIC)),
        replies: vec![
            replay(Method::GET, &image, 200, fixture("foreman/seed_image_show.json")),
            replay(Method::POST, FOREMAN_IMAGES, 201, fixture("foreman/seed_create_201.json")),
            replay(Method::PUT, &image, 200, fixture("foreman/seed_update_200.json")),
            replay(Method::DELETE, &image, 200, fixture("foreman/seed_delete_200.json")),
        ],
        exchange: foreman_exchange,
    }
}

fn foreman_exchange(op: Write) -> Exchange {
    let image = format!("{FOREMAN_IMAGES}/980190962");
    let centos = || Some(Written::Image { id: "980190962", name: "centos-1", status: ImageStatus::Active });
    let update = |body: Value| Exchange {
        image: "980190962",
        sent: vec![write(Method::PUT, &image, Some(body))],
        written: centos(),
        echoed: Some("foreman/seed_update_200.json"),
    };
    match op {
        // what Foreman permits, but no password and no compute resource: the path names it
        Write::Register => Exchange {
            image: "980190962",
            sent: vec![write(
                Method::POST,
                FOREMAN_IMAGES,
                Some(json!({"image": {
                    "name": "TestImage", "username": "ec2-user", "uuid": "abcdef",
                    "architecture_id": 331892513, "operatingsystem_id": 309172073, "user_data": true
                }})),
            )],
            written: Some(Written::Image { id: "980190963", name: "TestImage", status: ImageStatus::Active }),
            echoed: Some("foreman/seed_create_201.json"),
        },
        Write::Rename => update(json!({"image": {"name": "renamed"}})),
        Write::ChangeLogin => update(json!({"image": {"username": "admin"}})),
        Write::EmptyUpdate => update(json_fixture("foreman/seed_update_request.json")),
        Write::Delete => Exchange {
            image: "980190962",
            sent: vec![read(&image), write(Method::DELETE, &image, None)],
            written: Some(Written::Image { id: "980190962", name: "centos-1", status: ImageStatus::Deleted }),
            echoed: Some("foreman/seed_delete_200.json"),
        },
        // Foreman saves nothing from a server, keeps no description, visibility or metadata, has no trash
        Write::Snapshot
        | Write::SnapshotWithMetadata
        | Write::SnapshotWithDescription
        | Write::DescribeAndPublish
        | Write::Restore
        | Write::MergeMetadata
        | Write::ReplaceMetadata
        | Write::SetMetadataItem
        | Write::DeleteMetadataItem => refused("980190962", vec![]),
    }
}

fn json_fixture(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------
// Edges

/// A request at the edge, as the demo client sends it.
struct EdgeRequest {
    method: Method,
    path: String,
    headers: &'static [(&'static str, &'static str)],
    body: String,
}

const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

fn request(method: Method, path: String, headers: &'static [(&'static str, &'static str)], body: &str) -> EdgeRequest {
    EdgeRequest { method, path, headers, body: body.to_owned() }
}

/// One write as a client of an edge words it, and how the edge answers it.
struct EdgeWrite {
    write: Write,
    /// The edge's name for it.
    label: &'static str,
    /// The request naming image `id`.
    request: fn(&str) -> EdgeRequest,
    /// Checks the reply to a write the upstream carried out.
    reply: fn(&Got, &Written, &TestGateway, &str),
}

struct Edge {
    dialect: Dialect,
    writes: Vec<EdgeWrite>,
}

/// The edges that write.
fn edges() -> [Edge; 3] {
    [openstack_edge(), gogrid_edge(), foreman_edge()]
}

fn openstack_edge() -> Edge {
    let row = |write, label, request, reply| EdgeWrite { write, label, request, reply };
    Edge {
        dialect: Dialect::OpenStack,
        writes: vec![
            row(
                Write::Snapshot,
                "createImage",
                |_| {
                    let body = r#"{"createImage": {"name": "foo-image"}}"#;
                    request(Method::POST, "/v2/demo/servers/srv-1/action".into(), JSON, body)
                },
                saved_at_location,
            ),
            row(
                Write::Snapshot,
                "createImage at 2.45",
                |_| {
                    let headers = &[("content-type", "application/json"), ("openstack-api-version", "compute 2.45")];
                    let body = r#"{"createImage": {"name": "foo-image"}}"#;
                    request(Method::POST, "/v2/demo/servers/srv-1/action".into(), headers, body)
                },
                |got, written, _, what| {
                    let Written::Image { id, .. } = written else { panic!("{what}: {written:?}") };
                    assert_eq!(got.status, 202, "{what}: {}", got.text());
                    assert!(got.headers.get("location").is_none(), "{what}: {:?}", got.headers);
                    assert_eq!(got.json(), json!({"image_id": id}), "{what}");
                },
            ),
            row(
                Write::SnapshotWithMetadata,
                "createImage with metadata",
                |_| {
                    let body = fixture("openstack/server-action-create-image.json");
                    request(Method::POST, "/v2/demo/servers/srv-1/action".into(), JSON, &body)
                },
                saved_at_location,
            ),
            row(
                Write::Delete,
                "delete",
                |id| request(Method::DELETE, format!("/v2/demo/images/{id}"), &[], ""),
                no_content,
            ),
            row(
                Write::MergeMetadata,
                "POST metadata",
                |id| {
                    let body = fixture("openstack/image-metadata-post-req.json");
                    request(Method::POST, format!("/v2/demo/images/{id}/metadata"), JSON, &body)
                },
                metadata_replied,
            ),
            row(
                Write::ReplaceMetadata,
                "PUT metadata",
                |id| {
                    let body = fixture("openstack/image-metadata-put-req.json");
                    request(Method::PUT, format!("/v2/demo/images/{id}/metadata"), JSON, &body)
                },
                metadata_replied,
            ),
            row(
                Write::SetMetadataItem,
                "PUT metadata item",
                |id| {
                    let body = fixture("openstack/image-meta-key-put-req.json");
                    request(Method::PUT, format!("/v2/demo/images/{id}/metadata/auto_disk_config"), JSON, &body)
                },
                metadata_replied,
            ),
            row(
                Write::DeleteMetadataItem,
                "DELETE metadata item",
                |id| request(Method::DELETE, format!("/v2/demo/images/{id}/metadata/kernel_id"), &[], ""),
                no_content,
            ),
        ],
    }
}

/// `createImage` without a microversion: 202, no body, `Location` naming the new image here.
fn saved_at_location(got: &Got, written: &Written, gw: &TestGateway, what: &str) {
    let Written::Image { id, .. } = written else { panic!("{what}: {written:?}") };
    assert_eq!(got.status, 202, "{what}: {}", got.text());
    assert_eq!(got.headers["location"], gw.url(&format!("/v2/demo/images/{id}")), "{what}");
    assert!(got.body.is_empty(), "{what}: {}", got.text());
}

fn no_content(got: &Got, _: &Written, _: &TestGateway, what: &str) {
    assert_eq!(got.status, 204, "{what}: {}", got.text());
    assert!(got.body.is_empty(), "{what}: {}", got.text());
}

/// Nova's metadata replies are the upstream's, unchanged.
fn metadata_replied(got: &Got, written: &Written, _: &TestGateway, what: &str) {
    let Written::Metadata(recorded) = written else { panic!("{what}: {written:?}") };
    assert_eq!(got.status, 200, "{what}: {}", got.text());
    assert_eq!(got.json(), json_fixture(recorded), "{what}");
}

const GOGRID_EDGE_AUTH: &str = "api_key=demo&v=1.3&sig=0&format=json";

fn gogrid_edge() -> Edge {
    let row = |write, label, request| EdgeWrite { write, label, request, reply: gogrid_image_replied };
    Edge {
        dialect: Dialect::GoGrid,
        writes: vec![
            row(Write::Snapshot, "save", |_| gogrid_call("save", "friendlyName=foo-image&server=srv-1")),
            row(Write::SnapshotWithDescription, "save with a description", |_| {
                gogrid_call("save", "friendlyName=foo-image&server=srv-1&description=nightly+backup")
            }),
            row(Write::Rename, "edit friendlyName", |id| gogrid_call("edit", &format!("id={id}&friendlyName=renamed"))),
            row(Write::DescribeAndPublish, "edit description and isPublic", |id| {
                gogrid_call("edit", &format!("id={id}&description=nightly+backup&isPublic=true"))
            }),
            row(Write::Delete, "delete", |id| gogrid_call("delete", &format!("id={id}"))),
            row(Write::Restore, "restore", |id| gogrid_call("restore", &format!("id={id}"))),
        ],
    }
}

fn gogrid_call(method: &str, params: &str) -> EdgeRequest {
    request(Method::GET, format!("/api/grid/image/{method}?{params}&{GOGRID_EDGE_AUTH}"), &[], "")
}

/// GoGrid's success envelope around the one image written, its state in GoGrid's words.
fn gogrid_image_replied(got: &Got, written: &Written, _: &TestGateway, what: &str) {
    let Written::Image { id, name, status } = written else { panic!("{what}: {written:?}") };
    assert_eq!(got.status, 200, "{what}: {}", got.text());
    let body = got.json();
    assert_eq!(body["status"], "success", "{what}: {body}");
    let id = dragoman::dialect::ids::integer_id(id).to_string();
    assert_eq!(shown(Dialect::GoGrid, &body), (id, name.to_string()), "{what}");
    let state = match status {
        ImageStatus::Saving => "Saving",
        ImageStatus::Active => "Available",
        ImageStatus::Trashed => "Trash",
        ImageStatus::Deleted => "Deleted",
        other => panic!("{what}: no GoGrid state for {other:?}"),
    };
    assert_eq!(body["list"][0]["state"]["name"], state, "{what}: {body}");
}

const FOREMAN_EDGE_IMAGES: &str = "/api/compute_resources/980190962/images";

fn foreman_edge() -> Edge {
    let row = |write, label, request, reply| EdgeWrite { write, label, request, reply };
    Edge {
        dialect: Dialect::Foreman,
        writes: vec![
            row(
                Write::Register,
                "create",
                |_| {
                    let body = fixture("foreman/seed_create_request.json");
                    request(Method::POST, FOREMAN_EDGE_IMAGES.into(), JSON, &body)
                },
                foreman_created,
            ),
            row(
                Write::Rename,
                "update name",
                |id| foreman_update(id, r#"{"image": {"name": "renamed"}}"#),
                foreman_updated,
            ),
            row(
                Write::ChangeLogin,
                "update username",
                |id| foreman_update(id, r#"{"image": {"username": "admin"}}"#),
                foreman_updated,
            ),
            row(
                Write::EmptyUpdate,
                "update nothing",
                |id| foreman_update(id, &fixture("foreman/seed_update_request.json")),
                foreman_updated,
            ),
            row(
                Write::Delete,
                "destroy",
                |id| request(Method::DELETE, format!("{FOREMAN_EDGE_IMAGES}/{id}"), &[], ""),
                foreman_destroyed,
            ),
        ],
    }
}

fn foreman_update(id: &str, body: &str) -> EdgeRequest {
    request(Method::PUT, format!("{FOREMAN_EDGE_IMAGES}/{id}"), JSON, body)
}

/// The `main` view of the image written, 201 for a create.
fn foreman_created(got: &Got, written: &Written, _: &TestGateway, what: &str) {
    assert_eq!(got.status, 201, "{what}: {}", got.text());
    assert_foreman_image(got, written, what);
}

fn foreman_updated(got: &Got, written: &Written, _: &TestGateway, what: &str) {
    assert_eq!(got.status, 200, "{what}: {}", got.text());
    assert_foreman_image(got, written, what);
}

/// The raw record of the image deleted, its password null.
fn foreman_destroyed(got: &Got, written: &Written, _: &TestGateway, what: &str) {
    assert_eq!(got.status, 200, "{what}: {}", got.text());
    assert_foreman_image(got, written, what);
    assert_eq!(got.json()["password"], Value::Null, "{what}");
}

fn assert_foreman_image(got: &Got, written: &Written, what: &str) {
    let Written::Image { id, name, .. } = written else { panic!("{what}: {written:?}") };
    let id = dragoman::dialect::ids::integer_id(id).to_string();
    assert_eq!(shown(Dialect::Foreman, &got.json()), (id, name.to_string()), "{what}");
}

// ---------------------------------------------------------------------------
// The matrix

/// A gateway whose every edge goes to `fake`, which plays `up`.
async fn gateway_in_front_of(up: &Upstream, fake: &RecordingUpstream) -> TestGateway {
    let mut upstream = UpstreamConfig::new("fake", up.dialect, &fake.url());
    upstream.scope = up.scope.into();
    upstream.credentials = up.credentials.clone();
    let mut config = Config::default();
    config.upstreams.push(upstream);
    config.server.default_backend = "fake".into();
    TestGateway::start(config).await
}

/// Sends `request` and returns the reply with the requests `fake` received meanwhile.
async fn exchange_with(gw: &TestGateway, fake: &RecordingUpstream, request: EdgeRequest) -> (Got, Vec<Received>) {
    let before = fake.received().len();
    let got = send(request.method, &gw.url(&request.path), request.headers, &request.body).await;
    (got, fake.received()[before..].to_vec())
}

/// `target` with a GoGrid signature, once checked to be 32 hex digits, written `sig=SIG`.
fn masked(target: &str) -> String {
    match param(target, "sig") {
        Some(sig) => {
            assert!(sig.len() == 32 && sig.bytes().all(|b| b.is_ascii_hexdigit()), "sig {sig:?} in {target}");
            target.replacen(&format!("sig={sig}"), "sig=SIG", 1)
        }
        None => target.to_owned(),
    }
}

/// Asserts the upstream received exactly `expected`, with its credentials on each request.
fn assert_received(up: &Upstream, received: &[Received], expected: &[Expected], what: &str) {
    let targets: Vec<String> = received.iter().map(|r| format!("{} {}", r.method, r.target)).collect();
    assert_eq!(received.len(), expected.len(), "{what}: received {targets:#?}, expected {expected:#?}");
    for (got, want) in received.iter().zip(expected) {
        assert_eq!((&got.method, masked(&got.target)), (&want.method, want.target.clone()), "{what}");
        if let Some((name, value)) = up.auth {
            assert_eq!(got.headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{what}: {name}");
        }
        match &want.body {
            Some(body) => {
                assert_eq!(got.headers["content-type"], "application/json", "{what}");
                let sent: Value = serde_json::from_slice(&got.body).expect("a JSON body");
                assert_eq!(&sent, body, "{what}: body");
            }
            None => assert!(got.body.is_empty(), "{what}: {:?}", got.body),
        }
    }
}

/// Asserts `got` is `edge`'s not-implemented form, naming `backend`.
fn assert_not_implemented(edge: Dialect, got: &Got, backend: Dialect, what: &str) {
    assert_eq!(got.status, 501, "{what}: {}", got.text());
    let body = got.json();
    let message = match edge {
        Dialect::OpenStack => {
            assert_eq!(body["notImplemented"]["code"], 501, "{what}: {body}");
            &body["notImplemented"]["message"]
        }
        Dialect::GoGrid => {
            assert_eq!(body["status"], "failure", "{what}: {body}");
            assert_eq!(body["list"][0]["errorcode"], "NotImplemented", "{what}: {body}");
            &body["list"][0]["message"]
        }
        Dialect::Foreman => &body["error"]["message"],
        Dialect::Hostway => panic!("{what}: Hostway's edge does not write"),
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => panic!("{what}: the fifth edge does not write"),
    };
    let message = message.as_str().unwrap_or_else(|| panic!("{what}: no message in {body}"));
    assert!(message.ends_with(&format!(" is not supported by the {} backend", backend.name())), "{what}: {message}");
}

async fn run_matrix(up: Upstream) {
    let fake = RecordingUpstream::start(up.replies.clone()).await;
    let gw = gateway_in_front_of(&up, &fake).await;
    for edge in edges() {
        for row in &edge.writes {
            let what = format!("{} {} -> {}", edge.dialect, row.label, up.dialect);
            let exchange = (up.exchange)(row.write);
            let (got, received) = exchange_with(&gw, &fake, (row.request)(exchange.image)).await;
            assert_received(&up, &received, &exchange.sent, &what);
            match &exchange.written {
                Some(written) => (row.reply)(&got, written, &gw, &what),
                None => assert_not_implemented(edge.dialect, &got, up.dialect, &what),
            }
            if let Some(recorded) = exchange.echoed.filter(|_| edge.dialect == up.dialect) {
                assert_eq!(got.json(), json_fixture(recorded), "{what}: the recorded reply, unchanged");
            }
        }
    }

    // Hostway's edge writes nothing, whatever the upstream
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let what = format!("hostway {method} -> {}", up.dialect);
        let edge_request = request(method, "/accounts/demo/flexcloud/images/133".into(), JSON, "{}");
        let (got, received) = exchange_with(&gw, &fake, edge_request).await;
        assert_eq!(got.status, 405, "{what}: {}", got.text());
        assert_eq!(got.json()["badMethod"]["code"], 405, "{what}");
        assert!(received.is_empty(), "{what}: {received:?}");
    }
}

#[tokio::test]
async fn every_write_in_front_of_hostway() {
    run_matrix(hostway()).await;
}

#[tokio::test]
async fn every_write_in_front_of_openstack() {
    run_matrix(openstack(SavedImageNamed::InLocation)).await;
}

#[tokio::test]
async fn every_write_in_front_of_openstack_pinned_at_2_45() {
    run_matrix(openstack(SavedImageNamed::InV245Body)).await;
}

#[tokio::test]
async fn every_write_in_front_of_gogrid() {
    run_matrix(gogrid()).await;
}

#[tokio::test]
async fn every_write_in_front_of_foreman() {
    run_matrix(foreman()).await;
}

/// A write of the matrix that the upstream refuses with a recorded error.
struct Failure {
    edge: Dialect,
    /// The edge's label for the write.
    label: &'static str,
    upstream: Upstream,
    /// The recorded error; it answers before the upstream's other replies.
    error: Recorded,
    /// How many of the write's upstream requests go out before the error ends it.
    sent: usize,
    status: u16,
    body: Value,
}

/// GoGrid's failure envelope for `method`, its one error.
fn gogrid_failure(method: &str, errorcode: &str, message: &str) -> Value {
    json!({
        "list": [{"object": "error", "message": message, "errorcode": errorcode}],
        "summary": {"total": 1, "start": 0, "returned": 1},
        "status": "failure",
        "method": format!("/grid/image/{method}"),
    })
}

fn failures() -> Vec<Failure> {
    let nova_not_found = || fixture("openstack/libcloud__os_keypairs_not_found.json");
    let foreman_image = format!("{FOREMAN_IMAGES}/980190962");
    let nova_image = format!("{NOVA_IMAGES}/{NOVA_IMAGE}");
    vec![
        // Foreman's 422 is repeated as it is to a Foreman client
        Failure {
            edge: Dialect::Foreman,
            label: "create",
            upstream: foreman(),
            error: replay(Method::POST, FOREMAN_IMAGES, 422, fixture("foreman/errors/error_422_validation.json")),
            sent: 1,
            status: 422,
            body: json_fixture("foreman/errors/error_422_validation.json"),
        },
        // and becomes GoGrid's own refusal
        Failure {
            edge: Dialect::GoGrid,
            label: "edit friendlyName",
            upstream: foreman(),
            error: replay(Method::PUT, &foreman_image, 422, fixture("foreman/errors/error_422_validation.json")),
            sent: 1,
            status: 400,
            body: gogrid_failure("edit", "IllegalArgumentException", "Name can't be blank; Uuid can't be blank"),
        },
        Failure {
            edge: Dialect::Foreman,
            label: "update name",
            upstream: foreman(),
            error: replay(Method::PUT, &foreman_image, 404, fixture("foreman/errors/error_404_not_found.json")),
            sent: 1,
            status: 404,
            body: json_fixture("foreman/errors/error_404_not_found.json"),
        },
        // the image read, its delete refused: Nova's not-found for the image
        Failure {
            edge: Dialect::OpenStack,
            label: "delete",
            upstream: foreman(),
            error: replay(Method::DELETE, &foreman_image, 404, fixture("foreman/errors/error_404_not_found.json")),
            sent: 2,
            status: 404,
            body: json!({"itemNotFound": {"code": 404, "message": "Image not found."}}),
        },
        // a 404 to createImage is the server's
        Failure {
            edge: Dialect::OpenStack,
            label: "createImage",
            upstream: openstack(SavedImageNamed::InLocation),
            error: replay(Method::POST, "/v2.1/proj-7/servers/srv-1/action", 404, nova_not_found()),
            sent: 1,
            status: 404,
            body: json!({"itemNotFound": {"code": 404, "message": "Instance srv-1 could not be found."}}),
        },
        Failure {
            edge: Dialect::GoGrid,
            label: "save",
            upstream: openstack(SavedImageNamed::InLocation),
            error: replay(Method::POST, "/v2.1/proj-7/servers/srv-1/action", 404, nova_not_found()),
            sent: 1,
            status: 400,
            body: gogrid_failure(
                "save",
                "IllegalArgumentException",
                "No object found that matches your input criteria.",
            ),
        },
        // Nova's 404 to a metadata item's delete, not naming the image, is the item's
        Failure {
            edge: Dialect::OpenStack,
            label: "DELETE metadata item",
            upstream: openstack(SavedImageNamed::InLocation),
            error: replay(Method::DELETE, &format!("{nova_image}/metadata/kernel_id"), 404, nova_not_found()),
            sent: 1,
            status: 404,
            body: json!({"itemNotFound": {"code": 404, "message": "Invalid metadata key"}}),
        },
        // GoGrid's own failure is one a retry may mend, and still the write is not retried
        Failure {
            edge: Dialect::GoGrid,
            label: "save",
            upstream: gogrid(),
            error: replay_gogrid("save", None, 500, fixture("gogrid/libcloud_lb_unexpected_error.json")),
            sent: 1,
            status: 503,
            body: gogrid_failure("save", "ServiceUnavailable", "the service is temporarily unavailable"),
        },
        // an image the upstream does not have is never deleted: only the read goes out
        Failure {
            edge: Dialect::Foreman,
            label: "destroy",
            upstream: gogrid(),
            error: replay_gogrid("get", Some("195"), 400, fixture("gogrid/jclouds_test_error_handler.json")),
            sent: 1,
            status: 404,
            body: json!({"error": {"message": "Resource image not found by id '195'"}}),
        },
    ]
}

#[tokio::test]
async fn failed_writes_are_sent_once_and_answered_in_the_edge_dialect() {
    for failure in failures() {
        let Failure { edge: dialect, label, upstream: up, error, sent, status, body } = failure;
        let what = format!("{dialect} {label} -> {} failing", up.dialect);
        let fake = RecordingUpstream::start([vec![error], up.replies.clone()].concat()).await;
        let gw = gateway_in_front_of(&up, &fake).await;
        let edge = edges().into_iter().find(|e| e.dialect == dialect).expect("an edge that writes");
        let row = edge.writes.iter().find(|w| w.label == label).expect("a write of the edge");
        let exchange = (up.exchange)(row.write);
        let (got, received) = exchange_with(&gw, &fake, (row.request)(exchange.image)).await;
        assert_received(&up, &received, &exchange.sent[..sent], &what);
        assert_eq!(got.status, status, "{what}: {}", got.text());
        assert_eq!(got.json(), body, "{what}");
    }
}
