//! Erasures of personal data: which cases have been anonymised, and the audit record of each
//! erasure (who, when, why, which cases; no contact details).

use sea_orm_migration::prelude::*;

/// Erasures.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The schema, its differently spelled types as [`super::TYPES`] placeholders.
const SCHEMA: &str = r#"
ALTER TABLE cases ADD COLUMN erased {bool} NOT NULL DEFAULT {false};
CREATE INDEX cases_retention ON cases (tenant, update_time) WHERE status = 7 AND NOT erased;
CREATE TABLE erasures (
    id {id},
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    erase_time {time} NOT NULL,
    document {bytes} NOT NULL
);
CREATE UNIQUE INDEX erasures_request ON erasures (tenant, request_id);
CREATE INDEX erasures_by_tenant ON erasures (tenant, id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::run(manager, SCHEMA).await
    }
}
