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

    #[test]
    fn non_finite_floats_are_refused() {
        assert!(MetadataValue::try_from(f64::NAN).is_err());
        assert!(MetadataValue::try_from(1.5).is_ok());
    }
}
