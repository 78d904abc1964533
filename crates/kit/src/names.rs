//! Resource names such as `tenants/{tenant}/cases/{case}`.
//!
//! A name is checked against its pattern and against the caller's tenant. A name from another
//! tenant is NOT_FOUND, so that nothing reveals whether it exists.

use crate::error::ApiError;
use crate::tenant::TenantId;

/// The longest id segment accepted.
pub const MAX_ID_LEN: usize = 128;

/// Parses `value` as `collections[0]/{id}/collections[1]/{id}…` and returns the ids.
/// `field` names the request field in the error.
pub fn parse<'a>(field: &str, value: &'a str, collections: &[&str]) -> Result<Vec<&'a str>, ApiError> {
    let pattern = collections.iter().map(|c| format!("{c}/{{{}}}", singular(c))).collect::<Vec<_>>().join("/");
    let malformed = || ApiError::invalid(field, format!("{value:?} is not a resource name of the form {pattern}"));
    if value.is_empty() {
        return Err(ApiError::invalid(field, format!("required; a resource name of the form {pattern}")));
    }
    let segments: Vec<&str> = value.split('/').collect();
    if segments.len() != collections.len() * 2 {
        return Err(malformed());
    }
    let mut ids = Vec::with_capacity(collections.len());
    for (pair, collection) in segments.chunks(2).zip(collections) {
        if pair[0] != *collection || !valid_id(pair[1]) {
            return Err(malformed());
        }
        ids.push(pair[1]);
    }
    Ok(ids)
}

/// Parses a name whose first segment is the tenant and checks it is the caller's tenant.
/// Returns the ids after the tenant.
pub fn parse_owned<'a>(
    field: &str,
    value: &'a str,
    collections: &[&str],
    caller: &TenantId,
) -> Result<Vec<&'a str>, ApiError> {
    debug_assert_eq!(collections.first(), Some(&"tenants"));
    let ids = parse(field, value, collections)?;
    if ids[0] != caller.as_str() {
        return Err(ApiError::NotFound(value.to_string()));
    }
    Ok(ids[1..].to_vec())
}

/// Checks a `tenants/{tenant}` parent against the caller's tenant.
pub fn check_parent(field: &str, value: &str, caller: &TenantId) -> Result<(), ApiError> {
    let ids = parse(field, value, &["tenants"])?;
    if ids[0] != caller.as_str() {
        return Err(ApiError::PermissionDenied(format!("{field}: {value} is not the tenant of this call")));
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

fn singular(collection: &str) -> String {
    match collection {
        "staff" => "staff".into(),
        "timeline" => "entry".into(),
        "slaPolicies" => "sla_policy".into(),
        c => c.strip_suffix('s').unwrap_or(c).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        let ids = parse("name", "tenants/acme/cases/abc-1", &["tenants", "cases"]).unwrap();
        assert_eq!(ids, ["acme", "abc-1"]);
        for bad in [
            "",
            "tenants/acme",
            "tenants/acme/cases/",
            "tenants/acme/tasks/x",
            "tenants/acme/cases/a b",
            "x/acme/cases/1",
        ] {
            let err = parse("name", bad, &["tenants", "cases"]).unwrap_err();
            let status = tonic::Status::from(err);
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad}");
            assert!(status.message().starts_with("name: "), "{}", status.message());
        }
    }

    #[test]
    fn another_tenants_name_is_not_found() {
        let acme = TenantId::parse("acme").unwrap();
        assert_eq!(parse_owned("name", "tenants/acme/cases/1", &["tenants", "cases"], &acme).unwrap(), ["1"]);
        let err = parse_owned("name", "tenants/globex/cases/1", &["tenants", "cases"], &acme).unwrap_err();
        assert!(matches!(err, ApiError::NotFound(_)));
    }
}
