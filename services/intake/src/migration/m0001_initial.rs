//! Submissions (what idempotency needs) and survey responses.
//!
//! A submission is recorded PENDING with its plan (open a case, or join one) before intake
//! calls the case service, and DONE with the encoded answer afterwards, so that a retry
//! returns the first answer and a retry after a crash carries out the same plan. Survey
//! responses are kept whether or not they opened a case.

use sea_orm_migration::prelude::*;

/// The first schema.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The schema, with the column types the two databases spell differently left as `{bytes}`,
/// `{time}` and `{id}` (the survey response's UUID key).
const SCHEMA: &str = r#"
CREATE TABLE submissions (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    request_hash {bytes} NOT NULL,
    state INTEGER NOT NULL,
    plan_outcome INTEGER NOT NULL,
    plan_case TEXT NOT NULL,
    response {bytes},
    create_time {time} NOT NULL,
    update_time {time} NOT NULL,
    PRIMARY KEY (tenant, request_id)
);
CREATE TABLE survey_responses (
    id {id},
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    scale INTEGER NOT NULL,
    score INTEGER NOT NULL,
    survey_class INTEGER NOT NULL,
    comment TEXT NOT NULL,
    case_name TEXT NOT NULL,
    outcome INTEGER NOT NULL,
    external_reference TEXT NOT NULL,
    respond_time {time} NOT NULL,
    create_time {time} NOT NULL
);
CREATE UNIQUE INDEX survey_responses_request ON survey_responses (tenant, request_id);
CREATE INDEX survey_responses_by_time ON survey_responses (tenant, respond_time, id);
"#;

/// The schema for one database.
fn schema(bytes: &str, time: &str, id: &str) -> String {
    SCHEMA.replace("{bytes}", bytes).replace("{time}", time).replace("{id}", id)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = schema("BYTEA", "TIMESTAMPTZ", "UUID PRIMARY KEY");
        let sqlite = schema("BLOB", "TEXT", "BLOB PRIMARY KEY NOT NULL");
        redress_kit::db::run_script(manager.get_connection(), &postgres, &sqlite).await
    }
}
