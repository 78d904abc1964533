//! The gRPC layer of `redress.case.v1.CaseService`: each handler decodes the request, checks
//! it ([`validate`]), calls one application function ([`crate::app`]) and maps the result. No
//! rule lives here.

mod stream;
mod validate;

use std::sync::Arc;

use futures::StreamExt;
use redress_kit::caller::{Caller, Role, caller};
use redress_kit::error::Violations;
use redress_kit::validate::{enum_value, text};
use redress_kit::{ApiError, names};
use redress_proto::case::v1::case_service_server::CaseService;
use redress_proto::case::v1::*;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::app::{App, Intent};
use crate::domain::Command;
use crate::domain::erase::{EraseRequest, Subject};
use crate::store::page;

/// Implements `redress.case.v1.CaseService` over the application.
pub struct CaseApi {
    app: Arc<App>,
    shutdown: CancellationToken,
}

impl CaseApi {
    /// The API over `app`; open event streams end when `shutdown` is cancelled.
    pub fn new(app: Arc<App>, shutdown: CancellationToken) -> Self {
        Self { app, shutdown }
    }

    /// Applies `command` to the case `id` once the request's checks in `v` pass; the case after.
    async fn apply(
        &self,
        caller: &Caller,
        id: Uuid,
        v: Violations,
        intent: Intent<'_>,
        command: Command,
    ) -> Result<Case, Status> {
        check(v)?;
        Ok(self.app.change(caller, id, intent, command).await?.case)
    }

    /// Applies a task command once the request's checks in `v` pass; the task after.
    async fn task(
        &self,
        caller: &Caller,
        id: Uuid,
        v: Violations,
        intent: Intent<'_>,
        command: Command,
    ) -> Result<Task, Status> {
        check(v)?;
        Ok(self.app.change(caller, id, intent, command).await?.task()?)
    }
}

/// The caller and the message of a request.
fn decode<T>(request: Request<T>) -> Result<(Caller, T), Status> {
    Ok((caller(&request)?, request.into_inner()))
}

/// The intent of a change made by `method`.
fn intent<'a>(method: &'static str, request_id: &'a str, expected_version: i64) -> Intent<'a> {
    Intent { method, request_id, expected_version }
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

/// Refuses the call unless `allowed`. These checks stand beside the role table
/// (`redress_kit::auth::policy`) because the table is enforced only in `tokens` mode.
fn require(allowed: bool, why: &str) -> Result<(), Status> {
    if allowed { Ok(()) } else { Err(ApiError::PermissionDenied(why.into()).into()) }
}

#[tonic::async_trait]
impl CaseService for CaseApi {
    async fn create_case(&self, request: Request<CreateCaseRequest>) -> Result<Response<CreateCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = validate::change(&req.request_id, true, None);
        let case = match req.case {
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
        let (case, created) = self.app.create(&caller, &req.request_id, case).await?;
        Ok(Response::new(CreateCaseResponse { case: Some(case), created }))
    }

    async fn get_case(&self, request: Request<GetCaseRequest>) -> Result<Response<GetCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let case = self.app.get(&caller, id).await?;
        Ok(Response::new(GetCaseResponse { case: Some(case) }))
    }

    async fn list_cases(&self, request: Request<ListCasesRequest>) -> Result<Response<ListCasesResponse>, Status> {
        let (caller, req) = decode(request)?;
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        let limit = redress_kit::validate::page_size(&mut v, req.page_size, 50);
        let order =
            enum_value::<CaseOrderBy>(&mut v, "order_by", req.order_by, true).unwrap_or(CaseOrderBy::CreateTimeDesc);
        let filter = req.filter.unwrap_or_default();
        validate::case_filter(&mut v, &filter);
        let bound = page::fingerprint(&[
            caller.tenant.as_str().as_bytes(),
            &prost::Message::encode_to_vec(&filter),
            &(order as i32).to_be_bytes(),
        ]);
        let after = (!req.page_token.is_empty()).then(|| page::decode_case(&req.page_token, bound));
        let bad_token = "not a token from a previous ListCases call with this filter and order";
        v.check(after.is_some_and(|key| key.is_none()), "page_token", bad_token);
        check(v)?;
        let found = self.app.list(&caller, &filter, order, after.flatten(), limit).await?;
        let next_page_token = found.last.map(|key| page::encode_case(key, bound)).unwrap_or_default();
        Ok(Response::new(ListCasesResponse { cases: found.cases, next_page_token }))
    }

    async fn update_case(&self, request: Request<UpdateCaseRequest>) -> Result<Response<UpdateCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let patch = req.case.unwrap_or_default();
        let id = case_id(&caller, "case.name", &patch.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        validate::update_paths(&mut v, &paths);
        validate::case_fields(&mut v, "case", &patch, Some(&paths));
        let command = Command::Update { patch: Box::new(patch), paths };
        let intent = intent("UpdateCase", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, command).await?;
        Ok(Response::new(UpdateCaseResponse { case: Some(case) }))
    }

    async fn acknowledge_case(
        &self,
        request: Request<AcknowledgeCaseRequest>,
    ) -> Result<Response<AcknowledgeCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        text(&mut v, "apology_text", &req.apology_text, 4000, false);
        text(&mut v, "note", &req.note, 4000, false);
        let command =
            Command::Acknowledge { apologized: req.apologized, apology_text: req.apology_text, note: req.note };
        let intent = intent("AcknowledgeCase", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, command).await?;
        Ok(Response::new(AcknowledgeCaseResponse { case: Some(case) }))
    }

    async fn assign_case(&self, request: Request<AssignCaseRequest>) -> Result<Response<AssignCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        text(&mut v, "owner", &req.owner, 128, true);
        text(&mut v, "team", &req.team, 128, false);
        text(&mut v, "reason", &req.reason, 1000, false);
        let command = Command::Assign { owner: req.owner, team: req.team, reason: req.reason };
        let intent = intent("AssignCase", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, command).await?;
        Ok(Response::new(AssignCaseResponse { case: Some(case) }))
    }

    async fn start_investigation(
        &self,
        request: Request<StartInvestigationRequest>,
    ) -> Result<Response<StartInvestigationResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        text(&mut v, "note", &req.note, 4000, false);
        let intent = intent("StartInvestigation", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, Command::StartInvestigation { note: req.note }).await?;
        Ok(Response::new(StartInvestigationResponse { case: Some(case) }))
    }

    async fn add_timeline_entry(
        &self,
        request: Request<AddTimelineEntryRequest>,
    ) -> Result<Response<AddTimelineEntryResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "parent", &req.parent)?;
        let mut v = validate::change(&req.request_id, false, None);
        validate::entry(&mut v, "entry", req.entry.as_ref());
        check(v)?;
        let intent = intent("AddTimelineEntry", &req.request_id, 0);
        let (entry, case) = self.app.add_entry(&caller, id, intent, req.entry.unwrap_or_default()).await?;
        Ok(Response::new(AddTimelineEntryResponse { entry: Some(entry), case: Some(case) }))
    }

    async fn list_timeline_entries(
        &self,
        request: Request<ListTimelineEntriesRequest>,
    ) -> Result<Response<ListTimelineEntriesResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "parent", &req.parent)?;
        let mut v = Violations::new();
        let limit = redress_kit::validate::page_size(&mut v, req.page_size, 100);
        let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), id.as_bytes()]);
        let after = (!req.page_token.is_empty()).then(|| page::decode_position(&req.page_token, bound));
        let bad_token = "not a token from a previous ListTimelineEntries call for this case";
        v.check(after.is_some_and(|position| position.is_none()), "page_token", bad_token);
        check(v)?;
        let (entries, more) = self.app.timeline(&caller, id, after.flatten().unwrap_or_default(), limit).await?;
        let next_page_token = match entries.last() {
            Some((position, _)) if more => page::encode_position(*position, bound),
            _ => String::new(),
        };
        let entries = entries.into_iter().map(|(_, e)| e).collect();
        Ok(Response::new(ListTimelineEntriesResponse { entries, next_page_token }))
    }

    async fn create_task(&self, request: Request<CreateTaskRequest>) -> Result<Response<CreateTaskResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "parent", &req.parent)?;
        let mut v = validate::change(&req.request_id, false, None);
        validate::task(&mut v, "task", req.task.as_ref());
        let command = Command::CreateTask { task: req.task.unwrap_or_default() };
        let task = self.task(&caller, id, v, intent("CreateTask", &req.request_id, 0), command).await?;
        Ok(Response::new(CreateTaskResponse { task: Some(task) }))
    }

    async fn complete_task(
        &self,
        request: Request<CompleteTaskRequest>,
    ) -> Result<Response<CompleteTaskResponse>, Status> {
        let (caller, req) = decode(request)?;
        let (id, task_id) = child_id(&caller, "name", &req.name, "tasks")?;
        let mut v = validate::change(&req.request_id, false, None);
        text(&mut v, "outcome", &req.outcome, 4000, false);
        let command = Command::CompleteTask { task_id, outcome: req.outcome };
        let task = self.task(&caller, id, v, intent("CompleteTask", &req.request_id, 0), command).await?;
        Ok(Response::new(CompleteTaskResponse { task: Some(task) }))
    }

    async fn waive_task(&self, request: Request<WaiveTaskRequest>) -> Result<Response<WaiveTaskResponse>, Status> {
        let (caller, req) = decode(request)?;
        let (id, task_id) = child_id(&caller, "name", &req.name, "tasks")?;
        let mut v = validate::change(&req.request_id, false, None);
        text(&mut v, "reason", &req.reason, 4000, true);
        let command = Command::WaiveTask { task_id, reason: req.reason };
        let task = self.task(&caller, id, v, intent("WaiveTask", &req.request_id, 0), command).await?;
        Ok(Response::new(WaiveTaskResponse { task: Some(task) }))
    }

    async fn request_customer_input(
        &self,
        request: Request<RequestCustomerInputRequest>,
    ) -> Result<Response<RequestCustomerInputResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        text(&mut v, "question", &req.question, 4000, true);
        let intent = intent("RequestCustomerInput", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, Command::RequestInput { question: req.question }).await?;
        Ok(Response::new(RequestCustomerInputResponse { case: Some(case) }))
    }

    async fn propose_resolution(
        &self,
        request: Request<ProposeResolutionRequest>,
    ) -> Result<Response<ProposeResolutionResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        validate::offer(&mut v, "offer", req.offer.as_ref());
        let command = Command::Propose { offer: req.offer.unwrap_or_default() };
        let intent = intent("ProposeResolution", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, command).await?;
        Ok(Response::new(ProposeResolutionResponse { case: Some(case) }))
    }

    async fn record_customer_response(
        &self,
        request: Request<RecordCustomerResponseRequest>,
    ) -> Result<Response<RecordCustomerResponseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        let command = customer_response(&caller, id, req.response, &mut v)?;
        check(v)?;
        let command = command.ok_or_else(|| Status::invalid_argument("response: required"))?;
        let intent = intent("RecordCustomerResponse", &req.request_id, req.expected_version);
        let case = self.app.change(&caller, id, intent, command).await?.case;
        Ok(Response::new(RecordCustomerResponseResponse { case: Some(case) }))
    }

    async fn resolve_case(
        &self,
        request: Request<ResolveCaseRequest>,
    ) -> Result<Response<ResolveCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        text(&mut v, "fix_summary", &req.fix_summary, 4000, false);
        let intent = intent("ResolveCase", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, Command::Resolve { fix_summary: req.fix_summary }).await?;
        Ok(Response::new(ResolveCaseResponse { case: Some(case) }))
    }

    async fn close_case(&self, request: Request<CloseCaseRequest>) -> Result<Response<CloseCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        validate::closing(&mut v, req.root_cause.as_ref(), &req.prevention_notes);
        let command = Command::Close { root_cause: req.root_cause, prevention_notes: req.prevention_notes };
        let intent = intent("CloseCase", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, command).await?;
        Ok(Response::new(CloseCaseResponse { case: Some(case) }))
    }

    async fn reopen_case(&self, request: Request<ReopenCaseRequest>) -> Result<Response<ReopenCaseResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, Some(req.expected_version));
        text(&mut v, "reason", &req.reason, 4000, true);
        let intent = intent("ReopenCase", &req.request_id, req.expected_version);
        let case = self.apply(&caller, id, v, intent, Command::Reopen { reason: req.reason }).await?;
        Ok(Response::new(ReopenCaseResponse { case: Some(case) }))
    }

    async fn record_escalation(
        &self,
        request: Request<RecordEscalationRequest>,
    ) -> Result<Response<RecordEscalationResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, true, None);
        validate::escalation(&mut v, "escalation", req.escalation.as_ref());
        let command = Command::RecordEscalation { record: req.escalation.unwrap_or_default() };
        let case = self.apply(&caller, id, v, intent("RecordEscalation", &req.request_id, 0), command).await?;
        Ok(Response::new(RecordEscalationResponse { case: Some(case) }))
    }

    async fn record_sla_status(
        &self,
        request: Request<RecordSlaStatusRequest>,
    ) -> Result<Response<RecordSlaStatusResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, true, None);
        validate::sla_status(&mut v, "status", req.status.as_ref());
        let command = Command::RecordSla { status: req.status.unwrap_or_default() };
        let case = self.apply(&caller, id, v, intent("RecordSlaStatus", &req.request_id, 0), command).await?;
        Ok(Response::new(RecordSlaStatusResponse { case: Some(case) }))
    }

    async fn record_satisfaction(
        &self,
        request: Request<RecordSatisfactionRequest>,
    ) -> Result<Response<RecordSatisfactionResponse>, Status> {
        let (caller, req) = decode(request)?;
        let id = case_id(&caller, "name", &req.name)?;
        let mut v = validate::change(&req.request_id, false, None);
        validate::satisfaction(&mut v, "satisfaction", req.satisfaction.as_ref());
        let command = Command::RecordSatisfaction { satisfaction: req.satisfaction.unwrap_or_default() };
        let case = self.apply(&caller, id, v, intent("RecordSatisfaction", &req.request_id, 0), command).await?;
        Ok(Response::new(RecordSatisfactionResponse { case: Some(case) }))
    }

    async fn get_playbook(
        &self,
        request: Request<GetPlaybookRequest>,
    ) -> Result<Response<GetPlaybookResponse>, Status> {
        let (caller, req) = decode(request)?;
        check_playbook_name(&caller, &req.name)?;
        let playbook = self.app.playbook(&caller.tenant).await?;
        Ok(Response::new(GetPlaybookResponse { playbook: Some(playbook) }))
    }

    async fn update_playbook(
        &self,
        request: Request<UpdatePlaybookRequest>,
    ) -> Result<Response<UpdatePlaybookResponse>, Status> {
        let (caller, req) = decode(request)?;
        let given = req.playbook.unwrap_or_default();
        check_playbook_name(&caller, &given.name)?;
        require(caller.is_supervisor(), "only a supervisor or an admin may change the playbook")?;
        let mut v = Violations::new();
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        validate::playbook_update(&mut v, &given, &paths);
        check(v)?;
        let saved = self.app.update_playbook(&caller.tenant, &given, &paths).await?;
        Ok(Response::new(UpdatePlaybookResponse { playbook: Some(saved) }))
    }

    async fn erase_customer(
        &self,
        request: Request<EraseCustomerRequest>,
    ) -> Result<Response<EraseCustomerResponse>, Status> {
        let (caller, req) = decode(request)?;
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        require(caller.has(Role::Admin), "only an admin may erase a customer's personal data")?;
        let mut v = validate::change(&req.request_id, true, None);
        let (customer_id, email, phone) = (req.customer_id.trim(), req.email.trim(), req.phone.trim());
        validate::erasure(&mut v, customer_id, email, phone, &req.reason);
        check(v)?;
        let erase = EraseRequest {
            subject: Subject::Customer {
                customer_id: customer_id.to_string(),
                email: email.to_string(),
                phone: phone.to_string(),
            },
            reason: req.reason.trim().to_string(),
            request_id: req.request_id,
        };
        let erasure = self.app.erase_customer(&caller, &erase).await?;
        Ok(Response::new(EraseCustomerResponse { erasure: Some(erasure) }))
    }

    async fn list_erasures(
        &self,
        request: Request<ListErasuresRequest>,
    ) -> Result<Response<ListErasuresResponse>, Status> {
        let (caller, req) = decode(request)?;
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        require(caller.has(Role::Admin), "only an admin may read the erasures")?;
        let mut v = Violations::new();
        let limit = redress_kit::validate::page_size(&mut v, req.page_size, 50);
        let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), b"erasures"]);
        let before = (!req.page_token.is_empty()).then(|| page::TOKENS.decode_id(&req.page_token, bound));
        let bad_token = "not a token from a previous ListErasures call";
        v.check(before.is_some_and(|id| id.is_none()), "page_token", bad_token);
        check(v)?;
        let (erasures, last) = self.app.erasures(&caller.tenant, before.flatten(), limit).await?;
        let next_page_token = last.map(|id| page::TOKENS.encode_id(id, bound)).unwrap_or_default();
        Ok(Response::new(ListErasuresResponse { erasures, next_page_token }))
    }

    async fn stream_events(
        &self,
        request: Request<StreamEventsRequest>,
    ) -> Result<Response<stream::EventStream>, Status> {
        let (caller, req) = decode(request)?;
        let follow = stream::follow(&caller, req)?;
        let events = self.app.stream_events(follow, self.shutdown.clone());
        Ok(Response::new(Box::pin(events.map(|message| message.map_err(Status::from)))))
    }
}

/// The command a RecordCustomerResponse carries: the customer's input, or their answer to an
/// offer of the case `id`; `None` when there is none (recorded in `v`).
fn customer_response(
    caller: &Caller,
    id: Uuid,
    response: Option<record_customer_response_request::Response>,
    v: &mut Violations,
) -> Result<Option<Command>, Status> {
    use record_customer_response_request::Response as Given;
    let answer = match response {
        None => {
            v.add("response", "required: offer_response or input");
            return Ok(None);
        }
        Some(Given::Input(text)) => {
            redress_kit::validate::text(v, "input", &text, validate::MAX_DESCRIPTION_BYTES, true);
            return Ok(Some(Command::ProvideInput { text }));
        }
        Some(Given::OfferResponse(answer)) => answer,
    };
    let decision = validate::decision(v, "offer_response", answer.decision, answer.counter_amount.as_ref());
    text(v, "offer_response.comment", &answer.comment, 4000, false);
    let offer_id = if answer.offer.is_empty() {
        None
    } else {
        match child_id(caller, "offer_response.offer", &answer.offer, "offers") {
            Ok((case, offer)) if case == id => Some(offer),
            Ok(_) => {
                v.add("offer_response.offer", "is an offer of another case");
                None
            }
            Err(ApiError::NotFound(name)) => return Err(ApiError::NotFound(name).into()),
            Err(_) => {
                v.add("offer_response.offer", "not an offer name (tenants/{tenant}/cases/{case}/offers/{offer})");
                None
            }
        }
    };
    Ok(decision.map(|decision| Command::RespondToOffer {
        offer_id,
        decision,
        counter_amount: answer.counter_amount,
        comment: answer.comment,
    }))
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
