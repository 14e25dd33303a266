//! Event timestamps: parsed from ISO 8601 / RFC 3339, sent as UTC with milliseconds and `Z`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time kept to the millisecond, written as `2026-02-02T16:35:39.317Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

/// Why a string is not an acceptable timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampError(String);

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimestampError {}

/// 0001-01-01T00:00:00Z in Unix milliseconds.
const MIN_MILLIS: i64 = -62_135_596_800_000;
/// 9999-12-30T22:00:00.999Z in Unix milliseconds: the last millisecond jiff represents.
const MAX_MILLIS: i64 = 253_402_207_200_999;
/// Fraction digits jiff reads; more are truncated before parsing.
const MAX_FRACTION_DIGITS: usize = 9;

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self::from_jiff(jiff::Timestamp::now()).expect("the clock is within years 1-9999")
    }

    /// A timestamp from Unix milliseconds, if within years 0001–9999 UTC.
    pub fn from_unix_millis(millis: i64) -> Result<Self, TimestampError> {
        if (MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            Ok(Timestamp { millis })
        } else {
            Err(TimestampError(
                "must be between the years 0001 and 9999 in UTC".into(),
            ))
        }
    }

    /// Unix time in milliseconds.
    pub fn unix_millis(self) -> i64 {
        self.millis
    }

    /// Parses an ISO 8601 date-time with a UTC offset (`Z`, `+05:30`, `-0800`), any fraction.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let trimmed = truncate_fraction(text);
        let parsed = jiff::Timestamp::from_str(&trimmed).map_err(|_| {
            TimestampError(
                "must be an ISO 8601 date-time with a UTC offset, like 2026-02-02T16:35:39.317Z"
                    .into(),
            )
        })?;
        Self::from_jiff(parsed)
    }

    fn from_jiff(ts: jiff::Timestamp) -> Result<Self, TimestampError> {
        // Floor, not truncation toward zero, so times before 1970 keep their second.
        let millis = ts.as_nanosecond().div_euclid(1_000_000);
        Self::from_unix_millis(i64::try_from(millis).unwrap_or(i64::MAX))
    }

    /// The wire form: UTC, exactly three fraction digits, `Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

/// Keeps at most nine fraction digits so that longer fractions still parse (and truncate).
fn truncate_fraction(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(dot) = bytes.iter().position(|&b| b == b'.' || b == b',') else {
        return text.into();
    };
    let digits = bytes[dot + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits <= MAX_FRACTION_DIGITS {
        return text.into();
    }
    let keep_to = dot + 1 + MAX_FRACTION_DIGITS;
    let resume = dot + 1 + digits;
    format!("{}{}", &text[..keep_to], &text[resume..]).into()
}

impl Timestamp {
    /// The 24 bytes of the wire form, e.g. `2026-02-02T16:35:39.317Z`.
    pub(crate) fn wire_bytes(self) -> [u8; 24] {
        let nanos = i128::from(self.millis) * 1_000_000;
        let ts =
            jiff::Timestamp::from_nanosecond(nanos).expect("millis are kept within jiff's range");
        let dt = jiff::tz::Offset::UTC.to_datetime(ts);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        // Years are 1..=9999 by construction, so every field is non-negative.
        put_digits(&mut out[0..4], dt.year() as u32);
        put_digits(&mut out[5..7], dt.month() as u32);
        put_digits(&mut out[8..10], dt.day() as u32);
        put_digits(&mut out[11..13], dt.hour() as u32);
        put_digits(&mut out[14..16], dt.minute() as u32);
        put_digits(&mut out[17..19], dt.second() as u32);
        put_digits(&mut out[20..23], dt.millisecond() as u32);
        out
    }
}

/// Writes `value` as zero-padded decimal filling `out`.
fn put_digits(out: &mut [u8], mut value: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.wire_bytes();
        f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let bytes = self.wire_bytes();
        let text = std::str::from_utf8(&bytes).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Timestamp::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_to_utc_millis_z() {
        assert_eq!(
            norm("2019-05-01T01:15:55.619355Z"),
            "2019-05-01T01:15:55.619Z"
        );
        assert_eq!(norm("2026-02-02T16:35:39.317Z"), "2026-02-02T16:35:39.317Z");
        assert_eq!(norm("2026-02-02T16:35:39Z"), "2026-02-02T16:35:39.000Z");
        assert_eq!(
            norm("2026-02-02T18:35:39.5+02:00"),
            "2026-02-02T16:35:39.500Z"
        );
        assert_eq!(
            norm("2026-02-02T08:35:39.317-08:00"),
            "2026-02-02T16:35:39.317Z"
        );
        assert_eq!(
            norm("2019-05-01T01:15:55.6193551234567Z"),
            "2019-05-01T01:15:55.619Z"
        );
    }

    #[test]
    fn truncates_rather_than_rounds() {
        assert_eq!(
            norm("2019-05-01T01:15:55.9999Z"),
            "2019-05-01T01:15:55.999Z"
        );
    }

    #[test]
    fn before_1970_truncates_toward_the_past_consistently() {
        let t = Timestamp::parse("1969-12-31T23:59:59.9999Z").unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn refuses_dates_without_offset_or_time_and_garbage() {
        for bad in [
            "2019-05-01",
            "2019-05-01T01:15:55",
            "yesterday",
            "",
            "2019-13-01T00:00:00Z",
            "2019-02-30T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn refuses_years_that_leave_0001_to_9999_in_utc() {
        assert!(Timestamp::parse("9999-12-31T23:00:00-05:00").is_err());
        assert!(Timestamp::parse("0001-01-01T00:00:00Z").is_ok());
        assert!(Timestamp::parse("9999-12-30T22:00:00.999Z").is_ok());
        assert!(Timestamp::parse("0000-12-31T23:59:59.999Z").is_err());
        assert!(Timestamp::from_unix_millis(MAX_MILLIS).is_ok());
        assert!(Timestamp::from_unix_millis(MAX_MILLIS + 1).is_err());
        assert_eq!(
            Timestamp::from_unix_millis(MAX_MILLIS).unwrap().to_string(),
            "9999-12-30T22:00:00.999Z"
        );
    }

    #[test]
    fn serde_round_trip() {
        let t = Timestamp::parse("2026-02-02T16:35:39.317Z").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-02-02T16:35:39.317Z\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }
}
