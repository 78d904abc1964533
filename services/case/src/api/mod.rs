//! The gRPC layer of `redress.case.v1.CaseService`: decode, validate, call the store and the
//! rules, map errors. No rule lives here.

mod stream;
mod validate;

use std::sync::Arc;

use redress_kit::caller::{Caller, Role, caller};
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::case::v1::case_service_server::CaseService;
use redress_proto::case::v1::*;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{Actor, Command, Rules, commands::UPDATABLE_PATHS};
use crate::store::{Intent, Mutated, Store, page};

/// Implements `redress.case.v1.CaseService` over the store.
pub struct CaseApi {
    store: Arc<Store>,
    shutdown: CancellationToken,
}

impl CaseApi {
    /// The API over `store`; open event streams end when `shutdown` is cancelled.
    pub fn new(store: Arc<Store>, shutdown: CancellationToken) -> Self {
        Self { store, shutdown }
    }
}

fn actor(caller: &Caller) -> Actor {
    Actor {
        id: caller.actor.clone(),
        supervisor: caller.is_supervisor(),
        service: caller.is_system() || caller.has(Role::Integration),
    }
}

/// The id of the case named `name`, which must belong to the caller's tenant.
fn case_id(caller: &Caller, field: &str, name: &str) -> Result<Uuid, ApiError> {
    let ids = names::parse_owned(field, name, &["tenants", "cases"], &caller.tenant)?;
    Uuid::parse_str(ids[0]).map_err(|_| ApiError::invalid(field, format!("{name:?} does not name a case")))
}

/// The case id and child id of `tenants/{t}/cases/{c}/{collection}/{id}`.
fn child_id(caller: &Caller, field: &str, name: &str, collection: &str) -> Result<(Uuid, String), ApiError> {
    let ids = names::parse_owned(field, name, &["tenants", "cases", collection], &caller.tenant)?;
    let case =
        Uuid::parse_str(ids[0]).map_err(|_| ApiError::invalid(field, format!("{name:?} does not name a case")))?;
    Ok((case, ids[1].to_string()))
}

fn check(v: Violations) -> Result<(), Status> {
    v.finish().map_err(Status::from)
}

fn request_id(v: &mut Violations, value: &str, required: bool) {
    redress_kit::validate::request_id(v, "request_id", value, required);
}

fn expected_version(v: &mut Violations, value: i64) {
    v.check(value < 0, "expected_version", "must not be negative");
}

impl CaseApi {
    async fn change(
        &self,
        caller: &Caller,
        id: Uuid,
        method: &'static str,
        request_id: &str,
        expected_version: i64,
        command: Command,
    ) -> Result<Mutated, Status> {
        self.visible(caller, id).await?;
        let actor = actor(caller);
        let intent = Intent { method, request_id, expected_version };
        Ok(self.store.mutate(&caller.tenant, id, intent, &actor, command).await?)
    }

    /// The case, unless the caller's scope hides it (then NOT_FOUND, as if it did not exist).
    async fn visible(&self, caller: &Caller, id: Uuid) -> Result<Option<Case>, Status> {
        if caller.scope.is_none() {
            return Ok(None);
        }
        let case = self.store.get(&caller.tenant, id).await?;
        if !caller.sees_case(&case.owner, &case.team) {
            return Err(ApiError::NotFound(case.name).into());
        }
        Ok(Some(case))
    }

    fn task_of(mutated: &Mutated) -> Result<Task, Status> {
        mutated
            .case
            .tasks
            .iter()
            .find(|t| t.name == mutated.resource)
            .cloned()
            .ok_or_else(|| Status::from(ApiError::NotFound(mutated.resource.clone())))
    }
}

#[tonic::async_trait]
impl CaseService for CaseApi {
    async fn create_case(&self, request: Request<CreateCaseRequest>) -> Result<Response<CreateCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, true);
        let mut case = match req.case {
            Some(case) => case,
            None => {
                v.add("case", "required");
                Case::default()
            }
        };
        validate::case_fields(&mut v, "case", &case, None);
        for (i, linked) in case.linked_cases.iter().enumerate() {
            if let Err(e) = case_id(&caller, &format!("case.linked_cases[{i}]"), linked) {
                match e {
                    ApiError::InvalidArgument(mut violations) => {
                        v.add(violations.pop().map(|f| f.field).unwrap_or_default(), "not a case of this tenant")
                    }
                    _ => v.add(format!("case.linked_cases[{i}]"), "not a case of this tenant"),
                }
            }
        }
        check(v)?;
        if case.severity == 0 {
            case.severity = redress_proto::common::v1::Severity::Medium as i32;
        }
        let (case, created) = self.store.create(&caller.tenant, &req.request_id, case, &actor(&caller)).await?;
        Ok(Response::new(CreateCaseResponse { case: Some(case), created }))
    }

    async fn get_case(&self, request: Request<GetCaseRequest>) -> Result<Response<GetCaseResponse>, Status> {
        let caller = caller(&request)?;
        let id = case_id(&caller, "name", &request.get_ref().name)?;
        let case = match self.visible(&caller, id).await? {
            Some(case) => case,
            None => self.store.get(&caller.tenant, id).await?,
        };
        Ok(Response::new(GetCaseResponse { case: Some(case) }))
    }

    async fn list_cases(&self, request: Request<ListCasesRequest>) -> Result<Response<ListCasesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        let limit = validate::page_size(&mut v, req.page_size, 50);
        let order = redress_kit::validate::enum_value::<CaseOrderBy>(&mut v, "order_by", req.order_by, true)
            .unwrap_or(CaseOrderBy::CreateTimeDesc);
        let filter = req.filter.unwrap_or_default();
        for (i, s) in filter.statuses.iter().enumerate() {
            redress_kit::validate::enum_value::<CaseStatus>(&mut v, &format!("filter.statuses[{i}]"), *s, false);
        }
        for (i, s) in filter.severities.iter().enumerate() {
            redress_kit::validate::enum_value::<redress_proto::common::v1::Severity>(
                &mut v,
                &format!("filter.severities[{i}]"),
                *s,
                false,
            );
        }
        for (i, c) in filter.channels.iter().enumerate() {
            redress_kit::validate::enum_value::<redress_proto::common::v1::Channel>(
                &mut v,
                &format!("filter.channels[{i}]"),
                *c,
                false,
            );
        }
        let bound = page::fingerprint(&[
            caller.tenant.as_str().as_bytes(),
            &prost::Message::encode_to_vec(&filter),
            &(order as i32).to_be_bytes(),
        ]);
        let after = if req.page_token.is_empty() {
            None
        } else {
            let key = page::decode_case(&req.page_token, bound);
            v.check(
                key.is_none(),
                "page_token",
                "not a token from a previous ListCases call with this filter and order",
            );
            key
        };
        check(v)?;
        let scope = caller
            .scope
            .as_ref()
            .map(|scope| crate::store::Visible { actor: &caller.actor, team: scope.team.as_deref() });
        let found = self.store.list(&caller.tenant, &filter, order, after, limit, scope).await?;
        let next_page_token = found.last.map(|key| page::encode_case(key, bound)).unwrap_or_default();
        Ok(Response::new(ListCasesResponse { cases: found.cases, next_page_token }))
    }

    async fn update_case(&self, request: Request<UpdateCaseRequest>) -> Result<Response<UpdateCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let patch = req.case.unwrap_or_default();
        let id = case_id(&caller, "case.name", &patch.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
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
        validate::case_fields(&mut v, "case", &patch, Some(&paths));
        check(v)?;
        let command = Command::Update { patch: Box::new(patch), paths };
        let done = self.change(&caller, id, "UpdateCase", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(UpdateCaseResponse { case: Some(done.case) }))
    }

    async fn acknowledge_case(
        &self,
        request: Request<AcknowledgeCaseRequest>,
    ) -> Result<Response<AcknowledgeCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        redress_kit::validate::text(&mut v, "apology_text", &req.apology_text, 4000, false);
        redress_kit::validate::text(&mut v, "note", &req.note, 4000, false);
        check(v)?;
        let command =
            Command::Acknowledge { apologized: req.apologized, apology_text: req.apology_text, note: req.note };
        let done = self.change(&caller, id, "AcknowledgeCase", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(AcknowledgeCaseResponse { case: Some(done.case) }))
    }

    async fn assign_case(&self, request: Request<AssignCaseRequest>) -> Result<Response<AssignCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        redress_kit::validate::text(&mut v, "owner", &req.owner, 128, true);
        redress_kit::validate::text(&mut v, "team", &req.team, 128, false);
        redress_kit::validate::text(&mut v, "reason", &req.reason, 1000, false);
        check(v)?;
        let command = Command::Assign { owner: req.owner, team: req.team, reason: req.reason };
        let done = self.change(&caller, id, "AssignCase", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(AssignCaseResponse { case: Some(done.case) }))
    }

    async fn start_investigation(
        &self,
        request: Request<StartInvestigationRequest>,
    ) -> Result<Response<StartInvestigationResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        redress_kit::validate::text(&mut v, "note", &req.note, 4000, false);
        check(v)?;
        let command = Command::StartInvestigation { note: req.note };
        let done =
            self.change(&caller, id, "StartInvestigation", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(StartInvestigationResponse { case: Some(done.case) }))
    }

    async fn add_timeline_entry(
        &self,
        request: Request<AddTimelineEntryRequest>,
    ) -> Result<Response<AddTimelineEntryResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "parent", &req.parent)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        validate::entry(&mut v, "entry", req.entry.as_ref());
        check(v)?;
        let command = Command::AddEntry { entry: req.entry.unwrap_or_default() };
        let done = self.change(&caller, id, "AddTimelineEntry", &req.request_id, 0, command).await?;
        let entry = match done.change {
            Some(change) => change.entry,
            None => {
                let position = done.resource.rsplit('/').next().and_then(|p| p.parse().ok()).unwrap_or_default();
                self.store.entry(&caller.tenant, id, position).await?
            }
        };
        Ok(Response::new(AddTimelineEntryResponse { entry: Some(entry), case: Some(done.case) }))
    }

    async fn list_timeline_entries(
        &self,
        request: Request<ListTimelineEntriesRequest>,
    ) -> Result<Response<ListTimelineEntriesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "parent", &req.parent)?;
        let mut v = Violations::new();
        let limit = validate::page_size(&mut v, req.page_size, 100);
        let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), id.as_bytes()]);
        let after = if req.page_token.is_empty() {
            0
        } else {
            let position = page::decode_position(&req.page_token, bound);
            v.check(
                position.is_none(),
                "page_token",
                "not a token from a previous ListTimelineEntries call for this case",
            );
            position.unwrap_or_default()
        };
        check(v)?;
        self.visible(&caller, id).await?;
        let (entries, more) = self.store.timeline(&caller.tenant, id, after, limit).await?;
        let next_page_token = match entries.last() {
            Some((position, _)) if more => page::encode_position(*position, bound),
            _ => String::new(),
        };
        Ok(Response::new(ListTimelineEntriesResponse {
            entries: entries.into_iter().map(|(_, e)| e).collect(),
            next_page_token,
        }))
    }

    async fn create_task(&self, request: Request<CreateTaskRequest>) -> Result<Response<CreateTaskResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "parent", &req.parent)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        validate::task(&mut v, "task", req.task.as_ref());
        check(v)?;
        let command = Command::CreateTask { task: req.task.unwrap_or_default() };
        let done = self.change(&caller, id, "CreateTask", &req.request_id, 0, command).await?;
        Ok(Response::new(CreateTaskResponse { task: Some(Self::task_of(&done)?) }))
    }

    async fn complete_task(
        &self,
        request: Request<CompleteTaskRequest>,
    ) -> Result<Response<CompleteTaskResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let (id, task_id) = child_id(&caller, "name", &req.name, "tasks")?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        redress_kit::validate::text(&mut v, "outcome", &req.outcome, 4000, false);
        check(v)?;
        let command = Command::CompleteTask { task_id, outcome: req.outcome };
        let done = self.change(&caller, id, "CompleteTask", &req.request_id, 0, command).await?;
        Ok(Response::new(CompleteTaskResponse { task: Some(Self::task_of(&done)?) }))
    }

    async fn waive_task(&self, request: Request<WaiveTaskRequest>) -> Result<Response<WaiveTaskResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let (id, task_id) = child_id(&caller, "name", &req.name, "tasks")?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        redress_kit::validate::text(&mut v, "reason", &req.reason, 4000, true);
        check(v)?;
        let command = Command::WaiveTask { task_id, reason: req.reason };
        let done = self.change(&caller, id, "WaiveTask", &req.request_id, 0, command).await?;
        Ok(Response::new(WaiveTaskResponse { task: Some(Self::task_of(&done)?) }))
    }

    async fn request_customer_input(
        &self,
        request: Request<RequestCustomerInputRequest>,
    ) -> Result<Response<RequestCustomerInputResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        redress_kit::validate::text(&mut v, "question", &req.question, 4000, true);
        check(v)?;
        let command = Command::RequestInput { question: req.question };
        let done =
            self.change(&caller, id, "RequestCustomerInput", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(RequestCustomerInputResponse { case: Some(done.case) }))
    }

    async fn propose_resolution(
        &self,
        request: Request<ProposeResolutionRequest>,
    ) -> Result<Response<ProposeResolutionResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        validate::offer(&mut v, "offer", req.offer.as_ref());
        check(v)?;
        let command = Command::Propose { offer: req.offer.unwrap_or_default() };
        let done =
            self.change(&caller, id, "ProposeResolution", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(ProposeResolutionResponse { case: Some(done.case) }))
    }

    async fn record_customer_response(
        &self,
        request: Request<RecordCustomerResponseRequest>,
    ) -> Result<Response<RecordCustomerResponseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        let command = match req.response {
            None => {
                v.add("response", "required: offer_response or input");
                None
            }
            Some(record_customer_response_request::Response::Input(text)) => {
                redress_kit::validate::text(&mut v, "input", &text, validate::MAX_DESCRIPTION_BYTES, true);
                Some(Command::ProvideInput { text })
            }
            Some(record_customer_response_request::Response::OfferResponse(answer)) => {
                let decision =
                    validate::decision(&mut v, "offer_response", answer.decision, answer.counter_amount.as_ref());
                redress_kit::validate::text(&mut v, "offer_response.comment", &answer.comment, 4000, false);
                let offer_id = if answer.offer.is_empty() {
                    None
                } else {
                    match child_id(&caller, "offer_response.offer", &answer.offer, "offers") {
                        Ok((case, offer)) if case == id => Some(offer),
                        Ok(_) => {
                            v.add("offer_response.offer", "is an offer of another case");
                            None
                        }
                        Err(ApiError::NotFound(name)) => return Err(ApiError::NotFound(name).into()),
                        Err(_) => {
                            v.add(
                                "offer_response.offer",
                                "not an offer name (tenants/{tenant}/cases/{case}/offers/{offer})",
                            );
                            None
                        }
                    }
                };
                decision.map(|decision| Command::RespondToOffer {
                    offer_id,
                    decision,
                    counter_amount: answer.counter_amount,
                    comment: answer.comment,
                })
            }
        };
        check(v)?;
        let command = command.ok_or_else(|| Status::invalid_argument("response: required"))?;
        let done =
            self.change(&caller, id, "RecordCustomerResponse", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(RecordCustomerResponseResponse { case: Some(done.case) }))
    }

    async fn resolve_case(
        &self,
        request: Request<ResolveCaseRequest>,
    ) -> Result<Response<ResolveCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        redress_kit::validate::text(&mut v, "fix_summary", &req.fix_summary, 4000, false);
        check(v)?;
        let command = Command::Resolve { fix_summary: req.fix_summary };
        let done = self.change(&caller, id, "ResolveCase", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(ResolveCaseResponse { case: Some(done.case) }))
    }

    async fn close_case(&self, request: Request<CloseCaseRequest>) -> Result<Response<CloseCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        if let Some(cause) = &req.root_cause {
            redress_kit::validate::text(&mut v, "root_cause.category", &cause.category, 100, false);
            redress_kit::validate::text(
                &mut v,
                "root_cause.notes",
                &cause.notes,
                validate::MAX_DESCRIPTION_BYTES,
                false,
            );
        }
        redress_kit::validate::text(
            &mut v,
            "prevention_notes",
            &req.prevention_notes,
            validate::MAX_DESCRIPTION_BYTES,
            false,
        );
        check(v)?;
        let command = Command::Close { root_cause: req.root_cause, prevention_notes: req.prevention_notes };
        let done = self.change(&caller, id, "CloseCase", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(CloseCaseResponse { case: Some(done.case) }))
    }

    async fn reopen_case(&self, request: Request<ReopenCaseRequest>) -> Result<Response<ReopenCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        expected_version(&mut v, req.expected_version);
        redress_kit::validate::text(&mut v, "reason", &req.reason, 4000, true);
        check(v)?;
        let command = Command::Reopen { reason: req.reason };
        let done = self.change(&caller, id, "ReopenCase", &req.request_id, req.expected_version, command).await?;
        Ok(Response::new(ReopenCaseResponse { case: Some(done.case) }))
    }

    async fn record_escalation(
        &self,
        request: Request<RecordEscalationRequest>,
    ) -> Result<Response<RecordEscalationResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, true);
        validate::escalation(&mut v, "escalation", req.escalation.as_ref());
        check(v)?;
        let command = Command::RecordEscalation { record: req.escalation.unwrap_or_default() };
        let done = self.change(&caller, id, "RecordEscalation", &req.request_id, 0, command).await?;
        Ok(Response::new(RecordEscalationResponse { case: Some(done.case) }))
    }

    async fn record_sla_status(
        &self,
        request: Request<RecordSlaStatusRequest>,
    ) -> Result<Response<RecordSlaStatusResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, true);
        match &req.status {
            None => v.add("status", "required"),
            Some(status) => {
                redress_kit::validate::enum_value::<redress_proto::common::v1::SlaClockKind>(
                    &mut v,
                    "status.clock",
                    status.clock,
                    false,
                );
                for (field, d) in
                    [("status.target", &status.target), ("status.business_time_used", &status.business_time_used)]
                {
                    if d.as_ref().is_some_and(|d| d.seconds < 0 || d.nanos < 0) {
                        v.add(field, "must not be negative");
                    }
                }
            }
        }
        check(v)?;
        let command = Command::RecordSla { status: req.status.unwrap_or_default() };
        let done = self.change(&caller, id, "RecordSlaStatus", &req.request_id, 0, command).await?;
        Ok(Response::new(RecordSlaStatusResponse { case: Some(done.case) }))
    }

    async fn record_satisfaction(
        &self,
        request: Request<RecordSatisfactionRequest>,
    ) -> Result<Response<RecordSatisfactionResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, false);
        validate::satisfaction(&mut v, "satisfaction", req.satisfaction.as_ref());
        check(v)?;
        let command = Command::RecordSatisfaction { satisfaction: req.satisfaction.unwrap_or_default() };
        let done = self.change(&caller, id, "RecordSatisfaction", &req.request_id, 0, command).await?;
        Ok(Response::new(RecordSatisfactionResponse { case: Some(done.case) }))
    }

    async fn get_playbook(
        &self,
        request: Request<GetPlaybookRequest>,
    ) -> Result<Response<GetPlaybookResponse>, Status> {
        let caller = caller(&request)?;
        check_playbook_name(&caller, &request.get_ref().name)?;
        let playbook = self.store.playbook(&caller.tenant).await?;
        Ok(Response::new(GetPlaybookResponse { playbook: Some(playbook) }))
    }

    async fn update_playbook(
        &self,
        request: Request<UpdatePlaybookRequest>,
    ) -> Result<Response<UpdatePlaybookResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let given = req.playbook.unwrap_or_default();
        check_playbook_name(&caller, &given.name)?;
        if !caller.is_supervisor() {
            return Err(
                ApiError::PermissionDenied("only a supervisor or an admin may change the playbook".into()).into()
            );
        }
        const PATHS: &[&str] = &[
            "require_apology_when_unhappy",
            "owner_only_moves",
            "open_tasks_block_resolution",
            "require_offer_or_fix_to_resolve",
            "require_root_cause_to_close",
            "reopen_window",
            "retention",
        ];
        let mut v = Violations::new();
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(paths.is_empty(), "update_mask", format!("required: name the rules to change ({})", PATHS.join(", ")));
        let mut playbook = self.store.playbook(&caller.tenant).await?;
        for (i, path) in paths.iter().enumerate() {
            match path.as_str() {
                "require_apology_when_unhappy" => {
                    playbook.require_apology_when_unhappy = given.require_apology_when_unhappy
                }
                "owner_only_moves" => playbook.owner_only_moves = given.owner_only_moves,
                "open_tasks_block_resolution" => {
                    playbook.open_tasks_block_resolution = given.open_tasks_block_resolution
                }
                "require_offer_or_fix_to_resolve" => {
                    playbook.require_offer_or_fix_to_resolve = given.require_offer_or_fix_to_resolve
                }
                "require_root_cause_to_close" => {
                    playbook.require_root_cause_to_close = given.require_root_cause_to_close
                }
                "reopen_window" => match given.reopen_window.and_then(|d| std::time::Duration::try_from(d).ok()) {
                    Some(window) if !window.is_zero() => playbook.reopen_window = given.reopen_window,
                    _ => v.add("playbook.reopen_window", "must be a positive duration"),
                },
                "retention" => match given.retention.map(std::time::Duration::try_from) {
                    None => playbook.retention = None,
                    Some(Ok(period)) if period.is_zero() => playbook.retention = None,
                    Some(Ok(period)) if period >= crate::domain::playbook::MIN_RETENTION => {
                        playbook.retention = given.retention
                    }
                    Some(_) => {
                        v.add("playbook.retention", "must be at least one hour, or unset to keep data until erased")
                    }
                },
                other => v.add(
                    format!("update_mask.paths[{i}]"),
                    format!("{other:?} is not a playbook rule; rules: {}", PATHS.join(", ")),
                ),
            }
        }
        check(v)?;
        // Normalise through the rules so the stored playbook is complete.
        let playbook = Rules::from_playbook(&playbook).to_playbook(caller.tenant.as_str());
        let saved = self.store.save_playbook(&caller.tenant, playbook).await?;
        Ok(Response::new(UpdatePlaybookResponse { playbook: Some(saved) }))
    }

    async fn erase_customer(
        &self,
        request: Request<EraseCustomerRequest>,
    ) -> Result<Response<EraseCustomerResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        if !caller.has(Role::Admin) {
            return Err(ApiError::PermissionDenied("only an admin may erase a customer's personal data".into()).into());
        }
        let mut v = Violations::new();
        request_id(&mut v, &req.request_id, true);
        let (customer_id, email, phone) = (req.customer_id.trim(), req.email.trim(), req.phone.trim());
        if customer_id.is_empty() && email.is_empty() && phone.is_empty() {
            v.add("customer_id", "at least one of customer_id, email or phone is required");
        }
        redress_kit::validate::text(&mut v, "customer_id", customer_id, 200, false);
        v.check(!email.is_empty() && !redress_kit::validate::is_email(email), "email", "not an email address");
        v.check(
            !phone.is_empty() && !redress_kit::validate::is_e164(phone),
            "phone",
            "not a phone number in E.164 form (for example +447700900123)",
        );
        redress_kit::validate::text(&mut v, "reason", &req.reason, 1000, true);
        check(v)?;
        let erase = crate::store::erase::EraseRequest {
            subject: crate::store::erase::Subject::Customer {
                customer_id: customer_id.to_string(),
                email: email.to_string(),
                phone: phone.to_string(),
            },
            reason: req.reason.trim().to_string(),
            request_id: req.request_id,
        };
        let erasure = self.store.erase(&caller.tenant, &erase, &actor(&caller)).await?;
        tracing::info!(erasure = %erasure.name, cases = erasure.cases.len(), "personal data erased on request");
        Ok(Response::new(EraseCustomerResponse { erasure: Some(erasure) }))
    }

    async fn list_erasures(
        &self,
        request: Request<ListErasuresRequest>,
    ) -> Result<Response<ListErasuresResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        if !caller.has(Role::Admin) {
            return Err(ApiError::PermissionDenied("only an admin may read the erasures".into()).into());
        }
        let mut v = Violations::new();
        let limit = validate::page_size(&mut v, req.page_size, 50);
        let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), b"erasures"]);
        let before = if req.page_token.is_empty() {
            None
        } else {
            let id = page::decode_id(&req.page_token, bound);
            v.check(id.is_none(), "page_token", "not a token from a previous ListErasures call");
            id
        };
        check(v)?;
        let (erasures, last) = self.store.erasures(&caller.tenant, before, limit).await?;
        let next_page_token = last.map(|id| page::encode_id(id, bound)).unwrap_or_default();
        Ok(Response::new(ListErasuresResponse { erasures, next_page_token }))
    }

    async fn stream_events(
        &self,
        request: Request<StreamEventsRequest>,
    ) -> Result<Response<stream::EventStream>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        stream::open(self.store.clone(), &caller, req, self.shutdown.clone()).map(Response::new)
    }
}

fn check_playbook_name(caller: &Caller, name: &str) -> Result<(), Status> {
    let expected = format!("tenants/{}/playbook", caller.tenant);
    if name == expected {
        return Ok(());
    }
    match name.strip_prefix("tenants/").and_then(|rest| rest.strip_suffix("/playbook")) {
        Some(other) if !other.is_empty() && !other.contains('/') => Err(ApiError::NotFound(name.to_string()).into()),
        _ => {
            Err(ApiError::invalid("name", format!("{name:?} is not a playbook name (tenants/{{tenant}}/playbook)"))
                .into())
        }
    }
}
