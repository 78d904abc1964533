//! Listing cases: filters, scopes and keyset pages in each order.

use chrono::DateTime;
use redress_kit::TenantId;
use redress_proto::case::v1::{Case, CaseFilter, CaseOrderBy};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::cases;
use super::{Store, decode_case, page};
use crate::domain;
use crate::error::Error;

/// A page of cases and where the next starts.
pub struct CasePage {
    /// The cases.
    pub cases: Vec<Case>,
    /// The key of the last case, when more may follow.
    pub last: Option<page::CaseKey>,
}

/// The cases a scoped caller may see: their own, their team's, and the unassigned ones of no
/// team (see `redress_kit::caller::CaseScope`).
#[derive(Debug, Clone, Copy)]
pub struct Visible<'a> {
    /// The caller's staff id.
    pub actor: &'a str,
    /// The caller's team.
    pub team: Option<&'a str>,
}

impl Store {
    /// Lists cases of `tenant` matching `filter` in `order`, after `after`.
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &CaseFilter,
        order: CaseOrderBy,
        after: Option<page::CaseKey>,
        limit: u64,
        scope: Option<Visible<'_>>,
    ) -> Result<CasePage, Error> {
        use cases::Column as C;
        let mut query = cases::Entity::find().filter(C::Tenant.eq(tenant.as_str()));
        if let Some(visible) = scope {
            let mut seen = Condition::any()
                .add(C::Owner.eq(visible.actor))
                .add(Condition::all().add(C::Owner.eq("")).add(C::Team.eq("")));
            if let Some(team) = visible.team.filter(|t| !t.is_empty()) {
                seen = seen.add(C::Team.eq(team));
            }
            query = query.filter(seen);
        }
        if !filter.statuses.is_empty() {
            query = query.filter(C::Status.is_in(filter.statuses.clone()));
        }
        if !filter.owner.is_empty() {
            query = query.filter(C::Owner.eq(filter.owner.as_str()));
        }
        if !filter.team.is_empty() {
            query = query.filter(C::Team.eq(filter.team.as_str()));
        }
        if !filter.category.is_empty() {
            query = query.filter(C::Category.eq(filter.category.as_str()));
        }
        if !filter.severities.is_empty() {
            query = query.filter(C::Severity.is_in(filter.severities.clone()));
        }
        if !filter.channels.is_empty() {
            query = query.filter(C::Channel.is_in(filter.channels.clone()));
        }
        if !filter.customer_id.is_empty() {
            query = query.filter(C::CustomerId.eq(filter.customer_id.as_str()));
        }
        if let Some(unhappy) = filter.unhappy {
            query = query.filter(C::Unhappy.eq(unhappy));
        }
        if let Some(range) = &filter.create_time {
            if let Some(start) = range.start_time.as_ref().and_then(domain::commands::from_timestamp) {
                query = query.filter(C::CreateTime.gte(start));
            }
            if let Some(end) = range.end_time.as_ref().and_then(domain::commands::from_timestamp) {
                query = query.filter(C::CreateTime.lt(end));
            }
        }
        let time_of = |micros: i64| DateTime::from_timestamp_micros(micros).unwrap_or_default();
        query = match order {
            CaseOrderBy::CreateTimeAsc => {
                if let Some(key) = after {
                    let t = time_of(key.time_micros);
                    query = query.filter(
                        Condition::any().add(C::CreateTime.gt(t)).add(C::CreateTime.eq(t).and(C::Id.gt(key.id))),
                    );
                }
                query.order_by_asc(C::CreateTime).order_by_asc(C::Id)
            }
            CaseOrderBy::UpdateTimeDesc => {
                if let Some(key) = after {
                    let t = time_of(key.time_micros);
                    query = query.filter(
                        Condition::any().add(C::UpdateTime.lt(t)).add(C::UpdateTime.eq(t).and(C::Id.lt(key.id))),
                    );
                }
                query.order_by_desc(C::UpdateTime).order_by_desc(C::Id)
            }
            CaseOrderBy::SeverityDesc => {
                if let Some(key) = after {
                    let t = time_of(key.time_micros);
                    query = query.filter(
                        Condition::any()
                            .add(C::Severity.lt(key.severity))
                            .add(C::Severity.eq(key.severity).and(C::CreateTime.lt(t)))
                            .add(C::Severity.eq(key.severity).and(C::CreateTime.eq(t)).and(C::Id.lt(key.id))),
                    );
                }
                query.order_by_desc(C::Severity).order_by_desc(C::CreateTime).order_by_desc(C::Id)
            }
            CaseOrderBy::CreateTimeDesc | CaseOrderBy::Unspecified => {
                if let Some(key) = after {
                    let t = time_of(key.time_micros);
                    query = query.filter(
                        Condition::any().add(C::CreateTime.lt(t)).add(C::CreateTime.eq(t).and(C::Id.lt(key.id))),
                    );
                }
                query.order_by_desc(C::CreateTime).order_by_desc(C::Id)
            }
        };
        let rows = query.limit(limit + 1).all(&self.db).await?;
        let more = rows.len() as u64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let last = rows.last().filter(|_| more).map(|row| page::CaseKey {
            time_micros: if order == CaseOrderBy::UpdateTimeDesc {
                row.update_time.timestamp_micros()
            } else {
                row.create_time.timestamp_micros()
            },
            severity: row.severity,
            id: row.id,
        });
        let cases = rows.iter().map(decode_case).collect::<Result<Vec<_>, _>>()?;
        Ok(CasePage { cases, last })
    }
}
