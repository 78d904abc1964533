//! Part 2 of the analytics bench: a million cases of one tenant written straight into the
//! reporting tables with SQL (`generate_series`), as a year of a contact centre's cases.

use std::time::Instant;

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{DAY_US, LARGE_TENANT, now_us};

/// Fills the reporting tables with `n` cases of [`LARGE_TENANT`] created over the past year,
/// with statuses, owners, products, clocks, offers and ratings varied as a contact centre's
/// are; the seconds it took.
pub async fn seed_large(db: &DatabaseConnection, n: usize) -> f64 {
    let started = Instant::now();
    let now = now_us();
    let year = 365 * DAY_US;
    let cases = format!(
        "INSERT INTO case_facts
         SELECT '{LARGE_TENANT}', gen_random_uuid()::text, 'RD-' || lpad(i::text, 8, '0'), status,
           (ARRAY['CHANNEL_EMAIL','CHANNEL_PHONE','CHANNEL_WEB','CHANNEL_CHAT','CHANNEL_SOCIAL'])[1 + i % 5],
           (ARRAY['billing','delivery','quality','service','returns','app','account','refunds','installation',
                  'warranty','pricing','privacy'])[1 + (i * 7) % 12],
           (ARRAY['SEVERITY_LOW','SEVERITY_MEDIUM','SEVERITY_MEDIUM','SEVERITY_HIGH','SEVERITY_CRITICAL'])[1 + i % 5],
           i % 13 = 0, owner, CASE WHEN owner = '' THEN '' ELSE 'team-' || (i % 200) / 20 END,
           'SKU-' || (i * 31) % 500, 'LOC-' || i % 50,
           create_us, create_us + ack * 2, CASE WHEN acked THEN create_us + ack END,
           CASE WHEN resolved THEN create_us + res END, CASE WHEN closed THEN create_us + res + {DAY_US} END,
           CASE WHEN acked THEN ack END, CASE WHEN acked THEN ack * 4 / 5 END,
           CASE WHEN resolved THEN res END, CASE WHEN resolved THEN res / 3 END,
           resolved, resolved OR status = 'CASE_STATUS_REOPENED', acked AND ack <= 7200000000, acked AND ack > 7200000000, i % 29 = 0,
           resolved AND res <= 259200000000, resolved AND res > 259200000000,
           (acked AND ack > 7200000000) OR (resolved AND res > 259200000000) OR i % 29 = 0,
           CASE WHEN i % 29 = 0 OR ack > 7200000000 THEN 1 + i % 3 ELSE 0 END,
           CASE WHEN i % 29 = 0 OR ack > 7200000000 THEN 1 ELSE 0 END,
           CASE WHEN resolved THEN i % 3 ELSE 0 END,
           CASE WHEN resolved AND i % 3 > 0 THEN 'OFFER_KIND_REFUND' END,
           CASE WHEN resolved AND i % 3 > 0 THEN 500 + (i * 37) % 20000 END,
           CASE WHEN resolved AND i % 3 > 0 THEN 'EUR' END,
           CASE WHEN resolved AND i % 4 = 0 THEN 'SURVEY_SCALE_CSAT' END,
           CASE WHEN resolved AND i % 4 = 0 THEN 1 + (i / 4) % 5 END,
           CASE WHEN i % 37 = 0 THEN 1 ELSE 0 END,
           CASE WHEN closed THEN (ARRAY['pricing error','courier delay','manufacturing defect','agent error',
             'unclear policy','system outage','supplier fault','damaged in transit'])[1 + i % 8] ELSE '' END,
           6, 1000000000 + i
         FROM (
           SELECT i, create_us, status, ack, res,
             status <> 'CASE_STATUS_NEW' AS acked,
             status IN ('CASE_STATUS_RESOLVED', 'CASE_STATUS_CLOSED') AS resolved,
             status = 'CASE_STATUS_CLOSED' AS closed,
             CASE WHEN status = 'CASE_STATUS_NEW' THEN '' ELSE 'agent-' || i % 200 END AS owner
           FROM (
             SELECT i, {now} - (i::numeric * {year} / {n})::bigint AS create_us,
               CASE WHEN i < {n} / 100 THEN (ARRAY['CASE_STATUS_NEW','CASE_STATUS_INVESTIGATING',
                 'CASE_STATUS_AWAITING_CUSTOMER','CASE_STATUS_RESOLVED'])[1 + i % 4]
                 ELSE (ARRAY['CASE_STATUS_CLOSED','CASE_STATUS_CLOSED','CASE_STATUS_CLOSED','CASE_STATUS_RESOLVED',
                 'CASE_STATUS_CLOSED','CASE_STATUS_CLOSED','CASE_STATUS_REOPENED','CASE_STATUS_CLOSED'])[1 + i % 8]
               END AS status,
               60000000::bigint * (5 + (i * 17) % 240) AS ack,
               3600000000::bigint * (1 + (i * 13) % 120) AS res
             FROM generate_series(1, {n}) AS i
           ) AS a
         ) AS b"
    );
    db.execute_unprepared(&cases).await.expect("seed case_facts");
    let clocks = format!(
        "INSERT INTO sla_clock_facts
         SELECT tenant, case_id, 'SLA_CLOCK_KIND_FIRST_RESPONSE', 'tenants/{LARGE_TENANT}/slaPolicies/standard',
           7200000000, ack_business_us, first_response_met, first_response_breached, false,
           CASE WHEN first_response_met THEN acknowledge_us END,
           CASE WHEN first_response_breached THEN create_us + 7200000000 END, create_us + 7200000000
         FROM case_facts WHERE tenant = '{LARGE_TENANT}' AND acknowledge_us IS NOT NULL
         UNION ALL
         SELECT tenant, case_id, 'SLA_CLOCK_KIND_RESOLUTION', 'tenants/{LARGE_TENANT}/slaPolicies/standard',
           259200000000, resolve_business_us, resolution_met, resolution_breached, false,
           CASE WHEN resolution_met THEN resolve_us END,
           CASE WHEN resolution_breached THEN create_us + 259200000000 END, create_us + 259200000000
         FROM case_facts WHERE tenant = '{LARGE_TENANT}' AND resolved"
    );
    db.execute_unprepared(&clocks).await.expect("seed sla_clock_facts");
    let events = format!(
        "INSERT INTO event_facts
         SELECT last_sequence, tenant, gen_random_uuid()::text, case_id, 'CASE_EVENT_TYPE_CREATED', create_us,
           'customer', 'CASE_STATUS_NEW', 'CASE_STATUS_UNSPECIFIED', create_us
         FROM case_facts WHERE tenant = '{LARGE_TENANT}'"
    );
    db.execute_unprepared(&events).await.expect("seed event_facts");
    // Settled, as a production table is: statistics, hint bits and the visibility map.
    db.execute_unprepared("VACUUM ANALYZE case_facts, sla_clock_facts, event_facts").await.expect("vacuum");
    started.elapsed().as_secs_f64()
}
