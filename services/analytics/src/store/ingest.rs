//! Folding batches of case events into the reporting tables, in the consumer's transaction.
//!
//! A batch becomes a handful of multi-row statements: the events (ignored when already there),
//! the latest row of each case in the batch (applied only over an older version), and the
//! cases' clocks and escalations. The NEXT_UPDATE and any-clock breaches are kept as "ever
//! breached": a clock that is met after a breach does not clear it.

use std::collections::HashMap;

use redress_kit::consumer::EventHandler;
use redress_proto::case::v1::CaseEvent;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, Statement, Value};

use super::{CONSUMER, statement};
use crate::domain::fold::{CaseFact, EscalationFact, EventFact, Folded, SlaFact, fold};
use crate::domain::{Micros, chrono_us};

/// The most bound values in one statement (SQLite allows 32766).
const MAX_VALUES: usize = 30_000;

/// Folds case events into the reporting tables.
#[derive(Debug, Default, Clone)]
pub struct Ingest;

#[tonic::async_trait]
impl EventHandler for Ingest {
    async fn handle(&self, txn: &DatabaseTransaction, events: &[CaseEvent]) -> anyhow::Result<()> {
        // The log is numbered without gaps and this consumer takes every event, so a batch
        // follows the stored cursor; one that does not belongs to a session that missed a
        // rebuild. Failing it restarts the session from the rewound cursor.
        let cursor = redress_kit::consumer::cursor(txn, CONSUMER).await?;
        if let Some(first) = events.first()
            && cursor + 1 < first.sequence
        {
            anyhow::bail!("the cursor is at {cursor}, behind this batch (a rebuild rewound it); resuming from it");
        }
        apply(txn, events, chrono_us(chrono::Utc::now())).await?;
        Ok(())
    }
}

/// Applies `events` (in log order) inside `db`'s transaction; `ingest_us` stamps the events'
/// rows with when they were folded, which is how freshness is measured.
pub async fn apply(db: &impl ConnectionTrait, events: &[CaseEvent], ingest_us: Micros) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let mut event_rows = Vec::with_capacity(events.len());
    // The latest fold of each case in the batch, in first-seen order.
    let mut latest: Vec<Folded> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for event in events {
        let Some(folded) = fold(event) else {
            // An erasure that found no case of the customer says so without a case.
            if event.r#type != redress_proto::case::v1::CaseEventType::PersonalDataErased as i32 {
                tracing::warn!(sequence = event.sequence, "case event without a case; skipped");
            }
            continue;
        };
        event_rows.push(event_values(&folded.event, ingest_us));
        let key = (folded.case.tenant.clone(), folded.case.case_id.clone());
        match index.get(&key) {
            Some(&i) => latest[i] = folded,
            None => {
                index.insert(key, latest.len());
                latest.push(folded);
            }
        }
    }
    let cases: Vec<Vec<Value>> = latest.iter().map(|f| case_values(&f.case)).collect();
    let clocks: Vec<Vec<Value>> = latest.iter().flat_map(|f| f.clocks.iter().map(clock_values)).collect();
    let escalations: Vec<Vec<Value>> =
        latest.iter().flat_map(|f| f.escalations.iter().map(escalation_values)).collect();

    let mut statements = insert(backend, "event_facts", EVENT_COLUMNS, event_rows, "ON CONFLICT (sequence) DO NOTHING");
    statements.extend(insert(backend, "case_facts", CASE_COLUMNS, cases, &case_conflict()));
    statements.extend(insert(
        backend,
        "sla_clock_facts",
        CLOCK_COLUMNS,
        clocks,
        &update_all("sla_clock_facts", "(tenant, case_id, clock)", CLOCK_COLUMNS, &[]),
    ));
    statements.extend(insert(
        backend,
        "escalation_facts",
        ESCALATION_COLUMNS,
        escalations,
        "ON CONFLICT (tenant, case_id, position) DO NOTHING",
    ));
    for s in statements {
        db.execute_raw(s).await?;
    }
    Ok(())
}

const EVENT_COLUMNS: &[&str] = &[
    "sequence",
    "tenant",
    "event_id",
    "case_id",
    "event_type",
    "event_us",
    "actor",
    "status",
    "previous_status",
    "ingest_us",
];

const CASE_COLUMNS: &[&str] = &[
    "tenant",
    "case_id",
    "reference",
    "status",
    "channel",
    "category",
    "severity",
    "unhappy",
    "owner",
    "team",
    "product_id",
    "location_id",
    "create_us",
    "update_us",
    "acknowledge_us",
    "resolve_us",
    "close_us",
    "ack_wall_us",
    "ack_business_us",
    "resolve_wall_us",
    "resolve_business_us",
    "resolved",
    "ever_resolved",
    "first_response_met",
    "first_response_breached",
    "next_update_breached",
    "resolution_met",
    "resolution_breached",
    "sla_breached",
    "highest_escalation_level",
    "escalation_count",
    "offer_count",
    "accepted_offer_kind",
    "accepted_amount_minor",
    "accepted_currency",
    "satisfaction_scale",
    "satisfaction_score",
    "reopen_count",
    "root_cause",
    "version",
    "last_sequence",
];

const CLOCK_COLUMNS: &[&str] = &[
    "tenant",
    "case_id",
    "clock",
    "sla_policy",
    "target_us",
    "business_time_used_us",
    "met",
    "breached",
    "paused",
    "met_us",
    "breach_us",
    "due_us",
];

const ESCALATION_COLUMNS: &[&str] =
    &["tenant", "case_id", "position", "escalation", "clock", "level", "reason", "notified_count", "escalate_us"];

/// Columns kept as "ever true" across versions of a case.
const EVER: &[&str] = &["next_update_breached", "sla_breached"];

fn case_conflict() -> String {
    format!(
        "{} WHERE case_facts.version <= excluded.version",
        update_all("case_facts", "(tenant, case_id)", CASE_COLUMNS, EVER)
    )
}

/// `ON CONFLICT key DO UPDATE SET` every column but the key's, OR-ing the `ever` columns.
fn update_all(table: &str, key: &str, columns: &[&str], ever: &[&str]) -> String {
    let keys: Vec<&str> = key.trim_matches(|c| c == '(' || c == ')').split(',').map(str::trim).collect();
    let sets: Vec<String> = columns
        .iter()
        .filter(|c| !keys.contains(c))
        .map(|c| {
            if ever.contains(c) {
                format!("{c} = ({table}.{c} OR excluded.{c})")
            } else {
                format!("{c} = excluded.{c}")
            }
        })
        .collect();
    format!("ON CONFLICT {key} DO UPDATE SET {}", sets.join(", "))
}

/// Multi-row INSERTs of `rows`, split so no statement binds too many values.
fn insert(
    backend: DatabaseBackend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    conflict: &str,
) -> Vec<Statement> {
    let per_statement = (MAX_VALUES / columns.len()).max(1);
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        let mut tuples = Vec::with_capacity(chunk.len());
        for row in chunk {
            let start = values.len();
            let marks: Vec<String> = (1..=row.len()).map(|i| format!("${}", start + i)).collect();
            tuples.push(format!("({})", marks.join(", ")));
            values.extend(row);
        }
        let sql = format!("INSERT INTO {table} ({}) VALUES {} {conflict}", columns.join(", "), tuples.join(", "));
        statements.push(statement(backend, &sql, values));
    }
    statements
}

fn text(s: &str) -> Value {
    Value::String(Some(s.to_string()))
}

fn opt_text(s: &Option<String>) -> Value {
    Value::String(s.clone())
}

fn event_values(e: &EventFact, ingest_us: Micros) -> Vec<Value> {
    vec![
        e.sequence.into(),
        text(&e.tenant),
        text(&e.event_id),
        text(&e.case_id),
        text(&e.event_type),
        e.event_us.into(),
        text(&e.actor),
        text(&e.status),
        text(&e.previous_status),
        ingest_us.into(),
    ]
}

fn case_values(c: &CaseFact) -> Vec<Value> {
    vec![
        text(&c.tenant),
        text(&c.case_id),
        text(&c.reference),
        text(&c.status),
        text(&c.channel),
        text(&c.category),
        text(&c.severity),
        c.unhappy.into(),
        text(&c.owner),
        text(&c.team),
        text(&c.product_id),
        text(&c.location_id),
        c.create_us.into(),
        c.update_us.into(),
        c.acknowledge_us.into(),
        c.resolve_us.into(),
        c.close_us.into(),
        c.ack_wall_us.into(),
        c.ack_business_us.into(),
        c.resolve_wall_us.into(),
        c.resolve_business_us.into(),
        c.resolved.into(),
        c.ever_resolved.into(),
        c.first_response_met.into(),
        c.first_response_breached.into(),
        c.next_update_breached.into(),
        c.resolution_met.into(),
        c.resolution_breached.into(),
        c.sla_breached.into(),
        c.highest_escalation_level.into(),
        c.escalation_count.into(),
        c.offer_count.into(),
        opt_text(&c.accepted_offer_kind),
        c.accepted_amount_minor.into(),
        opt_text(&c.accepted_currency),
        opt_text(&c.satisfaction_scale),
        c.satisfaction_score.into(),
        c.reopen_count.into(),
        text(&c.root_cause),
        c.version.into(),
        c.last_sequence.into(),
    ]
}

fn clock_values(s: &SlaFact) -> Vec<Value> {
    vec![
        text(&s.tenant),
        text(&s.case_id),
        text(&s.clock),
        text(&s.sla_policy),
        s.target_us.into(),
        s.business_time_used_us.into(),
        s.met.into(),
        s.breached.into(),
        s.paused.into(),
        s.met_us.into(),
        s.breach_us.into(),
        s.due_us.into(),
    ]
}

fn escalation_values(e: &EscalationFact) -> Vec<Value> {
    vec![
        text(&e.tenant),
        text(&e.case_id),
        e.position.into(),
        text(&e.escalation),
        text(&e.clock),
        e.level.into(),
        text(&e.reason),
        e.notified_count.into(),
        e.escalate_us.into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_split_by_bound_values() {
        let rows: Vec<Vec<Value>> = (0..7000).map(|i| vec![Value::from(i as i64); 10]).collect();
        let statements = insert(DatabaseBackend::Sqlite, "t", &["a"; 10], rows, "");
        assert_eq!(statements.len(), 3);
        assert!(statements[0].sql.contains("(?1, ?2, ?3"));
        assert!(statements[1].sql.starts_with("INSERT INTO t (a, a"));
    }

    #[test]
    fn upserts_keep_ever_breached_and_newer_versions() {
        let sql = case_conflict();
        assert!(sql.starts_with("ON CONFLICT (tenant, case_id) DO UPDATE SET reference = excluded.reference"));
        assert!(sql.contains("sla_breached = (case_facts.sla_breached OR excluded.sla_breached)"));
        assert!(!sql.contains("tenant = excluded.tenant"));
        assert!(sql.ends_with("WHERE case_facts.version <= excluded.version"));
        assert_eq!(CASE_COLUMNS.len(), case_values(&fold_sample()).len());
    }

    fn fold_sample() -> CaseFact {
        let event = CaseEvent {
            tenant: "acme".into(),
            case: Some(redress_proto::case::v1::Case { name: "tenants/acme/cases/x".into(), ..Default::default() }),
            ..Default::default()
        };
        fold(&event).map(|f| f.case).unwrap_or_else(|| panic!("folds"))
    }
}
