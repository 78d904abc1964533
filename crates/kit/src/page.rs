//! Opaque page tokens: a position in a keyset order, bound to the query it came from.
//!
//! A token carries a fingerprint of what the query is bound to (tenant, filter, order), then
//! the position (the last key of the page), then a checksum over both, keyed with the label of
//! the service's tokens: the checksum refuses tokens that were altered, forged or reused with
//! another query. Positions are keys, not offsets, so a token stays correct while records are
//! created.

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

/// One kind of page token, told apart by the label its checksum is keyed with.
#[derive(Debug, Clone, Copy)]
pub struct Tokens(pub &'static [u8]);

impl Tokens {
    fn checksum(self, body: &[u8]) -> [u8; 8] {
        fingerprint(&[self.0, body])
    }

    /// Seals `position` for a query with `bound_to`.
    pub fn seal(self, position: &[u8], bound_to: [u8; 8]) -> String {
        let mut sealed = bound_to.to_vec();
        sealed.extend_from_slice(position);
        let sum = self.checksum(&sealed);
        sealed.extend_from_slice(&sum);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The position sealed in `token` for a query with `bound_to`; `None` if it is not one.
    pub fn open(self, token: &str, bound_to: [u8; 8]) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        if raw.len() < 16 {
            return None;
        }
        let (body, sum) = raw.split_at(raw.len() - 8);
        if self.checksum(body) != sum || body[..8] != bound_to {
            return None;
        }
        Some(body[8..].to_vec())
    }

    /// Seals the position after the record `id`.
    pub fn encode_id(self, id: uuid::Uuid, bound_to: [u8; 8]) -> String {
        self.seal(id.as_bytes(), bound_to)
    }

    /// The record id in `token`.
    pub fn decode_id(self, token: &str, bound_to: [u8; 8]) -> Option<uuid::Uuid> {
        uuid::Uuid::from_slice(&self.open(token, bound_to)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    /// The notification service's tokens.
    const TOKENS: Tokens = Tokens(b"redress notification page token v1");

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let bound = fingerprint(&[b"acme", b"filter"]);
        let id = uuid::Uuid::now_v7();
        let token = TOKENS.encode_id(id, bound);
        assert_eq!(TOKENS.decode_id(&token, bound), Some(id));
        assert_eq!(TOKENS.decode_id(&token, fingerprint(&[b"globex", b"filter"])), None, "bound to its query");
        let mut raw = URL_SAFE_NO_PAD.decode(&token).expect("base64");
        raw[10] ^= 1;
        assert_eq!(TOKENS.decode_id(&URL_SAFE_NO_PAD.encode(raw), bound), None, "tampering is detected");
        for forged in ["", "abc", "not-a-token!", &"A".repeat(60)] {
            assert_eq!(TOKENS.open(forged, bound), None, "{forged}");
        }
        assert_eq!(
            TOKENS.open(&TOKENS.seal(b"acknowledgement\0fr\0", bound), bound),
            Some(b"acknowledgement\0fr\0".to_vec())
        );
    }
}
