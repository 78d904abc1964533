//! Test support: real key pairs that sign tokens, and their JWKs.
//!
//! Shared by the unit tests and, through `#[path]`, the integration tests, so it names nothing
//! of this crate. RSA keys are fixtures (ring cannot generate them); P-256 keys are made afresh.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};

/// The issuer the test tokens name.
pub const ISSUER: &str = "https://idp.test/realms/redress";
/// The audience the test tokens name.
pub const AUDIENCE: &str = "redress-api";

const RSA_A: &[u8] = include_bytes!("../tests/fixtures/rsa_a.pk8.der");
const RSA_B: &[u8] = include_bytes!("../tests/fixtures/rsa_b.pk8.der");

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A key pair with a key id, able to sign tokens.
pub struct TestKey {
    /// The key id put in the JWK and in token headers.
    pub kid: String,
    signer: Signer,
}

/// Base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Claims that verify at `now` with [`ISSUER`] and [`AUDIENCE`].
pub fn claims(now: i64) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "staff-17",
        "tenant": "acme",
        "roles": ["agent", "supervisor"],
        "team": "billing",
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 300,
    })
}

/// A JWKS document holding the keys' public halves.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

impl TestKey {
    /// The first RSA fixture key.
    pub fn rsa_a(kid: &str) -> Self {
        Self::rsa(kid, RSA_A)
    }

    /// The second RSA fixture key.
    pub fn rsa_b(kid: &str) -> Self {
        Self::rsa(kid, RSA_B)
    }

    fn rsa(kid: &str, pkcs8: &[u8]) -> Self {
        let pair = RsaKeyPair::from_pkcs8(pkcs8).expect("rsa fixture");
        Self { kid: kid.to_string(), signer: Signer::Rsa(pair) }
    }

    /// A fresh P-256 key.
    pub fn ec(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate p-256");
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("p-256 pkcs8");
        Self { kid: kid.to_string(), signer: Signer::Ec(pair) }
    }

    /// The JOSE algorithm this key signs with.
    pub fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        match &self.signer {
            Signer::Rsa(pair) => {
                let public: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
                json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                       "n": b64(&public.n), "e": b64(&public.e)})
            }
            Signer::Ec(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                       "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
        }
    }

    /// The RSA public key as DER `RSAPublicKey`, the bytes an HMAC-confusion attacker uses.
    pub fn public_der(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Rsa(pair) => pair.public().as_ref().to_vec(),
            Signer::Ec(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// The signature of `message` with this key.
    pub fn signature(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature).expect("rsa sign");
                signature
            }
            Signer::Ec(pair) => pair.sign(&rng, message).expect("ecdsa sign").as_ref().to_vec(),
        }
    }

    /// A token with this key's `alg` and `kid` over `claims`.
    pub fn token(&self, claims: &Value) -> String {
        self.sign_raw(&json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid}).to_string(), &claims.to_string())
    }

    /// A token with the given header over `claims`, signed by this key whatever the header says.
    pub fn token_with_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_raw(&header.to_string(), &claims.to_string())
    }

    /// A token of exactly these header and payload texts, signed by this key.
    pub fn sign_raw(&self, header: &str, payload: &str) -> String {
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature = self.signature(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&signature))
    }
}
