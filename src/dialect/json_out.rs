//! The one JSON writer of the edge encoders, for the replies whose shape is
//! fixed and whose size grows with the images in them (a 1000-image list),
//! written image by image into one buffer. Strings go out as they are when
//! nothing in them needs escaping, the usual case, checked a word at a
//! time; serde_json checks and copies them byte by byte. The output is
//! byte for byte what serde_json writes.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

/// `"s"`, escaped as JSON requires.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    string_piece(out, s);
    out.push(b'"');
}

/// `s` escaped, without the quotes: a piece of a longer string.
pub fn string_piece(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s) {
        escaped(out, s);
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Any value, through serde_json.
pub fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(out, v).expect("a value with string keys writes to a Vec");
}

/// `[v, …]` of values kept as they came.
pub fn values(out: &mut Vec<u8>, items: &[Value]) {
    value(out, items);
}

/// A number as `Display` writes it.
pub fn number(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    // writing into a Vec cannot fail
    let _ = write!(out, "{n}");
}

/// An integer, written by serde_json's digit writer rather than through
/// `fmt`: images carry several each.
pub fn integer(out: &mut Vec<u8>, n: i64) {
    value(out, &n);
}

/// Whether JSON needs anything in `s` escaped: a quote, a backslash or a
/// control character. Without an early exit, so the loop vectorizes.
fn needs_escape(s: &str) -> bool {
    s.bytes().fold(false, |found, b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// `s` with quotes, backslashes and control characters escaped as
/// serde_json escapes them.
fn escaped(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x00..=0x1f => {
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
            }
            _ => out.push(b),
        }
    }
}

/// An object being written: `{`, then `"key":value` pairs, then `}`.
pub struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    pub fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Writes `"key":` and hands back the buffer for the value. Keys are
    /// fixed ASCII names that need no escaping.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    pub fn string(&mut self, key: &str, value: &str) {
        string(self.key(key), value);
    }

    pub fn number(&mut self, key: &str, value: impl std::fmt::Display) {
        number(self.key(key), value);
    }

    pub fn integer(&mut self, key: &str, value: i64) {
        integer(self.key(key), value);
    }

    pub fn boolean(&mut self, key: &str, value: bool) {
        self.key(key).extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_come_out_as_serde_json_writes_them() {
        for s in [
            "",
            "plain",
            "a \"quoted\" name",
            "back\\slash",
            "tab\there\nnew\rline",
            "nul\0 \u{8}\u{c}\u{1f}",
            "del\u{7f}",
            "é ☃ 😀 漢 /",
            "</script>",
        ] {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
            let mut piece = b"x".to_vec();
            string_piece(&mut piece, s);
            let quoted = serde_json::to_string(s).unwrap();
            assert_eq!(String::from_utf8(piece).unwrap(), format!("x{}", &quoted[1..quoted.len() - 1]), "{s:?}");
        }
    }

    #[test]
    fn objects_and_values_come_out_as_serde_json_writes_them() {
        let v = json!({"a": [1, -2, 0.5, true, null, "x\"y"], "b": {"c": {}}, "d": []});
        let mut out = Vec::new();
        let mut o = Object::open(&mut out);
        o.string("name", "n\"1");
        o.integer("id", -7);
        o.number("price", 0.5);
        o.boolean("isPublic", true);
        values(o.key("list"), v["a"].as_array().unwrap());
        value(o.key("v"), &v);
        o.close();
        let expected = json!({"name": "n\"1", "id": -7, "price": 0.5, "isPublic": true, "list": v["a"], "v": v});
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&expected).unwrap());
    }
}
