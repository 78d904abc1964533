//! The `[auth]` section: how callers prove who they are.

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationSetting, check_url};

/// How calls are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Not configured: `redress serve` refuses to start; `redress up` runs in development mode.
    Unset,
    /// Bearer tokens (OIDC JWTs), API keys and the service token; the tenant and roles come
    /// from the verified identity.
    Tokens,
    /// No credentials: every call without `x-redress-*` headers acts as the development
    /// tenant with every role. Only for a laptop.
    Development,
    /// Explicitly off: the `x-redress-*` headers are trusted as they come, for an installation
    /// behind a gateway that authenticates callers and sets them.
    Off,
}

/// Authentication settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `tokens`, `development` or `off`; empty: `redress serve` refuses to start and `redress
    /// up` runs in development mode.
    pub mode: String,
    /// The tenant development mode acts as.
    pub development_tenant: String,
    /// The OIDC issuer (`iss`) of bearer tokens; empty: no JWTs, only API keys.
    pub issuer: String,
    /// The audience (`aud`) bearer tokens must name.
    pub audience: String,
    /// Where the issuer publishes its signing keys (JWKS), `https://…`.
    pub jwks_url: String,
    /// A JWKS file, instead of a URL.
    pub jwks_file: String,
    /// How often the key set is fetched again (an unknown key id fetches it at once, at most
    /// every 10 seconds).
    pub jwks_refresh: DurationSetting,
    /// The clock difference tolerated when checking `exp` and `nbf`.
    pub clock_skew: DurationSetting,
    /// The claim naming the caller's tenant.
    pub tenant_claim: String,
    /// The claim listing the caller's roles.
    pub roles_claim: String,
    /// The database holding API keys; empty: `database.url`, or a SQLite file under `data_dir`.
    pub database_url: String,
    /// How often each process reloads the API keys: a revoked key stops working within this.
    pub api_key_refresh: DurationSetting,
    /// The secret redress services present to each other (at least 32 characters, from a
    /// Secret); required in `tokens` mode.
    pub service_token: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: String::new(),
            development_tenant: "local".into(),
            issuer: String::new(),
            audience: String::new(),
            jwks_url: String::new(),
            jwks_file: String::new(),
            jwks_refresh: "5m".into(),
            clock_skew: "60s".into(),
            tenant_claim: "tenant".into(),
            roles_claim: "roles".into(),
            database_url: String::new(),
            api_key_refresh: "30s".into(),
            service_token: String::new(),
        }
    }
}

/// The shortest service token accepted.
pub const MIN_SERVICE_TOKEN_CHARS: usize = 32;

impl AuthConfig {
    /// The configured mode.
    pub fn mode(&self) -> AuthMode {
        match self.mode.as_str() {
            "tokens" => AuthMode::Tokens,
            "development" => AuthMode::Development,
            "off" => AuthMode::Off,
            _ => AuthMode::Unset,
        }
    }

    /// Checks the section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.mode.as_str(), "" | "tokens" | "development" | "off") {
            return Err(ConfigError::new(
                "auth.mode",
                format!("must be tokens, development or off, not {:?}", self.mode),
            ));
        }
        crate::tenant::TenantId::parse(&self.development_tenant)
            .map_err(|problem| ConfigError::new("auth.development_tenant", problem))?;
        if !self.jwks_url.is_empty() {
            check_url("auth.jwks_url", &self.jwks_url, &["http", "https"])?;
        }
        if !self.database_url.is_empty() {
            check_url("auth.database_url", &self.database_url, &["postgres", "postgresql", "sqlite"])?;
        }
        if self.tenant_claim.is_empty() {
            return Err(ConfigError::new("auth.tenant_claim", "required"));
        }
        if self.roles_claim.is_empty() {
            return Err(ConfigError::new("auth.roles_claim", "required"));
        }
        if !self.issuer.is_empty() {
            if self.audience.is_empty() {
                return Err(ConfigError::new("auth.audience", "required with auth.issuer"));
            }
            if self.jwks_url.is_empty() == self.jwks_file.is_empty() {
                return Err(ConfigError::new("auth.jwks_url", "give exactly one of auth.jwks_url and auth.jwks_file"));
            }
        }
        if self.mode() == AuthMode::Tokens && self.service_token.chars().count() < MIN_SERVICE_TOKEN_CHARS {
            return Err(ConfigError::new(
                "auth.service_token",
                format!("required in tokens mode: a secret of at least {MIN_SERVICE_TOKEN_CHARS} characters"),
            ));
        }
        Ok(())
    }

    /// Hides the secrets.
    pub fn mask(&mut self) {
        if !self.service_token.is_empty() {
            self.service_token = "****".into();
        }
        self.database_url = super::mask_url(&self.database_url);
    }
}
