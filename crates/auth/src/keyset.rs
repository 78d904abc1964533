//! A parsed JSON Web Key Set: the public keys a token may be signed with.
//!
//! Only what can verify RS256 (RSA, 2048 to 8192 bits) and ES256 (EC on P-256) is kept. Keys of
//! other types or curves, keys for encryption (`use` other than `sig`), keys whose `key_ops`
//! exclude `verify`, and keys that do not parse are skipped with a warning rather than failing
//! the whole set, so that an issuer adding a key of a new kind does not lock everyone out.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tracing::{debug, warn};

use crate::Error;

/// The signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 to 8192 bits.
    Rs256,
    /// ECDSA on P-256 with SHA-256, the signature as fixed-width `r‖s`.
    Es256,
}

impl Algorithm {
    /// Parses a JOSE `alg` value; anything but `RS256` and `ES256` is refused.
    pub fn parse(alg: &str) -> Result<Self, Error> {
        match alg {
            "RS256" => Ok(Algorithm::Rs256),
            "ES256" => Ok(Algorithm::Es256),
            other => Err(Error::unsupported_algorithm(other)),
        }
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Es256 => "ES256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The public key itself.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Material {
    /// An RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// A P-256 point, uncompressed: `0x04‖x‖y`.
    P256 { point: Vec<u8> },
}

/// One verification key of a set.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    kid: Option<String>,
    alg: Option<String>,
    material: Material,
}

impl Key {
    /// The key id, if the set gave one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        match self.material {
            Material::Rsa { .. } => Algorithm::Rs256,
            Material::P256 { .. } => Algorithm::Es256,
        }
    }

    /// Whether the key may verify a token signed with `alg`: its type and curve fit, and its
    /// own `alg`, if it names one, is the same.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.algorithm() == alg && self.alg.as_deref().is_none_or(|own| own == alg.name())
    }

    pub(crate) fn material(&self) -> &Material {
        &self.material
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("kid", &self.kid).field("algorithm", &self.algorithm()).finish_non_exhaustive()
    }
}

/// A set of verification keys, as read from a JWKS document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<Key>,
}

/// A JWKS document: only `keys` matters, each parsed on its own.
#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

/// The members of a JWK that are read; private members (`d`, `p`, ...) are ignored.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[...]}`), skipping keys that cannot verify RS256 or
    /// ES256. A document that is not JSON of that shape, or keeps no key, is refused.
    pub fn from_json(document: &[u8]) -> Result<Self, Error> {
        let document: Document =
            serde_json::from_slice(document).map_err(|e| Error::InvalidKeySet(format!("not a jwks document: {e}")))?;
        let mut keys = Vec::with_capacity(document.keys.len());
        for (index, value) in document.keys.into_iter().enumerate() {
            let raw: RawJwk = match serde_json::from_value(value) {
                Ok(raw) => raw,
                Err(e) => {
                    warn!(index, error = %e, "jwks key skipped: not a jwk");
                    continue;
                }
            };
            let kid = raw.kid.clone();
            match parse_key(raw) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => debug!(index, kid = ?kid, "jwks key skipped: not for verifying signatures"),
                Err(reason) => warn!(index, kid = ?kid, reason, "jwks key skipped"),
            }
        }
        if keys.is_empty() {
            return Err(Error::InvalidKeySet("no usable RS256 or ES256 signing key".to_string()));
        }
        Ok(Self { keys })
    }

    /// The keys, in document order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key has this id.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// The key to verify a token signed with `alg`: the one named `kid` (which must fit
    /// `alg`), or, when the token names none, the only key that fits `alg`.
    pub fn find(&self, kid: Option<&str>, alg: Algorithm) -> Result<&Key, Error> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|key| key.kid() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Err(Error::UnknownKey { kid: Some(kid.to_string()) });
                }
                named.find(|key| key.fits(alg)).ok_or(Error::KeyMismatch)
            }
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Ok(only),
                    _ => Err(Error::UnknownKey { kid: None }),
                }
            }
        }
    }
}

/// One JWK as a key: `Ok(None)` if it is not meant for verifying, `Err` with a reason if it
/// cannot be used.
fn parse_key(raw: RawJwk) -> Result<Option<Key>, &'static str> {
    if raw.use_.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if raw.key_ops.as_ref().is_some_and(|ops| !ops.iter().any(|op| op == "verify")) {
        return Ok(None);
    }
    let material = match raw.kty.as_str() {
        "RSA" => {
            let n = strip_leading_zeros(decode(raw.n.as_deref(), "rsa key without a valid n")?);
            let e = strip_leading_zeros(decode(raw.e.as_deref(), "rsa key without a valid e")?);
            let bits = n.first().map_or(0, |first| n.len() * 8 - first.leading_zeros() as usize);
            if !(2048..=8192).contains(&bits) {
                return Err("rsa modulus not between 2048 and 8192 bits");
            }
            if e.is_empty() || e.len() > 4 {
                return Err("rsa exponent out of range");
            }
            Material::Rsa { n, e }
        }
        "EC" => {
            if raw.crv.as_deref() != Some("P-256") {
                return Err("unsupported curve (only P-256)");
            }
            let x = decode(raw.x.as_deref(), "ec key without a valid x")?;
            let y = decode(raw.y.as_deref(), "ec key without a valid y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("p-256 coordinates must be 32 bytes each");
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Material::P256 { point }
        }
        _ => return Err("unsupported key type (only RSA and EC)"),
    };
    Ok(Some(Key { kid: raw.kid, alg: raw.alg, material }))
}

fn decode(value: Option<&str>, problem: &'static str) -> Result<Vec<u8>, &'static str> {
    value.and_then(|v| URL_SAFE_NO_PAD.decode(v).ok()).filter(|bytes| !bytes.is_empty()).ok_or(problem)
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_keys::{TestKey, b64};

    #[test]
    fn keeps_rsa_and_p256_signing_keys_and_skips_the_rest() {
        let rsa = TestKey::rsa_a("r1");
        let ec = TestKey::ec("e1");
        let short_rsa = json!({"kty": "RSA", "kid": "short", "n": b64(&[0xC5; 128]), "e": "AQAB"});
        let document = json!({"keys": [
            rsa.jwk(),
            ec.jwk(),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": b64(&[1; 48]), "y": b64(&[2; 48])},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(&[1; 32])},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": rsa.jwk()["n"], "e": "AQAB"},
            {"kty": "RSA", "kid": "ops", "key_ops": ["encrypt"], "n": rsa.jwk()["n"], "e": "AQAB"},
            {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
            {"kty": "EC", "kid": "bad-x", "crv": "P-256", "x": "!!", "y": b64(&[2; 32])},
            {"kid": "no-kty"},
            {"kty": "RSA", "kid": 7},
            short_rsa,
        ]});
        let set = KeySet::from_json(document.to_string().as_bytes()).expect("set");
        let kids: Vec<_> = set.keys().iter().map(Key::kid).collect();
        assert_eq!(kids, [Some("r1"), Some("e1")]);
        assert_eq!(set.keys()[0].algorithm(), Algorithm::Rs256);
        assert_eq!(set.keys()[1].algorithm(), Algorithm::Es256);
        assert!(set.contains_kid("e1") && !set.contains_kid("hmac"));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn refuses_documents_without_usable_keys() {
        for document in ["", "not json", "[]", "{}", r#"{"keys":{}}"#, r#"{"keys":[]}"#, r#"{"keys":[{"kty":"oct"}]}"#]
        {
            let err = KeySet::from_json(document.as_bytes()).expect_err(document);
            assert!(matches!(err, Error::InvalidKeySet(_)), "{document}: {err:?}");
        }
    }

    #[test]
    fn finds_keys_by_kid_and_algorithm() {
        let (rsa, ec) = (TestKey::rsa_a("r1"), TestKey::ec("e1"));
        let pinned = json!({"kty": "RSA", "kid": "r512", "alg": "RS512", "n": rsa.jwk()["n"], "e": "AQAB"});
        let document = json!({"keys": [rsa.jwk(), ec.jwk(), pinned]});
        let set = KeySet::from_json(document.to_string().as_bytes()).expect("set");

        assert_eq!(set.find(Some("r1"), Algorithm::Rs256).expect("r1").kid(), Some("r1"));
        assert_eq!(set.find(Some("r1"), Algorithm::Es256), Err(Error::KeyMismatch));
        assert_eq!(set.find(Some("r512"), Algorithm::Rs256), Err(Error::KeyMismatch), "the key pins RS512");
        assert_eq!(set.find(Some("zz"), Algorithm::Rs256), Err(Error::UnknownKey { kid: Some("zz".into()) }));
        // Without a kid: the only fitting key, else unknown.
        assert_eq!(set.find(None, Algorithm::Es256).expect("only ec key").kid(), Some("e1"));
        let only_rs256 = set.find(None, Algorithm::Rs256).expect("r512 does not fit RS256, so r1 is the only one");
        assert_eq!(only_rs256.kid(), Some("r1"));
        let two_rsa = json!({"keys": [rsa.jwk(), TestKey::rsa_b("r2").jwk()]});
        let set = KeySet::from_json(two_rsa.to_string().as_bytes()).expect("set");
        assert_eq!(set.find(None, Algorithm::Rs256), Err(Error::UnknownKey { kid: None }), "ambiguous");
    }

    #[test]
    fn parses_only_the_two_algorithms() {
        assert_eq!(Algorithm::parse("RS256"), Ok(Algorithm::Rs256));
        assert_eq!(Algorithm::parse("ES256"), Ok(Algorithm::Es256));
        for alg in ["none", "HS256", "RS512", "PS256", "rs256", ""] {
            assert!(matches!(Algorithm::parse(alg), Err(Error::UnsupportedAlgorithm(_))), "{alg}");
        }
    }
}
