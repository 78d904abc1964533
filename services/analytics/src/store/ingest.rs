//! Writing a folded batch of case events into the reporting tables, in the consumer's
//! transaction (the consumer is [`crate::app::consumer`]).
//!
//! A batch becomes a handful of multi-row statements: the events (ignored when already there),
//! the latest row of each case in the batch (applied only over an older version), and the
//! cases' clocks and escalations. The NEXT_UPDATE and any-clock breaches are kept as "ever
//! breached": a clock that is met after a breach does not clear it.

use redress_kit::db::{Txn, statement};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

use crate::domain::Micros;
use crate::domain::fold::{Batch, CaseFact, EscalationFact, EventFact, SlaFact};
use crate::error::Error;

/// The most bound values in one statement (SQLite allows 32766).
const MAX_VALUES: usize = 30_000;

/// Writes `batch` inside `txn`; `ingest_us` stamps the events' rows with when they were
/// folded, which is how freshness is measured.
pub async fn write(txn: &Txn, batch: &Batch, ingest_us: Micros) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    let latest = &batch.cases;
    let events: Vec<Vec<Value>> = batch.events.iter().map(|e| event_values(e, ingest_us)).collect();
    let cases: Vec<Vec<Value>> = latest.iter().map(|f| case_values(&f.case)).collect();
    let clocks: Vec<Vec<Value>> = latest.iter().flat_map(|f| f.clocks.iter().map(clock_values)).collect();
    let escalations: Vec<Vec<Value>> =
        latest.iter().flat_map(|f| f.escalations.iter().map(escalation_values)).collect();
    let clock_conflict = update_all("sla_clock_facts", "(tenant, case_id, clock)", CLOCK_COLUMNS, &[]);
    let tables = [
        ("event_facts", EVENT_COLUMNS, events, "ON CONFLICT (sequence) DO NOTHING".to_string()),
        ("case_facts", CASE_COLUMNS, cases, case_conflict()),
        ("sla_clock_facts", CLOCK_COLUMNS, clocks, clock_conflict),
        (
            "escalation_facts",
            ESCALATION_COLUMNS,
            escalations,
            "ON CONFLICT (tenant, case_id, position) DO NOTHING".into(),
        ),
    ];
    for (table, columns, rows, conflict) in tables {
        for s in insert(backend, table, columns, rows, &conflict) {
            txn.execute_raw(s).await?;
        }
    }
    Ok(())
}

/// A fact table's columns, named as the fact's fields, and a function giving one fact's values
/// in that order (and then any extra column's).
macro_rules! table {
    ($columns:ident, $values:ident($fact:ty $(, $extra:ident: $ty:ty)?) { $($field:ident),* $(,)? }) => {
        const $columns: &[&str] = &[$(stringify!($field),)* $(stringify!($extra))?];

        fn $values(fact: &$fact $(, $extra: $ty)?) -> Vec<Value> {
            vec![$(Value::from(fact.$field.clone()),)* $(Value::from($extra))?]
        }
    };
}

table!(EVENT_COLUMNS, event_values(EventFact, ingest_us: Micros) {
    sequence, tenant, event_id, case_id, event_type, event_us, actor, status, previous_status,
});

table!(CASE_COLUMNS, case_values(CaseFact) {
    tenant, case_id, reference, status, channel, category, severity, unhappy, owner, team, product_id,
    location_id, create_us, update_us, acknowledge_us, resolve_us, close_us, ack_wall_us, ack_business_us,
    resolve_wall_us, resolve_business_us, resolved, ever_resolved, first_response_met, first_response_breached,
    next_update_breached, resolution_met, resolution_breached, sla_breached, highest_escalation_level,
    escalation_count, offer_count, accepted_offer_kind, accepted_amount_minor, accepted_currency,
    satisfaction_scale, satisfaction_score, reopen_count, root_cause, version, last_sequence,
});

table!(CLOCK_COLUMNS, clock_values(SlaFact) {
    tenant, case_id, clock, sla_policy, target_us, business_time_used_us, met, breached, paused, met_us,
    breach_us, due_us,
});

table!(ESCALATION_COLUMNS, escalation_values(EscalationFact) {
    tenant, case_id, position, escalation, clock, level, reason, notified_count, escalate_us,
});

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
        use redress_proto::case::v1::CaseEvent;
        let event = CaseEvent {
            tenant: "acme".into(),
            case: Some(redress_proto::case::v1::Case { name: "tenants/acme/cases/x".into(), ..Default::default() }),
            ..Default::default()
        };
        crate::domain::fold::fold(&event).map(|f| f.case).unwrap_or_else(|| panic!("folds"))
    }
}
