//! The gRPC layer of `redress.notification.v1.NotificationService`: decode, validate, call the
//! store and the domain, map errors. Delivery happens in the workers, never in a call.

mod convert;
mod templates;
mod validate;

use std::sync::Arc;

use prost::Message;
use redress_kit::caller::{Caller, Role, caller};
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::notification::v1::notification::Content;
use redress_proto::notification::v1::notification_service_server::NotificationService;
use redress_proto::notification::v1::*;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::accept::{API_SOURCE, new_row};
use crate::domain::rules::{DEFAULT_PREFIX, default_rules};
use crate::error::Error;
use crate::settings::Settings;
use crate::store::notifications::{Filter, insert};
use crate::store::rules::RuleRow;
use crate::store::{Store, now, page};

/// Implements `redress.notification.v1.NotificationService`.
pub struct NotificationApi {
    store: Arc<Store>,
    settings: Arc<Settings>,
    wake: Arc<Notify>,
}

impl NotificationApi {
    /// The API over `store`; accepted notifications wake the workers through `wake`.
    pub fn new(store: Arc<Store>, settings: Arc<Settings>, wake: Arc<Notify>) -> Self {
        Self { store, settings, wake }
    }
}

/// Templates and rules are administered by admins and by redress's own services.
fn require_admin(caller: &Caller, what: &str) -> Result<(), Status> {
    if caller.has(Role::Admin) || caller.is_system() {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied(format!("{what} needs the admin role")).into())
    }
}

/// The id in `tenants/{tenant}/{collection}/{id}`, which must be the caller's tenant's.
fn owned_id<'a>(caller: &Caller, field: &str, name: &'a str, collection: &str) -> Result<&'a str, Status> {
    let ids = names::parse_owned(field, name, &["tenants", collection], &caller.tenant)?;
    Ok(ids[0])
}

fn not_found(name: &str) -> Status {
    ApiError::NotFound(name.to_string()).into()
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    async fn send_notification(
        &self,
        request: Request<SendNotificationRequest>,
    ) -> Result<Response<SendNotificationResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        redress_kit::validate::request_id(&mut v, "request_id", &req.request_id, true);
        match &req.notification {
            None => v.add("notification", "required"),
            Some(n) => validate::notification(&mut v, &caller.tenant, n, self.settings.allow_http),
        }
        v.finish()?;
        let notification = req.notification.unwrap_or_default();
        if let Some(Content::Template(content)) = &notification.content
            && !crate::templates::exists(self.store.db(), caller.tenant.as_str(), &content.template_key)
                .await
                .map_err(Error::from)?
        {
            return Err(ApiError::invalid(
                "notification.template.template_key",
                format!("no template {:?}: create it, or use a built-in key", content.template_key),
            )
            .into());
        }
        let row = new_row(
            caller.tenant.as_str(),
            &req.request_id,
            API_SOURCE,
            notification,
            None,
            &self.settings.email_from,
            now(),
        );
        let (row, created) = {
            let _turn = self.store.turn().await;
            insert(self.store.db(), row).await.map_err(Error::from)?
        };
        if created {
            self.wake.notify_waiters();
            tracing::debug!(notification = %row.id, channel = row.channel, "notification accepted");
        }
        Ok(Response::new(SendNotificationResponse { notification: Some(convert::notification(&row)?) }))
    }

    async fn get_notification(
        &self,
        request: Request<GetNotificationRequest>,
    ) -> Result<Response<GetNotificationResponse>, Status> {
        let caller = caller(&request)?;
        let name = &request.get_ref().name;
        let id = owned_id(&caller, "name", name, "notifications")?;
        let id = Uuid::parse_str(id).map_err(|_| not_found(name))?;
        let row = self.store.notification(caller.tenant.as_str(), id).await.map_err(Error::from)?;
        let row = row.filter(|row| seen_by(&caller, row)).ok_or_else(|| not_found(name))?;
        Ok(Response::new(GetNotificationResponse { notification: Some(convert::notification(&row)?) }))
    }

    async fn list_notifications(
        &self,
        request: Request<ListNotificationsRequest>,
    ) -> Result<Response<ListNotificationsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        let limit = validate::page_size(&mut v, req.page_size, 100);
        if !req.case.is_empty() {
            let ids = names::parse("case", &req.case, &["tenants", "cases"]).ok();
            v.check(ids.is_none(), "case", "not a case name: tenants/{tenant}/cases/{case}");
        }
        redress_kit::validate::text(&mut v, "recipient", &req.recipient, 2048, false);
        redress_kit::validate::enum_value::<DeliveryStatus>(&mut v, "status", req.status, true);
        let bound = page::fingerprint(&[
            caller.tenant.as_str().as_bytes(),
            req.case.as_bytes(),
            req.recipient.as_bytes(),
            &req.status.to_le_bytes(),
        ]);
        let before = if req.page_token.is_empty() {
            None
        } else {
            let position = page::decode_id(&req.page_token, bound);
            v.check(position.is_none(), "page_token", "not a token from a previous call with the same filter");
            position
        };
        v.finish()?;
        let filter = Filter { case_name: req.case, recipient: req.recipient, status: req.status };
        let rows =
            self.store.notifications(caller.tenant.as_str(), &filter, before, limit + 1).await.map_err(Error::from)?;
        let more = rows.len() as u64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let next_page_token = match rows.last() {
            Some(last) if more => page::encode_id(last.id, bound),
            _ => String::new(),
        };
        // A scoped caller's page keeps only what they may see, so it may come out short.
        let notifications = rows
            .iter()
            .filter(|row| seen_by(&caller, row))
            .map(convert::notification)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(ListNotificationsResponse { notifications, next_page_token }))
    }

    async fn create_template(
        &self,
        request: Request<CreateTemplateRequest>,
    ) -> Result<Response<CreateTemplateResponse>, Status> {
        let caller = caller(&request)?;
        require_admin(&caller, "CreateTemplate")?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let template = templates::create(&self.store, &caller, &req.request_id, req.template).await?;
        Ok(Response::new(CreateTemplateResponse { template: Some(template) }))
    }

    async fn update_template(
        &self,
        request: Request<UpdateTemplateRequest>,
    ) -> Result<Response<UpdateTemplateResponse>, Status> {
        let caller = caller(&request)?;
        require_admin(&caller, "UpdateTemplate")?;
        let req = request.into_inner();
        let template = templates::update(&self.store, &caller, req.template, req.update_mask).await?;
        Ok(Response::new(UpdateTemplateResponse { template: Some(template) }))
    }

    async fn list_templates(
        &self,
        request: Request<ListTemplatesRequest>,
    ) -> Result<Response<ListTemplatesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let (templates, next_page_token) = templates::list(&self.store, &caller, &req).await?;
        Ok(Response::new(ListTemplatesResponse { templates, next_page_token }))
    }

    async fn create_rule(&self, request: Request<CreateRuleRequest>) -> Result<Response<CreateRuleResponse>, Status> {
        let caller = caller(&request)?;
        require_admin(&caller, "CreateRule")?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        redress_kit::validate::request_id(&mut v, "request_id", &req.request_id, true);
        match &req.rule {
            None => v.add("rule", "required"),
            Some(rule) => validate::rule(&mut v, &caller.tenant, rule),
        }
        v.finish()?;
        let mut rule = req.rule.unwrap_or_default();
        if !crate::templates::exists(self.store.db(), caller.tenant.as_str(), &rule.template_key)
            .await
            .map_err(Error::from)?
        {
            return Err(ApiError::invalid("rule.template_key", format!("no template {:?}", rule.template_key)).into());
        }
        let id = Uuid::now_v7();
        let created_at = now();
        rule.name = format!("tenants/{}/rules/{id}", caller.tenant);
        rule.create_time = Some(convert::timestamp(created_at));
        rule.built_in = false;
        if rule.priority == Priority::Unspecified as i32 {
            rule.priority = Priority::Normal as i32;
        }
        let row = RuleRow {
            id,
            tenant: caller.tenant.to_string(),
            request_id: req.request_id,
            document: rule.encode_to_vec(),
            create_time: created_at,
        };
        let (row, _) = self.store.create_rule(row).await.map_err(Error::from)?;
        Ok(Response::new(CreateRuleResponse { rule: Some(row.rule().map_err(Error::from)?) }))
    }

    async fn list_rules(&self, request: Request<ListRulesRequest>) -> Result<Response<ListRulesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        names::check_parent("parent", &req.parent, &caller.tenant)?;
        let mut v = Violations::new();
        let limit = validate::page_size(&mut v, req.page_size, 100);
        let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), b"rules"]);
        let after = if req.page_token.is_empty() {
            None
        } else {
            let position = page::decode_id(&req.page_token, bound);
            v.check(position.is_none(), "page_token", "not a token from a previous call");
            position
        };
        v.finish()?;
        let rows = self.store.rules_page(caller.tenant.as_str(), after, limit + 1).await.map_err(Error::from)?;
        if rows.is_empty() && after.is_none() {
            let rules = if self.settings.default_rules {
                default_rules(caller.tenant.as_str(), self.settings.survey_delay)
            } else {
                Vec::new()
            };
            return Ok(Response::new(ListRulesResponse { rules, next_page_token: String::new() }));
        }
        let more = rows.len() as u64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let next_page_token = match rows.last() {
            Some(last) if more => page::encode_id(last.id, bound),
            _ => String::new(),
        };
        let rules = rows.iter().map(RuleRow::rule).collect::<Result<Vec<_>, _>>().map_err(Error::from)?;
        Ok(Response::new(ListRulesResponse { rules, next_page_token }))
    }

    async fn delete_rule(&self, request: Request<DeleteRuleRequest>) -> Result<Response<DeleteRuleResponse>, Status> {
        let caller = caller(&request)?;
        require_admin(&caller, "DeleteRule")?;
        let name = request.into_inner().name;
        let id = owned_id(&caller, "name", &name, "rules")?;
        if id.starts_with(DEFAULT_PREFIX) {
            return Err(Error::FailedPrecondition(format!(
                "{name} is a default rule and cannot be deleted: create a rule of your own (enabled or not) to replace \
                 the defaults, or set notification.default_rules=false"
            ))
            .into());
        }
        let id = Uuid::parse_str(id).map_err(|_| not_found(&name))?;
        if !self.store.delete_rule(caller.tenant.as_str(), id).await.map_err(Error::from)? {
            return Err(not_found(&name));
        }
        Ok(Response::new(DeleteRuleResponse { name }))
    }
}

/// Whether a scoped caller (an agent) may see a notification: one addressed to them, or one
/// about a case of theirs, of their team or unassigned, as the case stood when the notification
/// was made. A notification about no case, or sent through the API with no snapshot of its
/// case, is theirs only if it is addressed to them.
fn seen_by(caller: &redress_kit::caller::Caller, row: &crate::store::notifications::Row) -> bool {
    if caller.scope.is_none() || row.recipient == caller.actor {
        return true;
    }
    let snapshot = row
        .case_snapshot
        .as_deref()
        .and_then(|bytes| <redress_proto::case::v1::Case as prost::Message>::decode(bytes).ok());
    snapshot.is_some_and(|case| caller.sees_case(&case.owner, &case.team))
}
