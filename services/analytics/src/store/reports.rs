//! The typed reports: overview, volume series, SLA compliance and agent performance. Every
//! query is scoped to one tenant and a range of case creation times.

use std::collections::BTreeMap;

use redress_proto::analytics::v1::{
    AgentPerformance, ComplianceGroupBy, Dimension, GetOverviewResponse, SlaComplianceRow, VolumePoint,
};
use redress_proto::common::v1::SlaClockKind;
use sea_orm::{DatabaseBackend, Value};

use super::{Range, Store, int, text};
use crate::domain::buckets::{SLOT_US, bucket_start, zone_name};
use crate::domain::query::{Agents, Compliance, Volume};
use crate::domain::{Micros, to_duration, to_timestamp};
use crate::error::Error;

/// The CSAT scale's stored name.
const CSAT: &str = "'SURVEY_SCALE_CSAT'";

fn duration(median_us: Option<f64>) -> Option<prost_types::Duration> {
    median_us.map(|m| to_duration(m.round() as i64))
}

/// `sum / n`, or 0 when there is nothing to average.
fn ratio(sum: i64, n: i64) -> f64 {
    if n > 0 { sum as f64 / n as f64 } else { 0.0 }
}

impl Store {
    /// The overview of `tenant`: current counts, and figures over cases created in `range`.
    /// `today` is local midnight in the caller's time zone. Open cases are those the fold found
    /// open (`NOT resolved`).
    pub async fn overview(&self, tenant: &str, range: Range, today: Micros) -> Result<GetOverviewResponse, Error> {
        let in_range = "create_us >= $2 AND create_us < $3";
        let sql = format!(
            "SELECT \
             CAST(COALESCE(SUM(CASE WHEN NOT resolved THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN create_us >= $4 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN {in_range} AND sla_breached THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN unhappy AND NOT resolved THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN {in_range} AND satisfaction_scale = {CSAT} THEN satisfaction_score \
                 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN {in_range} AND satisfaction_scale = {CSAT} THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN {in_range} THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM case_facts WHERE tenant = $1"
        );
        let values = vec![tenant.into(), range.from.into(), range.to.into(), today.into()];
        let rows = self.rows(&sql, values).await?;
        let row = rows.first().ok_or_else(|| sea_orm::DbErr::Custom("overview returned no row".into()))?;
        let (csat_sum, csat_n) = (int(row, 4)?, int(row, 5)?);
        let from_where = format!("FROM case_facts WHERE tenant = $1 AND {in_range}");
        let range_values = || vec![Value::from(tenant), range.from.into(), range.to.into()];
        let ack = self.medians("ack_wall_us", None, &from_where, range_values()).await?;
        let resolve = self.medians("resolve_wall_us", None, &from_where, range_values()).await?;
        let fresh = self.rows("SELECT MAX(event_us) FROM event_facts WHERE tenant = $1", vec![tenant.into()]).await?;
        let fresh = match fresh.first() {
            Some(r) => r.try_get_by_index::<Option<i64>>(0)?,
            None => None,
        };
        Ok(GetOverviewResponse {
            open_cases: int(row, 0)?,
            new_today: int(row, 1)?,
            breached_cases: int(row, 2)?,
            unhappy_open_cases: int(row, 3)?,
            median_time_to_acknowledge: duration(ack.first().map(|m| m.1)),
            median_time_to_resolve: duration(resolve.first().map(|m| m.1)),
            csat_average: ratio(csat_sum, csat_n),
            csat_responses: csat_n,
            total_cases: int(row, 6)?,
            data_fresh_time: fresh.map(to_timestamp),
        })
    }

    /// Cases created in the range, by bucket of the unit in the zone and by the dimension.
    pub async fn volume(&self, tenant: &str, query: &Volume) -> Result<Vec<VolumePoint>, Error> {
        let Volume { range, unit, dimension, zone } = query;
        let dim = match dimension {
            Dimension::Category => "category",
            Dimension::Channel => "channel",
            Dimension::Severity => "severity",
            Dimension::Unspecified => "''",
        };
        let mut counts: BTreeMap<(Micros, String), i64> = BTreeMap::new();
        if self.backend() == DatabaseBackend::Postgres {
            let local = "(TIMESTAMPTZ 'epoch' + create_us * INTERVAL '1 microsecond') AT TIME ZONE $2";
            let sql = format!(
                "SELECT CAST(EXTRACT(EPOCH FROM (date_trunc('{}', {local}) AT TIME ZONE $2)) * 1000000 AS BIGINT), \
                 {dim}, COUNT(*) FROM case_facts WHERE tenant = $1 AND create_us >= $3 AND create_us < $4 \
                 GROUP BY 1, 2",
                unit.postgres_field()
            );
            let values = vec![tenant.into(), zone_name(zone).into(), range.from.into(), range.to.into()];
            for row in self.rows(&sql, values).await? {
                let key = (int(&row, 0)?, text(&row, 1)?);
                *counts.entry(key).or_default() += int(&row, 2)?;
            }
        } else {
            // Pre-aggregate by quarter hour, then bucket on the zone's wall clock here.
            let sql = format!(
                "SELECT create_us / {SLOT_US}, {dim}, COUNT(*) FROM case_facts \
                 WHERE tenant = $1 AND create_us >= $2 AND create_us < $3 GROUP BY 1, 2"
            );
            let values = vec![tenant.into(), range.from.into(), range.to.into()];
            for row in self.rows(&sql, values).await? {
                let key = (bucket_start(int(&row, 0)? * SLOT_US, *unit, zone), text(&row, 1)?);
                *counts.entry(key).or_default() += int(&row, 2)?;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((start, value), n)| VolumePoint {
                bucket_start_time: Some(to_timestamp(start)),
                dimension_value: value,
                case_count: n,
            })
            .collect())
    }

    /// Clocks met and breached per clock and group, over cases created in the range.
    pub async fn sla_compliance(&self, tenant: &str, query: Compliance) -> Result<Vec<SlaComplianceRow>, Error> {
        let Compliance { range, group_by } = query;
        let group = match group_by {
            ComplianceGroupBy::Agent => "c.owner",
            ComplianceGroupBy::Category => "c.category",
            ComplianceGroupBy::Team | ComplianceGroupBy::Unspecified => "c.team",
        };
        let sql = format!(
            "SELECT s.clock, {group}, \
             CAST(SUM(CASE WHEN s.met AND NOT s.breached THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN s.breached THEN 1 ELSE 0 END) AS BIGINT) \
             FROM sla_clock_facts s JOIN case_facts c ON c.tenant = s.tenant AND c.case_id = s.case_id \
             WHERE s.tenant = $1 AND c.create_us >= $2 AND c.create_us < $3 \
             GROUP BY s.clock, {group} ORDER BY s.clock, {group}"
        );
        let rows = self.rows(&sql, vec![tenant.into(), range.from.into(), range.to.into()]).await?;
        let mut out = Vec::new();
        for row in rows {
            let clock = row.try_get_by_index::<String>(0)?;
            let (met, breached) = (int(&row, 2)?, int(&row, 3)?);
            if met + breached == 0 {
                continue;
            }
            out.push(SlaComplianceRow {
                clock: SlaClockKind::from_str_name(&clock).unwrap_or(SlaClockKind::Unspecified) as i32,
                group: text(&row, 1)?,
                met,
                breached,
                compliance: met as f64 / (met + breached) as f64,
            });
        }
        out.sort_by(|a, b| (a.clock, &a.group).cmp(&(b.clock, &b.group)));
        Ok(out)
    }

    /// Per agent, over cases created in the range (and of the team when given).
    pub async fn agents(&self, tenant: &str, query: &Agents) -> Result<Vec<AgentPerformance>, Error> {
        let Agents { range, team } = query;
        let mut from_where =
            "FROM case_facts WHERE tenant = $1 AND owner <> '' AND create_us >= $2 AND create_us < $3".to_string();
        let mut values: Vec<Value> = vec![tenant.into(), range.from.into(), range.to.into()];
        if let Some(team) = team {
            from_where.push_str(" AND team = $4");
            values.push(team.as_str().into());
        }
        let sql = format!(
            "SELECT owner, MAX(team), CAST(COUNT(*) AS BIGINT), \
             CAST(SUM(CASE WHEN resolved THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN satisfaction_scale = {CSAT} THEN satisfaction_score ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN satisfaction_scale = {CSAT} THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN ever_resolved THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN ever_resolved AND reopen_count > 0 THEN 1 ELSE 0 END) AS BIGINT) \
             {from_where} GROUP BY owner"
        );
        let rows = self.rows(&sql, values.clone()).await?;
        let ack: BTreeMap<String, f64> =
            self.medians("ack_wall_us", Some("owner"), &from_where, values.clone()).await?.into_iter().collect();
        let resolve: BTreeMap<String, f64> =
            self.medians("resolve_wall_us", Some("owner"), &from_where, values).await?.into_iter().collect();
        let mut agents = Vec::with_capacity(rows.len());
        for row in rows {
            let agent = row.try_get_by_index::<String>(0)?;
            let (csat_sum, csat_n) = (int(&row, 4)?, int(&row, 5)?);
            let (ever, reopened) = (int(&row, 6)?, int(&row, 7)?);
            agents.push(AgentPerformance {
                median_time_to_acknowledge: duration(ack.get(&agent).copied()),
                median_time_to_resolve: duration(resolve.get(&agent).copied()),
                team: text(&row, 1)?,
                cases_owned: int(&row, 2)?,
                cases_resolved: int(&row, 3)?,
                csat_average: ratio(csat_sum, csat_n),
                reopen_rate: ratio(reopened, ever),
                agent,
            });
        }
        agents.sort_by(|a, b| b.cases_owned.cmp(&a.cases_owned).then_with(|| a.agent.cmp(&b.agent)));
        Ok(agents)
    }
}
