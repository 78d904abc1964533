//! Who an escalation tells: an alert with nobody to go to goes to the case's team lead, else
//! to customer care, and the record says why.

mod support;

use std::time::{Duration, Instant};

use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::{Escalation, ListEscalationsRequest, SlaPolicy};
use redress_testkit::Backend;
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
