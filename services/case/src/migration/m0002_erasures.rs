//! Erasures of personal data: which cases have been anonymised, and the audit record of each
//! erasure (who, when, why, which cases; no contact details).

use sea_orm_migration::prelude::*;

/// Erasures.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_erasures"
    }
}

const POSTGRES: &str = r#"
ALTER TABLE cases ADD COLUMN erased BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX cases_retention ON cases (tenant, update_time) WHERE status = 7 AND NOT erased;
CREATE TABLE erasures (
    id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    erase_time TIMESTAMPTZ NOT NULL,
    document BYTEA NOT NULL
);
CREATE UNIQUE INDEX erasures_request ON erasures (tenant, request_id);
CREATE INDEX erasures_by_tenant ON erasures (tenant, id)
"#;

const SQLITE: &str = r#"
ALTER TABLE cases ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_retention ON cases (tenant, update_time) WHERE status = 7 AND NOT erased;
CREATE TABLE erasures (
    id BLOB PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    erase_time TEXT NOT NULL,
    document BLOB NOT NULL
);
CREATE UNIQUE INDEX erasures_request ON erasures (tenant, request_id);
CREATE INDEX erasures_by_tenant ON erasures (tenant, id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        redress_kit::db::run_script(manager.get_connection(), POSTGRES, SQLITE).await
    }
}
