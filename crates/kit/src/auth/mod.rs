//! Who is calling, and whether they may: the same for every service.
//!
//! Every server puts an [`AuthLayer`] in front of its services. It identifies the caller of
//! each call with the process's [`Authenticator`], checks the method against the role table
//! ([`policy`]), and hands the [`Caller`] to the service in the request's extensions, where
//! [`crate::caller::caller`] finds it. Services never read credentials themselves.
//!
//! In `tokens` mode a call carries `authorization: Bearer <credential>`, one of:
//! - an OIDC access token (a JWT signed RS256 or ES256 by the configured issuer): the tenant
//!   and roles come from its claims;
//! - an API key `rdk_<id>_<secret>` ([`keys`]): its tenant and roles are stored with it;
//! - the service token: another redress service, which acts for the tenant it names in
//!   `x-redress-tenant` with the `system` role.
//!
//! Anything else is UNAUTHENTICATED, a method the caller's roles do not allow is
//! PERMISSION_DENIED, and the `x-redress-tenant` header of a person or an integration is
//! ignored: the tenant is the identity's. `development` mode (the default of `redress up`)
//! lets every call act as the development tenant with every role (or as its `x-redress-*`
//! headers say); `off` trusts the `x-redress-*` headers as they come. Neither enforces the
//! role table.

pub mod keys;
mod layer;
pub mod policy;

use std::fmt;
use std::sync::Arc;

use anyhow::Context as _;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

pub use keys::{ApiKeys, KeyInfo, KeyStore};
pub use layer::{AuthLayer, AuthService};

use crate::caller::{ACTOR_HEADER, Caller, ROLES_HEADER, Role, caller_of};
use crate::config::{AuthMode, Config};
use crate::error::ApiError;
use crate::tenant::{TENANT_HEADER, TenantId};

/// The prefix of every API key.
pub const API_KEY_PREFIX: &str = "rdk_";

/// Every role but `system`, which only the service token carries.
const PERSON_ROLES: [Role; 5] = [Role::Agent, Role::Supervisor, Role::Admin, Role::Integration, Role::BiReader];

/// Identifies callers: see the module documentation.
pub struct Authenticator {
    mode: Mode,
}

enum Mode {
    Trusted,
    Development(TenantId),
    Tokens(Box<Tokens>),
}

struct Tokens {
    jwt: Option<redress_auth::Verifier>,
    keys: Arc<ApiKeys>,
    service_token: [u8; 32],
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.mode {
            Mode::Trusted => "off",
            Mode::Development(_) => "development",
            Mode::Tokens(_) => "tokens",
        };
        f.debug_struct("Authenticator").field("mode", &mode).finish()
    }
}

/// Where the process runs: `redress up` may run without authentication configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `redress up`, embedded on one machine.
    Embedded,
    /// `redress serve`.
    Served,
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Authenticator {
    /// Trusts the `x-redress-*` headers as they come (`auth.mode = off`).
    pub fn trusting_headers() -> Self {
        Authenticator { mode: Mode::Trusted }
    }

    /// Every call without headers acts as `tenant` with every role (`auth.mode = development`).
    pub fn development(tenant: TenantId) -> Self {
        Authenticator { mode: Mode::Development(tenant) }
    }

    /// The authenticator `config` asks for, loading the issuer's keys and the API keys;
    /// refuses to start a served process with authentication unset.
    pub async fn start(config: &Config, shape: Shape, shutdown: CancellationToken) -> anyhow::Result<Arc<Self>> {
        let auth = &config.auth;
        let mode = match (auth.mode(), shape) {
            (AuthMode::Unset, Shape::Served) => anyhow::bail!(
                "auth.mode: required outside `redress up`: `tokens` (OIDC bearer tokens and API keys), or `off` to \
                 trust x-redress-* headers set by a gateway that authenticates callers"
            ),
            (AuthMode::Unset, Shape::Embedded) | (AuthMode::Development, _) => AuthMode::Development,
            (mode, _) => mode,
        };
        let authenticator = match mode {
            AuthMode::Off => {
                tracing::warn!("authentication is off: x-redress-* headers are trusted as they come");
                Authenticator::trusting_headers()
            }
            AuthMode::Tokens => {
                let jwt = if auth.issuer.is_empty() { None } else { Some(jwt_verifier(config).await?) };
                let keys = ApiKeys::start(config, shutdown).await?;
                tracing::info!(issuer = %auth.issuer, "authentication: bearer tokens, api keys and the service token");
                Authenticator {
                    mode: Mode::Tokens(Box::new(Tokens { jwt, keys, service_token: digest(&auth.service_token) })),
                }
            }
            AuthMode::Development | AuthMode::Unset => {
                let tenant = TenantId::parse(&auth.development_tenant).map_err(anyhow::Error::msg)?;
                tracing::warn!(
                    tenant = %tenant,
                    "development mode: no authentication; every call acts as the development tenant with every role"
                );
                Authenticator::development(tenant)
            }
        };
        Ok(Arc::new(authenticator))
    }

    /// Whether the role table is enforced: in `tokens` mode. Where headers are trusted the
    /// roles are the caller's own claim, and the services' own rules (the owner or a
    /// supervisor moves a case) are all that applies.
    pub fn enforces_roles(&self) -> bool {
        matches!(self.mode, Mode::Tokens(_))
    }

    /// Who makes a call with these headers, or why it is refused (UNAUTHENTICATED).
    pub async fn identify(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let metadata = || tonic::metadata::MetadataMap::from_headers(headers.clone());
        match &self.mode {
            Mode::Trusted => caller_of(&metadata()),
            Mode::Development(tenant) => {
                if headers.contains_key(TENANT_HEADER) {
                    return caller_of(&metadata());
                }
                Ok(Caller {
                    tenant: tenant.clone(),
                    actor: "developer".into(),
                    roles: PERSON_ROLES.to_vec(),
                    scope: None,
                })
            }
            Mode::Tokens(tokens) => tokens.identify(headers, metadata).await,
        }
    }
}

fn unauthenticated(why: impl Into<String>) -> ApiError {
    ApiError::Unauthenticated(why.into())
}

impl Tokens {
    async fn identify(
        &self,
        headers: &HeaderMap,
        metadata: impl Fn() -> tonic::metadata::MetadataMap,
    ) -> Result<Caller, ApiError> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| unauthenticated("no credentials: send `authorization: Bearer <token or API key>`"))?;
        let value = value.to_str().map_err(|_| unauthenticated("the authorization header is not ASCII"))?;
        let credential = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => return Err(unauthenticated("the authorization header must be `Bearer <token or API key>`")),
        };
        if credential.starts_with(API_KEY_PREFIX) {
            return self.keys.identify(credential).await.map_err(unauthenticated);
        }
        if constant_time_eq(&digest(credential), &self.service_token) {
            // Another redress service: it acts for the tenant it names.
            let mut caller = caller_of(&metadata())?;
            if !headers.contains_key(ACTOR_HEADER) {
                caller.actor = "system".into();
            }
            if !headers.contains_key(ROLES_HEADER) {
                caller.roles.clear();
            }
            if !caller.roles.contains(&Role::System) {
                caller.roles.push(Role::System);
            }
            return Ok(caller);
        }
        let Some(jwt) = &self.jwt else {
            return Err(unauthenticated("not an API key, and bearer tokens are not configured"));
        };
        let claims = jwt.verify(credential).await.map_err(|e| unauthenticated(format!("bearer token refused: {e}")))?;
        let tenant = TenantId::parse(&claims.tenant)
            .map_err(|_| unauthenticated("bearer token refused: its tenant claim is not a tenant id"))?;
        let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        roles.retain(|r| *r != Role::System);
        let mut unique = Vec::with_capacity(roles.len());
        for role in roles {
            if !unique.contains(&role) {
                unique.push(role);
            }
        }
        if claims.sub.is_empty() || claims.sub.len() > 128 {
            return Err(unauthenticated("bearer token refused: its subject must be 1 to 128 characters"));
        }
        let scope = crate::caller::CaseScope::of(&unique, claims.team);
        Ok(Caller { tenant, actor: claims.sub, roles: unique, scope })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn jwt_verifier(config: &Config) -> anyhow::Result<redress_auth::Verifier> {
    let auth = &config.auth;
    let (refresh, leeway) = (auth.jwks_refresh.get(), auth.clock_skew.get());
    let source = if auth.jwks_file.is_empty() {
        let url = url::Url::parse(&auth.jwks_url).context("auth.jwks_url")?;
        redress_auth::JwksSource::Url(url)
    } else {
        redress_auth::JwksSource::File(auth.jwks_file.clone().into())
    };
    let jwks = redress_auth::Jwks::load(source, refresh).await.context("auth: loading the issuer's keys")?;
    let mut validation = redress_auth::Validation::new(&auth.issuer, &auth.audience);
    validation.leeway = leeway;
    validation.tenant_claim = auth.tenant_claim.clone();
    validation.roles_claim = auth.roles_claim.clone();
    redress_auth::Verifier::new(jwks, validation).context("auth: bearer token settings")
}
