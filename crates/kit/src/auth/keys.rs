//! API keys for machine clients (contact-centre integrations, BI tools): scoped to one tenant
//! and a set of roles, shown once when created, stored only as a hash, revocable.
//!
//! The keys live in one table, `api_keys`, in the `redress_auth` schema of the configured
//! database (or `auth.db` under `data_dir`); `redress apikey create|list|revoke` manages them.
//! Each process keeps the keys that are not revoked in memory and reloads them every
//! `auth.api_key_refresh`, so a revoked key stops working within that interval; a key it does
//! not know yet (just created) makes it reload, at most every 200 ms.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement, Value};
use tokio::sync::Mutex;

use crate::caller::{Caller, Role};
use crate::config::Config;
use crate::tenant::TenantId;

/// The schema of the API keys on PostgreSQL.
pub const SCHEMA: &str = "redress_auth";

/// An API key as listed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's public id (the part after `rdk_`).
    pub id: String,
    /// What the key is for, in the words of whoever created it.
    pub name: String,
    /// The tenant it acts for.
    pub tenant: TenantId,
    /// What it may do.
    pub roles: Vec<Role>,
    /// When it was created.
    pub create_time: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoke_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Known {
    hash: Vec<u8>,
    name: String,
    tenant: TenantId,
    roles: Vec<Role>,
}

/// The API key table.
#[derive(Debug, Clone)]
pub struct KeyStore {
    db: DatabaseConnection,
}

/// The database URL of the API keys.
pub fn database_url(config: &Config) -> String {
    if !config.auth.database_url.is_empty() {
        return config.auth.database_url.clone();
    }
    if !config.database.url.is_empty() {
        return config.database.url.clone();
    }
    let path = Path::new(&config.data_dir).join("auth.db");
    format!("sqlite://{}?mode=rwc", path.display())
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(",")
}

fn parse_roles(text: &str) -> Vec<Role> {
    text.split(',').filter_map(|r| Role::parse(r.trim())).collect()
}

impl KeyStore {
    /// Connects to the key table, creating it when it does not exist.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(url.to_string());
        options.max_connections(2).min_connections(0).connect_timeout(Duration::from_secs(5)).sqlx_logging(false);
        if url.starts_with("sqlite:") {
            if let Some(dir) = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .and_then(|p| Path::new(p).parent())
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
        } else {
            options.set_schema_search_path(SCHEMA);
        }
        let db = Database::connect(options)
            .await
            .with_context(|| format!("connecting to the API keys at {}", crate::config::mask_url(url)))?;
        let store = KeyStore { db };
        if let Err(e) = store.create_table().await {
            // A login without the right to create schemas (the migration Job made the table):
            // fine as long as the table is there.
            let probe = store.statement("SELECT COUNT(*) AS n FROM {table}", vec![]);
            store.db.query_one_raw(probe).await.map_err(|_| e).context("creating the API key table")?;
        }
        Ok(store)
    }

    async fn create_table(&self) -> Result<(), sea_orm::DbErr> {
        let (schema, blob, time) = match self.db.get_database_backend() {
            DatabaseBackend::Postgres => (Some(SCHEMA), "BYTEA", "TIMESTAMPTZ"),
            _ => (None, "BLOB", "TEXT"),
        };
        if let Some(schema) = schema {
            self.db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
        }
        let table = self.table();
        self.db
            .execute_unprepared(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    roles TEXT NOT NULL,
                    secret_hash {blob} NOT NULL,
                    create_time {time} NOT NULL,
                    revoke_time {time}
                )"
            ))
            .await?;
        Ok(())
    }

    fn table(&self) -> &'static str {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => "redress_auth.api_keys",
            _ => "api_keys",
        }
    }

    fn statement(&self, postgres: &str, values: Vec<Value>) -> Statement {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => postgres.replace("{table}", self.table()),
            // `$n` placeholders read as `?n` on SQLite.
            _ => postgres.replace("{table}", self.table()).replace('$', "?"),
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// Creates a key for `tenant` with `roles`; returns the key to show once and its details.
    pub async fn create(&self, name: &str, tenant: &TenantId, roles: &[Role]) -> anyhow::Result<(String, KeyInfo)> {
        let (key, shown) = redress_auth::ApiKey::generate();
        let now = Utc::now();
        let statement = self.statement(
            "INSERT INTO {table} (id, name, tenant, roles, secret_hash, create_time, revoke_time)
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
            vec![
                key.id.clone().into(),
                name.into(),
                tenant.as_str().into(),
                roles_text(roles).into(),
                redress_auth::apikey::hash(&key.secret).into(),
                now.into(),
            ],
        );
        self.db.execute_raw(statement).await.context("storing the API key")?;
        let info = KeyInfo {
            id: key.id,
            name: name.to_string(),
            tenant: tenant.clone(),
            roles: roles.to_vec(),
            create_time: now,
            revoke_time: None,
        };
        Ok((shown, info))
    }

    /// Every key, or every key of one tenant, oldest first.
    pub async fn list(&self, tenant: Option<&TenantId>) -> anyhow::Result<Vec<KeyInfo>> {
        let statement = match tenant {
            Some(t) => self.statement(
                "SELECT id, name, tenant, roles, create_time, revoke_time FROM {table} WHERE tenant = $1 ORDER BY create_time, id",
                vec![t.as_str().into()],
            ),
            None => self.statement(
                "SELECT id, name, tenant, roles, create_time, revoke_time FROM {table} ORDER BY create_time, id",
                vec![],
            ),
        };
        let rows = self.db.query_all_raw(statement).await.context("listing API keys")?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let tenant: String = row.try_get("", "tenant")?;
            keys.push(KeyInfo {
                id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
                tenant: TenantId::parse(&tenant).map_err(anyhow::Error::msg)?,
                roles: parse_roles(&row.try_get::<String>("", "roles")?),
                create_time: row.try_get("", "create_time")?,
                revoke_time: row.try_get("", "revoke_time")?,
            });
        }
        Ok(keys)
    }

    /// Revokes the key `id`; false when there is no such key or it was revoked already.
    pub async fn revoke(&self, id: &str) -> anyhow::Result<bool> {
        let statement = self.statement(
            "UPDATE {table} SET revoke_time = $1 WHERE id = $2 AND revoke_time IS NULL",
            vec![Utc::now().into(), id.into()],
        );
        let result = self.db.execute_raw(statement).await.context("revoking the API key")?;
        Ok(result.rows_affected() == 1)
    }

    async fn active(&self) -> Result<HashMap<String, Known>, sea_orm::DbErr> {
        let statement = self
            .statement("SELECT id, name, tenant, roles, secret_hash FROM {table} WHERE revoke_time IS NULL", vec![]);
        let rows = self.db.query_all_raw(statement).await?;
        let mut keys = HashMap::with_capacity(rows.len());
        for row in rows {
            let tenant: String = row.try_get("", "tenant")?;
            let Ok(tenant) = TenantId::parse(&tenant) else { continue };
            keys.insert(
                row.try_get("", "id")?,
                Known {
                    hash: row.try_get("", "secret_hash")?,
                    name: row.try_get("", "name")?,
                    tenant,
                    roles: parse_roles(&row.try_get::<String>("", "roles")?),
                },
            );
        }
        Ok(keys)
    }
}

/// The keys a process accepts, reloaded in the background.
#[derive(Debug)]
pub struct ApiKeys {
    store: KeyStore,
    keys: RwLock<Arc<HashMap<String, Known>>>,
    last_load: Mutex<Instant>,
}

/// How often unknown keys may make a process reload the keys.
const UNKNOWN_KEY_RELOAD: Duration = Duration::from_millis(200);

impl ApiKeys {
    /// Opens the key store of `config`, loads the keys, and reloads them every
    /// `auth.api_key_refresh` until `shutdown`.
    pub async fn start(config: &Config, shutdown: tokio_util::sync::CancellationToken) -> anyhow::Result<Arc<Self>> {
        let refresh = config.auth.api_key_refresh.get();
        let store = KeyStore::open(&database_url(config)).await?;
        let keys = store.active().await.context("loading API keys")?;
        let this =
            Arc::new(ApiKeys { store, keys: RwLock::new(Arc::new(keys)), last_load: Mutex::new(Instant::now()) });
        let weak = Arc::downgrade(&this);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(refresh) => {}
                }
                let Some(keys) = weak.upgrade() else { break };
                keys.reload().await;
            }
        });
        Ok(this)
    }

    async fn reload(&self) {
        let mut last = self.last_load.lock().await;
        match self.store.active().await {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                *last = Instant::now();
            }
            Err(e) => tracing::warn!(error = %e, "api keys not reloaded; the previous set stays"),
        }
    }

    /// Reloads the keys for a key id not known yet (one just created), at most once per
    /// [`UNKNOWN_KEY_RELOAD`]: a caller arriving sooner waits for the next reload, and callers
    /// arriving together share it, so unknown keys cannot flood the database.
    async fn reload_for(&self, id: &str) -> Option<Known> {
        let last = self.last_load.lock().await;
        let since = last.elapsed();
        drop(last);
        if let Some(wait) = UNKNOWN_KEY_RELOAD.checked_sub(since) {
            tokio::time::sleep(wait).await;
        }
        // Another caller may have reloaded meanwhile.
        if self.last_load.lock().await.elapsed() >= UNKNOWN_KEY_RELOAD {
            self.reload().await;
        }
        self.lookup(id)
    }

    fn lookup(&self, id: &str) -> Option<Known> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// The caller a presented API key stands for.
    pub async fn identify(&self, presented: &str) -> Result<Caller, String> {
        let presented = redress_auth::ApiKey::parse(presented).map_err(|e| e.to_string())?;
        let (id, secret) = (presented.id, presented.secret);
        let mut known = self.lookup(&id);
        if known.is_none() {
            known = self.reload_for(&id).await;
        }
        let known = known.ok_or_else(|| "unknown or revoked api key".to_string())?;
        if !redress_auth::apikey::verify(&secret, &known.hash) {
            return Err("unknown or revoked api key".into());
        }
        let roles: Vec<Role> = known.roles.into_iter().filter(|r| *r != Role::System).collect();
        let scope = crate::caller::CaseScope::of(&roles, None);
        Ok(Caller { tenant: known.tenant, actor: known.name, roles, scope })
    }
}
