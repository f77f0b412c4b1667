//! Nova's timestamps: rendered `YYYY-MM-DDTHH:MM:SSZ` (`utils.isotime`),
//! read leniently as ISO 8601 (`changes-since`, upstream bodies).

use crate::dialect::timestamp::utc_seconds;
use std::fmt;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Renders an instant as Nova does: UTC, whole seconds, `Z`.
#[derive(Debug, Clone, Copy)]
pub struct Iso(pub OffsetDateTime);

impl fmt::Display for Iso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_seconds(f, self.0)?;
        f.write_str("Z")
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of the instant in UTC.
fn write_seconds(f: &mut fmt::Formatter<'_>, t: OffsetDateTime) -> fmt::Result {
    let t = t.to_offset(UtcOffset::UTC);
    write!(
        f,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Iso {
    /// The rendered form as fixed-width digits, for years 0 to 9999: what
    /// every reply carries, written without the formatting machinery.
    pub fn digits(&self) -> Option<[u8; 20]> {
        let seconds = utc_seconds(self.0)?;
        let mut out = [b'Z'; 20];
        out[..19].copy_from_slice(&seconds);
        Some(out)
    }
}

impl serde::Serialize for Iso {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.digits() {
            Some(digits) => s.serialize_str(std::str::from_utf8(&digits).unwrap_or_default()),
            None => s.collect_str(self),
        }
    }
}

/// Like [`Iso`], with the fraction of a second when there is one, so an
/// upstream filter is never looser than the caller's.
#[derive(Debug, Clone, Copy)]
pub struct IsoPrecise(pub OffsetDateTime);

impl fmt::Display for IsoPrecise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_seconds(f, self.0)?;
        let nanos = self.0.nanosecond();
        if nanos != 0 {
            let mut digits = nanos;
            let mut width = 9;
            while digits.is_multiple_of(10) {
                digits /= 10;
                width -= 1;
            }
            write!(f, ".{digits:0width$}")?;
        }
        f.write_str("Z")
    }
}

/// Reads `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM|±HH]`; no zone
/// means UTC.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    let mut p = Cursor { b: s.trim().as_bytes(), i: 0 };
    let year = p.digits(4)?;
    p.expect(b'-')?;
    let month = Month::try_from(u8::try_from(p.digits(2)?).ok()?).ok()?;
    p.expect(b'-')?;
    let day = u8::try_from(p.digits(2)?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()?;
    if p.done() {
        return Some(date.midnight().assume_utc());
    }
    if !matches!(p.next()?, b'T' | b't' | b' ') {
        return None;
    }
    let time = p.time()?;
    let offset = p.offset()?;
    p.done().then(|| PrimitiveDateTime::new(date, time).assume_offset(offset).to_offset(UtcOffset::UTC))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i == self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }

    fn time(&mut self) -> Option<Time> {
        let hour = self.digits(2)?;
        self.expect(b':')?;
        let minute = self.digits(2)?;
        let mut second = 0;
        let mut nanos = 0;
        if self.peek() == Some(b':') {
            self.i += 1;
            second = self.digits(2)?;
            if matches!(self.peek(), Some(b'.' | b',')) {
                self.i += 1;
                nanos = self.fraction()?;
            }
        }
        Time::from_hms_nano(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, u8::try_from(second).ok()?, nanos)
            .ok()
    }

    /// Fraction digits as nanoseconds; digits past the ninth are dropped.
    fn fraction(&mut self) -> Option<u32> {
        let start = self.i;
        let mut nanos = 0u32;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            if self.i - start < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
            self.i += 1;
        }
        let count = self.i - start;
        if count == 0 {
            return None;
        }
        Some(nanos * 10u32.pow(9u32.saturating_sub(u32::try_from(count).ok()?)))
    }

    fn offset(&mut self) -> Option<UtcOffset> {
        let sign = match self.peek() {
            None => return Some(UtcOffset::UTC),
            Some(b'Z' | b'z') => {
                self.i += 1;
                return Some(UtcOffset::UTC);
            }
            Some(b'+') => 1i8,
            Some(b'-') => -1i8,
            Some(_) => return None,
        };
        self.i += 1;
        let hours = i8::try_from(self.digits(2)?).ok()?;
        if self.peek() == Some(b':') {
            self.i += 1;
        }
        let minutes = if self.done() { 0 } else { i8::try_from(self.digits(2)?).ok()? };
        UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn renders_like_nova() {
        assert_eq!(Iso(datetime!(2011-01-01 01:02:03.75 UTC)).to_string(), "2011-01-01T01:02:03Z");
        assert_eq!(Iso(datetime!(2011-01-01 03:02:03 +02:00)).to_string(), "2011-01-01T01:02:03Z");
    }

    #[test]
    fn serializes_as_it_displays() {
        for t in [
            datetime!(2011-01-01 01:02:03.75 UTC),
            datetime!(2011-01-01 03:02:03 +02:00),
            datetime!(0001-02-03 04:05:06 UTC),
            datetime!(9999-12-31 23:59:59 UTC),
            datetime!(-0001-01-01 0:00 UTC),
        ] {
            let json = serde_json::to_string(&Iso(t)).unwrap();
            assert_eq!(json, format!("\"{}\"", Iso(t)), "{t}");
        }
    }

    #[test]
    fn precise_form_keeps_the_fraction() {
        assert_eq!(IsoPrecise(datetime!(2011-01-01 01:02:03.75 UTC)).to_string(), "2011-01-01T01:02:03.75Z");
        assert_eq!(IsoPrecise(datetime!(2011-01-01 01:02:03 UTC)).to_string(), "2011-01-01T01:02:03Z");
    }

    #[test]
    fn reads_iso_8601_forms() {
        let t = datetime!(2011-01-01 01:02:03 UTC);
        assert_eq!(parse("2011-01-01T01:02:03Z"), Some(t));
        assert_eq!(parse("2011-01-01T01:02:03"), Some(t));
        assert_eq!(parse("2011-01-01 01:02:03"), Some(t));
        assert_eq!(parse("2011-01-01T03:02:03+02:00"), Some(t));
        assert_eq!(parse("2011-01-01T00:02:03-0100"), Some(t));
        assert_eq!(parse("2011-01-01T03:02:03+02"), Some(t));
        assert_eq!(parse("2011-01-01T01:02:03.5Z"), Some(datetime!(2011-01-01 01:02:03.5 UTC)));
        assert_eq!(parse("2015-11-07T02:58:43.578887Z"), Some(datetime!(2015-11-07 02:58:43.578887 UTC)));
        assert_eq!(parse("2011-01-01T01:02"), Some(datetime!(2011-01-01 01:02 UTC)));
        assert_eq!(parse("2011-01-01"), Some(datetime!(2011-01-01 0:00 UTC)));
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in ["", "yesterday", "2011-13-01", "2011-02-30T00:00:00", "2011-01-01T25:00:00", "2011-01-01T01:02:03X"]
        {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse("2011-01-01T01:02:03."), None);
        assert_eq!(parse("2011-01-01T01:02:03+2"), None);
    }
}
