//! The case service, as intake calls it: over gRPC through the kit's client, as
//! `system:intake` for the submission's tenant, each attempt with a deadline, every call
//! retried on UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED. That is safe because
//! every call is a read or carries a request_id derived from the client's.
//!
//! Fields are named as the case service names them (`case.customer.email`); the API renames
//! them after the submission they came from.

use std::future::Future;

use redress_kit::client::{ClientOptions, TracedChannel, as_service, request, with_retries};
use redress_kit::{ServiceKind, TenantId};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::*;
use redress_proto::common::v1::TimeRange;
use tonic::{Response, Status};

use crate::error::Error;

/// The most cases read when counting a customer's recent cases.
pub const MAX_RECENT_CASES: usize = 1000;

type Client = CaseServiceClient<TracedChannel>;

/// A lazily connected client of the case service.
#[derive(Clone)]
pub struct CasePeer {
    client: Client,
    options: ClientOptions,
}

/// What answered `call` without the message it must carry.
fn missing(call: &str, what: &str) -> Error {
    Error::Corrupt(format!("{call} answered without a {what}"))
}

/// The case of an answer to `call`.
fn case_of(call: &str, case: Option<Case>) -> Result<Case, Error> {
    case.ok_or_else(|| missing(call, "case"))
}

impl CasePeer {
    /// A client over `channel`.
    pub fn new(channel: TracedChannel, options: ClientOptions) -> Self {
        CasePeer { client: CaseServiceClient::new(channel), options }
    }

    /// Calls the case service's `call` with `message` for `tenant` through `rpc`, retrying
    /// what is worth retrying; a refusal or failure becomes [`Error::Peer`].
    async fn call<M, R, F, Fut>(&self, tenant: &TenantId, call: &'static str, message: M, rpc: F) -> Result<R, Error>
    where
        M: Clone,
        F: Fn(Client, tonic::Request<M>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        let attempt = || {
            let request = as_service(request(tenant, message.clone(), self.options.timeout), ServiceKind::Intake);
            rpc(self.client.clone(), request)
        };
        match with_retries(&self.options, call, attempt).await {
            Ok(response) => Ok(response.into_inner()),
            Err(status) => Err(Error::Peer { call, status }),
        }
    }

    /// Opens a case; idempotent on `request_id`. Returns the case and whether this call
    /// created it.
    pub async fn create_case(&self, tenant: &TenantId, case: Case, request_id: &str) -> Result<(Case, bool), Error> {
        let message =
            CreateCaseRequest { parent: tenant.resource_name(), case: Some(case), request_id: request_id.into() };
        let call = "CreateCase";
        let answer = self.call(tenant, call, message, |mut c, r| async move { c.create_case(r).await }).await?;
        Ok((case_of(call, answer.case)?, answer.created))
    }

    /// Reads a case.
    pub async fn get_case(&self, tenant: &TenantId, name: &str) -> Result<Case, Error> {
        let message = GetCaseRequest { name: name.into() };
        let answer = self.call(tenant, "GetCase", message, |mut c, r| async move { c.get_case(r).await }).await?;
        case_of("GetCase", answer.case)
    }

    /// The customer's cases created within `range`, at most [`MAX_RECENT_CASES`], most
    /// severe first. (Ordered by severity rather than time so that PostgreSQL answers from
    /// the case service's customer index instead of walking the tenant's cases by time.)
    pub async fn customer_cases(
        &self,
        tenant: &TenantId,
        customer_id: &str,
        range: TimeRange,
    ) -> Result<Vec<Case>, Error> {
        let mut cases = Vec::new();
        let mut page_token = String::new();
        loop {
            let message = ListCasesRequest {
                parent: tenant.resource_name(),
                page_size: 200,
                page_token: page_token.clone(),
                filter: Some(CaseFilter {
                    customer_id: customer_id.into(),
                    create_time: Some(range),
                    ..CaseFilter::default()
                }),
                order_by: CaseOrderBy::SeverityDesc as i32,
            };
            let page = self.call(tenant, "ListCases", message, |mut c, r| async move { c.list_cases(r).await }).await?;
            cases.extend(page.cases);
            if page.next_page_token.is_empty() || cases.len() >= MAX_RECENT_CASES {
                cases.truncate(MAX_RECENT_CASES);
                return Ok(cases);
            }
            page_token = page.next_page_token;
        }
    }

    /// Appends a timeline entry; idempotent on `request_id`. Returns the case after it.
    pub async fn add_entry(
        &self,
        tenant: &TenantId,
        case: &str,
        entry: TimelineEntry,
        request_id: &str,
    ) -> Result<Case, Error> {
        let message =
            AddTimelineEntryRequest { parent: case.into(), entry: Some(entry), request_id: request_id.into() };
        let call = "AddTimelineEntry";
        let answer = self.call(tenant, call, message, |mut c, r| async move { c.add_timeline_entry(r).await }).await?;
        case_of(call, answer.case)
    }

    /// Changes the fields named in `paths`, if the case is still at `expected_version`;
    /// idempotent on `request_id`.
    pub async fn update_case(
        &self,
        tenant: &TenantId,
        patch: Case,
        paths: &[&str],
        expected_version: i64,
        request_id: &str,
    ) -> Result<Case, Error> {
        let message = UpdateCaseRequest {
            case: Some(patch),
            update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_string()).collect() }),
            expected_version,
            request_id: request_id.into(),
        };
        let call = "UpdateCase";
        let answer = self.call(tenant, call, message, |mut c, r| async move { c.update_case(r).await }).await?;
        case_of(call, answer.case)
    }

    /// Creates a task on a case; idempotent on `request_id`.
    pub async fn create_task(
        &self,
        tenant: &TenantId,
        case: &str,
        task: Task,
        request_id: &str,
    ) -> Result<Task, Error> {
        let message = CreateTaskRequest { parent: case.into(), task: Some(task), request_id: request_id.into() };
        let call = "CreateTask";
        let answer = self.call(tenant, call, message, |mut c, r| async move { c.create_task(r).await }).await?;
        answer.task.ok_or_else(|| missing(call, "task"))
    }

    /// Records the customer's satisfaction on a case; idempotent on `request_id`.
    pub async fn record_satisfaction(
        &self,
        tenant: &TenantId,
        case: &str,
        satisfaction: Satisfaction,
        request_id: &str,
    ) -> Result<Case, Error> {
        let message = RecordSatisfactionRequest {
            name: case.into(),
            satisfaction: Some(satisfaction),
            request_id: request_id.into(),
        };
        let call = "RecordSatisfaction";
        let answer = self.call(tenant, call, message, |mut c, r| async move { c.record_satisfaction(r).await }).await?;
        case_of(call, answer.case)
    }

    /// Reopens a resolved or closed case; idempotent on `request_id`.
    pub async fn reopen_case(
        &self,
        tenant: &TenantId,
        case: &str,
        reason: String,
        request_id: &str,
    ) -> Result<Case, Error> {
        let message =
            ReopenCaseRequest { name: case.into(), reason, expected_version: 0, request_id: request_id.into() };
        let call = "ReopenCase";
        let answer = self.call(tenant, call, message, |mut c, r| async move { c.reopen_case(r).await }).await?;
        case_of(call, answer.case)
    }
}
