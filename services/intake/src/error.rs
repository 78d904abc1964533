//! The intake service's errors and how clients see them.

use std::time::Duration;

use redress_kit::ApiError;
use sea_orm::DbErr;
use tonic::Code;
use tonic_types::{FieldViolation, StatusExt};

use crate::domain::Violation;

/// Everything that can go wrong in the intake service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The submission does not fit; each violation names its field.
    #[error("invalid submission: {}", describe(.0))]
    Invalid(Vec<Violation>),
    /// A request_id was used before for a different submission.
    #[error("request_id {request_id:?} was already used for a different {method} submission")]
    RequestIdReused {
        /// The key.
        request_id: String,
        /// The method it was first used for.
        method: String,
    },
    /// The tenant's rate limit is reached.
    #[error("the tenant's submission rate limit is reached; retry after {} ms", .retry_after.as_millis())]
    RateLimited {
        /// When a submission will be accepted again.
        retry_after: Duration,
    },
    /// Another submission of the same customer held the customer's lock for too long, or
    /// the lock was lost.
    #[error("{0}")]
    Busy(String),
    /// The case service refused or failed a call.
    #[error("case service {call}: {status}")]
    Peer {
        /// The call.
        call: &'static str,
        /// What it answered.
        status: tonic::Status,
    },
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DbErr),
    /// Stored bytes do not decode.
    #[error("stored data does not decode: {0}")]
    Corrupt(String),
    /// An error already in the shape clients see.
    #[error(transparent)]
    Api(#[from] ApiError),
}

fn describe(violations: &[Violation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Converts violations into the kit's field violations.
pub fn field_violations(violations: Vec<Violation>) -> Vec<FieldViolation> {
    violations.into_iter().map(|v| FieldViolation::new(v.field, v.description)).collect()
}

/// How a case service answer reads to intake's client. Invalid fields keep the case
/// service's names (`case.customer.email`; the API renames them after the submission they
/// came from); failures worth retrying become UNAVAILABLE; anything else is a fault of
/// intake's own.
fn peer_error(call: &'static str, status: tonic::Status) -> ApiError {
    match status.code() {
        Code::InvalidArgument => {
            let details = status.get_error_details();
            let violations: Vec<FieldViolation> = details
                .bad_request()
                .map(|b| b.field_violations.iter().map(|f| FieldViolation::new(&f.field, &f.description)).collect())
                .unwrap_or_default();
            if violations.is_empty() {
                ApiError::internal(anyhow::anyhow!("case service {call} refused the request: {}", status.message()))
            } else {
                ApiError::InvalidArgument(violations)
            }
        }
        Code::NotFound => ApiError::NotFound(status.message().trim_end_matches(" not found").to_string()),
        Code::FailedPrecondition => ApiError::FailedPrecondition(status.message().to_string()),
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted | Code::Cancelled => {
            tracing::warn!(call, code = ?status.code(), "case service unavailable");
            ApiError::Unavailable("the case service is unavailable; retry with the same request_id".into())
        }
        _ => ApiError::internal(anyhow::anyhow!("case service {call}: {:?} {}", status.code(), status.message())),
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(violations) => ApiError::InvalidArgument(field_violations(violations)),
            e @ Error::RequestIdReused { .. } => ApiError::invalid("request_id", e.to_string()),
            Error::RateLimited { retry_after } => ApiError::ResourceExhausted {
                message: format!(
                    "the tenant's submission rate limit is reached; retry after {} ms",
                    retry_after.as_millis()
                ),
                retry_after: Some(retry_after),
            },
            Error::Busy(message) => ApiError::Unavailable(message),
            Error::Peer { call, status } => peer_error(call, status),
            Error::Redis(e) => {
                tracing::warn!(error = %e, "redis unavailable");
                ApiError::Unavailable("redis unavailable; retry with the same request_id".into())
            }
            Error::Database(e) => e.into(),
            Error::Corrupt(m) => ApiError::internal(anyhow::anyhow!(m)),
            Error::Api(e) => e,
        }
    }
}

redress_kit::status_from!(Error);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_carry_retry_info() {
        let status = tonic::Status::from(Error::RateLimited { retry_after: Duration::from_millis(250) });
        assert_eq!(status.code(), Code::ResourceExhausted);
        let retry = status.get_error_details().retry_info().cloned();
        assert_eq!(retry.and_then(|r| r.retry_delay), Some(Duration::from_millis(250)));
    }
}
