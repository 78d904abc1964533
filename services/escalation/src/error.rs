//! The escalation service's errors and how clients see them.

use redress_kit::ApiError;
use sea_orm::DbErr;

use crate::domain::Invalid;

/// Everything that can go wrong in the escalation service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such resource for this tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// The resource is not in a state that allows this.
    #[error("{0}")]
    Precondition(String),
    /// Stored bytes do not decode.
    #[error("stored data does not decode: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The timer index failed.
    #[error("timer index: {0:#}")]
    Index(anyhow::Error),
    /// The request is invalid (kit checks).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(invalid) => ApiError::InvalidArgument(
                invalid.0.into_iter().map(|v| tonic_types::FieldViolation::new(v.field, v.description)).collect(),
            ),
            Error::NotFound(name) => ApiError::NotFound(name),
            Error::Precondition(m) => ApiError::FailedPrecondition(m),
            Error::Corrupt(m) => ApiError::internal(anyhow::anyhow!(m)),
            Error::Database(e) => e.into(),
            Error::Index(e) => {
                tracing::warn!(error = format!("{e:#}"), "timer index unavailable");
                ApiError::Unavailable("timer index unavailable; retry later".into())
            }
            Error::Api(e) => e,
        }
    }
}

redress_kit::status_from!(Error);
