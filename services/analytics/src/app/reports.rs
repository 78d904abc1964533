//! The typed reports: overview, volume series, SLA compliance and agent performance, each over
//! one tenant's cases created in a time range.

use redress_proto::analytics::v1::{
    GetAgentPerformanceResponse, GetOverviewResponse, GetSlaComplianceResponse, GetVolumeSeriesResponse,
};

use crate::domain::buckets::{Unit, bucket_start};
use crate::domain::query::{Agents, Compliance, Overview, Scoped, Volume};
use crate::error::Error;
use crate::store::Store;

/// The overview: current counts, "new today" from local midnight in the caller's zone, and
/// figures over the range.
pub async fn overview(store: &Store, call: Scoped<Overview>) -> Result<GetOverviewResponse, Error> {
    let today = bucket_start(super::now(), Unit::Day, &call.query.zone);
    store.overview(call.tenant.as_str(), call.query.range, today).await
}

/// Case counts by bucket and dimension.
pub async fn volume(store: &Store, call: Scoped<Volume>) -> Result<GetVolumeSeriesResponse, Error> {
    Ok(GetVolumeSeriesResponse { points: store.volume(call.tenant.as_str(), &call.query).await? })
}

/// Clocks met and breached per clock and group.
pub async fn sla_compliance(store: &Store, call: Scoped<Compliance>) -> Result<GetSlaComplianceResponse, Error> {
    Ok(GetSlaComplianceResponse { rows: store.sla_compliance(call.tenant.as_str(), call.query).await? })
}

/// Figures per agent.
pub async fn agents(store: &Store, call: Scoped<Agents>) -> Result<GetAgentPerformanceResponse, Error> {
    Ok(GetAgentPerformanceResponse { agents: store.agents(call.tenant.as_str(), &call.query).await? })
}
