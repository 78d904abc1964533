//! Submissions (what idempotency needs) and survey responses.
//!
//! A submission is recorded PENDING with its plan (open a case, or join one) before intake
//! calls the case service, and DONE with the encoded answer afterwards, so that a retry
//! returns the first answer and a retry after a crash carries out the same plan. Survey
//! responses are kept whether or not they opened a case.

use sea_orm_migration::prelude::*;

/// The first schema.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_initial"
    }
}

const POSTGRES: &str = r#"
CREATE TABLE submissions (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    state INTEGER NOT NULL,
    plan_outcome INTEGER NOT NULL,
    plan_case TEXT NOT NULL,
    response BYTEA,
    create_time TIMESTAMPTZ NOT NULL,
    update_time TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, request_id)
);
CREATE TABLE survey_responses (
    id UUID PRIMARY KEY,
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
    respond_time TIMESTAMPTZ NOT NULL,
    create_time TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX survey_responses_request ON survey_responses (tenant, request_id);
CREATE INDEX survey_responses_by_time ON survey_responses (tenant, respond_time, id);
"#;

const SQLITE: &str = r#"
CREATE TABLE submissions (
    tenant TEXT NOT NULL,
    request_id TEXT NOT NULL,
    method TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    state INTEGER NOT NULL,
    plan_outcome INTEGER NOT NULL,
    plan_case TEXT NOT NULL,
    response BLOB,
    create_time TEXT NOT NULL,
    update_time TEXT NOT NULL,
    PRIMARY KEY (tenant, request_id)
);
CREATE TABLE survey_responses (
    id BLOB PRIMARY KEY NOT NULL,
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
    respond_time TEXT NOT NULL,
    create_time TEXT NOT NULL
);
CREATE UNIQUE INDEX survey_responses_request ON survey_responses (tenant, request_id);
CREATE INDEX survey_responses_by_time ON survey_responses (tenant, respond_time, id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        redress_kit::db::run_script(manager.get_connection(), POSTGRES, SQLITE).await
    }
}
