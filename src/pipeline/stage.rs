//! A stage of the stack: a tower layer made of an async function of the
//! rest of the stack and the request. Every stage answers every request
//! itself (`Infallible`) and is always ready: nothing queues in the stack.

use std::convert::Infallible;

use futures_util::FutureExt;

use tower::util::BoxCloneService;
use tower::{Layer, ServiceExt};

use crate::dialect::Reply;

/// The rest of the stack, below a stage, taking requests of type `R`.
pub type Next<R> = BoxCloneService<R, Reply, Infallible>;

/// A layer that runs `f` on each request, with the rest of the stack.
pub fn stage<R, Out, F, Fut>(f: F) -> impl Layer<Next<Out>, Service = Next<R>>
where
    R: Send + 'static,
    Out: Send + 'static,
    F: Fn(Next<Out>, R) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    tower::layer::layer_fn(move |next: Next<Out>| {
        let f = f.clone();
        Next::new(tower::service_fn(move |req: R| {
            // boxed at once: a stage's future holds the request and is moved
            // as it is wrapped, so it is copied once, not at every wrapping
            let answer = Box::pin(f(next.clone(), req));
            async move { Ok::<_, Infallible>(answer.await) }
        }))
    })
}

/// The innermost service, from an async function of the request.
pub fn innermost<R, F, Fut>(f: F) -> Next<R>
where
    R: Send + 'static,
    F: Fn(R) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Reply> + Send + 'static,
{
    Next::new(tower::service_fn(move |req: R| {
        let answer = Box::pin(f(req));
        async move { Ok::<_, Infallible>(answer.await) }
    }))
}

/// Passes `req` down the rest of the stack. A combinator, not an `async fn`:
/// an async frame would hold `req` twice (as its argument and inside the
/// call it awaits), and every stage above would carry both.
pub fn run<R>(next: Next<R>, req: R) -> impl Future<Output = Reply> {
    next.oneshot(req).map(|answer| match answer {
        Ok(reply) => reply,
        Err(never) => match never {},
    })
}
