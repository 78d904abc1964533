//! The typed reports: overview, volume series, SLA compliance and agent performance, each over
//! one tenant's cases created in a time range.

use redress_proto::analytics::v1::{
    GetAgentPerformanceResponse, GetOverviewResponse, GetSlaComplianceResponse, GetVolumeSeriesResponse,
};

use crate::domain::buckets::{Unit, bucket_start};
use crate::domain::query::{Agents, Compliance, Overview, Volume};
use crate::error::Error;
use crate::store::Store;

/// The overview: current counts, "new today" from local midnight in the caller's zone, and
/// figures over the range.
pub async fn overview(store: &Store, tenant: &str, query: Overview) -> Result<GetOverviewResponse, Error> {
    let today = bucket_start(super::now(), Unit::Day, &query.zone);
    store.overview(tenant, query.range, today).await
}

/// Case counts by bucket and dimension.
pub async fn volume(store: &Store, tenant: &str, query: Volume) -> Result<GetVolumeSeriesResponse, Error> {
    Ok(GetVolumeSeriesResponse { points: store.volume(tenant, &query).await? })
}

/// Clocks met and breached per clock and group.
pub async fn sla_compliance(store: &Store, tenant: &str, query: Compliance) -> Result<GetSlaComplianceResponse, Error> {
    Ok(GetSlaComplianceResponse { rows: store.sla_compliance(tenant, query).await? })
}

/// Figures per agent.
pub async fn agents(store: &Store, tenant: &str, query: Agents) -> Result<GetAgentPerformanceResponse, Error> {
    Ok(GetAgentPerformanceResponse { agents: store.agents(tenant, &query).await? })
}
