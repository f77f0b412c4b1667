//! A request head past the listener's bounds (`server.max_header_bytes`,
//! `server.max_headers`) is refused by hyper itself, before any service
//! runs: a bare `431` (or `414` for a URI past 64 KiB), then the connection
//! is closed. [`HeadGuard`] sits between the connection and hyper and writes
//! that refusal in the shape of the face the request's path names instead —
//! the edge dialect's error, Keystone's, or plain JSON — with the status that
//! face gives a head too large (`ErrorKind::HeadTooLarge`).
//!
//! Checking the head before hyper reads it would take parsing every request's
//! framing twice; this only keeps the start of each request head (at most
//! [`KEPT`] bytes, up to the end of its request line) and looks at the first
//! bytes of each response hyper writes. A pipelined request whose head was
//! read together with an earlier request's is refused in the earlier one's
//! shape. HTTP/2 is left to h2, which answers a header list past
//! `max_header_bytes` with its own bare 431.

use std::io::{self, IoSlice, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Method, Request, Uri};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::dialect::Reply;
use crate::model::{ErrorKind, GatewayError, Side};
use crate::pipeline::Face;

/// The most of a request head kept: enough for the path, the query a
/// dialect reads its format from, and most of anything else.
const KEPT: usize = 512;

/// A connection's stream, with hyper's refusal of a head too large
/// rewritten in the request's own shape.
pub struct HeadGuard<S> {
    inner: S,
    /// The start of the request head being read.
    start: [u8; KEPT],
    kept: usize,
    /// Whether the bytes read now are still the start of a head.
    keeping: bool,
    /// The shaped refusal written in place of hyper's, and how much of it is written.
    refusal: Option<(Bytes, usize)>,
}

impl<S> HeadGuard<S> {
    pub fn new(inner: S) -> Self {
        Self { inner, start: [0; KEPT], kept: 0, keeping: true, refusal: None }
    }

    fn keep(&mut self, read: &[u8]) {
        let take = read.len().min(KEPT - self.kept);
        self.start[self.kept..self.kept + take].copy_from_slice(&read[..take]);
        self.kept += take;
        if self.kept == KEPT || read[..take].contains(&b'\n') {
            self.keeping = false;
        }
    }

    /// Looks at the first bytes of a write: true when they are hyper's own
    /// refusal of a head too large, which the shaped one then replaces.
    fn replaces(&mut self, written: &[u8]) -> bool {
        if !written.starts_with(b"HTTP/1.") {
            return false;
        }
        let too_long = match written.get(9..13) {
            Some(b"431 ") => "request header fields too large",
            Some(b"414 ") => "request line too long",
            // an interim reply (100 Continue): the same request goes on
            Some([b'1', ..]) => return false,
            _ => {
                // a reply begins: what is read next starts the next head
                self.kept = 0;
                self.keeping = true;
                return false;
            }
        };
        // hyper's automatic reply has no body; a service's own would have one
        if memchr::memmem::find(written, b"\r\ncontent-length: 0\r\n").is_none() {
            return false;
        }
        let face = request_head(&self.start[..self.kept]).map_or(Face::Plain, |parts| Face::of_head(&parts));
        tracing::debug!("request head past the listener's bounds: refused");
        let reply = face.refuse(&GatewayError::new(ErrorKind::HeadTooLarge, Side::Downstream, too_long));
        self.refusal = Some((serialize(reply), 0));
        true
    }
}

impl<S: AsyncWrite + Unpin> HeadGuard<S> {
    /// Writes what is left of the shaped refusal.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Self { inner, refusal, .. } = self;
        while let Some((bytes, written)) = refusal {
            if *written == bytes.len() {
                *refusal = None;
                break;
            }
            let n = ready!(Pin::new(&mut *inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadGuard<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if this.keeping {
            this.keep(&buf.filled()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadGuard<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_refusal(cx))?;
        if this.replaces(buf) {
            // hyper's bytes count as written; the refusal is flushed before anything else
            let _ = this.poll_refusal(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_refusal(cx))?;
        if bufs.iter().find(|b| !b.is_empty()).is_some_and(|first| this.replaces(first)) {
            let _ = this.poll_refusal(cx)?;
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_refusal(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_refusal(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The method and target of the request line at the start of `head`, as
/// far as it was kept; `None` when it is no request line.
fn request_head(head: &[u8]) -> Option<http::request::Parts> {
    let line = head.split(|b| *b == b'\n').next()?;
    let mut words = line.split(|b| *b == b' ');
    let method = Method::from_bytes(words.next()?).ok()?;
    let target = words.next()?;
    // a target cut short may end inside its query: the path alone then
    let uri = Uri::try_from(target).or_else(|_| {
        let path = target.split(|b| *b == b'?').next().unwrap_or_default();
        Uri::try_from(path)
    });
    let (parts, ()) = Request::builder().method(method).uri(uri.ok()?).body(()).ok()?.into_parts();
    Some(parts)
}

/// `reply` as HTTP/1.1 bytes, closing the connection.
fn serialize(reply: Reply) -> Bytes {
    let (parts, body) = reply.into_parts();
    let body = body.as_whole().unwrap_or_default();
    let mut out = Vec::with_capacity(256 + body.len());
    let reason = parts.status.canonical_reason().unwrap_or("");
    let _ = write!(out, "HTTP/1.1 {} {reason}\r\n", parts.status.as_str());
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let _ = write!(out, "content-length: {}\r\nconnection: close\r\n\r\n", body.len());
    out.extend_from_slice(&body);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_is_read_as_far_as_it_was_kept() {
        let parts = request_head(b"GET /v2/demo/images/1?a=b HTTP/1.1\r\nhost: x").unwrap();
        assert_eq!((parts.method, parts.uri.path()), (Method::GET, "/v2/demo/images/1"));
        // cut short, inside the target
        let parts = request_head(b"GET /api/grid/image/get?id=1&format=xml&x=%").unwrap();
        assert_eq!(parts.uri.query(), Some("id=1&format=xml&x=%"));
        assert!(request_head(b"\x16\x03\x01 binary").is_none());
    }

    #[test]
    fn only_hyper_s_bodiless_refusals_are_replaced() {
        let mut guard = HeadGuard::new(());
        guard.keep(b"GET /accounts/demo/flexcloud/images/133 HTTP/1.1\r\nx-big: aaaa");
        assert!(!guard.keeping);
        assert!(!guard.replaces(b"HTTP/1.1 100 Continue\r\n\r\n"));
        assert!(!guard.replaces(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 12\r\n\r\n"));
        assert!(guard.replaces(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n"));
        let (refusal, _) = guard.refusal.take().unwrap();
        let text = String::from_utf8_lossy(&refusal);
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(text.contains(r#""badRequest""#) && text.contains("connection: close"), "{text}");
        // a reply begins: the next head is kept from its start
        assert!(!guard.replaces(b"HTTP/1.1 200 OK\r\n"));
        assert!(guard.keeping && guard.kept == 0);
    }
}
