//! The verifier a service holds: a live [`Jwks`] and the [`Validation`] settings.

use tracing::debug;

use crate::Error;
use crate::jwks::Jwks;
use crate::jwt::{self, Claims, Validation};

/// Verifies bearer tokens against a live key set.
#[derive(Debug, Clone)]
pub struct Verifier {
    jwks: Jwks,
    validation: Validation,
}

impl Verifier {
    /// A verifier over `jwks`, once `validation` passes [`Validation::validate`].
    pub fn new(jwks: Jwks, validation: Validation) -> Result<Self, Error> {
        validation.validate()?;
        Ok(Self { jwks, validation })
    }

    /// The key set.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// The settings tokens are checked against.
    pub fn validation(&self) -> &Validation {
        &self.validation
    }

    /// Verifies `token`. If it names a key the set does not hold, the set is refreshed (rate
    /// limited, see [`Jwks::refresh_for_unknown_key`]) and the token tried once more. Only
    /// credential errors come back: a failed refresh keeps the previous set and the token is
    /// refused as [`Error::UnknownKey`].
    pub async fn verify(&self, token: &str) -> Result<Claims, Error> {
        match jwt::verify(token, &self.jwks.current(), &self.validation) {
            Err(Error::UnknownKey { .. }) => {
                debug!("token names an unknown signing key, refreshing the key set");
                self.jwks.refresh_for_unknown_key().await;
                jwt::verify(token, &self.jwks.current(), &self.validation)
            }
            verified => verified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyset::KeySet;
    use crate::test_keys::{AUDIENCE, ISSUER, TestKey, claims, jwks, now};

    #[tokio::test]
    async fn verifies_against_a_fixed_set() {
        let key = TestKey::rsa_a("r1");
        let keys = KeySet::from_json(jwks(&[&key]).as_bytes()).expect("set");
        let verifier = Verifier::new(Jwks::fixed(keys), Validation::new(ISSUER, AUDIENCE)).expect("verifier");
        let verified = verifier.verify(&key.token(&claims(now()))).await.expect("verifies");
        assert_eq!((verified.sub.as_str(), verified.tenant.as_str()), ("staff-17", "acme"));
        let stranger = TestKey::ec("e9");
        let err = verifier.verify(&stranger.token(&claims(now()))).await.expect_err("unknown");
        assert_eq!(err, Error::UnknownKey { kid: Some("e9".into()) });
        assert_eq!(verifier.validation().issuer, ISSUER);
        assert_eq!(verifier.jwks().current().len(), 1);

        let bad = Verifier::new(Jwks::fixed(KeySet::default()), Validation::new(ISSUER, ""));
        assert!(matches!(bad, Err(Error::InvalidSetting { name: "audience", .. })));
    }
}
