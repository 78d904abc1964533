//! The case service's errors and how clients see them.

use redress_kit::ApiError;
use sea_orm::DbErr;

use crate::domain::DomainError;

/// Everything that can go wrong in the case service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The rules refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No such case for this tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// The case changed since the client read it.
    #[error("the case is at version {current}, not the expected {expected}; read it again")]
    VersionMismatch {
        /// The version the client expected.
        expected: i64,
        /// The version now.
        current: i64,
    },
    /// Concurrent changes kept winning the race.
    #[error("the case is changing too often to apply this change; retry")]
    Contended,
    /// A request_id was reused for another method or case.
    #[error("request_id {request_id:?} was already used for {method} on another resource")]
    RequestIdReused {
        /// The key.
        request_id: String,
        /// The method it was first used for.
        method: String,
    },
    /// The change would record an event larger than one `StreamEvents` message carries.
    #[error(
        "this change would record a case event of {bytes} bytes, over the {limit} bytes one event may take \
         so that it can be streamed (grpc.max_message_bytes less headroom); the case is too large: \
         shorten its text or move material out of it"
    )]
    EventTooLarge {
        /// The event's size, as streamed.
        bytes: usize,
        /// The largest event allowed.
        limit: usize,
    },
    /// Stored bytes do not decode.
    #[error("stored data does not decode: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// The request is invalid.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl Error {
    /// Whether the database refused a write because a unique key is taken: another call wrote
    /// the same thing first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Error::Database(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Domain(e) => match e {
                DomainError::IllegalMove { .. } | DomainError::Rule(_) => ApiError::FailedPrecondition(e.to_string()),
                DomainError::NotPermitted(m) => ApiError::PermissionDenied(m),
                DomainError::Invalid { field, reason } => ApiError::invalid(field, reason),
                DomainError::NotFound(name) => ApiError::NotFound(name),
            },
            Error::NotFound(name) => ApiError::NotFound(name),
            e @ (Error::VersionMismatch { .. } | Error::Contended) => ApiError::Aborted(e.to_string()),
            e @ Error::RequestIdReused { .. } => ApiError::invalid("request_id", e.to_string()),
            e @ Error::EventTooLarge { .. } => ApiError::FailedPrecondition(e.to_string()),
            Error::Corrupt(m) => ApiError::internal(anyhow::anyhow!(m)),
            Error::Database(e) => e.into(),
            Error::Api(e) => e,
        }
    }
}

redress_kit::status_from!(Error);
