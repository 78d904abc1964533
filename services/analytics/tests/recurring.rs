//! Recurring-issue detection through the real GetRecurringIssues of a running analytics service
//! consuming a real case service: nine weeks of history in which one product's complaints rise
//! five-fold in the last week, while the categories and root causes stay steady. The spike is
//! found with the right figures and example cases; no steady category, root cause or product
//! is flagged; the week before the spike shows nothing; and another tenant's own spike stays
//! its own.
//!
//! History is seeded as case-created events with chosen times written into the case service's
//! log (the case service stamps the current time on everything it creates), so every case
//! still travels the real path: the sequencer numbers it, StreamEvents serves it, the consumer
//! folds it into the reporting tables.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::TryStreamExt;
use redress_analytics::domain::{WEEK_US, timestamp_us, to_timestamp};
use redress_kit::ServiceKind;
use redress_proto::analytics::v1::*;
use redress_proto::common::v1::TimeRange;
use redress_testkit::{Backend, on_both_backends};
use sea_orm::DatabaseConnection;
use support::{Reports, start_analytics, start_case, write_past_case};

on_both_backends!(a_five_fold_weekly_spike_of_one_product_is_found_and_steady_values_are_not);

/// Weeks of baseline before the week examined.
const BASELINE_WEEKS: usize = 8;
/// The spiking product's cases in each baseline week (mean 3.0).
const SPIKE_BASELINE: [usize; BASELINE_WEEKS] = [3, 4, 3, 2, 4, 3, 3, 2];
/// Steady categories: (category, its one product, its root cause, cases in each baseline week,
/// cases in the week examined). Their weeks vary as real ones do.
const STEADY: [(&str, &str, &str, [usize; BASELINE_WEEKS], usize); 3] = [
    ("billing", "SKU-A", "pricing error", [18, 22, 19, 21, 20, 23, 17, 20], 20),
    ("delivery", "SKU-B", "courier delay", [9, 11, 10, 12, 8, 10, 11, 9], 10),
    ("quality", "SKU-C", "manufacturing defect", [3, 3, 3, 3, 3, 3, 3, 3], 3),
];
/// The spiking product's cases in the week examined, by category: its usual three in
/// `quality`, and twelve more spread over the categories, so no category rises much.
const SPIKE_WEEK: [(&str, usize); 3] = [("quality", 5), ("billing", 6), ("delivery", 4)];

/// One case to seed: (category, product, root cause).
type Seed = (&'static str, &'static str, &'static str);

/// The cases of week `w` (0..8 baseline, 8 the week examined).
fn week(w: usize) -> Vec<Seed> {
    let mut cases = Vec::new();
    for (category, product, cause, baseline, current) in STEADY {
        let n = if w < BASELINE_WEEKS { baseline[w] } else { current };
        cases.extend(std::iter::repeat_n((category, product, cause), n));
    }
    if w < BASELINE_WEEKS {
        cases.extend(std::iter::repeat_n(("quality", "SKU-SPIKE", "manufacturing defect"), SPIKE_BASELINE[w]));
    } else {
        // Not yet investigated: no root cause, so the root causes stay steady too.
        for (category, n) in SPIKE_WEEK {
            cases.extend(std::iter::repeat_n((category, "SKU-SPIKE", ""), n));
        }
    }
    cases
}

/// Writes weeks 0..=8 ending at `as_of` for `tenant`, each case at its own instant.
async fn seed(case_db: &DatabaseConnection, tenant: &str, as_of: i64, weeks: &[Vec<Seed>]) {
    for (w, cases) in weeks.iter().enumerate() {
        let start = as_of - (weeks.len() - w) as i64 * WEEK_US;
        let step = WEEK_US / (cases.len() as i64 + 1);
        for (i, (category, product, cause)) in cases.iter().enumerate() {
            write_past_case(case_db, tenant, category, product, cause, start + (i as i64 + 1) * step).await;
        }
    }
}

async fn recurring(
    r: &mut Reports,
    as_of: i64,
    baseline_weeks: i32,
    dimensions: &[IssueDimension],
) -> Vec<RecurringIssue> {
    let request = GetRecurringIssuesRequest {
        parent: r.parent(),
        as_of_time: Some(to_timestamp(as_of)),
        baseline_weeks,
        dimensions: dimensions.iter().map(|d| *d as i32).collect(),
    };
    let response = r.inner.get_recurring_issues(r.req(request)).await.expect("recurring issues").into_inner();
    assert!(response.statistic.contains("Poisson"), "{}", response.statistic);
    response.issues
}

/// The names of `tenant`'s cases of `product` created in [from, to), oldest first, from the
/// export.
async fn cases_of(r: &mut Reports, product: &str, from: i64, to: i64) -> Vec<String> {
    let request = ExportCasesRequest {
        parent: r.parent(),
        time_range: Some(TimeRange { start_time: Some(to_timestamp(from)), end_time: Some(to_timestamp(to)) }),
        ..Default::default()
    };
    let stream = r.inner.export_cases(r.req(request)).await.expect("export").into_inner();
    let pages: Vec<ExportCasesResponse> = stream.try_collect().await.expect("export stream");
    let rows: Vec<CaseRow> = pages.into_iter().flat_map(|p| p.rows).collect();
    let times: Vec<i64> = rows.iter().filter_map(|r| r.create_time.as_ref().map(timestamp_us)).collect();
    assert!(times.is_sorted(), "the export is in creation order");
    rows.into_iter().filter(|r| r.product_id == product).map(|r| r.case).collect()
}

async fn a_five_fold_weekly_spike_of_one_product_is_found_and_steady_values_are_not(backend: Backend) {
    let case = start_case(backend).await;
    let analytics = start_analytics(backend, &case, "5s", 1000).await;
    let case_db = redress_kit::db::connect_url(&case.store.url, ServiceKind::Case, 2, Duration::from_secs(5))
        .await
        .expect("case db");
    // A whole second, an hour ago: the history ends before anything the case service stamps.
    let as_of = (chrono::Utc::now().timestamp() - 3600) * 1_000_000;
    let acme: Vec<Vec<Seed>> = (0..=BASELINE_WEEKS).map(week).collect();
    seed(&case_db, "acme", as_of, &acme).await;
    // Globex: a steady product, and a new one with twelve cases this week in the same category.
    let mut globex: Vec<Vec<Seed>> = vec![vec![("billing", "G-STEADY", "pricing error"); 20]; BASELINE_WEEKS];
    globex.push([vec![("billing", "G-STEADY", "pricing error"); 20], vec![("billing", "G-HOT", ""); 12]].concat());
    seed(&case_db, "globex", as_of, &globex).await;
    let _ = case_db.close().await;
    analytics.caught_up(&case).await;
    let mut r = analytics.client("acme").await;

    // Every dimension (the default): the spiking product alone.
    let issues = recurring(&mut r, as_of, 0, &[]).await;
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let spike = &issues[0];
    assert_eq!((spike.dimension(), spike.value.as_str()), (IssueDimension::Product, "SKU-SPIKE"));
    assert_eq!(spike.current_count, 15);
    assert!((spike.baseline_mean - 3.0).abs() < 1e-9, "{}", spike.baseline_mean);
    assert!((spike.rise_ratio - 5.0).abs() < 1e-9, "{}", spike.rise_ratio);
    assert!(spike.score > 6.0, "p < 1e-6 for 15 against a mean of 3: {}", spike.score);
    assert_eq!(spike.explanation, "product SKU-SPIKE: 15 cases this week against 3.0 a week before (5.0×)");

    // The examples are the five most recent of the spike's cases in the week examined.
    let this_week = cases_of(&mut r, "SKU-SPIKE", as_of - WEEK_US, as_of).await;
    assert_eq!(this_week.len(), 15);
    let mut latest: Vec<String> = this_week[this_week.len() - 5..].to_vec();
    latest.reverse();
    assert_eq!(spike.example_cases, latest);
    assert!(spike.example_cases.iter().all(|c| c.starts_with("tenants/acme/cases/")));

    // The categories and root causes moved by at most a third: nothing flagged.
    let steady = recurring(&mut r, as_of, 0, &[IssueDimension::Category, IssueDimension::RootCause]).await;
    assert!(steady.is_empty(), "{steady:#?}");
    // A shorter baseline (the last four weeks, mean 3.0 too) finds the same spike.
    let short = recurring(&mut r, as_of, 4, &[IssueDimension::Product]).await;
    assert_eq!(short.iter().map(|i| (i.value.as_str(), i.current_count)).collect::<Vec<_>>(), [("SKU-SPIKE", 15)]);
    assert!((short[0].baseline_mean - 3.0).abs() < 1e-9, "{}", short[0].baseline_mean);
    // The week before the spike is ordinary.
    let before = recurring(&mut r, as_of - WEEK_US, 0, &[]).await;
    assert!(before.is_empty(), "{before:#?}");

    // Globex sees its own new product, and nothing of acme's.
    let mut g = analytics.client("globex").await;
    let theirs = recurring(&mut g, as_of, 0, &[]).await;
    let flagged: BTreeSet<(IssueDimension, &str)> = theirs.iter().map(|i| (i.dimension(), i.value.as_str())).collect();
    assert_eq!(flagged, BTreeSet::from([(IssueDimension::Product, "G-HOT")]), "{theirs:#?}");
    assert_eq!((theirs[0].current_count, theirs[0].baseline_mean), (12, 0.0));
    assert!(theirs[0].example_cases.iter().all(|c| c.starts_with("tenants/globex/cases/")));

    analytics.stop().await;
    case.stop().await;
}
