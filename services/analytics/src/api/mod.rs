//! The gRPC layer of `redress.analytics.v1.AnalyticsService`: decode, validate, call one use
//! case in [`crate::app`], map the answer. Every call is scoped to the caller's tenant.

mod validate;

use std::pin::Pin;

use futures::{Stream, StreamExt};
use redress_kit::caller::caller;
use redress_kit::error::Violations;
use redress_proto::analytics::v1::analytics_service_server::AnalyticsService;
use redress_proto::analytics::v1::*;
use tonic::{Request, Response, Status};

use self::validate::Parented;
use crate::app::{self, export, recurring, reports};
use crate::domain::Micros;
use crate::domain::query::Scoped;
use crate::error::Error;
use crate::store::Store;

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

/// The stream ExportCases answers with.
pub type ExportStream = Pin<Box<dyn Stream<Item = Result<ExportCasesResponse, Status>> + Send>>;

/// What a handler answers.
type Reply<T> = Result<Response<T>, Status>;

/// The request turned into its use case's query by `check` (every field violation reported
/// together), scoped to the caller's tenant, which the request's `parent` must name.
fn decode<T: Parented, Q>(
    request: Request<T>,
    check: fn(T, &mut Violations, Micros) -> Q,
) -> Result<Scoped<Q>, Status> {
    let caller = caller(&request)?;
    let req = request.into_inner();
    validate::parent(&caller, req.parent())?;
    let mut v = Violations::new();
    let query = check(req, &mut v, app::now());
    v.finish()?;
    Ok(Scoped { tenant: caller.tenant, query })
}

/// The use case's answer as a reply.
fn reply<T>(answer: Result<T, Error>) -> Reply<T> {
    Ok(Response::new(answer?))
}

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    async fn get_overview(&self, request: Request<GetOverviewRequest>) -> Reply<GetOverviewResponse> {
        reply(reports::overview(&self.store, decode(request, validate::overview)?).await)
    }

    async fn get_volume_series(&self, request: Request<GetVolumeSeriesRequest>) -> Reply<GetVolumeSeriesResponse> {
        reply(reports::volume(&self.store, decode(request, validate::volume)?).await)
    }

    async fn get_sla_compliance(&self, request: Request<GetSlaComplianceRequest>) -> Reply<GetSlaComplianceResponse> {
        reply(reports::sla_compliance(&self.store, decode(request, validate::compliance)?).await)
    }

    async fn get_agent_performance(
        &self,
        request: Request<GetAgentPerformanceRequest>,
    ) -> Reply<GetAgentPerformanceResponse> {
        reply(reports::agents(&self.store, decode(request, validate::agents)?).await)
    }

    async fn get_recurring_issues(
        &self,
        request: Request<GetRecurringIssuesRequest>,
    ) -> Reply<GetRecurringIssuesResponse> {
        reply(recurring::recurring_issues(&self.store, decode(request, validate::recurring)?).await)
    }

    async fn export_cases(&self, request: Request<ExportCasesRequest>) -> Reply<ExportStream> {
        let rows = export::export(self.store.clone(), decode(request, validate::export)?);
        let answers = rows.map(|page| page.map(|rows| ExportCasesResponse { rows }).map_err(Status::from));
        Ok(Response::new(Box::pin(answers)))
    }
}
