//! The reporting tables folded from the case event stream: one row per case, one per event,
//! one per SLA clock of a case, one per escalation. Times and durations are microseconds since
//! the Unix epoch (BIGINT) on both databases; the views turn them into timestamps and seconds.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

/// The reporting tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_facts"
    }
}

/// The same on both databases; SQLite keeps BOOLEAN as 0 and 1 and reports the declared type.
const TABLES: &str = r#"
CREATE TABLE case_facts (
    tenant TEXT NOT NULL,
    case_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    unhappy BOOLEAN NOT NULL,
    owner TEXT NOT NULL,
    team TEXT NOT NULL,
    product_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    create_us BIGINT NOT NULL,
    update_us BIGINT NOT NULL,
    acknowledge_us BIGINT,
    resolve_us BIGINT,
    close_us BIGINT,
    ack_wall_us BIGINT,
    ack_business_us BIGINT,
    resolve_wall_us BIGINT,
    resolve_business_us BIGINT,
    resolved BOOLEAN NOT NULL,
    ever_resolved BOOLEAN NOT NULL,
    first_response_met BOOLEAN NOT NULL,
    first_response_breached BOOLEAN NOT NULL,
    next_update_breached BOOLEAN NOT NULL,
    resolution_met BOOLEAN NOT NULL,
    resolution_breached BOOLEAN NOT NULL,
    sla_breached BOOLEAN NOT NULL,
    highest_escalation_level INTEGER NOT NULL,
    escalation_count INTEGER NOT NULL,
    offer_count INTEGER NOT NULL,
    accepted_offer_kind TEXT,
    accepted_amount_minor BIGINT,
    accepted_currency TEXT,
    satisfaction_scale TEXT,
    satisfaction_score INTEGER,
    reopen_count INTEGER NOT NULL,
    root_cause TEXT NOT NULL,
    version BIGINT NOT NULL,
    last_sequence BIGINT NOT NULL,
    PRIMARY KEY (tenant, case_id)
);
CREATE INDEX case_facts_by_create ON case_facts (tenant, create_us);
CREATE INDEX case_facts_by_owner ON case_facts (tenant, owner, create_us);
CREATE INDEX case_facts_by_product ON case_facts (tenant, product_id, create_us);
CREATE TABLE event_facts (
    sequence BIGINT PRIMARY KEY NOT NULL,
    tenant TEXT NOT NULL,
    event_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    event_us BIGINT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    previous_status TEXT NOT NULL,
    ingest_us BIGINT NOT NULL
);
CREATE INDEX event_facts_by_time ON event_facts (tenant, event_us);
CREATE INDEX event_facts_by_case ON event_facts (tenant, case_id, sequence);
CREATE TABLE sla_clock_facts (
    tenant TEXT NOT NULL,
    case_id TEXT NOT NULL,
    clock TEXT NOT NULL,
    sla_policy TEXT NOT NULL,
    target_us BIGINT NOT NULL,
    business_time_used_us BIGINT NOT NULL,
    met BOOLEAN NOT NULL,
    breached BOOLEAN NOT NULL,
    paused BOOLEAN NOT NULL,
    met_us BIGINT,
    breach_us BIGINT,
    due_us BIGINT,
    PRIMARY KEY (tenant, case_id, clock)
);
CREATE TABLE escalation_facts (
    tenant TEXT NOT NULL,
    case_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    escalation TEXT NOT NULL,
    clock TEXT NOT NULL,
    level INTEGER NOT NULL,
    reason TEXT NOT NULL,
    notified_count INTEGER NOT NULL,
    escalate_us BIGINT,
    PRIMARY KEY (tenant, case_id, position)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in TABLES.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
