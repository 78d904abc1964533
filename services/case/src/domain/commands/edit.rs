//! Commands that change a case's own fields or add to its timeline without moving it.

use redress_proto::case::v1::{Case, CaseEventType, CaseStatus, TimelineEntry, TimelineEntryKind, Visibility};

use super::{Change, Outcome, Step, not_closed};

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

pub(super) fn update(case: &mut Case, patch: &Case, paths: &[String], step: &Step) -> Outcome {
    not_closed(case, "UpdateCase")?;
    for path in paths {
        apply_path(case, patch, path);
    }
    let text = format!("updated {}", paths.join(", "));
    Ok(step.change(CaseEventType::Updated, TimelineEntryKind::Update, Visibility::Internal, text))
}

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

/// Appends an entry given by a client. A customer's message answers a question asked of them;
/// a public reply is kept on the review it answers.
pub(super) fn add_entry(case: &mut Case, given: TimelineEntry, step: &Step) -> Change {
    let kind = given.kind();
    let visibility = match kind {
        TimelineEntryKind::CustomerMessage | TimelineEntryKind::PublicReply => Visibility::CustomerFacing,
        _ if given.visibility() == Visibility::Unspecified => Visibility::Internal,
        _ => given.visibility(),
    };
    let mut e = step.entry(kind, visibility, given.text.clone());
    e.occur_time = given.occur_time.or(e.occur_time);
    e.attributes = given.attributes;
    if kind == TimelineEntryKind::CustomerMessage && step.status == CaseStatus::AwaitingCustomer {
        case.status = CaseStatus::Investigating as i32;
    }
    if kind == TimelineEntryKind::PublicReply
        && let Some(review) = case.review.as_mut()
    {
        review.public_reply = given.text;
        review.reply_time = e.occur_time;
    }
    Change::new(CaseEventType::TimelineEntryAdded, step.status, e)
}
