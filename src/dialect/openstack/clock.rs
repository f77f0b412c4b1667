//! Nova's timestamps: rendered `YYYY-MM-DDTHH:MM:SSZ` (`utils.isotime`),
//! read leniently as ISO 8601 (`changes-since`, upstream bodies) by
//! [`parse_iso8601`](crate::dialect::timestamp::parse_iso8601).

use std::fmt;

use time::OffsetDateTime;

use crate::dialect::timestamp::{utc_seconds, write_utc_seconds};

/// Renders an instant as Nova does: UTC, whole seconds, `Z`.
#[derive(Debug, Clone, Copy)]
pub struct Iso(pub OffsetDateTime);

impl fmt::Display for Iso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_utc_seconds(f, self.0, 'T')?;
        f.write_str("Z")
    }
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
        write_utc_seconds(f, self.0, 'T')?;
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
}
