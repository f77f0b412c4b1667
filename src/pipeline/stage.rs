//! A stage of the stack: an async function of the rest of the stack and the
//! request. Every stage answers every request itself and is always ready:
//! nothing fails and nothing queues in the stack.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::dialect::Reply;

/// The rest of the stack, below a stage, taking requests of type `R`.
/// Shared rather than a boxed tower service: handing it to a request's
/// future is a reference count, where cloning a boxed service allocates,
/// and a request costs one boxed future a stage, where a tower stage's
/// future is boxed again around it.
pub type Next<R> = Arc<dyn Fn(R) -> BoxFuture<'static, Reply> + Send + Sync>;

/// The stage that runs `f` on each request, with `next`, the rest of the stack.
pub fn stage<R, Out, F, Fut>(f: F, next: Next<Out>) -> Next<R>
where
    Out: 'static,
    F: Fn(Next<Out>, R) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    // boxed at once: a stage's future holds the request and is moved as it
    // is wrapped, so it is copied once, not at every wrapping
    Arc::new(move |req| Box::pin(f(next.clone(), req)))
}

/// The innermost stage, from an async function of the request.
pub fn innermost<R, F, Fut>(f: F) -> Next<R>
where
    F: Fn(R) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// Passes `req` down the rest of the stack.
pub fn run<R>(next: Next<R>, req: R) -> BoxFuture<'static, Reply> {
    next(req)
}
