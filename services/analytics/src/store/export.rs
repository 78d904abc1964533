//! One row per case for ExportCases, read in pages by (creation time, case id).

use redress_proto::analytics::v1::CaseRow;
use redress_proto::case::v1::{CaseStatus, Satisfaction, SurveyScale};
use redress_proto::common::v1::{Channel, Money, Severity};
use sea_orm::{QueryResult, Value};

use super::{Range, Store, text};
pub use crate::domain::query::ExportFilter;
use crate::domain::{Micros, to_duration, to_timestamp};
use crate::error::Error;

/// Where a page ends: the last row's creation time and case id.
pub type Cursor = (Micros, String);

const COLUMNS: &str = "case_id, reference, status, channel, category, severity, unhappy, owner, team, product_id, \
    create_us, ack_wall_us, ack_business_us, resolve_wall_us, resolve_business_us, first_response_breached, \
    next_update_breached, resolution_breached, highest_escalation_level, offer_count, accepted_amount_minor, \
    accepted_currency, satisfaction_scale, satisfaction_score, reopen_count, root_cause";

impl Store {
    /// Up to `limit` rows after `after`, oldest case first.
    pub async fn export_page(
        &self,
        tenant: &str,
        filter: &ExportFilter,
        after: Option<&Cursor>,
        limit: u64,
    ) -> Result<Vec<(Cursor, CaseRow)>, Error> {
        let range = filter.range.unwrap_or(Range::ALL);
        let mut values: Vec<Value> = vec![tenant.into(), range.from.into(), range.to.into()];
        let mut sql =
            format!("SELECT {COLUMNS} FROM case_facts WHERE tenant = $1 AND create_us >= $2 AND create_us < $3");
        let list = |sql: &mut String, column: &str, items: &[String], values: &mut Vec<Value>| {
            if items.is_empty() {
                return;
            }
            let marks: Vec<String> = items
                .iter()
                .map(|item| {
                    values.push(item.as_str().into());
                    format!("${}", values.len())
                })
                .collect();
            sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
        };
        list(&mut sql, "status", &filter.statuses, &mut values);
        list(&mut sql, "severity", &filter.severities, &mut values);
        for (column, value) in [("category", &filter.category), ("team", &filter.team)] {
            if !value.is_empty() {
                values.push(value.as_str().into());
                sql.push_str(&format!(" AND {column} = ${}", values.len()));
            }
        }
        if let Some((create, id)) = after {
            values.push((*create).into());
            let c = values.len();
            values.push(id.as_str().into());
            sql.push_str(&format!(" AND (create_us > ${c} OR (create_us = ${c} AND case_id > ${}))", c + 1));
        }
        sql.push_str(&format!(" ORDER BY create_us, case_id LIMIT {limit}"));
        let rows = self.rows(&sql, values).await?;
        rows.iter().map(|r| row(tenant, r)).collect()
    }
}

fn row(tenant: &str, r: &QueryResult) -> Result<(Cursor, CaseRow), Error> {
    let s = |i: usize| text(r, i);
    let i = |i: usize| r.try_get_by_index::<Option<i64>>(i);
    let b = |i: usize| r.try_get_by_index::<bool>(i);
    let small = |i: usize| r.try_get_by_index::<Option<i32>>(i);
    let id = s(0)?;
    let create_us = i(10)?.unwrap_or_default();
    let accepted_amount = match (i(20)?, r.try_get_by_index::<Option<String>>(21)?) {
        (Some(amount_minor), Some(currency_code)) => Some(Money { amount_minor, currency_code }),
        _ => None,
    };
    let satisfaction = match (r.try_get_by_index::<Option<String>>(22)?, small(23)?) {
        (Some(scale), Some(score)) => Some(Satisfaction {
            scale: SurveyScale::from_str_name(&scale).unwrap_or(SurveyScale::Unspecified) as i32,
            score,
            ..Default::default()
        }),
        _ => None,
    };
    let row = CaseRow {
        case: format!("tenants/{tenant}/cases/{id}"),
        reference: s(1)?,
        status: CaseStatus::from_str_name(&s(2)?).unwrap_or(CaseStatus::Unspecified) as i32,
        channel: Channel::from_str_name(&s(3)?).unwrap_or(Channel::Unspecified) as i32,
        category: s(4)?,
        severity: Severity::from_str_name(&s(5)?).unwrap_or(Severity::Unspecified) as i32,
        unhappy: b(6)?,
        owner: s(7)?,
        team: s(8)?,
        product_id: s(9)?,
        create_time: Some(to_timestamp(create_us)),
        time_to_acknowledge: i(11)?.map(to_duration),
        business_time_to_acknowledge: i(12)?.map(to_duration),
        time_to_resolve: i(13)?.map(to_duration),
        business_time_to_resolve: i(14)?.map(to_duration),
        first_response_breached: b(15)?,
        next_update_breached: b(16)?,
        resolution_breached: b(17)?,
        highest_escalation_level: small(18)?.unwrap_or_default(),
        offer_count: small(19)?.unwrap_or_default(),
        accepted_amount,
        satisfaction,
        reopen_count: small(24)?.unwrap_or_default(),
        root_cause_category: s(25)?,
    };
    Ok(((create_us, id), row))
}
