//! Why an input was refused: every invalid field, named as the gRPC layer reports it
//! (`calendar.weekly_hours[0].intervals[1]`), with a description a person can act on.

use std::fmt;

/// One invalid field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request, for example `calendar.holidays[2].date`.
    pub field: String,
    /// What is wrong with it, for example `not YYYY-MM-DD`.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`, described by `description`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// Every violation found in one input, in the order its fields were checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct Invalid(pub Vec<FieldViolation>);

impl Invalid {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid and why.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations recorded.
    pub fn violations(&self) -> &[FieldViolation] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded, otherwise every violation.
    pub fn finish<T>(self, value: T) -> Result<T, Invalid> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    if violations.is_empty() {
        return "invalid input".to_string();
    }
    violations.iter().map(FieldViolation::to_string).collect::<Vec<_>>().join("; ")
}
