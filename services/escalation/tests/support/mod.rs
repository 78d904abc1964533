//! A real case service and a real escalation service on 127.0.0.1:0, over PostgreSQL with
//! Redis or over SQLite with the in-process index, and clients that speak as a given tenant.

#![allow(dead_code, reason = "each test binary uses a part of this module")]

use std::net::SocketAddr;
use std::time::Duration;

use redress_kit::Config;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::*;
use redress_proto::common::v1::{Channel, Customer, StaffRole};
use redress_proto::escalation::v1::escalation_service_client::EscalationServiceClient;
use redress_proto::escalation::v1::*;
use redress_testkit::{Backend, Running, TestStore, component, connect, connect_when_listening, request};
use tonic::Request;
use tonic::transport::Channel as GrpcChannel;

/// Where the timer index lives.
#[derive(Clone)]
pub enum Timers {
    /// Redis at this URL, under this key prefix.
    Redis(String, String),
    /// In process (the embedded mode).
    Memory,
}

/// Configuration for a service over `store`, with `timers`, finding the case service at `case`.
pub fn config(store: &TestStore, timers: &Timers, case: Option<SocketAddr>) -> Config {
    let mut config = store.config();
    config.log.level = "warn".into();
    if let Timers::Redis(url, prefix) = timers {
        config.redis.url = url.clone();
        config.redis.key_prefix = prefix.clone();
    }
    if let Some(case) = case {
        config.peers.case = format!("http://{case}");
    }
    // No notification service runs in these tests unless one is started.
    config.peers.notification = format!("http://127.0.0.1:{}", redress_testkit::free_port());
    config.client.timeout = "2s".into();
    config
}

/// A case service and an escalation service.
pub struct Stack {
    /// The case service.
    pub case: Running,
    /// The escalation service.
    pub escalation: Running,
    /// The case service's database.
    pub case_store: TestStore,
    /// The escalation service's database.
    pub escalation_store: TestStore,
    /// Where timers live.
    pub timers: Timers,
}

impl Stack {
    /// Starts both services on fresh databases of `backend`.
    pub async fn start(backend: Backend, timers: Timers) -> Self {
        let (case, case_store) = start_case(backend).await;
        let escalation_store = TestStore::create(backend).await;
        let escalation = Self::start_escalation(&escalation_store, &timers, case.addr).await;
        Self { case, escalation, case_store, escalation_store, timers }
    }

    /// Starts another escalation service over the same database and index.
    pub async fn start_escalation(store: &TestStore, timers: &Timers, case: SocketAddr) -> Running {
        let config = config(store, timers, Some(case));
        Running::serve(component!(redress_escalation, config)).await
    }

    /// Clients of both services for `tenant`, acting as `actor` with `roles`.
    pub async fn clients(&self, tenant: &str, actor: &str, roles: &str) -> Clients {
        Clients {
            case: CaseServiceClient::new(connect(self.case.addr).await),
            escalation: EscalationServiceClient::new(connect(self.escalation.addr).await),
            tenant: tenant.into(),
            actor: actor.into(),
            roles: roles.into(),
        }
    }

    /// Stops both services.
    pub async fn stop(self) {
        self.escalation.stop().await;
        self.case.stop().await;
    }
}

/// Starts a case service on a fresh database of `backend`.
pub async fn start_case(backend: Backend) -> (Running, TestStore) {
    let store = TestStore::create(backend).await;
    let config = config(&store, &Timers::Memory, None);
    (Running::serve(component!(redress_case, config)).await, store)
}

/// Clients of the case and escalation services with an identity.
#[derive(Clone)]
pub struct Clients {
    /// The case service.
    pub case: CaseServiceClient<GrpcChannel>,
    /// The escalation service.
    pub escalation: EscalationServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
    /// `x-redress-actor`.
    pub actor: String,
    /// `x-redress-roles`.
    pub roles: String,
}

impl Clients {
    /// Connects to the services, waiting for them to listen.
    pub async fn connect(case: SocketAddr, escalation: SocketAddr, tenant: &str, actor: &str, roles: &str) -> Self {
        Clients {
            case: CaseServiceClient::new(connect_when_listening(case).await),
            escalation: EscalationServiceClient::new(connect_when_listening(escalation).await),
            tenant: tenant.into(),
            actor: actor.into(),
            roles: roles.into(),
        }
    }

    /// Wraps a message with the identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        request(message, &self.tenant, &self.actor, &self.roles)
    }

    /// The tenant's parent name.
    pub fn parent(&self) -> String {
        format!("tenants/{}", self.tenant)
    }

    /// Adds a member of staff.
    pub async fn staff(&mut self, id: &str, role: StaffRole, team: &str, email: &str) {
        let member = StaffMember {
            name: format!("tenants/{}/staff/{id}", self.tenant),
            display_name: id.into(),
            role: role as i32,
            team: team.into(),
            email: email.into(),
            active: true,
            ..Default::default()
        };
        let req = self.req(UpsertStaffMemberRequest { staff_member: Some(member) });
        self.escalation.upsert_staff_member(req).await.expect("staff");
    }

    /// Creates a policy.
    pub async fn policy(&mut self, policy: SlaPolicy) -> SlaPolicy {
        let req = self.req(CreateSlaPolicyRequest {
            parent: self.parent(),
            sla_policy: Some(policy),
            request_id: uuid::Uuid::now_v7().to_string(),
        });
        self.escalation.create_sla_policy(req).await.expect("policy").into_inner().sla_policy.expect("policy")
    }

    /// Opens a case owned by `owner` in `team`.
    pub async fn open(&mut self, subject: &str, owner: &str, team: &str) -> Case {
        let case = Case {
            customer: Some(Customer {
                customer_id: "cust-1".into(),
                email: "ana@example.com".into(),
                ..Default::default()
            }),
            channel: Channel::Email as i32,
            subject: subject.into(),
            description: "My order never arrived.".into(),
            owner: owner.into(),
            team: team.into(),
            ..Default::default()
        };
        let req = self.req(CreateCaseRequest {
            parent: self.parent(),
            case: Some(case),
            request_id: uuid::Uuid::now_v7().to_string(),
        });
        self.case.create_case(req).await.expect("create").into_inner().case.expect("case")
    }

    /// The ESCALATION entries on a case's timeline.
    pub async fn escalation_entries(&mut self, name: &str) -> Vec<TimelineEntry> {
        let req =
            self.req(ListTimelineEntriesRequest { parent: name.into(), page_size: 1000, page_token: String::new() });
        let entries = self.case.list_timeline_entries(req).await.expect("timeline").into_inner().entries;
        entries.into_iter().filter(|e| e.kind() == TimelineEntryKind::Escalation).collect()
    }

    /// The case's SLA clocks.
    pub async fn sla(&mut self, name: &str) -> GetCaseSlaResponse {
        let req = self.req(GetCaseSlaRequest { case: name.into() });
        self.escalation.get_case_sla(req).await.expect("sla").into_inner()
    }

    /// Waits until the escalation service keeps clocks for the case.
    pub async fn wait_for_clocks(&mut self, name: &str) -> GetCaseSlaResponse {
        for _ in 0..200 {
            let req = self.req(GetCaseSlaRequest { case: name.into() });
            if let Ok(response) = self.escalation.get_case_sla(req).await {
                let response = response.into_inner();
                if !response.clocks.is_empty() {
                    return response;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the escalation service never started clocks for {name}");
    }
}

/// Seconds as a proto duration.
pub fn secs(seconds: f64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds: seconds.trunc() as i64, nanos: (seconds.fract() * 1e9) as i32 })
}

/// A proto time in seconds.
pub fn seconds(at: &Option<prost_types::Timestamp>) -> f64 {
    at.as_ref().map(|t| t.seconds as f64 + f64::from(t.nanos) / 1e9).unwrap_or_default()
}
