//! The gRPC layer of `redress.intake.v1.IntakeService`: who is calling, normalisation and
//! validation (INVALID_ARGUMENT naming every field, before anything is written), the
//! tenant's rate limit for valid submissions, then the submission is handed to
//! [`crate::submit`]. No rule lives here.

use std::sync::Arc;

use redress_kit::caller::caller;
use redress_kit::error::Violations;
use redress_kit::{ApiError, TenantId, names};
use redress_proto::intake::v1::intake_service_server::IntakeService;
use redress_proto::intake::v1::*;
use tonic::{Request, Response, Status};
use tonic_types::FieldViolation;

use crate::domain::normalise::{normalise_complaint, normalise_review, normalise_survey_response};
use crate::domain::{Violation, validate_complaint, validate_review, validate_survey_response};
use crate::error::field_violations;
use crate::submit::Intake;

/// Implements `redress.intake.v1.IntakeService`.
pub struct IntakeApi {
    intake: Arc<Intake>,
}

impl IntakeApi {
    /// The API over the submission handling.
    pub fn new(intake: Arc<Intake>) -> Self {
        Self { intake }
    }

    /// Takes a token from the tenant's rate limit.
    async fn admit(&self, tenant: &TenantId) -> Result<(), Status> {
        self.intake.limiter.take(tenant).await?;
        Ok(())
    }
}

/// Every violation of a request: its request_id, a missing message, and the message's own.
fn check(request_id: &str, missing: Option<&str>, found: Result<(), Vec<Violation>>) -> Result<(), Status> {
    let mut v = Violations::new();
    redress_kit::validate::request_id(&mut v, "request_id", request_id, true);
    if let Some(field) = missing {
        v.add(field, "required");
    }
    let mut all: Vec<FieldViolation> = match v.finish() {
        Err(ApiError::InvalidArgument(violations)) => violations,
        _ => Vec::new(),
    };
    if let Err(found) = found {
        all.extend(field_violations(found));
    }
    if all.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(all).into()) }
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn submit_complaint(
        &self,
        request: Request<SubmitComplaintRequest>,
    ) -> Result<Response<SubmitComplaintResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let missing = req.complaint.is_none().then_some("complaint");
        let complaint = normalise_complaint(&req.complaint.unwrap_or_default());
        let found = if missing.is_some() { Ok(()) } else { validate_complaint(&complaint) };
        check(&req.request_id, missing, found)?;
        // The rate-limit token is taken with the customer's lock.
        let answer = self.intake.submit_complaint(&caller.tenant, &req.request_id, &complaint).await?;
        Ok(Response::new(answer))
    }

    async fn submit_survey_response(
        &self,
        request: Request<SubmitSurveyResponseRequest>,
    ) -> Result<Response<SubmitSurveyResponseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let missing = req.survey_response.is_none().then_some("survey_response");
        let response = normalise_survey_response(&req.survey_response.unwrap_or_default());
        let mut found = if missing.is_some() { Ok(()) } else { validate_survey_response(&response) };
        if !response.case.is_empty() {
            const FIELD: &str = "survey_response.case";
            let problem = match names::parse_owned(FIELD, &response.case, &["tenants", "cases"], &caller.tenant) {
                Ok(ids) if uuid::Uuid::parse_str(ids[0]).is_ok() => None,
                Ok(_) => Some("does not name a case (tenants/{tenant}/cases/{case})".to_string()),
                Err(ApiError::NotFound(name)) => return Err(ApiError::NotFound(name).into()),
                Err(_) => Some("must be a case name of the form tenants/{tenant}/cases/{case}".to_string()),
            };
            if let Some(description) = problem {
                let violation = Violation { field: FIELD.into(), description };
                match &mut found {
                    Ok(()) => found = Err(vec![violation]),
                    Err(violations) => violations.push(violation),
                }
            }
        }
        check(&req.request_id, missing, found)?;
        self.admit(&caller.tenant).await?;
        let answer = self.intake.submit_survey_response(&caller.tenant, &req.request_id, &response).await?;
        Ok(Response::new(answer))
    }

    async fn submit_review(
        &self,
        request: Request<SubmitReviewRequest>,
    ) -> Result<Response<SubmitReviewResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let missing = req.review.is_none().then_some("review");
        let review = normalise_review(&req.review.unwrap_or_default());
        let found = if missing.is_some() { Ok(()) } else { validate_review(&review) };
        check(&req.request_id, missing, found)?;
        self.admit(&caller.tenant).await?;
        let answer = self.intake.submit_review(&caller.tenant, &req.request_id, &review).await?;
        Ok(Response::new(answer))
    }

    async fn get_classification_settings(
        &self,
        request: Request<GetClassificationSettingsRequest>,
    ) -> Result<Response<GetClassificationSettingsResponse>, Status> {
        let caller = caller(&request)?;
        settings_name("name", &request.get_ref().name, &caller.tenant)?;
        let settings = self.intake.rules.get(&self.intake.store, &caller.tenant).await?;
        Ok(Response::new(GetClassificationSettingsResponse { classification_settings: Some(settings) }))
    }

    async fn update_classification_settings(
        &self,
        request: Request<UpdateClassificationSettingsRequest>,
    ) -> Result<Response<UpdateClassificationSettingsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let Some(given) = req.classification_settings else {
            return Err(ApiError::invalid("classification_settings", "required").into());
        };
        settings_name("classification_settings.name", &given.name, &caller.tenant)?;
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let settings = self.intake.rules.update(&self.intake.store, &caller.tenant, &given, &paths).await?;
        Ok(Response::new(UpdateClassificationSettingsResponse { classification_settings: Some(settings) }))
    }
}

/// Checks that `value` names the caller's classification settings,
/// `tenants/{tenant}/classificationSettings`.
fn settings_name(field: &str, value: &str, tenant: &TenantId) -> Result<(), Status> {
    match value.strip_suffix("/classificationSettings") {
        Some(parent) => Ok(names::check_parent(field, parent, tenant)?),
        None => Err(ApiError::invalid(
            field,
            format!("{value:?} is not of the form tenants/{{tenant}}/classificationSettings"),
        )
        .into()),
    }
}
