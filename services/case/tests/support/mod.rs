//! A real case service on 127.0.0.1:0 over PostgreSQL or SQLite, and a client that speaks as
//! a given tenant, actor and roles.

#![allow(dead_code)]

use std::net::SocketAddr;

use redress_kit::Config;
use redress_kit::server::ServerOptions;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::*;
use redress_proto::common::v1::{Channel, Customer, CustomerTier};
use redress_testkit::{Backend, TestStore};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel as GrpcChannel;
use tonic::{Code, Request, Status};

/// A running case service.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its database.
    pub store: TestStore,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Starts the case service on a fresh database.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts the case service on a fresh database, with `configure` applied to its settings.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let store = TestStore::create(backend).await;
        let mut config = Config::default();
        config.database.url = store.url.clone();
        config.database.max_connections = 24;
        config.case.retention_interval = "200ms".into();
        configure(&mut config);
        let options = redress_case::Options::from_config(&config).expect("options");
        let component = redress_case::build(options).await.expect("build").into_component();
        let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            redress_kit::server::serve(listener, vec![component], &ServerOptions::default(), token).await
        });
        Self { addr, store, shutdown, task }
    }

    /// A client acting as `actor` of `tenant` with `roles`.
    pub async fn client(&self, tenant: &str, actor: &str, roles: &str) -> Client {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        Client {
            inner: CaseServiceClient::new(channel),
            tenant: tenant.into(),
            actor: actor.into(),
            roles: roles.into(),
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// A case service client with an identity.
#[derive(Clone)]
pub struct Client {
    /// The generated client.
    pub inner: CaseServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
    /// `x-redress-actor`.
    pub actor: String,
    /// `x-redress-roles`.
    pub roles: String,
}

impl Client {
    /// Wraps a message with this client's identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let md = request.metadata_mut();
        md.insert("x-redress-tenant", self.tenant.parse().expect("tenant"));
        md.insert("x-redress-actor", self.actor.parse().expect("actor"));
        if !self.roles.is_empty() {
            md.insert("x-redress-roles", self.roles.parse().expect("roles"));
        }
        request
    }

    /// The same connection acting as someone else.
    pub fn as_actor(&self, actor: &str, roles: &str) -> Client {
        Client { actor: actor.into(), roles: roles.into(), ..self.clone() }
    }

    /// The tenant's parent name.
    pub fn parent(&self) -> String {
        format!("tenants/{}", self.tenant)
    }

    /// Opens a case with a fresh request_id.
    pub async fn create(&mut self, case: Case) -> Case {
        let request =
            CreateCaseRequest { parent: self.parent(), case: Some(case), request_id: uuid::Uuid::now_v7().to_string() };
        let req = self.req(request);
        self.inner.create_case(req).await.expect("create").into_inner().case.expect("case")
    }

    /// Lists every case of the tenant (all pages).
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

/// A complaint as intake would hand it over.
pub fn complaint(subject: &str) -> Case {
    Case {
        customer: Some(Customer {
            customer_id: "cust-42".into(),
            display_name: "Ana Silva".into(),
            email: "ana@example.com".into(),
            phone: "+447700900123".into(),
            tier: CustomerTier::Gold as i32,
            locale: "en-GB".into(),
        }),
        channel: Channel::Email as i32,
        subject: subject.into(),
        description: "I ordered a kettle three weeks ago. It never arrived and nobody answers my emails.".into(),
        desired_outcome: "a refund".into(),
        category: "delivery".into(),
        ..Case::default()
    }
}

/// Asserts INVALID_ARGUMENT with a field violation naming `field`.
pub fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let fields: Vec<String> =
        details.bad_request().map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect()).unwrap_or_default();
    assert!(
        fields.iter().any(|f| f == field),
        "expected a violation on {field:?}, got {fields:?}: {}",
        status.message()
    );
}
