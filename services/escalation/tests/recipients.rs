//! Who an escalation tells: an alert with nobody to go to goes to the case's team lead, else
//! to customer care, and the record says why; and a firing follows the case's current owner,
//! even when the case event stream has not caught up after a restart.

mod support;

use std::time::{Duration, Instant};

use redress_proto::case::v1::AssignCaseRequest;
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{Escalation, ListEscalationsRequest, SlaPolicy};
use redress_testkit::Backend;
use sea_orm::{ConnectionTrait, Database, Statement};
use support::{Clients, Stack, Timers, secs};

async fn redis_stack() -> Stack {
    let prefix = redress_testkit::redis_prefix().await;
    Stack::start(Backend::Postgres, Timers::Redis(redress_testkit::redis_url(), prefix)).await
}

/// A policy with the default ladder: the warning (level 1) goes to the owner only.
async fn policy(clients: &mut Clients, first_response: f64) {
    clients.policy(SlaPolicy { priority: 1, first_response_target: secs(first_response), ..Default::default() }).await;
}

/// Waits up to `limit` for the case's escalation at `level`.
async fn escalation_at(clients: &mut Clients, case: &str, level: i32, limit: Duration) -> Escalation {
    let deadline = Instant::now() + limit;
    loop {
        let req = clients.req(ListEscalationsRequest {
            parent: clients.parent(),
            case: case.into(),
            level: Some(level),
            ..Default::default()
        });
        let listed = clients.escalation.list_escalations(req).await.expect("list").into_inner().escalations;
        if let Some(found) = listed.into_iter().next() {
            return found;
        }
        assert!(Instant::now() < deadline, "no level {level} escalation of {case} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_warning_with_no_owner_goes_to_the_team_lead_else_customer_care_and_says_why() {
    let stack = redis_stack().await;
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    clients.staff("lead-1", StaffRole::TeamLead, "billing", "lead1@example.com").await;
    clients.staff("care-1", StaffRole::CustomerCare, "", "care1@example.com").await;
    policy(&mut clients, 2.0).await;
    let mut lonely = stack.clients("globex", "admin-1", "admin").await;
    policy(&mut lonely, 2.0).await;

    let billing = clients.open("Charged twice", "", "billing").await;
    let shipping = clients.open("Parcel lost", "", "shipping").await;
    let nobody = lonely.open("No reply", "", "billing").await;

    let warned = escalation_at(&mut clients, &billing.name, 1, Duration::from_secs(10)).await;
    assert_eq!(warned.notified_staff, ["tenants/acme/staff/lead-1"], "the team lead is told");
    assert!(warned.notified_because.contains("the case has no owner"), "{}", warned.notified_because);
    assert!(warned.notified_because.contains("team lead instead"), "{}", warned.notified_because);

    let warned = escalation_at(&mut clients, &shipping.name, 1, Duration::from_secs(10)).await;
    assert_eq!(warned.notified_staff, ["tenants/acme/staff/care-1"], "with no team lead, customer care is told");
    assert!(warned.notified_because.contains("the case has no owner"), "{}", warned.notified_because);
    assert!(warned.notified_because.contains("no team lead"), "{}", warned.notified_because);
    assert!(warned.notified_because.contains("customer care instead"), "{}", warned.notified_because);

    let warned = escalation_at(&mut lonely, &nobody.name, 1, Duration::from_secs(10)).await;
    assert!(warned.notified_staff.is_empty(), "nobody to tell: {:?}", warned.notified_staff);
    assert!(warned.notified_because.contains("nobody was told"), "{}", warned.notified_because);

    // An owner who can be reached is told, as the ladder says.
    clients.staff("agent-1", StaffRole::Agent, "billing", "agent1@example.com").await;
    let owned = clients.open("Wrong address", "agent-1", "billing").await;
    let warned = escalation_at(&mut clients, &owned.name, 1, Duration::from_secs(10)).await;
    assert_eq!(warned.notified_staff, ["tenants/acme/staff/agent-1"]);
    assert_eq!(warned.notified_because, "named by the escalation: the owner");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_restart_a_firing_alerts_the_owner_assigned_while_the_stream_was_behind() {
    let Stack { case, escalation, case_store, escalation_store, timers } = redis_stack().await;
    let mut clients = Clients::connect(case.addr, escalation.addr, "acme", "admin-1", "admin").await;
    clients.staff("agent-1", StaffRole::Agent, "billing", "agent1@example.com").await;
    clients.staff("agent-2", StaffRole::Agent, "billing", "agent2@example.com").await;
    policy(&mut clients, 8.0).await;
    let opened = clients.open("Refund missing", "agent-1", "billing").await;
    clients.wait_for_clocks(&opened.name).await;
    escalation.stop().await;

    // Another replica holds the consumer's lease and applies nothing: the restarted service's
    // view of the case stays as it was, as a stream that has not caught up would leave it.
    let db = Database::connect(escalation_store.url.as_str()).await.expect("escalation database");
    let held = db
        .execute_unprepared(
            "UPDATE redress_escalation.event_consumers
             SET holder = 'a-replica-that-is-behind', lease_expires = now() + interval '1 hour'
             WHERE name = 'escalation'",
        )
        .await
        .expect("hold the lease");
    assert_eq!(held.rows_affected(), 1);
    let req = clients.req(AssignCaseRequest {
        name: opened.name.clone(),
        owner: "agent-2".into(),
        reason: "agent-1 is away".into(),
        request_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    });
    clients.case.assign_case(req).await.expect("assign");

    let escalation = Stack::start_escalation(&escalation_store, &timers, case.addr).await;
    let mut clients = Clients::connect(case.addr, escalation.addr, "acme", "admin-1", "admin").await;
    let warned = escalation_at(&mut clients, &opened.name, 1, Duration::from_secs(20)).await;
    assert_eq!(warned.notified_staff, ["tenants/acme/staff/agent-2"], "the current owner is warned");

    let stale = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT owner FROM redress_escalation.timed_cases WHERE name = '{}'",
                opened.name.replace('\'', "''")
            ),
        ))
        .await
        .expect("query")
        .expect("row");
    let seen: String = stale.try_get_by_index(0).expect("owner");
    assert_eq!(seen, "agent-1", "the stream had not told the service of the new owner");
    escalation.stop().await;
    case.stop().await;
    drop(case_store);
}
