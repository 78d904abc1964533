//! Tenants' rules for customer communications, stored as encoded `redress.notification.v1.Rule`.

use chrono::{DateTime, Utc};
use prost::Message;
use redress_kit::db::statement;
use redress_proto::notification::v1::Rule;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

use super::{Store, insert_once};
use crate::error::Error;

/// Every column of a rule row.
const COLUMNS: &str = "id, tenant, request_id, document, create_time";

/// A rule as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct RuleRow {
    /// Its id.
    pub id: Uuid,
    /// Its tenant.
    pub tenant: String,
    /// The idempotency key it was created with.
    pub request_id: String,
    /// The encoded rule, with its name and creation time.
    pub document: Vec<u8>,
    /// When it was created.
    pub create_time: DateTime<Utc>,
}

impl RuleRow {
    /// The rule.
    pub fn rule(&self) -> Result<Rule, Error> {
        Rule::decode(self.document.as_slice()).map_err(|e| Error::Corrupt(format!("rule {}: {e}", self.id)))
    }
}

impl Store {
    /// Creates a rule, or returns the one created with the same request_id; the flag says
    /// whether this call created it.
    pub async fn create_rule(&self, row: RuleRow) -> Result<(RuleRow, bool), Error> {
        let backend = self.backend();
        let insert = format!(
            "INSERT INTO rules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant, request_id) DO NOTHING RETURNING {COLUMNS}"
        );
        let values: Vec<Value> = vec![
            row.id.into(),
            row.tenant.clone().into(),
            row.request_id.clone().into(),
            row.document.into(),
            row.create_time.into(),
        ];
        let existing = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1 AND request_id = $2");
        let existing = statement(backend, &existing, [row.tenant.into(), row.request_id.into()]);
        let _turn = self.turn.take().await;
        insert_once(self.db(), statement(backend, &insert, values), existing)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the rule of this request_id".into()).into())
    }

    /// Up to `limit` rules of `tenant` in the order created, after `after`.
    pub async fn rules_page(&self, tenant: &str, after: Option<Uuid>, limit: u64) -> Result<Vec<RuleRow>, Error> {
        let mut values: Vec<Value> = vec![tenant.into()];
        let mut text = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1");
        if let Some(after) = after {
            values.push(after.into());
            text.push_str(" AND id > $2");
        }
        text.push_str(&format!(" ORDER BY id LIMIT {limit}"));
        Ok(RuleRow::find_by_statement(statement(self.backend(), &text, values)).all(self.db()).await?)
    }

    /// Deletes a rule of `tenant`; false if there was none.
    pub async fn delete_rule(&self, tenant: &str, id: Uuid) -> Result<bool, Error> {
        let _turn = self.turn.take().await;
        let result = self
            .db()
            .execute_raw(statement(
                self.backend(),
                "DELETE FROM rules WHERE tenant = $1 AND id = $2",
                vec![tenant.into(), id.into()],
            ))
            .await?;
        Ok(result.rows_affected() == 1)
    }
}

/// Every rule of `tenant`, in the order created.
pub async fn rules_of(conn: &impl ConnectionTrait, tenant: &str) -> Result<Vec<Rule>, Error> {
    let text = format!("SELECT {COLUMNS} FROM rules WHERE tenant = $1 ORDER BY id");
    let rows =
        RuleRow::find_by_statement(statement(conn.get_database_backend(), &text, [tenant.into()])).all(conn).await?;
    rows.iter().map(RuleRow::rule).collect()
}
