//! A real case service and a real intake service, each on its own 127.0.0.1 port, in the
//! two shapes redress runs in: production (PostgreSQL and Redis) and embedded (SQLite files,
//! no Redis, in-process rate limit and locks). Intake talks to the case service over gRPC.

#![allow(dead_code, reason = "each test binary uses a part of this module")]

use std::net::SocketAddr;

use redress_kit::Config;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::{Case, ListCasesRequest};
use redress_proto::common::v1::{Channel, Customer};
use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
use redress_proto::intake::v1::*;
use redress_testkit::{Backend, Running, TestStore, component, connect, listener, request};
use tonic::transport::Channel as GrpcChannel;
use tonic::{Request, Status};

/// Starts the case service on `listener` over the database at `url`.
pub async fn start_case(url: &str, listener: tokio::net::TcpListener) -> Running {
    let mut config = Config::default();
    config.database.url = url.to_string();
    config.database.max_connections = 16;
    Running::serve_on(listener, component!(redress_case, config))
}

/// The case service and intake in front of it.
pub struct Stack {
    /// The case service.
    pub case: Running,
    /// The intake service.
    pub intake: Running,
    /// The configuration intake was started with, to start more replicas.
    pub config: Config,
    /// Whether this stack runs with Redis.
    pub redis: bool,
    /// The case service's database.
    pub case_store: TestStore,
    /// Intake's database.
    pub intake_store: TestStore,
}

impl Stack {
    /// PostgreSQL and Redis (production), or SQLite and no Redis (embedded).
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// As [`Stack::start`], with intake's configuration adjusted.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let case_store = TestStore::create(backend).await;
        let case = start_case(&case_store.url, listener().await).await;
        let intake_store = TestStore::create(backend).await;
        let mut config = intake_store.config();
        config.database.max_connections = 16;
        config.peers.case = format!("http://{}", case.addr);
        config.client.backoff_base = "10ms".into();
        config.client.backoff_max = "200ms".into();
        // Tests submit quickly; the rate-limit test sets its own limit.
        config.intake.rate_limit_per_second = 10_000.0;
        config.intake.rate_limit_burst = 10_000;
        let redis = backend == Backend::Postgres;
        if redis {
            config.redis.url = redress_testkit::redis_url();
            config.redis.key_prefix = redress_testkit::redis_prefix().await;
        }
        adjust(&mut config);
        let intake = start_intake(&config, listener().await).await;
        wait_serving(intake.addr).await;
        Stack { case, intake, config, redis, case_store, intake_store }
    }

    /// A client of intake acting for `tenant`.
    pub async fn intake_client(&self, tenant: &str) -> Intake {
        Intake::connect(self.intake.addr, tenant).await
    }

    /// A client of the case service acting as a supervisor of `tenant`.
    pub async fn case_client(&self, tenant: &str) -> Cases {
        let channel = connect(self.case.addr).await;
        Cases { inner: CaseServiceClient::new(channel), tenant: tenant.into() }
    }

    /// Stops both servers.
    pub async fn stop(self) {
        self.intake.stop().await;
        self.case.stop().await;
    }
}

/// Starts intake with `config` on `listener`.
pub async fn start_intake(config: &Config, listener: tokio::net::TcpListener) -> Running {
    Running::serve_on(listener, component!(redress_intake, config))
}

/// Waits until intake reports SERVING: its database, the case service (and Redis) answer.
pub async fn wait_serving(addr: SocketAddr) {
    redress_testkit::wait_serving(addr.port(), "redress.intake.v1.IntakeService").await;
}

/// An intake client for one tenant.
#[derive(Clone)]
pub struct Intake {
    /// The generated client.
    pub inner: IntakeServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
}

impl Intake {
    /// Connects to intake at `addr` as `tenant`.
    pub async fn connect(addr: SocketAddr, tenant: &str) -> Self {
        Intake { inner: IntakeServiceClient::new(connect(addr).await), tenant: tenant.into() }
    }

    fn req<T>(&self, message: T) -> Request<T> {
        request(message, &self.tenant, "crm-connector", "integration")
    }

    /// The tenant's parent name.
    pub fn parent(&self) -> String {
        format!("tenants/{}", self.tenant)
    }

    /// Submits a complaint under `request_id`.
    pub async fn complaint(
        &mut self,
        complaint: Complaint,
        request_id: &str,
    ) -> Result<SubmitComplaintResponse, Status> {
        let request =
            SubmitComplaintRequest { parent: self.parent(), complaint: Some(complaint), request_id: request_id.into() };
        let req = self.req(request);
        self.inner.submit_complaint(req).await.map(|r| r.into_inner())
    }

    /// Submits a survey answer under `request_id`.
    pub async fn survey(
        &mut self,
        response: SurveyResponse,
        request_id: &str,
    ) -> Result<SubmitSurveyResponseResponse, Status> {
        let request = SubmitSurveyResponseRequest {
            parent: self.parent(),
            survey_response: Some(response),
            request_id: request_id.into(),
        };
        let req = self.req(request);
        self.inner.submit_survey_response(req).await.map(|r| r.into_inner())
    }

    /// Submits a review under `request_id`.
    pub async fn review(&mut self, review: Review, request_id: &str) -> Result<SubmitReviewResponse, Status> {
        let request =
            SubmitReviewRequest { parent: self.parent(), review: Some(review), request_id: request_id.into() };
        let req = self.req(request);
        self.inner.submit_review(req).await.map(|r| r.into_inner())
    }
}

/// A case service client acting as a supervising agent of one tenant.
#[derive(Clone)]
pub struct Cases {
    /// The generated client.
    pub inner: CaseServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
}

impl Cases {
    /// Wraps a message with this client's identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        request(message, &self.tenant, "agent-7", "agent,supervisor")
    }

    /// Every case of the tenant.
    pub async fn all(&mut self) -> Vec<Case> {
        let request =
            ListCasesRequest { parent: format!("tenants/{}", self.tenant), page_size: 1000, ..Default::default() };
        let req = self.req(request);
        self.inner.list_cases(req).await.expect("list").into_inner().cases
    }

    /// One case.
    pub async fn get(&mut self, name: &str) -> Case {
        let req = self.req(redress_proto::case::v1::GetCaseRequest { name: name.into() });
        self.inner.get_case(req).await.expect("get").into_inner().case.expect("case")
    }
}

/// A customer with an id, an email and a phone.
pub fn customer(id: &str) -> Customer {
    Customer {
        customer_id: id.into(),
        display_name: "Ana Silva".into(),
        email: "ana@example.com".into(),
        phone: "+447700900123".into(),
        ..Customer::default()
    }
}

/// A complaint from `customer_id` on `channel` in the customer's words.
pub fn complaint(customer_id: &str, channel: Channel, description: &str) -> Complaint {
    Complaint {
        customer: Some(customer(customer_id)),
        channel: channel as i32,
        description: description.into(),
        desired_outcome: "a refund".into(),
        ..Complaint::default()
    }
}

/// A fresh request id.
pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
