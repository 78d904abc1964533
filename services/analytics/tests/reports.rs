//! The reports against a real case service: a scenario of cases through their life in two
//! tenants is folded from the event stream; every report shows the right figures for its
//! tenant and nothing of the other; bad requests name their field; and rebuilding the
//! reporting schema from event 0 gives identical report results.

mod support;

use std::time::Duration;

use futures::TryStreamExt;
use redress_analytics::domain::buckets::{Unit, bucket_start, zone};
use redress_analytics::domain::{duration_us, timestamp_us};
use redress_proto::analytics::v1::*;
use redress_proto::case::v1::{CaseStatus, CreateCaseRequest};
use redress_proto::common::v1::{Channel, Severity, SlaClockKind};
use redress_testkit::{Backend, Server, on_both_backends};
use support::{Reports, cases, complaint, start_analytics, start_case};
use tonic::Code;

on_both_backends!(reports_follow_the_case_log_per_tenant_and_survive_a_rebuild);

/// Asserts INVALID_ARGUMENT with a violation on `field`.
fn assert_invalid(status: &tonic::Status, field: &str) {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default();
    assert!(fields.iter().any(|f| f == field), "expected {field}, got {fields:?}");
}

/// Opens five cases for acme and two for globex and moves them through their lives.
async fn scenario(case: &Server) {
    let mut one = cases(case, "acme", "agent-1", "agent").await;
    let mut two = cases(case, "acme", "agent-2", "agent").await;
    let mut system = cases(case, "acme", "system:escalation", "system").await;

    let c1 = one.open("billing", Channel::Email, Severity::High, "SKU-1").await.name;
    one.take(&c1, "north").await.expect("take c1");
    system.clock(&c1, SlaClockKind::FirstResponse, 20, true, false).await;
    one.resolve_with_refund(&c1, 2500).await.expect("resolve c1");
    one.rate(&c1, 4).await.expect("rate c1");
    one.close(&c1, "billing system error").await.expect("close c1");

    let c2 = one.open("billing", Channel::Phone, Severity::Medium, "SKU-1").await.name;
    one.take(&c2, "north").await.expect("take c2");
    system.clock(&c2, SlaClockKind::FirstResponse, 30, true, false).await;
    one.resolve_with_fix(&c2).await.expect("resolve c2");
    one.rate(&c2, 2).await.expect("rate c2");
    one.reopen(&c2).await.expect("reopen c2");

    let c3 = two.open("delivery", Channel::Web, Severity::Low, "SKU-2").await.name;
    two.take(&c3, "south").await.expect("take c3");
    system.clock(&c3, SlaClockKind::FirstResponse, 90, true, true).await;
    system.escalate(&c3, 2).await;

    let mut unhappy = complaint("delivery", Channel::Email, Severity::Critical, "SKU-2");
    unhappy.unhappy = true;
    unhappy.unhappy_reason = "one-star review".into();
    let req = one.req(CreateCaseRequest {
        parent: "tenants/acme".into(),
        case: Some(unhappy),
        request_id: uuid::Uuid::now_v7().to_string(),
    });
    one.inner.create_case(req).await.expect("create c4");
    one.open("quality", Channel::Chat, Severity::Medium, "SKU-3").await;

    let mut nine = cases(case, "globex", "agent-9", "agent").await;
    let g1 = nine.open("billing", Channel::Email, Severity::Medium, "G-1").await.name;
    nine.take(&g1, "east").await.expect("take g1");
    nine.open("billing", Channel::Email, Severity::Medium, "G-1").await;
}

/// Every report of a tenant, for comparing before and after a rebuild.
#[derive(Debug, PartialEq)]
struct Snapshot {
    overview: GetOverviewResponse,
    volumes: Vec<GetVolumeSeriesResponse>,
    compliance: Vec<GetSlaComplianceResponse>,
    agents: GetAgentPerformanceResponse,
    recurring: GetRecurringIssuesResponse,
    export: Vec<CaseRow>,
}

fn range(from_us: i64, to_us: i64) -> redress_proto::common::v1::TimeRange {
    redress_proto::common::v1::TimeRange {
        start_time: Some(redress_analytics::domain::to_timestamp(from_us)),
        end_time: Some(redress_analytics::domain::to_timestamp(to_us)),
    }
}

async fn export(r: &mut Reports, request: ExportCasesRequest) -> Vec<CaseRow> {
    let stream = r.inner.export_cases(r.req(request)).await.expect("export").into_inner();
    let batches: Vec<ExportCasesResponse> = stream.try_collect().await.expect("export stream");
    batches.into_iter().flat_map(|b| b.rows).collect()
}

async fn snapshot(r: &mut Reports, now_us: i64) -> Snapshot {
    let parent = r.parent();
    let day = 24 * 3600 * 1_000_000;
    let overview = GetOverviewRequest { parent: parent.clone(), time_zone: "UTC".into(), ..Default::default() };
    let overview = r.inner.get_overview(r.req(overview)).await.expect("overview").into_inner();
    let mut volumes = Vec::new();
    for (granularity, dimension) in [
        (Granularity::Day, Dimension::Category),
        (Granularity::Week, Dimension::Channel),
        (Granularity::Month, Dimension::Severity),
    ] {
        let req = GetVolumeSeriesRequest {
            parent: parent.clone(),
            time_range: Some(range(now_us - 40 * day, now_us + day)),
            granularity: granularity as i32,
            dimension: dimension as i32,
            time_zone: "Europe/Paris".into(),
        };
        volumes.push(r.inner.get_volume_series(r.req(req)).await.expect("volume").into_inner());
    }
    let mut compliance = Vec::new();
    for group_by in [ComplianceGroupBy::Team, ComplianceGroupBy::Agent, ComplianceGroupBy::Category] {
        let req = GetSlaComplianceRequest { parent: parent.clone(), group_by: group_by as i32, ..Default::default() };
        compliance.push(r.inner.get_sla_compliance(r.req(req)).await.expect("compliance").into_inner());
    }
    let agents = GetAgentPerformanceRequest { parent: parent.clone(), ..Default::default() };
    let agents = r.inner.get_agent_performance(r.req(agents)).await.expect("agents").into_inner();
    let recurring = GetRecurringIssuesRequest {
        parent: parent.clone(),
        as_of_time: Some(redress_analytics::domain::to_timestamp(now_us + day)),
        ..Default::default()
    };
    let recurring = r.inner.get_recurring_issues(r.req(recurring)).await.expect("recurring").into_inner();
    let export = export(r, ExportCasesRequest { parent, ..Default::default() }).await;
    Snapshot { overview, volumes, compliance, agents, recurring, export }
}

fn counts(points: &[VolumePoint]) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = points.iter().map(|p| (p.dimension_value.clone(), p.case_count)).collect();
    out.sort();
    out
}

async fn reports_follow_the_case_log_per_tenant_and_survive_a_rebuild(backend: Backend) {
    let case = start_case(backend).await;
    let analytics = start_analytics(backend, &case, "5s", 1000).await;
    scenario(&case).await;
    analytics.caught_up(&case).await;
    let now_us = chrono::Utc::now().timestamp_micros();
    let mut acme = analytics.client("acme").await;
    let mut globex = analytics.client("globex").await;
    let before = snapshot(&mut acme, now_us).await;

    // The overview.
    let o = &before.overview;
    assert_eq!((o.total_cases, o.open_cases, o.new_today), (5, 4, 5), "{o:?}");
    assert_eq!((o.breached_cases, o.unhappy_open_cases), (1, 1));
    assert_eq!((o.csat_average, o.csat_responses), (3.0, 2));
    assert!(o.median_time_to_acknowledge.is_some() && o.median_time_to_resolve.is_some());
    assert!(o.data_fresh_time.as_ref().map(timestamp_us).unwrap_or_default() <= now_us);

    // Volume by day in Paris, week by channel, month by severity: one bucket each, starting at
    // the local day, ISO week and month.
    let paris = zone("Europe/Paris").expect("zone");
    for (series, unit) in before.volumes.iter().zip([Unit::Day, Unit::Week, Unit::Month]) {
        let start = bucket_start(now_us, unit, &paris);
        for p in &series.points {
            assert_eq!(p.bucket_start_time.as_ref().map(timestamp_us), Some(start), "{unit:?}");
        }
    }
    let expected = [("billing", 2), ("delivery", 2), ("quality", 1)];
    assert_eq!(counts(&before.volumes[0].points), expected.map(|(v, n)| (v.to_string(), n)));
    let channels = counts(&before.volumes[1].points);
    assert!(channels.contains(&("CHANNEL_EMAIL".into(), 2)) && channels.contains(&("CHANNEL_CHAT".into(), 1)));
    assert_eq!(before.volumes[2].points.iter().map(|p| p.case_count).sum::<i64>(), 5);

    // SLA compliance by team, agent and category.
    let first = SlaClockKind::FirstResponse as i32;
    let rows = |r: &GetSlaComplianceResponse| -> Vec<(i32, String, i64, i64)> {
        r.rows.iter().map(|x| (x.clock, x.group.clone(), x.met, x.breached)).collect()
    };
    assert_eq!(rows(&before.compliance[0]), [(first, "north".into(), 2, 0), (first, "south".into(), 0, 1)]);
    assert_eq!(rows(&before.compliance[1]), [(first, "agent-1".into(), 2, 0), (first, "agent-2".into(), 0, 1)]);
    assert_eq!(rows(&before.compliance[2]), [(first, "billing".into(), 2, 0), (first, "delivery".into(), 0, 1)]);
    assert_eq!(before.compliance[0].rows[0].compliance, 1.0);

    // Agent performance.
    let agents = &before.agents.agents;
    assert_eq!(agents.iter().map(|a| a.agent.as_str()).collect::<Vec<_>>(), ["agent-1", "agent-2"]);
    let a1 = &agents[0];
    assert_eq!((a1.team.as_str(), a1.cases_owned, a1.cases_resolved), ("north", 2, 1));
    assert_eq!((a1.csat_average, a1.reopen_rate), (3.0, 0.5));
    assert!(a1.median_time_to_acknowledge.is_some() && a1.median_time_to_resolve.is_some());
    assert_eq!((agents[1].cases_owned, agents[1].cases_resolved, agents[1].reopen_rate), (1, 0, 0.0));

    // The export, whole and filtered.
    assert_eq!(before.export.len(), 5);
    let c1 = &before.export[0];
    assert_eq!((c1.status(), c1.category.as_str(), c1.team.as_str()), (CaseStatus::Closed, "billing", "north"));
    assert_eq!(c1.accepted_amount.as_ref().map(|m| (m.amount_minor, m.currency_code.as_str())), Some((2500, "EUR")));
    assert_eq!(c1.satisfaction.as_ref().map(|s| s.score), Some(4));
    assert_eq!(c1.root_cause_category, "billing system error");
    assert_eq!(c1.business_time_to_acknowledge.as_ref().map(duration_us), Some(20 * 60_000_000));
    assert!(c1.time_to_resolve.is_some() && c1.business_time_to_resolve.is_none(), "no RESOLUTION clock was met");
    assert_eq!((c1.offer_count, c1.highest_escalation_level), (1, 0));
    let c2 = &before.export[1];
    assert_eq!((c2.status(), c2.reopen_count), (CaseStatus::Reopened, 1));
    assert!(c2.time_to_resolve.is_none(), "a reopened case is not resolved");
    let c3 = &before.export[2];
    assert_eq!((c3.highest_escalation_level, c3.first_response_breached), (2, true));
    let filtered = |f: ExportCasesRequest| ExportCasesRequest { parent: "tenants/acme".into(), ..f };
    let new = export(
        &mut acme,
        filtered(ExportCasesRequest { statuses: vec![CaseStatus::New as i32], ..Default::default() }),
    )
    .await;
    assert_eq!(new.len(), 2);
    let high =
        ExportCasesRequest { severities: vec![Severity::High as i32, Severity::Critical as i32], ..Default::default() };
    assert_eq!(export(&mut acme, filtered(high)).await.len(), 2);
    let north = ExportCasesRequest { team: "north".into(), category: "billing".into(), ..Default::default() };
    assert_eq!(export(&mut acme, filtered(north)).await.len(), 2);
    let none = ExportCasesRequest { time_range: Some(range(0, 1_000_000)), ..Default::default() };
    assert!(export(&mut acme, filtered(none)).await.is_empty());

    // The other tenant sees only its own, and cannot ask for acme's.
    let g = snapshot(&mut globex, now_us).await;
    assert_eq!((g.overview.total_cases, g.export.len()), (2, 2));
    assert!(g.export.iter().all(|r| r.case.starts_with("tenants/globex/")));
    assert_eq!(counts(&g.volumes[0].points), [("billing".to_string(), 2)]);
    assert!(g.compliance.iter().all(|c| c.rows.is_empty()));
    assert_eq!(g.agents.agents.iter().map(|a| a.agent.as_str()).collect::<Vec<_>>(), ["agent-9"]);
    assert!(g.recurring.issues.is_empty());
    let theirs = "tenants/acme".to_string();
    let req = globex.req(GetOverviewRequest { parent: theirs.clone(), ..Default::default() });
    assert_eq!(globex.inner.get_overview(req).await.unwrap_err().code(), Code::PermissionDenied);
    let req = globex.req(GetAgentPerformanceRequest { parent: theirs.clone(), ..Default::default() });
    assert_eq!(globex.inner.get_agent_performance(req).await.unwrap_err().code(), Code::PermissionDenied);
    let req = globex.req(GetSlaComplianceRequest { parent: theirs.clone(), ..Default::default() });
    assert_eq!(globex.inner.get_sla_compliance(req).await.unwrap_err().code(), Code::PermissionDenied);
    let req = globex.req(GetRecurringIssuesRequest { parent: theirs.clone(), ..Default::default() });
    assert_eq!(globex.inner.get_recurring_issues(req).await.unwrap_err().code(), Code::PermissionDenied);
    let req = globex.req(ExportCasesRequest { parent: theirs.clone(), ..Default::default() });
    assert_eq!(globex.inner.export_cases(req).await.unwrap_err().code(), Code::PermissionDenied);
    let req =
        globex.req(GetVolumeSeriesRequest { parent: theirs, time_range: Some(range(0, now_us)), ..Default::default() });
    assert_eq!(globex.inner.get_volume_series(req).await.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = tonic::Request::new(GetOverviewRequest { parent: "tenants/acme".into(), ..Default::default() });
    assert_eq!(acme.inner.get_overview(anonymous).await.unwrap_err().code(), Code::Unauthenticated);

    // Bad requests name their field.
    let req = acme.req(GetVolumeSeriesRequest { parent: acme.parent(), ..Default::default() });
    assert_invalid(&acme.inner.get_volume_series(req).await.unwrap_err(), "time_range.start_time");
    let req =
        acme.req(GetOverviewRequest { parent: acme.parent(), time_zone: "Mars/Base".into(), ..Default::default() });
    assert_invalid(&acme.inner.get_overview(req).await.unwrap_err(), "time_zone");
    let req = acme.req(GetRecurringIssuesRequest { parent: acme.parent(), baseline_weeks: 1, ..Default::default() });
    assert_invalid(&acme.inner.get_recurring_issues(req).await.unwrap_err(), "baseline_weeks");
    let req = acme.req(ExportCasesRequest { parent: acme.parent(), statuses: vec![99], ..Default::default() });
    assert_invalid(&acme.inner.export_cases(req).await.unwrap_err(), "statuses[0]");
    let req = acme.req(GetSlaComplianceRequest { parent: acme.parent(), group_by: 42, ..Default::default() });
    assert_invalid(&acme.inner.get_sla_compliance(req).await.unwrap_err(), "group_by");

    // Rebuild from event 0: the tables empty, the log replays, and every report is the same.
    let rebuilt_at = chrono::Utc::now().timestamp_micros();
    let store = redress_analytics::store::Store::new(analytics.db.clone());
    redress_analytics::app::rebuild::rebuild(&store, redress_analytics::LEASE).await.expect("rebuild");
    assert_eq!(analytics.cursor().await, 0);
    let empty = acme.req(GetOverviewRequest { parent: acme.parent(), ..Default::default() });
    assert_eq!(acme.inner.get_overview(empty).await.expect("overview").into_inner().total_cases, 0);
    analytics.caught_up(&case).await;
    assert_eq!(snapshot(&mut acme, now_us).await, before, "acme's reports after the rebuild");
    assert_eq!(snapshot(&mut globex, now_us).await, g, "globex's reports after the rebuild");
    let sql = "SELECT MIN(ingest_us) FROM event_facts";
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &analytics.db,
        sea_orm::Statement::from_string(sea_orm::ConnectionTrait::get_database_backend(&analytics.db), sql),
    )
    .await
    .expect("min")
    .expect("row");
    assert!(row.try_get_by_index::<i64>(0).expect("min") >= rebuilt_at, "every event was folded again");

    tokio::time::sleep(Duration::from_millis(10)).await;
    analytics.stop().await;
    case.stop().await;
}
