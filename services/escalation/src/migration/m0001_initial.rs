//! Policies, calendars, the staff directory, the cases being timed, their clocks, escalations
//! and the outbox of effects on other services.

use sea_orm_migration::prelude::*;

/// The first schema, named after this file: `m0001_initial`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The schema, written for PostgreSQL; [`sqlite`] rewrites the few types that differ.
const SCHEMA: &str = r#"
CREATE TABLE sla_policies (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    priority INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    document BYTEA NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX sla_policies_request ON sla_policies (tenant, request_id);
CREATE TABLE calendars (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    document BYTEA NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX calendars_request ON calendars (tenant, request_id);
CREATE TABLE staff (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    role INTEGER NOT NULL,
    team TEXT NOT NULL,
    region TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    document BYTEA NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX staff_by_role ON staff (tenant, role, team);
CREATE TABLE timed_cases (
    case_id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    reference TEXT NOT NULL,
    subject TEXT NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    status INTEGER NOT NULL,
    reopen_count INTEGER NOT NULL,
    unhappy_escalated INTEGER NOT NULL,
    policy TEXT NOT NULL,
    policy_document BYTEA NOT NULL,
    calendar_document BYTEA NOT NULL
);
CREATE TABLE clocks (
    case_id UUID NOT NULL,
    kind INTEGER NOT NULL,
    tenant TEXT NOT NULL,
    target_ms BIGINT NOT NULL,
    warning_ms BIGINT NOT NULL,
    used_ms BIGINT NOT NULL,
    since TIMESTAMPTZ,
    state INTEGER NOT NULL,
    breached_at TIMESTAMPTZ,
    met_at TIMESTAMPTZ,
    level INTEGER NOT NULL,
    acknowledged BOOLEAN NOT NULL,
    cycle INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    next_fire BIGINT,
    PRIMARY KEY (case_id, kind)
);
CREATE INDEX clocks_pending ON clocks (next_fire) WHERE next_fire IS NOT NULL;
CREATE TABLE escalations (
    id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    case_id UUID NOT NULL,
    escalation_key TEXT NOT NULL,
    clock INTEGER NOT NULL,
    level INTEGER NOT NULL,
    acknowledged BOOLEAN NOT NULL,
    escalate_time TIMESTAMPTZ NOT NULL,
    document BYTEA NOT NULL
);
CREATE UNIQUE INDEX escalations_key ON escalations (tenant, escalation_key);
CREATE INDEX escalations_by_case ON escalations (tenant, case_id, escalate_time);
CREATE INDEX escalations_by_time ON escalations (tenant, escalate_time);
CREATE TABLE effects (
    id BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT NOT NULL,
    payload BYTEA NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt TIMESTAMPTZ NOT NULL,
    last_error TEXT NOT NULL,
    done BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX effects_request ON effects (tenant, kind, request_id);
CREATE INDEX effects_due ON effects (next_attempt) WHERE NOT done;
"#;

/// The schema in SQLite's words.
fn sqlite(schema: &str) -> String {
    schema
        .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
        .replace("BYTEA", "BLOB")
        .replace("TIMESTAMPTZ", "TEXT")
        .replace("UUID", "BLOB")
        .replace("BOOLEAN", "INTEGER")
        .replace("BIGINT", "INTEGER")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        redress_kit::db::run_script(manager.get_connection(), SCHEMA, &sqlite(SCHEMA)).await
    }
}
