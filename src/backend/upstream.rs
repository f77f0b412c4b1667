//! A backend that is an HTTP server speaking one of the dialects.
//!
//! | canonical op | upstream can express it        | otherwise                               |
//! |--------------|--------------------------------|-----------------------------------------|
//! | show         | one call                       | —                                       |
//! | get many     | one call (GoGrid)              | fan-out of shows / name lists, bounded  |
//! | list         | one call when the filter, sort | a bounded walk of every upstream page,  |
//! |              | and page map onto its own      | then filter, sort and page here         |
//!
//! A walk stops with a not-implemented error past `walk_limit` images rather
//! than answer with a partial count.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;

use futures_util::{StreamExt, TryStreamExt, stream};

mod streamed;

use super::client::{HttpClient, OpenReply, UpstreamReply};
use super::keystone::{KeystoneSession, KeystoneSettings, KeystoneSettingsError, Token};
use super::shape::ReplyBounds;
use crate::dialect::{
    Capabilities, Credentials, Dialect, Format, Outcome, Paging, Target, UpstreamCall, UpstreamCodec,
};
use crate::metrics::{UpstreamErrorLabels, metrics};
use crate::model::{
    ErrorKind, Filter, GatewayError, GetMany, Image, ImageId, ImageOp, ImageStatus, ListPage, ListQuery, LookupKey,
    PageRequest, PageStart, Shown, ShownName, Sort, View, WriteOp, paginate_owned,
};

/// What an upstream backend is and how far it may go.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub dialect: Dialect,
    /// Root URL, without a trailing slash; empty to take the compute
    /// endpoint from the Keystone catalog.
    pub base: String,
    /// Account, project or compute resource upstream.
    pub scope: String,
    pub credentials: Credentials,
    /// A Keystone session gives OpenStack upstreams their tokens instead of `credentials`.
    pub keystone: Option<KeystoneSettings>,
    /// Reply format asked of GoGrid upstreams.
    pub format: Format,
    /// Most images a list may walk through to filter, page or count.
    pub walk_limit: usize,
    /// Most calls in flight for one get-many fan-out.
    pub fanout: usize,
    /// Most calls one request may make, fan-outs and walks included.
    pub max_calls: usize,
    /// What one reply may expand into.
    pub reply: ReplyBounds,
}

pub struct Upstream {
    settings: UpstreamSettings,
    codec: &'static dyn UpstreamCodec,
    client: HttpClient,
    keystone: Option<KeystoneSession>,
    decode_errors: Counter,
}

/// An upstream that answered this recently is ready without a probe.
const ANSWERED_RECENTLY: Duration = Duration::from_secs(10);
/// How long a readiness probe waits for any answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Upstream {
    pub fn new(settings: UpstreamSettings, client: HttpClient) -> Result<Self, KeystoneSettingsError> {
        let keystone = match &settings.keystone {
            Some(keystone) => Some(KeystoneSession::new(keystone.clone(), client.clone())?),
            None => None,
        };
        let decode_errors = metrics()
            .upstream_errors
            .get_or_create_owned(&UpstreamErrorLabels { upstream: client.name().clone(), kind: "decode" });
        Ok(Self { codec: settings.dialect.upstream(), settings, client, keystone, decode_errors })
    }

    /// The upstream's name.
    pub fn name(&self) -> &Arc<str> {
        self.client.name()
    }

    /// The dialect the upstream speaks.
    pub fn dialect(&self) -> Dialect {
        self.settings.dialect
    }

    /// Whether the upstream can serve: with a Keystone session, a token can
    /// be had; and it answered within the last seconds (no call unanswered
    /// since), or answers a probe
    /// (`GET` of its root URL: any HTTP reply will do). The error says which
    /// check failed.
    pub async fn ready(&self) -> Result<(), String> {
        if let Some(keystone) = &self.keystone {
            keystone.token().await.map_err(|e| format!("no keystone token: {e}"))?;
        }
        if self.client.answered_within(ANSWERED_RECENTLY) || self.settings.base.is_empty() {
            return Ok(());
        }
        let probe = http::Request::get(format!("{}/", self.settings.base))
            .body(Bytes::new())
            .map_err(|e| format!("probe: {e}"))?;
        match tokio::time::timeout(PROBE_TIMEOUT, self.client.send(probe)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("does not answer: {e}")),
            Err(_) => Err(format!("does not answer within {PROBE_TIMEOUT:?}")),
        }
    }

    pub fn describe(&self) -> String {
        let s = &self.settings;
        let base = if s.base.is_empty() { "the compute endpoint of keystone's catalog" } else { &s.base };
        let scope = match (&self.keystone, s.scope.as_str()) {
            (Some(keystone), "") => format!("the project of the token from {}", keystone.describe()),
            (Some(keystone), scope) => format!("scope {scope:?}, token from {}", keystone.describe()),
            (None, scope) => format!("scope {scope:?}"),
        };
        format!("{} upstream at {base} ({scope})", s.dialect)
    }

    /// The Keystone session, if the upstream takes its tokens from one.
    pub fn keystone(&self) -> Option<&KeystoneSession> {
        self.keystone.as_ref()
    }

    /// Refuses, before anything is sent, a write the upstream dialect cannot express.
    pub fn expresses(&self, op: &WriteOp) -> Result<(), GatewayError> {
        let probe = Target {
            base: "http://upstream",
            scope: "scope",
            credentials: &Credentials::None,
            now: 0,
            format: self.settings.format,
        };
        match self.codec.encode(&UpstreamCall::Write(op.clone()), &probe) {
            Err(e) if matches!(e.kind, ErrorKind::Unsupported { .. }) => Err(e),
            _ => Ok(()),
        }
    }

    /// `filter` without the conditions every image this upstream lists
    /// meets, in `scope` (else its configured one): those on another
    /// dialect's fields, which its images never carry, and those on its own
    /// scope (a condition the codec takes natively, which no request
    /// carries: Foreman's compute resource) that name that very scope.
    pub fn unmet(&self, filter: &Filter, scope: Option<&str>) -> Filter {
        let namespace = format!("{}.", self.settings.dialect.name());
        let scope = scope.or(Some(self.settings.scope.as_str()).filter(|s| !s.is_empty()));
        let mut filter = filter.for_upstream(&namespace);
        filter.shown.retain(|condition| {
            let alone = Filter { shown: vec![condition.clone()], ..Filter::default() };
            let own_scope = condition.reads.is_some() && !self.codec.split_filter(&alone).0.shown.is_empty();
            !(own_scope && scope == Some(condition.value.as_str()))
        });
        filter
    }

    /// Carries out `op`; `scope` replaces the configured one for this request.
    pub async fn execute(&self, op: &ImageOp, scope: Option<&str>) -> Result<Outcome, GatewayError> {
        Exchange { upstream: self, scope, calls: AtomicUsize::new(0) }.execute(op).await
    }
}

/// One request's dealings with an upstream, in the scope it names.
struct Exchange<'a> {
    upstream: &'a Upstream,
    scope: Option<&'a str>,
    /// Calls made so far, retries included.
    calls: AtomicUsize,
}

impl Exchange<'_> {
    async fn execute(&self, op: &ImageOp) -> Result<Outcome, GatewayError> {
        match op {
            ImageOp::Show(id) => self.call(&UpstreamCall::Show(id.clone())).await,
            // boxed: a walk or a write is kilobytes of state that a show,
            // the common call, would otherwise carry and copy
            ImageOp::GetMany(get) => Box::pin(self.get_many(get)).await.map(Outcome::Images),
            ImageOp::List(query) => Box::pin(self.list(query)).await.map(Outcome::List),
            ImageOp::Write(write) => Box::pin(self.write(write)).await,
        }
    }

    /// A change, sent once: writes are never retried. A delete reads the
    /// image first, so that every edge can show what was deleted even when
    /// the upstream answers with nothing (OpenStack's 204).
    async fn write(&self, op: &WriteOp) -> Result<Outcome, GatewayError> {
        self.upstream.expresses(op)?;
        let before = match op {
            WriteOp::Delete { id, .. } => match self.call(&UpstreamCall::Show(id.clone())).await? {
                Outcome::Image(image) => Some(image),
                other => return Err(unexpected(&other)),
            },
            _ => None,
        };
        match (self.send(&UpstreamCall::Write(op.clone()), false).await?, before) {
            (Outcome::Done, Some(mut image)) => {
                image.status = ImageStatus::Deleted;
                image.backend_status = None;
                Ok(Outcome::Image(image))
            }
            (outcome, _) => Ok(outcome),
        }
    }

    /// One upstream read, sent once more when the first try never reached
    /// the upstream.
    async fn call(&self, call: &UpstreamCall) -> Result<Outcome, GatewayError> {
        self.send(call, true).await
    }

    /// One request; with a Keystone session, an upstream 401 evicts the
    /// token and the request is sent once more with a fresh one.
    async fn send(&self, call: &UpstreamCall, retry: bool) -> Result<Outcome, GatewayError> {
        let up = self.upstream;
        let reply = match &up.keystone {
            None => self.exchange(call, None, retry).await?,
            Some(keystone) => {
                let token = keystone.token().await?;
                let reply = self.exchange(call, Some(&token), retry).await?;
                if reply.status == http::StatusCode::UNAUTHORIZED {
                    keystone.invalidate(&token.id);
                    self.exchange(call, Some(&keystone.token().await?), retry).await?
                } else {
                    reply
                }
            }
        };
        let decoded = up.settings.reply.check(&reply.body).map_or_else(
            |past| Err(GatewayError::upstream_protocol(format!("the upstream reply holds {past}")).with_cause(past)),
            |()| up.codec.decode(call, reply.status, &reply.headers, &reply.body),
        );
        if let Err(e) = &decoded
            && e.kind == ErrorKind::UpstreamProtocol
        {
            up.decode_errors.inc();
        }
        decoded
    }

    /// Counts one more call, refused past the bound of calls per request.
    fn count_call(&self) -> Result<(), GatewayError> {
        let settings = &self.upstream.settings;
        if self.calls.fetch_add(1, Ordering::Relaxed) < settings.max_calls {
            return Ok(());
        }
        Err(GatewayError::unsupported(
            format!("answering with more than {} upstream calls", settings.max_calls),
            settings.dialect.name(),
        ))
    }

    /// Sends `call` once (reads: once more when the first try never reached
    /// the upstream) and reads the whole reply.
    async fn exchange(
        &self,
        call: &UpstreamCall,
        token: Option<&Token>,
        retry: bool,
    ) -> Result<UpstreamReply, GatewayError> {
        let client = &self.upstream.client;
        self.count_call()?;
        match client.send(self.request(call, token)?).await {
            Err(e) if retry && e.retryable && e.kind == ErrorKind::UpstreamUnavailable => {
                // within the retry budget only, so that retries cannot multiply the load
                self.count_call()?;
                client.retry(self.request(call, token)?, &e).await.unwrap_or(Err(e))
            }
            other => other,
        }
    }

    /// [`Exchange::exchange`] of a read, up to the reply's head: its body
    /// is read as it arrives.
    async fn open_once(&self, call: &UpstreamCall, token: Option<&Token>) -> Result<OpenReply, GatewayError> {
        let client = &self.upstream.client;
        self.count_call()?;
        match client.open(self.request(call, token)?).await {
            Err(e) if e.retryable && e.kind == ErrorKind::UpstreamUnavailable => {
                self.count_call()?;
                client.retry_open(self.request(call, token)?, &e).await.unwrap_or(Err(e))
            }
            other => other,
        }
    }

    /// The upstream request of `call`, as `token` (or the configured
    /// credentials) and in the scope of this exchange.
    fn request(&self, call: &UpstreamCall, token: Option<&Token>) -> Result<http::Request<Bytes>, GatewayError> {
        let settings = &self.upstream.settings;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let token_credentials;
        let (credentials, base, catalog_scope) = match token {
            Some(token) => {
                let (root, project) = token.compute_root();
                token_credentials = Credentials::Token(token.id.clone());
                (&token_credentials, if settings.base.is_empty() { root } else { &settings.base }, project)
            }
            None => (&settings.credentials, settings.base.as_str(), None),
        };
        let configured = Some(settings.scope.as_str()).filter(|s| !s.is_empty());
        let scope = self.scope.or(configured).or(catalog_scope).unwrap_or_default();
        let target = Target { base, scope, credentials, now, format: settings.format };
        self.upstream.codec.encode(call, &target)
    }

    async fn list(&self, query: &ListQuery) -> Result<ListPage, GatewayError> {
        let query = &*self.judged_here(query);
        let codec = self.upstream.codec;
        if let Some(call) = direct_list_call(codec, query) {
            return expect_list(self.call(&call).await?);
        }
        let caps = codec.capabilities();
        let (native, residual) = match counted_scope(query) {
            // the size of the scope counts the images the filter leaves out:
            // walk the whole scope, then filter and count here
            Some(scope) => (codec.split_filter(scope).0, query.filter.clone()),
            None => codec.split_filter(&query.filter),
        };
        let upstream_sorts = query.sort.filter(|s| caps.sort_fields.contains(&s.field));
        let all = self.walk(native, upstream_sorts).await?;
        paginate_owned(all, query, &residual)
    }

    /// The query without the conditions every image this upstream lists
    /// meets (see [`Upstream::unmet`]).
    fn judged_here<'q>(&self, query: &'q ListQuery) -> Cow<'q, ListQuery> {
        let reads = |filter: &Filter| filter.shown.iter().any(|condition| condition.reads.is_some());
        if !reads(&query.filter) && !query.scope.as_deref().is_some_and(reads) {
            return Cow::Borrowed(query);
        }
        let unmet = |filter: &Filter| self.upstream.unmet(filter, self.scope);
        Cow::Owned(ListQuery {
            filter: unmet(&query.filter),
            scope: query.scope.as_deref().map(|scope| Box::new(unmet(scope))),
            ..query.clone()
        })
    }

    /// Every image the upstream lists for `filter`, page after page, up to the walk limit.
    async fn walk(&self, filter: Filter, sort: Option<crate::model::Sort>) -> Result<Vec<Image>, GatewayError> {
        let caps = self.upstream.codec.capabilities();
        let page_size = caps.max_page.min(self.upstream.settings.walk_limit.max(1));
        let mut all: Vec<Image> = Vec::new();
        let mut pages = 0;
        let mut start = first_page(caps.paging);
        loop {
            let call = walk_call(caps, filter.clone(), sort, start, page_size);
            let page = expect_list(self.call(&call).await?)?;
            let fetched = page.images.len();
            all.extend(page.images);
            if all.len() > self.upstream.settings.walk_limit {
                return Err(GatewayError::unsupported(
                    format!("listing more than {} images", self.upstream.settings.walk_limit),
                    self.upstream.settings.dialect.name(),
                ));
            }
            // a short page is the last, whatever the upstream says of more
            if !page.more || fetched < page_size || caps.paging == Paging::None {
                return Ok(all);
            }
            pages += 1;
            start = match caps.paging {
                Paging::Marker => PageStart::After(all[all.len() - 1].id.clone()),
                _ => PageStart::Offset(pages * page_size),
            };
        }
    }

    async fn get_many(&self, get: &GetMany) -> Result<Vec<Image>, GatewayError> {
        if self.upstream.codec.capabilities().get_many {
            return match self.call(&UpstreamCall::GetMany(get.clone())).await? {
                Outcome::Images(images) => Ok(images),
                other => Err(unexpected(&other)),
            };
        }
        let found: Vec<Vec<Image>> = stream::iter(get.values.iter().cloned())
            .map(|value: String| async move { self.lookup(get, &value).await })
            .buffered(self.upstream.settings.fanout.max(1))
            .try_collect()
            .await?;
        let mut images: Vec<Image> = Vec::new();
        for image in found.into_iter().flatten() {
            if !images.iter().any(|seen| seen.id == image.id) {
                images.push(image);
            }
        }
        Ok(images)
    }

    /// The images one get-many value names; none when it names nothing.
    async fn lookup(&self, get: &GetMany, value: &str) -> Result<Vec<Image>, GatewayError> {
        let key = get.key;
        // a value that cannot be an id is never sent as one
        if matches!(key, LookupKey::Id | LookupKey::IdOrName) && crate::model::is_valid_id(value) {
            match self.call(&UpstreamCall::Show(ImageId::new(value))).await {
                Ok(Outcome::Image(image)) => return Ok(vec![image]),
                Ok(other) => return Err(unexpected(&other)),
                Err(e) if matches!(e.kind, ErrorKind::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if key == LookupKey::Id {
            return Ok(Vec::new());
        }
        let by_name = ListQuery { filter: name_filter(get, value), ..ListQuery::default() };
        Ok(Box::pin(self.list(&by_name)).await?.images)
    }
}

/// The list as one upstream call, when the upstream can filter, sort, count
/// and page it itself.
fn direct_list_call(codec: &dyn UpstreamCodec, query: &ListQuery) -> Option<UpstreamCall> {
    if counted_scope(query).is_some() {
        return None;
    }
    let caps = codec.capabilities();
    let (native, residual) = codec.split_filter(&query.filter);
    let upstream_sorts = query.sort.filter(|s| caps.sort_fields.contains(&s.field));
    let sorts_here = query.sort.is_some() && upstream_sorts.is_none();
    let counts_here = query.count && !caps.reports_total;
    if !residual.is_empty() || sorts_here || counts_here {
        return None;
    }
    let (start, limit) = direct_page(caps, &query.page)?;
    Some(UpstreamCall::List { filter: native, sort: query.sort, view: query.view, start, limit: Some(limit) })
}

/// The scope whose size the reply shows (Foreman's `total`), when counting
/// it needs the images the filter leaves out or the scope's own conditions.
fn counted_scope(query: &ListQuery) -> Option<&Filter> {
    query.scope.as_deref().filter(|scope| !scope.is_empty() || !query.filter.is_empty())
}

/// What a lookup by name lists: the images whose name, as the caller's edge
/// shows it, is `name` (judged here); else those of that display name.
fn name_filter(get: &GetMany, name: &str) -> Filter {
    match get.shown_name {
        Some(ShownName(shows)) => Filter { shown: vec![Shown::new("name", name, shows)], ..Filter::default() },
        None => Filter { name: Some(name.to_owned()), ..Filter::default() },
    }
}

/// The page as the upstream can ask for it in one call, if it can.
fn direct_page(caps: Capabilities, page: &PageRequest) -> Option<(PageStart, usize)> {
    let limit = page.limit.filter(|&l| l > 0 && l <= caps.max_page)?;
    match (caps.paging, &page.start) {
        (Paging::Marker, PageStart::First | PageStart::Offset(0)) => Some((PageStart::First, limit)),
        (Paging::Marker, PageStart::After(marker)) => Some((PageStart::After(marker.clone()), limit)),
        (Paging::PageNumber, PageStart::First) => Some((PageStart::Offset(0), limit)),
        (Paging::PageNumber, PageStart::Offset(n)) if n % limit == 0 => Some((PageStart::Offset(*n), limit)),
        _ => None,
    }
}

/// Where a walk of every page starts.
fn first_page(paging: Paging) -> PageStart {
    match paging {
        Paging::PageNumber => PageStart::Offset(0),
        _ => PageStart::First,
    }
}

/// One page of a walk.
fn walk_call(caps: Capabilities, filter: Filter, sort: Option<Sort>, start: PageStart, size: usize) -> UpstreamCall {
    let limit = (caps.paging != Paging::None).then_some(size);
    UpstreamCall::List { filter, sort, view: View::Detail, start, limit }
}

/// The first upstream call `op` makes on an upstream of `codec`'s dialect:
/// all of it when the upstream expresses it in one call; else the first
/// show of a fan-out or the first page of a walk. A delete's is the delete
/// itself (it reads the image first, to show what was deleted).
pub fn first_call(codec: &dyn UpstreamCodec, op: &ImageOp) -> UpstreamCall {
    let caps = codec.capabilities();
    match op {
        ImageOp::Show(id) => UpstreamCall::Show(id.clone()),
        ImageOp::GetMany(get) if caps.get_many => UpstreamCall::GetMany(get.clone()),
        ImageOp::GetMany(get) => {
            let value = get.values.first().cloned().unwrap_or_default();
            if get.key == LookupKey::Name {
                let (native, _) = codec.split_filter(&name_filter(get, &value));
                walk_call(caps, native, None, first_page(caps.paging), caps.max_page)
            } else {
                UpstreamCall::Show(ImageId::new(value))
            }
        }
        ImageOp::List(query) => direct_list_call(codec, query).unwrap_or_else(|| {
            let (native, _) = codec.split_filter(counted_scope(query).unwrap_or(&query.filter));
            let sort = query.sort.filter(|s| caps.sort_fields.contains(&s.field));
            walk_call(caps, native, sort, first_page(caps.paging), caps.max_page)
        }),
        ImageOp::Write(write) => UpstreamCall::Write(write.clone()),
    }
}

fn expect_list(outcome: Outcome) -> Result<ListPage, GatewayError> {
    match outcome {
        Outcome::List(page) => Ok(page),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(outcome: &Outcome) -> GatewayError {
    let what = match outcome {
        Outcome::Image(_) => "one image",
        Outcome::Images(_) => "a set of images",
        Outcome::List(_) => "a list page",
        Outcome::Metadata(_) => "metadata",
        Outcome::Done => "no content",
    };
    GatewayError::internal(format!("upstream codec decoded {what} for a call that expects another shape"))
}
