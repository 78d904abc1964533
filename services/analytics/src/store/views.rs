//! The documented views BI tools query: `cases`, `case_events`, `sla_clocks`, `escalations` and
//! `daily_volume`. Each shows one tenant's rows.
//!
//! On PostgreSQL they are views in the `redress_analytics` schema filtered by
//! `reader_tenant()`, the tenant a Flight SQL transaction was signed for (see the migration). On
//! SQLite they are temporary views created on each Flight SQL connection with the caller's
//! tenant written into them. One definition serves both; only time expressions differ.

use sea_orm::DatabaseBackend;

/// The views, in the order they are listed to BI tools.
pub const VIEWS: [&str; 5] = ["cases", "case_events", "sla_clocks", "escalations", "daily_volume"];

/// Microseconds as a timestamp.
fn ts(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("(TIMESTAMPTZ 'epoch' + {column} * INTERVAL '1 microsecond')"),
        _ => format!("strftime('%Y-%m-%d %H:%M:%f', {column} / 1000000.0, 'unixepoch')"),
    }
}

/// Microseconds as seconds.
fn secs(column: &str) -> String {
    format!("CAST({column} AS DOUBLE PRECISION) / 1000000.0")
}

/// The SELECT behind `view`, reading the base tables where `tenant_predicate` holds (an SQL
/// condition on the `tenant` column).
pub fn select(view: &str, backend: DatabaseBackend, tenant_predicate: &str) -> Option<String> {
    let t = |c: &str| ts(backend, c);
    let sql = match view {
        "cases" => format!(
            "SELECT tenant, case_id, 'tenants/' || tenant || '/cases/' || case_id AS name, reference, status, channel, \
             category, severity, unhappy, owner, team, product_id, location_id, \
             {} AS create_time, {} AS update_time, {} AS acknowledge_time, {} AS resolve_time, {} AS close_time, \
             {} AS time_to_acknowledge_seconds, {} AS business_time_to_acknowledge_seconds, \
             {} AS time_to_resolve_seconds, {} AS business_time_to_resolve_seconds, \
             resolved, first_response_met, first_response_breached, next_update_breached, resolution_met, \
             resolution_breached, sla_breached, highest_escalation_level, escalation_count, offer_count, \
             accepted_offer_kind, accepted_amount_minor, accepted_currency, satisfaction_scale, satisfaction_score, \
             reopen_count, root_cause \
             FROM case_facts WHERE {tenant_predicate}",
            t("create_us"),
            t("update_us"),
            t("acknowledge_us"),
            t("resolve_us"),
            t("close_us"),
            secs("ack_wall_us"),
            secs("ack_business_us"),
            secs("resolve_wall_us"),
            secs("resolve_business_us"),
        ),
        "case_events" => format!(
            "SELECT tenant, sequence, event_id, case_id, event_type, {} AS event_time, actor, status, previous_status \
             FROM event_facts WHERE {tenant_predicate}",
            t("event_us")
        ),
        "sla_clocks" => format!(
            "SELECT tenant, case_id, clock, sla_policy, {} AS target_seconds, {} AS business_time_used_seconds, \
             met, breached, paused, {} AS met_time, {} AS breach_time, {} AS due_time \
             FROM sla_clock_facts WHERE {tenant_predicate}",
            secs("target_us"),
            secs("business_time_used_us"),
            t("met_us"),
            t("breach_us"),
            t("due_us"),
        ),
        "escalations" => format!(
            "SELECT tenant, case_id, position, escalation, clock, level, reason, notified_count, \
             {} AS escalate_time FROM escalation_facts WHERE {tenant_predicate}",
            t("escalate_us")
        ),
        "daily_volume" => {
            let day = match backend {
                DatabaseBackend::Postgres => {
                    "((TIMESTAMPTZ 'epoch' + create_us * INTERVAL '1 microsecond') AT TIME ZONE 'UTC')::date"
                        .to_string()
                }
                _ => "date(create_us / 1000000, 'unixepoch')".to_string(),
            };
            format!(
                "SELECT tenant, {day} AS day, category, channel, severity, CAST(COUNT(*) AS BIGINT) AS cases, \
                 CAST(SUM(CASE WHEN unhappy THEN 1 ELSE 0 END) AS BIGINT) AS unhappy_cases, \
                 CAST(SUM(CASE WHEN sla_breached THEN 1 ELSE 0 END) AS BIGINT) AS breached_cases \
                 FROM case_facts WHERE {tenant_predicate} GROUP BY tenant, {day}, category, channel, severity"
            )
        }
        _ => return None,
    };
    Some(sql)
}

/// The tenant condition of the PostgreSQL views: the tenant the transaction was signed for.
pub const POSTGRES_PREDICATE: &str = "tenant = (SELECT redress_analytics.reader_tenant())";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_has_a_definition_on_both_backends() {
        for view in VIEWS {
            for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
                let sql = select(view, backend, "tenant = 'acme'").unwrap();
                assert!(sql.contains("tenant = 'acme'"), "{view}");
            }
        }
        assert!(select("case_facts", DatabaseBackend::Sqlite, "true").is_none());
    }
}
