//! Each tenant's classification rules: the service's defaults with the tenant's own settings
//! laid over them, compiled once per change and shared by every submission.
//!
//! A replica asks the database for the version of a tenant's settings at most every
//! [`REFRESH`], and compiles them again only when the version moved; a change made through
//! this replica applies to its next submission at once, and to every other replica's within
//! [`REFRESH`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use prost::Message;
use redress_kit::time::timestamp;
use redress_kit::{ApiError, TenantId};
use redress_proto::intake::v1::ClassificationSettings;

use super::Intake;
use crate::domain::settings::{apply, check, check_thresholds, set_fields, view};
use crate::domain::{Classifier, ClassifierConfig, Violation};
use crate::error::Error;
use crate::store::{Store, StoredSettings};

/// How long a replica trusts the settings it compiled before asking for their version again.
pub const REFRESH: Duration = Duration::from_secs(5);

/// How many times an update is tried again when another change to the same tenant's settings
/// came first.
const UPDATE_ATTEMPTS: usize = 5;

/// One tenant's compiled rules.
#[derive(Debug)]
pub struct TenantRules {
    /// The classifier.
    pub classifier: Classifier,
    /// How far back the customer's cases count towards a repeat complainant.
    pub repeat_complainant_window: Duration,
}

struct Cached {
    rules: Arc<TenantRules>,
    version: i64,
    checked: Instant,
}

/// Every tenant's rules, compiled on first use and when they change.
pub struct Rules {
    defaults: ClassifierConfig,
    default_window: Duration,
    default_rules: Arc<TenantRules>,
    cache: RwLock<HashMap<TenantId, Cached>>,
}

/// The settings as stored: what the tenant set, with the fields it set listed.
fn decode(stored: &StoredSettings) -> Result<ClassificationSettings, Error> {
    ClassificationSettings::decode(stored.settings.as_slice()).map_err(|e| Error::Corrupt(e.to_string()))
}

impl Rules {
    /// The rules with the service's defaults: `defaults` for classification and
    /// `default_window` for repeat complainants (the `[intake]` section).
    pub fn new(defaults: ClassifierConfig, default_window: Duration) -> Result<Self, crate::domain::ConfigError> {
        let classifier = Classifier::new(defaults.clone())?;
        Ok(Rules {
            defaults,
            default_window,
            default_rules: Arc::new(TenantRules { classifier, repeat_complainant_window: default_window }),
            cache: RwLock::new(HashMap::new()),
        })
    }

    /// The rules with the defaults of the configuration.
    pub fn defaults(&self) -> &Arc<TenantRules> {
        &self.default_rules
    }

    fn compile(&self, tenant: &ClassificationSettings) -> Result<TenantRules, Vec<Violation>> {
        let config = apply(&self.defaults, tenant);
        check_thresholds(&config)?;
        let window = if tenant.tenant_fields.iter().any(|f| f == "repeat_complainant_window_days") {
            Duration::from_secs(u64::from(config.severity.repeat_window_days) * 86_400)
        } else {
            self.default_window
        };
        let classifier = Classifier::new(config).map_err(|e| {
            vec![Violation {
                field: "classification_settings".into(),
                description: format!("{}: {}", e.key, e.message),
            }]
        })?;
        Ok(TenantRules { classifier, repeat_complainant_window: window })
    }

    fn remember(&self, tenant: &TenantId, rules: Arc<TenantRules>, version: i64) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.insert(tenant.clone(), Cached { rules, version, checked: Instant::now() });
    }

    /// The tenant's rules as they apply now.
    pub async fn for_tenant(&self, store: &Store, tenant: &TenantId) -> Result<Arc<TenantRules>, Error> {
        let known = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            match cache.get(tenant) {
                Some(c) if c.checked.elapsed() < REFRESH => return Ok(c.rules.clone()),
                Some(c) => Some((c.rules.clone(), c.version)),
                None => None,
            }
        };
        let version = store.settings_version(tenant).await?;
        let rules = match known {
            Some((rules, known)) if known == version => rules,
            _ if version == 0 => self.default_rules.clone(),
            _ => match store.settings(tenant).await? {
                None => self.default_rules.clone(),
                Some(stored) => {
                    let settings = decode(&stored)?;
                    // Stored settings were checked before they were stored.
                    let compiled = self.compile(&settings).map_err(|v| Error::Corrupt(format!("{v:?}")))?;
                    let rules = Arc::new(compiled);
                    self.remember(tenant, rules.clone(), stored.version);
                    return Ok(rules);
                }
            },
        };
        self.remember(tenant, rules.clone(), version);
        Ok(rules)
    }

    fn shown(
        &self,
        tenant: &TenantId,
        settings: &ClassificationSettings,
        stored: Option<&StoredSettings>,
    ) -> ClassificationSettings {
        let config = apply(&self.defaults, settings);
        let terms = if settings.tenant_fields.iter().any(|f| f == "sentiment_terms") {
            settings.sentiment_terms.as_slice()
        } else {
            &[]
        };
        ClassificationSettings {
            name: format!("tenants/{}/classificationSettings", tenant.as_str()),
            update_time: stored.map(|s| timestamp(s.update_time)),
            ..view(&config, &settings.tenant_fields, terms)
        }
    }
}

impl Intake {
    /// The tenant's classification settings as they apply now.
    pub async fn classification_settings(&self, tenant: &TenantId) -> Result<ClassificationSettings, Error> {
        let stored = self.store.settings(tenant).await?;
        let settings = match &stored {
            Some(s) => decode(s)?,
            None => ClassificationSettings::default(),
        };
        Ok(self.rules.shown(tenant, &settings, stored.as_ref()))
    }

    /// Sets the fields `paths` (checked to be updatable) of the tenant's classification
    /// settings to their values in `given`, after checking them and the settings they make.
    pub async fn update_classification_settings(
        &self,
        tenant: &TenantId,
        given: &ClassificationSettings,
        paths: &[String],
    ) -> Result<ClassificationSettings, Error> {
        check(given, paths).map_err(Error::Invalid)?;
        for _ in 0..UPDATE_ATTEMPTS {
            let stored = self.store.settings(tenant).await?;
            let (mut settings, read) = match &stored {
                Some(s) => (decode(s)?, s.version),
                None => (ClassificationSettings::default(), 0),
            };
            set_fields(&mut settings, given, paths);
            let compiled = self.rules.compile(&settings).map_err(Error::Invalid)?;
            let Some(saved) = self.store.save_settings(tenant, read, settings.encode_to_vec()).await? else {
                continue;
            };
            self.rules.remember(tenant, Arc::new(compiled), saved.version);
            return Ok(self.rules.shown(tenant, &settings, Some(&saved)));
        }
        Err(ApiError::Aborted(format!(
            "tenants/{}/classificationSettings changed {UPDATE_ATTEMPTS} times while this update was made; try again",
            tenant.as_str()
        ))
        .into())
    }
}
