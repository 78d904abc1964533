//! The generated clients, speaking as a tenant, an actor and roles, as the gateway in front of
//! redress would: the `x-redress-tenant`, `x-redress-actor` and `x-redress-roles` metadata.

use std::net::SocketAddr;

use redress_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, CreateCaseRequest, ListCasesRequest};
use redress_proto::escalation::v1::escalation_service_client::EscalationServiceClient;
use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
use redress_proto::notification::v1::notification_service_client::NotificationServiceClient;
use tonic::Request;
use tonic::transport::Channel;

/// `message` as `actor` of `tenant` with `roles` (comma-separated); an empty actor or empty
/// roles are left out.
pub fn request<T>(message: T, tenant: &str, actor: &str, roles: &str) -> Request<T> {
    let mut request = Request::new(message);
    let md = request.metadata_mut();
    md.insert("x-redress-tenant", tenant.parse().expect("tenant"));
    if !actor.is_empty() {
        md.insert("x-redress-actor", actor.parse().expect("actor"));
    }
    if !roles.is_empty() {
        md.insert("x-redress-roles", roles.parse().expect("roles"));
    }
    request
}

/// A generated client made from a channel.
pub trait Connect {
    /// The client over `channel`.
    fn over(channel: Channel) -> Self;
}

macro_rules! connect {
    ($($client:ident),*) => {
        $(impl Connect for $client<Channel> {
            fn over(channel: Channel) -> Self {
                $client::new(channel)
            }
        })*
    };
}

connect!(
    AnalyticsServiceClient,
    CaseServiceClient,
    EscalationServiceClient,
    IntakeServiceClient,
    NotificationServiceClient
);

/// A generated client with an identity.
#[derive(Clone)]
pub struct Caller<C> {
    /// The generated client.
    pub inner: C,
    /// `x-redress-tenant`.
    pub tenant: String,
    /// `x-redress-actor`; left out when empty.
    pub actor: String,
    /// `x-redress-roles`; left out when empty.
    pub roles: String,
}

/// A case service client with an identity.
pub type CaseClient = Caller<CaseServiceClient<Channel>>;
/// An intake client with an identity.
pub type IntakeClient = Caller<IntakeServiceClient<Channel>>;
/// An escalation service client with an identity.
pub type EscalationClient = Caller<EscalationServiceClient<Channel>>;
/// A notification service client with an identity.
pub type NotificationClient = Caller<NotificationServiceClient<Channel>>;
/// An analytics client with an identity.
pub type AnalyticsClient = Caller<AnalyticsServiceClient<Channel>>;

impl<C> Caller<C> {
    /// `inner` acting as `actor` of `tenant` with `roles`.
    pub fn new(inner: C, tenant: &str, actor: &str, roles: &str) -> Self {
        Self { inner, tenant: tenant.into(), actor: actor.into(), roles: roles.into() }
    }

    /// Wraps a message with this client's identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        request(message, &self.tenant, &self.actor, &self.roles)
    }

    /// The tenant's parent name, `tenants/{tenant}`.
    pub fn parent(&self) -> String {
        format!("tenants/{}", self.tenant)
    }
}

impl<C: Clone> Caller<C> {
    /// The same connection acting as someone else of the same tenant.
    pub fn as_actor(&self, actor: &str, roles: &str) -> Self {
        Self { actor: actor.into(), roles: roles.into(), ..self.clone() }
    }
}

impl<C: Connect> Caller<C> {
    /// Connects to the server at `addr` as `actor` of `tenant` with `roles`.
    pub async fn connect(addr: SocketAddr, tenant: &str, actor: &str, roles: &str) -> Self {
        Self::new(C::over(crate::connect(addr).await), tenant, actor, roles)
    }
}

impl CaseClient {
    /// Opens a case with a fresh request_id.
    pub async fn create(&mut self, case: Case) -> Case {
        let request =
            CreateCaseRequest { parent: self.parent(), case: Some(case), request_id: uuid::Uuid::now_v7().to_string() };
        let req = self.req(request);
        self.inner.create_case(req).await.expect("create").into_inner().case.expect("case")
    }

    /// Every case of the tenant (all pages).
    pub async fn all_cases(&mut self) -> Vec<Case> {
        let mut cases = Vec::new();
        let mut token = String::new();
        loop {
            let request =
                ListCasesRequest { parent: self.parent(), page_size: 1000, page_token: token, ..Default::default() };
            let req = self.req(request);
            let page = self.inner.list_cases(req).await.expect("list").into_inner();
            cases.extend(page.cases);
            if page.next_page_token.is_empty() {
                return cases;
            }
            token = page.next_page_token;
        }
    }
}
