//! The notification service's errors and how clients see them.

use redress_kit::ApiError;
use sea_orm::DbErr;

use crate::domain::TemplateError;

/// Everything that can go wrong answering a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such resource for this tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// A unique key is taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// The resource's state forbids the call.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A template was refused.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// Stored bytes do not decode.
    #[error("stored data does not decode: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The request is invalid, or another error already sorted.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::NotFound(name) => ApiError::NotFound(name),
            Error::AlreadyExists(m) => ApiError::AlreadyExists(m),
            Error::FailedPrecondition(m) => ApiError::FailedPrecondition(m),
            Error::Template(TemplateError::Invalid(violations)) => ApiError::InvalidArgument(
                violations.into_iter().map(|v| tonic_types::FieldViolation::new(v.field, v.description)).collect(),
            ),
            Error::Template(e @ TemplateError::Render { .. }) => ApiError::invalid("template", e.to_string()),
            Error::Corrupt(m) => ApiError::internal(anyhow::anyhow!(m)),
            Error::Database(e) => e.into(),
            Error::Api(e) => e,
        }
    }
}

redress_kit::status_from!(Error);
