//! SubmitReview: a review rated at or below the threshold (2 of 5 by default) opens a
//! public (REVIEW_SITE), unhappy case carrying the review's details, with a "reply
//! publicly" task. The reply, once posted, is recorded on the case with
//! `CaseService.AddTimelineEntry` (kind PUBLIC_REPLY), which also sets `review.public_reply`.

use redress_kit::TenantId;
use redress_proto::case::v1::{Case, ReviewDetails, Task, TaskKind};
use redress_proto::common::v1 as common;
use redress_proto::intake::v1::{IntakeOutcome, Review, SubmitReviewResponse};

use super::{Seen, derived_request_id};
use crate::app::Intake;
use crate::domain::normalise::derive_subject;
use crate::domain::validate::MAX_ID_CHARS;
use crate::domain::{CustomerTier, ReviewInput, Triage};
use crate::error::Error;
use crate::store::{Plan, request_hash};

const METHOD: &str = "SubmitReview";

/// The customer a review's case is for: the customer given, and when they have no id,
/// email or phone, the reviewer's public identity on the platform as their id
/// (`trustpilot:jane_d`).
fn reviewer(review: &Review, request_id: &str) -> common::Customer {
    let mut customer = review.customer.clone().unwrap_or_default();
    if customer.customer_id.is_empty() && customer.email.is_empty() && customer.phone.is_empty() {
        let who = if !review.author_handle.is_empty() {
            review.author_handle.clone()
        } else if !review.external_reference.is_empty() {
            format!("review-{}", review.external_reference)
        } else {
            format!("review-{request_id}")
        };
        let id = format!("{}:{who}", review.platform);
        customer.customer_id = if id.chars().count() <= MAX_ID_CHARS {
            id
        } else {
            let digest: String = request_hash(who.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("{}:{digest}", review.platform.chars().take(MAX_ID_CHARS - 33).collect::<String>())
        };
        if customer.display_name.is_empty() {
            customer.display_name = review.author_handle.chars().take(200).collect();
        }
    }
    customer
}

/// The public, unhappy case a low review opens.
fn review_case(review: &Review, request_id: &str, triage: Triage) -> Case {
    let subject = if !review.title.is_empty() {
        review.title.clone()
    } else if !review.text.is_empty() {
        derive_subject(&review.text)
    } else {
        format!("{}-star review on {}", review.rating, review.platform)
    };
    let description = if review.text.is_empty() {
        format!("A {}-star review on {} with no text.", review.rating, review.platform)
    } else {
        review.text.clone()
    };
    let triage = common::Triage::from(triage);
    Case {
        customer: Some(reviewer(review, request_id)),
        channel: common::Channel::ReviewSite as i32,
        subject,
        description,
        references: review.references.clone(),
        occur_time: review.post_time,
        category: triage.category.clone(),
        severity: triage.severity,
        unhappy: triage.unhappy,
        unhappy_reason: triage.unhappy_reason.clone(),
        triage: Some(triage),
        // Review ids are unique per platform, not across platforms.
        external_reference: if review.external_reference.is_empty() {
            String::new()
        } else {
            format!("{}:{}", review.platform, review.external_reference)
        },
        review: Some(ReviewDetails {
            platform: review.platform.clone(),
            url: review.url.clone(),
            rating: review.rating,
            author_handle: review.author_handle.clone(),
            post_time: review.post_time,
            ..ReviewDetails::default()
        }),
        ..Case::default()
    }
}

fn reply_task(review: &Review) -> Task {
    let whose = if review.author_handle.is_empty() { String::new() } else { format!(" by {}", review.author_handle) };
    let at = if review.url.is_empty() { String::new() } else { format!(" at {}", review.url) };
    Task {
        kind: TaskKind::PublicReply as i32,
        title: format!("Reply publicly on {}", review.platform),
        description: format!(
            "Reply in public to the {}-star review{whose}{at}, then record the reply that was posted on this case's \
             timeline (AddTimelineEntry, kind PUBLIC_REPLY).",
            review.rating
        ),
        ..Task::default()
    }
}

impl Intake {
    /// Handles a validated, normalised review, after taking a token from the tenant's rate
    /// limit.
    pub async fn submit_review(
        &self,
        tenant: &TenantId,
        request_id: &str,
        review: &Review,
    ) -> Result<SubmitReviewResponse, Error> {
        self.limiter.take(tenant).await?;
        let hash = request_hash(&prost::Message::encode_to_vec(review));
        let plan = Plan { outcome: IntakeOutcome::CaseCreated as i32, case: String::new() };
        let resumed = match self.begin(tenant, request_id, METHOD, &hash, &plan).await? {
            Seen::Done(answer) => return Ok(answer),
            Seen::Pending(_) => true,
            Seen::New => false,
        };
        let rules = self.rules.for_tenant(&self.store, tenant).await?;
        let low = review.rating <= rules.classifier.review_unhappy_max_rating;
        let customer = review.customer.clone().unwrap_or_default();
        let recent = if low {
            self.recent_cases(tenant, &customer.customer_id, rules.repeat_complainant_window).await?
        } else {
            Vec::new()
        };
        let input = ReviewInput {
            rating: review.rating,
            title: &review.title,
            text: &review.text,
            tier: CustomerTier::from_proto(customer.tier).unwrap_or_default(),
            recent_cases: u32::try_from(recent.len()).unwrap_or(u32::MAX),
        };
        let answer = match rules.classifier.triage_review(&input) {
            None => {
                SubmitReviewResponse { outcome: IntakeOutcome::RecordedOnly as i32, ..SubmitReviewResponse::default() }
            }
            Some(triage) => {
                let case = review_case(review, request_id, triage);
                let derived = derived_request_id(request_id, "");
                let (case, created) = self.peer.create_case(tenant, case, &derived).await?;
                let existing = case.tasks.iter().find(|t| t.kind() == TaskKind::PublicReply).map(|t| t.name.clone());
                let task = match existing {
                    Some(name) => name,
                    None => {
                        let derived = derived_request_id(request_id, ":reply-task");
                        self.peer.create_task(tenant, &case.name, reply_task(review), &derived).await?.name
                    }
                };
                // Not created by this call: an earlier attempt of it, or the same review
                // (same platform identifier) submitted before.
                let outcome =
                    if created || resumed { IntakeOutcome::CaseCreated } else { IntakeOutcome::JoinedExistingCase };
                SubmitReviewResponse {
                    outcome: outcome as i32,
                    case: case.name,
                    case_reference: case.reference,
                    triage: case.triage,
                    reply_task: task,
                }
            }
        };
        self.finish(tenant, request_id, &answer).await?;
        tracing::info!(
            tenant = %tenant,
            outcome = IntakeOutcome::try_from(answer.outcome).map(|o| o.as_str_name()).unwrap_or_default(),
            "review submitted"
        );
        Ok(answer)
    }
}
