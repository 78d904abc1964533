//! Webhook signatures, so that receivers can check a delivery came from redress and refuse
//! replays.
//!
//! Each webhook carries two headers: [`TIMESTAMP_HEADER`], the Unix time in seconds when it was
//! signed, and [`SIGNATURE_HEADER`], `v1=` followed by the lower-case hex HMAC-SHA256 of
//! `"{timestamp}.{body}"` under the secret shared with the receiver. A receiver recomputes the
//! HMAC, compares it in constant time, and refuses a timestamp further than the tolerance from
//! its own clock. While a secret is being rotated the signature header may carry several
//! comma-separated `v1=` values; any one that matches is enough.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header holding the Unix time, in seconds, when the webhook was signed.
pub const TIMESTAMP_HEADER: &str = "x-redress-timestamp";
/// The header holding the signature: `v1=` and the hex HMAC-SHA256.
pub const SIGNATURE_HEADER: &str = "x-redress-signature";
/// How far a timestamp may be from the receiver's clock, either way, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The signature scheme's prefix.
const SCHEME: &str = "v1=";
/// The most signatures one header may carry.
const MAX_SIGNATURES: usize = 8;

type HmacSha256 = Hmac<Sha256>;

/// A webhook secret shared with a receiver, keyed and ready to sign. Its bytes are never
/// printed.
#[derive(Clone)]
pub struct WebhookSecret {
    mac: HmacSha256,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// Why a secret was refused or a webhook did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The secret is empty.
    #[error("the webhook secret is empty")]
    EmptySecret,
    /// The timestamp header is missing or is not a whole number of seconds.
    #[error("the {TIMESTAMP_HEADER} header is not a Unix time in seconds")]
    MalformedTimestamp,
    /// The signature header has no well-formed `v1=` signature.
    #[error("the {SIGNATURE_HEADER} header has no v1= signature of 64 hex digits")]
    MalformedSignature,
    /// The timestamp is older than the tolerance allows: a late delivery or a replay.
    #[error("the webhook was signed {age_seconds}s ago, more than the {tolerance_seconds}s allowed")]
    Stale {
        /// How long ago it was signed.
        age_seconds: u64,
        /// The tolerance.
        tolerance_seconds: u64,
    },
    /// The timestamp is further in the future than the tolerance allows.
    #[error("the webhook is signed {ahead_seconds}s in the future, more than the {tolerance_seconds}s allowed")]
    FromTheFuture {
        /// How far ahead it is.
        ahead_seconds: u64,
        /// The tolerance.
        tolerance_seconds: u64,
    },
    /// No signature matches the body and timestamp under the secret.
    #[error("the webhook signature does not match")]
    Mismatch,
}

impl WebhookSecret {
    /// Keys a secret; an empty one is refused.
    pub fn new(secret: &[u8]) -> Result<Self, SignatureError> {
        if secret.is_empty() {
            return Err(SignatureError::EmptySecret);
        }
        let mac = HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::EmptySecret)?;
        Ok(Self { mac })
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// The headers that sign one webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// The value of [`TIMESTAMP_HEADER`]: Unix seconds.
    pub timestamp: String,
    /// The value of [`SIGNATURE_HEADER`]: `v1=` and 64 hex digits.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as name and value pairs, ready to add to a request.
    pub fn pairs(&self) -> [(&'static str, &str); 2] {
        [(TIMESTAMP_HEADER, self.timestamp.as_str()), (SIGNATURE_HEADER, self.signature.as_str())]
    }
}

/// Signs `body` at `timestamp` (Unix seconds). Sign again on every attempt, so that retries
/// carry a fresh timestamp.
pub fn sign(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> SignedHeaders {
    let tag = secret.mac(timestamp, body).finalize().into_bytes();
    SignedHeaders { timestamp: timestamp.to_string(), signature: format!("{SCHEME}{}", hex::encode(tag)) }
}

/// Verifies a webhook as a receiver does: the timestamp must be within `tolerance` of `now`
/// (Unix seconds) either way, and one `v1=` signature must match `body` under `secret`,
/// compared in constant time.
pub fn verify(
    secret: &WebhookSecret,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let timestamp = parse_timestamp(timestamp_header)?;
    let tolerance_seconds = tolerance.as_secs();
    let distance = now.abs_diff(timestamp);
    if distance > tolerance_seconds {
        return Err(if timestamp < now {
            SignatureError::Stale { age_seconds: distance, tolerance_seconds }
        } else {
            SignatureError::FromTheFuture { ahead_seconds: distance, tolerance_seconds }
        });
    }
    let signatures = parse_signatures(signature_header)?;
    let expected = secret.mac(timestamp, body);
    if signatures.iter().any(|tag| expected.clone().verify_slice(tag).is_ok()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// A whole number of seconds: ASCII digits only, at most 19 of them.
fn parse_timestamp(header: &str) -> Result<i64, SignatureError> {
    let header = header.trim();
    if header.is_empty() || header.len() > 19 || !header.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedTimestamp);
    }
    header.parse().map_err(|_| SignatureError::MalformedTimestamp)
}

/// The `v1=` signatures in a header, decoded; other schemes are ignored.
fn parse_signatures(header: &str) -> Result<Vec<[u8; 32]>, SignatureError> {
    let mut tags = Vec::new();
    for part in header.split(',').map(str::trim).take(MAX_SIGNATURES) {
        let Some(hex_tag) = part.strip_prefix(SCHEME) else { continue };
        let mut tag = [0u8; 32];
        if hex::decode_to_slice(hex_tag, &mut tag).is_ok() {
            tags.push(tag);
        }
    }
    if tags.is_empty() { Err(SignatureError::MalformedSignature) } else { Ok(tags) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"event":"case.opened","case":"tenants/acme/cases/1"}"#;

    fn secret(bytes: &[u8]) -> WebhookSecret {
        WebhookSecret::new(bytes).expect("a secret")
    }

    fn check(headers: &SignedHeaders, body: &[u8], key: &[u8], now: i64) -> Result<(), SignatureError> {
        verify(&secret(key), &headers.timestamp, &headers.signature, body, now, DEFAULT_TOLERANCE)
    }

    #[test]
    fn a_signed_webhook_verifies_and_matches_a_known_vector() {
        let headers = sign(&secret(b"whsec_test"), NOW, BODY);
        assert_eq!(headers.timestamp, "1700000000");
        assert!(headers.signature.starts_with("v1=") && headers.signature.len() == 3 + 64, "{}", headers.signature);
        assert_eq!(headers.pairs()[0], (TIMESTAMP_HEADER, "1700000000"));
        assert_eq!(headers.pairs()[1].0, SIGNATURE_HEADER);
        assert_eq!(check(&headers, BODY, b"whsec_test", NOW), Ok(()));
        assert_eq!(check(&headers, BODY, b"whsec_test", NOW + 299), Ok(()), "within the tolerance");

        // Computed independently: HMAC-SHA256(key "whsec_test", "1700000000." + BODY).
        assert_eq!(headers.signature, "v1=039cc9e866af53f269be497fcb73890fd835213abc2aa32286fb08f90cb7993c");
    }

    #[test]
    fn tampering_a_wrong_secret_and_stale_or_future_timestamps_are_refused() {
        let headers = sign(&secret(b"whsec_test"), NOW, BODY);

        let tampered_body = br#"{"event":"case.opened","case":"tenants/acme/cases/2"}"#;
        assert_eq!(check(&headers, tampered_body, b"whsec_test", NOW), Err(SignatureError::Mismatch));

        let mut tampered = headers.clone();
        let flipped = if tampered.signature.ends_with('0') { '1' } else { '0' };
        tampered.signature.pop();
        tampered.signature.push(flipped);
        assert_eq!(check(&tampered, BODY, b"whsec_test", NOW), Err(SignatureError::Mismatch));

        let moved = SignedHeaders { timestamp: (NOW + 1).to_string(), ..headers.clone() };
        assert_eq!(check(&moved, BODY, b"whsec_test", NOW), Err(SignatureError::Mismatch), "the timestamp is signed");

        assert_eq!(check(&headers, BODY, b"whsec_other", NOW), Err(SignatureError::Mismatch));

        assert_eq!(
            check(&headers, BODY, b"whsec_test", NOW + 301),
            Err(SignatureError::Stale { age_seconds: 301, tolerance_seconds: 300 })
        );
        assert_eq!(
            check(&headers, BODY, b"whsec_test", NOW - 301),
            Err(SignatureError::FromTheFuture { ahead_seconds: 301, tolerance_seconds: 300 })
        );
        let err = verify(&secret(b"whsec_test"), "0", &headers.signature, BODY, i64::MAX, DEFAULT_TOLERANCE);
        assert!(matches!(err, Err(SignatureError::Stale { .. })), "{err:?}");
    }

    #[test]
    fn malformed_headers_and_empty_secrets_are_refused() {
        let key = secret(b"k");
        let good = sign(&key, NOW, BODY);
        for timestamp in ["", "abc", "-5", "1.5", "+1700000000", "99999999999999999999"] {
            assert_eq!(
                verify(&key, timestamp, &good.signature, BODY, NOW, DEFAULT_TOLERANCE),
                Err(SignatureError::MalformedTimestamp),
                "{timestamp:?}"
            );
        }
        for signature in ["", "v1=", "v1=zz", "sha256=abcd", &good.signature[..good.signature.len() - 2], "v0=00"] {
            assert_eq!(
                verify(&key, &good.timestamp, signature, BODY, NOW, DEFAULT_TOLERANCE),
                Err(SignatureError::MalformedSignature),
                "{signature:?}"
            );
        }
        assert_eq!(WebhookSecret::new(b"").map(|_| ()), Err(SignatureError::EmptySecret));
        assert_eq!(format!("{key:?}"), "WebhookSecret(..)");
    }

    #[test]
    fn any_of_several_signatures_verifies_while_a_secret_is_rotated() {
        let old = sign(&secret(b"old"), NOW, BODY);
        let new = sign(&secret(b"new"), NOW, BODY);
        let both = format!("{}, {}", old.signature, new.signature);
        assert_eq!(verify(&secret(b"new"), &old.timestamp, &both, BODY, NOW, DEFAULT_TOLERANCE), Ok(()));
        assert_eq!(verify(&secret(b"old"), &old.timestamp, &both, BODY, NOW, DEFAULT_TOLERANCE), Ok(()));
        assert_eq!(
            verify(&secret(b"other"), &old.timestamp, &both, BODY, NOW, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
    }
}
