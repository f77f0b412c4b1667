//! A list streamed from the upstream to the edge, image by image: each
//! image is decoded as its bytes arrive and written in the edge's shape at
//! once, so what a request holds does not grow with the list
//! (`docs/PERFORMANCE.md`, "Streamed lists").
//!
//! The reply is first written into a buffer, up to [`STREAM_AFTER`] bytes:
//! a list that ends within it, or fails before, is answered whole, as the
//! buffered path would answer it (a failure in the edge's own error shape).
//! Past it, the reply's head goes out and the rest follows as chunks; a
//! failure from then on (the upstream breaks off, a garbled image, a bound
//! passed) ends the body unfinished, so the client never takes a truncated
//! list for a whole one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::time::Instant;

use super::{Exchange, Upstream, counted_scope, direct_list_call, first_page, walk_call};
use crate::backend::client::read_whole;
use crate::backend::items::ItemSplitter;
use crate::dialect::{ListItems, ListWriter, Outcome, Paging, Reply, ReplyBody, UpstreamCall};
use crate::model::{ErrorKind, GatewayError, ImageId, ListQuery, PageStart, Side};
use crate::request_id::RequestId;

/// Bytes of the reply written before its head goes out: a list this short
/// is answered whole.
pub const STREAM_AFTER: usize = 32 * 1024;

/// Bytes of the reply gathered, from as many upstream frames as fit, before
/// they go out as one chunk: each chunk is a write to the client, and
/// fewer, larger writes cost the kernel less (`docs/PERFORMANCE.md`,
/// "A 1000-image list").
const CHUNK_BYTES: usize = 24 * 1024;

/// The upstream calls a streamed list makes.
enum Pages {
    /// The list in one call.
    One,
    /// Every page of the upstream's listing, in its order: a walk with
    /// nothing to filter, order or count here and the whole listing asked.
    Walk { page_size: usize, pages: usize },
}

/// What writes the reply, one chunk at a time.
struct Producer {
    upstream: Arc<Upstream>,
    scope: Option<String>,
    /// Upstream calls made so far.
    calls: usize,
    pages: Pages,
    call: UpstreamCall,
    items: ListItems,
    writer: Box<dyn ListWriter>,
    /// The reply body being read, with what it has left.
    body: Option<(Limited<Incoming>, ItemSplitter, http::StatusCode, http::HeaderMap)>,
    /// Images written, in all pages, and in this page.
    written: usize,
    in_page: usize,
    last: Option<ImageId>,
    /// When the whole list must be written.
    deadline: Instant,
    /// The head is written.
    started: bool,
    done: bool,
}

impl Upstream {
    /// Serves a list as a reply streamed image by image in `writer`'s shape,
    /// when the upstream's dialect reads list replies one image at a time
    /// and the list needs nothing of the whole (no filter, order, count or
    /// page applied here). `None` when it cannot be streamed.
    pub async fn stream_list(
        self: &Arc<Self>,
        query: &ListQuery,
        scope: Option<&str>,
        writer: Box<dyn ListWriter>,
        deadline: Instant,
    ) -> Option<Result<Reply, GatewayError>> {
        let codec = self.codec;
        let (call, pages) = match direct_list_call(codec, query) {
            Some(call) => (call, Pages::One),
            None => {
                let caps = codec.capabilities();
                let (native, residual) = codec.split_filter(&query.filter);
                let whole = query.page.start == PageStart::First && query.page.limit.is_none();
                if !residual.is_empty()
                    || query.sort.is_some()
                    || query.count
                    || counted_scope(query).is_some()
                    || !whole
                {
                    return None;
                }
                let page_size = caps.max_page.min(self.settings.walk_limit.max(1));
                let call = walk_call(caps, native, None, first_page(caps.paging), page_size);
                (call, Pages::Walk { page_size, pages: 0 })
            }
        };
        let items = codec.list_items(&call)?;
        let mut producer = Producer {
            upstream: self.clone(),
            scope: scope.map(str::to_owned),
            calls: 0,
            pages,
            call,
            items,
            writer,
            body: None,
            written: 0,
            in_page: 0,
            last: None,
            deadline,
            started: false,
            done: false,
        };
        let mut first = Vec::new();
        while first.len() < STREAM_AFTER {
            match producer.next().await {
                Ok(Some(chunk)) => first.extend_from_slice(&chunk),
                Ok(None) => return Some(Ok(producer.writer.reply(ReplyBody::whole(first)))),
                Err(e) => return Some(Err(producer.failed(e))),
            }
        }
        let mut reply = producer.writer.reply(ReplyBody::default());
        let request_id = RequestId::current();
        let rest = futures_util::stream::unfold(Some(producer), move |producer| {
            let request_id = request_id.clone();
            async move {
                let mut producer = producer?;
                // a walk's later pages carry the request's id too
                let next = match &request_id {
                    Some(id) => id.clone().scope(producer.next()).await,
                    None => producer.next().await,
                };
                match next {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(producer))),
                    Ok(None) => None,
                    Err(e) => {
                        let e = producer.failed(e);
                        let request_id = request_id.as_ref().map(RequestId::as_str);
                        tracing::warn!(request_id, error = %e, "a streamed list broke off: its reply is cut short");
                        Some((Err(e.into()), None))
                    }
                }
            }
        });
        let chunks = futures_util::stream::once(async move { Ok(Bytes::from(first)) }).chain(rest);
        *reply.body_mut() = ReplyBody::streamed(Box::pin(chunks));
        Some(Ok(reply))
    }
}

impl Producer {
    /// The next piece of the reply; `None` once it is all written.
    async fn next(&mut self) -> Result<Option<Bytes>, GatewayError> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(CHUNK_BYTES);
        if !self.started {
            self.started = true;
            self.writer.head(&mut out);
        }
        loop {
            if self.body.is_none() {
                self.open().await?;
            }
            let (body, splitter, ..) = self.body.as_mut().expect("a body was opened");
            let frame = tokio::time::timeout_at(self.deadline, body.frame()).await.map_err(|_| timed_out())?;
            match frame {
                Some(frame) => {
                    let frame = frame.map_err(|e| self.upstream.client.body_error(e))?;
                    let Ok(chunk) = frame.into_data() else { continue };
                    let before = out.len();
                    let (items, call, writer) = (self.items, &self.call, &self.writer);
                    let (mut written, mut in_page, mut last) = (self.written, self.in_page, None);
                    splitter.feed(&chunk, |item| {
                        let image = (items.decode)(call, item)?;
                        writer.image(&mut out, &image, written == 0);
                        written += 1;
                        in_page += 1;
                        last = Some(image.id);
                        Ok(())
                    })?;
                    (self.written, self.in_page) = (written, in_page);
                    if last.is_some() {
                        self.last = last;
                    }
                    // the chunk goes out when the next frame's images, as many
                    // bytes as this frame's, would not fit in it
                    if 2 * out.len() - before > CHUNK_BYTES {
                        return Ok(Some(out.into()));
                    }
                }
                None => {
                    let more = self.page_done()?;
                    if let Some(more) = more {
                        self.writer.tail(&mut out, more, self.last.as_ref());
                        self.done = true;
                        return Ok(Some(out.into()));
                    }
                    // what is written goes out before the next page is asked
                    if !out.is_empty() {
                        return Ok(Some(out.into()));
                    }
                }
            }
        }
    }

    /// Sends the current call and reads its reply's head; a failure's whole
    /// reply is read and decoded into its error.
    async fn open(&mut self) -> Result<(), GatewayError> {
        let upstream = &self.upstream;
        let exchange = Exchange { upstream, scope: self.scope.as_deref(), calls: AtomicUsize::new(self.calls) };
        let opened = match &upstream.keystone {
            None => exchange.open_once(&self.call, None).await,
            Some(keystone) => {
                let token = keystone.token().await?;
                match exchange.open_once(&self.call, Some(&token)).await? {
                    reply if reply.status == http::StatusCode::UNAUTHORIZED => {
                        keystone.invalidate(&token.id);
                        exchange.open_once(&self.call, Some(&keystone.token().await?)).await
                    }
                    reply => Ok(reply),
                }
            }
        };
        self.calls = exchange.calls.load(Ordering::Relaxed);
        let reply = opened?;
        let max = upstream.client.max_body();
        if !reply.status.is_success() {
            let body = read_whole(reply.body, max).await.map_err(|e| upstream.client.body_error(e))?;
            let decoded = upstream.codec.decode(&self.call, reply.status, &reply.headers, &body);
            return Err(decoded.err().unwrap_or_else(|| GatewayError::upstream_protocol("a failure without an error")));
        }
        self.in_page = 0;
        let splitter = ItemSplitter::new(self.items.key, upstream.settings.reply);
        self.body = Some((Limited::new(reply.body, max), splitter, reply.status, reply.headers));
        Ok(())
    }

    /// The current page's body ended: `Some(more)` when the list is all
    /// written, `None` when the walk goes on with its next page.
    fn page_done(&mut self) -> Result<Option<bool>, GatewayError> {
        let (_, splitter, status, headers) = self.body.take().expect("a body was read");
        let rest = splitter.finish()?;
        let page = match self.upstream.codec.decode(&self.call, status, &headers, &rest)? {
            Outcome::List(page) if page.images.is_empty() => page,
            Outcome::List(_) => return Err(GatewayError::upstream_protocol("the upstream reply holds two lists")),
            _ => return Err(GatewayError::internal("upstream codec decoded a list reply into another shape")),
        };
        let settings = &self.upstream.settings;
        let Pages::Walk { page_size, pages } = &mut self.pages else {
            return Ok(Some(page.more));
        };
        if self.written > settings.walk_limit {
            return Err(GatewayError::unsupported(
                format!("listing more than {} images", settings.walk_limit),
                settings.dialect.name(),
            ));
        }
        let caps = self.upstream.codec.capabilities();
        // a short page is the last, whatever the upstream says of more
        if !page.more || self.in_page < *page_size || caps.paging == Paging::None {
            return Ok(Some(false));
        }
        *pages += 1;
        let start = match (caps.paging, &self.last) {
            (Paging::Marker, Some(last)) => PageStart::After(last.clone()),
            _ => PageStart::Offset(*pages * *page_size),
        };
        let UpstreamCall::List { filter, .. } = &self.call else {
            return Err(GatewayError::internal("a walk of something else than a list"));
        };
        self.call = walk_call(caps, filter.clone(), None, start, *page_size);
        Ok(None)
    }

    /// `e`, counted as the upstream's decode error when it is one.
    fn failed(&mut self, e: GatewayError) -> GatewayError {
        self.done = true;
        self.body = None;
        if e.kind == ErrorKind::UpstreamProtocol {
            self.upstream.decode_errors.inc();
        }
        e
    }
}

fn timed_out() -> GatewayError {
    GatewayError::new(ErrorKind::UpstreamTimeout, Side::Upstream, "the upstream list did not end in time")
}
