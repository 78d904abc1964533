//! Each tenant's classification settings: the encoded `ClassificationSettings` with the
//! fields the tenant has set, and when it last changed them.

use sea_orm_migration::prelude::*;

/// Adds the classification settings.
#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &str = r#"
CREATE TABLE classification_settings (
    tenant TEXT PRIMARY KEY,
    settings BYTEA NOT NULL,
    version BIGINT NOT NULL,
    update_time TIMESTAMPTZ NOT NULL
)
"#;

const SQLITE: &str = r#"
CREATE TABLE classification_settings (
    tenant TEXT PRIMARY KEY NOT NULL,
    settings BLOB NOT NULL,
    version INTEGER NOT NULL,
    update_time TEXT NOT NULL
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        redress_kit::db::run_script(manager.get_connection(), POSTGRES, SQLITE).await
    }
}
