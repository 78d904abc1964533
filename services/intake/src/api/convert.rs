//! How the application's answers read to intake's client.

use redress_kit::ApiError;
use tonic::Status;

use crate::error::Error;

/// The status a failed submission answers with. The case service names the fields of the case
/// it was asked to open or change (`case.customer.email`); the client sent them as fields of its
/// submission, so they are renamed here, once, after it (`complaint.customer.email`).
pub fn submission_error(submission: &str, error: Error) -> Status {
    let from_peer = matches!(error, Error::Peer { .. });
    match ApiError::from(error) {
        ApiError::InvalidArgument(mut violations) if from_peer => {
            for violation in &mut violations {
                if let Some(rest) = violation.field.strip_prefix("case") {
                    violation.field = format!("{submission}{rest}");
                }
            }
            ApiError::InvalidArgument(violations).into()
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;
    use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

    #[test]
    fn case_field_violations_are_named_by_the_submission() {
        let details = ErrorDetails::with_bad_request(vec![FieldViolation::new("case.customer.email", "bad")]);
        let status = Status::with_error_details(Code::InvalidArgument, "bad", details);
        let error = Error::Peer { call: "CreateCase", status };
        let status = submission_error("complaint", error);
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> = status
            .get_error_details()
            .bad_request()
            .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["complaint.customer.email"]);

        let busy = Error::Peer { call: "ListCases", status: Status::unavailable("down") };
        assert_eq!(submission_error("complaint", busy).code(), Code::Unavailable);
        let bug = Error::Peer { call: "ListCases", status: Status::permission_denied("no") };
        let status = submission_error("x", bug);
        assert_eq!((status.code(), status.message()), (Code::Internal, "internal error"));
    }
}
