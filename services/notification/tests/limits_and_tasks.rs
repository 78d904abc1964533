//! Call tasks, in-app notifications, staff recipients, rate limits and quiet hours, on
//! PostgreSQL and SQLite: a call task becomes one task on the case for its owner however often
//! it is attempted; an in-app notification is delivered when stored; a staff member is
//! resolved only when needed, and an unreachable directory fails the notification saying so;
//! the per-recipient rate limit and quiet hours hold notifications, and urgent ones go through.

mod support;

use std::time::Duration;

use chrono::Timelike;
use redress_proto::case::v1::*;
use redress_proto::notification::v1::*;
use redress_testkit::{Backend, on_both_backends};
use support::sinks::{SmtpBehaviour, SmtpSink};
use support::{CaseServer, NotificationServer, Notifications, complaint, email};

on_both_backends!(call_tasks_in_app_and_staff_recipients, rate_limits_and_quiet_hours_hold_all_but_urgent);

const WAIT: Duration = Duration::from_secs(20);

fn body(text: &str) -> Option<notification::Content> {
    Some(notification::Content::Body(MessageBody {
        subject: "Call Ana about her kettle".into(),
        text: text.into(),
        html: String::new(),
    }))
}

fn to_staff(name: &str, channel: NotificationChannel) -> Notification {
    Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::StaffMember(name.into())) }),
        channel: channel as i32,
        content: body("Case RD-1 needs you"),
        ..Notification::default()
    }
}

async fn call_tasks_in_app_and_staff_recipients(backend: Backend) {
    let cases = CaseServer::start(backend).await;
    let case_url = cases.url();
    let server = NotificationServer::start(backend, |c| c.peers.case = case_url).await;
    let mut agent = cases.client("acme", "agent-7", "agent").await;
    let case = agent.create(complaint("Ana Silva", "ana@example.com", "en")).await;
    let ack = agent.req(AcknowledgeCaseRequest {
        name: case.name.clone(),
        apologized: true,
        apology_text: "Sorry".into(),
        ..Default::default()
    });
    agent.inner.acknowledge_case(ack).await.expect("acknowledge");
    let start = agent.req(StartInvestigationRequest { name: case.name.clone(), ..Default::default() });
    agent.inner.start_investigation(start).await.expect("agent-7 owns it now");

    let mut escalation = server.client("acme", "system:escalation", "system").await;
    let call = Notification {
        recipient: Some(Recipient { recipient: Some(recipient::Recipient::Address("+447700900123".into())) }),
        channel: NotificationChannel::CallTask as i32,
        content: body("She is unhappy: call her today."),
        case: case.name.clone(),
        priority: Priority::Urgent as i32,
        ..Notification::default()
    };
    let sent = escalation.send("call-1", call.clone()).await.expect("send");
    let done = escalation.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await;
    assert_eq!(done.status, DeliveryStatus::Delivered as i32, "{done:?}");
    assert_eq!(done.destination, format!("{}/tasks/1", case.name), "the task is where it went");
    let again = escalation.send("call-1", call).await.expect("a retry of the request");
    assert_eq!(again.name, sent.name);

    // The task is on the case, for its owner; the case service's request_id makes a repeated
    // attempt create nothing more.
    let id = sent.name.rsplit('/').next().expect("id");
    let mut system = agent.clone();
    system.roles = "system".into();
    let repeat = system.req(CreateTaskRequest {
        parent: case.name.clone(),
        task: Some(Task { title: "again".into(), ..Default::default() }),
        request_id: format!("notification:{id}"),
    });
    system.inner.create_task(repeat).await.expect("replayed");
    let read = agent.req(GetCaseRequest { name: case.name.clone() });
    let tasks = agent.inner.get_case(read).await.expect("get").into_inner().case.expect("case").tasks;
    assert_eq!(tasks.len(), 1, "one task, however often it is attempted: {tasks:?}");
    assert_eq!(tasks[0].kind, TaskKind::CallCustomer as i32);
    assert_eq!(tasks[0].assignee, "agent-7");
    assert_eq!(tasks[0].title, "Call Ana about her kettle");
    assert!(tasks[0].description.contains("+447700900123") && tasks[0].description.contains("call her today"));

    // In-app to a member of staff: delivered when stored, no directory needed.
    let sent = escalation
        .send("app-1", to_staff("tenants/acme/staff/agent-7", NotificationChannel::InApp))
        .await
        .expect("send");
    let done = escalation.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await;
    assert_eq!((done.status, done.attempts), (DeliveryStatus::Delivered as i32, 1));
    assert_eq!(done.destination, "tenants/acme/staff/agent-7");
    assert_eq!(escalation.all("", "tenants/acme/staff/agent-7", DeliveryStatus::Delivered).await.len(), 1);

    // An email to a member of staff needs the directory; unreachable, the error says so.
    let sent = escalation
        .send("staff-1", to_staff("tenants/acme/staff/agent-7", NotificationChannel::Email))
        .await
        .expect("send");
    let failing = escalation.wait_status(&sent.name, DeliveryStatus::Retrying, WAIT).await;
    assert_eq!(failing.status, DeliveryStatus::Retrying as i32, "{failing:?}");
    assert!(failing.last_error.contains("staff directory"), "{}", failing.last_error);
    assert!(failing.next_attempt_time.is_some());
    let dead = escalation.wait_status(&sent.name, DeliveryStatus::DeadLetter, WAIT).await;
    assert_eq!((dead.status, dead.attempts), (DeliveryStatus::DeadLetter as i32, 5), "{dead:?}");
    assert!(
        dead.last_error.contains("staff directory") && dead.last_error.contains("attempts exhausted"),
        "{}",
        dead.last_error
    );

    server.running.stop().await;
    cases.running.stop().await;
}

async fn rate_limits_and_quiet_hours_hold_all_but_urgent(backend: Backend) {
    let smtp = SmtpSink::start(SmtpBehaviour::default()).await;
    let smtp_url = smtp.url();
    let now = chrono::Utc::now();
    let hhmm = |t: chrono::DateTime<chrono::Utc>| format!("{:02}:{:02}", t.hour(), t.minute());
    let (start, end) = (hhmm(now - chrono::Duration::hours(1)), hhmm(now + chrono::Duration::hours(1)));
    let server = NotificationServer::start(backend, |c| {
        c.notification.smtp_url = smtp_url;
        c.notification.rate_limit_max = 2;
        c.notification.rate_limit_window = "1h".into();
        c.notification.quiet_hours_start = start;
        c.notification.quiet_hours_end = end;
        c.notification.quiet_hours_time_zone = "UTC".into();
    })
    .await;
    let mut client = server.client("acme", "system:escalation", "system").await;

    // Two an hour to one address: the third waits for the window; an urgent one goes now.
    let mut names = Vec::new();
    for i in 0..3 {
        let sent = client.send(&format!("rate-{i}"), email("busy@example.com", "Update", "news")).await.expect("send");
        names.push(sent.name);
        if i < 2 {
            let done = client.wait_status(&names[i], DeliveryStatus::Delivered, WAIT).await;
            assert_eq!(done.status, DeliveryStatus::Delivered as i32, "{done:?}");
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = client.get(&names[2]).await;
    assert_eq!((held.status, held.attempts), (DeliveryStatus::Pending as i32, 0), "{held:?}");
    let wait = held.next_attempt_time.expect("due").seconds - chrono::Utc::now().timestamp();
    assert!((3000..=3600).contains(&wait), "held for the rest of the window: {wait}s");
    let mut urgent = email("busy@example.com", "Urgent", "now");
    urgent.priority = Priority::Urgent as i32;
    let sent = client.send("rate-urgent", urgent).await.expect("send");
    assert_eq!(
        client.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await.status,
        DeliveryStatus::Delivered as i32
    );
    assert_eq!(smtp.count(), 3, "two within the limit and the urgent one");

    // Quiet hours (now, in UTC) hold a normal staff alert until they end; urgent goes through;
    // customers are not staff alerts.
    let alert = to_staff("tenants/acme/staff/lead-1", NotificationChannel::InApp);
    let sent = client.send("quiet-1", alert.clone()).await.expect("send");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = client.get(&sent.name).await;
    assert_eq!(held.status, DeliveryStatus::Pending as i32, "{held:?}");
    let until = held.next_attempt_time.expect("due").seconds - chrono::Utc::now().timestamp();
    assert!((3000..=3660).contains(&until), "held until quiet hours end: {until}s");
    let mut urgent = alert;
    urgent.priority = Priority::Urgent as i32;
    let sent = client.send("quiet-2", urgent).await.expect("send");
    assert_eq!(
        client.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await.status,
        DeliveryStatus::Delivered as i32
    );
    let sent = client.send("quiet-3", email("customer@example.com", "Your case", "news")).await.expect("send");
    assert_eq!(
        client.wait_status(&sent.name, DeliveryStatus::Delivered, WAIT).await.status,
        DeliveryStatus::Delivered as i32
    );

    server.running.stop().await;
}
