//! The case service, as intake calls it: over gRPC through the kit's client, as
//! `system:intake` for the submission's tenant, each attempt with a deadline, every call
//! retried on UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED. That is safe because
//! every call is a read or carries a request_id derived from the client's.

use redress_kit::client::{ClientOptions, TracedChannel, as_service, request, with_retries};
use redress_kit::{ServiceKind, TenantId};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::*;
use redress_proto::common::v1::TimeRange;

use crate::error::Error;

/// The most cases read when counting a customer's recent cases.
pub const MAX_RECENT_CASES: usize = 1000;

/// A lazily connected client of the case service.
#[derive(Clone)]
pub struct CasePeer {
    client: CaseServiceClient<TracedChannel>,
    options: ClientOptions,
}

impl CasePeer {
    /// A client over `channel`.
    pub fn new(channel: TracedChannel, options: ClientOptions) -> Self {
        CasePeer { client: CaseServiceClient::new(channel), options }
    }

    fn request<T>(&self, tenant: &TenantId, message: T) -> tonic::Request<T> {
        as_service(request(tenant, message, self.options.timeout), ServiceKind::Intake)
    }

    /// Opens a case; idempotent on `request_id`. Returns the case and whether this call
    /// created it.
    pub async fn create_case(
        &self,
        tenant: &TenantId,
        case: Case,
        request_id: &str,
        prefix: &'static str,
    ) -> Result<(Case, bool), Error> {
        let message =
            CreateCaseRequest { parent: tenant.resource_name(), case: Some(case), request_id: request_id.into() };
        let response = with_retries(&self.options, "CreateCase", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.create_case(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "CreateCase", status, prefix })?
        .into_inner();
        let case = response.case.ok_or_else(|| Error::Corrupt("CreateCase answered without a case".into()))?;
        Ok((case, response.created))
    }

    /// Reads a case.
    pub async fn get_case(&self, tenant: &TenantId, name: &str, prefix: &'static str) -> Result<Case, Error> {
        let message = GetCaseRequest { name: name.into() };
        let response = with_retries(&self.options, "GetCase", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.get_case(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "GetCase", status, prefix })?
        .into_inner();
        response.case.ok_or_else(|| Error::Corrupt("GetCase answered without a case".into()))
    }

    /// The customer's cases created within `range`, at most [`MAX_RECENT_CASES`], most
    /// severe first. (Ordered by severity rather than time so that PostgreSQL answers from
    /// the case service's customer index instead of walking the tenant's cases by time.)
    pub async fn customer_cases(
        &self,
        tenant: &TenantId,
        customer_id: &str,
        range: TimeRange,
        prefix: &'static str,
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
            let page = with_retries(&self.options, "ListCases", || {
                let mut client = self.client.clone();
                let request = self.request(tenant, message.clone());
                async move { client.list_cases(request).await }
            })
            .await
            .map_err(|status| Error::Peer { call: "ListCases", status, prefix })?
            .into_inner();
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
        prefix: &'static str,
    ) -> Result<Case, Error> {
        let message =
            AddTimelineEntryRequest { parent: case.into(), entry: Some(entry), request_id: request_id.into() };
        let response = with_retries(&self.options, "AddTimelineEntry", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.add_timeline_entry(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "AddTimelineEntry", status, prefix })?
        .into_inner();
        response.case.ok_or_else(|| Error::Corrupt("AddTimelineEntry answered without a case".into()))
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
        prefix: &'static str,
    ) -> Result<Case, Error> {
        let message = UpdateCaseRequest {
            case: Some(patch),
            update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_string()).collect() }),
            expected_version,
            request_id: request_id.into(),
        };
        let response = with_retries(&self.options, "UpdateCase", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.update_case(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "UpdateCase", status, prefix })?
        .into_inner();
        response.case.ok_or_else(|| Error::Corrupt("UpdateCase answered without a case".into()))
    }

    /// Creates a task on a case; idempotent on `request_id`.
    pub async fn create_task(
        &self,
        tenant: &TenantId,
        case: &str,
        task: Task,
        request_id: &str,
        prefix: &'static str,
    ) -> Result<Task, Error> {
        let message = CreateTaskRequest { parent: case.into(), task: Some(task), request_id: request_id.into() };
        let response = with_retries(&self.options, "CreateTask", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.create_task(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "CreateTask", status, prefix })?
        .into_inner();
        response.task.ok_or_else(|| Error::Corrupt("CreateTask answered without a task".into()))
    }

    /// Records the customer's satisfaction on a case; idempotent on `request_id`.
    pub async fn record_satisfaction(
        &self,
        tenant: &TenantId,
        case: &str,
        satisfaction: Satisfaction,
        request_id: &str,
        prefix: &'static str,
    ) -> Result<Case, Error> {
        let message = RecordSatisfactionRequest {
            name: case.into(),
            satisfaction: Some(satisfaction),
            request_id: request_id.into(),
        };
        let response = with_retries(&self.options, "RecordSatisfaction", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.record_satisfaction(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "RecordSatisfaction", status, prefix })?
        .into_inner();
        response.case.ok_or_else(|| Error::Corrupt("RecordSatisfaction answered without a case".into()))
    }

    /// Reopens a resolved or closed case; idempotent on `request_id`.
    pub async fn reopen_case(
        &self,
        tenant: &TenantId,
        case: &str,
        reason: String,
        request_id: &str,
        prefix: &'static str,
    ) -> Result<Case, Error> {
        let message =
            ReopenCaseRequest { name: case.into(), reason, expected_version: 0, request_id: request_id.into() };
        let response = with_retries(&self.options, "ReopenCase", || {
            let mut client = self.client.clone();
            let request = self.request(tenant, message.clone());
            async move { client.reopen_case(request).await }
        })
        .await
        .map_err(|status| Error::Peer { call: "ReopenCase", status, prefix })?
        .into_inner();
        response.case.ok_or_else(|| Error::Corrupt("ReopenCase answered without a case".into()))
    }
}
