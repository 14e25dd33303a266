//! Reading one JSON document within bounds (size, nesting depth, UTF-8) straight into typed shapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::problem::{Path, Problem, Problems, Rule, ValidationError};
use crate::shape::{Probe, Read, Shape};

/// Bounds on one JSON input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted document, in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays and objects (default 32, at most 127).
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

/// State shared by every shape while one document is read: problems found and depth.
pub(crate) struct Cx<'t> {
    pub(crate) problems: Problems,
    depth: usize,
    max_depth: usize,
    numbers: NumberTexts<'t>,
}

impl<'t> Cx<'t> {
    /// Counts one number read from the stream (every number, skipped ones included).
    pub(crate) fn saw_number(&mut self) {
        self.numbers.seen += 1;
    }

    /// The source text of the number counted last.
    pub(crate) fn number_text(&mut self) -> &'t str {
        self.numbers.text_of_last_seen()
    }

    /// Enters an array or object; an error (which ends the read) past the depth limit.
    pub(crate) fn descend<E: serde::de::Error>(&mut self) -> Result<(), E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format_args!(
                "nested deeper than {} levels",
                self.max_depth
            )));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves an array or object.
    pub(crate) fn ascend(&mut self) {
        self.depth -= 1;
    }
}

/// Reads `bytes` as one JSON document of `shape` at `path`, reporting every problem.
pub(crate) fn read_document<'de, S: Shape<'de>>(
    bytes: &'de [u8],
    limits: &ParseLimits,
    path: &Path<'_>,
    shape: S,
) -> Result<S::Out, ValidationError> {
    if bytes.len() > limits.max_bytes {
        return Err(document_problem(
            Rule::TooLarge,
            format!(
                "document is {} bytes; the limit is {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        document_problem(
            Rule::MalformedJson,
            format!("input is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })?;
    let mut cx = Cx {
        problems: Problems::default(),
        depth: 0,
        max_depth: limits.max_depth,
        numbers: NumberTexts::new(text),
    };
    // One UTF-8 check up front lets serde_json read strings without checking them again.
    let mut de = serde_json::Deserializer::from_str(text);
    let read = Probe {
        shape,
        cx: &mut cx,
        path,
    }
    .deserialize(&mut de)
    .and_then(|r| de.end().map(|()| r));
    let read = read.map_err(|e| {
        let rule = if e.classify() == serde_json::error::Category::Data {
            Rule::TooDeep
        } else {
            Rule::MalformedJson
        };
        document_problem(rule, format!("invalid JSON: {e}"))
    })?;
    if let Read::Null = read {
        cx.problems.push(
            path,
            Rule::WrongType,
            "the document must be an object, found null",
        );
    }
    match (ValidationError::from_problems(cx.problems.0), read) {
        (Some(e), _) => Err(e),
        (None, Read::Value(v)) => Ok(v),
        (None, _) => unreachable!("a shape that built nothing recorded a problem"),
    }
}

/// Finds the source text of numbers in document order, resuming where it stopped.
struct NumberTexts<'t> {
    text: &'t str,
    /// Numbers the stream has read so far.
    seen: usize,
    /// Numbers this scan has passed, the last one being `last`.
    scanned: usize,
    last: &'t str,
    pos: usize,
}

impl<'t> NumberTexts<'t> {
    fn new(text: &'t str) -> Self {
        NumberTexts {
            text,
            seen: 0,
            scanned: 0,
            last: "",
            pos: 0,
        }
    }

    fn text_of_last_seen(&mut self) -> &'t str {
        while self.scanned < self.seen {
            self.last = self.next_number();
            self.scanned += 1;
        }
        self.last
    }

    /// The next number token after `pos`, skipping strings (the JSON is valid so far).
    fn next_number(&mut self) -> &'t str {
        let b = self.text.as_bytes();
        let mut i = self.pos;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    i += 1;
                    while i < b.len() {
                        match b[i] {
                            b'\\' => i += 2,
                            b'"' => break,
                            _ => i += 1,
                        }
                    }
                    i += 1;
                }
                b'-' | b'0'..=b'9' => {
                    // Exactly JSON's number grammar: what follows may be malformed.
                    let start = i;
                    let digits = |mut i: usize| {
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        i
                    };
                    i = digits(i + usize::from(b[i] == b'-'));
                    if i < b.len() && b[i] == b'.' {
                        i = digits(i + 1);
                    }
                    if i < b.len() && matches!(b[i], b'e' | b'E') {
                        i += 1;
                        if i < b.len() && matches!(b[i], b'+' | b'-') {
                            i += 1;
                        }
                        i = digits(i);
                    }
                    self.pos = i;
                    return &self.text[start..i];
                }
                _ => i += 1,
            }
        }
        self.pos = b.len();
        ""
    }
}

fn document_problem(rule: Rule, message: String) -> ValidationError {
    ValidationError::single(Problem::new("", rule, message))
}

/// Reads an object key, borrowing it from the input when it has no escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Skips one value of any type, still enforcing the depth limit.
pub(crate) struct Skip<'c, 't> {
    pub(crate) cx: &'c mut Cx<'t>,
}

impl<'de> DeserializeSeed<'de> for Skip<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.cx.saw_number();
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.cx.saw_number();
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.cx.saw_number();
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.cx.descend()?;
        skip_seq(self.cx, seq)?;
        self.cx.ascend();
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.cx.descend()?;
        skip_map(self.cx, map)?;
        self.cx.ascend();
        Ok(())
    }
}

/// Skips the remaining items of an array already entered.
pub(crate) fn skip_seq<'de, A: SeqAccess<'de>>(cx: &mut Cx, mut seq: A) -> Result<(), A::Error> {
    while seq.next_element_seed(Skip { cx: &mut *cx })?.is_some() {}
    Ok(())
}

/// Skips the remaining entries of an object already entered.
pub(crate) fn skip_map<'de, A: MapAccess<'de>>(cx: &mut Cx, mut map: A) -> Result<(), A::Error> {
    while map.next_key::<IgnoredAny>()?.is_some() {
        map.next_value_seed(Skip { cx: &mut *cx })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Text;

    fn read(s: &[u8]) -> Result<String, ValidationError> {
        read_document(s, &ParseLimits::default(), &Path::Root, Text)
    }

    #[test]
    fn a_malformed_number_after_a_valid_one_is_malformed_json_not_a_panic() {
        // Found by the parse_legacy fuzz target: the number text once ran on into `.10`.
        let doc = br#"{"group":"org_1","action":"user.login","action_type":"C","actor_name":"a","actor_id":"u","target_name":"t","target_id":"t","location":"1.1.1.1","occurred_at":"2019-05-01T01:15:55.619Z","metadata":{"n":1e-405555555555.10}}"#;
        let e = crate::LegacyEvent::from_json(doc).unwrap_err();
        assert!(
            e.problems().iter().any(|p| p.rule == Rule::MalformedJson),
            "{e:?}"
        );
        let mut texts = NumberTexts::new("[1e-4055.10, -0.5e+3x, 12]");
        let found: Vec<_> = (0..4).map(|_| texts.next_number()).collect();
        assert_eq!(found, ["1e-4055", "10", "-0.5e+3", "12"]);
    }

    #[test]
    fn malformed_json_names_the_position() {
        let e = read(b"\"abc").unwrap_err();
        let p = &e.problems()[0];
        assert_eq!(p.rule, Rule::MalformedJson);
        assert!(p.message.contains("line 1 column 4"), "{}", p.message);
        assert_eq!(
            read(b"\"a\" x").unwrap_err().problems()[0].rule,
            Rule::MalformedJson
        );
        assert_eq!(
            read(b"").unwrap_err().problems()[0].rule,
            Rule::MalformedJson
        );
    }

    #[test]
    fn invalid_utf8_and_lone_surrogates_are_errors() {
        let e = read(b"\"\xff\"").unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::MalformedJson);
        assert_eq!(
            e.problems()[0].message,
            "input is not valid UTF-8 (at byte 1)"
        );
        let e = read(br#""\ud800""#).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::MalformedJson);
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        let e = read(deep.as_bytes()).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::TooDeep);
        assert!(e.problems()[0].message.contains("32 levels"));
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        let e = read(ok.as_bytes()).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::WrongType);
        let limits = ParseLimits {
            max_bytes: 4,
            max_depth: 8,
        };
        let e = read_document(b"\"abcd\"", &limits, &Path::Root, Text).unwrap_err();
        assert_eq!(e.problems()[0].rule, Rule::TooLarge);
        let very_deep = "[".repeat(100_000);
        assert!(read(very_deep.as_bytes()).is_err());
        let very_deep_objects = "{\"a\":".repeat(100_000);
        assert!(read(very_deep_objects.as_bytes()).is_err());
    }
}
