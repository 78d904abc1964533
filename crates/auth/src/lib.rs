//! Who is calling: verifying the bearer tokens people arrive with and the API keys machines
//! arrive with, without trusting anything a request says until its signature checks out.
//!
//! - [`jwt`] verifies a compact JWT against a [`KeySet`]: RS256 or ES256 only (`none`, HMAC
//!   and everything else are refused, so the algorithm-confusion attacks have nothing to work
//!   with), the key chosen by `kid`, then `iss`, `aud`, `exp`, `nbf` and `iat` checked with a
//!   clock-skew allowance. It yields [`Claims`]: subject, tenant, roles, team.
//! - [`keyset`] parses a JWKS document into a [`KeySet`], skipping keys it cannot use.
//! - [`jwks`] keeps a live [`Jwks`] from a [`JwksSource`] (a file or an HTTP(S) URL):
//!   re-read in the background, and at once (rate limited) when a token names an unknown key,
//!   which is how the issuer's key rotation is picked up.
//! - [`Verifier`] joins the two for a service: `verifier.verify(token).await`.
//! - [`apikey`] makes and checks `rdk_<id>_<secret>` API keys; only a hash is stored.
//!
//! Every failure is an [`Error`] whose text is a short reason a client may be told.
//!
//! ```no_run
//! # async fn start() -> Result<(), redress_auth::Error> {
//! use std::time::Duration;
//! use redress_auth::{Jwks, JwksSource, Validation, Verifier};
//!
//! // Or JwksSource::Url(url) for the issuer's `jwks_uri`.
//! let source = JwksSource::File("/etc/redress/jwks.json".into());
//! let jwks = Jwks::load(source, Duration::from_secs(300)).await?;
//! let verifier = Verifier::new(jwks, Validation::new("https://idp.example/realms/redress", "redress-api"))?;
//! let claims = verifier.verify("eyJ...").await?;
//! println!("{} of tenant {} with roles {:?}", claims.sub, claims.tenant, claims.roles);
//! # Ok(())
//! # }
//! ```

pub mod apikey;
mod error;
mod fetch;
pub mod jwks;
pub mod jwt;
pub mod keyset;
mod verifier;

#[cfg(test)]
mod test_keys;

pub use apikey::ApiKey;
pub use error::Error;
pub use fetch::{FETCH_TIMEOUT, JwksSource, MAX_DOCUMENT_BYTES};
pub use jwks::Jwks;
pub use jwt::{Claims, Validation};
pub use keyset::{Algorithm, Key, KeySet};
pub use verifier::Verifier;
