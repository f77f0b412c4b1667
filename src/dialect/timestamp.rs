//! Timestamps, read and written for every dialect: the fixed-width UTC
//! digits the replies carry, and the forms the dialects' bodies and queries
//! use (ISO 8601 as Nova reads it, RFC 3339, and zoneless UTC).

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `YYYY-MM-DDTHH:MM:SS` in UTC as fixed-width digits, written without the
/// formatting machinery; `None` for years outside 0 to 9999. Hostway writes
/// it as it is, OpenStack with a `Z` after it.
pub fn utc_seconds(t: OffsetDateTime) -> Option<[u8; 19]> {
    let t = t.to_offset(UtcOffset::UTC);
    let year = u16::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut out = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, width: usize, mut n: u16| {
        for i in (at..at + width).rev() {
            // n % 10 < 10: the cast keeps every bit
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, u16::from(u8::from(t.month())));
    put(8, 2, u16::from(t.day()));
    put(11, 2, u16::from(t.hour()));
    put(14, 2, u16::from(t.minute()));
    put(17, 2, u16::from(t.second()));
    Some(out)
}

/// `YYYY-MM-DD{separator}HH:MM:SS` of the instant in UTC, through the
/// formatting machinery: for years [`utc_seconds`] cannot write.
pub fn write_utc_seconds(f: &mut fmt::Formatter<'_>, t: OffsetDateTime, separator: char) -> fmt::Result {
    let t = t.to_offset(UtcOffset::UTC);
    write!(
        f,
        "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads RFC 3339, as UTC.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| t.to_offset(UtcOffset::UTC))
}

/// Reads exactly `YYYY-MM-DD{separator}HH:MM:SS`, as UTC: no fraction, no zone.
pub fn parse_utc_seconds(s: &str, separator: u8) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (10, separator), (13, b':'), (16, b':')];
    if b.len() != 19 || separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u16, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0')))
    };
    let small = |from, to| num(from, to).and_then(|n| u8::try_from(n).ok());
    let month = Month::try_from(small(5, 7)?).ok()?;
    let date = Date::from_calendar_date(i32::from(num(0, 4)?), month, small(8, 10)?).ok()?;
    let time = Time::from_hms(small(11, 13)?, small(14, 16)?, small(17, 19)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Reads `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM|±HH]`; no zone
/// means UTC.
pub fn parse_iso8601(s: &str) -> Option<OffsetDateTime> {
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
    fn utc_seconds_are_fixed_width_digits() {
        assert_eq!(utc_seconds(datetime!(2011-01-01 03:02:03.75 +02:00)), Some(*b"2011-01-01T01:02:03"));
        assert_eq!(utc_seconds(datetime!(0001-02-03 04:05:06 UTC)), Some(*b"0001-02-03T04:05:06"));
        assert_eq!(utc_seconds(datetime!(-0001-01-01 0:00 UTC)), None);
    }

    #[test]
    fn reads_utc_seconds_with_its_separator_only() {
        let t = datetime!(2011-09-30 02:38:57 UTC);
        assert_eq!(parse_utc_seconds("2011-09-30T02:38:57", b'T'), Some(t));
        assert_eq!(parse_utc_seconds("2011-09-30 02:38:57", b' '), Some(t));
        for bad in ["2011-09-30 02:38:57", "2011-09-30T02:38:57Z", "2011-09-30T24:00:00", "2011-02-30T02:38:57"] {
            assert_eq!(parse_utc_seconds(bad, b'T'), None, "{bad}");
        }
    }

    #[test]
    fn reads_iso_8601_forms() {
        let t = datetime!(2011-01-01 01:02:03 UTC);
        assert_eq!(parse_iso8601("2011-01-01T01:02:03Z"), Some(t));
        assert_eq!(parse_iso8601("2011-01-01T01:02:03"), Some(t));
        assert_eq!(parse_iso8601("2011-01-01 01:02:03"), Some(t));
        assert_eq!(parse_iso8601("2011-01-01T03:02:03+02:00"), Some(t));
        assert_eq!(parse_iso8601("2011-01-01T00:02:03-0100"), Some(t));
        assert_eq!(parse_iso8601("2011-01-01T03:02:03+02"), Some(t));
        assert_eq!(parse_iso8601("2011-01-01T01:02:03.5Z"), Some(datetime!(2011-01-01 01:02:03.5 UTC)));
        assert_eq!(parse_iso8601("2015-11-07T02:58:43.578887Z"), Some(datetime!(2015-11-07 02:58:43.578887 UTC)));
        assert_eq!(parse_iso8601("2011-01-01T01:02"), Some(datetime!(2011-01-01 01:02 UTC)));
        assert_eq!(parse_iso8601("2011-01-01"), Some(datetime!(2011-01-01 0:00 UTC)));
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in ["", "yesterday", "2011-13-01", "2011-02-30T00:00:00", "2011-01-01T25:00:00", "2011-01-01T01:02:03X"]
        {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        assert_eq!(parse_iso8601("2011-01-01T01:02:03."), None);
        assert_eq!(parse_iso8601("2011-01-01T01:02:03+2"), None);
    }
}
