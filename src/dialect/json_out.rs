//! JSON written by hand, for the replies whose shape is fixed and whose
//! size grows with the images in them (a 1000-image list). Strings go out
//! as they are when nothing in them needs escaping, the usual case, checked
//! a word at a time; serde_json checks and copies them byte by byte. The
//! output is byte for byte what serde_json writes.

use serde::Serialize;

/// `"s"`, escaped as JSON requires.
pub fn string(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s) {
        value(out, s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// `s` escaped, without the quotes: a piece of a longer string.
pub fn string_piece(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s) {
        let start = out.len();
        value(out, s);
        // drop the quotes serde_json put around it
        out.pop();
        out.remove(start);
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Any value, through serde_json.
pub fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    serde_json::to_writer(out, v).expect("a value with string keys writes to a Vec");
}

/// Whether JSON needs anything in `s` escaped: a quote, a backslash or a
/// control character. Without an early exit, so the loop vectorizes.
fn needs_escape(s: &str) -> bool {
    s.bytes().fold(false, |found, b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_out_as_serde_json_writes_them() {
        for s in
            ["", "plain", "a \"quoted\" name", "back\\slash", "tab\there", "nul\0", "del\u{7f}", "é ☃ 😀", "</script>"]
        {
            let mut out = Vec::new();
            string(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
            let mut piece = b"x".to_vec();
            string_piece(&mut piece, s);
            let quoted = serde_json::to_string(s).unwrap();
            assert_eq!(String::from_utf8(piece).unwrap(), format!("x{}", &quoted[1..quoted.len() - 1]), "{s:?}");
        }
    }
}
