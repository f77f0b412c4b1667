//! Support for the protection tests: an upstream that holds every request
//! until the test releases it (then forwards it to a real gateway), and an
//! upstream that answers every request with one status and set of headers.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Semaphore, mpsc};

/// Serves every connection of `listener` with `answer`.
fn serve<F, Fut>(listener: TcpListener, answer: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let answer = answer.clone();
                    async move { Ok::<_, Infallible>(answer(req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

/// An upstream that announces each request, holds it until released, then
/// forwards it to `inner` and relays the reply.
pub struct Held {
    pub addr: SocketAddr,
    arrivals: Mutex<mpsc::UnboundedReceiver<HeaderMap>>,
    gate: Arc<Semaphore>,
}

impl Held {
    pub async fn start(inner: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (announce, arrivals) = mpsc::unbounded_channel();
        let gate = Arc::new(Semaphore::new(0));
        let held = gate.clone();
        serve(listener, move |req: Request<Incoming>| {
            let (announce, gate) = (announce.clone(), held.clone());
            async move {
                let _ = announce.send(req.headers().clone());
                gate.acquire().await.unwrap().forget();
                let (parts, body) = req.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                let target = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let mut forward = Request::builder().method(parts.method).uri(format!("http://{inner}{target}"));
                for (name, value) in &parts.headers {
                    if name != http::header::HOST {
                        forward = forward.header(name, value);
                    }
                }
                let res = super::common::client().request(forward.body(Full::new(body)).unwrap()).await.unwrap();
                let (parts, body) = res.into_parts();
                Response::from_parts(parts, Full::new(body.collect().await.unwrap().to_bytes()))
            }
        });
        Self { addr, arrivals: Mutex::new(arrivals), gate }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The headers of the next request to arrive (within 20 s).
    pub async fn arrived(&self) -> HeaderMap {
        let mut arrivals = self.arrivals.lock().await;
        tokio::time::timeout(Duration::from_secs(20), arrivals.recv())
            .await
            .expect("a request reaches the held upstream within 20 s")
            .unwrap()
    }

    /// Lets `n` held requests (present or future) through.
    pub fn release(&self, n: usize) {
        self.gate.add_permits(n);
    }
}

/// An upstream answering every request with `status`, `headers` and `body`.
pub async fn answering(status: u16, headers: &[(&'static str, &'static str)], body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let headers: Arc<Vec<(&'static str, &'static str)>> = Arc::new(headers.to_vec());
    serve(listener, move |_req: Request<Incoming>| {
        let headers = headers.clone();
        async move {
            let mut res = Response::builder().status(status);
            for (name, value) in headers.iter() {
                res = res.header(*name, *value);
            }
            res.body(Full::new(Bytes::from_static(body.as_bytes()))).unwrap()
        }
    });
    addr
}
