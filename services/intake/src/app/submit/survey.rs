//! SubmitSurveyResponse: every answer is kept in intake's own table; a detractor opens an
//! unhappy-customer case, or, when the answer names a case, marks that case unhappy (and
//! reopens it when resolved or closed) so that escalation fires at once; any answer that
//! names a case is recorded on it as the customer's satisfaction.

use redress_kit::TenantId;
use redress_proto::case::v1::{Case, Satisfaction};
use redress_proto::common::v1 as common;
use redress_proto::intake::v1::{IntakeOutcome, SubmitSurveyResponseResponse, SurveyResponse};
use tonic::Code;

use super::{Seen, derived_request_id};
use crate::app::Intake;
use crate::domain::{Severity, SurveyClass, SurveyInput, SurveyScale, Triage, Violation};
use crate::error::Error;
use crate::store::{Plan, request_hash};

const METHOD: &str = "SubmitSurveyResponse";

impl Intake {
    /// Handles a validated, normalised survey answer, after taking a token from the tenant's
    /// rate limit; the case it names, if any, has been checked to be the tenant's.
    pub async fn submit_survey_response(
        &self,
        tenant: &TenantId,
        request_id: &str,
        response: &SurveyResponse,
    ) -> Result<SubmitSurveyResponseResponse, Error> {
        self.limiter.take(tenant).await?;
        let scale = SurveyScale::from_proto(response.scale)
            .ok_or_else(|| Error::Corrupt("a validated survey answer has no scale".into()))?;
        let rules = self.rules.for_tenant(&self.store, tenant).await?;
        let class = rules.classifier.survey.classify(scale, response.score);
        let customer = response.customer.clone().unwrap_or_default();
        let identified = [&customer.customer_id, &customer.email, &customer.phone].iter().any(|v| !v.is_empty());
        if class == SurveyClass::Detractor && response.case.is_empty() && !identified {
            return Err(Error::Invalid(vec![Violation {
                field: "survey_response.customer".into(),
                description: "required for a detractor: give the customer (customer_id, email or phone) or the case \
                              the answer is about, so that someone can call them back"
                    .into(),
            }]));
        }
        let hash = request_hash(&prost::Message::encode_to_vec(response));
        match self.begin(tenant, request_id, METHOD, &hash, &Plan::default()).await? {
            Seen::Done(answer) => return Ok(answer),
            Seen::New | Seen::Pending(_) => {}
        }
        let satisfaction = Satisfaction {
            scale: response.scale,
            score: response.score,
            comment: response.comment.clone(),
            respond_time: response.respond_time,
        };
        let mut answer = SubmitSurveyResponseResponse {
            survey_class: class.to_proto() as i32,
            outcome: IntakeOutcome::RecordedOnly as i32,
            ..SubmitSurveyResponseResponse::default()
        };
        if class == SurveyClass::Detractor {
            let recent = self.recent_cases(tenant, &customer.customer_id, rules.repeat_complainant_window).await?;
            let input = SurveyInput {
                scale,
                score: response.score,
                comment: &response.comment,
                tier: crate::domain::CustomerTier::from_proto(customer.tier).unwrap_or_default(),
                recent_cases: u32::try_from(recent.len()).unwrap_or(u32::MAX),
            };
            let triage = rules
                .classifier
                .triage_survey(&input)
                .triage
                .ok_or_else(|| Error::Corrupt("a detractor answer has no triage".into()))?;
            let mut about = Reopened::None;
            if !response.case.is_empty() {
                let case = self
                    .peer
                    .record_satisfaction(
                        tenant,
                        &response.case,
                        satisfaction,
                        &derived_request_id(request_id, ":satisfaction"),
                    )
                    .await?;
                about = self.mark_unhappy(tenant, request_id, case, &triage).await?;
            }
            let (case, outcome) = match about {
                Reopened::Updated(case) => (case, IntakeOutcome::CaseUpdated),
                other => {
                    // The customer of the case the answer is about, when the answer names none.
                    let customer = match other {
                        Reopened::TooLate(earlier) if !identified => earlier.customer.unwrap_or_default(),
                        _ => customer.clone(),
                    };
                    let case = detractor_case(response, &customer, triage.clone(), scale);
                    let derived = derived_request_id(request_id, "");
                    let (case, _) = self.peer.create_case(tenant, case, &derived).await?;
                    (case, IntakeOutcome::CaseCreated)
                }
            };
            answer.outcome = outcome as i32;
            answer.case = case.name;
            answer.case_reference = case.reference;
            answer.triage = Some(triage.into());
        } else if !response.case.is_empty() {
            let derived = derived_request_id(request_id, ":satisfaction");
            let case = self.peer.record_satisfaction(tenant, &response.case, satisfaction, &derived).await?;
            answer.outcome = IntakeOutcome::CaseUpdated as i32;
            answer.case = case.name;
            answer.case_reference = case.reference;
        }
        let encoded = prost::Message::encode_to_vec(&answer);
        self.store.finish(tenant, request_id, encoded, Some((response, &answer))).await?;
        tracing::info!(
            tenant = %tenant,
            survey_class = class.to_proto().as_str_name(),
            outcome = IntakeOutcome::try_from(answer.outcome).map(|o| o.as_str_name()).unwrap_or_default(),
            "survey response submitted"
        );
        Ok(answer)
    }

    /// Marks the case a detractor answer is about unhappy, raising its severity to the
    /// answer's, and reopens it first when it is resolved or closed.
    async fn mark_unhappy(
        &self,
        tenant: &TenantId,
        request_id: &str,
        mut case: Case,
        triage: &Triage,
    ) -> Result<Reopened, Error> {
        if !case.is_open() {
            let reopen = derived_request_id(request_id, ":reopen");
            match self.peer.reopen_case(tenant, &case.name, triage.unhappy_reason.clone(), &reopen).await {
                Ok(reopened) => case = reopened,
                Err(Error::Peer { status, .. }) if status.code() == Code::FailedPrecondition => {
                    return Ok(Reopened::TooLate(case));
                }
                Err(e) => return Err(e),
            }
        }
        let current = Severity::from_proto(case.severity).unwrap_or(Severity::Medium);
        let severity = current.max(triage.severity);
        if case.unhappy && severity == current {
            return Ok(Reopened::Updated(case));
        }
        let patch = Case {
            name: case.name.clone(),
            severity: severity.to_proto() as i32,
            unhappy: true,
            unhappy_reason: triage.unhappy_reason.clone(),
            ..Case::default()
        };
        let paths = ["severity", "unhappy", "unhappy_reason"];
        let update = derived_request_id(request_id, ":unhappy");
        Ok(Reopened::Updated(self.peer.update_case(tenant, patch, &paths, 0, &update).await?))
    }
}

/// What became of the case a detractor answer is about.
enum Reopened {
    /// The answer names no case.
    None,
    /// Marked unhappy (and reopened if it was resolved or closed).
    Updated(Case),
    /// Resolved longer ago than the reopen window: a new case is opened, linked to it.
    TooLate(Case),
}

/// The unhappy-customer case a detractor answer opens.
fn detractor_case(response: &SurveyResponse, customer: &common::Customer, triage: Triage, scale: SurveyScale) -> Case {
    let score = format!("{} {}", scale.name(), response.score);
    let description = if response.comment.is_empty() {
        format!("The customer answered a satisfaction survey with {score} and left no comment.")
    } else {
        response.comment.clone()
    };
    let triage = common::Triage::from(triage);
    Case {
        customer: Some(customer.clone()),
        channel: common::Channel::Survey as i32,
        subject: format!("Detractor survey: {score}"),
        description,
        occur_time: response.respond_time,
        category: triage.category.clone(),
        severity: triage.severity,
        unhappy: true,
        unhappy_reason: triage.unhappy_reason.clone(),
        triage: Some(triage),
        linked_cases: if response.case.is_empty() { Vec::new() } else { vec![response.case.clone()] },
        external_reference: response.external_reference.clone(),
        ..Case::default()
    }
}
