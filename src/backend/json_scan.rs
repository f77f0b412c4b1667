//! Walking JSON bytes for the reply bounds ([`super::shape`]) and the list
//! splitter ([`super::items`]), which both pass over every byte of a reply
//! while most of its bytes are string contents they have nothing to do
//! with. [`skim`] classifies 64 bytes at a time into bit masks (quotes,
//! backslashes, structural bytes) and acts only on the structural bytes
//! outside strings and on the quotes, where a byte at a time (and `memchr`
//! for each string's end) cost about 7,500 instructions an image of a
//! 1000-image list (docs/PERFORMANCE.md, "A 1000-image list").

use wide::u8x16;

use super::shape::{PastBound, ReplyBounds};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bytes classified at once.
const BLOCK: usize = 64;

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
        let block = match body.get(at..at + BLOCK) {
            Some(whole) => Block::of(whole.try_into().expect("a block")),
            None => {
                let mut padded = [b' '; BLOCK];
                padded[..len].copy_from_slice(&body[at..]);
                Block::of(&padded)
            }
        };
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

/// Bit `i` set for each byte `i` of up to 64 bytes that is of the class.
struct Block {
    quotes: u64,
    backslashes: u64,
    /// `{`, `}`, `[`, `]` and `,`; also `Y`, `y`, `_` and DEL, which fold
    /// onto the brackets as they do (set bit 5, clear bits 1 and 2: 0x79)
    /// and are passed over.
    structural: u64,
}

impl Block {
    /// The masks of `bytes`, sixteen at a time (SSE2 on x86-64, NEON on
    /// aarch64, through `wide`).
    fn of(bytes: &[u8; BLOCK]) -> Self {
        let (mut quotes, mut backslashes, mut structural) = (0, 0, 0);
        for (i, lane) in bytes.chunks_exact(16).enumerate() {
            let v = u8x16::new(lane.try_into().expect("sixteen bytes"));
            let brackets = (v | u8x16::splat(0x20)) & !u8x16::splat(0x06);
            let shift = 16 * i;
            quotes |= u64::from(v.simd_eq(u8x16::splat(b'"')).to_bitmask()) << shift;
            backslashes |= u64::from(v.simd_eq(u8x16::splat(b'\\')).to_bitmask()) << shift;
            let found = brackets.simd_eq(u8x16::splat(0x79)) | v.simd_eq(u8x16::splat(b','));
            structural |= u64::from(found.to_bitmask()) << shift;
        }
        Self { quotes, backslashes, structural }
    }

    /// [`Block::of`], a byte at a time: what it is tested against.
    #[cfg(test)]
    fn of_bytewise(bytes: &[u8]) -> Self {
        let mut block = Self { quotes: 0, backslashes: 0, structural: 0 };
        for (i, &b) in bytes.iter().enumerate() {
            let bit = 1 << i;
            match b {
                b'"' => block.quotes |= bit,
                b'\\' => block.backslashes |= bit,
                b',' => block.structural |= bit,
                _ if (b | 0x20) & !0x06 == 0x79 => block.structural |= bit,
                _ => {}
            }
        }
        block
    }
}

/// Bit `i` set when an odd number of bits up to `i` are: the bytes from an
/// opening quote up to (not with) its closing one.
fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// The high bit of each byte of `word` that is `byte`: exact for the lowest
/// one, which is all that is used.
fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The position of the next `"` or `\` from `at` on, inside a string, or
/// the body's length; eight bytes at a time, which for the short strings of
/// an image costs less than `memchr`.
pub fn next_quote_or_escape(body: &[u8], mut at: usize) -> usize {
    while let Some(chunk) = body.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let found = equal_bytes(word, b'"') | equal_bytes(word, b'\\');
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let rest = body.get(at..).unwrap_or_default();
    rest.iter().position(|&b| matches!(b, b'"' | b'\\')).map_or(body.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: ReplyBounds = ReplyBounds { max_items: 100, max_fields: 100, max_depth: 100, max_string_bytes: 100 };

    #[test]
    fn the_scan_stops_at_every_structural_byte_whatever_its_place_in_a_block() {
        let body = br#"{"a": [1, 2 , {"b" :true}], "c" : null  ,"d":[  ]} {"e": "Yy_,{[]}\u007f"}  "#;
        for start in 0..body.len() {
            let mut lane = [b' '; BLOCK];
            let end = (start + BLOCK).min(body.len());
            lane[..end - start].copy_from_slice(&body[start..end]);
            let (fast, bytewise) = (Block::of(&lane), Block::of_bytewise(&lane));
            assert_eq!(
                (fast.quotes, fast.backslashes, fast.structural),
                (bytewise.quotes, bytewise.backslashes, bytewise.structural),
                "from {start}"
            );
        }
        let classes = Block::of_bytewise(b"\"\\,{}[]Yy_\x7fa:0 ");
        assert_eq!((classes.quotes, classes.backslashes, classes.structural), (0b1, 0b10, 0b111_1111_1100));
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
        let small = ReplyBounds { max_items: 3, max_fields: 2, max_depth: 3, max_string_bytes: 5 };
        for body in [&br#"[1,2,3,4]"#[..], br#"{"a":1,"b":2,"c":3}"#, br#"[[[[1]]]]"#, br#"["abcdef"]"#, br#"["abcdef"#]
        {
            assert!(skim(body, 0, &mut Vec::new(), &small, 0).is_err(), "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(skim(br#"["abcde"]"#, 0, &mut Vec::new(), &small, 0), Ok(Stop::Closed(9)));
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

    #[test]
    fn a_string_ends_at_its_first_quote_or_escape_whatever_its_place_in_a_word() {
        for body in [&br#"abc\"defghijklmnop"q\\rstuvwxyz0123456789"\n"#[..], "é日本語\"ü\\".as_bytes()] {
            let mut expected: Vec<usize> =
                body.iter().enumerate().filter(|(_, b)| b"\"\\".contains(b)).map(|(i, _)| i).collect();
            expected.push(body.len());
            for start in 0..=body.len() {
                let next = expected.iter().copied().find(|&i| i >= start).unwrap();
                assert_eq!(next_quote_or_escape(body, start), next, "from {start}");
            }
        }
    }
}
