//! Assertions on gRPC answers.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Asserts INVALID_ARGUMENT with a field violation naming `field`.
pub fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let fields: Vec<String> =
        details.bad_request().map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect()).unwrap_or_default();
    assert!(
        fields.iter().any(|f| f == field),
        "expected a violation on {field:?}, got {fields:?}: {}",
        status.message()
    );
}
