//! The case service over gRPC under concurrency, against real PostgreSQL and SQLite: idempotent
//! creates racing each other, the ordered event log under concurrent writers, optimistic
//! concurrency, and retries and external references that never duplicate a case.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use prost_types::FieldMask;
use redress_proto::case::v1::*;
use redress_testkit::{Backend, assert_invalid, on_both_backends};
use support::{Client, Server, complaint};
use tonic::Code;

on_both_backends!(
    fifty_concurrent_creates_make_one_case,
    concurrent_writers_and_a_streaming_reader,
    optimistic_concurrency,
    retries_and_external_references_are_idempotent,
);

async fn get(client: &mut Client, name: &str) -> Case {
    let req = client.req(GetCaseRequest { name: name.into() });
    client.inner.get_case(req).await.expect("get").into_inner().case.expect("case")
}

async fn fifty_concurrent_creates_make_one_case(backend: Backend) {
    let server = Server::start(backend).await;
    let client = server.client("acme", "intake", "integration").await;
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut calls = Vec::new();
    for _ in 0..50 {
        let mut c = client.clone();
        let request =
            CreateCaseRequest { parent: c.parent(), case: Some(complaint("same")), request_id: request_id.clone() };
        calls.push(tokio::spawn(async move {
            let req = c.req(request);
            c.inner.create_case(req).await.map(|r| r.into_inner())
        }));
    }
    let mut names = HashSet::new();
    let mut created = 0;
    for call in calls {
        let response = call.await.expect("join").expect("create");
        names.insert(response.case.expect("case").name);
        created += usize::from(response.created);
    }
    assert_eq!(names.len(), 1, "every call returns the same case");
    assert_eq!(created, 1, "exactly one call created it");
    let mut reader = client.clone();
    assert_eq!(reader.all_cases().await.len(), 1, "exactly one case exists");
    server.stop().await;
}

async fn concurrent_writers_and_a_streaming_reader(backend: Backend) {
    const WRITERS: usize = 8;
    const EVENTS: usize = 500;
    let server = Server::start(backend).await;
    let client = server.client("acme", "agent-1", "agent").await;
    let consumer = client.as_actor("system:test", "system");

    let mut reader = consumer.clone();
    let read = tokio::spawn(async move {
        let req =
            reader.req(StreamEventsRequest { parent: "tenants/-".into(), after_sequence: 0, event_types: vec![] });
        let mut stream = reader.inner.stream_events(req).await.expect("stream").into_inner();
        let mut seen = Vec::new();
        while seen.len() < WRITERS * EVENTS {
            let message = tokio::time::timeout(Duration::from_secs(60), stream.next())
                .await
                .expect("events keep coming")
                .expect("open")
                .expect("ok");
            seen.extend(message.events);
        }
        // Nothing more: no duplicates arrive after the last.
        let extra = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
        if let Ok(Some(Ok(message))) = extra {
            assert!(message.events.is_empty(), "unexpected extra events");
        }
        seen
    });

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let mut c = client.clone();
        writers.push(tokio::spawn(async move {
            let case = c.create(complaint(&format!("writer {w}"))).await;
            for i in 1..EVENTS {
                let entry = TimelineEntry {
                    kind: TimelineEntryKind::Note as i32,
                    text: format!("note {i}"),
                    ..Default::default()
                };
                let req = c.req(AddTimelineEntryRequest {
                    parent: case.name.clone(),
                    entry: Some(entry),
                    request_id: String::new(),
                });
                c.inner.add_timeline_entry(req).await.expect("add");
            }
            case.name
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let seen = read.await.expect("reader");
    assert_eq!(seen.len(), WRITERS * EVENTS);
    for (i, event) in seen.iter().enumerate() {
        assert_eq!(event.sequence, i as i64 + 1, "every event exactly once, in sequence order");
    }
    let ids: HashSet<&str> = seen.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), seen.len());
    // Per case, versions arrive in order.
    let mut last_version = std::collections::HashMap::new();
    for event in &seen {
        let case = event.case.as_ref().expect("snapshot");
        let previous = last_version.insert(case.name.clone(), case.version).unwrap_or(0);
        assert_eq!(case.version, previous + 1, "events of a case arrive in order");
    }
    server.stop().await;
}

async fn optimistic_concurrency(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    let case = client.create(complaint("two editors")).await;
    let update = |subject: &str| UpdateCaseRequest {
        case: Some(Case { name: case.name.clone(), subject: subject.into(), ..Default::default() }),
        update_mask: Some(FieldMask { paths: vec!["subject".into()] }),
        expected_version: case.version,
        request_id: String::new(),
    };
    let (mut a, mut b) = (client.clone(), client.clone());
    let (ra, rb) = (a.req(update("first")), b.req(update("second")));
    let (first, second) = tokio::join!(a.inner.update_case(ra), b.inner.update_case(rb));
    let outcomes = [first.map(|r| r.into_inner()), second.map(|r| r.into_inner())];
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "exactly one update wins: {outcomes:?}");
    let lost = outcomes.iter().find_map(|o| o.as_ref().err()).expect("a loser");
    assert_eq!(lost.code(), Code::Aborted);
    assert!(
        lost.message().contains(&format!("version {}", case.version + 1)),
        "names the current version: {}",
        lost.message()
    );
    let now = get(&mut client, &case.name).await;
    assert_eq!(now.version, case.version + 1);
    server.stop().await;
}

async fn retries_and_external_references_are_idempotent(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client("acme", "agent-1", "agent").await;
    let case = client.create(complaint("retry")).await;
    let add = AddTimelineEntryRequest {
        parent: case.name.clone(),
        entry: Some(TimelineEntry {
            kind: TimelineEntryKind::Call as i32,
            text: "called the customer".into(),
            ..Default::default()
        }),
        request_id: "call-1".into(),
    };
    let first = client.inner.add_timeline_entry(client.req(add.clone())).await.expect("first").into_inner();
    let again = client.inner.add_timeline_entry(client.req(add.clone())).await.expect("retry").into_inner();
    assert_eq!(first.entry, again.entry, "a retry returns the first entry");
    assert_eq!(get(&mut client, &case.name).await.version, case.version + 1, "and adds nothing");
    let misuse = CreateTaskRequest {
        parent: case.name.clone(),
        task: Some(Task { title: "t".into(), ..Default::default() }),
        request_id: "call-1".into(),
    };
    assert_invalid(&client.inner.create_task(client.req(misuse)).await.expect_err("reused key"), "request_id");

    let escalation = |level: i32| RecordEscalationRequest {
        name: case.name.clone(),
        escalation: Some(EscalationRecord { level, reason: "first response breached".into(), ..Default::default() }),
        request_id: format!("{}/first_response/{level}", case.name),
    };
    for _ in 0..3 {
        client.inner.record_escalation(client.req(escalation(2))).await.expect("escalate");
    }
    assert_eq!(get(&mut client, &case.name).await.escalations.len(), 1, "one record per key, ever");

    let sla = |breached: bool, key: &str| RecordSlaStatusRequest {
        name: case.name.clone(),
        status: Some(SlaStatus {
            clock: redress_proto::common::v1::SlaClockKind::FirstResponse as i32,
            target: Some(prost_types::Duration { seconds: 7200, nanos: 0 }),
            business_time_used: Some(prost_types::Duration { seconds: 7260, nanos: 0 }),
            breached,
            ..Default::default()
        }),
        request_id: key.into(),
    };
    client.inner.record_sla_status(client.req(sla(false, "sla-1"))).await.expect("sla");
    client.inner.record_sla_status(client.req(sla(true, "sla-2"))).await.expect("sla");
    let recorded = client.inner.record_sla_status(client.req(sla(true, "sla-2"))).await.expect("retry").into_inner();
    let sla_now = recorded.case.expect("case").sla;
    assert_eq!(sla_now.len(), 1, "one state per clock");
    assert!(sla_now[0].breached);

    let mut from_email = complaint("same email twice");
    from_email.external_reference = "<CAF123@mail.example.com>".into();
    let one = client.create(from_email.clone()).await;
    let req = client.req(CreateCaseRequest {
        parent: client.parent(),
        case: Some(from_email),
        request_id: "other-key".into(),
    });
    let two = client.inner.create_case(req).await.expect("second").into_inner();
    assert!(!two.created);
    assert_eq!(two.case.expect("case").name, one.name, "the same channel and external reference is the same case");
    server.stop().await;
}
