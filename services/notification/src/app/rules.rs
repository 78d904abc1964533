//! CreateRule, ListRules and DeleteRule: a tenant's rules for customer communications, which
//! replace the defaults once it has one.

use prost::Message;
use redress_kit::ApiError;
use redress_kit::time::{now, timestamp};
use redress_proto::notification::v1::{Priority, Rule};
use uuid::Uuid;

use super::{App, page};
use crate::domain::rules::{DEFAULT_PREFIX, default_rules};
use crate::error::Error;
use crate::store::rules::RuleRow;

impl App {
    /// CreateRule: stores `rule` for `tenant`, once per `request_id`; its template must exist.
    pub async fn create_rule(&self, tenant: &str, request_id: String, mut rule: Rule) -> Result<Rule, Error> {
        if !self.template_exists(tenant, &rule.template_key).await? {
            return Err(ApiError::invalid("rule.template_key", format!("no template {:?}", rule.template_key)).into());
        }
        let id = Uuid::now_v7();
        let created_at = now();
        rule.name = format!("tenants/{tenant}/rules/{id}");
        rule.create_time = Some(timestamp(created_at));
        rule.built_in = false;
        if rule.priority == Priority::Unspecified as i32 {
            rule.priority = Priority::Normal as i32;
        }
        let row = RuleRow {
            id,
            tenant: tenant.to_string(),
            request_id,
            document: rule.encode_to_vec(),
            create_time: created_at,
        };
        let (row, _) = self.store.create_rule(row).await?;
        row.rule()
    }

    /// ListRules: up to `limit` of the tenant's rules in the order created, after `after`, and
    /// the position to go on from when more follow. A tenant with no rules of its own sees the
    /// defaults in force (when `notification.default_rules` is on).
    pub async fn list_rules(
        &self,
        tenant: &str,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<(Vec<Rule>, Option<Uuid>), Error> {
        let rows = self.store.rules_page(tenant, after, limit + 1).await?;
        if rows.is_empty() && after.is_none() {
            let rules = if self.settings.default_rules {
                default_rules(tenant, self.settings.survey_delay)
            } else {
                Vec::new()
            };
            return Ok((rules, None));
        }
        let (rows, more) = page(rows, limit);
        let next = rows.last().filter(|_| more).map(|last| last.id);
        let rules = rows.iter().map(RuleRow::rule).collect::<Result<Vec<_>, _>>()?;
        Ok((rules, next))
    }

    /// DeleteRule: deletes the rule `id` (of `name`) of `tenant`. The defaults cannot be
    /// deleted, only replaced.
    pub async fn delete_rule(&self, tenant: &str, name: &str, id: &str) -> Result<(), Error> {
        if id.starts_with(DEFAULT_PREFIX) {
            return Err(Error::FailedPrecondition(format!(
                "{name} is a default rule and cannot be deleted: create a rule of your own (enabled or not) to replace \
                 the defaults, or set notification.default_rules=false"
            )));
        }
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound(name.to_string()))?;
        if !self.store.delete_rule(tenant, id).await? {
            return Err(Error::NotFound(name.to_string()));
        }
        Ok(())
    }
}
