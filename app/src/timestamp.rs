//! A moment as the server functions send it, and its two text forms.

use serde::{Deserialize, Serialize};

/// A moment, as milliseconds since the Unix epoch (UTC). The server sends
/// this rather than chrono's `DateTime`, whose RFC 3339 parser would
/// otherwise be compiled into the browser's WASM (see `utc_text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

#[cfg(any(feature = "ssr", test))]
impl From<chrono::DateTime<chrono::Utc>> for Timestamp {
    fn from(at: chrono::DateTime<chrono::Utc>) -> Self {
        Timestamp(at.timestamp_millis())
    }
}

// The two formats by hand rather than with chrono: its parser and format-string
// machinery would otherwise be compiled into the browser's WASM.

/// `2026-11-25 17:04:05 UTC`
pub fn utc_text(at: Timestamp) -> String {
    let c = Civil::of(at);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// RFC 3339 with milliseconds, `2026-11-25T17:04:05.123Z`
pub fn iso_millis(at: Timestamp) -> String {
    let c = Civil::of(at);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis)
}

/// A UTC date and time of day (proleptic Gregorian calendar).
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
}

impl Civil {
    /// Howard Hinnant's `civil_from_days`.
    fn of(at: Timestamp) -> Civil {
        let secs = at.0.div_euclid(1000);
        let millis = at.0.rem_euclid(1000) as u32;
        let days = secs.div_euclid(86_400);
        let of_day = secs.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], from March
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil { year, month, day, hour: of_day / 3600, minute: of_day / 60 % 60, second: of_day % 60, millis }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_match_chrono() {
        let mut samples =
            vec![0, -1, -86_400_000, 951_782_400_000, 1_764_090_245_123, 1_764_090_245_007, 253_402_300_799_999];
        // Every day of four centuries around the epoch, at a varying time of day.
        samples.extend((-73_000i64..73_000).map(|d| d * 86_400_000 + (d.rem_euclid(86_400) * 997)));
        for millis in samples {
            let at = chrono::Utc.timestamp_millis_opt(millis).unwrap();
            let ts = Timestamp(millis);
            assert_eq!(utc_text(ts), at.format("%Y-%m-%d %H:%M:%S UTC").to_string(), "{millis}");
            assert_eq!(iso_millis(ts), at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "{millis}");
            assert_eq!(Timestamp::from(at), ts);
        }
    }
}
