//! Commands on a case and how each changes it. [`apply`] works on a copy and replaces the case
//! only on success, so a refused command changes nothing. Every successful command bumps the
//! version, appends exactly one timeline entry and produces exactly one event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redress_proto::case::v1::{
    Acknowledgement, Case, CaseEventType, CaseStatus, Erasure, ErasureTrigger, EscalationRecord, OfferDecision,
    OfferKind, OfferState, Resolution, ResolutionOffer, RootCause, Satisfaction, SlaStatus, SurveyScale, Task,
    TaskKind, TaskState, TimelineEntry, TimelineEntryKind, Visibility,
};
use redress_proto::common::v1::{Money, Severity};

use super::machine::{Move, allowed, allowed_rpcs};
use super::playbook::Rules;
use super::{Actor, DomainError, status_name};

/// A change requested of an existing case.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Replace the fields named by `paths` with their values in `patch`.
    Update {
        /// The new values.
        patch: Box<Case>,
        /// The field paths to change (already checked against the allowed list).
        paths: Vec<String>,
    },
    /// NEW → ACKNOWLEDGED.
    Acknowledge {
        /// Whether an apology was made.
        apologized: bool,
        /// The apology's words.
        apology_text: String,
        /// A note for the timeline.
        note: String,
    },
    /// ACKNOWLEDGED or REOPENED → INVESTIGATING.
    StartInvestigation {
        /// A note for the timeline.
        note: String,
    },
    /// Set the owner and team.
    Assign {
        /// The new owner's staff id.
        owner: String,
        /// The new team; unchanged when empty.
        team: String,
        /// Why, required when reassigning.
        reason: String,
    },
    /// Append a timeline entry given by a client.
    AddEntry {
        /// The entry.
        entry: TimelineEntry,
    },
    /// Hand work to someone.
    CreateTask {
        /// The task.
        task: Task,
    },
    /// Mark a task done.
    CompleteTask {
        /// The task's id within the case.
        task_id: String,
        /// What was done.
        outcome: String,
    },
    /// Waive an open task.
    WaiveTask {
        /// The task's id within the case.
        task_id: String,
        /// Why it is not needed.
        reason: String,
    },
    /// Ask the customer a question.
    RequestInput {
        /// The question.
        question: String,
    },
    /// The customer answered a question.
    ProvideInput {
        /// Their answer, verbatim.
        text: String,
    },
    /// Offer a resolution.
    Propose {
        /// The offer.
        offer: ResolutionOffer,
    },
    /// The customer answered an offer.
    RespondToOffer {
        /// The offer's id within the case; the latest open one when `None`.
        offer_id: Option<String>,
        /// Accept, reject or counter.
        decision: OfferDecision,
        /// The amount asked for on a counter-offer.
        counter_amount: Option<Money>,
        /// The customer's words.
        comment: String,
    },
    /// → RESOLVED.
    Resolve {
        /// The fix made, when no offer was accepted.
        fix_summary: String,
    },
    /// RESOLVED → CLOSED.
    Close {
        /// The root cause, if not already on the case.
        root_cause: Option<RootCause>,
        /// What will change.
        prevention_notes: String,
    },
    /// RESOLVED or CLOSED → REOPENED.
    Reopen {
        /// Why.
        reason: String,
    },
    /// Record an escalation fired by the escalation service.
    RecordEscalation {
        /// The escalation.
        record: EscalationRecord,
    },
    /// Record the state of an SLA clock reported by the escalation service.
    RecordSla {
        /// The clock's state.
        status: SlaStatus,
    },
    /// Record the customer's satisfaction.
    RecordSatisfaction {
        /// The score.
        satisfaction: Satisfaction,
    },
    /// Erase the customer's personal data (see [`super::erase`]).
    ErasePersonalData {
        /// The erasure this is part of.
        erasure: Box<Erasure>,
        /// The anonymous customer id the case keeps.
        anonymous_id: String,
    },
}

/// What a successful command did, for the timeline and the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The event type.
    pub event_type: CaseEventType,
    /// The status before the command.
    pub previous_status: CaseStatus,
    /// The timeline entry appended, with its name.
    pub entry: TimelineEntry,
    /// The task created, completed or waived.
    pub task: Option<Task>,
    /// The offer made or answered.
    pub offer: Option<ResolutionOffer>,
    /// The escalation recorded.
    pub escalation: Option<EscalationRecord>,
    /// The erasure carried out.
    pub erasure: Option<Erasure>,
}

impl Change {
    fn new(event_type: CaseEventType, previous_status: CaseStatus, entry: TimelineEntry) -> Self {
        Self { event_type, previous_status, entry, task: None, offer: None, escalation: None, erasure: None }
    }
}

/// Converts a time for a proto field.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

/// Reads a proto time.
pub fn from_timestamp(at: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?)
}

fn entry(
    kind: TimelineEntryKind,
    actor: &Actor,
    text: String,
    visibility: Visibility,
    now: DateTime<Utc>,
) -> TimelineEntry {
    TimelineEntry {
        name: String::new(),
        kind: kind as i32,
        actor: actor.id.clone(),
        text,
        visibility: visibility as i32,
        occur_time: Some(timestamp(now)),
        create_time: Some(timestamp(now)),
        attributes: HashMap::new(),
    }
}

/// Opens a new case: sets the identity, status NEW and version 1, clears output-only fields.
pub fn open(case: &mut Case, name: String, reference: String, actor: &Actor, now: DateTime<Utc>) -> Change {
    case.name = name;
    case.reference = reference;
    case.status = CaseStatus::New as i32;
    case.acknowledgement = None;
    case.tasks.clear();
    case.offers.clear();
    case.resolution = None;
    case.satisfaction = None;
    case.reopen_count = 0;
    case.escalations.clear();
    case.sla.clear();
    case.create_time = Some(timestamp(now));
    case.update_time = Some(timestamp(now));
    case.resolve_time = None;
    case.close_time = None;
    case.version = 1;
    if let Some(review) = case.review.as_mut() {
        review.public_reply.clear();
        review.reply_time = None;
    }
    let channel = redress_proto::common::v1::Channel::try_from(case.channel)
        .map(|c| c.as_str_name().trim_start_matches("CHANNEL_").to_lowercase().replace('_', " "))
        .unwrap_or_default();
    let mut created = entry(
        TimelineEntryKind::Created,
        actor,
        format!("case opened via {channel}: {}", case.subject),
        Visibility::Internal,
        now,
    );
    created.name = format!("{}/timeline/1", case.name);
    created.attributes.insert("to_status".into(), status_name(CaseStatus::New).into());
    Change::new(CaseEventType::Created, CaseStatus::New, created)
}

/// Applies `command` to `case` on behalf of `actor` under `rules`. On error the case is unchanged.
pub fn apply(
    case: &mut Case,
    command: Command,
    actor: &Actor,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Change, DomainError> {
    let mut next = case.clone();
    let previous = next.status();
    let mut change = step(&mut next, command, actor, rules, now)?;
    next.version += 1;
    next.update_time = Some(timestamp(now));
    change.previous_status = previous;
    change.entry.name = format!("{}/timeline/{}", next.name, next.version);
    if next.status() != previous {
        change.entry.attributes.insert("from_status".into(), status_name(previous).into());
        change.entry.attributes.insert("to_status".into(), status_name(next.status()).into());
    }
    *case = next;
    Ok(change)
}

/// Checks that `mv` is allowed from the current status and that `actor` may move this case.
fn check_move(case: &Case, mv: Move, actor: &Actor, rules: &Rules) -> Result<(), DomainError> {
    let status = case.status();
    if !allowed(status).contains(&mv) {
        return Err(DomainError::IllegalMove { status, rpc: mv.rpc(), allowed: allowed_rpcs(status) });
    }
    // The customer's answers may be recorded by anyone; the other moves belong to the owner.
    let customer_move = matches!(mv, Move::ProvideInput | Move::RespondToOffer);
    if rules.owner_only_moves && !customer_move && !actor.may_move(&case.owner) {
        return Err(DomainError::NotPermitted(format!(
            "the case is owned by {}; only the owner or a supervisor may {}",
            case.owner,
            mv.rpc()
        )));
    }
    Ok(())
}

fn not_closed(case: &Case, what: &str) -> Result<(), DomainError> {
    if case.status() == CaseStatus::Closed {
        return Err(DomainError::Rule(format!("case is CLOSED; {what} is not allowed (allowed: ReopenCase)")));
    }
    Ok(())
}

fn step(
    case: &mut Case,
    command: Command,
    actor: &Actor,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Change, DomainError> {
    let status = case.status();
    match command {
        Command::Update { patch, paths } => {
            not_closed(case, "UpdateCase")?;
            for path in &paths {
                apply_path(case, &patch, path);
            }
            let text = format!("updated {}", paths.join(", "));
            Ok(Change::new(
                CaseEventType::Updated,
                status,
                entry(TimelineEntryKind::Update, actor, text, Visibility::Internal, now),
            ))
        }
        Command::Acknowledge { apologized, apology_text, note } => {
            check_move(case, Move::Acknowledge, actor, rules)?;
            let needs_apology = case.unhappy || case.severity() == Severity::Critical;
            if rules.require_apology_when_unhappy && needs_apology && !apologized {
                return Err(DomainError::Rule(
                    "an unhappy or critical case cannot be acknowledged without an apology: set apologized and apology_text"
                        .into(),
                ));
            }
            case.acknowledgement = Some(Acknowledgement {
                actor: actor.id.clone(),
                acknowledge_time: Some(timestamp(now)),
                apologized,
                apology_text: apology_text.clone(),
            });
            case.status = CaseStatus::Acknowledged as i32;
            let mut text = if apologized {
                format!("acknowledged with an apology: \"{apology_text}\"")
            } else {
                "acknowledged".to_string()
            };
            if !note.is_empty() {
                text.push_str(&format!(" ({note})"));
            }
            let e = entry(TimelineEntryKind::Acknowledgement, actor, text, Visibility::CustomerFacing, now);
            Ok(Change::new(CaseEventType::Acknowledged, status, e))
        }
        Command::StartInvestigation { note } => {
            check_move(case, Move::StartInvestigation, actor, rules)?;
            let mut text = String::from("investigation started");
            if case.owner.is_empty() {
                if !actor.is_person() {
                    return Err(DomainError::Rule("the case has no owner: assign one with AssignCase first".into()));
                }
                case.owner = actor.id.clone();
                text.push_str(&format!("; taken by {}", actor.id));
            }
            if !note.is_empty() {
                text.push_str(&format!(": {note}"));
            }
            case.status = CaseStatus::Investigating as i32;
            let e = entry(TimelineEntryKind::StatusChange, actor, text, Visibility::Internal, now);
            Ok(Change::new(CaseEventType::InvestigationStarted, status, e))
        }
        Command::Assign { owner, team, reason } => {
            not_closed(case, "AssignCase")?;
            let reassigning = !case.owner.is_empty() && case.owner != owner;
            if reassigning {
                if rules.owner_only_moves && !(actor.supervisor || actor.service || actor.id == case.owner) {
                    return Err(DomainError::NotPermitted(format!(
                        "the case is owned by {}; only the owner or a supervisor may reassign it",
                        case.owner
                    )));
                }
                if reason.trim().is_empty() {
                    return Err(DomainError::Invalid {
                        field: "reason".into(),
                        reason: "required when reassigning an owned case".into(),
                    });
                }
            }
            let previous_owner = std::mem::replace(&mut case.owner, owner.clone());
            if !team.is_empty() {
                case.team = team;
            }
            let mut text = if reassigning {
                format!("reassigned from {previous_owner} to {owner}")
            } else {
                format!("assigned to {owner}")
            };
            if !case.team.is_empty() {
                text.push_str(&format!(" (team {})", case.team));
            }
            if !reason.is_empty() {
                text.push_str(&format!(": {reason}"));
            }
            let mut e = entry(TimelineEntryKind::Assignment, actor, text, Visibility::Internal, now);
            e.attributes.insert("owner".into(), owner);
            Ok(Change::new(CaseEventType::Assigned, status, e))
        }
        Command::AddEntry { entry: given } => {
            let kind = given.kind();
            let visibility = match kind {
                TimelineEntryKind::CustomerMessage | TimelineEntryKind::PublicReply => Visibility::CustomerFacing,
                _ if given.visibility() == Visibility::Unspecified => Visibility::Internal,
                _ => given.visibility(),
            };
            let mut e = entry(kind, actor, given.text.clone(), visibility, now);
            e.occur_time = given.occur_time.or(e.occur_time);
            e.attributes = given.attributes;
            if kind == TimelineEntryKind::CustomerMessage && status == CaseStatus::AwaitingCustomer {
                case.status = CaseStatus::Investigating as i32;
            }
            if kind == TimelineEntryKind::PublicReply
                && let Some(review) = case.review.as_mut()
            {
                review.public_reply = given.text;
                review.reply_time = e.occur_time;
            }
            Ok(Change::new(CaseEventType::TimelineEntryAdded, status, e))
        }
        Command::CreateTask { mut task } => {
            not_closed(case, "CreateTask")?;
            task.name = format!("{}/tasks/{}", case.name, case.tasks.len() + 1);
            if task.kind() == TaskKind::Unspecified {
                task.kind = TaskKind::General as i32;
            }
            task.state = TaskState::Open as i32;
            task.creator = actor.id.clone();
            task.create_time = Some(timestamp(now));
            task.completed_by.clear();
            task.complete_time = None;
            task.outcome.clear();
            let mut text = format!("task created: {}", task.title);
            if !task.assignee.is_empty() {
                text.push_str(&format!(" (assigned to {})", task.assignee));
            }
            case.tasks.push(task.clone());
            let mut change = Change::new(
                CaseEventType::TaskCreated,
                status,
                entry(TimelineEntryKind::Task, actor, text, Visibility::Internal, now),
            );
            change.task = Some(task);
            Ok(change)
        }
        Command::CompleteTask { task_id, outcome } => {
            not_closed(case, "CompleteTask")?;
            let task = open_task(case, &task_id)?;
            task.state = TaskState::Done as i32;
            task.completed_by = actor.id.clone();
            task.complete_time = Some(timestamp(now));
            task.outcome = outcome.clone();
            let task = task.clone();
            let text = format!(
                "task done: {}{}",
                task.title,
                if outcome.is_empty() { String::new() } else { format!(": {outcome}") }
            );
            let mut change = Change::new(
                CaseEventType::TaskCompleted,
                status,
                entry(TimelineEntryKind::Task, actor, text, Visibility::Internal, now),
            );
            change.task = Some(task);
            Ok(change)
        }
        Command::WaiveTask { task_id, reason } => {
            not_closed(case, "WaiveTask")?;
            if !actor.supervisor {
                return Err(DomainError::NotPermitted("only a supervisor may waive a task".into()));
            }
            let task = open_task(case, &task_id)?;
            task.state = TaskState::Waived as i32;
            task.completed_by = actor.id.clone();
            task.complete_time = Some(timestamp(now));
            task.outcome = reason.clone();
            let task = task.clone();
            let text = format!("task waived: {}: {reason}", task.title);
            let mut change = Change::new(
                CaseEventType::TaskWaived,
                status,
                entry(TimelineEntryKind::Task, actor, text, Visibility::Internal, now),
            );
            change.task = Some(task);
            Ok(change)
        }
        Command::RequestInput { question } => {
            check_move(case, Move::RequestInput, actor, rules)?;
            case.status = CaseStatus::AwaitingCustomer as i32;
            let e = entry(
                TimelineEntryKind::StatusChange,
                actor,
                format!("asked the customer: {question}"),
                Visibility::CustomerFacing,
                now,
            );
            Ok(Change::new(CaseEventType::CustomerInputRequested, status, e))
        }
        Command::ProvideInput { text } => {
            check_move(case, Move::ProvideInput, actor, rules)?;
            case.status = CaseStatus::Investigating as i32;
            let e = entry(TimelineEntryKind::CustomerResponse, actor, text, Visibility::CustomerFacing, now);
            Ok(Change::new(CaseEventType::CustomerResponded, status, e))
        }
        Command::Propose { mut offer } => {
            check_move(case, Move::Propose, actor, rules)?;
            for earlier in case.offers.iter_mut().filter(|o| o.state() == OfferState::Proposed) {
                earlier.state = OfferState::Superseded as i32;
            }
            offer.name = format!("{}/offers/{}", case.name, case.offers.len() + 1);
            offer.state = OfferState::Proposed as i32;
            offer.proposer = actor.id.clone();
            offer.propose_time = Some(timestamp(now));
            offer.decision = OfferDecision::Unspecified as i32;
            offer.counter_amount = None;
            offer.customer_comment.clear();
            offer.decide_time = None;
            case.offers.push(offer.clone());
            case.status = CaseStatus::ResolutionProposed as i32;
            let text = format!("offered {}: {}", describe_offer(&offer), offer.description);
            let mut change = Change::new(
                CaseEventType::ResolutionProposed,
                status,
                entry(TimelineEntryKind::Offer, actor, text, Visibility::CustomerFacing, now),
            );
            change.offer = Some(offer);
            Ok(change)
        }
        Command::RespondToOffer { offer_id, decision, counter_amount, comment } => {
            check_move(case, Move::RespondToOffer, actor, rules)?;
            let index = match &offer_id {
                Some(id) => case
                    .offers
                    .iter()
                    .position(|o| o.name.rsplit('/').next() == Some(id.as_str()))
                    .ok_or_else(|| DomainError::NotFound(format!("{}/offers/{id}", case.name)))?,
                None => case
                    .offers
                    .iter()
                    .rposition(|o| o.state() == OfferState::Proposed)
                    .ok_or_else(|| DomainError::Rule("no offer awaits the customer's answer".into()))?,
            };
            let offer = &mut case.offers[index];
            if offer.state() != OfferState::Proposed {
                return Err(DomainError::Rule(format!(
                    "{} is {}; only a PROPOSED offer can be answered",
                    offer.name,
                    offer.state().as_str_name().trim_start_matches("OFFER_STATE_")
                )));
            }
            offer.decision = decision as i32;
            offer.customer_comment = comment.clone();
            offer.decide_time = Some(timestamp(now));
            let described = describe_offer(offer);
            let text = match decision {
                OfferDecision::Accept => {
                    offer.state = OfferState::Accepted as i32;
                    format!("customer accepted {described}")
                }
                OfferDecision::Reject => {
                    offer.state = OfferState::Rejected as i32;
                    format!("customer rejected {described}")
                }
                OfferDecision::Counter | OfferDecision::Unspecified => {
                    offer.state = OfferState::Countered as i32;
                    offer.counter_amount = counter_amount.clone();
                    let asked = counter_amount.as_ref().map(format_money).unwrap_or_else(|| "something else".into());
                    format!("customer countered {described}, asking for {asked}")
                }
            };
            let offer = offer.clone();
            if decision == OfferDecision::Reject {
                case.status = CaseStatus::Investigating as i32;
            }
            let text = if comment.is_empty() { text } else { format!("{text}: \"{comment}\"") };
            let mut change = Change::new(
                CaseEventType::CustomerResponded,
                status,
                entry(TimelineEntryKind::CustomerResponse, actor, text, Visibility::CustomerFacing, now),
            );
            change.offer = Some(offer);
            Ok(change)
        }
        Command::Resolve { fix_summary } => {
            check_move(case, Move::Resolve, actor, rules)?;
            let accepted = case.offers.last().filter(|o| o.state() == OfferState::Accepted).map(|o| o.name.clone());
            if rules.require_offer_or_fix_to_resolve && accepted.is_none() && fix_summary.trim().is_empty() {
                return Err(DomainError::Rule(
                    "RESOLVED needs an accepted offer or a recorded fix: set fix_summary, or have the customer accept an offer"
                        .into(),
                ));
            }
            let open: Vec<String> = case
                .tasks
                .iter()
                .filter(|t| t.state() == TaskState::Open)
                .map(|t| format!("{} \"{}\"", t.name.rsplit('/').next().unwrap_or_default(), t.title))
                .collect();
            if rules.open_tasks_block_resolution && !open.is_empty() {
                return Err(DomainError::Rule(format!(
                    "open tasks block RESOLVED: task {}; complete them or have a supervisor waive them",
                    open.join(", task ")
                )));
            }
            case.resolution = Some(Resolution {
                accepted_offer: accepted.clone().unwrap_or_default(),
                fix_summary: fix_summary.clone(),
                actor: actor.id.clone(),
                resolve_time: Some(timestamp(now)),
            });
            case.resolve_time = Some(timestamp(now));
            case.status = CaseStatus::Resolved as i32;
            let text = match (&accepted, fix_summary.is_empty()) {
                (_, false) => format!("resolved: {fix_summary}"),
                (Some(offer), true) => {
                    format!("resolved by the accepted offer {}", offer.rsplit('/').next().unwrap_or_default())
                }
                (None, true) => "resolved".to_string(),
            };
            let e = entry(TimelineEntryKind::StatusChange, actor, text, Visibility::CustomerFacing, now);
            Ok(Change::new(CaseEventType::Resolved, status, e))
        }
        Command::Close { root_cause, prevention_notes } => {
            check_move(case, Move::Close, actor, rules)?;
            let mut cause = case.root_cause.clone().unwrap_or_default();
            if let Some(given) = root_cause {
                if !given.category.trim().is_empty() {
                    cause.category = given.category;
                }
                if !given.notes.trim().is_empty() {
                    cause.notes = given.notes;
                }
            }
            if rules.require_root_cause_to_close && (cause.category.trim().is_empty() || cause.notes.trim().is_empty())
            {
                return Err(DomainError::Rule(
                    "CLOSED needs a root-cause category and notes: document why it happened so it does not happen again"
                        .into(),
                ));
            }
            if !prevention_notes.is_empty() {
                case.prevention_notes = prevention_notes;
            }
            let text = format!("closed; root cause {}: {}", cause.category, cause.notes);
            case.root_cause = Some(cause);
            case.close_time = Some(timestamp(now));
            case.status = CaseStatus::Closed as i32;
            let e = entry(TimelineEntryKind::RootCause, actor, text, Visibility::Internal, now);
            Ok(Change::new(CaseEventType::Closed, status, e))
        }
        Command::Reopen { reason } => {
            check_move(case, Move::Reopen, actor, rules)?;
            if let Some(resolved) = case.resolve_time.as_ref().and_then(from_timestamp) {
                let window = chrono::Duration::from_std(rules.reopen_window).unwrap_or(chrono::Duration::MAX);
                if now - resolved > window {
                    return Err(DomainError::Rule(format!(
                        "the reopen window of {} has passed: resolved {}",
                        humanize(rules.reopen_window),
                        resolved.format("%Y-%m-%d %H:%M UTC")
                    )));
                }
            }
            case.resolution = None;
            case.close_time = None;
            case.reopen_count += 1;
            case.status = CaseStatus::Reopened as i32;
            let e =
                entry(TimelineEntryKind::StatusChange, actor, format!("reopened: {reason}"), Visibility::Internal, now);
            Ok(Change::new(CaseEventType::Reopened, status, e))
        }
        Command::RecordEscalation { mut record } => {
            if record.escalate_time.is_none() {
                record.escalate_time = Some(timestamp(now));
            }
            let mut text = format!("escalated to level {}", record.level);
            if !record.reason.is_empty() {
                text.push_str(&format!(": {}", record.reason));
            }
            if !record.notified.is_empty() {
                text.push_str(&format!("; alerted {}", record.notified.join(", ")));
            }
            case.escalations.push(record.clone());
            let mut change = Change::new(
                CaseEventType::EscalationRecorded,
                status,
                entry(TimelineEntryKind::Escalation, actor, text, Visibility::Internal, now),
            );
            change.escalation = Some(record);
            Ok(change)
        }
        Command::RecordSla { status: sla } => {
            let clock = redress_proto::common::v1::SlaClockKind::try_from(sla.clock)
                .map(|c| c.as_str_name().trim_start_matches("SLA_CLOCK_KIND_").to_lowercase().replace('_', " "))
                .unwrap_or_default();
            let state = match (sla.met, sla.breached) {
                (true, false) => "met",
                (true, true) => "met late",
                (false, true) => "breached",
                (false, false) if sla.paused => "paused",
                (false, false) => "running",
            };
            let used = sla.business_time_used.as_ref().map(|d| d.seconds).unwrap_or_default();
            let target = sla.target.as_ref().map(|d| d.seconds).unwrap_or_default();
            let text = format!("{clock} clock {state}: {} of {} business time used", minutes(used), minutes(target));
            case.sla.retain(|s| s.clock != sla.clock);
            case.sla.push(sla);
            case.sla.sort_by_key(|s| s.clock);
            let e = entry(TimelineEntryKind::Sla, actor, text, Visibility::Internal, now);
            Ok(Change::new(CaseEventType::SlaStatusRecorded, status, e))
        }
        Command::RecordSatisfaction { mut satisfaction } => {
            if satisfaction.respond_time.is_none() {
                satisfaction.respond_time = Some(timestamp(now));
            }
            let scale = match satisfaction.scale() {
                SurveyScale::Nps => "NPS 0-10",
                _ => "CSAT 1-5",
            };
            let mut text = format!("customer rated {} ({scale})", satisfaction.score);
            if !satisfaction.comment.is_empty() {
                text.push_str(&format!(": \"{}\"", satisfaction.comment));
            }
            case.satisfaction = Some(satisfaction);
            let e = entry(TimelineEntryKind::Satisfaction, actor, text, Visibility::CustomerFacing, now);
            Ok(Change::new(CaseEventType::SatisfactionRecorded, status, e))
        }
        Command::ErasePersonalData { erasure, anonymous_id } => {
            super::erase::redact_case(case, &anonymous_id);
            let why = match erasure.trigger() {
                ErasureTrigger::Retention => "after the tenant's retention period",
                _ => "on the customer's request",
            };
            let text = format!("personal data erased {why} ({})", erasure.name);
            let mut e = entry(TimelineEntryKind::Note, actor, text, Visibility::Internal, now);
            e.attributes.insert("erasure".into(), erasure.name.clone());
            let mut change = Change::new(CaseEventType::PersonalDataErased, status, e);
            change.erasure = Some(*erasure);
            Ok(change)
        }
    }
}

fn open_task<'a>(case: &'a mut Case, task_id: &str) -> Result<&'a mut Task, DomainError> {
    let name = format!("{}/tasks/{task_id}", case.name);
    let task = case.tasks.iter_mut().find(|t| t.name == name).ok_or_else(|| DomainError::NotFound(name.clone()))?;
    if task.state() != TaskState::Open {
        return Err(DomainError::Rule(format!(
            "{name} is {}; only an OPEN task can be completed or waived",
            task.state().as_str_name().trim_start_matches("TASK_STATE_")
        )));
    }
    Ok(task)
}

/// The field paths UpdateCase may change.
pub const UPDATABLE_PATHS: &[&str] = &[
    "subject",
    "customer",
    "references",
    "desired_outcome",
    "category",
    "severity",
    "unhappy",
    "unhappy_reason",
    "tags",
    "linked_cases",
    "root_cause",
    "prevention_notes",
    "attachments",
];

fn apply_path(case: &mut Case, patch: &Case, path: &str) {
    match path {
        "subject" => case.subject = patch.subject.clone(),
        "customer" => case.customer = patch.customer.clone(),
        "references" => case.references = patch.references.clone(),
        "desired_outcome" => case.desired_outcome = patch.desired_outcome.clone(),
        "category" => case.category = patch.category.clone(),
        "severity" => case.severity = patch.severity,
        "unhappy" => case.unhappy = patch.unhappy,
        "unhappy_reason" => case.unhappy_reason = patch.unhappy_reason.clone(),
        "tags" => case.tags = patch.tags.clone(),
        "linked_cases" => case.linked_cases = patch.linked_cases.clone(),
        "root_cause" => case.root_cause = patch.root_cause.clone(),
        "prevention_notes" => case.prevention_notes = patch.prevention_notes.clone(),
        "attachments" => case.attachments = patch.attachments.clone(),
        _ => {}
    }
}

/// An amount for people: `12.50 EUR`, `1200 JPY`.
pub fn format_money(money: &Money) -> String {
    let exponent = match money.currency_code.as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let abs = money.amount_minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs} {}", money.currency_code);
    }
    let unit = 10u64.pow(exponent);
    format!("{sign}{}.{:0width$} {}", abs / unit, abs % unit, money.currency_code, width = exponent as usize)
}

fn describe_offer(offer: &ResolutionOffer) -> String {
    let kind = match offer.kind() {
        OfferKind::Refund => "a refund",
        OfferKind::Replacement => "a replacement",
        OfferKind::Discount => "a discount",
        OfferKind::Repair => "a repair",
        OfferKind::Credit => "a credit",
        OfferKind::Explanation => "an explanation",
        OfferKind::Other | OfferKind::Unspecified => "a remedy",
    };
    match &offer.amount {
        Some(amount) if amount.amount_minor > 0 => format!("{kind} of {}", format_money(amount)),
        _ => kind.to_string(),
    }
}

/// A business-time amount as a person reads it: `1h 05m`, `12m`, or `40s` under a minute.
fn minutes(seconds: i64) -> String {
    let m = seconds / 60;
    if m >= 60 {
        format!("{}h {:02}m", m / 60, m % 60)
    } else if m >= 1 {
        format!("{m}m")
    } else {
        format!("{}s", seconds.max(0))
    }
}

fn humanize(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    if secs.is_multiple_of(86_400) {
        format!("{} days", secs / 86_400)
    } else if secs.is_multiple_of(3600) {
        format!("{} hours", secs / 3600)
    } else {
        format!("{secs} seconds")
    }
}

#[cfg(test)]
mod minutes_tests {
    #[test]
    fn business_time_reads_in_the_largest_useful_unit() {
        assert_eq!(super::minutes(3), "3s");
        assert_eq!(super::minutes(0), "0s");
        assert_eq!(super::minutes(125), "2m");
        assert_eq!(super::minutes(3_900), "1h 05m");
    }
}
