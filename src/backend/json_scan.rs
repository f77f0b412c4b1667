//! Classifying JSON bytes 64 at a time into bit masks (quotes,
//! backslashes, structural bytes), for the walks over every byte of a reply:
//! the reply bounds and the list splitter ([`super::shape::skim`]). Most
//! of a reply's bytes are string contents those walks have nothing to do
//! with; a byte at a time (and `memchr` for each string's end) cost about
//! 7,500 instructions an image of a 1000-image list, 64 at a time 2,900
//! (docs/PERFORMANCE.md, "A 1000-image list").

use wide::u8x16;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bytes classified at once.
pub const BLOCK: usize = 64;

/// Bit `i` set for each byte `i` of up to 64 bytes that is of the class.
pub struct Block {
    pub quotes: u64,
    pub backslashes: u64,
    /// `{`, `}`, `[`, `]` and `,`; also `Y`, `y`, `_` and DEL, which fold
    /// onto the brackets as they do (set bit 5, clear bits 1 and 2: 0x79)
    /// and are passed over.
    pub structural: u64,
}

impl Block {
    /// The masks of the 64 bytes of `body` from `at`, or of those left,
    /// padded with white space.
    pub fn read(body: &[u8], at: usize) -> Self {
        match body.get(at..at + BLOCK) {
            Some(whole) => Self::of(whole.try_into().expect("a block")),
            None => {
                let mut padded = [b' '; BLOCK];
                padded[..body.len() - at].copy_from_slice(&body[at..]);
                Self::of(&padded)
            }
        }
    }

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
pub fn prefix_xor(mut bits: u64) -> u64 {
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
