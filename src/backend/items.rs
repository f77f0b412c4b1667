//! The images of a JSON list reply, one at a time as its chunks arrive:
//! each element of the top-level array under the list's key is handed over
//! as soon as it is complete, and the rest of the reply (its other keys,
//! with the array left empty) is kept for the codec to read at the end.
//! What the reply may expand into ([`ReplyBounds`]) is checked on the way,
//! as [`ReplyBounds::check`] does on a whole body.

use super::json_scan::next_quote_or_escape;
use super::shape::{PastBound, ReplyBounds, Stop, skim};
use crate::model::GatewayError;

/// Most bytes of a reply outside its list (`images_links` and the like).
pub const MAX_REST_BYTES: usize = 64 * 1024;

/// Splits a JSON list reply into its list's elements and the rest.
pub struct ItemSplitter {
    key: &'static [u8],
    bounds: ReplyBounds,
    /// Per open container: is it a list, and how many commas so far.
    stack: Vec<(bool, usize)>,
    in_string: bool,
    /// The byte after a backslash is next.
    escaped: bool,
    /// Bytes of the string being read so far.
    string_bytes: usize,
    /// The last string at the top level (a key, once a colon follows).
    top_string: Vec<u8>,
    /// A colon followed the list's key: an array opening next is the list.
    key_seen: bool,
    /// The list was found (and is not being read any more once closed).
    found: bool,
    /// The depth of the list while it is being read.
    list_depth: Option<usize>,
    /// The element being read, from earlier chunks.
    partial: Vec<u8>,
    /// An element is being read.
    in_element: bool,
    rest: Vec<u8>,
}

impl ItemSplitter {
    pub fn new(key: &'static str, bounds: ReplyBounds) -> Self {
        Self {
            key: key.as_bytes(),
            bounds,
            stack: Vec::new(),
            in_string: false,
            escaped: false,
            string_bytes: 0,
            top_string: Vec::new(),
            key_seen: false,
            found: false,
            list_depth: None,
            partial: Vec::new(),
            in_element: false,
            rest: Vec::new(),
        }
    }

    /// Reads the next chunk; `item` gets each element it completes, in order.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        mut item: impl FnMut(&[u8]) -> Result<(), GatewayError>,
    ) -> Result<(), GatewayError> {
        // where the element or the rest being copied starts in this chunk
        let mut from = 0;
        let mut at = 0;
        while at < chunk.len() {
            if self.in_string {
                at = self.string(chunk, at)?;
                continue;
            }
            if let Some(depth) = self.list_depth.filter(|&depth| self.in_element && self.stack.len() > depth) {
                // inside an element's records and lists, a block at a time
                at = match skim(chunk, at, &mut self.stack, &self.bounds, depth).map_err(past)? {
                    Stop::Closed(next) => next,
                    Stop::Handoff { at, string: Some(bytes) } => {
                        self.in_string = true;
                        self.string_bytes = bytes;
                        at
                    }
                    // a backslash outside a string is nothing to the walk
                    Stop::Handoff { at, string: None } => (at + 1).min(chunk.len()),
                };
                continue;
            }
            let b = chunk[at];
            let in_list = self.list_depth == Some(self.stack.len());
            if in_list && !self.in_element && !matches!(b, b',' | b']') && !b.is_ascii_whitespace() {
                self.in_element = true;
                from = at;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.string_bytes = 0;
                    if self.stack.len() == 1 {
                        self.top_string.clear();
                    }
                }
                b'{' | b'[' => {
                    if self.stack.len() >= self.bounds.max_depth {
                        return Err(past(self.bounds.depth_past()));
                    }
                    self.stack.push((b == b'[', 0));
                    if self.key_seen && b == b'[' && self.stack.len() == 2 {
                        self.found = true;
                        self.list_depth = Some(2);
                        self.keep(&chunk[from..=at])?;
                        from = at + 1;
                    }
                    self.key_seen = false;
                }
                b'}' | b']' => {
                    if in_list {
                        // the list closes: its last element ends here
                        self.element(chunk, from, at, &mut item)?;
                        self.list_depth = None;
                        from = at;
                    }
                    self.stack.pop();
                }
                b',' => {
                    if let Some((list, commas)) = self.stack.last_mut() {
                        *commas += 1;
                        self.bounds.width(*list, *commas + 1).map_err(past)?;
                    }
                    if in_list {
                        self.element(chunk, from, at, &mut item)?;
                        from = at + 1;
                    }
                    self.key_seen = false;
                }
                b':' => self.key_seen = self.stack.len() == 1 && !self.found && self.top_string == self.key,
                _ => {}
            }
            at += 1;
        }
        if self.in_element {
            self.partial.extend_from_slice(&chunk[from..]);
        } else if self.list_depth.is_none() {
            self.keep(&chunk[from..])?;
        }
        Ok(())
    }

    /// Reads string bytes from `at`; the position after what it read.
    fn string(&mut self, chunk: &[u8], mut at: usize) -> Result<usize, GatewayError> {
        if self.escaped {
            self.escaped = false;
            self.string_bytes += 1;
            return Ok(at + 1);
        }
        let found = next_quote_or_escape(chunk, at);
        self.string_bytes += found - at;
        if self.string_bytes > self.bounds.max_string_bytes {
            return Err(past(self.bounds.string_past()));
        }
        if self.stack.len() == 1 && self.top_string.len() <= self.key.len() {
            self.top_string.extend_from_slice(&chunk[at..found]);
        }
        at = found;
        if at == chunk.len() {
            return Ok(at);
        }
        if chunk[at] == b'"' {
            self.in_string = false;
        } else {
            self.escaped = true;
            self.string_bytes += 1;
            // an escaped top-level string is never the key
            self.top_string.push(b'\\');
        }
        Ok(at + 1)
    }

    /// The element that ends before `end` (and started at `from` or in an
    /// earlier chunk), handed to `item`; nothing when none was started.
    fn element(
        &mut self,
        chunk: &[u8],
        from: usize,
        end: usize,
        item: &mut impl FnMut(&[u8]) -> Result<(), GatewayError>,
    ) -> Result<(), GatewayError> {
        if !self.in_element {
            return Ok(());
        }
        self.in_element = false;
        if self.partial.is_empty() {
            item(chunk[from..end].trim_ascii_end())
        } else {
            self.partial.extend_from_slice(&chunk[from..end]);
            let whole = std::mem::take(&mut self.partial);
            item(whole.trim_ascii_end())?;
            // the buffer is kept for the next element that spans chunks
            self.partial = whole;
            self.partial.clear();
            Ok(())
        }
    }

    fn keep(&mut self, bytes: &[u8]) -> Result<(), GatewayError> {
        if self.rest.len() + bytes.len() > MAX_REST_BYTES {
            return Err(GatewayError::upstream_protocol(format!(
                "the upstream reply holds more than {MAX_REST_BYTES} bytes besides its list"
            )));
        }
        self.rest.extend_from_slice(bytes);
        Ok(())
    }

    /// The reply without its list's elements, once the body ended.
    pub fn finish(self) -> Result<Vec<u8>, GatewayError> {
        if self.list_depth.is_some() || self.in_element {
            return Err(GatewayError::upstream_protocol("the upstream reply ended inside its list"));
        }
        Ok(self.rest)
    }
}

fn past(past: PastBound) -> GatewayError {
    GatewayError::upstream_protocol(format!("the upstream reply holds {past}")).with_cause(past)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: ReplyBounds = ReplyBounds { max_items: 10, max_fields: 10, max_depth: 8, max_string_bytes: 64 };

    /// The elements and the rest of `body` fed in chunks of `size` bytes.
    fn split(body: &str, size: usize) -> Result<(Vec<String>, String), GatewayError> {
        let mut splitter = ItemSplitter::new("images", BOUNDS);
        let mut items = Vec::new();
        for chunk in body.as_bytes().chunks(size) {
            splitter.feed(chunk, |item| {
                items.push(String::from_utf8(item.to_vec()).unwrap());
                Ok(())
            })?;
        }
        Ok((items, String::from_utf8(splitter.finish()?).unwrap()))
    }

    #[test]
    fn elements_come_whole_in_order_whatever_the_chunks() {
        let body = r#"{"before": {"images": [1]}, "images": [ {"id": "a,]}\"x", "n": [1, {"k": "]"}]} ,
            "s" , 3 ,{}], "images_links": [{"rel": "next"}]}"#;
        for size in 1..body.len() {
            let (items, rest) = split(body, size).unwrap();
            assert_eq!(items, [r#"{"id": "a,]}\"x", "n": [1, {"k": "]"}]}"#, r#""s""#, "3", "{}"], "chunks of {size}");
            assert_eq!(rest, r#"{"before": {"images": [1]}, "images": [], "images_links": [{"rel": "next"}]}"#);
        }
    }

    #[test]
    fn a_reply_without_the_list_is_all_rest() {
        for body in [r#"{"images": []}"#, r#"{"other": [1, 2]}"#, r#"[1, 2]"#, r#"{"images": {"a": 1}}"#, "<xml/>"] {
            assert_eq!(split(body, 3).unwrap(), (Vec::new(), body.to_owned()), "{body}");
        }
        let escaped = r#"{"imag\u0065s": [1]}"#;
        assert_eq!(split(escaped, 4).unwrap(), (Vec::new(), escaped.to_owned()), "an escaped key is not the key");
    }

    #[test]
    fn the_bounds_hold_inside_and_outside_the_list() {
        let many = format!(r#"{{"images": [{}]}}"#, ["{}"; 11].join(","));
        let long = format!(r#"{{"images": [{{"name": "{}"}}]}}"#, "x".repeat(65));
        let deep = format!(r#"{{"images": [{}{}]}}"#, "[".repeat(7), "]".repeat(7));
        let wide = format!(
            r#"{{"images": [{{{}}}]}}"#,
            (0..11).map(|i| format!(r#""k{i}": 1"#)).collect::<Vec<_>>().join(",")
        );
        for body in [many, long, deep, wide] {
            let err = split(&body, 5).unwrap_err();
            assert_eq!(err.kind, crate::model::ErrorKind::UpstreamProtocol, "{body}");
            assert!(err.message.contains("the upstream reply holds"), "{}", err.message);
        }
        let within = format!(r#"{{"images": [{}]}}"#, ["{}"; 10].join(","));
        assert_eq!(split(&within, 5).unwrap().0.len(), 10);
    }

    #[test]
    fn a_reply_cut_inside_its_list_is_refused() {
        for body in [r#"{"images": [{"id": "a"}, {"id": "#, r#"{"images": [{"id": "a"}"#, r#"{"images": ["#] {
            assert!(split(body, 4).is_err(), "{body}");
        }
    }

    #[test]
    fn the_rest_is_bounded() {
        let mut splitter = ItemSplitter::new("images", BOUNDS);
        assert!(splitter.feed(&vec![b' '; MAX_REST_BYTES], |_| Ok(())).is_ok(), "the bound itself is allowed");
        assert!(splitter.feed(b" ", |_| Ok(())).is_err());
    }
}
