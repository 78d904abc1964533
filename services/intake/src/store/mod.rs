//! Intake's own records: submissions, for idempotency, survey responses, and each tenant's
//! classification settings.
//!
//! Intake keeps no case data. A submission is recorded PENDING with its plan before the
//! case service is called and DONE with the encoded answer after, so that a retry with the
//! same request_id returns the first answer, and a retry after a crash carries out the
//! plan that was decided rather than deciding again.

pub mod entities;
pub mod erase;
pub mod limit;
pub mod lock;

use chrono::{DateTime, Utc};
use redress_kit::TenantId;
use redress_kit::db::WriteTurn;
use redress_kit::time::{from_timestamp, now};
use redress_proto::intake::v1::{SubmitSurveyResponseResponse, SurveyResponse};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TryInsertResult,
};
use sha2::{Digest, Sha256};

use crate::error::Error;
use entities::{classification_settings, submissions, survey_responses};

const PENDING: i32 = 0;
const DONE: i32 = 1;

/// SHA-256 of an encoded request, to tell a retry from a request_id reused for something else.
pub fn request_hash(encoded: &[u8]) -> Vec<u8> {
    Sha256::digest(encoded).to_vec()
}

/// What was decided for a submission before the case service was called.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The planned `IntakeOutcome`, as its number; 0 when the plan needs no memory.
    pub outcome: i32,
    /// The case to join, or the case a new one links to; empty for none.
    pub case: String,
}

/// A submission seen before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The method that used the request_id.
    pub method: String,
    /// SHA-256 of its encoded request.
    pub request_hash: Vec<u8>,
    /// What was decided.
    pub plan: Plan,
    /// The encoded answer, once given; `None` while it is being carried out.
    pub response: Option<Vec<u8>>,
}

impl Submission {
    fn from_row(row: submissions::Model) -> Self {
        Submission {
            method: row.method,
            request_hash: row.request_hash,
            plan: Plan { outcome: row.plan_outcome, case: row.plan_case },
            response: if row.state == DONE { row.response } else { None },
        }
    }
}

/// A tenant's stored classification settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSettings {
    /// The encoded `ClassificationSettings`.
    pub settings: Vec<u8>,
    /// Counts the tenant's changes.
    pub version: i64,
    /// When the tenant last changed them.
    pub update_time: DateTime<Utc>,
}

/// The intake service's store.
pub struct Store {
    db: DatabaseConnection,
    /// Writers take turns on SQLite.
    turn: WriteTurn,
}

impl Store {
    /// A store over a migrated database.
    pub fn new(db: DatabaseConnection) -> Self {
        Store { turn: WriteTurn::new(&db), db }
    }

    /// The database.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The submission recorded under `request_id`, if any.
    pub async fn submission(&self, tenant: &TenantId, request_id: &str) -> Result<Option<Submission>, Error> {
        let row = submissions::Entity::find_by_id((tenant.as_str().to_string(), request_id.to_string()))
            .one(&self.db)
            .await?;
        Ok(row.map(Submission::from_row))
    }

    /// Records a submission as PENDING with its plan. Returns the submission already
    /// recorded under `request_id` instead when there is one.
    pub async fn begin(
        &self,
        tenant: &TenantId,
        request_id: &str,
        method: &str,
        request_hash: &[u8],
        plan: &Plan,
    ) -> Result<Option<Submission>, Error> {
        let now = now();
        let row = submissions::ActiveModel {
            tenant: Set(tenant.as_str().to_string()),
            request_id: Set(request_id.to_string()),
            method: Set(method.to_string()),
            request_hash: Set(request_hash.to_vec()),
            state: Set(PENDING),
            plan_outcome: Set(plan.outcome),
            plan_case: Set(plan.case.clone()),
            response: Set(None),
            create_time: Set(now),
            update_time: Set(now),
        };
        let inserted = {
            let _turn = self.turn.take().await;
            submissions::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(&self.db).await?
        };
        if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
            return Ok(None);
        }
        self.submission(tenant, request_id).await
    }

    /// Records the answer of a submission; for a survey answer, the customer's answer and what
    /// came of it are kept in the same transaction.
    pub async fn finish(
        &self,
        tenant: &TenantId,
        request_id: &str,
        response: Vec<u8>,
        survey: Option<(&SurveyResponse, &SubmitSurveyResponseResponse)>,
    ) -> Result<(), Error> {
        let now = now();
        let _turn = self.turn.take().await;
        let done = submissions::Entity::update_many()
            .col_expr(submissions::Column::State, Expr::value(DONE))
            .col_expr(submissions::Column::Response, Expr::value(response))
            .col_expr(submissions::Column::UpdateTime, Expr::value(now))
            .filter(submissions::Column::Tenant.eq(tenant.as_str()))
            .filter(submissions::Column::RequestId.eq(request_id));
        let Some((given, answer)) = survey else {
            done.exec(&self.db).await?;
            return Ok(());
        };
        let txn = redress_kit::db::begin_write(&self.db).await?;
        done.exec(&txn).await?;
        let row = survey_responses::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            tenant: Set(tenant.as_str().to_string()),
            request_id: Set(request_id.to_string()),
            customer_id: Set(given.customer.as_ref().map(|c| c.customer_id.clone()).unwrap_or_default()),
            scale: Set(given.scale),
            score: Set(given.score),
            survey_class: Set(answer.survey_class),
            comment: Set(given.comment.clone()),
            case_name: Set(answer.case.clone()),
            outcome: Set(answer.outcome),
            external_reference: Set(given.external_reference.clone()),
            respond_time: Set(given.respond_time.as_ref().and_then(from_timestamp).unwrap_or_else(Utc::now)),
            create_time: Set(now),
        };
        survey_responses::Entity::insert(row).on_conflict_do_nothing().exec_without_returning(&txn).await?;
        Ok(txn.commit().await?)
    }

    /// The tenant's classification settings, if it has set any.
    pub async fn settings(&self, tenant: &TenantId) -> Result<Option<StoredSettings>, Error> {
        let row = classification_settings::Entity::find_by_id(tenant.as_str().to_string()).one(&self.db).await?;
        Ok(row.map(|r| StoredSettings { settings: r.settings, version: r.version, update_time: r.update_time }))
    }

    /// The version of the tenant's classification settings; 0 when it has set none.
    pub async fn settings_version(&self, tenant: &TenantId) -> Result<i64, Error> {
        let version: Option<i64> = classification_settings::Entity::find_by_id(tenant.as_str().to_string())
            .select_only()
            .column(classification_settings::Column::Version)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(version.unwrap_or(0))
    }

    /// Stores the tenant's settings as version `read + 1`, if they are still at version
    /// `read` (0: none yet). Returns the stored settings, or `None` when another change came
    /// first.
    pub async fn save_settings(
        &self,
        tenant: &TenantId,
        read: i64,
        settings: Vec<u8>,
    ) -> Result<Option<StoredSettings>, Error> {
        let stored = StoredSettings { settings, version: read + 1, update_time: now() };
        let _turn = self.turn.take().await;
        let changed = if read == 0 {
            let row = classification_settings::ActiveModel {
                tenant: Set(tenant.as_str().to_string()),
                settings: Set(stored.settings.clone()),
                version: Set(stored.version),
                update_time: Set(stored.update_time),
            };
            let inserted = classification_settings::Entity::insert(row)
                .on_conflict_do_nothing()
                .exec_without_returning(&self.db)
                .await?;
            matches!(inserted, TryInsertResult::Inserted(n) if n > 0)
        } else {
            let updated = classification_settings::Entity::update_many()
                .col_expr(classification_settings::Column::Settings, Expr::value(stored.settings.clone()))
                .col_expr(classification_settings::Column::Version, Expr::value(stored.version))
                .col_expr(classification_settings::Column::UpdateTime, Expr::value(stored.update_time))
                .filter(classification_settings::Column::Tenant.eq(tenant.as_str()))
                .filter(classification_settings::Column::Version.eq(read))
                .exec(&self.db)
                .await?;
            updated.rows_affected == 1
        };
        Ok(changed.then_some(stored))
    }
}
