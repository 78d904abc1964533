//! The gRPC layer of `redress.analytics.v1.AnalyticsService`: decode, validate, ask the store,
//! map errors. Every call is scoped to the caller's tenant.

mod validate;

use std::pin::Pin;

use futures::Stream;
use redress_kit::caller::caller;
use redress_kit::error::Violations;
use redress_kit::validate::enum_value;
use redress_proto::analytics::v1::analytics_service_server::AnalyticsService;
use redress_proto::analytics::v1::*;
use redress_proto::case::v1::CaseStatus;
use redress_proto::common::v1::Severity;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

use crate::domain::buckets::{Unit, bucket_start};
use crate::domain::recurring::STATISTIC;
use crate::domain::{Micros, chrono_us};
use crate::error::Error;
use crate::store::Store;
use crate::store::export::ExportFilter;

/// Rows per ExportCases message.
const EXPORT_BATCH: u64 = 500;

/// Implements `redress.analytics.v1.AnalyticsService` over the reporting store.
pub struct AnalyticsApi {
    store: Store,
}

impl AnalyticsApi {
    /// The API over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn now() -> Micros {
    chrono_us(chrono::Utc::now())
}

fn check(v: Violations) -> Result<(), Status> {
    v.finish().map_err(Status::from)
}

fn db(e: sea_orm::DbErr) -> Status {
    Error::from(e).into()
}

/// The stream ExportCases answers with.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<ExportCasesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    async fn get_overview(
        &self,
        request: Request<GetOverviewRequest>,
    ) -> Result<Response<GetOverviewResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        validate::parent(&caller, &req.parent)?;
        let now = now();
        let mut v = Violations::new();
        let range = validate::range(&mut v, "time_range", req.time_range.as_ref(), false, now);
        let tz = validate::time_zone(&mut v, "time_zone", &req.time_zone);
        check(v)?;
        let today = bucket_start(now, Unit::Day, tz);
        let overview = self.store.overview(caller.tenant.as_str(), range, today).await.map_err(db)?;
        Ok(Response::new(overview))
    }

    async fn get_volume_series(
        &self,
        request: Request<GetVolumeSeriesRequest>,
    ) -> Result<Response<GetVolumeSeriesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        validate::parent(&caller, &req.parent)?;
        let mut v = Violations::new();
        let range = validate::range(&mut v, "time_range", req.time_range.as_ref(), true, now());
        let tz = validate::time_zone(&mut v, "time_zone", &req.time_zone);
        let granularity = enum_value::<Granularity>(&mut v, "granularity", req.granularity, true);
        let dimension = enum_value::<Dimension>(&mut v, "dimension", req.dimension, true);
        check(v)?;
        let unit = match granularity.unwrap_or(Granularity::Unspecified) {
            Granularity::Week => Unit::Week,
            Granularity::Month => Unit::Month,
            Granularity::Day | Granularity::Unspecified => Unit::Day,
        };
        let dimension = dimension.unwrap_or(Dimension::Unspecified);
        let points = self.store.volume(caller.tenant.as_str(), range, unit, dimension, tz).await.map_err(db)?;
        Ok(Response::new(GetVolumeSeriesResponse { points }))
    }

    async fn get_sla_compliance(
        &self,
        request: Request<GetSlaComplianceRequest>,
    ) -> Result<Response<GetSlaComplianceResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        validate::parent(&caller, &req.parent)?;
        let mut v = Violations::new();
        let range = validate::range(&mut v, "time_range", req.time_range.as_ref(), false, now());
        let group_by = enum_value::<ComplianceGroupBy>(&mut v, "group_by", req.group_by, true);
        check(v)?;
        let group_by = group_by.unwrap_or(ComplianceGroupBy::Unspecified);
        let rows = self.store.sla_compliance(caller.tenant.as_str(), range, group_by).await.map_err(db)?;
        Ok(Response::new(GetSlaComplianceResponse { rows }))
    }

    async fn get_agent_performance(
        &self,
        request: Request<GetAgentPerformanceRequest>,
    ) -> Result<Response<GetAgentPerformanceResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        validate::parent(&caller, &req.parent)?;
        let mut v = Violations::new();
        let range = validate::range(&mut v, "time_range", req.time_range.as_ref(), false, now());
        validate::filter(&mut v, "team", &req.team);
        check(v)?;
        let team = (!req.team.is_empty()).then_some(req.team.as_str());
        let agents = self.store.agents(caller.tenant.as_str(), range, team).await.map_err(db)?;
        Ok(Response::new(GetAgentPerformanceResponse { agents }))
    }

    async fn get_recurring_issues(
        &self,
        request: Request<GetRecurringIssuesRequest>,
    ) -> Result<Response<GetRecurringIssuesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        validate::parent(&caller, &req.parent)?;
        let mut v = Violations::new();
        let as_of = match &req.as_of_time {
            Some(t) => validate::timestamp(&mut v, "as_of_time", t).unwrap_or_default(),
            None => now(),
        };
        let baseline_weeks = match req.baseline_weeks {
            0 => 8,
            w @ 2..=52 => w as u32,
            _ => {
                v.add("baseline_weeks", "must be from 2 to 52 (or unset for 8)");
                8
            }
        };
        let mut dimensions = Vec::new();
        for (i, d) in req.dimensions.iter().enumerate() {
            if let Some(d) = enum_value::<IssueDimension>(&mut v, &format!("dimensions[{i}]"), *d, false)
                && !dimensions.contains(&d)
            {
                dimensions.push(d);
            }
        }
        check(v)?;
        if dimensions.is_empty() {
            dimensions = vec![IssueDimension::Category, IssueDimension::Product, IssueDimension::RootCause];
        }
        let issues = self
            .store
            .recurring_issues(caller.tenant.as_str(), as_of, baseline_weeks, &dimensions)
            .await
            .map_err(db)?;
        Ok(Response::new(GetRecurringIssuesResponse { issues, statistic: STATISTIC.to_string() }))
    }

    async fn export_cases(&self, request: Request<ExportCasesRequest>) -> Result<Response<ExportStream>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        validate::parent(&caller, &req.parent)?;
        let mut v = Violations::new();
        let range = validate::range(&mut v, "time_range", req.time_range.as_ref(), false, now());
        let mut filter = ExportFilter { range: Some(range), ..ExportFilter::default() };
        for (i, s) in req.statuses.iter().enumerate() {
            if let Some(s) = enum_value::<CaseStatus>(&mut v, &format!("statuses[{i}]"), *s, false) {
                filter.statuses.push(s.as_str_name().to_string());
            }
        }
        for (i, s) in req.severities.iter().enumerate() {
            if let Some(s) = enum_value::<Severity>(&mut v, &format!("severities[{i}]"), *s, false) {
                filter.severities.push(s.as_str_name().to_string());
            }
        }
        validate::filter(&mut v, "category", &req.category);
        validate::filter(&mut v, "team", &req.team);
        check(v)?;
        filter.category = req.category;
        filter.team = req.team;
        let (tx, rx) = mpsc::channel(2);
        let store = self.store.clone();
        let tenant = caller.tenant.as_str().to_string();
        tokio::spawn(async move {
            let mut after = None;
            loop {
                let page = match store.export_page(&tenant, &filter, after.as_ref(), EXPORT_BATCH).await {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = tx.send(Err(db(e))).await;
                        return;
                    }
                };
                let full = page.len() as u64 == EXPORT_BATCH;
                after = page.last().map(|(cursor, _)| cursor.clone());
                let rows: Vec<CaseRow> = page.into_iter().map(|(_, row)| row).collect();
                if !rows.is_empty() && tx.send(Ok(ExportCasesResponse { rows })).await.is_err() {
                    return;
                }
                if !full {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}
