//! The case service over gRPC, against real PostgreSQL and SQLite: the whole journey and every
//! illegal move, bad input, tenant isolation, and listing. Concurrency and idempotency are in
//! `concurrency.rs`.

mod support;

use std::time::Duration;

use futures::StreamExt;
use prost_types::FieldMask;
use redress_proto::case::v1::*;
use redress_proto::common::v1::{Money, Severity};
use redress_testkit::{Backend, assert_invalid, on_both_backends};
use support::{Client, Server, complaint};
use tonic::Code;

on_both_backends!(
    whole_journey_and_every_illegal_move,
    bad_input_is_refused_and_writes_nothing,
    tenants_are_isolated,
    listing_filters_and_pages,
);

fn eur(minor: i64) -> Money {
    Money { amount_minor: minor, currency_code: "EUR".into() }
}

/// Every move RPC, called on `name`, with arguments that would be valid in the right status.
async fn attempt(client: &mut Client, name: &str, rpc: &str) -> Result<(), tonic::Status> {
    let c = client.clone();
    let n = name.to_string();
    let inner = &mut client.inner;
    match rpc {
        "AcknowledgeCase" => inner
            .acknowledge_case(c.req(AcknowledgeCaseRequest {
                name: n,
                apologized: true,
                apology_text: "sorry".into(),
                ..Default::default()
            }))
            .await
            .map(drop),
        "StartInvestigation" => inner
            .start_investigation(c.req(StartInvestigationRequest { name: n, ..Default::default() }))
            .await
            .map(drop),
        "RequestCustomerInput" => inner
            .request_customer_input(c.req(RequestCustomerInputRequest {
                name: n,
                question: "?".into(),
                ..Default::default()
            }))
            .await
            .map(drop),
        "ProposeResolution" => inner
            .propose_resolution(c.req(ProposeResolutionRequest {
                name: n,
                offer: Some(ResolutionOffer {
                    kind: OfferKind::Refund as i32,
                    amount: Some(eur(100)),
                    ..Default::default()
                }),
                ..Default::default()
            }))
            .await
            .map(drop),
        "RecordCustomerResponse" => inner
            .record_customer_response(c.req(RecordCustomerResponseRequest {
                name: n,
                response: Some(record_customer_response_request::Response::Input("an answer".into())),
                ..Default::default()
            }))
            .await
            .map(drop),
        "ResolveCase" => inner
            .resolve_case(c.req(ResolveCaseRequest { name: n, fix_summary: "fixed".into(), ..Default::default() }))
            .await
            .map(drop),
        "CloseCase" => inner
            .close_case(c.req(CloseCaseRequest {
                name: n,
                root_cause: Some(RootCause { category: "c".into(), notes: "n".into() }),
                ..Default::default()
            }))
            .await
            .map(drop),
        "ReopenCase" => inner
            .reopen_case(c.req(ReopenCaseRequest { name: n, reason: "again".into(), ..Default::default() }))
            .await
            .map(drop),
        other => panic!("no such move {other}"),
    }
}

const MOVES: [&str; 8] = [
    "AcknowledgeCase",
    "StartInvestigation",
    "RequestCustomerInput",
    "ProposeResolution",
    "RecordCustomerResponse",
    "ResolveCase",
    "CloseCase",
    "ReopenCase",
];

/// Tries every move not in `allowed` and checks each is refused naming the status; returns how many.
async fn refuse_the_rest(client: &mut Client, name: &str, status: &str, allowed: &[&str]) -> usize {
    let mut refused = 0;
    for rpc in MOVES.iter().filter(|m| !allowed.contains(m)) {
        let err = attempt(client, name, rpc).await.expect_err(rpc);
        assert_eq!(err.code(), Code::FailedPrecondition, "{rpc} from {status}: {err:?}");
        assert!(err.message().contains(&format!("case is {status}")), "{rpc}: {}", err.message());
        for allowed_rpc in allowed {
            assert!(
                err.message().contains(allowed_rpc),
                "{rpc} from {status} should list {allowed_rpc}: {}",
                err.message()
            );
        }
        refused += 1;
    }
    refused
}

async fn get(client: &mut Client, name: &str) -> Case {
    let req = client.req(GetCaseRequest { name: name.into() });
    client.inner.get_case(req).await.expect("get").into_inner().case.expect("case")
}

async fn whole_journey_and_every_illegal_move(backend: Backend) {
    let server = Server::start(backend).await;
    let mut agent = server.client("acme", "agent-7", "agent").await;
    let mut case = complaint("Kettle never arrived");
    case.unhappy = true;
    case.unhappy_reason = "angry email".into();
    let case = agent.create(case).await;
    let name = case.name.clone();
    assert_eq!(case.status(), CaseStatus::New);
    assert!(case.reference.starts_with("RD-"));
    let mut refused = refuse_the_rest(&mut agent, &name, "NEW", &["AcknowledgeCase"]).await;

    let req = agent.req(AcknowledgeCaseRequest { name: name.clone(), ..Default::default() });
    let err = agent.inner.acknowledge_case(req).await.expect_err("an unhappy customer needs an apology");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("apology"), "{}", err.message());
    let req = agent.req(AcknowledgeCaseRequest {
        name: name.clone(),
        apologized: true,
        apology_text: "We are so sorry your kettle has not arrived.".into(),
        ..Default::default()
    });
    let case = agent.inner.acknowledge_case(req).await.expect("ack").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::Acknowledged);
    assert_eq!(case.acknowledgement.as_ref().expect("ack").actor, "agent-7");
    refused += refuse_the_rest(&mut agent, &name, "ACKNOWLEDGED", &["StartInvestigation"]).await;

    let req = agent.req(StartInvestigationRequest {
        name: name.clone(),
        note: "checking the carrier".into(),
        ..Default::default()
    });
    let case = agent.inner.start_investigation(req).await.expect("investigate").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::Investigating);
    assert_eq!(case.owner, "agent-7", "the agent who starts the investigation owns the case");
    refused += refuse_the_rest(
        &mut agent,
        &name,
        "INVESTIGATING",
        &["RequestCustomerInput", "ProposeResolution", "ResolveCase"],
    )
    .await;

    // Another agent may not move a case they do not own.
    let mut other = agent.as_actor("agent-9", "agent");
    let err = attempt(&mut other, &name, "RequestCustomerInput").await.expect_err("not the owner");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    let req = agent.req(RequestCustomerInputRequest {
        name: name.clone(),
        question: "Which address did you use?".into(),
        ..Default::default()
    });
    let case = agent.inner.request_customer_input(req).await.expect("ask").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::AwaitingCustomer);
    refused += refuse_the_rest(&mut agent, &name, "AWAITING_CUSTOMER", &["RecordCustomerResponse"]).await;

    let customer = agent.as_actor("customer", "integration");
    let req = customer.req(RecordCustomerResponseRequest {
        name: name.clone(),
        response: Some(record_customer_response_request::Response::Input("12 High Street, Leeds".into())),
        ..Default::default()
    });
    let case = agent.inner.record_customer_response(req).await.expect("answer").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::Investigating);

    let propose = |minor: i64| ProposeResolutionRequest {
        name: name.clone(),
        offer: Some(ResolutionOffer {
            kind: OfferKind::Refund as i32,
            amount: Some(eur(minor)),
            description: "A refund to your card".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let req = agent.req(propose(2500));
    let case = agent.inner.propose_resolution(req).await.expect("offer").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::ResolutionProposed);
    refused += refuse_the_rest(
        &mut agent,
        &name,
        "RESOLUTION_PROPOSED",
        &["ProposeResolution", "RecordCustomerResponse", "ResolveCase"],
    )
    .await;
    let counter = RecordCustomerResponseRequest {
        name: name.clone(),
        response: Some(record_customer_response_request::Response::OfferResponse(OfferResponse {
            decision: OfferDecision::Counter as i32,
            counter_amount: Some(eur(4000)),
            comment: "The kettle cost 40 euros".into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    let req = customer.req(counter);
    let case = agent.inner.record_customer_response(req).await.expect("counter").into_inner().case.expect("case");
    assert_eq!(case.offers.last().expect("offer").state(), OfferState::Countered);
    let req = agent.req(propose(4000));
    agent.inner.propose_resolution(req).await.expect("propose again");
    let accept = RecordCustomerResponseRequest {
        name: name.clone(),
        response: Some(record_customer_response_request::Response::OfferResponse(OfferResponse {
            decision: OfferDecision::Accept as i32,
            ..Default::default()
        })),
        ..Default::default()
    };
    let req = customer.req(accept);
    let case = agent.inner.record_customer_response(req).await.expect("accept").into_inner().case.expect("case");
    assert_eq!(case.offers.last().expect("offer").state(), OfferState::Accepted);

    let req = agent.req(ResolveCaseRequest { name: name.clone(), ..Default::default() });
    let case = agent.inner.resolve_case(req).await.expect("resolve").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::Resolved);
    assert!(case.resolution.as_ref().expect("resolution").accepted_offer.ends_with("/offers/2"));
    refused += refuse_the_rest(&mut agent, &name, "RESOLVED", &["CloseCase", "ReopenCase"]).await;

    let req = agent.req(CloseCaseRequest { name: name.clone(), ..Default::default() });
    let err = agent.inner.close_case(req).await.expect_err("closing needs a root cause");
    assert!(err.message().contains("root-cause"), "{}", err.message());
    let req = agent.req(CloseCaseRequest {
        name: name.clone(),
        root_cause: Some(RootCause { category: "carrier".into(), notes: "parcel lost at the Leeds depot".into() }),
        prevention_notes: "daily depot scan audit".into(),
        ..Default::default()
    });
    let case = agent.inner.close_case(req).await.expect("close").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::Closed);
    refused += refuse_the_rest(&mut agent, &name, "CLOSED", &["ReopenCase"]).await;
    let offers: Vec<OfferState> = case.offers.iter().map(|o| o.state()).collect();
    assert_eq!(offers, [OfferState::Countered, OfferState::Accepted], "the negotiation history is kept");

    let req = agent.req(ReopenCaseRequest {
        name: name.clone(),
        reason: "the new kettle leaks".into(),
        ..Default::default()
    });
    let case = agent.inner.reopen_case(req).await.expect("reopen").into_inner().case.expect("case");
    assert_eq!(case.status(), CaseStatus::Reopened);
    assert_eq!(case.reopen_count, 1);
    refused += refuse_the_rest(
        &mut agent,
        &name,
        "REOPENED",
        &["StartInvestigation", "RequestCustomerInput", "ProposeResolution", "ResolveCase"],
    )
    .await;
    assert!(refused >= 40, "{refused} illegal moves tried");

    let req = agent.req(ListTimelineEntriesRequest { parent: name.clone(), page_size: 5, ..Default::default() });
    let mut page = agent.inner.list_timeline_entries(req).await.expect("timeline").into_inner();
    let mut entries = page.entries.clone();
    while !page.next_page_token.is_empty() {
        let req = agent.req(ListTimelineEntriesRequest {
            parent: name.clone(),
            page_size: 5,
            page_token: page.next_page_token.clone(),
        });
        page = agent.inner.list_timeline_entries(req).await.expect("timeline").into_inner();
        entries.extend(page.entries.clone());
    }
    assert_eq!(entries.len() as i64, case.version, "an entry for every change, created included");
    let kinds: Vec<TimelineEntryKind> = entries.iter().map(|e| e.kind()).collect();
    for kind in [
        TimelineEntryKind::Created,
        TimelineEntryKind::Acknowledgement,
        TimelineEntryKind::StatusChange,
        TimelineEntryKind::CustomerResponse,
        TimelineEntryKind::Offer,
        TimelineEntryKind::RootCause,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?} entry in {kinds:?}");
    }
    assert!(entries.iter().all(|e| !e.actor.is_empty() && e.create_time.is_some()));
    server.stop().await;
}

async fn bad_input_is_refused_and_writes_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    let case = client.create(complaint("valid")).await;
    let head_before = client.all_cases().await.len();

    let create = |case: Case| CreateCaseRequest {
        parent: "tenants/acme".into(),
        case: Some(case),
        request_id: uuid::Uuid::now_v7().to_string(),
    };
    let mut no_customer = complaint("x");
    no_customer.customer = None;
    let mut huge = complaint("x");
    huge.description = "a".repeat(70 * 1024);
    let mut unknown_channel = complaint("x");
    unknown_channel.channel = 99;
    let mut bad_email = complaint("x");
    bad_email.customer.as_mut().expect("customer").email = "not-an-email".into();
    for (bad, field) in [
        (create(no_customer), "case.customer"),
        (create(huge), "case.description"),
        (create(unknown_channel), "case.channel"),
        (create(bad_email), "case.customer.email"),
        (CreateCaseRequest { request_id: String::new(), ..create(complaint("x")) }, "request_id"),
    ] {
        let req = client.req(bad);
        let err = client.inner.create_case(req).await.expect_err(field);
        assert_invalid(&err, field);
    }

    let req = client.req(ListCasesRequest {
        parent: "tenants/acme".into(),
        page_token: "Zm9yZ2Vk".into(),
        ..Default::default()
    });
    assert_invalid(&client.inner.list_cases(req).await.expect_err("forged token"), "page_token");
    let req = client.req(GetCaseRequest { name: "tenants/acme/kases/1".into() });
    assert_invalid(&client.inner.get_case(req).await.expect_err("malformed name"), "name");
    let req = client.req(GetCaseRequest { name: "tenants/acme/cases/not-a-uuid".into() });
    assert_invalid(&client.inner.get_case(req).await.expect_err("not a case id"), "name");

    // Move the case to where an offer could be made, then make a bad one.
    client
        .inner
        .acknowledge_case(client.req(AcknowledgeCaseRequest { name: case.name.clone(), ..Default::default() }))
        .await
        .expect("ack");
    client
        .inner
        .start_investigation(client.req(StartInvestigationRequest { name: case.name.clone(), ..Default::default() }))
        .await
        .expect("start");
    let before = get(&mut client, &case.name).await;
    let negative = ProposeResolutionRequest {
        name: case.name.clone(),
        offer: Some(ResolutionOffer { kind: OfferKind::Refund as i32, amount: Some(eur(-500)), ..Default::default() }),
        ..Default::default()
    };
    let req = client.req(negative);
    assert_invalid(&client.inner.propose_resolution(req).await.expect_err("negative"), "offer.amount.amount_minor");
    let unknown_kind = ProposeResolutionRequest {
        name: case.name.clone(),
        offer: Some(ResolutionOffer { kind: 42, ..Default::default() }),
        ..Default::default()
    };
    let req = client.req(unknown_kind);
    assert_invalid(&client.inner.propose_resolution(req).await.expect_err("unknown kind"), "offer.kind");
    let bad_mask = UpdateCaseRequest {
        case: Some(Case { name: case.name.clone(), status: CaseStatus::Closed as i32, ..Default::default() }),
        update_mask: Some(FieldMask { paths: vec!["status".into()] }),
        ..Default::default()
    };
    let req = client.req(bad_mask);
    assert_invalid(&client.inner.update_case(req).await.expect_err("status is not updatable"), "update_mask.paths[0]");

    let after = get(&mut client, &case.name).await;
    assert_eq!(after, before, "refused requests change nothing");
    assert_eq!(client.all_cases().await.len(), head_before, "refused creates write nothing");
    server.stop().await;
}

async fn tenants_are_isolated(backend: Backend) {
    let server = Server::start(backend).await;
    let mut acme = server.client("acme", "agent-1", "agent").await;
    let mut globex = server.client("globex", "agent-1", "agent").await;
    let secret = globex.create(complaint("globex only")).await;
    acme.create(complaint("acme only")).await;

    let req = acme.req(GetCaseRequest { name: secret.name.clone() });
    assert_eq!(acme.inner.get_case(req).await.expect_err("other tenant").code(), Code::NotFound);
    let acme_name = secret.name.replace("tenants/globex", "tenants/acme");
    let req = acme.req(GetCaseRequest { name: acme_name });
    assert_eq!(acme.inner.get_case(req).await.expect_err("same id, own tenant").code(), Code::NotFound);
    let req = acme.req(AddTimelineEntryRequest {
        parent: secret.name.clone(),
        entry: Some(TimelineEntry { kind: TimelineEntryKind::Note as i32, text: "peek".into(), ..Default::default() }),
        request_id: String::new(),
    });
    assert_eq!(acme.inner.add_timeline_entry(req).await.expect_err("write to other tenant").code(), Code::NotFound);

    let listed = acme.all_cases().await;
    assert_eq!(listed.len(), 1);
    assert!(listed.iter().all(|c| c.name.starts_with("tenants/acme/")));
    let req = acme.req(ListCasesRequest { parent: "tenants/globex".into(), ..Default::default() });
    assert_eq!(acme.inner.list_cases(req).await.expect_err("other parent").code(), Code::PermissionDenied);

    let req = acme.req(StreamEventsRequest { parent: "tenants/-".into(), ..Default::default() });
    assert_eq!(acme.inner.stream_events(req).await.expect_err("every tenant").code(), Code::PermissionDenied);
    let req = acme.req(StreamEventsRequest { parent: "tenants/globex".into(), ..Default::default() });
    assert_eq!(acme.inner.stream_events(req).await.expect_err("other tenant").code(), Code::PermissionDenied);
    let req = acme.req(StreamEventsRequest { parent: "tenants/acme".into(), ..Default::default() });
    let mut stream = acme.inner.stream_events(req).await.expect("own stream").into_inner();
    let first =
        tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("events").expect("some").expect("ok");
    assert!(!first.events.is_empty());
    assert!(first.events.iter().all(|e| e.tenant == "acme"), "only the caller's tenant");
    server.stop().await;
}

async fn listing_filters_and_pages(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    for i in 0..7 {
        let mut case = complaint(&format!("case {i}"));
        case.severity = if i % 2 == 0 { Severity::High as i32 } else { Severity::Low as i32 };
        case.unhappy = i == 3;
        client.create(case).await;
    }
    let mut token = String::new();
    let mut seen = Vec::new();
    loop {
        let req = client.req(ListCasesRequest {
            parent: client.parent(),
            page_size: 3,
            page_token: token,
            ..Default::default()
        });
        let page = client.inner.list_cases(req).await.expect("page").into_inner();
        seen.extend(page.cases.into_iter().map(|c| c.subject));
        // A case created mid-listing appears before the first page, not in the remaining ones.
        if seen.len() == 3 {
            client.create(complaint("late arrival")).await;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("case {i}")).collect();
    assert_eq!(seen, expected, "newest first, each once, stable while cases are created");

    let filter = CaseFilter { severities: vec![Severity::High as i32], ..Default::default() };
    let req = client.req(ListCasesRequest { parent: client.parent(), filter: Some(filter), ..Default::default() });
    assert_eq!(client.inner.list_cases(req).await.expect("filter").into_inner().cases.len(), 4);
    let filter = CaseFilter { unhappy: Some(true), ..Default::default() };
    let req = client.req(ListCasesRequest { parent: client.parent(), filter: Some(filter), ..Default::default() });
    let unhappy = client.inner.list_cases(req).await.expect("filter").into_inner().cases;
    assert_eq!(unhappy.len(), 1);
    assert_eq!(unhappy[0].subject, "case 3");
    let req = client.req(ListCasesRequest {
        parent: client.parent(),
        order_by: CaseOrderBy::SeverityDesc as i32,
        page_size: 2,
        ..Default::default()
    });
    let page = client.inner.list_cases(req).await.expect("by severity").into_inner();
    assert!(page.cases.iter().all(|c| c.severity() == Severity::High));
    let filter = CaseFilter { customer_id: "nobody".into(), ..Default::default() };
    let req = client.req(ListCasesRequest { parent: client.parent(), filter: Some(filter), ..Default::default() });
    assert!(client.inner.list_cases(req).await.expect("filter").into_inner().cases.is_empty());
    server.stop().await;
}
