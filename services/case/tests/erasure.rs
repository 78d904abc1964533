//! Erasing a customer's personal data, against real PostgreSQL and SQLite: every case of theirs
//! (found by CRM id or by email) is anonymised, with its timeline and its earlier events, and
//! nothing of them is left in the case service's tables; statuses and counts stay; the erasure
//! is audited and idempotent; bad requests change nothing. The retention job anonymises a case
//! closed for longer than the tenant's retention period, and only that one.

mod support;

use std::time::Duration;

use futures::StreamExt;
use prost_types::FieldMask;
use redress_proto::case::v1::*;
use redress_proto::common::v1::{Customer, Money};
use redress_testkit::{Backend, assert_invalid, on_both_backends};
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use support::{Client, Server, complaint};
use tonic::Code;

on_both_backends!(
    erasing_a_customer_leaves_nothing_of_them_and_keeps_the_counts,
    retention_anonymises_old_closed_cases
);

/// What the customer of `complaint()` is: their name, email, phone and words.
const PERSONAL: &[&str] = &[
    "Ana Silva",
    "ana@example.com",
    "ANA@example.com",
    "+447700900123",
    "nobody answers my emails",
    "Kettle never came",
    "Toaster sparks",
    "Called Ana back",
    "Sorry Ana",
    "refund for Ana",
];

fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The personal strings found in `text`.
fn personal_in(text: &str) -> Vec<&'static str> {
    PERSONAL.iter().copied().filter(|p| text.contains(p)).collect()
}

async fn get(client: &mut Client, name: &str) -> Case {
    let req = client.req(GetCaseRequest { name: name.into() });
    client.inner.get_case(req).await.expect("get").into_inner().case.expect("case")
}

async fn timeline(client: &mut Client, name: &str) -> Vec<TimelineEntry> {
    let req = client.req(ListTimelineEntriesRequest { parent: name.into(), page_size: 1000, ..Default::default() });
    client.inner.list_timeline_entries(req).await.expect("timeline").into_inner().entries
}

/// Every event of the tenant, read from the start until the log's head and until `erasures`
/// PERSONAL_DATA_ERASED events have arrived.
async fn all_events(client: &Client, erasures: usize) -> Vec<CaseEvent> {
    let mut reader = client.as_actor("system:test", "system");
    let req = reader.req(StreamEventsRequest { parent: reader.parent(), after_sequence: 0, event_types: vec![] });
    let mut stream = reader.inner.stream_events(req).await.expect("stream").into_inner();
    let mut events: Vec<CaseEvent> = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("events keep coming")
            .expect("open")
            .expect("ok");
        events.extend(message.events);
        let erased = events.iter().filter(|e| e.r#type == CaseEventType::PersonalDataErased as i32).count();
        if erased >= erasures && events.last().is_some_and(|e| e.sequence >= message.head_sequence) {
            return events;
        }
    }
}

/// Every stored document of the case service, as bytes, from its own tables.
async fn stored_bytes(server: &Server) -> Vec<u8> {
    let db = Database::connect(server.store.url.as_str()).await.expect("connect");
    let backend = db.get_database_backend();
    let prefix = if backend == DatabaseBackend::Postgres { "redress_case." } else { "" };
    let mut all = Vec::new();
    for (table, column) in
        [("cases", "document"), ("timeline_entries", "document"), ("events", "payload"), ("erasures", "document")]
    {
        let sql = format!("SELECT {column} AS b FROM {prefix}{table}");
        for row in db.query_all_raw(Statement::from_string(backend, sql)).await.expect("scan") {
            all.extend(row.try_get::<Vec<u8>>("", "b").expect("bytes"));
        }
    }
    let sql = format!("SELECT customer_id, COALESCE(external_reference, '') AS r FROM {prefix}cases");
    for row in db.query_all_raw(Statement::from_string(backend, sql)).await.expect("scan") {
        all.extend(row.try_get::<String>("", "customer_id").expect("id").into_bytes());
        all.extend(row.try_get::<String>("", "r").expect("reference").into_bytes());
    }
    all
}

async fn erasing_a_customer_leaves_nothing_of_them_and_keeps_the_counts(backend: Backend) {
    let server = Server::start(backend).await;
    let mut agent = server.client("acme", "agent-1", "agent").await;
    let mut admin = agent.as_actor("admin-1", "admin");

    // Two cases of Ana's: one by her CRM id, one from a web form with only her email (upper case).
    let first = agent.create(complaint("Kettle never came")).await;
    let mut by_email = complaint("Toaster sparks");
    by_email.customer = Some(Customer { email: "ANA@example.com".into(), ..Default::default() });
    by_email.external_reference = "form-ana-7".into();
    let second = agent.create(by_email).await;
    let mut bens = complaint("Ben's blender");
    bens.customer = Some(Customer {
        customer_id: "cust-7".into(),
        display_name: "Ben Okafor".into(),
        email: "ben@example.com".into(),
        ..Default::default()
    });
    bens.description = "The blender stopped after a week.".into();
    let ben = agent.create(bens).await;

    // History on the first: an apology, a note, an offer, all quoting her.
    let req = agent.req(AcknowledgeCaseRequest {
        name: first.name.clone(),
        apologized: true,
        apology_text: "Sorry Ana, that is not good enough".into(),
        ..Default::default()
    });
    agent.inner.acknowledge_case(req).await.expect("acknowledge");
    let req = agent.req(AddTimelineEntryRequest {
        parent: first.name.clone(),
        entry: Some(TimelineEntry {
            kind: TimelineEntryKind::Call as i32,
            text: "Called Ana back on +447700900123".into(),
            ..Default::default()
        }),
        request_id: rid(),
    });
    agent.inner.add_timeline_entry(req).await.expect("note");
    let req = agent.req(StartInvestigationRequest { name: first.name.clone(), ..Default::default() });
    agent.inner.start_investigation(req).await.expect("investigate");
    let req = agent.req(ProposeResolutionRequest {
        name: first.name.clone(),
        offer: Some(ResolutionOffer {
            kind: OfferKind::Refund as i32,
            amount: Some(Money { amount_minor: 2500, currency_code: "EUR".into() }),
            description: "A full refund for Ana".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    agent.inner.propose_resolution(req).await.expect("offer");
    let before = get(&mut agent, &first.name).await;
    assert!(!personal_in(&format!("{before:?}")).is_empty(), "the case holds her data to begin with");

    // Refused: not an admin; and bad requests, each naming its field. Nothing changes.
    let erase = |customer_id: &str, email: &str, phone: &str, reason: &str, request_id: &str| EraseCustomerRequest {
        parent: "tenants/acme".into(),
        customer_id: customer_id.into(),
        email: email.into(),
        phone: phone.into(),
        reason: reason.into(),
        request_id: request_id.into(),
    };
    let req = agent.req(erase("cust-42", "", "", "GDPR request 4711", &rid()));
    assert_eq!(agent.inner.erase_customer(req).await.expect_err("agent").code(), Code::PermissionDenied);
    for (request, field) in [
        (erase("", "", "", "GDPR request 4711", &rid()), "customer_id"),
        (erase("", "ana-at-example.com", "", "GDPR request 4711", &rid()), "email"),
        (erase("", "", "07700 900123", "GDPR request 4711", &rid()), "phone"),
        (erase("cust-42", "", "", "", &rid()), "reason"),
        (erase("cust-42", "", "", "GDPR request 4711", ""), "request_id"),
    ] {
        let req = admin.req(request);
        assert_invalid(&admin.inner.erase_customer(req).await.expect_err(field), field);
    }
    let req =
        admin.req(EraseCustomerRequest { parent: "tenants/globex".into(), ..erase("cust-42", "", "", "x", &rid()) });
    assert_eq!(admin.inner.erase_customer(req).await.expect_err("other tenant").code(), Code::PermissionDenied);
    assert_eq!(get(&mut agent, &first.name).await, before, "refused requests changed nothing");

    // The erasure, and a retry of it.
    let request_id = rid();
    let req = admin.req(erase("cust-42", "ana@example.com", "", "GDPR request 4711", &request_id));
    let erasure = admin.inner.erase_customer(req).await.expect("erase").into_inner().erasure.expect("erasure");
    let mut erased = erasure.cases.clone();
    erased.sort();
    let mut expected = vec![first.name.clone(), second.name.clone()];
    expected.sort();
    assert_eq!(erased, expected, "both of her cases, found by CRM id and by email");
    assert_eq!((erasure.trigger(), erasure.requester.as_str()), (ErasureTrigger::Request, "admin-1"));
    assert_eq!((erasure.customer_id.as_str(), erasure.reason.as_str()), ("cust-42", "GDPR request 4711"));
    assert_eq!(erasure.subject_digest.len(), 64);
    assert!(personal_in(&format!("{erasure:?}")).is_empty(), "the audit record holds no contact details");
    let req = admin.req(erase("cust-42", "ana@example.com", "", "GDPR request 4711", &request_id));
    let again = admin.inner.erase_customer(req).await.expect("retry").into_inner().erasure.expect("erasure");
    assert_eq!(again, erasure, "a retry returns the first erasure");

    // The cases: nothing of her, and everything reports count.
    for name in [&first.name, &second.name] {
        let case = get(&mut agent, name).await;
        assert_eq!(personal_in(&format!("{case:?}")), Vec::<&str>::new(), "{name}");
        let customer = case.customer.as_ref().expect("customer");
        assert!(customer.customer_id.starts_with("erased-"), "{customer:?}");
        assert!(case.external_reference.is_empty() && case.attachments.is_empty());
        let entries = timeline(&mut agent, name).await;
        assert_eq!(personal_in(&format!("{entries:?}")), Vec::<&str>::new(), "{name} timeline");
        let last = entries.last().expect("entries");
        assert!(last.text.contains(&erasure.name), "the timeline records the erasure: {last:?}");
    }
    let after = get(&mut agent, &first.name).await;
    assert_eq!(after.status, before.status);
    assert_eq!(
        (after.category.as_str(), after.severity, after.channel),
        (before.category.as_str(), before.severity, before.channel)
    );
    assert_eq!(after.offers[0].amount, before.offers[0].amount, "amounts stay");
    assert_eq!(after.version, before.version + 1);
    assert_eq!(
        get(&mut agent, &first.name).await.customer.unwrap().customer_id,
        get(&mut agent, &second.name).await.customer.unwrap().customer_id,
        "one anonymous id for the cases of one erasure"
    );

    // Ben is untouched.
    let bens = get(&mut agent, &ben.name).await;
    assert_eq!(bens.customer.as_ref().map(|c| c.display_name.as_str()), Some("Ben Okafor"));

    // The event log: every event of hers redacted, and one PERSONAL_DATA_ERASED per case.
    let events = all_events(&agent, 2).await;
    for event in events.iter().filter(|e| e.case.as_ref().is_some_and(|c| expected.contains(&c.name))) {
        assert_eq!(personal_in(&format!("{event:?}")), Vec::<&str>::new(), "event {}", event.sequence);
    }
    let erasures: Vec<&CaseEvent> =
        events.iter().filter(|e| e.r#type == CaseEventType::PersonalDataErased as i32).collect();
    assert_eq!(erasures.len(), 2);
    assert!(erasures.iter().all(|e| e.erasure.as_ref().is_some_and(|x| x.name == erasure.name)));

    // Nothing of her in any stored document of the case service; Ben's data is still there.
    let stored = String::from_utf8_lossy(&stored_bytes(&server).await).into_owned();
    assert_eq!(personal_in(&stored), Vec::<&str>::new(), "stored bytes");
    assert!(stored.contains("Ben Okafor"), "the scan reads the stored documents");
    assert!(!stored.contains("form-ana-7"), "external references go too");

    // The audit, and a second request that finds nothing left.
    let req = admin.req(EraseCustomerRequest { ..erase("cust-42", "", "", "second request", &rid()) });
    let none = admin.inner.erase_customer(req).await.expect("erase again").into_inner().erasure.expect("erasure");
    assert!(none.cases.is_empty(), "nothing left to erase: {none:?}");
    let events = all_events(&agent, 3).await;
    let announced: Vec<&CaseEvent> =
        events.iter().filter(|e| e.r#type == CaseEventType::PersonalDataErased as i32 && e.case.is_none()).collect();
    assert_eq!(announced.len(), 1, "an erasure that finds no case is announced without one");
    assert_eq!(announced[0].erasure.as_ref(), Some(&none));
    let req = admin.req(ListErasuresRequest { parent: "tenants/acme".into(), page_size: 1, ..Default::default() });
    let page = admin.inner.list_erasures(req).await.expect("list").into_inner();
    assert_eq!(
        page.erasures.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        vec![none.name.as_str()],
        "newest first"
    );
    let req = admin.req(ListErasuresRequest {
        parent: "tenants/acme".into(),
        page_size: 1,
        page_token: page.next_page_token.clone(),
    });
    let next = admin.inner.list_erasures(req).await.expect("next page").into_inner();
    assert_eq!(next.erasures, vec![erasure.clone()]);
    assert!(next.next_page_token.is_empty());
    let req = agent.req(ListErasuresRequest { parent: "tenants/acme".into(), ..Default::default() });
    assert_eq!(agent.inner.list_erasures(req).await.expect_err("agent").code(), Code::PermissionDenied);
    server.stop().await;
}

/// Moves a case from NEW to CLOSED.
async fn close(client: &mut Client, name: &str) {
    let n = name.to_string();
    let req = client.req(AcknowledgeCaseRequest {
        name: n.clone(),
        apologized: true,
        apology_text: "Sorry Ana".into(),
        ..Default::default()
    });
    client.inner.acknowledge_case(req).await.expect("acknowledge");
    let req = client.req(StartInvestigationRequest { name: n.clone(), ..Default::default() });
    client.inner.start_investigation(req).await.expect("investigate");
    let req = client.req(ResolveCaseRequest {
        name: n.clone(),
        fix_summary: "sent Ana a new kettle".into(),
        ..Default::default()
    });
    client.inner.resolve_case(req).await.expect("resolve");
    let req = client.req(CloseCaseRequest {
        name: n,
        root_cause: Some(RootCause { category: "carrier".into(), notes: "the carrier lost it".into() }),
        ..Default::default()
    });
    client.inner.close_case(req).await.expect("close");
}

async fn retention_anonymises_old_closed_cases(backend: Backend) {
    let server = Server::start(backend).await;
    let mut agent = server.client("acme", "agent-1", "agent").await;
    let mut admin = agent.as_actor("admin-1", "admin");
    let old = agent.create(complaint("Kettle never came")).await;
    let recent = agent.create(complaint("Kettle never came")).await;
    let open = agent.create(complaint("Kettle never came")).await;
    close(&mut agent, &old.name).await;
    close(&mut agent, &recent.name).await;

    // A retention period under an hour is refused; an hour is accepted.
    let set = |seconds: i64| UpdatePlaybookRequest {
        playbook: Some(Playbook {
            name: "tenants/acme/playbook".into(),
            retention: Some(prost_types::Duration { seconds, nanos: 0 }),
            ..Default::default()
        }),
        update_mask: Some(FieldMask { paths: vec!["retention".into()] }),
    };
    let req = admin.req(set(1800));
    assert_invalid(&admin.inner.update_playbook(req).await.expect_err("30 minutes"), "playbook.retention");
    let req = admin.req(set(3600));
    let playbook = admin.inner.update_playbook(req).await.expect("an hour").into_inner().playbook.expect("playbook");
    assert_eq!(playbook.retention.map(|d| d.seconds), Some(3600));

    // The old case was closed two hours ago, as far as the database knows.
    let db = Database::connect(server.store.url.as_str()).await.expect("connect");
    let backend = db.get_database_backend();
    let prefix = if backend == DatabaseBackend::Postgres { "redress_case." } else { "" };
    let id = old.name.rsplit('/').next().expect("id");
    let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
    let sql = match backend {
        DatabaseBackend::Postgres => format!("UPDATE {prefix}cases SET update_time = $1 WHERE id = $2"),
        _ => format!("UPDATE {prefix}cases SET update_time = ? WHERE id = ?"),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [two_hours_ago.into(), uuid::Uuid::parse_str(id).expect("uuid").into()],
    ))
    .await
    .expect("backdate");

    // The job (every 200 ms in this test) anonymises it, and only it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let case = loop {
        let case = get(&mut agent, &old.name).await;
        if case.customer.as_ref().is_some_and(|c| c.customer_id.starts_with("erased-")) {
            break case;
        }
        assert!(tokio::time::Instant::now() < deadline, "the retention job never anonymised the old case");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(personal_in(&format!("{case:?}")), Vec::<&str>::new());
    assert_eq!(case.status(), CaseStatus::Closed);
    assert_eq!(case.root_cause.as_ref().map(|r| r.category.as_str()), Some("carrier"), "the root-cause category stays");
    for kept in [&recent.name, &open.name] {
        let case = get(&mut agent, kept).await;
        assert_eq!(case.customer.as_ref().map(|c| c.display_name.as_str()), Some("Ana Silva"), "{kept} is kept");
    }
    let req = admin.req(ListErasuresRequest { parent: "tenants/acme".into(), ..Default::default() });
    let erasures = admin.inner.list_erasures(req).await.expect("list").into_inner().erasures;
    assert_eq!(erasures.len(), 1, "one pass or many, one erasure: {erasures:?}");
    let erasure = &erasures[0];
    assert_eq!((erasure.trigger(), erasure.requester.as_str()), (ErasureTrigger::Retention, "system:case"));
    assert_eq!(erasure.cases, vec![old.name.clone()]);
    assert!(erasure.customer_id.is_empty());
    server.stop().await;
}
