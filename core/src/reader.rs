//! Turns a JSON tree into typed values, collecting every problem with its wire path.

use crate::metadata::{check_metadata_entries, check_metadata_key_count, Metadata, MetadataValue};
use crate::problem::{Path, Problems, Rule};
use crate::strict_json::Json;
use crate::timestamp::Timestamp;

/// Walks JSON values, recording problems instead of stopping at the first.
#[derive(Default)]
pub(crate) struct Reader {
    pub(crate) problems: Problems,
}

impl Reader {
    /// Splits an object into the values of `names`, reporting unknown and repeated fields.
    pub(crate) fn fields<const N: usize>(
        &mut self,
        path: &Path<'_>,
        pairs: Vec<(String, Json)>,
        names: [&'static str; N],
    ) -> [Option<Json>; N] {
        let mut slots: [Option<Json>; N] = std::array::from_fn(|_| None);
        for (key, value) in pairs {
            match names.iter().position(|n| *n == key) {
                Some(i) if slots[i].is_some() => {
                    self.problems.push(
                        &path.field(&key),
                        Rule::DuplicateField,
                        "appears more than once",
                    );
                }
                Some(i) => slots[i] = Some(value),
                None => {
                    let message = unknown_field_message(&key, &names);
                    self.problems
                        .push(&path.field(&key), Rule::UnknownField, message);
                }
            }
        }
        slots
    }

    /// An object, or a problem; absent and null are `Required`.
    pub(crate) fn object(
        &mut self,
        path: &Path<'_>,
        value: Option<Json>,
    ) -> Option<Vec<(String, Json)>> {
        match self.present(path, value)? {
            Json::Object(pairs) => Some(pairs),
            other => {
                self.wrong_type(path, "an object", &other);
                None
            }
        }
    }

    /// An array, or a problem; absent and null are `Required`.
    pub(crate) fn array(&mut self, path: &Path<'_>, value: Option<Json>) -> Option<Vec<Json>> {
        match self.present(path, value)? {
            Json::Array(items) => Some(items),
            other => {
                self.wrong_type(path, "an array", &other);
                None
            }
        }
    }

    /// A required, non-empty string.
    pub(crate) fn required_text(&mut self, path: &Path<'_>, value: Option<Json>) -> Option<String> {
        let value = self.present(path, value)?;
        let text = self.string(path, value)?;
        if text.is_empty() {
            self.problems.push(path, Rule::Empty, "must not be empty");
            return None;
        }
        Some(text)
    }

    /// An optional string; null counts as absent. `Err` when it has the wrong type.
    pub(crate) fn optional_text(
        &mut self,
        path: &Path<'_>,
        value: Option<Json>,
    ) -> Result<Option<String>, ()> {
        match value {
            None | Some(Json::Null) => Ok(None),
            Some(v) => self.string(path, v).map(Some).ok_or(()),
        }
    }

    /// A required timestamp string.
    pub(crate) fn timestamp(&mut self, path: &Path<'_>, value: Option<Json>) -> Option<Timestamp> {
        let value = self.present(path, value)?;
        let text = self.string(path, value)?;
        match Timestamp::parse(&text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problems
                    .push(path, Rule::InvalidTimestamp, e.to_string());
                None
            }
        }
    }

    /// An optional metadata object; null counts as absent. `Err` when any problem was found.
    pub(crate) fn metadata(
        &mut self,
        path: &Path<'_>,
        value: Option<Json>,
    ) -> Result<Option<Metadata>, ()> {
        let pairs = match value {
            None | Some(Json::Null) => return Ok(None),
            Some(Json::Object(pairs)) => pairs,
            Some(other) => {
                self.wrong_type(path, "an object", &other);
                return Err(());
            }
        };
        let before = self.problems.0.len();
        check_metadata_key_count(path, pairs.len(), &mut self.problems);
        let mut map = Metadata::with_capacity(pairs.len());
        for (key, value) in pairs {
            let typed = match value {
                Json::String(s) => MetadataValue::String(s),
                Json::Number(n) => MetadataValue::Number(n),
                Json::Bool(b) => MetadataValue::Bool(b),
                other => {
                    self.problems.push(
                        &path.field(&key),
                        Rule::WrongType,
                        format!(
                            "metadata values must be a string, number or boolean, found {}",
                            other.kind()
                        ),
                    );
                    continue;
                }
            };
            if map.contains_key(&key) {
                self.problems
                    .push(&path.field(&key), Rule::DuplicateField, "appears more than once");
                continue;
            }
            map.insert(key, typed);
        }
        check_metadata_entries(path, &map, &mut self.problems);
        if self.problems.0.len() > before {
            Err(())
        } else {
            Ok(Some(map))
        }
    }

    fn string(&mut self, path: &Path<'_>, value: Json) -> Option<String> {
        match value {
            Json::String(s) => Some(s),
            other => {
                self.wrong_type(path, "a string", &other);
                None
            }
        }
    }

    fn present(&mut self, path: &Path<'_>, value: Option<Json>) -> Option<Json> {
        match value {
            None => {
                self.problems.push(path, Rule::Required, "required");
                None
            }
            Some(Json::Null) => {
                self.problems.push(path, Rule::Required, "required, found null");
                None
            }
            Some(v) => Some(v),
        }
    }

    pub(crate) fn wrong_type(&mut self, path: &Path<'_>, expected: &str, found: &Json) {
        self.problems.push(
            path,
            Rule::WrongType,
            format!("must be {expected}, found {}", found.kind()),
        );
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
