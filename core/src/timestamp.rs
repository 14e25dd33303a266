//! Event timestamps: parsed from RFC 3339 date-times, sent as UTC with milliseconds and `Z`.

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

/// 0001-01-01T00:00:00.000Z in Unix milliseconds.
const MIN_MILLIS: i64 = -62_135_596_800_000;
/// 9999-12-31T23:59:59.999Z in Unix milliseconds.
const MAX_MILLIS: i64 = 253_402_300_799_999;
const MILLIS_PER_DAY: i64 = 86_400_000;

const GRAMMAR: &str = "must be an RFC 3339 date-time, YYYY-MM-DDTHH:MM:SS[.fraction] then Z or \
                       +HH:MM or -HH:MM, like 2026-02-02T16:35:39.317Z";
const RANGE: &str = "must be between the years 0001 and 9999 in UTC";

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        let millis = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => {
                i64::try_from(e.duration().as_micros().div_ceil(1000)).map_or(i64::MIN, |m| -m)
            }
        };
        Self::from_unix_millis(millis).expect("the clock is within years 1-9999")
    }

    /// A timestamp from Unix milliseconds, if within years 0001–9999 UTC.
    pub fn from_unix_millis(millis: i64) -> Result<Self, TimestampError> {
        if (MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            Ok(Timestamp { millis })
        } else {
            Err(TimestampError(RANGE.into()))
        }
    }

    /// Unix time in milliseconds.
    pub fn unix_millis(self) -> i64 {
        self.millis
    }

    /// Parses an RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS`, an optional `.` fraction of
    /// any length (truncated to milliseconds), then `Z` or `±HH:MM` (`T`, `Z` in either case).
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let fields = Fields::read(text.as_bytes()).ok_or_else(|| TimestampError(GRAMMAR.into()))?;
        Self::from_unix_millis(fields.unix_millis())
    }

    /// The wire form: UTC, exactly three fraction digits, `Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

/// The parts of an RFC 3339 date-time, each within its own range.
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
    /// East of UTC, in minutes.
    offset_minutes: i64,
}

impl Fields {
    /// Reads `b` as exactly one RFC 3339 `date-time`; `None` when it is anything else.
    fn read(b: &[u8]) -> Option<Fields> {
        let (head, rest) = b.split_at_checked(19)?;
        let sep = |i: usize, c: u8| (head[i] == c).then_some(());
        sep(4, b'-')?;
        sep(7, b'-')?;
        matches!(head[10], b'T' | b't').then_some(())?;
        sep(13, b':')?;
        sep(16, b':')?;
        let year = number(&head[0..4])?;
        let month = number(&head[5..7]).filter(|m| (1..=12).contains(m))?;
        let day = number(&head[8..10]).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
        let hour = number(&head[11..13]).filter(|&h| h <= 23)?;
        let minute = number(&head[14..16]).filter(|&m| m <= 59)?;
        // RFC 3339 allows a leap second (60); it is kept as second 59.
        let second = number(&head[17..19]).filter(|&s| s <= 60)?.min(59);
        let (millis, rest) = match rest.split_first() {
            Some((b'.', tail)) => {
                let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                let mut ms = 0;
                for i in 0..3 {
                    ms = ms * 10
                        + tail
                            .get(i)
                            .filter(|_| i < digits)
                            .map_or(0, |c| i64::from(c - b'0'));
                }
                (ms, &tail[digits..])
            }
            _ => (0, rest),
        };
        let offset_minutes = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let hours = number(&[*h1, *h2]).filter(|&h| h <= 23)?;
                let minutes = number(&[*m1, *m2]).filter(|&m| m <= 59)?;
                let east = hours * 60 + minutes;
                if *sign == b'-' {
                    -east
                } else {
                    east
                }
            }
            _ => return None,
        };
        Some(Fields {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
            offset_minutes,
        })
    }

    /// The instant in Unix milliseconds (any year 0000–9999 with any offset fits an `i64`).
    fn unix_millis(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let minutes = self.hour * 60 + self.minute - self.offset_minutes;
        days * MILLIS_PER_DAY + (minutes * 60 + self.second) * 1000 + self.millis
    }
}

/// The value of ASCII decimal digits; `None` if any byte is not a digit.
fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Timestamp {
    /// The 24 bytes of the wire form, e.g. `2026-02-02T16:35:39.317Z`.
    pub(crate) fn wire_bytes(self) -> [u8; 24] {
        let days = self.millis.div_euclid(MILLIS_PER_DAY);
        let in_day = self.millis.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let mut out = *b"0000-00-00T00:00:00.000Z";
        // Years are 1..=9999 by construction, so every field is non-negative.
        put_digits(&mut out[0..4], year as u32);
        put_digits(&mut out[5..7], month as u32);
        put_digits(&mut out[8..10], day as u32);
        put_digits(&mut out[11..13], (in_day / 3_600_000) as u32);
        put_digits(&mut out[14..16], (in_day / 60_000 % 60) as u32);
        put_digits(&mut out[17..19], (in_day / 1000 % 60) as u32);
        put_digits(&mut out[20..23], (in_day % 1000) as u32);
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
            "2019-02-29T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn accepts_exactly_the_rfc_3339_date_time_grammar() {
        for (good, wire) in [
            ("2026-01-01t00:00:00z", "2026-01-01T00:00:00.000Z"),
            ("2026-01-01T00:00:00+23:59", "2025-12-31T00:01:00.000Z"),
            ("2026-01-01T00:00:00-00:00", "2026-01-01T00:00:00.000Z"),
            ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.000Z"),
            ("2024-02-29T12:00:00.1Z", "2024-02-29T12:00:00.100Z"),
            ("2000-02-29T12:00:00Z", "2000-02-29T12:00:00.000Z"),
        ] {
            assert_eq!(norm(good), wire, "{good}");
        }
        for bad in [
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+23:60",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00+01",
            "20260101T000000Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:61Z",
            "2026-01-01T00:00:00,5Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00Z ",
            " 2026-01-01T00:00:00Z",
            "+2026-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "2026-01-01T00:00:00[UTC]",
            "2026-01-01T00:00:00Z[UTC]",
            "1900-02-29T00:00:00Z",
            "2026-01-01T00:00:00.000",
            "२०२६-01-01T00:00:00Z",
        ] {
            let e = Timestamp::parse(bad).expect_err(bad);
            assert_eq!(e.to_string(), GRAMMAR, "{bad}");
        }
    }

    #[test]
    fn accepts_every_instant_in_years_0001_to_9999_utc() {
        for (good, wire) in [
            ("9999-12-30T22:00:01Z", "9999-12-30T22:00:01.000Z"),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"),
            ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999Z"),
            ("9999-12-31T23:59:59.999+00:00", "9999-12-31T23:59:59.999Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
            ("0000-12-31T23:00:00-01:00", "0001-01-01T00:00:00.000Z"),
            ("0001-01-01T23:59:59.999+23:59", "0001-01-01T00:00:59.999Z"),
            ("9999-12-31T00:00:00-23:59", "9999-12-31T23:59:00.000Z"),
        ] {
            assert_eq!(norm(good), wire, "{good}");
        }
        for bad in [
            "9999-12-31T23:00:00-05:00",
            "0000-12-31T23:59:59.999Z",
            "0001-01-01T00:30:00+01:00",
            "0000-01-01T00:00:00Z",
        ] {
            let e = Timestamp::parse(bad).expect_err(bad);
            assert_eq!(e.to_string(), RANGE, "{bad}");
        }
    }

    #[test]
    fn unix_millis_range_is_years_0001_to_9999() {
        assert!(Timestamp::from_unix_millis(MIN_MILLIS).is_ok());
        assert!(Timestamp::from_unix_millis(MIN_MILLIS - 1).is_err());
        assert!(Timestamp::from_unix_millis(MAX_MILLIS + 1).is_err());
        assert_eq!(
            Timestamp::from_unix_millis(MAX_MILLIS).unwrap().to_string(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(MIN_MILLIS).unwrap().to_string(),
            "0001-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn wire_form_matches_the_calendar_across_the_range() {
        // Every 13th day from 0001 to 9999: parse(wire) gives the same instant.
        let mut day = MIN_MILLIS + 45_296_789;
        while day <= MAX_MILLIS {
            let t = Timestamp::from_unix_millis(day).unwrap();
            assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
            day += 13 * MILLIS_PER_DAY;
        }
        assert_eq!(
            Timestamp::from_unix_millis(-1).unwrap().to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(951_782_400_000)
                .unwrap()
                .to_string(),
            "2000-02-29T00:00:00.000Z"
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
