//! A long list goes out as it comes in: the client gets the first images
//! while the upstream is still sending, and an upstream that breaks off
//! mid-list leaves the client a broken reply, never a well-formed list that
//! lost its end.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::dialects::list_path;
use crate::common::{Canned, FakeUpstream, TestGateway, client, fixture};
use dragoman::config::{Config, UpstreamConfig};
use dragoman::dialect::Dialect;

const IMAGES: usize = 400;

/// An OpenStack list of `IMAGES` recorded images, each with its own id and name.
fn long_list() -> Vec<u8> {
    serde_json::to_vec(&json!({ "images": images(0..IMAGES) })).unwrap()
}

/// Recorded images in turn, numbered `range`.
fn images(range: std::ops::Range<usize>) -> Vec<Value> {
    let recorded: Value = serde_json::from_str(&fixture("openstack/images-details-get-resp.json")).unwrap();
    let recorded = recorded["images"].as_array().unwrap();
    range
        .map(|i| {
            let mut image = recorded[i % recorded.len()].clone();
            image["id"] = json!(format!("image-id-{i}"));
            image["name"] = json!(format!("image-{i}"));
            image
        })
        .collect()
}

/// How the upstream sends the second half of the list.
enum Then {
    /// When the test says so.
    Rest(oneshot::Receiver<()>),
    /// Never: it closes the connection.
    Close,
}

/// An upstream that answers one list: its head and first half at once, then `then`.
async fn upstream(body: Vec<u8>, then: Then) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        while !request.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            socket.read_exact(&mut byte).await.unwrap();
            request.push(byte[0]);
        }
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
        socket.write_all(head.as_bytes()).await.unwrap();
        let half = body.len() / 2;
        socket.write_all(&body[..half]).await.unwrap();
        match then {
            Then::Rest(go) => {
                go.await.unwrap();
                socket.write_all(&body[half..]).await.unwrap();
                // the connection stays open until the gateway is done with it
                let _ = socket.read(&mut [0u8; 1]).await;
            }
            Then::Close => drop(socket),
        }
    });
    url
}

async fn gateway(url: &str) -> TestGateway {
    let mut up = UpstreamConfig::new("up", Dialect::OpenStack, url);
    up.scope = "demo".into();
    up.credentials = crate::common::any_credentials(Dialect::OpenStack);
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "up".into();
    TestGateway::start(config).await
}

async fn list(gw: &TestGateway) -> http::Response<hyper::body::Incoming> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(gw.url(&list_path(Dialect::Hostway)))
        .header("authorization", "Basic ZGVtbzpkZW1v")
        .body(Full::new(Bytes::new()))
        .unwrap();
    // a reply held until the upstream ends would never come: fail, not hang
    let reply = tokio::time::timeout(std::time::Duration::from_secs(20), client().request(request));
    reply.await.expect("the reply starts before the upstream ends").unwrap()
}

/// The names of the images whose objects are complete in `body` so far.
fn names_in(body: &[u8]) -> usize {
    body.windows(b"\"name\":\"image-".len()).filter(|w| w == b"\"name\":\"image-").count()
}

#[tokio::test]
async fn the_first_images_arrive_while_the_upstream_still_sends() {
    let (go, wait) = oneshot::channel();
    let gw = gateway(&upstream(long_list(), Then::Rest(wait)).await).await;
    let reply = list(&gw).await;
    assert_eq!(reply.status(), 200);
    assert!(reply.headers().get("content-length").is_none(), "a streamed reply has no length");
    let mut body = reply.into_body();
    let mut got = Vec::new();
    // the upstream sent half the list and waits: the first images are here already
    while names_in(&got) < IMAGES / 4 {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(20), body.frame());
        let frame =
            frame.await.expect("the first images come before the upstream ends").expect("more").expect("a frame");
        got.extend_from_slice(&frame.into_data().unwrap());
    }
    assert!(names_in(&got) < IMAGES, "the upstream has not sent the rest yet");
    go.send(()).unwrap();
    got.extend_from_slice(&body.collect().await.unwrap().to_bytes());
    let listed: Value = serde_json::from_slice(&got).expect("the whole reply is a list");
    let listed = listed["images"].as_array().unwrap();
    assert_eq!(listed.len(), IMAGES);
    for (i, image) in listed.iter().enumerate() {
        assert_eq!(image["id"], format!("image-id-{i}"));
        assert_eq!(image["name"], format!("image-{i}"));
    }
}

#[tokio::test]
async fn an_upstream_breaking_off_mid_list_breaks_the_reply() {
    let gw = gateway(&upstream(long_list(), Then::Close).await).await;
    let reply = list(&gw).await;
    assert_eq!(reply.status(), 200, "the head went out with the first images");
    let read = reply.into_body().collect().await;
    assert!(read.is_err(), "the reply ends unfinished, not as a shorter list");
}

#[tokio::test]
async fn a_streamed_list_shows_each_image_as_a_short_list_does() {
    let body = long_list();
    let short: Value = serde_json::from_slice(&body).unwrap();
    let short = serde_json::to_vec(&json!({ "images": [short["images"][0].clone()] })).unwrap();
    let (go, wait) = oneshot::channel();
    go.send(()).unwrap();
    let long_gw = gateway(&upstream(body, Then::Rest(wait)).await).await;
    let (go, wait) = oneshot::channel();
    go.send(()).unwrap();
    let short_gw = gateway(&upstream(short, Then::Rest(wait)).await).await;
    let long = list(&long_gw).await;
    assert!(long.headers().get("content-length").is_none(), "streamed");
    let short = list(&short_gw).await;
    assert!(short.headers().get("content-length").is_some(), "answered whole");
    // the gateways' own addresses aside, in the links
    let long = String::from_utf8(long.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let short = String::from_utf8(short.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let long: Value = serde_json::from_str(&long.replace(&long_gw.url(""), "")).unwrap();
    let short: Value = serde_json::from_str(&short.replace(&short_gw.url(""), "")).unwrap();
    assert_eq!(long["images"][0], short["images"][0]);
    assert_eq!(long["images"].as_array().unwrap().len(), IMAGES);
}

#[tokio::test]
async fn a_walk_of_the_upstream_s_pages_streams_page_after_page() {
    // pages of 1000 (Nova's largest): the first links the next, the second is short
    let first = json!({ "images": images(0..1000),
        "images_links": [{"rel": "next", "href": "http://nova/v2.1/demo/images/detail?marker=image-id-999"}] });
    let second = json!({ "images": images(1000..1100) });
    let page = |marker: bool, body: &Value| Canned {
        matches: Box::new(move |_, target| target.contains("marker=image-id-999") == marker),
        status: 200,
        content_type: "application/json",
        body: serde_json::to_vec(body).unwrap().into(),
    };
    let fake = FakeUpstream::start(vec![page(true, &second), page(false, &first)]).await;
    let mut up = UpstreamConfig::new("up", Dialect::OpenStack, &fake.url());
    up.scope = "demo".into();
    up.credentials = crate::common::any_credentials(Dialect::OpenStack);
    let mut config = Config::default();
    config.upstreams.push(up);
    config.server.default_backend = "up".into();
    let gw = TestGateway::start(config).await;
    let reply = list(&gw).await;
    assert!(reply.headers().get("content-length").is_none(), "streamed");
    let body: Value = serde_json::from_slice(&reply.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let names: Vec<&str> = body["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..1100).map(|i| format!("image-{i}")).collect();
    assert_eq!(names, expected);
    let seen: Vec<String> = fake.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].contains("marker=image-id-999"), "{seen:?}");
}
