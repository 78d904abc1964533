//! A real case service and a real analytics service on 127.0.0.1:0 over PostgreSQL or SQLite,
//! clients for both, a Flight SQL client, and ways to seed cases: through the case API, or (for
//! history older than now) as events with chosen times written into the case log.

#![allow(dead_code, reason = "each test binary uses a part of this module")]

use std::net::SocketAddr;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use prost::Message;
use redress_kit::ServiceKind;
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::*;
use redress_proto::common::v1::{CaseReferences, Channel, Customer, Money, Severity, SlaClockKind};
use redress_testkit::{AnalyticsClient, Backend, Running, Server, TestStore, component, connect, request};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};
use tonic::transport::Channel as GrpcChannel;
use tonic::{Request, Status};

/// Starts the case service on a fresh database.
pub async fn start_case(backend: Backend) -> Server {
    Server::start(
        backend,
        |config| config.database.max_connections = 24,
        async |config| component!(redress_case, config),
    )
    .await
}

/// A running analytics service.
pub struct Analytics {
    /// Its gRPC server.
    pub server: Server,
    /// Its Flight SQL endpoint.
    pub flight: SocketAddr,
    /// Its database, connected as the service connects.
    pub db: DatabaseConnection,
}

/// Starts the analytics service on a fresh database, consuming `case`, with Flight SQL limits.
pub async fn start_analytics(backend: Backend, case: &Server, timeout: &str, max_rows: u64) -> Analytics {
    let store = TestStore::create(backend).await;
    let mut config = store.config();
    config.peers.case = case.url();
    config.analytics.flight_listen = "127.0.0.1:0".into();
    config.analytics.flight_statement_timeout = timeout.into();
    config.analytics.flight_max_rows = max_rows;
    let options = redress_analytics::Options::from_config(&config).expect("options");
    let service = redress_analytics::build(options).await.expect("build analytics");
    let flight = service.flight_addr().expect("flight sql listens");
    let db = redress_kit::db::connect_url(&store.url, ServiceKind::Analytics, 4, Duration::from_secs(5))
        .await
        .expect("analytics db");
    Analytics { server: Server { running: Running::serve(service.into_component()).await, store }, flight, db }
}

/// The highest sequence in the case log, and how many events still await their number.
pub async fn case_head(case: &Server) -> (i64, i64) {
    let db = redress_kit::db::connect_url(&case.store.url, ServiceKind::Case, 1, Duration::from_secs(5))
        .await
        .expect("case db");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COALESCE(MAX(sequence), 0), COALESCE(SUM(CASE WHEN sequence IS NULL THEN 1 ELSE 0 END), 0) FROM events",
        ))
        .await
        .expect("head")
        .expect("row");
    let _ = db.close().await;
    (row.try_get_by_index::<i64>(0).expect("head"), row.try_get_by_index::<i64>(1).expect("unnumbered"))
}

impl Analytics {
    /// A reports client speaking as `tenant`.
    pub async fn client(&self, tenant: &str) -> Reports {
        Reports::connect(self.server.addr, tenant, "", "").await
    }

    /// The consumer's cursor.
    pub async fn cursor(&self) -> i64 {
        redress_kit::consumer::cursor(&self.db, "analytics").await.expect("cursor")
    }

    /// Waits until the consumer has applied everything in the case log (after the case
    /// sequencer has numbered it).
    pub async fn caught_up(&self, case: &Server) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (head, unnumbered) = case_head(case).await;
            if head > 0 && unnumbered == 0 && self.cursor().await >= head {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "analytics never caught up with the case log ({head}, {unnumbered} not yet numbered)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A Flight SQL client speaking as `tenant`.
    pub async fn sql(&self, tenant: &str) -> FlightSqlServiceClient<GrpcChannel> {
        let mut client = FlightSqlServiceClient::new(connect(self.flight).await);
        client.set_header("x-redress-tenant", tenant);
        client
    }

    /// Stops the service.
    pub async fn stop(self) {
        let _ = self.db.close().await;
        self.server.stop().await;
    }
}

/// Runs a query over Flight SQL and collects its batches.
pub async fn query(
    client: &mut FlightSqlServiceClient<GrpcChannel>,
    sql: &str,
) -> Result<Vec<RecordBatch>, arrow_flight::error::FlightError> {
    let info = client.execute(sql.to_string(), None).await?;
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("ticket");
        let stream = client.do_get(ticket).await?;
        batches.extend(stream.try_collect::<Vec<_>>().await?);
    }
    Ok(batches)
}

/// A reports client speaking as a tenant alone.
pub type Reports = AnalyticsClient;

/// A case service client with an identity.
#[derive(Clone)]
pub struct Cases {
    /// The generated client.
    pub inner: CaseServiceClient<GrpcChannel>,
    /// `x-redress-tenant`.
    pub tenant: String,
    /// `x-redress-actor`.
    pub actor: String,
    /// `x-redress-roles`.
    pub roles: String,
}

/// A case client of `tenant` acting as `actor` with `roles`.
pub async fn cases(case: &Server, tenant: &str, actor: &str, roles: &str) -> Cases {
    Cases {
        inner: CaseServiceClient::new(connect(case.addr).await),
        tenant: tenant.into(),
        actor: actor.into(),
        roles: roles.into(),
    }
}

fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Cases {
    /// Wraps a message with this client's identity.
    pub fn req<T>(&self, message: T) -> Request<T> {
        request(message, &self.tenant, &self.actor, &self.roles)
    }

    /// Opens a case.
    pub async fn open(&mut self, category: &str, channel: Channel, severity: Severity, product: &str) -> Case {
        let case = complaint(category, channel, severity, product);
        let req = self.req(CreateCaseRequest {
            parent: format!("tenants/{}", self.tenant),
            case: Some(case),
            request_id: rid(),
        });
        self.inner.create_case(req).await.expect("create").into_inner().case.expect("case")
    }

    /// Acknowledges (with an apology) and starts investigating: the caller owns it.
    pub async fn take(&mut self, name: &str, team: &str) -> Result<(), Status> {
        let req = self.req(AcknowledgeCaseRequest {
            name: name.into(),
            apologized: true,
            apology_text: "We are sorry.".into(),
            ..Default::default()
        });
        self.inner.acknowledge_case(req).await?;
        let req = self.req(AssignCaseRequest {
            name: name.into(),
            owner: self.actor.clone(),
            team: team.into(),
            reason: "rota".into(),
            ..Default::default()
        });
        self.inner.assign_case(req).await?;
        let req = self.req(StartInvestigationRequest { name: name.into(), ..Default::default() });
        self.inner.start_investigation(req).await?;
        Ok(())
    }

    /// Offers a refund and records the customer accepting it, then resolves.
    pub async fn resolve_with_refund(&mut self, name: &str, minor: i64) -> Result<(), Status> {
        let req = self.req(ProposeResolutionRequest {
            name: name.into(),
            offer: Some(ResolutionOffer {
                kind: OfferKind::Refund as i32,
                amount: Some(Money { amount_minor: minor, currency_code: "EUR".into() }),
                description: "a refund".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        self.inner.propose_resolution(req).await?;
        let req = self.req(RecordCustomerResponseRequest {
            name: name.into(),
            response: Some(record_customer_response_request::Response::OfferResponse(OfferResponse {
                decision: OfferDecision::Accept as i32,
                ..Default::default()
            })),
            ..Default::default()
        });
        self.inner.record_customer_response(req).await?;
        let req = self.req(ResolveCaseRequest { name: name.into(), ..Default::default() });
        self.inner.resolve_case(req).await?;
        Ok(())
    }

    /// Resolves with a fix.
    pub async fn resolve_with_fix(&mut self, name: &str) -> Result<(), Status> {
        let req = self.req(ResolveCaseRequest { name: name.into(), fix_summary: "fixed".into(), ..Default::default() });
        self.inner.resolve_case(req).await.map(drop)
    }

    /// Records a CSAT score.
    pub async fn rate(&mut self, name: &str, score: i32) -> Result<(), Status> {
        let satisfaction = Satisfaction { scale: SurveyScale::Csat as i32, score, ..Default::default() };
        let req = self.req(RecordSatisfactionRequest {
            name: name.into(),
            satisfaction: Some(satisfaction),
            request_id: rid(),
        });
        self.inner.record_satisfaction(req).await.map(drop)
    }

    /// Closes with a root cause.
    pub async fn close(&mut self, name: &str, cause: &str) -> Result<(), Status> {
        let req = self.req(CloseCaseRequest {
            name: name.into(),
            root_cause: Some(RootCause { category: cause.into(), notes: "found it".into() }),
            ..Default::default()
        });
        self.inner.close_case(req).await.map(drop)
    }

    /// Reopens.
    pub async fn reopen(&mut self, name: &str) -> Result<(), Status> {
        let req = self.req(ReopenCaseRequest { name: name.into(), reason: "not fixed".into(), ..Default::default() });
        self.inner.reopen_case(req).await.map(drop)
    }

    /// Records a clock's state as the escalation service would (needs the system role).
    pub async fn clock(&mut self, name: &str, kind: SlaClockKind, used_min: i64, met: bool, breached: bool) {
        let status = SlaStatus {
            clock: kind as i32,
            target: Some(prost_types::Duration { seconds: 3600, nanos: 0 }),
            business_time_used: Some(prost_types::Duration { seconds: used_min * 60, nanos: 0 }),
            met,
            breached,
            ..Default::default()
        };
        let req = self.req(RecordSlaStatusRequest { name: name.into(), status: Some(status), request_id: rid() });
        self.inner.record_sla_status(req).await.expect("record sla");
    }

    /// Records an escalation (needs the system role).
    pub async fn escalate(&mut self, name: &str, level: i32) {
        let record = EscalationRecord {
            escalation: format!("tenants/{}/escalations/{}", self.tenant, uuid::Uuid::now_v7()),
            clock: SlaClockKind::FirstResponse as i32,
            level,
            reason: "first response breached".into(),
            notified: vec!["lead-1".into()],
            ..Default::default()
        };
        let req = self.req(RecordEscalationRequest { name: name.into(), escalation: Some(record), request_id: rid() });
        self.inner.record_escalation(req).await.expect("record escalation");
    }
}

/// A complaint as intake would hand it over.
pub fn complaint(category: &str, channel: Channel, severity: Severity, product: &str) -> Case {
    Case {
        customer: Some(Customer {
            customer_id: "cust-42".into(),
            email: "ana@example.com".into(),
            ..Default::default()
        }),
        channel: channel as i32,
        severity: severity as i32,
        subject: "It broke".into(),
        description: "The product stopped working after two days.".into(),
        category: category.into(),
        references: Some(CaseReferences { product_id: product.into(), ..Default::default() }),
        ..Case::default()
    }
}

/// Writes a case-created event with a chosen time into the case log, as the case service
/// would have written it then: the case service stamps the current time on everything it
/// creates, so history is seeded through its log. The sequencer numbers it like any other.
pub async fn write_past_case(
    case_db: &DatabaseConnection,
    tenant: &str,
    category: &str,
    product: &str,
    root_cause: &str,
    create_us: i64,
) {
    let id = uuid::Uuid::now_v7();
    let created = redress_analytics::domain::to_timestamp(create_us);
    let case = Case {
        name: format!("tenants/{tenant}/cases/{id}"),
        reference: format!("RD-{}", &id.simple().to_string()[24..]),
        channel: Channel::Email as i32,
        severity: Severity::Medium as i32,
        status: CaseStatus::New as i32,
        category: category.into(),
        references: Some(CaseReferences { product_id: product.into(), ..Default::default() }),
        root_cause: (!root_cause.is_empty()).then(|| RootCause { category: root_cause.into(), notes: String::new() }),
        create_time: Some(created),
        update_time: Some(created),
        version: 1,
        ..Default::default()
    };
    let event = CaseEvent {
        event_id: uuid::Uuid::now_v7().to_string(),
        tenant: tenant.into(),
        r#type: CaseEventType::Created as i32,
        event_time: Some(created),
        actor: "customer".into(),
        case: Some(case),
        previous_status: CaseStatus::Unspecified as i32,
        ..Default::default()
    };
    let backend = case_db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "INSERT INTO events (sequence, tenant, case_id, event_type, event_time, payload) VALUES (NULL, $1, $2, $3, $4, $5)"
        }
        _ => {
            "INSERT INTO events (sequence, tenant, case_id, event_type, event_time, payload) VALUES (NULL, ?1, ?2, ?3, ?4, ?5)"
        }
    };
    let values: Vec<Value> = vec![
        tenant.into(),
        id.into(),
        (CaseEventType::Created as i32).into(),
        redress_analytics::domain::from_us(create_us).into(),
        event.encode_to_vec().into(),
    ];
    case_db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.expect("write past event");
}
