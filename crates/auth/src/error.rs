//! The one error type of the crate.
//!
//! The token variants display a short lowercase reason that a client may be told as it is: none
//! of them carries key material, and text taken from the token is shown only when it is short
//! and printable. The key-set and setting variants are for operators and start-up.

/// Why a token, an API key, a key set or a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token is longer than [`crate::jwt::MAX_TOKEN_LEN`]; it was not decoded.
    #[error("token too large")]
    TooLarge,
    /// The token is not three base64url parts of JSON, or a header field has the wrong type.
    #[error("malformed token")]
    Malformed,
    /// The header names no algorithm.
    #[error("missing algorithm")]
    MissingAlgorithm,
    /// The header names an algorithm other than RS256 and ES256 (`none` and HMAC included).
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The header lists critical extensions (`crit`), none of which are understood.
    #[error("unsupported critical header")]
    UnsupportedCritical,
    /// No key in the set has this `kid` (or, without one, no single key fits the algorithm).
    /// Refreshing the key set may help: the issuer may have rotated its keys.
    #[error("unknown signing key")]
    UnknownKey {
        /// The token's `kid`, if it named one; as sent, so never trust or echo it unbounded.
        kid: Option<String>,
    },
    /// The key the token names does not fit the token's algorithm (type, curve or `alg`).
    #[error("signing key does not fit the algorithm")]
    KeyMismatch,
    /// The signature does not verify with the named key.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed, beyond the allowed clock skew.
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future, beyond the allowed clock skew.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future, beyond the allowed clock skew.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(String),
    /// A claim has the wrong type or an empty value.
    #[error("invalid claim {0}")]
    InvalidClaim(String),
    /// The text is not an API key of the form `rdk_<id>_<secret>`.
    #[error("malformed api key")]
    MalformedApiKey,
    /// The key set could not be read or fetched.
    #[error("key set unavailable: {0}")]
    KeySetUnavailable(String),
    /// The key set is not a JWKS document, or holds no usable signing key.
    #[error("invalid key set: {0}")]
    InvalidKeySet(String),
    /// A setting is nonsense; the message names it.
    #[error("invalid setting {name}: {reason}")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// Whether the token (or API key) itself was refused, so the caller should be told
    /// UNAUTHENTICATED with this error's text; otherwise the failure is the server's.
    pub fn is_credential_problem(&self) -> bool {
        !matches!(self, Error::KeySetUnavailable(_) | Error::InvalidKeySet(_) | Error::InvalidSetting { .. })
    }

    /// An [`Error::UnsupportedAlgorithm`] naming `alg` only if it is short and printable, so
    /// that a hostile header cannot put arbitrary text into logs or replies.
    pub(crate) fn unsupported_algorithm(alg: &str) -> Self {
        let printable = alg.len() <= 16 && alg.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-_.".contains(&b));
        Error::UnsupportedAlgorithm(if printable { alg.to_string() } else { "(unprintable)".to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_are_short_lowercase_reasons() {
        assert_eq!(Error::Expired.to_string(), "token expired");
        assert_eq!(Error::WrongAudience.to_string(), "wrong audience");
        assert_eq!(Error::UnknownKey { kid: Some("k".into()) }.to_string(), "unknown signing key");
        assert_eq!(Error::unsupported_algorithm("none").to_string(), "unsupported algorithm none");
        assert_eq!(Error::unsupported_algorithm("a\nb").to_string(), "unsupported algorithm (unprintable)");
        assert_eq!(Error::unsupported_algorithm(&"A".repeat(17)).to_string(), "unsupported algorithm (unprintable)");
        assert_eq!(Error::MissingClaim("tenant".into()).to_string(), "missing claim tenant");
        assert!(Error::BadSignature.is_credential_problem());
        assert!(!Error::KeySetUnavailable("down".into()).is_credential_problem());
    }
}
