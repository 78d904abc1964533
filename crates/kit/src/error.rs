//! The one mapping from errors to `tonic::Status`, with a deliberately small set of codes.
//!
//! Each service has its own `Error` enum and converts it into [`ApiError`]; this module turns
//! that into a status. Invalid input carries `google.rpc.BadRequest` field violations; internal
//! errors are logged with their context and returned as a bare INTERNAL.

use std::time::Duration;

use sea_orm::{DbErr, RuntimeErr, SqlErr};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// An error as a client should see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; each violation names a field and why.
    #[error("invalid argument: {}", describe_violations(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The caller is not identified.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The caller may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The named resource does not exist for this tenant.
    #[error("{0} not found")]
    NotFound(String),
    /// The resource exists already.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The request is valid but the resource is not in a state that allows it.
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// A concurrent change won; read again and retry.
    #[error("aborted: {0}")]
    Aborted(String),
    /// A limit was reached; retry after the given delay.
    #[error("resource exhausted: {message}")]
    ResourceExhausted {
        /// What limit.
        message: String,
        /// When to retry.
        retry_after: Option<Duration>,
    },
    /// A dependency is down; retrying later may work.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The work did not finish in time.
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(String),
    /// A bug or an unexpected failure. Logged in full; the client sees only INTERNAL.
    #[error("internal: {0:#}")]
    Internal(anyhow::Error),
}

/// The most violations named in a status message; the details carry up to
/// [`MAX_DETAILED_VIOLATIONS`].
pub const MAX_DESCRIBED_VIOLATIONS: usize = 10;

/// The most violations carried in a status's `google.rpc.BadRequest`.
pub const MAX_DETAILED_VIOLATIONS: usize = 32;

/// The longest status message sent, in bytes; a status travels in HTTP/2 trailers, which
/// clients cap (16 KiB for hyper), so a message echoing a huge input is cut short.
const MAX_MESSAGE_BYTES: usize = 1024;

/// The longest field path or description a violation carries in a status's details, in bytes.
const MAX_VIOLATION_PART_BYTES: usize = 100;

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn clip_violation(violation: &FieldViolation) -> FieldViolation {
    FieldViolation::new(
        clip(&violation.field, MAX_VIOLATION_PART_BYTES),
        clip(&violation.description, MAX_VIOLATION_PART_BYTES),
    )
}

fn describe_violations(violations: &[FieldViolation]) -> String {
    let mut message = violations
        .iter()
        .take(MAX_DESCRIBED_VIOLATIONS)
        .map(|v| {
            format!("{}: {}", clip(&v.field, MAX_VIOLATION_PART_BYTES), clip(&v.description, MAX_VIOLATION_PART_BYTES))
        })
        .collect::<Vec<_>>()
        .join("; ");
    if violations.len() > MAX_DESCRIBED_VIOLATIONS {
        message = clip(&message, MAX_MESSAGE_BYTES - 32);
        message.push_str(&format!("; and {} more", violations.len() - MAX_DESCRIBED_VIOLATIONS));
    }
    message
}

impl ApiError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ApiError::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// An unexpected failure with context.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument(_) => Code::InvalidArgument,
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::PermissionDenied(_) => Code::PermissionDenied,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::AlreadyExists(_) => Code::AlreadyExists,
            ApiError::FailedPrecondition(_) => Code::FailedPrecondition,
            ApiError::Aborted(_) => Code::Aborted,
            ApiError::ResourceExhausted { .. } => Code::ResourceExhausted,
            ApiError::Unavailable(_) => Code::Unavailable,
            ApiError::DeadlineExceeded(_) => Code::DeadlineExceeded,
            ApiError::Internal(_) => Code::Internal,
        }
    }
}

/// Collects field violations while validating a request.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid and why.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records a violation when `bad` holds.
    pub fn check(&mut self, bad: bool, field: impl Into<String>, description: impl Into<String>) {
        if bad {
            self.add(field, description);
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, otherwise INVALID_ARGUMENT with every violation.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(self.0)) }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::InvalidArgument(violations) => {
                let message = clip(&describe_violations(&violations), MAX_MESSAGE_BYTES);
                let violations: Vec<_> = violations.iter().take(MAX_DETAILED_VIOLATIONS).map(clip_violation).collect();
                let details = ErrorDetails::with_bad_request(violations);
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            ApiError::ResourceExhausted { message, retry_after } => {
                let message = clip(&message, MAX_MESSAGE_BYTES);
                let details = ErrorDetails::with_retry_info(retry_after);
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                Status::internal("internal error")
            }
            other => {
                let code = other.code();
                let message = match &other {
                    ApiError::Unauthenticated(m)
                    | ApiError::PermissionDenied(m)
                    | ApiError::AlreadyExists(m)
                    | ApiError::FailedPrecondition(m)
                    | ApiError::Aborted(m)
                    | ApiError::Unavailable(m)
                    | ApiError::DeadlineExceeded(m) => m.clone(),
                    _ => other.to_string(),
                };
                Status::new(code, clip(&message, MAX_MESSAGE_BYTES))
            }
        }
    }
}

/// A service's `From<Error> for tonic::Status`, through [`ApiError`]: the service says how its
/// `Error` reads to a client (`impl From<Error> for ApiError`) and `status_from!(Error)` adds
/// the status, so that the mapping to codes and details stays in this one module.
#[macro_export]
macro_rules! status_from {
    ($error:ty) => {
        impl ::std::convert::From<$error> for ::tonic::Status {
            fn from(error: $error) -> Self {
                $crate::ApiError::from(error).into()
            }
        }
    };
}

impl From<DbErr> for ApiError {
    /// Sorts database errors into not-found, conflict, unavailable, deadline, or internal.
    fn from(error: DbErr) -> Self {
        if let Some(sql) = error.sql_err() {
            match sql {
                SqlErr::UniqueConstraintViolation(_) => {
                    return ApiError::Aborted("conflicting concurrent change; retry".into());
                }
                SqlErr::ForeignKeyConstraintViolation(_) => {
                    return ApiError::FailedPrecondition("a referenced record does not exist".into());
                }
                _ => {}
            }
        }
        match &error {
            DbErr::RecordNotFound(what) => ApiError::NotFound(what.clone()),
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                tracing::warn!(error = %error, "database unavailable");
                ApiError::Unavailable("database unavailable; retry later".into())
            }
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) if is_transient(e) => {
                tracing::warn!(error = %error, "transient database error");
                ApiError::Unavailable("database busy; retry later".into())
            }
            _ => ApiError::Internal(anyhow::Error::new(error).context("database")),
        }
    }
}

/// Whether a database error is worth retrying: lost connections, serialization failures,
/// deadlocks, statement timeouts and a busy SQLite file.
fn is_transient(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match error {
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        E::Database(db) => {
            let code = db.code().unwrap_or_default();
            // 40001 serialization_failure, 40P01 deadlock_detected, 57014 query_canceled,
            // 55P03 lock_not_available, 57P01 admin_shutdown, 57P02 crash_shutdown,
            // 57P03 cannot_connect_now; SQLite 5 BUSY, 6 LOCKED, 517 BUSY_SNAPSHOT.
            matches!(
                code.as_ref(),
                "40001" | "40P01" | "57014" | "55P03" | "57P01" | "57P02" | "57P03" | "5" | "6" | "517"
            )
        }
        _ => false,
    }
}

/// Whether a database error says the database is unreachable or busy for now (a lost or
/// refused connection, an exhausted pool, a serialization failure, a deadlock, a busy SQLite
/// file), rather than that the statement is wrong for its data.
pub fn db_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => is_transient(e),
        _ => false,
    }
}

/// Whether a database error is a transient one that a retry of the whole transaction may cure.
pub fn db_retryable(error: &DbErr) -> bool {
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => is_transient(e),
        DbErr::ConnectionAcquire(_) => true,
        _ => matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_field_violations() {
        let mut v = Violations::new();
        v.add("case.description", "must not be empty");
        v.check(true, "request_id", "required");
        let status: Status = v.finish().unwrap_err().into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let fields: Vec<_> = details.bad_request().unwrap().field_violations.iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, ["case.description", "request_id"]);
        assert!(status.message().contains("case.description: must not be empty"));
    }

    #[test]
    fn huge_inputs_echoed_in_errors_are_cut_short() {
        let huge = format!("tenants/{}", "é".repeat(1 << 20));
        let status: Status = ApiError::invalid(huge.clone(), format!("{huge:?} is not a case name")).into();
        assert!(status.message().len() <= MAX_MESSAGE_BYTES, "{}", status.message().len());
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert!(violation.field.len() <= MAX_VIOLATION_PART_BYTES && violation.field.ends_with('…'));
        assert!(violation.description.len() <= MAX_VIOLATION_PART_BYTES);
        let status: Status = ApiError::NotFound(huge).into();
        assert!(status.message().len() <= MAX_MESSAGE_BYTES && status.message().starts_with("tenants/é"));
        assert_eq!(clip("short", 10), "short");
    }

    #[test]
    fn internal_errors_leak_nothing() {
        let status: Status = ApiError::internal(anyhow::anyhow!("password=hunter2 in query")).into();
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn exhaustion_carries_retry_info() {
        let status: Status =
            ApiError::ResourceExhausted { message: "slow down".into(), retry_after: Some(Duration::from_millis(1500)) }
                .into();
        let retry = status.get_error_details().retry_info().cloned().unwrap();
        assert_eq!(retry.retry_delay, Some(Duration::from_millis(1500)));
    }
}
