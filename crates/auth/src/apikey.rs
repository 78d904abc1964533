//! API keys for machine clients: `rdk_<id>_<secret>`.
//!
//! `<id>` is 16 lowercase hex characters (64 random bits) that name the key, so it can be
//! looked up and shown in listings; `<secret>` is 43 characters of unpadded base64url encoding
//! 32 random bytes. The key is shown once, at generation; only the id and [`hash`] of the
//! secret are stored. To check a presented key: [`ApiKey::parse`] it, look the stored hash up
//! by id, then [`verify`] the secret against it.
//!
//! The hash is plain SHA-256, not a password hash such as argon2: a password hash slows down
//! guessing a low-entropy secret, but this secret has 256 bits of entropy, so guessing it is
//! hopeless however fast the hash is, and a slow hash would only make every authenticated
//! call slow (and an easy denial of service).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use ring::digest::{SHA256, digest};

use crate::Error;

/// What every key starts with, so that leaked keys are easy to recognise and scan for.
pub const PREFIX: &str = "rdk_";
/// The length of the id, in hex characters.
pub const ID_LEN: usize = 16;
/// The length of the secret, in base64url characters.
pub const SECRET_LEN: usize = 43;
/// The length of a whole key.
pub const KEY_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN;

/// A key split into its parts. `Debug` does not show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public id, 16 lowercase hex characters.
    pub id: String,
    /// The secret, 43 base64url characters.
    pub secret: String,
}

impl ApiKey {
    /// A new random key, and the whole key text to show the client once.
    pub fn generate() -> (ApiKey, String) {
        // ThreadRng: a ChaCha CSPRNG seeded from the operating system, and reseeded from it.
        let mut rng = rand::rng();
        let mut id = [0u8; ID_LEN / 2];
        rng.fill_bytes(&mut id);
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let key =
            ApiKey { id: id.iter().map(|b| format!("{b:02x}")).collect(), secret: URL_SAFE_NO_PAD.encode(secret) };
        let text = format!("{PREFIX}{}_{}", key.id, key.secret);
        (key, text)
    }

    /// Splits a presented key, refusing anything not exactly of the form `rdk_<id>_<secret>`.
    pub fn parse(text: &str) -> Result<ApiKey, Error> {
        if text.len() != KEY_LEN {
            return Err(Error::MalformedApiKey);
        }
        let rest = text.strip_prefix(PREFIX).ok_or(Error::MalformedApiKey)?;
        let (id, secret) = (rest.get(..ID_LEN), rest.get(ID_LEN + 1..));
        let (Some(id), Some(secret), Some("_")) = (id, secret, rest.get(ID_LEN..ID_LEN + 1)) else {
            return Err(Error::MalformedApiKey);
        };
        if !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(Error::MalformedApiKey);
        }
        // Strict decoding also refuses a last character with stray low bits, so each secret
        // has exactly one spelling.
        if URL_SAFE_NO_PAD.decode(secret).ok().is_none_or(|bytes| bytes.len() != 32) {
            return Err(Error::MalformedApiKey);
        }
        Ok(ApiKey { id: id.to_string(), secret: secret.to_string() })
    }

    /// The hash to store for this key's secret.
    pub fn hash(&self) -> Vec<u8> {
        hash(&self.secret)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// SHA-256 of the secret's text: what is stored, never the secret.
pub fn hash(secret: &str) -> Vec<u8> {
    digest(&SHA256, secret.as_bytes()).as_ref().to_vec()
}

/// Whether `secret` hashes to `stored_hash`, compared in constant time.
pub fn verify(secret: &str, stored_hash: &[u8]) -> bool {
    constant_time_eq(&hash(secret), stored_hash)
}

/// Compares without branching on the contents. ring's `constant_time` module is deprecated
/// for outside use, so this is the usual XOR-accumulate, with `black_box` to keep the
/// optimiser from turning it into an early exit. Lengths are public (always 32 here).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_and_verify() {
        let (key, text) = ApiKey::generate();
        assert_eq!(text.len(), KEY_LEN);
        assert!(text.starts_with("rdk_"));
        assert_eq!(key.id.len(), 16);
        assert_eq!(key.secret.len(), 43);
        assert_eq!(ApiKey::parse(&text), Ok(key.clone()));

        let stored = key.hash();
        assert_eq!(stored.len(), 32);
        let presented = ApiKey::parse(&text).expect("parses");
        assert!(verify(&presented.secret, &stored));
        assert!(!format!("{key:?}").contains(&key.secret), "debug hides the secret");

        let (other, _) = ApiKey::generate();
        assert_ne!(other.id, key.id);
        assert!(!verify(&other.secret, &stored));
        assert!(!verify(&key.secret, &stored[..31]), "a truncated hash never matches");
    }

    #[test]
    fn one_changed_character_fails() {
        let (key, text) = ApiKey::generate();
        let stored = key.hash();
        for position in [0, 20, 42] {
            let mut secret = key.secret.clone().into_bytes();
            secret[position] = if secret[position] == b'A' { b'B' } else { b'A' };
            let secret = String::from_utf8(secret).expect("ascii");
            assert!(!verify(&secret, &stored), "position {position}");
        }
        let mut changed_id = text.clone().into_bytes();
        changed_id[4] = if changed_id[4] == b'0' { b'1' } else { b'0' };
        let parsed = ApiKey::parse(std::str::from_utf8(&changed_id).expect("ascii")).expect("still well-formed");
        assert_ne!(parsed.id, key.id, "a changed id names another key, whose hash will not match");
    }

    #[test]
    fn malformed_keys_are_refused() {
        let (key, text) = ApiKey::generate();
        let secret = &key.secret;
        let malformed = [
            String::new(),
            "rdk_".to_string(),
            text[..text.len() - 1].to_string(),
            format!("{text}A"),
            format!("rdx_{}_{secret}", key.id),
            format!("RDK_{}_{secret}", key.id),
            format!("rdk_{}_{secret}", key.id.to_uppercase().replace(|c: char| c.is_ascii_digit(), "A")),
            format!("rdk_{}g_{secret}", &key.id[..15]),
            format!("rdk_{}-{secret}", key.id),
            format!("rdk_{}_{}=", key.id, &secret[..42]),
            format!("rdk_{}_{}+", key.id, &secret[..42]),
            format!("rdk_{}_{}é", key.id, &secret[..41]),
            // 43 base64url characters whose last one carries stray low bits.
            format!("rdk_{}_{}B", key.id, "A".repeat(42)),
        ];
        for text in &malformed {
            assert_eq!(ApiKey::parse(text), Err(Error::MalformedApiKey), "{text:?}");
        }
        assert_eq!(
            ApiKey::parse(&format!("rdk_0123456789abcdef_{}", "A".repeat(43))),
            Ok(ApiKey { id: "0123456789abcdef".into(), secret: "A".repeat(43) })
        );
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
