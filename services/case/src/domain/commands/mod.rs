//! Commands on a case and how each changes it. [`apply`] works on a copy and replaces the case
//! only on success, so a refused command changes nothing. Every successful command bumps the
//! version, appends exactly one timeline entry and produces exactly one event.
//!
//! The commands are grouped by what they touch: the status ([`lifecycle`]), the case's own
//! fields and timeline ([`edit`]), tasks ([`tasks`]), offers ([`offers`]), and what other
//! services report ([`records`]).

mod edit;
mod lifecycle;
mod offers;
mod records;
mod tasks;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redress_kit::time::timestamp;
use redress_proto::case::v1::{
    Case, CaseEventType, CaseStatus, Erasure, EscalationRecord, OfferDecision, ResolutionOffer, RootCause,
    Satisfaction, SlaStatus, Task, TimelineEntry, TimelineEntryKind, Visibility,
};
use redress_proto::common::v1::{Money, Severity};

use super::machine::{Move, allowed, allowed_rpcs};
use super::playbook::Rules;
use super::{Actor, DomainError, status_name};

pub use edit::UPDATABLE_PATHS;
pub use offers::format_money;

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

    /// The name of the resource the command made or touched: the task for a task command, the
    /// timeline entry for an entry added by a client, otherwise the case named `case`.
    pub fn resource(&self, case: &str) -> String {
        match (&self.task, self.event_type) {
            (Some(task), _) => task.name.clone(),
            (None, CaseEventType::TimelineEntryAdded) => self.entry.name.clone(),
            _ => case.to_string(),
        }
    }
}

/// What a command step returns: the change it made, or why it was refused.
type Outcome = Result<Change, DomainError>;

/// What every command step knows besides the case: who acts, under which rules, when, and the
/// status the case had before.
struct Step<'a> {
    actor: &'a Actor,
    rules: &'a Rules,
    now: DateTime<Utc>,
    status: CaseStatus,
}

impl Step<'_> {
    /// Now, for a proto field.
    fn time(&self) -> Option<prost_types::Timestamp> {
        Some(timestamp(self.now))
    }

    /// A timeline entry written by the actor now.
    fn entry(&self, kind: TimelineEntryKind, visibility: Visibility, text: String) -> TimelineEntry {
        entry(kind, self.actor, text, visibility, self.now)
    }

    /// The change a command made: its event and the timeline entry that tells of it.
    fn change(
        &self,
        event_type: CaseEventType,
        kind: TimelineEntryKind,
        visibility: Visibility,
        text: String,
    ) -> Change {
        Change::new(event_type, self.status, self.entry(kind, visibility, text))
    }

    /// Checks that `mv` is allowed from the current status and that the actor may move this case.
    fn check_move(&self, case: &Case, mv: Move) -> Result<(), DomainError> {
        let status = case.status();
        if !allowed(status).contains(&mv) {
            return Err(DomainError::IllegalMove { status, rpc: mv.rpc(), allowed: allowed_rpcs(status) });
        }
        // The customer's answers may be recorded by anyone; the other moves belong to the owner.
        let customer_move = matches!(mv, Move::ProvideInput | Move::RespondToOffer);
        if self.rules.owner_only_moves && !customer_move && !self.actor.may_move(&case.owner) {
            return Err(DomainError::NotPermitted(format!(
                "the case is owned by {}; only the owner or a supervisor may {}",
                case.owner,
                mv.rpc()
            )));
        }
        Ok(())
    }
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

/// Opens a new case: sets the identity, status NEW and version 1, clears output-only fields;
/// a case given with no severity is MEDIUM.
pub fn open(case: &mut Case, name: String, reference: String, actor: &Actor, now: DateTime<Utc>) -> Change {
    if case.severity == Severity::Unspecified as i32 {
        case.severity = Severity::Medium as i32;
    }
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
    let step = Step { actor, rules, now, status: previous };
    let mut change = dispatch(&mut next, command, &step)?;
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

fn not_closed(case: &Case, what: &str) -> Result<(), DomainError> {
    if case.status() == CaseStatus::Closed {
        return Err(DomainError::Rule(format!("case is CLOSED; {what} is not allowed (allowed: ReopenCase)")));
    }
    Ok(())
}

fn dispatch(case: &mut Case, command: Command, step: &Step) -> Outcome {
    match command {
        Command::Update { patch, paths } => edit::update(case, &patch, &paths, step),
        Command::AddEntry { entry } => Ok(edit::add_entry(case, entry, step)),
        Command::Acknowledge { apologized, apology_text, note } => {
            lifecycle::acknowledge(case, apologized, apology_text, note, step)
        }
        Command::StartInvestigation { note } => lifecycle::start_investigation(case, note, step),
        Command::Assign { owner, team, reason } => lifecycle::assign(case, owner, team, reason, step),
        Command::RequestInput { question } => lifecycle::request_input(case, question, step),
        Command::ProvideInput { text } => lifecycle::provide_input(case, text, step),
        Command::Resolve { fix_summary } => lifecycle::resolve(case, fix_summary, step),
        Command::Close { root_cause, prevention_notes } => lifecycle::close(case, root_cause, prevention_notes, step),
        Command::Reopen { reason } => lifecycle::reopen(case, reason, step),
        Command::CreateTask { task } => tasks::create(case, task, step),
        Command::CompleteTask { task_id, outcome } => tasks::complete(case, &task_id, outcome, step),
        Command::WaiveTask { task_id, reason } => tasks::waive(case, &task_id, reason, step),
        Command::Propose { offer } => offers::propose(case, offer, step),
        Command::RespondToOffer { offer_id, decision, counter_amount, comment } => {
            offers::respond(case, offer_id.as_deref(), decision, counter_amount, comment, step)
        }
        Command::RecordEscalation { record } => Ok(records::escalation(case, record, step)),
        Command::RecordSla { status } => Ok(records::sla(case, status, step)),
        Command::RecordSatisfaction { satisfaction } => Ok(records::satisfaction(case, satisfaction, step)),
        Command::ErasePersonalData { erasure, anonymous_id } => {
            Ok(records::erase_personal_data(case, *erasure, &anonymous_id, step))
        }
    }
}
