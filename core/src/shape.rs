//! Typed shapes read straight from the JSON stream, recording every problem with its path.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::metadata::{
    check_metadata_entries, check_metadata_key_count, check_number_text, Metadata, MetadataValue,
    MAX_METADATA_KEYS,
};
use crate::problem::{Path, Rule};
use crate::strict_json::{skip_map, skip_seq, Cx, KeySeed, Skip};
use crate::timestamp::Timestamp;

/// What reading one value gave.
pub(crate) enum Read<T> {
    /// A value of the expected shape.
    Value(T),
    /// JSON `null`; the caller decides whether that is absent or missing.
    Null,
    /// Something else; its problems are already recorded.
    Invalid,
}

/// A JSON shape: what to build from each kind of JSON value (by default, a type problem).
pub(crate) trait Shape<'de>: Sized {
    /// What the shape builds.
    type Out;

    /// The expected JSON type, with its article ("a string").
    fn expected(&self) -> &'static str;

    /// Records a type problem.
    fn wrong(self, cx: &mut Cx, path: &Path<'_>, found: &'static str) -> Read<Self::Out> {
        let subject = if matches!(path, Path::Root) {
            "the document "
        } else {
            ""
        };
        let message = format!("{subject}must be {}, found {found}", self.expected());
        cx.problems.push(path, Rule::WrongType, message);
        Read::Invalid
    }

    fn on_str(self, cx: &mut Cx, path: &Path<'_>, _: Cow<'de, str>) -> Read<Self::Out> {
        self.wrong(cx, path, "a string")
    }

    fn on_number(self, cx: &mut Cx, path: &Path<'_>, _: serde_json::Number) -> Read<Self::Out> {
        self.wrong(cx, path, "a number")
    }

    fn on_bool(self, cx: &mut Cx, path: &Path<'_>, _: bool) -> Read<Self::Out> {
        self.wrong(cx, path, "a boolean")
    }

    fn on_map<A: MapAccess<'de>>(
        self,
        cx: &mut Cx,
        path: &Path<'_>,
        map: A,
    ) -> Result<Read<Self::Out>, A::Error> {
        skip_map(cx, map)?;
        Ok(self.wrong(cx, path, "an object"))
    }

    fn on_seq<A: SeqAccess<'de>>(
        self,
        cx: &mut Cx,
        path: &Path<'_>,
        seq: A,
    ) -> Result<Read<Self::Out>, A::Error> {
        skip_seq(cx, seq)?;
        Ok(self.wrong(cx, path, "an array"))
    }
}

/// Reads one value of shape `S` at `path`.
pub(crate) struct Probe<'c, 'p, 't, S> {
    pub(crate) shape: S,
    pub(crate) cx: &'c mut Cx<'t>,
    pub(crate) path: &'p Path<'p>,
}

impl<'de, S: Shape<'de>> DeserializeSeed<'de> for Probe<'_, '_, '_, S> {
    type Value = Read<S::Out>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: Shape<'de>> Visitor<'de> for Probe<'_, '_, '_, S> {
    type Value = Read<S::Out>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shape.expected())
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.shape.on_bool(self.cx, self.path, v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        self.cx.saw_number();
        Ok(self.shape.on_number(self.cx, self.path, v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        self.cx.saw_number();
        Ok(self.shape.on_number(self.cx, self.path, v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.cx.saw_number();
        let n = serde_json::Number::from_f64(v).ok_or_else(|| E::custom("number is not finite"))?;
        Ok(self.shape.on_number(self.cx, self.path, n))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(self.shape.on_str(self.cx, self.path, Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self
            .shape
            .on_str(self.cx, self.path, Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(self.shape.on_str(self.cx, self.path, Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Read::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Read::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.cx.descend()?;
        let read = self.shape.on_map(self.cx, self.path, map)?;
        self.cx.ascend();
        Ok(read)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.cx.descend()?;
        let read = self.shape.on_seq(self.cx, self.path, seq)?;
        self.cx.ascend();
        Ok(read)
    }
}

/// Reads the value of the current map entry as shape `S`.
pub(crate) fn read_value<'de, A: MapAccess<'de>, S: Shape<'de>>(
    map: &mut A,
    cx: &mut Cx,
    path: &Path<'_>,
    shape: S,
) -> Result<Option<Read<S::Out>>, A::Error> {
    map.next_value_seed(Probe { shape, cx, path }).map(Some)
}

/// A required field: absent or null is a problem.
pub(crate) fn required<T>(slot: Option<Read<T>>, cx: &mut Cx, path: &Path<'_>) -> Option<T> {
    match slot {
        Some(Read::Value(v)) => Some(v),
        Some(Read::Invalid) => None,
        Some(Read::Null) => {
            cx.problems
                .push(path, Rule::Required, "required, found null");
            None
        }
        None => {
            cx.problems.push(path, Rule::Required, "required");
            None
        }
    }
}

/// A required string that must not be empty.
pub(crate) fn required_text(
    slot: Option<Read<String>>,
    cx: &mut Cx,
    path: &Path<'_>,
) -> Option<String> {
    let text = required(slot, cx, path)?;
    if text.is_empty() {
        cx.problems.push(path, Rule::Empty, "must not be empty");
        return None;
    }
    Some(text)
}

/// An optional field: absent and null are `None`; `Err` when it was invalid.
pub(crate) fn optional<T>(slot: Option<Read<T>>) -> Result<Option<T>, ()> {
    match slot {
        None | Some(Read::Null) => Ok(None),
        Some(Read::Value(v)) => Ok(Some(v)),
        Some(Read::Invalid) => Err(()),
    }
}

/// A string.
pub(crate) struct Text;

impl<'de> Shape<'de> for Text {
    type Out = String;

    fn expected(&self) -> &'static str {
        "a string"
    }

    fn on_str(self, _: &mut Cx, _: &Path<'_>, v: Cow<'de, str>) -> Read<String> {
        Read::Value(v.into_owned())
    }
}

/// An RFC 3339 date-time string.
pub(crate) struct Time;

impl<'de> Shape<'de> for Time {
    type Out = Timestamp;

    fn expected(&self) -> &'static str {
        "a string"
    }

    fn on_str(self, cx: &mut Cx, path: &Path<'_>, v: Cow<'de, str>) -> Read<Timestamp> {
        match Timestamp::parse(&v) {
            Ok(t) => Read::Value(t),
            Err(e) => {
                let message = if v.chars().count() <= 64 {
                    format!("{e}; found {v:?}")
                } else {
                    e.to_string()
                };
                cx.problems.push(path, Rule::InvalidTimestamp, message);
                Read::Invalid
            }
        }
    }
}

/// A JSON number where an integer is expected; range checks are the caller's.
pub(crate) struct Integer;

impl<'de> Shape<'de> for Integer {
    type Out = serde_json::Number;

    fn expected(&self) -> &'static str {
        "an integer"
    }

    fn on_number(
        self,
        _: &mut Cx,
        _: &Path<'_>,
        n: serde_json::Number,
    ) -> Read<serde_json::Number> {
        Read::Value(n)
    }
}

/// A metadata object: string keys to string, number or boolean values, within the limits.
pub(crate) struct MetadataShape;

impl<'de> Shape<'de> for MetadataShape {
    type Out = Metadata;

    fn expected(&self) -> &'static str {
        "an object"
    }

    fn on_map<A: MapAccess<'de>>(
        self,
        cx: &mut Cx,
        path: &Path<'_>,
        mut map: A,
    ) -> Result<Read<Metadata>, A::Error> {
        let before = cx.problems.0.len();
        let mut out = Metadata::with_capacity(map.size_hint().unwrap_or(4).min(64));
        let mut count = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            count += 1;
            if count > MAX_METADATA_KEYS {
                // Over the limit: count the rest without reading them (bounded work).
                map.next_value_seed(Skip { cx: &mut *cx })?;
                continue;
            }
            let at = path.field(&key);
            let value = map.next_value_seed(Probe {
                shape: MetadataValueShape,
                cx: &mut *cx,
                path: &at,
            })?;
            let value = match value {
                Read::Value(v) => v,
                Read::Null => {
                    MetadataValueShape.wrong(cx, &at, "null");
                    continue;
                }
                Read::Invalid => continue,
            };
            if out.contains_key(key.as_ref()) {
                cx.problems
                    .push(&at, Rule::DuplicateField, "appears more than once");
                continue;
            }
            out.insert(key.into_owned(), value);
        }
        check_metadata_key_count(path, count, &mut cx.problems);
        check_metadata_entries(path, &out, &mut cx.problems);
        Ok(if cx.problems.0.len() > before {
            Read::Invalid
        } else {
            Read::Value(out)
        })
    }
}

/// One metadata value.
struct MetadataValueShape;

impl<'de> Shape<'de> for MetadataValueShape {
    type Out = MetadataValue;

    fn expected(&self) -> &'static str {
        "a string, number or boolean"
    }

    fn wrong(self, cx: &mut Cx, path: &Path<'_>, found: &'static str) -> Read<MetadataValue> {
        cx.problems.push(
            path,
            Rule::WrongType,
            format!("metadata values must be a string, number or boolean, found {found}"),
        );
        Read::Invalid
    }

    fn on_str(self, _: &mut Cx, _: &Path<'_>, v: Cow<'de, str>) -> Read<MetadataValue> {
        Read::Value(MetadataValue::String(v.into_owned()))
    }

    fn on_number(self, cx: &mut Cx, path: &Path<'_>, n: serde_json::Number) -> Read<MetadataValue> {
        // Integers within 64 bits are kept as read; anything read as a double is checked.
        if n.is_f64() {
            if let Err(e) = check_number_text(cx.number_text(), &n) {
                cx.problems.push(path, Rule::InvalidValue, e.to_string());
                return Read::Invalid;
            }
        }
        Read::Value(MetadataValue::Number(n))
    }

    fn on_bool(self, _: &mut Cx, _: &Path<'_>, b: bool) -> Read<MetadataValue> {
        Read::Value(MetadataValue::Bool(b))
    }
}

/// The fields of one JSON object: how to read each, and how to build the result.
pub(crate) trait Fields<'de>: Default {
    /// The allowed field names, in wire order.
    const NAMES: &'static [&'static str];
    /// What the object builds.
    type Out;

    /// Reads the value of field `name` (one of `NAMES`) from the map.
    fn read<A: MapAccess<'de>>(
        &mut self,
        name: &'static str,
        map: &mut A,
        cx: &mut Cx,
        path: &Path<'_>,
    ) -> Result<(), A::Error>;

    /// Checks required fields and builds the value; `None` when a problem was recorded.
    fn finish(self, cx: &mut Cx, path: &Path<'_>) -> Option<Self::Out>;
}

/// A JSON object whose fields are `F`; unknown and repeated fields are problems.
pub(crate) struct Object<F>(PhantomData<F>);

impl<F> Object<F> {
    /// The shape of an object with fields `F`.
    pub(crate) fn new() -> Self {
        Object(PhantomData)
    }
}

impl<'de, F: Fields<'de>> Shape<'de> for Object<F> {
    type Out = F::Out;

    fn expected(&self) -> &'static str {
        "an object"
    }

    fn on_map<A: MapAccess<'de>>(
        self,
        cx: &mut Cx,
        path: &Path<'_>,
        mut map: A,
    ) -> Result<Read<F::Out>, A::Error> {
        let mut fields = F::default();
        let mut seen = 0u64;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match F::NAMES.iter().position(|n| *n == key) {
                Some(i) if seen & (1 << i) != 0 => {
                    cx.problems.push(
                        &path.field(&key),
                        Rule::DuplicateField,
                        "appears more than once",
                    );
                    map.next_value_seed(Skip { cx: &mut *cx })?;
                }
                Some(i) => {
                    seen |= 1 << i;
                    let name = F::NAMES[i];
                    fields.read(name, &mut map, cx, &path.field(name))?;
                }
                None => {
                    let message = unknown_field_message(&key, F::NAMES);
                    cx.problems
                        .push(&path.field(&key), Rule::UnknownField, message);
                    map.next_value_seed(Skip { cx: &mut *cx })?;
                }
            }
        }
        Ok(match fields.finish(cx, path) {
            Some(v) => Read::Value(v),
            None => Read::Invalid,
        })
    }
}

/// An array whose items are all of shape `S` (made fresh for each item).
pub(crate) struct ArrayOf<S>(pub(crate) fn() -> S);

impl<'de, S: Shape<'de>> Shape<'de> for ArrayOf<S> {
    type Out = Vec<S::Out>;

    fn expected(&self) -> &'static str {
        "an array"
    }

    fn on_seq<A: SeqAccess<'de>>(
        self,
        cx: &mut Cx,
        path: &Path<'_>,
        mut seq: A,
    ) -> Result<Read<Self::Out>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(64));
        let mut complete = true;
        let mut i = 0;
        loop {
            let at = path.index(i);
            let probe = Probe {
                shape: (self.0)(),
                cx: &mut *cx,
                path: &at,
            };
            match seq.next_element_seed(probe)? {
                None => break,
                Some(Read::Value(v)) => items.push(v),
                Some(Read::Null) => {
                    (self.0)().wrong(cx, &at, "null");
                    complete = false;
                }
                Some(Read::Invalid) => complete = false,
            }
            i += 1;
        }
        Ok(if complete {
            Read::Value(items)
        } else {
            Read::Invalid
        })
    }
}

fn unknown_field_message(key: &str, names: &[&'static str]) -> String {
    let closest = names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(key, n), *n))
        .min_by_key(|(d, _)| *d);
    match closest {
        Some((d, name)) if d <= 2 || strsim::jaro_winkler(key, name) > 0.9 => {
            format!("unknown field (did you mean `{name}`?)")
        }
        _ => format!("unknown field; allowed fields are {}", names.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_field() {
        let names = ["action", "occurred_at", "version"];
        assert_eq!(
            unknown_field_message("ocurred_at", &names),
            "unknown field (did you mean `occurred_at`?)"
        );
        assert_eq!(
            unknown_field_message("zzz", &names),
            "unknown field; allowed fields are action, occurred_at, version"
        );
    }
}
