//! SLA clocks end to end: a real case service feeds a real escalation service, with deadlines
//! in real Redis (and, for the embedded mode, in process over SQLite).

mod support;

use std::time::Duration;

use redress_proto::case::v1::*;
use redress_proto::common::v1::{SlaClockKind, StaffRole};
use redress_proto::escalation::v1::*;
use redress_testkit::Backend;
use support::{Clients, Stack, Timers, seconds, secs};
use tonic::Code;

async fn redis_stack() -> Stack {
    let prefix = redress_testkit::redis_prefix().await;
    Stack::start(Backend::Postgres, Timers::Redis(redress_testkit::redis_url(), prefix)).await
}

async fn setup(clients: &mut Clients, target: f64) {
    clients.staff("agent-1", StaffRole::Agent, "billing", "agent1@example.com").await;
    clients.staff("lead-1", StaffRole::TeamLead, "billing", "lead1@example.com").await;
    clients.staff("manager-1", StaffRole::Manager, "billing", "manager1@example.com").await;
    clients
        .policy(SlaPolicy {
            display_name: "fast".into(),
            priority: 1,
            first_response_target: secs(target),
            resolution_target: secs(60.0),
            ..Default::default()
        })
        .await;
}

/// Waits up to `limit` for an escalation entry at `level`; returns it and when it appeared.
async fn wait_for_level(clients: &mut Clients, case: &str, level: &str, limit: Duration) -> Option<TimelineEntry> {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        let entries = clients.escalation_entries(case).await;
        if let Some(entry) = entries.into_iter().find(|e| e.text.starts_with(&format!("escalated to level {level}"))) {
            return Some(entry);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn escalates_on_time(stack: Stack) {
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    setup(&mut clients, 2.0).await;
    let case = clients.open("Refund never came", "agent-1", "billing").await;
    let opened = seconds(&case.create_time);

    let breach =
        wait_for_level(&mut clients, &case.name, "2", Duration::from_secs(6)).await.expect("escalated at breach");
    let after = seconds(&breach.create_time) - opened;
    assert!((1.5..=2.5).contains(&after), "escalated {after:.3} s after opening; expected 2 s ± 0.5 s");
    assert!(breach.text.contains("first response breached"), "{}", breach.text);
    assert!(breach.text.contains("lead-1"), "the team lead is alerted: {}", breach.text);
    let warning = wait_for_level(&mut clients, &case.name, "1", Duration::from_secs(1)).await.expect("warned first");
    let warned = seconds(&warning.create_time) - opened;
    assert!((1.0..=2.0).contains(&warned), "warned at {warned:.3} s (75% of 2 s)");
    assert!(warning.text.contains("agent-1"), "the owner is warned: {}", warning.text);

    let req =
        clients.req(ListEscalationsRequest { parent: clients.parent(), case: case.name.clone(), ..Default::default() });
    let listed = clients.escalation.list_escalations(req).await.expect("list").into_inner().escalations;
    let breach = listed.iter().find(|e| e.level == 2).expect("breach escalation");
    assert_eq!(breach.reason(), EscalationReason::SlaBreach);
    assert_eq!(breach.notified_staff, ["tenants/acme/staff/lead-1"]);
    let sla = clients.sla(&case.name).await;
    let first = sla.clocks.iter().find(|c| c.kind == SlaClockKind::FirstResponse as i32).expect("first response clock");
    assert!(first.breached);
    assert_eq!(first.escalation_level, 2);

    // Acknowledging the escalation stops further levels; the case records the breach.
    let req = clients.req(AcknowledgeEscalationRequest { name: breach.name.clone(), note: "calling now".into() });
    let acknowledged =
        clients.escalation.acknowledge_escalation(req).await.expect("ack").into_inner().escalation.expect("e");
    assert!(acknowledged.acknowledged);
    assert_eq!(acknowledged.acknowledger, "admin-1");
    let sla = clients.sla(&case.name).await;
    assert!(
        sla.clocks
            .iter()
            .find(|c| c.kind == SlaClockKind::FirstResponse as i32)
            .expect("clock")
            .escalation_acknowledged
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_two_second_target_escalates_two_seconds_after_opening_with_redis() {
    escalates_on_time(redis_stack().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_two_second_target_escalates_two_seconds_after_opening_embedded() {
    escalates_on_time(Stack::start(Backend::Sqlite, Timers::Memory).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledging_before_the_deadline_prevents_the_escalation() {
    let stack = redis_stack().await;
    let mut clients = stack.clients("acme", "agent-1", "agent").await;
    setup(&mut clients, 2.0).await;
    let case = clients.open("Wrong bill", "agent-1", "billing").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let req = clients.req(AcknowledgeCaseRequest {
        name: case.name.clone(),
        apologized: true,
        apology_text: "Sorry".into(),
        ..Default::default()
    });
    clients.case.acknowledge_case(req).await.expect("ack");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(clients.escalation_entries(&case.name).await.is_empty(), "no escalation after an acknowledgement in time");
    let sla = clients.sla(&case.name).await;
    let first = sla.clocks.iter().find(|c| c.kind == SlaClockKind::FirstResponse as i32).expect("clock");
    assert_eq!(first.state(), ClockState::Met);
    assert!(!first.breached);
    // The case hears that first response was met.
    let req = clients.req(GetCaseRequest { name: case.name.clone() });
    let stored = clients.case.get_case(req).await.expect("get").into_inner().case.expect("case");
    let reported = stored.sla.iter().find(|s| s.clock == SlaClockKind::FirstResponse as i32).expect("reported");
    assert!(reported.met && !reported.breached);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pause_moves_the_deadline_by_its_length() {
    let stack = redis_stack().await;
    let mut clients = stack.clients("acme", "agent-1", "agent").await;
    setup(&mut clients, 30.0).await;
    let case = clients.open("Broken kettle", "agent-1", "billing").await;
    let name = case.name.clone();
    let req = clients.req(AcknowledgeCaseRequest { name: name.clone(), ..Default::default() });
    clients.case.acknowledge_case(req).await.expect("ack");
    let req = clients.req(StartInvestigationRequest { name: name.clone(), ..Default::default() });
    clients.case.start_investigation(req).await.expect("start");
    clients.wait_for_clocks(&name).await;
    let resolution = |sla: &GetCaseSlaResponse| {
        sla.clocks.iter().find(|c| c.kind == SlaClockKind::Resolution as i32).cloned().expect("resolution clock")
    };
    let before = resolution(&clients.sla(&name).await);
    assert_eq!(before.state(), ClockState::Running);

    let req = clients.req(RequestCustomerInputRequest {
        name: name.clone(),
        question: "Photo please?".into(),
        ..Default::default()
    });
    let paused_at = seconds(
        &clients.case.request_customer_input(req).await.expect("ask").into_inner().case.expect("c").update_time,
    );
    let mut paused = resolution(&clients.sla(&name).await);
    for _ in 0..100 {
        if paused.state() == ClockState::Paused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        paused = resolution(&clients.sla(&name).await);
    }
    assert_eq!(paused.state(), ClockState::Paused);
    assert!(paused.due_time.is_none());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let customer = Clients { actor: "customer".into(), roles: "integration".into(), ..clients.clone() };
    let req = customer.req(RecordCustomerResponseRequest {
        name: name.clone(),
        response: Some(record_customer_response_request::Response::Input("here".into())),
        ..Default::default()
    });
    let resumed_at = seconds(
        &clients.case.record_customer_response(req).await.expect("answer").into_inner().case.expect("c").update_time,
    );
    let mut after = resolution(&clients.sla(&name).await);
    for _ in 0..100 {
        if after.state() == ClockState::Running && after.due_time.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        after = resolution(&clients.sla(&name).await);
    }
    let moved = seconds(&after.due_time) - seconds(&before.due_time);
    let pause = resumed_at - paused_at;
    assert!((moved - pause).abs() < 0.05, "the deadline moved {moved:.3} s for a pause of {pause:.3} s");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unhappy_customer_escalates_at_once_with_two_tasks() {
    let stack = redis_stack().await;
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    setup(&mut clients, 3600.0).await;
    clients.staff("director-1", StaffRole::RegionalDirector, "", "director@example.com").await;
    clients.staff("care-1", StaffRole::CustomerCare, "", "care@example.com").await;
    clients.staff("leader-1", StaffRole::SeniorLeader, "", "ceo@example.com").await;
    let req = clients.req(CreateCaseRequest {
        parent: clients.parent(),
        case: Some(Case {
            unhappy: true,
            unhappy_reason: "detractor survey, NPS 2".into(),
            ..clients.open_template("Never again", "agent-1", "billing")
        }),
        request_id: uuid::Uuid::now_v7().to_string(),
    });
    let case = clients.case.create_case(req).await.expect("create").into_inner().case.expect("case");
    let entry = wait_for_level(&mut clients, &case.name, "3", Duration::from_secs(5)).await.expect("escalated at once");
    assert!(seconds(&entry.create_time) - seconds(&case.create_time) < 1.0, "within a second");
    for who in ["manager-1", "director-1", "care-1"] {
        assert!(entry.text.contains(who), "{who} alerted: {}", entry.text);
    }
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let req = clients.req(GetCaseRequest { name: case.name.clone() });
        tasks = clients.case.get_case(req).await.expect("get").into_inner().case.expect("case").tasks;
        if tasks.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kinds: Vec<TaskKind> = tasks.iter().map(|t| t.kind()).collect();
    assert!(kinds.contains(&TaskKind::CallCustomer), "{kinds:?}");
    assert!(kinds.contains(&TaskKind::SeniorLeaderEmail), "{kinds:?}");
    let call = tasks.iter().find(|t| t.kind() == TaskKind::CallCustomer).expect("call task");
    assert_eq!(call.assignee, "agent-1", "the owner calls the customer");
    let leader = tasks.iter().find(|t| t.kind() == TaskKind::SeniorLeaderEmail).expect("leader task");
    assert_eq!(leader.assignee, "leader-1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(clients.escalation_entries(&case.name).await.len(), 1, "once");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_is_refused_naming_the_field() {
    let stack = redis_stack().await;
    let mut clients = stack.clients("acme", "admin-1", "admin").await;
    let bad_policies = [
        (SlaPolicy { first_response_target: secs(0.0), ..Default::default() }, "sla_policy.first_response_target"),
        (
            SlaPolicy {
                resolution_target: Some(prost_types::Duration { seconds: -5, nanos: 0 }),
                ..Default::default()
            },
            "sla_policy.resolution_target",
        ),
        (
            SlaPolicy {
                first_response_target: secs(60.0),
                ladder: vec![LadderStep { level: 1, trigger: EscalationTrigger::Breach as i32, ..Default::default() }],
                ..Default::default()
            },
            "sla_policy.ladder[0].notify_roles",
        ),
        (
            SlaPolicy {
                first_response_target: secs(60.0),
                calendar: "tenants/acme/calendars/nope".into(),
                ..Default::default()
            },
            "sla_policy.calendar",
        ),
    ];
    for (policy, field) in bad_policies {
        let req = clients.req(CreateSlaPolicyRequest {
            parent: clients.parent(),
            sla_policy: Some(policy),
            request_id: "r".into(),
        });
        assert_invalid(&clients.escalation.create_sla_policy(req).await.expect_err(field), field);
    }
    let interval = |opens: &str, closes: &str| OpeningInterval { opens: opens.into(), closes: closes.into() };
    let bad_calendars = [
        (Calendar { time_zone: "Mars/Olympus".into(), ..Default::default() }, "calendar.time_zone"),
        (
            Calendar {
                time_zone: "Europe/London".into(),
                weekly_hours: vec![DayHours {
                    day: DayOfWeek::Monday as i32,
                    intervals: vec![interval("17:00", "09:00")],
                }],
                ..Default::default()
            },
            "calendar.weekly_hours[0].intervals[0]",
        ),
        (
            Calendar {
                time_zone: "Europe/London".into(),
                weekly_hours: vec![DayHours {
                    day: DayOfWeek::Monday as i32,
                    intervals: vec![interval("09:00", "13:00"), interval("12:00", "17:00")],
                }],
                ..Default::default()
            },
            "calendar.weekly_hours[0].intervals[1]",
        ),
    ];
    for (calendar, field) in bad_calendars {
        let req = clients.req(CreateCalendarRequest {
            parent: clients.parent(),
            calendar: Some(calendar),
            request_id: "c".into(),
        });
        assert_invalid(&clients.escalation.create_calendar(req).await.expect_err(field), field);
    }
    let req = clients.req(ListSlaPoliciesRequest { parent: clients.parent(), ..Default::default() });
    assert!(
        clients.escalation.list_sla_policies(req).await.expect("list").into_inner().sla_policies.is_empty(),
        "nothing created"
    );

    // Another tenant sees nothing of these.
    let mut other = Clients { tenant: "globex".into(), ..clients.clone() };
    let policy = clients.policy(SlaPolicy { first_response_target: secs(60.0), ..Default::default() }).await;
    let req = other.req(GetSlaPolicyRequest { name: policy.name.clone() });
    assert_eq!(other.escalation.get_sla_policy(req).await.expect_err("other tenant").code(), Code::NotFound);
    let req = other.req(ListSlaPoliciesRequest { parent: other.parent(), ..Default::default() });
    assert!(other.escalation.list_sla_policies(req).await.expect("list").into_inner().sla_policies.is_empty());
    stack.stop().await;
}

fn assert_invalid(status: &tonic::Status, field: &str) {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|f| f.field.clone()).collect())
        .unwrap_or_default();
    assert!(fields.iter().any(|f| f == field), "expected {field} in {fields:?}: {}", status.message());
}

trait Template {
    fn open_template(&self, subject: &str, owner: &str, team: &str) -> Case;
}

impl Template for Clients {
    fn open_template(&self, subject: &str, owner: &str, team: &str) -> Case {
        Case {
            customer: Some(redress_proto::common::v1::Customer { customer_id: "cust-1".into(), ..Default::default() }),
            channel: redress_proto::common::v1::Channel::Email as i32,
            subject: subject.into(),
            description: "I will never buy from you again.".into(),
            owner: owner.into(),
            team: team.into(),
            ..Default::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn escalating_by_hand_is_idempotent_per_request_id() {
    let stack = redis_stack().await;
    let mut clients = stack.clients("acme", "lead-1", "supervisor").await;
    setup(&mut clients, 60.0).await;
    let case = clients.open("Engineer never came", "agent-1", "billing").await;
    clients.wait_for_clocks(&case.name).await;
    let escalate = |request_id: &str| EscalateCaseRequest {
        case: case.name.clone(),
        reason: "customer called three times".into(),
        notify_roles: vec![StaffRole::Manager as i32],
        request_id: request_id.into(),
    };

    let first = clients.escalation.escalate_case(clients.req(escalate("r-1"))).await.expect("escalate");
    let first = first.into_inner().escalation.expect("escalation");
    assert_eq!(first.reason(), EscalationReason::Manual);
    assert_eq!(first.notified_staff, ["tenants/acme/staff/agent-1", "tenants/acme/staff/manager-1"]);
    // A retry with the same request_id is the same escalation, not an error and not a second one.
    for _ in 0..3 {
        let again = clients.escalation.escalate_case(clients.req(escalate("r-1"))).await.expect("retry");
        assert_eq!(again.into_inner().escalation.expect("escalation").name, first.name);
    }
    let second = clients.escalation.escalate_case(clients.req(escalate("r-2"))).await.expect("another");
    assert_ne!(
        second.into_inner().escalation.expect("escalation").name,
        first.name,
        "a new request_id escalates again"
    );

    let req =
        clients.req(ListEscalationsRequest { parent: clients.parent(), case: case.name.clone(), ..Default::default() });
    let listed = clients.escalation.list_escalations(req).await.expect("list").into_inner().escalations;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while clients.escalation_entries(&case.name).await.len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(clients.escalation_entries(&case.name).await.len(), 2, "one timeline entry per escalation");
    stack.stop().await;
}
