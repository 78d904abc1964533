//! The gRPC layer of `redress.escalation.v1.EscalationService`: decode, validate, call the
//! store and the rules, map errors.

mod pages;

use std::sync::Arc;

use prost::Message;
use redress_kit::caller::{Caller, caller};
use redress_kit::error::Violations;
use redress_kit::validate::{enum_value, is_e164, is_email, request_id as check_request_id, text};
use redress_kit::{ApiError, names};
use redress_proto::common::v1::StaffRole;
use redress_proto::escalation::v1::escalation_service_server::EscalationService;
use redress_proto::escalation::v1::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{self, Invalid};
use crate::error::Error;
use crate::escalate::{Alert, escalate};
use crate::store::entities::{clocks, escalations};
use crate::store::{Store, Timing, clock_of, proto_duration, proto_time, timed_case};
use crate::timers::TimerIndex;
use crate::timing::{Plan, save_clock};

/// Implements `redress.escalation.v1.EscalationService`.
pub struct EscalationApi {
    store: Arc<Store>,
    index: Arc<dyn TimerIndex>,
    effects: Arc<Notify>,
}

impl EscalationApi {
    /// The API over `store` and `index`, waking the effects worker through `effects`.
    pub fn new(store: Arc<Store>, index: Arc<dyn TimerIndex>, effects: Arc<Notify>) -> Self {
        Self { store, index, effects }
    }
}

fn check(v: Violations) -> Result<(), Status> {
    v.finish().map_err(Status::from)
}

fn invalid(invalid: Invalid) -> Status {
    Error::Invalid(invalid).into()
}

fn id_of<'a>(caller: &Caller, field: &str, name: &'a str, collection: &str) -> Result<&'a str, Status> {
    Ok(names::parse_owned(field, name, &["tenants", collection], &caller.tenant)?[0])
}

fn case_id(caller: &Caller, field: &str, name: &str) -> Result<Uuid, Status> {
    let id = id_of(caller, field, name, "cases")?;
    Uuid::parse_str(id).map_err(|_| ApiError::invalid(field, format!("{name:?} does not name a case")).into())
}

const POLICY_PATHS: &[&str] = &[
    "display_name",
    "priority",
    "conditions",
    "first_response_target",
    "next_update_target",
    "resolution_target",
    "warning_threshold_percent",
    "calendar",
    "ladder",
    "unhappy_notify_roles",
];

impl EscalationApi {
    /// Checks a policy, including that its calendar exists.
    async fn check_policy(&self, caller: &Caller, policy: &SlaPolicy) -> Result<(), Status> {
        let mut invalid_fields = Invalid::new();
        domain::policy::validate("sla_policy", policy, &mut invalid_fields);
        if !policy.calendar.is_empty() {
            match names::parse_owned("sla_policy.calendar", &policy.calendar, &["tenants", "calendars"], &caller.tenant)
            {
                Ok(ids) => {
                    if let Err(Error::NotFound(_)) =
                        self.store.calendar(&self.store.db, caller.tenant.as_str(), ids[0]).await
                    {
                        invalid_fields.add("sla_policy.calendar", "no such calendar");
                    }
                }
                Err(_) => invalid_fields
                    .add("sla_policy.calendar", "not a calendar name (tenants/{tenant}/calendars/{calendar})"),
            }
        }
        invalid_fields.finish(()).map_err(invalid)
    }
}

#[tonic::async_trait]
impl EscalationService for EscalationApi {
    async fn create_sla_policy(
        &self,
        request: Request<CreateSlaPolicyRequest>,
    ) -> Result<Response<CreateSlaPolicyResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        check_request_id(&mut v, "request_id", &req.request_id, true);
        v.check(req.sla_policy.is_none(), "sla_policy", "required");
        check(v)?;
        let policy = req.sla_policy.unwrap_or_default();
        self.check_policy(&caller, &policy).await?;
        let stored = self.store.create_policy(caller.tenant.as_str(), &req.request_id, policy).await?;
        Ok(Response::new(CreateSlaPolicyResponse { sla_policy: Some(stored) }))
    }

    async fn get_sla_policy(
        &self,
        request: Request<GetSlaPolicyRequest>,
    ) -> Result<Response<GetSlaPolicyResponse>, Status> {
        let caller = caller(&request)?;
        let id = id_of(&caller, "name", &request.get_ref().name, "slaPolicies")?;
        let policy = self.store.policy(caller.tenant.as_str(), id).await?;
        Ok(Response::new(GetSlaPolicyResponse { sla_policy: Some(policy) }))
    }

    async fn list_sla_policies(
        &self,
        request: Request<ListSlaPoliciesRequest>,
    ) -> Result<Response<ListSlaPoliciesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let (limit, offset) = pages::offset(&caller, "slaPolicies", req.page_size, &req.page_token)?;
        let all = self.store.policies(&self.store.db, caller.tenant.as_str()).await?;
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
        let caller = caller(&request)?;
        let req = request.into_inner();
        let given = req.sla_policy.unwrap_or_default();
        let id = id_of(&caller, "sla_policy.name", &given.name, "slaPolicies")?.to_string();
        let mut policy = self.store.policy(caller.tenant.as_str(), &id).await?;
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut v = Violations::new();
        v.check(
            paths.is_empty(),
            "update_mask",
            format!("required: name the fields to change ({})", POLICY_PATHS.join(", ")),
        );
        for (i, path) in paths.iter().enumerate() {
            match path.as_str() {
                "display_name" => policy.display_name = given.display_name.clone(),
                "priority" => policy.priority = given.priority,
                "conditions" => policy.conditions = given.conditions.clone(),
                "first_response_target" => policy.first_response_target = given.first_response_target,
                "next_update_target" => policy.next_update_target = given.next_update_target,
                "resolution_target" => policy.resolution_target = given.resolution_target,
                "warning_threshold_percent" => policy.warning_threshold_percent = given.warning_threshold_percent,
                "calendar" => policy.calendar = given.calendar.clone(),
                "ladder" => policy.ladder = given.ladder.clone(),
                "unhappy_notify_roles" => policy.unhappy_notify_roles = given.unhappy_notify_roles.clone(),
                other => v.add(
                    format!("update_mask.paths[{i}]"),
                    format!("{other:?} cannot be updated; updatable: {}", POLICY_PATHS.join(", ")),
                ),
            }
        }
        check(v)?;
        self.check_policy(&caller, &policy).await?;
        let saved = self.store.save_policy(caller.tenant.as_str(), &id, policy).await?;
        Ok(Response::new(UpdateSlaPolicyResponse { sla_policy: Some(saved) }))
    }

    async fn delete_sla_policy(
        &self,
        request: Request<DeleteSlaPolicyRequest>,
    ) -> Result<Response<DeleteSlaPolicyResponse>, Status> {
        let caller = caller(&request)?;
        let name = request.into_inner().name;
        let id = id_of(&caller, "name", &name, "slaPolicies")?;
        self.store.delete_policy(caller.tenant.as_str(), id).await?;
        Ok(Response::new(DeleteSlaPolicyResponse { name }))
    }

    async fn create_calendar(
        &self,
        request: Request<CreateCalendarRequest>,
    ) -> Result<Response<CreateCalendarResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        check_request_id(&mut v, "request_id", &req.request_id, true);
        v.check(req.calendar.is_none(), "calendar", "required");
        check(v)?;
        let mut calendar = req.calendar.unwrap_or_default();
        let parsed = domain::Calendar::from_proto("calendar", &calendar).map_err(invalid)?;
        calendar.time_zone = parsed.time_zone().to_string();
        let stored = self.store.create_calendar(caller.tenant.as_str(), &req.request_id, calendar).await?;
        Ok(Response::new(CreateCalendarResponse { calendar: Some(stored) }))
    }

    async fn get_calendar(
        &self,
        request: Request<GetCalendarRequest>,
    ) -> Result<Response<GetCalendarResponse>, Status> {
        let caller = caller(&request)?;
        let id = id_of(&caller, "name", &request.get_ref().name, "calendars")?;
        let calendar = self.store.calendar(&self.store.db, caller.tenant.as_str(), id).await?;
        Ok(Response::new(GetCalendarResponse { calendar: Some(calendar) }))
    }

    async fn list_calendars(
        &self,
        request: Request<ListCalendarsRequest>,
    ) -> Result<Response<ListCalendarsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let (limit, after) = pages::after(&caller, "calendars", req.page_size, &req.page_token)?;
        let found = self.store.calendars(caller.tenant.as_str(), &after, limit as u64 + 1).await?;
        let more = found.len() > limit;
        let page: Vec<(String, Calendar)> = found.into_iter().take(limit).collect();
        let next_page_token = match page.last() {
            Some((id, _)) if more => pages::after_token(&caller, "calendars", id),
            _ => String::new(),
        };
        Ok(Response::new(ListCalendarsResponse {
            calendars: page.into_iter().map(|(_, c)| c).collect(),
            next_page_token,
        }))
    }

    async fn upsert_staff_member(
        &self,
        request: Request<UpsertStaffMemberRequest>,
    ) -> Result<Response<UpsertStaffMemberResponse>, Status> {
        let caller = caller(&request)?;
        let member = request.into_inner().staff_member.unwrap_or_default();
        let id = id_of(&caller, "staff_member.name", &member.name, "staff")?.to_string();
        let mut v = Violations::new();
        text(&mut v, "staff_member.display_name", &member.display_name, 200, false);
        enum_value::<StaffRole>(&mut v, "staff_member.role", member.role, false);
        text(&mut v, "staff_member.team", &member.team, 128, false);
        text(&mut v, "staff_member.region", &member.region, 128, false);
        if !member.email.is_empty() && !is_email(&member.email) {
            v.add("staff_member.email", format!("{:?} is not an email address", member.email));
        }
        if !member.phone.is_empty() && !is_e164(&member.phone) {
            v.add("staff_member.phone", "must be in E.164 form, for example +447700900123");
        }
        if !member.time_zone.is_empty() && jiff::tz::TimeZone::get(&member.time_zone).is_err() {
            v.add("staff_member.time_zone", format!("unknown time zone {:?}", member.time_zone));
        }
        check(v)?;
        let (stored, created) = self.store.upsert_staff(caller.tenant.as_str(), &id, member).await?;
        Ok(Response::new(UpsertStaffMemberResponse { staff_member: Some(stored), created }))
    }

    async fn list_staff(&self, request: Request<ListStaffRequest>) -> Result<Response<ListStaffResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        enum_value::<StaffRole>(&mut v, "role", req.role, true);
        check(v)?;
        let (limit, after) = pages::after(&caller, "staff", req.page_size, &req.page_token)?;
        let found = self
            .store
            .staff(caller.tenant.as_str(), req.role, &req.team, &req.region, &after, limit as u64 + 1)
            .await?;
        let more = found.len() > limit;
        let page: Vec<(String, StaffMember)> = found.into_iter().take(limit).collect();
        let next_page_token = match page.last() {
            Some((id, _)) if more => pages::after_token(&caller, "staff", id),
            _ => String::new(),
        };
        Ok(Response::new(ListStaffResponse { staff: page.into_iter().map(|(_, m)| m).collect(), next_page_token }))
    }

    async fn get_case_sla(&self, request: Request<GetCaseSlaRequest>) -> Result<Response<GetCaseSlaResponse>, Status> {
        let caller = caller(&request)?;
        let name = request.into_inner().case;
        let id = case_id(&caller, "case", &name)?;
        let case = timed_case(&self.store.db, id).await?.filter(|c| seen_by(&caller, c));
        let Some(case) = case else { return Err(ApiError::NotFound(name).into()) };
        let policy = case.policy.clone();
        let timing = Timing::of(case)?;
        let now = jiff::Timestamp::now();
        let rows = crate::store::clocks_of(&self.store.db, id).await?;
        let clocks = rows
            .iter()
            .map(|row| {
                let clock = clock_of(row);
                let used = clock.used_at(&timing.calendar, now);
                SlaClock {
                    kind: clock.kind,
                    target: Some(proto_duration(clock.target)),
                    due_time: if clock.state == ClockState::Running {
                        clock.due(&timing.calendar).map(proto_time)
                    } else {
                        None
                    },
                    business_time_used: Some(proto_duration(used)),
                    business_time_remaining: Some(proto_duration(clock.target.saturating_sub(used))),
                    state: clock.state as i32,
                    breached: clock.breached() || used > clock.target,
                    escalation_level: clock.level,
                    start_time: clock.since.map(proto_time),
                    met_time: clock.met_at.map(proto_time),
                    breach_time: clock.breached_at.map(proto_time),
                    escalation_acknowledged: clock.acknowledged,
                }
            })
            .collect();
        Ok(Response::new(GetCaseSlaResponse { case: name, sla_policy: policy, clocks }))
    }

    async fn list_escalations(
        &self,
        request: Request<ListEscalationsRequest>,
    ) -> Result<Response<ListEscalationsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let (limit, before) = pages::after(&caller, "escalations", req.page_size, &req.page_token)?;
        let mut query = escalations::Entity::find().filter(escalations::Column::Tenant.eq(caller.tenant.as_str()));
        if !req.case.is_empty() {
            let id = case_id(&caller, "case", &req.case)?;
            if caller.scope.is_some() && !timed_case(&self.store.db, id).await?.is_some_and(|c| seen_by(&caller, &c)) {
                return Err(ApiError::NotFound(req.case).into());
            }
            query = query.filter(escalations::Column::CaseId.eq(id));
        } else if let Some(scope) = &caller.scope {
            // Only the escalations of the cases the caller may see.
            use crate::store::entities::timed_cases::Column as T;
            let mut seen = sea_orm::Condition::any()
                .add(T::Owner.eq(caller.actor.as_str()))
                .add(sea_orm::Condition::all().add(T::Owner.eq("")).add(T::Team.eq("")));
            if let Some(team) = scope.team.as_deref().filter(|t| !t.is_empty()) {
                seen = seen.add(T::Team.eq(team));
            }
            let visible = sea_orm::sea_query::Query::select()
                .column(T::CaseId)
                .from(crate::store::entities::timed_cases::Entity)
                .and_where(T::Tenant.eq(caller.tenant.as_str()))
                .cond_where(seen)
                .to_owned();
            query = query.filter(escalations::Column::CaseId.in_subquery(visible));
        }
        if let Some(level) = req.level {
            query = query.filter(escalations::Column::Level.eq(level));
        }
        if let Some(acknowledged) = req.acknowledged {
            query = query.filter(escalations::Column::Acknowledged.eq(acknowledged));
        }
        if !before.is_empty() {
            let id = Uuid::parse_str(&before)
                .map_err(|_| Status::from(ApiError::invalid("page_token", "not a token from ListEscalations")))?;
            query = query.filter(escalations::Column::Id.lt(id));
        }
        let rows = query
            .order_by_desc(escalations::Column::Id)
            .limit(limit as u64 + 1)
            .all(&self.store.db)
            .await
            .map_err(Error::from)?;
        let more = rows.len() > limit;
        let page = &rows[..rows.len().min(limit)];
        let next_page_token = match page.last() {
            Some(row) if more => pages::after_token(&caller, "escalations", &row.id.to_string()),
            _ => String::new(),
        };
        let escalations = page
            .iter()
            .map(|r| {
                Escalation::decode(r.document.as_slice())
                    .map_err(|e| Status::from(Error::Corrupt(format!("escalation: {e}"))))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(ListEscalationsResponse { escalations, next_page_token }))
    }

    async fn escalate_case(
        &self,
        request: Request<EscalateCaseRequest>,
    ) -> Result<Response<EscalateCaseResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = case_id(&caller, "case", &req.case)?;
        let mut v = Violations::new();
        check_request_id(&mut v, "request_id", &req.request_id, true);
        text(&mut v, "reason", &req.reason, 1000, true);
        let mut roles = Vec::new();
        for (i, role) in req.notify_roles.iter().enumerate() {
            if let Some(role) = enum_value::<StaffRole>(&mut v, &format!("notify_roles[{i}]"), *role, false) {
                roles.push(role);
            }
        }
        check(v)?;
        if roles.is_empty() {
            roles = vec![StaffRole::TeamLead, StaffRole::Manager];
        }
        let level = roles
            .iter()
            .map(|r| match r {
                StaffRole::TeamLead | StaffRole::Agent => 2,
                StaffRole::Manager => 3,
                StaffRole::RegionalDirector | StaffRole::CustomerCare => 4,
                _ => 5,
            })
            .max()
            .unwrap_or(2);
        let case = timed_case(&self.store.db, id).await?.filter(|c| seen_by(&caller, c));
        let Some(case) = case else {
            return Err(ApiError::NotFound(req.case).into());
        };
        let key = format!("{}/manual/{}", case.name, req.request_id);
        let _turn = self.store.turn().await;
        let txn = redress_kit::db::begin_write(&self.store.db).await.map_err(Error::from)?;
        let alert = Alert {
            case: &case,
            clock: 0,
            level,
            reason: EscalationReason::Manual,
            reason_text: req.reason.clone(),
            roles,
            notify_owner: true,
            creator: caller.actor.clone(),
            key: key.clone(),
            tasks: false,
        };
        let fired = escalate(&txn, alert, jiff::Timestamp::now()).await?;
        txn.commit().await.map_err(Error::from)?;
        self.effects.notify_one();
        let escalation = match fired {
            Some(escalation) => escalation,
            None => {
                let row = escalations::Entity::find()
                    .filter(escalations::Column::Tenant.eq(caller.tenant.as_str()))
                    .filter(escalations::Column::EscalationKey.eq(key))
                    .one(&self.store.db)
                    .await
                    .map_err(Error::from)?
                    .ok_or_else(|| Status::from(Error::Corrupt("escalation vanished".into())))?;
                Escalation::decode(row.document.as_slice())
                    .map_err(|e| Status::from(Error::Corrupt(format!("escalation: {e}"))))?
            }
        };
        Ok(Response::new(EscalateCaseResponse { escalation: Some(escalation) }))
    }

    async fn acknowledge_escalation(
        &self,
        request: Request<AcknowledgeEscalationRequest>,
    ) -> Result<Response<AcknowledgeEscalationResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let id = id_of(&caller, "name", &req.name, "escalations")?;
        let id =
            Uuid::parse_str(id).map_err(|_| Status::from(ApiError::invalid("name", "does not name an escalation")))?;
        let mut v = Violations::new();
        text(&mut v, "note", &req.note, 4000, false);
        check(v)?;
        let _turn = self.store.turn().await;
        let txn = redress_kit::db::begin_write(&self.store.db).await.map_err(Error::from)?;
        let row = escalations::Entity::find_by_id(id)
            .filter(escalations::Column::Tenant.eq(caller.tenant.as_str()))
            .one(&txn)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Status::from(ApiError::NotFound(req.name.clone())))?;
        if caller.scope.is_some() && !timed_case(&txn, row.case_id).await?.is_some_and(|c| seen_by(&caller, &c)) {
            return Err(ApiError::NotFound(req.name).into());
        }
        let mut escalation = Escalation::decode(row.document.as_slice())
            .map_err(|e| Status::from(Error::Corrupt(format!("escalation: {e}"))))?;
        let mut plan = Plan::default();
        if !escalation.acknowledged {
            escalation.acknowledged = true;
            escalation.acknowledger = caller.actor.clone();
            escalation.acknowledge_time = Some(proto_time(jiff::Timestamp::now()));
            escalation.acknowledgement_note = req.note;
            escalations::Entity::update(escalations::ActiveModel {
                id: sea_orm::ActiveValue::Set(id),
                acknowledged: sea_orm::ActiveValue::Set(true),
                document: sea_orm::ActiveValue::Set(escalation.encode_to_vec()),
                ..Default::default()
            })
            .exec(&txn)
            .await
            .map_err(Error::from)?;
            // No further levels for this clock's cycle.
            if row.clock != 0
                && let Some(clock_row) =
                    clocks::Entity::find_by_id((row.case_id, row.clock)).one(&txn).await.map_err(Error::from)?
                && let Some(case) = timed_case(&txn, row.case_id).await?
            {
                let timing = Timing::of(case)?;
                let mut clock = clock_of(&clock_row);
                clock.acknowledged = true;
                clock.generation += 1;
                save_clock(&txn, &timing, &clock, Some(clock_row.generation), &mut plan).await?;
            }
        }
        txn.commit().await.map_err(Error::from)?;
        drop(_turn);
        if let Err(e) = self.index.cancel(&plan.cancel).await {
            tracing::debug!(error = %e, "cancelling an acknowledged clock's timer failed; it will fire as stale");
        }
        Ok(Response::new(AcknowledgeEscalationResponse { escalation: Some(escalation) }))
    }
}

/// Whether `case` is the caller's tenant's and within the caller's scope (their own, their
/// team's, or unassigned), as the escalation service last saw its owner and team.
fn seen_by(caller: &Caller, case: &crate::store::entities::timed_cases::Model) -> bool {
    case.tenant == caller.tenant.as_str() && caller.sees_case(&case.owner, &case.team)
}
