//! The CPU cost of translation, without the network: an upstream reply
//! decoded by its dialect and re-encoded by the edge's, and each half alone
//! per dialect. Before the timings it prints the heap allocations each half
//! makes, per image, counted by the global allocator below.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};

/// The allocator the binary runs with (src/main.rs), counting allocations
/// and the bytes they asked for.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to mimalloc unchanged; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What `f` allocated (allocations and reallocations, bytes asked for), and its result.
fn counted<T>(f: impl FnOnce() -> T) -> (u64, u64, T) {
    let (calls, bytes) = (ALLOCATIONS.load(Ordering::Relaxed), ALLOCATED_BYTES.load(Ordering::Relaxed));
    let out = f();
    (ALLOCATIONS.load(Ordering::Relaxed) - calls, ALLOCATED_BYTES.load(Ordering::Relaxed) - bytes, out)
}

use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dragoman::config::LimitsConfig;
use dragoman::dialect::gogrid::ApiMethod;
use dragoman::dialect::{Dialect, EdgeCall, EdgeCtx, Outcome, UpstreamCall};
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
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => "/fifth".into(),
    };
    if edge == Dialect::GoGrid {
        ctx.call = EdgeCall::GoGrid(ApiMethod::List);
    }
    ctx
}

/// Decodes `body` as `upstream` answered `call`, and encodes it at `edge`.
fn translate(upstream: Dialect, edge: Dialect, call: &UpstreamCall, op: &ImageOp, body: &[u8]) -> Bytes {
    encode(edge, &ctx(edge), op, decode(upstream, call, body))
}

/// `body` as `upstream` answered `call`, decoded.
fn decode(upstream: Dialect, call: &UpstreamCall, body: &[u8]) -> Outcome {
    upstream.upstream().decode(call, StatusCode::OK, &HeaderMap::new(), body).expect("decodes")
}

/// `outcome` as the `edge` shows it: the reply's whole body.
fn encode(edge: Dialect, ctx: &EdgeCtx, op: &ImageOp, outcome: Outcome) -> Bytes {
    let reply = edge.edge().encode(ctx, op, outcome);
    ready(reply.into_body().collect()).expect("a whole body").to_bytes()
}

/// Whole bodies are ready at once: one poll collects them.
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("a full body is ready at once"),
    }
}

fn list_call() -> UpstreamCall {
    UpstreamCall::List {
        filter: Default::default(),
        sort: None,
        view: Default::default(),
        start: Default::default(),
        limit: Some(1000),
    }
}

/// A 1000-image list as each dialect's upstream answers it: the OpenStack
/// one made from the recorded list, the others that list as their edge
/// shows it (the same wire shape their upstream answers in).
fn lists() -> Vec<(Dialect, Bytes)> {
    let openstack = Bytes::from(openstack_list(1000));
    let images = decode(Dialect::OpenStack, &list_call(), &openstack);
    let op = ImageOp::List(ListQuery::default());
    Dialect::ALL
        .into_iter()
        .map(|dialect| match dialect {
            Dialect::OpenStack => (dialect, openstack.clone()),
            _ => (dialect, encode(dialect, &ctx(dialect), &op, images.clone())),
        })
        .collect()
}

/// The heap allocations decoding and encoding make, per image: of one shown
/// image by each dialect, and of a 1000-image list.
fn allocations() {
    let op = ImageOp::List(ListQuery::default());
    eprintln!("heap allocations per image (calls, bytes asked for)");
    for (upstream, id, body) in SHOW {
        let call = UpstreamCall::Show(ImageId::new(id));
        let (calls, bytes, outcome) = counted(|| decode(upstream, &call, body.as_bytes()));
        eprint!("  show  decode {upstream:<9} {calls:>5} {bytes:>8}  encode");
        let show = ImageOp::Show(ImageId::new(id));
        for edge in Dialect::ALL {
            let ctx = ctx(edge);
            let (calls, bytes, _) = counted(|| encode(edge, &ctx, &show, outcome.clone()));
            eprint!("  {edge} {calls} {bytes}");
        }
        eprintln!();
    }
    for (upstream, body) in lists() {
        let (calls, bytes, outcome) = counted(|| decode(upstream, &list_call(), &body));
        eprint!("  list  decode {upstream:<9} {:>5.1} {:>8.0}  encode", calls as f64 / 1000.0, bytes as f64 / 1000.0);
        for edge in Dialect::ALL {
            let ctx = ctx(edge);
            let copy = outcome.clone();
            let (calls, bytes, _) = counted(|| encode(edge, &ctx, &op, copy));
            eprint!("  {edge} {:.1} {:.0}", calls as f64 / 1000.0, bytes as f64 / 1000.0);
        }
        eprintln!();
    }
    // a streamed list: written image by image into chunks of a buffer
    // that is reused (the upstream's frames bound a chunk)
    let Outcome::List(page) = decode(Dialect::OpenStack, &list_call(), openstack_list(1000).as_bytes()) else {
        panic!("a list")
    };
    eprint!("  list  streamed encode");
    for edge in Dialect::ALL {
        let Some(writer) = edge.edge().list_writer(&ctx(edge), &op) else { continue };
        let mut out = Vec::with_capacity(STREAMED_CHUNK * 2);
        let (calls, bytes, _) = counted(|| {
            writer.head(&mut out);
            for (i, image) in page.images.iter().enumerate() {
                writer.image(&mut out, image, i == 0);
                if out.len() > STREAMED_CHUNK {
                    out.clear();
                }
            }
            writer.tail(&mut out, false, page.images.last().map(|image| &image.id));
        });
        eprint!("  {edge} {:.1} {:.0}", calls as f64 / 1000.0, bytes as f64 / 1000.0);
    }
    eprintln!();
}

/// Bytes of a streamed list's chunk, about what one upstream frame makes.
const STREAMED_CHUNK: usize = 32 * 1024;

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
    allocations();
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
    let call = list_call();
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

/// Each half alone, per dialect: decoding a 1000-image list as each
/// upstream answers it (and checking its bounds), and encoding it at each edge.
fn list_halves(c: &mut Criterion) {
    let op = ImageOp::List(ListQuery::default());
    let mut group = c.benchmark_group("list_1000_halves");
    group.throughput(Throughput::Elements(1000));
    let lists = lists();
    for (dialect, body) in &lists {
        group.bench_function(format!("decode {dialect}"), |b| b.iter(|| decode(*dialect, &list_call(), body)));
    }
    // the pass over every upstream reply before it is decoded
    let bounds = LimitsConfig::default().reply_bounds();
    for (dialect, body) in &lists {
        group.bench_function(format!("bounds {dialect}"), |b| b.iter(|| bounds.check(body)));
    }
    let openstack = lists.iter().find(|(dialect, _)| *dialect == Dialect::OpenStack).expect("an openstack list");
    let images = decode(Dialect::OpenStack, &list_call(), &openstack.1);
    for edge in Dialect::ALL {
        let ctx = ctx(edge);
        group.bench_function(format!("encode {edge}"), |b| {
            b.iter_batched(|| images.clone(), |images| encode(edge, &ctx, &op, images), BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group!(benches, show, list_1000, list_halves);
criterion_main!(benches);
