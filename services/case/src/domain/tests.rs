//! Unit and property tests of the case rules.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use redress_proto::case::v1::{
    Case, CaseStatus, OfferDecision, OfferKind, OfferState, ResolutionOffer, RootCause, Task, TaskState, TimelineEntry,
    TimelineEntryKind,
};
use redress_proto::common::v1::{Channel, Money, Severity};

use super::commands::{Command, apply, open};
use super::machine::{Move, allowed, is_edge};
use super::playbook::Rules;
use super::{Actor, DomainError};

fn agent(id: &str) -> Actor {
    Actor { id: id.into(), supervisor: false, service: false }
}

fn supervisor() -> Actor {
    Actor { id: "sup-1".into(), supervisor: true, service: false }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

fn new_case(unhappy: bool, severity: Severity) -> Case {
    let mut case = Case {
        channel: Channel::Email as i32,
        subject: "Parcel never arrived".into(),
        description: "I ordered a kettle three weeks ago and it never came.".into(),
        severity: severity as i32,
        unhappy,
        ..Case::default()
    };
    open(&mut case, "tenants/acme/cases/c1".into(), "RD-TEST0001".into(), &agent("intake"), t0());
    case
}

fn eur(minor: i64) -> Money {
    Money { amount_minor: minor, currency_code: "EUR".into() }
}

fn refund(minor: i64) -> Command {
    Command::Propose {
        offer: ResolutionOffer {
            kind: OfferKind::Refund as i32,
            amount: Some(eur(minor)),
            description: "refund".into(),
            ..Default::default()
        },
    }
}

fn run(case: &mut Case, command: Command, actor: &Actor) -> Result<super::Change, DomainError> {
    apply(case, command, actor, &Rules::default(), t0() + Duration::minutes(case.version))
}

#[test]
fn the_whole_journey() {
    let owner = agent("agent-7");
    let mut case = new_case(true, Severity::High);
    let mut entries: Vec<TimelineEntry> = Vec::new();
    let mut step = |case: &mut Case, command: Command, expected: CaseStatus| {
        let change = run(case, command, &owner).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(case.status(), expected);
        entries.push(change.entry);
    };
    step(
        &mut case,
        Command::Acknowledge { apologized: true, apology_text: "We are sorry.".into(), note: String::new() },
        CaseStatus::Acknowledged,
    );
    step(&mut case, Command::StartInvestigation { note: "checking the carrier".into() }, CaseStatus::Investigating);
    assert_eq!(case.owner, "agent-7", "the agent who starts the investigation takes the case");
    step(&mut case, Command::RequestInput { question: "Which address?".into() }, CaseStatus::AwaitingCustomer);
    step(&mut case, Command::ProvideInput { text: "12 High Street".into() }, CaseStatus::Investigating);
    step(&mut case, refund(2500), CaseStatus::ResolutionProposed);
    step(
        &mut case,
        Command::RespondToOffer {
            offer_id: None,
            decision: OfferDecision::Counter,
            counter_amount: Some(eur(4000)),
            comment: "not enough".into(),
        },
        CaseStatus::ResolutionProposed,
    );
    step(&mut case, refund(4000), CaseStatus::ResolutionProposed);
    step(
        &mut case,
        Command::RespondToOffer {
            offer_id: None,
            decision: OfferDecision::Accept,
            counter_amount: None,
            comment: String::new(),
        },
        CaseStatus::ResolutionProposed,
    );
    step(&mut case, Command::Resolve { fix_summary: String::new() }, CaseStatus::Resolved);
    step(
        &mut case,
        Command::Close {
            root_cause: Some(RootCause { category: "carrier".into(), notes: "lost in the depot".into() }),
            prevention_notes: "weekly depot audit".into(),
        },
        CaseStatus::Closed,
    );

    assert_eq!(entries.len(), 10, "one timeline entry per step");
    assert_eq!(case.version, 11, "created at 1, then one per step");
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[0], "tenants/acme/cases/c1/timeline/2");
    assert_eq!(names[9], "tenants/acme/cases/c1/timeline/11");
    let states: Vec<OfferState> = case.offers.iter().map(|o| o.state()).collect();
    assert_eq!(states, [OfferState::Countered, OfferState::Accepted], "the negotiation history is kept");
    assert_eq!(case.offers[0].counter_amount, Some(eur(4000)));
    assert_eq!(case.resolution.as_ref().unwrap().accepted_offer, "tenants/acme/cases/c1/offers/2");
    assert!(entries[4].text.contains("refund of 25.00 EUR"), "{}", entries[4].text);
    assert!(entries[5].text.contains("asking for 40.00 EUR"), "{}", entries[5].text);
    assert_eq!(entries[0].attributes.get("to_status").map(String::as_str), Some("ACKNOWLEDGED"));
}

fn command_for(mv: Move) -> Command {
    match mv {
        Move::Acknowledge => {
            Command::Acknowledge { apologized: true, apology_text: "sorry".into(), note: String::new() }
        }
        Move::StartInvestigation => Command::StartInvestigation { note: String::new() },
        Move::RequestInput => Command::RequestInput { question: "?".into() },
        Move::ProvideInput => Command::ProvideInput { text: "answer".into() },
        Move::Propose => refund(100),
        Move::RespondToOffer => Command::RespondToOffer {
            offer_id: None,
            decision: OfferDecision::Accept,
            counter_amount: None,
            comment: String::new(),
        },
        Move::Resolve => Command::Resolve { fix_summary: "fixed".into() },
        Move::Close => Command::Close {
            root_cause: Some(RootCause { category: "c".into(), notes: "n".into() }),
            prevention_notes: String::new(),
        },
        Move::Reopen => Command::Reopen { reason: "again".into() },
    }
}

const ALL_MOVES: [Move; 9] = [
    Move::Acknowledge,
    Move::StartInvestigation,
    Move::RequestInput,
    Move::ProvideInput,
    Move::Propose,
    Move::RespondToOffer,
    Move::Resolve,
    Move::Close,
    Move::Reopen,
];

#[test]
fn every_illegal_move_names_the_status_and_the_allowed_moves() {
    let statuses = [
        CaseStatus::New,
        CaseStatus::Acknowledged,
        CaseStatus::Investigating,
        CaseStatus::AwaitingCustomer,
        CaseStatus::ResolutionProposed,
        CaseStatus::Resolved,
        CaseStatus::Closed,
        CaseStatus::Reopened,
    ];
    let mut refused = 0;
    for status in statuses {
        for mv in ALL_MOVES {
            if allowed(status).contains(&mv) {
                continue;
            }
            let mut case = new_case(false, Severity::Medium);
            case.status = status as i32;
            case.owner = "agent-7".into();
            let before = case.clone();
            let err = run(&mut case, command_for(mv), &agent("agent-7")).expect_err("illegal");
            match &err {
                DomainError::IllegalMove { status: s, rpc, allowed: names } => {
                    assert_eq!(*s, status);
                    assert_eq!(*rpc, mv.rpc());
                    let message = err.to_string();
                    assert!(message.contains(super::status_name(status)), "{message}");
                    for name in names {
                        assert!(message.contains(name), "{message}");
                    }
                }
                other => panic!("{status:?} {mv:?}: {other:?}"),
            }
            assert_eq!(case, before, "a refused move changes nothing");
            refused += 1;
        }
    }
    assert!(refused > 50, "{refused}");
}

#[test]
fn an_unhappy_or_critical_case_needs_an_apology() {
    for (unhappy, severity) in [(true, Severity::Low), (false, Severity::Critical)] {
        let mut case = new_case(unhappy, severity);
        let err = run(
            &mut case,
            Command::Acknowledge { apologized: false, apology_text: String::new(), note: String::new() },
            &agent("a"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("without an apology"), "{err}");
        let rules = Rules { require_apology_when_unhappy: false, ..Rules::default() };
        let command = Command::Acknowledge { apologized: false, apology_text: String::new(), note: String::new() };
        assert!(apply(&mut case, command, &agent("a"), &rules, t0()).is_ok(), "the rule is configurable");
    }
    let mut calm = new_case(false, Severity::Medium);
    assert!(
        run(
            &mut calm,
            Command::Acknowledge { apologized: false, apology_text: String::new(), note: String::new() },
            &agent("a")
        )
        .is_ok()
    );
}

#[test]
fn only_the_owner_or_a_supervisor_moves_an_owned_case() {
    let mut case = new_case(false, Severity::Medium);
    run(&mut case, command_for(Move::Acknowledge), &agent("agent-7")).unwrap();
    run(
        &mut case,
        Command::Assign { owner: "agent-7".into(), team: "billing".into(), reason: String::new() },
        &agent("agent-7"),
    )
    .unwrap();
    let err = run(&mut case, command_for(Move::StartInvestigation), &agent("agent-9")).unwrap_err();
    assert!(matches!(err, DomainError::NotPermitted(_)), "{err:?}");
    let err = run(
        &mut case,
        Command::Assign { owner: "agent-9".into(), team: String::new(), reason: "mine".into() },
        &agent("agent-9"),
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::NotPermitted(_)), "{err:?}");
    let err = run(
        &mut case,
        Command::Assign { owner: "agent-9".into(), team: String::new(), reason: String::new() },
        &supervisor(),
    )
    .unwrap_err();
    assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "reason"), "{err:?}");
    let change = run(
        &mut case,
        Command::Assign { owner: "agent-9".into(), team: String::new(), reason: "holiday".into() },
        &supervisor(),
    )
    .unwrap();
    assert!(change.entry.text.contains("reassigned from agent-7 to agent-9"), "{}", change.entry.text);
    assert!(run(&mut case, command_for(Move::StartInvestigation), &agent("agent-9")).is_ok());
    let relaxed = Rules { owner_only_moves: false, ..Rules::default() };
    assert!(apply(&mut case, command_for(Move::RequestInput), &agent("agent-1"), &relaxed, t0()).is_ok());
}

fn investigating() -> Case {
    let mut case = new_case(false, Severity::Medium);
    run(&mut case, command_for(Move::Acknowledge), &agent("agent-7")).unwrap();
    run(&mut case, command_for(Move::StartInvestigation), &agent("agent-7")).unwrap();
    case
}

#[test]
fn open_tasks_block_resolution_until_done_or_waived() {
    let owner = agent("agent-7");
    let mut case = investigating();
    let task = Task {
        title: "Refund approval".into(),
        assignee: "finance-1".into(),
        team: "finance".into(),
        ..Task::default()
    };
    let change = run(&mut case, Command::CreateTask { task: task.clone() }, &owner).unwrap();
    assert_eq!(change.task.as_ref().unwrap().name, "tenants/acme/cases/c1/tasks/1");
    run(&mut case, Command::CreateTask { task }, &owner).unwrap();
    let err = run(&mut case, Command::Resolve { fix_summary: "fixed".into() }, &owner).unwrap_err();
    assert!(err.to_string().contains("open tasks block RESOLVED: task 1"), "{err}");
    run(&mut case, Command::CompleteTask { task_id: "1".into(), outcome: "approved".into() }, &agent("finance-1"))
        .unwrap();
    let err =
        run(&mut case, Command::WaiveTask { task_id: "2".into(), reason: "not needed".into() }, &owner).unwrap_err();
    assert!(matches!(err, DomainError::NotPermitted(_)));
    run(&mut case, Command::WaiveTask { task_id: "2".into(), reason: "not needed".into() }, &supervisor()).unwrap();
    assert_eq!(case.tasks[1].state(), TaskState::Waived);
    let err =
        run(&mut case, Command::CompleteTask { task_id: "2".into(), outcome: String::new() }, &owner).unwrap_err();
    assert!(err.to_string().contains("only an OPEN task"), "{err}");
    let err =
        run(&mut case, Command::CompleteTask { task_id: "9".into(), outcome: String::new() }, &owner).unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)));
    assert!(run(&mut case, Command::Resolve { fix_summary: "fixed".into() }, &owner).is_ok());
}

#[test]
fn resolution_needs_an_accepted_offer_or_a_fix_and_closing_a_root_cause() {
    let owner = agent("agent-7");
    let mut case = investigating();
    let err = run(&mut case, Command::Resolve { fix_summary: " ".into() }, &owner).unwrap_err();
    assert!(err.to_string().contains("accepted offer or a recorded fix"), "{err}");
    run(&mut case, refund(1000), &owner).unwrap();
    let err = run(&mut case, Command::Resolve { fix_summary: String::new() }, &owner).unwrap_err();
    assert!(matches!(err, DomainError::Rule(_)), "a proposed offer is not an accepted one");
    let reject = Command::RespondToOffer {
        offer_id: Some("1".into()),
        decision: OfferDecision::Reject,
        counter_amount: None,
        comment: String::new(),
    };
    run(&mut case, reject.clone(), &owner).unwrap();
    assert_eq!(case.status(), CaseStatus::Investigating, "a rejected offer goes back to investigation");
    run(&mut case, Command::Resolve { fix_summary: "re-sent the parcel".into() }, &owner).unwrap();
    let err = run(&mut case, Command::Close { root_cause: None, prevention_notes: String::new() }, &owner).unwrap_err();
    assert!(err.to_string().contains("root-cause category and notes"), "{err}");
    let half = Some(RootCause { category: "carrier".into(), notes: String::new() });
    assert!(run(&mut case, Command::Close { root_cause: half, prevention_notes: String::new() }, &owner).is_err());
    assert!(run(&mut case, command_for(Move::Close), &owner).is_ok());
}

#[test]
fn reopening_respects_the_window() {
    let owner = agent("agent-7");
    let mut case = investigating();
    run(&mut case, command_for(Move::Resolve), &owner).unwrap();
    let rules = Rules { reopen_window: std::time::Duration::from_secs(3600), ..Rules::default() };
    let late = t0() + Duration::hours(5);
    let err = apply(&mut case, Command::Reopen { reason: "still broken".into() }, &owner, &rules, late).unwrap_err();
    assert!(err.to_string().contains("reopen window of 1 hours has passed"), "{err}");
    let soon = t0() + Duration::minutes(30);
    apply(&mut case, Command::Reopen { reason: "still broken".into() }, &owner, &rules, soon).unwrap();
    assert_eq!(case.status(), CaseStatus::Reopened);
    assert_eq!(case.reopen_count, 1);
    assert!(case.resolution.is_none());
}

#[test]
fn a_customer_message_resumes_investigation_and_a_public_reply_is_kept() {
    let owner = agent("agent-7");
    let mut case = investigating();
    case.review = Some(Default::default());
    run(&mut case, command_for(Move::RequestInput), &owner).unwrap();
    let message = TimelineEntry {
        kind: TimelineEntryKind::CustomerMessage as i32,
        text: "here it is".into(),
        ..Default::default()
    };
    run(&mut case, Command::AddEntry { entry: message }, &agent("customer")).unwrap();
    assert_eq!(case.status(), CaseStatus::Investigating);
    let reply = TimelineEntry {
        kind: TimelineEntryKind::PublicReply as i32,
        text: "We are sorry, DM us".into(),
        ..Default::default()
    };
    run(&mut case, Command::AddEntry { entry: reply }, &owner).unwrap();
    assert_eq!(case.review.as_ref().unwrap().public_reply, "We are sorry, DM us");
}

/// A random command with random arguments.
fn any_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (any::<bool>()).prop_map(|apologized| Command::Acknowledge {
            apologized,
            apology_text: "sorry".into(),
            note: String::new()
        }),
        Just(Command::StartInvestigation { note: String::new() }),
        prop_oneof![Just("agent-7"), Just("agent-9")].prop_map(|o| Command::Assign {
            owner: o.into(),
            team: "t".into(),
            reason: "r".into()
        }),
        Just(Command::RequestInput { question: "?".into() }),
        Just(Command::ProvideInput { text: "a".into() }),
        (0i64..5000).prop_map(refund),
        (0usize..3, 1i32..4).prop_map(|(offer, d)| Command::RespondToOffer {
            offer_id: (offer > 0).then(|| offer.to_string()),
            decision: OfferDecision::try_from(d).unwrap(),
            counter_amount: Some(eur(999)),
            comment: String::new(),
        }),
        prop_oneof![Just(""), Just("fixed")].prop_map(|f| Command::Resolve { fix_summary: f.into() }),
        (any::<bool>()).prop_map(|with| Command::Close {
            root_cause: with.then(|| RootCause { category: "c".into(), notes: "n".into() }),
            prevention_notes: String::new(),
        }),
        Just(Command::Reopen { reason: "again".into() }),
        Just(Command::CreateTask { task: Task { title: "work".into(), ..Task::default() } }),
        (1usize..4).prop_map(|t| Command::CompleteTask { task_id: t.to_string(), outcome: String::new() }),
        (1usize..4).prop_map(|t| Command::WaiveTask { task_id: t.to_string(), reason: "no".into() }),
        Just(Command::AddEntry {
            entry: TimelineEntry {
                kind: TimelineEntryKind::CustomerMessage as i32,
                text: "hi".into(),
                ..Default::default()
            }
        }),
    ]
}

fn any_actor() -> impl Strategy<Value = Actor> {
    prop_oneof![Just(agent("agent-7")), Just(agent("agent-9")), Just(supervisor()), Just(agent("anonymous"))]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_histories_keep_the_invariants(
        steps in proptest::collection::vec((any_command(), any_actor()), 1..40),
        unhappy in any::<bool>(),
        strict in any::<bool>(),
    ) {
        let rules = if strict { Rules::default() } else {
            Rules { require_apology_when_unhappy: false, owner_only_moves: false, open_tasks_block_resolution: false,
                require_offer_or_fix_to_resolve: false, require_root_cause_to_close: false, ..Rules::default() }
        };
        let mut case = new_case(unhappy, Severity::Medium);
        let mut successes = 0i64;
        let mut reopens = 0;
        let mut offers = 0;
        for (i, (command, actor)) in steps.into_iter().enumerate() {
            let before = case.clone();
            let is_reopen = matches!(command, Command::Reopen { .. });
            match apply(&mut case, command, &actor, &rules, t0() + Duration::minutes(i as i64)) {
                Ok(change) => {
                    successes += 1;
                    reopens += i32::from(is_reopen);
                    prop_assert!(is_edge(before.status(), case.status()), "{:?} -> {:?}", before.status(), case.status());
                    prop_assert_eq!(case.version, before.version + 1);
                    prop_assert_eq!(change.previous_status, before.status());
                    prop_assert_eq!(change.entry.name, format!("tenants/acme/cases/c1/timeline/{}", case.version));
                    prop_assert!(case.offers.len() >= offers, "offers are never removed");
                    offers = case.offers.len();
                    if case.status() == CaseStatus::Resolved && before.status() != CaseStatus::Resolved && strict {
                        let accepted = case.offers.last().is_some_and(|o| o.state() == OfferState::Accepted);
                        let fixed = case.resolution.as_ref().is_some_and(|r| !r.fix_summary.is_empty());
                        prop_assert!(accepted || fixed);
                        prop_assert!(case.tasks.iter().all(|t| t.state() != TaskState::Open));
                    }
                    if case.status() == CaseStatus::Closed && strict {
                        let cause = case.root_cause.clone().unwrap_or_default();
                        prop_assert!(!cause.category.is_empty() && !cause.notes.is_empty());
                    }
                    if strict && before.status() != case.status() && !before.owner.is_empty() && before.owner == case.owner {
                        prop_assert!(actor.may_move(&before.owner) || before.status() == CaseStatus::AwaitingCustomer
                            || before.status() == CaseStatus::ResolutionProposed);
                    }
                }
                Err(_) => prop_assert_eq!(&case, &before, "a refused command changes nothing"),
            }
            prop_assert_eq!(case.reopen_count, reopens);
            prop_assert!(case.offers.iter().filter(|o| o.state() == OfferState::Proposed).count() <= 1);
        }
        prop_assert_eq!(case.version, 1 + successes);
    }
}

#[test]
fn a_case_opens_at_medium_severity_unless_given_one_and_a_change_names_what_it_made() {
    assert_eq!(new_case(false, Severity::Unspecified).severity(), Severity::Medium);
    assert_eq!(new_case(false, Severity::Low).severity(), Severity::Low);
    let mut case = new_case(false, Severity::Low);
    let task = Task { title: "call the carrier".into(), ..Default::default() };
    let change = run(&mut case, Command::CreateTask { task }, &agent("agent-7")).expect("task");
    assert_eq!(change.resource(&case.name), format!("{}/tasks/1", case.name));
    let note = TimelineEntry { kind: TimelineEntryKind::Note as i32, text: "called".into(), ..Default::default() };
    let change = run(&mut case, Command::AddEntry { entry: note }, &agent("agent-7")).expect("entry");
    assert_eq!(change.resource(&case.name), format!("{}/timeline/3", case.name));
    let change = run(&mut case, Command::Reopen { reason: "x".into() }, &agent("agent-7"));
    assert!(change.is_err());
    let change = run(
        &mut case,
        Command::Assign { owner: "agent-7".into(), team: String::new(), reason: String::new() },
        &agent("agent-7"),
    )
    .expect("assign");
    assert_eq!(change.resource(&case.name), case.name);
}
