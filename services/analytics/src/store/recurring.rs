//! The weekly counts recurring-issue detection examines, and example cases of a finding.

use std::collections::BTreeMap;

use redress_proto::analytics::v1::IssueDimension;

use super::Store;
use crate::domain::recurring::Series;
use crate::domain::{Micros, WEEK_US};
use crate::error::Error;

/// The column a dimension groups by.
pub fn column(dimension: IssueDimension) -> Option<&'static str> {
    match dimension {
        IssueDimension::Category => Some("category"),
        IssueDimension::Product => Some("product_id"),
        IssueDimension::RootCause => Some("root_cause"),
        IssueDimension::Unspecified => None,
    }
}

impl Store {
    /// Weekly case counts of every value of `column` over the `baseline_weeks` weeks before the
    /// week ending at `as_of`, and in that week. Weeks are the 7-day windows ending at `as_of`,
    /// by case creation time. Values with no case in the week examined are left out.
    pub async fn weekly_series(
        &self,
        tenant: &str,
        column: &str,
        as_of: Micros,
        baseline_weeks: u32,
    ) -> Result<Vec<Series>, Error> {
        let weeks = i64::from(baseline_weeks);
        let start = as_of - (weeks + 1) * WEEK_US;
        let sql = format!(
            "SELECT {column}, (create_us - $2) / {WEEK_US}, CAST(COUNT(*) AS BIGINT) FROM case_facts \
             WHERE tenant = $1 AND create_us >= $2 AND create_us < $3 AND {column} <> '' GROUP BY 1, 2"
        );
        let rows = self.rows(&sql, vec![tenant.into(), start.into(), as_of.into()]).await?;
        let mut by_value: BTreeMap<String, Series> = BTreeMap::new();
        for row in rows {
            let value = row.try_get_by_index::<String>(0)?;
            let week = row.try_get_by_index::<i64>(1)?;
            let count = u64::try_from(row.try_get_by_index::<i64>(2)?).unwrap_or_default();
            let series = by_value.entry(value.clone()).or_insert_with(|| Series {
                value,
                baseline: vec![0; baseline_weeks as usize],
                current: 0,
            });
            match usize::try_from(week) {
                Ok(w) if w < baseline_weeks as usize => series.baseline[w] += count,
                Ok(_) => series.current += count,
                Err(_) => {}
            }
        }
        Ok(by_value.into_values().filter(|s| s.current > 0).collect())
    }

    /// Up to five of the most recent cases with `column = value` created in [from, to).
    pub async fn examples(
        &self,
        tenant: &str,
        column: &str,
        value: &str,
        from: Micros,
        to: Micros,
    ) -> Result<Vec<String>, Error> {
        let sql = format!(
            "SELECT case_id FROM case_facts WHERE tenant = $1 AND {column} = $2 AND create_us >= $3 \
             AND create_us < $4 ORDER BY create_us DESC, case_id LIMIT 5"
        );
        let rows = self.rows(&sql, vec![tenant.into(), value.into(), from.into(), to.into()]).await?;
        rows.iter().map(|r| Ok(format!("tenants/{tenant}/cases/{}", r.try_get_by_index::<String>(0)?))).collect()
    }
}
