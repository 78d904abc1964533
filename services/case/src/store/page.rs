//! Opaque page tokens: a position in a keyset order, bound to the query it came from.
//!
//! A token carries the last key of the page and a fingerprint of the tenant, filter and order,
//! sealed by `redress_kit::page`.

use redress_kit::page::Tokens;
pub use redress_kit::page::fingerprint;

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

/// The case service's page tokens.
pub const TOKENS: Tokens = Tokens(b"redress page token v1");

/// Encodes the position after `key` for a query with `bound_to`.
pub fn encode_case(key: CaseKey, bound_to: [u8; 8]) -> String {
    let mut position = key.time_micros.to_be_bytes().to_vec();
    position.extend_from_slice(&key.severity.to_be_bytes());
    position.extend_from_slice(key.id.as_bytes());
    TOKENS.seal(&position, bound_to)
}

/// Decodes a case page token for a query with `bound_to`; `None` if it is not one.
pub fn decode_case(token: &str, bound_to: [u8; 8]) -> Option<CaseKey> {
    let body = TOKENS.open(token, bound_to)?;
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
    TOKENS.seal(&position.to_be_bytes(), bound_to)
}

/// Decodes a position token for a query with `bound_to`.
pub fn decode_position(token: &str, bound_to: [u8; 8]) -> Option<i64> {
    let body = TOKENS.open(token, bound_to)?;
    Some(i64::from_be_bytes(body.as_slice().try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
        assert_eq!(TOKENS.decode_id(&TOKENS.encode_id(id, bound), bound), Some(id));
    }
}
