//! Notifications (the outbox and their delivery status), tenants' templates and rules.
//!
//! A notification row is its own outbox entry: due rows (`PENDING` or `RETRYING` with
//! `next_attempt_time` reached and no live claim) are claimed by workers, delivered, and their
//! outcome recorded. `(tenant, request_id)` is unique, so one idempotency key makes one row.

use sea_orm_migration::prelude::*;

/// The first schema, named after this file: `m0001_initial`.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The schema in PostgreSQL's words; [`sqlite`] says it in SQLite's.
const POSTGRES: &str = r#"
CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    channel INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    status INTEGER NOT NULL,
    case_name TEXT NOT NULL,
    recipient TEXT NOT NULL,
    destination TEXT NOT NULL,
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    next_attempt_time TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_expires TIMESTAMPTZ,
    rate_time TIMESTAMPTZ,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    deliver_time TIMESTAMPTZ,
    request BYTEA NOT NULL,
    case_snapshot BYTEA,
    prepared TEXT
);
CREATE UNIQUE INDEX notifications_request ON notifications (tenant, request_id);
CREATE INDEX notifications_due ON notifications (next_attempt_time) WHERE status IN (1, 2);
CREATE INDEX notifications_by_tenant ON notifications (tenant, id);
CREATE INDEX notifications_by_case ON notifications (tenant, case_name, id);
CREATE INDEX notifications_by_recipient ON notifications (tenant, recipient, id);
CREATE INDEX notifications_by_destination ON notifications (tenant, destination, id);
CREATE INDEX notifications_by_status ON notifications (tenant, status, id);
CREATE INDEX notifications_rate ON notifications (tenant, destination, rate_time) WHERE rate_time IS NOT NULL;
CREATE TABLE templates (
    id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    key TEXT NOT NULL,
    locale TEXT NOT NULL,
    audience INTEGER NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    variables TEXT NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX templates_key ON templates (tenant, key, locale);
CREATE UNIQUE INDEX templates_request ON templates (tenant, request_id);
CREATE TABLE rules (
    id UUID PRIMARY KEY,
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    document BYTEA NOT NULL,
    create_time TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX rules_request ON rules (tenant, request_id);
CREATE INDEX rules_by_tenant ON rules (tenant, id);
"#;

/// A PostgreSQL script in SQLite's types: UUID keys and byte strings as BLOB, times as TEXT.
fn sqlite(postgres: &str) -> String {
    postgres
        .replace("UUID PRIMARY KEY", "BLOB PRIMARY KEY NOT NULL")
        .replace("TIMESTAMPTZ", "TEXT")
        .replace("BYTEA", "BLOB")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        redress_kit::db::run_script(manager.get_connection(), POSTGRES, &sqlite(POSTGRES)).await
    }
}
