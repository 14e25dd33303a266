//! Metadata: flat maps of string keys to string, number or boolean values.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::problem::{Path, Problems, Rule};

/// Most keys one metadata object may hold.
pub const MAX_METADATA_KEYS: usize = 50;
/// Longest metadata key, in characters.
pub const MAX_METADATA_KEY_CHARS: usize = 40;
/// Longest metadata string value, in characters.
pub const MAX_METADATA_STRING_CHARS: usize = 500;

/// A metadata value: a string, a number or a boolean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetadataValue {
    /// A string of at most 500 characters.
    String(String),
    /// A finite JSON number.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

/// A metadata object, keeping the caller's key order.
pub type Metadata = IndexMap<String, MetadataValue>;

impl From<&str> for MetadataValue {
    fn from(v: &str) -> Self {
        MetadataValue::String(v.to_owned())
    }
}

impl From<String> for MetadataValue {
    fn from(v: String) -> Self {
        MetadataValue::String(v)
    }
}

impl From<bool> for MetadataValue {
    fn from(v: bool) -> Self {
        MetadataValue::Bool(v)
    }
}

impl From<i64> for MetadataValue {
    fn from(v: i64) -> Self {
        MetadataValue::Number(v.into())
    }
}

impl From<u64> for MetadataValue {
    fn from(v: u64) -> Self {
        MetadataValue::Number(v.into())
    }
}

impl TryFrom<f64> for MetadataValue {
    type Error = NonFiniteNumber;

    fn try_from(v: f64) -> Result<Self, Self::Error> {
        serde_json::Number::from_f64(v)
            .map(MetadataValue::Number)
            .ok_or(NonFiniteNumber)
    }
}

/// A NaN or infinite float, which JSON cannot carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("metadata numbers must be finite (NaN and infinity have no JSON form)")]
pub struct NonFiniteNumber;

/// A JSON number that would not arrive with the value it was written with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "number {shown} cannot be sent exactly: the nearest double is {sent} (use an integer \
     within 64 bits, at most 15 significant digits, or a string)"
)]
pub(crate) struct InexactNumber {
    shown: String,
    sent: String,
}

/// Checks that the JSON number `text`, read as `n`, is sent with the same decimal value.
///
/// Integers within 64 bits are exact; other numbers are read as the nearest double, which is
/// sent as its shortest round-trip text: that text must denote the same value as `text`
/// (`0.1`, `1.50` and `1e2` pass; `1.0000000000000000000000001` and `18446744073709551616`
/// do not).
pub(crate) fn check_number_text(text: &str, n: &serde_json::Number) -> Result<(), InexactNumber> {
    if !n.is_f64() {
        return Ok(());
    }
    let sent = n.to_string();
    if Decimal::of(text) == Decimal::of(&sent) {
        return Ok(());
    }
    let shown = if text.len() <= 64 {
        text.to_owned()
    } else {
        format!("{}... ({} characters)", &text[..40], text.len())
    };
    Err(InexactNumber { shown, sent })
}

/// The value of a JSON number as sign, significant digits and a power of ten.
#[derive(PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// Reads JSON number text (as accepted by the parser, or written by it).
    fn of(text: &str) -> Decimal {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], saturating_exponent(&rest[i + 1..])),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all = format!("{int}{frac}");
        let digits = all.trim_start_matches('0');
        let significant = digits.trim_end_matches('0');
        if significant.is_empty() {
            return Decimal {
                negative: false,
                digits: String::new(),
                exponent: 0,
            };
        }
        let trailing = (digits.len() - significant.len()) as i64;
        Decimal {
            negative,
            digits: significant.to_owned(),
            exponent: exponent
                .saturating_sub(frac.len() as i64)
                .saturating_add(trailing),
        }
    }
}

/// An exponent's value (`+19`, `-7`, `05`), saturating far beyond any double's range.
fn saturating_exponent(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative {
        -value
    } else {
        value
    }
}

/// True when `key` matches `^[A-Za-z0-9_-]{0,40}$`.
pub fn is_valid_metadata_key(key: &str) -> bool {
    key.len() <= MAX_METADATA_KEY_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// True when `value` has at most 500 characters.
pub fn is_valid_metadata_string(value: &str) -> bool {
    // Byte length bounds the char count from above: short strings are not counted.
    value.len() <= MAX_METADATA_STRING_CHARS || value.chars().count() <= MAX_METADATA_STRING_CHARS
}

/// Checks the metadata limits (key count, key pattern, string length) of one object.
pub(crate) fn check_metadata(path: &Path<'_>, metadata: &Metadata, problems: &mut Problems) {
    check_metadata_key_count(path, metadata.len(), problems);
    check_metadata_entries(path, metadata, problems);
}

/// At most 50 keys.
pub(crate) fn check_metadata_key_count(path: &Path<'_>, count: usize, problems: &mut Problems) {
    if count > MAX_METADATA_KEYS {
        problems.push(
            path,
            Rule::TooManyKeys,
            format!("more than {MAX_METADATA_KEYS} keys (has {count})"),
        );
    }
}

/// Key pattern and string length of each entry.
pub(crate) fn check_metadata_entries(
    path: &Path<'_>,
    metadata: &Metadata,
    problems: &mut Problems,
) {
    for (key, value) in metadata {
        let at = path.field(key);
        if !is_valid_metadata_key(key) {
            let message = if key.len() > MAX_METADATA_KEY_CHARS
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                format!(
                    "key longer than {MAX_METADATA_KEY_CHARS} characters (has {})",
                    key.len()
                )
            } else {
                format!(
                    "key may contain only letters A-Z a-z, digits, '_' and '-' (at most {MAX_METADATA_KEY_CHARS})"
                )
            };
            problems.push(&at, Rule::InvalidKey, message);
        }
        if let MetadataValue::String(s) = value {
            check_metadata_string(&at, s, problems);
        }
    }
}

fn check_metadata_string(path: &Path<'_>, s: &str, problems: &mut Problems) {
    if !is_valid_metadata_string(s) {
        let chars = s.chars().count();
        problems.push(
            path,
            Rule::TooLong,
            format!("string longer than {MAX_METADATA_STRING_CHARS} characters (has {chars})"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(m: &Metadata) -> Vec<String> {
        let mut p = Problems::default();
        let root = Path::Root;
        let path = root.field("metadata");
        check_metadata(&path, m, &mut p);
        p.0.into_iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn key_pattern() {
        assert!(is_valid_metadata_key(""));
        assert!(is_valid_metadata_key("body_was-2"));
        assert!(is_valid_metadata_key(&"k".repeat(40)));
        assert!(!is_valid_metadata_key(&"k".repeat(41)));
        assert!(!is_valid_metadata_key("a.b"));
        assert!(!is_valid_metadata_key("é"));
    }

    #[test]
    fn limits_reported_with_paths() {
        let mut m = Metadata::new();
        for i in 0..51 {
            m.insert(format!("k{i}"), MetadataValue::from(i as i64));
        }
        m.insert("long".into(), "x".repeat(501).into());
        m.insert("ok".into(), "é".repeat(500).into());
        m.insert("a b".into(), true.into());
        m.insert("k".repeat(41), true.into());
        let got = problems_of(&m);
        assert_eq!(
            got,
            vec![
                "metadata: more than 50 keys (has 55)".to_string(),
                "metadata.long: string longer than 500 characters (has 501)".into(),
                "metadata[\"a b\"]: key may contain only letters A-Z a-z, digits, '_' and '-' (at most 40)".into(),
                format!("metadata.{}: key longer than 40 characters (has 41)", "k".repeat(41)),
            ]
        );
    }

    fn exact(text: &str) -> Result<(), String> {
        let n: serde_json::Number = serde_json::from_str(text).unwrap();
        check_number_text(text, &n).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_must_keep_their_value() {
        for ok in [
            "0",
            "-0",
            "1",
            "-7",
            "18446744073709551615",
            "-9223372036854775808",
            "0.1",
            "1.50",
            "1e2",
            "1E+2",
            "100.0e-2",
            "-0.0",
            "0e99999999999999999999",
            "1.7976931348623157e308",
            "5e-324",
            "123456789012345.6",
            "0.30000000000000004",
            "18446744073709552000",
            "1.8446744073709552e19",
            "9007199254740992.0",
            "1e22",
        ] {
            assert_eq!(exact(ok), Ok(()), "{ok}");
        }
        for bad in [
            "18446744073709551616",
            "-9223372036854775809",
            "1.0000000000000000000000001",
            "9007199254740993.0",
            "0.1000000000000000055511151231257827",
            "1e-400",
            "2.4703282292062328e-324",
        ] {
            assert!(exact(bad).is_err(), "{bad}");
        }
        assert_eq!(
            exact("18446744073709551616").unwrap_err(),
            "number 18446744073709551616 cannot be sent exactly: the nearest double is \
             1.8446744073709552e+19 (use an integer within 64 bits, at most 15 significant \
             digits, or a string)"
        );
        let long = format!("1.{}1", "0".repeat(100));
        assert!(exact(&long).unwrap_err().starts_with(&format!(
            "number 1.{}... (103 characters) cannot",
            "0".repeat(38)
        )));
    }

    #[test]
    fn non_finite_floats_are_refused() {
        assert!(MetadataValue::try_from(f64::NAN).is_err());
        assert!(MetadataValue::try_from(1.5).is_ok());
    }
}
