//! The CPU cost of translation, without the network: an upstream reply
//! decoded by its dialect and re-encoded by the edge's. Targets: one image
//! under 12 µs, a 1000-image list under 1.4 µs per image.

// the allocator the binary runs with (src/main.rs)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dragoman::dialect::{Dialect, EdgeCtx, UpstreamCall};
use dragoman::model::{ImageId, ImageOp, ListQuery};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;

const SHOW: [(Dialect, &str, &str); 4] = [
    (Dialect::Hostway, "133", include_str!("../tests/fixtures/hostway/docs_Image_get_example.json")),
    (
        Dialect::OpenStack,
        "70a599e0-31e7-49b7-b260-868f441e862b",
        include_str!("../tests/fixtures/openstack/image-get-resp.json"),
    ),
    (Dialect::GoGrid, "250", include_str!("../tests/fixtures/gogrid/seed_image_get.json")),
    (Dialect::Foreman, "980190962", include_str!("../tests/fixtures/foreman/seed_image_show.json")),
];

fn ctx(edge: Dialect) -> EdgeCtx {
    let mut ctx = EdgeCtx::new(edge, "http://127.0.0.1:8080");
    ctx.scope = Some("demo".into());
    ctx.prefix = match edge {
        Dialect::Hostway => "/accounts/demo/flexcloud".into(),
        Dialect::OpenStack => "/v2/demo".into(),
        Dialect::GoGrid => String::new(),
        Dialect::Foreman => "/api/compute_resources/demo".into(),
    };
    if edge == Dialect::GoGrid {
        ctx.method = "/grid/image/list";
    }
    ctx
}

/// Decodes `body` as `upstream` answered `call`, and encodes it at `edge`.
fn translate(upstream: Dialect, edge: Dialect, call: &UpstreamCall, op: &ImageOp, body: &[u8]) -> Bytes {
    let outcome = upstream.upstream().decode(call, StatusCode::OK, &HeaderMap::new(), body).expect("decodes");
    let reply = edge.edge().encode(&ctx(edge), op, outcome);
    let Ok(collected) = ready(reply.into_body().collect());
    collected.to_bytes()
}

/// `Full` bodies are ready at once: one poll collects them.
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("a full body is ready at once"),
    }
}

/// An OpenStack detail list of `n` images, made from the recorded one.
fn openstack_list(n: usize) -> String {
    let recorded: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/openstack/images-details-get-resp.json")).unwrap();
    let sample = &recorded["images"][0];
    let images: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut image = sample.clone();
            image["id"] = format!("{i:08}-4e14-4e4c-a73d-069cbf4541e6").into();
            image["name"] = format!("image-{i}").into();
            image
        })
        .collect();
    serde_json::json!({ "images": images }).to_string()
}

fn show(c: &mut Criterion) {
    let mut group = c.benchmark_group("show");
    for (upstream, id, body) in SHOW {
        let call = UpstreamCall::Show(ImageId::new(id));
        let op = ImageOp::Show(ImageId::new(id));
        for edge in Dialect::ALL {
            group.bench_with_input(BenchmarkId::new(format!("{upstream}->{edge}"), id), body, |b, body| {
                b.iter(|| translate(upstream, edge, &call, &op, body.as_bytes()))
            });
        }
    }
    group.finish();
}

fn list_1000(c: &mut Criterion) {
    let body = openstack_list(1000);
    let call = UpstreamCall::List {
        filter: Default::default(),
        sort: None,
        view: Default::default(),
        start: Default::default(),
        limit: Some(1000),
    };
    let op = ImageOp::List(ListQuery::default());
    let mut group = c.benchmark_group("list_1000");
    group.throughput(Throughput::Elements(1000));
    for edge in Dialect::ALL {
        group.bench_function(format!("openstack->{edge}"), |b| {
            b.iter(|| translate(Dialect::OpenStack, edge, &call, &op, body.as_bytes()))
        });
    }
    group.finish();
}

criterion_group!(benches, show, list_1000);
criterion_main!(benches);
