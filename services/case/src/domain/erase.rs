//! Erasing a customer's personal data from a case, its timeline and its events.
//!
//! What identifies or quotes a person goes: the customer's name, email, phone and CRM id (the
//! id becomes an anonymous one, shared by the cases of one erasure), the order number, the
//! attachments, the review's address and author, the external reference, and every free text
//! written by the customer or about them (subject, description, desired outcome, apology,
//! tasks, offers, resolution, root-cause and prevention notes, satisfaction comment, public
//! reply, timeline text). What reports count stays: status, times, channel, category,
//! severity, unhappiness, owner and team, product and location, amounts, scores, the
//! root-cause category, SLA clocks and escalations.

use chrono::{DateTime, Utc};
use redress_kit::TenantId;
use redress_kit::personal::unquote;
use redress_kit::time::timestamp;
use redress_proto::case::v1::{Case, CaseEvent, Erasure, ErasureTrigger, ResolutionOffer, Task, TimelineEntry};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Actor, case_name};

/// Whose cases an erasure covers.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A customer, by any of their identifiers (empty ones are ignored).
    Customer {
        /// The CRM id.
        customer_id: String,
        /// The email address, matched without regard to case.
        email: String,
        /// The phone number.
        phone: String,
    },
    /// One case (retention).
    Case(Uuid),
}

/// An erasure to carry out.
#[derive(Debug, Clone)]
pub struct EraseRequest {
    /// Whose data.
    pub subject: Subject,
    /// Why.
    pub reason: String,
    /// The idempotency key.
    pub request_id: String,
}

/// The hex SHA-256 of the tenant and a customer's identifiers, one per line.
pub fn subject_digest(tenant: &TenantId, customer_id: &str, email: &str, phone: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [tenant.as_str(), customer_id, &email.to_lowercase(), phone] {
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The erasure's resource name.
pub fn erasure_name(tenant: &TenantId, id: Uuid) -> String {
    format!("tenants/{tenant}/erasures/{id}")
}

/// The audit record of the erasure `id` that `request` asked of `requester` and that covers
/// the cases `ids`: who, when, why and which cases, and of a customer only their CRM id and a
/// digest of their identifiers.
pub fn record(
    tenant: &TenantId,
    id: Uuid,
    request: &EraseRequest,
    requester: &Actor,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Erasure {
    let (trigger, customer_id, digest) = match &request.subject {
        Subject::Customer { customer_id, email, phone } => {
            (ErasureTrigger::Request, customer_id.clone(), subject_digest(tenant, customer_id, email, phone))
        }
        Subject::Case(_) => (ErasureTrigger::Retention, String::new(), String::new()),
    };
    Erasure {
        name: erasure_name(tenant, id),
        trigger: trigger as i32,
        customer_id,
        subject_digest: digest,
        reason: request.reason.clone(),
        requester: requester.id.clone(),
        cases: ids.iter().map(|case| case_name(tenant, *case)).collect(),
        erase_time: Some(timestamp(now)),
    }
}

/// What erased free text reads as.
pub const ERASED: &str = redress_kit::personal::ERASED;

fn erase(text: &mut String) {
    if !text.is_empty() {
        *text = ERASED.to_string();
    }
}

/// The anonymous customer id of an erasure's cases, from the erasure's id.
pub fn anonymous_id(erasure_id: &uuid::Uuid) -> String {
    format!("erased-{}", &erasure_id.simple().to_string()[..16])
}

/// Removes the customer's personal data from `case`.
pub fn redact_case(case: &mut Case, anonymous_id: &str) {
    case.unhappy_reason = unquote(&case.unhappy_reason);
    if let Some(triage) = case.triage.as_mut() {
        triage.unhappy_reason = unquote(&triage.unhappy_reason);
        triage.reasons = triage.reasons.iter().map(|r| unquote(r)).collect();
    }
    if let Some(customer) = case.customer.as_mut() {
        customer.customer_id = anonymous_id.to_string();
        customer.display_name.clear();
        customer.email.clear();
        customer.phone.clear();
    }
    erase(&mut case.subject);
    erase(&mut case.description);
    erase(&mut case.desired_outcome);
    if let Some(references) = case.references.as_mut() {
        references.order_id.clear();
    }
    if let Some(ack) = case.acknowledgement.as_mut() {
        erase(&mut ack.apology_text);
    }
    case.tasks.iter_mut().for_each(redact_task);
    case.offers.iter_mut().for_each(redact_offer);
    if let Some(resolution) = case.resolution.as_mut() {
        erase(&mut resolution.fix_summary);
    }
    if let Some(root_cause) = case.root_cause.as_mut() {
        erase(&mut root_cause.notes);
    }
    erase(&mut case.prevention_notes);
    if let Some(satisfaction) = case.satisfaction.as_mut() {
        erase(&mut satisfaction.comment);
    }
    case.external_reference.clear();
    case.attachments.clear();
    if let Some(review) = case.review.as_mut() {
        review.url.clear();
        review.author_handle.clear();
        erase(&mut review.public_reply);
    }
}

/// Removes free text from a task, keeping its kind, people and times.
pub fn redact_task(task: &mut Task) {
    erase(&mut task.title);
    erase(&mut task.description);
    erase(&mut task.outcome);
}

/// Removes free text from an offer, keeping its kind, amounts and decision.
pub fn redact_offer(offer: &mut ResolutionOffer) {
    erase(&mut offer.description);
    erase(&mut offer.customer_comment);
}

/// Removes the text and attributes of a timeline entry, keeping its kind, actor and times.
pub fn redact_entry(entry: &mut TimelineEntry) {
    erase(&mut entry.text);
    // Status moves are kept: they are the entry's structure, not anyone's words.
    entry.attributes.retain(|k, _| k == "from_status" || k == "to_status");
}

/// Removes personal data from an event of an erased case.
pub fn redact_event(event: &mut CaseEvent, anonymous_id: &str) {
    if let Some(case) = event.case.as_mut() {
        redact_case(case, anonymous_id);
    }
    if let Some(entry) = event.timeline_entry.as_mut() {
        redact_entry(entry);
    }
    if let Some(task) = event.task.as_mut() {
        redact_task(task);
    }
    if let Some(offer) = event.offer.as_mut() {
        redact_offer(offer);
    }
}

#[cfg(test)]
mod tests {
    use redress_proto::case::v1::{Acknowledgement, ReviewDetails, Satisfaction};
    use redress_proto::common::v1::{CaseReferences, Customer};

    use super::*;

    #[test]
    fn a_redacted_case_keeps_what_reports_count_and_nothing_personal() {
        let mut case = Case {
            customer: Some(Customer {
                customer_id: "cust-9".into(),
                display_name: "Ana Silva".into(),
                email: "ana@example.com".into(),
                phone: "+447700900123".into(),
                tier: 2,
                locale: "en-GB".into(),
            }),
            subject: "Kettle cracked".into(),
            description: "Ana here, my kettle cracked".into(),
            references: Some(CaseReferences {
                order_id: "1042".into(),
                product_id: "KETTLE-2".into(),
                location_id: "leeds".into(),
            }),
            category: "product_quality".into(),
            severity: 3,
            status: 7,
            acknowledgement: Some(Acknowledgement { apology_text: "Sorry Ana".into(), ..Default::default() }),
            satisfaction: Some(Satisfaction { score: 2, comment: "Ana is still cross".into(), ..Default::default() }),
            review: Some(ReviewDetails {
                platform: "trustpilot".into(),
                url: "https://reviews.example/ana".into(),
                rating: 1,
                author_handle: "ana_s".into(),
                public_reply: "Dear Ana".into(),
                ..Default::default()
            }),
            external_reference: "<ana@mail.example>".into(),
            ..Default::default()
        };
        redact_case(&mut case, "erased-1");
        let text = format!("{case:?}");
        for personal in ["Ana", "ana", "1042", "+4477", "cust-9", "Kettle cracked"] {
            assert!(!text.contains(personal), "{personal:?} left in {text}");
        }
        let customer = case.customer.as_ref().unwrap();
        assert_eq!((customer.customer_id.as_str(), customer.tier, customer.locale.as_str()), ("erased-1", 2, "en-GB"));
        assert_eq!((case.category.as_str(), case.severity, case.status), ("product_quality", 3, 7));
        assert_eq!(case.references.as_ref().unwrap().product_id, "KETTLE-2");
        assert_eq!(case.satisfaction.as_ref().unwrap().score, 2);
        assert_eq!(case.review.as_ref().map(|r| (r.platform.as_str(), r.rating)), Some(("trustpilot", 1)));
        assert_eq!(case.subject, ERASED);
    }

    #[test]
    fn a_redacted_entry_keeps_its_status_move() {
        let mut entry = TimelineEntry {
            text: "Called Ana on +447700900123".into(),
            attributes: [("from_status", "NEW"), ("to_status", "ACKNOWLEDGED"), ("channel", "ana@example.com")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        redact_entry(&mut entry);
        assert_eq!(entry.text, ERASED);
        assert_eq!(entry.attributes.len(), 2);
        assert_eq!(entry.attributes["to_status"], "ACKNOWLEDGED");
    }
}
