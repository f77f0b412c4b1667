use time::{OffsetDateTime, UtcOffset};

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
