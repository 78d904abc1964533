//! The gRPC layer of `redress.escalation.v1.EscalationService`: decode, validate, call one
//! application function, map the result.

mod convert;
mod pages;
mod validate;

use redress_kit::caller::{Caller, caller};
use redress_kit::names;
use redress_proto::escalation::v1::escalation_service_server::EscalationService;
use redress_proto::escalation::v1::*;
use tonic::{Request, Response, Status};

use crate::app::App;
use crate::app::escalations::Listing;
use validate::{case_id, check_staff, id_of, required, roles, uuid_of};

/// Implements `redress.escalation.v1.EscalationService`.
pub struct EscalationApi {
    app: App,
}

impl EscalationApi {
    /// The API over the application.
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

/// A caller and the request's message, its parent checked to be the caller's tenant when it
/// has one (`parent` gives it).
fn open<T>(request: Request<T>, parent: impl Fn(&T) -> Option<&str>) -> Result<(Caller, T), Status> {
    let caller = caller(&request)?;
    let message = request.into_inner();
    if let Some(parent) = parent(&message) {
        names::check_parent("parent", parent, &caller.tenant)?;
    }
    Ok((caller, message))
}

#[tonic::async_trait]
impl EscalationService for EscalationApi {
    async fn create_sla_policy(
        &self,
        request: Request<CreateSlaPolicyRequest>,
    ) -> Result<Response<CreateSlaPolicyResponse>, Status> {
        let (caller, req) = open(request, |r| Some(r.parent.as_str()))?;
        required(&req.request_id, req.sla_policy.is_none(), "sla_policy")?;
        let stored = self.app.create_policy(&caller, &req.request_id, req.sla_policy.unwrap_or_default()).await?;
        Ok(Response::new(CreateSlaPolicyResponse { sla_policy: Some(stored) }))
    }

    async fn get_sla_policy(
        &self,
        request: Request<GetSlaPolicyRequest>,
    ) -> Result<Response<GetSlaPolicyResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let policy = self.app.policy(&caller, id_of(&caller, "name", &req.name, "slaPolicies")?).await?;
        Ok(Response::new(GetSlaPolicyResponse { sla_policy: Some(policy) }))
    }

    async fn list_sla_policies(
        &self,
        request: Request<ListSlaPoliciesRequest>,
    ) -> Result<Response<ListSlaPoliciesResponse>, Status> {
        let (caller, req) = open(request, |r| Some(r.parent.as_str()))?;
        let (limit, offset) = pages::offset(&caller, "slaPolicies", req.page_size, &req.page_token)?;
        let all = self.app.policies(&caller).await?;
        let page: Vec<SlaPolicy> = all.iter().skip(offset).take(limit).cloned().collect();
        let next_page_token = if offset + page.len() < all.len() {
            pages::offset_token(&caller, "slaPolicies", offset + page.len())
        } else {
            String::new()
        };
        Ok(Response::new(ListSlaPoliciesResponse { sla_policies: page, next_page_token }))
    }

    async fn update_sla_policy(
        &self,
        request: Request<UpdateSlaPolicyRequest>,
    ) -> Result<Response<UpdateSlaPolicyResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let given = req.sla_policy.unwrap_or_default();
        let id = id_of(&caller, "sla_policy.name", &given.name, "slaPolicies")?;
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let saved = self.app.update_policy(&caller, id, &given, &paths).await?;
        Ok(Response::new(UpdateSlaPolicyResponse { sla_policy: Some(saved) }))
    }

    async fn delete_sla_policy(
        &self,
        request: Request<DeleteSlaPolicyRequest>,
    ) -> Result<Response<DeleteSlaPolicyResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        self.app.delete_policy(&caller, id_of(&caller, "name", &req.name, "slaPolicies")?).await?;
        Ok(Response::new(DeleteSlaPolicyResponse { name: req.name }))
    }

    async fn create_calendar(
        &self,
        request: Request<CreateCalendarRequest>,
    ) -> Result<Response<CreateCalendarResponse>, Status> {
        let (caller, req) = open(request, |r| Some(r.parent.as_str()))?;
        required(&req.request_id, req.calendar.is_none(), "calendar")?;
        let stored = self.app.create_calendar(&caller, &req.request_id, req.calendar.unwrap_or_default()).await?;
        Ok(Response::new(CreateCalendarResponse { calendar: Some(stored) }))
    }

    async fn get_calendar(
        &self,
        request: Request<GetCalendarRequest>,
    ) -> Result<Response<GetCalendarResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let calendar = self.app.calendar(&caller, id_of(&caller, "name", &req.name, "calendars")?).await?;
        Ok(Response::new(GetCalendarResponse { calendar: Some(calendar) }))
    }

    async fn list_calendars(
        &self,
        request: Request<ListCalendarsRequest>,
    ) -> Result<Response<ListCalendarsResponse>, Status> {
        let (caller, req) = open(request, |r| Some(r.parent.as_str()))?;
        let (limit, after) = pages::after(&caller, "calendars", req.page_size, &req.page_token)?;
        let found = self.app.calendars(&caller, &after, limit as u64 + 1).await?;
        let (calendars, next_page_token) = pages::keyed(&caller, "calendars", found, limit);
        Ok(Response::new(ListCalendarsResponse { calendars, next_page_token }))
    }

    async fn upsert_staff_member(
        &self,
        request: Request<UpsertStaffMemberRequest>,
    ) -> Result<Response<UpsertStaffMemberResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let member = req.staff_member.unwrap_or_default();
        let id = id_of(&caller, "staff_member.name", &member.name, "staff")?.to_string();
        check_staff(&member)?;
        let (stored, created) = self.app.upsert_staff(&caller, &id, member).await?;
        Ok(Response::new(UpsertStaffMemberResponse { staff_member: Some(stored), created }))
    }

    async fn list_staff(&self, request: Request<ListStaffRequest>) -> Result<Response<ListStaffResponse>, Status> {
        let (caller, req) = open(request, |r| Some(r.parent.as_str()))?;
        roles(std::slice::from_ref(&req.role), true, |_| "role".into())?;
        let (limit, after) = pages::after(&caller, "staff", req.page_size, &req.page_token)?;
        let filter = (req.role, req.team.as_str(), req.region.as_str());
        let found = self.app.staff(&caller, filter, &after, limit as u64 + 1).await?;
        let (staff, next_page_token) = pages::keyed(&caller, "staff", found, limit);
        Ok(Response::new(ListStaffResponse { staff, next_page_token }))
    }

    async fn get_case_sla(&self, request: Request<GetCaseSlaRequest>) -> Result<Response<GetCaseSlaResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let id = case_id(&caller, "case", &req.case)?;
        let sla = self.app.case_sla(&caller, (&req.case, id)).await?;
        let clocks = convert::clocks(&sla, jiff::Timestamp::now());
        Ok(Response::new(GetCaseSlaResponse { case: req.case, sla_policy: sla.policy, clocks }))
    }

    async fn list_escalations(
        &self,
        request: Request<ListEscalationsRequest>,
    ) -> Result<Response<ListEscalationsResponse>, Status> {
        let (caller, req) = open(request, |r| Some(r.parent.as_str()))?;
        let (limit, before) = pages::after(&caller, "escalations", req.page_size, &req.page_token)?;
        let case = match req.case.is_empty() {
            true => None,
            false => Some((req.case.clone(), case_id(&caller, "case", &req.case)?)),
        };
        let before = match before.is_empty() {
            true => None,
            false => Some(uuid_of("page_token", &before, "not a token from ListEscalations")?),
        };
        let listing = Listing { case, level: req.level, acknowledged: req.acknowledged, before };
        let found = self.app.escalations(&caller, listing, limit as u64 + 1).await?;
        let found = found.into_iter().map(|f| (f.id.to_string(), f.escalation)).collect();
        let (escalations, next_page_token) = pages::keyed(&caller, "escalations", found, limit);
        Ok(Response::new(ListEscalationsResponse { escalations, next_page_token }))
    }

    async fn escalate_case(
        &self,
        request: Request<EscalateCaseRequest>,
    ) -> Result<Response<EscalateCaseResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let id = case_id(&caller, "case", &req.case)?;
        let roles = validate::escalation(&req)?;
        let case = (req.case.as_str(), id);
        let escalation = self.app.escalate_case(&caller, case, &req.request_id, &req.reason, roles).await?;
        Ok(Response::new(EscalateCaseResponse { escalation: Some(escalation) }))
    }

    async fn acknowledge_escalation(
        &self,
        request: Request<AcknowledgeEscalationRequest>,
    ) -> Result<Response<AcknowledgeEscalationResponse>, Status> {
        let (caller, req) = open(request, |_| None)?;
        let id = id_of(&caller, "name", &req.name, "escalations")?;
        let id = uuid_of("name", id, "does not name an escalation")?;
        validate::note(&req.note)?;
        let escalation = self.app.acknowledge(&caller, (&req.name, id), req.note).await?;
        Ok(Response::new(AcknowledgeEscalationResponse { escalation: Some(escalation) }))
    }
}
