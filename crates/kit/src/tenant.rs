//! Tenancy: every record belongs to a tenant, and every call acts for one.
//!
//! The tenant of a call is its caller's, as the server's authentication identified it
//! ([`crate::auth`]). Where headers are trusted (authentication off, development mode, another
//! redress service) it is the `x-redress-tenant` request metadata: missing is
//! UNAUTHENTICATED, malformed is INVALID_ARGUMENT.

use std::fmt;

use tonic::metadata::MetadataMap;

use crate::error::ApiError;

/// The metadata key naming the caller's tenant.
pub const TENANT_HEADER: &str = "x-redress-tenant";

/// A tenant id: 1 to 63 characters of lowercase letters, digits and hyphens, starting with a
/// letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Checks and wraps a tenant id.
    pub fn parse(value: &str) -> Result<Self, String> {
        let ok_len = (1..=63).contains(&value.len());
        let ok_chars = value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_start = value.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok_len && ok_chars && ok_start {
            Ok(Self(value.to_string()))
        } else {
            Err(format!(
                "{value:?} is not a tenant id (1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit)"
            ))
        }
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's resource name, `tenants/{tenant}`.
    pub fn resource_name(&self) -> String {
        format!("tenants/{}", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tenant a call acts for, from its metadata.
pub fn tenant_of(metadata: &MetadataMap) -> Result<TenantId, ApiError> {
    let value = metadata
        .get(TENANT_HEADER)
        .ok_or_else(|| ApiError::Unauthenticated(format!("no tenant: set the {TENANT_HEADER} metadata key")))?;
    let value = value.to_str().map_err(|_| ApiError::invalid(TENANT_HEADER, "not ASCII"))?;
    TenantId::parse(value).map_err(|problem| ApiError::invalid(TENANT_HEADER, problem))
}

/// The tenant of a request as the server identified its caller (see
/// [`crate::caller::caller`]), or the status to refuse it with.
pub fn tenant<T>(request: &tonic::Request<T>) -> Result<TenantId, tonic::Status> {
    crate::caller::caller(request).map(|caller| caller.tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        assert!(TenantId::parse("acme").is_ok());
        assert!(TenantId::parse("acme-uk-2").is_ok());
        for bad in ["", "-acme", "Acme", "acme_uk", "a/b", &"a".repeat(64)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_and_malformed_tenants_are_refused() {
        let mut md = MetadataMap::new();
        assert_eq!(tonic::Status::from(tenant_of(&md).unwrap_err()).code(), tonic::Code::Unauthenticated);
        md.insert(TENANT_HEADER, "Not Valid".parse().unwrap());
        assert_eq!(tonic::Status::from(tenant_of(&md).unwrap_err()).code(), tonic::Code::InvalidArgument);
        md.insert(TENANT_HEADER, "acme".parse().unwrap());
        assert_eq!(tenant_of(&md).unwrap().as_str(), "acme");
    }
}
