//! Cases, their timeline, the event log, idempotency records and playbooks.
//!
//! A case is stored as its encoded `redress.case.v1.Case` with the columns ListCases filters
//! and orders by beside it. Timeline entries are append-only. Events are inserted with no
//! sequence; the sequencer numbers them in commit order (see `store::log`).

use sea_orm_migration::prelude::*;

/// The first schema.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

const POSTGRES: &str = r#"
CREATE TABLE cases (
    id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    reference TEXT NOT NULL,
    status INTEGER NOT NULL,
    severity INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    category TEXT NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    unhappy BOOLEAN NOT NULL,
    external_reference TEXT,
    version BIGINT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    document BYTEA NOT NULL
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
    case_id UUID NOT NULL,
    position BIGINT NOT NULL,
    tenant TEXT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    document BYTEA NOT NULL,
    PRIMARY KEY (case_id, position)
);
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    sequence BIGINT UNIQUE,
    tenant TEXT NOT NULL,
    case_id UUID NOT NULL,
    event_type INTEGER NOT NULL,
    event_time TIMESTAMPTZ NOT NULL,
    payload BYTEA NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE sequence IS NULL;
CREATE TABLE requests (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    case_id UUID NOT NULL,
    resource TEXT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, request_id)
);
CREATE TABLE playbooks (
    tenant TEXT PRIMARY KEY,
    document BYTEA NOT NULL,
    update_time TIMESTAMPTZ NOT NULL
);
"#;

const SQLITE: &str = r#"
CREATE TABLE cases (
    id BLOB PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    reference TEXT NOT NULL,
    status INTEGER NOT NULL,
    severity INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    category TEXT NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    unhappy INTEGER NOT NULL,
    external_reference TEXT,
    version INTEGER NOT NULL,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL,
    document BLOB NOT NULL
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
    case_id BLOB NOT NULL,
    position INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    create_time TEXT NOT NULL,
    document BLOB NOT NULL,
    PRIMARY KEY (case_id, position)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sequence INTEGER UNIQUE,
    tenant TEXT NOT NULL,
    case_id BLOB NOT NULL,
    event_type INTEGER NOT NULL,
    event_time TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX events_unsequenced ON events (id) WHERE sequence IS NULL;
CREATE TABLE requests (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    case_id BLOB NOT NULL,
    resource TEXT NOT NULL,
    create_time TEXT NOT NULL,
    PRIMARY KEY (tenant, request_id)
);
CREATE TABLE playbooks (
    tenant TEXT PRIMARY KEY NOT NULL,
    document BLOB NOT NULL,
    update_time TEXT NOT NULL
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        redress_kit::db::run_script(manager.get_connection(), POSTGRES, SQLITE).await
    }
}
