//! The services notification calls while delivering: the case service (the case to render
//! with, and call tasks) and the escalation service's staff directory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_kit::client::{ClientOptions, TracedChannel, as_service, request, with_retries};
use redress_kit::{ServiceKind, TenantId};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, CreateTaskRequest, GetCaseRequest, Task};
use redress_proto::escalation::v1::escalation_service_client::EscalationServiceClient;
use redress_proto::escalation::v1::{ListStaffRequest, StaffMember};
use tokio::sync::Mutex;
use tonic::{Code, Status};

/// How long a tenant's staff directory is kept before it is read again.
const DIRECTORY_TTL: Duration = Duration::from_secs(30);
/// The most pages read from the directory for one tenant.
const MAX_DIRECTORY_PAGES: usize = 100;

/// Why a call to a peer failed, sorted for the retry policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// It may work later: the peer is down, slow or overloaded.
    #[error("{0}")]
    Transient(String),
    /// It will fail the same way again.
    #[error("{0}")]
    Permanent(String),
}

fn sort(what: &str, status: &Status) -> PeerError {
    let message = format!("{what}: {} ({:?})", status.message(), status.code());
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted | Code::Unknown => {
            PeerError::Transient(message)
        }
        _ => PeerError::Permanent(message),
    }
}

/// The case service.
#[derive(Clone)]
pub struct CasePeer {
    channel: TracedChannel,
    options: ClientOptions,
}

impl CasePeer {
    /// The case service over `channel`.
    pub fn new(channel: TracedChannel, options: ClientOptions) -> Self {
        Self { channel, options }
    }

    /// Reads a case as the notification service.
    pub async fn get_case(&self, tenant: &TenantId, name: &str) -> Result<Case, PeerError> {
        let response = with_retries(&self.options, "GetCase", || {
            let mut client = CaseServiceClient::new(self.channel.clone());
            let call = as_service(
                request(tenant, GetCaseRequest { name: name.to_string() }, self.options.timeout),
                ServiceKind::Notification,
            );
            async move { client.get_case(call).await }
        })
        .await
        .map_err(|status| match status.code() {
            Code::NotFound => PeerError::Permanent(format!("the case {name} does not exist")),
            _ => sort("reading the case from the case service", &status),
        })?;
        response.into_inner().case.ok_or_else(|| PeerError::Permanent("the case service returned no case".into()))
    }

    /// Creates a task on a case; `request_id` makes a retry create nothing more.
    pub async fn create_task(
        &self,
        tenant: &TenantId,
        case: &str,
        task: Task,
        request_id: &str,
    ) -> Result<Task, PeerError> {
        let response = with_retries(&self.options, "CreateTask", || {
            let mut client = CaseServiceClient::new(self.channel.clone());
            let message = CreateTaskRequest {
                parent: case.to_string(),
                task: Some(task.clone()),
                request_id: request_id.to_string(),
            };
            let call = as_service(request(tenant, message, self.options.timeout), ServiceKind::Notification);
            async move { client.create_task(call).await }
        })
        .await
        .map_err(|status| sort("creating the call task on the case", &status))?;
        response.into_inner().task.ok_or_else(|| PeerError::Permanent("the case service returned no task".into()))
    }
}

/// A tenant's directory and when it was read.
type Cached = (Instant, Arc<Vec<StaffMember>>);

/// The staff directory of the escalation service, read lazily and kept for a short while per
/// tenant.
#[derive(Clone)]
pub struct StaffDirectory {
    channel: TracedChannel,
    options: ClientOptions,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl StaffDirectory {
    /// The directory behind `channel`.
    pub fn new(channel: TracedChannel, options: ClientOptions) -> Self {
        Self { channel, options, cache: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// The member of staff named `name` (`tenants/{tenant}/staff/{staff}`). An unreachable
    /// directory is transient; a name it does not know is permanent.
    pub async fn find(&self, tenant: &TenantId, name: &str) -> Result<StaffMember, PeerError> {
        let staff = self.staff(tenant).await?;
        staff
            .iter()
            .find(|member| member.name == name)
            .cloned()
            .ok_or_else(|| PeerError::Permanent(format!("{name} is not in the staff directory")))
    }

    /// The display name of the staff member with id `id`, if the directory answers and knows
    /// them. Never fails: a message reads well enough without it.
    pub async fn display_name(&self, tenant: &TenantId, id: &str) -> Option<String> {
        if id.is_empty() {
            return None;
        }
        let name = format!("tenants/{tenant}/staff/{id}");
        let staff = self.staff(tenant).await.ok()?;
        staff.iter().find(|m| m.name == name).map(|m| m.display_name.clone()).filter(|n| !n.is_empty())
    }

    async fn staff(&self, tenant: &TenantId) -> Result<Arc<Vec<StaffMember>>, PeerError> {
        if let Some((read, staff)) = self.cache.lock().await.get(tenant.as_str())
            && read.elapsed() < DIRECTORY_TTL
        {
            return Ok(staff.clone());
        }
        let staff = Arc::new(self.read(tenant).await?);
        self.cache.lock().await.insert(tenant.as_str().to_string(), (Instant::now(), staff.clone()));
        Ok(staff)
    }

    async fn read(&self, tenant: &TenantId) -> Result<Vec<StaffMember>, PeerError> {
        let mut staff = Vec::new();
        let mut token = String::new();
        for _ in 0..MAX_DIRECTORY_PAGES {
            let page = with_retries(&self.options, "ListStaff", || {
                let mut client = EscalationServiceClient::new(self.channel.clone());
                let message = ListStaffRequest {
                    parent: tenant.resource_name(),
                    page_size: 1000,
                    page_token: token.clone(),
                    ..ListStaffRequest::default()
                };
                let call = as_service(request(tenant, message, self.options.timeout), ServiceKind::Notification);
                async move { client.list_staff(call).await }
            })
            .await
            .map_err(|status| match status.code() {
                Code::Unimplemented => PeerError::Transient(
                    "the staff directory is unavailable: the escalation service does not answer ListStaff yet".into(),
                ),
                _ => PeerError::Transient(format!(
                    "the staff directory (escalation service) is unreachable: {} ({:?})",
                    status.message(),
                    status.code()
                )),
            })?
            .into_inner();
            staff.extend(page.staff);
            if page.next_page_token.is_empty() {
                return Ok(staff);
            }
            token = page.next_page_token;
        }
        Ok(staff)
    }
}
