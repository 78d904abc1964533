//! The gRPC layer of `redress.intake.v1.IntakeService`: who is calling, normalisation and
//! validation (INVALID_ARGUMENT naming every field, before anything is written), then one call
//! to the application ([`crate::app`]) and its answer or error mapped. No rule lives here.

mod convert;
mod validate;

use std::sync::Arc;

use redress_kit::ApiError;
use redress_kit::caller::caller;
use redress_proto::intake::v1::intake_service_server::IntakeService;
use redress_proto::intake::v1::*;
use tonic::{Request, Response, Status};

use crate::app::Intake;
use crate::domain::normalise::{normalise_complaint, normalise_review, normalise_survey_response};
use crate::domain::{validate_complaint, validate_review, validate_survey_response};
use convert::submission_error;
use validate::{settings_name, submission, survey_case, update_mask};

/// Implements `redress.intake.v1.IntakeService`.
pub struct IntakeApi {
    intake: Arc<Intake>,
}

impl IntakeApi {
    /// The API over the application.
    pub fn new(intake: Arc<Intake>) -> Self {
        Self { intake }
    }
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn submit_complaint(
        &self,
        request: Request<SubmitComplaintRequest>,
    ) -> Result<Response<SubmitComplaintResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let ids = (req.parent.as_str(), req.request_id.as_str());
        let complaint = submission(&caller.tenant, ids, ("complaint", req.complaint), normalise_complaint, |c| {
            Ok(validate_complaint(c))
        })?;
        let answer = self.intake.submit_complaint(&caller.tenant, &req.request_id, &complaint).await;
        answer.map(Response::new).map_err(|e| submission_error("complaint", e))
    }

    async fn submit_survey_response(
        &self,
        request: Request<SubmitSurveyResponseRequest>,
    ) -> Result<Response<SubmitSurveyResponseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let ids = (req.parent.as_str(), req.request_id.as_str());
        let given = ("survey_response", req.survey_response);
        let response = submission(&caller.tenant, ids, given, normalise_survey_response, |r| {
            let mut found = validate_survey_response(r);
            survey_case(&r.case, &caller.tenant, &mut found)?;
            Ok(found)
        })?;
        let answer = self.intake.submit_survey_response(&caller.tenant, &req.request_id, &response).await;
        answer.map(Response::new).map_err(|e| submission_error("survey_response", e))
    }

    async fn submit_review(
        &self,
        request: Request<SubmitReviewRequest>,
    ) -> Result<Response<SubmitReviewResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let ids = (req.parent.as_str(), req.request_id.as_str());
        let review =
            submission(&caller.tenant, ids, ("review", req.review), normalise_review, |r| Ok(validate_review(r)))?;
        let answer = self.intake.submit_review(&caller.tenant, &req.request_id, &review).await;
        answer.map(Response::new).map_err(|e| submission_error("review", e))
    }

    async fn get_classification_settings(
        &self,
        request: Request<GetClassificationSettingsRequest>,
    ) -> Result<Response<GetClassificationSettingsResponse>, Status> {
        let caller = caller(&request)?;
        settings_name("name", &request.get_ref().name, &caller.tenant)?;
        let settings = self.intake.classification_settings(&caller.tenant).await?;
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
        update_mask(&paths)?;
        let settings = self.intake.update_classification_settings(&caller.tenant, &given, &paths).await?;
        Ok(Response::new(UpdateClassificationSettingsResponse { classification_settings: Some(settings) }))
    }
}
