//! Verifying a compact JWT (`header.payload.signature`) against a [`KeySet`].
//!
//! The order is fixed and nothing is trusted before the signature: the size is bounded, the
//! header decoded, the algorithm checked against the two accepted (RS256, ES256), the key
//! chosen by `kid`, the signature verified with ring, and only then the claims read and
//! checked: `iss`, `aud`, `exp` (required), `nbf` and `iat`, each time with a clock-skew
//! allowance. Base64url is decoded strictly: no padding, no stray trailing bits.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Error;
use crate::keyset::{Algorithm, KeySet, Material};

/// The longest token accepted, in bytes; longer ones are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The clock-skew allowance used unless configured otherwise.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The claim naming the tenant unless configured otherwise.
pub const DEFAULT_TENANT_CLAIM: &str = "tenant";
/// The claim listing the roles unless configured otherwise.
pub const DEFAULT_ROLES_CLAIM: &str = "roles";
/// The claim naming the caller's team, if any.
pub const TEAM_CLAIM: &str = "team";

/// What a token must say to be accepted, and where its tenant and roles are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The required `iss`, exactly.
    pub issuer: String,
    /// The audience `aud` must be or contain.
    pub audience: String,
    /// The clock-skew allowance for `exp`, `nbf` and `iat` (whole seconds count).
    pub leeway: Duration,
    /// The claim naming the tenant (a string, required).
    pub tenant_claim: String,
    /// The claim listing the roles: an array of strings or one space- or comma-separated string.
    pub roles_claim: String,
}

impl Validation {
    /// A validation for `issuer` and `audience` with the default leeway and claim names.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: DEFAULT_LEEWAY,
            tenant_claim: DEFAULT_TENANT_CLAIM.to_string(),
            roles_claim: DEFAULT_ROLES_CLAIM.to_string(),
        }
    }

    /// Refuses empty names and a leeway over ten minutes, naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        let non_empty = [
            ("issuer", &self.issuer),
            ("audience", &self.audience),
            ("tenant_claim", &self.tenant_claim),
            ("roles_claim", &self.roles_claim),
        ];
        for (name, value) in non_empty {
            if value.trim().is_empty() {
                return Err(Error::InvalidSetting { name, reason: "must not be empty".to_string() });
            }
        }
        if self.leeway > Duration::from_secs(600) {
            return Err(Error::InvalidSetting { name: "leeway", reason: "must be at most 10 minutes".to_string() });
        }
        Ok(())
    }
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// Who the token is about (`sub`).
    pub sub: String,
    /// The tenant, from the configured tenant claim.
    pub tenant: String,
    /// The roles, from the configured roles claim; empty if the token has none.
    pub roles: Vec<String>,
    /// The `team` claim, if present.
    pub team: Option<String>,
    /// When the token expires, in seconds since the Unix epoch.
    pub exp: i64,
    /// Every claim, as sent.
    pub raw: Map<String, Value>,
}

/// The JOSE header members that are read; duplicates of these are refused.
#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<Value>,
}

/// Verifies `token` with `keys` and `validation` at the current time.
pub fn verify(token: &str, keys: &KeySet, validation: &Validation) -> Result<Claims, Error> {
    verify_at(token, keys, validation, unix_now())
}

/// Verifies `token` as [`verify`] does, as if the time were `now` (seconds since the epoch).
pub fn verify_at(token: &str, keys: &KeySet, validation: &Validation, now: i64) -> Result<Claims, Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed);
    };
    let header: Header = serde_json::from_slice(&decode(header_b64)?).map_err(|_| Error::Malformed)?;
    let alg = Algorithm::parse(header.alg.as_deref().ok_or(Error::MissingAlgorithm)?)?;
    if header.crit.is_some() {
        return Err(Error::UnsupportedCritical);
    }
    let key = keys.find(header.kid.as_deref(), alg)?;
    let signature = decode(signature_b64)?;
    let signing_input = token.get(..header_b64.len() + 1 + payload_b64.len()).ok_or(Error::Malformed)?.as_bytes();
    let verified = match key.material() {
        Material::Rsa { n, e } => {
            RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, signing_input, &signature)
        }
        Material::P256 { point } => {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(signing_input, &signature)
        }
    };
    verified.map_err(|_| Error::BadSignature)?;
    let payload: Map<String, Value> = serde_json::from_slice(&decode(payload_b64)?).map_err(|_| Error::Malformed)?;
    check_claims(payload, validation, now)
}

/// Checks the registered claims and extracts the ones the caller needs.
fn check_claims(raw: Map<String, Value>, validation: &Validation, now: i64) -> Result<Claims, Error> {
    let leeway = i64::try_from(validation.leeway.as_secs()).unwrap_or(i64::MAX);
    let exp = numeric_date(&raw, "exp")?.ok_or_else(|| Error::MissingClaim("exp".to_string()))?;
    if now >= exp.saturating_add(leeway) {
        return Err(Error::Expired);
    }
    if numeric_date(&raw, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(Error::NotYetValid);
    }
    if numeric_date(&raw, "iat")?.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(Error::IssuedInFuture);
    }
    match raw.get("iss") {
        None => return Err(Error::MissingClaim("iss".to_string())),
        Some(Value::String(iss)) if *iss == validation.issuer => {}
        Some(_) => return Err(Error::WrongIssuer),
    }
    let audience_ok = match raw.get("aud") {
        None => return Err(Error::MissingClaim("aud".to_string())),
        Some(Value::String(aud)) => *aud == validation.audience,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(validation.audience.as_str())),
        Some(_) => return Err(Error::InvalidClaim("aud".to_string())),
    };
    if !audience_ok {
        return Err(Error::WrongAudience);
    }
    let sub = required_string(&raw, "sub")?;
    let tenant = required_string(&raw, &validation.tenant_claim)?;
    let roles = roles(&raw, &validation.roles_claim)?;
    let team = match raw.get(TEAM_CLAIM) {
        None | Some(Value::Null) => None,
        Some(Value::String(team)) if !team.is_empty() => Some(team.clone()),
        Some(_) => return Err(Error::InvalidClaim(TEAM_CLAIM.to_string())),
    };
    Ok(Claims { sub, tenant, roles, team, exp, raw })
}

/// A NumericDate claim as whole seconds (fractions are dropped), if present.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            // Past i64 (or non-integral) values come as f64; `as` saturates, which is what we want.
            n.as_i64().or_else(|| n.as_f64().map(|f| f.floor() as i64)).map(Some).ok_or_else(|| invalid(name))
        }
        Some(_) => Err(invalid(name)),
    }
}

fn required_string(claims: &Map<String, Value>, name: &str) -> Result<String, Error> {
    match claims.get(name) {
        None => Err(Error::MissingClaim(name.to_string())),
        Some(Value::String(value)) if !value.trim().is_empty() => Ok(value.clone()),
        Some(_) => Err(invalid(name)),
    }
}

/// Roles from an array of strings or from one string separated by spaces or commas.
fn roles(claims: &Map<String, Value>, name: &str) -> Result<Vec<String>, Error> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|r| !r.is_empty())
            .map(String::from)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().filter(|r| !r.trim().is_empty()).map(String::from).ok_or_else(|| invalid(name)))
            .collect(),
        Some(_) => Err(invalid(name)),
    }
}

fn invalid(name: &str) -> Error {
    Error::InvalidClaim(name.to_string())
}

fn decode(part: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Error::Malformed)
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
