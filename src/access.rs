//! What one request did, gathered while it runs, for its access log line
//! and its metrics: who called, which backend and operation served it, what
//! the upstream answered and how long the upstream calls took.
//!
//! The stages note what they learn in a task-local [`Record`]; the request
//! line (`src/pipeline/tag.rs`) reads it when the reply is ready.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::FutureExt;

/// Whether a line is logged per request (`[log] access`).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the access log on or off.
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

tokio::task_local! {
    static CURRENT: Record;
}

/// What the stages noted about a request.
#[derive(Default)]
pub struct Record {
    client: RefCell<Option<Arc<str>>>,
    backend: RefCell<Option<Arc<str>>>,
    operation: Cell<Option<&'static str>>,
    upstream_status: Cell<Option<u16>>,
    upstream_time: Cell<Duration>,
    bytes_in: Cell<u64>,
}

/// A request's record, read when its reply is ready.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub client: Option<Arc<str>>,
    pub backend: Option<Arc<str>>,
    pub operation: Option<&'static str>,
    /// The status of the last upstream reply.
    pub upstream_status: Option<u16>,
    /// The upstream calls' time, added up.
    pub upstream_time: Duration,
    pub bytes_in: u64,
}

/// Runs `fut` with a fresh record, and returns its output with what was noted.
/// Combinators rather than an async block, which would hold `fut` twice.
pub fn recorded<F: Future>(fut: F) -> impl Future<Output = (F::Output, Summary)> {
    let summarized = fut.map(|out| {
        // still within the scope: the map runs in the poll that finished `fut`
        let summary = CURRENT.with(|r| Summary {
            client: r.client.take(),
            backend: r.backend.take(),
            operation: r.operation.get(),
            upstream_status: r.upstream_status.get(),
            upstream_time: r.upstream_time.get(),
            bytes_in: r.bytes_in.get(),
        });
        (out, summary)
    });
    CURRENT.scope(Record::default(), summarized)
}

/// Notes, if a request is being recorded.
fn note(f: impl FnOnce(&Record)) {
    let _ = CURRENT.try_with(f);
}

/// The authenticated client.
pub fn client(name: &Arc<str>) {
    note(|r| *r.client.borrow_mut() = Some(name.clone()));
}

/// The request body's size.
pub fn bytes_in(len: usize) {
    note(|r| r.bytes_in.set(len as u64));
}

/// The backend and the operation carried out on it.
pub fn routed(backend: &Arc<str>, operation: &'static str) {
    note(|r| {
        *r.backend.borrow_mut() = Some(backend.clone());
        r.operation.set(Some(operation));
    });
}

/// One upstream call: its reply's status (none when no reply came) and its time.
pub fn upstream_call(status: Option<u16>, took: Duration) {
    note(|r| {
        if status.is_some() {
            r.upstream_status.set(status);
        }
        r.upstream_time.set(r.upstream_time.get() + took);
    });
}
