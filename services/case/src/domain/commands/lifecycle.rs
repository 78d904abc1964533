//! Commands that move a case through its statuses, and assignment.

use redress_kit::time::{from_timestamp, period_text};
use redress_proto::case::v1::{
    Acknowledgement, Case, CaseEventType, CaseStatus, OfferState, Resolution, RootCause, TaskState, TimelineEntryKind,
    Visibility,
};
use redress_proto::common::v1::Severity;

use super::{Outcome, Step, not_closed};
use crate::domain::DomainError;
use crate::domain::machine::Move;

pub(super) fn acknowledge(case: &mut Case, apologized: bool, apology: String, note: String, step: &Step) -> Outcome {
    step.check_move(case, Move::Acknowledge)?;
    let needs_apology = case.unhappy || case.severity() == Severity::Critical;
    if step.rules.require_apology_when_unhappy && needs_apology && !apologized {
        return Err(DomainError::Rule(
            "an unhappy or critical case cannot be acknowledged without an apology: set apologized and apology_text"
                .into(),
        ));
    }
    case.acknowledgement = Some(Acknowledgement {
        actor: step.actor.id.clone(),
        acknowledge_time: step.time(),
        apologized,
        apology_text: apology.clone(),
    });
    case.status = CaseStatus::Acknowledged as i32;
    let mut text =
        if apologized { format!("acknowledged with an apology: \"{apology}\"") } else { "acknowledged".to_string() };
    if !note.is_empty() {
        text.push_str(&format!(" ({note})"));
    }
    Ok(step.change(CaseEventType::Acknowledged, TimelineEntryKind::Acknowledgement, Visibility::CustomerFacing, text))
}

pub(super) fn start_investigation(case: &mut Case, note: String, step: &Step) -> Outcome {
    step.check_move(case, Move::StartInvestigation)?;
    let mut text = String::from("investigation started");
    if case.owner.is_empty() {
        if !step.actor.is_person() {
            return Err(DomainError::Rule("the case has no owner: assign one with AssignCase first".into()));
        }
        case.owner = step.actor.id.clone();
        text.push_str(&format!("; taken by {}", step.actor.id));
    }
    if !note.is_empty() {
        text.push_str(&format!(": {note}"));
    }
    case.status = CaseStatus::Investigating as i32;
    Ok(step.change(CaseEventType::InvestigationStarted, TimelineEntryKind::StatusChange, Visibility::Internal, text))
}

pub(super) fn assign(case: &mut Case, owner: String, team: String, reason: String, step: &Step) -> Outcome {
    not_closed(case, "AssignCase")?;
    let actor = step.actor;
    let reassigning = !case.owner.is_empty() && case.owner != owner;
    if reassigning {
        if step.rules.owner_only_moves && !(actor.supervisor || actor.service || actor.id == case.owner) {
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
    let mut change = step.change(CaseEventType::Assigned, TimelineEntryKind::Assignment, Visibility::Internal, text);
    change.entry.attributes.insert("owner".into(), owner);
    Ok(change)
}

pub(super) fn request_input(case: &mut Case, question: String, step: &Step) -> Outcome {
    step.check_move(case, Move::RequestInput)?;
    case.status = CaseStatus::AwaitingCustomer as i32;
    let text = format!("asked the customer: {question}");
    Ok(step.change(
        CaseEventType::CustomerInputRequested,
        TimelineEntryKind::StatusChange,
        Visibility::CustomerFacing,
        text,
    ))
}

pub(super) fn provide_input(case: &mut Case, text: String, step: &Step) -> Outcome {
    step.check_move(case, Move::ProvideInput)?;
    case.status = CaseStatus::Investigating as i32;
    Ok(step.change(
        CaseEventType::CustomerResponded,
        TimelineEntryKind::CustomerResponse,
        Visibility::CustomerFacing,
        text,
    ))
}

pub(super) fn resolve(case: &mut Case, fix_summary: String, step: &Step) -> Outcome {
    step.check_move(case, Move::Resolve)?;
    let rules = step.rules;
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
        actor: step.actor.id.clone(),
        resolve_time: step.time(),
    });
    case.resolve_time = step.time();
    case.status = CaseStatus::Resolved as i32;
    let text = match (&accepted, fix_summary.is_empty()) {
        (_, false) => format!("resolved: {fix_summary}"),
        (Some(offer), true) => {
            format!("resolved by the accepted offer {}", offer.rsplit('/').next().unwrap_or_default())
        }
        (None, true) => "resolved".to_string(),
    };
    Ok(step.change(CaseEventType::Resolved, TimelineEntryKind::StatusChange, Visibility::CustomerFacing, text))
}

pub(super) fn close(case: &mut Case, root_cause: Option<RootCause>, prevention_notes: String, step: &Step) -> Outcome {
    step.check_move(case, Move::Close)?;
    let mut cause = case.root_cause.clone().unwrap_or_default();
    if let Some(given) = root_cause {
        if !given.category.trim().is_empty() {
            cause.category = given.category;
        }
        if !given.notes.trim().is_empty() {
            cause.notes = given.notes;
        }
    }
    if step.rules.require_root_cause_to_close && (cause.category.trim().is_empty() || cause.notes.trim().is_empty()) {
        return Err(DomainError::Rule(
            "CLOSED needs a root-cause category and notes: document why it happened so it does not happen again".into(),
        ));
    }
    if !prevention_notes.is_empty() {
        case.prevention_notes = prevention_notes;
    }
    let text = format!("closed; root cause {}: {}", cause.category, cause.notes);
    case.root_cause = Some(cause);
    case.close_time = step.time();
    case.status = CaseStatus::Closed as i32;
    Ok(step.change(CaseEventType::Closed, TimelineEntryKind::RootCause, Visibility::Internal, text))
}

pub(super) fn reopen(case: &mut Case, reason: String, step: &Step) -> Outcome {
    step.check_move(case, Move::Reopen)?;
    if let Some(resolved) = case.resolve_time.as_ref().and_then(from_timestamp) {
        let window = chrono::Duration::from_std(step.rules.reopen_window).unwrap_or(chrono::Duration::MAX);
        if step.now - resolved > window {
            return Err(DomainError::Rule(format!(
                "the reopen window of {} has passed: resolved {}",
                period_text(step.rules.reopen_window),
                resolved.format("%Y-%m-%d %H:%M UTC")
            )));
        }
    }
    case.resolution = None;
    case.close_time = None;
    case.reopen_count += 1;
    case.status = CaseStatus::Reopened as i32;
    let text = format!("reopened: {reason}");
    Ok(step.change(CaseEventType::Reopened, TimelineEntryKind::StatusChange, Visibility::Internal, text))
}
