//! Bounds on what an upstream reply may expand into, checked on its bytes
//! before any decoder builds a tree from them: a small reply of many empty
//! lists, deep nesting or wide records would otherwise cost far more memory
//! than its size. One pass, no allocation past a stack as deep as the bound;
//! JSON is walked 64 bytes at a time ([`skim`], shared with the list
//! splitter).
//!
//! The format is told by the first byte that is not white space: `{` or `[`
//! JSON, `<` XML, `#` GoGrid's CSV; anything else is left to the decoder.

use std::fmt;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::json_scan::{BLOCK, Block, next_quote_or_escape, prefix_xor};

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

/// Where [`skim`] stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The container the walk started in closed: the walk goes on here.
    Closed(usize),
    /// At a backslash, or at the end of the bytes, which the caller reads on
    /// byte by byte; with the bytes read so far of the string it is inside.
    Handoff { at: usize, string: Option<usize> },
}

/// Walks `body` from `at`, outside any string, checking `bounds` as
/// [`ReplyBounds::check`] does: containers are pushed on and popped off
/// `stack` (per open container: is it a list, and how many commas so far),
/// until a bracket leaves `floor` containers open. Escapes are left to the
/// caller: they are rare, and whether a backslash escapes depends on what
/// came before it.
pub fn skim(
    body: &[u8],
    mut at: usize,
    stack: &mut Vec<(bool, usize)>,
    bounds: &ReplyBounds,
    floor: usize,
) -> Result<Stop, PastBound> {
    // where the string being read started, after its quote
    let mut open: Option<usize> = None;
    // a string within one block is shorter than the bound: only those
    // crossing a block's edge are measured, unless the bound is that short
    let each_quote = bounds.max_string_bytes < BLOCK;
    while at < body.len() {
        let len = (body.len() - at).min(BLOCK);
        let block = Block::read(body, at);
        let upto = (block.backslashes.trailing_zeros() as usize).min(len);
        let within = if upto == BLOCK { u64::MAX } else { (1 << upto) - 1 };
        let quotes = block.quotes & within;
        let in_strings = prefix_xor(quotes) ^ if open.is_some() { u64::MAX } else { 0 };
        let mut events = block.structural & !in_strings & within;
        if each_quote {
            events |= quotes;
        } else if let Some(start) = open
            && quotes != 0
            && at + quotes.trailing_zeros() as usize - start > bounds.max_string_bytes
        {
            return Err(bounds.string_past());
        }
        while events != 0 {
            let pos = at + events.trailing_zeros() as usize;
            events &= events - 1;
            match body[pos] {
                b'"' => match open.take() {
                    Some(start) if pos - start > bounds.max_string_bytes => return Err(bounds.string_past()),
                    Some(_) => {}
                    None => open = Some(pos + 1),
                },
                b @ (b'{' | b'[') => {
                    if stack.len() >= bounds.max_depth {
                        return Err(bounds.depth_past());
                    }
                    stack.push((b == b'[', 0));
                }
                b'}' | b']' => {
                    stack.pop();
                    if stack.len() == floor {
                        return Ok(Stop::Closed(pos + 1));
                    }
                }
                b',' => {
                    if let Some((list, commas)) = stack.last_mut() {
                        *commas += 1;
                        bounds.width(*list, *commas + 1)?;
                    }
                }
                // `Y`, `y`, `_` or DEL, which the structural mask also finds
                _ => {}
            }
        }
        if !each_quote && upto > 0 {
            // the string open at the last byte read started after the last quote
            open = match (in_strings >> (upto - 1) & 1 == 1, quotes) {
                (false, _) => None,
                (true, 0) => open,
                (true, quotes) => Some(at + BLOCK - quotes.leading_zeros() as usize),
            };
        }
        let end = at + upto;
        if let Some(start) = open
            && end - start > bounds.max_string_bytes
        {
            return Err(bounds.string_past());
        }
        if upto < len {
            return Ok(Stop::Handoff { at: end, string: open.map(|start| end - start) });
        }
        at = end;
    }
    Ok(Stop::Handoff { at, string: open.map(|start| at - start) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: ReplyBounds = ReplyBounds { max_items: 100, max_fields: 100, max_depth: 100, max_string_bytes: 100 };
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

    #[test]
    fn a_walk_closes_where_its_container_does_whatever_the_block_boundaries() {
        for pad in 0..70 {
            let body = format!(r#"{{"k": [{}"x,]}}", {{"a": [1, {{}}]}}], "z": 1}} tail"#, " ".repeat(pad));
            let mut stack = Vec::new();
            let closed = body.find(" tail").unwrap();
            assert_eq!(skim(body.as_bytes(), 0, &mut stack, &BOUNDS, 0), Ok(Stop::Closed(closed)), "pad {pad}");
            assert!(stack.is_empty());
        }
    }

    #[test]
    fn a_walk_hands_escapes_and_the_end_to_its_caller() {
        let body = br#"{"ab\"c": 1}"#;
        let mut stack = Vec::new();
        assert_eq!(skim(body, 0, &mut stack, &BOUNDS, 0), Ok(Stop::Handoff { at: 4, string: Some(2) }));
        let open = format!(r#"[{{"long": "{}"#, "x".repeat(90));
        let mut stack = Vec::new();
        assert_eq!(
            skim(open.as_bytes(), 0, &mut stack, &BOUNDS, 0),
            Ok(Stop::Handoff { at: open.len(), string: Some(90) })
        );
        assert_eq!(stack, [(true, 0), (false, 0)]);
    }

    #[test]
    fn a_walk_refuses_what_is_past_the_bounds() {
        for body in [&br#"[1,2,3,4]"#[..], br#"{"a":1,"b":2,"c":3}"#, br#"[[[[1]]]]"#, br#"["abcdef"]"#, br#"["abcdef"#]
        {
            assert!(skim(body, 0, &mut Vec::new(), &SMALL, 0).is_err(), "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(skim(br#"["abcde"]"#, 0, &mut Vec::new(), &SMALL, 0), Ok(Stop::Closed(9)));
        // strings crossing blocks, against a bound longer than a block
        for pad in 0..BLOCK {
            let at_most = format!(r#"[{}"{}", "{}"]"#, " ".repeat(pad), "x".repeat(100), "y".repeat(99));
            assert_eq!(skim(at_most.as_bytes(), 0, &mut Vec::new(), &BOUNDS, 0), Ok(Stop::Closed(at_most.len())));
            for past in [
                format!(r#"[{}"{}"]"#, " ".repeat(pad), "x".repeat(101)),
                format!(r#"[{}"{}"#, " ".repeat(pad), "x".repeat(101)),
            ] {
                assert!(skim(past.as_bytes(), 0, &mut Vec::new(), &BOUNDS, 0).is_err(), "pad {pad}");
            }
        }
    }
}
