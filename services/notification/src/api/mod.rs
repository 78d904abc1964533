//! The gRPC layer of `redress.notification.v1.NotificationService`: decode, validate, call one
//! use case of [`crate::app`], map the result. Delivery happens in the workers, never in a call.

mod convert;
mod page;
mod validate;

use redress_kit::caller::{Caller, Role, caller};
use redress_kit::error::Violations;
use redress_kit::{ApiError, names};
use redress_proto::notification::v1::notification_service_server::NotificationService;
use redress_proto::notification::v1::*;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::app::App;
use crate::error::Error;
use crate::store::notifications::Filter;

/// The most items a page holds when the request does not say.
const DEFAULT_PAGE_SIZE: u64 = 100;
/// Why a page token of a filtered list was refused.
const SAME_FILTER: &str = "not a token from a previous call with the same filter";
/// Why a page token of an unfiltered list was refused.
const ANY_CALL: &str = "not a token from a previous call";

/// Implements `redress.notification.v1.NotificationService`.
pub struct NotificationApi {
    app: App,
    /// Whether webhooks may use `http://` (`notification.allow_http`).
    allow_http: bool,
}

impl NotificationApi {
    /// The API over the use cases of `app`.
    pub fn new(app: App, allow_http: bool) -> Self {
        Self { app, allow_http }
    }
}

/// The caller and the message of a call. `admin` names an RPC that only admins and redress's
/// own services may make (templates and rules); `parent` gives the collection the call is on,
/// which must be the caller's tenant's.
fn open<T>(
    request: Request<T>,
    admin: Option<&str>,
    parent: impl FnOnce(&T) -> Option<&str>,
) -> Result<(Caller, T), Status> {
    let caller = caller(&request)?;
    if let Some(what) = admin
        && !(caller.has(Role::Admin) || caller.is_system())
    {
        return Err(ApiError::PermissionDenied(format!("{what} needs the admin role")).into());
    }
    let message = request.into_inner();
    if let Some(parent) = parent(&message) {
        names::check_parent("parent", parent, &caller.tenant)?;
    }
    Ok((caller, message))
}

/// The id in `tenants/{tenant}/{collection}/{id}`, which must be the caller's tenant's.
fn owned_id<'a>(caller: &Caller, field: &str, name: &'a str, collection: &str) -> Result<&'a str, Status> {
    let ids = names::parse_owned(field, name, &["tenants", collection], &caller.tenant)?;
    Ok(ids[0])
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    async fn send_notification(
        &self,
        request: Request<SendNotificationRequest>,
    ) -> Result<Response<SendNotificationResponse>, Status> {
        let (caller, req) = open(request, None, |r| Some(r.parent.as_str()))?;
        validate::send_notification(&req, &caller.tenant, self.allow_http)?;
        let notification = req.notification.unwrap_or_default();
        let row = self.app.send_notification(caller.tenant.as_str(), &req.request_id, notification).await?;
        Ok(Response::new(SendNotificationResponse { notification: Some(convert::notification(&row)?) }))
    }

    async fn get_notification(
        &self,
        request: Request<GetNotificationRequest>,
    ) -> Result<Response<GetNotificationResponse>, Status> {
        let (caller, req) = open(request, None, |_| None)?;
        let id = owned_id(&caller, "name", &req.name, "notifications")?;
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound(req.name.clone()))?;
        let row = self.app.get_notification(&caller, id).await?.ok_or_else(|| Error::NotFound(req.name))?;
        Ok(Response::new(GetNotificationResponse { notification: Some(convert::notification(&row)?) }))
    }

    async fn list_notifications(
        &self,
        request: Request<ListNotificationsRequest>,
    ) -> Result<Response<ListNotificationsResponse>, Status> {
        let (caller, req) = open(request, None, |r| Some(r.parent.as_str()))?;
        let mut v = Violations::new();
        let limit = redress_kit::validate::page_size(&mut v, req.page_size, DEFAULT_PAGE_SIZE);
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
        let before = validate::page_token(&mut v, &req.page_token, |t| page::TOKENS.decode_id(t, bound), SAME_FILTER);
        v.finish()?;
        let filter = Filter { case_name: req.case, recipient: req.recipient, status: req.status };
        let (rows, next) = self.app.list_notifications(&caller, &filter, before, limit).await?;
        let notifications = rows.iter().map(convert::notification).collect::<Result<Vec<_>, _>>()?;
        let next_page_token = next.map(|id| page::TOKENS.encode_id(id, bound)).unwrap_or_default();
        Ok(Response::new(ListNotificationsResponse { notifications, next_page_token }))
    }

    async fn create_template(
        &self,
        request: Request<CreateTemplateRequest>,
    ) -> Result<Response<CreateTemplateResponse>, Status> {
        let (caller, req) = open(request, Some("CreateTemplate"), |r| Some(r.parent.as_str()))?;
        let (template, variables) = validate::create_template(&req)?;
        let row = self.app.create_template(caller.tenant.as_str(), &req.request_id, template, &variables).await?;
        Ok(Response::new(CreateTemplateResponse { template: Some(convert::template(&row)) }))
    }

    async fn update_template(
        &self,
        request: Request<UpdateTemplateRequest>,
    ) -> Result<Response<UpdateTemplateResponse>, Status> {
        let (caller, req) = open(request, Some("UpdateTemplate"), |_| None)?;
        let Some(given) = req.template else {
            return Err(ApiError::invalid("template", "required").into());
        };
        let id = owned_id(&caller, "template.name", &given.name, "templates")?.to_string();
        let row = self.app.update_template(caller.tenant.as_str(), &id, given, req.update_mask).await?;
        Ok(Response::new(UpdateTemplateResponse { template: Some(convert::template(&row)) }))
    }

    async fn list_templates(
        &self,
        request: Request<ListTemplatesRequest>,
    ) -> Result<Response<ListTemplatesResponse>, Status> {
        let (caller, req) = open(request, None, |r| Some(r.parent.as_str()))?;
        let tenant = caller.tenant.as_str();
        let mut v = Violations::new();
        let limit = redress_kit::validate::page_size(&mut v, req.page_size, DEFAULT_PAGE_SIZE) as usize;
        if !req.key.is_empty() {
            validate::template_key(&mut v, "key", &req.key);
        }
        let locale = validate::locale_filter(&mut v, &req.locale);
        let bound = page::fingerprint(&[tenant.as_bytes(), req.key.as_bytes(), locale.as_bytes()]);
        let after = validate::page_token(&mut v, &req.page_token, |t| page::TOKENS.open(t, bound), SAME_FILTER);
        v.finish()?;
        let (listed, next) = self.app.list_templates(tenant, &req.key, &locale, after, limit).await?;
        let templates = listed.iter().map(|t| convert::listed(tenant, t)).collect();
        let next_page_token = next.map(|position| page::TOKENS.seal(&position, bound)).unwrap_or_default();
        Ok(Response::new(ListTemplatesResponse { templates, next_page_token }))
    }

    async fn create_rule(&self, request: Request<CreateRuleRequest>) -> Result<Response<CreateRuleResponse>, Status> {
        let (caller, req) = open(request, Some("CreateRule"), |r| Some(r.parent.as_str()))?;
        validate::create_rule(&req, &caller.tenant)?;
        let rule = self.app.create_rule(caller.tenant.as_str(), req.request_id, req.rule.unwrap_or_default()).await?;
        Ok(Response::new(CreateRuleResponse { rule: Some(rule) }))
    }

    async fn list_rules(&self, request: Request<ListRulesRequest>) -> Result<Response<ListRulesResponse>, Status> {
        let (caller, req) = open(request, None, |r| Some(r.parent.as_str()))?;
        let mut v = Violations::new();
        let limit = redress_kit::validate::page_size(&mut v, req.page_size, DEFAULT_PAGE_SIZE);
        let bound = page::fingerprint(&[caller.tenant.as_str().as_bytes(), b"rules"]);
        let after = validate::page_token(&mut v, &req.page_token, |t| page::TOKENS.decode_id(t, bound), ANY_CALL);
        v.finish()?;
        let (rules, next) = self.app.list_rules(caller.tenant.as_str(), after, limit).await?;
        let next_page_token = next.map(|id| page::TOKENS.encode_id(id, bound)).unwrap_or_default();
        Ok(Response::new(ListRulesResponse { rules, next_page_token }))
    }

    async fn delete_rule(&self, request: Request<DeleteRuleRequest>) -> Result<Response<DeleteRuleResponse>, Status> {
        let (caller, req) = open(request, Some("DeleteRule"), |_| None)?;
        let id = owned_id(&caller, "name", &req.name, "rules")?;
        self.app.delete_rule(caller.tenant.as_str(), &req.name, id).await?;
        Ok(Response::new(DeleteRuleResponse { name: req.name }))
    }
}
