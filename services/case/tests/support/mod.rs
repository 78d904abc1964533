//! A real case service on 127.0.0.1:0 over PostgreSQL or SQLite, and a client that speaks as
//! a given tenant, actor and roles.

use std::net::SocketAddr;

use redress_kit::Config;
use redress_proto::case::v1::Case;
use redress_proto::common::v1::{Channel, Customer, CustomerTier};
use redress_testkit::{Backend, CaseClient, Running, TestStore, component};

/// A case service client with an identity.
pub type Client = CaseClient;

/// A running case service.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its database.
    pub store: TestStore,
    running: Running,
}

impl Server {
    /// Starts the case service on a fresh database.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts the case service on a fresh database, with `configure` applied to its settings.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let store = TestStore::create(backend).await;
        let mut config = store.config();
        config.database.max_connections = 24;
        config.case.retention_interval = "200ms".into();
        configure(&mut config);
        let running = Running::serve(component!(redress_case, config)).await;
        Self { addr: running.addr, store, running }
    }

    /// A client acting as `actor` of `tenant` with `roles`.
    pub async fn client(&self, tenant: &str, actor: &str, roles: &str) -> Client {
        Client::connect(self.addr, tenant, actor, roles).await
    }

    /// Stops the server, waits for it, then drops its database.
    pub async fn stop(self) {
        self.running.stop().await;
        drop(self.store);
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
