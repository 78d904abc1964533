//! GetRecurringIssues: the values of each dimension whose week rose significantly against their
//! own baseline, with example cases.

use redress_proto::analytics::v1::{GetRecurringIssuesResponse, RecurringIssue};

use crate::domain::WEEK_US;
use crate::domain::query::{Recurring, Scoped};
use crate::domain::recurring::{STATISTIC, detect, explain, label};
use crate::error::Error;
use crate::store::Store;
use crate::store::recurring::column;

/// The findings of every dimension asked for, highest score first.
pub async fn recurring_issues(store: &Store, call: Scoped<Recurring>) -> Result<GetRecurringIssuesResponse, Error> {
    let Recurring { as_of, baseline_weeks, dimensions } = call.query;
    let tenant = call.tenant.as_str();
    let mut issues = Vec::new();
    for dimension in dimensions {
        let Some(column) = column(dimension) else { continue };
        let series = store.weekly_series(tenant, column, as_of, baseline_weeks).await?;
        for finding in detect(&series) {
            let example_cases = store.examples(tenant, column, &finding.value, as_of - WEEK_US, as_of).await?;
            issues.push(RecurringIssue {
                dimension: dimension as i32,
                explanation: explain(label(dimension), &finding),
                value: finding.value,
                current_count: i64::try_from(finding.current).unwrap_or(i64::MAX),
                baseline_mean: finding.baseline_mean,
                rise_ratio: finding.ratio,
                score: finding.score,
                example_cases,
            });
        }
    }
    issues.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.value.cmp(&b.value)));
    Ok(GetRecurringIssuesResponse { issues, statistic: STATISTIC.to_string() })
}
