//! Bounds on what an upstream reply may expand into, checked on its bytes
//! before any decoder builds a tree from them: a small reply of many empty
//! lists, deep nesting or wide records would otherwise cost far more memory
//! than its size. One pass, no allocation past a stack as deep as the bound.
//!
//! The format is told by the first byte that is not white space: `{` or `[`
//! JSON, `<` XML, `#` GoGrid's CSV; anything else is left to the decoder.

use std::fmt;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::json_scan::{Stop, next_quote_or_escape, skim};

/// What one upstream reply may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyBounds {
    /// Most elements of one list (JSON array, XML element's children, CSV rows).
    pub max_items: usize,
    /// Most fields of one record (JSON object keys, CSV columns).
    pub max_fields: usize,
    /// Deepest nesting.
    pub max_depth: usize,
    /// Longest string, in bytes.
    pub max_string_bytes: usize,
}

/// The first bound a reply goes past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastBound(pub String);

impl fmt::Display for PastBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PastBound {}

impl ReplyBounds {
    /// Only a depth bound: for request bodies, whose other bounds are
    /// checked on what they decode to.
    pub fn depth_only(max_depth: usize) -> Self {
        Self { max_items: usize::MAX, max_fields: usize::MAX, max_depth, max_string_bytes: usize::MAX }
    }

    /// Checks `body` against the bounds. A body malformed in its own format
    /// passes: its decoder says what is wrong with it.
    pub fn check(&self, body: &[u8]) -> Result<(), PastBound> {
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => self.json(body),
            Some(b'<') => self.xml(body),
            Some(b'#') => self.csv(body),
            _ => Ok(()),
        }
    }

    fn json(&self, body: &[u8]) -> Result<(), PastBound> {
        // per open container: is it a list, and how many commas so far
        let mut stack: Vec<(bool, usize)> = Vec::new();
        let mut at = 0;
        while at < body.len() {
            at = match skim(body, at, &mut stack, self, 0)? {
                Stop::Closed(next) => next,
                Stop::Handoff { at, string: Some(bytes) } => self.string_end(body, at - bytes)? + 1,
                // a backslash outside a string is nothing to the walk
                Stop::Handoff { at, string: None } => at + 1,
            };
        }
        Ok(())
    }

    /// The position of the quote closing the string that starts at `start`
    /// (the end of the body when none does), refused past the string bound.
    fn string_end(&self, body: &[u8], start: usize) -> Result<usize, PastBound> {
        let mut at = start;
        loop {
            at = next_quote_or_escape(body, at);
            if at - start > self.max_string_bytes {
                return Err(self.string_past());
            }
            if at == body.len() || body[at] == b'"' {
                return Ok(at);
            }
            // an escape: skip the escaped byte
            at += 2;
            if at >= body.len() {
                return Ok(body.len());
            }
        }
    }

    #[inline]
    pub(super) fn width(&self, list: bool, count: usize) -> Result<(), PastBound> {
        match list {
            true if count > self.max_items => Err(PastBound(format!("a list of more than {} items", self.max_items))),
            false if count > self.max_fields => {
                Err(PastBound(format!("a record of more than {} fields", self.max_fields)))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn string_past(&self) -> PastBound {
        PastBound(format!("a string longer than {} bytes", self.max_string_bytes))
    }

    pub(super) fn depth_past(&self) -> PastBound {
        PastBound(format!("nesting deeper than {}", self.max_depth))
    }

    fn xml(&self, body: &[u8]) -> Result<(), PastBound> {
        let mut reader = Reader::from_reader(body);
        let mut children: Vec<usize> = Vec::new();
        let mut buf = Vec::new();
        loop {
            let event = match reader.read_event_into(&mut buf) {
                Ok(event) => event,
                Err(_) => return Ok(()),
            };
            match event {
                Event::Start(_) | Event::Empty(_) => {
                    if let Some(count) = children.last_mut() {
                        *count += 1;
                        self.width(true, *count)?;
                    }
                    if children.len() >= self.max_depth {
                        return Err(self.depth_past());
                    }
                    if matches!(event, Event::Start(_)) {
                        children.push(0);
                    }
                }
                Event::End(_) => {
                    children.pop();
                }
                Event::Text(text) if text.len() > self.max_string_bytes => return Err(self.string_past()),
                Event::CData(text) if text.len() > self.max_string_bytes => return Err(self.string_past()),
                Event::Eof => return Ok(()),
                _ => {}
            }
            buf.clear();
        }
    }

    fn csv(&self, body: &[u8]) -> Result<(), PastBound> {
        let mut lines = body.splitn(3, |b| *b == b'\n');
        let (_envelope, columns) = (lines.next(), lines.next().unwrap_or_default());
        if columns.split(|b| *b == b',').count() > self.max_fields {
            return Err(PastBound(format!("more than {} columns", self.max_fields)));
        }
        let rows = lines.next().unwrap_or_default();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(rows);
        let mut record = csv::ByteRecord::new();
        let mut count = 0;
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            count += 1;
            self.width(true, count)?;
            // GoGrid ends each row with a comma: one empty field more than the columns
            if record.len() > self.max_fields + 1 {
                return Err(PastBound(format!("a row of more than {} fields", self.max_fields)));
            }
            if record.iter().any(|field| field.len() > self.max_string_bytes) {
                return Err(self.string_past());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: ReplyBounds = ReplyBounds { max_items: 3, max_fields: 2, max_depth: 3, max_string_bytes: 5 };

    #[test]
    fn json_within_the_bounds_passes() {
        SMALL.check(br#"{"a":[1,2,{"s":"ab\"c"}],"b":"x,{["}"#).unwrap();
        SMALL.check(b"not json at all").unwrap();
    }

    #[test]
    fn json_past_each_bound_is_refused() {
        for body in
            [&br#"[1,2,3,4]"#[..], br#"{"a":1,"b":2,"c":3}"#, br#"[[[[1]]]]"#, br#"["abcdef"]"#, br#"{"abcdefg":1}"#]
        {
            assert!(SMALL.check(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn xml_past_each_bound_is_refused() {
        SMALL.check(b"<a><b>x</b><b/><b/></a>").unwrap();
        for body in [&b"<a><b/><b/><b/><b/></a>"[..], b"<a><b><c><d/></c></b></a>", b"<a>abcdefgh</a>"] {
            assert!(SMALL.check(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn csv_past_each_bound_is_refused() {
        SMALL.check(b"# SUCCESS\n# id,name\n1,a,\n2,b,\n").unwrap();
        for body in [
            &b"# SUCCESS\n# id,name,x\n1,a,\n"[..],
            b"# SUCCESS\n# id,name\n1,a,\n2,b,\n3,c,\n4,d,\n",
            b"# SUCCESS\n# id,name\n1,abcdefgh,\n",
            b"# SUCCESS\n# id,name\n1,a,b,c,\n",
        ] {
            assert!(SMALL.check(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }
}
