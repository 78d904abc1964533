//! What a request must look like before anything is written: its request_id, the message it
//! must carry, the message's own rules (from the domain), and the names it gives.

use redress_kit::error::Violations;
use redress_kit::{ApiError, TenantId, names};
use tonic::Status;
use tonic_types::FieldViolation;

use crate::domain::Violation;
use crate::domain::settings::FIELDS;
use crate::error::field_violations;

/// Every violation of a request: its request_id, a missing message, and the message's own.
pub fn check(request_id: &str, missing: Option<&str>, found: Result<(), Vec<Violation>>) -> Result<(), Status> {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", request_id, true);
    if let Some(field) = missing {
        v.add(field, "required");
    }
    let mut all: Vec<FieldViolation> = match v.finish() {
        Err(ApiError::InvalidArgument(violations)) => violations,
        _ => Vec::new(),
    };
    if let Err(found) = found {
        all.extend(field_violations(found));
    }
    if all.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(all).into()) }
}

/// Adds to `found` a violation when `case`, the case a survey answer is about, is given but is
/// not a case name of the caller's tenant. A name of another tenant is NOT_FOUND.
pub fn survey_case(case: &str, tenant: &TenantId, found: &mut Result<(), Vec<Violation>>) -> Result<(), Status> {
    const FIELD: &str = "survey_response.case";
    if case.is_empty() {
        return Ok(());
    }
    let problem = match names::parse_owned(FIELD, case, &["tenants", "cases"], tenant) {
        Ok(ids) if uuid::Uuid::parse_str(ids[0]).is_ok() => None,
        Ok(_) => Some("does not name a case (tenants/{tenant}/cases/{case})".to_string()),
        Err(ApiError::NotFound(name)) => return Err(ApiError::NotFound(name).into()),
        Err(_) => Some("must be a case name of the form tenants/{tenant}/cases/{case}".to_string()),
    };
    if let Some(description) = problem {
        let violation = Violation { field: FIELD.into(), description };
        match found {
            Ok(()) => *found = Err(vec![violation]),
            Err(violations) => violations.push(violation),
        }
    }
    Ok(())
}

/// Checks that `value` names the caller's classification settings,
/// `tenants/{tenant}/classificationSettings`.
pub fn settings_name(field: &str, value: &str, tenant: &TenantId) -> Result<(), Status> {
    match value.strip_suffix("/classificationSettings") {
        Some(parent) => Ok(names::check_parent(field, parent, tenant)?),
        None => Err(ApiError::invalid(
            field,
            format!("{value:?} is not of the form tenants/{{tenant}}/classificationSettings"),
        )
        .into()),
    }
}

/// Checks that an update names at least one setting and only settings that can be updated.
pub fn update_mask(paths: &[String]) -> Result<(), Status> {
    let mut violations = Vec::new();
    if paths.is_empty() {
        violations.push(FieldViolation::new(
            "update_mask",
            format!("required: name the settings to change ({})", FIELDS.join(", ")),
        ));
    }
    for (i, path) in paths.iter().enumerate() {
        if !FIELDS.contains(&path.as_str()) {
            violations.push(FieldViolation::new(
                format!("update_mask.paths[{i}]"),
                format!("{path:?} cannot be updated; updatable: {}", FIELDS.join(", ")),
            ));
        }
    }
    if violations.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(violations).into()) }
}

/// A submission as the application takes it: `given` normalised, and the whole request
/// checked at once — its parent is the caller's tenant, its request_id, the message present
/// (`field`), and the message's own `rules` (not applied to a missing message).
pub fn submission<T: Default>(
    tenant: &TenantId,
    (parent, request_id): (&str, &str),
    (field, given): (&'static str, Option<T>),
    normalise: fn(&T) -> T,
    rules: impl FnOnce(&T) -> Result<Result<(), Vec<Violation>>, Status>,
) -> Result<T, Status> {
    names::check_parent("parent", parent, tenant)?;
    let missing = given.is_none().then_some(field);
    let message = normalise(&given.unwrap_or_default());
    let found = if missing.is_some() { Ok(()) } else { rules(&message)? };
    check(request_id, missing, found)?;
    Ok(message)
}
