//! The analytics service's errors and how clients see them.

use redress_kit::ApiError;
use sea_orm::DbErr;

/// Everything that can go wrong in the analytics service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The request is invalid or not allowed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl Error {
    /// Whether trying again may succeed (a transient database failure).
    pub fn retryable(&self) -> bool {
        matches!(self, Error::Database(e) if redress_kit::error::db_retryable(e))
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Database(e) => e.into(),
            Error::Api(e) => e,
        }
    }
}

redress_kit::status_from!(Error);
