//! The kit's server and client, on real servers bound to 127.0.0.1:0.
//!
//! One complaint is one trace across services: the W3C trace id of an inbound call arrives in
//! the metadata of the outbound call it causes (two servers stand in for intake calling case).
//! Calls past the concurrency limit are shed with RESOURCE_EXHAUSTED, and calls past the
//! request deadline are cut off.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redress_kit::client::{ClientOptions, TracedChannel};
use redress_kit::server::{Component, ServerOptions};
use redress_kit::{Config, ServiceKind};
use redress_proto::case::v1::case_service_client::CaseServiceClient;
use redress_proto::case::v1::case_service_server::{CaseService, CaseServiceServer};
use redress_proto::case::v1::{CreateCaseRequest, CreateCaseResponse, GetCaseRequest, GetCaseResponse};
use redress_proto::intake::v1::intake_service_client::IntakeServiceClient;
use redress_proto::intake::v1::intake_service_server::{IntakeService, IntakeServiceServer};
use redress_proto::intake::v1::{SubmitComplaintRequest, SubmitComplaintResponse};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// Records the trace context each CreateCase call arrives with.
#[derive(Clone, Default)]
struct RecordingCase {
    seen: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl CaseService for RecordingCase {
    async fn create_case(&self, request: Request<CreateCaseRequest>) -> Result<Response<CreateCaseResponse>, Status> {
        let traceparent = request.metadata().get("traceparent").and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.seen.lock().expect("lock").push(traceparent.to_string());
        Ok(Response::new(CreateCaseResponse::default()))
    }

    async fn get_case(&self, _request: Request<GetCaseRequest>) -> Result<Response<GetCaseResponse>, Status> {
        tokio::time::sleep(Duration::from_millis(400)).await;
        Ok(Response::new(GetCaseResponse::default()))
    }
}

/// Forwards every complaint to the case service through the kit's client.
struct ForwardingIntake {
    case: TracedChannel,
}

#[tonic::async_trait]
impl IntakeService for ForwardingIntake {
    async fn submit_complaint(
        &self,
        request: Request<SubmitComplaintRequest>,
    ) -> Result<Response<SubmitComplaintResponse>, Status> {
        let tenant = redress_kit::tenant::tenant(&request)?;
        let mut client = CaseServiceClient::new(self.case.clone());
        let outbound =
            redress_kit::client::request(&tenant, CreateCaseRequest::default(), std::time::Duration::from_secs(5));
        client.create_case(outbound).await?;
        Ok(Response::new(SubmitComplaintResponse::default()))
    }
}

/// A call of the tenant `acme`, as every call names one.
fn of_acme<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-redress-tenant", "acme".parse().expect("tenant"));
    request
}

async fn start(component: Component, shutdown: &CancellationToken) -> std::net::SocketAddr {
    start_with(component, ServerOptions::default(), shutdown).await
}

async fn start_with(
    component: Component,
    options: ServerOptions,
    shutdown: &CancellationToken,
) -> std::net::SocketAddr {
    let listener = redress_kit::server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let shutdown = shutdown.clone();
    tokio::spawn(async move { redress_kit::server::serve(listener, vec![component], &options, shutdown).await });
    addr
}

#[tokio::test]
async fn the_trace_id_of_an_inbound_call_reaches_the_outbound_call() {
    let mut config = Config::default();
    config.log.level = "warn".into();
    let telemetry = redress_kit::telemetry::init(&config, "trace-test").expect("telemetry");
    let shutdown = CancellationToken::new();

    let case = RecordingCase::default();
    let case_addr = start(Component::new(ServiceKind::Case, CaseServiceServer::new(case.clone())), &shutdown).await;
    let channel =
        redress_kit::client::connect(&format!("http://{case_addr}"), &ClientOptions::default()).expect("channel");
    let intake = ForwardingIntake { case: channel };
    let intake_addr = start(Component::new(ServiceKind::Intake, IntakeServiceServer::new(intake)), &shutdown).await;

    let mut client = IntakeServiceClient::connect(format!("http://{intake_addr}")).await.expect("connect");
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let mut request = Request::new(SubmitComplaintRequest::default());
    request.metadata_mut().insert("traceparent", format!("00-{trace_id}-{caller_span}-01").parse().expect("header"));
    request.metadata_mut().insert("x-redress-tenant", "acme".parse().expect("header"));
    client.submit_complaint(request).await.expect("submit");

    let seen = case.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "one outbound call");
    let parts: Vec<&str> = seen[0].split('-').collect();
    assert_eq!(parts.len(), 4, "a W3C traceparent, got {:?}", seen[0]);
    assert_eq!(parts[1], trace_id, "the outbound call continues the inbound trace");
    assert_ne!(parts[2], caller_span, "with intake's own span as parent");
    assert_eq!(parts[3], "01", "and the caller's sampling decision");

    shutdown.cancel();
    telemetry.shutdown();
}

#[tokio::test]
async fn calls_past_the_concurrency_limit_are_shed_and_slow_calls_cut_off() {
    let shutdown = CancellationToken::new();
    let options =
        ServerOptions { concurrency_limit: 1, request_timeout: Duration::from_millis(250), ..ServerOptions::default() };
    let component = Component::new(ServiceKind::Case, CaseServiceServer::new(RecordingCase::default()));
    let addr = start_with(component, options, &shutdown).await;
    let client = CaseServiceClient::connect(format!("http://{addr}")).await.expect("connect");

    let (mut first, mut second) = (client.clone(), client.clone());
    let slow = tokio::spawn(async move { first.get_case(of_acme(GetCaseRequest::default())).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let shed = second.get_case(of_acme(GetCaseRequest::default())).await.expect_err("the second call is shed");
    assert_eq!(shed.code(), tonic::Code::ResourceExhausted, "{shed:?}");

    let cut = slow.await.expect("join").expect_err("the slow call passes the request deadline");
    assert!(
        matches!(cut.code(), tonic::Code::Cancelled | tonic::Code::DeadlineExceeded),
        "a call past grpc.request_timeout is cut off: {cut:?}"
    );

    // With the slow call gone, the limit admits calls again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = client.clone();
    let again = third.create_case(of_acme(CreateCaseRequest::default())).await;
    assert!(again.is_ok(), "{again:?}");
    shutdown.cancel();
}
