//! The PostgreSQL write path for a new case: the request record, the case, its first timeline
//! entry and its event in one statement (data-modifying CTEs), so opening a case is a single
//! round trip and atomic on its own. The request insert gates the rest: when the request_id is
//! already recorded, nothing is written.

use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, Value};

use super::NewCase;

const INSERT_CASE: &str = r#"
WITH req AS (
    INSERT INTO requests (tenant, request_id, method, case_id, resource, create_time)
    VALUES ($1, $2, 'CreateCase', $3, $4, $5)
    ON CONFLICT DO NOTHING
    RETURNING case_id
), c AS (
    INSERT INTO cases (id, tenant, reference, status, severity, channel, category, owner, team, customer_id,
                       unhappy, external_reference, version, create_time, update_time, document)
    SELECT $3, $1, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $5, $5, $17 FROM req
    RETURNING id
), t AS (
    INSERT INTO timeline_entries (case_id, position, tenant, create_time, document)
    SELECT id, $16, $1, $5, $18 FROM c
)
INSERT INTO events (sequence, tenant, case_id, event_type, event_time, payload)
SELECT NULL, $1, id, $19, $5, $20 FROM c
"#;

/// Writes a new case; false when the request_id was already recorded (nothing is written).
pub async fn insert_case(db: &DatabaseConnection, new: &NewCase<'_>) -> Result<bool, DbErr> {
    let NewCase { tenant, request_id, id, case, change, event, now } = *new;
    let values: Vec<Value> = vec![
        tenant.as_str().into(),
        request_id.into(),
        id.into(),
        case.name.as_str().into(),
        now.into(),
        case.reference.as_str().into(),
        case.status.into(),
        case.severity.into(),
        case.channel.into(),
        case.category.as_str().into(),
        case.owner.as_str().into(),
        case.team.as_str().into(),
        case.customer.as_ref().map(|c| c.customer_id.clone()).unwrap_or_default().into(),
        case.unhappy.into(),
        (!case.external_reference.is_empty()).then(|| case.external_reference.clone()).into(),
        case.version.into(),
        case.encode_to_vec().into(),
        change.entry.encode_to_vec().into(),
        (change.event_type as i32).into(),
        event.encode_to_vec().into(),
    ];
    let result = db.execute_raw(Statement::from_sql_and_values(DatabaseBackend::Postgres, INSERT_CASE, values)).await?;
    Ok(result.rows_affected() == 1)
}
