//! Opaque page tokens: a position in a keyset order, bound to the query it came from.
//!
//! A token carries the last key of the page and a fingerprint of the tenant, filter and order;
//! a checksum over both rejects tokens that were altered, forged or reused with another query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The last key of a page of cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseKey {
    /// Creation or update time in microseconds, by the order.
    pub time_micros: i64,
    /// Severity, for the severity order.
    pub severity: i32,
    /// The case id.
    pub id: uuid::Uuid,
}

/// A fingerprint of everything a token is bound to.
pub fn fingerprint(parts: &[&[u8]]) -> [u8; 8] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

fn checksum(body: &[u8]) -> [u8; 8] {
    fingerprint(&[b"redress page token v1", body])
}

fn seal(body: Vec<u8>) -> String {
    let mut sealed = body;
    let sum = checksum(&sealed);
    sealed.extend_from_slice(&sum);
    URL_SAFE_NO_PAD.encode(sealed)
}

fn open(token: &str, bound_to: [u8; 8]) -> Option<Vec<u8>> {
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    if raw.len() < 16 {
        return None;
    }
    let (body, sum) = raw.split_at(raw.len() - 8);
    if checksum(body) != sum || body[..8] != bound_to {
        return None;
    }
    Some(body[8..].to_vec())
}

/// Encodes the position after `key` for a query with `bound_to`.
pub fn encode_case(key: CaseKey, bound_to: [u8; 8]) -> String {
    let mut body = bound_to.to_vec();
    body.extend_from_slice(&key.time_micros.to_be_bytes());
    body.extend_from_slice(&key.severity.to_be_bytes());
    body.extend_from_slice(key.id.as_bytes());
    seal(body)
}

/// Decodes a case page token for a query with `bound_to`; `None` if it is not one.
pub fn decode_case(token: &str, bound_to: [u8; 8]) -> Option<CaseKey> {
    let body = open(token, bound_to)?;
    if body.len() != 8 + 4 + 16 {
        return None;
    }
    let time_micros = i64::from_be_bytes(body[0..8].try_into().ok()?);
    let severity = i32::from_be_bytes(body[8..12].try_into().ok()?);
    let id = uuid::Uuid::from_slice(&body[12..28]).ok()?;
    Some(CaseKey { time_micros, severity, id })
}

/// Encodes a position in a sequence (timeline entries) for a query with `bound_to`.
pub fn encode_position(position: i64, bound_to: [u8; 8]) -> String {
    let mut body = bound_to.to_vec();
    body.extend_from_slice(&position.to_be_bytes());
    seal(body)
}

/// Decodes a position token for a query with `bound_to`.
pub fn decode_position(token: &str, bound_to: [u8; 8]) -> Option<i64> {
    let body = open(token, bound_to)?;
    Some(i64::from_be_bytes(body.as_slice().try_into().ok()?))
}

/// Encodes the position after the record `id` (erasures) for a query with `bound_to`.
pub fn encode_id(id: uuid::Uuid, bound_to: [u8; 8]) -> String {
    let mut body = bound_to.to_vec();
    body.extend_from_slice(id.as_bytes());
    seal(body)
}

/// Decodes a record token for a query with `bound_to`.
pub fn decode_id(token: &str, bound_to: [u8; 8]) -> Option<uuid::Uuid> {
    let body = open(token, bound_to)?;
    uuid::Uuid::from_slice(&body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let bound = fingerprint(&[b"acme", b"filter"]);
        let key = CaseKey { time_micros: 1_790_000_000_123_456, severity: 3, id: uuid::Uuid::now_v7() };
        let token = encode_case(key, bound);
        assert_eq!(decode_case(&token, bound), Some(key));
        assert_eq!(decode_case(&token, fingerprint(&[b"globex", b"filter"])), None, "bound to its query");
        let mut raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        raw[10] ^= 1;
        assert_eq!(decode_case(&URL_SAFE_NO_PAD.encode(raw), bound), None, "tampering is detected");
        for forged in ["", "abc", "not-a-token!", &"A".repeat(60)] {
            assert_eq!(decode_case(forged, bound), None, "{forged}");
        }
        assert_eq!(decode_position(&encode_position(42, bound), bound), Some(42));
        let id = uuid::Uuid::now_v7();
        assert_eq!(decode_id(&encode_id(id, bound), bound), Some(id));
    }
}
