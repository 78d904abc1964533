//! Tenants' own templates, one per key and locale. The built-in defaults live in the code
//! (`domain::defaults`); a tenant's template with the same key and locale takes their place.

use chrono::{DateTime, Utc};
use redress_kit::db::statement;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use uuid::Uuid;

use super::{Store, insert_once};
use crate::error::Error;

const COLUMNS: &str =
    "id, tenant, request_id, key, locale, audience, subject, text_body, html_body, variables, create_time, update_time";

/// A tenant's template as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct TemplateRow {
    /// Its id.
    pub id: Uuid,
    /// Its tenant.
    pub tenant: String,
    /// The idempotency key it was created with.
    pub request_id: String,
    /// What it is for.
    pub key: String,
    /// Its locale, canonical.
    pub locale: String,
    /// `Audience` as its number.
    pub audience: i32,
    /// The subject template.
    pub subject: String,
    /// The plain-text body template.
    pub text_body: String,
    /// The HTML body template; empty for none.
    pub html_body: String,
    /// The variables it uses, a JSON array of dotted paths.
    pub variables: String,
    /// When it was created.
    pub create_time: DateTime<Utc>,
    /// When it last changed.
    pub update_time: DateTime<Utc>,
}

impl Store {
    /// Creates a template, or returns the one created with the same request_id; `None` when
    /// the tenant has a template with this key and locale already.
    pub async fn create_template(&self, row: TemplateRow) -> Result<Option<TemplateRow>, Error> {
        let backend = self.backend();
        let insert = format!(
            "INSERT INTO templates ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        );
        let values: Vec<Value> = vec![
            row.id.into(),
            row.tenant.clone().into(),
            row.request_id.clone().into(),
            row.key.into(),
            row.locale.into(),
            row.audience.into(),
            row.subject.into(),
            row.text_body.into(),
            row.html_body.into(),
            row.variables.into(),
            row.create_time.into(),
            row.update_time.into(),
        ];
        let existing = format!("SELECT {COLUMNS} FROM templates WHERE tenant = $1 AND request_id = $2");
        let existing = statement(backend, &existing, [row.tenant.into(), row.request_id.into()]);
        let _turn = self.turn.take().await;
        let stored = insert_once(self.db(), statement(backend, &insert, values), existing).await?;
        Ok(stored.map(|(row, _)| row))
    }

    /// A template of `tenant`.
    pub async fn template(&self, tenant: &str, id: Uuid) -> Result<Option<TemplateRow>, Error> {
        let text = format!("SELECT {COLUMNS} FROM templates WHERE tenant = $1 AND id = $2");
        let statement = statement(self.backend(), &text, [tenant.into(), id.into()]);
        Ok(TemplateRow::find_by_statement(statement).one(self.db()).await?)
    }

    /// Writes the changeable fields of a template back; false if it is gone.
    pub async fn update_template(&self, row: &TemplateRow) -> Result<bool, Error> {
        let text = "UPDATE templates SET audience = $3, subject = $4, text_body = $5, html_body = $6, variables = $7, \
                    update_time = $8 WHERE tenant = $1 AND id = $2";
        let values: Vec<Value> = vec![
            row.tenant.clone().into(),
            row.id.into(),
            row.audience.into(),
            row.subject.clone().into(),
            row.text_body.clone().into(),
            row.html_body.clone().into(),
            row.variables.clone().into(),
            row.update_time.into(),
        ];
        let _turn = self.turn.take().await;
        Ok(self.db().execute_raw(statement(self.backend(), text, values)).await?.rows_affected() == 1)
    }

    /// Every template of `tenant`, optionally only one key or one locale, by key and locale.
    pub async fn templates(&self, tenant: &str, key: &str, locale: &str) -> Result<Vec<TemplateRow>, Error> {
        let mut values: Vec<Value> = vec![tenant.into()];
        let mut text = format!("SELECT {COLUMNS} FROM templates WHERE tenant = $1");
        if !key.is_empty() {
            values.push(key.into());
            text.push_str(&format!(" AND key = ${}", values.len()));
        }
        if !locale.is_empty() {
            values.push(locale.into());
            text.push_str(&format!(" AND locale = ${}", values.len()));
        }
        text.push_str(" ORDER BY key, locale");
        Ok(TemplateRow::find_by_statement(statement(self.backend(), &text, values)).all(self.db()).await?)
    }
}
