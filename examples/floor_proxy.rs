//! The floor of a show's cost: a pass-through proxy on the same HTTP stack
//! and thread model as Dragoman, with nothing else. Each worker thread runs
//! its own single-threaded tokio runtime and accept loop on one shared
//! socket, with its own pooled hyper client; a request is sent upstream as
//! it came (path and query, `Authorization`), the reply read whole and
//! answered with its status, `Content-Type` and body. No translation, no
//! pipeline, no metrics, no log.
//!
//! `benches/load.sh` measures it beside nginx and Dragoman (the "hyper
//! floor" rows), so that a report can say how much of Dragoman's cost is
//! the HTTP stack's and how much its own per-request work.
//!
//! ```sh
//! cargo run --release --example floor_proxy -- 127.0.0.1:18190 http://127.0.0.1:18180 2
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Pool = Client<HttpConnector, Full<Bytes>>;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: floor_proxy LISTEN UPSTREAM_URL [WORKERS]";
    let listen: SocketAddr = args.next().expect(usage).parse().expect("LISTEN is host:port");
    let upstream: &'static str = args.next().expect(usage).trim_end_matches('/').to_owned().leak();
    let workers: usize = match args.next().map(|n| n.parse().expect("WORKERS is a number")) {
        Some(0) | None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(n) => n,
    };
    let socket = std::net::TcpListener::bind(listen).expect("LISTEN binds");
    socket.set_nonblocking(true).expect("a non-blocking socket");
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let socket = socket.try_clone().expect("the socket is shared");
            std::thread::spawn(move || serve(socket, upstream))
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
}

/// One worker: its runtime, its accept loop, its pool.
fn serve(socket: std::net::TcpListener, upstream: &'static str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(socket).expect("the socket registers");
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let pool: Pool = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .build(connector);
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let pool = pool.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| forward(pool.clone(), upstream, req));
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

async fn forward(pool: Pool, upstream: &str, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = format!("{upstream}{path}").parse().expect("a valid upstream url");
    let mut out = Request::get(uri);
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        out = out.header(header::AUTHORIZATION, auth);
    }
    let reply = match pool.request(out.body(Full::new(Bytes::new())).expect("a request")).await {
        Ok(reply) => reply,
        Err(_) => return Ok(status(StatusCode::BAD_GATEWAY)),
    };
    let (parts, body) = reply.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else { return Ok(status(StatusCode::BAD_GATEWAY)) };
    let mut answer = Response::new(Full::new(body));
    *answer.status_mut() = parts.status;
    if let Some(kind) = parts.headers.get(header::CONTENT_TYPE) {
        answer.headers_mut().insert(header::CONTENT_TYPE, kind.clone());
    }
    Ok(answer)
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut answer = Response::new(Full::new(Bytes::new()));
    *answer.status_mut() = code;
    answer.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    answer
}
