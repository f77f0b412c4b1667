//! Edge paths: which resource a request path names.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::model::GatewayError;

/// What a path under the Hostway edge names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource<'a> {
    /// `…/images`
    List,
    /// `…/images/detail`
    Detail,
    /// `…/images/{id}`, the id still percent-encoded.
    Image(&'a str),
    /// Anything else the edge claims.
    Unknown,
}

/// What a claimed path names, as the edge's context reads it, kept for
/// decoding the request so that its path is split once: the image id by
/// its place in the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathCall {
    List,
    Detail,
    /// `path[start..end]` is the image id, still percent-encoded.
    Image {
        start: usize,
        end: usize,
    },
    Unknown,
    /// The account segment is not percent-encoded UTF-8.
    BadAccount,
}

/// A claimed path, split into its account and resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Route<'a> {
    /// The account segment as written in the path (still percent-encoded);
    /// `None` for the short paths that act on the caller's own account.
    pub account: Option<&'a str>,
    pub resource: Resource<'a>,
}

impl Route<'_> {
    /// The path before `/images`, for links: `/accounts/{acct}/flexcloud` or empty.
    pub fn prefix(&self) -> String {
        self.account.map(account_prefix).unwrap_or_default()
    }

    /// The call of a readable account's route, `path` the one it was split from.
    pub fn call(&self, path: &str) -> PathCall {
        match self.resource {
            Resource::List => PathCall::List,
            Resource::Detail => PathCall::Detail,
            Resource::Image(id) => {
                // the id is a slice of `path`: its place is its offset in it
                let start = id.as_ptr() as usize - path.as_ptr() as usize;
                PathCall::Image { start, end: start + id.len() }
            }
            Resource::Unknown => PathCall::Unknown,
        }
    }
}

/// `/accounts/{account}/flexcloud`, the account already percent-encoded.
pub(super) fn account_prefix(account: &str) -> String {
    ["/accounts/", account, "/flexcloud"].concat()
}

/// True when the first path segment is one the Hostway edge owns.
pub(super) fn claims(path: &str) -> bool {
    has_root(path, "/images") || has_root(path, "/accounts")
}

fn has_root(path: &str, root: &str) -> bool {
    path.strip_prefix(root).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Splits a claimed path; `None` when the edge does not claim it.
/// One trailing slash is tolerated everywhere.
pub(super) fn route(path: &str) -> Option<Route<'_>> {
    if !claims(path) {
        return None;
    }
    let trimmed = path[1..].strip_suffix('/').unwrap_or(&path[1..]);
    // the first segments, on the stack: a route has at most five, and a
    // path with more is unknown however many it has, so six tell them apart
    let mut segments = [""; 6];
    let mut count = 0;
    for (slot, segment) in segments.iter_mut().zip(trimmed.split('/')) {
        *slot = segment;
        count += 1;
    }
    let (account, rest) = match &segments[..count] {
        ["images", rest @ ..] => (None, rest),
        ["accounts", account, "flexcloud", "images", rest @ ..] if !account.is_empty() => (Some(*account), rest),
        ["accounts", account, ..] if !account.is_empty() => {
            return Some(Route { account: Some(account), resource: Resource::Unknown });
        }
        _ => return Some(Route { account: None, resource: Resource::Unknown }),
    };
    let resource = match rest {
        [] => Resource::List,
        ["detail"] => Resource::Detail,
        [id] if !id.is_empty() => Resource::Image(id),
        _ => Resource::Unknown,
    };
    Some(Route { account, resource })
}

/// A percent-decoded path segment; `what` names it in the error.
pub(super) fn decode_segment<'a>(segment: &'a str, what: &str) -> Result<Cow<'a, str>, GatewayError> {
    percent_decode_str(segment).decode_utf8().map_err(|_| invalid_segment(what))
}

/// The refusal of a path segment that is not percent-encoded UTF-8.
pub(super) fn invalid_segment(what: &str) -> GatewayError {
    GatewayError::bad_request(format!("invalid {what} in path"))
}
