//! Opaque page tokens: a position in a keyset order, bound to the query it came from.
//!
//! A token carries the last key of the page and a fingerprint of the tenant and filter; a
//! checksum over both refuses tokens that were altered, forged or reused with another query.
//! Positions are keys, not offsets, so a token stays correct while records are created.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

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
    fingerprint(&[b"redress notification page token v1", body])
}

/// Seals `position` for a query with `bound_to`.
pub fn encode(position: &[u8], bound_to: [u8; 8]) -> String {
    let mut sealed = bound_to.to_vec();
    sealed.extend_from_slice(position);
    let sum = checksum(&sealed);
    sealed.extend_from_slice(&sum);
    URL_SAFE_NO_PAD.encode(sealed)
}

/// The position sealed in `token` for a query with `bound_to`; `None` if it is not one.
pub fn decode(token: &str, bound_to: [u8; 8]) -> Option<Vec<u8>> {
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

/// Seals a UUID position.
pub fn encode_id(id: uuid::Uuid, bound_to: [u8; 8]) -> String {
    encode(id.as_bytes(), bound_to)
}

/// The UUID position in `token`.
pub fn decode_id(token: &str, bound_to: [u8; 8]) -> Option<uuid::Uuid> {
    uuid::Uuid::from_slice(&decode(token, bound_to)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let bound = fingerprint(&[b"acme", b"filter"]);
        let id = uuid::Uuid::now_v7();
        let token = encode_id(id, bound);
        assert_eq!(decode_id(&token, bound), Some(id));
        assert_eq!(decode_id(&token, fingerprint(&[b"globex", b"filter"])), None, "bound to its query");
        let mut raw = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        raw[10] ^= 1;
        assert_eq!(decode_id(&URL_SAFE_NO_PAD.encode(raw), bound), None, "tampering is detected");
        for forged in ["", "abc", "not-a-token!", &"A".repeat(60)] {
            assert_eq!(decode(forged, bound), None, "{forged}");
        }
        assert_eq!(decode(&encode(b"acknowledgement\0fr\0", bound), bound), Some(b"acknowledgement\0fr\0".to_vec()));
    }
}
