//! A JSON document read with bounds: size, nesting depth, UTF-8; duplicates kept for the reader to report.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::problem::{Problem, Rule, ValidationError};

/// Bounds on one JSON input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted document, in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays and objects (default 32, at most 128).
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bytes: 1024 * 1024,
            max_depth: 32,
        }
    }
}

/// A parsed JSON value; objects keep every pair in order, duplicates included.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The JSON type as a user would name it, with its article.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Reads one JSON document within `limits`.
pub(crate) fn read_document(bytes: &[u8], limits: &ParseLimits) -> Result<Json, ValidationError> {
    if bytes.len() > limits.max_bytes {
        return Err(ValidationError::single(Problem::new(
            "",
            Rule::TooLarge,
            format!(
                "document is {} bytes; the limit is {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Seed {
        depth_left: limits.max_depth,
        limit: limits.max_depth,
    };
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let rule = if e.classify() == serde_json::error::Category::Data {
            Rule::TooDeep
        } else {
            Rule::MalformedJson
        };
        ValidationError::single(Problem::new("", rule, format!("invalid JSON: {e}")))
    })
}

#[derive(Clone, Copy)]
struct Seed {
    depth_left: usize,
    limit: usize,
}

impl Seed {
    fn nested<E: serde::de::Error>(self) -> Result<Seed, E> {
        match self.depth_left.checked_sub(1) {
            Some(left) => Ok(Seed {
                depth_left: left,
                limit: self.limit,
            }),
            None => Err(E::custom(format_args!(
                "nested deeper than {} levels",
                self.limit
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let inner = self.nested()?;
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(inner)?;
            pairs.push((key, value));
        }
        Ok(Json::Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &[u8]) -> Result<Json, ValidationError> {
        read_document(s, &ParseLimits::default())
    }

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let j = read(br#"{"a":1,"a":"x"}"#).unwrap();
        let Json::Object(pairs) = j else { panic!() };
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].1, Json::String("x".into()));
    }

    #[test]
    fn malformed_json_names_the_position() {
        let e = read(b"{\"a\": }").unwrap_err();
        let p = &e.problems()[0];
        assert_eq!(p.rule, Rule::MalformedJson);
        assert!(p.message.contains("line 1 column 7"), "{}", p.message);
        assert_eq!(read(b"{} x").unwrap_err().problems()[0].rule, Rule::MalformedJson);
        assert_eq!(read(b"").unwrap_err().problems()[0].rule, Rule::MalformedJson);
    }

    #[test]
    fn invalid_utf8_and_lone_surrogates_are_errors() {
        let e = read(b"{\"a\":\"\xff\"}").unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::MalformedJson);
        let e = read(br#"{"a":"\ud800"}"#).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::MalformedJson);
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        let e = read(deep.as_bytes()).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::TooDeep);
        assert!(e.problems()[0].message.contains("32 levels"));
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(read(ok.as_bytes()).is_ok());
        let limits = ParseLimits {
            max_bytes: 4,
            max_depth: 8,
        };
        let e = read_document(b"[1,2,3]", &limits).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::TooLarge);
        let very_deep = "[".repeat(100_000);
        assert!(read(very_deep.as_bytes()).is_err());
    }
}
