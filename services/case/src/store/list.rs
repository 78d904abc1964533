//! Listing cases: filters, scopes and keyset pages in each order.

use chrono::DateTime;
use redress_kit::TenantId;
use redress_kit::time::from_timestamp;
use redress_proto::case::v1::{Case, CaseFilter, CaseOrderBy};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};

use super::cases::decode_case;
use super::entities::cases;
use super::{Store, page};
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
        for (column, values) in
            [(C::Status, &filter.statuses), (C::Severity, &filter.severities), (C::Channel, &filter.channels)]
        {
            if !values.is_empty() {
                query = query.filter(column.is_in(values.iter().copied()));
            }
        }
        for (column, value) in [
            (C::Owner, &filter.owner),
            (C::Team, &filter.team),
            (C::Category, &filter.category),
            (C::CustomerId, &filter.customer_id),
        ] {
            if !value.is_empty() {
                query = query.filter(column.eq(value.as_str()));
            }
        }
        if let Some(unhappy) = filter.unhappy {
            query = query.filter(C::Unhappy.eq(unhappy));
        }
        if let Some(range) = &filter.create_time {
            if let Some(start) = range.start_time.as_ref().and_then(from_timestamp) {
                query = query.filter(C::CreateTime.gte(start));
            }
            if let Some(end) = range.end_time.as_ref().and_then(from_timestamp) {
                query = query.filter(C::CreateTime.lt(end));
            }
        }
        let time_of = |micros: i64| DateTime::from_timestamp_micros(micros).unwrap_or_default();
        query = match order {
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
            _ => {
                let (time, direction) = match order {
                    CaseOrderBy::CreateTimeAsc => (C::CreateTime, Order::Asc),
                    CaseOrderBy::UpdateTimeDesc => (C::UpdateTime, Order::Desc),
                    _ => (C::CreateTime, Order::Desc),
                };
                if let Some(key) = after {
                    let t = time_of(key.time_micros);
                    let (later, next_id) = match direction {
                        Order::Asc => (time.gt(t), C::Id.gt(key.id)),
                        _ => (time.lt(t), C::Id.lt(key.id)),
                    };
                    query = query.filter(Condition::any().add(later).add(time.eq(t).and(next_id)));
                }
                query.order_by(time, direction.clone()).order_by(C::Id, direction)
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
