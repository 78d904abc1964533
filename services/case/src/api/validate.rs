//! Request validation: every problem is reported with the field it is in, and nothing is
//! written until a request passes.

use redress_kit::error::Violations;
use redress_kit::validate::{enum_value, is_currency_code, is_e164, is_email, text};
use redress_proto::case::v1::{
    Case, CaseFilter, CaseStatus, EscalationRecord, OfferDecision, OfferKind, Playbook, ResolutionOffer, RootCause,
    Satisfaction, SlaStatus, SurveyScale, Task, TaskKind, TimelineEntry, TimelineEntryKind, Visibility,
};
use redress_proto::common::v1::{Channel, Customer, CustomerTier, Money, Severity, SlaClockKind};

use crate::domain::commands::UPDATABLE_PATHS;
use crate::domain::playbook::{RULE_PATHS, refusal};

/// The largest description accepted: 64 KiB.
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;
/// The longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 300;
/// The most attachments on a case.
pub const MAX_ATTACHMENTS: usize = 20;

/// The value, or `None` after recording that `field` is required.
fn required<'a, T>(v: &mut Violations, field: &str, value: Option<&'a T>) -> Option<&'a T> {
    if value.is_none() {
        v.add(field, "required");
    }
    value
}

fn long_text(v: &mut Violations, field: &str, value: &str, required: bool) {
    if value.trim().is_empty() {
        v.check(required, field, "required");
    } else if value.len() > MAX_DESCRIPTION_BYTES {
        v.add(field, format!("at most {} KiB", MAX_DESCRIPTION_BYTES / 1024));
    } else if redress_kit::validate::has_control_chars(value) {
        v.add(field, "must not contain control characters");
    }
}

/// Checks a customer: at least one of id, email or phone, each well formed.
pub fn customer(v: &mut Violations, field: &str, customer: Option<&Customer>) {
    let Some(c) = customer else {
        v.add(field, "required: at least a customer_id, an email or a phone");
        return;
    };
    if c.customer_id.trim().is_empty() && c.email.is_empty() && c.phone.is_empty() {
        v.add(field, "needs at least a customer_id, an email or a phone");
    }
    text(v, &format!("{field}.customer_id"), &c.customer_id, 128, false);
    text(v, &format!("{field}.display_name"), &c.display_name, 200, false);
    if !c.email.is_empty() && !is_email(&c.email) {
        v.add(format!("{field}.email"), format!("{:?} is not an email address", c.email));
    }
    if !c.phone.is_empty() && !is_e164(&c.phone) {
        v.add(format!("{field}.phone"), "must be in E.164 form, for example +447700900123");
    }
    enum_value::<CustomerTier>(v, &format!("{field}.tier"), c.tier, true);
    if c.locale.len() > 35 {
        v.add(format!("{field}.locale"), "at most 35 characters");
    }
}

/// Checks the fields a client may set on a case, under `prefix` (`case`).
pub fn case_fields(v: &mut Violations, prefix: &str, case: &Case, paths: Option<&[String]>) {
    let wanted = |path: &str| paths.is_none_or(|p| p.iter().any(|x| x == path));
    if wanted("customer") {
        customer(v, &format!("{prefix}.customer"), case.customer.as_ref());
    }
    if paths.is_none() {
        enum_value::<Channel>(v, &format!("{prefix}.channel"), case.channel, false);
        long_text(v, &format!("{prefix}.description"), &case.description, true);
        text(v, &format!("{prefix}.external_reference"), &case.external_reference, 512, false);
        text(v, &format!("{prefix}.owner"), &case.owner, 128, false);
        text(v, &format!("{prefix}.team"), &case.team, 128, false);
        if let Some(review) = &case.review
            && !(0..=5).contains(&review.rating)
        {
            v.add(format!("{prefix}.review.rating"), "must be 1 to 5");
        }
    }
    if wanted("subject") {
        text(v, &format!("{prefix}.subject"), &case.subject, MAX_SUBJECT_CHARS, false);
    }
    if wanted("desired_outcome") {
        text(v, &format!("{prefix}.desired_outcome"), &case.desired_outcome, 4000, false);
    }
    if wanted("category") {
        text(v, &format!("{prefix}.category"), &case.category, 100, false);
    }
    if wanted("severity") {
        enum_value::<Severity>(v, &format!("{prefix}.severity"), case.severity, paths.is_none());
    }
    if wanted("unhappy_reason") {
        text(v, &format!("{prefix}.unhappy_reason"), &case.unhappy_reason, 1000, false);
    }
    if wanted("tags") {
        if case.tags.len() > 50 {
            v.add(format!("{prefix}.tags"), "at most 50 tags");
        }
        for (i, tag) in case.tags.iter().enumerate() {
            text(v, &format!("{prefix}.tags[{i}]"), tag, 64, true);
        }
    }
    if wanted("attachments") {
        if case.attachments.len() > MAX_ATTACHMENTS {
            v.add(format!("{prefix}.attachments"), format!("at most {MAX_ATTACHMENTS} attachments"));
        }
        for (i, a) in case.attachments.iter().enumerate() {
            if !a.uri.contains(':') || a.uri.len() > 2048 {
                v.add(format!("{prefix}.attachments[{i}].uri"), "must be an absolute URI of at most 2048 characters");
            }
            if a.size_bytes < 0 {
                v.add(format!("{prefix}.attachments[{i}].size_bytes"), "must not be negative");
            }
        }
    }
    if wanted("root_cause")
        && let Some(cause) = &case.root_cause
    {
        text(v, &format!("{prefix}.root_cause.category"), &cause.category, 100, false);
        long_text(v, &format!("{prefix}.root_cause.notes"), &cause.notes, false);
    }
    if wanted("prevention_notes") {
        long_text(v, &format!("{prefix}.prevention_notes"), &case.prevention_notes, false);
    }
    if let Some(references) = case.references.as_ref().filter(|_| wanted("references")) {
        text(v, &format!("{prefix}.references.order_id"), &references.order_id, 128, false);
        text(v, &format!("{prefix}.references.product_id"), &references.product_id, 128, false);
        text(v, &format!("{prefix}.references.location_id"), &references.location_id, 128, false);
    }
}

/// Checks an amount of money.
pub fn money(v: &mut Violations, field: &str, money: &Money, positive: bool) {
    if money.amount_minor < 0 {
        v.add(format!("{field}.amount_minor"), "must not be negative");
    } else if positive && money.amount_minor == 0 {
        v.add(format!("{field}.amount_minor"), "must be positive");
    }
    if !is_currency_code(&money.currency_code) {
        v.add(format!("{field}.currency_code"), "must be an ISO 4217 code such as EUR");
    }
}

/// Checks a resolution offer.
pub fn offer(v: &mut Violations, field: &str, offer: Option<&ResolutionOffer>) {
    let Some(offer) = required(v, field, offer) else {
        return;
    };
    let kind = enum_value::<OfferKind>(v, &format!("{field}.kind"), offer.kind, false);
    let monetary = matches!(kind, Some(OfferKind::Refund | OfferKind::Discount | OfferKind::Credit));
    match &offer.amount {
        Some(amount) => money(v, &format!("{field}.amount"), amount, monetary),
        None => v.check(monetary, format!("{field}.amount"), "required for a refund, discount or credit"),
    }
    long_text(v, &format!("{field}.description"), &offer.description, false);
}

/// The timeline entry kinds a client may add; the others are written by the service.
pub const CLIENT_ENTRY_KINDS: &[TimelineEntryKind] = &[
    TimelineEntryKind::Note,
    TimelineEntryKind::CustomerMessage,
    TimelineEntryKind::Call,
    TimelineEntryKind::EmailSent,
    TimelineEntryKind::SmsSent,
    TimelineEntryKind::PublicReply,
    TimelineEntryKind::RepeatContact,
];

/// Checks a timeline entry given by a client.
pub fn entry(v: &mut Violations, field: &str, entry: Option<&TimelineEntry>) {
    let Some(entry) = required(v, field, entry) else {
        return;
    };
    if let Some(kind) = enum_value::<TimelineEntryKind>(v, &format!("{field}.kind"), entry.kind, false)
        && !CLIENT_ENTRY_KINDS.contains(&kind)
    {
        v.add(format!("{field}.kind"), format!("{} entries are written by redress itself", kind.as_str_name()));
    }
    enum_value::<Visibility>(v, &format!("{field}.visibility"), entry.visibility, true);
    long_text(v, &format!("{field}.text"), &entry.text, true);
    if entry.attributes.len() > 32 {
        v.add(format!("{field}.attributes"), "at most 32 attributes");
    }
}

/// Checks a task.
pub fn task(v: &mut Violations, field: &str, task: Option<&Task>) {
    let Some(task) = required(v, field, task) else {
        return;
    };
    enum_value::<TaskKind>(v, &format!("{field}.kind"), task.kind, true);
    text(v, &format!("{field}.title"), &task.title, 200, true);
    long_text(v, &format!("{field}.description"), &task.description, false);
    text(v, &format!("{field}.assignee"), &task.assignee, 128, false);
    text(v, &format!("{field}.team"), &task.team, 128, false);
}

/// Checks an offer answer.
pub fn decision(v: &mut Violations, field: &str, decision: i32, counter: Option<&Money>) -> Option<OfferDecision> {
    let known = enum_value::<OfferDecision>(v, &format!("{field}.decision"), decision, false);
    match (known, counter) {
        (Some(OfferDecision::Counter), Some(amount)) => money(v, &format!("{field}.counter_amount"), amount, true),
        (Some(OfferDecision::Counter), None) => v.add(format!("{field}.counter_amount"), "required on a counter-offer"),
        (_, Some(amount)) => money(v, &format!("{field}.counter_amount"), amount, false),
        _ => {}
    }
    known
}

/// Checks an escalation record.
pub fn escalation(v: &mut Violations, field: &str, record: Option<&EscalationRecord>) {
    let Some(record) = required(v, field, record) else {
        return;
    };
    if record.level < 1 {
        v.add(format!("{field}.level"), "must be 1 or more");
    }
    enum_value::<SlaClockKind>(v, &format!("{field}.clock"), record.clock, true);
    text(v, &format!("{field}.reason"), &record.reason, 1000, false);
    if record.notified.len() > 50 {
        v.add(format!("{field}.notified"), "at most 50 people");
    }
}

/// Checks a satisfaction score against its scale.
pub fn satisfaction(v: &mut Violations, field: &str, satisfaction: Option<&Satisfaction>) {
    let Some(s) = required(v, field, satisfaction) else {
        return;
    };
    match enum_value::<SurveyScale>(v, &format!("{field}.scale"), s.scale, false) {
        Some(SurveyScale::Csat) if !(1..=5).contains(&s.score) => v.add(format!("{field}.score"), "CSAT is 1 to 5"),
        Some(SurveyScale::Nps) if !(0..=10).contains(&s.score) => v.add(format!("{field}.score"), "NPS is 0 to 10"),
        _ => {}
    }
    long_text(v, &format!("{field}.comment"), &s.comment, false);
}

/// Starts the checks of a change request: its request_id (required or not) and, when the
/// request carries one, the version the client read.
pub fn change(request_id: &str, required: bool, expected_version: Option<i64>) -> Violations {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", request_id, required);
    if let Some(version) = expected_version {
        v.check(version < 0, "expected_version", "must not be negative");
    }
    v
}

/// Checks an UpdateCase mask: at least one path, each one UpdateCase may change.
pub fn update_paths(v: &mut Violations, paths: &[String]) {
    if paths.is_empty() {
        v.add("update_mask", format!("required: name the fields to change ({})", UPDATABLE_PATHS.join(", ")));
    }
    for (i, path) in paths.iter().enumerate() {
        if !UPDATABLE_PATHS.contains(&path.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!("{path:?} cannot be updated; updatable: {}", UPDATABLE_PATHS.join(", ")),
            );
        }
    }
}

/// Checks an UpdatePlaybook request: at least one rule named, each a rule, each value one the
/// rule may take.
pub fn playbook_update(v: &mut Violations, given: &Playbook, paths: &[String]) {
    v.check(paths.is_empty(), "update_mask", format!("required: name the rules to change ({})", RULE_PATHS.join(", ")));
    for (i, path) in paths.iter().enumerate() {
        if !RULE_PATHS.contains(&path.as_str()) {
            v.add(
                format!("update_mask.paths[{i}]"),
                format!("{path:?} is not a playbook rule; rules: {}", RULE_PATHS.join(", ")),
            );
        } else if let Some((field, reason)) = refusal(path, given) {
            v.add(field, reason);
        }
    }
}

/// Checks a ListCases filter: every status, severity and channel a known one.
pub fn case_filter(v: &mut Violations, filter: &CaseFilter) {
    for (i, s) in filter.statuses.iter().enumerate() {
        enum_value::<CaseStatus>(v, &format!("filter.statuses[{i}]"), *s, false);
    }
    for (i, s) in filter.severities.iter().enumerate() {
        enum_value::<Severity>(v, &format!("filter.severities[{i}]"), *s, false);
    }
    for (i, c) in filter.channels.iter().enumerate() {
        enum_value::<Channel>(v, &format!("filter.channels[{i}]"), *c, false);
    }
}

/// Checks what CloseCase records: the root cause, when given, and the prevention notes.
pub fn closing(v: &mut Violations, root_cause: Option<&RootCause>, prevention_notes: &str) {
    if let Some(cause) = root_cause {
        text(v, "root_cause.category", &cause.category, 100, false);
        text(v, "root_cause.notes", &cause.notes, MAX_DESCRIPTION_BYTES, false);
    }
    text(v, "prevention_notes", prevention_notes, MAX_DESCRIPTION_BYTES, false);
}

/// Checks an SLA clock's state as the escalation service reports it.
pub fn sla_status(v: &mut Violations, field: &str, status: Option<&SlaStatus>) {
    let Some(status) = required(v, field, status) else {
        return;
    };
    enum_value::<SlaClockKind>(v, &format!("{field}.clock"), status.clock, false);
    for (name, d) in [("target", &status.target), ("business_time_used", &status.business_time_used)] {
        if d.as_ref().is_some_and(|d| d.seconds < 0 || d.nanos < 0) {
            v.add(format!("{field}.{name}"), "must not be negative");
        }
    }
}

/// Checks whose data EraseCustomer erases: at least one of a CRM id, an email or a phone, each
/// well formed (already trimmed), and why.
pub fn erasure(v: &mut Violations, customer_id: &str, email: &str, phone: &str, reason: &str) {
    if customer_id.is_empty() && email.is_empty() && phone.is_empty() {
        v.add("customer_id", "at least one of customer_id, email or phone is required");
    }
    text(v, "customer_id", customer_id, 200, false);
    v.check(!email.is_empty() && !is_email(email), "email", "not an email address");
    v.check(
        !phone.is_empty() && !is_e164(phone),
        "phone",
        "not a phone number in E.164 form (for example +447700900123)",
    );
    text(v, "reason", reason, 1000, true);
}
