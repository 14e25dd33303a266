//! Validation problems: what is wrong with an input, and where.

use std::fmt;

/// The rule a problem breaks, as a stable snake_case code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The document is not well-formed JSON (or not UTF-8).
    MalformedJson,
    /// The document is larger than the configured limit.
    TooLarge,
    /// The document nests deeper than the configured limit.
    TooDeep,
    /// A required field is absent or null.
    Required,
    /// A field has the wrong JSON type.
    WrongType,
    /// A required string is empty.
    Empty,
    /// A field the API does not define.
    UnknownField,
    /// The same field appears twice in one object.
    DuplicateField,
    /// A value is not an RFC 3339 date-time, or is outside years 0001-9999 UTC.
    InvalidTimestamp,
    /// A number that must be a positive integer is not.
    InvalidInteger,
    /// A metadata object has too many keys.
    TooManyKeys,
    /// A metadata key does not match the allowed pattern or length.
    InvalidKey,
    /// A metadata string value is too long.
    TooLong,
    /// A value is not one of the allowed values or forms.
    InvalidValue,
}

impl Rule {
    /// The stable code for this rule, e.g. `required`.
    pub fn code(self) -> &'static str {
        match self {
            Rule::MalformedJson => "malformed_json",
            Rule::TooLarge => "too_large",
            Rule::TooDeep => "too_deep",
            Rule::Required => "required",
            Rule::WrongType => "wrong_type",
            Rule::Empty => "empty",
            Rule::UnknownField => "unknown_field",
            Rule::DuplicateField => "duplicate_field",
            Rule::InvalidTimestamp => "invalid_timestamp",
            Rule::InvalidInteger => "invalid_integer",
            Rule::TooManyKeys => "too_many_keys",
            Rule::InvalidKey => "invalid_key",
            Rule::TooLong => "too_long",
            Rule::InvalidValue => "invalid_value",
        }
    }

    /// True when the document as a whole could not be read (no field-level check ran).
    pub fn is_document_level(self) -> bool {
        matches!(self, Rule::MalformedJson | Rule::TooLarge | Rule::TooDeep)
    }
}

/// One thing wrong with an input: the wire path of the field, the rule and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted wire path (`event.targets[1].type`); empty for the whole document.
    pub path: String,
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, in words a user understands.
    pub message: String,
}

impl Problem {
    /// A problem at `path` breaking `rule`.
    pub fn new(path: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one input; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    problems: Vec<Problem>,
}

impl ValidationError {
    /// Wraps a non-empty list of problems; `None` when the list is empty.
    pub fn from_problems(problems: Vec<Problem>) -> Option<Self> {
        (!problems.is_empty()).then_some(ValidationError { problems })
    }

    /// A single problem.
    pub fn single(problem: Problem) -> Self {
        ValidationError {
            problems: vec![problem],
        }
    }

    /// The problems, in the order they were found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Consumes the error, giving its problems.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// True when the document could not be read at all (malformed, too large, too deep).
    pub fn is_document_level(&self) -> bool {
        self.problems.iter().any(|p| p.rule.is_document_level())
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// Collects problems while a validator walks an input.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, path: &Path<'_>, rule: Rule, message: impl Into<String>) {
        self.0.push(Problem::new(path.render(), rule, message));
    }

    pub(crate) fn into_result(self) -> Result<(), ValidationError> {
        match ValidationError::from_problems(self.0) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A wire path built on the stack and rendered only when a problem needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path::Field(self, name)
    }

    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Field(parent, name) => {
                parent.render_into(out);
                if is_plain_key(name) {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                } else {
                    out.push('[');
                    out.push_str(&serde_json::to_string(name).unwrap_or_default());
                    out.push(']');
                }
            }
            Path::Index(parent, i) => {
                parent.render_into(out);
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
}

fn is_plain_key(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_dotted_with_indexes_and_quoted_odd_keys() {
        let root = Path::Root;
        let event = root.field("event");
        let targets = event.field("targets");
        let one = targets.index(1);
        assert_eq!(one.field("type").render(), "event.targets[1].type");
        let meta = event.field("metadata");
        assert_eq!(meta.field("a b").render(), "event.metadata[\"a b\"]");
        assert_eq!(meta.field("").render(), "event.metadata[\"\"]");
    }

    #[test]
    fn display_joins_problems_one_per_line() {
        let e = ValidationError::from_problems(vec![
            Problem::new("event.action", Rule::Required, "required"),
            Problem::new("", Rule::MalformedJson, "invalid JSON"),
        ])
        .unwrap();
        assert_eq!(e.to_string(), "event.action: required\ninvalid JSON");
        assert!(e.is_document_level());
        assert!(ValidationError::from_problems(vec![]).is_none());
    }
}
