//! Cases, their timeline, the event log, idempotency records and playbooks.
//!
//! A case is stored as its encoded `redress.case.v1.Case` with the columns ListCases filters
//! and orders by beside it. Timeline entries are append-only. Events are inserted with no
//! sequence; the sequencer numbers them in commit order (see `store::log`).

use sea_orm_migration::prelude::*;

/// The first schema.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The schema, its differently spelled types as [`super::TYPES`] placeholders.
const SCHEMA: &str = r#"
CREATE TABLE cases (
    id {id},
    tenant TEXT NOT NULL,
    reference TEXT NOT NULL,
    status INTEGER NOT NULL,
    severity INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    category TEXT NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    unhappy {bool} NOT NULL,
    external_reference TEXT,
    version {bigint} NOT NULL,
    create_time {time} NOT NULL,
    update_time {time} NOT NULL,
    document {bytes} NOT NULL
);
CREATE UNIQUE INDEX cases_reference ON cases (tenant, reference);
CREATE UNIQUE INDEX cases_external_reference ON cases (tenant, channel, external_reference)
    WHERE external_reference IS NOT NULL;
CREATE INDEX cases_by_create ON cases (tenant, create_time, id);
CREATE INDEX cases_by_update ON cases (tenant, update_time, id);
CREATE INDEX cases_by_customer ON cases (tenant, customer_id, create_time);
CREATE INDEX cases_by_owner ON cases (tenant, owner, create_time);
CREATE INDEX cases_by_status ON cases (tenant, status, create_time);
CREATE TABLE timeline_entries (
    case_id {uuid} NOT NULL,
    position {bigint} NOT NULL,
    tenant TEXT NOT NULL,
    create_time {time} NOT NULL,
    document {bytes} NOT NULL,
    PRIMARY KEY (case_id, position)
);
CREATE TABLE events (
    id {serial},
    sequence {bigint} UNIQUE,
    tenant TEXT NOT NULL,
    case_id {uuid} NOT NULL,
    event_type INTEGER NOT NULL,
    event_time {time} NOT NULL,
    payload {bytes} NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE sequence IS NULL;
CREATE TABLE requests (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    case_id {uuid} NOT NULL,
    resource TEXT NOT NULL,
    create_time {time} NOT NULL,
    PRIMARY KEY (tenant, request_id)
);
CREATE TABLE playbooks (
    tenant {key},
    document {bytes} NOT NULL,
    update_time {time} NOT NULL
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        super::run(manager, SCHEMA).await
    }
}
